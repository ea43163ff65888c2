/* assets.c: content versions of static files, and the widget joined from its parts (see
 * assets.h). */
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
    uint64_t stamp;      /* the widget's parts (assets_widget_stat); 0 for a file */
    char version[ASSETS_VERSION_LEN + 1];
} cache[ASSETS_CACHE];

/* The widget's parts under the web root, in the order they are joined (assets.h). */
static const char *const widget_parts[] = {"widget/text.js", "widget/socket.js",
                                           "widget/thread.js"};
#define WIDGET_NPARTS (sizeof widget_parts / sizeof widget_parts[0])
static unsigned next_slot;

/* Remembers version for key (a path, or the widget's key); a key seen before takes its old
 * slot back, otherwise the slots are reused round robin. */
static void cache_put(const char *key, off_t size, struct timespec mtime, uint64_t stamp,
                      const char *version) {
    int slot = -1;
    for (int i = 0; i < ASSETS_CACHE && slot < 0; i++)
        if (!strcmp(cache[i].path, key)) slot = i;
    if (slot < 0) {
        slot = (int)next_slot;
        next_slot = (next_slot + 1) % ASSETS_CACHE;
    }
    snprintf(cache[slot].path, sizeof cache[slot].path, "%s", key);
    cache[slot].size = size;
    cache[slot].mtime = mtime;
    cache[slot].stamp = stamp;
    memcpy(cache[slot].version, version, ASSETS_VERSION_LEN + 1);
}

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
            cache[i].mtime.tv_nsec == sb.st_mtim.tv_nsec && !cache[i].stamp) {
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
    cache_put(path, sb.st_size, sb.st_mtim, 0, out);
    return 0;
}

int assets_widget_stat(const char *root, off_t *size, struct timespec *mtime, uint64_t *stamp) {
    *size = 0;
    *mtime = (struct timespec){0};
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof *stamp);
    for (size_t i = 0; i < WIDGET_NPARTS; i++) {
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", root, widget_parts[i]);
        if (stat(path, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > ASSETS_MAX_FILE) return -1;
        *size += sb.st_size;
        if (sb.st_mtim.tv_sec > mtime->tv_sec ||
            (sb.st_mtim.tv_sec == mtime->tv_sec && sb.st_mtim.tv_nsec > mtime->tv_nsec))
            *mtime = sb.st_mtim;
        int64_t key[3] = {(int64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec,
                          (int64_t)sb.st_mtim.tv_nsec};
        crypto_generichash_update(&st, (const unsigned char *)key, sizeof key);
    }
    unsigned char h[sizeof *stamp];
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(stamp, h, sizeof h);
    if (!*stamp) *stamp = 1; /* 0 means "a file" in the cache */
    return 0;
}

char *assets_widget_read(const char *root, size_t *len) {
    char *out = NULL;
    size_t n = 0;
    for (size_t i = 0; i < WIDGET_NPARTS; i++) {
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", root, widget_parts[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) goto bad;
        if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > ASSETS_MAX_FILE) {
            close(fd);
            goto bad;
        }
        out = xrealloc(out, n + (size_t)sb.st_size + 1);
        ssize_t got = read(fd, out + n, (size_t)sb.st_size);
        close(fd);
        if (got != sb.st_size) goto bad;
        n += (size_t)got;
    }
    out[n] = '\0';
    *len = n;
    return out;
bad:
    free(out);
    return NULL;
}

int assets_widget_version(const char *root, char out[ASSETS_VERSION_LEN + 1]) {
    char key[512];
    off_t size;
    struct timespec mtime;
    uint64_t stamp;
    out[0] = '\0';
    if ((size_t)snprintf(key, sizeof key, "widget-parts:%s", root) >= sizeof key ||
        assets_widget_stat(root, &size, &mtime, &stamp))
        return -1;
    for (int i = 0; i < ASSETS_CACHE; i++)
        if (!strcmp(cache[i].path, key) && cache[i].stamp == stamp) {
            memcpy(out, cache[i].version, ASSETS_VERSION_LEN + 1);
            return 0;
        }
    size_t len;
    char *data = assets_widget_read(root, &len);
    if (!data) return -1;
    assets_version(data, len, out);
    free(data);
    cache_put(key, size, mtime, stamp, out);
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
