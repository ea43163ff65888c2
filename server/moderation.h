/* moderation.h: the moderators' actions (mod.* messages), the audit log, bans, and the
 * events that carry decisions to consoles, readers and authors. Reading the queue (items,
 * counts, pages, ban state) is moderation_queue.h's, included here for callers. */
#ifndef PARLEY_MODERATION_H
#define PARLEY_MODERATION_H

#include <jansson.h>

#include "conn.h"
#include "events.h"
#include "moderation_queue.h"
#include "store_db.h"
#include <stdint.h>

void moderation_init(void);
/* Handles one mod.* message (main hands it to proto_set_mod_handler). */
void moderation_handle(conn_t *c, const char *type, json_t *req, const json_t *id);
void moderation_shutdown(void);

#endif
