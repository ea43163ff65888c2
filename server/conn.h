/* conn.h: one WebSocket connection. This is the lws per-session data: lws allocates it
 * zeroed when the connection opens and frees it after LWS_CALLBACK_CLOSED; everything it
 * points to is owned by it and released in conn_release(). Work that finishes later
 * (storage jobs) names the connection by id and looks it up with conn_by_id(), so a
 * connection that has gone is simply not found. */
#ifndef PARLEY_CONN_H
#define PARLEY_CONN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "errors.h"
#include "hub.h"

struct lws;

/* Work waiting for a connection's send queue to drain (replay pages are paced so).
 * Owned by the connection: run once with fn, or released with drop when it closes. */
typedef struct conn_waiter {
    void (*fn)(conn_t *c, void *arg);
    void (*drop)(void *arg);
    void *arg;
    struct conn_waiter *next;
} conn_waiter;

struct conn {
    struct lws *wsi;
    uint64_t id;
    char ip_hash[33];        /* hex keyed hash of the client address */
    char author_id[80];      /* "g:<hex>" or "u:<sub>" */
    char badge[16];          /* signed-in readers: "staff", "verified", "moderator" or "" */
    char origin[128];        /* the handshake's Origin (the embedding page's), or "" */
    char *user_name;         /* signed-in users: the name from the token */
    char *avatar;
    bool signed_in;
    bool established;
    bool moderator;          /* mod.hello found a live session: gets queue events */
    char *session;           /* session token from the handshake's cookie, or NULL */
    char *mod_name;
    char *mod_role;

    /* send queue: a ring of message references */
    msg_t **q;
    uint32_t qcap, qhead, qlen;
    size_t qbytes;

    sub_t *subs;
    int nsubs;

    /* fragments of the message being received */
    char *rx;
    size_t rxlen;

    /* token bucket for incoming messages */
    double tokens;
    uint64_t tokens_at_ms;
    bool throttled;
    struct conn *tnext;      /* in the throttled list */

    int close_code;          /* non-zero: close with this code at the next chance */

    conn_waiter *waiters;    /* run when the send queue is empty again */
};

/* The live connection with this id, or NULL. */
conn_t *conn_by_id(uint64_t id);

/* Serialises obj (stealing the reference) and queues it; 0 or -1 (queue full). */
int conn_send_json(conn_t *c, json_t *obj);
/* Sends {"type":"error","id":id?,"code":...,"message":...}; id may be NULL. */
void conn_error(conn_t *c, const json_t *id, perr_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Marks c to close with code (and reason) once its queue has been written. */
void conn_close(conn_t *c, int code);
/* Writes m at once when the socket is not choked; 0 when written, -1 to queue it. */
int conn_write_now(conn_t *c, msg_t *m);
/* Calls fn(c, arg) once everything queued on c has been written (at once when nothing
 * is); when c closes first, drop(arg) is called instead. */
void conn_when_drained(conn_t *c, void (*fn)(conn_t *, void *), void (*drop)(void *),
                       void *arg);
/* Asks lws for a writable callback. */
void conn_wake(conn_t *c);

#endif
