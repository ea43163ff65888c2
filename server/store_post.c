/* store_post.c: the facts a new post is judged on, in one statement (see store_post.h). */
#include "store_post.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store_bans.h"
#include "store_comments.h"

int store_post_facts_get(db_t *db, const store_post_query *q, store_post_facts *out) {
    memset(out, 0, sizeof *out);
    /* the count's cap is written into the text (store_comments.h says why) */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT mode FROM articles WHERE id = ?), "
             "(" STORE_BANS_STATE_SQL "), "
             "(" STORE_COMMENTS_AUTHOR_COUNT_SQL "), "
             "(SELECT COUNT(*) FROM reserved_names WHERE key = ?)",
             q->count_cap < 0 ? 0 : q->count_cap);
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("store: post facts: %s", db_errmsg(db));
        return -1;
    }
    int i = 1;
    db_bind_text(st, i++, q->article, -1);
    db_bind_int64(st, i++, q->now);
    db_bind_text(st, i++, q->author_id, -1);
    /* never NULL (store_bans.h): "" matches no address and no reserved name */
    db_bind_text(st, i++, q->ip_hash ? q->ip_hash : "", -1);
    db_bind_text(st, i++, q->author_id, -1);
    db_bind_text(st, i++, q->name_key ? q->name_key : "", -1);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        if (db_col_type(st, 0) != DB_NULL) {
            const char *m = db_col_text(st, 0);
            out->has_mode = true;
            snprintf(out->mode, sizeof out->mode, "%s", m ? m : "");
        }
        out->ban = store_bans_kind_of(db_col_type(st, 1) == DB_NULL ? 0 : db_col_int64(st, 1));
        out->author_posts = (long)db_col_int64(st, 2);
        out->name_reserved = db_col_int64(st, 3) > 0;
    } else {
        log_err("store: post facts of %s: %s", q->author_id, db_errmsg(db));
    }
    db_finalize(st);
    return rc == DB_ROW ? 0 : -1;
}
