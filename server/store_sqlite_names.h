/* store_sqlite_names.h: the reserved_names table and moderators' names (SQLite). */
#ifndef PARLEY_STORE_SQLITE_NAMES_H
#define PARLEY_STORE_SQLITE_NAMES_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

bool store_names_has(sqlite3 *db, const char *key);
void store_names_put(sqlite3 *db, const char *key, const char *kind);
/* True when a moderator's name folds (with fold) to key. */
bool store_names_moderator_match(sqlite3 *db, const char *key,
                                 int (*fold)(const char *, char *, size_t));

/* Frees the names an author's comments carry (their erasure: the identity is forgotten). */
void store_names_forget_author(sqlite3 *db, const char *author_id,
                               int (*fold)(const char *, char *, size_t));

#endif
