/* Unit tests for the PostgreSQL driver of store_db.h, against a real cluster that
 * scripts/pg-cluster.sh starts in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store_db.h"

static char dir[64];
static char conninfo[512];

/* Runs scripts/pg-cluster.sh CMD dir; for start, keeps the conninfo it prints. */
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
    snprintf(dir, sizeof dir, "/tmp/parley-pgunit-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    if (cluster("start") || !conninfo[0]) {
        fprintf(stderr, "cannot start PostgreSQL in %s\n", dir);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    cluster("stop");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static db_t *open_db(void) {
    char err[256];
    db_t *db = db_open_pg(conninfo, err, sizeof err);
    if (!db) fprintf(stderr, "db_open_pg: %s\n", err);
    assert_non_null(db);
    assert_int_equal(db_dialect(db), DB_POSTGRES);
    return db;
}

static int64_t one_int(db_t *db, const char *sql) {
    db_stmt *st;
    assert_int_equal(db_prepare(db, sql, &st), DB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t v = db_col_int64(st, 0);
    db_finalize(st);
    return v;
}

static void test_open_refused(void **state) {
    (void)state;
    char err[256] = "";
    db_t *db = db_open_pg("host=/nonexistent-dir dbname=x user=parley", err, sizeof err);
    assert_null(db);
    assert_true(strlen(err) > 0);
}

/* `?`, `?N`, question marks inside literals, identifiers and comments, and a statement
 * prepared once and run again with other values (the cache). */
static void test_placeholders(void **state) {
    (void)state;
    db_t *db = open_db();
    db_stmt *st;
    assert_int_equal(db_prepare(db,
                                "SELECT CAST(? AS BIGINT) + CAST(?3 AS BIGINT), '?''?', "
                                "\"?col\" FROM (SELECT 1 AS \"?col\") t -- ? not a param\n"
                                "WHERE CAST(? AS TEXT) = 'x' /* ?2 */",
                                &st),
                     DB_OK);
    for (int run = 0; run < 3; run++) {
        assert_int_equal(db_bind_int64(st, 1, 40 + run), DB_OK);
        assert_int_equal(db_bind_int64(st, 3, 2), DB_OK);
        /* `?` after `?3` is parameter 4 */
        assert_int_equal(db_bind_text(st, 4, "x", -1), DB_OK);
        assert_int_equal(db_step(st), DB_ROW);
        assert_int_equal(db_col_int64(st, 0), 42 + run);
        assert_int_equal(db_col_type(st, 0), DB_INTEGER);
        assert_string_equal(db_col_text(st, 1), "?'?");
        assert_string_equal(db_col_name(st, 2), "?col");
        assert_int_equal(db_step(st), DB_DONE);
        db_reset(st);
    }
    /* parameter 2 is unbound and never used: binding out of range is an error */
    assert_int_equal(db_bind_int64(st, 5, 1), DB_ERROR);
    db_finalize(st);
    /* a parameter whose type the server cannot infer: prepared with the bound types */
    assert_int_equal(db_prepare(db, "SELECT CASE WHEN ? IS NULL THEN 1 ELSE 0 END", &st), DB_OK);
    db_bind_null(st, 1);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_col_int(st, 0), 1);
    db_reset(st);
    db_bind_text(st, 1, "a", -1);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_col_int(st, 0), 0);
    db_finalize(st);
    /* the same inside a transaction, a parameter used twice */
    assert_int_equal(db_exec(db, "BEGIN"), DB_OK);
    assert_int_equal(db_prepare(db, "SELECT count(*) FROM (SELECT 'x' AS a) t "
                                    "WHERE ?1 IS NULL OR t.a = ?1", &st), DB_OK);
    db_bind_text(st, 1, "x", -1);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_col_int(st, 0), 1);
    db_finalize(st);
    assert_int_equal(db_exec(db, "COMMIT"), DB_OK);
    db_close(db);
}

