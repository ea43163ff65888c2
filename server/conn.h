/* conn.h: one client connection above the transport (the conn layer).
 *
 * A connection is its session (who the reader or moderator is), its bounded send queue
 * of reference-counted frames, and its subscriptions. The transport below (net.c, lws)
 * is reached only through an ops table that main fills in with net's functions, as
 * Redis's networking.c reaches sockets through ConnectionType: nothing above this layer
 * names libwebsockets.
 *
 * The memory of a conn_t is the transport's per-connection user area: it is zeroed when
 * the connection opens and released after conn's closed handler has run; everything it
 * points to is owned by it. Work that finishes later (storage jobs) names the
 * connection by id and looks it up with conn_by_id(), so a connection that has gone is
 * simply not found. */
#ifndef PARLEY_CONN_H
#define PARLEY_CONN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "net.h"

/* ---- Frames ---- */

/* A text frame ready for the transport: NET_WS_PRE bytes of room, then the payload.
 * Owned by its references (send queues, the publisher while publishing); the last
 * msg_unref frees it. */
typedef struct msg {
    unsigned refs;
    size_t len;
    unsigned char data[]; /* NET_WS_PRE + len + 1 */
} msg_t;

msg_t *msg_new(const char *payload, size_t len);
/* Serialises j compactly into a new message (refs = 1). */
msg_t *msg_from_json(const json_t *j);
/* The same, releasing j (the caller's reference is taken). */
msg_t *msg_take_json(json_t *j);
static inline unsigned char *msg_payload(msg_t *m) { return m->data + NET_WS_PRE; }
void msg_unref(msg_t *m);

/* ---- Connections ---- */

typedef struct conn conn_t;
struct sub; /* hub.h: a subscription, owned by the hub, listed here */

/* Work waiting for a connection's send queue to drain (replay pages are paced so).
 * Owned by the connection: run once with fn, or released with drop when it closes. */
typedef struct conn_waiter {
    void (*fn)(conn_t *c, void *arg);
    void (*drop)(void *arg);
    void *arg;
    struct conn_waiter *next;
} conn_waiter;

/* What a signed-in reader or a moderator brings: allocated by the first hook that sets
 * any of it (conn_person_of), NULL for a guest, which most readers are (issue 17: an idle
 * connection's memory). */
typedef struct conn_person {
    char *user_name;         /* signed-in users: the name from the token */
    char *avatar;
    char *email;             /* signed-in users: the token's email claim, or NULL */
    char *session;           /* session token from the handshake's cookie, or NULL */
    char *mod_name;
    char *mod_role;
    char badge[16];          /* signed-in readers: "staff", "verified", "moderator" or "" */
} conn_person;

struct conn {
    void *transport;         /* the transport's handle; NULL once closed */
    uint64_t id;
    const char *ip_hash;     /* hex keyed hash of the client address: the transport's
                              * copy, valid until the connection closes */
    struct conn *rnext;      /* the registry's chain (conn.c) */
    const char *origin;      /* the handshake's Origin (the embedding page's), or NULL
                              * when absent; shared by the connections that sent it */
    conn_person *person;     /* who signed in: NULL for guests */

    /* send queue: a ring of message references */
    msg_t **q;
    size_t qbytes;
    uint32_t qcap, qhead, qlen;

    int nsubs;
    struct sub *subs;        /* hub.c's list through cnext */
    conn_waiter *waiters;    /* run when the send queue is empty again */
    int close_code;          /* > 0: close with this code once the queue is written;
                              * < 0: the close has been handed to the transport */

    /* session: who is on the other end (identity.c, auth.c) */
    char author_id[67];      /* "g:<hex>" or "u:<sub>" (a token's sub is at most 64 bytes) */
    bool signed_in : 1;
    bool moderator : 1;      /* mod.hello found a live session: gets queue events */
};
/* lws allocates conn_t behind the transport's 80 bytes, one block per connection: 248
 * bytes in all keep it in a 256-byte malloc chunk (issue 17: idle memory). */
_Static_assert(sizeof(conn_t) <= 168, "conn_t grew past 168 bytes");

/* The connection's person, allocated (empty) when it has none yet. */
conn_person *conn_person_of(conn_t *c);

/* The transport, filled in by main with net's functions (void *t is the transport
 * handle). write sends the first of n text frames (n >= 1) and as many after it as it
 * takes in one write (net_ws_write), returning how many it took (written or buffered by
 * the transport) or -1; it and close are called only from the writable handler. idle is true when the transport holds nothing unsent;
 * wake asks for a writable callback; close sets the code and reason of the close frame
 * that the transport sends when the writable handler then returns -1; header copies a
 * handshake header. */
typedef struct {
    int (*write)(void *t, const net_frame *frames, size_t n);
    bool (*idle)(void *t);
    void (*wake)(void *t);
    void (*close)(void *t, int code, const char *reason);
    int (*header)(void *t, const char *name, char *out, size_t outlen);
    /* a close is pending: drop the connection if it cannot be written within seconds */
    void (*closing)(void *t, int seconds);
} conn_ops;

/* Sets the transport ops and the send queue bounds (messages, bytes). */
void conn_init(const conn_ops *ops, size_t max_messages, size_t max_bytes);
void conn_shutdown(void);
/* The handlers net calls for WebSocket events (user areas are conn_t). */
const net_ws_handlers *conn_ws_handlers(void);

/* What upper layers plug in: the message handler (proto), hooks at open (identity,
 * auth) and at close (hub). At most 4 hooks of each kind. */
void conn_set_message_handler(void (*fn)(conn_t *c, const char *data, size_t len));
void conn_add_open_hook(void (*fn)(conn_t *c));
void conn_add_close_hook(void (*fn)(conn_t *c));

/* The live connection with this id, or NULL. */
conn_t *conn_by_id(uint64_t id);
/* Calls fn for every live connection. */
void conn_each(void (*fn)(conn_t *c, void *arg), void *arg);

/* Queues m on c (taking a reference) and asks the transport for a writable callback,
 * where it is written. Returns 0, or -1 when the queue passed its bound: the connection
 * is then marked to close with 1013 and the message is not queued. */
int conn_enqueue(conn_t *c, msg_t *m);
/* Serialises obj (stealing the reference) and queues it; 0 or -1 (queue full). */
int conn_send_json(conn_t *c, json_t *obj);
/* Sends {"type":"error","id":id?,"code":...,"message":...}; id may be NULL. */
void conn_error(conn_t *c, const json_t *id, perr_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Marks c to close with code (and reason) once its queue has been written. */
void conn_close(conn_t *c, int code);
/* Closes every connection with code (shutdown: 1001). Returns how many. */
size_t conn_close_all(int code);
/* Whether half or more of c's send queue bound (messages or bytes) is in use: a paced
 * producer waits (conn_when_drained) before it adds a page. */
bool conn_half_full(const conn_t *c);
/* Closes c as a slow reader (1013, counted in /metrics), saying why in the log. */
void conn_close_slow(conn_t *c, const char *why);
/* Calls fn(c, arg) once everything queued on c has been written (at once when nothing
 * is); when c closes first, drop(arg) is called instead. */
void conn_when_drained(conn_t *c, void (*fn)(conn_t *, void *), void (*drop)(void *),
                       void *arg);
/* Copies a handshake header of c (lowercase name with colon) into out; length or -1. */
int conn_header(conn_t *c, const char *name, char *out, size_t outlen);

#endif
