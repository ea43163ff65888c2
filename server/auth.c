/* auth.c: moderator accounts, login, sessions and the moderator command line. */
#include "auth.h"
#include "alloc.h"
#include "clock.h"

#include <getopt.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bus.h"
#include "store_comments.h"
#include "dict.h"
#include "log.h"
#include "names.h"
#include "net.h"
#include "server.h"
#include "store.h"
#include "store_accounts.h"

#define COOKIE "parley_session"

/* ---- Tokens and cookies ---- */

void auth_token_hash(const char *token, char out[65]) {
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* Finds parley_session=VALUE in a Cookie header; returns a malloc'd value or NULL. */
static char *cookie_token(const char *header) {
    const char *p = header;
    size_t klen = strlen(COOKIE);
    while (p && *p) {
        while (*p == ' ' || *p == ';') p++;
        if (!strncmp(p, COOKIE, klen) && p[klen] == '=') {
            const char *v = p + klen + 1, *e = strchr(v, ';');
            size_t n = e ? (size_t)(e - v) : strlen(v);
            if (n == 0 || n > 128) return NULL;
            return xstrndup(v, n);
        }
        p = strchr(p, ';');
    }
    return NULL;
}

static char *request_token(struct lws *wsi) {
    char buf[2048];
    if (lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_COOKIE) <= 0) return NULL;
    return cookie_token(buf);
}

char *auth_http_token(http_req *r) { return request_token(r->wsi); }

/* The console's WebSocket carries the cookie; it counts only from our own pages. */
static void ws_hook(conn_t *c) {
    char origin[256], cookies[2048];
    if (conn_header(c, "cookie:", cookies, sizeof cookies) <= 0) return;
    char *token = cookie_token(cookies);
    if (!token) return;
    /* the transport handle is the lws wsi that net's helpers take */
    if (conn_header(c, "origin:", origin, sizeof origin) <= 0 ||
        !net_own_origin(c->transport, origin)) {
        clog_warn(c->id, "auth: session cookie from a foreign origin ignored");
        free(token);
        return;
    }
    conn_person *p = conn_person_of(c);
    free(p->session);
    p->session = token;
}

/* Looks a session up; an ended one is deleted. With touch, its use moves last_seen. */
static int session_lookup(db_t *db, const char *token_hash, int64_t now, bool touch,
                          char **name, char **role) {
    int64_t idle_ms = srv.cfg.idle_minutes * 60000;
    store_accounts_session s;
    int found = store_accounts_session_get(db, token_hash, &s);
    if (found < 0) return PERR_INTERNAL;
    if (!found || now >= s.expires_at || now - s.last_seen >= idle_ms) {
        store_accounts_session_free(&s);
        store_accounts_session_delete(db, token_hash);
        return PERR_UNAUTHORIZED;
    }
    if (name) {
        *name = s.moderator;
        *role = s.role;
    } else {
        store_accounts_session_free(&s);
    }
    if (touch) store_accounts_session_touch(db, token_hash, now);
    return 0;
}

int auth_session_check(db_t *db, const char *token_hash, int64_t now, char **name,
                       char **role) {
    return session_lookup(db, token_hash, now, true, name, role);
}

/* ---- Open consoles whose session ends ----
 * A console's WebSocket gets the queue's events (held texts, authors, reports) for as
 * long as c->moderator is set; a mod.* request re-checks the session, but a console that
 * only listens sends none. So every console_check_ms the sessions of the open consoles
 * are looked up (without counting as use); one that has ended (logout, password change,
 * removal, expiry, idleness, on whichever process) loses the events and is closed. A
 * logout ends its own process's consoles of that session at once. */

/* Takes a console's rights away and closes it: the console reconnects, is refused at
 * mod.hello and shows the sign-in form. */
