/* store_trust.h: the SQL behind trusted commenters (issue 16). */
#ifndef PARLEY_STORE_TRUST_H
#define PARLEY_STORE_TRUST_H

#include "store_db.h"

/* Whether author has at least `approved` comments a moderator approved and none a
 * moderator rejected or removed. Returns 1, 0, or -1 on error. */
int store_trust_is_trusted(db_t *db, const char *author, long approved);

#endif
