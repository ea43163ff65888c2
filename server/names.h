/* names.h: display names that belong to someone. A signed-in reader's name and every
 * moderator's are reserved; a guest cannot post under one, compared after the rules'
 * obfuscation folding (case, accents, confusables, leetspeak, separators), so that
 * "Ada Rep0rter" is "Ada Reporter". Storage-thread functions take the job's database. */
#ifndef PARLEY_NAMES_H
#define PARLEY_NAMES_H

#include "store_db.h"
#include <stdbool.h>
#include <stddef.h>

/* The folded key of a display name into out (outlen bytes); 0, or -1 when the name
 * folds to nothing. */
int names_key(const char *name, char *out, size_t outlen);

/* Reserves name for kind ("reader", "moderator"); repeated calls are harmless. A
 * guest's post looks its folded key up in reserved_names (store_post.h). */
void names_reserve(db_t *db, const char *name, const char *kind);
/* Releases a name reserved for kind (a moderator removed). */
void names_release(db_t *db, const char *name, const char *kind);
/* Reserves every moderator's name, so that accounts made before names were reserved,
 * or written by other means (a copy, an import), count too: `parley serve` runs it at
 * start. Returns 0 or -1. */
int names_reserve_moderators(db_t *db);

/* Frees the names reserved by an author who is being erased (storage thread). */
void names_forget_author(db_t *db, const char *author_id);

#endif
