/* comments_read.c: the reading side of comments.h as storage jobs: history pages,
 * the paced replay of a subscribe with `since`, the catch-up after a bus outage and
 * the counts. Writing (posts, edits, reports) is comments.c. The SQL is the comments
 * repository's (store_comments.h). */
#include "comments.h"
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "log.h"
#include "reactions.h"
#include "server.h"
#include "store.h"
#include "store_comments.h"
#include "store_sort.h"

#define PAGE 50            /* comments per history page */
#define SINCE_PAGE 500     /* comments per reply when replaying after `since` */

/* Text bytes per replay page: a quarter of a reader's queue, so a page always fits. */
static size_t replay_bytes(void) { return (size_t)srv.cfg.queue_max_bytes / 4; }

/* One read. Created on the loop, run on the storage thread, finished and freed on the
 * loop. Strings and JSON are owned by the job. */
typedef struct {
    store_job job;
    uint64_t conn_id;
    json_t *req_id;          /* the request's id, loop thread only */
    char *article, *author_id;
    int64_t since, before;
    int64_t orig_since;      /* subscribe: the `since` the reader asked for */
    bool more;               /* replay: pages remain after this one */
    int64_t *hist_ids;       /* subscribe: ids of every page sent so far (owned) */
    size_t nhist, hist_cap;
    sort_cursor cur;         /* history: the order and where its page starts (sort.h) */
    sort_cursor next;        /* history in a thread order: where the next page starts */
    /* results */
    json_t *pages;           /* history: array of arrays of comments; catch-up: comments */
    json_t *changes;         /* since: older comments changed since then (their state now) */
    bool has_older;
    int64_t count;
    void (*counts_cb)(json_t *, void *);
    void *counts_arg;
    json_t *counts;
    char **articles;
    int narticles;
} rjob;

static rjob *rjob_new(conn_t *c, const json_t *id, int (*run)(store_job *, db_t *),
                      void (*done)(store_job *)) {
    rjob *j = xcalloc(1, sizeof *j);
    j->job.run = run;
    j->job.done = done;
    j->job.read_only = true;
    if (c) j->conn_id = c->id;
    if (c) j->author_id = xstrdup(c->author_id);
    j->req_id = id ? json_incref((json_t *)id) : NULL;
    return j;
}

static void rjob_free(rjob *j) {
    free(j->article);
    free(j->author_id);
    free(j->hist_ids);
    json_decref(j->req_id);
    json_decref(j->pages);
    json_decref(j->changes);
    json_decref(j->counts);
    for (int i = 0; i < j->narticles; i++) free(j->articles[i]);
    free(j->articles);
    free(j);
}

/* ---- History ---- */

/* The page after `since` (a subscribe's replay), whether older comments exist, and on
 * the last page the changes among the comments the reader already had. */
static int read_since(rjob *j, db_t *db) {
    /* One page of what came after `since`, oldest first: at most SINCE_PAGE comments
     * and about replay_bytes() of text, so a page always fits the reader's queue. The
     * next page is read when this one has been written (done_subscribe). */
    json_t *page = json_array();
    json_array_append_new(j->pages, page);
    if (store_comments_page_after(db, j->article, j->author_id, j->since, SINCE_PAGE,
                                  replay_bytes(), page, &j->more))
        return PERR_INTERNAL;
    /* Older comments exist when any visible one is at or before `since`. */
    int older = store_comments_visible_upto(db, j->article, j->author_id, j->orig_since);
    if (older < 0) return PERR_INTERNAL;
    j->has_older = older == 1;
    if (j->more) return 0;
    /* Last page: older comments edited, removed or approved after the comment `since`
     * names (at most a page of them; the newest changes win), as this reader may see
     * them now. */
    j->changes = json_array();
    if (store_comments_changed_upto(db, j->article, j->orig_since, SINCE_PAGE, j->changes))
        return PERR_INTERNAL;
    size_t i;
    json_t *c;
    json_array_foreach(j->changes, i, c) {
        const char *status = json_string_value(json_object_get(c, "status"));
        const char *author =
            json_string_value(json_object_get(json_object_get(c, "author"), "id"));
        bool visible = !strcmp(status, "published") ||
                       (!strcmp(author, j->author_id) &&
                        (!strcmp(status, "pending") || !strcmp(status, "rejected")));
        if (!visible) json_object_set_new(c, "status", json_string("removed"));
    }
    return 0;
}

