/* store_featured.h: the featured comments' repository (SQLite). */
#ifndef PARLEY_STORE_FEATURED_H
#define PARLEY_STORE_FEATURED_H

#include <jansson.h>
#include "store_db.h"
#include <stdint.h>

/* 1 when featured, 0 when not, -1 on error. */
int store_featured_is(db_t *db, int64_t comment);
int store_featured_count(db_t *db, const char *article);
int store_featured_put(db_t *db, int64_t comment, const char *article, const char *moderator);
int store_featured_del(db_t *db, int64_t comment);
/* Appends the article's featured comments that are still published (new references). */
int store_featured_list(db_t *db, const char *article, json_t *out);
/* The comment (COMMENT object, new reference) when it is published, else NULL. */
json_t *store_featured_comment(db_t *db, int64_t comment);

#endif
