/* Unit tests for the webhook signature (webhooks.c) and the mail composer (mail.c): a
 * signature a receiver computes with another HMAC implementation (Node's, below), header
 * injection refused, and a message whose parts decode back to what was given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mail.h"
#include "webhooks.h"

/* node -e "crypto.createHmac('sha256','whsec_unit_test_secret')
 *           .update('1700000000.{\"id\":\"evt_1\"}').digest('hex')" */
static void test_signature_matches_node(void **state) {
    (void)state;
    const char *body = "{\"id\":\"evt_1\"}";
    char sig[128];
    webhooks_sign("whsec_unit_test_secret", 1700000000, body, strlen(body), sig, sizeof sig);
    assert_string_equal(sig, "t=1700000000,v1=85887a99a68df70b270362d5ac0a2291d5e8cb87941512382d058c4e6fc6442e");
    /* another time, secret or body gives another signature */
    char other[128];
    webhooks_sign("whsec_unit_test_secret", 1700000001, body, strlen(body), other, sizeof other);
    assert_string_not_equal(strchr(sig, ','), strchr(other, ','));
    webhooks_sign("whsec_unit_test_secreT", 1700000000, body, strlen(body), other, sizeof other);
    assert_string_not_equal(sig, other);
}

static void test_mail_refuses_header_injection(void **state) {
    (void)state;
    assert_null(mail_build("a@b.c", "x@y.z\r\nBcc: victim@example.com", "s", "t", "h", NULL));
    assert_null(mail_build("a@b.c", "x@y.z", "subject\nBcc: v@e.com", "t", "h", NULL));
    assert_null(mail_build("a@b.c", "x@y.z", "s", "t", "h", "https://u\r\nX: y"));
}

/* The base64 part after the header line `type` in msg, decoded (malloc'd). */
static char *part(const char *msg, const char *type) {
    const char *p = strstr(msg, type);
    assert_non_null(p);
    p = strstr(p, "\r\n\r\n") + 4;
    const char *end = strstr(p, "--=_parley_");
    char *b64 = strndup(p, (size_t)(end - p)), *out = calloc(1, 4096);
    size_t n = 0;
    assert_int_equal(sodium_base642bin((unsigned char *)out, 4095, b64, strlen(b64), "\r\n", &n,
                                       NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    free(b64);
    return out;
}

static void test_mail_build(void **state) {
    (void)state;
    mail_buf html = {0};
    mail_buf_html(&html, "<b>Tom & \"Jerry\"</b>\nline");
    assert_string_equal(html.buf, "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;<br>line");
    char *m = mail_build("news@example.test", "ann@example.test", "2 new replies",
                         "Texte accentué\n", html.buf, "https://x.test/u?s=1&t=ab");
    assert_non_null(m);
    assert_non_null(strstr(m, "From: news@example.test\r\n"));
    assert_non_null(strstr(m, "To: ann@example.test\r\n"));
    assert_non_null(strstr(m, "List-Unsubscribe: <https://x.test/u?s=1&t=ab>\r\n"));
    assert_non_null(strstr(m, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    assert_non_null(strstr(m, "@example.test>\r\n")); /* Message-ID in the sender's domain */
    char *t = part(m, "text/plain"), *h = part(m, "text/html");
    assert_string_equal(t, "Texte accentué\n");
    assert_string_equal(h, html.buf);
    /* no line over 998 characters (RFC 5322) */
    for (const char *p = m, *nl; (nl = strstr(p, "\r\n")); p = nl + 2) assert_true(nl - p <= 998);
    free(t);
    free(h);
    free(m);
    free(html.buf);
    m = mail_build("news@example.test", "ann@example.test", "s", "t", "h", NULL);
    assert_null(strstr(m, "List-Unsubscribe"));
    free(m);
}

int main(void) {
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_matches_node),
        cmocka_unit_test(test_mail_refuses_header_injection),
        cmocka_unit_test(test_mail_build),
    };
    return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
