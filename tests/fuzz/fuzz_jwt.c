/* libFuzzer target: the sign-in token verifier (server/jwt.c, jwt_verify) with one HS256
 * secret and one Ed25519 public key configured through jwt_keys_load, as identity.keys
 * in moderation.yml would give them.
 *
 * The first input byte picks a mode:
 *   even: the rest is the token, verbatim (arbitrary bytes up to the first NUL);
 *   odd:  structure-aware: the rest is split at the first two 0xff bytes into header
 *         JSON, payload JSON and a signature part; header and payload are base64url
 *         encoded, and bits 1-2 of the mode byte choose the signature: a valid HS256 or
 *         EdDSA signature made with the configured keys (so the claims checks are
 *         reached), a valid signature with the other algorithm's key (alg confusion), or
 *         the third part itself, base64url encoded.
 * Checked: no crash or leak; on success the claims keep jwt.h's promises (sub of 1-64
 * bytes, a name, exp not past, avatar https://, roles NULL-terminated strings); on
 * failure out is zeroed and why says something. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "jwt.h"

#define NOW 1800000000.0

static jwt_keys *keys;
static unsigned char hs_secret[32];
static unsigned char ed_pk[crypto_sign_PUBLICKEYBYTES], ed_sk[crypto_sign_SECRETKEYBYTES];

/* Builds the keys from a YAML text like identity: in moderation.yml. Fixed seeds: a crash
 * must reproduce from its input alone. */
static void setup(void) {
    if (sodium_init() < 0) fuzz_die("sodium", "init");
    unsigned char seed[crypto_sign_SEEDBYTES];
    memset(seed, 7, sizeof seed);
    crypto_sign_seed_keypair(ed_pk, ed_sk, seed);
    memset(hs_secret, 0x5a, sizeof hs_secret);
    char hs64[64], pk64[64], yml[512], err[CFG_ERRLEN];
    sodium_bin2base64(hs64, sizeof hs64, hs_secret, sizeof hs_secret,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(pk64, sizeof pk64, ed_pk, sizeof ed_pk, sodium_base64_VARIANT_ORIGINAL);
    snprintf(yml, sizeof yml,
             "identity:\n  keys:\n"
             "    - {id: hs, alg: HS256, secret: \"%s\"}\n"
             "    - {id: ed, alg: EdDSA, public_key: \"%s\"}\n",
             hs64, pk64);
    cfg_node *root = cfg_parse_string(yml, strlen(yml), "fuzz.yml", err, sizeof err);
    if (!root) fuzz_die("keys yaml", err);
    keys = jwt_keys_load(cfg_get(root, "identity"), "fuzz.yml", err, sizeof err);
    if (!keys) fuzz_die("jwt_keys_load", err);
    cfg_free(root);
}

/* Appends the base64url (no padding) of len bytes to out at *pos. */
static void put_b64(char *out, size_t *pos, const unsigned char *in, size_t len) {
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(out + *pos, n, in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    *pos += n - 1;
}

/* Builds a compact token from the structured input; returns a malloc'd string. */
static char *build_token(unsigned mode, const uint8_t *d, size_t n) {
    const uint8_t *parts[3] = {d, NULL, NULL};
    size_t lens[3] = {n, 0, 0};
    for (int p = 0; p < 2; p++) {
        const uint8_t *sep = memchr(parts[p], 0xff, lens[p]);
        if (!sep) break;
        parts[p + 1] = sep + 1;
        lens[p + 1] = lens[p] - (size_t)(sep + 1 - parts[p]);
        lens[p] = (size_t)(sep - parts[p]);
    }
    char *tok = malloc(2 * n + 256);
    size_t pos = 0;
    put_b64(tok, &pos, parts[0], lens[0]);
    tok[pos++] = '.';
    put_b64(tok, &pos, parts[1] ? parts[1] : (const uint8_t *)"", lens[1]);
    size_t signlen = pos;
    tok[pos++] = '.';
    unsigned char sig[crypto_sign_BYTES];
    switch ((mode >> 1) & 3) {
    case 0: /* HS256 with the configured secret */
        crypto_auth_hmacsha256(sig, (const unsigned char *)tok, signlen, hs_secret);
        put_b64(tok, &pos, sig, crypto_auth_hmacsha256_BYTES);
        break;
    case 1: /* EdDSA with the configured key */
        crypto_sign_detached(sig, NULL, (const unsigned char *)tok, signlen, ed_sk);
        put_b64(tok, &pos, sig, sizeof sig);
        break;
    case 2: /* HMAC keyed with the Ed25519 public key: the classic confusion */
        crypto_auth_hmacsha256(sig, (const unsigned char *)tok, signlen, ed_pk);
        put_b64(tok, &pos, sig, crypto_auth_hmacsha256_BYTES);
        break;
    default:
        put_b64(tok, &pos, parts[2] ? parts[2] : (const uint8_t *)"", lens[2]);
        break;
    }
    tok[pos] = '\0';
    return tok;
}

/* Checks the promises jwt.h makes about a verified token. */
static void check_claims(const jwt_claims *c) {
    if (!c->sub || !c->sub[0] || strlen(c->sub) > 64) abort();
    if (!c->name || !c->name[0]) abort();
    if (!(c->exp + 60 >= NOW)) abort();
    if (c->avatar && strncmp(c->avatar, "https://", 8)) abort();
    for (char **r = c->roles; r && *r; r++)
        if (strlen(*r) > 100000) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!keys) setup();
    if (size < 1) return 0;
    unsigned mode = data[0];
    char *tok;
    if (mode & 1) {
        tok = build_token(mode, data + 1, size - 1);
    } else {
        tok = malloc(size);
        memcpy(tok, data + 1, size - 1);
        tok[size - 1] = '\0';
    }
    jwt_claims c;
    char why[128] = "";
    int rc = jwt_verify(keys, tok, NOW, &c, why, sizeof why);
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "%s -> %d %s\n", tok, rc, why);
    if (rc == 0) {
        check_claims(&c);
        jwt_claims_free(&c);
    } else {
        if (rc != -1 || !why[0] || c.sub || c.name || c.avatar || c.roles) abort();
    }
    free(tok);
    return 0;
}
