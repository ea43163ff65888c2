/* Unit tests for the bus's local windows (no Redis): they expire without being read
 * again, and attacker-chosen keys (100,000 login names) leave the table bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "clock.h"

static long got[BUS_COUNTERS_MAX], got_ttl;
static void read_cb(const long *vals, long ttl_ms, void *arg) {
    for (int i = 0; i < BUS_COUNTERS_MAX; i++) got[i] = vals[i];
    got_ttl = ttl_ms;
}

static void test_windows_count_and_expire(void **state) {
    (void)state;
    clock_fake(1800000000000);
    for (int i = 0; i < 3; i++) bus_counter_add("login:p:a:mara", 60000);
    const char *k[1] = {"login:p:a:mara"};
    bus_counter_get(k, 1, read_cb, NULL);
    assert_int_equal(got[0], 3);
    clock_fake(1800000000000 + 61000);
    bus_counter_get(k, 1, read_cb, NULL);
    assert_int_equal(got[0], 0);
    clock_fake(0);
}

/* add_get adds to the counters with a window and reads every one, the added included;
 * the time left it reports is the read counters' only (bus.h). */
static void test_add_get(void **state) {
    (void)state;
    clock_fake(1800000000000);
    const char *k[3] = {"post:a:ann", "post:ip:x", "dup:b"};
    const long w[3] = {60000, 60000, 0};
    bus_counter_add("dup:b", 60000);
    clock_fake(1800000000000 + 1000);
    for (int i = 1; i <= 3; i++) {
        bus_counter_add_get(k, w, 3, read_cb, NULL);
        assert_int_equal(got[0], i);
        assert_int_equal(got[1], i);
        assert_int_equal(got[2], 1); /* window 0: read, not added to */
        assert_int_equal(got_ttl, 59000); /* dup:b's, started a second earlier */
    }
    bus_counter_add_get(k, w, 2, read_cb, NULL); /* only added ones: no time asked */
    assert_int_equal(got[0], 4);
    assert_int_equal(got_ttl, 0);
    bus_counter_add_get(k, NULL, 3, read_cb, NULL); /* no windows: a read */
    assert_int_equal(got[0], 4);
    assert_int_equal(got_ttl, 60000);
    clock_fake(1800000000000 + 62000);
    bus_counter_add_get(k, w, 3, read_cb, NULL);
    assert_int_equal(got[0], 1); /* a new window */
    assert_int_equal(got[2], 0);
    clock_fake(0);
}

static void test_100k_names_flat(void **state) {
    (void)state;
    int64_t t = 1900000000000;
    clock_fake(t);
    char key[64];
    size_t peak = 0;
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "login:p:%08x:name-%d", (unsigned)i * 2654435761u, i);
        bus_counter_add(key, 15 * 60000);
        if (bus_local_counters() > peak) peak = bus_local_counters();
    }
    assert_true(peak <= 65536);
    /* a window later, a new key sweeps the expired ones away without reading them */
    clock_fake(t + 16 * 60000);
    bus_counter_add("fresh", 1000);
    bus_counter_add("fresh-2", 1000);
    assert_true(bus_local_counters() < 100);
    clock_fake(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_count_and_expire),
        cmocka_unit_test(test_add_get),
        cmocka_unit_test(test_100k_names_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
