/* store_sqlite_notify.c: reply notifications on SQLite (see store_notify.h). */
#include "store_notify.h"

#include <stdio.h>
#include <string.h>

#include "comments.h"
#include "log.h"

static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_err("notify: %s: %s", sqlite3_errmsg(db), sql);
        return NULL;
    }
    return st;
}

json_t *store_notify_replies(sqlite3 *db, const char *author, const char *article, int max) {
    /* comments_author(author_id, id) finds the author's comments; the replies are then
     * looked up by parent. */
    sqlite3_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE status = "
                                "'published' AND article = ?2 AND author_id != ?1 AND parent IN "
                                "(SELECT id FROM comments WHERE author_id = ?1 AND article = ?2) "
                                "ORDER BY id DESC LIMIT ?3");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, article, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, max);
    json_t *out = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(out, comment_from_row(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_err("notify: replies: %s", sqlite3_errmsg(db));
        json_decref(out);
        return NULL;
    }
    return out;
}

int store_notify_comment_author(sqlite3 *db, int64_t id, char *out, size_t outlen) {
    sqlite3_stmt *st = prep(db, "SELECT author_id FROM comments WHERE id = ?");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}
