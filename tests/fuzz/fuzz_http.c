/* libFuzzer target: the HTTP request path, one connection per input, through the real
 * libwebsockets context and the server's routing (net.c: callback_http, dispatch_http,
 * the static files under web/, /healthz, /metrics, /api/counts, the moderator routes of
 * auth.c; and the WebSocket handshake check and, past an accepted upgrade, the frames
 * into proto_handle).
 *
 * The whole server runs in the process (fuzz_server.h) and net_start() listens on
 * 127.0.0.1 with a port the kernel picks. For each input the fuzzer connects a client
 * socket, writes the input as raw bytes, and turns the loop, reading whatever the server
 * sends, until the server is quiet: no storage job, no thread-pool job (the argon2id
 * login check) pending and nothing new on the socket for a few turns. Then it half-closes
 * its side and turns the loop until the server closes the connection. A server that
 * keeps the connection open more than FUZZ_HTTP_CLOSE_MS (default 5000 ms) after the
 * client's end of stream is a failure: a socket a hostile client could hold forever.
 * Responses must begin with "HTTP/1.1 " or "HTTP/1.0 " (lws answers refusals and
 * HTTP/1.0 requests so) followed by a status in 100-599.
 *
 * Every FUZZ_HTTP_RESET inputs (default 2000) the database and rules state are replaced
 * (fuzz_server_reset). */
#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_server.h"
#include "net.h"

static int port;
static unsigned long inputs, reset_every = 2000;
static double close_ms = 5000;

static double ms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void setup(void) {
    fuzz_server_start();
    free(srv.cfg.web_root);
    srv.cfg.web_root = strdup(PARLEY_SRC_DIR "/web");
    free(srv.cfg.listen_host);
    srv.cfg.listen_host = strdup("127.0.0.1");
    srv.cfg.listen_port = 0;
    if (net_start(&fuzz_loop)) fuzz_die("net_start", "cannot listen");
    port = lws_get_vhost_listen_port(lws_get_vhost_by_name(srv.ctx, "parley"));
    if (port <= 0) fuzz_die("listen port", "none");
    const char *r = getenv("FUZZ_HTTP_RESET");
    if (r) reset_every = strtoul(r, NULL, 10);
    const char *c = getenv("FUZZ_HTTP_CLOSE_MS");
    if (c) close_ms = atof(c);
}

/* The response bytes seen on one connection (the first bytes are checked). */
typedef struct {
    char head[16];
    size_t got;
    bool eof;
} reply_t;

/* Reads what the server sent so far without blocking. Returns bytes read. */
static size_t client_read(int fd, reply_t *r) {
    char buf[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            for (ssize_t i = 0; i < n && r->got + (size_t)i < sizeof r->head; i++)
                r->head[r->got + (size_t)i] = buf[i];
            r->got += (size_t)n;
            total += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) r->eof = true;
        return total;
    }
}

/* True while work started by the request is still out: storage jobs, thread-pool jobs. */
static bool busy(void) {
    return (srv.store && store_pending(srv.store)) || fuzz_loop.active_reqs.count > 0;
}

/* Writes all of data, turning the loop while the socket is full. */
static void client_write(int fd, const uint8_t *data, size_t size, reply_t *r) {
    size_t off = 0;
    double t0 = ms_now();
    while (off < size && !r->eof) {
        ssize_t n = send(fd, data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
        uv_run(&fuzz_loop, UV_RUN_NOWAIT);
        client_read(fd, r);
        if (ms_now() - t0 > close_ms) return; /* the server stopped reading: it may */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!port) setup();
    if (reset_every && ++inputs % reset_every == 0) fuzz_server_reset();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fuzz_die("socket", strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* the kernel completes a loopback connect from its backlog; a signal (libFuzzer's
     * timers) may interrupt it, and the connection then finishes on its own */
    while (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        if (errno == EISCONN) break;
        if (errno != EINTR && errno != EALREADY && errno != EINPROGRESS)
            fuzz_die("connect", strerror(errno));
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, 100);
    }
    reply_t r = {0};
    client_write(fd, data, size, &r);

    /* Serve until quiet: nothing pending and no new bytes for a few turns. */
    for (int quiet = 0; quiet < 4 && !r.eof;) {
        if (busy())
            uv_run(&fuzz_loop, UV_RUN_ONCE);
        else
            uv_run(&fuzz_loop, UV_RUN_NOWAIT);
        if (client_read(fd, &r) || busy())
            quiet = 0;
        else
            quiet++;
    }
    /* End of stream from the client: the server must let the connection go. */
    shutdown(fd, SHUT_WR);
    double t0 = ms_now();
    while (!r.eof) {
        /* blocks until lws sees the end of stream (or the bus's tick timer fires) */
        uv_run(&fuzz_loop, UV_RUN_ONCE);
        client_read(fd, &r);
        if (ms_now() - t0 > close_ms) {
            fprintf(stderr, "fuzz_http: the server kept the connection open %.0f ms after the "
                            "client's end of stream (%zu bytes answered)\n",
                    close_ms, r.got);
            abort();
        }
    }
    close(fd);
    /* let lws finish the close (CLOSED_HTTP) before the next input */
    fuzz_drain();
    for (int i = 0; i < 3; i++) uv_run(&fuzz_loop, UV_RUN_NOWAIT);

    if (r.got >= 12) {
        if (memcmp(r.head, "HTTP/1.1 ", 9) != 0 && memcmp(r.head, "HTTP/1.0 ", 9) != 0) {
            fprintf(stderr, "fuzz_http: reply does not start with a status line: %.12s\n",
                    r.head);
            abort();
        }
        int status = (r.head[9] - '0') * 100 + (r.head[10] - '0') * 10 + (r.head[11] - '0');
        if (status < 100 || status > 599) abort();
    }
    return 0;
}
