/* net.c: libwebsockets glue: the WebSocket connections, their send queues and rate
 * limits, and the HTTP side (static files, health, metrics, API routes). */
#include "net.h"
#include "alloc.h"
#include "text.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assets.h"
#include "dict.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

#define MAX_ROUTES 64
#define MAX_POST_BODY (64 * 1024)
#define HTTP_CHUNK 16384
#define RX_BUFFER 1024   /* lws receive buffer per connection; frames are reassembled */

static uv_timer_t throttle_timer;
static bool throttle_timer_on;
/* The transport half of a WebSocket connection: lws's per-session data begins with it
 * and the conn layer's user area (handlers->user_size bytes) follows. */
typedef struct ws_conn {
    struct lws *wsi;
    bool open;               /* ESTABLISHED seen: the user area is live */
    char ip_hash[33];
    /* fragments of the message being received */
    char *rx;
    size_t rxlen;
    /* token bucket for incoming messages */
    double tokens;
    uint64_t tokens_at_ms;
    bool throttled;
    bool closing;            /* net_ws_close set the close frame: end it at LWS_CALLBACK_TIMER */
    struct ws_conn *tnext;   /* in the throttled list */
    _Alignas(max_align_t) unsigned char user[];
} ws_conn;

static const net_ws_handlers *ws;    /* the conn layer's, set by main */
/* The socket whose writeable callback is running (lws's rule: write only from there);
 * a write to any other counts in metrics.*_writes_outside. */
static struct lws *writeable_wsi;
static ws_conn *throttled;           /* list through tnext */
static dict_t *http_reqs;            /* "id" -> http_req */
static uint64_t next_http_id;
static dict_t *sock_counts;          /* address hash -> (uintptr_t) sockets open */
static long max_sockets;             /* every socket, from accept on */

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

void net_set_ws_handlers(const net_ws_handlers *h) { ws = h; }

static void idkey(uint64_t id, char out[24]) { snprintf(out, 24, "%llu", (unsigned long long)id); }

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

/* ---- WebSocket transport (the conn layer's ops) ---- */

_Static_assert(NET_WS_PRE >= LWS_PRE, "NET_WS_PRE must cover LWS_PRE");

void net_ws_wake(void *t) {
    if (t) lws_callback_on_writable(t);
}

bool net_ws_idle(void *t) {
    /* lws_partial_buffered costs nothing; lws_send_pipe_choked would poll() the socket */
    return t && !lws_partial_buffered(t);
}

/* Every lws_write of net goes through here: one made outside the socket's writeable
 * callback (against lws's rule) is counted, so /metrics shows it. Returns lws_write's. */
static int net_lws_write(struct lws *wsi, unsigned char *buf, size_t len,
                         enum lws_write_protocol wp) {
    if (wsi != writeable_wsi) {
        if (wp == LWS_WRITE_TEXT)
            metrics.ws_writes_outside++;
        else
            metrics.http_writes_outside++;
    }
    return lws_write(wsi, buf, len, wp);
}

int net_ws_write(void *t, unsigned char *payload, size_t len) {
    /* lws keeps what the kernel does not take and sends it when the socket drains */
    return net_lws_write(t, payload, len, LWS_WRITE_TEXT) < 0 ? -1 : 0;
}

void net_ws_close(void *t, int code, const char *reason) {
    /* lws keeps the code and reason and writes the close frame itself once the connection
     * is closed through it. That close cannot be a -1 from the writeable callback: lws
     * 4.1 takes that for a failed write and drops the socket without the frame. It is a
     * -1 from the connection's own timer callback, at once (ws_conn.closing). */
    size_t n = strlen(reason);
    if (n > 120) n = 120; /* a close frame's payload is at most 125 bytes */
    if (t != writeable_wsi) metrics.ws_writes_outside++;
    lws_close_reason(t, (enum lws_close_status)code, (unsigned char *)reason, n);
    ws_conn *c = lws_wsi_user(t);
    c->closing = true;
    lws_set_timer_usecs(t, 1);
}

void net_ws_closing(void *t, int seconds) {
    if (t) lws_set_timeout(t, PENDING_TIMEOUT_USER_OK, seconds);
}

