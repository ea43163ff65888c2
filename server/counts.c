/* counts.c: the counts endpoint (see counts.h). */
#include "counts.h"
#include "alloc.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "comments.h"
#include "metrics.h"
#include "net.h"
#include "server.h"
#include "text.h"

#define MAX_ARTICLES 50

/* Answers a counts request: a short public cache so a CDN absorbs the page views, and an
 * ETag of the body so a revalidation costs a 304. */
static void counts_done(json_t *counts, void *arg) {
    uint64_t id = (uint64_t)(uintptr_t)arg;
    http_req *r = net_http_by_id(id);
    if (!r) return;
    char ver[ASSETS_VERSION_LEN + 1], etag[ASSETS_VERSION_LEN + 3], inm[128];
    http_header h[4] = {{"cache-control", "public, max-age=10, stale-while-revalidate=30"},
                        {"vary", "Origin"}};
    int nh = 2;
    if (r->origin[0] && config_origin_allowed(&srv.cfg, r->origin))
        h[nh++] = (http_header){"access-control-allow-origin", r->origin};
    if (!counts) {
        h[0].value = "no-store";
        net_http_respond(r, 503, "application/json", h, nh, "{\"error\":\"unavailable\"}", 23);
        return;
    }
    char *body = json_dumps(counts, JSON_COMPACT);
    assets_version(body, strlen(body), ver);
    snprintf(etag, sizeof etag, "\"%s\"", ver);
    h[nh++] = (http_header){"etag", etag};
    if (net_http_if_none_match(r, inm, sizeof inm) > 0 && !strcmp(inm, etag))
        net_http_respond(r, 304, "application/json", h, nh, "", 0);
    else
        net_http_respond(r, 200, "application/json", h, nh, body, strlen(body));
    free(body);
}

typedef struct {
    char *ids[MAX_ARTICLES];
    int n;
} article_list;

static int add_article(const char *value, void *arg) {
    article_list *l = arg;
    if (text_article_valid(value)) l->ids[l->n++] = xstrdup(value);
    return l->n == MAX_ARTICLES;
}

static int serve_counts(http_req *r) {
    article_list l = {.n = 0};
    net_http_arg_each(r, "article", add_article, &l);
    if (l.n == 0)
        return net_http_respond(r, 400, "application/json", NULL, 0,
                                "{\"error\":\"give article=ID (1-50 times)\"}", 39);
    /* the embed loader marks its request: one page view that opened no WebSocket yet */
    char view[8];
    if (net_http_arg(r, "view", view, sizeof view) > 0) metrics.page_views++;
    comments_counts((const char *const *)l.ids, l.n, counts_done, (void *)(uintptr_t)r->id);
    for (int i = 0; i < l.n; i++) free(l.ids[i]);
    return 1;
}

void counts_init(void) { net_add_route("GET", "/api/counts", serve_counts); }
