/* net_http.c: the HTTP half of net: the routing table that other modules add their
 * paths to, requests and their responses (written from the writeable callback), and the
 * static files under web_root, read once and kept. The transport half is net.c. */
#include "net_http.h"
#include "net_sock.h"
#include "alloc.h"

#include <fcntl.h>
#include <libwebsockets.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assets.h"
#include "clock.h"
#include "dict.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

#define MAX_ROUTES 64
#define MAX_POST_BODY (64 * 1024)
#define HTTP_CHUNK 16384

static dict_t *http_reqs;            /* "id" -> http_req */
/* net_http_serviced_wsi (net_sock.h) is the socket whose own HTTP callback is running:
 * lws lets an answer's headers be written there (its request, body-completion callback);
 * an answer given later waits for the writeable callback. */
static uint64_t next_http_id;

/* ---- Routes ---- */

static struct {
    char method[8];
    char path[128];
    http_handler fn;
} routes[MAX_ROUTES];
static int nroutes;

void net_add_route(const char *method, const char *path, http_handler h) {
    if (nroutes == MAX_ROUTES) abort();
    snprintf(routes[nroutes].method, sizeof routes[0].method, "%s", method);
    snprintf(routes[nroutes].path, sizeof routes[0].path, "%s", path);
    routes[nroutes++].fn = h;
}

static void idkey(uint64_t id, char out[24]) { snprintf(out, 24, "%llu", (unsigned long long)id); }

http_req *net_http_by_id(uint64_t id) {
    char k[24];
    idkey(id, k);
    return http_reqs ? dict_get(http_reqs, k) : NULL;
}

/* ---- Responses ---- */

static const char *security_headers[][2] = {
    {"x-content-type-options:", "nosniff"},
    {"referrer-policy:", "strict-origin-when-cross-origin"},
    {"permissions-policy:", "camera=(), microphone=(), geolocation=()"},
};

static const char *csp_for(const char *path) {
    if (!strncmp(path, "/console", 8))
        return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'self'; object-src 'none'";
    return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
           "connect-src 'self' ws: wss:; img-src 'self' data: https:; frame-ancestors 'self'; "
           "base-uri 'none'; form-action 'self'; object-src 'none'";
}

int net_http_respond(http_req *r, int status, const char *ctype, const http_header *hdrs,
                     int nhdrs, const char *body, size_t len) {
    unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start,
                                       *end = buf + sizeof buf - 1;
    struct lws *wsi = r->wsi;
    if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, len, &p, end)) return -1;
    for (size_t i = 0; i < sizeof security_headers / sizeof security_headers[0]; i++)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)security_headers[i][0],
                                        (const unsigned char *)security_headers[i][1],
                                        (int)strlen(security_headers[i][1]), &p, end))
            return -1;
    const char *csp = csp_for(r->path);
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"content-security-policy:",
                                    (const unsigned char *)csp, (int)strlen(csp), &p, end))
        return -1;
    for (int i = 0; i < nhdrs; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s:", hdrs[i].name);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)hdrs[i].value,
                                        (int)strlen(hdrs[i].value), &p, end))
            return -1;
    }
    if (lws_finalize_http_header(wsi, &p, end)) return -1;
    free(r->hdr);
    r->hdr = NULL;
    r->hdr_len = 0;
    if (wsi == net_http_serviced_wsi) {
        /* in the request's own callback, lws's pattern: the headers go at once, so that
         * an answer is on the wire even when the bytes after the request drop the
         * connection (tests/integration/http_body.test.js) */
        if (net_lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) < 0)
            return -1;
    } else {
        /* later (a storage callback): the headers wait for the writeable callback */
        r->hdr_len = (size_t)(p - start);
        r->hdr = xmalloc(LWS_PRE + r->hdr_len);
        memcpy(r->hdr + LWS_PRE, start, r->hdr_len);
    }
    /* The body and the end of the transaction are written from the writeable callback,
     * where lws can act on its answer (close or keep alive); an answer given later would
     * otherwise have nobody to close the socket when lws says so. */
    free(r->resp);
    r->resp = NULL;
    r->resp_len = r->resp_off = 0;
    if (len && strcmp(r->method, "HEAD") != 0) {
        r->resp = xmalloc(len);
        memcpy(r->resp, body, len);
        r->resp_len = len;
    }
    r->finish = true;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_text(http_req *r, int status, const char *text) {
    return net_http_respond(r, status, "text/plain; charset=utf-8", NULL, 0, text,
                            strlen(text));
}

