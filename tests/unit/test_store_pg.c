/* Unit tests for the storage executor on PostgreSQL (a real cluster started by
 * scripts/pg-cluster.sh): group commit with the database's clock, ids of one article
 * committing in id order across two executors (the article lock), deadlocks retried,
 * and a server that goes away and comes back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "errors.h"
#include "store.h"

static char dir[64];
static char conninfo[512];

static int cluster(const char *cmd) {
    char line[256];
    snprintf(line, sizeof line, "bash scripts/pg-cluster.sh %s %s", cmd, dir);
    FILE *p = popen(line, "r");
    if (!p) return -1;
    char out[512] = "";
    if (!fgets(out, sizeof out, p)) out[0] = 0;
    int rc = pclose(p);
    if (strcmp(cmd, "stop")) {
        out[strcspn(out, "\n")] = 0;
        snprintf(conninfo, sizeof conninfo, "%s", out);
    }
    return rc;
}

static int group_setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/parley-pgexec-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    if (cluster("start") || !conninfo[0]) return -1;
    store_set_postgres(conninfo);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    cluster("stop");
    store_set_postgres(NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static int64_t count_of(const char *sql) {
    db_t *db = store_open_sync(NULL);
    assert_non_null(db);
    db_stmt *st;
    assert_int_equal(db_prepare(db, sql, &st), DB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t v = db_col_int64(st, 0);
    db_finalize(st);
    db_close(db);
    return v;
}

typedef struct {
    store_job job;
    const char *article;
    int sleep_ms;        /* inside the transaction, after the insert */
    int64_t id, at;
    int64_t seen;        /* comments of the article visible when done() ran */
    int done;
    int order;           /* deadlock jobs: 0 = a then b, 1 = b then a */
    int runs;
    int check_rc;        /* what check_job returns */
    bool check_fails;    /* check_job runs a statement that fails, and ignores it */
    int checked_at, ran_at; /* step of check and run (step_seq) */
    int64_t check_seen;  /* comments of the article the check saw */
} tjob;

static int done_seq;

static int run_insert(store_job *job, db_t *db) {
    tjob *j = (tjob *)job;
    j->runs++;
    j->at = db_now_ms(db);
    db_stmt *st;
    if (db_prepare(db, "INSERT INTO comments (article, author_id, author_name, body, status, "
                       "created_at) VALUES (?, 'g:1', 'n', 'b', 'published', ?) RETURNING id",
                   &st) != DB_OK)
        return PERR_INTERNAL;
    db_bind_text(st, 1, j->article, -1);
    db_bind_int64(st, 2, j->at);
    int rc = db_step(st);
    if (rc == DB_ROW) j->id = db_col_int64(st, 0);
    db_finalize(st);
    if (rc != DB_ROW) return PERR_INTERNAL;
    if (j->sleep_ms) usleep((useconds_t)j->sleep_ms * 1000);
    return 0;
}

static int step_seq;

static int check_job(store_job *job, db_t *db) {
    tjob *j = (tjob *)job;
    j->checked_at = ++step_seq;
    db_stmt *st;
    /* fails when it runs (division by zero), not when it is prepared */
    const char *sql = j->check_fails ? "SELECT 1 / (count(*) - count(*)) FROM comments"
                                     : "SELECT count(*) FROM comments WHERE article = ?";
    if (db_prepare(db, sql, &st) != DB_OK) return PERR_INTERNAL;
    if (!j->check_fails) db_bind_text(st, 1, j->article, -1);
    if (db_step(st) == DB_ROW) j->check_seen = db_col_int64(st, 0);
    db_finalize(st);
    return j->check_rc;
}

static int run_checked(store_job *job, db_t *db) {
    ((tjob *)job)->ran_at = ++step_seq;
    return run_insert(job, db);
}

static void done_count(store_job *job) {
    tjob *j = (tjob *)job;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM comments WHERE article = '%s'", j->article);
    j->seen = j->job.status ? -1 : count_of(sql);
    j->done = ++done_seq;
}

static void done_plain(store_job *job) { ((tjob *)job)->done = ++done_seq; }

static void run_until(uv_loop_t *loop, tjob *jobs, int n, int timeout_ms) {
    uint64_t end = mono_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int left = 0;
        for (int i = 0; i < n; i++) left += !jobs[i].done;
        if (!left) return;
        assert_true(mono_ms() < end);
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(2000);
    }
}

