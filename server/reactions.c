/* reactions.c: likes as storage jobs, and the per-room coalescing of live counts (see
 * reactions.h). */
#include "reactions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "dict.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "store_reactions.h"

/* One react request: built on the loop, run on the storage thread, answered on the loop.
 * Owned by the store from submit until done(), which frees it. */
typedef struct {
    store_job job;
    uint64_t conn_id;
    json_t *req_id;
    char reader[80];
    int64_t comment;
    bool like;
    /* results */
    perr_t err;
    char *article;
    int64_t likes, seq;
    bool liked, changed;
} react_job;

/* Rooms with changed counts since the last flush: article -> json object
 * {"counts": {"id": likes}, "seq": {"id": seq}}. Loop thread only; owned here. */
static dict_t *pending;
static uv_timer_t flush_timer;
static bool timer_armed, started;

/* ---- Coalescing ---- */

static void flush_room(const char *article, void *val, void *arg) {
    (void)arg;
    json_t *room = val;
    json_t *m = json_pack("{s:s, s:s, s:O, s:O}", "type", "likes", "article", article, "counts",
                          json_object_get(room, "counts"), "seq", json_object_get(room, "seq"));
    msg_t *msg = msg_take_json(m);
    bus_article(article, msg, 0);
    msg_unref(msg);
    json_decref(room);
}

/* Sends one `likes` frame per room with changes, then starts a new window. */
static void on_flush(uv_timer_t *t) {
    (void)t;
    timer_armed = false;
    dict_t *d = pending;
    pending = dict_new();
    dict_each(d, flush_room, NULL);
    dict_free(d, NULL);
}

/* Records comment's new count for its room; the frame leaves at the end of the window. */
static void note_count(const char *article, int64_t comment, int64_t likes, int64_t seq) {
    json_t *room = dict_get(pending, article);
    if (!room) {
        room = json_pack("{s:{}, s:{}}", "counts", "seq");
        dict_set(pending, article, room, NULL);
    }
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, comment);
    json_object_set_new(json_object_get(room, "counts"), key, json_integer(likes));
    json_object_set_new(json_object_get(room, "seq"), key, json_integer(seq));
    if (!timer_armed) {
        timer_armed = true;
        uv_timer_start(&flush_timer, on_flush, (uint64_t)srv.cfg.reactions_flush_ms, 0);
    }
}

void reactions_init(uv_loop_t *loop) {
    pending = dict_new();
    uv_timer_init(loop, &flush_timer);
    started = true;
}

static void free_counts(void *v) { json_decref(v); }

void reactions_shutdown(void) {
    if (!started) return;
    dict_free(pending, free_counts);
    pending = NULL;
    started = false;
}

/* ---- React ---- */

static int run_react(store_job *job, db_t *db) {
    react_job *j = (react_job *)job;
    store_reaction_target t;
    if (store_reactions_target(db, j->comment, &t) || !t.published) {
        free(t.article);
        j->err = PERR_NOT_FOUND;
        return 0;
    }
    j->article = t.article;
    if (!strcmp(t.author_id, j->reader)) {
        j->err = PERR_FORBIDDEN;
        return 0;
    }
    int rc = store_reactions_set(db, j->comment, j->reader, j->like);
    if (rc < 0) return PERR_INTERNAL;
    j->changed = rc == 1;
    j->likes = store_reactions_count(db, j->comment, j->reader, &j->liked, &j->seq);
    return j->likes < 0 ? PERR_INTERNAL : 0;
}

static void done_react(store_job *job) {
    react_job *j = (react_job *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (job->status) {
        if (c) conn_error(c, j->req_id, (perr_t)job->status, "The like could not be saved.");
    } else if (j->err == PERR_NOT_FOUND) {
        if (c) conn_error(c, j->req_id, j->err, "There is no published comment %" PRId64 ".",
                          j->comment);
    } else if (j->err == PERR_FORBIDDEN) {
        if (c) conn_error(c, j->req_id, j->err, "You cannot like your own comment.");
    } else {
        if (c) {
            json_t *r = json_pack("{s:s, s:I, s:s, s:I, s:b, s:I}", "type", "reacted", "comment",
                                  (json_int_t)j->comment, "article", j->article, "likes",
                                  (json_int_t)j->likes, "liked", j->liked, "seq",
                                  (json_int_t)j->seq);
            if (j->req_id) json_object_set(r, "id", j->req_id);
            conn_send_json(c, r);
        }
        if (j->changed) note_count(j->article, j->comment, j->likes, j->seq);
    }
    json_decref(j->req_id);
    free(j->article);
    free(j);
}

void reactions_react(conn_t *c, const json_t *id, int64_t comment, bool like) {
    if (!c->signed_in && !srv.cfg.reactions_guests) {
        conn_error(c, id, PERR_UNAUTHORIZED, "Sign in to like comments.");
        return;
    }
    react_job *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->job.run = run_react;
    j->job.done = done_react;
    j->conn_id = c->id;
    j->req_id = id ? json_incref((json_t *)id) : NULL;
    snprintf(j->reader, sizeof j->reader, "%s", c->author_id);
    j->comment = comment;
    j->like = like;
    store_submit(srv.store, &j->job);
}

void reactions_attach(db_t *db, const char *reader, json_t *comments) {
    if (json_array_size(comments)) store_reactions_attach(db, reader, comments);
}
