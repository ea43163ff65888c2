/* sort.h: the orders a reader can read a thread in (oldest, newest, most liked) and the
 * cursor that pages through the two "thread" orders. "oldest" is the v1 behaviour: pages
 * of comments by id. "newest" and "liked" page through top-level comments (newest first,
 * or most liked first with the newest first among equals), each page carrying the
 * replies of its top-level comments, so a thread never arrives without its replies. */
#ifndef PARLEY_SORT_H
#define PARLEY_SORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum { SORT_OLDEST = 0, SORT_NEWEST, SORT_LIKED } sort_order_t;

/* Where a page of a thread order starts: after the top-level comment (likes, id) (liked)
 * or after id (newest). The first page starts at INT64_MAX. */
typedef struct {
    sort_order_t order;
    int64_t likes, id;
} sort_cursor;

/* Reads `order` ("oldest", "newest", "liked"; absent: oldest) and, for the thread
 * orders, the optional `after` cursor of req into out. Returns 0, or -1 with a reader-
 * safe reason in *why (static). */
int sort_parse(const json_t *req, sort_cursor *out, const char **why);

/* The wire name of an order. */
const char *sort_name(sort_order_t o);

/* Formats the cursor that follows the top-level comment (likes, id) as the opaque
 * string a client sends back as `after` (new reference). */
json_t *sort_next(const sort_cursor *cur);

#endif
