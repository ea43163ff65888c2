/* Unit tests for sort.c: the `order` and `after` fields of history requests, and the
 * cursor a reply hands back (docs/protocol.md, "Orders"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sort.h"

/* Parses the JSON text of a request; returns sort_parse's result. */
static int parse(const char *text, sort_cursor *cur, const char **why) {
    json_t *req = json_loads(text, 0, NULL);
    assert_non_null(req);
    int rc = sort_parse(req, cur, why);
    json_decref(req);
    return rc;
}

static void test_orders(void **state) {
    (void)state;
    sort_cursor c;
    const char *why = NULL;
    assert_int_equal(parse("{}", &c, &why), 0);
    assert_int_equal(c.order, SORT_OLDEST);
    assert_int_equal(parse("{\"order\":null}", &c, &why), 0);
    assert_int_equal(c.order, SORT_OLDEST);
    assert_int_equal(parse("{\"order\":\"newest\"}", &c, &why), 0);
    assert_int_equal(c.order, SORT_NEWEST);
    assert_true(c.id == INT64_MAX && c.likes == INT64_MAX);
    assert_int_equal(parse("{\"order\":\"liked\"}", &c, &why), 0);
    assert_int_equal(c.order, SORT_LIKED);
    assert_string_equal(sort_name(SORT_LIKED), "liked");
    for (const char *bad = "{\"order\":\"best\"}"; bad; bad = NULL)
        assert_int_equal(parse(bad, &c, &why), -1);
    assert_int_equal(parse("{\"order\":1}", &c, &why), -1);
    assert_int_equal(parse("{\"order\":\"Liked\"}", &c, &why), -1);
    assert_non_null(why);
}

static void test_cursors(void **state) {
    (void)state;
    sort_cursor c;
    const char *why = NULL;
    assert_int_equal(parse("{\"order\":\"liked\",\"after\":\"3:1187\"}", &c, &why), 0);
    assert_true(c.likes == 3 && c.id == 1187);
    assert_int_equal(parse("{\"order\":\"newest\",\"after\":\"42\"}", &c, &why), 0);
    assert_true(c.id == 42);
    /* a cursor round-trips through sort_next */
    sort_cursor n = {.order = SORT_LIKED, .likes = 12, .id = 99};
    json_t *s = sort_next(&n);
    assert_string_equal(json_string_value(s), "12:99");
    json_decref(s);
    n.order = SORT_NEWEST;
    s = sort_next(&n);
    assert_string_equal(json_string_value(s), "99");
    json_decref(s);
    static const char *const bad[] = {
        "{\"order\":\"liked\",\"after\":\"42\"}",        /* newest's cursor */
        "{\"order\":\"newest\",\"after\":\"3:4\"}",      /* liked's cursor */
        "{\"order\":\"liked\",\"after\":\"3:4:5\"}",
        "{\"order\":\"liked\",\"after\":\":4\"}",
        "{\"order\":\"liked\",\"after\":\"3:\"}",
        "{\"order\":\"liked\",\"after\":\"-3:4\"}",
        "{\"order\":\"liked\",\"after\":\" 3:4\"}",
        "{\"order\":\"newest\",\"after\":\"\"}",
        "{\"order\":\"newest\",\"after\":\"99999999999999999999\"}",
        "{\"order\":\"newest\",\"after\":12}",
        "{\"after\":\"12\"}",                            /* oldest pages with before */
        NULL};
    for (int i = 0; bad[i]; i++) {
        why = NULL;
        assert_int_equal(parse(bad[i], &c, &why), -1);
        assert_non_null(why);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_cursors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
