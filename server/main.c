/* main.c: the command line, start-up, reload and clean shutdown of `parley`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "alloc.h"
#include "clock.h"
#include "bus.h"
#include "comments.h"
#include "proto.h"
#include "identity.h"
#include "conn.h"
#include "counts.h"
#include "flood.h"
#include "feed.h"
#include "hub.h"
#include "import.h"
#include "identity.h"
#include "jwt.h"
#include "log.h"
#include "metrics.h"
#include "moderation.h"
#include "net.h"
#include "reader.h"
#include "notify.h"
#include "outbox.h"
#include "permalink.h"
#include "reactions.h"
#include "rules.h"
#include "server.h"
#include "status.h"
#include "store.h"
#include "store_copy.h"
#include "names.h"
#include "wiring.h"

static uv_signal_t sig_term, sig_int, sig_hup;
static uv_timer_t shutdown_timer;
static uint64_t shutdown_started;
static int shutdown_phase;

static ruleset_t *ruleset_new(rules_t *r) {
    ruleset_t *rs = xcalloc(1, sizeof *rs);
    rs->rules = r;
    atomic_init(&rs->refs, 1);
    return rs;
}

/* ---- Signals ---- */

/* SIGHUP: re-read moderation.yml; a file that fails keeps the running rules. Reading
 * the file and compiling the rules (word lists, PCRE2 JIT) takes tens of milliseconds, so
 * it runs on libuv's thread pool; the loop only swaps the result in. */
typedef struct {
    uv_work_t work;
    config_t nc;
    rules_t *rules;
    jwt_keys *keys;
    char err[CFG_ERRLEN];
    const char *kept;  /* what stays running when the reload fails */
    bool ok;
} reload_t;

static bool reloading;

static void reload_work(uv_work_t *w) {
    reload_t *r = w->data;
    r->kept = "configuration";
    if (config_load(srv.cfg.file, &r->nc, r->err, sizeof r->err)) return;
    r->kept = "rules";
    r->rules = rules_load(r->nc.tree, r->nc.file, r->nc.base_dir, r->err, sizeof r->err);
    if (!r->rules) return;
    r->kept = "configuration";
    r->err[0] = '\0';
    r->keys = jwt_keys_load(cfg_get(r->nc.tree, "identity"), r->nc.file, r->err, sizeof r->err);
    if (!r->keys && r->err[0]) {
        rules_free(r->rules);
        r->rules = NULL;
        return;
    }
    r->ok = true;
}

static void reload_done(uv_work_t *w, int status) {
    reload_t *r = w->data;
    reloading = false;
    if (!r->ok || status) {
        log_err("reload: kept the running %s: %s", r->kept ? r->kept : "configuration", r->err);
        config_free(&r->nc);
        free(r);
        return;
    }
    jwt_keys_free(srv.keys);
    srv.keys = r->keys;
    ruleset_t *old = srv.ruleset;
    srv.ruleset = ruleset_new(r->rules);
    ruleset_put(old);
    size_t nrules, nwords;
    rules_summary(r->rules, &nrules, &nwords);
    /* Settings that need no re-listen take effect now; listen and data_dir need a restart. */
    srv.cfg.guests = r->nc.guests;
    srv.cfg.limit_title = r->nc.limit_title;
    srv.cfg.limit_body = r->nc.limit_body;
    srv.cfg.limit_name = r->nc.limit_name;
    srv.cfg.client_rate = r->nc.client_rate;
    srv.cfg.client_burst = r->nc.client_burst;
    log_info("reload: %s: %zu rules, %zu words", r->nc.file, nrules, nwords);
    config_free(&r->nc);
    free(r);
}

static void on_hup(uv_signal_t *h, int signum) {
    if (reloading || srv.shutting_down) return; /* one at a time */
    reload_t *r = xcalloc(1, sizeof *r);
    r->work.data = r;
    reloading = true;
    uv_queue_work(srv.loop, &r->work, reload_work, reload_done);
}

