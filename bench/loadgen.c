/* loadgen: a WebSocket load generator for Parley and its peers (epoll, one thread).
 *
 * Opens N subscriber connections spread over M articles (source addresses 127.0.0.1,
 * 127.0.0.2, ... when --src-addrs > 1), then P poster connections that post at a fixed
 * total rate (or as fast as acks return, --mode write). Each post's body carries a
 * sequence number and the CLOCK_MONOTONIC send time; every delivery to a subscriber
 * records its latency. Prints one JSON object: latency percentiles, deliveries/s, acks/s,
 * expected and received deliveries (losses), errors.
 *
 * --procs K spreads the connections over K client processes (20,000 descriptors each).
 * Modes: idle (connect, subscribe, hold), fanout, write, slow (a fraction of subscribers
 * never read). Only loopback addresses are ever used; every loop is bounded in time.
 *
 * --proto nchan speaks to nginx + nchan instead: a subscriber is a WebSocket GET of
 * /sub/ARTICLE that sends nothing (ready on the 101), a post is an HTTP/1.1 POST to
 * /pub/ARTICLE on a kept-alive connection whose body is the comment frame Parley would
 * send (same fields, same timestamp payload); nchan delivers the body as a text frame and
 * its 201/202 answer counts as the ack.
 *
 * --timeline FILE (one process only) writes "T mono_ns realtime_ns" (to line it up with
 * strace -ttt), then one line per post ("P seq send_ns ack_ns") and per delivery
 * ("D seq send_ns recv_ns subscriber") and per presence event ("S recv_ns subscriber"),
 * CLOCK_MONOTONIC, to look for stalls.
 *
 * --settle S waits S seconds between "everyone is subscribed" and the first post. Parley
 * announces a changed reader count to every reader of the article on a 2-second tick
 * (server/bus.c): right after N subscribers join, one tick sends N presence frames in one
 * loop turn, a one-off stall that lands on whichever posts are in flight then. The
 * fan-out scenarios measure the steady state, so make bench settles past it; --settle 0
 * shows it. "presence" in the output counts presence frames read during the measured
 * window. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_READY, ST_DEAD };

typedef struct {
    int fd, state, article, poster, slow;
    char *in;
    size_t inlen, incap;
    char *out;
    size_t outlen, outoff, outcap;
    long inflight;
    uint64_t *sent_at; /* poster: send time of each request in flight, in order (nchan) */
    uint64_t *seq_at;
    size_t nsent, sentcap;
} conn_t;

static struct {
    const char *host;
    int port, post_port, conns, articles, posters, src_addrs, inflight;
    double rate, duration, slow_frac, hold, drain, settle;
    int procs;
    const char *mode;
    char article_prefix[32];
    int nchan;
    const char *timeline;
} opt = {"127.0.0.1", 8080, 0, 100, 1, 1, 1, 8, 10, 5, 0, 0, 2, 0, 1, "fanout", "bench", 0, NULL};
static FILE *timeline;

/* Several client processes (--procs K; each is capped at 20,000 descriptors): child i
 * holds every K-th subscriber from offset i, child 0 also posts. They connect, tell the
 * parent over a pipe, wait for its go, run, and leave their figures in a file that the
 * parent merges. */
static int child_index = -1, ready_fd = -1, go_fd = -1;
static char result_dir[64];

static conn_t *conns;
static int nconns, epfd;
static uint64_t t_start;
static uint32_t *lat;  /* latencies in microseconds */
static size_t nlat, caplat;
static uint64_t posts_sent, acks, pending_acks, errors, rejected, deliveries, bytes_in, closed, presence;
static int measuring; /* presence frames count only in the measured window */
static uint64_t *sent_per_article;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* ---- Output: client frames are masked (RFC 6455) ---- */

static void queue_bytes(conn_t *c, const void *p, size_t n) {
    if (c->outlen + n > c->outcap) {
        c->outcap = (c->outlen + n) * 2 + 256;
        c->out = realloc(c->out, c->outcap);
    }
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
}

