/* store_names.h: the reserved_names table (both dialects). */
#ifndef PARLEY_STORE_NAMES_H
#define PARLEY_STORE_NAMES_H

#include "store_db.h"
#include <stdbool.h>
#include <stddef.h>

void store_names_put(db_t *db, const char *key, const char *kind);
/* Releases key when it was reserved for kind. Returns 0 or -1. */
int store_names_release(db_t *db, const char *key, const char *kind);
/* Reserves every moderator's name, folded with fold, as kind 'moderator' (repeated calls
 * are harmless). Returns how many moderators there are, or -1 on error. */
int store_names_reserve_moderators(db_t *db, int (*fold)(const char *, char *, size_t));

/* Frees the names an author's comments carry (their erasure: the identity is forgotten). */
void store_names_forget_author(db_t *db, const char *author_id,
                               int (*fold)(const char *, char *, size_t));

#endif
