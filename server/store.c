/* store.c: the storage threads and group commit, on SQLite (one thread, one connection)
 * or PostgreSQL (a writer thread with one connection that keeps group commit, and a
 * small pool of reader threads with a connection each). The schemas and their
 * migrations are store_schema.c's and store_schema_pg.c's. */
#include "store.h"
#include "store_schema.h"
#include "store_schema_pg.h"
#include "alloc.h"
#include "clock.h"
#include "store_secrets.h"
#include "store_tx.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "metrics.h"

enum {
    STORE_PG_READERS = 2,     /* reader connections on PostgreSQL */
    STORE_PG_RETRIES = 5,     /* runs of a group that meets deadlocks or serialization failures */
    STORE_PG_PING_MS = 1000,  /* an idle writer checks its connection this often */
    STORE_BACKOFF_MIN_MS = 100,
    STORE_BACKOFF_MAX_MS = 5000,
};

struct store {
    db_t *db;                  /* the writer's connection; NULL while PostgreSQL is down */
    char *conninfo;            /* NULL: SQLite */
    uv_loop_t *loop;
    uv_async_t async;          /* wakes the loop when jobs are done */
    pthread_t thread;
    pthread_t readers[STORE_PG_READERS];
    int nreaders;
    pthread_mutex_t lock;
    pthread_cond_t cond;       /* the writer waits on it */
    pthread_cond_t rd_cond;    /* the readers wait on it */
    store_job *in_head, *in_tail;    /* writes submitted, waiting for the thread */
    store_job *rd_head, *rd_tail;    /* reads submitted, taken after the writes */
    store_job *out_head, *out_tail;  /* committed, waiting for the loop */
    bool stopping;
    int batch_max;
    uint64_t seq;              /* submissions so far (under lock) */
    uint64_t last_write;       /* seq of the last write submitted (under lock) */
    uint64_t writes_done;      /* seq of the last write answered (under lock) */
    atomic_bool up;            /* false while PostgreSQL is unreachable */
    unsigned pending;          /* loop thread only */
    unsigned max_pending;      /* 0: no bound */
};

static char *pg_target;       /* store_set_postgres */

void store_set_postgres(const char *conninfo) {
    free(pg_target);
    pg_target = conninfo && *conninfo ? xstrdup(conninfo) : NULL;
}

const char *store_postgres(void) { return pg_target; }

int store_migrate(db_t *db) {
    return db_dialect(db) == DB_POSTGRES ? store_pg_migrate(db) : store_sqlite_migrate(db);
}

int store_wait_reachable(long max_ms) {
    if (!pg_target) return 0;
    uint64_t start = mono_us(), last_log = 0;
    unsigned backoff = STORE_BACKOFF_MIN_MS;
    for (;;) {
        char err[512];
        db_t *db = db_open_pg(pg_target, err, sizeof err);
        if (db) {
            db_close(db);
            if (last_log) log_info("store: PostgreSQL answers");
            return 0;
        }
        uint64_t waited = (mono_us() - start) / 1000;
        if (waited >= (uint64_t)max_ms) {
            log_err("store: PostgreSQL did not answer within %ld ms (storage.start_wait_ms): %s",
                    max_ms, err);
            return -1;
        }
        if (!last_log || mono_us() - last_log >= 5000000) {
            log_warn("store: waiting for PostgreSQL (%llu ms so far): %s",
                     (unsigned long long)waited, err);
            last_log = mono_us();
        }
        unsigned nap = backoff;
        if (waited + nap > (uint64_t)max_ms) nap = (unsigned)((uint64_t)max_ms - waited);
        usleep(nap * 1000u);
        backoff = backoff * 2 > STORE_BACKOFF_MAX_MS ? STORE_BACKOFF_MAX_MS : backoff * 2;
    }
}

/* Connects to the PostgreSQL target and migrates its schema. NULL (logged) when the
 * server cannot be reached or the schema cannot be brought up to date. */
