/* conn.c: connections above the transport: frames, bounded send queues, the registry
 * of live connections, and the WebSocket events net hands up (see conn.h). */
#include "conn.h"
#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "log.h"
#include "metrics.h"

#define MAX_HOOKS 4

static const conn_ops *ops;
static size_t q_max_msgs, q_max_bytes;

/* What one writable callback writes at most (ws_writable). */
#define WRITE_ROUND_FRAMES 64
#define WRITE_ROUND_BYTES (64 * 1024)
static dict_t *conns;                 /* "id" -> conn_t (not owned: the transport's) */
static uint64_t next_id;
static void (*on_message)(conn_t *c, const char *data, size_t len);
static void (*open_hooks[MAX_HOOKS])(conn_t *c);
static void (*close_hooks[MAX_HOOKS])(conn_t *c);
static int nopen, nclose;

/* ---- Frames ---- */

msg_t *msg_new(const char *payload, size_t len) {
    msg_t *m = xmalloc(sizeof *m + NET_WS_PRE + len + 1);
    m->refs = 1;
    m->len = len;
    memcpy(m->data + NET_WS_PRE, payload, len);
    m->data[NET_WS_PRE + len] = '\0';
    return m;
}

msg_t *msg_from_json(const json_t *j) {
    size_t len = json_dumpb(j, NULL, 0, JSON_COMPACT);
    msg_t *m = xmalloc(sizeof *m + NET_WS_PRE + len + 1);
    m->refs = 1;
    m->len = json_dumpb(j, (char *)m->data + NET_WS_PRE, len, JSON_COMPACT);
    m->data[NET_WS_PRE + m->len] = '\0';
    return m;
}

msg_t *msg_take_json(json_t *j) {
    msg_t *m = msg_from_json(j);
    json_decref(j);
    return m;
}

void msg_unref(msg_t *m) {
    if (m && --m->refs == 0) free(m);
}

/* ---- Registry and plug-ins ---- */

void conn_init(const conn_ops *o, size_t max_messages, size_t max_bytes) {
    ops = o;
    q_max_msgs = max_messages;
    q_max_bytes = max_bytes;
    conns = dict_new();
}

void conn_shutdown(void) {
    dict_free(conns, NULL);
    conns = NULL;
}

void conn_set_message_handler(void (*fn)(conn_t *, const char *, size_t)) { on_message = fn; }

void conn_add_open_hook(void (*fn)(conn_t *c)) {
    if (nopen == MAX_HOOKS) abort();
    open_hooks[nopen++] = fn;
}

void conn_add_close_hook(void (*fn)(conn_t *c)) {
    if (nclose == MAX_HOOKS) abort();
    close_hooks[nclose++] = fn;
}

static void idkey(uint64_t id, char out[24]) { snprintf(out, 24, "%llu", (unsigned long long)id); }

conn_t *conn_by_id(uint64_t id) {
    char k[24];
    idkey(id, k);
    return conns ? dict_get(conns, k) : NULL;
}

typedef struct {
    void (*fn)(conn_t *, void *);
    void *arg;
} each_arg;

static void each_one(const char *key, void *val, void *arg) {
    each_arg *a = arg;
    a->fn(val, a->arg);
}

void conn_each(void (*fn)(conn_t *c, void *arg), void *arg) {
    each_arg a = {fn, arg};
    if (conns) dict_each(conns, each_one, &a);
}

/* ---- Send queue ---- */

static void queue_clear(conn_t *c) {
    while (c->qlen) {
        msg_unref(c->q[c->qhead]);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
    }
    c->qbytes = 0;
}

/* Every frame goes through the queue and is written from the transport's writable
 * callback, one per callback (libwebsockets' rule: lws_write only there). A message into
 * an empty queue is always taken, whatever its size (one history page may pass
 * queue_max_bytes); the bounds apply to what waits behind it. */
