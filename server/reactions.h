/* reactions.h: likes. One like per reader per comment (a toggle), never on one's own
 * comment, guests only when `reactions.guests` allows. Counts reach readers coalesced:
 * the changes of a room are gathered and flushed as one `likes` frame every
 * `reactions.flush_ms`, so a comment liked a thousand times a second costs each reader a
 * few frames a second. */
#ifndef PARLEY_REACTIONS_H
#define PARLEY_REACTIONS_H

#include <jansson.h>
#include "store_db.h"
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "conn.h"

void reactions_init(uv_loop_t *loop);
/* Drops changes not yet flushed (the loop closes the timer). */
void reactions_shutdown(void);

/* Likes (like) or unlikes comment for c's reader; replies `reacted` or an error. */
void reactions_react(conn_t *c, const json_t *id, int64_t comment, bool like);

/* Storage thread: sets "likes" (count), "likes_seq" (its change number) and "liked"
 * (true when reader likes it) on each comment object of the array comments. */
void reactions_attach(db_t *db, const char *reader, json_t *comments);

#endif
