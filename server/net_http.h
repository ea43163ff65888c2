/* net_http.h: the HTTP half of the net layer (net_http.c): requests and their answers,
 * the routes other modules register under /api/, and the lws callback of the "http"
 * protocol that net.c's context runs. */
#ifndef PARLEY_NET_HTTP_H
#define PARLEY_NET_HTTP_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An HTTP request being answered. Lives in the lws per-session data. */
typedef struct http_req {
    struct lws *wsi;
    uint64_t id;              /* for answers that come later: net_http_by_id() */
    char method[8];
    char path[512];
    char origin[256];         /* "" when absent */
    char *body;               /* POST body, NUL-terminated, owned */
    size_t body_len;
    /* the response being written, all of it from the writable callback: the headers,
     * then the body in chunks, then the end of the transaction */
    unsigned char *hdr;       /* LWS_PRE bytes of room, then the header block; owned */
    size_t hdr_len;
    char *resp;
    size_t resp_len, resp_off;
    bool finish;              /* an answer is pending: end it once hdr and resp are written */
    bool dispatched;          /* a POST handed to its route (once: BODY_COMPLETION) */
    uint64_t started_ms;      /* mono_ms() at the request's headers: the body's deadline */
} http_req;

/* A header for net_http_respond: name without colon, value. */
typedef struct {
    const char *name, *value;
} http_header;

/* Prepares a complete response (copying body) and asks for the writable callback, which
 * writes it. Returns 0, or -1 when the connection must close. May be called later, from
 * a storage callback, with a request found by id. */
int net_http_respond(http_req *r, int status, const char *ctype, const http_header *hdrs,
                     int nhdrs, const char *body, size_t len);
http_req *net_http_by_id(uint64_t id);
/* Copies the value of query argument name (the first) into out; returns its length or -1. */
int net_http_arg(http_req *r, const char *name, char *out, size_t outlen);
/* Calls fn with the value of each query argument called name, in order, until fn
 * returns non-zero; returns how many it saw. */
int net_http_arg_each(http_req *r, const char *name, int (*fn)(const char *value, void *arg),
                      void *arg);
/* Copies the If-None-Match header into out ("" when absent); returns its length. */
int net_http_if_none_match(http_req *r, char *out, size_t outlen);
/* Copies a request header (lowercase name with colon, e.g. "cookie:") into out. */
int net_http_header(http_req *r, const char *name, char *out, size_t outlen);
/* A route for paths under /api/ that other modules serve. Handlers return what
 * net_http_respond returns, or 1 when they will answer later. */
typedef int (*http_handler)(http_req *r);
void net_add_route(const char *method, const char *path, http_handler h);

/* ---- For net.c ---- */

/* The lws callback of the "http" protocol (per-session data: http_req). */
int net_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len);
/* Makes and frees the request registry and the static file cache (net_start, net_stop). */
void net_http_init(void);
void net_http_stop(void);

#endif
