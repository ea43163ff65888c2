/* status.c: /healthz (liveness and what the process holds) and /metrics (Prometheus
 * text). It sits at the top layer because it asks every subsystem for its figures. */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "hub.h"
#include "metrics.h"
#include "net.h"
#include "rules.h"
#include "server.h"
#include "store.h"

static int serve_healthz(http_req *r) {
    char body[320];
    snprintf(body, sizeof body,
             "{\"status\":\"%s\",\"version\":\"%s\",\"connections\":%llu,\"sockets\":%llu,"
             "\"rooms\":%zu,\"redis\":\"%s\"}",
             srv.shutting_down ? "stopping" : "ok", PARLEY_VERSION,
             (unsigned long long)metrics.connections, (unsigned long long)metrics.sockets,
             hub_rooms(), bus_state());
    http_header h = {"cache-control", "no-store"};
    return net_http_respond(r, srv.shutting_down ? 503 : 200, "application/json", &h, 1, body,
                            strlen(body));
}

static int serve_metrics(http_req *r) {
    char extra[2048], *busm = bus_metrics();
    snprintf(extra, sizeof extra,
             "# HELP parley_rules_limit_hits_total Pattern matches stopped by a limit.\n"
             "# TYPE parley_rules_limit_hits_total counter\n"
             "parley_rules_limit_hits_total %lu\n"
             "# HELP parley_storage_queue_depth Storage jobs submitted and not yet answered.\n"
             "# TYPE parley_storage_queue_depth gauge\n"
             "parley_storage_queue_depth %u\n%s",
             rules_limit_hits(), srv.store ? store_pending(srv.store) : 0u, busm);
    free(busm);
    char *text = metrics_render(extra);
    http_header h = {"cache-control", "no-store"};
    int rc = net_http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", &h, 1, text,
                              strlen(text));
    free(text);
    return rc;
}

void status_init(void) {
    net_add_route("GET", "/healthz", serve_healthz);
    net_add_route("HEAD", "/healthz", serve_healthz);
    net_add_route("GET", "/metrics", serve_metrics);
}
