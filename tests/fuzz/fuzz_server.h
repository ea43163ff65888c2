/* fuzz_server.h: a whole `parley serve` inside a fuzzer process, wired as cmd_serve in
 * main.c does (config, rules, hub, bus in local mode, auth, moderation, a real SQLite
 * store on its own thread), on a libuv loop the fuzzer turns itself.
 *
 * The database lives in a fresh directory under /dev/shm (tmpfs, so fsync costs
 * nothing; /tmp when there is none), parley-fuzz-<pid>, removed at exit or by the next
 * fuzzer once its process is gone. It holds one moderator, "fuzzmod"
 * (admin), with a live session whose token is FUZZ_SESSION, so inputs can reach the
 * mod.* actions. fuzz_server_reset() replaces the database and the rules state with
 * fresh ones: a long run would otherwise pile up comments and rate windows until every
 * input is slow or refused. */
#ifndef PARLEY_FUZZ_SERVER_H
#define PARLEY_FUZZ_SERVER_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "wiring.h"
#include "clock.h"
#include "comments.h"
#include "conn.h"
#include "counts.h"
#include "feed.h"
#include "flood.h"
#include "identity.h"
#include "net.h"
#include "proto.h"
#include "reactions.h"
#include "reader.h"
#include "status.h"
#include "bus.h"
#include "dict.h"
#include "fuzz_common.h"
#include "hub.h"
#include "moderation.h"
#include "store.h"

#define FUZZ_SESSION "fuzz-session-token-0123456789abcdef"

static uv_loop_t fuzz_loop;
static char fuzz_dir[256];
static char fuzz_db_dir[300];
static unsigned fuzz_db_gen;

static int fuzz_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void fuzz_rm_tree(const char *dir) { nftw(dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* Removes the directories of fuzzers that have gone (libFuzzer leaves through _Exit
 * on a crash or a timeout, so atexit does not always run). */
static void fuzz_rm_stale(const char *base) {
    DIR *d = opendir(base);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int pid;
        char path[512];
        if (sscanf(e->d_name, "parley-fuzz-%d", &pid) != 1 || pid <= 0) continue;
        if (kill(pid, 0) == 0 || errno != ESRCH) continue;
        snprintf(path, sizeof path, "%s/%s", base, e->d_name);
        fuzz_rm_tree(path);
    }
    if (d) closedir(d);
}

static void fuzz_cleanup(void) {
    if (fuzz_dir[0]) fuzz_rm_tree(fuzz_dir);
}

/* Runs the loop until every storage job submitted has been answered. */
static inline void fuzz_drain(void) {
    while (srv.store && store_pending(srv.store)) uv_run(&fuzz_loop, UV_RUN_ONCE);
    uv_run(&fuzz_loop, UV_RUN_NOWAIT);
}

/* Creates the next database directory with the moderator and the session, and opens the
 * store on it. */
static void fuzz_open_store(void) {
    snprintf(fuzz_db_dir, sizeof fuzz_db_dir, "%s/db%u", fuzz_dir, fuzz_db_gen++);
    if (mkdir(fuzz_db_dir, 0700)) fuzz_die("mkdir", fuzz_db_dir);
    db_t *db = store_open_sync(fuzz_db_dir);
    if (!db) fuzz_die("store_open_sync", fuzz_db_dir);
    char hash[65], sql[1024];
    auth_token_hash(FUZZ_SESSION, hash);
    long long now = (long long)now_ms(), far = now + 10LL * 365 * 86400000;
    snprintf(sql, sizeof sql,
             "INSERT INTO moderators (name, role, pwhash, created_at) VALUES "
             "('fuzzmod', 'admin', '$argon2id$v=19$m=65536,t=2,p=1$x$y', %lld);"
             "INSERT INTO sessions (token_hash, moderator, created_at, last_seen, expires_at) "
             "VALUES ('%s', 'fuzzmod', %lld, %lld, %lld);",
             now, hash, now, far, far);
    if (db_exec(db, sql) != DB_OK) fuzz_die("seed db", db_errmsg(db));
    db_close(db);
    srv.store = store_open(&fuzz_loop, fuzz_db_dir, (int)srv.cfg.batch_max);
    if (!srv.store) fuzz_die("store_open", fuzz_db_dir);
}

/* Starts the server's modules; net is left to the caller (fuzz_http starts it). */
static inline void fuzz_server_start(void) {
    if (sodium_init() < 0) fuzz_die("sodium", "init");
    fuzz_log_init();
    fuzz_load_config();
    fuzz_install_rules(fuzz_load_rules());
    /* a long idle limit: the session must outlive the run */
    srv.cfg.idle_minutes = 1000000;
    memset(srv.ip_key, 0x42, sizeof srv.ip_key); /* fixed: hashes reproduce */
    json_object_seed(1);
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    fuzz_rm_stale(base);
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/parley-fuzz-%d", base, (int)getpid());
    fuzz_rm_tree(fuzz_dir);
    if (mkdir(fuzz_dir, 0700)) fuzz_die("mkdir", fuzz_dir);
    atexit(fuzz_cleanup);
    free(srv.cfg.data_dir);
    srv.cfg.data_dir = strdup(fuzz_dir);
    uv_loop_init(&fuzz_loop);
    srv.loop = &fuzz_loop;
    srv.ip_counts = dict_new();
    wiring_init(&fuzz_loop, false);
    bus_start(&fuzz_loop);
    fuzz_open_store();
}

/* Closes the store (answering what it holds), removes its files, and opens a fresh one
 * with a fresh rules state. */
static inline void fuzz_server_reset(void) {
    fuzz_drain();
    store_close(srv.store);
    srv.store = NULL;
    uv_run(&fuzz_loop, UV_RUN_NOWAIT); /* closes the store's async handle */
    fuzz_rm_tree(fuzz_db_dir);
    rules_state_free(srv.rules_state);
    srv.rules_state = rules_state_new();
    fuzz_open_store();
}

#endif
