/* bus.c: the local bus and the Redis bus behind one interface (bus.h). */
#include "bus.h"
#include "alloc.h"
#include "clock.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>

#include "conn.h"
#include "log.h"
#include "server.h"

#define TICK_MS 2000          /* presence and the link watchdog */
#define PING_TIMEOUT_MS 3000  /* a Redis that does not answer for this long is gone */
#define PRESENCE_TTL_MS 10000 /* a process's presence counts this long after its last tick */
#define MAX_PENDING 20000     /* commands waiting for Redis before the link is dropped */
#define BACKOFF_MAX_MS 10000

static uv_loop_t *loop;
static bool enabled;                 /* redis: configured */
static redisAsyncContext *cmd, *sub; /* commands; subscriptions */
static bool cmd_up, sub_up, was_up;
static uv_timer_t tick_timer, reconnect_timer;
static uv_timer_t catchup_timer; /* rooms read what is newer than their readers have */

static bool timers_on;
static unsigned backoff_ms = 500;
static uint64_t ping_sent_ms;        /* 0: no PING outstanding */
static long pending;
static uint64_t down_since_ms;       /* when the link was lost; 0 while up */
static uint64_t connect_started_ms;
#define CONNECT_TIMEOUT_MS 3000
static char proc_id[17];
static uint64_t n_published, n_received, n_reconnects, n_dropped;
static uint64_t n_presence_turns; /* loop turns that announced reader counts */

static void drop_link(const redisAsyncContext *dying, const char *why);

bool bus_shared(void) { return enabled && cmd_up; }

const char *bus_state(void) {
    if (!enabled) return "local";
    return cmd_up && sub_up ? "connected" : "down";
}

char *bus_metrics(void) {
    char *out = xmalloc(4096);
    snprintf(out, 4096,
             "# HELP parley_redis_up 1 when the Redis link is up (absent without redis:).\n"
             "# TYPE parley_redis_up gauge\nparley_redis_up %d\n"
             "# HELP parley_bus_published_total Events published to Redis.\n"
             "# TYPE parley_bus_published_total counter\nparley_bus_published_total %llu\n"
             "# HELP parley_bus_received_total Events from other processes delivered here.\n"
             "# TYPE parley_bus_received_total counter\nparley_bus_received_total %llu\n"
             "# HELP parley_bus_dropped_total Events not published while Redis was down.\n"
             "# TYPE parley_bus_dropped_total counter\nparley_bus_dropped_total %llu\n"
             "# HELP parley_redis_reconnects_total Times the Redis link was re-established.\n"
             "# TYPE parley_redis_reconnects_total counter\nparley_redis_reconnects_total %llu\n"
             "# HELP parley_local_counters Rate and throttle windows held in this process.\n"
             "# TYPE parley_local_counters gauge\nparley_local_counters %zu\n"
             "# HELP parley_catchup_reads_total Reads of new comments by id from the store.\n"
             "# TYPE parley_catchup_reads_total counter\nparley_catchup_reads_total %llu\n"
             "# HELP parley_catchup_comments_total Comments delivered to readers by those reads.\n"
             "# TYPE parley_catchup_comments_total counter\nparley_catchup_comments_total %llu\n"
             "# HELP parley_presence_turns_total Loop turns that announced reader counts "
             "(about 100 readers' frames a turn).\n"
             "# TYPE parley_presence_turns_total counter\nparley_presence_turns_total %llu\n",
             enabled ? (cmd_up && sub_up) : 0, (unsigned long long)n_published,
             (unsigned long long)n_received, (unsigned long long)n_dropped,
             (unsigned long long)n_reconnects, bus_local_counters(),
             (unsigned long long)hub_fetches(), (unsigned long long)hub_fetched_comments(),
             (unsigned long long)n_presence_turns);
    return out;
}

/* ---- Local delivery ---- */

typedef struct {
    const char *author;
    msg_t *m;
} author_send;

static void send_if_author(conn_t *c, void *arg) {
    author_send *a = arg;
    if (!strcmp(c->author_id, a->author)) conn_enqueue(c, a->m);
}

static void local_author(const char *author, msg_t *m) {
    author_send a = {author, m};
    conn_each(send_if_author, &a);
}

static void send_if_console(conn_t *c, void *arg) {
    if (c->moderator) conn_enqueue(c, arg);
}

static void local_consoles(msg_t *m) { conn_each(send_if_console, m); }