static void flush(conn_t *c) {
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) break;
            c->state = ST_DEAD;
            return;
        }
        c->outoff += (size_t)n;
    }
    if (c->outoff == c->outlen) c->outoff = c->outlen = 0;
    struct epoll_event ev = {.events = (c->slow ? 0 : EPOLLIN) | (c->outlen ? EPOLLOUT : 0),
                             .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void send_text(conn_t *c, const char *s, size_t n) {
    unsigned char h[14];
    size_t hl = 0;
    h[hl++] = 0x81;
    if (n < 126) h[hl++] = (unsigned char)(0x80 | n);
    else if (n < 65536) { h[hl++] = 0x80 | 126; h[hl++] = (unsigned char)(n >> 8); h[hl++] = (unsigned char)n; }
    else { h[hl++] = 0x80 | 127; for (int i = 7; i >= 0; i--) h[hl++] = (unsigned char)((uint64_t)n >> (8 * i)); }
    unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    memcpy(h + hl, mask, 4);
    hl += 4;
    queue_bytes(c, h, hl);
    size_t at = c->outlen;
    queue_bytes(c, s, n);
    for (size_t i = 0; i < n; i++) c->out[at + i] ^= (char)mask[i & 3];
    flush(c);
}

/* ---- Connections ---- */

static void open_conn(conn_t *c, int port, int idx) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt.src_addrs > 1) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000001 + (uint32_t)(idx % opt.src_addrs));
        if (bind(c->fd, (struct sockaddr *)&src, sizeof src)) die("bind");
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, opt.host, &a.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS) die("connect");
    c->state = ST_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void start_handshake(conn_t *c, int port) {
    char req[512];
    int n;
    if (opt.nchan && c->poster) { /* plain HTTP: nothing to shake hands about */
        c->state = ST_READY;
        flush(c);
        return;
    }
    if (opt.nchan)
        n = snprintf(req, sizeof req,
                     "GET /sub/%s-%d HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Origin: http://%s:%d\r\n\r\n",
                     opt.article_prefix, c->article, opt.host, port, opt.host, port);
    else
        n = snprintf(req, sizeof req,
                     "GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: parley.v1\r\nOrigin: http://%s:%d\r\n\r\n",
                     opt.host, port, opt.host, port);
    c->state = ST_HANDSHAKE;
    queue_bytes(c, req, (size_t)n);
    flush(c);
}

static void subscribe(conn_t *c) {
    char msg[128];
    int n = snprintf(msg, sizeof msg, "{\"type\":\"subscribe\",\"id\":1,\"article\":\"%s-%d\"}",
                     opt.article_prefix, c->article);
    send_text(c, msg, (size_t)n);
}

