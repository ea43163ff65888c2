/* comments.c: reader operations on comments as storage jobs (see comments.h). */
#include "comments.h"
#include "alloc.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "flood.h"
#include "learned.h"
#include "log.h"
#include "metrics.h"
#include "moderation.h"
#include "names.h"
#include "rule_quality.h"
#include "rules.h"
#include "notify.h"
#include "outbox.h"
#include "reactions.h"
#include "server.h"
#include "store.h"
#include "store_comments.h"
#include "store_sort.h"
#include "store_trust.h"

#define PAGE 50            /* comments per history page */
#define SINCE_PAGE 500     /* comments per reply when replaying after `since` */

/* Text bytes per replay page: a quarter of a reader's queue, so a page always fits. */
static size_t replay_bytes(void) { return (size_t)srv.cfg.queue_max_bytes / 4; }
#define EDIT_WINDOW_MS (5 * 60 * 1000)

/* One reader operation. Created on the loop, run on the storage thread, finished and
 * freed on the loop. Strings are owned by the job. */
typedef struct {
    store_job job;
    uint64_t conn_id;
    json_t *req_id;          /* the request's id, loop thread only */
    char *article, *author_id, *ip_hash;
    char *title, *body, *name, *avatar, *reason, *note;
    bool guest;
    char badge[16];          /* post: the author's badge from their token, or "" */
    bool shadow;             /* post: its author is shadow-banned */
    int64_t since, before, comment, parent;
    int64_t orig_since;      /* subscribe: the `since` the reader asked for */
    bool more;               /* replay: pages remain after this one */
    int64_t *hist_ids;       /* subscribe: ids of every page sent so far (owned) */
    size_t nhist, hist_cap;
    sort_cursor cur;         /* history: the order and where its page starts (sort.h) */
    sort_cursor next;        /* history in a thread order: where the next page starts */
    ruleset_t *rs;
    /* results */
    perr_t err;              /* a refusal that still commits (a refused post is kept) */
    char *message;           /* reader-safe text for err */
    json_t *comment_json;    /* the comment as it now is */
    json_t *pages;           /* history: array of arrays of comments */
    json_t *changes;         /* since: older comments changed since then (their state now) */
    bool has_older;
    int64_t count;
    char *old_status;        /* edit/delete: the status before */
    void (*counts_cb)(json_t *, void *);
    void *counts_arg;
    json_t *counts;
    char **articles;
    int narticles;
    json_t *effects;         /* sent by the loop after the commit (moderation.h) */
    long *shared;            /* post: counts of the rules' shared windows, or NULL */
    size_t nshared_rules;    /* post: how many of them belong to the rules; flood's follow */
} cjob;

static cjob *cjob_new(conn_t *c, const json_t *id, int (*run)(store_job *, db_t *),
                      void (*done)(store_job *)) {
    cjob *j = xcalloc(1, sizeof *j);
    j->job.run = run;
    j->job.done = done;
    if (c) {
        j->conn_id = c->id;
        j->author_id = xstrdup(c->author_id);
        j->ip_hash = xstrdup(c->ip_hash);
    }
    j->req_id = id ? json_incref((json_t *)id) : NULL;
    j->effects = json_array();
    return j;
}

static void cjob_free(cjob *j) {
    free(j->article);
    free(j->author_id);
    free(j->ip_hash);
    free(j->title);
    free(j->body);
    free(j->name);
    free(j->avatar);
    free(j->reason);
    free(j->note);
    free(j->message);
    free(j->old_status);
    free(j->hist_ids);
    json_decref(j->req_id);
    json_decref(j->comment_json);
    json_decref(j->pages);
    json_decref(j->changes);
    json_decref(j->counts);
    json_decref(j->effects);
    free(j->shared);
    for (int i = 0; i < j->narticles; i++) free(j->articles[i]);
    free(j->articles);
    if (j->rs) ruleset_put(j->rs);
    free(j);
}

/* Past the storage queue's bound new work is refused at once, typed, rather than
 * queued without limit behind a slow disk. */
static bool store_refuses(conn_t *c, const json_t *id) {
    if (!store_busy(srv.store)) return false;
    metrics.storage_refused++;
    conn_error(c, id, PERR_UNAVAILABLE, "The server is busy; try again in a moment.");
    return true;
}

/* ---- Rows ---- */

static const char *col_text(db_stmt *st, int i) {
    const char *t = db_col_text(st, i);
    return t ? (const char *)t : "";
}