int net_http_arg(http_req *r, const char *name, char *out, size_t outlen) {
    size_t nlen = strlen(name);
    char frag[600];
    for (int i = 0; i < 64; i++) {
        int n = lws_hdr_copy_fragment(r->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) break;
        if ((size_t)n > nlen && !strncmp(frag, name, nlen) && frag[nlen] == '=') {
            snprintf(out, outlen, "%s", frag + nlen + 1);
            return (int)strlen(out);
        }
    }
    return -1;
}

int net_http_header(http_req *r, const char *name, char *out, size_t outlen) {
    int n = lws_hdr_custom_copy(r->wsi, out, (int)outlen, name, (int)strlen(name));
    if (n < 0) out[0] = '\0';
    return n;
}

static const struct {
    const char *ext, *type, *cache;
} mime[] = {
    {".html", "text/html; charset=utf-8", "no-cache"},
    {".js", "text/javascript; charset=utf-8", "public, max-age=300"},
    {".mjs", "text/javascript; charset=utf-8", "public, max-age=300"},
    {".css", "text/css; charset=utf-8", "public, max-age=300"},
    {".json", "application/json", "no-cache"},
    {".svg", "image/svg+xml", "public, max-age=86400"},
    {".png", "image/png", "public, max-age=86400"},
    {".jpg", "image/jpeg", "public, max-age=86400"},
    {".ico", "image/x-icon", "public, max-age=86400"},
    {".txt", "text/plain; charset=utf-8", "no-cache"},
    {".woff2", "font/woff2", "public, max-age=86400"},
};

/* ---- Static files, read once ----
 *
 * A file is read from disk the first time it is asked for and kept, ready to send (the
 * loader with the widget's version written in) with its content hash; later requests
 * cost one stat() to see that it has not changed, never a read on the loop. The cache is
 * bounded (STATIC_CACHE_MAX bytes): past it, files are read per request. */
#define STATIC_CACHE_MAX (64 * 1024 * 1024)

typedef struct {
    char *data;          /* owned */
    size_t len;
    off_t size;          /* of the file when read */
    struct timespec mtime;
    uint64_t stamp;      /* the widget's parts (assets_widget_stat); 0 for a file */
    char dep[ASSETS_VERSION_LEN + 1]; /* the widget's version written into the loader */
    char ver[ASSETS_VERSION_LEN + 1]; /* content hash (ETag, ?v=) */
    bool cached;         /* in static_cache (else freed after the response) */
} static_file;

static dict_t *static_cache;   /* real path -> static_file, owned */
static size_t static_bytes;
static static_file *static_last; /* an uncached file being served; freed next time */

static void static_free(void *p) {
    static_file *f = p;
    if (!f) return;
    free(f->data);
    free(f);
}

/* The file at real (as stat'd into sb), read and prepared, or NULL on a read error; when
 * widget_root is set, real names the widget and its parts under widget_root are read and
 * joined instead (stamp: assets_widget_stat; 0 for a file). The result belongs to the
 * cache (or, past its bound, lives until the next call). */
