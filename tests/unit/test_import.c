/* Unit tests for import.c's pure helpers: article-id mapping, time parsing, HTML to text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "import.h"

static void id_is(const char *raw, const char *want) {
    char out[129];
    assert_int_equal(import_article_id(raw, out), 0);
    assert_string_equal(out, want);
}

static void test_article_ids(void **state) {
    (void)state;
    id_is("story-42", "story-42");
    id_is("  /2020/01/post/  ", "/2020/01/post/");
    id_is("123 http://site/?p=123", "123-http://site/-p-123");
    id_is("café au lait", "caf-au-lait");
    id_is("?weird!", "weird");
    char out[129];
    assert_int_equal(import_article_id("", out), -1);
    assert_int_equal(import_article_id("  !!! ", out), -1);
    assert_int_equal(import_article_id(NULL, out), -1);
    /* too long: 119 characters, '-', 8 hex digits; two long ids differ */
    char a[300], b[300];
    memset(a, 'x', 299);
    a[299] = '\0';
    memcpy(b, a, sizeof a);
    b[298] = 'y';
    char oa[129], ob[129];
    assert_int_equal(import_article_id(a, oa), 0);
    assert_int_equal(import_article_id(b, ob), 0);
    assert_int_equal(strlen(oa), 128);
    assert_int_equal(oa[119], '-');
    assert_string_not_equal(oa, ob);
}

static void test_times(void **state) {
    (void)state;
    assert_int_equal(import_parse_time("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(import_parse_time("2012-05-01T11:00:00+02:00"), 1335862800000LL);
    assert_int_equal(import_parse_time("2012-05-01T09:00:00.5Z"), 1335862800500LL);
    assert_int_equal(import_parse_time("2012-05-01T09:00:00.123456789Z"), 1335862800123LL);
    assert_int_equal(import_parse_time("2012-05-01 09:00:00"), 1335862800000LL);
    assert_int_equal(import_parse_time("2012-05-01T04:00:00-0500"), 1335862800000LL);
    assert_int_equal(import_parse_time("2012-05-01"), 1335830400000LL);
    assert_true(import_parse_time("yesterday") < 0);
    assert_true(import_parse_time("2012-13-01T00:00:00Z") < 0);
    assert_true(import_parse_time("2012-05-01T00:00:00Zjunk") < 0);
    assert_true(import_parse_time("0000-00-00 00:00:00") < 0);
    assert_true(import_parse_time(NULL) < 0);
}

static void text_is(const char *html, const char *want) {
    char *t = import_html_text(html, strlen(html));
    assert_string_equal(t, want);
    free(t);
}

static void test_html_text(void **state) {
    (void)state;
    text_is("<p>One</p><p>Two</p>", "One\n\nTwo");
    text_is("a<br>b<br/><br>c", "a\nb\n\nc");
    text_is("<a href=\"https://x.org/?a=1&amp;b=2\">site</a>", "site (https://x.org/?a=1&b=2)");
    text_is("<a href=\"https://x.org/\">https://x.org/</a>", "https://x.org/");
    text_is("<a href=\"mailto:a@b.c\">a@b.c</a>", "a@b.c");
    text_is("<a href=\"javascript:alert(1)\">click</a>", "click");
    text_is("&lt;b&gt; &amp; &eacute; &#8364; &nbsp;x", "<b> & é €  x"); /* a space, then nbsp: two */
    text_is("<script>alert(1)</script><style>p{}</style>kept", "kept");
    text_is("<ul><li>one</li><li>two</li></ul>", "one\ntwo");
    text_is("<pre>  code\n  more</pre>", "  code\n  more");
    text_is("  lots   of\n\n spaces  ", "lots of spaces");
    text_is("<img src=\"x.png\" alt=\"a cat\">", "a cat");
    text_is("<p>unclosed <b>bold", "unclosed bold");
    text_is("", "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_article_ids),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_html_text),
    };
    return cmocka_run_group_tests_name("import", tests, NULL, NULL);
}
