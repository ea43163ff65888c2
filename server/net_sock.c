/* net_sock.c: what the two halves of the net layer share (net_sock.h): the one
 * lws_write, sockets counted and capped from accept on, the size of a request, the checks
 * on a WebSocket handshake, and the client's address and origin. */
#include "net_sock.h"
#include "alloc.h"

#include <malloc.h>
#include <stdint.h>
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

/* The socket whose writeable callback is running (lws's rule: write only from there);
 * a write to any other counts in metrics.*_writes_outside. */
struct lws *net_writeable_wsi;
/* The socket whose own HTTP callback is running (net_http.c sets it), or NULL. */
struct lws *net_http_serviced_wsi;

static dict_t *sock_counts;          /* address hash -> (uintptr_t) sockets open */
static long max_sockets;             /* every socket, from accept on */
static uv_timer_t trim_timer;        /* gives freed handshake buffers back (sock_opened) */
static bool trim_timer_on;

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

/* Every lws_write of net goes through here: one made outside the socket's writeable
 * callback (against lws's rule) is counted, so /metrics shows it. Returns lws_write's. */
int net_lws_write(struct lws *wsi, unsigned char *buf, size_t len,
                  enum lws_write_protocol wp) {
    if (wsi != net_writeable_wsi) {
        if (wp == LWS_WRITE_TEXT || wp == LWS_WRITE_RAW) /* RAW: net_ws_write's batches */
            metrics.ws_writes_outside++;
        else if (wp != LWS_WRITE_HTTP_HEADERS || wsi != net_http_serviced_wsi)
            metrics.http_writes_outside++;
    }
    return lws_write(wsi, buf, len, wp);
}

/* ---- Origins ---- */

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
 * otherwise retry (and log) in a tight loop. Each counted wsi carries its address's key as
 * its opaque user data: a number, not a string, so that a socket costs no allocation of
 * its own (issue 17); counted off on LWS_CALLBACK_WSI_DESTROY. */

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

/* A socket's address as the number its wsi carries (the keyed hash's first 64 bits, never
 * 0) and as its key in sock_counts (that number in hex). */
static void addr_key_of(uintptr_t v, char key[17]) {
    snprintf(key, 17, "%016jx", (uintmax_t)v);
}

static uintptr_t fd_addr_key(int fd, char key[17]) {
    char iph[33];
    fd_addr_hash(fd, iph);
    iph[2 * sizeof(uintptr_t)] = '\0';
    uintptr_t v = (uintptr_t)strtoull(iph, NULL, 16) | 1;
    addr_key_of(v, key);
    return v;
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
    char iph[17];
    fd_addr_key(fd, iph);
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
    char iph[17];
    uintptr_t v = fd_addr_key((int)lws_get_socket_fd(wsi), iph);
    lws_set_opaque_user_data(wsi, (void *)v);
    sock_count_add(iph, +1);
    metrics.sockets++;
    metrics.sockets_total++;
}

void net_sock_closed(struct lws *wsi) {
    uintptr_t v = (uintptr_t)lws_get_opaque_user_data(wsi);
    if (!v) return;
    lws_set_opaque_user_data(wsi, NULL);
    char iph[17];
    addr_key_of(v, iph);
    sock_count_add(iph, -1);
    metrics.sockets--;
}

/* ---- Request size ----
 *
 * lws keeps a request's headers in one buffer (max_http_header_data) and drops the
 * socket without a word when they do not fit. The buffer is made larger than what we
 * accept, so that a request between what browsers send (16 KiB of headers, e.g. a host
 * site's big cookies) and the buffer gets a status it can read: 414 for a long URI, 431
 * for large headers. */
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

/* ---- Start and stop ---- */

void net_sock_init(uv_loop_t *loop) {
    sock_counts = dict_new();
    /* Stay below the descriptor limit: files, the database, Redis and the log need some. */
    struct rlimit rl;
    long fd_cap = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                      ? (long)rl.rlim_cur - 100
                      : 1000000;
    max_sockets = srv.cfg.max_sockets > 0 ? srv.cfg.max_sockets : srv.cfg.max_connections + 256;
    if (max_sockets > fd_cap) max_sockets = fd_cap;
    if (max_sockets < 1) max_sockets = 1;
    uv_timer_init(loop, &trim_timer);
}

bool net_sock_stop(void) {
    if (!sock_counts) return false;
    if (trim_timer_on) uv_timer_stop(&trim_timer);
    trim_timer_on = false;
    uv_close((uv_handle_t *)&trim_timer, NULL);
    dict_free(sock_counts, NULL);
    sock_counts = NULL;
    return true;
}
