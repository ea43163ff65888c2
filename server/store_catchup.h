/* store_catchup.h: the repository behind catch-up by id: an article's published comments
 * newer than an id, in id order. */
#ifndef PARLEY_STORE_CATCHUP_H
#define PARLEY_STORE_CATCHUP_H

#include <jansson.h>
#include <stdint.h>

#include "store_db.h"

/* Appends to out (an array) the COMMENT objects of article's published comments with
 * ids above after_id, oldest first, at most limit. Returns 0, or an error (perr_t). */
int store_catchup_after(db_t *db, const char *article, int64_t after_id, int limit,
                        json_t *out);

#endif
