/* store_sqlite_feed.c: the SQL of the Atom feeds. */
#include "store_sqlite_feed.h"

#include <stdio.h>

#include "log.h"

static const char *ctext(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
                                                     : (const char *)sqlite3_column_text(st, i);
}

int feed_repo_latest(sqlite3 *db, const char *article, int limit,
                     void (*cb)(const feed_row *, void *), void *arg) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT c.id, c.created_at, c.edited_at, c.article, "
                               "c.author_name, c.title, c.body, a.title, a.url FROM comments c "
                               "LEFT JOIN articles a ON a.id = c.article WHERE c.status = "
                               "'published' AND (?1 IS NULL OR c.article = ?1) ORDER BY c.id DESC "
                               "LIMIT ?2", -1, &st, NULL) != SQLITE_OK) {
        log_err("feed: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (article)
        sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        feed_row r = {.id = sqlite3_column_int64(st, 0), .created_at = sqlite3_column_int64(st, 1),
                      .edited_at = sqlite3_column_int64(st, 2), .article = ctext(st, 3),
                      .author_name = ctext(st, 4), .title = ctext(st, 5), .body = ctext(st, 6),
                      .article_title = ctext(st, 7), .article_url = ctext(st, 8)};
        cb(&r, arg);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_err("feed: %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

void feed_repo_article(sqlite3 *db, const char *article, char *title, size_t tlen, char *url,
                       size_t ulen) {
    title[0] = url[0] = '\0';
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT title, url FROM articles WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(title, tlen, "%s", ctext(st, 0) ? ctext(st, 0) : "");
        snprintf(url, ulen, "%s", ctext(st, 1) ? ctext(st, 1) : "");
    }
    sqlite3_finalize(st);
}

int64_t feed_repo_newest(sqlite3 *db, const char *article) {
    sqlite3_stmt *st = NULL;
    int64_t newest = 0;
    if (sqlite3_prepare_v2(db, "SELECT MAX(COALESCE(edited_at, created_at)) FROM comments WHERE "
                               "article = ? AND status = 'published'", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) newest = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return newest;
}
