/* jwt.c: compact JWS verification (HS256, EdDSA) with libsodium and jansson.
 *
 * A token is header.payload.signature, each base64url without padding. The header's alg
 * picks which keys may verify it: HS256 tokens only HS256 secrets, EdDSA tokens only
 * Ed25519 public keys, so a public key can never be abused as an HMAC secret and "none"
 * verifies nothing. */
#include "jwt.h"
#include "alloc.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEEWAY 60

typedef struct {
    char *id;
    int eddsa;              /* else HS256 */
    unsigned char key[64];  /* HS256 secret (up to 64 bytes) or Ed25519 public key */
    size_t keylen;
} key_t_;

struct jwt_keys {
    key_t_ *keys;
    int n;
};

void jwt_keys_free(jwt_keys *k) {
    if (!k) return;
    for (int i = 0; i < k->n; i++) {
        sodium_memzero(k->keys[i].key, sizeof k->keys[i].key);
        free(k->keys[i].id);
    }
    free(k->keys);
    free(k);
}

static int b64(const char *in, size_t inlen, unsigned char *out, size_t outmax, size_t *outlen,
               int variant) {
    const char *end;
    return sodium_base642bin(out, outmax, in, inlen, " \n", outlen, &end, variant) == 0 &&
                   end == in + inlen
               ? 0
               : -1;
}

jwt_keys *jwt_keys_load(const cfg_node *identity, const char *file, char *err, size_t errlen) {
    static const char *const allowed[] = {"id", "alg", "secret", "public_key", NULL};
    const cfg_node *list = cfg_get(identity, "keys");
    err[0] = '\0';
    if (!list) return NULL;
    if (cfg_expect(list, CFG_SEQ, "keys", file, err, errlen)) return NULL;
    jwt_keys *k = xcalloc(1, sizeof *k);
    k->keys = xcalloc(list->count + 1, sizeof *k->keys);
    for (const cfg_node *n = list->child; n; n = n->next) {
        if (cfg_expect(n, CFG_MAP, "a key", file, err, errlen) ||
            cfg_check_keys(n, allowed, file, err, errlen))
            goto fail;
        key_t_ *key = &k->keys[k->n++];
        const cfg_node *id = cfg_get(n, "id"), *alg = cfg_get(n, "alg");
        const cfg_node *sec = cfg_get(n, "secret"), *pk = cfg_get(n, "public_key");
        if (!alg) {
            cfg_error(err, errlen, file, n, "a key needs 'alg' (HS256 or EdDSA)");
            goto fail;
        }
        const char *a = cfg_str(alg, file, err, errlen);
        if (!a) goto fail;
        if (id) {
            const char *s = cfg_str(id, file, err, errlen);
            if (!s) goto fail;
            for (int i = 0; i < k->n - 1; i++)
                if (k->keys[i].id && !strcmp(k->keys[i].id, s)) {
                    cfg_error(err, errlen, file, id, "two keys have the id '%s'", s);
                    goto fail;
                }
            key->id = xstrdup(s);
        }
        if (!strcmp(a, "HS256")) {
            if (pk) {
                cfg_error(err, errlen, file, pk, "an HS256 key has a 'secret', not a 'public_key'");
                goto fail;
            }
            const char *s = sec ? cfg_str(sec, file, err, errlen) : NULL;
            if (!s) {
                if (!sec) cfg_error(err, errlen, file, n, "an HS256 key needs 'secret' (base64)");
                goto fail;
            }
            if (b64(s, strlen(s), key->key, sizeof key->key, &key->keylen,
                    sodium_base64_VARIANT_ORIGINAL) ||
                key->keylen < 32) {
                cfg_error(err, errlen, file, sec, "'secret' must be base64 of 32 to 64 bytes");
                goto fail;
            }
        } else if (!strcmp(a, "EdDSA")) {
            key->eddsa = 1;
            if (sec) {
                cfg_error(err, errlen, file, sec, "an EdDSA key has a 'public_key', not a 'secret'");
                goto fail;
            }
            const char *s = pk ? cfg_str(pk, file, err, errlen) : NULL;
            if (!s) {
                if (!pk) cfg_error(err, errlen, file, n, "an EdDSA key needs 'public_key' (base64)");
                goto fail;
            }
            if (b64(s, strlen(s), key->key, sizeof key->key, &key->keylen,
                    sodium_base64_VARIANT_ORIGINAL) ||
                key->keylen != crypto_sign_PUBLICKEYBYTES) {
                cfg_error(err, errlen, file, pk, "'public_key' must be base64 of 32 bytes");
                goto fail;
            }
        } else {
            cfg_error(err, errlen, file, alg, "'alg' is HS256 or EdDSA, not '%s'", a);
            goto fail;
        }
    }
    return k;
fail:
    jwt_keys_free(k);
    return NULL;
}