/* ---- Redis commands ---- */

static void channel(char *out, size_t len, const char *kind, const char *key) {
    snprintf(out, len, "%s%s%s%s", srv.cfg.redis_prefix, kind, key ? ":" : "", key ? key : "");
}

static void on_reply(redisAsyncContext *ac, void *r, void *priv) { pending--; }

/* Sends a command; returns true when it was queued (its callback will run). */
static bool command(redisAsyncContext *ac, redisCallbackFn *fn, void *priv, int argc,
                    const char **argv, const size_t *lens) {
    if (!ac) return false;
    if (pending > MAX_PENDING) {
        log_warn("bus: %ld Redis commands unanswered: dropping the link", pending);
        drop_link(NULL, "too many commands unanswered");
        return false;
    }
    if (redisAsyncCommandArgv(ac, fn ? fn : on_reply, priv, argc, argv, lens) != REDIS_OK)
        return false;
    pending++;
    return true;
}

/* Publishes "<proc>\t<key>\t<comment id>\t<json>" on a channel. */
static void publish(const char *kind, const char *key, const char *routing, int64_t id,
                    msg_t *m) {
    if (!enabled) return;
    if (!cmd_up) {
        n_dropped++; /* other processes catch up from the store when the link is back */
        return;
    }
    char ch[512];
    channel(ch, sizeof ch, kind, key);
    size_t hlen = strlen(proc_id) + strlen(routing) + 32;
    char *payload = xmalloc(hlen + m->len);
    int n = snprintf(payload, hlen, "%s\t%s\t%lld\t", proc_id, routing, (long long)id);
    memcpy(payload + n, msg_payload(m), m->len);
    const char *argv[3] = {"PUBLISH", ch, payload};
    size_t lens[3] = {7, strlen(ch), (size_t)n + m->len};
    command(cmd, NULL, NULL, 3, argv, lens);
    free(payload);
    n_published++;
}

void bus_article(const char *article, msg_t *m, int64_t comment_id) {
    hub_publish(article, m, comment_id);
    publish("room", article, article, comment_id, m);
}

void bus_author(const char *author, msg_t *m) {
    local_author(author, m);
    publish("authors", NULL, author, 0, m);
}

void bus_consoles(msg_t *m) {
    local_consoles(m);
    publish("consoles", NULL, "-", 0, m);
}

/* ---- Subscriptions ---- */

static void on_message(redisAsyncContext *ac, void *r, void *priv) {
    redisReply *reply = r;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return;
    if (reply->element[0]->type == REDIS_REPLY_STRING &&
        !strcmp(reply->element[0]->str, "subscribe") &&
        reply->element[1]->type == REDIS_REPLY_STRING) {
        /* Redis now sends this room's messages. A reader's history may have been read
         * before that (the SUBSCRIBE was in flight), so what other processes published
         * meanwhile is read from the store by id; a reader gets each id once. */
        size_t plen = strlen(srv.cfg.redis_prefix);
        const char *ch = reply->element[1]->str;
        if (strlen(ch) > plen + 5 && !strncmp(ch + plen, "room:", 5))
            hub_catch_up(ch + plen + 5);
        return;
    }
    if (reply->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(reply->element[0]->str, "message") != 0)
        return;
    const char *ch = reply->element[1]->str, *p = reply->element[2]->str;
    size_t len = reply->element[2]->len;
    const char *t1 = memchr(p, '\t', len);
    if (!t1) return;
    if ((size_t)(t1 - p) == strlen(proc_id) && !memcmp(p, proc_id, strlen(proc_id)))
        return; /* ours: delivered locally already */
    const char *t2 = memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - p));
    const char *t3 = t2 ? memchr(t2 + 1, '\t', len - (size_t)(t2 + 1 - p)) : NULL;
    if (!t3) return;
    char routing[256];
    snprintf(routing, sizeof routing, "%.*s", (int)(t2 - t1 - 1), t1 + 1);
    int64_t id = strtoll(t2 + 1, NULL, 10);
    msg_t *m = msg_new(t3 + 1, len - (size_t)(t3 + 1 - p));
    size_t plen = strlen(srv.cfg.redis_prefix);
    const char *kind = ch + plen;
    n_received++;
    if (!strncmp(kind, "room:", 5))
        hub_publish(routing, m, id);
    else if (!strcmp(kind, "authors"))
        local_author(routing, m);
    else if (!strcmp(kind, "consoles"))
        local_consoles(m);
    msg_unref(m);
}