static void test_types_nulls_blobs(void **state) {
    (void)state;
    db_t *db = open_db();
    assert_int_equal(db_exec(db, "CREATE TABLE t1 (id BIGSERIAL PRIMARY KEY, n BIGINT, "
                                 "f DOUBLE PRECISION, s TEXT, b BYTEA, ok BOOLEAN)"),
                     DB_OK);
    db_stmt *st;
    const unsigned char blob[] = {0, 1, 2, 0xff, 0, '\\', 'x'};
    assert_int_equal(db_prepare(db, "INSERT INTO t1 (n, f, s, b, ok) VALUES (?, ?, ?, ?, ?) "
                                    "RETURNING id",
                                &st),
                     DB_OK);
    db_bind_int64(st, 1, INT64_C(9007199254740993));
    db_bind_double(st, 2, 2.5);
    db_bind_text(st, 3, "h\xc3\xa9 'quoted' ?", -1);
    db_bind_blob(st, 4, blob, sizeof blob);
    db_bind_text(st, 5, "t", -1);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_col_int64(st, 0), 1);
    assert_int_equal(db_step(st), DB_DONE);
    assert_int_equal(db_changes(db), 1);
    db_reset(st);
    db_clear_bindings(st); /* every column NULL */
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_col_int64(st, 0), 2);
    db_finalize(st);

    assert_int_equal(db_prepare(db, "SELECT n, f, s, b, ok, CAST(sum(n) OVER () AS NUMERIC) "
                                    "FROM t1 ORDER BY id",
                                &st),
                     DB_OK);
    assert_int_equal(db_col_count(st), 0); /* not run yet */
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_col_count(st), 6);
    assert_int_equal(db_col_int64(st, 0), INT64_C(9007199254740993));
    assert_int_equal(db_col_type(st, 1), DB_FLOAT);
    assert_true(db_col_double(st, 1) == 2.5);
    assert_string_equal(db_col_text(st, 2), "h\xc3\xa9 'quoted' ?");
    assert_int_equal(db_col_type(st, 2), DB_TEXT);
    assert_int_equal(db_col_type(st, 3), DB_BLOB);
    assert_int_equal(db_col_bytes(st, 3), sizeof blob);
    assert_memory_equal(db_col_blob(st, 3), blob, sizeof blob);
    assert_int_equal(db_col_int(st, 4), 1); /* boolean 't' */
    assert_int_equal(db_col_type(st, 5), DB_FLOAT);
    assert_int_equal(db_col_int64(st, 5), INT64_C(9007199254740993));
    assert_int_equal(db_step(st), DB_ROW);
    for (int c = 0; c < 5; c++) {
        assert_int_equal(db_col_type(st, c), DB_NULL);
        assert_null(db_col_text(st, c));
        assert_int_equal(db_col_int64(st, c), 0);
    }
    assert_int_equal(db_step(st), DB_DONE);
    /* a step after DONE runs the statement again, as SQLite's does */
    assert_int_equal(db_step(st), DB_ROW);
    db_finalize(st);

    /* copying a row's columns through db_bind_column keeps types, NULLs and bytes */
    db_stmt *src, *dst;
    assert_int_equal(db_prepare(db, "SELECT n, f, s, b FROM t1 ORDER BY id", &src), DB_OK);
    assert_int_equal(db_prepare(db, "INSERT INTO t1 (n, f, s, b) VALUES (?, ?, ?, ?)", &dst),
                     DB_OK);
    while (db_step(src) == DB_ROW) {
        for (int c = 0; c < 4; c++) db_bind_column(dst, c + 1, src, c);
        assert_int_equal(db_step(dst), DB_DONE);
        db_reset(dst);
    }
    db_finalize(src);
    db_finalize(dst);
    assert_int_equal(one_int(db, "SELECT count(*) FROM t1 WHERE b = "
                                 "(SELECT b FROM t1 WHERE id = 1)"),
                     2);
    assert_int_equal(one_int(db, "SELECT count(*) FROM t1 WHERE n IS NULL"), 2);

    /* changes: an UPDATE of three rows, a DELETE of none */
    assert_int_equal(db_prepare(db, "UPDATE t1 SET s = ? WHERE id > ?", &st), DB_OK);
    db_bind_text(st, 1, "u", -1);
    db_bind_int64(st, 2, 1);
    assert_int_equal(db_step(st), DB_DONE);
    assert_int_equal(db_changes(db), 3);
    db_finalize(st);
    assert_int_equal(db_exec(db, "DELETE FROM t1 WHERE id < 0"), DB_OK);
    assert_int_equal(db_changes(db), 0);
    db_close(db);
}

/* Errors: a unique violation is DB_CONSTRAINT; a syntax error inside a transaction is
 * DB_ERROR and (prepared under a savepoint) leaves the transaction usable; a
 * serialization failure is DB_RETRY. */