/* A group of inserts commits together, each stamped with the database's clock. */
static void test_group_commit(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    store_t *s = store_open(&loop, NULL, 16);
    assert_non_null(s);
    assert_true(store_up(s));
    tjob jobs[20];
    memset(jobs, 0, sizeof jobs);
    int64_t before = now_ms();
    for (int i = 0; i < 20; i++) {
        jobs[i].job.run = run_insert;
        jobs[i].job.done = done_plain;
        jobs[i].job.lock_key = i % 2 ? "g-odd" : "g-even";
        jobs[i].article = i % 2 ? "g-odd" : "g-even";
        store_submit(s, &jobs[i].job);
    }
    run_until(&loop, jobs, 20, 20000);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(jobs[i].job.status, 0);
        assert_true(jobs[i].id > 0);
        /* the same clock as this machine's here, within a generous margin */
        assert_true(jobs[i].at >= before - 5000 && jobs[i].at <= now_ms() + 5000);
    }
    assert_int_equal(count_of("SELECT count(*) FROM comments WHERE article LIKE 'g-%'"), 20);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

/* A group runs every job's check before taking its locks and running the jobs: a
 * check's error answers its job without run, STORE_JOB_DONE answers it 0 without run, a
 * check whose statement fails is answered PERR_INTERNAL without spoiling the others, and
 * a check sees what was committed before its group, not the group's own inserts. */
