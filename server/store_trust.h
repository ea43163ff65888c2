/* store_trust.h: the SQL behind trusted commenters (issue 16). */
#ifndef PARLEY_STORE_TRUST_H
#define PARLEY_STORE_TRUST_H

#include "store_db.h"

/* How long an answer is remembered, and for how many authors at most. A decision made
 * by this process forgets them all at once (store_trust_forget); one made by another
 * process on the same store is seen here at most this late. */
#define STORE_TRUST_MEMO_MS 10000
#define STORE_TRUST_MEMO_MAX 20000

/* Whether author has at least `approved` comments a moderator approved and none a
 * moderator rejected or removed. Returns 1, 0, or -1 on error. Storage thread only: the
 * answer is remembered for STORE_TRUST_MEMO_MS (a prolific author's check walks every
 * comment of theirs). */
int store_trust_is_trusted(db_t *db, const char *author, long approved);

/* Forgets every remembered answer: call after a moderator decision (or its undo)
 * changed a comment's status. Storage thread only. */
void store_trust_forget(void);

#endif
