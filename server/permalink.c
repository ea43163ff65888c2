/* permalink.c: the `thread` message (see permalink.h). */
#include "permalink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dict.h"
#include "reactions.h"
#include "server.h"
#include "store.h"

#define THREAD_MAX 500 /* comments of one thread in a reply */

/* A thread request: built on the loop, run on the storage thread, answered and freed on
 * the loop. */
typedef struct {
    store_job job;
    uint64_t conn_id;
    json_t *req_id;
    char *article;
    char reader[80];
    int64_t comment;
    json_t *comments;
    int err;
} thread_job;

static int run_thread(store_job *job, db_t *db) {
    thread_job *j = (thread_job *)job;
    j->err = store_permalink_thread(db, j->article, j->reader, j->comment, THREAD_MAX,
                                    j->comments);
    if (j->err == PERR_INTERNAL) return PERR_INTERNAL;
    if (!j->err) reactions_attach(db, j->reader, j->comments);
    return 0;
}

static void done_thread(store_job *job) {
    thread_job *j = (thread_job *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c) {
        if (job->status)
            conn_error(c, j->req_id, (perr_t)job->status, "The thread could not be read.");
        else if (j->err)
            conn_error(c, j->req_id, PERR_NOT_FOUND, "There is no such comment on this article.");
        else {
            json_t *r = json_pack("{s:s, s:s, s:I, s:O}", "type", "thread", "article",
                                  j->article, "comment", (json_int_t)j->comment, "comments",
                                  j->comments);
            if (j->req_id) json_object_set(r, "id", j->req_id);
            conn_send_json(c, r);
        }
    }
    json_decref(j->req_id);
    json_decref(j->comments);
    free(j->article);
    free(j);
}

void permalink_thread(conn_t *c, const json_t *id, const char *article, int64_t comment) {
    thread_job *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->job.run = run_thread;
    j->job.done = done_thread;
    j->conn_id = c->id;
    j->req_id = id ? json_incref((json_t *)id) : NULL;
    j->article = strdup(article);
    snprintf(j->reader, sizeof j->reader, "%s", c->author_id);
    j->comment = comment;
    j->comments = json_array();
    store_submit(srv.store, &j->job);
}

/* ---- Article page addresses ---- */

#define URL_MAX 1024
#define URLS_MAX 10000 /* articles remembered per process before the memory starts over */

/* article -> url last written by this process, and article -> url waiting for the
 * article's first comment (nothing is written for an article without one). malloc'd
 * strings owned here. */
static dict_t *known_urls, *pending_urls;

typedef struct {
    store_job job;
    char *article, *url;
    int written;
} url_job;

static int run_url(store_job *job, db_t *db) {
    url_job *j = (url_job *)job;
    j->written = store_permalink_put_url(db, j->article, j->url);
    return 0;
}

/* Puts url under article in *d, starting the table over when it is full. */
static void remember(dict_t **d, const char *article, const char *url) {
    if (!*d) *d = dict_new();
    if (dict_size(*d) >= URLS_MAX) {
        dict_free(*d, free);
        *d = dict_new();
    }
    void *old = NULL;
    dict_set(*d, article, xstrdup(url), &old);
    free(old);
}

static void forget(dict_t *d, const char *article) {
    if (d) free(dict_del(d, article));
}

static void done_url(store_job *job) {
    url_job *j = (url_job *)job;
    if (j->written == 0) {
        /* no comment yet: written at its first one here, or at a later subscribe */
        forget(known_urls, j->article);
        remember(&pending_urls, j->article, j->url);
    } else if (j->written > 0) {
        forget(pending_urls, j->article);
    }
    free(j->article);
    free(j->url);
    free(j);
}

static void write_url(const char *article, const char *url) {
    remember(&known_urls, article, url);
    url_job *j = xcalloc(1, sizeof *j);
    j->job.run = run_url;
    j->job.done = done_url;
    j->article = xstrdup(article);
    j->url = xstrdup(url);
    store_submit(srv.store, &j->job);
}

int permalink_url_origin(const char *url, char *out, size_t n) {
    size_t len = strlen(url);
    const char *rest = !strncmp(url, "https://", 8)  ? url + 8
                       : !strncmp(url, "http://", 7) ? url + 7
                                                     : NULL;
    if (!rest || len > URL_MAX) return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f || url[i] == '#') return -1;
    size_t hostlen = strcspn(rest, "/?");
    size_t olen = (size_t)(rest - url) + hostlen;
    if (hostlen == 0 || olen >= n) return -1;
    memcpy(out, url, olen);
    out[olen] = '\0';
    return 0;
}

void permalink_note_url(const char *article, const char *url) {
    const char *had = known_urls ? dict_get(known_urls, article) : NULL;
    if (had && !strcmp(had, url)) return;
    write_url(article, url);
}

void permalink_article_posted(const char *article) {
    char *url = pending_urls ? dict_del(pending_urls, article) : NULL;
    if (!url) return;
    write_url(article, url);
    free(url);
}

void permalink_shutdown(void) {
    if (known_urls) dict_free(known_urls, free);
    if (pending_urls) dict_free(pending_urls, free);
    known_urls = pending_urls = NULL;
}
