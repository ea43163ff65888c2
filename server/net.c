/* net.c: libwebsockets glue: the WebSocket connections, their send queues and rate
 * limits, and the HTTP side (static files, health, metrics, API routes). */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "comments.h"
#include "conn.h"
#include "dict.h"
#include "hub.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "rules.h"
#include "server.h"

#define MAX_ROUTES 32
#define MAX_POST_BODY (64 * 1024)
#define HTTP_CHUNK 16384
#define RX_BUFFER 1024   /* lws receive buffer per connection; frames are reassembled */

static uv_timer_t throttle_timer;
static bool throttle_timer_on;
static conn_t *throttled;            /* list through tnext */
static dict_t *http_reqs;            /* "id" -> http_req */
static uint64_t next_http_id;
static void (*ws_hook)(conn_t *, struct lws *);

static struct {
    char method[8];
    char path[128];
    http_handler fn;
} routes[MAX_ROUTES];
static int nroutes;

void net_add_route(const char *method, const char *path, http_handler h) {
    if (nroutes == MAX_ROUTES) abort();
    snprintf(routes[nroutes].method, sizeof routes[0].method, "%s", method);
    snprintf(routes[nroutes].path, sizeof routes[0].path, "%s", path);
    routes[nroutes++].fn = h;
}

void net_set_ws_hook(void (*hook)(conn_t *, struct lws *)) { ws_hook = hook; }

static void idkey(uint64_t id, char out[24]) { snprintf(out, 24, "%llu", (unsigned long long)id); }

conn_t *conn_by_id(uint64_t id) {
    char k[24];
    idkey(id, k);
    return srv.conns ? dict_get(srv.conns, k) : NULL;
}

http_req *net_http_by_id(uint64_t id) {
    char k[24];
    idkey(id, k);
    return http_reqs ? dict_get(http_reqs, k) : NULL;
}

/* ---- Client addresses ---- */

void net_client_addr(struct lws *wsi, char *out, size_t outlen) {
    out[0] = '\0';
    if (srv.cfg.trust_proxy) {
        char xff[256];
        int n = lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR);
        if (n > 0) {
            /* The proxy appends the address it saw: the last entry is the one to trust. */
            char *last = strrchr(xff, ',');
            last = last ? last + 1 : xff;
            while (*last == ' ') last++;
            snprintf(out, outlen, "%s", last);
            return;
        }
    }
    lws_get_peer_simple(wsi, out, outlen);
}

/* ---- WebSocket connections ---- */

void conn_wake(conn_t *c) {
    if (c->wsi) lws_callback_on_writable(c->wsi);
}

int conn_write_now(conn_t *c, msg_t *m) {
    /* lws_partial_buffered costs nothing; lws_send_pipe_choked would poll() the socket */
    if (!c->wsi || !c->established || lws_partial_buffered(c->wsi)) return -1;
    /* lws keeps what the kernel does not take and sends it when the socket drains */
    if (lws_write(c->wsi, msg_payload(m), m->len, LWS_WRITE_TEXT) < 0) {
        conn_close(c, 1011);
        return 0;
    }
    metrics.frames_out++;
    metrics.bytes_out += m->len;
    return 0;
}

static void queue_clear(conn_t *c) {
    while (c->qlen) {
        msg_unref(c->q[c->qhead]);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
    }
    c->qbytes = 0;
}

void conn_close(conn_t *c, int code) {
    if (c->close_code) return; /* > 0: closing soon; < 0: close frame sent */
    c->close_code = code;
    /* A slow reader loses its backlog: it resumes with `since` instead. */
    if (code == 1013) queue_clear(c);
    if (c->wsi) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
        lws_callback_on_writable(c->wsi);
    }
}

int conn_send_json(conn_t *c, json_t *obj) {
    msg_t *m = msg_take_json(obj);
    int rc = conn_enqueue(c, m);
    msg_unref(m);
    return rc;
}

void conn_error(conn_t *c, const json_t *id, perr_t code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    metrics.errors[code]++;
    char ex[96];
    clog_info(c->id, "error %s: %s", perr_code(code), log_excerpt(msg, ex, sizeof ex));
    json_t *e = json_pack("{s:s, s:s, s:s}", "type", "error", "code", perr_code(code),
                          "message", msg);
    if (id) json_object_set(e, "id", (json_t *)id);
    conn_send_json(c, e);
}

