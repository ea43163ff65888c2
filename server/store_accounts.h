/* store_accounts.h: the repository of moderator accounts and their sessions (the
 * `moderators` and `sessions` tables); all their SQL. Times are ms since the epoch,
 * always bound from C. Every function runs on the thread that owns db. */
#ifndef PARLEY_STORE_ACCOUNTS_H
#define PARLEY_STORE_ACCOUNTS_H

#include <stdint.h>

#include "store_db.h"

/* One session row joined with its moderator's role. Strings malloc'd, owned by the
 * struct: release with store_accounts_session_free. */
typedef struct {
    char *moderator, *role;
    int64_t created_at, last_seen, expires_at;
} store_accounts_session;

/* Looks up the session of token_hash. Returns 1 and fills out when found, 0 when there
 * is none, -1 on a database error. */
int store_accounts_session_get(db_t *db, const char *token_hash, store_accounts_session *out);
void store_accounts_session_free(store_accounts_session *s);

/* Stores a new session for moderator, created and last seen at now. 0 or -1. */
int store_accounts_session_insert(db_t *db, const char *token_hash, const char *moderator,
                                  int64_t now, int64_t expires_at);
/* Sets last_seen of the session to now. 0 or -1. */
int store_accounts_session_touch(db_t *db, const char *token_hash, int64_t now);
/* Deletes one session. Returns the rows deleted (0 or 1), or -1. */
int store_accounts_session_delete(db_t *db, const char *token_hash);
/* Deletes every session that expired before now. Returns how many, or -1. */
int store_accounts_sessions_expire(db_t *db, int64_t now);
/* Deletes every session of moderator (after a password change). Returns how many, or -1. */
int store_accounts_sessions_delete_for(db_t *db, const char *moderator);

/* One moderator. Strings malloc'd (pwhash NULL in lists); free with
 * store_accounts_moderator_free. */
typedef struct {
    char *name, *role, *pwhash;
    int64_t created_at;
} store_accounts_moderator;

/* Looks up moderator name with its password hash. 1 found (out filled), 0 none, -1. */
int store_accounts_moderator_get(db_t *db, const char *name, store_accounts_moderator *out);
void store_accounts_moderator_free(store_accounts_moderator *m);
/* Calls fn for every moderator in name order (pwhash NULL; m is borrowed for the call).
 * Returns how many, or -1 on a database error. */
int store_accounts_moderator_each(db_t *db,
                                  void (*fn)(const store_accounts_moderator *m, void *arg),
                                  void *arg);
/* Adds a moderator. 0, 1 when the name is taken, or -1 (message in db_errmsg). */
int store_accounts_moderator_add(db_t *db, const char *name, const char *role,
                                 const char *pwhash, int64_t now);
/* Removes a moderator (their sessions go with them). Returns rows removed, or -1. */
int store_accounts_moderator_remove(db_t *db, const char *name);
/* Replaces a moderator's password hash. Returns rows changed (0: no such name), or -1. */
int store_accounts_moderator_set_pwhash(db_t *db, const char *name, const char *pwhash);

#endif