int conn_enqueue(conn_t *c, msg_t *m) {
    if (c->close_code) return -1;
    if (c->qlen && (c->qlen >= q_max_msgs || c->qbytes + m->len > q_max_bytes)) {
        conn_close_slow(c, "send queue full");
        return -1;
    }
    if (c->qlen == c->qcap) {
        uint32_t ncap = c->qcap ? c->qcap * 2 : 4;
        msg_t **nq = xmalloc(ncap * sizeof *nq);
        for (uint32_t i = 0; i < c->qlen; i++) nq[i] = c->q[(c->qhead + i) % c->qcap];
        free(c->q);
        c->q = nq;
        c->qcap = ncap;
        c->qhead = 0;
    }
    c->q[(c->qhead + c->qlen) % c->qcap] = m;
    c->qlen++;
    c->qbytes += m->len;
    m->refs++;
    /* a longer queue has asked already: the writable callback re-arms while it is not empty */
    if (c->qlen == 1 && c->transport) ops->wake(c->transport);
    return 0;
}

int conn_send_json(conn_t *c, json_t *obj) {
    msg_t *m = msg_take_json(obj);
    int rc = conn_enqueue(c, m);
    msg_unref(m);
    return rc;
}

void conn_error(conn_t *c, const json_t *id, perr_t code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    metrics.errors[code]++;
    char ex[96];
    clog_info(c->id, "error %s: %s", perr_code(code), log_excerpt(msg, ex, sizeof ex));
    json_t *e = json_pack("{s:s, s:s, s:s}", "type", "error", "code", perr_code(code),
                          "message", msg);
    if (id) json_object_set(e, "id", (json_t *)id);
    conn_send_json(c, e);
}

void conn_close(conn_t *c, int code) {
    if (c->close_code) return; /* > 0: closing soon; < 0: handed to the transport */
    c->close_code = code;
    /* A slow reader loses its backlog: it resumes with `since` instead. */
    if (code == 1013) queue_clear(c);
    if (c->transport) {
        ops->closing(c->transport, 5);
        ops->wake(c->transport);
    }
}

typedef struct {
    int code;
    size_t n;
} close_all_arg;

static void close_one(conn_t *c, void *arg) {
    close_all_arg *a = arg;
    conn_close(c, a->code);
    a->n++;
}

size_t conn_close_all(int code) {
    close_all_arg a = {code, 0};
    conn_each(close_one, &a);
    return a.n;
}

int conn_header(conn_t *c, const char *name, char *out, size_t outlen) {
    if (!c->transport) return -1;
    return ops->header(c->transport, name, out, outlen);
}

/* ---- Waiting for the queue to drain ---- */

bool conn_half_full(const conn_t *c) {
    return c->qlen * 2 >= q_max_msgs || c->qbytes * 2 >= q_max_bytes;
}

void conn_close_slow(conn_t *c, const char *why) {
    if (c->close_code) return;
    clog_warn(c->id, "conn: %s (%u messages, %zu bytes queued): closing slow reader", why,
              c->qlen, c->qbytes);
    metrics.slow_closed++;
    conn_close(c, 1013);
}

static bool drained(conn_t *c) { return c->qlen == 0 && c->transport && ops->idle(c->transport); }

void conn_when_drained(conn_t *c, void (*fn)(conn_t *, void *), void (*drop)(void *),
                       void *arg) {
    if (c->close_code) {
        drop(arg);
        return;
    }
    if (drained(c)) {
        fn(c, arg);
        return;
    }
    conn_waiter *w = xmalloc(sizeof *w), **tail = &c->waiters;
    *w = (conn_waiter){fn, drop, arg, NULL};
    while (*tail) tail = &(*tail)->next;
    *tail = w;
    if (c->transport) ops->wake(c->transport);
}

/* Runs (or, when closing, drops) the waiters of a drained connection. */
static void run_waiters(conn_t *c, bool drop) {
    conn_waiter *w = c->waiters;
    c->waiters = NULL;
    while (w) {
        conn_waiter *next = w->next;
        if (drop || c->close_code)
            w->drop(w->arg);
        else
            w->fn(c, w->arg);
        free(w);
        w = next;
    }
}

/* ---- Events from the transport ---- */