/* nchan: the comment frame Parley (and the ws peer) would fan out, as the POST body. */
static void post_nchan(conn_t *c, int article, uint64_t seq) {
    char body[512], req[768];
    uint64_t t = now_ns();
    int bn = snprintf(body, sizeof body,
                      "{\"type\":\"comment\",\"comment\":{\"id\":%llu,\"article\":\"%s-%d\",\"parent\":null,"
                      "\"author\":{\"id\":\"g:%016x\",\"name\":\"bench%d\",\"guest\":true},\"title\":\"t%llu\","
                      "\"body\":\"seq=%llu ts=%llu\",\"created_at\":\"2026-11-25T00:00:00.000Z\",\"edited_at\":null,"
                      "\"status\":\"published\"}}",
                      (unsigned long long)seq, opt.article_prefix, article, (unsigned)(c - conns), (int)(c - conns),
                      (unsigned long long)seq, (unsigned long long)seq, (unsigned long long)t);
    int n = snprintf(req, sizeof req,
                     "POST /pub/%s-%d HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     opt.article_prefix, article, opt.host, opt.post_port ? opt.post_port : opt.port, bn, body);
    if (c->nsent == c->sentcap) {
        c->sentcap = c->sentcap ? c->sentcap * 2 : 64;
        c->sent_at = realloc(c->sent_at, c->sentcap * sizeof *c->sent_at);
        c->seq_at = realloc(c->seq_at, c->sentcap * sizeof *c->seq_at);
    }
    c->sent_at[c->nsent] = t;
    c->seq_at[c->nsent++] = seq;
    c->inflight++;
    pending_acks++;
    queue_bytes(c, req, (size_t)n);
    flush(c);
}

static void post(conn_t *c, int article) {
    char msg[256];
    uint64_t seq = ++posts_sent;
    if (opt.nchan) { post_nchan(c, article, seq); return; }
    if (timeline) {
        if (c->nsent == c->sentcap) {
            c->sentcap = c->sentcap ? c->sentcap * 2 : 64;
            c->sent_at = realloc(c->sent_at, c->sentcap * sizeof *c->sent_at);
            c->seq_at = realloc(c->seq_at, c->sentcap * sizeof *c->seq_at);
        }
        c->sent_at[c->nsent] = now_ns();
        c->seq_at[c->nsent++] = seq;
    }
    int n = snprintf(msg, sizeof msg,
                     "{\"type\":\"post\",\"id\":%llu,\"article\":\"%s-%d\",\"name\":\"bench%d\","
                     "\"title\":\"t%llu\",\"body\":\"seq=%llu ts=%llu\"}",
                     (unsigned long long)seq, opt.article_prefix, article, (int)(c - conns),
                     (unsigned long long)seq, (unsigned long long)seq, (unsigned long long)now_ns());
    c->inflight++;
    pending_acks++;
    send_text(c, msg, (size_t)n);
}

/* A poster's oldest request in flight is answered (acks come back in order). */
static void ack_timeline(conn_t *c) {
    if (!c->nsent) return;
    if (timeline)
        fprintf(timeline, "P %llu %llu %llu\n", (unsigned long long)c->seq_at[0],
                (unsigned long long)c->sent_at[0], (unsigned long long)now_ns());
    memmove(c->sent_at, c->sent_at + 1, (c->nsent - 1) * sizeof *c->sent_at);
    memmove(c->seq_at, c->seq_at + 1, (c->nsent - 1) * sizeof *c->seq_at);
    c->nsent--;
}

static void record(uint64_t sent) {
    uint64_t now = now_ns();
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 1 << 20;
        lat = realloc(lat, caplat * sizeof *lat);
    }
    lat[nlat++] = (uint32_t)((now - sent) / 1000);
}

/* One whole text message from the server. */
static void on_message(conn_t *c, const char *p, size_t n) {
    if (c->poster) {
        if (n > 8 && memmem(p, n, "\"type\":\"ack\"", 12)) {
            acks++;
            pending_acks--;
            c->inflight--;
            ack_timeline(c);
            if (memmem(p, n, "\"status\":\"pending\"", 18)) rejected++; /* held: no delivery */
        } else if (memmem(p, n, "\"type\":\"error\"", 14)) {
            errors++;
            if (!memmem(p, n, "rate_limited", 12)) {
                pending_acks--;
                c->inflight--;
                if (memmem(p, n, "rejected", 8)) rejected++;
            }
        }
        return;
    }
    if (c->state == ST_OPEN) {
        if (memmem(p, n, "\"type\":\"history\"", 16)) c->state = ST_READY;
        return;
    }
    if (n > 20 && !memcmp(p, "{\"type\":\"presence\"", 18)) {
        presence += measuring;
        if (timeline) fprintf(timeline, "S %llu %d\n", (unsigned long long)now_ns(), (int)(c - conns));
        return;
    }
    const char *b = memmem(p, n, "\"body\":\"seq=", 12);
    if (!b || !memmem(p, 40 < n ? 40 : n, "\"comment\"", 9)) return;
    const char *ts = memmem(b, n - (size_t)(b - p), " ts=", 4);
    if (!ts) return;
    deliveries++;
    uint64_t sent = strtoull(ts + 4, NULL, 10);
    record(sent);
    if (timeline)
        fprintf(timeline, "D %llu %llu %llu %d\n", strtoull(b + 12, NULL, 10), (unsigned long long)sent,
                (unsigned long long)now_ns(), (int)(c - conns));
}