static void end_console(conn_t *c) {
    if (!c->moderator) return;
    c->moderator = false;
    clog_info(c->id, "auth: console closed: its session has ended");
    conn_error(c, NULL, PERR_UNAUTHORIZED, "Your session has ended; sign in again.");
    conn_close(c, 1008);
}

typedef struct {
    store_job job;
    size_t n, cap;
    uint64_t *conn_ids;
    char (*hashes)[65];
    bool *ended;
} console_check;

static uv_timer_t check_timer;
static bool check_in_flight; /* loop thread only */

static void add_console(conn_t *c, void *arg) {
    console_check *k = arg;
    if (!c->moderator || !c->person || !c->person->session) return;
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 8;
        k->conn_ids = xrealloc(k->conn_ids, k->cap * sizeof *k->conn_ids);
        k->hashes = xrealloc(k->hashes, k->cap * sizeof *k->hashes);
    }
    k->conn_ids[k->n] = c->id;
    auth_token_hash(c->person->session, k->hashes[k->n]);
    k->n++;
}

static int run_console_check(store_job *job, db_t *db) {
    console_check *k = (console_check *)job;
    int64_t now = now_ms();
    for (size_t i = 0; i < k->n; i++)
        k->ended[i] = session_lookup(db, k->hashes[i], now, false, NULL, NULL) == PERR_UNAUTHORIZED;
    return 0;
}

static void done_console_check(store_job *job) {
    console_check *k = (console_check *)job;
    check_in_flight = false;
    for (size_t i = 0; !job->status && i < k->n; i++) {
        conn_t *c = k->ended[i] ? conn_by_id(k->conn_ids[i]) : NULL;
        if (c) end_console(c);
    }
    free(k->conn_ids);
    free(k->hashes);
    free(k->ended);
    free(k);
}

static void on_check_timer(uv_timer_t *t) {
    (void)t;
    if (check_in_flight || !srv.store || srv.shutting_down) return;
    console_check *k = xcalloc(1, sizeof *k);
    conn_each(add_console, k);
    if (!k->n) {
        free(k);
        return;
    }
    k->ended = xcalloc(k->n, sizeof *k->ended);
    k->job.run = run_console_check;
    k->job.done = done_console_check;
    k->job.read_only = false; /* an ended session is deleted */
    check_in_flight = true;
    store_submit(srv.store, &k->job);
}

/* A logout: this process's consoles of that session end now. */
static void end_session_consoles(conn_t *c, void *arg) {
    char h[65];
    if (!c->moderator || !c->person || !c->person->session) return;
    auth_token_hash(c->person->session, h);
    if (!strcmp(h, (const char *)arg)) end_console(c);
}

/* ---- Login throttling: failures per name and per address within a window ----
 * The counters live in Redis when it is configured (shared by every process), else here
 * (bus.h). */

static long window_ms(void) { return srv.cfg.login_window_minutes * 60000; }

/* A failure past the free attempts locks the key for a delay that doubles with each
 * further failure, up to the window: 2 s, 4 s, 8 s ... A real moderator elsewhere is
 * never slowed, since what is counted is a (name, address) pair and an address, never a
 * name alone. */
static long delay_ms(long failures, long free) {
    long over = failures - free;
    if (over <= 0) return 0;
    long d = 1000L << (over > 20 ? 20 : over);
    return d < window_ms() ? d : window_ms();
}

/* ---- HTTP ---- */

static int json_reply(http_req *r, int status, json_t *body, const char *cookie) {
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    http_header h[2] = {{"cache-control", "no-store"}};
    int nh = 1;
    if (cookie) h[nh++] = (http_header){"set-cookie", cookie};
    int rc = net_http_respond(r, status, "application/json", h, nh, text, strlen(text));
    free(text);
    return rc;
}

static int error_reply(http_req *r, int status, const char *code) {
    return json_reply(r, status, json_pack("{s:s}", "error", code), NULL);
}

