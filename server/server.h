/* server.h: the process-wide state of `parley serve` (one event loop, one of each
 * subsystem), as Redis keeps its `server` struct. Touched on the loop thread only,
 * except where a field says otherwise. */
#ifndef PARLEY_SERVER_H
#define PARLEY_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "dict.h"

/* The subsystems are opaque here: this header sits in the lowest layer (util) and
 * names no module above it. */
typedef struct store store_t;
typedef struct ruleset ruleset_t;
typedef struct rules_state rules_state_t;

#define PARLEY_VERSION "0.1.0"

typedef struct {
    config_t cfg;
    uv_loop_t *loop;
    struct lws_context *ctx;
    store_t *store;
    ruleset_t *ruleset;
    rules_state_t *rules_state;  /* storage thread only once serving */
    struct jwt_keys *keys;       /* NULL when identity.keys is absent */
    unsigned char ip_key[32];    /* BLAKE2b key for address hashes */
    dict_t *ip_counts;           /* ip hash -> (uintptr_t) open connections */
    bool shutting_down;
} server_t;

extern server_t srv;

/* Reads dir/ip-hash.key into srv.ip_key, creating it on first use (moved from main.c so
 * `parley import` hashes addresses with the server's key). Returns 0 or -1 (logged). */
int server_load_ip_key(const char *dir);
/* Where the key comes from instead of the file, when set (main sets it with PostgreSQL,
 * where the key lives in the database so that every node agrees): fills key, returns 0
 * or -1. */
void server_set_ip_key_source(int (*source)(unsigned char *key, size_t len));

/* Writes the hex keyed hash (32 chars + NUL) of data into out. */
void server_hash_hex(const void *data, size_t len, char out[33]);

#endif