static db_t *open_pg(bool migrate) {
    char err[512];
    db_t *db = db_open_pg(pg_target, err, sizeof err);
    if (!db) {
        log_err("store: cannot connect to PostgreSQL: %s", err);
        return NULL;
    }
    if (migrate && store_migrate(db)) {
        db_close(db);
        return NULL;
    }
    return db;
}

db_t *store_open_sync(const char *dir) {
    if (pg_target) {
        /* the data dir still holds per-process files (outbox.lock); made as with SQLite */
        if (dir) mkdir(dir, 0700);
        return open_pg(true);
    }
    if (mkdir(dir, 0700) && errno != EEXIST) {
        log_err("store: cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/parley.db", dir);
    db_t *db = db_open_sqlite(path, DB_OPEN_CREATE, err, sizeof err);
    if (!db) {
        log_err("store: cannot open %s", err);
        return NULL;
    }
    /* WAL + FULL: a commit is on disk when COMMIT returns. The busy timeout (set by the
     * driver) lets several processes share the file. */
    if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                    "PRAGMA foreign_keys=ON;") != DB_OK) {
        log_err("store: %s: %s", path, db_errmsg(db));
        db_close(db);
        return NULL;
    }
    if (store_migrate(db)) {
        db_close(db);
        return NULL;
    }
    return db;
}

int store_secret(const char *name, unsigned char *out, size_t len) {
    db_t *db = store_open_sync(NULL);
    if (!db) return -1;
    char err[256];
    int rc = store_secrets_get(db, name, out, len, err, sizeof err);
    if (rc) log_err("store: %s", err);
    db_close(db);
    return rc;
}

/* ---- The thread ---- */

/* A new run's number (store_job.run_). */
static uint64_t next_run(void) {
    static atomic_uint_fast64_t runs;
    return atomic_fetch_add(&runs, 1) + 1;
}

/* Numbers a new run of the group at head: one number for them all on PostgreSQL, where
 * every check of the group comes before every run; one each on SQLite, where a job's
 * check and run come together (store_job.run_). */
static void number_run(store_job *head, bool together) {
    uint64_t r = next_run();
    for (store_job *j = head; j; j = j->next) j->run_ = together ? r : next_run();
}

/* A job's check and then, unless the check answered it, its run: its status. */
static int run_job(store_job *j, db_t *db) {
    if (j->check) {
        int c = j->check(j, db);
        if (c) return c == STORE_JOB_DONE ? 0 : c;
    }
    return j->run(j, db);
}

/* Runs one group: every job in its own savepoint inside one transaction. */
static void run_group(store_t *s, store_job *head) {
    uint64_t t0 = mono_us();
    number_run(head, false);
    bool ok = db_exec(s->db, "BEGIN IMMEDIATE") == DB_OK;
    if (!ok) log_err("store: begin failed: %s", db_errmsg(s->db));
    for (store_job *j = head; j && ok; j = j->next) {
        db_exec(s->db, "SAVEPOINT job");
        j->status = run_job(j, s->db);
        if (j->status)
            db_exec(s->db, "ROLLBACK TO job");
        db_exec(s->db, "RELEASE job");
    }
    if (ok && db_exec(s->db, "COMMIT") != DB_OK) {
        log_err("store: commit failed: %s", db_errmsg(s->db));
        db_exec(s->db, "ROLLBACK");
        ok = false;
    }
    if (!ok) {
        atomic_fetch_add(&metrics.commit_failures, 1);
        for (store_job *j = head; j; j = j->next) j->status = PERR_UNAVAILABLE;
    }
    metrics_commit(mono_us() - t0);
}

