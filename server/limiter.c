/* limiter.c: sliding-window counters with expiry (see limiter.h). Entries sit in a
 * seeded dict for lookup and in a list ordered by last touch, so expiry and eviction
 * take them from the list's head without scanning. */
#include "limiter.h"
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "dict.h"

typedef struct lentry {
    struct lentry *prev, *next; /* by last touch, oldest first */
    uint64_t window_start;      /* start of the current fixed window */
    uint64_t touched;
    double cur, prev_count;     /* this window's count and the previous one's */
    char key[];
} lentry;

struct limiter {
    dict_t *keys;               /* key -> lentry, owned by the limiter */
    lentry *head, *tail;
    uint64_t window;
    size_t max_keys;
};

limiter_t *limiter_new(uint64_t window_ms, size_t max_keys) {
    limiter_t *l = xcalloc(1, sizeof *l);
    l->keys = dict_new();
    l->window = window_ms ? window_ms : 1;
    l->max_keys = max_keys ? max_keys : 1;
    return l;
}

void limiter_free(limiter_t *l) {
    if (!l) return;
    dict_free(l->keys, free);
    free(l);
}

static void unlink_entry(limiter_t *l, lentry *e) {
    if (e->prev) e->prev->next = e->next;
    else l->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else l->tail = e->prev;
    e->prev = e->next = NULL;
}

static void append(limiter_t *l, lentry *e) {
    e->prev = l->tail;
    e->next = NULL;
    if (l->tail) l->tail->next = e;
    else l->head = e;
    l->tail = e;
}

static void drop(limiter_t *l, lentry *e) {
    unlink_entry(l, e);
    dict_del(l->keys, e->key);
    free(e);
}

/* Drops entries untouched for two windows (they count nothing any more), and the
 * oldest ones past max_keys. */
static void expire(limiter_t *l, uint64_t now) {
    while (l->head && (now - l->head->touched >= 2 * l->window ||
                       dict_size(l->keys) > l->max_keys))
        drop(l, l->head);
}

/* Moves e's windows forward to now. */
static void roll(limiter_t *l, lentry *e, uint64_t now) {
    uint64_t start = now - now % l->window;
    if (start == e->window_start) return;
    e->prev_count = start - e->window_start == l->window ? e->cur : 0;
    e->cur = 0;
    e->window_start = start;
}

static double estimate(const limiter_t *l, const lentry *e, uint64_t now) {
    double into = (double)(now - e->window_start) / (double)l->window;
    return e->cur + e->prev_count * (1.0 - into);
}

double limiter_add(limiter_t *l, const char *key, double n, uint64_t now) {
    expire(l, now);
    lentry *e = dict_get(l->keys, key);
    if (!e) {
        size_t klen = strlen(key);
        e = xcalloc(1, sizeof *e + klen + 1);
        memcpy(e->key, key, klen + 1);
        e->window_start = now - now % l->window;
        dict_set(l->keys, key, e, NULL);
    } else {
        unlink_entry(l, e);
    }
    roll(l, e, now);
    e->cur += n;
    e->touched = now;
    append(l, e);
    expire(l, now);
    return estimate(l, e, now);
}

double limiter_count(limiter_t *l, const char *key, uint64_t now) {
    expire(l, now);
    lentry *e = dict_get(l->keys, key);
    if (!e) return 0;
    roll(l, e, now);
    return estimate(l, e, now);
}

void limiter_reset(limiter_t *l, const char *key) {
    lentry *e = dict_get(l->keys, key);
    if (e) drop(l, e);
}

size_t limiter_size(const limiter_t *l) { return dict_size(l->keys); }