/* The newest page before `before` (or the newest of all), oldest first. */
static int read_before(rjob *j, db_t *db) {
    json_t *rows = json_array();
    if (store_comments_page_before(db, j->article, j->author_id,
                                   j->before > 0 ? j->before : INT64_MAX, PAGE + 1, rows)) {
        json_decref(rows);
        return PERR_INTERNAL;
    }
    j->has_older = json_array_size(rows) > PAGE;
    size_t n = j->has_older ? PAGE : json_array_size(rows);
    json_t *page = json_array();
    for (size_t i = n; i-- > 0;) json_array_append(page, json_array_get(rows, i));
    json_decref(rows);
    json_array_append_new(j->pages, page);
    return 0;
}

static int run_history(store_job *job, db_t *db) {
    rjob *j = (rjob *)job;
    j->pages = json_array();
    int rc;
    if (j->since >= 0) {
        rc = read_since(j, db);
    } else if (j->cur.order != SORT_OLDEST) {
        /* newest / liked: a page of top-level comments with their replies (sort.c) */
        json_t *page = json_array();
        json_array_append_new(j->pages, page);
        rc = store_sort_page(db, j->article, j->author_id, &j->cur, PAGE, SINCE_PAGE, page,
                             &j->next);
        if (!rc) j->has_older = j->next.id != 0;
    } else {
        rc = read_before(j, db);
    }
    if (rc) return rc;
    size_t p;
    json_t *page;
    json_array_foreach(j->pages, p, page) reactions_attach(db, j->author_id, page);
    j->count = store_comments_published_count(db, j->article);
    return 0;
}

static void send_history(conn_t *c, rjob *j, bool subscribed) {
    size_t npages = json_array_size(j->pages), i;
    for (i = 0; i < npages; i++) {
        json_t *m = json_pack("{s:s, s:s, s:O, s:b, s:I}", "type", "history", "article",
                              j->article, "comments", json_array_get(j->pages, i), "has_older",
                              j->has_older, "count", (json_int_t)j->count);
        if (j->req_id) json_object_set(m, "id", j->req_id);
        if (i + 1 < npages || j->more) json_object_set_new(m, "more", json_true());
        if (subscribed && j->since >= 0)
            json_object_set_new(m, "since", json_integer(j->orig_since));
        if (j->since < 0 && j->cur.order != SORT_OLDEST) {
            json_object_set_new(m, "order", json_string(sort_name(j->cur.order)));
            json_object_set_new(m, "next", j->next.id ? sort_next(&j->next) : json_null());
        }
        if (conn_send_json(c, m)) return;
    }
    /* then what changed among the comments the reader already had */
    json_t *cm;
    json_array_foreach(j->changes, i, cm) {
        const char *status = json_string_value(json_object_get(cm, "status"));
        json_t *ev = !strcmp(status, "removed")
                         ? json_pack("{s:s, s:s, s:O}", "type", "removed", "article", j->article,
                                     "comment", json_object_get(cm, "id"))
                         : json_pack("{s:s, s:O}", "type", "edited", "comment", cm);
        if (conn_send_json(c, ev)) return;
    }
}

/* Remembers the ids of the pages sent, so live events that waited for the history are
 * not delivered a second time (hub_activate). */
static void keep_page_ids(rjob *j) {
    size_t p, i;
    json_t *page, *cm;
    json_array_foreach(j->pages, p, page) json_array_foreach(page, i, cm) {
        if (j->nhist == j->hist_cap) {
            j->hist_cap = j->hist_cap ? j->hist_cap * 2 : 64;
            j->hist_ids = xrealloc(j->hist_ids, j->hist_cap * sizeof *j->hist_ids);
        }
        j->hist_ids[j->nhist++] = json_integer_value(json_object_get(cm, "id"));
    }
}

