/* store_audit.h: the moderators' audit log (audit table): writing entries, finding what
 * an undo takes back, and the admins' page of entries. Plain values in and out; every
 * statement runs unchanged on SQLite and PostgreSQL. Storage thread only. */
#ifndef PARLEY_STORE_AUDIT_H
#define PARLEY_STORE_AUDIT_H

#include <jansson.h>
#include "store_db.h"
#include <stdbool.h>
#include <stdint.h>

/* An entry to write. Text is borrowed for the call; before/after are JSON objects (or
 * NULL) written as compact JSON text. */
typedef struct {
    int64_t at; /* ms since the epoch */
    const char *moderator;
    const char *action;
    const char *target;
    const json_t *before;
    const json_t *after;
    const char *note; /* may be NULL */
} store_audit_entry;

/* Writes an entry; returns its id (> 0), or -1 when it could not be written (the caller
 * then undoes the action it records). */
int64_t store_audit_insert(db_t *db, const store_audit_entry *e);

/* The newest entry of moderator that an undo can take back (a decision, a ban, an
 * unban, an article mode, a feature) and is not undone yet. */
typedef struct {
    int64_t id;
    int64_t at;
    char note[32]; /* "" when none */
} store_audit_last;

/* Fills *out; returns 1 when there is one, 0 when not, -1 on error. */
int store_audit_last_undoable(db_t *db, const char *moderator, store_audit_last *out);

/* The entries one undo takes back, as a JSON array of {"id", "action", "target",
 * "before", "after"} (before/after parsed, null when absent); new reference, NULL on
 * error. When whole, every decision and ban of moderator at time `at` not yet undone
 * (one bulk action, or a ban with its comment's decision), bans first and newest first;
 * else entry id alone. */
json_t *store_audit_undo_entries(db_t *db, const char *moderator, bool whole, int64_t at,
                                 int64_t id);

/* Marks entry id undone. 0, or -1 on error. */
int store_audit_mark_undone(db_t *db, int64_t id);

/* Up to limit entries older than entry `before` (0: from the newest), newest first,
 * optionally of one moderator and of one action (NULL: any), as the wire's audit
 * entries ({"id","at","moderator","action","target","undone","before","after","note"},
 * docs/protocol.md). New reference, NULL on error. */
json_t *store_audit_page(db_t *db, const char *moderator, const char *action, int64_t before,
                         int limit);

#endif
