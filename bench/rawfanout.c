/* rawfanout: the floor under any fan-out server on this machine.
 *
 * One process (the "server") accepts N loopback TCP connections from a forked reader, then,
 * R times at 10 rounds a second, write()s one and the same WebSocket text frame (the
 * comment frame Parley sends, ~300 bytes, carrying its CLOCK_MONOTONIC send time) to each
 * of the N sockets in a plain loop: no protocol, no queues, no storage. The reader is built
 * like bench/loadgen.c (epoll, recv until EAGAIN, parse the frame, take the time stamp),
 * so the floor includes the same client-side cost the fan-out scenarios pay.
 *
 * Prints one JSON object: the write loop's time per round, the time until the last of the
 * N sockets has the frame (per round), and per-delivery latency percentiles.
 *   rawfanout [--conns N] [--rounds R]
 * Only 127.0.0.1 is used; every wait is bounded. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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

static int n_conns = 10000, n_rounds = 20;

static uint64_t raw_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void raw_die(const char *what) {
    fprintf(stderr, "rawfanout: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int raw_cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Percentile p (0..1) of a sorted array of microseconds, in milliseconds. */
static double raw_pct(const uint32_t *v, size_t n, double p) {
    return n ? v[(size_t)((double)(n - 1) * p)] / 1000.0 : 0;
}

typedef struct {
    int fd;
    size_t inlen;
    char in[4096];
} raw_conn_t;

/* The reader: connects n_conns sockets to port, says so on ready_fd, then reads frames
 * until it has n_conns * n_rounds or 60 s pass. Writes to out_fd: the number of
 * deliveries, per-round "last arrival" times (µs after the round's send time) and every
 * delivery's latency (µs). Returns the process exit code. */
