/* Unit tests for the schema migrations and the storage thread's group commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store.h"
#include "store_schema.h"

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/parley-store-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static int pragma_int(db_t *db, const char *sql) {
    db_stmt *st;
    assert_int_equal(db_prepare(db, sql, &st), DB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int v = db_col_int(st, 0);
    db_finalize(st);
    return v;
}

static void test_migrations(void **state) {
    (void)state;
    db_t *db = store_open_sync(dir);
    assert_non_null(db);
    assert_int_equal(pragma_int(db, "PRAGMA user_version"), store_schema_version());
    db_stmt *st;
    assert_int_equal(db_prepare(db, "PRAGMA journal_mode", &st), DB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal((const char *)db_col_text(st, 0), "wal");
    db_finalize(st);
    assert_int_equal(pragma_int(db, "PRAGMA synchronous"), 2); /* FULL */
    /* every table of every migration is there */
    const char *tables[] = {"comments", "reports", "articles", "moderators", "sessions", "audit",
                            "bans", "notes"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM sqlite_master WHERE name = '%s'", tables[i]);
        assert_int_equal(pragma_int(db, sql), 1);
    }
    assert_int_equal(db_exec(db, "INSERT INTO comments (article, author_id, author_name, body, "
                                      "status, created_at) VALUES ('a','g:1','n','b','published',1)"), DB_OK);
    db_close(db);
    /* reopening migrates nothing and keeps the data */
    db = store_open_sync(dir);
    assert_non_null(db);
    assert_int_equal(pragma_int(db, "SELECT COUNT(*) FROM comments"), 1);
    /* a database from a newer build is refused */
    db_exec(db, "PRAGMA user_version = 999");
    db_close(db);
    assert_null(store_open_sync(dir));
}

static void test_migration_from_v1(void **state) {
    (void)state;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/v1", dir);
    /* a database at version 1 (migration 1 alone), with a comment in it */
    char path[256];
    mkdir(sub, 0700);
    snprintf(path, sizeof path, "%s/parley.db", sub);
    db_t *db = db_open_sqlite(path, DB_OPEN_CREATE, NULL, 0);
    assert_non_null(db);
    assert_int_equal(db_exec(db, store_migration_sql(1)), DB_OK);
    assert_int_equal(db_exec(db,
                                  "INSERT INTO comments (article, author_id, author_name, body, "
                                  "status, created_at) VALUES ('a','g:1','n','b','published',1);"
                                  "PRAGMA user_version = 1;"),
                     DB_OK);
    db_close(db);
    /* opening it applies every later migration and keeps the comment */
    db = store_open_sync(sub);
    assert_non_null(db);
    assert_int_equal(pragma_int(db, "PRAGMA user_version"), store_schema_version());
    assert_int_equal(pragma_int(db, "SELECT COUNT(*) FROM comments WHERE moderated_by IS NULL"), 1);
    assert_int_equal(pragma_int(db, "SELECT COUNT(*) FROM moderators"), 0);
    /* a change stamps updated_at (migration 3's trigger) */
    db_exec(db, "UPDATE comments SET status = 'removed'");
    assert_int_equal(pragma_int(db, "SELECT COUNT(*) FROM comments WHERE updated_at > 1000"), 1);
    db_close(db);
}

typedef struct {
    store_job job;
    int value;
    int ran_ok, done_calls;
    int *order;
    int *norder;
} test_job;

static int run_insert(store_job *j, db_t *db) {
    test_job *t = (test_job *)j;
    char sql[256];
    if (t->value < 0) return 7; /* fails: rolled back alone */
    snprintf(sql, sizeof sql, "INSERT INTO articles (id, mode, updated_at) VALUES ('t%d','open',%d)",
             t->value, t->value);
    return db_exec(db, sql) == DB_OK ? 0 : 99;
}

static void done_record(store_job *j) {
    test_job *t = (test_job *)j;
    t->order[(*t->norder)++] = t->value;
}

static void test_group_commit(void **state) {
    (void)state;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/g", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    store_t *s = store_open(&loop, sub, 16);
    assert_non_null(s);
    int order[64], norder = 0;
    test_job jobs[40];
    for (int i = 0; i < 40; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].job.run = run_insert;
        jobs[i].job.done = done_record;
        jobs[i].value = i == 13 ? -1 : i;
        jobs[i].order = order;
        jobs[i].norder = &norder;
        store_submit(s, &jobs[i].job);
    }
    while (store_pending(s)) uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(norder, 40);
    for (int i = 0; i < 40; i++) assert_int_equal(order[i], i == 13 ? -1 : i); /* in order */
    assert_int_equal(jobs[13].job.status, 7);
    assert_int_equal(jobs[12].job.status, 0);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    db_t *db = store_open_sync(sub);
    assert_int_equal(pragma_int(db, "SELECT COUNT(*) FROM articles"), 39);
    db_close(db);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations),
        cmocka_unit_test(test_migration_from_v1),
        cmocka_unit_test(test_group_commit),
    };
    return cmocka_run_group_tests_name("store", tests, setup, teardown);
}