static void subscribe(const char *verb, const char *kind, const char *key) {
    if (!sub_up) return;
    char ch[512];
    channel(ch, sizeof ch, kind, key);
    const char *argv[2] = {verb, ch};
    size_t lens[2] = {strlen(verb), strlen(ch)};
    /* subscription replies keep arriving on this callback; they are not counted */
    redisAsyncCommandArgv(sub, on_message, NULL, 2, argv, lens);
}

void bus_room_opened(const char *article) {
    if (enabled) subscribe("SUBSCRIBE", "room", article);
}

void bus_room_closed(const char *article) {
    if (!enabled) return;
    subscribe("UNSUBSCRIBE", "room", article);
    if (cmd_up) {
        char key[512];
        channel(key, sizeof key, "presence", article);
        const char *argv[3] = {"HDEL", key, proc_id};
        size_t lens[3] = {4, strlen(key), strlen(proc_id)};
        command(cmd, NULL, NULL, 3, argv, lens);
    }
}

/* ---- Catching up by id ---- */

/* Every catchup_ms each room with readers reads what is newer than they have: a process
 * that died between its COMMIT and its PUBLISH, or a message Redis lost, costs a reader
 * a few seconds at most, never a comment. */
static void on_catchup_tick(uv_timer_t *t) { hub_catch_up_all(); }

static void resubscribe_room(room_t *r, void *arg) {
    subscribe("SUBSCRIBE", "room", hub_room_article(r));
}

/* ---- The link ---- */

static void connect_redis(void);

static void schedule_reconnect(void) {
    if (!timers_on || uv_is_active((uv_handle_t *)&reconnect_timer)) return;
    unsigned jitter = randombytes_uniform(backoff_ms / 2 + 1);
    uv_timer_start(&reconnect_timer, (uv_timer_cb)connect_redis, backoff_ms + jitter, 0);
    backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
}

static void link_lost(const char *why) {
    log_debug("bus: link lost: %s", why);
    if (!down_since_ms) {
        down_since_ms = now_ms();
        if (was_up)
            log_err("bus: Redis link lost (%s): serving local clients only; reconnecting", why);
        else
            log_err("bus: Redis unavailable (%s): serving local clients only; retrying", why);
    }
    ping_sent_ms = 0;
    pending = 0;
}

/* Gives up on the link: frees both contexts (but `dying`, which hiredis is freeing
 * itself) and schedules a reconnect. Callbacks from contexts given up on are ignored. */
static void drop_link(const redisAsyncContext *dying, const char *why) {
    redisAsyncContext *c1 = cmd, *c2 = sub;
    cmd = sub = NULL;
    cmd_up = sub_up = false;
    if (c1 && c1 != dying) redisAsyncFree(c1);
    if (c2 && c2 != dying) redisAsyncFree(c2);
    if (!timers_on) return; /* shutting down */
    link_lost(why);
    schedule_reconnect();
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    if (ac != cmd && ac != sub) return;
    drop_link(ac, status == REDIS_OK ? "closed" : ac->errstr);
}

static void link_ready(void) {
    if (!cmd_up || !sub_up) return;
    backoff_ms = 500;
    subscribe("SUBSCRIBE", "authors", NULL);
    subscribe("SUBSCRIBE", "consoles", NULL);
    hub_each_room(resubscribe_room, NULL);
    if (down_since_ms && was_up) {
        n_reconnects++;
        log_info("bus: Redis link back: catching rooms up from the store");
        hub_catch_up_all();
    } else {
        log_info("bus: connected to Redis %s:%d", srv.cfg.redis_host, srv.cfg.redis_port);
    }
    was_up = true;
    down_since_ms = 0;
}

static void on_connect(const redisAsyncContext *ac, int status) {
    if (ac != cmd && ac != sub) return;
    if (status != REDIS_OK) {
        drop_link(ac, ac->errstr);
        return;
    }
    if (ac == cmd) cmd_up = true;
    if (ac == sub) sub_up = true;
    link_ready();
}

/* The Redis host's address, resolved off the loop (uv_getaddrinfo runs getaddrinfo on
 * the thread pool: hiredis would resolve a name synchronously in redisAsyncConnect). */
