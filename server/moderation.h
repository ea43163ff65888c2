/* moderation.h: the moderation queue and the moderators' actions (mod.* messages), the
 * audit log, bans, and the events that carry decisions to consoles, readers and
 * authors. */
#ifndef PARLEY_MODERATION_H
#define PARLEY_MODERATION_H

#include <jansson.h>

#include "events.h"
#include "store_db.h"
#include <stdint.h>

void moderation_init(void);
/* Handles one mod.* message (main hands it to proto_set_mod_handler). */
#include "conn.h"
void moderation_handle(conn_t *c, const char *type, json_t *req, const json_t *id);
void moderation_shutdown(void);

/* ---- Storage thread ---- */

enum { BAN_NONE = 0, BAN_BANNED, BAN_SHADOW };
/* Whether an author (or their address) is banned or shadow-banned now. */
int moderation_ban_state(db_t *db, const char *author, const char *ip_hash, int64_t now);
/* The queue ITEM for a comment (docs/protocol.md), or NULL. New reference. */
json_t *moderation_item(db_t *db, int64_t comment_id);
/* {"held":N,"reported":N}. New reference. */
json_t *moderation_counts(db_t *db);

/* Adds the console events that follow a change to the queue: the item (when it is in a
 * queue now) or its resolution, then the counts. */
void effect_queue_changed(json_t *effects, db_t *db, int64_t comment_id, const char *status,
                          const char *by);


#endif
