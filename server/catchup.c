/* catchup.c: catch-up by id as a store read (catchup.h). */
#include "catchup.h"

#include <stdlib.h>

#include "alloc.h"
#include "errors.h"
#include "hub.h"
#include "server.h"
#include "store.h"
#include "store_catchup.h"

#define CATCHUP_PAGE 500 /* comments a read brings at most; a full page asks for the next */

typedef struct {
    store_job job; /* first */
    char *article;  /* owned */
    int64_t after;
    json_t *rows;   /* owned */
} catchup_job;

static int run_catchup(store_job *job, db_t *db) {
    catchup_job *j = (catchup_job *)job;
    return store_catchup_after(db, j->article, j->after, CATCHUP_PAGE, j->rows);
}

/* Builds one "comment" event per row (serialised once each) and hands them to the hub. */
static void done_catchup(store_job *job) {
    catchup_job *j = (catchup_job *)job;
    size_t n = job->status ? 0 : json_array_size(j->rows);
    msg_t **msgs = n ? xmalloc(n * sizeof *msgs) : NULL;
    int64_t *ids = n ? xmalloc(n * sizeof *ids) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(j->rows, i);
        ids[i] = json_integer_value(json_object_get(c, "id"));
        msgs[i] = msg_take_json(json_pack("{s:s, s:O}", "type", "comment", "comment", c));
    }
    hub_fetched(j->article, msgs, ids, n, n == CATCHUP_PAGE, job->status == 0);
    for (size_t i = 0; i < n; i++) msg_unref(msgs[i]);
    free(msgs);
    free(ids);
    json_decref(j->rows);
    free(j->article);
    free(j);
}

void catchup_fetch(const char *article, int64_t after_id) {
    catchup_job *j = xcalloc(1, sizeof *j);
    j->job.run = run_catchup;
    j->job.done = done_catchup;
    j->job.read_only = true;
    j->article = xstrdup(article);
    j->after = after_id;
    j->rows = json_array();
    if (!srv.store || store_busy(srv.store)) {
        /* no store, or it refuses work: the next catch-up tries again */
        j->job.status = PERR_UNAVAILABLE;
        done_catchup(&j->job);
        return;
    }
    store_submit(srv.store, &j->job);
}