static char redis_addr[INET6_ADDRSTRLEN];
static uv_getaddrinfo_t resolver;
static bool resolving;

static redisAsyncContext *open_one(void) {
    redisAsyncContext *ac = redisAsyncConnect(redis_addr, srv.cfg.redis_port);
    if (!ac || ac->err) {
        if (ac) redisAsyncFree(ac);
        return NULL;
    }
    redisLibuvAttach(ac, loop);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (srv.cfg.redis_password && *srv.cfg.redis_password) {
        const char *argv[2] = {"AUTH", srv.cfg.redis_password};
        size_t lens[2] = {4, strlen(srv.cfg.redis_password)};
        redisAsyncCommandArgv(ac, NULL, NULL, 2, argv, lens);
    }
    /* hiredis notices a finished (or failed) connect only once it has something to
     * write: queue a PING so the outcome is known at once. */
    redisAsyncCommand(ac, NULL, NULL, "PING");
    return ac;
}

static void connect_resolved(void);

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    resolving = false;
    if (status || !res) {
        if (res) uv_freeaddrinfo(res);
        drop_link(NULL, "cannot resolve the Redis host");
        return;
    }
    if (res->ai_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)res->ai_addr, redis_addr, sizeof redis_addr);
    else
        uv_ip4_name((struct sockaddr_in *)res->ai_addr, redis_addr, sizeof redis_addr);
    uv_freeaddrinfo(res);
    if (timers_on) connect_resolved();
}

static void connect_redis(void) {
    log_debug("bus: connecting to Redis %s:%d", srv.cfg.redis_host, srv.cfg.redis_port);
    if (cmd || sub || resolving) return; /* still closing, or resolving */
    connect_started_ms = uv_now(loop);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    resolving = true;
    if (uv_getaddrinfo(loop, &resolver, on_resolved, srv.cfg.redis_host, NULL, &hints)) {
        resolving = false;
        drop_link(NULL, "cannot resolve the Redis host");
    }
}

static void connect_resolved(void) {
    if (cmd || sub) return;
    cmd = open_one();
    sub = cmd ? open_one() : NULL;
    if (!cmd || !sub) {
        drop_link(NULL, "cannot connect");
        return;
    }
    if (srv.cfg.redis_db) {
        char db[16];
        snprintf(db, sizeof db, "%d", srv.cfg.redis_db);
        const char *argv[2] = {"SELECT", db};
        size_t lens[2] = {6, strlen(db)};
        redisAsyncCommandArgv(cmd, NULL, NULL, 2, argv, lens);
    }
}

/* ---- Windowed counters ---- */

/* Without Redis the windows live here. Keys are chosen by clients (login names,
 * addresses, article ids), so the table is bounded: entries sit in a list in the order
 * they were made; each new one first drops expired entries from its head and, past
 * LOCAL_COUNTERS_MAX, the oldest ones, so memory stays flat whatever keys arrive. */
#define LOCAL_COUNTERS_MAX 65536

typedef struct local_counter {
    long count;
    uint64_t until_ms;
    struct local_counter *prev, *next; /* by creation, oldest first */
    char key[];
} local_counter;

static dict_t *counters; /* local fallback: key -> local_counter, owned */
static local_counter *lc_head, *lc_tail;

static void local_drop(local_counter *c) {
    if (c->prev) c->prev->next = c->next;
    else lc_head = c->next;
    if (c->next) c->next->prev = c->prev;
    else lc_tail = c->prev;
    dict_del(counters, c->key);
    free(c);
}

static local_counter *local_get(const char *key, uint64_t now) {
    local_counter *c = counters ? dict_get(counters, key) : NULL;
    if (c && c->until_ms <= now) {
        local_drop(c);
        c = NULL;
    }
    return c;
}

/* Drops expired entries at the head, and the oldest while over the bound. */
static void local_sweep(uint64_t now) {
    while (lc_head && (lc_head->until_ms <= now || dict_size(counters) >= LOCAL_COUNTERS_MAX))
        local_drop(lc_head);
}

size_t bus_local_counters(void) { return counters ? dict_size(counters) : 0; }

static const char *const incr_script =
    "local v = redis.call('INCR', KEYS[1]) "
    "if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v";
/* ARGV[i] > 0: add one to KEYS[i], starting a window of that many ms; then each key's
 * value and time left. */
