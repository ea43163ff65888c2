/* Unit tests for the message parser (proto.c): every malformed message gets its typed
 * error with the request id, without reaching storage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conn.h"
#include "dict.h"
#include "hub.h"
#include "proto.h"
#include "text.h"
#include "server.h"

static conn_t c;

static int setup(void **state) {
    (void)state;
    memset(&srv, 0, sizeof srv);
    srv.cfg.limit_title = 100;
    srv.cfg.limit_body = 1000;
    srv.cfg.limit_name = 40;
    srv.cfg.guests = true;
    /* no transport: replies stay in the connection's queue, where the test reads them */
    conn_init(NULL, 1024, 1 << 21);
    hub_init(false);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    hub_shutdown();
    conn_shutdown();
    return 0;
}

/* Sends raw bytes; returns the reply (parsed; caller decrefs) and empties the queue. */
static json_t *send_raw(const char *data, size_t len) {
    memset(&c, 0, sizeof c);
    c.id = 1;
    proto_handle(&c, data, len);
    assert_int_equal(c.qlen, 1);
    msg_t *m = c.q[c.qhead];
    json_t *j = json_loadb((const char *)msg_payload(m), m->len, 0, NULL);
    assert_non_null(j);
    msg_unref(m);
    free(c.q);
    return j;
}

static void expect(const char *msg, const char *code, long id) {
    json_t *r = send_raw(msg, strlen(msg));
    assert_string_equal(json_string_value(json_object_get(r, "type")), "error");
    if (strcmp(json_string_value(json_object_get(r, "code")), code))
        fail_msg("%s: got %s, want %s", msg, json_string_value(json_object_get(r, "code")), code);
    assert_true(json_string_length(json_object_get(r, "message")) > 0);
    if (id >= 0) assert_int_equal(json_integer_value(json_object_get(r, "id")), id);
    else assert_null(json_object_get(r, "id"));
    json_decref(r);
}

static void test_json_and_types(void **state) {
    (void)state;
    expect("{not json", "bad_json", -1);
    expect("[1,2]", "bad_json", -1);
    expect("\"text\"", "bad_json", -1);
    expect("{\"type\":\"x\",\"type\":\"y\"}", "bad_json", -1); /* duplicate keys */
    expect("{}", "unknown_type", -1);
    expect("{\"type\":7,\"id\":3}", "unknown_type", 3);
    expect("{\"type\":\"teleport\",\"id\":4}", "unknown_type", 4);
    expect("{\"type\":\"ping\",\"id\":[1]}", "bad_request", -1);
    expect("{\"type\":\"mod.approve\",\"id\":5,\"comment\":1}", "forbidden", 5);
}

static void test_fields(void **state) {
    (void)state;
    expect("{\"type\":\"subscribe\",\"id\":1}", "bad_request", 1);
    expect("{\"type\":\"subscribe\",\"id\":1,\"article\":\"a b\"}", "bad_request", 1);
    expect("{\"type\":\"subscribe\",\"id\":1,\"article\":\"\"}", "bad_request", 1);
    expect("{\"type\":\"subscribe\",\"id\":1,\"article\":\"a\",\"since\":-1}", "bad_request", 1);
    expect("{\"type\":\"history\",\"id\":2,\"article\":\"a\"}", "bad_request", 2);
    expect("{\"type\":\"unsubscribe\",\"id\":2,\"article\":\"a\"}", "not_found", 2);
    expect("{\"type\":\"post\",\"id\":3,\"article\":\"a\",\"name\":\"n\",\"title\":\"t\",\"body\":5}", "bad_request", 3);
    expect("{\"type\":\"post\",\"id\":3,\"article\":\"a\",\"name\":\"n\",\"title\":\"t\",\"body\":\"b\",\"parent\":\"x\"}", "bad_request", 3);
    expect("{\"type\":\"edit\",\"id\":4,\"body\":\"b\"}", "bad_request", 4);
    expect("{\"type\":\"delete\",\"id\":4,\"comment\":0}", "bad_request", 4);
    expect("{\"type\":\"report\",\"id\":5,\"comment\":1,\"reason\":\"boring\"}", "bad_request", 5);
    expect("{\"type\":\"hello\",\"id\":6,\"guest_key\":\"short\"}", "bad_request", 6);
    expect("{\"type\":\"hello\",\"id\":6,\"token\":\"x.y.z\"}", "unauthorized", 6);
}

static void test_text_errors(void **state) {
    (void)state;
    char big[1200];
    memset(big, 'x', 101);
    big[101] = '\0';
    char msg[2000];
    snprintf(msg, sizeof msg, "{\"type\":\"post\",\"id\":1,\"article\":\"a\",\"name\":\"n\",\"title\":\"%s\",\"body\":\"b\"}", big);
    expect(msg, "title_too_long", 1);
    memset(big, 'x', 1001);
    big[1001] = '\0';
    snprintf(msg, sizeof msg, "{\"type\":\"post\",\"id\":1,\"article\":\"a\",\"name\":\"n\",\"title\":\"t\",\"body\":\"%s\"}", big);
    expect(msg, "body_too_long", 1);
    expect("{\"type\":\"post\",\"id\":1,\"article\":\"a\",\"name\":\"n\",\"body\":\"b\"}", "title_empty", 1);
    expect("{\"type\":\"post\",\"id\":1,\"article\":\"a\",\"name\":\"n\",\"title\":\"  \",\"body\":\"b\"}", "title_empty", 1);
    expect("{\"type\":\"post\",\"id\":1,\"article\":\"a\",\"name\":\"n\",\"title\":\"t\",\"body\":\" \"}", "body_empty", 1);
    expect("{\"type\":\"post\",\"id\":1,\"article\":\"a\",\"title\":\"t\",\"body\":\"b\"}", "name_empty", 1);
    expect("{\"type\":\"post\",\"id\":1,\"article\":\"a\",\"name\":\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\",\"title\":\"t\",\"body\":\"b\"}", "name_too_long", 1);
    expect("{\"type\":\"post\",\"id\":1,\"article\":\"a\",\"name\":\"n\",\"title\":\"t\",\"body\":\"a\\u0007b\"}", "invalid_text", 1);
    expect("{\"type\":\"post\",\"id\":1,\"article\":\"a\",\"name\":\"n\",\"title\":\"t\",\"body\":\"a\\u202eb\"}", "invalid_text", 1);
    srv.cfg.guests = false;
    expect("{\"type\":\"post\",\"id\":9,\"article\":\"a\",\"name\":\"n\",\"title\":\"t\",\"body\":\"b\"}", "unauthorized", 9);
    srv.cfg.guests = true;
}

static void test_invalid_utf8_keeps_id(void **state) {
    (void)state;
    const char frame[] = "{\"type\":\"post\",\"id\":77,\"article\":\"a\",\"body\":\"\xED\xA0\x80\"}";
    json_t *r = send_raw(frame, sizeof frame - 1);
    assert_string_equal(json_string_value(json_object_get(r, "code")), "invalid_text");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 77);
    json_decref(r);
    assert_true(text_article_valid("news/2026:a_b-c.d"));
    assert_false(text_article_valid("<script>"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_and_types), cmocka_unit_test(test_fields),
        cmocka_unit_test(test_text_errors), cmocka_unit_test(test_invalid_utf8_keeps_id),
    };
    return cmocka_run_group_tests_name("proto", tests, setup, teardown);
}
