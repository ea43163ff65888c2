/* Unit tests for sign-in tokens (jwt.c): keys from moderation.yml, HS256 and EdDSA
 * signatures, the attacks a verifier must refuse, and the claims it requires. Tokens are
 * signed here with libsodium, as a host site would sign them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "cfg.h"
#include "jwt.h"

#define NOW 1800000000.0

static unsigned char secret_a[32], secret_b[32];
static unsigned char ed_pk[crypto_sign_PUBLICKEYBYTES], ed_sk[crypto_sign_SECRETKEYBYTES];

/* ---- Helpers: base64, signing, key files ---- */

static void b64url(const void *bin, size_t len, char *out, size_t outlen) {
    sodium_bin2base64(out, outlen, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void b64std(const void *bin, size_t len, char *out, size_t outlen) {
    sodium_bin2base64(out, outlen, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

/* Builds header.payload.signature from raw JSON texts. alg_sign picks the signature
 * actually made: "HS256" with key (keylen bytes), "EdDSA" with ed_sk, or "" for none. */
static char *make_token(const char *header, const char *payload, const char *alg_sign,
                        const unsigned char *key, size_t keylen) {
    static char tok[4096];
    char h[1024], p[2048], sig[256] = "";
    b64url(header, strlen(header), h, sizeof h);
    b64url(payload, strlen(payload), p, sizeof p);
    snprintf(tok, sizeof tok, "%s.%s", h, p);
    if (!strcmp(alg_sign, "HS256")) {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key, keylen);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok, strlen(tok));
        crypto_auth_hmacsha256_final(&st, mac);
        b64url(mac, sizeof mac, sig, sizeof sig);
    } else if (!strcmp(alg_sign, "EdDSA")) {
        unsigned char s[crypto_sign_BYTES];
        crypto_sign_detached(s, NULL, (const unsigned char *)tok, strlen(tok), ed_sk);
        b64url(s, sizeof s, sig, sizeof sig);
    }
    size_t n = strlen(tok);
    snprintf(tok + n, sizeof tok - n, ".%s", sig);
    return tok;
}

static char *hs256(const char *payload, const unsigned char *key) {
    return make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, "HS256", key, 32);
}

static char *eddsa(const char *payload) {
    return make_token("{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", payload, "EdDSA", NULL, 0);
}

/* Loads identity.keys from YAML text; asserts success. */
static jwt_keys *load(const char *yaml) {
    char err[CFG_ERRLEN] = "";
    cfg_node *root = cfg_parse_string(yaml, strlen(yaml), "k.yml", err, sizeof err);
    if (!root)
        fail_msg("yaml: %s", err);
    jwt_keys *k = jwt_keys_load(cfg_get(root, "identity"), "k.yml", err, sizeof err);
    if (!k)
        fail_msg("keys: %s", err);
    cfg_free(root);
    return k;
}

/* The keys every verification test uses: two HS256 secrets (ids a, b) and one Ed25519
 * public key (id ed). */
static jwt_keys *standard_keys(void) {
    char a[64], b[64], pk[64], yaml[512];
    b64std(secret_a, sizeof secret_a, a, sizeof a);
    b64std(secret_b, sizeof secret_b, b, sizeof b);
    b64std(ed_pk, sizeof ed_pk, pk, sizeof pk);
    snprintf(yaml, sizeof yaml,
             "identity:\n  guests: true\n  keys:\n"
             "    - {id: a, alg: HS256, secret: \"%s\"}\n"
             "    - id: b\n      alg: HS256\n      secret: \"%s\"\n"
             "    - {id: ed, alg: EdDSA, public_key: \"%s\"}\n",
             a, b, pk);
    return load(yaml);
}

static void expect_refused(const jwt_keys *k, const char *token, const char *why_part) {
    jwt_claims c;
    char why[128] = "";
    assert_int_equal(jwt_verify(k, token, NOW, &c, why, sizeof why), -1);
    if (!strstr(why, why_part))
        fail_msg("want '%s' in the reason, got '%s'", why_part, why);
    assert_null(c.sub);
    assert_null(c.name);
}

static void expect_ok(const jwt_keys *k, const char *token, const char *sub) {
    jwt_claims c;
    char why[128] = "";
    if (jwt_verify(k, token, NOW, &c, why, sizeof why))
        fail_msg("refused: %s", why);
    assert_string_equal(c.sub, sub);
    jwt_claims_free(&c);
}

static int setup(void **state) {
    (void)state;
    if (sodium_init() < 0)
        return -1;
    randombytes_buf(secret_a, sizeof secret_a);
    randombytes_buf(secret_b, sizeof secret_b);
    crypto_sign_keypair(ed_pk, ed_sk);
    return 0;
}

#define CLAIMS(extra) "{\"sub\":\"42\",\"name\":\"Ann Reader\",\"exp\":1800000600" extra "}"

/* ---- Valid tokens ---- */

static void test_hs256_valid(void **state) {
    (void)state;
    jwt_keys *k = standard_keys();
    jwt_claims c;
    char why[128] = "";
    const char *tok = hs256(CLAIMS(",\"iat\":1800000000,\"avatar\":\"https://img.example/a.png\","
                                   "\"roles\":[\"subscriber\",\"staff\"]"),
                            secret_b);
    assert_int_equal(jwt_verify(k, tok, NOW, &c, why, sizeof why), 0);
    assert_string_equal(c.sub, "42");
    assert_string_equal(c.name, "Ann Reader");
    assert_string_equal(c.avatar, "https://img.example/a.png");
    assert_non_null(c.roles);
    assert_string_equal(c.roles[0], "subscriber");
    assert_string_equal(c.roles[1], "staff");
    assert_null(c.roles[2]);
    assert_true(c.exp == 1800000600.0);
    jwt_claims_free(&c);
    /* an avatar that is not https is dropped, not fatal */
    assert_int_equal(jwt_verify(k, hs256(CLAIMS(",\"avatar\":\"javascript:alert(1)\""), secret_a),
                                NOW, &c, why, sizeof why),
                     0);
    assert_null(c.avatar);
    assert_null(c.roles);
    jwt_claims_free(&c);
    jwt_keys_free(k);
}

static void test_eddsa_valid(void **state) {
    (void)state;
    jwt_keys *k = standard_keys();
    jwt_claims c;
    char why[128] = "";
    assert_int_equal(
        jwt_verify(k, eddsa(CLAIMS(",\"roles\":[\"staff\"]")), NOW, &c, why, sizeof why), 0);
    assert_string_equal(c.name, "Ann Reader");
    assert_string_equal(c.roles[0], "staff");
    jwt_claims_free(&c);
    jwt_keys_free(k);
}

/* One header variant of the standard claims: signed by signer ("HS256" with key,
 * "EdDSA", or "" for no signature); want is NULL when it must pass, else a part of the
 * reason it is refused with. */
typedef struct {
    const char *header, *signer;
    const unsigned char *key;
    const char *want;
} header_case;

static void check_headers(const header_case *cases, size_t n) {
    jwt_keys *k = standard_keys();
    for (size_t i = 0; i < n; i++) {
        const header_case *h = &cases[i];
        const char *tok = make_token(h->header, CLAIMS(""), h->signer, h->key, 32);
        if (h->want)
            expect_refused(k, tok, h->want);
        else
            expect_ok(k, tok, "42");
    }
    jwt_keys_free(k);
}

static void test_kid_selects_the_key(void **state) {
    (void)state;
    const header_case cases[] = {
        {"{\"alg\":\"HS256\",\"kid\":\"b\"}", "HS256", secret_b, NULL},
        /* signed with b but naming a: a's secret does not verify it */
        {"{\"alg\":\"HS256\",\"kid\":\"a\"}", "HS256", secret_b, "bad signature"},
        {"{\"alg\":\"HS256\",\"kid\":\"zz\"}", "HS256", secret_a, "bad signature"},
        /* the Ed25519 key's id on an HS256 token picks no HS256 key */
        {"{\"alg\":\"HS256\",\"kid\":\"ed\"}", "HS256", ed_pk, "bad signature"},
        {"{\"alg\":\"HS256\",\"kid\":7}", "HS256", secret_a, "header"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"ed\"}", "EdDSA", NULL, NULL},
        {"{\"alg\":\"EdDSA\",\"kid\":\"a\"}", "EdDSA", NULL, "bad signature"},
    };
    check_headers(cases, sizeof cases / sizeof *cases);
}

/* ---- Time ---- */

static void test_times(void **state) {
    (void)state;
    jwt_keys *k = standard_keys();
    expect_refused(k, hs256("{\"sub\":\"42\",\"name\":\"A\",\"exp\":1799990000}", secret_a),
                   "expired");
    /* within the 60 s leeway */
    expect_ok(k, hs256("{\"sub\":\"42\",\"name\":\"A\",\"exp\":1799999970}", secret_a), "42");
    expect_refused(k, hs256(CLAIMS(",\"nbf\":1800000300"), secret_a), "not valid yet");
    expect_ok(k, hs256(CLAIMS(",\"nbf\":1800000030"), secret_a), "42");
    expect_refused(k, hs256(CLAIMS(",\"iat\":1800000300"), secret_a), "future");
    expect_refused(k, hs256(CLAIMS(",\"nbf\":\"soon\""), secret_a), "nbf");
    expect_refused(k, hs256("{\"sub\":\"42\",\"name\":\"A\",\"exp\":\"1800000600\"}", secret_a),
                   "expiry");
    jwt_keys_free(k);
}

/* ---- Forgeries and algorithm attacks ---- */

static void test_forged(void **state) {
    (void)state;
    jwt_keys *k = standard_keys();
    unsigned char other[32];
    randombytes_buf(other, sizeof other);
    expect_refused(k, hs256(CLAIMS(""), other), "bad signature");

    /* one changed character of the signature */
    char tok[4096];
    snprintf(tok, sizeof tok, "%s", hs256(CLAIMS(""), secret_a));
    char *last = tok + strlen(tok) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    expect_refused(k, tok, "bad signature");

    /* a payload swapped under a valid signature */
    snprintf(tok, sizeof tok, "%s", hs256(CLAIMS(""), secret_a));
    char *sig = strrchr(tok, '.');
    char forged[4096], p[512];
    const char *evil = "{\"sub\":\"admin\",\"name\":\"A\",\"exp\":1800000600}";
    b64url(evil, strlen(evil), p, sizeof p);
    snprintf(forged, sizeof forged, "%.*s.%s%s", (int)(strchr(tok, '.') - tok), tok, p, sig);
    expect_refused(k, forged, "bad signature");

    /* an EdDSA signature made by another key pair */
    unsigned char pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
    memcpy(pk2, ed_pk, sizeof pk2);
    memcpy(sk2, ed_sk, sizeof sk2);
    crypto_sign_keypair(ed_pk, ed_sk);
    snprintf(tok, sizeof tok, "%s", eddsa(CLAIMS("")));
    memcpy(ed_pk, pk2, sizeof pk2);
    memcpy(ed_sk, sk2, sizeof sk2);
    expect_refused(k, tok, "bad signature");
    jwt_keys_free(k);
}

static void test_alg_none_and_others(void **state) {
    (void)state;
    const header_case cases[] = {
        {"{\"alg\":\"none\"}", "", NULL, "algorithm"},
        {"{\"alg\":\"none\"}", "HS256", secret_a, "algorithm"},
        {"{\"alg\":\"RS256\"}", "HS256", secret_a, "algorithm"},
        {"{\"alg\":\"hs256\"}", "HS256", secret_a, "algorithm"},
        {"{\"typ\":\"JWT\"}", "HS256", secret_a, "algorithm"},
        {"{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", "HS256", secret_a, "header"},
        /* an empty signature on an HS256 header */
        {"{\"alg\":\"HS256\"}", "", NULL, "signature"},
    };
    check_headers(cases, sizeof cases / sizeof *cases);
}

/* The classic confusion: an HS256 token "signed" with the public key as HMAC secret must
 * not pass where only that public key is configured, nor an EdDSA token against secrets. */
static void test_alg_mismatch(void **state) {
    (void)state;
    char pk[64], yaml[256];
    b64std(ed_pk, sizeof ed_pk, pk, sizeof pk);
    snprintf(yaml, sizeof yaml,
             "identity:\n  keys:\n    - {id: ed, alg: EdDSA, public_key: \"%s\"}\n", pk);
    jwt_keys *only_ed = load(yaml);
    expect_ok(only_ed, eddsa(CLAIMS("")), "42");
    expect_refused(only_ed, hs256(CLAIMS(""), ed_pk), "bad signature");
    expect_refused(only_ed,
                   make_token("{\"alg\":\"HS256\",\"kid\":\"ed\"}", CLAIMS(""), "HS256", ed_pk, 32),
                   "bad signature");
    jwt_keys_free(only_ed);

    char a[64];
    b64std(secret_a, sizeof secret_a, a, sizeof a);
    snprintf(yaml, sizeof yaml, "identity:\n  keys:\n    - {alg: HS256, secret: \"%s\"}\n", a);
    jwt_keys *only_hs = load(yaml);
    expect_ok(only_hs, hs256(CLAIMS(""), secret_a), "42");
    expect_refused(only_hs, eddsa(CLAIMS("")), "bad signature");
    /* an EdDSA header over an HMAC made with the secret */
    expect_refused(only_hs, make_token("{\"alg\":\"EdDSA\"}", CLAIMS(""), "HS256", secret_a, 32),
                   "bad signature");
    jwt_keys_free(only_hs);
}

/* ---- Malformed tokens ---- */

static void test_malformed(void **state) {
    (void)state;
    jwt_keys *k = standard_keys();
    expect_refused(k, "", "not a signed token");
    expect_refused(k, "abc", "not a signed token");
    expect_refused(k, "a.b", "not a signed token");
    expect_refused(k, "a.b.c.d", "not a signed token");
    expect_refused(k, "..", "malformed");
    expect_refused(k, "e30.e30.", "algorithm"); /* {}.{} with no signature: no alg */

    char tok[4096];
    /* characters outside base64url in the payload */
    snprintf(tok, sizeof tok, "%s", hs256(CLAIMS(""), secret_a));
    char *p = strchr(tok, '.') + 1;
    p[3] = '+';
    expect_refused(k, tok, "malformed");
    /* padding is not base64url-without-padding */
    snprintf(tok, sizeof tok, "%s", hs256(CLAIMS(""), secret_a));
    char padded[4096];
    char *d1 = strchr(tok, '.');
    snprintf(padded, sizeof padded, "%.*s==%s", (int)(d1 - tok), tok, d1);
    expect_refused(k, padded, "malformed");
    /* signature not base64url */
    snprintf(tok, sizeof tok, "%s", hs256(CLAIMS(""), secret_a));
    strcat(tok, "!");
    expect_refused(k, tok, "signature");

    expect_refused(k, hs256("{\"sub\":\"42\",", secret_a), "malformed");
    expect_refused(k, hs256("[1,2,3]", secret_a), "malformed");
    expect_refused(k, hs256("\"just a string\"", secret_a), "malformed");
    expect_refused(k, make_token("not json", CLAIMS(""), "HS256", secret_a, 32), "malformed");
    /* a duplicated claim could mean two things to two parsers */
    expect_refused(
        k, hs256("{\"sub\":\"42\",\"sub\":\"admin\",\"name\":\"A\",\"exp\":1800000600}", secret_a),
        "malformed");

    /* a huge header is refused before it is decoded */
    char *big = malloc(20000);
    memset(big, 'A', 19999);
    big[19999] = '\0';
    big[8000] = '.';
    big[16000] = '.';
    expect_refused(k, big, "malformed");
    free(big);
    jwt_keys_free(k);
}

/* ---- Claims ---- */

static void test_missing_claims(void **state) {
    (void)state;
    jwt_keys *k = standard_keys();
    expect_refused(k, hs256("{\"sub\":\"42\",\"name\":\"A\"}", secret_a), "no expiry");
    expect_refused(k, hs256("{\"name\":\"A\",\"exp\":1800000600}", secret_a), "sub");
    expect_refused(k, hs256("{\"sub\":\"\",\"name\":\"A\",\"exp\":1800000600}", secret_a), "sub");
    expect_refused(k, hs256("{\"sub\":42,\"name\":\"A\",\"exp\":1800000600}", secret_a), "sub");
    expect_refused(k, hs256("{\"sub\":\"42\",\"exp\":1800000600}", secret_a), "name");
    expect_refused(k, hs256("{\"sub\":\"42\",\"name\":\"\",\"exp\":1800000600}", secret_a), "name");
    char payload[256];
    snprintf(payload, sizeof payload, "{\"sub\":\"%065d\",\"name\":\"A\",\"exp\":1800000600}", 1);
    expect_refused(k, hs256(payload, secret_a), "sub");
    char sub64[65];
    snprintf(sub64, sizeof sub64, "%064d", 1);
    snprintf(payload, sizeof payload, "{\"sub\":\"%s\",\"name\":\"A\",\"exp\":1800000600}", sub64);
    expect_ok(k, hs256(payload, secret_a), sub64);
    jwt_keys_free(k);
}

static void test_roles(void **state) {
    (void)state;
    jwt_keys *k = standard_keys();
    expect_refused(k, hs256(CLAIMS(",\"roles\":\"admin\""), secret_a), "roles");
    expect_refused(k, hs256(CLAIMS(",\"roles\":[\"a\",1]"), secret_a), "roles");
    jwt_claims c;
    char why[128];
    assert_int_equal(
        jwt_verify(k, hs256(CLAIMS(",\"roles\":[]"), secret_a), NOW, &c, why, sizeof why), 0);
    assert_non_null(c.roles);
    assert_null(c.roles[0]);
    jwt_claims_free(&c);
    jwt_keys_free(k);
}

/* ---- Keys in moderation.yml ---- */

static void expect_key_error(const char *yaml, const char *where, const char *what) {
    char err[CFG_ERRLEN] = "";
    cfg_node *root = cfg_parse_string(yaml, strlen(yaml), "k.yml", err, sizeof err);
    if (!root)
        fail_msg("yaml: %s", err);
    assert_null(jwt_keys_load(cfg_get(root, "identity"), "k.yml", err, sizeof err));
    char want[64];
    snprintf(want, sizeof want, "k.yml:%s", where);
    if (strncmp(err, want, strlen(want)))
        fail_msg("want %s..., got %s", want, err);
    if (!strstr(err, what))
        fail_msg("want '%s' in %s", what, err);
    cfg_free(root);
}

static void test_key_config(void **state) {
    (void)state;
    char err[CFG_ERRLEN] = "x";
    /* no keys at all: NULL without an error, and every token is refused */
    cfg_node *root = cfg_parse_string("identity:\n  guests: true\n", 25, "k.yml", err, sizeof err);
    assert_null(jwt_keys_load(cfg_get(root, "identity"), "k.yml", err, sizeof err));
    assert_string_equal(err, "");
    cfg_free(root);
    expect_refused(NULL, hs256(CLAIMS(""), secret_a), "no keys");
    jwt_keys *empty = load("identity:\n  keys: []\n");
    expect_refused(empty, hs256(CLAIMS(""), secret_a), "no keys");
    jwt_keys_free(empty);

    const char *s32 = "\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"";
    char yaml[512];
    expect_key_error("identity:\n  keys: {alg: HS256}\n", "2:9", "list");
    expect_key_error("identity:\n  keys:\n    - HS256\n", "3:7", "");
    snprintf(yaml, sizeof yaml, "identity:\n  keys:\n    - {alg: HS256, secret: %s, colour: red}\n",
             s32);
    expect_key_error(yaml, "3:", "unknown key 'colour'");
    expect_key_error("identity:\n  keys:\n    - {id: x}\n", "3:7", "'alg'");
    snprintf(yaml, sizeof yaml, "identity:\n  keys:\n    - {alg: RS256, secret: %s}\n", s32);
    expect_key_error(yaml, "3:13", "HS256 or EdDSA");
    expect_key_error("identity:\n  keys:\n    - {alg: HS256}\n", "3:7", "'secret'");
    expect_key_error("identity:\n  keys:\n    - {alg: HS256, secret: \"c2hvcnQ=\"}\n", "3:28",
                     "32 to 64 bytes");
    expect_key_error("identity:\n  keys:\n    - {alg: HS256, secret: \"not base64!\"}\n", "3:28",
                     "base64");
    expect_key_error("identity:\n  keys:\n    - {alg: EdDSA}\n", "3:7", "'public_key'");
    snprintf(yaml, sizeof yaml, "identity:\n  keys:\n    - {alg: EdDSA, public_key: %s}\n",
             "\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMQ==\"");
    expect_key_error(yaml, "3:32", "32 bytes");
    snprintf(yaml, sizeof yaml,
             "identity:\n  keys:\n    - {alg: HS256, secret: %s, public_key: %s}\n", s32, s32);
    expect_key_error(yaml, "3:", "not a 'public_key'");
    snprintf(yaml, sizeof yaml,
             "identity:\n  keys:\n    - {alg: EdDSA, public_key: %s, secret: %s}\n", s32, s32);
    expect_key_error(yaml, "3:", "not a 'secret'");
    snprintf(yaml, sizeof yaml,
             "identity:\n  keys:\n    - {id: k, alg: HS256, secret: %s}\n    - {id: k, alg: HS256, "
             "secret: %s}\n",
             s32, s32);
    expect_key_error(yaml, "4:12", "two keys have the id 'k'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hs256_valid),
        cmocka_unit_test(test_eddsa_valid),
        cmocka_unit_test(test_kid_selects_the_key),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_forged),
        cmocka_unit_test(test_alg_none_and_others),
        cmocka_unit_test(test_alg_mismatch),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_missing_claims),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_key_config),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
