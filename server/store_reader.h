/* store_reader.h: a reader's own data (GDPR access and erasure), all the SQL. */
#ifndef PARLEY_STORE_READER_H
#define PARLEY_STORE_READER_H

#include <jansson.h>
#include "store_db.h"
#include <stdbool.h>
#include <stdint.h>

/* Everything stored about author id `reader`: comments (all statuses), reports they
 * filed, bans and moderator notes about them. A new JSON object, or NULL on a database
 * error. */
json_t *reader_repo_export(db_t *db, const char *reader);

/* What an erasure changed. */
typedef struct {
    int64_t comments, reports, notes, bans, audit;
    int64_t reactions, emails, examples, events; /* likes, reply-email subscriptions,
                                                  * learned texts, webhook events */
} reader_erased;

/* Erases `reader` in one transaction: their comments keep their place as removed
 * placeholders with no text, name, avatar or address hash and a forgotten author id;
 * their reports, bans, likes, reply-email subscriptions, the notes about them, the texts
 * the learned model keeps of their comments and the webhook events naming them are
 * deleted; audit entries about them or
 * their comments lose their before/after texts and their id; one audit entry records
 * the erasure (by `by`) without naming them. Returns 0 or -1 (nothing changed). */
int reader_repo_erase(db_t *db, const char *reader, const char *by, reader_erased *out);

/* The same inside a transaction the caller holds (the server's storage jobs): no
 * BEGIN/COMMIT of their own, no checkpoint. keep_bans (a reader erasing themselves):
 * the bans in force on them stay, with their reasons cleared, so that an erasure does
 * not lift a ban; only lifted and expired ones are deleted (and counted). */
json_t *reader_repo_export_tx(db_t *db, const char *reader);
int reader_repo_erase_tx(db_t *db, const char *reader, const char *by, bool keep_bans,
                         reader_erased *out);

/* Has freed pages overwritten from now on, so erased texts do not linger in an SQLite
 * file (PRAGMA secure_delete, per connection). Returns the setting before (1 on, 0 off)
 * for reader_repo_secure_delete_restore. PostgreSQL has no such setting (dead rows go
 * at VACUUM): a no-op that returns 1. */
int reader_repo_secure_delete_on(db_t *db);
/* Puts the setting back as reader_repo_secure_delete_on found it. */
void reader_repo_secure_delete_restore(db_t *db, int was);

#endif