static void ip_count(const char *hash, int delta) {
    uintptr_t n = (uintptr_t)dict_get(srv.ip_counts, hash);
    n += (uintptr_t)(intptr_t)delta;
    if (n)
        dict_set(srv.ip_counts, hash, (void *)n, NULL);
    else
        dict_del(srv.ip_counts, hash);
}

/* ---- Rate limiting: a token bucket per connection ---- */

static void refill(conn_t *c, uint64_t now) {
    c->tokens += (double)(now - c->tokens_at_ms) * srv.cfg.client_rate / 1000.0;
    if (c->tokens > srv.cfg.client_burst) c->tokens = srv.cfg.client_burst;
    c->tokens_at_ms = now;
}

static void on_throttle_tick(uv_timer_t *t) {
    uint64_t now = uv_now(srv.loop);
    for (conn_t **p = &throttled; *p;) {
        conn_t *c = *p;
        refill(c, now);
        if (c->tokens >= 1) {
            *p = c->tnext;
            c->throttled = false;
            lws_rx_flow_control(c->wsi, 1);
        } else {
            p = &c->tnext;
        }
    }
    if (!throttled) {
        uv_timer_stop(t);
        throttle_timer_on = false;
    }
}

/* Spends a token for a message; a connection out of tokens is told once and not read
 * from until its allowance refills. The message itself is still handled. */
static void spend_token(conn_t *c) {
    refill(c, uv_now(srv.loop));
    c->tokens -= 1;
    if (c->tokens >= 0 || c->throttled) return;
    c->throttled = true;
    c->tnext = throttled;
    throttled = c;
    metrics.rate_limited++;
    conn_error(c, NULL, PERR_RATE_LIMITED, "Too many messages; slow down.");
    lws_rx_flow_control(c->wsi, 0);
    if (!throttle_timer_on) {
        uv_timer_start(&throttle_timer, on_throttle_tick, 50, 50);
        throttle_timer_on = true;
    }
}

static void unthrottle(conn_t *c) {
    for (conn_t **p = &throttled; *p; p = &(*p)->tnext)
        if (*p == c) {
            *p = c->tnext;
            break;
        }
    c->throttled = false;
}

bool net_own_origin(struct lws *wsi, const char *origin) {
    char host[256];
    if (srv.cfg.public_url && !strcmp(origin, srv.cfg.public_url)) return true;
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0) return false;
    const char *rest = !strncmp(origin, "http://", 7)    ? origin + 7
                       : !strncmp(origin, "https://", 8) ? origin + 8
                                                         : NULL;
    return rest && !strcmp(rest, host);
}

/* Checks a WebSocket handshake before the upgrade: path, Origin, connection caps.
 * Returns 0 to accept, else the HTTP status to refuse with. */
static int check_upgrade(struct lws *wsi) {
    char uri[256] = "", origin[256] = "", addr[128], iph[33];
    lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    if (strcmp(uri, "/ws") != 0) {
        log_info("net: refused WebSocket on path %.64s", uri);
        return 404;
    }
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) > 0 &&
        !config_origin_allowed(&srv.cfg, origin) && !net_own_origin(wsi, origin)) {
        log_info("net: refused WebSocket from origin %.80s", origin);
        return 403;
    }
    if ((long)metrics.connections >= srv.cfg.max_connections || srv.shutting_down) {
        log_warn("net: refused WebSocket: %llu connections open",
                 (unsigned long long)metrics.connections);
        return 503;
    }
    net_client_addr(wsi, addr, sizeof addr);
    server_hash_hex(addr, strlen(addr), iph);
    if (srv.cfg.max_connections_per_ip > 0 &&
        (long)(uintptr_t)dict_get(srv.ip_counts, iph) >= srv.cfg.max_connections_per_ip) {
        log_warn("net: refused WebSocket: address %.8s has %ld connections", iph,
                 srv.cfg.max_connections_per_ip);
        return 503;
    }
    return 0;
}