/* nchan poster: whole HTTP responses in c->in (Content-Length bodies); returns the bytes
 * consumed. 201/202 is the ack; anything else counts as an error. */
static size_t on_http_responses(conn_t *c) {
    size_t off = 0;
    for (;;) {
        char *p = c->in + off, *end = memmem(p, c->inlen - off, "\r\n\r\n", 4);
        if (!end) break;
        size_t hl = (size_t)(end + 4 - p), body = 0;
        for (char *h = p; h < end; h++) {
            if ((h == p || h[-1] == '\n') && !strncasecmp(h, "Content-Length:", 15)) body = strtoul(h + 15, NULL, 10);
        }
        if (c->inlen - off < hl + body) break;
        int status = c->inlen - off > 12 ? atoi(p + 9) : 0;
        if (status == 201 || status == 202) acks++;
        else errors++;
        pending_acks--;
        c->inflight--;
        ack_timeline(c);
        off += hl + body;
    }
    return off;
}

static void on_readable(conn_t *c) {
    for (;;) {
        if (c->incap - c->inlen < 65536) {
            c->incap = c->incap * 2 + 65536;
            c->in = realloc(c->in, c->incap);
        }
        ssize_t n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            if (c->state != ST_DEAD) closed++;
            c->state = ST_DEAD;
            epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
            return;
        }
        if (n < 0) break;
        c->inlen += (size_t)n;
        bytes_in += (uint64_t)n;
    }
    size_t off = 0;
    if (opt.nchan && c->poster) {
        off = on_http_responses(c);
        memmove(c->in, c->in + off, c->inlen - off);
        c->inlen -= off;
        return;
    }
    if (c->state == ST_HANDSHAKE) {
        char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
        if (!end) return;
        if (memcmp(c->in, "HTTP/1.1 101", 12) != 0) {
            errors++;
            c->state = ST_DEAD;
            return;
        }
        off = (size_t)(end + 4 - c->in);
        c->state = ST_OPEN;
        if (c->poster || opt.nchan) c->state = ST_READY; /* nchan: subscribed by the URL */
        else subscribe(c);
    }
    for (;;) {
        unsigned char *f = (unsigned char *)c->in + off;
        size_t avail = c->inlen - off;
        if (avail < 2) break;
        size_t hl = 2, len = f[1] & 0x7f;
        if (len == 126) { if (avail < 4) break; len = (size_t)f[2] << 8 | f[3]; hl = 4; }
        else if (len == 127) { if (avail < 10) break; len = 0; for (int i = 0; i < 8; i++) len = len << 8 | f[2 + i]; hl = 10; }
        if (avail < hl + len) break;
        int opcode = f[0] & 0x0f;
        if (opcode == 1) on_message(c, (char *)f + hl, len);
        else if (opcode == 8) { closed++; c->state = ST_DEAD; }
        else if (opcode == 9) { /* ping: answer pong */
            unsigned char pong[2 + 4 + 125] = {0x8a, (unsigned char)(0x80 | (len & 0x7f)), 0, 0, 0, 0};
            if (len <= 125) { memcpy(pong + 6, f + hl, len); queue_bytes(c, pong, 6 + len); flush(c); }
        }
        off += hl + len;
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
}

static void poll_once(int timeout_ms) {
    struct epoll_event evs[512];
    int n = epoll_wait(epfd, evs, 512, timeout_ms);
    for (int i = 0; i < n; i++) {
        conn_t *c = evs[i].data.ptr;
        if (c->state == ST_DEAD) continue;
        if (c->state == ST_CONNECTING && (evs[i].events & (EPOLLOUT | EPOLLERR))) {
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
            if (err) { errors++; c->state = ST_DEAD; continue; }
            start_handshake(c, c->poster && opt.post_port ? opt.post_port : opt.port);
            continue;
        }
        if (evs[i].events & EPOLLOUT) flush(c);
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
    }
}

static int count_state(int from, int to, int want) {
    int k = 0;
    for (int i = from; i < to; i++) k += conns[i].state == want;
    return k;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) v = atol(line + 6);
    if (f) fclose(f);
    return v;
}

