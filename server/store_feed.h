/* store_feed.h: the reads behind the Atom feeds. */
#ifndef PARLEY_STORE_FEED_H
#define PARLEY_STORE_FEED_H

#include "store_db.h"
#include <stddef.h>
#include <stdint.h>

/* One published comment for a feed. Strings belong to the repository and are valid
 * during the callback only; article_title and article_url are NULL when unknown. */
typedef struct {
    int64_t id, created_at, edited_at; /* edited_at 0: never */
    const char *article, *author_name, *title, *body, *article_title, *article_url;
} feed_row;

/* Calls cb for the newest `limit` published comments (of article, or of every article
 * when NULL), newest first. Returns 0 or -1 on a database error. */
int feed_repo_latest(db_t *db, const char *article, int limit,
                     void (*cb)(const feed_row *, void *), void *arg);
/* Title and link of an article, copied into the buffers ("" when unknown). */
void feed_repo_article(db_t *db, const char *article, char *title, size_t tlen, char *url,
                       size_t ulen);

/* When the newest published comment of article was written or edited (ms; 0 if none). */
int64_t feed_repo_newest(db_t *db, const char *article);

#endif
