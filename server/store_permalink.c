/* store_permalink.c: SQL for a comment's thread (permalink.h). */
#include <stdlib.h>
#include <string.h>

#include "store_comments.h"
#include "clock.h"
#include "errors.h"
#include "log.h"
#include "store_permalink.h"
#include "store.h"

#define VISIBLE_TO_READER                                                                   \
    "(status = 'published' OR (author_id = ?2 AND status IN ('pending','rejected','shadow')))"

int store_permalink_thread(db_t *db, const char *article, const char *reader,
                           int64_t comment, int limit, json_t *out) {
    db_stmt *st = NULL;
    /* the comment must be one of the article's that this reader may see */
    if (db_prepare(db, "SELECT 1 FROM comments WHERE id = ?3 AND article = ?1 AND "
                               VISIBLE_TO_READER, &st) != DB_OK) {
        log_err("store: prepare failed: %s", db_errmsg(db));
        return PERR_INTERNAL;
    }
    db_bind_text(st, 1, article, -1);
    db_bind_text(st, 2, reader, -1);
    db_bind_int64(st, 3, comment);
    int found = db_step(st) == DB_ROW;
    db_finalize(st);
    if (!found) return PERR_NOT_FOUND;
    /* up to the top-level comment, then down through every reply */
    if (db_prepare(db,
                           "WITH RECURSIVE up(id, parent) AS (SELECT id, parent FROM comments "
                           "WHERE id = ?3 UNION ALL SELECT c.id, c.parent FROM comments c JOIN "
                           "up ON c.id = up.parent), "
                           "down(id) AS (SELECT id FROM up WHERE parent IS NULL UNION ALL "
                           "SELECT c.id FROM comments c JOIN down ON c.parent = down.id) "
                           "SELECT " COMMENT_COLUMNS " FROM comments WHERE id IN (SELECT id "
                           "FROM down) AND article = ?1 AND " VISIBLE_TO_READER
                           " ORDER BY id LIMIT ?4", &st) != DB_OK) {
        log_err("store: prepare failed: %s", db_errmsg(db));
        return PERR_INTERNAL;
    }
    db_bind_text(st, 1, article, -1);
    db_bind_text(st, 2, reader, -1);
    db_bind_int64(st, 3, comment);
    db_bind_int(st, 4, limit);
    while (db_step(st) == DB_ROW) json_array_append_new(out, comment_from_row(st));
    db_finalize(st);
    return 0;
}

char *store_permalink_url(db_t *db, const char *article) {
    db_stmt *st = NULL;
    if (db_prepare(db, "SELECT url FROM article_pages WHERE article = ?", &st))
        return NULL;
    db_bind_text(st, 1, article, -1);
    char *url = db_step(st) == DB_ROW ? strdup((const char *)db_col_text(st, 0))
                                               : NULL;
    db_finalize(st);
    return url;
}

int store_permalink_put_url(db_t *db, const char *article, const char *url) {
    db_stmt *st = NULL;
    /* only for an article that has a comment: subscribing to made-up article ids would
     * otherwise add a row each, without bound */
    if (db_prepare(db, "INSERT INTO article_pages (article, url, updated_at) SELECT ?1, ?2, "
                       "?3 WHERE EXISTS (SELECT 1 FROM comments WHERE article = ?1) "
                       "ON CONFLICT(article) DO UPDATE SET url = ?2, updated_at = ?3", &st)) {
        log_err("store: prepare failed: %s", db_errmsg(db));
        return -1;
    }
    db_bind_text(st, 1, article, -1);
    db_bind_text(st, 2, url, -1);
    db_bind_int64(st, 3, db_now_ms(db));
    int rc = db_step(st);
    int written = rc == DB_DONE ? (db_changes(db) > 0) : -1;
    db_finalize(st);
    return written;
}
