/* flood.c: hard posting limits per author and per address (see flood.h). */
#include "flood.h"

#include <stdio.h>

#include "limiter.h"
#include "metrics.h"
#include "server.h"

static limiter_t *by_author, *by_addr;

void flood_init(void) {
    by_author = limiter_new(FLOOD_WINDOW_MS, 200000);
    by_addr = limiter_new(FLOOD_WINDOW_MS, 200000);
}

void flood_shutdown(void) {
    limiter_free(by_author);
    limiter_free(by_addr);
    by_author = by_addr = NULL;
}

bool flood_post_local(const char *author, const char *ip_hash, uint64_t now) {
    long per_author = srv.cfg.author_posts_per_minute, per_addr = srv.cfg.address_posts_per_minute;
    if (per_author > 0 && limiter_count(by_author, author, now) >= (double)per_author)
        return true;
    if (per_addr > 0 && ip_hash[0] && limiter_count(by_addr, ip_hash, now) >= (double)per_addr)
        return true;
    limiter_add(by_author, author, 1, now);
    if (ip_hash[0]) limiter_add(by_addr, ip_hash, 1, now);
    return false;
}

size_t flood_shared_keys(const char *author, const char *ip_hash, char (*keys)[200]) {
    size_t n = 0;
    snprintf(keys[n++], 200, "flood:a:%s", author);
    if (ip_hash[0]) snprintf(keys[n++], 200, "flood:ip:%s", ip_hash);
    return n;
}

bool flood_shared_over(const long *counts, size_t n) {
    long per_author = srv.cfg.author_posts_per_minute, per_addr = srv.cfg.address_posts_per_minute;
    if (n > 0 && per_author > 0 && counts[0] > per_author) return true;
    if (n > 1 && per_addr > 0 && counts[1] > per_addr) return true;
    return false;
}

size_t flood_keys(void) {
    return (by_author ? limiter_size(by_author) : 0) + (by_addr ? limiter_size(by_addr) : 0);
}
