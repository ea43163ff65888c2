/* Unit tests for text.c: UTF-8 validation, NFC, trimming, limits, forbidden characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "text.h"

static text_status_t clean(const char *in, text_field_t f, size_t max, char **out, size_t *n) {
    return text_clean(in, strlen(in), f, max, out, n);
}

static void expect_ok(const char *in, text_field_t f, size_t max, const char *want, size_t want_cp) {
    char *out = NULL;
    size_t n = 0;
    assert_int_equal(clean(in, f, max, &out, &n), TEXT_OK);
    assert_string_equal(out, want);
    assert_int_equal(n, want_cp);
    free(out);
}

static void expect_status(const char *in, size_t len, text_field_t f, size_t max, text_status_t st) {
    char *out = (char *)1;
    size_t n;
    assert_int_equal(text_clean(in, len, f, max, &out, &n), st);
    assert_null(out);
}

static void test_nfc_and_counting(void **state) {
    (void)state;
    expect_ok("e\xCC\x81", TEXT_TITLE, 1, "\xC3\xA9", 1);            /* e + U+0301 -> é */
    expect_ok("\xF0\x9F\x98\x80", TEXT_BODY, 1, "\xF0\x9F\x98\x80", 1); /* emoji: one code point */
    /* a ZWJ family is several code points, counted as such */
    expect_ok("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", TEXT_BODY, 3,
              "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", 3);
    /* Hangul jamo compose */
    expect_ok("\xE1\x84\x80\xE1\x85\xA1", TEXT_TITLE, 1, "\xEA\xB0\x80", 1);
    /* combining marks that do not compose stay and count */
    expect_ok("a\xCC\xB8", TEXT_TITLE, 2, "a\xCC\xB8", 2);
}

static void test_limits(void **state) {
    (void)state;
    char buf[2100];
    memset(buf, 'x', 100);
    buf[100] = '\0';
    expect_ok(buf, TEXT_TITLE, 100, buf, 100);
    memset(buf, 'x', 101);
    buf[101] = '\0';
    expect_status(buf, 101, TEXT_TITLE, 100, TEXT_TOO_LONG);
    /* 100 decomposed é is 200 code points before NFC, 100 after */
    for (int i = 0; i < 100; i++) memcpy(buf + 3 * i, "e\xCC\x81", 3);
    buf[300] = '\0';
    char *out;
    size_t n;
    assert_int_equal(clean(buf, TEXT_TITLE, 100, &out, &n), TEXT_OK);
    assert_int_equal(n, 100);
    free(out);
}

static void test_trim_and_empty(void **state) {
    (void)state;
    expect_ok("  \t hello \xE2\x80\x83\n", TEXT_TITLE, 100, "hello", 5); /* em space */
    expect_status("   ", 3, TEXT_BODY, 10, TEXT_EMPTY);
    expect_status("", 0, TEXT_NAME, 10, TEXT_EMPTY);
    expect_status("\xC2\xA0\xE3\x80\x80", 5, TEXT_NAME, 10, TEXT_EMPTY); /* NBSP, ideographic */
}

static void test_body_lines(void **state) {
    (void)state;
    expect_ok("a\r\nb\rc", TEXT_BODY, 100, "a\nb\nc", 5);
    expect_ok("a\n\n\n\n\n\nb", TEXT_BODY, 100, "a\n\n\nb", 5);
    expect_ok("a\n  \n  \n\n\nb", TEXT_BODY, 100, "a\n\n\nb", 5);
    expect_ok("a   \nb", TEXT_BODY, 100, "a\nb", 3); /* trailing spaces of a line */
    expect_status("a\nb", 3, TEXT_TITLE, 100, TEXT_INVALID);
    expect_status("a\nb", 3, TEXT_NAME, 100, TEXT_INVALID);
}

/* A tab is a space (the widget turns pasted tabs into spaces the same way). */
static void test_tabs(void **state) {
    (void)state;
    expect_ok("a\tb", TEXT_BODY, 100, "a b", 3);
    expect_ok("x\t\ty", TEXT_TITLE, 100, "x  y", 4);
    expect_ok("Ann\tLee", TEXT_NAME, 100, "Ann Lee", 7);
    expect_ok("line one\t\nline two", TEXT_BODY, 100, "line one\nline two", 17);
}

static void test_forbidden(void **state) {
    (void)state;
    expect_status("a\x07" "b", 3, TEXT_BODY, 100, TEXT_INVALID);
    expect_status("a\xC2\x85" "b", 4, TEXT_TITLE, 100, TEXT_INVALID);           /* C1 NEL mid-text */
    expect_status("x\xE2\x80\xAEy", 5, TEXT_BODY, 100, TEXT_INVALID);          /* RLO */
    expect_status("x\xE2\x81\xA6y\xE2\x81\xA9", 8, TEXT_BODY, 100, TEXT_INVALID); /* LRI PDI */
    expect_status("x\xEF\xBF\xBF", 4, TEXT_BODY, 100, TEXT_INVALID);          /* U+FFFF */
    expect_status("a\0b", 3, TEXT_BODY, 100, TEXT_INVALID);
}

static void test_invalid_utf8(void **state) {
    (void)state;
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
        {"\xC0\xAF", 2},             /* overlong */
        {"\xE0\x80\xAF", 3},         /* overlong */
        {"\xF0\x80\x80\xAF", 4},     /* overlong */
        {"\xED\xA0\x80", 3},         /* surrogate */
        {"\xED\xBF\xBF", 3},         /* surrogate */
        {"\xF4\x90\x80\x80", 4},     /* > U+10FFFF */
        {"\xF8\x88\x80\x80\x80", 5}, /* five bytes */
        {"\xE2\x82", 2},             /* truncated */
        {"abc\xF0\x9F\x98", 6},      /* truncated at the end */
        {"\x80", 1},                 /* lone continuation */
        {"\xFF", 1},
        {"\xC3\x28", 2},             /* bad continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(text_utf8_valid(bad[i].s, bad[i].len));
        expect_status(bad[i].s, bad[i].len, TEXT_BODY, 100, TEXT_INVALID);
    }
    assert_true(text_utf8_valid("\xF4\x8F\xBF\xBF", 4)); /* U+10FFFF itself */
    assert_int_equal(text_codepoints("a\xC3\xA9\xF0\x9F\x98\x80", 7), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nfc_and_counting), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_trim_and_empty),   cmocka_unit_test(test_body_lines),
        cmocka_unit_test(test_tabs), cmocka_unit_test(test_forbidden),        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
