/* store_secrets.h: the repository of shared secrets (PostgreSQL schema: table secrets).
 * With several machines on one database the keyed-hash keys must agree, so they live in
 * the database, created once by whichever node asks first. */
#ifndef PARLEY_STORE_SECRETS_H
#define PARLEY_STORE_SECRETS_H

#include "store_db.h"
#include <stddef.h>

/* Reads the secret called name into out (len bytes), storing fresh random bytes first
 * when there is none (INSERT ... ON CONFLICT DO NOTHING, so concurrent first starts
 * agree). Returns 0, or -1 with a message in err. */
int store_secrets_get(db_t *db, const char *name, unsigned char *out, size_t len, char *err,
                      size_t errlen);

#endif
