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

struct room {
    char *article;  /* owned */
    sub_t *head;    /* every subscription, pending ones too */
    size_t nsubs, nactive;
    int64_t max_id;
    size_t presence;
    int64_t presence_at; /* when it was announced (mono_ms), for the bus */
    /* Catch-up by id (dedupe): one read outstanding at a time; `again` asks for one
     * more when it ends. While a reader's queue is half full the next read waits for
     * it to drain (`waiting`, on wait_conn, generation wait_gen); a reader that has not
     * drained by the next periodic catch-up but one is closed as slow. */
    bool reading, again, waiting;
    int wait_ticks;
    uint64_t wait_gen;
    conn_t *wait_conn;
};

static hub_fetch_fn fetch;
static uint64_t n_fetches, n_fetched;

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
    if (!s->pend) return;
    for (uint32_t i = 0; i < s->pend->n; i++) msg_unref(s->pend->msgs[i]);
    free(s->pend);
    s->pend = NULL;
}

/* Remembers that cid was given to s out of order (bounded: past it a later read may bring
 * it once more, rare and never a loss). */
static void extra_add(sub_t *s, int64_t cid) {
    if (s->nextra == HUB_EXTRA_MAX) return;
    if (!s->extra) s->extra = xmalloc(HUB_EXTRA_MAX * sizeof *s->extra);
    s->extra[s->nextra++] = cid;
}

static bool in_ids(const int64_t *ids, size_t n, int64_t id) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id) return true;
    return false;
}

static void room_read(room_t *r);

void hub_activate(sub_t *s, const int64_t *ids, size_t n, int64_t since) {
    if (!s->active) {
        s->active = true;
        s->room->nactive++;
    }
    int64_t last = since > 0 ? since : 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] > last) last = ids[i];
    s->last = last;
    s->nextra = 0;
    if (s->pend && s->pend->overflow) {
        conn_close(s->conn, 1013);
    } else if (s->pend) {
        /* what waited: events, and new comments the history did not hold (a page of the
         * newest threads can leave out a reply that came meanwhile); an approved comment
         * (negative id) unless the history held it */
        for (uint32_t i = 0; i < s->pend->n; i++) {
            int64_t id = s->pend->ids[i], cid = id < 0 ? -id : id;
            if (cid > 0 && (cid <= since || in_ids(ids, n, cid))) continue;
            conn_enqueue(s->conn, s->pend->msgs[i]);
            if (id > s->last) s->last = id;
            else if (id < 0 && cid > s->last)
                extra_add(s, cid);
        }
    }
    pend_clear(s);
    /* whatever committed after the history was read and was not announced here yet */
    if (dedupe) room_read(s->room);
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
    pend_clear(s);
    free(s->extra);
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

/* Queues m to one subscription: an active one gets it now (a new comment only above
 * its last id), a pending one keeps it until its history has been sent. Returns true when
 * it was queued to an active reader. */
static bool sub_deliver(sub_t *s, msg_t *m, int64_t comment_id) {
    if (!dedupe && comment_id < 0) comment_id = 0; /* one process: always in order */
    if (!s->active) {
        if (!s->pend) {
            s->pend = xmalloc(sizeof *s->pend);
            s->pend->last = 0;
            s->pend->n = 0;
            s->pend->overflow = false;
        }
        sub_pend *p = s->pend;
        if (comment_id > 0 && comment_id <= p->last) return false;
        if (p->n == HUB_PEND_MAX) {
            p->overflow = true;
            return false;
        }
        m->refs++;
        p->msgs[p->n] = m;
        p->ids[p->n++] = comment_id;
        if (comment_id > p->last) p->last = comment_id;
        return false;
    }
    if (comment_id > 0) {
        if (comment_id <= s->last) return false; /* it has it already */
        s->last = comment_id;
        bool had = false;
        uint32_t k = 0;
        for (uint32_t i = 0; i < s->nextra; i++) {
            if (s->extra[i] == comment_id) had = true;
            if (s->extra[i] > comment_id) s->extra[k++] = s->extra[i];
        }
        s->nextra = k;
        if (!k) {
            free(s->extra);
            s->extra = NULL;
        }
        if (had) return false; /* given out of order already */
    } else if (comment_id < 0) {
        int64_t cid = -comment_id;
        if (cid <= s->last) return conn_enqueue(s->conn, m) == 0;
        for (uint32_t i = 0; i < s->nextra; i++)
            if (s->extra[i] == cid) return false;
        extra_add(s, cid);
    }
    return conn_enqueue(s->conn, m) == 0;
}

static size_t room_deliver(room_t *r, msg_t *m, int64_t comment_id) {
    size_t n = 0;
    int64_t cid = comment_id < 0 ? -comment_id : comment_id;
    if (cid > r->max_id) r->max_id = cid;
    for (sub_t *s = r->head; s; s = s->next)
        if (sub_deliver(s, m, comment_id)) n++;
    return n;
}

size_t hub_publish(const char *article, msg_t *m, int64_t comment_id) {
    room_t *r = rooms ? dict_get(rooms, article) : NULL;
    if (!r) return 0;
    if (comment_id > 0 && dedupe) {
        /* an announcement: read it, and anything before it not seen yet, from the store */
        for (sub_t *s = r->head; s; s = s->next)
            if (s->active && s->last < comment_id) {
                room_read(r);
                break;
            }
        return 0;
    }
    return room_deliver(r, m, comment_id);
}