static void test_errors(void **state) {
    (void)state;
    db_t *db = open_db();
    assert_int_equal(db_exec(db, "CREATE TABLE t2 (k TEXT PRIMARY KEY, v BIGINT NOT NULL)"),
                     DB_OK);
    db_stmt *st;
    assert_int_equal(db_prepare(db, "INSERT INTO t2 (k, v) VALUES (?, ?)", &st), DB_OK);
    db_bind_text(st, 1, "a", -1);
    db_bind_int64(st, 2, 1);
    assert_int_equal(db_step(st), DB_DONE);
    db_reset(st);
    assert_int_equal(db_step(st), DB_CONSTRAINT);
    db_reset(st);
    db_bind_null(st, 2);
    db_bind_text(st, 1, "b", -1);
    assert_int_equal(db_step(st), DB_CONSTRAINT); /* not null */
    db_finalize(st);
    assert_true(strstr(db_errmsg(db), "null") != NULL);

    assert_int_equal(db_exec(db, "BEGIN"), DB_OK);
    assert_int_equal(db_exec(db, "INSERT INTO t2 VALUES ('c', 3)"), DB_OK);
    assert_int_equal(db_prepare(db, "SELEC nothing", &st), DB_OK);
    assert_int_equal(db_step(st), DB_ERROR);
    db_finalize(st);
    assert_int_equal(db_exec(db, "INSERT INTO t2 VALUES ('d', 4)"), DB_OK);
    /* a failing db_exec inside the transaction is undone alone, as on SQLite */
    assert_int_equal(db_exec(db, "PRAGMA secure_delete = ON"), DB_ERROR);
    assert_int_equal(db_exec(db, "INSERT INTO t2 VALUES ('d', 5)"), DB_CONSTRAINT);
    assert_int_equal(db_exec(db, "UPDATE t2 SET v = v WHERE k IN ('c', 'd') -- a comment"), DB_OK);
    assert_int_equal(db_changes(db), 2);
    assert_int_equal(db_exec(db, "COMMIT"), DB_OK);
    assert_int_equal(one_int(db, "SELECT count(*) FROM t2"), 3);
    assert_int_equal(db_exec(db, "NOT SQL AT ALL"), DB_ERROR);

    /* two transactions update one row under REPEATABLE READ: the second must retry */
    db_t *other = open_db();
    assert_int_equal(db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ"), DB_OK);
    assert_int_equal(one_int(db, "SELECT v FROM t2 WHERE k = 'a'"), 1);
    assert_int_equal(db_exec(other, "UPDATE t2 SET v = 10 WHERE k = 'a'"), DB_OK);
    assert_int_equal(db_exec(db, "UPDATE t2 SET v = 20 WHERE k = 'a'"), DB_RETRY);
    assert_int_equal(db_exec(db, "ROLLBACK"), DB_OK);
    assert_int_equal(one_int(db, "SELECT v FROM t2 WHERE k = 'a'"), 10);
    assert_true(db_alive(db));
    db_close(other);
    db_close(db);
}

/* SAVEPOINT and RELEASE wait for the next command (store_db_pg.c): a job's savepoint still
 * undoes that job alone, a prepared statement behind a deferred savepoint still sees it,
 * and a ROLLBACK of the whole transaction drops what waits. */
/* Runs INSERT ins again with key k; returns its step's code. */
static int put(db_stmt *ins, const char *k) {
    db_reset(ins);
    db_bind_text(ins, 1, k, -1);
    return db_step(ins);
}

static void test_deferred_savepoints(void **state) {
    (void)state;
    db_t *db = open_db();
    assert_int_equal(db_exec(db, "CREATE TABLE t3 (k TEXT PRIMARY KEY)"), DB_OK);
    db_stmt *ins;
    assert_int_equal(db_prepare(db, "INSERT INTO t3 (k) VALUES (?)", &ins), DB_OK);
    db_bind_text(ins, 1, "warm", -1); /* prepared outside a transaction */
    assert_int_equal(db_step(ins), DB_DONE);
    assert_int_equal(db_exec(db, "BEGIN"), DB_OK);
    assert_int_equal(db_exec(db, "SAVEPOINT job"), DB_OK);
    assert_int_equal(put(ins, "one"), DB_DONE); /* the savepoint goes out ahead of it */
    assert_int_equal(db_exec(db, "RELEASE job; SAVEPOINT job"), DB_OK);
    assert_int_equal(put(ins, "one"), DB_CONSTRAINT); /* the second job fails ... */
    assert_true(db_tx_failed(db));
    assert_int_equal(db_exec(db, "ROLLBACK TO job"), DB_OK); /* ... and is undone alone */
    assert_false(db_tx_failed(db));
    assert_int_equal(db_exec(db, "RELEASE job; SAVEPOINT job"), DB_OK);
    assert_int_equal(put(ins, "two"), DB_DONE);
    assert_int_equal(db_exec(db, "RELEASE job; SAVEPOINT job"), DB_OK);
    assert_int_equal(db_exec(db, "ROLLBACK TO job"), DB_OK); /* a job that wrote nothing */
    assert_int_equal(db_exec(db, "RELEASE job"), DB_OK);
    assert_int_equal(db_exec(db, "COMMIT"), DB_OK); /* with the RELEASE ahead of it */
    assert_int_equal(one_int(db, "SELECT count(*) FROM t3"), 3);
    /* a savepoint that never existed shows on the next command */
    assert_int_equal(db_exec(db, "BEGIN"), DB_OK);
    assert_int_equal(db_exec(db, "RELEASE nothing"), DB_OK);
    assert_int_equal(put(ins, "three"), DB_ERROR);
    assert_int_equal(db_exec(db, "ROLLBACK"), DB_OK);
    /* what waits is dropped with the transaction */
    assert_int_equal(db_exec(db, "BEGIN"), DB_OK);
    assert_int_equal(db_exec(db, "SAVEPOINT x"), DB_OK);
    assert_int_equal(db_exec(db, "ROLLBACK"), DB_OK);
    assert_int_equal(one_int(db, "SELECT count(*) FROM t3"), 3);
    db_finalize(ins);
    db_close(db);
}

/* The server goes away under an open connection: the next statement says
 * DB_UNAVAILABLE at once and keeps saying it; a new connection works once it is back. */
static void test_lost_connection(void **state) {
    (void)state;
    db_t *db = open_db();
    db_stmt *st;
    assert_int_equal(db_prepare(db, "SELECT CAST(? AS BIGINT)", &st), DB_OK);
    db_bind_int64(st, 1, 7);
    assert_int_equal(db_step(st), DB_ROW);
    db_reset(st);
    assert_int_equal(cluster("stop"), 0);
    assert_int_equal(db_step(st), DB_UNAVAILABLE);
    assert_false(db_alive(db));
    db_finalize(st);
    assert_int_equal(db_exec(db, "SELECT 1"), DB_UNAVAILABLE);
    assert_int_equal(db_prepare(db, "SELECT 1", &st), DB_UNAVAILABLE);
    char err[256];
    assert_null(db_open_pg(conninfo, err, sizeof err));
    /* a second connection, lost inside a transaction */
    assert_int_equal(cluster("start"), 0);
    db_t *tx = open_db();
    assert_int_equal(db_exec(tx, "BEGIN"), DB_OK);
    assert_int_equal(db_exec(tx, "INSERT INTO t2 VALUES ('lost', 1)"), DB_OK);
    assert_int_equal(cluster("stop"), 0);
    assert_int_equal(db_exec(tx, "INSERT INTO t2 VALUES ('lost2', 1)"), DB_UNAVAILABLE);
    assert_int_equal(cluster("start"), 0);
    /* the one lost while idle comes back by itself on its next use */
    assert_int_equal(one_int(db, "SELECT count(*) FROM t2"), 3);
    assert_true(db_alive(db));
    /* the one lost inside its transaction does not run that transaction's statements on
     * their own: unavailable until the caller rolls back, then usable again */
    assert_int_equal(db_exec(tx, "INSERT INTO t2 VALUES ('lost3', 1)"), DB_UNAVAILABLE);
    assert_int_equal(db_exec(tx, "COMMIT"), DB_UNAVAILABLE);
    assert_int_equal(db_exec(tx, "ROLLBACK"), DB_OK);
    assert_int_equal(one_int(tx, "SELECT count(*) FROM t2 WHERE k LIKE 'lost%'"), 0);
    db_close(tx);
    db_close(db);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_refused),
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_types_nulls_blobs),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_deferred_savepoints),
        cmocka_unit_test(test_lost_connection),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