static const char *const get_script =
    "local r = {} for i, k in ipairs(KEYS) do local w = tonumber(ARGV[i] or '0') local v, t "
    "if w > 0 then v = redis.call('INCR', k) t = 0 "
    "if v == 1 then redis.call('PEXPIRE', k, w) end "
    "else v = tonumber(redis.call('GET', k) or '0') t = redis.call('PTTL', k) end "
    "r[#r + 1] = v r[#r + 1] = t end return r";

void bus_counter_add(const char *key, long window_ms) {
    if (enabled && cmd_up) {
        char k[512], w[24];
        channel(k, sizeof k, "count", key);
        snprintf(w, sizeof w, "%ld", window_ms);
        const char *argv[5] = {"EVAL", incr_script, "1", k, w};
        size_t lens[5] = {4, strlen(incr_script), 1, strlen(k), strlen(w)};
        command(cmd, NULL, NULL, 5, argv, lens);
        return;
    }
    if (!counters) counters = dict_new();
    uint64_t now = mono_ms();
    local_counter *c = local_get(key, now);
    if (!c) {
        local_sweep(now);
        size_t klen = strlen(key);
        c = xcalloc(1, sizeof *c + klen + 1);
        memcpy(c->key, key, klen + 1);
        c->until_ms = now + (uint64_t)window_ms;
        c->prev = lc_tail;
        if (lc_tail) lc_tail->next = c;
        else lc_head = c;
        lc_tail = c;
        dict_set(counters, key, c, NULL);
    }
    c->count++;
}

void bus_counter_reset(const char *key) {
    if (enabled && cmd_up) {
        char k[512];
        channel(k, sizeof k, "count", key);
        const char *argv[2] = {"DEL", k};
        size_t lens[2] = {3, strlen(k)};
        command(cmd, NULL, NULL, 2, argv, lens);
    }
    local_counter *c = counters ? dict_get(counters, key) : NULL;
    if (c) local_drop(c);
}

typedef struct {
    bus_counter_cb cb;
    void *arg;
    int n;
} counter_req;

static void on_counters(redisAsyncContext *ac, void *r, void *priv) {
    counter_req *q = priv;
    redisReply *reply = r;
    long vals[BUS_COUNTERS_MAX] = {0}, ttl = 0;
    pending--;
    if (reply && reply->type == REDIS_REPLY_ARRAY && (int)reply->elements == 2 * q->n) {
        for (int i = 0; i < q->n; i++) {
            vals[i] = (long)reply->element[2 * i]->integer;
            long t = (long)reply->element[2 * i + 1]->integer;
            if (t > ttl) ttl = t;
        }
    }
    /* a lost reply counts as zero: throttling fails open rather than locking everyone out */
    q->cb(vals, ttl, q->arg);
    free(q);
}

void bus_counter_get(const char *const *keys, int n, bus_counter_cb cb, void *arg) {
    bus_counter_add_get(keys, NULL, n, cb, arg);
}

void bus_counter_add_get(const char *const *keys, const long *windows, int n,
                         bus_counter_cb cb, void *arg) {
    if (n > BUS_COUNTERS_MAX) n = BUS_COUNTERS_MAX;
    if (enabled && cmd_up) {
        char k[BUS_COUNTERS_MAX][512], w[BUS_COUNTERS_MAX][24], nk[16];
        const char *argv[3 + 2 * BUS_COUNTERS_MAX];
        size_t lens[3 + 2 * BUS_COUNTERS_MAX];
        snprintf(nk, sizeof nk, "%d", n);
        argv[0] = "EVAL", lens[0] = 4;
        argv[1] = get_script, lens[1] = strlen(get_script);
        argv[2] = nk, lens[2] = strlen(nk);
        for (int i = 0; i < n; i++) {
            channel(k[i], sizeof k[i], "count", keys[i]);
            argv[3 + i] = k[i];
            lens[3 + i] = strlen(k[i]);
            snprintf(w[i], sizeof w[i], "%ld", windows && windows[i] > 0 ? windows[i] : 0);
            argv[3 + n + i] = w[i];
            lens[3 + n + i] = strlen(w[i]);
        }
        counter_req *q = xmalloc(sizeof *q);
        q->cb = cb;
        q->arg = arg;
        q->n = n;
        if (command(cmd, on_counters, q, 3 + 2 * n, argv, lens)) return;
        free(q); /* not sent: answer from here */
    }
    for (int i = 0; windows && i < n; i++)
        if (windows[i] > 0) bus_counter_add(keys[i], windows[i]);
    long vals[BUS_COUNTERS_MAX] = {0}, ttl = 0;
    uint64_t now = mono_ms();
    for (int i = 0; i < n; i++) {
        local_counter *c = local_get(keys[i], now);
        if (!c) continue;
        vals[i] = c->count;
        if (windows && windows[i] > 0) continue; /* added: no time left asked (bus.h) */
        if ((long)(c->until_ms - now) > ttl) ttl = (long)(c->until_ms - now);
    }
    cb(vals, ttl, arg);
}