static void *store_thread(void *arg) {
    store_t *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->in_head && !s->rd_head && !s->stopping)
            pthread_cond_wait(&s->cond, &s->lock);
        if (!s->in_head && !s->rd_head && s->stopping) break;
        /* take up to batch_max jobs: writes first, then reads to fill the group */
        store_job *head = NULL, *tail = NULL;
        int n = 0;
        store_job **lists[2][2] = {{&s->in_head, &s->in_tail}, {&s->rd_head, &s->rd_tail}};
        for (int l = 0; l < 2; l++) {
            while (*lists[l][0] && n < s->batch_max) {
                store_job *j = *lists[l][0];
                *lists[l][0] = j->next;
                if (!*lists[l][0]) *lists[l][1] = NULL;
                j->next = NULL;
                if (tail)
                    tail->next = j;
                else
                    head = j;
                tail = j;
                n++;
            }
        }
        pthread_mutex_unlock(&s->lock);

        run_group(s, head);

        pthread_mutex_lock(&s->lock);
        if (s->out_tail)
            s->out_tail->next = head;
        else
            s->out_head = head;
        s->out_tail = tail;
        pthread_mutex_unlock(&s->lock);
        uv_async_send(&s->async);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- PostgreSQL: the writer ---- */

/* Appends a list of answered jobs to the loop's list (lock held). */
static void push_out(store_t *s, store_job *head) {
    if (!head) return;
    store_job *tail = head;
    while (tail->next) tail = tail->next;
    if (s->out_tail)
        s->out_tail->next = head;
    else
        s->out_head = head;
    s->out_tail = tail;
}

/* Answers every queued job PERR_UNAVAILABLE (lock held): nothing waits while the
 * database is down. */
static void fail_queued(store_t *s) {
    store_job *lists[2] = {s->in_head, s->rd_head};
    for (int l = 0; l < 2; l++)
        for (store_job *j = lists[l]; j; j = j->next) j->status = PERR_UNAVAILABLE;
    if (s->in_tail) s->writes_done = s->in_tail->seq_;
    push_out(s, s->in_head);
    push_out(s, s->rd_head);
    s->in_head = s->in_tail = s->rd_head = s->rd_tail = NULL;
    pthread_cond_broadcast(&s->rd_cond);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Locks the rows of the group's distinct lock keys, in sorted order (creating the rows
 * once), so that two processes writing into one article take turns and groups cannot
 * deadlock on each other. Returns DB_OK or the failing code. */
static int lock_keys(db_t *db, store_job *head) {
    size_t n = 0, cap = 0;
    const char **keys = NULL;
    for (store_job *j = head; j; j = j->next) {
        if (!j->lock_key) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            keys = xrealloc(keys, cap * sizeof *keys);
        }
        keys[n++] = j->lock_key;
    }
    if (!n) return DB_OK;
    qsort(keys, n, sizeof *keys, cmp_str);
    size_t m = 0; /* without repeats */
    for (size_t i = 0; i < n; i++)
        if (!m || strcmp(keys[i], keys[m - 1])) keys[m++] = keys[i];
    int rc = store_tx_lock_articles(db, keys, m);
    free(keys);
    return rc;
}

/* Ends a job's savepoint after its check (wrote false) or run (true) returned st:
 * rolls it back when it failed after writing or went on past a failed statement. Sets
 * *status (PERR_INTERNAL for the latter) and returns DB_OK or the code that ends the
 * group's run. */
static int end_job(db_t *db, int st, bool wrote, int *status) {
    if (db_failure(db)) return db_failure(db);
    bool failed_stmt = db_tx_failed(db);
    if (!st && failed_stmt) {
        /* the job went on past a failed statement: its work is rolled back, so it must
         * not be acknowledged as done */
        log_err("store: a job ignored an error: %s", db_errmsg(db));
        st = PERR_INTERNAL;
    }
    *status = st;
    int rc = DB_OK;
    if (failed_stmt || (st && wrote)) rc = db_exec(db, "ROLLBACK TO job");
    return rc == DB_OK ? db_exec(db, "RELEASE job") : rc;
}

/* One run of a group on PostgreSQL: BEGIN, every job's check, the article locks, the
 * database's clock, each job's run, COMMIT; each check and each run under a savepoint
 * (SAVEPOINT and RELEASE cost no round trip: the driver sends them with the next
 * statement). Returns DB_OK, DB_RETRY (run it again), DB_UNAVAILABLE (connection lost)
 * or DB_ERROR (BEGIN or COMMIT refused). */
