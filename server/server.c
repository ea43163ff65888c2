/* server.c: the process-wide state and the small helpers around it. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

server_t srv;

void server_hash_hex(const void *data, size_t len, char out[33]) {
    unsigned char h[16];
    crypto_generichash(h, sizeof h, data, len, srv.ip_key, sizeof srv.ip_key);
    sodium_bin2hex(out, 33, h, sizeof h);
}

/* Reads the address-hash key under the data dir, creating it on first start. Processes
 * starting together agree on one key: it is written aside and linked into place, and
 * whoever loses the race reads the winner's. */
static int (*ip_key_source)(unsigned char *key, size_t len);

void server_set_ip_key_source(int (*source)(unsigned char *key, size_t len)) {
    ip_key_source = source;
}

int server_load_ip_key(const char *dir) {
    if (ip_key_source) return ip_key_source(srv.ip_key, sizeof srv.ip_key);
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/ip-hash.key", dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, srv.ip_key, sizeof srv.ip_key);
            close(fd);
            if (n == (ssize_t)sizeof srv.ip_key) return 0;
            log_err("main: %s is damaged (want %zu bytes)", path, sizeof srv.ip_key);
            return -1;
        }
        randombytes_buf(srv.ip_key, sizeof srv.ip_key);
        snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, srv.ip_key, sizeof srv.ip_key) != (ssize_t)sizeof srv.ip_key ||
            fsync(fd)) {
            log_err("main: cannot write %s: %s", tmp, strerror(errno));
            if (fd >= 0) close(fd);
            unlink(tmp);
            return -1;
        }
        close(fd);
        int rc = link(tmp, path);
        int e = errno;
        unlink(tmp);
        if (rc == 0) {
            log_info("main: created address-hash key %s", path);
            return 0;
        }
        if (e != EEXIST) {
            log_err("main: cannot create %s: %s", path, strerror(e));
            return -1;
        }
    }
    return -1;
}
