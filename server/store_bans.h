/* store_bans.h: the bans repository (bans table). Plain values in and out; every
 * statement runs unchanged on SQLite and PostgreSQL. Storage thread only. */
#ifndef PARLEY_STORE_BANS_H
#define PARLEY_STORE_BANS_H

#include <jansson.h>
#include "store_db.h"
#include <stdbool.h>
#include <stdint.h>

/* What stands against an author now (moderation_queue.h names these BAN_*). */
enum { STORE_BAN_NONE = 0, STORE_BAN_BANNED, STORE_BAN_SHADOW };

/* A ban to write. Text fields are borrowed for the call. */
typedef struct {
    const char *author;   /* author id, required */
    const char *ip_hash;  /* the author's last address hash; NULL or "" for none */
    bool shadow;          /* a shadow ban (their posts seen by themselves only) */
    int64_t until;        /* ms since the epoch when it ends; 0 = never */
    const char *reason;   /* may be NULL */
    const char *moderator;
    int64_t created_at;   /* ms */
} store_ban;

/* The query of store_bans_state (parameters: now, author, ip hash, "" for none): 2 for a
 * ban, 1 for a shadow ban, NULL for none; an aggregate, not a sort (a sort costs the
 * database a tuplesort's memory on every post). No parameter is ever NULL: PostgreSQL
 * folds a NULL into a custom plan cheaper than the generic one and then plans the
 * statement again on every run. Also read as a scalar subquery by store_post.c. */
#define STORE_BANS_STATE_SQL STORE_BANS_STATE_SQL_OF("?", "?", "?")
/* The same with SQL expressions (string literals) for now, author and address. */
#define STORE_BANS_STATE_SQL_OF(now, author, ip)                                           \
    "SELECT MAX(CASE WHEN kind = 'ban' THEN 2 ELSE 1 END) FROM bans WHERE lifted = 0 AND " \
    "(until IS NULL OR until > " now ") AND (author_id = " author " OR (ip_hash = " ip      \
    " AND ip_hash <> ''))"

/* STORE_BAN_* of a value of STORE_BANS_STATE_SQL (NULL read as 0). */
int store_bans_kind_of(int64_t v);

/* The strongest ban in force at `now` against author or (when ip_hash is neither NULL
 * nor empty) against that address: STORE_BAN_BANNED before STORE_BAN_SHADOW, else
 * STORE_BAN_NONE (also on error, logged). */
int store_bans_state(db_t *db, const char *author, const char *ip_hash, int64_t now);

/* Which kinds of ban against author itself (not its address) are in force at now: sets
 * *banned and *shadow. Returns 0, or -1 on error (both then false). */
int store_bans_author_kinds(db_t *db, const char *author, int64_t now, bool *banned,
                            bool *shadow);

/* Writes a ban; returns its id (> 0), or -1 on error (logged). */
int64_t store_bans_insert(db_t *db, const store_ban *b);

/* Lifts every ban of author not lifted yet (in force or expired). Returns the ids it
 * lifted as a JSON array of integers (new reference; empty when none), or NULL on
 * error. */
json_t *store_bans_lift_author(db_t *db, const char *author);

/* Marks ban id lifted (or, lifted false, in force again: an undo). 0, or -1 on error. */
int store_bans_set_lifted(db_t *db, int64_t id, bool lifted);

#endif