static int try_group_pg(store_t *s, store_job *head, bool *commit_sent) {
    db_t *db = s->db;
    *commit_sent = false;
    db_clear_failure(db);
    db_set_now(db, 0);
    number_run(head, true);
    int rc = db_exec(db, "BEGIN");
    for (store_job *j = head; j && rc == DB_OK; j = j->next) {
        j->checked_ = 0;
        if (!j->check) continue;
        rc = db_exec(db, "SAVEPOINT job");
        if (rc != DB_OK) break;
        int c = j->check(j, db), st = 0;
        rc = end_job(db, c == STORE_JOB_DONE ? 0 : c, false, &st);
        j->checked_ = st ? st : c;
    }
    if (rc == DB_OK) rc = lock_keys(db, head);
    if (rc == DB_OK) db_set_now(db, db_now_ms(db));
    for (store_job *j = head; j && rc == DB_OK; j = j->next) {
        if (j->checked_) {
            j->status = j->checked_ == STORE_JOB_DONE ? 0 : j->checked_;
            continue;
        }
        rc = db_exec(db, "SAVEPOINT job");
        if (rc == DB_OK) rc = end_job(db, j->run(j, db), true, &j->status);
    }
    if (rc == DB_OK) {
        *commit_sent = true;
        rc = db_exec(db, "COMMIT");
    }
    db_set_now(db, 0);
    if (rc != DB_OK && db_alive(db)) db_exec(db, "ROLLBACK");
    if (rc != DB_OK && rc != DB_RETRY && rc != DB_UNAVAILABLE) rc = DB_ERROR;
    if (!db_alive(db)) rc = DB_UNAVAILABLE;
    return rc;
}

/* Runs one group on PostgreSQL, again on deadlocks and serialization failures (a
 * bounded number of times). A lost connection answers the group PERR_UNAVAILABLE and
 * marks the store down (the writer then reconnects). */
static void run_group_pg(store_t *s, store_job *head) {
    uint64_t t0 = mono_us();
    int rc = DB_RETRY;
    bool reconnected = false;
    for (int attempt = 0; attempt < STORE_PG_RETRIES && rc == DB_RETRY; attempt++) {
        bool commit_sent;
        rc = try_group_pg(s, head, &commit_sent);
        if (rc == DB_RETRY) log_warn("store: group retried (%s)", db_errmsg(s->db));
        if (rc == DB_UNAVAILABLE && !commit_sent && !reconnected) {
            /* lost before COMMIT went out (a server restarted since the last group):
             * nothing of the group is stored, so one fresh connection may run it */
            char err[512];
            db_t *fresh = db_open_pg(s->conninfo, err, sizeof err);
            if (fresh) {
                log_warn("store: PostgreSQL connection renewed: %s", db_errmsg(s->db));
                db_close(s->db);
                s->db = fresh;
                reconnected = true;
                rc = DB_RETRY;
                attempt--;
            }
        }
    }
    if (rc != DB_OK) {
        if (rc != DB_UNAVAILABLE) log_err("store: group failed: %s", db_errmsg(s->db));
        atomic_fetch_add(&metrics.commit_failures, 1);
        for (store_job *j = head; j; j = j->next) j->status = PERR_UNAVAILABLE;
    }
    if (rc == DB_UNAVAILABLE) {
        log_err("store: PostgreSQL connection lost: %s", db_errmsg(s->db));
        db_close(s->db);
        s->db = NULL;
        atomic_store(&s->up, false);
    }
    metrics_commit(mono_us() - t0);
}

/* Waits on cond for ms milliseconds at most (lock held). */
static void wait_ms(pthread_cond_t *c, pthread_mutex_t *m, unsigned ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(c, m, &ts);
}

/* The writer on PostgreSQL: groups of writes in submission order; while the database is
 * down, answers everything at once and reconnects with backoff (100 ms doubling to 5 s);
 * while idle, checks the connection every second so /healthz tells the truth. */
