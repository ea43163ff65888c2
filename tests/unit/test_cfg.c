/* Unit tests for moderation.yml reading: positions in every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "config.h"

static void expect_config_error(const char *yaml, const char *where, const char *what) {
    char path[] = "/tmp/parley-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    config_t c;
    char err[CFG_ERRLEN] = "";
    assert_int_equal(config_load(path, &c, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s:%s", path, where);
    if (strncmp(err, want, strlen(want)) != 0) fail_msg("want %s..., got %s", want, err);
    if (!strstr(err, what)) fail_msg("want '%s' in %s", what, err);
    config_free(&c);
    unlink(path);
}

static void test_syntax_errors(void **state) {
    (void)state;
    char err[CFG_ERRLEN];
    assert_null(cfg_parse_string("a: [1, 2\n", 9, "x.yml", err, sizeof err));
    assert_non_null(strstr(err, "x.yml:"));
    assert_null(cfg_parse_string("a: 1\na: 2\n", 10, "x.yml", err, sizeof err));
    assert_non_null(strstr(err, "x.yml:2:1: duplicate key 'a'"));
    assert_null(cfg_parse_string("- 1\n- 2\n", 8, "x.yml", err, sizeof err));
    assert_non_null(strstr(err, "top level"));
    cfg_node *root = cfg_parse_string("", 0, "x.yml", err, sizeof err);
    assert_non_null(root);
    assert_int_equal(root->kind, CFG_MAP);
    cfg_free(root);
}

static void test_config_errors(void **state) {
    (void)state;
    expect_config_error("server:\n  listen: nowhere\n", "2:11", "HOST:PORT");
    expect_config_error("server:\n  colour: blue\n", "2:3", "unknown key 'colour'");
    expect_config_error("serve:\n  listen: 1\n", "1:1", "unknown key 'serve'");
    expect_config_error("limits:\n  title: many\n", "2:10", "whole number");
    expect_config_error("limits:\n  body: 0\n", "2:9", "between");
    expect_config_error("server:\n  origins: http://a\n", "2:12", "a list");
    expect_config_error("server:\n  origins: [ftp://a]\n", "2:13", "scheme");
    expect_config_error("identity:\n  guests: maybe\n", "2:11", "true or false");
    expect_config_error("redis:\n  url: http://x\n", "2:8", "redis://");
    expect_config_error("log_level: loud\n", "1:12", "debug");
}

static void test_config_values(void **state) {
    (void)state;
    char path[] = "/tmp/parley-cfg-XXXXXX";
    int fd = mkstemp(path);
    const char *yaml = "server:\n  listen: \"[::1]:9000\"\n  origins: [\"https://a.example\"]\n"
                       "limits: {title: 80}\nredis:\n  url: redis://:pw@10.0.0.1:6380/2\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    config_t c;
    char err[CFG_ERRLEN];
    assert_int_equal(config_load(path, &c, err, sizeof err), 0);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 9000);
    assert_int_equal(c.limit_title, 80);
    assert_int_equal(c.limit_body, 1000);
    assert_true(config_origin_allowed(&c, "https://a.example"));
    assert_false(config_origin_allowed(&c, "https://b.example"));
    assert_string_equal(c.redis_host, "10.0.0.1");
    assert_int_equal(c.redis_port, 6380);
    assert_int_equal(c.redis_db, 2);
    assert_string_equal(c.redis_password, "pw");
    config_free(&c);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_values),
    };
    return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
