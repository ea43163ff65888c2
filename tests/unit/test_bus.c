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

static long got[BUS_COUNTERS_MAX];
static void read_cb(const long *vals, long ttl_ms, void *arg) {
    for (int i = 0; i < BUS_COUNTERS_MAX; i++) got[i] = vals[i];
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
        cmocka_unit_test(test_100k_names_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