/* ---- Catch-up by id ---- */

void hub_set_fetch(hub_fetch_fn fn) { fetch = fn; }

/* A read's answer is a page of comments for every reader: before the next one, each
 * reader's queue must have room for it. */
typedef struct {
    char *article; /* owned */
    uint64_t gen;
} room_waiter;

static void wait_over(room_waiter *w) {
    room_t *r = rooms ? dict_get(rooms, w->article) : NULL;
    if (r && r->waiting && r->wait_gen == w->gen) {
        r->waiting = false;
        r->wait_conn = NULL;
        if (r->again) room_read(r);
    }
    free(w->article);
    free(w);
}

static void on_drained(conn_t *c, void *arg) {
    (void)c;
    wait_over(arg);
}

static void on_wait_dropped(void *arg) { wait_over(arg); }

/* Whether a reader of r has half its queue in use; if so the room waits for it to
 * drain. */
static bool room_wait(room_t *r) {
    conn_t *slow = NULL;
    for (sub_t *s = r->head; s; s = s->next)
        if (s->active && !s->conn->close_code && conn_half_full(s->conn)) {
            slow = s->conn;
            break;
        }
    if (!slow) return false;
    r->waiting = true;
    r->wait_ticks = 0;
    r->wait_conn = slow;
    room_waiter *w = xmalloc(sizeof *w);
    w->article = xstrdup(r->article);
    w->gen = ++r->wait_gen;
    conn_when_drained(slow, on_drained, on_wait_dropped, w);
    return r->waiting; /* it may have drained at once */
}

/* Whether the room should read now; if so marks it reading and sets *from to the lowest
 * last id of its active readers (each reader then gets only those above its own). */
static bool room_read_start(room_t *r, int64_t *from) {
    if (!dedupe || !fetch || !r->nactive) return false;
    if (r->reading || r->waiting) {
        r->again = true;
        return false;
    }
    if (room_wait(r)) {
        r->again = true;
        return false;
    }
    int64_t low = INT64_MAX;
    for (sub_t *s = r->head; s; s = s->next)
        if (s->active && s->last < low) low = s->last;
    r->reading = true;
    r->again = false;
    n_fetches++;
    *from = low;
    return true;
}

/* Starts a read of what the room's readers lack: the comments above the lowest last id
 * of its active readers. */
static void room_read(room_t *r) {
    int64_t from;
    if (!room_read_start(r, &from)) return;
    const char *article = r->article;
    fetch(&article, &from, 1);
}

void hub_catch_up(const char *article) {
    room_t *r = rooms ? dict_get(rooms, article) : NULL;
    if (r) room_read(r);
}

/* The rooms of one periodic catch-up, gathered into batches (one store job each). */
typedef struct {
    const char *articles[HUB_FETCH_BATCH];
    int64_t froms[HUB_FETCH_BATCH];
    size_t n;
} fetch_batch;

static void batch_flush(fetch_batch *b) {
    if (b->n) fetch(b->articles, b->froms, b->n);
    b->n = 0;
}

static void catch_up_one(const char *key, void *val, void *arg) {
    fetch_batch *b = arg;
    room_t *r = val;
    if (r->waiting && ++r->wait_ticks >= 2) {
        /* a reader that has not drained half a queue in a whole period holds its room
         * back: it goes, as any reader too slow for the room, and the others read on */
        conn_t *slow = r->wait_conn;
        r->waiting = false;
        r->wait_conn = NULL;
        conn_close_slow(slow, "holds its room back");
    }
    if (!room_read_start(r, &b->froms[b->n])) return;
    b->articles[b->n++] = r->article;
    if (b->n == HUB_FETCH_BATCH) batch_flush(b);
}

void hub_catch_up_all(void) {
    if (!rooms || !dedupe || !fetch) return;
    fetch_batch *b = xmalloc(sizeof *b);
    b->n = 0;
    dict_each(rooms, catch_up_one, b);
    batch_flush(b);
    free(b);
}

void hub_fetched(const char *article, msg_t *const *msgs, const int64_t *ids, size_t n,
                 bool more, bool ok) {
    room_t *r = rooms ? dict_get(rooms, article) : NULL;
    if (!r) return; /* the room closed meanwhile */
    for (size_t i = 0; ok && i < n; i++)
        if (room_deliver(r, msgs[i], ids[i])) n_fetched++;
    bool again = r->again || (ok && more);
    r->reading = false;
    r->again = false;
    if (again) room_read(r);
}

uint64_t hub_fetches(void) { return n_fetches; }
uint64_t hub_fetched_comments(void) { return n_fetched; }

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
int64_t *hub_room_presence_at(room_t *r) { return &r->presence_at; }

size_t hub_readers(const char *article) {
    room_t *r = rooms ? dict_get(rooms, article) : NULL;
    return r ? r->nactive : 0;
}

size_t hub_rooms(void) { return rooms ? dict_size(rooms) : 0; }

const char *hub_room_article(const room_t *r) { return r->article; }