static int on_receive(conn_t *c, struct lws *wsi, const void *in, size_t len) {
    if (c->close_code) return 0;
    if (lws_frame_is_binary(wsi)) {
        clog_info(c->id, "net: binary frame: closing with 1003");
        lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                         (unsigned char *)"text frames only", 16);
        return -1;
    }
    if (c->rxlen + len > (size_t)srv.cfg.max_frame_bytes) {
        clog_info(c->id, "net: message over %ld bytes: closing with 1009",
                  srv.cfg.max_frame_bytes);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)"message too large", 17);
        return -1;
    }
    metrics.bytes_in += len;
    bool whole = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    if (whole && c->rxlen == 0) {
        metrics.frames_in++;
        spend_token(c);
        proto_handle(c, in, len);
        return 0;
    }
    char *nb = realloc(c->rx, c->rxlen + len + 1);
    if (!nb) return -1;
    c->rx = nb;
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += len;
    if (whole) {
        metrics.frames_in++;
        spend_token(c);
        proto_handle(c, c->rx, c->rxlen);
        free(c->rx);
        c->rx = NULL;
        c->rxlen = 0;
    }
    return 0;
}

static int on_writeable(conn_t *c, struct lws *wsi) {
    if (c->qlen) {
        msg_t *m = c->q[c->qhead];
        int n = lws_write(wsi, msg_payload(m), m->len, LWS_WRITE_TEXT);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
        c->qbytes -= m->len;
        metrics.frames_out++;
        metrics.bytes_out += m->len;
        msg_unref(m);
        if (n < 0) return -1;
        if (c->qlen || c->close_code) lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->close_code > 0) {
        const char *why = c->close_code == 1001   ? "server shutting down"
                          : c->close_code == 1013 ? "reader too slow: resume with since"
                                                  : "closing";
        /* The close frame is written here (returning -1 after lws_close_reason drops the
         * socket without it from this callback); the peer's answer ends the connection,
         * or the timeout does. */
        unsigned char buf[LWS_PRE + 128], *p = buf + LWS_PRE;
        size_t n = strlen(why);
        p[0] = (unsigned char)(c->close_code >> 8);
        p[1] = (unsigned char)(c->close_code & 0xff);
        memcpy(p + 2, why, n);
        clog_debug(c->id, "net: closing with %d", c->close_code);
        c->close_code = -c->close_code;
        /* 4 is lws's LWS_WRITE_CLOSE, which its header keeps private in 4.1 */
        if (lws_write(wsi, p, n + 2, (enum lws_write_protocol)4) < 0) return -1;
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, 2);
    }
    return 0;
}

static void on_closed(conn_t *c) {
    if (!c->id) return; /* refused during the handshake */
    char k[24];
    idkey(c->id, k);
    dict_del(srv.conns, k);
    if (c->throttled) unthrottle(c);
    hub_unsubscribe_all(c);
    queue_clear(c);
    free(c->q);
    free(c->rx);
    free(c->user_name);
    free(c->avatar);
    free(c->session);
    free(c->mod_name);
    free(c->mod_role);
    ip_count(c->ip_hash, -1);
    metrics.connections--;
    clog_debug(c->id, "net: closed");
    c->wsi = NULL;
    c->id = 0;
}

static int callback_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len) {
    conn_t *c = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
        char addr[128];
        net_client_addr(wsi, addr, sizeof addr);
        server_hash_hex(addr, strlen(addr), c->ip_hash);
        c->wsi = wsi;
        c->id = ++srv.next_conn_id;
        c->established = true;
        c->tokens = srv.cfg.client_burst;
        c->tokens_at_ms = uv_now(srv.loop);
        identity_init_conn(c);
        char k[24];
        idkey(c->id, k);
        dict_set(srv.conns, k, c, NULL);
        ip_count(c->ip_hash, +1);
        metrics.connections++;
        metrics.connections_total++;
        if (ws_hook) ws_hook(c, wsi);
        clog_debug(c->id, "net: open (%.8s…)", c->ip_hash);
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        return on_receive(c, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(c, wsi);
    case LWS_CALLBACK_CLOSED:
        on_closed(c);
        return 0;
    default:
        return 0;
    }
}

typedef struct {
    int code;
    bool any;
} close_all_arg;

static void close_one(const char *key, void *val, void *arg) {
    close_all_arg *a = arg;
    conn_close(val, a->code);
    a->any = true;
}

