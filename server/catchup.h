/* catchup.h: the service that reads, for a room, the comments newer than its readers
 * have (hub.h, catch-up by id). The wiring registers catchup_fetch with hub_set_fetch. */
#ifndef PARLEY_CATCHUP_H
#define PARLEY_CATCHUP_H

#include <stddef.h>
#include <stdint.h>

/* Reads, in one read job, each article's published comments above its after_ids[i]
 * (copied: the arrays need not outlive the call) and hands each article's to
 * hub_fetched() on the loop (hub_fetch_fn). */
void catchup_fetch(const char *const *articles, const int64_t *after_ids, size_t n);

#endif
