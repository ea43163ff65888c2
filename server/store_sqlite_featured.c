/* store_sqlite_featured.c: SQL for featured comments (featured.h). */
#include <string.h>

#include "store_sqlite_comments.h"
#include "clock.h"
#include "store_sqlite_featured.h"
#include "log.h"
#include "store.h"

static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_err("store: prepare failed: %s: %s", sqlite3_errmsg(db), sql);
        return NULL;
    }
    return st;
}

int store_featured_is(sqlite3 *db, int64_t comment) {
    sqlite3_stmt *st = prep(db, "SELECT 1 FROM featured WHERE comment_id = ?");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, comment);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_featured_count(sqlite3 *db, const char *article) {
    sqlite3_stmt *st = prep(db, "SELECT COUNT(*) FROM featured f JOIN comments c ON c.id = "
                                "f.comment_id WHERE f.article = ? AND c.status = 'published'");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

int store_featured_put(sqlite3 *db, int64_t comment, const char *article, const char *moderator) {
    sqlite3_stmt *st = prep(db, "INSERT OR IGNORE INTO featured (comment_id, article, moderator, "
                                "at) VALUES (?, ?, ?, ?)");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, comment);
    sqlite3_bind_text(st, 2, article, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, moderator, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int store_featured_del(sqlite3 *db, int64_t comment) {
    sqlite3_stmt *st = prep(db, "DELETE FROM featured WHERE comment_id = ?");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, comment);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int store_featured_list(sqlite3 *db, const char *article, json_t *out) {
    sqlite3_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id IN (SELECT "
                                "comment_id FROM featured WHERE article = ?1) AND status = "
                                "'published' ORDER BY (SELECT at FROM featured WHERE comment_id "
                                "= comments.id) DESC LIMIT 10");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) json_array_append_new(out, comment_from_row(st));
    sqlite3_finalize(st);
    return 0;
}

json_t *store_featured_comment(sqlite3 *db, int64_t comment) {
    sqlite3_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id = ? AND "
                                "status = 'published'");
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, comment);
    json_t *c = sqlite3_step(st) == SQLITE_ROW ? comment_from_row(st) : NULL;
    sqlite3_finalize(st);
    return c;
}
