/* hub.c: reference-counted messages, bounded send queues and article rooms. */
#include "hub.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "conn.h"
#include "dict.h"
#include "log.h"
#include "metrics.h"

#define RING 256          /* delivered comment ids remembered per room */
#define HIST_KEEP_MS 15000 /* how long a subscription remembers its history ids */

struct room {
    char *article;  /* owned */
    sub_t *head;    /* every subscription, pending ones too */
    size_t nsubs, nactive;
    int64_t max_id;
    int64_t *ring;  /* owned; only when deduplicating */
    unsigned ring_pos;
    size_t presence;
    int64_t gap_from;
};

static dict_t *rooms;  /* article -> room_t, owned */
static size_t q_max_msgs, q_max_bytes;
static bool dedupe;

/* ---- Messages ---- */

msg_t *msg_new(const char *payload, size_t len) {
    msg_t *m = malloc(sizeof *m + LWS_PRE + len + 1);
    if (!m) abort();
    m->refs = 1;
    m->len = len;
    memcpy(m->data + LWS_PRE, payload, len);
    m->data[LWS_PRE + len] = '\0';
    return m;
}

msg_t *msg_from_json(const json_t *j) {
    size_t len = json_dumpb(j, NULL, 0, JSON_COMPACT);
    msg_t *m = malloc(sizeof *m + LWS_PRE + len + 1);
    if (!m) abort();
    m->refs = 1;
    m->len = json_dumpb(j, (char *)m->data + LWS_PRE, len, JSON_COMPACT);
    m->data[LWS_PRE + m->len] = '\0';
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

/* ---- Send queues ---- */

int conn_enqueue(conn_t *c, msg_t *m) {
    if (c->close_code) return -1;
    /* Nothing waiting and the socket takes more: write now. Asking lws for a writable
     * callback costs two epoll_ctl calls per message, which is what limits fan-out. */
    if (c->qlen == 0 && conn_write_now(c, m) == 0) return 0;
    if (c->qlen >= q_max_msgs || c->qbytes + m->len > q_max_bytes) {
        clog_warn(c->id, "hub: send queue full (%u messages, %zu bytes): closing slow reader",
                  c->qlen, c->qbytes);
        metrics.slow_closed++;
        conn_close(c, 1013);
        return -1;
    }
    if (c->qlen == c->qcap) {
        uint32_t ncap = c->qcap ? c->qcap * 2 : 4;
        msg_t **nq = malloc(ncap * sizeof *nq);
        if (!nq) abort();
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
    conn_wake(c);
    return 0;
}

/* ---- Rooms ---- */

void hub_init(size_t max_messages, size_t max_bytes, bool dedupe_ids) {
    rooms = dict_new();
    dedupe = dedupe_ids;
    q_max_msgs = max_messages;
    q_max_bytes = max_bytes;
}

static void room_free(void *p) {
    room_t *r = p;
    free(r->ring);
    free(r->article);
    free(r);
}

void hub_shutdown(void) {
    dict_free(rooms, room_free);
    rooms = NULL;
}

sub_t *hub_find(conn_t *c, const char *article) {
    for (sub_t *s = c->subs; s; s = s->cnext)
        if (strcmp(s->room->article, article) == 0) return s;
    return NULL;
}

sub_t *hub_subscribe(conn_t *c, const char *article, bool *created) {
    sub_t *s = hub_find(c, article);
    *created = false;
    if (s) return s;
    room_t *r = dict_get(rooms, article);
    if (!r) {
        r = calloc(1, sizeof *r);
        r->article = strdup(article);
        if (dedupe) r->ring = calloc(RING, sizeof *r->ring);
        dict_set(rooms, article, r, NULL);
        metrics.rooms = dict_size(rooms);
        bus_room_opened(article);
    }
    s = calloc(1, sizeof *s);
    s->room = r;
    s->conn = c;
    s->next = r->head;
    if (r->head) r->head->prev = s;
    r->head = s;
    r->nsubs++;
    s->cnext = c->subs;
    c->subs = s;
    c->nsubs++;
    *created = true;
    return s;
}

void hub_activate(sub_t *s, const int64_t *ids, size_t n) {
    if (!s->active) {
        s->active = true;
        s->room->nactive++;
    }
    if (dedupe && n) {
        free(s->hist_ids);
        s->hist_ids = malloc(n * sizeof *ids);
        memcpy(s->hist_ids, ids, n * sizeof *ids);
        s->nhist = (uint32_t)n;
        s->hist_until_ms = bus_now_ms() + HIST_KEEP_MS;
    }
}

static bool sub_had(sub_t *s, int64_t id, uint64_t now) {
    if (!s->hist_ids) return false;
    if (now > s->hist_until_ms) {
        free(s->hist_ids);
        s->hist_ids = NULL;
        s->nhist = 0;
        return false;
    }
    for (uint32_t i = 0; i < s->nhist; i++)
        if (s->hist_ids[i] == id) return true;
    return false;
}

static void sub_remove(sub_t *s) {
    room_t *r = s->room;
    if (s->prev)
        s->prev->next = s->next;
    else
        r->head = s->next;
    if (s->next) s->next->prev = s->prev;
    r->nsubs--;
    if (s->active) r->nactive--;
    if (r->nsubs == 0) {
        bus_room_closed(r->article);
        dict_del(rooms, r->article);
        room_free(r);
        metrics.rooms = dict_size(rooms);
    }
    free(s->hist_ids);
    free(s);
}

int hub_unsubscribe(conn_t *c, const char *article) {
    for (sub_t **p = &c->subs; *p; p = &(*p)->cnext) {
        if (strcmp((*p)->room->article, article) == 0) {
            sub_t *s = *p;
            *p = s->cnext;
            c->nsubs--;
            sub_remove(s);
            return 0;
        }
    }
    return -1;
}

void hub_unsubscribe_all(conn_t *c) {
    while (c->subs) {
        sub_t *s = c->subs;
        c->subs = s->cnext;
        sub_remove(s);
    }
    c->nsubs = 0;
}

size_t hub_publish(const char *article, msg_t *m, int64_t comment_id) {
    room_t *r = dict_get(rooms, article);
    size_t n = 0;
    if (!r) return 0;
    uint64_t now = 0;
    if (comment_id > 0) {
        if (r->ring) {
            for (unsigned i = 0; i < RING; i++)
                if (r->ring[i] == comment_id) return 0; /* delivered already */
            r->ring[r->ring_pos++ % RING] = comment_id;
            now = bus_now_ms();
        }
        if (comment_id > r->max_id) r->max_id = comment_id;
    }
    for (sub_t *s = r->head; s; s = s->next) {
        if (!s->active || (now && sub_had(s, comment_id, now))) continue;
        if (conn_enqueue(s->conn, m) == 0) n++;
    }
    return n;
}

typedef struct {
    void (*fn)(room_t *, void *);
    void *arg;
} each_arg;

static void each_room(const char *key, void *val, void *arg) {
    each_arg *a = arg;
    a->fn(val, a->arg);
}

void hub_each_room(void (*fn)(room_t *, void *), void *arg) {
    each_arg a = {fn, arg};
    if (rooms) dict_each(rooms, each_room, &a);
}

room_t *hub_find_room(const char *article) { return rooms ? dict_get(rooms, article) : NULL; }

size_t hub_room_readers(const room_t *r) { return r->nactive; }
int64_t hub_room_max_id(const room_t *r) { return r->max_id; }
size_t *hub_room_presence(room_t *r) { return &r->presence; }
int64_t *hub_room_gap_from(room_t *r) { return &r->gap_from; }

size_t hub_readers(const char *article) {
    room_t *r = rooms ? dict_get(rooms, article) : NULL;
    return r ? r->nactive : 0;
}

size_t hub_rooms(void) { return rooms ? dict_size(rooms) : 0; }

const char *hub_room_article(const room_t *r) { return r->article; }