void net_close_all(int code) {
    close_all_arg a = {code, false};
    dict_each(srv.conns, close_one, &a);
}

/* ---- HTTP ---- */

static const char *security_headers[][2] = {
    {"x-content-type-options:", "nosniff"},
    {"referrer-policy:", "strict-origin-when-cross-origin"},
    {"permissions-policy:", "camera=(), microphone=(), geolocation=()"},
};

static const char *csp_for(const char *path) {
    if (!strncmp(path, "/console", 8))
        return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'self'; object-src 'none'";
    return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
           "connect-src 'self' ws: wss:; img-src 'self' data: https:; frame-ancestors 'self'; "
           "base-uri 'none'; form-action 'self'; object-src 'none'";
}

int net_http_respond(http_req *r, int status, const char *ctype, const http_header *hdrs,
                     int nhdrs, const char *body, size_t len) {
    unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start,
                                       *end = buf + sizeof buf - 1;
    struct lws *wsi = r->wsi;
    if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, len, &p, end)) return -1;
    for (size_t i = 0; i < sizeof security_headers / sizeof security_headers[0]; i++)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)security_headers[i][0],
                                        (const unsigned char *)security_headers[i][1],
                                        (int)strlen(security_headers[i][1]), &p, end))
            return -1;
    const char *csp = csp_for(r->path);
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"content-security-policy:",
                                    (const unsigned char *)csp, (int)strlen(csp), &p, end))
        return -1;
    for (int i = 0; i < nhdrs; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s:", hdrs[i].name);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)hdrs[i].value,
                                        (int)strlen(hdrs[i].value), &p, end))
            return -1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    free(r->resp);
    r->resp = NULL;
    r->resp_len = r->resp_off = 0;
    if (len && strcmp(r->method, "HEAD") != 0) {
        r->resp = malloc(len);
        if (!r->resp) return -1;
        memcpy(r->resp, body, len);
        r->resp_len = len;
        lws_callback_on_writable(wsi);
        return 0;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int respond_text(http_req *r, int status, const char *text) {
    return net_http_respond(r, status, "text/plain; charset=utf-8", NULL, 0, text,
                            strlen(text));
}

int net_http_arg(http_req *r, const char *name, char *out, size_t outlen) {
    size_t nlen = strlen(name);
    char frag[600];
    for (int i = 0; i < 64; i++) {
        int n = lws_hdr_copy_fragment(r->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) break;
        if ((size_t)n > nlen && !strncmp(frag, name, nlen) && frag[nlen] == '=') {
            snprintf(out, outlen, "%s", frag + nlen + 1);
            return (int)strlen(out);
        }
    }
    return -1;
}

int net_http_header(http_req *r, const char *name, char *out, size_t outlen) {
    int n = lws_hdr_custom_copy(r->wsi, out, (int)outlen, name, (int)strlen(name));
    if (n < 0) out[0] = '\0';
    return n;
}

static const struct {
    const char *ext, *type, *cache;
} mime[] = {
    {".html", "text/html; charset=utf-8", "no-cache"},
    {".js", "text/javascript; charset=utf-8", "public, max-age=300"},
    {".mjs", "text/javascript; charset=utf-8", "public, max-age=300"},
    {".css", "text/css; charset=utf-8", "public, max-age=300"},
    {".json", "application/json", "no-cache"},
    {".svg", "image/svg+xml", "public, max-age=86400"},
    {".png", "image/png", "public, max-age=86400"},
    {".jpg", "image/jpeg", "public, max-age=86400"},
    {".ico", "image/x-icon", "public, max-age=86400"},
    {".txt", "text/plain; charset=utf-8", "no-cache"},
    {".woff2", "font/woff2", "public, max-age=86400"},
};

/* Serves a file under web_root; no path can leave it. */
static int serve_static(http_req *r) {
    const char *path = r->path;
    if (strstr(path, "..") || strchr(path, '\\') || path[0] != '/')
        return respond_text(r, 404, "not found\n");
    if (!strcmp(path, "/")) {
        http_header loc = {"location", "/demo/"};
        return net_http_respond(r, 302, "text/plain; charset=utf-8", &loc, 1, "", 0);
    }
    char root[PATH_MAX], full[PATH_MAX + 600], real[PATH_MAX];
    if (!realpath(srv.cfg.web_root, root)) return respond_text(r, 404, "not found\n");
    snprintf(full, sizeof full, "%s%s", root, path);
    size_t fl = strlen(full);
    if (fl && full[fl - 1] == '/') snprintf(full + fl, sizeof full - fl, "index.html");
    struct stat sb;
    if (!realpath(full, real) || strncmp(real, root, strlen(root)) != 0 ||
        (real[strlen(root)] != '/' && real[strlen(root)] != '\0'))
        return respond_text(r, 404, "not found\n");
    if (stat(real, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* a directory without the slash: redirect so relative links work */
        char loc[600];
        snprintf(loc, sizeof loc, "%s/", path);
        http_header h = {"location", loc};
        return net_http_respond(r, 301, "text/plain; charset=utf-8", &h, 1, "", 0);
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > 16 * 1024 * 1024) {
        if (fd >= 0) close(fd);
        return respond_text(r, 404, "not found\n");
    }
    const char *type = "application/octet-stream", *cache = "no-cache";
    const char *dot = strrchr(real, '.');
    for (size_t i = 0; dot && i < sizeof mime / sizeof mime[0]; i++)
        if (!strcmp(dot, mime[i].ext)) {
            type = mime[i].type;
            cache = mime[i].cache;
        }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%lx\"", (unsigned long long)sb.st_size,
             (unsigned long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
    http_header h[6];
    int nh = 0;
    h[nh++] = (http_header){"etag", etag};
    h[nh++] = (http_header){"cache-control", cache};
    /* The widget and the counts script load cross-origin from host pages. */
    bool shared = !strcmp(path, "/embed.js") || !strcmp(path, "/count.js");
    if (shared) {
        h[nh++] = (http_header){"cross-origin-resource-policy", "cross-origin"};
        h[nh++] = (http_header){"vary", "Origin"};
        if (r->origin[0] && config_origin_allowed(&srv.cfg, r->origin))
            h[nh++] = (http_header){"access-control-allow-origin", r->origin};
    } else {
        h[nh++] = (http_header){"cross-origin-resource-policy", "same-origin"};
    }
    char inm[128];
    if (lws_hdr_copy(r->wsi, inm, sizeof inm, WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
        strcmp(inm, etag) == 0) {
        close(fd);
        return net_http_respond(r, 304, type, h, nh, "", 0);
    }
    char *data = malloc((size_t)sb.st_size + 1);
    ssize_t got = data ? read(fd, data, (size_t)sb.st_size) : -1;
    close(fd);
    if (got != sb.st_size) {
        free(data);
        return respond_text(r, 500, "read error\n");
    }
    int rc = net_http_respond(r, 200, type, h, nh, data, (size_t)got);
    free(data);
    return rc;
}

static int serve_healthz(http_req *r) {
    char body[256];
    snprintf(body, sizeof body,
             "{\"status\":\"%s\",\"version\":\"%s\",\"connections\":%llu,\"rooms\":%zu,"
             "\"redis\":\"%s\"}",
             srv.shutting_down ? "stopping" : "ok", PARLEY_VERSION,
             (unsigned long long)metrics.connections, hub_rooms(), bus_state());
    http_header h = {"cache-control", "no-store"};
    return net_http_respond(r, srv.shutting_down ? 503 : 200, "application/json", &h, 1, body,
                            strlen(body));
}

static int serve_metrics(http_req *r) {
    char extra[2048], *busm = bus_metrics();
    snprintf(extra, sizeof extra,
             "# HELP parley_rules_limit_hits_total Pattern matches stopped by a limit.\n"
             "# TYPE parley_rules_limit_hits_total counter\n"
             "parley_rules_limit_hits_total %lu\n%s",
             rules_limit_hits(), busm);
    free(busm);
    char *text = metrics_render(extra);
    http_header h = {"cache-control", "no-store"};
    int rc = net_http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", &h, 1, text,
                              strlen(text));
    free(text);
    return rc;
}

static void counts_done(json_t *counts, void *arg) {
    uint64_t id = (uint64_t)(uintptr_t)arg;
    http_req *r = net_http_by_id(id);
    if (!r) return;
    http_header h[3] = {{"cache-control", "public, max-age=10"}, {"vary", "Origin"}};
    int nh = 2;
    if (r->origin[0] && config_origin_allowed(&srv.cfg, r->origin))
        h[nh++] = (http_header){"access-control-allow-origin", r->origin};
    if (!counts) {
        net_http_respond(r, 503, "application/json", h, nh, "{\"error\":\"unavailable\"}", 23);
        return;
    }
    char *body = json_dumps(counts, JSON_COMPACT);
    net_http_respond(r, 200, "application/json", h, nh, body, strlen(body));
    free(body);
}

/* GET /api/counts?article=a&article=b -> {"a":3,"b":0} */
static int serve_counts(http_req *r) {
    const char *articles[50];
    char frag[600], *store[50];
    int n = 0;
    for (int i = 0; i < 64 && n < 50; i++) {
        int len = lws_hdr_copy_fragment(r->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len < 0) break;
        if (strncmp(frag, "article=", 8) || !proto_article_valid(frag + 8)) continue;
        store[n] = strdup(frag + 8);
        articles[n] = store[n];
        n++;
    }
    if (n == 0) {
        for (int i = 0; i < n; i++) free(store[i]);
        return net_http_respond(r, 400, "application/json", NULL, 0,
                                "{\"error\":\"give article=ID (1-50 times)\"}", 39);
    }
    comments_counts(articles, n, counts_done, (void *)(uintptr_t)r->id);
    for (int i = 0; i < n; i++) free(store[i]);
    return 1;
}

static int dispatch_http(http_req *r) {
    if (!strcmp(r->path, "/healthz")) return serve_healthz(r);
    if (!strcmp(r->path, "/metrics")) return serve_metrics(r);
    if (!strcmp(r->path, "/api/counts") && !strcmp(r->method, "GET")) return serve_counts(r);
    for (int i = 0; i < nroutes; i++)
        if (!strcmp(routes[i].path, r->path) && !strcmp(routes[i].method, r->method))
            return routes[i].fn(r);
    if (!strncmp(r->path, "/api/", 5)) return respond_text(r, 404, "no such endpoint\n");
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        return respond_text(r, 405, "method not allowed\n");
    return serve_static(r);
}

static void http_reset(http_req *r) {
    free(r->body);
    free(r->resp);
    r->body = r->resp = NULL;
    r->body_len = r->resp_len = r->resp_off = 0;
}

static void http_forget(http_req *r) {
    if (r->id) {
        char k[24];
        idkey(r->id, k);
        dict_del(http_reqs, k);
        r->id = 0;
    }
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len) {
    http_req *r = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
        int status = check_upgrade(wsi);
        if (!status) return 0;
        metrics.refused_handshakes++;
        /* answer with a status the client can read, then close */
        lws_return_http_status(wsi, (unsigned)status, NULL);
        return 1;
    }
    case LWS_CALLBACK_HTTP: {
        http_reset(r);
        http_forget(r);
        r->wsi = wsi;
        r->id = ++next_http_id;
        char k[24];
        idkey(r->id, k);
        dict_set(http_reqs, k, r, NULL);
        snprintf(r->path, sizeof r->path, "%s", (const char *)in);
        r->origin[0] = '\0';
        lws_hdr_copy(wsi, r->origin, sizeof r->origin, WSI_TOKEN_ORIGIN);
        if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
            snprintf(r->method, sizeof r->method, "POST");
        else if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
            snprintf(r->method, sizeof r->method, "HEAD");
        else if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
            snprintf(r->method, sizeof r->method, "GET");
        else
            snprintf(r->method, sizeof r->method, "OTHER");
        if (!strcmp(r->method, "POST")) {
            /* Bodies must say their length (lws does not take chunked uploads). */
            char clen[24] = "";
            int cn = lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH);
            if (cn <= 0 || cn > 9 || strspn(clen, "0123456789") != (size_t)cn) {
                /* absent or not a number: lws would take garbage for 0 and then still
                 * hand over the bytes that follow */
                int rc = respond_text(r, 411, "content-length required\n");
                /* answered: bytes that follow drop the connection (LWS_CALLBACK_HTTP_BODY);
                 * lws 4.1 hands them over from a buffer it has freed */
                snprintf(r->method, sizeof r->method, "REFUSED");
                return rc < 0 ? -1 : 0;
            }
            return 0; /* wait for the body */
        }
        int rc = dispatch_http(r);
        return rc < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
        /* Only a POST with a length waits for its body; any other request was answered
         * already. lws 4.1 can then call BODY_COMPLETION for ever from its rx buffer (a
         * pipelined GET with a Content-Length), or pass `in` pointing into a buffer it
         * has freed (a pipelined POST without one): drop such a connection before
         * touching `in` (tests/fuzz/regress/fuzz_http/). */
        if (strcmp(r->method, "POST")) return -1;
        if (r->body_len + len > MAX_POST_BODY) {
            respond_text(r, 413, "request body too large\n");
            return -1;
        }
        r->body = realloc(r->body, r->body_len + len + 1);
        if (len) memcpy(r->body + r->body_len, in, len);
        r->body_len += len;
        r->body[r->body_len] = '\0';
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        if (strcmp(r->method, "POST")) return -1; /* see LWS_CALLBACK_HTTP_BODY */
        if (!r->body) r->body = calloc(1, 1);
        int rc = dispatch_http(r);
        return rc < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!r->resp) return 0;
        size_t left = r->resp_len - r->resp_off;
        size_t n = left > HTTP_CHUNK ? HTTP_CHUNK : left;
        unsigned char *buf = malloc(LWS_PRE + n);
        memcpy(buf + LWS_PRE, r->resp + r->resp_off, n);
        int w = lws_write(wsi, buf + LWS_PRE, n,
                          n == left ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
        free(buf);
        if (w < 0) return -1;
        r->resp_off += n;
        if (r->resp_off < r->resp_len) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        http_reset(r);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        /* lws may call these without per-session data (an upgraded or aborted socket) */
        if (r) {
            http_forget(r);
            http_reset(r);
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ---- Context ---- */

static struct lws_protocols protocols[] = {
    {"http", callback_http, sizeof(http_req), 0, 0, NULL, 0},
    {"parley.v1", callback_ws, sizeof(conn_t), RX_BUFFER, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

/* Idle connections are pinged after a minute and dropped when silent for two. */
static const lws_retry_bo_t retry = {
    .secs_since_valid_ping = 60,
    .secs_since_valid_hangup = 120,
};

static void lws_log_emit(int level, const char *line) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    log_msg(level == LLL_ERR ? LOG_ERR : LOG_WARN, 0, "lws: %.*s", (int)n, line);
}

/* lws watches SIGINT, SIGTERM and SIGHUP on a libuv loop and would destroy the context
 * itself; main.c handles them (clean shutdown, reload), so lws is told to do nothing. */
static void lws_signal(void *handle, int signum) { (void)handle, (void)signum; }

int net_start(uv_loop_t *loop) {
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    http_reqs = dict_new();
    uv_timer_init(loop, &throttle_timer);
    void *foreign[1] = {loop};
    info.port = srv.cfg.listen_port;
    info.iface = srv.cfg.listen_host;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (strchr(srv.cfg.listen_host, ':')) info.options &= ~LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = foreign;
    info.pcontext = &srv.ctx;
    info.retry_and_idle_policy = &retry;
    info.signal_cb = lws_signal;
    info.timeout_secs = 20;
    info.max_http_header_pool = 256;
    info.pt_serv_buf_size = 32768;
    info.vhost_name = "parley";
    info.server_string = "parley";
    srv.ctx = lws_create_context(&info);
    if (srv.ctx && !lws_get_vhost_by_name(srv.ctx, "parley")) {
        /* lws can make a context whose vhost failed to bind; the caller exits */
        srv.ctx = NULL;
    }
    if (!srv.ctx) {
        log_err("net: cannot listen on %s:%d", srv.cfg.listen_host, srv.cfg.listen_port);
        return -1;
    }
    return 0;
}

void net_stop(void) {
    if (srv.ctx) lws_context_destroy(srv.ctx);
    srv.ctx = NULL;
    if (!http_reqs) return; /* stopped already: the second call only destroys again */
    if (throttle_timer_on) uv_timer_stop(&throttle_timer);
    uv_close((uv_handle_t *)&throttle_timer, NULL);
    dict_free(http_reqs, NULL);
    http_reqs = NULL;
}
