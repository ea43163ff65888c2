/* net.h: libwebsockets on the shared libuv loop: the WebSocket endpoint /ws
 * (parley.v1) and HTTP on the same port (static files from web/, /healthz, /metrics,
 * /api/...). */
#ifndef PARLEY_NET_H
#define PARLEY_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct lws;

/* Creates the lws context on loop, listening on the configured address.
 * Returns 0 or -1 (logged). */
int net_start(uv_loop_t *loop);

/* ---- WebSocket transport ----
 * net knows no comment, session or protocol: it hands WebSocket events to handlers that
 * the conn layer provides (main passes them), and offers the functions the conn layer's
 * ops table is filled with. A transport handle (void *ws) is valid from open to closed. */

/* Bytes of room a frame's payload must have before it (lws's LWS_PRE). */
#define NET_WS_PRE 16

typedef struct {
    size_t user_size; /* per-connection user area, zeroed at open, freed after closed */
    /* A WebSocket opened from the client whose address hashes to ip_hash. */
    void (*open)(void *user, void *ws, const char *ip_hash);
    /* One whole text message. */
    void (*message)(void *user, const char *data, size_t len);
    /* The client passed its message rate: it is not read from until it slows down. */
    void (*throttled)(void *user);
    /* The socket takes more (after net_ws_wake); returns -1 to drop the connection. */
    int (*writable)(void *user);
    void (*closed)(void *user);
} net_ws_handlers;

/* Must be called before net_start. */
void net_set_ws_handlers(const net_ws_handlers *h);
/* Sends one text frame (payload has NET_WS_PRE bytes of room before it); what the
 * kernel does not take, lws keeps and sends when the socket drains. 0 or -1. Only from
 * the writable handler (lws's rule; a write elsewhere is counted in /metrics as
 * parley_ws_writes_outside_writeable). */
int net_ws_write(void *ws, unsigned char *payload, size_t len);
/* True when nothing is buffered unsent in the transport. */
bool net_ws_idle(void *ws);
void net_ws_wake(void *ws);
/* Sets the close frame's code and reason (lws_close_reason), from the writable handler,
 * which then returns -1: lws writes the frame and waits briefly for the answer. */
void net_ws_close(void *ws, int code, const char *reason);
/* Drops the connection if it has not closed within seconds. */
void net_ws_closing(void *ws, int seconds);
/* Copies a handshake header (lowercase name with colon) into out; length or -1. */
int net_ws_header(void *ws, const char *name, char *out, size_t outlen);
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
    /* the response being written, all of it from the writable callback: the headers,
     * then the body in chunks, then the end of the transaction */
    unsigned char *hdr;       /* LWS_PRE bytes of room, then the header block; owned */
    size_t hdr_len;
    char *resp;
    size_t resp_len, resp_off;
    bool finish;              /* an answer is pending: end it once hdr and resp are written */
} http_req;

/* A header for net_http_respond: name without colon, value. */
typedef struct {
    const char *name, *value;
} http_header;

/* Prepares a complete response (copying body) and asks for the writable callback, which
 * writes it. Returns 0, or -1 when the connection must close. May be called later, from
 * a storage callback, with a request found by id. */
int net_http_respond(http_req *r, int status, const char *ctype, const http_header *hdrs,
                     int nhdrs, const char *body, size_t len);
http_req *net_http_by_id(uint64_t id);
/* Copies the value of query argument name (the first) into out; returns its length or -1. */
int net_http_arg(http_req *r, const char *name, char *out, size_t outlen);
/* Calls fn with the value of each query argument called name, in order, until fn
 * returns non-zero; returns how many it saw. */
int net_http_arg_each(http_req *r, const char *name, int (*fn)(const char *value, void *arg),
                      void *arg);
/* Copies the If-None-Match header into out ("" when absent); returns its length. */
int net_http_if_none_match(http_req *r, char *out, size_t outlen);
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


#endif
