/* store_sqlite_permalink.c: SQL for a comment's thread (permalink.h). */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_comments.h"
#include "clock.h"
#include "errors.h"
#include "log.h"
#include "store_sqlite_permalink.h"
#include "store.h"

#define VISIBLE_TO_READER                                                                   \
    "(status = 'published' OR (author_id = ?2 AND status IN ('pending','rejected','shadow')))"

int store_permalink_thread(sqlite3 *db, const char *article, const char *reader,
                           int64_t comment, int limit, json_t *out) {
    sqlite3_stmt *st = NULL;
    /* the comment must be one of the article's that this reader may see */
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM comments WHERE id = ?3 AND article = ?1 AND "
                               VISIBLE_TO_READER, -1, &st, NULL) != SQLITE_OK) {
        log_err("store: prepare failed: %s", sqlite3_errmsg(db));
        return PERR_INTERNAL;
    }
    sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reader, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, comment);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!found) return PERR_NOT_FOUND;
    /* up to the top-level comment, then down through every reply */
    if (sqlite3_prepare_v2(db,
                           "WITH RECURSIVE up(id, parent) AS (SELECT id, parent FROM comments "
                           "WHERE id = ?3 UNION ALL SELECT c.id, c.parent FROM comments c JOIN "
                           "up ON c.id = up.parent), "
                           "down(id) AS (SELECT id FROM up WHERE parent IS NULL UNION ALL "
                           "SELECT c.id FROM comments c JOIN down ON c.parent = down.id) "
                           "SELECT " COMMENT_COLUMNS " FROM comments WHERE id IN (SELECT id "
                           "FROM down) AND article = ?1 AND " VISIBLE_TO_READER
                           " ORDER BY id LIMIT ?4",
                           -1, &st, NULL) != SQLITE_OK) {
        log_err("store: prepare failed: %s", sqlite3_errmsg(db));
        return PERR_INTERNAL;
    }
    sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reader, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, comment);
    sqlite3_bind_int(st, 4, limit);
    while (sqlite3_step(st) == SQLITE_ROW) json_array_append_new(out, comment_from_row(st));
    sqlite3_finalize(st);
    return 0;
}

char *store_permalink_url(sqlite3 *db, const char *article) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT url FROM article_pages WHERE article = ?", -1, &st, NULL))
        return NULL;
    sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    char *url = sqlite3_step(st) == SQLITE_ROW ? strdup((const char *)sqlite3_column_text(st, 0))
                                               : NULL;
    sqlite3_finalize(st);
    return url;
}

void store_permalink_put_url(sqlite3 *db, const char *article, const char *url) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO article_pages (article, url, updated_at) VALUES "
                               "(?1, ?2, ?3) ON CONFLICT(article) DO UPDATE SET url = ?2, "
                               "updated_at = ?3",
                           -1, &st, NULL)) {
        log_err("store: prepare failed: %s", sqlite3_errmsg(db));
        return;
    }
    sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms());
    sqlite3_step(st);
    sqlite3_finalize(st);
}
