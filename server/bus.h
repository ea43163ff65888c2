/* bus.h: how events reach readers and consoles in every process. Without `redis:` the bus
 * is local: events go straight to this process's rooms. With Redis, each event is also
 * published on a channel, and what other processes publish is delivered here, exactly
 * once; rooms are subscribed once per process. When Redis is lost, the process keeps
 * serving its own clients, reconnects with backoff, and catches its rooms up by comment
 * id from the store (also every redis.catchup_ms, hub.h). Presence ("N reading now") is summed across processes. */
#ifndef PARLEY_BUS_H
#define PARLEY_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "hub.h"

/* Starts the bus on loop (connecting to Redis when configured). Returns 0. */
int bus_start(uv_loop_t *loop);
void bus_stop(void);
/* Announces the reader count of every room whose count moved (every 2 s from the bus's
 * tick): queued, and sent from the next loop turns about 100 readers' frames a turn. */
void bus_presence(void);

/* Delivers m to the article's readers here and in every other process. comment_id > 0
 * announces a newly published comment, < 0 a comment published out of id order (an
 * approval); see hub_publish. */
void bus_article(const char *article, msg_t *m, int64_t comment_id);
/* To every connection of an author, in every process. */
void bus_author(const char *author, msg_t *m);
/* To every moderators' console, in every process. */
void bus_consoles(msg_t *m);

/* Called by the hub when a room gets its first / loses its last subscriber here. */
void bus_room_opened(const char *article);
void bus_room_closed(const char *article);

/* ---- Windowed counters (login throttling, rate windows) ----
 * Shared by every process while Redis is up; kept in this process otherwise. A counter
 * starts its window at its first increment and is gone when the window ends. */
void bus_counter_add(const char *key, long window_ms);
void bus_counter_reset(const char *key);
#define BUS_COUNTERS_MAX 8
/* True when counters are shared with other processes right now (Redis up). */
bool bus_shared(void);
/* Reads up to BUS_COUNTERS_MAX counters; cb gets their values and the longest time left (ms) of their
 * windows, on the loop, possibly before bus_counter_get returns. */
typedef void (*bus_counter_cb)(const long *vals, long ttl_ms, void *arg);
void bus_counter_get(const char *const *keys, int n, bus_counter_cb cb, void *arg);
/* Adds one to each counter i with windows[i] > 0 (as bus_counter_add), then reads them
 * all (as bus_counter_get): one round trip to Redis for the lot. The time left given to
 * cb is that of the counters read only (windows[i] <= 0), 0 when every one was added:
 * asking Redis for it was a third of the script's calls on the post path. */
void bus_counter_add_get(const char *const *keys, const long *windows, int n,
                         bus_counter_cb cb, void *arg);

/* Windows held in this process (without Redis); bounded (bus.c). */
size_t bus_local_counters(void);
/* "local", "connected" or "down"; for /healthz and /metrics. */
const char *bus_state(void);
/* Prometheus lines about the bus (malloc'd). */
char *bus_metrics(void);

#endif
