/* store_sort.c: SQL for the thread orders (sort.h). */
#include <stdlib.h>
#include <string.h>

#include "store_comments.h"
#include "errors.h"
#include "log.h"
#include "store_sort.h"

/* Visible to reader (?2): published, or their own held comments (as comments.c). */
#define SORT_VISIBLE(t)                                                                     \
    "(" t "status = 'published' OR (" t "author_id = ?2 AND " t                             \
    "status IN ('pending','rejected','shadow')))"

/* A top-level comment is listed when it is visible, or when it is gone but has a
 * published reply (the replies then arrive without it, as in the oldest order). */
#define ROOTS                                                                               \
    "SELECT " COMMENT_COLUMNS ", likes FROM comments c WHERE article = ?1 AND parent IS NULL "   \
    "AND (" SORT_VISIBLE("c.") " OR EXISTS (SELECT 1 FROM comments r WHERE r.parent = c.id "  \
    "AND r.status = 'published')) "

static const char *const roots_sql[] = {
    [SORT_NEWEST] = ROOTS "AND id < ?3 ORDER BY id DESC LIMIT ?5",
    [SORT_LIKED] = ROOTS "AND (likes < ?4 OR (likes = ?4 AND id < ?3)) "
                         "ORDER BY likes DESC, id DESC LIMIT ?5",
};

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("store: prepare failed: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

int store_sort_page(db_t *db, const char *article, const char *reader,
                    const sort_cursor *cur, int limit, int reply_limit, json_t *page,
                    sort_cursor *next) {
    *next = (sort_cursor){.order = cur->order, .likes = 0, .id = 0};
    if (cur->order == SORT_OLDEST) return PERR_INTERNAL;
    db_stmt *st = prep(db, roots_sql[cur->order]);
    if (!st) return PERR_INTERNAL;
    db_bind_text(st, 1, article, -1);
    db_bind_text(st, 2, reader, -1);
    db_bind_int64(st, 3, cur->id);
    db_bind_int64(st, 4, cur->likes);
    db_bind_int(st, 5, limit + 1);
    json_t *roots = json_array();  /* ids of the page's top-level comments */
    int n = 0;
    bool more = false;
    while (db_step(st) == DB_ROW) {
        if (n == limit) {
            more = true; /* one more exists: the page ends at the previous row */
            break;
        }
        n++;
        json_t *c = comment_from_row(st);
        int64_t likes = db_col_int64(st, 14); /* after COMMENT_COLUMNS */
        json_array_append_new(roots, json_integer(db_col_int64(st, 0)));
        /* the stored status: comment_from_row shows "shadow" as published */
        const char *status = (const char *)db_col_text(st, 11);
        const char *author = (const char *)db_col_text(st, 3);
        bool visible = status && author &&
                       (!strcmp(status, "published") ||
                        (!strcmp(author, reader) && (!strcmp(status, "pending") ||
                                                     !strcmp(status, "rejected") ||
                                                     !strcmp(status, "shadow"))));
        if (visible) json_array_append(page, c);
        json_decref(c);
        next->likes = likes;
        next->id = db_col_int64(st, 0);
    }
    db_finalize(st);
    if (!more) next->id = 0;

    /* every reply below those top-level comments, oldest first */
    char *ids = json_dumps(roots, JSON_COMPACT);
    json_decref(roots);
    /* the ids go as one JSON array; each dialect has its own table function for it */
#define REPLIES(ids)                                                                          \
    "WITH RECURSIVE t(id) AS (SELECT " ids " UNION ALL "                                      \
    "SELECT c.id FROM comments c JOIN t ON c.parent = t.id) "                                 \
    "SELECT " COMMENT_COLUMNS " FROM comments WHERE id IN (SELECT id FROM t) "                \
    "AND parent IS NOT NULL AND " SORT_VISIBLE("") " ORDER BY id LIMIT ?3"
    st = prep(db, db_dialect(db) == DB_POSTGRES
                      ? REPLIES("CAST(value AS BIGINT) FROM json_array_elements_text(CAST(?1 AS json))")
                      : REPLIES("value FROM json_each(?1)"));
#undef REPLIES
    if (!st) {
        free(ids);
        return PERR_INTERNAL;
    }
    db_bind_text(st, 1, ids, -1);
    db_bind_text(st, 2, reader, -1);
    db_bind_int(st, 3, reply_limit);
    while (db_step(st) == DB_ROW) json_array_append_new(page, comment_from_row(st));
    db_finalize(st);
    free(ids);
    return 0;
}
