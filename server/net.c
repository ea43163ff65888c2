/* net.c: libwebsockets glue, the transport half: the lws context on the shared loop, the
 * WebSocket connections (framing, rate limits, closes), sockets counted and capped from
 * accept on, and the checks on a handshake. The HTTP half (routes, responses, static
 * files) is net_http.c. */
#include "net.h"
#include "net_http.h"
#include "alloc.h"
#include "clock.h"

#include <libwebsockets.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "dict.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

/* lws receive buffer per connection (issue 17: it was the largest part of an idle
 * connection's memory). A larger message arrives in pieces that on_receive reassembles,
 * so this bounds only how much one read takes: subscribes and pings fit; a 1,000-character
 * post (up to about 4.1 KB of JSON) takes a few reads. It must hold a whole control frame
 * (lws parses those in it): 125 bytes of payload. */
#define RX_BUFFER 256
/* lws limits each send to tx_packet_size, or to rx_buffer_size when that is 0: set on its
 * own, to what it was (1024) before the receive buffer shrank: left at 0 with a 256-byte
 * buffer, lws would send every comment frame in 256-byte pieces, the rest buffered and
 * sent on later writeable turns (lws-protocols-plugins.h). */
#define TX_PACKET 1024

static uv_timer_t throttle_timer;
static bool throttle_timer_on;
static uv_timer_t trim_timer;        /* gives freed handshake buffers back (sock_opened) */
static bool trim_timer_on;
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
struct lws *net_writeable_wsi;
static ws_conn *throttled;           /* list through tnext */
static dict_t *sock_counts;          /* address hash -> (uintptr_t) sockets open */
static long max_sockets;             /* every socket, from accept on */

void net_set_ws_handlers(const net_ws_handlers *h) { ws = h; }

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
int net_lws_write(struct lws *wsi, unsigned char *buf, size_t len,
                  enum lws_write_protocol wp) {
    if (wsi != net_writeable_wsi) {
        if (wp == LWS_WRITE_TEXT)
            metrics.ws_writes_outside++;
        else if (wp != LWS_WRITE_HTTP_HEADERS || wsi != net_http_serviced_wsi)
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
    if (t != net_writeable_wsi) metrics.ws_writes_outside++;
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
int net_sock_filter(int fd) {
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

/* A second after sockets were accepted, hands the memory their handshakes freed back to
 * the system. Each handshake holds one of lws's header buffers (HEADER_BUFFER, 64 KB;
 * up to max_http_header_pool of them at once during a crowd's arrival); lws frees it when
 * the upgrade is done, but the C library keeps those pages, so a burst of connections
 * left up to 16 MB resident for good, about 0.8 KiB per idle connection at 19,000
 * (issue 17). At most once a second, and only after accepts. */
static void on_trim(uv_timer_t *t) {
    trim_timer_on = false;
    malloc_trim(0);
}

void net_sock_opened(struct lws *wsi) {
    if (!trim_timer_on && sock_counts) {
        uv_timer_start(&trim_timer, on_trim, 1000, 0);
        trim_timer_on = true;
    }
    char *iph = xmalloc(33);
    fd_addr_hash((int)lws_get_socket_fd(wsi), iph);
    lws_set_opaque_user_data(wsi, iph);
    sock_count_add(iph, +1);
    metrics.sockets++;
    metrics.sockets_total++;
}

void net_sock_closed(struct lws *wsi) {
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
int net_request_size_status(struct lws *wsi) {
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
int net_check_upgrade(struct lws *wsi) {
    char uri[256] = "", origin[256] = "", addr[128], iph[33];
    int big = net_request_size_status(wsi);
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
        net_writeable_wsi = wsi;
        int rc = ws->writable(c->user);
        net_writeable_wsi = NULL;
        return rc;
    }
    case LWS_CALLBACK_TIMER:
        return c && c->closing ? -1 : 0; /* net_ws_close */
    case LWS_CALLBACK_CLOSED:
        on_closed(c);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        net_sock_closed(wsi);
        return 0;
    default:
        return 0;
    }
}

/* ---- Context ---- */

static struct lws_protocols protocols[] = {
    {"http", net_http_callback, sizeof(http_req), 0, 0, NULL, 0},
    {"parley.v1", callback_ws, 0 /* set in net_start */, RX_BUFFER, 0, NULL, TX_PACKET},
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
    net_http_init();
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
    uv_timer_init(loop, &trim_timer);
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
    if (!sock_counts) return; /* stopped already: the second call only destroys again */
    if (throttle_timer_on) uv_timer_stop(&throttle_timer);
    uv_close((uv_handle_t *)&throttle_timer, NULL);
    if (trim_timer_on) uv_timer_stop(&trim_timer);
    trim_timer_on = false;
    uv_close((uv_handle_t *)&trim_timer, NULL);
    net_http_stop();
    dict_free(sock_counts, NULL);
    sock_counts = NULL;
}
