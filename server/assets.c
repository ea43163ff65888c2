/* assets.c: content versions of static files (see assets.h). */
#include "assets.h"
#include "alloc.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ASSETS_CACHE 8
#define ASSETS_MAX_FILE (16 * 1024 * 1024)

/* One remembered version; the loop thread alone touches the cache. */
static struct {
    char path[512];
    off_t size;
    struct timespec mtime;
    char version[ASSETS_VERSION_LEN + 1];
} cache[ASSETS_CACHE];
static unsigned next_slot;

void assets_version(const void *data, size_t len, char out[ASSETS_VERSION_LEN + 1]) {
    unsigned char h[ASSETS_VERSION_LEN / 2];
    crypto_generichash(h, sizeof h, data, len, NULL, 0);
    sodium_bin2hex(out, ASSETS_VERSION_LEN + 1, h, sizeof h);
}

int assets_file_version(const char *path, char out[ASSETS_VERSION_LEN + 1]) {
    struct stat sb;
    out[0] = '\0';
    if (strlen(path) >= sizeof cache[0].path || stat(path, &sb) || !S_ISREG(sb.st_mode) ||
        sb.st_size > ASSETS_MAX_FILE)
        return -1;
    for (int i = 0; i < ASSETS_CACHE; i++)
        if (!strcmp(cache[i].path, path) && cache[i].size == sb.st_size &&
            cache[i].mtime.tv_sec == sb.st_mtim.tv_sec &&
            cache[i].mtime.tv_nsec == sb.st_mtim.tv_nsec) {
            memcpy(out, cache[i].version, ASSETS_VERSION_LEN + 1);
            return 0;
        }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char *data = xmalloc((size_t)sb.st_size + 1);
    ssize_t got = data ? read(fd, data, (size_t)sb.st_size) : -1;
    close(fd);
    if (got != sb.st_size) {
        free(data);
        return -1;
    }
    assets_version(data, (size_t)got, out);
    free(data);
    /* a path seen before takes its old slot back; otherwise round robin */
    int slot = -1;
    for (int i = 0; i < ASSETS_CACHE && slot < 0; i++)
        if (!strcmp(cache[i].path, path)) slot = i;
    if (slot < 0) {
        slot = (int)next_slot;
        next_slot = (next_slot + 1) % ASSETS_CACHE;
    }
    snprintf(cache[slot].path, sizeof cache[slot].path, "%s", path);
    cache[slot].size = sb.st_size;
    cache[slot].mtime = sb.st_mtim;
    memcpy(cache[slot].version, out, ASSETS_VERSION_LEN + 1);
    return 0;
}

char *assets_replace(const char *data, size_t len, const char *needle, const char *repl,
                     size_t *outlen) {
    size_t nl = strlen(needle), rl = strlen(repl), hits = 0;
    if (!nl) return NULL;
    for (const char *p = data; (p = memmem(p, len - (size_t)(p - data), needle, nl)); p += nl)
        hits++;
    if (!hits) return NULL;
    size_t n = len - hits * nl + hits * rl;
    char *out = xmalloc(n + 1), *w = out;
    const char *p = data, *end = data + len;
    for (const char *q; (q = memmem(p, (size_t)(end - p), needle, nl)); p = q + nl) {
        memcpy(w, p, (size_t)(q - p));
        w += q - p;
        memcpy(w, repl, rl);
        w += rl;
    }
    memcpy(w, p, (size_t)(end - p));
    out[n] = '\0';
    *outlen = n;
    return out;
}
