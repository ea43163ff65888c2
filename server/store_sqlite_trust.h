/* store_sqlite_trust.h: the SQL behind trusted commenters (issue 16). */
#ifndef PARLEY_STORE_SQLITE_TRUST_H
#define PARLEY_STORE_SQLITE_TRUST_H

#include <sqlite3.h>

/* Whether author has at least `approved` comments a moderator approved and none a
 * moderator rejected or removed. Returns 1, 0, or -1 on error. */
int store_trust_is_trusted(sqlite3 *db, const char *author, long approved);

#endif
