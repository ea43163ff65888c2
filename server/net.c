/* net.c: libwebsockets glue, the transport half: the lws context on the shared loop and
 * the WebSocket connections (framing, rate limits, closes). The HTTP half (routes,
 * responses, static files) is net_http.c; what both use (the one lws_write, sockets
 * counted from accept on, request sizes, handshake checks) is net_sock.c. */
#include "net.h"
#include "net_http.h"
#include "net_sock.h"
#include "alloc.h"
#include "clock.h"

#include <libwebsockets.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

/* lws receive buffer per connection (issue 17: it was the largest part of an idle
 * connection's memory). A larger message arrives in pieces that on_receive reassembles,
 * so this bounds only how much one read takes: subscribes and pings fit; a 1,000-character
 * post (up to about 4.1 KB of JSON) takes a few reads. It must hold a whole control frame
 * (lws parses those in it): 125 bytes of payload, so 128. */
#define RX_BUFFER 128
/* lws limits each send to tx_packet_size, or to rx_buffer_size when that is 0, and sends
 * the rest of a larger write in such pieces on later writeable turns
 * (lws-protocols-plugins.h): set on its own, to hold one batch of frames (net_ws_write)
 * with their headers, so that a batch, or a history page of up to 17 KiB, is one send. */
#define TX_PACKET (NET_WS_BATCH_BYTES + 1024)

static uv_timer_t throttle_timer;
static bool throttle_timer_on;
/* The transport half of a WebSocket connection: lws's per-session data begins with it
 * and the conn layer's user area (handlers->user_size bytes) follows. */
typedef struct ws_conn {
    struct lws *wsi;
    /* fragments of the message being received (at most max_frame_bytes) */
    char *rx;
    struct ws_conn *tnext;   /* in the throttled list */
    /* token bucket for incoming messages */
    double tokens;
    uint64_t tokens_at_ms;
    uint32_t rxlen;
    char ip_hash[33];
    bool open : 1;           /* ESTABLISHED seen: the user area is live */
    bool throttled : 1;
    bool closing : 1;        /* net_ws_close set the close frame: end it at LWS_CALLBACK_TIMER */
    bool rx_more : 1;        /* in rx_more: read again this loop turn */
    bool told : 1;           /* sent its rate_limited; again only once the bucket was full */
    _Alignas(max_align_t) unsigned char user[];
} ws_conn;
/* lws allocates this and the conn layer's conn_t as one block per connection (issue 17:
 * idle memory); the fields above fill the 16-byte-aligned header without a gap. */
_Static_assert(sizeof(ws_conn) <= 80, "ws_conn grew past 80 bytes");

static const net_ws_handlers *ws;    /* the conn layer's, set by main */
static ws_conn *throttled;           /* list through tnext */

/* Reading on. lws reads at most RX_BUFFER bytes a readable event on a WebSocket
 * (roles/ws/ops-ws.c reads rx_buffer_size), and the next event for that socket comes
 * after every other ready socket has had its turn: under a hot article's fan-out (10,000
 * writable sockets) that is a whole round of writes for each 128 bytes, so a 250-byte post
 * waited a round half-read and a poster's pipelined posts one round each (issue 17:
 * 60 of 500 posts acknowledged at 100 posts/s). A connection that has just received is
 * read again at the next loop turn, before the poll, until a read finds nothing (up to
 * RX_MORE_READS reads a turn): what a larger buffer gave, without its memory on every
 * idle reader. */
#define RX_MORE_READS 16
typedef struct {
    ws_conn **v;
    size_t n, cap;
} conn_vec;
static conn_vec rx_more, rx_batch;   /* to read next turn; being read now */
static uv_idle_t rx_more_idle;
static bool rx_more_on;
static uint64_t rx_seen;             /* messages and fragments received, ever */

void net_set_ws_handlers(const net_ws_handlers *h) { ws = h; }

/* ---- WebSocket transport (the conn layer's ops) ---- */

_Static_assert(NET_WS_PRE >= LWS_PRE, "NET_WS_PRE must cover LWS_PRE");

void net_ws_wake(void *t) {
    if (t) lws_callback_on_writable(t);
}

bool net_ws_idle(void *t) {
    /* lws_partial_buffered costs nothing; lws_send_pipe_choked would poll() the socket */
    return t && !lws_partial_buffered(t);
}

/* A server's frame header (RFC 6455 5.2: FIN, text, no mask) for a payload of len bytes,
 * written at out; returns its length (2, 4 or 10). */
