/* store_feed.c: the SQL of the Atom feeds. */
#include "store_feed.h"

#include <stdio.h>

#include "log.h"

static const char *ctext(db_stmt *st, int i) {
    return db_col_type(st, i) == DB_NULL ? NULL
                                                     : (const char *)db_col_text(st, i);
}

int feed_repo_latest(db_t *db, const char *article, int limit,
                     void (*cb)(const feed_row *, void *), void *arg) {
    db_stmt *st = NULL;
    if (db_prepare(db, "SELECT c.id, c.created_at, c.edited_at, c.article, "
                               "c.author_name, c.title, c.body, a.title, a.url FROM comments c "
                               "LEFT JOIN articles a ON a.id = c.article WHERE c.status = "
                               "'published' AND (?1 IS NULL OR c.article = ?1) ORDER BY c.id DESC "
                               "LIMIT ?2", &st) != DB_OK) {
        log_err("feed: %s", db_errmsg(db));
        return -1;
    }
    if (article)
        db_bind_text(st, 1, article, -1);
    db_bind_int(st, 2, limit);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        feed_row r = {.id = db_col_int64(st, 0), .created_at = db_col_int64(st, 1),
                      .edited_at = db_col_int64(st, 2), .article = ctext(st, 3),
                      .author_name = ctext(st, 4), .title = ctext(st, 5), .body = ctext(st, 6),
                      .article_title = ctext(st, 7), .article_url = ctext(st, 8)};
        cb(&r, arg);
    }
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("feed: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}

void feed_repo_article(db_t *db, const char *article, char *title, size_t tlen, char *url,
                       size_t ulen) {
    title[0] = url[0] = '\0';
    db_stmt *st = NULL;
    if (db_prepare(db, "SELECT title, url FROM articles WHERE id = ?", &st) !=
        DB_OK)
        return;
    db_bind_text(st, 1, article, -1);
    if (db_step(st) == DB_ROW) {
        snprintf(title, tlen, "%s", ctext(st, 0) ? ctext(st, 0) : "");
        snprintf(url, ulen, "%s", ctext(st, 1) ? ctext(st, 1) : "");
    }
    db_finalize(st);
}

int64_t feed_repo_newest(db_t *db, const char *article) {
    db_stmt *st = NULL;
    int64_t newest = 0;
    if (db_prepare(db, "SELECT MAX(COALESCE(edited_at, created_at)) FROM comments WHERE "
                               "article = ? AND status = 'published'", &st) == DB_OK) {
        db_bind_text(st, 1, article, -1);
        if (db_step(st) == DB_ROW) newest = db_col_int64(st, 0);
    }
    db_finalize(st);
    return newest;
}
