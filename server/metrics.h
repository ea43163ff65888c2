/* metrics.h: counters for /metrics (Prometheus text). Counters are written on the loop
 * thread, except the commit latency histogram, which the storage thread writes under
 * atomics. */
#ifndef PARLEY_METRICS_H
#define PARLEY_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "errors.h"

enum { POST_PUBLISHED = 0, POST_PENDING, POST_REJECTED, POST_INVALID, POST__COUNT };

#define METRICS_COMMIT_BUCKETS 12

typedef struct {
    uint64_t connections;        /* open WebSocket connections (gauge) */
    uint64_t connections_total;  /* accepted since start */
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t ws_write_rounds; /* writable callbacks that wrote frames (one write each) */
    uint64_t ws_reads_on;     /* reads at the next loop turn after a receive (net.c) */
    uint64_t posts[POST__COUNT];
    uint64_t errors[PERR__COUNT];
    uint64_t slow_closed;        /* readers closed with 1013 */
    uint64_t rate_limited;       /* times a connection was throttled */
    uint64_t flood_refused;
    uint64_t storage_refused;    /* requests refused: the storage queue was full */      /* posts refused past the hard posting limits */
    uint64_t refused_handshakes;
    uint64_t sockets;            /* every open socket, from accept on (gauge) */
    uint64_t sockets_total;      /* accepted since start */
    uint64_t sockets_refused;    /* closed at accept: over a cap */
    uint64_t rooms;              /* gauge */
    uint64_t page_views;         /* embed page views answered by /api/counts (view=1) */
    uint64_t ws_opened;          /* WebSockets opened, to set against page_views */
    uint64_t ws_writes_outside;  /* lws_write on a WebSocket outside its writeable callback:
                                  * a bug (issue 11, fix 8); stays 0 */
    uint64_t http_writes_outside;/* the same for HTTP responses */
    _Atomic uint64_t commit_bucket[METRICS_COMMIT_BUCKETS + 1]; /* last = +Inf */
    _Atomic uint64_t commit_count;
    _Atomic uint64_t commit_sum_us;
    _Atomic uint64_t commit_failures;
} metrics_t;

extern metrics_t metrics;

/* Records one storage commit that took us microseconds (storage thread). */
void metrics_commit(uint64_t us);

/* Renders all metrics as Prometheus text; returns a malloc'd string (caller frees).
 * extra is appended verbatim (other modules' lines), may be NULL. */
char *metrics_render(const char *extra);

#endif