/* A login in flight: looked up, verified off the loop, then a session stored. */
typedef struct {
    store_job job;
    uint64_t http_id;
    char *name, *password, *pwhash, *role;
    char pair_key[140], ip_key[48], pair_lock[140], ip_lock[48];
    long pair_n, ip_n;        /* attempts counted before this one finished (incl. it) */
    bool inflight;            /* holds the pair's place in `inflight` */
    char token[65], token_hash[65];
    int ok;
    uv_work_t work;
} login_t;

/* (name, address) pairs with a password being hashed now: one at a time per pair, so
 * guesses sent in parallel cannot each buy a hash before the first failure locks. */
static dict_t *inflight;

static void login_free(login_t *l) {
    if (l->inflight && inflight) dict_del(inflight, l->pair_key);
    if (l->password) sodium_memzero(l->password, strlen(l->password));
    free(l->name);
    free(l->password);
    free(l->pwhash);
    free(l->role);
    free(l);
}

static int run_login_lookup(store_job *job, db_t *db) {
    login_t *l = (login_t *)job;
    store_accounts_moderator m;
    int found = store_accounts_moderator_get(db, l->name, &m);
    if (found < 0) return PERR_INTERNAL;
    if (found) {
        l->pwhash = m.pwhash;
        l->role = m.role;
        m.pwhash = m.role = NULL;
        store_accounts_moderator_free(&m);
    }
    return 0;
}

static int run_login_session(store_job *job, db_t *db) {
    login_t *l = (login_t *)job;
    int64_t now = db_now_ms(db);
    store_accounts_sessions_expire(db, now);
    return store_accounts_session_insert(db, l->token_hash, l->name, now,
                                         now + srv.cfg.session_hours * 3600000)
               ? PERR_UNAVAILABLE
               : 0;
}

static void done_login_session(store_job *job) {
    login_t *l = (login_t *)job;
    http_req *r = net_http_by_id(l->http_id);
    if (r) {
        if (job->status) {
            error_reply(r, 503, "unavailable");
        } else {
            char cookie[256];
            snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; "
                                                   "Max-Age=%ld%s",
                     l->token, srv.cfg.session_hours * 3600,
                     srv.cfg.behind_tls ? "; Secure" : "");
            json_reply(r, 200, json_pack("{s:s, s:s}", "name", l->name, "role", l->role),
                       cookie);
        }
    }
    login_free(l);
}

/* Threadpool: argon2id is slow on purpose; it must not run on the loop or the storage
 * thread. An unknown name costs a hash too, so timing does not tell names apart. */
