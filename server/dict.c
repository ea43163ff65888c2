/* dict.c: chained hashing with power-of-two tables, grown at load factor 1. */
#include "dict.h"
#include "alloc.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    void *val;
    char key[];
} entry_t;

struct dict {
    entry_t **slots;
    size_t mask;  /* slots - 1 */
    size_t size;
};

/* Keys come from clients (article ids, names, addresses): the hash is SipHash-2-4 with a
 * key drawn at start-up (libsodium's crypto_shorthash), as Redis seeds its dict, so no
 * one can choose keys that collide and turn lookups linear. */
static unsigned char seed[crypto_shorthash_KEYBYTES];
static atomic_bool seeded;

void dict_seed(void) {
    if (atomic_load(&seeded)) return;
    if (sodium_init() < 0) abort();
    randombytes_buf(seed, sizeof seed);
    atomic_store(&seeded, true);
}

static uint64_t hash_str(const char *s) {
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)s, strlen(s), seed);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

dict_t *dict_new(void) {
    dict_seed();
    dict_t *d = xcalloc(1, sizeof *d);
    d->mask = 15;
    d->slots = xcalloc(d->mask + 1, sizeof *d->slots);
    return d;
}

void dict_free(dict_t *d, void (*free_val)(void *)) {
    if (!d) return;
    for (size_t i = 0; i <= d->mask; i++) {
        entry_t *e = d->slots[i];
        while (e) {
            entry_t *n = e->next;
            if (free_val) free_val(e->val);
            free(e);
            e = n;
        }
    }
    free(d->slots);
    free(d);
}

static entry_t **find(const dict_t *d, const char *key, uint64_t h) {
    entry_t **p = &d->slots[h & d->mask];
    while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0)) p = &(*p)->next;
    return p;
}

void *dict_get(const dict_t *d, const char *key) {
    entry_t *e = *find(d, key, hash_str(key));
    return e ? e->val : NULL;
}

static void grow(dict_t *d) {
    size_t nmask = d->mask * 2 + 1;
    entry_t **ns = xcalloc(nmask + 1, sizeof *ns);
    for (size_t i = 0; i <= d->mask; i++) {
        entry_t *e = d->slots[i];
        while (e) {
            entry_t *n = e->next;
            e->next = ns[e->hash & nmask];
            ns[e->hash & nmask] = e;
            e = n;
        }
    }
    free(d->slots);
    d->slots = ns;
    d->mask = nmask;
}

void dict_set(dict_t *d, const char *key, void *val, void **old) {
    uint64_t h = hash_str(key);
    entry_t **p = find(d, key, h);
    if (*p) {
        if (old) *old = (*p)->val;
        (*p)->val = val;
        return;
    }
    if (old) *old = NULL;
    size_t klen = strlen(key);
    entry_t *e = xmalloc(sizeof *e + klen + 1);
    memcpy(e->key, key, klen + 1);
    e->hash = h;
    e->val = val;
    e->next = NULL;
    *p = e;
    if (++d->size > d->mask + 1) grow(d);
}

void *dict_del(dict_t *d, const char *key) {
    entry_t **p = find(d, key, hash_str(key));
    entry_t *e = *p;
    if (!e) return NULL;
    *p = e->next;
    void *v = e->val;
    free(e);
    d->size--;
    return v;
}

size_t dict_size(const dict_t *d) { return d->size; }

void dict_each(const dict_t *d, void (*fn)(const char *, void *, void *), void *arg) {
    for (size_t i = 0; i <= d->mask; i++)
        for (entry_t *e = d->slots[i]; e; e = e->next) fn(e->key, e->val, arg);
}
