/* store_sort.h: pages of the thread orders (sort.h) read from the comments table. */
#ifndef PARLEY_STORE_SORT_H
#define PARLEY_STORE_SORT_H

#include <jansson.h>
#include <stdint.h>

#include "sort.h"
#include "store_db.h"

/* Storage thread: one page of a thread order for reader (their pending comments count
 * as visible to them): up to limit top-level comments after cur, then their replies
 * (at most reply_limit, by id), appended to page. *next is set to the cursor after the
 * page's last top-level comment, next->id 0 when none remain. Returns 0 or PERR_INTERNAL.
 * SQL in store_sort.c. */
int store_sort_page(db_t *db, const char *article, const char *reader,
                    const sort_cursor *cur, int limit, int reply_limit, json_t *page,
                    sort_cursor *next);

#endif