int net_ws_header(void *t, const char *name, char *out, size_t outlen) {
    /* headers lws knows are tokens; the others are custom */
    static const struct {
        const char *name;
        enum lws_token_indexes tok;
    } known[] = {{"cookie:", WSI_TOKEN_HTTP_COOKIE}, {"origin:", WSI_TOKEN_ORIGIN},
                 {"host:", WSI_TOKEN_HOST}, {"user-agent:", WSI_TOKEN_HTTP_USER_AGENT}};
    int n = -1;
    size_t i;
    for (i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, known[i].name)) break;
    if (i < sizeof known / sizeof known[0])
        n = lws_hdr_copy(t, out, (int)outlen, known[i].tok);
    else
        n = lws_hdr_custom_copy(t, out, (int)outlen, name, (int)strlen(name));
    if (n <= 0) {
        out[0] = '\0';
        return -1;
    }
    return n;
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

static void refill(ws_conn *c, uint64_t now) {
    c->tokens += (double)(now - c->tokens_at_ms) * srv.cfg.client_rate / 1000.0;
    if (c->tokens > srv.cfg.client_burst) c->tokens = srv.cfg.client_burst;
    c->tokens_at_ms = now;
}

static void on_throttle_tick(uv_timer_t *t) {
    uint64_t now = mono_ms();
    for (ws_conn **p = &throttled; *p;) {
        ws_conn *c = *p;
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
static void spend_token(ws_conn *c) {
    refill(c, mono_ms());
    c->tokens -= 1;
    if (c->tokens >= 0 || c->throttled) return;
    c->throttled = true;
    c->tnext = throttled;
    throttled = c;
    metrics.rate_limited++;
    if (c->open) ws->throttled(c->user);
    lws_rx_flow_control(c->wsi, 0);
    if (!throttle_timer_on) {
        uv_timer_start(&throttle_timer, on_throttle_tick, 50, 50);
        throttle_timer_on = true;
    }
}

static void unthrottle(ws_conn *c) {
    for (ws_conn **p = &throttled; *p; p = &(*p)->tnext)
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

/* ---- Sockets from accept on ----
 *
 * Every accepted socket is counted, whatever it turns into (HTTP, WebSocket, or nothing
 * at all), so that no kind of idle socket can fill the process's descriptors. A socket
 * past the total cap, or past the per-address cap, is closed at accept. Keeping the total
 * below the descriptor limit also keeps accept() from failing with EMFILE, which lws would
 * otherwise retry (and log) in a tight loop. Each counted wsi carries its address hash as
 * its opaque user data (owned by the wsi; freed on LWS_CALLBACK_WSI_DESTROY). */

static long sock_count_of(const char *iph) {
    return (long)(uintptr_t)dict_get(sock_counts, iph);
}

static void sock_count_add(const char *iph, int delta) {
    if (!sock_counts) return; /* lws frees its last sockets after net_stop() */
    uintptr_t n = (uintptr_t)dict_get(sock_counts, iph) + (uintptr_t)(intptr_t)delta;
    if (n)
        dict_set(sock_counts, iph, (void *)n, NULL);
    else
        dict_del(sock_counts, iph);
}

static void fd_addr_hash(int fd, char iph[33]) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char addr[INET6_ADDRSTRLEN] = "unknown";
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
    }
    server_hash_hex(addr, strlen(addr), iph);
}

/* Whether a socket just accepted may stay: 0 yes, else 1 (lws closes it). */
static int sock_filter(int fd) {
    if (metrics.sockets >= (uint64_t)max_sockets || srv.shutting_down) {
        metrics.sockets_refused++;
        log_warn("net: refused a socket at accept: %llu sockets open (limit %ld)",
                 (unsigned long long)metrics.sockets, max_sockets);
        return 1;
    }
    /* Behind a proxy every socket comes from the proxy: the per-address caps then apply
     * to WebSocket handshakes (X-Forwarded-For), not to sockets. */
    if (srv.cfg.trust_proxy || srv.cfg.max_sockets_per_ip <= 0) return 0;
    char iph[33];
    fd_addr_hash(fd, iph);
    if (sock_count_of(iph) >= srv.cfg.max_sockets_per_ip) {
        metrics.sockets_refused++;
        log_warn("net: refused a socket at accept: address %.8s has %ld sockets", iph,
                 srv.cfg.max_sockets_per_ip);
        return 1;
    }
    return 0;
}

static void sock_opened(struct lws *wsi) {
    char *iph = xmalloc(33);
    fd_addr_hash((int)lws_get_socket_fd(wsi), iph);
    lws_set_opaque_user_data(wsi, iph);
    sock_count_add(iph, +1);
    metrics.sockets++;
    metrics.sockets_total++;
}

static void sock_closed(struct lws *wsi) {
    char *iph = lws_get_opaque_user_data(wsi);
    if (!iph) return;
    lws_set_opaque_user_data(wsi, NULL);
    sock_count_add(iph, -1);
    metrics.sockets--;
    free(iph);
}

/* ---- Request size ----
 *
 * lws keeps a request's headers in one buffer (max_http_header_data) and drops the
 * socket without a word when they do not fit. The buffer is made larger than what we
 * accept, so that a request between what browsers send (16 KiB of headers, e.g. a host
 * site's big cookies) and the buffer gets a status it can read: 414 for a long URI, 431
 * for large headers. */
#define HEADER_BUFFER 65000
#define MAX_URI_BYTES 8192
#define MAX_HEADER_BYTES 16384

/* 0 when the request's size is acceptable, else the status to answer with. */
static int request_size_status(struct lws *wsi) {
    size_t uri = 0, all = 0;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        int n = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        if (n <= 0) continue;
        all += (size_t)n;
        if (t == WSI_TOKEN_GET_URI || t == WSI_TOKEN_POST_URI || t == WSI_TOKEN_HEAD_URI ||
            t == WSI_TOKEN_OPTIONS_URI || t == WSI_TOKEN_PUT_URI || t == WSI_TOKEN_PATCH_URI ||
            t == WSI_TOKEN_DELETE_URI || t == WSI_TOKEN_HTTP_URI_ARGS)
            uri += (size_t)n;
    }
    if (uri > MAX_URI_BYTES) return 414;
    if (all > MAX_HEADER_BYTES) return 431;
    return 0;
}

