/* net.h: libwebsockets on the shared libuv loop: the WebSocket endpoint /ws
 * (parley.v1) and HTTP on the same port (static files from web/, /healthz, /metrics,
 * /api/...). */
#ifndef PARLEY_NET_H
#define PARLEY_NET_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct lws;

/* Creates the lws context on loop, listening on the configured address.
 * Returns 0 or -1 (logged). */
int net_start(uv_loop_t *loop);
/* Closes every WebSocket with code (1001 on shutdown) after its queue is written. */
void net_close_all(int code);
/* Destroys the lws context (twice-safe, as LWS-NOTES describe). */
void net_stop(void);

/* An HTTP request being answered. Lives in the lws per-session data. */
typedef struct http_req {
    struct lws *wsi;
    uint64_t id;              /* for answers that come later: net_http_by_id() */
    char method[8];
    char path[512];
    char origin[256];         /* "" when absent */
    char *body;               /* POST body, NUL-terminated, owned */
    size_t body_len;
    /* the response being written */
    char *resp;
    size_t resp_len, resp_off;
} http_req;

/* A header for net_http_respond: name without colon, value. */
typedef struct {
    const char *name, *value;
} http_header;

/* Sends a complete response (copying body). Returns 0, or -1 when the connection must
 * close. May be called later, from a storage callback, with a request found by id. */
int net_http_respond(http_req *r, int status, const char *ctype, const http_header *hdrs,
                     int nhdrs, const char *body, size_t len);
http_req *net_http_by_id(uint64_t id);
/* Copies the value of query argument name (the first) into out; returns its length or -1. */
int net_http_arg(http_req *r, const char *name, char *out, size_t outlen);
/* Copies a request header (lowercase name with colon, e.g. "cookie:") into out. */
int net_http_header(http_req *r, const char *name, char *out, size_t outlen);
/* The client's address as text, honouring server.trust_proxy. */
void net_client_addr(struct lws *wsi, char *out, size_t outlen);

/* True when origin names this server itself (its Host header, or server.public_url). */
#include <stdbool.h>
bool net_own_origin(struct lws *wsi, const char *origin);

/* A route for paths under /api/ that other modules serve. Handlers return what
 * net_http_respond returns, or 1 when they will answer later. */
typedef int (*http_handler)(http_req *r);
void net_add_route(const char *method, const char *path, http_handler h);

/* Hook for modules that look at a WebSocket handshake (moderator session cookies):
 * called at ESTABLISHED with the connection and its wsi. */
struct conn;
void net_set_ws_hook(void (*hook)(struct conn *c, struct lws *wsi));

#endif
