/* store_comments.h: reading comments rows (SQLite): the columns to select and
 * the COMMENT object they make (docs/protocol.md). */
#ifndef PARLEY_STORE_COMMENTS_H
#define PARLEY_STORE_COMMENTS_H

#include <jansson.h>
#include "store_db.h"
#include <stdint.h>

/* Columns to select for comment_from_row(), in this order. */
#define COMMENT_COLUMNS                                                                     \
    "id, article, parent, author_id, author_name, author_guest, author_avatar, title, "    \
    "body, created_at, edited_at, status, reason, author_badge"

/* Builds a COMMENT object from a row selected with COMMENT_COLUMNS (new reference). */
json_t *comment_from_row(db_stmt *st);
/* Formats ms since the epoch as RFC 3339 UTC with milliseconds into out[32]. */
void comment_time(int64_t ms, char out[32]);

#endif