/* True when the handshake asks for the parley.v1 subprotocol (among others). */
static bool wants_parley_v1(struct lws *wsi) {
    char list[256];
    int n = lws_hdr_copy(wsi, list, sizeof list, WSI_TOKEN_PROTOCOL);
    if (n <= 0) return false;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t') tok++;
        size_t l = strlen(tok);
        while (l && (tok[l - 1] == ' ' || tok[l - 1] == '\t')) tok[--l] = '\0';
        if (!strcmp(tok, "parley.v1")) return true;
    }
    return false;
}

/* Checks a WebSocket handshake before the upgrade: path, Origin, connection caps.
 * Returns 0 to accept, else the HTTP status to refuse with. */
static int check_upgrade(struct lws *wsi) {
    char uri[256] = "", origin[256] = "", addr[128], iph[33];
    int big = request_size_status(wsi);
    if (big) return big;
    lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    if (strcmp(uri, "/ws") != 0) {
        log_info("net: refused WebSocket on path %.64s", uri);
        return 404;
    }
    if (!wants_parley_v1(wsi)) {
        log_info("net: refused WebSocket without the parley.v1 subprotocol");
        return 403;
    }
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) > 0 &&
        !config_origin_allowed(&srv.cfg, origin) && !net_own_origin(wsi, origin)) {
        log_warn("net: refused WebSocket from origin %.80s: not listed in server.origins "
                 "(add it there in %s to embed the thread on that site)",
                 origin, srv.cfg.file);
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

static int on_receive(ws_conn *c, struct lws *wsi, const void *in, size_t len) {
    if (!c->open) return 0;
    if (lws_frame_is_binary(wsi)) {
        log_info("net: binary frame: closing with 1003");
        lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                         (unsigned char *)"text frames only", 16);
        return -1;
    }
    if (c->rxlen + len > (size_t)srv.cfg.max_frame_bytes) {
        log_info("net: message over %ld bytes: closing with 1009", srv.cfg.max_frame_bytes);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)"message too large", 17);
        return -1;
    }
    metrics.bytes_in += len;
    bool whole = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    if (whole && c->rxlen == 0) {
        metrics.frames_in++;
        spend_token(c);
        ws->message(c->user, in, len);
        return 0;
    }
    char *nb = xrealloc(c->rx, c->rxlen + len + 1);
    c->rx = nb;
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += len;
    if (whole) {
        metrics.frames_in++;
        spend_token(c);
        ws->message(c->user, c->rx, c->rxlen);
        free(c->rx);
        c->rx = NULL;
        c->rxlen = 0;
    }
    return 0;
}