void jwt_claims_free(jwt_claims *c) {
    free(c->sub);
    free(c->name);
    free(c->avatar);
    free(c->email);
    for (char **r = c->roles; r && *r; r++) free(*r);
    free(c->roles);
    memset(c, 0, sizeof *c);
}

static json_t *part_json(const char *s, size_t len) {
    unsigned char buf[4096];
    size_t n;
    if (len > 5000 || b64(s, len, buf, sizeof buf, &n, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return NULL;
    return json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
}

#define WHY(...) do { snprintf(why, whylen, __VA_ARGS__); goto out; } while (0)

int jwt_verify(const jwt_keys *k, const char *token, double now, jwt_claims *out, char *why,
               size_t whylen) {
    json_t *hdr = NULL, *pl = NULL;
    int rc = -1;
    memset(out, 0, sizeof *out);
    const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!k || k->n == 0) WHY("no keys configured");
    if (!d1 || !d2 || strchr(d2 + 1, '.')) WHY("not a signed token");
    hdr = part_json(token, (size_t)(d1 - token));
    pl = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
    if (!json_is_object(hdr) || !json_is_object(pl)) WHY("malformed token");
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *kid = json_string_value(json_object_get(hdr, "kid"));
    if (!alg || (strcmp(alg, "HS256") && strcmp(alg, "EdDSA"))) WHY("algorithm not accepted");
    /* a kid that is not a string, or extensions the verifier must understand: refused */
    if ((json_object_get(hdr, "kid") && !kid) || json_object_get(hdr, "crit"))
        WHY("header not accepted");
    int eddsa = !strcmp(alg, "EdDSA");
    unsigned char sig[128];
    size_t siglen;
    const char *s = d2 + 1;
    if (b64(s, strlen(s), sig, sizeof sig, &siglen, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        WHY("malformed signature");
    const unsigned char *signing = (const unsigned char *)token;
    size_t signlen = (size_t)(d2 - token);
    int ok = 0;
    for (int i = 0; i < k->n && !ok; i++) {
        const key_t_ *key = &k->keys[i];
        if (key->eddsa != eddsa) continue; /* a key is only ever used with its own alg */
        if (kid && (!key->id || strcmp(kid, key->id))) continue;
        if (eddsa) {
            ok = siglen == crypto_sign_BYTES &&
                 crypto_sign_verify_detached(sig, signing, signlen, key->key) == 0;
        } else {
            unsigned char mac[crypto_auth_hmacsha256_BYTES];
            crypto_auth_hmacsha256_state st;
            crypto_auth_hmacsha256_init(&st, key->key, key->keylen);
            crypto_auth_hmacsha256_update(&st, signing, signlen);
            crypto_auth_hmacsha256_final(&st, mac);
            ok = siglen == sizeof mac && sodium_memcmp(mac, sig, sizeof mac) == 0;
        }
    }
    if (!ok) WHY("bad signature");
    json_t *exp = json_object_get(pl, "exp"), *nbf = json_object_get(pl, "nbf");
    json_t *iat = json_object_get(pl, "iat");
    if (!json_is_number(exp)) WHY("no expiry");
    if ((nbf && !json_is_number(nbf)) || (iat && !json_is_number(iat))) WHY("bad 'nbf' or 'iat'");
    if (json_number_value(exp) + LEEWAY < now) WHY("expired");
    if (nbf && json_number_value(nbf) - LEEWAY > now) WHY("not valid yet");
    if (iat && json_number_value(iat) - LEEWAY > now) WHY("issued in the future");
    const char *sub = json_string_value(json_object_get(pl, "sub"));
    const char *name = json_string_value(json_object_get(pl, "name"));
    if (!sub || !*sub || strlen(sub) > 64) WHY("bad 'sub'");
    if (!name || !*name) WHY("no 'name'");
    json_t *roles = json_object_get(pl, "roles"), *r;
    size_t i;
    if (roles && !json_is_array(roles)) WHY("'roles' is not a list");
    json_array_foreach(roles, i, r) if (!json_is_string(r)) WHY("'roles' holds a non-string");
    out->sub = xstrdup(sub);
    out->name = xstrdup(name);
    out->exp = json_number_value(exp);
    const char *avatar = json_string_value(json_object_get(pl, "avatar"));
    if (avatar && !strncmp(avatar, "https://", 8) && strlen(avatar) < 500) out->avatar = xstrdup(avatar);
    const char *email = json_string_value(json_object_get(pl, "email"));
    if (email && strlen(email) <= 254 && strchr(email, '@') && !strpbrk(email, " \t\r\n<>\",;"))
        out->email = xstrdup(email);
    if (roles) {
        out->roles = xcalloc(json_array_size(roles) + 1, sizeof *out->roles);
        json_array_foreach(roles, i, r) out->roles[i] = xstrdup(json_string_value(r));
    }
    rc = 0;
out:
    json_decref(hdr);
    json_decref(pl);
    return rc;
}
