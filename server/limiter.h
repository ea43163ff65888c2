/* limiter.h: sliding-window counters keyed by strings (authors, addresses, names), for
 * the limits that refuse at once: post floods, login failures. Every key expires two
 * windows after it was last touched, and a limiter never holds more than max_keys (the
 * least recently touched go first), so attacker-chosen keys cannot grow memory.
 * Loop thread only. */
#ifndef PARLEY_LIMITER_H
#define PARLEY_LIMITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct limiter limiter_t;

limiter_t *limiter_new(uint64_t window_ms, size_t max_keys);
void limiter_free(limiter_t *l);

/* Adds n to key's count at now_ms; returns the count over the last window after it
 * (the previous window weighted by how much of it still overlaps, as nginx and
 * Cloudflare estimate a sliding window from two fixed ones). */
double limiter_add(limiter_t *l, const char *key, double n, uint64_t now_ms);
/* The count over the last window, without adding. */
double limiter_count(limiter_t *l, const char *key, uint64_t now_ms);
void limiter_reset(limiter_t *l, const char *key);
/* Keys held now (expired ones are dropped as the limiter is used). */
size_t limiter_size(const limiter_t *l);

#endif
