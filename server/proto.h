/* proto.h: the parley.v1 messages a client sends (docs/protocol.md): parsing, field
 * checks with one error code per failure, and dispatch to the module that does the work. */
#ifndef PARLEY_PROTO_H
#define PARLEY_PROTO_H

#include <stddef.h>

#include "conn.h"

/* Handles one complete text message from c. Never closes the connection: every bad
 * message gets an error reply. */
void proto_handle(conn_t *c, const char *data, size_t len);

/* True when s is a valid article id (1-128 of A-Z a-z 0-9 . _ : / -). */

/* Moderator messages ("mod.*") are handed here; set by the moderation module. */
typedef void (*proto_mod_handler)(conn_t *c, const char *type, json_t *req, const json_t *id);
void proto_set_mod_handler(proto_mod_handler h);

#endif
