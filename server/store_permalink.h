/* store_permalink.h: threads by comment and article page addresses (SQLite). */
#ifndef PARLEY_STORE_PERMALINK_H
#define PARLEY_STORE_PERMALINK_H

#include <jansson.h>
#include "store_db.h"
#include <stdint.h>

/* Storage thread (store_permalink.c): appends to out the visible comments of the
 * thread holding comment (at most limit, by id). Returns 0, PERR_NOT_FOUND when comment
 * is not a comment of article visible to reader, or PERR_INTERNAL. */
int store_permalink_thread(db_t *db, const char *article, const char *reader,
                           int64_t comment, int limit, json_t *out);

/* Storage thread: the article's page address (malloc'd) or NULL. */
char *store_permalink_url(db_t *db, const char *article);
/* Storage thread: keeps url as the article's page address if the article has a comment.
 * Returns 1 when kept, 0 when the article has none (nothing written), -1 on an error. */
int store_permalink_put_url(db_t *db, const char *article, const char *url);

#endif
