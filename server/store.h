/* store.h: storage on a thread of its own (SQLite, or PostgreSQL with storage.postgres). Work is sent as jobs; the thread runs
 * them in arrival order, a group at a time inside one transaction (one fsync for the
 * group), and hands each job back to the event loop only after the commit, so an
 * acknowledgement always follows durability and the network thread never waits. */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include "store_db.h"
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct store store_t;
typedef struct store_job store_job;

/* A unit of work. The submitter allocates it (embedding it first in a larger struct),
 * the store owns it from store_submit() until it calls done(), which owns it then. */
struct store_job {
    /* Runs on the storage thread inside the group's transaction (a savepoint of its
     * own: a job that returns non-zero is rolled back alone). Returns 0 or an error
     * (perr_t) kept in `status`. */
    int (*run)(store_job *job, db_t *db);
    /* Optional: runs before run, on the same thread and in the same transaction, and
     * must only read. On PostgreSQL a group runs every job's check first, then takes its
     * lock keys' locks, then runs the jobs: what only reads is kept out of the time the
     * locks are held (each statement there is a round trip that every writer of those
     * articles waits for). So a check sees what was committed before its group began,
     * not the writes of the jobs before it in the group. Returns 0 to go on to run, an
     * error (perr_t) for `status` without run, or STORE_JOB_DONE: answered in full, with
     * status 0, without run. It may run again (a group retried) and must then start
     * over. */
    int (*check)(store_job *job, db_t *db);
    /* Runs on the loop thread after the commit (status PERR_UNAVAILABLE when the
     * commit failed). Must free the job. */
    void (*done)(store_job *job);
    int status;
    /* A read: taken after every waiting write, so readers can never starve posts. On
     * PostgreSQL a pool of reader connections runs reads, each once every write
     * submitted before it has committed. */
    bool read_only;
    /* PostgreSQL: the job's group first locks this key's row (an article id; sorted,
     * so groups cannot deadlock), so inserts into one article commit in id order across
     * processes. NULL: no lock. Owned by the submitter; must live until done(). */
    const char *lock_key;
    store_job *next;
    uint64_t seq_, after_; /* the store's own: submission order */
    int checked_;          /* the store's own: what check returned */
    /* The store's own: which run of its group the job is in, for a check that reads for
     * the jobs after it (store_job.next) with the same number: every check of a run
     * comes before every run of it, so they read the same state. A group run again gets
     * a new number; on SQLite, where a job's check and run come together, each job is
     * a run of its own. */
    uint64_t run_;
};

/* check: the job is answered, status 0, and run is not called. */
#define STORE_JOB_DONE (-1)

/* Opens (creating) dir/parley.db in WAL mode with synchronous=FULL, migrates the schema,
 * and starts the thread; done callbacks run on loop. Returns NULL and logs on failure. */
store_t *store_open(uv_loop_t *loop, const char *dir, int batch_max);
void store_submit(store_t *s, store_job *job);
/* Commits everything submitted, delivers the done callbacks, stops the thread and closes
 * the database. The loop must still run for the async handle to close. */
void store_close(store_t *s);
/* Jobs submitted whose done() has not run yet. */
unsigned store_pending(const store_t *s);
/* Past max pending jobs the store is busy: new work is refused (unavailable) by its
 * submitters rather than queued without bound. 0 = no bound. */
void store_set_max_pending(store_t *s, unsigned max);
bool store_busy(const store_t *s);

/* Opens the database synchronously, for command-line tools (migrates it). With a
 * PostgreSQL target set (store_set_postgres) dir is not used. */
db_t *store_open_sync(const char *dir);

/* Puts the store of this process in PostgreSQL (a libpq conninfo or URI; NULL: SQLite
 * files in the data dir, the default). Set once at start-up, before any store_open*:
 * main sets it from --store or storage.postgres. */
void store_set_postgres(const char *conninfo);
/* The PostgreSQL target, or NULL. */
const char *store_postgres(void);
/* With PostgreSQL, waits until the server answers (retrying 100 ms doubling to 5 s, a
 * line in the log now and then), at most max_ms: nodes and their database started
 * together need not be started in order. 0 when it answers (at once with SQLite), -1
 * (logged) when it did not within max_ms. */
int store_wait_reachable(long max_ms);
/* Whether the database answers: false while PostgreSQL is unreachable (every job is
 * then answered PERR_UNAVAILABLE at once and the thread reconnects with backoff). */
bool store_up(const store_t *s);
/* Reads (creating once, shared by every node) the named secret of len random bytes
 * from the store's database into out. Returns 0 or -1 (logged). */
int store_secret(const char *name, unsigned char *out, size_t len);

/* Applies every migration above the database's user_version; returns 0 or -1. */
int store_migrate(db_t *db);
/* (The SQLite schema's version and migrations: store_schema.h.) */


#endif