/* A child's figures: counters, subscribers ready per article, posts per article, then its
 * latencies. */
static int child_report(int ready, double active, double connect_secs, int nslow, int slow_alive,
                        long rss0) {
    char path[128];
    snprintf(path, sizeof path, "%s/%d", result_dir, child_index);
    FILE *f = fopen(path, "w");
    if (!f) return 3;
    long *per = calloc((size_t)opt.articles, sizeof *per);
    for (int i = 0; i < opt.conns; i++)
        if (!conns[i].slow && conns[i].state == ST_READY) per[conns[i].article]++;
    fprintf(f, "%d %f %f %llu %llu %llu %llu %llu %llu %d %d %ld %zu %llu\n", ready, active, connect_secs,
            (unsigned long long)posts_sent, (unsigned long long)acks, (unsigned long long)rejected,
            (unsigned long long)deliveries, (unsigned long long)errors, (unsigned long long)closed,
            nslow, slow_alive, rss_kib() - rss0, nlat, (unsigned long long)presence);
    for (int a = 0; a < opt.articles; a++) fprintf(f, "%ld %llu\n", per[a], (unsigned long long)sent_per_article[a]);
    fwrite(lat, sizeof *lat, nlat, f);
    fclose(f);
    return 0;
}

static int cmp_u32(const void *a, const void *b);

static int run_parent(void) {
    snprintf(result_dir, sizeof result_dir, "/tmp/loadgen.XXXXXX");
    if (!mkdtemp(result_dir)) die("mkdtemp");
    int ready_pipe[2], go_pipes[64][2], k = opt.procs > 64 ? 64 : opt.procs;
    if (pipe(ready_pipe)) die("pipe");
    pid_t pids[64];
    for (int i = 0; i < k; i++) {
        if (pipe(go_pipes[i])) die("pipe");
        pids[i] = fork();
        if (pids[i] == 0) {
            child_index = i;
            ready_fd = ready_pipe[1];
            go_fd = go_pipes[i][0];
            opt.procs = k;
            return -1; /* main goes on as this child */
        }
    }
    char b;
    for (int i = 0; i < k; i++)
        if (read(ready_pipe[0], &b, 1) != 1) die("barrier");
    for (int i = 0; i < k; i++)
        if (write(go_pipes[i][1], &b, 1) != 1) die("go");
    int status, bad = 0;
    for (int i = 0; i < k; i++) {
        waitpid(pids[i], &status, 0);
        bad |= !WIFEXITED(status) || WEXITSTATUS(status);
    }
    /* merge */
    unsigned long long posts = 0, acks_ = 0, rej = 0, del = 0, err = 0, cl = 0, expected = 0, pres = 0;
    int ready = 0, nslow = 0, slow_alive = 0;
    double active = 0, connect_secs = 0;
    long rss = 0;
    long *per = calloc((size_t)opt.articles, sizeof *per);
    unsigned long long *sent = calloc((size_t)opt.articles, sizeof *sent);
    for (int i = 0; i < k; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%d", result_dir, i);
        FILE *f = fopen(path, "r");
        if (!f) { bad = 1; continue; }
        int r, ns, sa;
        double ac, cs;
        unsigned long long p, a, rj, d, e, c, pr;
        long rs;
        size_t nl;
        if (fscanf(f, "%d %lf %lf %llu %llu %llu %llu %llu %llu %d %d %ld %zu %llu\n", &r, &ac, &cs, &p, &a, &rj,
                   &d, &e, &c, &ns, &sa, &rs, &nl, &pr) != 14) { bad = 1; fclose(f); continue; }
        ready += r, posts += p, acks_ += a, rej += rj, del += d, err += e, cl += c, nslow += ns, pres += pr;
        slow_alive += sa, rss += rs;
        if (ac > active) active = ac;
        if (cs > connect_secs) connect_secs = cs;
        for (int x = 0; x < opt.articles; x++) {
            long pa;
            unsigned long long sp;
            if (fscanf(f, "%ld %llu\n", &pa, &sp) == 2) { per[x] += pa; sent[x] += sp; }
        }
        if (nlat + nl > caplat) { caplat = nlat + nl + 1; lat = realloc(lat, caplat * sizeof *lat); }
        nlat += fread(lat + nlat, sizeof *lat, nl, f);
        fclose(f);
        unlink(path);
    }
    rmdir(result_dir);
    for (int x = 0; x < opt.articles; x++) expected += (unsigned long long)per[x] * sent[x];
    if (posts) expected = (unsigned long long)((double)expected * (double)(acks_ - rej) / (double)posts);
    qsort(lat, nlat, sizeof *lat, cmp_u32);
#define PPCT(p) (nlat ? lat[(size_t)((double)(nlat - 1) * (p))] / 1000.0 : 0)
    printf("{\"proto\":\"%s\",\"mode\":\"%s\",\"procs\":%d,\"conns\":%d,\"ready\":%d,\"articles\":%d,\"posters\":%d,"
           "\"rate\":%g,\"connect_seconds\":%.2f,\"active_seconds\":%.2f,\"posts_sent\":%llu,\"acks\":%llu,"
           "\"acks_per_second\":%.1f,\"held_or_refused\":%llu,\"deliveries\":%llu,\"expected\":%llu,"
           "\"losses\":%lld,\"deliveries_per_second\":%.1f,\"latency_ms\":{\"p50\":%.2f,\"p99\":%.2f,"
           "\"p999\":%.2f,\"max\":%.2f},\"errors\":%llu,\"closed_by_server\":%llu,\"slow\":%d,"
           "\"slow_still_open\":%d,\"loadgen_rss_kib\":%ld,\"settle\":%g,\"presence\":%llu}\n",
           opt.nchan ? "nchan" : "parley", opt.mode, k, opt.conns, ready, opt.articles, opt.posters, opt.rate, connect_secs, active,
           posts, acks_, active > 0 ? (double)acks_ / active : 0, rej, del, expected,
           (long long)expected - (long long)del, active > 0 ? (double)del / active : 0, PPCT(0.5),
           PPCT(0.99), PPCT(0.999), PPCT(1.0), err, cl, nslow, slow_alive, rss, opt.settle, pres);
    return bad ? 1 : 0;
}

