/* store_featured.c: SQL for featured comments (featured.h). */
#include <string.h>

#include "store_comments.h"
#include "clock.h"
#include "store_featured.h"
#include "log.h"
#include "store.h"

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("store: prepare failed: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

int store_featured_is(db_t *db, int64_t comment) {
    db_stmt *st = prep(db, "SELECT 1 FROM featured WHERE comment_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

int store_featured_count(db_t *db, const char *article) {
    db_stmt *st = prep(db, "SELECT COUNT(*) FROM featured f JOIN comments c ON c.id = "
                                "f.comment_id WHERE f.article = ? AND c.status = 'published'");
    if (!st) return -1;
    db_bind_text(st, 1, article, -1);
    int n = db_step(st) == DB_ROW ? db_col_int(st, 0) : -1;
    db_finalize(st);
    return n;
}

int store_featured_put(db_t *db, int64_t comment, const char *article, const char *moderator) {
    db_stmt *st = prep(db, "INSERT INTO featured (comment_id, article, moderator, at) VALUES "
                                "(?, ?, ?, ?) ON CONFLICT (comment_id) DO NOTHING");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    db_bind_text(st, 2, article, -1);
    db_bind_text(st, 3, moderator, -1);
    db_bind_int64(st, 4, db_now_ms(db));
    int rc = db_step(st) == DB_DONE ? 0 : -1;
    db_finalize(st);
    return rc;
}

int store_featured_del(db_t *db, int64_t comment) {
    db_stmt *st = prep(db, "DELETE FROM featured WHERE comment_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    int rc = db_step(st) == DB_DONE ? 0 : -1;
    db_finalize(st);
    return rc;
}

int store_featured_list(db_t *db, const char *article, json_t *out) {
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id IN (SELECT "
                                "comment_id FROM featured WHERE article = ?1) AND status = "
                                "'published' ORDER BY (SELECT at FROM featured WHERE comment_id "
                                "= comments.id) DESC LIMIT 10");
    if (!st) return -1;
    db_bind_text(st, 1, article, -1);
    while (db_step(st) == DB_ROW) json_array_append_new(out, comment_from_row(st));
    db_finalize(st);
    return 0;
}

json_t *store_featured_comment(db_t *db, int64_t comment) {
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id = ? AND "
                                "status = 'published'");
    if (!st) return NULL;
    db_bind_int64(st, 1, comment);
    json_t *c = db_step(st) == DB_ROW ? comment_from_row(st) : NULL;
    db_finalize(st);
    return c;
}
