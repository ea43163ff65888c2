/* flood.h: hard limits on posting, checked before a post reaches the rules or the
 * store. Past them a post is refused at once with rate_limited and nothing is stored;
 * the rules' rate rules keep holding the borderline below them. Counted per author and
 * per address, in the process or, when Redis is up, in Redis for every process. */
#ifndef PARLEY_FLOOD_H
#define PARLEY_FLOOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOOD_WINDOW_MS 60000

void flood_init(void);
void flood_shutdown(void);

/* Counts one post by author from ip_hash in this process's windows; true when it is
 * past a limit (it is then refused, and not counted further). */
bool flood_post_local(const char *author, const char *ip_hash, uint64_t now_ms);

/* The Redis counter keys for a post ("flood:a:..." and "flood:ip:..."): writes up to 2
 * into keys (each of keylen bytes) and returns how many. */
size_t flood_shared_keys(const char *author, const char *ip_hash, char (*keys)[200]);
/* True when shared counts (in the order of flood_shared_keys) are past a limit. */
bool flood_shared_over(const long *counts, size_t n);

/* Size of the local windows (for tests of the memory bound, /metrics). */
size_t flood_keys(void);

#endif