static size_t ws_text_header(unsigned char *out, size_t len) {
    out[0] = 0x81;
    if (len < 126) {
        out[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffff) {
        out[1] = 126;
        out[2] = (unsigned char)(len >> 8);
        out[3] = (unsigned char)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++) out[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

int net_ws_write(void *t, const net_frame *f, size_t n) {
    /* lws keeps what the kernel does not take and sends it when the socket drains */
    static unsigned char batch[LWS_PRE + NET_WS_BATCH_BYTES + 10 * 64];
    if (n == 1 || 10 + f[0].len + 10 + f[1].len > sizeof batch - LWS_PRE)
        return net_lws_write(t, f[0].payload, f[0].len, LWS_WRITE_TEXT) < 0 ? -1 : 1;
    /* Several frames: framed here into one buffer and handed to lws as raw bytes
     * (LWS_WRITE_RAW), one send() for all of them, where a write per frame cost a system
     * call each and bounded a hot article's deliveries (issue 17). lws frames nothing else
     * for this socket's data (no extensions are offered); what it writes itself (pongs,
     * the close frame) goes between whole writes. */
    size_t used = 0, i = 0;
    for (; i < n && used + 10 + f[i].len <= sizeof batch - LWS_PRE; i++) {
        used += ws_text_header(batch + LWS_PRE + used, f[i].len);
        memcpy(batch + LWS_PRE + used, f[i].payload, f[i].len);
        used += f[i].len;
    }
    return net_lws_write(t, batch + LWS_PRE, used, LWS_WRITE_RAW) < 0 ? -1 : (int)i;
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
    if (c->tokens >= srv.cfg.client_burst) {
        c->tokens = srv.cfg.client_burst;
        c->told = false; /* the flood is over: a next one is told again */
    }
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

/* Spends a token for a message; a connection out of tokens is told once (a flood) and
 * not read from until its allowance refills. The message itself is still handled. */
static void spend_token(ws_conn *c) {
    refill(c, mono_ms());
    c->tokens -= 1;
    if (c->tokens >= 0 || c->throttled) return;
    c->throttled = true;
    c->tnext = throttled;
    throttled = c;
    /* one rate_limited a flood: a client that keeps sending is paused at each empty
     * bucket, but told once, until it has been quiet long enough to fill it again */
    if (!c->told) {
        c->told = true;
        metrics.rate_limited++;
        if (c->open) ws->throttled(c->user);
    }
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

static void read_on_turn(uv_idle_t *h);

/* Marks c to be read again at the next loop turn (not while throttled: lws does not read
 * it then, and the throttle tick lets it go on). */
static void read_on(ws_conn *c) {
    if (c->rx_more || c->throttled || c->closing) return;
    if (rx_more.n == rx_more.cap) {
        rx_more.cap = rx_more.cap ? rx_more.cap * 2 : 16;
        rx_more.v = xrealloc(rx_more.v, rx_more.cap * sizeof *rx_more.v);
    }
    rx_more.v[rx_more.n++] = c;
    c->rx_more = true;
    if (!rx_more_on) {
        uv_idle_start(&rx_more_idle, read_on_turn);
        rx_more_on = true;
    }
}

static void vec_forget(conn_vec *v, const ws_conn *c) {
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == c) v->v[i] = NULL;
}

/* The idle callback: each marked connection is read as a readable event would read it
 * (lws_service_fd with POLLIN, which is what lws's libuv plugin calls), again while reads
 * bring something. A read that finds the socket empty ends in EAGAIN, which lws ignores. A
 * connection closed meanwhile (by its own read or another's) is unmarked by on_closed. */
static void read_on_turn(uv_idle_t *h) {
    conn_vec t = rx_batch;
    rx_batch = rx_more;
    rx_more = t;
    rx_more.n = 0;
    for (size_t i = 0; i < rx_batch.n; i++) {
        if (rx_batch.v[i]) rx_batch.v[i]->rx_more = false;
    }
    for (size_t i = 0; i < rx_batch.n; i++) {
        for (int k = 0; k < RX_MORE_READS && rx_batch.v[i] && srv.ctx; k++) {
            ws_conn *c = rx_batch.v[i];
            if (c->throttled || c->closing || !c->wsi) break;
            struct lws_pollfd pfd = {.fd = lws_get_socket_fd(c->wsi),
                                     .events = LWS_POLLIN, .revents = LWS_POLLIN};
            if (pfd.fd < 0) break;
            uint64_t seen = rx_seen;
            metrics.ws_reads_on++;
            lws_service_fd(srv.ctx, &pfd);
            if (rx_seen == seen) break;
        }
    }
    rx_batch.n = 0;
    if (!rx_more.n) {
        uv_idle_stop(h);
        rx_more_on = false;
    }
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
    rx_seen++;
    read_on(c);
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
    c->rxlen += (uint32_t)len;
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
    if (c->rx_more) vec_forget(&rx_more, c);
    vec_forget(&rx_batch, c);
    c->rx_more = false;
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
    net_sock_init(loop);
    uv_timer_init(loop, &throttle_timer);
    uv_idle_init(loop, &rx_more_idle);
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
    if (!net_sock_stop()) return; /* stopped already: the second call only destroys again */
    if (throttle_timer_on) uv_timer_stop(&throttle_timer);
    uv_close((uv_handle_t *)&throttle_timer, NULL);
    if (rx_more_on) uv_idle_stop(&rx_more_idle);
    rx_more_on = false;
    uv_close((uv_handle_t *)&rx_more_idle, NULL);
    free(rx_more.v);
    free(rx_batch.v);
    rx_more = rx_batch = (conn_vec){0};
    net_http_stop();
}
