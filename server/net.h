/* net.h: libwebsockets on the shared libuv loop: the WebSocket endpoint /ws
 * (parley.v1) and HTTP on the same port (static files from web/, /healthz, /metrics,
 * /api/...). */
#ifndef PARLEY_NET_H
#define PARLEY_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net_http.h" /* HTTP on the same port: requests, answers, routes */
#include "net_sock.h" /* sockets, client addresses and origins */

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
/* One text frame to send: its payload, with NET_WS_PRE bytes of room before it. */
typedef struct {
    unsigned char *payload;
    size_t len;
} net_frame;
/* The payload bytes that one net_ws_write takes at most in several frames (one larger
 * frame goes alone). */
#define NET_WS_BATCH_BYTES 16384
/* Sends the first of n text frames (n >= 1) and as many after it, in order, as fit in
 * NET_WS_BATCH_BYTES, in one write: one send() instead of one per frame. What the kernel
 * does not take, lws keeps and sends when the socket drains; the payloads may be freed on
 * return. Returns the number of frames taken, or -1. Only from the writable handler
 * (lws's rule; a write elsewhere is counted in /metrics as
 * parley_ws_writes_outside_writeable). */
int net_ws_write(void *ws, const net_frame *frames, size_t n);
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

#endif
