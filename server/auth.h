/* auth.h: moderator accounts (argon2id), login with throttling, sessions held in an
 * HttpOnly cookie of which only a hash is stored, and `parley moderator ...`. */
#ifndef PARLEY_AUTH_H
#define PARLEY_AUTH_H

#include "store_db.h"
#include <stdint.h>

#include "conn.h"

/* Registers /api/mod/login, /logout, /me and the WebSocket handshake hook. */
void auth_init(void);
void auth_shutdown(void);

/* The session token of an HTTP request's cookie (malloc'd), or NULL. */
struct http_req;
char *auth_http_token(struct http_req *r);

/* Hex hash (64 chars + NUL) of a session token, as stored. */
void auth_token_hash(const char *token, char out[65]);

/* On the storage thread: checks a session by token hash, touching last_seen. Returns 0
 * and the moderator's name and role (malloc'd), or PERR_UNAUTHORIZED. */
int auth_session_check(db_t *db, const char *token_hash, int64_t now, char **name,
                       char **role);

/* `parley moderator add|list|remove|passwd ...`; returns the exit code. */
int auth_cli(int argc, char **argv);

#endif
