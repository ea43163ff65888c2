/* notify.h: reply notifications. A reader learns of replies to their comments: the
 * `replies` request lists them when they come back to an article, and a `reply` event
 * reaches their connections while they are there (docs/protocol.md). */
#ifndef PARLEY_NOTIFY_H
#define PARLEY_NOTIFY_H

#include <jansson.h>
#include <sqlite3.h>

#include "conn.h"

/* Loop: answers {"type":"replies","article","replies":[COMMENT...]} (newest first, at
 * most 50) for c's author on article, through a storage job. */
void notify_replies(conn_t *c, const json_t *id, const char *article);

/* Storage thread, inside the job that made comment (borrowed) public: when it answers
 * someone else's comment, adds to effects the `reply` event for that author. */
void notify_reply_effect(sqlite3 *db, json_t *effects, json_t *comment);

#endif