/* ---- Presence and the watchdog ---- */

/* Announcements are paced. A crowd joining (10,000 readers over 100 articles) changes
 * every room's count within one tick, and announcing them all at once queued 10,000
 * frames in one loop turn, behind which every post waited (issue 17: p99 at 100 x 100
 * readers, 10 posts/s, 218-299 ms without a settling pause against 9 ms with one).
 * Changed counts wait in a queue (one entry an article, the newest count) and go out from
 * an idle callback, rooms up to PRESENCE_FRAMES_PER_TURN readers' frames a loop turn, so a
 * post waits for one such slice: p99 109/78 ms at 1,000 a turn, 35/32 at 250, 12/15 at
 * 100 (docs/decisions.md). A room larger than that goes out whole in its turn. */
#define PRESENCE_FRAMES_PER_TURN 100
typedef struct pres_pending {
    char *article;
    size_t reading;
    struct pres_pending *next;
} pres_pending;
static pres_pending *pres_head, **pres_tail = &pres_head;
static dict_t *pres_by_article;   /* article -> its entry in the queue */
static uv_idle_t pres_idle;
static bool pres_idle_on;

static void on_presence_turn(uv_idle_t *h) {
    size_t frames = 0;
    n_presence_turns++;
    while (pres_head && frames < PRESENCE_FRAMES_PER_TURN) {
        pres_pending *p = pres_head;
        pres_head = p->next;
        if (!pres_head) pres_tail = &pres_head;
        dict_del(pres_by_article, p->article);
        json_t *ev = json_pack("{s:s, s:s, s:I}", "type", "presence", "article", p->article,
                               "reading", (json_int_t)p->reading);
        msg_t *m = msg_take_json(ev);
        frames += hub_publish(p->article, m, 0);
        msg_unref(m);
        free(p->article);
        free(p);
    }
    if (!pres_head) {
        uv_idle_stop(h);
        pres_idle_on = false;
    }
}

static void announce(const char *article, size_t reading) {
    if (!timers_on) return;
    pres_pending *p = dict_get(pres_by_article, article);
    if (p) {
        p->reading = reading; /* still queued: it goes out with the newest count */
        return;
    }
    p = xmalloc(sizeof *p);
    p->article = xstrdup(article);
    p->reading = reading;
    p->next = NULL;
    *pres_tail = p;
    pres_tail = &p->next;
    dict_set(pres_by_article, p->article, p, NULL);
    if (!pres_idle_on) {
        uv_idle_start(&pres_idle, on_presence_turn);
        pres_idle_on = true;
    }
}

/* Whether a room's reader count moved enough to announce: any change below 100 readers,
 * at least 1% above (nobody reads "10,000 reading" against "10,013"; a hot article's
 * churn would otherwise cost a frame to every reader each tick), and any change once the
 * last announcement is PRESENCE_STALE_MS old, so that a reader who joins a large room
 * learns its count within that. Records the announcement when it says yes. */
#define PRESENCE_STALE_MS 10000
static bool presence_moved(room_t *room, size_t now) {
    size_t announced = *hub_room_presence(room);
    size_t diff = now > announced ? now - announced : announced - now;
    int64_t t = (int64_t)mono_ms(); /* elapsed time: not moved by clock changes */
    if (!diff || (diff < announced / 100 && t - *hub_room_presence_at(room) < PRESENCE_STALE_MS))
        return false;
    *hub_room_presence(room) = now;
    *hub_room_presence_at(room) = t;
    return true;
}

static void on_presence(redisAsyncContext *ac, void *r, void *priv) {
    char *article = priv;
    redisReply *reply = r;
    pending--;
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        size_t total = 0;
        int64_t now = now_ms();
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
            long long count = 0, until = 0;
            if (sscanf(reply->element[i + 1]->str, "%lld %lld", &count, &until) == 2 &&
                until > now && count > 0)
                total += (size_t)count;
        }
        room_t *room = hub_find_room(article);
        if (room && presence_moved(room, total)) {
            announce(article, total);
        }
    }
    free(article);
}

