/* metrics.c: Prometheus text exposition of the counters in metrics_t. */
#include "metrics.h"
#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

metrics_t metrics;

/* Upper bounds of the commit latency buckets, in microseconds. */
static const uint64_t commit_le_us[METRICS_COMMIT_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000};

static const char *const post_outcome[POST__COUNT] = {"published", "pending", "rejected",
                                                       "invalid"};

void metrics_commit(uint64_t us) {
    int i = 0;
    while (i < METRICS_COMMIT_BUCKETS && us > commit_le_us[i]) i++;
    atomic_fetch_add(&metrics.commit_bucket[i], 1);
    atomic_fetch_add(&metrics.commit_count, 1);
    atomic_fetch_add(&metrics.commit_sum_us, us);
}

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n) * 2;
        b->buf = xrealloc(b->buf, b->cap);
    }
}

#define COUNTER(name, help, value)                                                          \
    sb_printf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,     \
              (unsigned long long)(value))
#define GAUGE(name, help, value)                                                            \
    sb_printf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,       \
              (unsigned long long)(value))

char *metrics_render(const char *extra) {
    sbuf b = {xmalloc(4096), 0, 4096};
    if (!b.buf) abort();
    b.buf[0] = '\0';
    GAUGE("parley_connections", "Open WebSocket connections.", metrics.connections);
    COUNTER("parley_connections_total", "WebSocket connections accepted.",
            metrics.connections_total);
    COUNTER("parley_handshakes_refused_total", "WebSocket handshakes refused.",
            metrics.refused_handshakes);
    GAUGE("parley_sockets", "Open sockets of every kind, counted from accept.", metrics.sockets);
    COUNTER("parley_sockets_total", "Sockets accepted.", metrics.sockets_total);
    COUNTER("parley_sockets_refused_total", "Sockets closed at accept: over a cap.",
            metrics.sockets_refused);
    COUNTER("parley_page_views_total",
            "Embed page views answered by the counts endpoint (collapsed or deferred threads).",
            metrics.page_views);
    COUNTER("parley_websockets_opened_total",
            "WebSockets opened; against parley_page_views_total it shows what collapsing saves.",
            metrics.ws_opened);
    GAUGE("parley_rooms", "Articles with at least one subscriber.", metrics.rooms);
    COUNTER("parley_frames_in_total", "WebSocket frames received.", metrics.frames_in);
    COUNTER("parley_frames_out_total", "WebSocket frames sent.", metrics.frames_out);
    COUNTER("parley_ws_write_rounds_total",
            "Writes of WebSocket frames (each one send() of one or more frames).",
            metrics.ws_write_rounds);
    COUNTER("parley_ws_reads_on_total",
            "Reads of a WebSocket at the next loop turn after it received, to take the rest "
            "of a message without waiting for every other ready socket.",
            metrics.ws_reads_on);
    COUNTER("parley_bytes_in_total", "WebSocket payload bytes received.", metrics.bytes_in);
    COUNTER("parley_bytes_out_total", "WebSocket payload bytes sent.", metrics.bytes_out);
    COUNTER("parley_ws_writes_outside_writeable",
            "WebSocket writes made outside the writeable callback (a bug when not 0).",
            metrics.ws_writes_outside);
    COUNTER("parley_http_writes_outside_writeable",
            "HTTP response writes made outside the writeable callback (a bug when not 0).",
            metrics.http_writes_outside);
    COUNTER("parley_slow_readers_closed_total", "Readers closed for a full queue (1013).",
            metrics.slow_closed);
    COUNTER("parley_rate_limited_total", "Times a connection was throttled.",
            metrics.rate_limited);
    COUNTER("parley_storage_refused_total", "Requests refused because the storage queue was full.",
            metrics.storage_refused);
    COUNTER("parley_posts_flood_refused_total", "Posts refused past the hard posting limits.",
            metrics.flood_refused);

    sb_printf(&b, "# HELP parley_posts_total Posts by outcome.\n# TYPE parley_posts_total counter\n");
    for (int i = 0; i < POST__COUNT; i++)
        sb_printf(&b, "parley_posts_total{outcome=\"%s\"} %llu\n", post_outcome[i],
                  (unsigned long long)metrics.posts[i]);

    sb_printf(&b, "# HELP parley_errors_total Error replies by code.\n# TYPE parley_errors_total counter\n");
    for (int i = 1; i < PERR__COUNT; i++)
        sb_printf(&b, "parley_errors_total{code=\"%s\"} %llu\n", perr_code((perr_t)i),
                  (unsigned long long)metrics.errors[i]);

    sb_printf(&b, "# HELP parley_storage_commit_seconds Storage commit latency (one group).\n"
                  "# TYPE parley_storage_commit_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < METRICS_COMMIT_BUCKETS; i++) {
        cum += atomic_load(&metrics.commit_bucket[i]);
        sb_printf(&b, "parley_storage_commit_seconds_bucket{le=\"%g\"} %llu\n",
                  (double)commit_le_us[i] / 1e6, (unsigned long long)cum);
    }
    cum += atomic_load(&metrics.commit_bucket[METRICS_COMMIT_BUCKETS]);
    sb_printf(&b, "parley_storage_commit_seconds_bucket{le=\"+Inf\"} %llu\n",
              (unsigned long long)cum);
    sb_printf(&b, "parley_storage_commit_seconds_sum %g\n",
              (double)atomic_load(&metrics.commit_sum_us) / 1e6);
    sb_printf(&b, "parley_storage_commit_seconds_count %llu\n",
              (unsigned long long)atomic_load(&metrics.commit_count));
    COUNTER("parley_storage_commit_failures_total", "Storage commits that failed.",
            atomic_load(&metrics.commit_failures));
    if (extra) sb_printf(&b, "%s", extra);
    return b.buf;
}
