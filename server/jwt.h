/* jwt.h: sign-in tokens from the host site: JWTs signed HS256 (shared secret) or EdDSA
 * (Ed25519 public key), verified with libsodium against the keys in moderation.yml. */
#ifndef PARLEY_JWT_H
#define PARLEY_JWT_H

#include <stddef.h>

#include "cfg.h"

typedef struct jwt_keys jwt_keys;

typedef struct {
    char *sub, *name, *avatar; /* malloc'd; avatar may be NULL */
    char *email;               /* malloc'd when the token carries a plausible `email` */
    char **roles;              /* NULL-terminated, may be NULL */
    double exp;
} jwt_claims;

/* Reads identity.keys: a list of {id, alg: HS256|EdDSA, secret (base64 of 32-64 bytes,
 * HS256) | public_key (base64 of 32 bytes, EdDSA)}. Returns the keys (caller frees with
 * jwt_keys_free); NULL with err[0] == '\0' when there is no `keys`, NULL with
 * "file:line:col: why" in err when they are bad. */
jwt_keys *jwt_keys_load(const cfg_node *identity, const char *file, char *err, size_t errlen);
void jwt_keys_free(jwt_keys *k);

/* Verifies token at time now (seconds): the signature with a key of the token's alg (and
 * kid, when given; a key is never used with another alg, and "none" is refused), exp
 * (required), nbf and iat (60 s leeway), sub (required, <= 64 bytes), name (required),
 * avatar (kept when https://), roles (array of strings). Returns 0 and fills out (free
 * with jwt_claims_free), or -1 with a short reason in why and out zeroed. */
int jwt_verify(const jwt_keys *k, const char *token, double now, jwt_claims *out, char *why,
               size_t whylen);
void jwt_claims_free(jwt_claims *c);

#endif
