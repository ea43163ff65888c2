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
#include "bus.h"
#include "flood.h"
#include "hub.h"
#include "identity.h"
#include "jwt.h"
#include "log.h"
#include "metrics.h"
#include "moderation.h"
#include "net.h"
#include "permalink.h"
#include "reactions.h"
#include "rules.h"
#include "server.h"
#include "store.h"

static uv_signal_t sig_term, sig_int, sig_hup;
static uv_timer_t shutdown_timer;
static uint64_t shutdown_started;
static int shutdown_phase;

static ruleset_t *ruleset_new(rules_t *r) {
    ruleset_t *rs = calloc(1, sizeof *rs);
    rs->rules = r;
    atomic_init(&rs->refs, 1);
    return rs;
}

/* Reads the address-hash key under the data dir, creating it on first start. Processes
 * starting together agree on one key: it is written aside and linked into place, and
 * whoever loses the race reads the winner's. */
static int load_ip_key(const char *dir) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/ip-hash.key", dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, srv.ip_key, sizeof srv.ip_key);
            close(fd);
            if (n == (ssize_t)sizeof srv.ip_key) return 0;
            log_err("main: %s is damaged (want %zu bytes)", path, sizeof srv.ip_key);
            return -1;
        }
        randombytes_buf(srv.ip_key, sizeof srv.ip_key);
        snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, srv.ip_key, sizeof srv.ip_key) != (ssize_t)sizeof srv.ip_key ||
            fsync(fd)) {
            log_err("main: cannot write %s: %s", tmp, strerror(errno));
            if (fd >= 0) close(fd);
            unlink(tmp);
            return -1;
        }
        close(fd);
        int rc = link(tmp, path);
        int e = errno;
        unlink(tmp);
        if (rc == 0) {
            log_info("main: created address-hash key %s", path);
            return 0;
        }
        if (e != EEXIST) {
            log_err("main: cannot create %s: %s", path, strerror(e));
            return -1;
        }
    }
    return -1;
}

/* ---- Signals ---- */

/* SIGHUP: re-read moderation.yml; a file that fails keeps the running rules. */
static void on_hup(uv_signal_t *h, int signum) {
    char err[CFG_ERRLEN];
    config_t nc;
    if (config_load(srv.cfg.file, &nc, err, sizeof err)) {
        log_err("reload: kept the running configuration: %s", err);
        config_free(&nc);
        return;
    }
    rules_t *r = rules_load(nc.tree, nc.file, nc.base_dir, err, sizeof err);
    if (!r) {
        log_err("reload: kept the running rules: %s", err);
        config_free(&nc);
        return;
    }
    jwt_keys *keys = jwt_keys_load(cfg_get(nc.tree, "identity"), nc.file, err, sizeof err);
    if (!keys && err[0]) {
        log_err("reload: kept the running configuration: %s", err);
        rules_free(r);
        config_free(&nc);
        return;
    }
    jwt_keys_free(srv.keys);
    srv.keys = keys;
    ruleset_t *old = srv.ruleset;
    srv.ruleset = ruleset_new(r);
    ruleset_put(old);
    size_t nrules, nwords;
    rules_summary(r, &nrules, &nwords);
    /* Settings that need no re-listen take effect now; listen and data_dir need a restart. */
    srv.cfg.guests = nc.guests;
    srv.cfg.limit_title = nc.limit_title;
    srv.cfg.limit_body = nc.limit_body;
    srv.cfg.limit_name = nc.limit_name;
    srv.cfg.client_rate = nc.client_rate;
    srv.cfg.client_burst = nc.client_burst;
    log_info("reload: %s: %zu rules, %zu words", nc.file, nrules, nwords);
    config_free(&nc);
}

static void close_handle(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* Shutdown runs in phases on a timer: (1) stop taking work and let the storage thread
 * commit and acknowledge what it has; (2) close every WebSocket with 1001; (3) stop. */
static void on_shutdown_tick(uv_timer_t *t) {
    uint64_t waited = uv_now(srv.loop) - shutdown_started;
    if (shutdown_phase == 1) {
        if (store_pending(srv.store) && waited < 5000) return;
        shutdown_phase = 2;
        net_close_all(1001);
        shutdown_started = uv_now(srv.loop);
        return;
    }
    if (shutdown_phase == 2) {
        if (metrics.connections && waited < 3000) return;
        shutdown_phase = 3;
        uv_timer_stop(t);
        store_close(srv.store);
        srv.store = NULL;
        bus_stop();
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
    shutdown_started = uv_now(srv.loop);
    uv_timer_start(&shutdown_timer, on_shutdown_tick, 0, 20);
}

/* ---- Commands ---- */

static void usage(FILE *f) {
    fprintf(f,
            "Usage:\n"
            "  parley serve [--config FILE] [--listen HOST:PORT] [--data DIR] [--log-level LEVEL]\n"
            "  parley rules check [--config FILE]\n"
            "  parley rules test  [--config FILE]   (JSON lines on stdin)\n"
            "  parley moderator add NAME [--role admin|moderator] [--config FILE] [--data DIR]\n"
            "  parley moderator list | remove NAME | passwd NAME  [--config FILE] [--data DIR]\n"
            "  parley --help | --version\n"
            "\n"
            "Parley is a live comment and moderation server. `serve` reads moderation.yml\n"
            "(default ./moderation.yml); the flags override its values. LEVEL is debug,\n"
            "info, warn or error. SIGHUP reloads the rules; SIGTERM/SIGINT stop cleanly.\n");
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
        srv.cfg.data_dir = strdup(data);
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
    if (load_ip_key(srv.cfg.data_dir)) return 1;

    uv_loop_t loop;
    uv_loop_init(&loop);
    srv.loop = &loop;
    srv.conns = dict_new();
    srv.ip_counts = dict_new();
    hub_init((size_t)srv.cfg.queue_max_messages, (size_t)srv.cfg.queue_max_bytes,
             srv.cfg.redis_host != NULL);

    auth_init();
    moderation_init();
    flood_init();
    reactions_init(&loop);
    /* Listen first: a port in use stops start-up before anything else is running. */
    if (net_start(&loop)) return 1;
    srv.store = store_open(&loop, srv.cfg.data_dir, (int)srv.cfg.batch_max);
    if (!srv.store) return 1;
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
    dict_free(srv.conns, NULL);
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
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "moderator")) {
        if (argc < 3) {
            fprintf(stderr, "parley moderator: add, list, remove or passwd\n");
            return 2;
        }
        return auth_cli(argc - 2, argv + 2);
    }
    if (!strcmp(cmd, "rules")) {
        if (argc < 3 || (strcmp(argv[2], "check") && strcmp(argv[2], "test"))) {
            fprintf(stderr, "parley rules: give check or test\n");
            return 2;
        }
        return rules_cli(argc - 2, argv + 2);
    }
    fprintf(stderr, "parley: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
