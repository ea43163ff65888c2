/* notify.c: reply notifications (see notify.h). */
#include "notify.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "moderation.h"
#include "server.h"
#include "store.h"
#include "store_notify.h"

#define REPLIES_MAX 50

/* A `replies` request. Created on the loop, run on the storage thread, answered and
 * freed on the loop; strings and JSON owned by the job. */
typedef struct {
    store_job job;
    uint64_t conn_id;
    json_t *req_id;
    char *article, *author;
    json_t *replies;
} njob;

static int run_replies(store_job *job, sqlite3 *db) {
    njob *j = (njob *)job;
    j->replies = store_notify_replies(db, j->author, j->article, REPLIES_MAX);
    return j->replies ? 0 : PERR_INTERNAL;
}

static void done_replies(store_job *job) {
    njob *j = (njob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c) {
        if (job->status) {
            conn_error(c, j->req_id, (perr_t)job->status, "The replies could not be read.");
        } else {
            json_t *r = json_pack("{s:s, s:s, s:O}", "type", "replies", "article", j->article,
                                  "replies", j->replies);
            if (j->req_id) json_object_set(r, "id", j->req_id);
            conn_send_json(c, r);
        }
    }
    json_decref(j->req_id);
    json_decref(j->replies);
    free(j->article);
    free(j->author);
    free(j);
}

void notify_replies(conn_t *c, const json_t *id, const char *article) {
    njob *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->job.run = run_replies;
    j->job.done = done_replies;
    j->conn_id = c->id;
    j->req_id = id ? json_incref((json_t *)id) : NULL;
    j->article = strdup(article);
    j->author = strdup(c->author_id);
    store_submit(srv.store, &j->job);
}

void notify_reply_effect(sqlite3 *db, json_t *effects, json_t *comment) {
    json_t *parent = json_object_get(comment, "parent");
    if (!json_is_integer(parent)) return;
    char to[128];
    if (store_notify_comment_author(db, json_integer_value(parent), to, sizeof to)) return;
    const char *from = json_string_value(json_object_get(json_object_get(comment, "author"), "id"));
    if (from && !strcmp(from, to)) return; /* answering oneself is no news */
    effect_author(effects, to,
                  json_pack("{s:s, s:O, s:O, s:O}", "type", "reply", "article",
                            json_object_get(comment, "article"), "parent", parent, "comment",
                            comment));
}
