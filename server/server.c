/* server.c: the process-wide state and the small helpers around it. */
#include "server.h"

#include <sodium.h>
#include <stdlib.h>

server_t srv;

void server_hash_hex(const void *data, size_t len, char out[33]) {
    unsigned char h[16];
    crypto_generichash(h, sizeof h, data, len, srv.ip_key, sizeof srv.ip_key);
    sodium_bin2hex(out, 33, h, sizeof h);
}
