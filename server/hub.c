/* hub.c: reference-counted messages, bounded send queues and article rooms. */
#include "hub.h"
#include "alloc.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

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

static const hub_observer *observers[4];
static int nobservers;

void hub_add_observer(const hub_observer *o) {
    if (nobservers == 4) abort();
    observers[nobservers++] = o;
}

static dict_t *rooms;  /* article -> room_t, owned */
static bool dedupe;

/* ---- Rooms ---- */

void hub_init(bool dedupe_ids) {
    rooms = dict_new();
    dedupe = dedupe_ids;
    conn_add_close_hook(hub_unsubscribe_all);
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
        r = xcalloc(1, sizeof *r);
        r->article = xstrdup(article);
        if (dedupe) r->ring = xcalloc(RING, sizeof *r->ring);
        dict_set(rooms, article, r, NULL);
        metrics.rooms = dict_size(rooms);
        for (int i = 0; i < nobservers; i++) observers[i]->opened(article);
    }
    s = xcalloc(1, sizeof *s);
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

static void pend_clear(sub_t *s) {
    for (uint32_t i = 0; i < s->npend; i++) msg_unref(s->pend[i]);
    free(s->pend);
    free(s->pend_ids);
    s->pend = NULL;
    s->pend_ids = NULL;
    s->npend = 0;
}

static bool in_ids(const int64_t *ids, size_t n, int64_t id) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id) return true;
    return false;
}

void hub_activate(sub_t *s, const int64_t *ids, size_t n) {
    if (!s->active) {
        s->active = true;
        s->room->nactive++;
    }
    if (s->pend_overflow) {
        conn_close(s->conn, 1013);
    } else {
        for (uint32_t i = 0; i < s->npend; i++)
            if (!(s->pend_ids[i] > 0 && in_ids(ids, n, s->pend_ids[i])))
                conn_enqueue(s->conn, s->pend[i]);
    }
    pend_clear(s);
    s->pend_overflow = false;
    if (dedupe && n) {
        free(s->hist_ids);
        s->hist_ids = xmalloc(n * sizeof *ids);
        memcpy(s->hist_ids, ids, n * sizeof *ids);
        s->nhist = (uint32_t)n;
        s->hist_until_ms = mono_ms() + HIST_KEEP_MS;
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
        for (int i = 0; i < nobservers; i++) observers[i]->closed(r->article);
        dict_del(rooms, r->article);
        room_free(r);
        metrics.rooms = dict_size(rooms);
    }
    free(s->hist_ids);
    pend_clear(s);
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
            now = mono_ms();
        }
        if (comment_id > r->max_id) r->max_id = comment_id;
    }
    for (sub_t *s = r->head; s; s = s->next) {
        if (!s->active) {
            /* its history is being read: keep the message until it has been sent */
            if (s->npend == HUB_PEND_MAX) {
                s->pend_overflow = true;
                continue;
            }
            if (!s->pend) {
                s->pend = xmalloc(HUB_PEND_MAX * sizeof *s->pend);
                s->pend_ids = xmalloc(HUB_PEND_MAX * sizeof *s->pend_ids);
            }
            m->refs++;
            s->pend[s->npend] = m;
            s->pend_ids[s->npend++] = comment_id;
            continue;
        }
        if (now && sub_had(s, comment_id, now)) continue;
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
