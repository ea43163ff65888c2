/* Unit tests for limiter.c: sliding windows, expiry, and the bound on keys that lets
 * attacker-chosen keys (login names, addresses, article ids) leave memory flat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "limiter.h"

static void test_sliding_window(void **state) {
    (void)state;
    limiter_t *l = limiter_new(60000, 100);
    uint64_t t = 1000000 * 60000ULL; /* a window boundary */
    for (int i = 0; i < 10; i++) limiter_add(l, "a", 1, t + (uint64_t)i);
    assert_true(limiter_count(l, "a", t + 100) > 9.99);
    /* half way through the next window, half of the previous one still counts */
    double half = limiter_count(l, "a", t + 60000 + 30000);
    assert_true(half > 4.9 && half < 5.1);
    /* two windows on, nothing */
    assert_true(limiter_count(l, "a", t + 120000 + 10) < 0.001);
    assert_true(limiter_count(l, "b", t) == 0);
    limiter_free(l);
}

static void test_expiry_without_reads(void **state) {
    (void)state;
    limiter_t *l = limiter_new(1000, 1000000);
    uint64_t t = 5000000;
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        limiter_add(l, key, 1, t);
    }
    assert_int_equal(limiter_size(l), 5000);
    /* a different key, two windows later: every old key has expired unread */
    limiter_add(l, "late", 1, t + 2000);
    assert_int_equal(limiter_size(l), 1);
    limiter_free(l);
}

static void test_flat_memory_100k_names(void **state) {
    (void)state;
    limiter_t *l = limiter_new(15 * 60000, 50000);
    char key[64];
    uint64_t t = 7000000;
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "login:p:%08x:name-%d", i * 2654435761u, i);
        limiter_add(l, key, 1, t + (uint64_t)i);
        assert_true(limiter_size(l) <= 50000);
    }
    assert_int_equal(limiter_size(l), 50000);
    /* the most recent keys are the ones kept */
    snprintf(key, sizeof key, "login:p:%08x:name-%d", 99999 * 2654435761u, 99999);
    assert_true(limiter_count(l, key, t + 100000) >= 1);
    limiter_reset(l, key);
    assert_true(limiter_count(l, key, t + 100000) == 0);
    limiter_free(l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sliding_window),
        cmocka_unit_test(test_expiry_without_reads),
        cmocka_unit_test(test_flat_memory_100k_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