static void ws_open(void *user, void *transport, const char *ip_hash) {
    conn_t *c = user;
    c->transport = transport;
    c->id = ++next_id;
    /* the page that opened the socket (permalinks are kept only on its origin) */
    char origin[128];
    if (conn_header(c, "origin:", origin, sizeof origin) > 0) c->origin = xstrdup(origin);
    snprintf(c->ip_hash, sizeof c->ip_hash, "%s", ip_hash);
    char k[24];
    idkey(c->id, k);
    dict_set(conns, k, c, NULL);
    metrics.connections++;
    metrics.connections_total++;
    metrics.ws_opened++;
    for (int i = 0; i < nopen; i++) open_hooks[i](c);
    clog_debug(c->id, "conn: open (%.8s…)", c->ip_hash);
}

static void ws_message(void *user, const char *data, size_t len) {
    conn_t *c = user;
    if (c->close_code || !on_message) return;
    on_message(c, data, len);
}

static void ws_throttled(void *user) {
    conn_error(user, NULL, PERR_RATE_LIMITED, "Too many messages; slow down.");
}

/* The transport can take more: one queued frame, or the close once the queue is
 * written, or the waiters once it is drained. Returns -1 to end the connection: after
 * ops->close, the transport then sends the close frame with the code and reason. */
static int ws_writable(void *user) {
    conn_t *c = user;
    if (c->qlen) {
        /* Several queued frames per callback while lws holds nothing unsent: a callback
         * costs a poll-set change on and one off (four epoll_ctl calls through libuv's
         * uv_poll), a frame one send. A write lws could not finish is buffered by it and
         * ends the round (the maintainer's rule against colliding with a partial write);
         * the round is bounded so that one reader cannot hold the loop. */
        size_t frames = 0, bytes = 0;
        int n = 0;
        do {
            msg_t *m = c->q[c->qhead];
            n = ops->write(c->transport, msg_payload(m), m->len);
            c->qhead = (c->qhead + 1) % c->qcap;
            c->qlen--;
            c->qbytes -= m->len;
            metrics.frames_out++;
            metrics.bytes_out += m->len;
            frames++;
            bytes += m->len;
            msg_unref(m);
        } while (n >= 0 && c->qlen && frames < WRITE_ROUND_FRAMES &&
                 bytes < WRITE_ROUND_BYTES && ops->idle(c->transport));
        if (c->qlen == 0) { /* an idle connection holds no ring (issue 17) */
            free(c->q);
            c->q = NULL;
            c->qcap = c->qhead = 0;
        }
        if (n < 0) return -1;
        if (c->qlen || c->close_code > 0 || c->waiters) ops->wake(c->transport);
        return 0;
    }
    if (c->close_code > 0) {
        const char *why = c->close_code == 1001   ? "server shutting down"
                          : c->close_code == 1013 ? "reader too slow: resume with since"
                                                  : "closing";
        clog_debug(c->id, "conn: closing with %d", c->close_code);
        int code = c->close_code;
        c->close_code = -code;
        ops->close(c->transport, code, why);
        return 0;
    }
    if (c->waiters) {
        if (!ops->idle(c->transport))
            ops->wake(c->transport);
        else
            run_waiters(c, false);
    }
    return 0;
}

static void ws_closed(void *user) {
    conn_t *c = user;
    if (!c->id) return;
    for (int i = 0; i < nclose; i++) close_hooks[i](c);
    run_waiters(c, true);
    char k[24];
    idkey(c->id, k);
    dict_del(conns, k);
    queue_clear(c);
    free(c->q);
    free(c->user_name);
    free(c->avatar);
    free(c->email);
    free(c->session);
    free(c->mod_name);
    free(c->mod_role);
    free(c->origin);
    c->origin = NULL;
    metrics.connections--;
    clog_debug(c->id, "conn: closed");
    c->transport = NULL;
    c->id = 0;
}

static const net_ws_handlers handlers = {
    .user_size = sizeof(conn_t),
    .open = ws_open,
    .message = ws_message,
    .throttled = ws_throttled,
    .writable = ws_writable,
    .closed = ws_closed,
};

const net_ws_handlers *conn_ws_handlers(void) { return &handlers; }