static db_stmt *prepare(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("store: prepare failed: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

static json_t *load_comment(db_t *db, int64_t id) {
    db_stmt *st = prepare(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id = ?");
    if (!st) return NULL;
    db_bind_int64(st, 1, id);
    json_t *c = db_step(st) == DB_ROW ? comment_from_row(st) : NULL;
    db_finalize(st);
    return c;
}

/* Visible to this author: published, or their own pending and rejected comments. */
#define VISIBLE                                                                             \
    "(status = 'published' OR (author_id = ?2 AND status IN ('pending','rejected','shadow')))"

static int64_t published_count(db_t *db, const char *article) {
    db_stmt *st = prepare(db, "SELECT COUNT(*) FROM comments WHERE article = ? AND "
                                   "status = 'published'");
    if (!st) return 0;
    db_bind_text(st, 1, article, -1);
    int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : 0;
    db_finalize(st);
    return n;
}

/* ---- History ---- */

static int run_history(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    j->pages = json_array();
    if (j->since >= 0) {
        /* One page of what came after `since`, oldest first: at most SINCE_PAGE comments
         * and about REPLAY_BYTES of text, so a page always fits the reader's queue. The
         * next page is read when this one has been written (done_subscribe). */
        db_stmt *st = prepare(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE "
                                       "article = ?1 AND id > ?3 AND " VISIBLE
                                       " ORDER BY id LIMIT ?4");
        if (!st) return PERR_INTERNAL;
        db_bind_text(st, 1, j->article, -1);
        db_bind_text(st, 2, j->author_id, -1);
        db_bind_int64(st, 3, j->since);
        db_bind_int(st, 4, SINCE_PAGE + 1);
        json_t *page = json_array();
        size_t bytes = 0;
        j->more = false;
        while (db_step(st) == DB_ROW) {
            if (json_array_size(page) == SINCE_PAGE || bytes > replay_bytes()) {
                j->more = true;
                break;
            }
            bytes += 256 + (size_t)db_col_bytes(st, 7) +
                     (size_t)db_col_bytes(st, 8) + (size_t)db_col_bytes(st, 4);
            json_array_append_new(page, comment_from_row(st));
        }
        json_array_append_new(j->pages, page);
        db_finalize(st);
        /* Older comments exist when any visible one is at or before `since`. */
        st = prepare(db, "SELECT EXISTS (SELECT 1 FROM comments WHERE article = ?1 AND "
                         "id <= ?3 AND " VISIBLE ")");
        if (!st) return PERR_INTERNAL;
        db_bind_text(st, 1, j->article, -1);
        db_bind_text(st, 2, j->author_id, -1);
        db_bind_int64(st, 3, j->orig_since);
        j->has_older = db_step(st) == DB_ROW && db_col_int(st, 0);
        db_finalize(st);
        if (!j->more) {
            /* Last page: older comments edited, removed or approved after the comment
             * `since` names (at most a page of them; the newest changes win). */
            st = prepare(db, "SELECT * FROM (SELECT " COMMENT_COLUMNS " FROM comments WHERE "
                             "article = ?1 AND id <= ?3 AND updated_at >= (SELECT created_at "
                             "FROM comments WHERE id = ?3) ORDER BY updated_at DESC LIMIT ?4) "
                             "ORDER BY id");
            if (!st) return PERR_INTERNAL;
            db_bind_text(st, 1, j->article, -1);
            db_bind_int64(st, 3, j->orig_since);
            db_bind_int(st, 4, SINCE_PAGE);
            j->changes = json_array();
            while (db_step(st) == DB_ROW) {
                json_t *c = comment_from_row(st);
                const char *status = json_string_value(json_object_get(c, "status"));
                const char *author =
                    json_string_value(json_object_get(json_object_get(c, "author"), "id"));
                bool visible = !strcmp(status, "published") ||
                               (!strcmp(author, j->author_id) &&
                                (!strcmp(status, "pending") || !strcmp(status, "rejected")));
                if (!visible) json_object_set_new(c, "status", json_string("removed"));
                json_array_append_new(j->changes, c);
            }
            db_finalize(st);
        }
    } else if (j->cur.order != SORT_OLDEST) {
        /* newest / liked: a page of top-level comments with their replies (sort.c) */
        json_t *page = json_array();
        json_array_append_new(j->pages, page);
        int rc = store_sort_page(db, j->article, j->author_id, &j->cur, PAGE, SINCE_PAGE, page,
                                 &j->next);
        if (rc) return rc;
        j->has_older = j->next.id != 0;
    } else {
        /* The newest page before `before` (or the newest of all), oldest first. */
        db_stmt *st = prepare(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE "
                                       "article = ?1 AND id < ?3 AND " VISIBLE
                                       " ORDER BY id DESC LIMIT ?4");
        if (!st) return PERR_INTERNAL;
        db_bind_text(st, 1, j->article, -1);
        db_bind_text(st, 2, j->author_id, -1);
        db_bind_int64(st, 3, j->before > 0 ? j->before : INT64_MAX);
        db_bind_int(st, 4, PAGE + 1);
        json_t *rows = json_array();
        while (db_step(st) == DB_ROW) json_array_append_new(rows, comment_from_row(st));
        db_finalize(st);
        j->has_older = json_array_size(rows) > PAGE;
        size_t n = j->has_older ? PAGE : json_array_size(rows);
        json_t *page = json_array();
        for (size_t i = n; i-- > 0;) json_array_append(page, json_array_get(rows, i));
        json_decref(rows);
        json_array_append_new(j->pages, page);
    }
    size_t p;
    json_t *page;
    json_array_foreach(j->pages, p, page) reactions_attach(db, j->author_id, page);
    j->count = published_count(db, j->article);
    return 0;
}

static void send_history(conn_t *c, cjob *j, bool subscribed) {
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
static void keep_page_ids(cjob *j) {
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
    cjob *j = arg;
    store_submit(srv.store, &j->job);
}

static void replay_drop(void *arg) { cjob_free(arg); }

static void done_subscribe(store_job *job) {
    cjob *j = (cjob *)job;
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
    cjob_free(j);
}

static void done_history(store_job *job) {
    cjob *j = (cjob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c) {
        if (job->status)
            conn_error(c, j->req_id, (perr_t)job->status, "The history could not be read.");
        else
            send_history(c, j, false);
    }
    cjob_free(j);
}

void comments_subscribe(conn_t *c, const json_t *id, const char *article, int64_t since,
                        const sort_cursor *cur) {
    if (store_refuses(c, id)) {
        sub_t *s = hub_find(c, article);
        if (s && !s->active) hub_unsubscribe(c, article);
        return;
    }
    cjob *j = cjob_new(c, id, run_history, done_subscribe);
    j->job.read_only = true;
    j->cur = *cur;
    j->article = xstrdup(article);
    j->since = since;
    j->orig_since = since;
    store_submit(srv.store, &j->job);
}

void comments_history(conn_t *c, const json_t *id, const char *article, int64_t before,
                      const sort_cursor *cur) {
    if (store_refuses(c, id)) return;
    cjob *j = cjob_new(c, id, run_history, done_history);
    j->job.read_only = true;
    j->cur = *cur;
    j->since = -1;
    j->article = xstrdup(article);
    j->before = before;
    store_submit(srv.store, &j->job);
}

/* ---- Posting ---- */

/* The article's mode: a setting stored by a moderator wins over moderation.yml. */
static article_mode_t article_mode(db_t *db, const rules_t *r, const char *article) {
    db_stmt *st = prepare(db, "SELECT mode FROM articles WHERE id = ?");
    article_mode_t m = rules_article_mode(r, article);
    if (!st) return m;
    db_bind_text(st, 1, article, -1);
    if (db_step(st) == DB_ROW) {
        const char *s = col_text(st, 0);
        m = !strcmp(s, "closed") ? ARTICLE_CLOSED
            : !strcmp(s, "premoderated") ? ARTICLE_PREMODERATED
                                         : ARTICLE_OPEN;
    }
    db_finalize(st);
    return m;
}

static long author_posts(db_t *db, const char *author) {
    db_stmt *st = prepare(db, "SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE "
                                   "author_id = ? LIMIT 1000)");
    if (!st) return -1;
    db_bind_text(st, 1, author, -1);
    long n = db_step(st) == DB_ROW ? (long)db_col_int64(st, 0) : -1;
    db_finalize(st);
    return n;
}

/* Scores title/body/name for the job's author; returns the decision, with the rules'
 * explanation in *decision_json (new reference). */
static decision_t score(db_t *db, cjob *j, const char *title, const char *body,
                        const char *name, double *total, char **decision_json) {
    rules_input in = {.title = title, .body = body, .name = name, .article = j->article,
                      .author = j->author_id, .ip_hash = j->ip_hash,
                      .author_posts = author_posts(db, j->author_id),
                      .now = (double)now_ms() / 1000.0, .shared_counts = j->shared,
                      .model = learned_current(db, now_ms())};
    long trust_n = rules_trusted_after(j->rs->rules);
    in.trusted = trust_n > 0 && store_trust_is_trusted(db, j->author_id, trust_n) == 1;
    rules_result res;
    memset(&res, 0, sizeof res);
    if (rules_eval(j->rs->rules, srv.rules_state, &in, &res)) {
        log_err("rules: evaluation failed; holding the post");
        res.decision = DECISION_HOLD;
    }
    json_t *dj = rules_result_json(&res);
    *decision_json = json_dumps(dj, JSON_COMPACT);
    json_decref(dj);
    *total = res.score;
    if (res.decision == DECISION_REJECT)
        j->message = xstrdup(res.message ? res.message
                                        : "Your comment was not published: it breaks the rules "
                                          "of this discussion.");
    decision_t d = res.decision;
    rule_quality_on_post(db, &res); /* per-rule hits and holds */
    rules_result_free(&res);
    return d;
}

/* Whether the author (or their address) already has as many held posts from the last
 * hour as the configuration allows. */
static bool pending_full(db_t *db, cjob *j) {
    int64_t since = now_ms() - 3600 * 1000;
    struct {
        const char *col, *val;
        long max;
    } caps[2] = {{"author_id", j->author_id, srv.cfg.pending_per_author},
                 {"ip_hash", j->ip_hash, srv.cfg.pending_per_address}};
    for (int i = 0; i < 2; i++) {
        if (caps[i].max <= 0 || !caps[i].val || !caps[i].val[0]) continue;
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE %s = ? AND status = "
                 "'pending' AND created_at > ? LIMIT %ld)",
                 caps[i].col, caps[i].max);
        db_stmt *st = prepare(db, sql);
        if (!st) return false;
        db_bind_text(st, 1, caps[i].val, -1);
        db_bind_int64(st, 2, since);
        long n = db_step(st) == DB_ROW ? (long)db_col_int64(st, 0) : 0;
        db_finalize(st);
        if (n >= caps[i].max) return true;
    }
    return false;
}

static int run_post(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    if (j->parent > 0) {
        db_stmt *st = prepare(db, "SELECT article, status FROM comments WHERE id = ?");
        if (!st) return PERR_INTERNAL;
        db_bind_int64(st, 1, j->parent);
        int ok = db_step(st) == DB_ROW && !strcmp(col_text(st, 0), j->article) &&
                 strcmp(col_text(st, 1), "published") == 0;
        db_finalize(st);
        if (!ok) {
            j->message = xstrdup("parent is not a published comment of this article");
            return PERR_BAD_REQUEST;
        }
    }
    if (j->guest && names_reserved(db, j->name)) {
        j->message = xstrdup("That name belongs to a registered reader or a moderator; please "
                            "choose another.");
        return PERR_NAME_RESERVED;
    }
    if (!j->guest) names_reserve(db, j->name, "reader");
    article_mode_t mode = article_mode(db, j->rs->rules, j->article);
    if (mode == ARTICLE_CLOSED) {
        j->message = xstrdup("Comments are closed on this article.");
        return PERR_FORBIDDEN;
    }
    int ban = moderation_ban_state(db, j->author_id, j->ip_hash, now_ms());
    if (ban == BAN_BANNED) {
        j->message = xstrdup("You can't comment here at the moment.");
        return PERR_FORBIDDEN;
    }
    double total = 0;
    char *dj = NULL;
    decision_t d = score(db, j, j->title, j->body, j->name, &total, &dj);
    const char *status = d == DECISION_REJECT                                 ? "refused"
                         : (d == DECISION_HOLD || mode == ARTICLE_PREMODERATED) ? "pending"
                         : ban == BAN_SHADOW                                    ? "shadow"
                                                                                : "published";
    if (!strcmp(status, "pending") && pending_full(db, j)) {
        /* A burst reaches the queue as a few items, not thousands: past the cap, posts
         * that would wait for review are refused and nothing is stored. */
        free(dj);
        j->message = xstrdup("You have comments waiting for review; please wait until a "
                            "moderator has seen them.");
        return PERR_RATE_LIMITED;
    }
    db_stmt *st = prepare(db, "INSERT INTO comments (article, parent, author_id, "
                                   "author_name, author_guest, author_avatar, ip_hash, title, "
                                   "body, status, score, decision, created_at, author_badge) "
                                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id");
    if (!st) {
        free(dj);
        return PERR_INTERNAL;
    }
    db_bind_text(st, 1, j->article, -1);
    if (j->parent > 0)
        db_bind_int64(st, 2, j->parent);
    else
        db_bind_null(st, 2);
    db_bind_text(st, 3, j->author_id, -1);
    db_bind_text(st, 4, j->name, -1);
    db_bind_int(st, 5, j->guest);
    if (j->avatar)
        db_bind_text(st, 6, j->avatar, -1);
    else
        db_bind_null(st, 6);
    db_bind_text(st, 7, j->ip_hash, -1);
    db_bind_text(st, 8, j->title, -1);
    db_bind_text(st, 9, j->body, -1);
    db_bind_text(st, 10, status, -1);
    db_bind_double(st, 11, total);
    db_bind_text(st, 12, dj, -1);
    db_bind_int64(st, 13, now_ms());
    if (j->badge[0]) db_bind_text(st, 14, j->badge, -1);
    else db_bind_null(st, 14);
    int rc = db_step(st);
    int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
    if (rc == DB_ROW) rc = db_step(st);
    db_finalize(st);
    free(dj);
    if (rc != DB_DONE || id <= 0) {
        log_err("store: insert failed: %s", db_errmsg(db));
        return PERR_UNAVAILABLE;
    }
    if (outbox_emit_post(db, id, status)) return PERR_UNAVAILABLE;
    if (d == DECISION_REJECT) {
        j->err = PERR_REJECTED; /* kept as 'refused' for the console; the reader is told no */
        effect_queue_changed(j->effects, db, id, status, NULL); /* the Refused queue */
        return 0;
    }
    j->comment_json = load_comment(db, id);
    if (!j->comment_json) return PERR_INTERNAL;
    if (!strcmp(status, "pending")) effect_queue_changed(j->effects, db, id, status, NULL);
    if (!strcmp(status, "published")) notify_reply_effect(db, j->effects, j->comment_json);
    j->shadow = !strcmp(status, "shadow");
    return 0;
}

/* A comment event to the article's readers in every process; new comments carry their
 * id so each reader gets one once. */
static void publish_event(const char *type, const char *article, json_t *comment) {
    json_t *ev = json_pack("{s:s, s:O}", "type", type, "comment", comment);
    msg_t *m = msg_take_json(ev);
    bool fresh = !strcmp(type, "comment");
    bus_article(article, m, fresh ? json_integer_value(json_object_get(comment, "id")) : 0);
    msg_unref(m);
}

static void publish_removed(const char *article, int64_t id) {
    json_t *ev = json_pack("{s:s, s:s, s:I}", "type", "removed", "article", article, "comment",
                           (json_int_t)id);
    msg_t *m = msg_take_json(ev);
    bus_article(article, m, 0);
    msg_unref(m);
}

static void reply_ack(conn_t *c, cjob *j) {
    json_t *ack = json_pack("{s:s, s:O}", "type", "ack", "comment", j->comment_json);
    if (j->req_id) json_object_set(ack, "id", j->req_id);
    conn_send_json(c, ack);
}

/* Sends the job's error, with its message when it has one. */
static void reply_error(conn_t *c, cjob *j, perr_t e, const char *fallback) {
    conn_error(c, j->req_id, e, "%s", j->message ? j->message : fallback);
}

static void done_post(store_job *job) {
    cjob *j = (cjob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    perr_t e = job->status ? (perr_t)job->status : j->err;
    if (e) {
        if (e == PERR_REJECTED) {
            metrics.posts[POST_REJECTED]++;
            effects_apply(j->effects);
        }
        if (c) reply_error(c, j, e, "The comment could not be stored; try again.");
    } else {
        const char *status = json_string_value(json_object_get(j->comment_json, "status"));
        bool published = status && !strcmp(status, "published");
        metrics.posts[published ? POST_PUBLISHED : POST_PENDING]++;
        bool shadow = j->shadow;
        if (published && !shadow) publish_event("comment", j->article, j->comment_json);
        effects_apply(j->effects);
        if (c && shadow) {
            /* Its author alone sees it, as if published. */
            json_t *ev = json_pack("{s:s, s:O}", "type", "comment", "comment", j->comment_json);
            if (hub_find(c, j->article)) conn_send_json(c, ev);
            else json_decref(ev);
        }
        if (c) reply_ack(c, j);
    }
    cjob_free(j);
}

static void shared_counted(const long *vals, long ttl_ms, void *arg) {
    cjob *j = arg;
    for (size_t i = 0; i < BUS_COUNTERS_MAX; i++) j->shared[i] = vals[i];
    if (flood_shared_over(vals + j->nshared_rules, BUS_COUNTERS_MAX - j->nshared_rules >= 2
                                                       ? 2
                                                       : BUS_COUNTERS_MAX - j->nshared_rules)) {
        conn_t *c = conn_by_id(j->conn_id);
        metrics.flood_refused++;
        if (c)
            conn_error(c, j->req_id, PERR_RATE_LIMITED,
                       "You are posting too fast; wait a minute and try again.");
        cjob_free(j);
        return;
    }
    store_submit(srv.store, &j->job);
}

void comments_post(conn_t *c, const json_t *id, post_input *in) {
    bool busy = store_refuses(c, id);
    if (busy || flood_post_local(c->author_id, c->ip_hash, (uint64_t)now_ms())) {
        if (!busy) {
            metrics.flood_refused++;
            conn_error(c, id, PERR_RATE_LIMITED,
                       "You are posting too fast; wait a minute and try again.");
        }
        free(in->article);
        free(in->title);
        free(in->body);
        free(in->name);
        free(in->avatar);
        return;
    }
    cjob *j = cjob_new(c, id, run_post, done_post);
    j->article = in->article;
    j->title = in->title;
    j->body = in->body;
    j->name = in->name;
    j->avatar = in->avatar;
    j->job.lock_key = j->article; /* PostgreSQL: ids of one article commit in order */
    j->parent = in->parent;
    j->guest = !c->signed_in;
    snprintf(j->badge, sizeof j->badge, "%s", c->badge);
    j->rs = ruleset_get();
    /* With several processes, rate windows and the duplicate memory are counted in Redis
     * first, so every process sees every post; without it, the rules keep their own. */
    rules_shared_key keys[BUS_COUNTERS_MAX];
    rules_input ri = {.title = j->title, .body = j->body, .name = j->name, .article = j->article,
                      .author = j->author_id, .ip_hash = j->ip_hash};
    if (!bus_shared()) {
        store_submit(srv.store, &j->job);
        return;
    }
    size_t n = rules_shared_keys(j->rs->rules, &ri, keys, BUS_COUNTERS_MAX);
    j->nshared_rules = n;
    /* the hard flood limits ride in the same round trip */
    char fkeys[2][200];
    size_t nf = flood_shared_keys(j->author_id, j->ip_hash, fkeys);
    for (size_t i = 0; i < nf && n < BUS_COUNTERS_MAX; i++, n++) {
        memcpy(keys[n].key, fkeys[i], sizeof keys[n].key);
        keys[n].window_ms = FLOOD_WINDOW_MS;
    }
    const char *names[BUS_COUNTERS_MAX];
    j->shared = xcalloc(BUS_COUNTERS_MAX, sizeof *j->shared);
    for (size_t i = 0; i < n; i++) {
        names[i] = keys[i].key[0] ? keys[i].key : "none";
        if (keys[i].key[0]) bus_counter_add(keys[i].key, keys[i].window_ms);
    }
    bus_counter_get(names, (int)n, shared_counted, j);
}

/* ---- Edit and delete ---- */

/* Loads the comment for an author's change; checks ownership and state. */
static int own_comment(db_t *db, cjob *j, int64_t *created) {
    db_stmt *st = prepare(db, "SELECT author_id, status, article, created_at, title "
                                   "FROM comments WHERE id = ?");
    if (!st) return PERR_INTERNAL;
    db_bind_int64(st, 1, j->comment);
    int rc = db_step(st);
    int e = 0;
    if (rc != DB_ROW) {
        e = PERR_NOT_FOUND;
    } else if (strcmp(col_text(st, 0), j->author_id) != 0) {
        e = PERR_FORBIDDEN;
        j->message = xstrdup("Only the author can change this comment.");
    } else if (!strcmp(col_text(st, 1), "removed") || !strcmp(col_text(st, 1), "refused")) {
        e = PERR_NOT_FOUND;
    } else {
        j->old_status = xstrdup(col_text(st, 1));
        j->article = xstrdup(col_text(st, 2));
        *created = db_col_int64(st, 3);
        if (!j->title) j->title = xstrdup(col_text(st, 4));
    }
    db_finalize(st);
    return e;
}

static int run_edit(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    int64_t created = 0;
    int e = own_comment(db, j, &created);
    if (e) return e;
    int64_t now = now_ms();
    if (now - created > EDIT_WINDOW_MS) {
        j->message = xstrdup("Comments can be edited for 5 minutes after posting.");
        return PERR_EDIT_WINDOW;
    }
    double total = 0;
    char *dj = NULL;
    decision_t d = score(db, j, j->title, j->body, j->name ? j->name : "", &total, &dj);
    if (d == DECISION_REJECT) {
        free(dj);
        return PERR_REJECTED;
    }
    /* A held edit waits for review again; a comment already pending stays so. */
    const char *status = d == DECISION_HOLD ? "pending" : j->old_status;
    db_stmt *st = prepare(db, "UPDATE comments SET title = ?, body = ?, edited_at = ?, "
                                   "status = ?, score = ?, decision = ? WHERE id = ?");
    if (!st) {
        free(dj);
        return PERR_INTERNAL;
    }
    db_bind_text(st, 1, j->title, -1);
    db_bind_text(st, 2, j->body, -1);
    db_bind_int64(st, 3, now);
    db_bind_text(st, 4, status, -1);
    db_bind_double(st, 5, total);
    db_bind_text(st, 6, dj, -1);
    db_bind_int64(st, 7, j->comment);
    int rc = db_step(st);
    db_finalize(st);
    free(dj);
    if (rc != DB_DONE) return PERR_UNAVAILABLE;
    if (outbox_emit_change(db, j->comment, j->old_status, true)) return PERR_UNAVAILABLE;
    j->comment_json = load_comment(db, j->comment);
    return j->comment_json ? 0 : PERR_INTERNAL;
}

static int run_delete(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    int64_t created = 0;
    int e = own_comment(db, j, &created);
    if (e) return e;
    db_stmt *st = prepare(db, "UPDATE comments SET status = 'removed', reason = 'author' "
                                   "WHERE id = ?");
    if (!st) return PERR_INTERNAL;
    db_bind_int64(st, 1, j->comment);
    int rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) return PERR_UNAVAILABLE;
    if (outbox_emit_change(db, j->comment, j->old_status, false)) return PERR_UNAVAILABLE;
    j->comment_json = load_comment(db, j->comment);
    return j->comment_json ? 0 : PERR_INTERNAL;
}

/* After an edit or delete: tell the article's readers what changed. */
static void done_change(store_job *job) {
    cjob *j = (cjob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (job->status) {
        if (c) reply_error(c, j, (perr_t)job->status, "The comment could not be changed.");
    } else {
        const char *now = json_string_value(json_object_get(j->comment_json, "status"));
        bool was_public = j->old_status && !strcmp(j->old_status, "published");
        if (now && !strcmp(now, "published"))
            publish_event("edited", j->article, j->comment_json);
        else if (was_public)
            publish_removed(j->article, j->comment);
        if (c) reply_ack(c, j);
    }
    cjob_free(j);
}

void comments_edit(conn_t *c, const json_t *id, int64_t comment, char *title, char *body) {
    if (store_refuses(c, id)) {
        free(title);
        free(body);
        return;
    }
    cjob *j = cjob_new(c, id, run_edit, done_change);
    j->comment = comment;
    j->title = title;
    j->body = body;
    j->name = c->user_name ? xstrdup(c->user_name) : NULL;
    j->rs = ruleset_get();
    store_submit(srv.store, &j->job);
}

void comments_delete(conn_t *c, const json_t *id, int64_t comment) {
    if (store_refuses(c, id)) return;
    cjob *j = cjob_new(c, id, run_delete, done_change);
    j->comment = comment;
    store_submit(srv.store, &j->job);
}

/* ---- Reports ---- */

static int run_report(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    db_stmt *st = prepare(db, "SELECT status, author_id FROM comments WHERE id = ?");
    if (!st) return PERR_INTERNAL;
    db_bind_int64(st, 1, j->comment);
    int found = db_step(st) == DB_ROW && !strcmp(col_text(st, 0), "published");
    bool own = found && !strcmp(col_text(st, 1), j->author_id);
    db_finalize(st);
    if (!found) return PERR_NOT_FOUND;
    if (own) {
        j->message = xstrdup("You cannot report your own comment.");
        return PERR_FORBIDDEN;
    }
    /* One report per reader and one per address: fresh guest identities from one
     * address are one voice. */
    st = prepare(db, "SELECT 1 FROM reports WHERE comment_id = ?1 AND (reporter = ?2 OR "
                     "(ip_hash = ?3 AND ?3 != ''))");
    if (!st) return PERR_INTERNAL;
    db_bind_int64(st, 1, j->comment);
    db_bind_text(st, 2, j->author_id, -1);
    db_bind_text(st, 3, j->ip_hash ? j->ip_hash : "", -1);
    bool again = db_step(st) == DB_ROW;
    db_finalize(st);
    if (again) {
        j->message = xstrdup("You have already reported this comment.");
        return PERR_CONFLICT;
    }
    st = prepare(db, "INSERT INTO reports (comment_id, reporter, reason, note, created_at, "
                     "ip_hash, weight) VALUES (?,?,?,?,?,?,?)");
    if (!st) return PERR_INTERNAL;
    db_bind_int64(st, 1, j->comment);
    db_bind_text(st, 2, j->author_id, -1);
    db_bind_text(st, 3, j->reason, -1);
    if (j->note)
        db_bind_text(st, 4, j->note, -1);
    else
        db_bind_null(st, 4);
    db_bind_int64(st, 5, now_ms());
    db_bind_text(st, 6, j->ip_hash ? j->ip_hash : "", -1);
    db_bind_double(st, 7, j->guest ? srv.cfg.report_weight_guest : 1.0);
    int rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) return PERR_UNAVAILABLE;
    /* Enough weight of readers agrees: hide it until a moderator decides. */
    st = prepare(db, "SELECT COALESCE(SUM(weight), 0), (SELECT article FROM comments WHERE "
                     "id = ?1) FROM reports WHERE comment_id = ?1 AND resolved = 0");
    if (!st) return PERR_INTERNAL;
    db_bind_int64(st, 1, j->comment);
    double weight = db_step(st) == DB_ROW ? db_col_double(st, 0) : 0;
    char *article = xstrdup(col_text(st, 1));
    db_finalize(st);
    const char *status = "published";
    if (srv.cfg.report_hide_at > 0 && weight + 1e-9 >= (double)srv.cfg.report_hide_at) {
        st = prepare(db, "UPDATE comments SET status = 'hidden' WHERE id = ?");
        db_bind_int64(st, 1, j->comment);
        db_step(st);
        db_finalize(st);
        status = "hidden";
        effect_article(j->effects, article,
                       json_pack("{s:s, s:s, s:I}", "type", "removed", "article", article,
                                 "comment", (json_int_t)j->comment));
    }
    if (outbox_emit(db, "comment.reported",
                    json_pack("{s:I, s:s, s:s, s:f, s:b}", "comment", (json_int_t)j->comment,
                              "article", article, "reason", j->reason, "weight", weight,
                              "hidden", !strcmp(status, "hidden")))) {
        free(article);
        return PERR_UNAVAILABLE;
    }
    free(article);
    effect_queue_changed(j->effects, db, j->comment, status, NULL);
    return 0;
}

static void done_report(store_job *job) {
    cjob *j = (cjob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c) {
        if (job->status) {
            reply_error(c, j, (perr_t)job->status, "The report could not be stored.");
        } else {
            effects_apply(j->effects);
            json_t *r = json_pack("{s:s, s:I}", "type", "reported", "comment",
                                  (json_int_t)j->comment);
            if (j->req_id) json_object_set(r, "id", j->req_id);
            conn_send_json(c, r);
        }
    }
    cjob_free(j);
}

void comments_report(conn_t *c, const json_t *id, int64_t comment, const char *reason,
                     const char *note) {
    if (store_refuses(c, id)) return;
    cjob *j = cjob_new(c, id, run_report, done_report);
    j->comment = comment;
    j->guest = !c->signed_in;
    j->reason = xstrdup(reason);
    j->note = note ? xstrdup(note) : NULL;
    store_submit(srv.store, &j->job);
}

/* ---- Counts ---- */

static int run_counts(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    j->counts = json_object();
    for (int i = 0; i < j->narticles; i++)
        json_object_set_new(j->counts, j->articles[i],
                            json_integer(published_count(db, j->articles[i])));
    return 0;
}

static void done_counts(store_job *job) {
    cjob *j = (cjob *)job;
    j->counts_cb(job->status ? NULL : j->counts, j->counts_arg);
    cjob_free(j);
}

void comments_counts(const char *const *articles, int n, void (*cb)(json_t *, void *),
                     void *arg) {
    cjob *j = cjob_new(NULL, NULL, run_counts, done_counts);
    j->job.read_only = true;
    j->articles = xcalloc((size_t)n + 1, sizeof *j->articles);
    for (int i = 0; i < n; i++) j->articles[i] = xstrdup(articles[i]);
    j->narticles = n;
    j->counts_cb = cb;
    j->counts_arg = arg;
    store_submit(srv.store, &j->job);
}
