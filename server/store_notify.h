/* store_notify.h: the reads and writes of reply notifications (SQL in
 * store_sqlite_notify.c). Called on the storage thread with its connection. */
#ifndef PARLEY_STORE_NOTIFY_H
#define PARLEY_STORE_NOTIFY_H

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Published replies by others to author's comments on article, newest first, at most
 * max: a JSON array of COMMENT (new reference), or NULL on error (logged). */
json_t *store_notify_replies(sqlite3 *db, const char *author, const char *article, int max);

/* The author id of comment id into out (outlen bytes); 0 when found, -1 when not. */
int store_notify_comment_author(sqlite3 *db, int64_t id, char *out, size_t outlen);

#endif
