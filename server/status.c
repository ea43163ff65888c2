/* status.c: /healthz (liveness and what the process holds) and /metrics (Prometheus
 * text). It sits at the top layer because it asks every subsystem for its figures. */
#include "status.h"
#include "alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "hub.h"
#include "metrics.h"
#include "net.h"
#include "outbox.h"
#include "rule_quality.h"
#include "rules.h"
#include "server.h"
#include "store.h"

static int serve_healthz(http_req *r) {
    char body[320];
    snprintf(body, sizeof body,
             "{\"status\":\"%s\",\"version\":\"%s\",\"connections\":%llu,\"sockets\":%llu,"
             "\"rooms\":%zu,\"redis\":\"%s\",\"store\":\"%s\"}",
             srv.shutting_down ? "stopping" : "ok", PARLEY_VERSION,
             (unsigned long long)metrics.connections, (unsigned long long)metrics.sockets,
             hub_rooms(), bus_state(), store_up(srv.store) ? "up" : "down");
    http_header h = {"cache-control", "no-store"};
    return net_http_respond(r, srv.shutting_down ? 503 : 200, "application/json", &h, 1, body,
                            strlen(body));
}

/* /metrics: this process's counters, then the per-rule quality read from the store
 * (rule_quality_fetch), answered when that read is back. */
static void metrics_done(char *rq, void *arg) {
    http_req *r = net_http_by_id((uint64_t)(uintptr_t)arg);
    if (!r) {
        free(rq);
        return;
    }
    char head[1024], *busm = bus_metrics();
    snprintf(head, sizeof head,
             "# HELP parley_rules_limit_hits_total Pattern matches stopped by a limit.\n"
             "# TYPE parley_rules_limit_hits_total counter\n"
             "parley_rules_limit_hits_total %lu\n"
             "# HELP parley_storage_queue_depth Storage jobs submitted and not yet answered.\n"
             "# TYPE parley_storage_queue_depth gauge\n"
             "parley_storage_queue_depth %u\n"
             "# HELP parley_store_up Whether the database answers (0 while PostgreSQL is down).\n"
             "# TYPE parley_store_up gauge\n"
             "parley_store_up %d\n",
             rules_limit_hits(), srv.store ? store_pending(srv.store) : 0u,
             store_up(srv.store) ? 1 : 0);
    char *outm = outbox_metrics();
    size_t n = strlen(head) + strlen(busm) + strlen(outm) + (rq ? strlen(rq) : 0) + 1;
    char *extra = xmalloc(n);
    snprintf(extra, n, "%s%s%s%s", head, busm, outm, rq ? rq : "");
    free(busm);
    free(outm);
    free(rq);
    char *text = metrics_render(extra);
    free(extra);
    http_header h = {"cache-control", "no-store"};
    net_http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", &h, 1, text,
                     strlen(text));
    free(text);
}

static int serve_metrics(http_req *r) {
    rule_quality_fetch(metrics_done, (void *)(uintptr_t)r->id);
    return 1;
}

void status_init(void) {
    net_add_route("GET", "/healthz", serve_healthz);
    net_add_route("HEAD", "/healthz", serve_healthz);
    net_add_route("GET", "/metrics", serve_metrics);
}
