/* store_post.c: the facts a new post is judged on, in one statement (see store_post.h). */
#include "store_post.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_bans.h"
#include "store_comments.h"

/* The facts as columns, from the repositories' own SQL, with SQL expressions for the
 * query's fields. The count's cap is written into the text (store_comments.h says why). */
#define FACTS_COLUMNS(article, now, author, ip, name_key, nonce)                            \
    "(SELECT mode FROM articles WHERE id = " article "), "                                  \
    "(" STORE_BANS_STATE_SQL_OF(now, author, ip) "), "                                      \
    "(" STORE_COMMENTS_AUTHOR_COUNT_SQL_OF(author) "), "                                    \
    "(SELECT COUNT(*) FROM reserved_names WHERE key = " name_key "), "                      \
    "(" STORE_COMMENTS_NONCE_ID_SQL_OF(author, nonce) ")"

static long cap_of(const store_post_query *q) { return q->count_cap < 0 ? 0 : q->count_cap; }

/* The statement's text for a cap (one query, or a batch): formatted once per thread and
 * cap, not on every post. */
static const char *facts_sql(long cap, bool batch) {
    static _Thread_local char text[2][2048];
    static _Thread_local long for_cap[2] = {-1, -1};
    if (for_cap[batch] != cap) {
        if (batch)
            snprintf(text[1], sizeof text[1],
                     "SELECT " FACTS_COLUMNS("q.article", "q.now", "q.author", "q.ip",
                                             "q.name_key", "q.nonce")
                     " FROM json_to_recordset(CAST(? AS json)) AS q(i int, article text, "
                     "now bigint, author text, ip text, name_key text, nonce text) ORDER BY q.i",
                     cap);
        else
            snprintf(text[0], sizeof text[0], "SELECT " FACTS_COLUMNS("?", "?", "?", "?", "?", "?"),
                     cap);
        for_cap[batch] = cap;
    }
    return text[batch];
}

static void read_row(db_stmt *st, store_post_facts *out) {
    if (db_col_type(st, 0) != DB_NULL) {
        const char *m = db_col_text(st, 0);
        out->has_mode = true;
        snprintf(out->mode, sizeof out->mode, "%s", m ? m : "");
    }
    out->ban = store_bans_kind_of(db_col_type(st, 1) == DB_NULL ? 0 : db_col_int64(st, 1));
    out->author_posts = (long)db_col_int64(st, 2);
    out->name_reserved = db_col_int64(st, 3) > 0;
    out->nonce_id = db_col_type(st, 4) == DB_NULL ? 0 : db_col_int64(st, 4);
}

int store_post_facts_get(db_t *db, const store_post_query *q, store_post_facts *out) {
    memset(out, 0, sizeof *out);
    db_stmt *st = NULL;
    if (db_prepare(db, facts_sql(cap_of(q), false), &st) != DB_OK) {
        log_err("store: post facts: %s", db_errmsg(db));
        return -1;
    }
    /* never NULL (store_bans.h): "" matches no address, no reserved name, no nonce */
    const char *binds[] = {q->article, NULL, q->author_id, q->ip_hash ? q->ip_hash : "",
                           q->author_id, q->name_key ? q->name_key : "", q->author_id,
                           q->nonce ? q->nonce : ""};
    for (int i = 0; i < 8; i++) {
        if (i == 1) db_bind_int64(st, 2, q->now);
        else db_bind_text(st, i + 1, binds[i], -1);
    }
    int rc = db_step(st);
    if (rc == DB_ROW) read_row(st, out);
    else log_err("store: post facts of %s: %s", q->author_id, db_errmsg(db));
    db_finalize(st);
    return rc == DB_ROW ? 0 : -1;
}

/* The queries as the JSON array the batched statement reads, or NULL. */
static char *queries_json(const store_post_query *qs, size_t n) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const store_post_query *q = &qs[i];
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s}", "i", (json_int_t)i, "article",
                           q->article, "now", (json_int_t)q->now, "author", q->author_id, "ip",
                           q->ip_hash ? q->ip_hash : "", "name_key",
                           q->name_key ? q->name_key : "", "nonce", q->nonce ? q->nonce : ""));
    }
    char *text = json_array_size(arr) == n ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return text;
}

int store_post_facts_many(db_t *db, const store_post_query *qs, size_t n,
                          store_post_facts *out) {
    memset(out, 0, n * sizeof *out);
    bool one_cap = true;
    for (size_t i = 1; i < n; i++) one_cap &= cap_of(&qs[i]) == cap_of(&qs[0]);
    if (n <= 1 || db_dialect(db) != DB_POSTGRES || !one_cap) {
        for (size_t i = 0; i < n; i++)
            if (store_post_facts_get(db, &qs[i], &out[i])) {
                memset(out, 0, n * sizeof *out);
                return -1;
            }
        return 0;
    }
    char *list = queries_json(qs, n);
    if (!list) {
        log_err("store: post facts: a query is not valid UTF-8");
        return -1;
    }
    db_stmt *st = NULL;
    int rc = db_prepare(db, facts_sql(cap_of(&qs[0]), true), &st);
    size_t got = 0;
    if (rc == DB_OK) {
        db_bind_text(st, 1, list, -1);
        while ((rc = db_step(st)) == DB_ROW && got < n) read_row(st, &out[got++]);
        db_finalize(st);
    }
    free(list);
    if (rc != DB_DONE || got != n) {
        log_err("store: post facts of %zu posts: %s", n, db_errmsg(db));
        memset(out, 0, n * sizeof *out);
        return -1;
    }
    return 0;
}