static void replay_next(conn_t *c, void *arg) {
    rjob *j = arg;
    store_submit(srv.store, &j->job);
}

static void replay_drop(void *arg) { rjob_free(arg); }

static void done_subscribe(store_job *job) {
    rjob *j = (rjob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c) {
        sub_t *s = hub_find(c, j->article);
        if (job->status) {
            conn_error(c, j->req_id, (perr_t)job->status, "The history could not be read.");
            if (s && !s->active) hub_unsubscribe(c, j->article);
        } else if (j->more && s) {
            /* A page of a long replay: the next one is read once this one is written, so
             * a replay never holds more than a page in memory or in the reader's queue.
             * Live events wait (the subscription is pending) and come after the last
             * page, which is read after their commits. */
            send_history(c, j, true);
            keep_page_ids(j);
            json_t *last = json_array_get(json_array_get(j->pages, 0),
                                          json_array_size(json_array_get(j->pages, 0)) - 1);
            j->since = json_integer_value(json_object_get(last, "id"));
            json_decref(j->pages);
            j->pages = NULL;
            job->status = 0;
            job->next = NULL;
            conn_when_drained(c, replay_next, replay_drop, j);
            return;
        } else {
            send_history(c, j, true);
            /* Live events from here on. Those that reached this process while the
             * history was being read (from other processes, or the catch-up) waited in
             * the subscription; the ones the history already held are dropped. */
            if (s) {
                keep_page_ids(j);
                hub_activate(s, j->hist_ids, j->nhist, j->orig_since);
            }
        }
    }
    rjob_free(j);
}

static void done_history(store_job *job) {
    rjob *j = (rjob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c) {
        if (job->status)
            conn_error(c, j->req_id, (perr_t)job->status, "The history could not be read.");
        else
            send_history(c, j, false);
    }
    rjob_free(j);
}

void comments_subscribe(conn_t *c, const json_t *id, const char *article, int64_t since,
                        const sort_cursor *cur) {
    if (comments_store_refuses(c, id)) {
        sub_t *s = hub_find(c, article);
        if (s && !s->active) hub_unsubscribe(c, article);
        return;
    }
    rjob *j = rjob_new(c, id, run_history, done_subscribe);
    j->cur = *cur;
    j->article = xstrdup(article);
    j->since = since;
    j->orig_since = since;
    store_submit(srv.store, &j->job);
}

void comments_history(conn_t *c, const json_t *id, const char *article, int64_t before,
                      const sort_cursor *cur) {
    if (comments_store_refuses(c, id)) return;
    rjob *j = rjob_new(c, id, run_history, done_history);
    j->cur = *cur;
    j->since = -1;
    j->article = xstrdup(article);
    j->before = before;
    store_submit(srv.store, &j->job);
}

/* ---- Counts ---- */

static int run_counts(store_job *job, db_t *db) {
    rjob *j = (rjob *)job;
    j->counts = json_object();
    for (int i = 0; i < j->narticles; i++)
        json_object_set_new(j->counts, j->articles[i],
                            json_integer(store_comments_published_count(db, j->articles[i])));
    return 0;
}

static void done_counts(store_job *job) {
    rjob *j = (rjob *)job;
    j->counts_cb(job->status ? NULL : j->counts, j->counts_arg);
    rjob_free(j);
}

void comments_counts(const char *const *articles, int n, void (*cb)(json_t *, void *),
                     void *arg) {
    rjob *j = rjob_new(NULL, NULL, run_counts, done_counts);
    j->articles = xcalloc((size_t)n + 1, sizeof *j->articles);
    for (int i = 0; i < n; i++) j->articles[i] = xstrdup(articles[i]);
    j->narticles = n;
    j->counts_cb = cb;
    j->counts_arg = arg;
    store_submit(srv.store, &j->job);
}