static void *pg_writer(void *arg) {
    store_t *s = arg;
    unsigned backoff = STORE_BACKOFF_MIN_MS;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (!s->db) {
            fail_queued(s);
            pthread_mutex_unlock(&s->lock);
            uv_async_send(&s->async);
            pthread_mutex_lock(&s->lock);
            if (s->stopping) break;
            pthread_mutex_unlock(&s->lock);
            char err[512];
            db_t *db = db_open_pg(s->conninfo, err, sizeof err);
            pthread_mutex_lock(&s->lock);
            if (db) {
                s->db = db;
                atomic_store(&s->up, true);
                backoff = STORE_BACKOFF_MIN_MS;
                log_info("store: PostgreSQL connection back");
                continue;
            }
            log_debug("store: PostgreSQL still unreachable (next try in %u ms): %s", backoff,
                      err);
            wait_ms(&s->cond, &s->lock, backoff);
            backoff = backoff * 2 > STORE_BACKOFF_MAX_MS ? STORE_BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        if (!s->in_head && !s->stopping) {
            uint64_t t = mono_ms();
            wait_ms(&s->cond, &s->lock, STORE_PG_PING_MS);
            if (!s->in_head && !s->stopping && mono_ms() - t >= STORE_PG_PING_MS - 10) {
                pthread_mutex_unlock(&s->lock);
                int rc = db_exec(s->db, "SELECT 1");
                pthread_mutex_lock(&s->lock);
                if (rc == DB_UNAVAILABLE || !db_alive(s->db)) {
                    log_err("store: PostgreSQL connection lost: %s", db_errmsg(s->db));
                    db_close(s->db);
                    s->db = NULL;
                    atomic_store(&s->up, false);
                }
            }
            continue;
        }
        if (!s->in_head && s->stopping) break;
        store_job *head = s->in_head, *tail = head;
        for (int n = 1; n < s->batch_max && tail->next; n++) tail = tail->next;
        s->in_head = tail->next;
        if (!s->in_head) s->in_tail = NULL;
        tail->next = NULL;
        pthread_mutex_unlock(&s->lock);

        run_group_pg(s, head);

        pthread_mutex_lock(&s->lock);
        s->writes_done = tail->seq_;
        push_out(s, head);
        pthread_cond_broadcast(&s->rd_cond);
        pthread_mutex_unlock(&s->lock);
        uv_async_send(&s->async);
        pthread_mutex_lock(&s->lock);
    }
    s->writes_done = s->last_write;
    pthread_cond_broadcast(&s->rd_cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- PostgreSQL: the readers ---- */

/* A reader on PostgreSQL: one read job at a time on a connection of its own, in a
 * REPEATABLE READ transaction (one snapshot, as SQLite's), each job once every write
 * submitted before it has been answered. Connects lazily; a lost connection answers
 * the job PERR_UNAVAILABLE and is opened again for the next. */
static void *pg_reader(void *arg) {
    store_t *s = arg;
    db_t *db = NULL;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!(s->rd_head && s->rd_head->after_ <= s->writes_done) &&
               !(s->stopping && !s->rd_head))
            pthread_cond_wait(&s->rd_cond, &s->lock);
        if (!s->rd_head) break;
        store_job *j = s->rd_head;
        s->rd_head = j->next;
        if (!s->rd_head) s->rd_tail = NULL;
        j->next = NULL;
        pthread_mutex_unlock(&s->lock);

        int rc = DB_UNAVAILABLE;
        /* a second try on a fresh connection when the first finds it lost (the
         * server restarted since this reader last ran) */
        for (int attempt = 0; attempt < 2 && rc == DB_UNAVAILABLE; attempt++) {
            if (!db && atomic_load(&s->up)) {
                char err[512];
                db = db_open_pg(s->conninfo, err, sizeof err);
                if (!db) log_warn("store: reader cannot connect: %s", err);
            }
            if (!db) break;
            rc = db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ");
            if (rc == DB_OK) {
                db_clear_failure(db);
                j->run_ = next_run();
                j->status = run_job(j, db);
                rc = db_failure(db) ? db_failure(db) : db_exec(db, "COMMIT");
                if (rc != DB_OK && db_alive(db)) db_exec(db, "ROLLBACK");
            }
            if (rc != DB_OK && !db_alive(db)) {
                db_close(db);
                db = NULL;
                rc = DB_UNAVAILABLE;
            }
        }
        if (rc != DB_OK) j->status = PERR_UNAVAILABLE;

        pthread_mutex_lock(&s->lock);
        push_out(s, j);
        pthread_mutex_unlock(&s->lock);
        uv_async_send(&s->async);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    db_close(db);
    return NULL;
}

/* ---- The store ---- */

/* Loop side: hands every finished job to its done callback. */
static void on_async(uv_async_t *h) {
    store_t *s = h->data;
    pthread_mutex_lock(&s->lock);
    store_job *j = s->out_head;
    s->out_head = s->out_tail = NULL;
    pthread_mutex_unlock(&s->lock);
    while (j) {
        store_job *next = j->next;
        s->pending--;
        j->done(j);
        j = next;
    }
}

store_t *store_open(uv_loop_t *loop, const char *dir, int batch_max) {
    db_t *db = store_open_sync(dir);
    if (!db) return NULL;
    store_t *s = xcalloc(1, sizeof *s);
    s->db = db;
    s->conninfo = pg_target ? xstrdup(pg_target) : NULL;
    s->loop = loop;
    s->batch_max = batch_max > 0 ? batch_max : 256;
    atomic_init(&s->up, true);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_cond_init(&s->rd_cond, NULL);
    uv_async_init(loop, &s->async, on_async);
    s->async.data = s;
    if (pthread_create(&s->thread, NULL, s->conninfo ? pg_writer : store_thread, s)) {
        log_err("store: cannot start thread");
        db_close(db);
        free(s->conninfo);
        free(s);
        return NULL;
    }
    if (s->conninfo) {
        for (int i = 0; i < STORE_PG_READERS; i++)
            if (!pthread_create(&s->readers[i], NULL, pg_reader, s)) s->nreaders++;
        log_info("store: PostgreSQL, one writer and %d reader connections", s->nreaders);
    }
    return s;
}

void store_submit(store_t *s, store_job *job) {
    job->next = NULL;
    job->status = 0;
    if (!s) {
        /* closed (shutdown): answered at once, nothing stored */
        job->status = PERR_UNAVAILABLE;
        job->done(job);
        return;
    }
    s->pending++;
    pthread_mutex_lock(&s->lock);
    job->seq_ = ++s->seq;
    if (!atomic_load(&s->up)) {
        /* PostgreSQL down: answered on the next loop turn, never queued */
        job->status = PERR_UNAVAILABLE;
        push_out(s, job);
        pthread_mutex_unlock(&s->lock);
        uv_async_send(&s->async);
        return;
    }
    bool rd = job->read_only;
    if (rd && s->conninfo && s->nreaders == 0) rd = false; /* no reader threads: the writer */
    if (!rd) s->last_write = job->seq_;
    job->after_ = s->last_write;
    store_job **h = rd ? &s->rd_head : &s->in_head, **t = rd ? &s->rd_tail : &s->in_tail;
    if (*t)
        (*t)->next = job;
    else
        *h = job;
    *t = job;
    if (rd && s->conninfo)
        pthread_cond_signal(&s->rd_cond);
    else
        pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

unsigned store_pending(const store_t *s) { return s->pending; }

void store_set_max_pending(store_t *s, unsigned max) { s->max_pending = max; }

bool store_busy(const store_t *s) {
    return !s || !atomic_load(&s->up) || (s->max_pending && s->pending >= s->max_pending);
}

bool store_up(const store_t *s) { return s && atomic_load(&s->up); }

static void on_async_closed(uv_handle_t *h) {
    store_t *s = h->data;
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->rd_cond);
    free(s->conninfo);
    free(s);
}

void store_close(store_t *s) {
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->cond);
    pthread_cond_broadcast(&s->rd_cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < s->nreaders; i++) pthread_join(s->readers[i], NULL);
    on_async(&s->async); /* deliver what the last groups finished */
    db_close(s->db);
    s->db = NULL;
    uv_close((uv_handle_t *)&s->async, on_async_closed);
}
