/* moderation_queue.h: reading the moderation queue: its counts, the ITEM a console shows
 * for a comment (docs/protocol.md), the pages of mod.queue, mod.search and mod.audit, the
 * ban state posting checks, and the console events that follow a change to the queue.
 * moderation.c holds the actions; this module only reads. Storage thread only. */
#ifndef PARLEY_MODERATION_QUEUE_H
#define PARLEY_MODERATION_QUEUE_H

#include <jansson.h>

#include "store_bans.h"
#include "store_db.h"
#include <stdint.h>

enum { BAN_NONE = STORE_BAN_NONE, BAN_BANNED = STORE_BAN_BANNED, BAN_SHADOW = STORE_BAN_SHADOW };
/* The queue ITEM for a comment (docs/protocol.md), or NULL. New reference. */
json_t *moderation_item(db_t *db, int64_t comment_id);
/* {"held":N,"refused":N,"reported":N}. New reference. */
json_t *moderation_counts(db_t *db);

/* Adds the console events that follow a change to the queue: the item (when it is in a
 * queue now) or its resolution, then the counts. */
void effect_queue_changed(json_t *effects, db_t *db, int64_t comment_id, const char *status,
                          const char *by);

/* The mod.queue reply for queue ("held", "reported", "refused" or "all"; NULL: "all"),
 * limit items (out of 1..100: 50) after comment `after`, into *reply (new reference).
 * Returns 0, PERR_BAD_REQUEST (unknown queue) or PERR_UNAVAILABLE. */
int moderation_queue_page(db_t *db, const char *queue, int64_t limit, int64_t after,
                          json_t **reply);
/* The mod.search reply: the newest 50 items below comment `before` (0: from the newest)
 * matching every filter given (NULL: any). PERR_BAD_REQUEST without any filter. */
int moderation_search_page(db_t *db, const char *author, const char *article,
                           const char *text, int64_t before, json_t **reply);
/* The mod.audit reply: the newest 100 entries below entry `before`, of moderator and of
 * action when given. */
int moderation_audit_page(db_t *db, const char *moderator, const char *action,
                          int64_t before, json_t **reply);

#endif
