/* catchup.h: the service that reads, for a room, the comments newer than its readers
 * have (hub.h, catch-up by id). The wiring registers catchup_fetch with hub_set_fetch. */
#ifndef PARLEY_CATCHUP_H
#define PARLEY_CATCHUP_H

#include <stdint.h>

/* Reads article's published comments above after_id on the store's thread (a read job)
 * and hands them to hub_fetched() on the loop. */
void catchup_fetch(const char *article, int64_t after_id);

#endif