static void on_closed(ws_conn *c) {
    if (!c->open) return; /* refused during the handshake */
    c->open = false;
    if (c->throttled) unthrottle(c);
    ws->closed(c->user);
    free(c->rx);
    c->rx = NULL;
    ip_count(c->ip_hash, -1);
    c->wsi = NULL;
}

static int callback_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len) {
    ws_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
        char addr[128];
        net_client_addr(wsi, addr, sizeof addr);
        server_hash_hex(addr, strlen(addr), c->ip_hash);
        c->wsi = wsi;
        c->open = true;
        c->tokens = srv.cfg.client_burst;
        c->tokens_at_ms = mono_ms();
        ip_count(c->ip_hash, +1);
        ws->open(c->user, wsi, c->ip_hash);
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        return on_receive(c, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        if (!c->open) return 0;
        writeable_wsi = wsi;
        int rc = ws->writable(c->user);
        writeable_wsi = NULL;
        return rc;
    }
    case LWS_CALLBACK_TIMER:
        return c && c->closing ? -1 : 0; /* net_ws_close */
    case LWS_CALLBACK_CLOSED:
        on_closed(c);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        sock_closed(wsi);
        return 0;
    default:
        return 0;
    }
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
    if (lws_finalize_http_header(wsi, &p, end)) return -1;
    /* Headers, body and the end of the transaction are all written from the writable
     * callback, where lws can act on its answer (close or keep alive); an answer given
     * later, from a storage callback, would otherwise have nobody to close the socket
     * when lws says so. */
    free(r->hdr);
    r->hdr_len = (size_t)(p - start);
    r->hdr = xmalloc(LWS_PRE + r->hdr_len);
    memcpy(r->hdr + LWS_PRE, start, r->hdr_len);
    free(r->resp);
    r->resp = NULL;
    r->resp_len = r->resp_off = 0;
    if (len && strcmp(r->method, "HEAD") != 0) {
        r->resp = xmalloc(len);
        memcpy(r->resp, body, len);
        r->resp_len = len;
    }
    r->finish = true;
    lws_callback_on_writable(wsi);
    return 0;
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

/* ---- Static files, read once ----
 *
 * A file is read from disk the first time it is asked for and kept, ready to send (the
 * loader with the widget's version written in) with its content hash; later requests
 * cost one stat() to see that it has not changed, never a read on the loop. The cache is
 * bounded (STATIC_CACHE_MAX bytes): past it, files are read per request. */
#define STATIC_CACHE_MAX (64 * 1024 * 1024)

typedef struct {
    char *data;          /* owned */
    size_t len;
    off_t size;          /* of the file when read */
    struct timespec mtime;
    char dep[ASSETS_VERSION_LEN + 1]; /* the widget's version written into the loader */
    char ver[ASSETS_VERSION_LEN + 1]; /* content hash (ETag, ?v=) */
    bool cached;         /* in static_cache (else freed after the response) */
} static_file;

static dict_t *static_cache;   /* real path -> static_file, owned */
static size_t static_bytes;
static static_file *static_last; /* an uncached file being served; freed next time */

static void static_free(void *p) {
    static_file *f = p;
    if (!f) return;
    free(f->data);
    free(f);
}

/* The file at real (as stat'd into sb), read and prepared, or NULL on a read error. The
 * result belongs to the cache (or, past its bound, lives until the next call). */