static static_file *static_get(const char *real, const struct stat *sb, const char *dep,
                               const char *widget_root, uint64_t stamp) {
    static_file *f = static_cache ? dict_get(static_cache, real) : NULL;
    if (f && f->size == sb->st_size && f->mtime.tv_sec == sb->st_mtim.tv_sec &&
        f->mtime.tv_nsec == sb->st_mtim.tv_nsec && f->stamp == stamp && !strcmp(f->dep, dep))
        return f;
    if (f) {
        static_bytes -= f->len;
        static_free(dict_del(static_cache, real));
    }
    static_free(static_last);
    static_last = NULL;
    char *data;
    size_t len;
    if (widget_root) {
        data = assets_widget_read(widget_root, &len);
        if (!data) return NULL;
    } else {
        int fd = open(real, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return NULL;
        data = xmalloc((size_t)sb->st_size + 1);
        ssize_t got = read(fd, data, (size_t)sb->st_size);
        close(fd);
        if (got != sb->st_size) {
            free(data);
            return NULL;
        }
        len = (size_t)got;
    }
    if (dep[0]) {
        char *b2 = assets_replace(data, len, ASSETS_WIDGET_PLACEHOLDER, dep, &len);
        if (b2) {
            free(data);
            data = b2;
        }
    }
    f = xcalloc(1, sizeof *f);
    f->data = data;
    f->len = len;
    f->size = sb->st_size;
    f->mtime = sb->st_mtim;
    f->stamp = stamp;
    snprintf(f->dep, sizeof f->dep, "%s", dep);
    assets_version(data, len, f->ver);
    if (static_cache && static_bytes + len <= STATIC_CACHE_MAX) {
        dict_set(static_cache, real, f, NULL);
        static_bytes += len;
        f->cached = true;
    } else {
        static_last = f;
    }
    return f;
}

/* Serves a file under web_root; no path can leave it. */
static int serve_static(http_req *r) {
    const char *path = r->path;
    if (strstr(path, "..") || strchr(path, '\\') || path[0] != '/')
        return respond_text(r, 404, "not found\n");
    if (!strcmp(path, "/")) {
        http_header loc = {"location", "/demo/"};
        return net_http_respond(r, 302, "text/plain; charset=utf-8", &loc, 1, "", 0);
    }
    char root[PATH_MAX], full[PATH_MAX + 600], real[PATH_MAX];
    if (!realpath(srv.cfg.web_root, root)) return respond_text(r, 404, "not found\n");
    snprintf(full, sizeof full, "%s%s", root, path);
    size_t fl = strlen(full);
    if (fl && full[fl - 1] == '/') snprintf(full + fl, sizeof full - fl, "index.html");
    struct stat sb;
    /* The widget is its parts under the root, joined (assets.h). */
    bool widget = !strcmp(path, ASSETS_WIDGET_PATH);
    uint64_t stamp = 0;
    if (widget) {
        memset(&sb, 0, sizeof sb);
        if ((size_t)snprintf(real, sizeof real, "%s%s", root, path) >= sizeof real ||
            assets_widget_stat(root, &sb.st_size, &sb.st_mtim, &stamp))
            return respond_text(r, 404, "not found\n");
    } else if (!realpath(full, real) || strncmp(real, root, strlen(root)) != 0 ||
               (real[strlen(root)] != '/' && real[strlen(root)] != '\0'))
        return respond_text(r, 404, "not found\n");
    if (!widget && stat(real, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* a directory without the slash: redirect so relative links work */
        char loc[600];
        snprintf(loc, sizeof loc, "%s/", path);
        http_header h = {"location", loc};
        return net_http_respond(r, 301, "text/plain; charset=utf-8", &h, 1, "", 0);
    }
    if ((!widget && (stat(real, &sb) || !S_ISREG(sb.st_mode))) || sb.st_size > 16 * 1024 * 1024)
        return respond_text(r, 404, "not found\n");
    const char *type = "application/octet-stream", *cache = "no-cache";
    const char *dot = strrchr(real, '.');
    for (size_t i = 0; dot && i < sizeof mime / sizeof mime[0]; i++)
        if (!strcmp(dot, mime[i].ext)) {
            type = mime[i].type;
            cache = mime[i].cache;
        }
    /* The loader names the widget's current version; a file asked for with ?v= equal to
     * its own version is cached for a year (assets.h). */
    char wv[ASSETS_VERSION_LEN + 1] = "";
    if (!strcmp(path, "/embed.js")) {
        if (assets_widget_version(root, wv)) wv[0] = '\0';
    }
    static_file *f = static_get(real, &sb, wv, widget ? root : NULL, stamp);
    if (!f) return respond_text(r, 500, "read error\n");
    const char *data = f->data;
    size_t blen = f->len;
    char etag[ASSETS_VERSION_LEN + 3], v[40];
    const char *ver = f->ver;
    snprintf(etag, sizeof etag, "\"%s\"", ver);
    if (net_http_arg(r, "v", v, sizeof v) > 0 && !strcmp(v, ver))
        cache = "public, max-age=31536000, immutable";
    http_header h[6];
    int nh = 0;
    h[nh++] = (http_header){"etag", etag};
    h[nh++] = (http_header){"cache-control", cache};
    /* The loader, the widget and the counts script load cross-origin from host pages. */
    bool shared = !strcmp(path, "/embed.js") || !strcmp(path, "/widget.js") ||
                  !strcmp(path, "/count.js");
    if (shared) {
        h[nh++] = (http_header){"cross-origin-resource-policy", "cross-origin"};
        h[nh++] = (http_header){"vary", "Origin"};
        if (r->origin[0] && config_origin_allowed(&srv.cfg, r->origin))
            h[nh++] = (http_header){"access-control-allow-origin", r->origin};
    } else {
        h[nh++] = (http_header){"cross-origin-resource-policy", "same-origin"};
    }
    char inm[128];
    int rc;
    if (lws_hdr_copy(r->wsi, inm, sizeof inm, WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
        strcmp(inm, etag) == 0)
        rc = net_http_respond(r, 304, type, h, nh, "", 0);
    else
        rc = net_http_respond(r, 200, type, h, nh, data, blen);
    return rc;
}

int net_http_arg_each(http_req *r, const char *name, int (*fn)(const char *value, void *arg),
                      void *arg) {
    size_t nlen = strlen(name);
    char frag[600];
    int n = 0;
    for (int i = 0; i < 64; i++) {
        int len = lws_hdr_copy_fragment(r->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len < 0) break;
        if ((size_t)len > nlen && !strncmp(frag, name, nlen) && frag[nlen] == '=') {
            n++;
            if (fn(frag + nlen + 1, arg)) break;
        }
    }
    return n;
}

int net_http_if_none_match(http_req *r, char *out, size_t outlen) {
    int n = lws_hdr_copy(r->wsi, out, (int)outlen, WSI_TOKEN_HTTP_IF_NONE_MATCH);
    if (n <= 0) out[0] = '\0';
    return n;
}

static int dispatch_http(http_req *r) {
    for (int i = 0; i < nroutes; i++)
        if (!strcmp(routes[i].path, r->path) && !strcmp(routes[i].method, r->method))
            return routes[i].fn(r);
    if (!strncmp(r->path, "/api/", 5)) return respond_text(r, 404, "no such endpoint\n");
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        return respond_text(r, 405, "method not allowed\n");
    return serve_static(r);
}

static void http_reset(http_req *r) {
    free(r->body);
    free(r->resp);
    free(r->hdr);
    r->hdr = NULL;
    r->hdr_len = 0;
    r->body = r->resp = NULL;
    r->body_len = r->resp_len = r->resp_off = 0;
    r->finish = false;
    r->dispatched = false;
}

static void http_forget(http_req *r) {
    if (r->id) {
        char k[24];
        idkey(r->id, k);
        dict_del(http_reqs, k);
        r->id = 0;
    }
}

/* Writes the next piece of r's response, one lws_write per writable callback: the
 * headers, then the body in chunks; after the last, ends the transaction. Returns -1 when
 * the connection must close. */
static int http_writeable(struct lws *wsi, http_req *r) {
    if (!r || !r->finish) return 0;
    int w = 0;
    bool last = true; /* headers only, written at the last callback: end it now */
    net_writeable_wsi = wsi;
    if (r->hdr) {
        w = net_lws_write(wsi, r->hdr + LWS_PRE, r->hdr_len, LWS_WRITE_HTTP_HEADERS);
        free(r->hdr);
        r->hdr = NULL;
        r->hdr_len = 0;
        last = false; /* the body follows, or (none) the end, at the next callback */
    } else if (r->resp_off < r->resp_len) {
        size_t left = r->resp_len - r->resp_off;
        size_t n = left > HTTP_CHUNK ? HTTP_CHUNK : left;
        unsigned char *buf = xmalloc(LWS_PRE + n);
        memcpy(buf + LWS_PRE, r->resp + r->resp_off, n);
        w = net_lws_write(wsi, buf + LWS_PRE, n, n == left ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
        free(buf);
        r->resp_off += n;
        last = r->resp_off == r->resp_len;
    }
    net_writeable_wsi = NULL;
    if (w < 0) return -1;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    http_reset(r);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Serves the "http" protocol: socket accounting and handshake checks (net.c), requests
 * (method, size, origin, POST bodies), dispatch to routes or static files, and the
 * response's writes. Returns non-zero when lws must close the socket. */
static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len) {
    http_req *r = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return net_sock_filter((int)(intptr_t)in);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        net_sock_opened(wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        net_sock_closed(wsi);
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
        int status = net_check_upgrade(wsi);
        if (!status) return 0;
        metrics.refused_handshakes++;
        /* answer with a status the client can read, then close */
        lws_return_http_status(wsi, (unsigned)status, NULL);
        return 1;
    }
    case LWS_CALLBACK_HTTP: {
        http_reset(r);
        http_forget(r);
        r->wsi = wsi;
        r->id = ++next_http_id;
        r->started_ms = mono_ms();
        char k[24];
        idkey(r->id, k);
        dict_set(http_reqs, k, r, NULL);
        snprintf(r->path, sizeof r->path, "%s", (const char *)in);
        int big = net_request_size_status(wsi);
        if (big) {
            snprintf(r->method, sizeof r->method, "GET");
            log_info("net: refused a request with %s", big == 414 ? "a URI over 8 KiB"
                                                                : "headers over 16 KiB");
            return respond_text(r, big, big == 414 ? "URI too long\n"
                                                   : "request headers too large\n") < 0
                       ? -1
                       : 0;
        }
        r->origin[0] = '\0';
        lws_hdr_copy(wsi, r->origin, sizeof r->origin, WSI_TOKEN_ORIGIN);
        if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
            snprintf(r->method, sizeof r->method, "POST");
        else if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
            snprintf(r->method, sizeof r->method, "HEAD");
        else if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
            snprintf(r->method, sizeof r->method, "GET");
        else
            snprintf(r->method, sizeof r->method, "OTHER");
        if (!strcmp(r->method, "POST")) {
            /* Bodies must say their length (lws does not take chunked uploads). */
            char clen[24] = "";
            int cn = lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH);
            if (cn <= 0 || cn > 9 || strspn(clen, "0123456789") != (size_t)cn) {
                /* absent or not a number: lws would take garbage for 0 and then still
                 * hand over the bytes that follow */
                int rc = respond_text(r, 411, "content-length required\n");
                /* answered: bytes that follow drop the connection (LWS_CALLBACK_HTTP_BODY);
                 * lws 4.1 hands them over from a buffer it has freed */
                snprintf(r->method, sizeof r->method, "REFUSED");
                return rc < 0 ? -1 : 0;
            }
            return 0; /* wait for the body */
        }
        int rc = dispatch_http(r);
        return rc < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
        /* Only a POST with a length waits for its body; any other request was answered
         * already. lws 4.1 can then call BODY_COMPLETION for ever from its rx buffer (a
         * pipelined GET with a Content-Length), or pass `in` pointing into a buffer it
         * has freed (a pipelined POST without one): drop such a connection before
         * touching `in` (tests/fuzz/regress/fuzz_http/). */
        if (strcmp(r->method, "POST")) return -1;
        /* lws restarts its content timeout at every piece of the body, so a body sent a
         * byte every few seconds would hold the socket for good: the whole body has
         * server.http_body_seconds from the headers */
        if (mono_ms() - r->started_ms > (uint64_t)srv.cfg.http_body_seconds * 1000) {
            log_info("net: a request body still coming after %ld s: closing the connection",
                     srv.cfg.http_body_seconds);
            respond_text(r, 408, "request body too slow\n");
            return -1;
        }
        if (r->body_len + len > MAX_POST_BODY) {
            respond_text(r, 413, "request body too large\n");
            return -1;
        }
        r->body = xrealloc(r->body, r->body_len + len + 1);
        if (len) memcpy(r->body + r->body_len, in, len);
        r->body_len += len;
        r->body[r->body_len] = '\0';
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        if (strcmp(r->method, "POST")) return -1; /* see LWS_CALLBACK_HTTP_BODY */
        /* Called again for the same request: lws 4.1 holds bytes after the body that it
         * cannot hand over. A POST pipelined after another request is read from lws's
         * buffer, where lws_http_action hands the request's own first bytes over as its
         * body, then calls this in a loop that never returns to the event loop: each call
         * answered the POST again, a stream of answers while the client read them, and
         * no other client served (tests/hostile/http.test.js). A POST followed by a
         * pipelined request leads here too, at the next loop turn. Clients must not
         * pipeline after a POST (RFC 9112 9.3.2): the connection is dropped. */
        if (r->dispatched) {
            log_info("net: a request pipelined after a POST: closing the connection");
            return -1;
        }
        r->dispatched = true;
        if (!r->body) r->body = xcalloc(1, 1);
        int rc = dispatch_http(r);
        return rc < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RAW_ADOPT:
    case LWS_CALLBACK_RAW_RX:
        /* lws 4.1 turns a CONNECT request into a raw socket bound to this protocol, with
         * no timeout: it was held open for good, past the idle timeouts
         * (tests/hostile/http.test.js). Nothing here is served raw. */
        log_info("net: refused a CONNECT request");
        return -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(wsi, r);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        /* lws may call these without per-session data (an upgraded or aborted socket) */
        if (r) {
            http_forget(r);
            http_reset(r);
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* The "http" protocol's callback: http_callback, with the socket it serves noted for
 * net_http_respond. Returns what http_callback returns. */
int net_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len) {
    struct lws *outer = net_http_serviced_wsi;
    net_http_serviced_wsi = wsi;
    int rc = http_callback(wsi, reason, user, in, len);
    net_http_serviced_wsi = outer;
    return rc;
}

/* ---- Start and stop ---- */

void net_http_init(void) {
    http_reqs = dict_new();
    static_cache = dict_new();
}

void net_http_stop(void) {
    dict_free(http_reqs, NULL);
    http_reqs = NULL;
    dict_free(static_cache, static_free);
    static_cache = NULL;
    static_bytes = 0;
    static_free(static_last);
    static_last = NULL;
}
