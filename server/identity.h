/* identity.h: who a connection speaks for: a guest (with or without a stable key) or a
 * user signed in by the host site's token. */
#ifndef PARLEY_IDENTITY_H
#define PARLEY_IDENTITY_H

#include <jansson.h>

#include "cfg.h"
#include "conn.h"

/* Gives a new connection a guest identity of its own ("g:" + random). */
void identity_init_conn(conn_t *c);
/* The `hello` message: guest_key or token. Replies welcome or error. */
void identity_hello(conn_t *c, json_t *req, const json_t *id);

/* Checks identity.badges (a map of token role -> staff | verified | moderator); 0, or -1
 * with "file:line:col: why" in err. */
int identity_check_badges(const cfg_node *identity, const char *file, char *err, size_t errlen);

#endif
