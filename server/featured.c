/* featured.c: featured comments (see featured.h). */
#include "featured.h"
#include "outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "events.h"
#include "permalink.h"
#include "server.h"
#include "store.h"

int featured_set(db_t *db, const char *moderator, int64_t comment, bool on, json_t *effects,
                 json_t **before, json_t **after, char **target) {
    *before = *after = NULL;
    *target = NULL;
    json_t *c = store_featured_comment(db, comment);
    if (!c) return PERR_NOT_FOUND;
    const char *article = json_string_value(json_object_get(c, "article"));
    int was = store_featured_is(db, comment);
    if (was < 0) {
        json_decref(c);
        return PERR_INTERNAL;
    }
    if (was == (on ? 1 : 0)) {
        json_decref(c);
        return PERR_CONFLICT;
    }
    if (on && store_featured_count(db, article) >= FEATURED_MAX) {
        json_decref(c);
        return PERR_CONFLICT;
    }
    if (on ? store_featured_put(db, comment, article, moderator) : store_featured_del(db, comment)) {
        json_decref(c);
        return PERR_INTERNAL;
    }
    char t[48];
    snprintf(t, sizeof t, "featured:%" PRId64, comment);
    *target = strdup(t);
    *before = json_pack("{s:b}", "featured", !on);
    *after = json_pack("{s:b}", "featured", on);
    effect_article(effects, article,
                   json_pack("{s:s, s:s, s:b, s:O}", "type", "feature", "article", article,
                             "featured", on, "comment", c));
    /* the webhook event, in the same transaction (outbox.h) */
    int rc = outbox_emit_comment(db, "comment.featured", c,
                                 json_pack("{s:b, s:s}", "featured", on, "by", moderator));
    json_decref(c);
    return rc ? PERR_UNAVAILABLE : 0;
}

void featured_annotate(db_t *db, json_t *item, json_t *comment) {
    json_t *id = json_object_get(comment, "id");
    const char *article = json_string_value(json_object_get(comment, "article"));
    json_object_set_new(comment, "featured",
                        json_boolean(store_featured_is(db, (int64_t)json_integer_value(id)) == 1));
    char *url = article ? store_permalink_url(db, article) : NULL;
    json_object_set_new(item, "article_url", url ? json_string(url) : json_null());
    free(url);
}

/* A reader's `featured` request: run on the storage thread, answered on the loop. */
typedef struct {
    store_job job;
    uint64_t conn_id;
    json_t *req_id;
    char *article;
    json_t *comments;
} list_job;

static int run_list(store_job *job, db_t *db) {
    list_job *j = (list_job *)job;
    return store_featured_list(db, j->article, j->comments) ? PERR_INTERNAL : 0;
}

static void done_list(store_job *job) {
    list_job *j = (list_job *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c && job->status) {
        conn_error(c, j->req_id, (perr_t)job->status, "The featured comments could not be read.");
    } else if (c) {
        json_t *r = json_pack("{s:s, s:s, s:O}", "type", "featured", "article", j->article,
                              "comments", j->comments);
        if (j->req_id) json_object_set(r, "id", j->req_id);
        conn_send_json(c, r);
    }
    json_decref(j->req_id);
    json_decref(j->comments);
    free(j->article);
    free(j);
}

void featured_list(conn_t *c, const json_t *id, const char *article) {
    list_job *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->job.run = run_list;
    j->job.done = done_list;
    j->conn_id = c->id;
    j->req_id = id ? json_incref((json_t *)id) : NULL;
    j->article = strdup(article);
    j->comments = json_array();
    store_submit(srv.store, &j->job);
}