static void presence_room(room_t *r, void *arg) {
    const char *article = hub_room_article(r);
    size_t local = hub_room_readers(r);
    if (!enabled || !cmd_up) {
        if (presence_moved(r, local)) {
            announce(article, local);
        }
        return;
    }
    char key[512], val[64];
    channel(key, sizeof key, "presence", article);
    snprintf(val, sizeof val, "%zu %lld", local, (long long)(now_ms() + PRESENCE_TTL_MS));
    const char *hset[4] = {"HSET", key, proc_id, val};
    size_t hl[4] = {4, strlen(key), strlen(proc_id), strlen(val)};
    command(cmd, NULL, NULL, 4, hset, hl);
    const char *exp[3] = {"PEXPIRE", key, "60000"};
    size_t el[3] = {7, strlen(key), 5};
    command(cmd, NULL, NULL, 3, exp, el);
    const char *get[2] = {"HGETALL", key};
    size_t gl[2] = {7, strlen(key)};
    char *a = xstrdup(article);
    if (!command(cmd, on_presence, a, 2, get, gl)) free(a);
}

static void on_pong(redisAsyncContext *ac, void *r, void *priv) {
    pending--;
    ping_sent_ms = 0;
}

static void on_tick(uv_timer_t *t) {
    if (enabled && (cmd || sub) && !(cmd_up && sub_up) &&
        uv_now(loop) - connect_started_ms > CONNECT_TIMEOUT_MS) {
        drop_link(NULL, "connect timed out");
        return;
    }
    if (enabled && cmd_up) {
        uint64_t now = uv_now(loop);
        if (ping_sent_ms && now - ping_sent_ms > PING_TIMEOUT_MS) {
            log_warn("bus: Redis did not answer for %d ms", PING_TIMEOUT_MS);
            drop_link(NULL, "no answer");
            return;
        }
        if (!ping_sent_ms) {
            const char *argv[1] = {"PING"};
            size_t lens[1] = {4};
            command(cmd, on_pong, NULL, 1, argv, lens);
            ping_sent_ms = now;
        }
    }
    bus_presence();
}

void bus_presence(void) { hub_each_room(presence_room, NULL); }

static const hub_observer room_observer = {bus_room_opened, bus_room_closed};

int bus_start(uv_loop_t *l) {
    loop = l;
    hub_add_observer(&room_observer);
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(proc_id, sizeof proc_id, rnd, sizeof rnd);
    enabled = srv.cfg.redis_host != NULL;
    uv_timer_init(loop, &tick_timer);
    uv_timer_init(loop, &reconnect_timer);
    uv_timer_init(loop, &catchup_timer);
    uv_idle_init(loop, &pres_idle);
    pres_by_article = dict_new();
    timers_on = true;
    uv_timer_start(&tick_timer, on_tick, TICK_MS, TICK_MS);
    if (enabled)
        uv_timer_start(&catchup_timer, on_catchup_tick, (uint64_t)srv.cfg.catchup_ms,
                       (uint64_t)srv.cfg.catchup_ms);
    if (enabled) connect_redis();
    return 0;
}

void bus_stop(void) {
    if (!timers_on) return;
    timers_on = false;
    uv_timer_stop(&tick_timer);
    uv_timer_stop(&reconnect_timer);
    uv_timer_stop(&catchup_timer);
    uv_close((uv_handle_t *)&tick_timer, NULL);
    uv_close((uv_handle_t *)&reconnect_timer, NULL);
    uv_close((uv_handle_t *)&catchup_timer, NULL);
    if (pres_idle_on) uv_idle_stop(&pres_idle);
    pres_idle_on = false;
    uv_close((uv_handle_t *)&pres_idle, NULL);
    while (pres_head) {
        pres_pending *p = pres_head;
        pres_head = p->next;
        free(p->article);
        free(p);
    }
    pres_tail = &pres_head;
    dict_free(pres_by_article, NULL);
    pres_by_article = NULL;
    drop_link(NULL, "stopping");
    enabled = false;
    dict_free(counters, free);
    counters = NULL;
    lc_head = lc_tail = NULL;
}