static void test_checks_before_locks(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    store_t *s = store_open(&loop, NULL, 16);
    assert_non_null(s);
    tjob jobs[7];
    memset(jobs, 0, sizeof jobs);
    /* job 0 holds the writer so that the next six wait and make one group */
    jobs[0].job.run = run_insert;
    jobs[0].article = "c-art";
    jobs[0].sleep_ms = 300;
    int rcs[6] = {0, PERR_FORBIDDEN, STORE_JOB_DONE, 0, 0, 0};
    for (int i = 1; i < 7; i++) {
        jobs[i].job.run = run_checked;
        jobs[i].job.check = check_job;
        jobs[i].job.lock_key = "c-art";
        jobs[i].article = "c-art";
        jobs[i].check_rc = rcs[i - 1];
        jobs[i].check_fails = i == 4;
    }
    for (int i = 0; i < 7; i++) {
        jobs[i].job.done = done_plain;
        store_submit(s, &jobs[i].job);
        if (i == 0) usleep(100 * 1000);
    }
    run_until(&loop, jobs, 7, 20000);
    assert_int_equal(jobs[1].job.status, 0);
    assert_int_equal(jobs[2].job.status, PERR_FORBIDDEN);
    assert_int_equal(jobs[3].job.status, 0);
    assert_int_equal(jobs[4].job.status, PERR_INTERNAL);
    assert_int_equal(jobs[5].job.status, 0);
    assert_int_equal(jobs[6].job.status, 0);
    for (int i = 2; i <= 4; i++) assert_int_equal(jobs[i].runs, 0);
    int last_check = 0, first_run = 1 << 30;
    for (int i = 1; i < 7; i++) {
        assert_true(jobs[i].checked_at > 0);
        if (jobs[i].checked_at > last_check) last_check = jobs[i].checked_at;
        if (jobs[i].runs) {
            assert_int_equal(jobs[i].runs, 1);
            if (jobs[i].ran_at < first_run) first_run = jobs[i].ran_at;
        }
    }
    assert_true(last_check < first_run);
    /* job 0's comment was committed before the group; jobs 1 and 5 insert within it */
    assert_int_equal(jobs[6].check_seen, 1);
    assert_int_equal(count_of("SELECT count(*) FROM comments WHERE article = 'c-art'"), 4);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

/* Two executors (two processes' worth) insert into one article: the first holds its
 * transaction open after taking id N; the second, submitted meanwhile, must not commit
 * id N+1 before N is visible. Its done() finds both rows. */
static void test_ids_in_commit_order(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    store_t *a = store_open(&loop, NULL, 16), *b = store_open(&loop, NULL, 16);
    assert_non_null(a);
    assert_non_null(b);
    tjob jobs[2];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 2; i++) {
        jobs[i].job.run = run_insert;
        jobs[i].job.done = done_count;
        jobs[i].job.lock_key = "hot";
        jobs[i].article = "hot";
    }
    jobs[0].sleep_ms = 600;
    store_submit(a, &jobs[0].job);
    usleep(150 * 1000); /* a has its id and sleeps in its transaction */
    store_submit(b, &jobs[1].job);
    run_until(&loop, jobs, 2, 20000);
    assert_int_equal(jobs[0].job.status, 0);
    assert_int_equal(jobs[1].job.status, 0);
    assert_true(jobs[0].id < jobs[1].id);
    assert_true(jobs[0].done < jobs[1].done);
    /* when b's id became visible, a's smaller id was visible too */
    assert_int_equal(jobs[1].seen, 2);
    store_close(a);
    store_close(b);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

/* Two executors update two rows in opposite orders: PostgreSQL breaks the deadlock by
 * failing one, whose group runs again and succeeds. */
static int run_cross(store_job *job, db_t *db) {
    tjob *j = (tjob *)job;
    j->runs++;
    const char *first = j->order ? "b" : "a", *second = j->order ? "a" : "b";
    const char *keys[2] = {first, second};
    for (int k = 0; k < 2; k++) {
        db_stmt *st;
        if (db_prepare(db, "UPDATE article_locks SET article = article WHERE article = ?", &st) !=
            DB_OK)
            return PERR_INTERNAL;
        db_bind_text(st, 1, keys[k], -1);
        int rc = db_step(st);
        db_finalize(st);
        if (rc != DB_DONE) return PERR_INTERNAL;
        if (k == 0) usleep(400 * 1000);
    }
    return 0;
}

static void test_deadlock_retried(void **state) {
    (void)state;
    db_t *db = store_open_sync(NULL);
    assert_int_equal(db_exec(db, "INSERT INTO article_locks VALUES ('a'), ('b') "
                                 "ON CONFLICT (article) DO NOTHING"),
                     DB_OK);
    db_close(db);
    uv_loop_t loop;
    uv_loop_init(&loop);
    store_t *a = store_open(&loop, NULL, 16), *b = store_open(&loop, NULL, 16);
    tjob jobs[2];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 2; i++) {
        jobs[i].job.run = run_cross;
        jobs[i].job.done = done_plain;
        jobs[i].order = i;
    }
    store_submit(a, &jobs[0].job);
    store_submit(b, &jobs[1].job);
    run_until(&loop, jobs, 2, 30000);
    assert_int_equal(jobs[0].job.status, 0);
    assert_int_equal(jobs[1].job.status, 0);
    assert_true(jobs[0].runs + jobs[1].runs >= 3); /* one of them ran again, then both were done */
    store_close(a);
    store_close(b);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

/* PostgreSQL stops: the next job is answered unavailable, the store says down and
 * refuses new work at once; started again, the store comes back up by itself. */
static void test_down_and_back(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    store_t *s = store_open(&loop, NULL, 16);
    assert_non_null(s);
    assert_int_equal(cluster("stop"), 0);
    tjob j1;
    memset(&j1, 0, sizeof j1);
    j1.job.run = run_insert;
    j1.job.done = done_plain;
    j1.article = "down";
    uint64_t t0 = mono_ms();
    store_submit(s, &j1.job);
    run_until(&loop, &j1, 1, 10000);
    assert_int_equal(j1.job.status, PERR_UNAVAILABLE);
    assert_false(store_up(s));
    assert_true(store_busy(s));
    tjob j2;
    memset(&j2, 0, sizeof j2);
    j2.job.run = run_insert;
    j2.job.done = done_plain;
    j2.article = "down";
    store_submit(s, &j2.job);
    run_until(&loop, &j2, 1, 1000); /* answered at once, not queued */
    assert_int_equal(j2.job.status, PERR_UNAVAILABLE);
    assert_int_equal(j2.runs, 0);
    assert_true(mono_ms() - t0 < 5000);

    assert_int_equal(cluster("start"), 0);
    uint64_t end = mono_ms() + 15000;
    while (!store_up(s) && mono_ms() < end) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(20000);
    }
    assert_true(store_up(s));
    tjob j3;
    memset(&j3, 0, sizeof j3);
    j3.job.run = run_insert;
    j3.job.done = done_count;
    j3.article = "down";
    store_submit(s, &j3.job);
    run_until(&loop, &j3, 1, 10000);
    assert_int_equal(j3.job.status, 0);
    assert_int_equal(j3.seen, 1);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_checks_before_locks),
        cmocka_unit_test(test_ids_in_commit_order),
        cmocka_unit_test(test_deadlock_retried),
        cmocka_unit_test(test_down_and_back),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
