/* Unit tests for the accounts repository (store_accounts.c) on a real SQLite store in a
 * temporary directory, for the session check of auth.c over it, and for the login
 * throttle's windows (bus.c's counters, which hold the throttle: it has no table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth.h"
#include "bus.h"
#include "clock.h"
#include "errors.h"
#include "server.h"
#include "store.h"
#include "store_accounts.h"

static char dir[64];
static db_t *db;

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/parley-accounts-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    db = store_open_sync(dir);
    return db ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* How many rows a one-number query counts. */
static int64_t count(const char *sql) {
    db_stmt *st;
    assert_int_equal(db_prepare(db, sql, &st), DB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t n = db_col_int64(st, 0);
    db_finalize(st);
    return n;
}

static void collect(const store_accounts_moderator *m, void *arg) {
    char *buf = arg;
    strcat(buf, m->name);
    strcat(buf, "/");
    strcat(buf, m->role);
    strcat(buf, m->pwhash ? "+hash " : " ");
}

static void test_moderators(void **state) {
    (void)state;
    assert_int_equal(store_accounts_moderator_add(db, "mara", "admin", "H1", 1000), 0);
    assert_int_equal(store_accounts_moderator_add(db, "ben", "moderator", "H2", 2000), 0);
    /* the name is taken: nothing changes */
    assert_int_equal(store_accounts_moderator_add(db, "mara", "moderator", "H3", 3000), 1);
    /* a role outside the schema's CHECK is an error, not a row */
    assert_int_equal(store_accounts_moderator_add(db, "eve", "root", "H4", 3000), -1);

    store_accounts_moderator m;
    assert_int_equal(store_accounts_moderator_get(db, "mara", &m), 1);
    assert_string_equal(m.role, "admin");
    assert_string_equal(m.pwhash, "H1");
    assert_int_equal(m.created_at, 1000);
    store_accounts_moderator_free(&m);
    assert_int_equal(store_accounts_moderator_get(db, "nobody", &m), 0);
    assert_null(m.name);

    char buf[256] = "";
    assert_int_equal(store_accounts_moderator_each(db, collect, buf), 2);
    assert_string_equal(buf, "ben/moderator mara/admin "); /* name order, no hashes */

    assert_int_equal(store_accounts_moderator_set_pwhash(db, "ben", "H5"), 1);
    assert_int_equal(store_accounts_moderator_set_pwhash(db, "nobody", "H5"), 0);
    assert_int_equal(store_accounts_moderator_get(db, "ben", &m), 1);
    assert_string_equal(m.pwhash, "H5");
    store_accounts_moderator_free(&m);
}

static void test_sessions(void **state) {
    (void)state;
    int64_t now = 1800000000000;
    assert_int_equal(store_accounts_session_insert(db, "t1", "mara", now, now + 3600000), 0);
    assert_int_equal(store_accounts_session_insert(db, "t2", "mara", now, now + 10), 0);
    assert_int_equal(store_accounts_session_insert(db, "t3", "ben", now, now + 3600000), 0);
    /* a token is stored once; a session of no moderator is refused (foreign key) */
    assert_int_equal(store_accounts_session_insert(db, "t1", "ben", now, now + 5), -1);
    assert_int_equal(store_accounts_session_insert(db, "t9", "nobody", now, now + 5), -1);

    store_accounts_session s;
    assert_int_equal(store_accounts_session_get(db, "t1", &s), 1);
    assert_string_equal(s.moderator, "mara");
    assert_string_equal(s.role, "admin");
    assert_int_equal(s.created_at, now);
    assert_int_equal(s.last_seen, now);
    assert_int_equal(s.expires_at, now + 3600000);
    store_accounts_session_free(&s);
    assert_int_equal(store_accounts_session_get(db, "nope", &s), 0);

    assert_int_equal(store_accounts_session_touch(db, "t1", now + 500), 0);
    assert_int_equal(store_accounts_session_get(db, "t1", &s), 1);
    assert_int_equal(s.last_seen, now + 500);
    store_accounts_session_free(&s);

    /* expiry: `now` comes from C; only t2 has ended */
    assert_int_equal(store_accounts_sessions_expire(db, now + 10), 0); /* ends at, not before */
    assert_int_equal(store_accounts_sessions_expire(db, now + 11), 1);
    assert_int_equal(store_accounts_session_get(db, "t2", &s), 0);
    assert_int_equal(count("SELECT COUNT(*) FROM sessions"), 2);

    /* a password change closes every session of that moderator only */
    assert_int_equal(store_accounts_session_insert(db, "t4", "ben", now, now + 3600000), 0);
    assert_int_equal(store_accounts_sessions_delete_for(db, "ben"), 2);
    assert_int_equal(store_accounts_session_get(db, "t1", &s), 1);
    store_accounts_session_free(&s);

    assert_int_equal(store_accounts_session_delete(db, "t1"), 1);
    assert_int_equal(store_accounts_session_delete(db, "t1"), 0);

    /* removing a moderator takes their sessions with them */
    assert_int_equal(store_accounts_session_insert(db, "t5", "ben", now, now + 3600000), 0);
    assert_int_equal(store_accounts_moderator_remove(db, "ben"), 1);
    assert_int_equal(store_accounts_moderator_remove(db, "ben"), 0);
    assert_int_equal(store_accounts_session_get(db, "t5", &s), 0);
}

/* auth_session_check over the repository: a live session answers and is touched, an
 * idle or expired one is refused and deleted. */
static void test_session_check(void **state) {
    (void)state;
    int64_t now = 1800000000000;
    srv.cfg.idle_minutes = 30;
    assert_int_equal(store_accounts_session_insert(db, "live", "mara", now, now + 86400000), 0);
    assert_int_equal(store_accounts_session_insert(db, "old", "mara", now, now + 1000), 0);
    assert_int_equal(store_accounts_session_insert(db, "idle", "mara", now, now + 86400000), 0);

    char *name = NULL, *role = NULL;
    assert_int_equal(auth_session_check(db, "live", now + 60000, &name, &role), 0);
    assert_string_equal(name, "mara");
    assert_string_equal(role, "admin");
    free(name);
    free(role);
    store_accounts_session s;
    assert_int_equal(store_accounts_session_get(db, "live", &s), 1);
    assert_int_equal(s.last_seen, now + 60000);
    store_accounts_session_free(&s);

    name = role = NULL;
    assert_int_equal(auth_session_check(db, "old", now + 2000, &name, &role), PERR_UNAUTHORIZED);
    assert_null(name);
    assert_int_equal(store_accounts_session_get(db, "old", &s), 0);
    /* idle: 30 minutes since last seen, although not expired */
    assert_int_equal(auth_session_check(db, "idle", now + 30 * 60000, &name, &role),
                     PERR_UNAUTHORIZED);
    assert_int_equal(store_accounts_session_get(db, "idle", &s), 0);
    assert_int_equal(auth_session_check(db, "unknown", now, &name, &role), PERR_UNAUTHORIZED);
    srv.cfg.idle_minutes = 0;
}

static long got[BUS_COUNTERS_MAX];
static long got_ttl;
static void read_cb(const long *vals, long ttl_ms, void *arg) {
    (void)arg;
    for (int i = 0; i < BUS_COUNTERS_MAX; i++) got[i] = vals[i];
    got_ttl = ttl_ms;
}

/* The login throttle's entries as auth.c writes them: attempts per (address, name) pair
 * and per address, a lock window after failures, all cleared for the pair on success,
 * and gone when their window ends. */
static void test_throttle(void **state) {
    (void)state;
    int64_t t = 1800000000000;
    clock_fake(t);
    const char *keys[2] = {"login:p:ab12:mara", "login:i:ab12"};
    for (int i = 0; i < 3; i++) {
        bus_counter_add(keys[0], 15 * 60000);
        bus_counter_add(keys[1], 15 * 60000);
    }
    bus_counter_add("login:p:ab12:ben", 15 * 60000);
    bus_counter_add("login:i:ab12", 15 * 60000);
    bus_counter_get(keys, 2, read_cb, NULL);
    assert_int_equal(got[0], 3);
    assert_int_equal(got[1], 4);
    /* a lock of 4 s: read while it holds, with its time left */
    const char *lock[1] = {"login:lp:ab12:mara"};
    bus_counter_add(lock[0], 4000);
    clock_fake(t + 1000);
    bus_counter_get(lock, 1, read_cb, NULL);
    assert_int_equal(got[0], 1);
    assert_true(got_ttl > 0 && got_ttl <= 3000);
    clock_fake(t + 4001);
    bus_counter_get(lock, 1, read_cb, NULL);
    assert_int_equal(got[0], 0);
    /* success clears the pair, not the address */
    bus_counter_reset(keys[0]);
    bus_counter_get(keys, 2, read_cb, NULL);
    assert_int_equal(got[0], 0);
    assert_int_equal(got[1], 4);
    /* the window ends: the address's count is gone too */
    clock_fake(t + 15 * 60000 + 1);
    bus_counter_get(keys, 2, read_cb, NULL);
    assert_int_equal(got[1], 0);
    clock_fake(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moderators),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_session_check),
        cmocka_unit_test(test_throttle),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