static static_file *static_get(const char *real, const struct stat *sb, const char *dep) {
    static_file *f = static_cache ? dict_get(static_cache, real) : NULL;
    if (f && f->size == sb->st_size && f->mtime.tv_sec == sb->st_mtim.tv_sec &&
        f->mtime.tv_nsec == sb->st_mtim.tv_nsec && !strcmp(f->dep, dep))
        return f;
    if (f) {
        static_bytes -= f->len;
        static_free(dict_del(static_cache, real));
    }
    static_free(static_last);
    static_last = NULL;
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    char *data = xmalloc((size_t)sb->st_size + 1);
    ssize_t got = read(fd, data, (size_t)sb->st_size);
    close(fd);
    if (got != sb->st_size) {
        free(data);
        return NULL;
    }
    size_t len = (size_t)got;
    if (dep[0]) {
        char *b2 = assets_replace(data, len, ASSETS_WIDGET_PLACEHOLDER, dep, &len);
        if (b2) {
            free(data);
            data = b2;
        }
    }
    f = xcalloc(1, sizeof *f);
    f->data = data;
    f->len = len;
    f->size = sb->st_size;
    f->mtime = sb->st_mtim;
    snprintf(f->dep, sizeof f->dep, "%s", dep);
    assets_version(data, len, f->ver);
    if (static_cache && static_bytes + len <= STATIC_CACHE_MAX) {
        dict_set(static_cache, real, f, NULL);
        static_bytes += len;
        f->cached = true;
    } else {
        static_last = f;
    }
    return f;
}

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
    if (stat(real, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > 16 * 1024 * 1024)
        return respond_text(r, 404, "not found\n");
    const char *type = "application/octet-stream", *cache = "no-cache";
    const char *dot = strrchr(real, '.');
    for (size_t i = 0; dot && i < sizeof mime / sizeof mime[0]; i++)
        if (!strcmp(dot, mime[i].ext)) {
            type = mime[i].type;
            cache = mime[i].cache;
        }
    /* The loader names the widget's current version; a file asked for with ?v= equal to
     * its own version is cached for a year (assets.h). */
    char wv[ASSETS_VERSION_LEN + 1] = "";
    if (!strcmp(path, "/embed.js")) {
        char wpath[PATH_MAX + 16];
        snprintf(wpath, sizeof wpath, "%s/widget.js", root);
        if (assets_file_version(wpath, wv)) wv[0] = '\0';
    }
    static_file *f = static_get(real, &sb, wv);
    if (!f) return respond_text(r, 500, "read error\n");
    const char *data = f->data;
    size_t blen = f->len;
    char etag[ASSETS_VERSION_LEN + 3], v[40];
    const char *ver = f->ver;
    snprintf(etag, sizeof etag, "\"%s\"", ver);
    if (net_http_arg(r, "v", v, sizeof v) > 0 && !strcmp(v, ver))
        cache = "public, max-age=31536000, immutable";
    http_header h[6];
    int nh = 0;
    h[nh++] = (http_header){"etag", etag};
    h[nh++] = (http_header){"cache-control", cache};
    /* The loader, the widget and the counts script load cross-origin from host pages. */
    bool shared = !strcmp(path, "/embed.js") || !strcmp(path, "/widget.js") ||
                  !strcmp(path, "/count.js");
    if (shared) {
        h[nh++] = (http_header){"cross-origin-resource-policy", "cross-origin"};
        h[nh++] = (http_header){"vary", "Origin"};
        if (r->origin[0] && config_origin_allowed(&srv.cfg, r->origin))
            h[nh++] = (http_header){"access-control-allow-origin", r->origin};
    } else {
        h[nh++] = (http_header){"cross-origin-resource-policy", "same-origin"};
    }
    char inm[128];
    int rc;
    if (lws_hdr_copy(r->wsi, inm, sizeof inm, WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
        strcmp(inm, etag) == 0)
        rc = net_http_respond(r, 304, type, h, nh, "", 0);
    else
        rc = net_http_respond(r, 200, type, h, nh, data, blen);
    return rc;
}

int net_http_arg_each(http_req *r, const char *name, int (*fn)(const char *value, void *arg),
                      void *arg) {
    size_t nlen = strlen(name);
    char frag[600];
    int n = 0;
    for (int i = 0; i < 64; i++) {
        int len = lws_hdr_copy_fragment(r->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len < 0) break;
        if ((size_t)len > nlen && !strncmp(frag, name, nlen) && frag[nlen] == '=') {
            n++;
            if (fn(frag + nlen + 1, arg)) break;
        }
    }
    return n;
}

int net_http_if_none_match(http_req *r, char *out, size_t outlen) {
    int n = lws_hdr_copy(r->wsi, out, (int)outlen, WSI_TOKEN_HTTP_IF_NONE_MATCH);
    if (n <= 0) out[0] = '\0';
    return n;
}

static int dispatch_http(http_req *r) {
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
    free(r->hdr);
    r->hdr = NULL;
    r->hdr_len = 0;
    r->body = r->resp = NULL;
    r->body_len = r->resp_len = r->resp_off = 0;
    r->finish = false;
}

static void http_forget(http_req *r) {
    if (r->id) {
        char k[24];
        idkey(r->id, k);
        dict_del(http_reqs, k);
        r->id = 0;
    }
}

/* Writes the next piece of r's response, one lws_write per writable callback: the
 * headers, then the body in chunks; after the last, ends the transaction. Returns -1 when
 * the connection must close. */
static int http_writeable(struct lws *wsi, http_req *r) {
    if (!r || !r->finish) return 0;
    int w = 0;
    bool last = true; /* headers only, written at the last callback: end it now */
    writeable_wsi = wsi;
    if (r->hdr) {
        w = net_lws_write(wsi, r->hdr + LWS_PRE, r->hdr_len, LWS_WRITE_HTTP_HEADERS);
        free(r->hdr);
        r->hdr = NULL;
        r->hdr_len = 0;
        last = false; /* the body follows, or (none) the end, at the next callback */
    } else if (r->resp_off < r->resp_len) {
        size_t left = r->resp_len - r->resp_off;
        size_t n = left > HTTP_CHUNK ? HTTP_CHUNK : left;
        unsigned char *buf = xmalloc(LWS_PRE + n);
        memcpy(buf + LWS_PRE, r->resp + r->resp_off, n);
        w = net_lws_write(wsi, buf + LWS_PRE, n, n == left ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
        free(buf);
        r->resp_off += n;
        last = r->resp_off == r->resp_len;
    }
    writeable_wsi = NULL;
    if (w < 0) return -1;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    http_reset(r);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len) {
    http_req *r = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return sock_filter((int)(intptr_t)in);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        sock_opened(wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        sock_closed(wsi);
        return 0;
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
        int big = request_size_status(wsi);
        if (big) {
            snprintf(r->method, sizeof r->method, "GET");
            log_info("net: refused a request with %s", big == 414 ? "a URI over 8 KiB"
                                                                : "headers over 16 KiB");
            return respond_text(r, big, big == 414 ? "URI too long\n"
                                                   : "request headers too large\n") < 0
                       ? -1
                       : 0;
        }
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
        r->body = xrealloc(r->body, r->body_len + len + 1);
        if (len) memcpy(r->body + r->body_len, in, len);
        r->body_len += len;
        r->body[r->body_len] = '\0';
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        if (strcmp(r->method, "POST")) return -1; /* see LWS_CALLBACK_HTTP_BODY */
        if (!r->body) r->body = xcalloc(1, 1);
        int rc = dispatch_http(r);
        return rc < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(wsi, r);
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
    {"parley.v1", callback_ws, 0 /* set in net_start */, RX_BUFFER, 0, NULL, 0},
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
    static_cache = dict_new();
    sock_counts = dict_new();
    /* Stay below the descriptor limit: files, the database, Redis and the log need some. */
    struct rlimit rl;
    long fd_cap = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                      ? (long)rl.rlim_cur - 100
                      : 1000000;
    max_sockets = srv.cfg.max_sockets > 0 ? srv.cfg.max_sockets : srv.cfg.max_connections + 256;
    if (max_sockets > fd_cap) max_sockets = fd_cap;
    if (max_sockets < 1) max_sockets = 1;
    uv_timer_init(loop, &throttle_timer);
    void *foreign[1] = {loop};
    info.port = srv.cfg.listen_port;
    info.iface = srv.cfg.listen_host;
    if (!ws) {
        log_err("net: no WebSocket handlers set");
        return -1;
    }
    protocols[1].per_session_data_size = sizeof(ws_conn) + ws->user_size;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (strchr(srv.cfg.listen_host, ':')) info.options &= ~LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = foreign;
    info.pcontext = &srv.ctx;
    info.retry_and_idle_policy = &retry;
    info.signal_cb = lws_signal;
    info.timeout_secs = 20;
    info.max_http_header_pool = 256;
    info.max_http_header_data = HEADER_BUFFER;
    /* Idle keep-alive HTTP sockets stay longer than clients keep theirs (browsers and
     * Node drop an idle one after 4-5 s): a server that closes first races the client's
     * next request on that socket, which then fails ("socket hang up"). They are counted
     * and capped per address like every socket. */
    info.keepalive_timeout = 30;
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
    dict_free(static_cache, static_free);
    static_cache = NULL;
    static_bytes = 0;
    static_free(static_last);
    static_last = NULL;
    dict_free(sock_counts, NULL);
    sock_counts = NULL;
}