static void login_verify(uv_work_t *w) {
    login_t *l = w->data;
    if (l->pwhash) {
        l->ok = crypto_pwhash_str_verify(l->pwhash, l->password, strlen(l->password)) == 0;
    } else {
        char dummy[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str(dummy, l->password, strlen(l->password),
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            log_warn("auth: out of memory hashing");
        l->ok = 0;
    }
}

static void login_verified(uv_work_t *w, int status) {
    login_t *l = w->data;
    http_req *r = net_http_by_id(l->http_id);
    if (!l->ok) {
        /* The attempt was counted before hashing; past the free ones it locks. */
        long dp = delay_ms(l->pair_n, srv.cfg.login_attempts - 1);
        long di = delay_ms(l->ip_n, srv.cfg.login_attempts * 4 - 1);
        if (dp) bus_counter_add(l->pair_lock, dp);
        if (di) bus_counter_add(l->ip_lock, di);
        log_warn("auth: failed login for '%.40s'", l->name);
        if (r) error_reply(r, 401, "unauthorized");
        login_free(l);
        return;
    }
    bus_counter_reset(l->pair_key);
    bus_counter_reset(l->pair_lock);
    log_info("auth: '%.40s' signed in", l->name);
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(l->token, sizeof l->token, raw, sizeof raw);
    auth_token_hash(l->token, l->token_hash);
    l->job.run = run_login_session;
    l->job.done = done_login_session;
    store_submit(srv.store, &l->job);
}

static void done_login_lookup(store_job *job) {
    login_t *l = (login_t *)job;
    if (job->status || !net_http_by_id(l->http_id)) {
        http_req *r = net_http_by_id(l->http_id);
        if (r) error_reply(r, 503, "unavailable");
        login_free(l);
        return;
    }
    l->work.data = l;
    uv_queue_work(srv.loop, &l->work, login_verify, login_verified);
}

/* The attempt has been counted (before any hashing, so parallel guesses are counted
 * too): look the moderator up. */
static void login_counted(const long *vals, long ttl_ms, void *arg) {
    login_t *l = arg;
    if (!net_http_by_id(l->http_id)) {
        login_free(l);
        return;
    }
    l->pair_n = vals[0];
    l->ip_n = vals[1];
    if (dict_get(inflight, l->pair_key)) {
        http_req *r = net_http_by_id(l->http_id);
        log_warn("auth: login for '%.40s' refused: another attempt is in progress", l->name);
        login_free(l);
        http_header h[2] = {{"retry-after", "1"}, {"cache-control", "no-store"}};
        const char *text = "{\"error\":\"rate_limited\",\"retry_after\":1}";
        net_http_respond(r, 429, "application/json", h, 2, text, strlen(text));
        return;
    }
    dict_set(inflight, l->pair_key, (void *)1, NULL);
    l->inflight = true;
    l->job.run = run_login_lookup;
    l->job.done = done_login_lookup;
    store_submit(srv.store, &l->job);
}

/* Refuses with 429 while the pair or the address is locked; else counts the attempt. */
static void login_checked(const long *vals, long ttl_ms, void *arg) {
    login_t *l = arg;
    http_req *r = net_http_by_id(l->http_id);
    if (!r) {
        login_free(l);
        return;
    }
    if (vals[0] > 0 || vals[1] > 0) {
        long wait = ttl_ms > 0 ? (ttl_ms + 999) / 1000 : 1;
        log_warn("auth: login for '%.40s' refused: too many failures", l->name);
        login_free(l);
        char ra[24];
        snprintf(ra, sizeof ra, "%ld", wait);
        json_t *j = json_pack("{s:s, s:I}", "error", "rate_limited", "retry_after",
                              (json_int_t)wait);
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        http_header h[2] = {{"retry-after", ra}, {"cache-control", "no-store"}};
        net_http_respond(r, 429, "application/json", h, 2, text, strlen(text));
        free(text);
        return;
    }
    const char *keys[2] = {l->pair_key, l->ip_key};
    const long windows[2] = {window_ms(), window_ms()};
    bus_counter_add_get(keys, windows, 2, login_counted, l);
}

static int route_login(http_req *r) {
    if (r->origin[0] && !net_own_origin(r->wsi, r->origin)) {
        log_warn("auth: login from foreign origin %.80s refused", r->origin);
        return error_reply(r, 403, "forbidden");
    }
    char ctype[128] = "";
    lws_hdr_copy(r->wsi, ctype, sizeof ctype, WSI_TOKEN_HTTP_CONTENT_TYPE);
    if (strncmp(ctype, "application/json", 16) != 0)
        return error_reply(r, 415, "send application/json");
    json_t *body = json_loadb(r->body, r->body_len, 0, NULL);
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    if (!name || !pw || !*name || strlen(name) > 64 || !*pw || strlen(pw) > 1024) {
        json_decref(body);
        return error_reply(r, 400, "bad_request");
    }
    login_t *l = xcalloc(1, sizeof *l);
    char addr[128], iph[33];
    net_client_addr(r->wsi, addr, sizeof addr);
    server_hash_hex(addr, strlen(addr), iph);
    snprintf(l->pair_key, sizeof l->pair_key, "login:p:%s:%s", iph, name);
    snprintf(l->ip_key, sizeof l->ip_key, "login:i:%s", iph);
    snprintf(l->pair_lock, sizeof l->pair_lock, "login:lp:%s:%s", iph, name);
    snprintf(l->ip_lock, sizeof l->ip_lock, "login:li:%s", iph);
    l->http_id = r->id;
    l->name = xstrdup(name);
    l->password = xstrdup(pw);
    json_decref(body);
    const char *keys[2] = {l->pair_lock, l->ip_lock};
    bus_counter_get(keys, 2, login_checked, l);
    return 1;
}

/* /api/mod/me and /api/mod/logout: a session looked up by its cookie. */
typedef struct {
    store_job job;
    uint64_t http_id;
    char token_hash[65];
    char *name, *role;
    bool logout;
} session_job;

static int run_session(store_job *job, db_t *db) {
    session_job *s = (session_job *)job;
    if (s->logout) {
        store_accounts_session_delete(db, s->token_hash);
        return 0;
    }
    return auth_session_check(db, s->token_hash, now_ms(), &s->name, &s->role);
}

/* 204 No Content, the cookie cleared (docs/protocol.md). */
static int logout_reply(http_req *r) {
    http_header h[2] = {{"cache-control", "no-store"},
                        {"set-cookie", COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"}};
    return net_http_respond(r, 204, "text/plain; charset=utf-8", h, 2, "", 0);
}

static void done_session(store_job *job) {
    session_job *s = (session_job *)job;
    http_req *r = net_http_by_id(s->http_id);
    if (s->logout) conn_each(end_session_consoles, s->token_hash);
    if (r) {
        if (s->logout)
            logout_reply(r);
        else if (job->status)
            error_reply(r, 401, "unauthorized");
        else
            json_reply(r, 200, json_pack("{s:s, s:s}", "name", s->name, "role", s->role), NULL);
    }
    free(s->name);
    free(s->role);
    free(s);
}

static int session_route(http_req *r, bool logout) {
    if (logout && r->origin[0] && !net_own_origin(r->wsi, r->origin))
        return error_reply(r, 403, "forbidden");
    char *token = request_token(r->wsi);
    if (!token) return logout ? logout_reply(r) : error_reply(r, 401, "unauthorized");
    session_job *s = xcalloc(1, sizeof *s);
    s->http_id = r->id;
    s->logout = logout;
    auth_token_hash(token, s->token_hash);
    free(token);
    s->job.run = run_session;
    s->job.done = done_session;
    store_submit(srv.store, &s->job);
    return 1;
}

static int route_me(http_req *r) { return session_route(r, false); }
static int route_logout(http_req *r) { return session_route(r, true); }

void auth_init(void) {
    inflight = dict_new();
    net_add_route("POST", "/api/mod/login", route_login);
    net_add_route("POST", "/api/mod/logout", route_logout);
    net_add_route("GET", "/api/mod/me", route_me);
    conn_add_open_hook(ws_hook);
    if (srv.loop) {
        uint64_t ms = (uint64_t)srv.cfg.session_check_seconds * 1000;
        uv_timer_init(srv.loop, &check_timer);
        uv_timer_start(&check_timer, on_check_timer, ms, ms);
        uv_unref((uv_handle_t *)&check_timer); /* never keeps the loop (or a shutdown) waiting;
                                                 * closed with the loop's other handles */
    }
}

void auth_shutdown(void) {
    dict_free(inflight, NULL);
    inflight = NULL;
}

/* ---- parley moderator ... ---- */

/* Reads a password: from the terminal without echo (asked twice), or the first line of
 * stdin when it is not a terminal. Returns a malloc'd string or NULL. */
static char *read_password(void) {
    char buf[1100], again[1100];
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fprintf(stderr, "Password: ");
    }
    char *got = fgets(buf, sizeof buf, stdin);
    if (tty && got) {
        fprintf(stderr, "\nAgain: ");
        if (!fgets(again, sizeof again, stdin)) got = NULL;
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (!got) return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    if (tty) {
        again[strcspn(again, "\r\n")] = '\0';
        if (strcmp(buf, again)) {
            fprintf(stderr, "parley: the passwords differ\n");
            return NULL;
        }
    }
    return xstrdup(buf);
}

static int valid_name(const char *n) {
    size_t len = strlen(n);
    if (len < 1 || len > 64) return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-' || *p == '@'))
            return 0;
    return 1;
}

/* Prints one line of `parley moderator list`. */
static void print_moderator(const store_accounts_moderator *m, void *arg) {
    (void)arg;
    char when[32];
    comment_time(m->created_at, when);
    printf("%-24s %-10s %s\n", m->name, m->role, when);
}

int auth_cli(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"role", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    const char *config = "moderation.yml", *data = NULL, *role = "moderator";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:r:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'd': data = optarg; break;
        case 'r': role = optarg; break;
        default: return 2;
        }
    }
    const char *cmd = argv[0];
    const char *name = optind < argc ? argv[optind] : NULL;
    if (strcmp(role, "admin") && strcmp(role, "moderator")) {
        fprintf(stderr, "parley: --role is admin or moderator\n");
        return 2;
    }
    if (strcmp(cmd, "list") && (!name || !valid_name(name))) {
        fprintf(stderr, "parley moderator %s: give a NAME (1-64 of A-Z a-z 0-9 . _ - @)\n", cmd);
        return 2;
    }
    char err[CFG_ERRLEN];
    config_t cfg;
    if (config_load(config, &cfg, err, sizeof err)) {
        fprintf(stderr, "parley: %s\n", err);
        config_free(&cfg);
        return 1;
    }
    db_t *db = store_open_sync(data ? data : cfg.data_dir);
    config_free(&cfg);
    if (!db) return 1;
    int rc = 0;
    if (!strcmp(cmd, "list")) {
        if (store_accounts_moderator_each(db, print_moderator, NULL) < 0) {
            fprintf(stderr, "parley: cannot list the moderators: %s\n", db_errmsg(db));
            rc = 1;
        }
    } else if (!strcmp(cmd, "remove")) {
        if (store_accounts_moderator_remove(db, name) != 1) {
            fprintf(stderr, "parley: no moderator '%s'\n", name);
            rc = 1;
        } else {
            /* their name is free again, unless another moderator's folds to it */
            names_release(db, name, "moderator");
            names_reserve_moderators(db);
        }
    } else if (!strcmp(cmd, "add") || !strcmp(cmd, "passwd")) {
        char *pw = read_password();
        char hash[crypto_pwhash_STRBYTES];
        if (!pw || strlen(pw) < 8) {
            fprintf(stderr, "parley: a password needs at least 8 characters\n");
            rc = 1;
        } else if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                     crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
            fprintf(stderr, "parley: out of memory hashing the password\n");
            rc = 1;
        } else if (!strcmp(cmd, "add")) {
            int added = store_accounts_moderator_add(db, name, role, hash, now_ms());
            if (added) {
                fprintf(stderr, "parley: cannot add '%s': %s\n", name,
                        added > 0 ? "the name is taken" : db_errmsg(db));
                rc = 1;
            } else {
                names_reserve(db, name, "moderator"); /* guests cannot post as them */
                printf("added %s (%s)\n", name, role);
            }
        } else {
            if (store_accounts_moderator_set_pwhash(db, name, hash) != 1) {
                fprintf(stderr, "parley: no moderator '%s'\n", name);
                rc = 1;
            } else {
                store_accounts_sessions_delete_for(db, name);
                printf("password changed for %s; their sessions are closed\n", name);
            }
        }
        if (pw) {
            sodium_memzero(pw, strlen(pw));
            free(pw);
        }
    } else {
        fprintf(stderr, "parley moderator: add, list, remove or passwd\n");
        rc = 2;
    }
    db_close(db);
    return rc;
}