int main(int argc, char **argv) {
    static const struct option lo[] = {
        {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"post-port", 1, 0, 'P'}, {"conns", 1, 0, 'n'},
        {"articles", 1, 0, 'm'}, {"posters", 1, 0, 'k'}, {"rate", 1, 0, 'r'}, {"duration", 1, 0, 'd'},
        {"mode", 1, 0, 'M'}, {"slow", 1, 0, 's'}, {"src-addrs", 1, 0, 'a'}, {"inflight", 1, 0, 'i'},
        {"hold", 1, 0, 'H'}, {"drain", 1, 0, 'D'}, {"prefix", 1, 0, 'x'}, {"procs", 1, 0, 'K'},
        {"proto", 1, 0, 'T'}, {"timeline", 1, 0, 'L'}, {"settle", 1, 0, 'S'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'P': opt.post_port = atoi(optarg); break;
        case 'n': opt.conns = atoi(optarg); break;
        case 'm': opt.articles = atoi(optarg); break;
        case 'k': opt.posters = atoi(optarg); break;
        case 'r': opt.rate = atof(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'M': opt.mode = optarg; break;
        case 's': opt.slow_frac = atof(optarg); break;
        case 'a': opt.src_addrs = atoi(optarg); break;
        case 'i': opt.inflight = atoi(optarg); break;
        case 'H': opt.hold = atof(optarg); break;
        case 'D': opt.drain = atof(optarg); break;
        case 'x': snprintf(opt.article_prefix, sizeof opt.article_prefix, "%s", optarg); break;
        case 'K': opt.procs = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
        case 'T':
            if (!strcmp(optarg, "nchan")) opt.nchan = 1;
            else if (strcmp(optarg, "parley")) { fprintf(stderr, "loadgen: --proto parley|nchan\n"); return 2; }
            break;
        case 'L': opt.timeline = optarg; break;
        case 'S': opt.settle = atof(optarg); break;
        default: fprintf(stderr, "see bench/loadgen.c for the options\n"); return 2;
        }
    }
    if (strncmp(opt.host, "127.", 4)) { fprintf(stderr, "loadgen: loopback only\n"); return 2; }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (opt.nchan && !strcmp(opt.mode, "write")) { fprintf(stderr, "loadgen: nchan has no write mode\n"); return 2; }
    if (opt.timeline) {
        if (opt.procs > 1) { fprintf(stderr, "loadgen: --timeline needs --procs 1\n"); return 2; }
        if (!(timeline = fopen(opt.timeline, "w"))) die(opt.timeline);
        struct timespec rt; /* to line the timeline up with strace -ttt or server logs */
        clock_gettime(CLOCK_REALTIME, &rt);
        fprintf(timeline, "T %llu %llu\n", (unsigned long long)now_ns(),
                (unsigned long long)rt.tv_sec * 1000000000ull + (unsigned long long)rt.tv_nsec);
    }
    if (opt.procs > 1) {
        int rc = run_parent();
        if (rc >= 0) return rc;
    }
    int idle = !strcmp(opt.mode, "idle"), write_mode = !strcmp(opt.mode, "write");
    if (!strcmp(opt.mode, "slow") && opt.slow_frac <= 0) opt.slow_frac = 0.1;
    if (idle) opt.posters = 0;
    int base_index = 0;
    if (child_index >= 0) {
        int share = opt.conns / opt.procs + (child_index < opt.conns % opt.procs);
        base_index = child_index;
        opt.conns = share;
        if (child_index > 0) opt.posters = 0;
    }
    nconns = opt.conns + opt.posters;
    conns = calloc((size_t)nconns, sizeof *conns);
    sent_per_article = calloc((size_t)opt.articles, sizeof *sent_per_article);
    epfd = epoll_create1(0);
    long rss0 = rss_kib();
    t_start = now_ns();

    /* subscribers, in batches (somaxconn is 4096 here) */
    uint64_t deadline = now_ns() + 120ull * 1000000000ull;
    for (int i = 0; i < opt.conns; i += 1000) {
        int end = i + 1000 < opt.conns ? i + 1000 : opt.conns;
        for (int j = i; j < end; j++) {
            int global = child_index >= 0 ? base_index + j * opt.procs : j;
            conns[j].article = global % opt.articles;
            open_conn(&conns[j], opt.port, global);
        }
        while (count_state(i, end, ST_READY) + count_state(i, end, ST_DEAD) < end - i && now_ns() < deadline)
            poll_once(50);
    }
    int ready = count_state(0, opt.conns, ST_READY);
    double connect_secs = (double)(now_ns() - t_start) / 1e9;
    /* the slow ones stop reading now */
    int nslow = (int)(opt.conns * opt.slow_frac);
    for (int i = 0; i < nslow; i++) {
        conn_t *c = &conns[i * (opt.conns / (nslow ? nslow : 1))];
        c->slow = 1;
        struct epoll_event ev = {.events = 0, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
    for (int i = opt.conns; i < nconns; i++) {
        conns[i].poster = 1;
        open_conn(&conns[i], opt.post_port ? opt.post_port : opt.port, i);
    }
    while (count_state(opt.conns, nconns, ST_READY) + count_state(opt.conns, nconns, ST_DEAD) < opt.posters &&
           now_ns() < deadline)
        poll_once(50);

    if (child_index >= 0) { /* tell the parent we are connected; wait for everyone */
        char b = 1;
        if (write(ready_fd, &b, 1) != 1 || read(go_fd, &b, 1) != 1) return 3;
    }
    if (!idle && opt.settle > 0) { /* past the server's reaction to everyone joining */
        uint64_t settle_end = now_ns() + (uint64_t)(opt.settle * 1e9);
        while (now_ns() < settle_end) poll_once(10);
    }
    measuring = 1;
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)((idle ? opt.hold : opt.duration) * 1e9);
    uint64_t next = t0, interval = opt.rate > 0 ? (uint64_t)(1e9 / opt.rate) : 0;
    int turn = 0;
    while (now_ns() < end) {
        if (!idle && opt.posters) {
            if (write_mode) {
                for (int i = opt.conns; i < nconns; i++)
                    while (conns[i].state == ST_READY && conns[i].inflight < opt.inflight) {
                        int art = (int)(posts_sent % (uint64_t)opt.articles);
                        sent_per_article[art]++;
                        post(&conns[i], art);
                    }
            } else {
                while (now_ns() >= next) {
                    conn_t *p = &conns[opt.conns + turn++ % opt.posters];
                    int art = (int)(posts_sent % (uint64_t)opt.articles);
                    if (p->state == ST_READY) {
                        sent_per_article[art]++;
                        post(p, art);
                    }
                    next += interval;
                }
            }
        }
        poll_once(1);
    }
    double active = (double)(now_ns() - t0) / 1e9;
    /* drain: wait for outstanding acks and deliveries (bounded) */
    uint64_t drain_end = now_ns() + (uint64_t)(opt.drain * 1e9);
    uint64_t expected_now = 0;
    while (now_ns() < drain_end) {
        poll_once(20);
        if (pending_acks == 0 && !idle && opt.posters > 0) {
            expected_now = 0;
            for (int i = 0; i < opt.conns; i++)
                if (!conns[i].slow && conns[i].state == ST_READY)
                    expected_now += sent_per_article[conns[i].article];
            if (deliveries >= expected_now) break;
        }
    }
    uint64_t expected = 0;
    int alive = 0, slow_alive = 0;
    for (int i = 0; i < opt.conns; i++) {
        if (conns[i].slow) { slow_alive += conns[i].state != ST_DEAD; continue; }
        if (conns[i].state != ST_READY) continue;
        alive++;
        expected += sent_per_article[conns[i].article];
    }
    /* held or refused posts are never delivered */
    uint64_t published_posts = acks >= rejected ? acks - rejected : 0;
    if (posts_sent) expected = (uint64_t)((double)expected * (double)published_posts / (double)posts_sent);
    if (child_index >= 0) return child_report(ready, active, connect_secs, nslow, slow_alive, rss0);
    if (timeline) fclose(timeline);
    qsort(lat, nlat, sizeof *lat, cmp_u32);
#define PCT(p) (nlat ? lat[(size_t)((double)(nlat - 1) * (p))] / 1000.0 : 0)
    printf("{\"proto\":\"%s\",\"mode\":\"%s\",\"conns\":%d,\"ready\":%d,\"articles\":%d,\"posters\":%d,\"rate\":%g,"
           "\"connect_seconds\":%.2f,\"active_seconds\":%.2f,\"posts_sent\":%llu,\"acks\":%llu,"
           "\"acks_per_second\":%.1f,\"held_or_refused\":%llu,\"deliveries\":%llu,\"expected\":%llu,"
           "\"losses\":%lld,\"deliveries_per_second\":%.1f,\"latency_ms\":{\"p50\":%.2f,\"p99\":%.2f,"
           "\"p999\":%.2f,\"max\":%.2f},\"errors\":%llu,\"closed_by_server\":%llu,\"slow\":%d,"
           "\"slow_still_open\":%d,\"alive\":%d,\"loadgen_rss_kib\":%ld,\"settle\":%g,\"presence\":%llu}\n",
           opt.nchan ? "nchan" : "parley", opt.mode, opt.conns, ready, opt.articles, opt.posters, opt.rate, connect_secs, active,
           (unsigned long long)posts_sent, (unsigned long long)acks, (double)acks / active,
           (unsigned long long)rejected, (unsigned long long)deliveries,
           (unsigned long long)expected, (long long)expected - (long long)deliveries,
           (double)deliveries / active, PCT(0.5), PCT(0.99), PCT(0.999), PCT(1.0),
           (unsigned long long)errors, (unsigned long long)closed, nslow, slow_alive, alive,
           rss_kib() - rss0, opt.settle, (unsigned long long)presence);
    return 0;
}