static int raw_reader(int port, int ready_fd, int out_fd) {
    raw_conn_t *cs = calloc((size_t)n_conns, sizeof *cs);
    int ep = epoll_create1(0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    uint64_t deadline = raw_now_ns() + 60ull * 1000000000ull;
    for (int i = 0; i < n_conns; i += 1000) { /* in batches: the backlog is finite */
        int end = i + 1000 < n_conns ? i + 1000 : n_conns, open = 0;
        for (int j = i; j < end; j++) {
            cs[j].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (cs[j].fd < 0) raw_die("socket");
            int one = 1;
            setsockopt(cs[j].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(cs[j].fd, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS) raw_die("connect");
            struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = &cs[j]};
            epoll_ctl(ep, EPOLL_CTL_ADD, cs[j].fd, &ev);
        }
        while (open < end - i && raw_now_ns() < deadline) {
            struct epoll_event evs[512];
            int n = epoll_wait(ep, evs, 512, 100);
            for (int k = 0; k < n; k++) {
                raw_conn_t *c = evs[k].data.ptr;
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                open++;
            }
        }
    }
    char b = 1;
    if (write(ready_fd, &b, 1) != 1) return 3;

    size_t want = (size_t)n_conns * (size_t)n_rounds, got = 0;
    uint32_t *lat = malloc(want * sizeof *lat);
    uint32_t *last = calloc((size_t)n_rounds, sizeof *last);
    while (got < want && raw_now_ns() < deadline) {
        struct epoll_event evs[512];
        int n = epoll_wait(ep, evs, 512, 100);
        for (int k = 0; k < n; k++) {
            raw_conn_t *c = evs[k].data.ptr;
            for (;;) {
                ssize_t r = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
                if (r <= 0) break;
                c->inlen += (size_t)r;
            }
            uint64_t now = raw_now_ns();
            size_t off = 0;
            for (;;) {
                unsigned char *f = (unsigned char *)c->in + off;
                size_t avail = c->inlen - off, hl = 2, len;
                if (avail < 4) break;
                len = f[1] & 0x7f;
                if (len == 126) { len = (size_t)f[2] << 8 | f[3]; hl = 4; }
                if (avail < hl + len) break;
                const char *ts = memmem(f + hl, len, " ts=", 4), *rd = memmem(f + hl, len, "seq=", 4);
                if (ts && rd && got < want) {
                    uint64_t sent = strtoull(ts + 4, NULL, 10);
                    int round = atoi(rd + 4);
                    uint32_t us = (uint32_t)((now - sent) / 1000);
                    lat[got++] = us;
                    if (round >= 0 && round < n_rounds && us > last[round]) last[round] = us;
                }
                off += hl + len;
            }
            memmove(c->in, c->in + off, c->inlen - off);
            c->inlen -= off;
        }
    }
    uint64_t g = got;
    if (write(out_fd, &g, sizeof g) != sizeof g ||
        write(out_fd, last, (size_t)n_rounds * sizeof *last) != (ssize_t)((size_t)n_rounds * sizeof *last))
        return 3;
    for (size_t off = 0; off < got * sizeof *lat;) { /* a pipe takes it in pieces */
        ssize_t w = write(out_fd, (char *)lat + off, got * sizeof *lat - off);
        if (w <= 0) return 3;
        off += (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes from fd; returns 0 or -1. */
static int raw_read_all(int fd, void *p, size_t n) {
    for (size_t off = 0; off < n;) {
        ssize_t r = read(fd, (char *)p + off, n - off);
        if (r <= 0) return -1;
        off += (size_t)r;
    }
    return 0;
}

int main(int argc, char **argv) {
    static const struct option lo[] = {{"conns", 1, 0, 'n'}, {"rounds", 1, 0, 'r'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == 'n') n_conns = atoi(optarg);
        else if (ch == 'r') n_rounds = atoi(optarg);
        else { fprintf(stderr, "usage: rawfanout [--conns N] [--rounds R]\n"); return 2; }
    }
    if (n_conns < 1 || n_conns > 19000 || n_rounds < 1 || n_rounds > 1000) {
        fprintf(stderr, "rawfanout: --conns 1..19000, --rounds 1..1000\n");
        return 2;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t al = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096) || getsockname(ls, (struct sockaddr *)&a, &al))
        raw_die("listen");
    int ready[2], out[2];
    if (pipe(ready) || pipe(out)) raw_die("pipe");
    pid_t kid = fork();
    if (kid < 0) raw_die("fork");
    if (kid == 0) {
        close(ls);
        _exit(raw_reader(ntohs(a.sin_port), ready[1], out[1]));
    }
    close(ready[1]);
    close(out[1]);
    int *fds = malloc((size_t)n_conns * sizeof *fds);
    for (int i = 0; i < n_conns; i++) {
        fds[i] = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
        if (fds[i] < 0) raw_die("accept");
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    char b;
    if (read(ready[0], &b, 1) != 1) { fprintf(stderr, "rawfanout: reader failed\n"); return 3; }

    uint32_t *loop_us = malloc((size_t)n_rounds * sizeof *loop_us);
    size_t frame_len = 0;
    uint64_t short_writes = 0;
    for (int r = 0; r < n_rounds; r++) {
        char body[512];
        unsigned char frame[520];
        uint64_t t0 = raw_now_ns();
        int n = snprintf(body, sizeof body,
                         "{\"type\":\"comment\",\"comment\":{\"id\":%d,\"article\":\"b_1x-10-12345-0\",\"parent\":null,"
                         "\"author\":{\"id\":\"g:d072f58d669fd026\",\"name\":\"bench10000\",\"guest\":true},"
                         "\"title\":\"t%d\","
                         "\"body\":\"seq=%d ts=%llu\",\"created_at\":\"2026-11-25T00:00:00.000Z\","
                         "\"edited_at\":null,\"status\":\"published\"}}",
                         r, r, r, (unsigned long long)t0);
        frame[0] = 0x81, frame[1] = 126, frame[2] = (unsigned char)(n >> 8), frame[3] = (unsigned char)n;
        memcpy(frame + 4, body, (size_t)n);
        frame_len = 4 + (size_t)n;
        for (int i = 0; i < n_conns; i++)
            if (write(fds[i], frame, frame_len) != (ssize_t)frame_len) short_writes++;
        loop_us[r] = (uint32_t)((raw_now_ns() - t0) / 1000);
        uint64_t next = t0 + 100000000ull; /* 10 rounds a second, like 10 posts/s */
        while (raw_now_ns() < next) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    uint64_t got = 0;
    uint32_t *last = calloc((size_t)n_rounds, sizeof *last);
    uint32_t *lat = NULL;
    int bad = raw_read_all(out[0], &got, sizeof got) || raw_read_all(out[0], last, (size_t)n_rounds * sizeof *last);
    if (!bad) {
        lat = malloc((got ? got : 1) * sizeof *lat);
        bad = raw_read_all(out[0], lat, got * sizeof *lat);
    }
    int status;
    waitpid(kid, &status, 0);
    if (bad || !WIFEXITED(status) || WEXITSTATUS(status)) { fprintf(stderr, "rawfanout: reader failed\n"); return 3; }
    qsort(loop_us, (size_t)n_rounds, sizeof *loop_us, raw_cmp_u32);
    qsort(last, (size_t)n_rounds, sizeof *last, raw_cmp_u32);
    qsort(lat, got, sizeof *lat, raw_cmp_u32);
    printf("{\"conns\":%d,\"rounds\":%d,\"frame_bytes\":%zu,\"deliveries\":%llu,\"expected\":%llu,"
           "\"short_writes\":%llu,\"write_loop_ms\":{\"p50\":%.2f,\"max\":%.2f},"
           "\"all_received_ms\":{\"p50\":%.2f,\"max\":%.2f},"
           "\"latency_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f}}\n",
           n_conns, n_rounds, frame_len, (unsigned long long)got,
           (unsigned long long)n_conns * (unsigned long long)n_rounds, (unsigned long long)short_writes,
           raw_pct(loop_us, (size_t)n_rounds, 0.5), raw_pct(loop_us, (size_t)n_rounds, 1.0),
           raw_pct(last, (size_t)n_rounds, 0.5), raw_pct(last, (size_t)n_rounds, 1.0), raw_pct(lat, got, 0.5),
           raw_pct(lat, got, 0.99), raw_pct(lat, got, 1.0));
    return got == (uint64_t)n_conns * (uint64_t)n_rounds && !short_writes ? 0 : 1;
}
