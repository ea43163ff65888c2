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

/* What one writable callback writes at most (ws_writable): frames, in at most
 * NET_WS_BATCH_BYTES of payload unless one frame is larger. */
#define WRITE_ROUND_FRAMES 64
/* The registry: id -> conn_t (not owned: the transport's), a chained table through
 * conn_t.rnext, so that a connection costs it no allocation of its own (issue 17). */
static conn_t **reg;
static size_t reg_mask, reg_count;
static uint64_t next_id;
/* Origins in use, one copy each: every reader of a site's pages sends the same one, so a
 * connection holds a reference rather than a string of its own (issue 17). */
typedef struct {
    long refs;
    char s[];
} origin_t;
static dict_t *origins;                /* origin -> origin_t */
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
    reg_mask = 1023;
    reg = xcalloc(reg_mask + 1, sizeof *reg);
    reg_count = 0;
    origins = dict_new();
}

void conn_shutdown(void) {
    free(reg);
    reg = NULL;
    reg_mask = reg_count = 0;
    dict_free(origins, free);
    origins = NULL;
}

static const char *origin_ref(const char *s) {
    origin_t *o = dict_get(origins, s);
    if (!o) {
        size_t n = strlen(s);
        o = xmalloc(sizeof *o + n + 1);
        o->refs = 0;
        memcpy(o->s, s, n + 1);
        dict_set(origins, s, o, NULL);
    }
    o->refs++;
    return o->s;
}

static void origin_unref(const char *s) {
    origin_t *o = s && origins ? dict_get(origins, s) : NULL;
    if (o && --o->refs == 0) free(dict_del(origins, s));
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

static size_t reg_slot(uint64_t id, size_t mask) {
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static void reg_add(conn_t *c) {
    if (reg_count > reg_mask) { /* more than one a slot: double */
        size_t nmask = reg_mask * 2 + 1;
        conn_t **n = xcalloc(nmask + 1, sizeof *n);
        for (size_t i = 0; i <= reg_mask; i++) {
            for (conn_t *e = reg[i], *next; e; e = next) {
                next = e->rnext;
                size_t k = reg_slot(e->id, nmask);
                e->rnext = n[k];
                n[k] = e;
            }
        }
        free(reg);
        reg = n;
        reg_mask = nmask;
    }
    size_t k = reg_slot(c->id, reg_mask);
    c->rnext = reg[k];
    reg[k] = c;
    reg_count++;
}

static void reg_del(conn_t *c) {
    for (conn_t **p = &reg[reg_slot(c->id, reg_mask)]; *p; p = &(*p)->rnext) {
        if (*p == c) {
            *p = c->rnext;
            c->rnext = NULL;
            reg_count--;
            return;
        }
    }
}

conn_t *conn_by_id(uint64_t id) {
    if (!reg || !id) return NULL;
    for (conn_t *c = reg[reg_slot(id, reg_mask)]; c; c = c->rnext)
        if (c->id == id) return c;
    return NULL;
}

void conn_each(void (*fn)(conn_t *c, void *arg), void *arg) {
    if (!reg) return;
    for (size_t i = 0; i <= reg_mask; i++)
        for (conn_t *c = reg[i], *next; c; c = next) {
            next = c->rnext;
            fn(c, arg);
        }
}

conn_person *conn_person_of(conn_t *c) {
    if (!c->person) c->person = xcalloc(1, sizeof *c->person);
    return c->person;
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
    if (conn_header(c, "origin:", origin, sizeof origin) > 0) c->origin = origin_ref(origin);
    c->ip_hash = ip_hash;
    reg_add(c);
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
        /* The frames waiting, up to a round's worth, in one write: a callback costs a
         * poll-set change on and one off (four epoll_ctl calls through libuv's uv_poll),
         * and the transport sends what it takes of them with one system call (issue 17).
         * One write per callback: what the kernel does not take, lws keeps, and the next
         * callback comes once it is sent (the maintainer's rule against a write colliding
         * with a partial one); the round is bounded so that one reader cannot hold the
         * loop. */
        net_frame f[WRITE_ROUND_FRAMES];
        msg_t *first = c->q[c->qhead];
        f[0] = (net_frame){msg_payload(first), first->len}; /* the first goes whatever its size */
        size_t nf = 1, bytes = first->len;
        while (nf < c->qlen && nf < WRITE_ROUND_FRAMES) {
            msg_t *m = c->q[(c->qhead + nf) % c->qcap];
            if (bytes + m->len > NET_WS_BATCH_BYTES) break;
            f[nf] = (net_frame){msg_payload(m), m->len};
            bytes += m->len;
            nf++;
        }
        int n = ops->write(c->transport, f, nf);
        metrics.ws_write_rounds++;
        for (size_t i = 0, taken = n < 0 ? nf : (size_t)n; i < taken; i++) {
            msg_t *m = c->q[c->qhead];
            c->qhead = (c->qhead + 1) % c->qcap;
            c->qlen--;
            c->qbytes -= m->len;
            metrics.frames_out++;
            metrics.bytes_out += m->len;
            msg_unref(m);
        }
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
    reg_del(c);
    queue_clear(c);
    free(c->q);
    if (c->person) {
        free(c->person->user_name);
        free(c->person->avatar);
        free(c->person->email);
        free(c->person->session);
        free(c->person->mod_name);
        free(c->person->mod_role);
        free(c->person);
        c->person = NULL;
    }
    origin_unref(c->origin);
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
