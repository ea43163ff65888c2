/* store_names.h: the reserved_names table and moderators' names (SQLite). */
#ifndef PARLEY_STORE_NAMES_H
#define PARLEY_STORE_NAMES_H

#include "store_db.h"
#include <stdbool.h>
#include <stddef.h>

bool store_names_has(db_t *db, const char *key);
void store_names_put(db_t *db, const char *key, const char *kind);
/* True when a moderator's name folds (with fold) to key. */
bool store_names_moderator_match(db_t *db, const char *key,
                                 int (*fold)(const char *, char *, size_t));

/* Frees the names an author's comments carry (their erasure: the identity is forgotten). */
void store_names_forget_author(db_t *db, const char *author_id,
                               int (*fold)(const char *, char *, size_t));

#endif
