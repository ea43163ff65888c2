/* catchup.c: catch-up by id as a store read (catchup.h). */
#include "catchup.h"

#include <stdlib.h>

#include "alloc.h"
#include "errors.h"
#include "hub.h"
#include "server.h"
#include "store.h"
#include "store_catchup.h"

/* Comments a read brings per article at most; a full page asks for the next. A page fits
 * in half a reader's send queue (the hub waits for a queue to be less than half full
 * before it reads again), counting a comment event as at most FRAME_MAX bytes. */
#define PAGE_MAX 500
#define FRAME_MAX 8192

static size_t page_size(void) {
    size_t by_msgs = (size_t)srv.cfg.queue_max_messages / 2;
    size_t by_bytes = (size_t)srv.cfg.queue_max_bytes / 2 / FRAME_MAX;
    size_t n = by_msgs < by_bytes ? by_msgs : by_bytes;
    return n < 1 ? 1 : n > PAGE_MAX ? PAGE_MAX : n;
}

/* One read job for n articles (one for an announcement, up to HUB_FETCH_BATCH for the
 * periodic catch-up). */
typedef struct {
    store_job job;    /* first */
    size_t n;
    char **articles;  /* owned, n */
    int64_t *afters;  /* owned, n */
    size_t page;      /* comments per article at most */
    json_t *rows;     /* owned: one array per article */
} catchup_job;

static int run_catchup(store_job *job, db_t *db) {
    catchup_job *j = (catchup_job *)job;
    for (size_t i = 0; i < j->n; i++) {
        json_t *rows = json_array();
        json_array_append_new(j->rows, rows);
        int rc = store_catchup_after(db, j->articles[i], j->afters[i], (int)j->page, rows);
        if (rc) return rc;
    }
    return 0;
}

/* Builds one "comment" event per row (serialised once each) and hands each article's
 * to the hub; a failed read hands every article an empty, failed answer. */
static void done_catchup(store_job *job) {
    catchup_job *j = (catchup_job *)job;
    for (size_t a = 0; a < j->n; a++) {
        json_t *rows = job->status ? NULL : json_array_get(j->rows, a);
        size_t n = rows ? json_array_size(rows) : 0;
        msg_t **msgs = n ? xmalloc(n * sizeof *msgs) : NULL;
        int64_t *ids = n ? xmalloc(n * sizeof *ids) : NULL;
        for (size_t i = 0; i < n; i++) {
            json_t *c = json_array_get(rows, i);
            ids[i] = json_integer_value(json_object_get(c, "id"));
            msgs[i] = msg_take_json(json_pack("{s:s, s:O}", "type", "comment", "comment", c));
        }
        hub_fetched(j->articles[a], msgs, ids, n, n == j->page, job->status == 0);
        for (size_t i = 0; i < n; i++) msg_unref(msgs[i]);
        free(msgs);
        free(ids);
        free(j->articles[a]);
    }
    json_decref(j->rows);
    free(j->articles);
    free(j->afters);
    free(j);
}

void catchup_fetch(const char *const *articles, const int64_t *after_ids, size_t n) {
    catchup_job *j = xcalloc(1, sizeof *j);
    j->job.run = run_catchup;
    j->job.done = done_catchup;
    j->job.read_only = true;
    j->n = n;
    j->page = page_size();
    j->articles = xmalloc(n * sizeof *j->articles);
    j->afters = xmalloc(n * sizeof *j->afters);
    for (size_t i = 0; i < n; i++) {
        j->articles[i] = xstrdup(articles[i]);
        j->afters[i] = after_ids[i];
    }
    j->rows = json_array();
    if (!srv.store || store_busy(srv.store)) {
        /* no store, or it refuses work: the next catch-up tries again */
        j->job.status = PERR_UNAVAILABLE;
        done_catchup(&j->job);
        return;
    }
    store_submit(srv.store, &j->job);
}