static void close_handle(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* Shutdown runs in phases on a timer: (1) stop taking work and let the storage thread
 * commit and acknowledge what it has; (2) close every WebSocket with 1001; (3) stop. */
static void on_shutdown_tick(uv_timer_t *t) {
    uint64_t waited = mono_ms() - shutdown_started;
    if (shutdown_phase == 1) {
        if (store_pending(srv.store) && waited < 5000) return;
        shutdown_phase = 2;
        conn_close_all(1001);
        shutdown_started = mono_ms();
        return;
    }
    if (shutdown_phase == 2) {
        if (metrics.connections && waited < 3000) return;
        shutdown_phase = 3;
        uv_timer_stop(t);
        /* The bus first: its pending Redis callbacks (shared counters of posts in
         * flight) may still submit storage jobs, which the store then commits and
         * answers before it closes; a job submitted after that is answered
         * `unavailable` (store_submit on a closed store). */
        bus_stop();
        store_close(srv.store);
        srv.store = NULL;
        outbox_stop();
        uv_signal_stop(&sig_term);
        uv_signal_stop(&sig_int);
        uv_signal_stop(&sig_hup);
        net_stop();
        uv_close((uv_handle_t *)&sig_term, NULL);
        uv_close((uv_handle_t *)&sig_int, NULL);
        uv_close((uv_handle_t *)&sig_hup, NULL);
        uv_close((uv_handle_t *)t, NULL);
    }
}

static void on_term(uv_signal_t *h, int signum) {
    if (srv.shutting_down) {
        log_warn("main: second signal: exiting now");
        exit(1);
    }
    log_info("main: %s: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    srv.shutting_down = true;
    shutdown_phase = 1;
    shutdown_started = mono_ms();
    uv_timer_start(&shutdown_timer, on_shutdown_tick, 0, 20);
}

/* ---- Commands ---- */

static void usage(FILE *f) {
    fprintf(f,
            "Usage:\n"
            "  parley serve [--config FILE] [--listen HOST:PORT] [--data DIR] [--log-level LEVEL]\n"
            "  parley rules check [--config FILE]\n"
            "  parley rules test  [--config FILE] [--data DIR]   (JSON lines on stdin)\n"
            "  parley rules learn --data DIR   ({\"title\",\"body\",\"label\"} lines on stdin)\n"
            "  parley moderator add NAME [--role admin|moderator] [--config FILE] [--data DIR]\n"
            "  parley moderator list | remove NAME | passwd NAME  [--config FILE] [--data DIR]\n"
            "  parley import FORMAT FILE [--config FILE] [--data DIR] [--dry-run] [--article-map FILE]\n"
            "                (FORMAT: disqus wordpress isso remark42 commento parley)\n"
            "  parley export [--config FILE] [--data DIR] [--article ID]   (JSON lines on stdout)\n"
            "  parley backup FILE [--config FILE] [--data DIR]\n"
            "  parley reader export|erase AUTHOR-ID [--config FILE] [--data DIR] [--by NAME]\n"
            "  parley store copy --from DIR --to CONNINFO   (an SQLite data dir into PostgreSQL)\n"
            "  parley --help | --version\n"
            "\n"
            "Every command that takes --data also takes --store CONNINFO (a libpq connection\n"
            "string or URI): the store is then in PostgreSQL, as with storage.postgres in\n"
            "moderation.yml. `backup` is SQLite's alone: use pg_dump for PostgreSQL.\n"
            "\n"
            "Parley is a live comment and moderation server. `serve` reads moderation.yml\n"
            "(default ./moderation.yml); the flags override its values. LEVEL is debug,\n"
            "info, warn or error. SIGHUP reloads the rules; SIGTERM/SIGINT stop cleanly.\n");
}

/* Takes --store CONNINFO (or --store=CONNINFO) out of argv, for every command, before
 * the command parses its own flags; without it, reads storage.postgres from the config
 * the command will use (--config/-c FILE, default ./moderation.yml, when it exists and
 * loads; a config that fails is left to the command to report). Sets the store's
 * PostgreSQL target. Returns 0, or 2 on a bad --store. */
/* Reserves the moderators' names before the first post (names.h): accounts made before
 * names were reserved, or copied in, count too. Returns 0, or 1 when the store cannot be
 * opened. */
static int reserve_moderator_names(const char *dir) {
    db_t *db = store_open_sync(dir);
    if (!db) return 1;
    if (names_reserve_moderators(db)) log_warn("names: cannot reserve the moderators' names");
    db_close(db);
    return 0;
}

static int take_store_target(int *argc, char **argv) {
    const char *store = NULL, *config = "moderation.yml";
    bool given = false;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (!strcmp(argv[i], "--store") || !strncmp(argv[i], "--store=", 8)) {
            if (argv[i][7] == '=') {
                store = argv[i] + 8;
            } else if (i + 1 < *argc) {
                store = argv[++i];
            } else {
                store = "";
            }
            given = true;
            continue;
        }
        if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c")) && i + 1 < *argc)
            config = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            config = argv[i] + 9;
        argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;
    if (given) {
        if (!*store) {
            fprintf(stderr, "parley: --store needs a PostgreSQL connection string or URI\n");
            return 2;
        }
        store_set_postgres(store);
        return 0;
    }
    if (access(config, R_OK)) return 0;
    config_t c;
    memset(&c, 0, sizeof c);
    char err[CFG_ERRLEN];
    if (!config_load(config, &c, err, sizeof err) && c.postgres) store_set_postgres(c.postgres);
    config_free(&c);
    return 0;
}

static int ip_key_from_store(unsigned char *key, size_t len) {
    return store_secret("ip-hash", key, len);
}

static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int cmd_serve(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"log-level", required_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = "moderation.yml", *listen = NULL, *data = NULL, *level = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:l:d:v:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'l': listen = optarg; break;
        case 'd': data = optarg; break;
        case 'v': level = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "parley serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    char err[CFG_ERRLEN];
    if (config_load(config, &srv.cfg, err, sizeof err)) {
        fprintf(stderr, "parley: %s\n", err);
        return 1;
    }
    if (listen) {
        free(srv.cfg.listen_host);
        srv.cfg.listen_host = NULL;
        if (config_parse_listen(listen, &srv.cfg.listen_host, &srv.cfg.listen_port)) {
            fprintf(stderr, "parley: --listen must be HOST:PORT, not '%s'\n", listen);
            return 2;
        }
    }
    if (data) {
        free(srv.cfg.data_dir);
        srv.cfg.data_dir = xstrdup(data);
    }
    if (level) {
        int lv = log_level_parse(level);
        if (lv < 0) {
            fprintf(stderr, "parley: --log-level must be debug, info, warn or error\n");
            return 2;
        }
        srv.cfg.log_level = lv;
    }
    log_set_level((log_level_t)srv.cfg.log_level);

    rules_t *rules = rules_load(srv.cfg.tree, srv.cfg.file, srv.cfg.base_dir, err, sizeof err);
    if (!rules) {
        fprintf(stderr, "parley: %s\n", err);
        return 1;
    }
    srv.ruleset = ruleset_new(rules);
    srv.rules_state = rules_state_new();
    srv.keys = jwt_keys_load(cfg_get(srv.cfg.tree, "identity"), srv.cfg.file, err, sizeof err);
    if ((!srv.keys && err[0]) ||
        identity_check_badges(cfg_get(srv.cfg.tree, "identity"), srv.cfg.file, err, sizeof err)) {
        fprintf(stderr, "parley: %s\n", err);
        return 1;
    }

    raise_fd_limit();
    json_object_seed(0);
    if (mkdir(srv.cfg.data_dir, 0700) && errno != EEXIST) {
        fprintf(stderr, "parley: cannot create %s: %s\n", srv.cfg.data_dir, strerror(errno));
        return 1;
    }
    if (store_wait_reachable(srv.cfg.start_wait_ms)) return 1;
    if (server_load_ip_key(srv.cfg.data_dir)) return 1;
    if (reserve_moderator_names(srv.cfg.data_dir)) return 1;
    if (notify_init()) return 1;

    uv_loop_t loop;
    uv_loop_init(&loop);
    srv.loop = &loop;
    srv.ip_counts = dict_new();
    wiring_init(&loop, srv.cfg.redis_host != NULL);
    /* Listen first: a port in use stops start-up before anything else is running. */
    if (net_start(&loop)) return 1;
    srv.store = store_open(&loop, srv.cfg.data_dir, (int)srv.cfg.batch_max);
    if (!srv.store) return 1;
    store_set_max_pending(srv.store, (unsigned)srv.cfg.queue_max);
    if (outbox_start()) return 1;
    bus_start(&loop);
    uv_signal_init(&loop, &sig_term);
    uv_signal_init(&loop, &sig_int);
    uv_signal_init(&loop, &sig_hup);
    uv_signal_start(&sig_term, on_term, SIGTERM);
    uv_signal_start(&sig_int, on_term, SIGINT);
    uv_signal_start(&sig_hup, on_hup, SIGHUP);
    uv_timer_init(&loop, &shutdown_timer);
    signal(SIGPIPE, SIG_IGN);

    size_t nrules, nwords;
    rules_summary(rules, &nrules, &nwords);
    log_info("main: parley %s listening on http://%s:%d (config %s, data %s, %zu rules, "
             "%zu words)",
             PARLEY_VERSION, srv.cfg.listen_host, srv.cfg.listen_port, srv.cfg.file,
             srv.cfg.data_dir, nrules, nwords);

    uv_run(&loop, UV_RUN_DEFAULT);

    /* As LWS-NOTES describe: destroy again (a no-op now), close what is left, run once. */
    net_stop();
    uv_walk(&loop, close_handle, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    hub_shutdown();
    flood_shutdown();
    reactions_shutdown();
    permalink_shutdown();
    moderation_shutdown();
    auth_shutdown();
    conn_shutdown();
    dict_free(srv.ip_counts, NULL);
    ruleset_put(srv.ruleset);
    rules_state_free(srv.rules_state);
    jwt_keys_free(srv.keys);
    config_free(&srv.cfg);
    log_info("main: stopped");
    return 0;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) {
        fprintf(stderr, "parley: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("parley %s\n", PARLEY_VERSION);
        return 0;
    }
    if (take_store_target(&argc, argv)) return 2;
    /* With PostgreSQL the address-hash key lives in the database, so every node (and
     * `parley import`) agrees. */
    if (store_postgres()) server_set_ip_key_source(ip_key_from_store);
    if (!strcmp(cmd, "backup") && store_postgres()) {
        fprintf(stderr, "parley backup: the store is in PostgreSQL; back it up with pg_dump "
                        "(pg_dump -Fc -d CONNINFO -f FILE; docs/operations.md)\n");
        return 2;
    }
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "store")) return store_copy_cli(argc - 2, argv + 2);
    if (!strcmp(cmd, "import")) return import_cli(argc - 1, argv + 1);
    if (!strcmp(cmd, "export")) return export_cli(argc - 1, argv + 1);
    if (!strcmp(cmd, "backup")) return backup_cli(argc - 1, argv + 1);
    if (!strcmp(cmd, "reader") && argc > 2) return reader_cli(argc - 2, argv + 2);
    if (!strcmp(cmd, "moderator")) {
        if (argc < 3) {
            fprintf(stderr, "parley moderator: add, list, remove or passwd\n");
            return 2;
        }
        return auth_cli(argc - 2, argv + 2);
    }
    if (!strcmp(cmd, "rules")) {
        if (argc < 3 || (strcmp(argv[2], "check") && strcmp(argv[2], "test") &&
                         strcmp(argv[2], "learn"))) {
            fprintf(stderr, "parley rules: give check, test or learn\n");
            return 2;
        }
        return rules_cli(argc - 2, argv + 2);
    }
    fprintf(stderr, "parley: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
