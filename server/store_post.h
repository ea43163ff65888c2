/* store_post.h: what a new post is judged on, read in one statement (the post path's
 * repository). A post on PostgreSQL runs inside its group's transaction while the
 * group holds its articles' locks: each statement is a round trip that every writer of
 * those articles waits for, so the facts the checks need come back together. Plain
 * values in and out; the statement runs unchanged on SQLite and PostgreSQL. Storage
 * thread only. */
#ifndef PARLEY_STORE_POST_H
#define PARLEY_STORE_POST_H

#include <stdbool.h>
#include <stdint.h>

#include "store_db.h"

/* Whose post, where, when. Strings are borrowed for the call. */
typedef struct {
    const char *article, *author_id;
    const char *ip_hash;  /* NULL or "" for none: bans by address are not looked up */
    const char *name_key; /* a folded display name to look up in reserved_names; NULL: none */
    const char *nonce;    /* the post's client nonce, or NULL */
    int64_t now;          /* ms: bans in force at this time */
    long count_cap;       /* the author's comments are counted up to this */
} store_post_query;

typedef struct {
    bool has_mode;      /* a moderator stored the article's mode: it is in mode */
    char mode[16];
    int ban;            /* STORE_BAN_* (store_bans.h) */
    long author_posts;  /* the author's stored comments, up to count_cap */
    bool name_reserved; /* name_key belongs to a registered reader or a moderator */
    int64_t nonce_id;   /* the author's comment stored with that nonce, or 0 */
} store_post_facts;

/* Reads the facts of q into *out. Returns 0, or -1 on error (logged; *out zeroed). */
int store_post_facts_get(db_t *db, const store_post_query *q, store_post_facts *out);
/* Reads the facts of n queries into out[0..n-1]: on PostgreSQL in one statement (the
 * queries go as one JSON array), where a group's posts would otherwise pay a round trip
 * each; on SQLite, in-process, one statement each. Queries with different count_cap
 * are read one by one. Returns 0, or -1 on error (logged; out zeroed). */
int store_post_facts_many(db_t *db, const store_post_query *qs, size_t n,
                          store_post_facts *out);

#endif
