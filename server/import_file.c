/* import_file.c: the importers' input, plain or gzip-compressed, through zlib's
 * gzread (which looks at the first bytes: gzip data is inflated, anything else is read
 * as it is). Decompressed bytes go through one fixed buffer, so memory is that buffer
 * and the longest line. */
#include "import_file.h"
#include "alloc.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK (64 * 1024)

struct import_file {
    gzFile gz;
    import_sink *s;
    const char *path; /* borrowed: the caller's, for as long as f */
    char *buf;       /* decompressed bytes read ahead: buf[pos..have) not used yet */
    size_t pos, have;
    char *line;      /* the line import_file_line returns */
    size_t cap;
    bool eof, failed;
};

/* Reads the next chunk: 1 when there is data, 0 at the end, -1 on an error (recorded).
 * At the end, zlib's Z_BUF_ERROR means the gzip stream stopped before its end: a
 * truncated file, refused like a corrupt one rather than imported in part. */
static int fill(import_file *f) {
    if (f->eof || f->failed) return f->failed ? -1 : 0;
    int n = gzread(f->gz, f->buf, CHUNK);
    if (n > 0) {
        f->pos = 0;
        f->have = (size_t)n;
        return 1;
    }
    int err = Z_OK;
    const char *msg = gzerror(f->gz, &err);
    if (n == 0 && err == Z_OK) {
        f->eof = true;
        return 0;
    }
    f->failed = true;
    /* zlib's message is "path: what"; the sink names the file itself */
    const char *colon = msg ? strstr(msg, ": ") : NULL;
    if (colon && (size_t)(colon - msg) == strlen(f->path) && !strncmp(msg, f->path, strlen(f->path)))
        msg = colon + 2;
    if (err == Z_BUF_ERROR)
        import_sink_error(f->s, 0, 0, "the gzip data ends early: the file is truncated");
    else if (err == Z_DATA_ERROR)
        import_sink_error(f->s, 0, 0, "the gzip data is corrupt (%s)", msg ? msg : "invalid");
    else
        import_sink_error(f->s, 0, 0, "cannot read the file (%s)", msg ? msg : "read error");
    return -1;
}

import_file *import_file_open(const char *path, import_sink *s) {
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        import_sink_error(s, 0, 0, "cannot open the file");
        return NULL;
    }
    gzbuffer(gz, CHUNK);
    import_file *f = xcalloc(1, sizeof *f);
    f->gz = gz;
    f->s = s;
    f->path = path;
    f->buf = xmalloc(CHUNK);
    /* a byte order mark is skipped (gzread fills the chunk unless the file ends) */
    if (fill(f) > 0) f->pos = import_bom_len(f->buf, f->have);
    return f;
}

const char *import_file_line(import_file *f, size_t *len) {
    size_t n = 0;
    for (;;) {
        if (f->pos == f->have) {
            int r = fill(f);
            if (r < 0) return NULL;
            if (r == 0) {
                if (!n) return NULL;
                break;
            }
        }
        const char *start = f->buf + f->pos;
        size_t avail = f->have - f->pos;
        const char *nl = memchr(start, '\n', avail);
        size_t take = nl ? (size_t)(nl - start) + 1 : avail;
        if (n + take + 1 > f->cap) {
            while (n + take + 1 > f->cap) f->cap = f->cap ? f->cap * 2 : 4096;
            f->line = xrealloc(f->line, f->cap);
        }
        memcpy(f->line + n, start, take);
        n += take;
        f->pos += take;
        if (nl) break;
    }
    f->line[n] = '\0';
    *len = n;
    return f->line;
}

long import_file_read(import_file *f, char *out, size_t want) {
    if (f->pos == f->have && fill(f) <= 0) return f->failed ? -1 : 0;
    size_t n = f->have - f->pos < want ? f->have - f->pos : want;
    memcpy(out, f->buf + f->pos, n);
    f->pos += n;
    return (long)n;
}

/* jansson's reader: (size_t)-1 on an error, which it takes as the end of the input. */
static size_t json_read(void *out, size_t want, void *arg) {
    long n = import_file_read(arg, out, want);
    return n < 0 ? (size_t)-1 : (size_t)n;
}

json_t *import_file_json(import_file *f, size_t flags, json_error_t *je) {
    json_t *root = json_load_callback(json_read, f, flags, je);
    /* jansson reads to the end (only white space may follow the document), so a gzip
     * stream cut in its trailer is seen here too */
    if (root && !f->failed && f->pos == f->have) fill(f);
    if (f->failed) {
        json_decref(root);
        return NULL;
    }
    return root;
}

bool import_file_failed(const import_file *f) { return f->failed; }

int64_t import_file_offset(import_file *f) { return (int64_t)gzoffset(f->gz); }

void import_file_close(import_file *f) {
    if (!f) return;
    gzclose_r(f->gz);
    free(f->buf);
    free(f->line);
    free(f);
}

int import_file_json_lines(const char *path, import_sink *s, size_t flags,
                           int (*cb)(json_t *o, long lineno, void *arg), void *arg) {
    import_file *f = import_file_open(path, s);
    if (!f) return -1;
    const char *line;
    size_t n;
    long lineno = 0;
    int rc = 0;
    while (!rc && (line = import_file_line(f, &n))) {
        lineno++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) n--;
        if (!n) continue;
        json_error_t je;
        json_t *o = json_loadb(line, n, flags, &je);
        if (!json_is_object(o)) {
            import_sink_error(s, lineno, o ? 1 : je.column, "%s",
                              o ? "a line must be a JSON object" : je.text);
            rc = -1;
        } else {
            rc = cb(o, lineno, arg);
        }
        json_decref(o);
        import_sink_progress(s, import_file_offset(f));
    }
    if (!rc && import_file_failed(f)) rc = -1; /* a read error, or gzip data cut short */
    import_file_close(f);
    return rc;
}
