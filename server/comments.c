/* comments.c: the writing side of comments.h as storage jobs: posts (scored by the
 * rules, stored, acknowledged after the commit, then fanned out), the author's edits
 * and deletions, and readers' reports. Reading (history, replay, catch-up, counts) is
 * comments_read.c; the SQL is the comments repository's (store_comments.h). */
#include "comments.h"
#include "alloc.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

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
#include "permalink.h"
#include "server.h"
#include "store.h"
#include "store_bans.h"
#include "store_comments.h"
#include "store_post.h"
#include "store_trust.h"

#define EDIT_WINDOW_MS (5 * 60 * 1000)

/* One write. Created on the loop, run on the storage thread, finished and freed on the
 * loop. Strings are owned by the job. */
typedef struct {
    store_job job;
    uint64_t conn_id;
    json_t *req_id;          /* the request's id, loop thread only */
    char *article, *author_id, *ip_hash;
    char *title, *body, *name, *avatar, *reason, *note;
    bool guest;
    char badge[16];          /* post: the author's badge from their token, or "" */
    bool shadow;             /* post: its author is shadow-banned */
    char *nonce;             /* post: the client's nonce, or NULL */
    bool replayed;           /* post: a retry; the comment its nonce first stored */
    int64_t comment, parent;
    ruleset_t *rs;
    /* results */
    perr_t err;              /* a refusal that still commits (a refused post is kept) */
    char *message;           /* reader-safe text for err */
    json_t *comment_json;    /* the comment as it now is */
    char *old_status;        /* edit/delete: the status before */
    json_t *effects;         /* sent by the loop after the commit (moderation.h) */
    long *shared;            /* post: counts of the rules' shared windows, or NULL */
    size_t nshared_rules;    /* post: how many of them belong to the rules; flood's follow */
    /* post: what check_post found, for run_post */
    store_post_facts facts;
    uint64_t facts_run;      /* the store run the facts were read in (store_job.run_) */
    article_mode_t mode;
    decision_t decision;
    double score;
    char *decision_json;     /* the rules' explanation */
} cjob;

static cjob *cjob_new(conn_t *c, const json_t *id, int (*run)(store_job *, db_t *),
                      void (*done)(store_job *)) {
    cjob *j = xcalloc(1, sizeof *j);
    j->job.run = run;
    j->job.done = done;
    j->conn_id = c->id;
    j->author_id = xstrdup(c->author_id);
    j->ip_hash = xstrdup(c->ip_hash);
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
    free(j->nonce);
    json_decref(j->req_id);
    json_decref(j->comment_json);
    json_decref(j->effects);
    free(j->shared);
    free(j->decision_json);
    if (j->rs) ruleset_put(j->rs);
    free(j);
}

/* Past the storage queue's bound new work is refused at once, typed, rather than
 * queued without limit behind a slow disk. */
bool comments_store_refuses(conn_t *c, const json_t *id) {
    if (!store_busy(srv.store)) return false;
    metrics.storage_refused++;
    conn_error(c, id, PERR_UNAVAILABLE, "The server is busy; try again in a moment.");
    return true;
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

/* ---- Posting ---- */

/* The article's mode: a setting stored by a moderator wins over moderation.yml. */
static article_mode_t article_mode(const store_post_facts *f, const rules_t *r,
                                   const char *article) {
    if (!f->has_mode) return rules_article_mode(r, article);
    return !strcmp(f->mode, "closed")         ? ARTICLE_CLOSED
           : !strcmp(f->mode, "premoderated") ? ARTICLE_PREMODERATED
                                              : ARTICLE_OPEN;
}

/* Scores title/body/name for the job's author; returns the decision, with the rules'
 * explanation in *decision_json (new reference). */
static decision_t score(db_t *db, cjob *j, long author_posts, double *total,
                        char **decision_json) {
    rules_input in = {.title = j->title, .body = j->body, .name = j->name ? j->name : "",
                      .article = j->article, .author = j->author_id, .ip_hash = j->ip_hash,
                      .author_posts = author_posts,
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
        bool by_address;
        const char *val;
        long max;
    } caps[2] = {{false, j->author_id, srv.cfg.pending_per_author},
                 {true, j->ip_hash, srv.cfg.pending_per_address}};
    for (int i = 0; i < 2; i++) {
        if (caps[i].max <= 0 || !caps[i].val || !caps[i].val[0]) continue;
        long n = store_comments_pending_count(db, caps[i].by_address, caps[i].val, since,
                                              caps[i].max);
        if (n < 0) return false;
        if (n >= caps[i].max) return true;
    }
    return false;
}

/* Whether the parent named by a reply is a published comment of the same article. */
static bool parent_ok(db_t *db, cjob *j) {
    store_comment_meta m;
    if (store_comments_meta(db, j->parent, &m) != 1) return false;
    bool ok = !strcmp(m.article, j->article) && !strcmp(m.status, "published");
    store_comment_meta_free(&m);
    return ok;
}

/* A retried post (the author's nonce stored a comment already): answers with that
 * comment as it is now, as the first post was answered, and stores nothing. Returns 1
 * when it was one, 0 when not, or an error (perr_t, negated). */
static int replay_post(db_t *db, cjob *j) {
    int64_t id = 0;
    char status[16], *decision = NULL;
    int found = store_comments_by_nonce(db, j->author_id, j->nonce, &id, status, &decision);
    if (found <= 0) return found < 0 ? -PERR_INTERNAL : 0;
    j->replayed = true;
    if (!strcmp(status, "refused")) {
        /* refused by the rules: the same answer, with the message they gave then */
        json_t *dj = decision ? json_loads(decision, 0, NULL) : NULL;
        const char *msg = json_string_value(json_object_get(dj, "message"));
        j->message = xstrdup(msg ? msg : "Your comment was not published: it breaks the rules "
                                         "of this discussion.");
        json_decref(dj);
        free(decision);
        return -PERR_REJECTED;
    }
    free(decision);
    j->comment_json = store_comments_load(db, id);
    return j->comment_json ? 1 : -PERR_INTERNAL;
}

enum { FACTS_BATCH_MAX = 256 };

static int check_post(store_job *job, db_t *db);

/* A post's facts query; key receives the folded guest name it points to. */
static store_post_query facts_query(cjob *j, char key[256]) {
    bool guest_name = j->guest && names_key(j->name, key, 256) == 0;
    return (store_post_query){.article = j->article, .author_id = j->author_id,
                              .ip_hash = j->ip_hash, .name_key = guest_name ? key : NULL,
                              .nonce = j->nonce, .now = now_ms(),
                              .count_cap = rules_author_posts_needed(j->rs->rules)};
}

/* Reads the facts of j and of the posts after it in its store run (store.h: their
 * checks are still to come and read the same state) in one statement, instead of one
 * round trip each. Returns 0 or -1. */
static int fetch_facts(db_t *db, cjob *j) {
    if (j->facts_run == j->job.run_) return 0;
    size_t n = 0;
    cjob **batch = xmalloc(FACTS_BATCH_MAX * sizeof *batch);
    for (store_job *k = &j->job; k && k->run_ == j->job.run_ && n < FACTS_BATCH_MAX;
         k = k->next) {
        cjob *c = (cjob *)k;
        if (k->check == check_post && c->facts_run != k->run_) batch[n++] = c;
    }
    store_post_query *qs = xmalloc(n * sizeof *qs);
    char(*keys)[256] = xmalloc(n * sizeof *keys);
    store_post_facts *out = xmalloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++) qs[i] = facts_query(batch[i], keys[i]);
    int rc = store_post_facts_many(db, qs, n, out);
    for (size_t i = 0; i < n && rc == 0; i++) {
        batch[i]->facts = out[i];
        batch[i]->facts_run = batch[i]->job.run_;
    }
    free(out);
    free(keys);
    free(qs);
    free(batch);
    return rc;
}

/* A post's checks, which only read (store.h: on PostgreSQL they run before the group
 * takes its articles' locks): the facts, a retry's first answer, the parent, and the
 * rules' score. The facts are as committed when the group began: posts of the same
 * group by the same author do not count for each other, so a newcomer's burst is judged
 * as a newcomer's posts (docs/decisions.md). */
static int check_post(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    /* a group run again starts over */
    free(j->message);
    j->message = NULL;
    free(j->decision_json);
    j->decision_json = NULL;
    json_decref(j->comment_json);
    j->comment_json = NULL;
    j->replayed = false;
    if (fetch_facts(db, j)) return PERR_UNAVAILABLE;
    store_post_facts *f = &j->facts;
    if (j->nonce && f->nonce_id) {
        int r = replay_post(db, j);
        if (r) return r < 0 ? -r : STORE_JOB_DONE;
    }
    if (j->parent > 0 && !parent_ok(db, j)) {
        j->message = xstrdup("parent is not a published comment of this article");
        return PERR_BAD_REQUEST;
    }
    if (f->name_reserved) {
        j->message = xstrdup("That name belongs to a registered reader or a moderator; please "
                            "choose another.");
        return PERR_NAME_RESERVED;
    }
    j->mode = article_mode(f, j->rs->rules, j->article);
    if (j->mode == ARTICLE_CLOSED) {
        j->message = xstrdup("Comments are closed on this article.");
        return PERR_FORBIDDEN;
    }
    if (f->ban == BAN_BANNED) { /* BAN_* are STORE_BAN_* */
        j->message = xstrdup("You can't comment here at the moment.");
        return PERR_FORBIDDEN;
    }
    j->decision = score(db, j, f->author_posts, &j->score, &j->decision_json);
    return 0;
}

/* A checked post's writes, under its article's lock on PostgreSQL. */
static int run_post(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    json_array_clear(j->effects); /* a group run again starts over */
    j->err = 0;
    if (!j->guest) names_reserve(db, j->name, "reader");
    decision_t d = j->decision;
    const char *status = d == DECISION_REJECT                                   ? "refused"
                         : (d == DECISION_HOLD || j->mode == ARTICLE_PREMODERATED) ? "pending"
                         : j->facts.ban == BAN_SHADOW                            ? "shadow"
                                                                                  : "published";
    if (!strcmp(status, "pending") && pending_full(db, j)) {
        /* A burst reaches the queue as a few items, not thousands: past the cap, posts
         * that would wait for review are refused and nothing is stored. */
        free(j->message);
        j->message = xstrdup("You have comments waiting for review; please wait until a "
                            "moderator has seen them.");
        return PERR_RATE_LIMITED;
    }
    store_comment_new row = {
        .article = j->article, .author_id = j->author_id, .author_name = j->name,
        .author_avatar = j->avatar, .author_badge = j->badge, .ip_hash = j->ip_hash,
        .title = j->title, .body = j->body, .status = status, .decision = j->decision_json,
        .nonce = j->nonce, .parent = j->parent, .created_at = now_ms(), .guest = j->guest,
        .score = j->score};
    json_t *stored = NULL;
    int64_t id = store_comments_insert(db, &row, &stored);
    if (id == 0) {
        /* The same nonce committed by another process since the look-up above (a retry
         * that raced its first attempt): answer with that comment. */
        free(j->message);
        j->message = NULL;
        int r = replay_post(db, j);
        return r < 0 ? -r : r == 1 ? 0 : PERR_INTERNAL;
    }
    if (id < 0) return PERR_UNAVAILABLE;
    if (outbox_emit_post(db, id, status)) {
        json_decref(stored);
        return PERR_UNAVAILABLE;
    }
    if (d == DECISION_REJECT) {
        j->err = PERR_REJECTED; /* kept as 'refused' for the console; the reader is told no */
        effect_queue_changed(j->effects, db, id, status, NULL); /* the Refused queue */
        json_decref(stored);
        return 0;
    }
    j->comment_json = stored;
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

#define TOO_FAST "You are posting too fast; wait a minute and try again."

/* A post the flood limits refuse may be the retry of one stored before the author hit
 * them (the connection was lost before its ack): its nonce finds that comment, which is
 * answered as any retry; otherwise the refusal stands and nothing is stored. */
static int run_nonce_only(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    int r = replay_post(db, j);
    if (r) return r < 0 ? -r : 0;
    j->message = xstrdup(TOO_FAST);
    return PERR_RATE_LIMITED;
}

/* Submits j to look for its nonce only (run_nonce_only), as a read. */
static void submit_nonce_only(cjob *j) {
    j->job.run = run_nonce_only;
    j->job.check = NULL;
    j->job.read_only = true;
    j->job.lock_key = NULL;
    store_submit(srv.store, &j->job);
}

static void done_post(store_job *job) {
    cjob *j = (cjob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    perr_t e = job->status ? (perr_t)job->status : j->err;
    if (j->replayed) {
        /* A retry: its first attempt was counted, published and moderated already. */
        if (c && e) reply_error(c, j, e, "The comment could not be stored; try again.");
        else if (c) reply_ack(c, j);
    } else if (e) {
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
        permalink_article_posted(j->article);
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
        metrics.flood_refused++;
        if (j->nonce) {
            submit_nonce_only(j);
            return;
        }
        conn_t *c = conn_by_id(j->conn_id);
        if (c) conn_error(c, j->req_id, PERR_RATE_LIMITED, TOO_FAST);
        cjob_free(j);
        return;
    }
    store_submit(srv.store, &j->job);
}

/* A post's job, taking the input's strings. */
static cjob *post_job(conn_t *c, const json_t *id, post_input *in) {
    cjob *j = cjob_new(c, id, run_post, done_post);
    j->job.check = check_post;
    j->article = in->article;
    j->title = in->title;
    j->body = in->body;
    j->name = in->name;
    j->avatar = in->avatar;
    j->nonce = in->nonce;
    return j;
}

void comments_post(conn_t *c, const json_t *id, post_input *in) {
    bool busy = comments_store_refuses(c, id);
    bool too_fast = !busy && flood_post_local(c->author_id, c->ip_hash, (uint64_t)now_ms());
    if (too_fast && in->nonce) {
        metrics.flood_refused++;
        submit_nonce_only(post_job(c, id, in));
        return;
    }
    if (busy || too_fast) {
        if (too_fast) {
            metrics.flood_refused++;
            conn_error(c, id, PERR_RATE_LIMITED, TOO_FAST);
        }
        free(in->article);
        free(in->title);
        free(in->body);
        free(in->name);
        free(in->avatar);
        free(in->nonce);
        return;
    }
    cjob *j = post_job(c, id, in);
    j->job.lock_key = j->article; /* PostgreSQL: ids of one article commit in order */
    j->parent = in->parent;
    j->guest = !c->signed_in;
    snprintf(j->badge, sizeof j->badge, "%s", c->person ? c->person->badge : "");
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
    long windows[BUS_COUNTERS_MAX];
    j->shared = xcalloc(BUS_COUNTERS_MAX, sizeof *j->shared);
    for (size_t i = 0; i < n; i++) {
        names[i] = keys[i].key[0] ? keys[i].key : "none";
        windows[i] = keys[i].key[0] ? keys[i].window_ms : 0;
    }
    bus_counter_add_get(names, windows, (int)n, shared_counted, j); /* one round trip */
}

/* ---- Edit and delete ---- */

/* Loads the comment for an author's change; checks ownership and state. */
static int own_comment(db_t *db, cjob *j, int64_t *created) {
    store_comment_meta m;
    int found = store_comments_meta(db, j->comment, &m);
    if (found < 0) return PERR_INTERNAL;
    if (found == 0) return PERR_NOT_FOUND;
    int e = 0;
    if (strcmp(m.author_id, j->author_id) != 0) {
        e = PERR_FORBIDDEN;
        j->message = xstrdup("Only the author can change this comment.");
    } else if (!strcmp(m.status, "removed") || !strcmp(m.status, "refused")) {
        e = PERR_NOT_FOUND;
    } else {
        j->old_status = xstrdup(m.status);
        j->article = xstrdup(m.article);
        *created = m.created_at;
        if (!j->title) j->title = xstrdup(m.title);
    }
    store_comment_meta_free(&m);
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
    /* a moderator's rejection stands: an edit would put the comment back in the queue;
     * and a ban stops edits as it stops posts */
    if (!strcmp(j->old_status, "rejected")) {
        j->message = xstrdup("A moderator has rejected this comment; it can no longer be edited.");
        return PERR_FORBIDDEN;
    }
    if (store_bans_state(db, j->author_id, j->ip_hash, now) == BAN_BANNED) {
        j->message = xstrdup("You can't comment here at the moment.");
        return PERR_FORBIDDEN;
    }
    double total = 0;
    char *dj = NULL;
    decision_t d =
        score(db, j, store_comments_author_count(db, j->author_id,
                                             rules_author_posts_needed(j->rs->rules)), &total, &dj);
    if (d == DECISION_REJECT) {
        free(dj);
        return PERR_REJECTED;
    }
    /* A held edit waits for review again; a comment already pending stays so. */
    const char *status = d == DECISION_HOLD ? "pending" : j->old_status;
    int rc = store_comments_update_text(db, j->comment, j->title, j->body, now, status, total,
                                        dj);
    free(dj);
    if (rc) return PERR_UNAVAILABLE;
    if (outbox_emit_change(db, j->comment, j->old_status, true)) return PERR_UNAVAILABLE;
    j->comment_json = store_comments_load(db, j->comment);
    return j->comment_json ? 0 : PERR_INTERNAL;
}

static int run_delete(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    int64_t created = 0;
    int e = own_comment(db, j, &created);
    if (e) return e;
    if (store_comments_remove_by_author(db, j->comment)) return PERR_UNAVAILABLE;
    if (outbox_emit_change(db, j->comment, j->old_status, false)) return PERR_UNAVAILABLE;
    j->comment_json = store_comments_load(db, j->comment);
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
        /* a shadow-banned author's comment reads as published to them alone: its edit
         * goes to them alone too */
        bool shadow = j->old_status && !strcmp(j->old_status, "shadow");
        if (now && !strcmp(now, "published") && shadow) {
            if (c && hub_find(c, j->article))
                conn_send_json(c, json_pack("{s:s, s:O}", "type", "edited", "comment",
                                            j->comment_json));
        } else if (now && !strcmp(now, "published")) {
            publish_event("edited", j->article, j->comment_json);
        } else if (was_public) {
            publish_removed(j->article, j->comment);
        }
        if (c) reply_ack(c, j);
    }
    cjob_free(j);
}

void comments_edit(conn_t *c, const json_t *id, int64_t comment, char *title, char *body) {
    if (comments_store_refuses(c, id)) {
        free(title);
        free(body);
        return;
    }
    cjob *j = cjob_new(c, id, run_edit, done_change);
    j->comment = comment;
    j->title = title;
    j->body = body;
    j->name = c->person && c->person->user_name ? xstrdup(c->person->user_name) : NULL;
    j->rs = ruleset_get();
    store_submit(srv.store, &j->job);
}

void comments_delete(conn_t *c, const json_t *id, int64_t comment) {
    if (comments_store_refuses(c, id)) return;
    cjob *j = cjob_new(c, id, run_delete, done_change);
    j->comment = comment;
    store_submit(srv.store, &j->job);
}

/* ---- Reports ---- */

static int run_report(store_job *job, db_t *db) {
    cjob *j = (cjob *)job;
    store_comment_meta m;
    int found = store_comments_meta(db, j->comment, &m);
    if (found < 0) return PERR_INTERNAL;
    bool published = found && !strcmp(m.status, "published");
    bool own = published && !strcmp(m.author_id, j->author_id);
    if (found) store_comment_meta_free(&m);
    if (!published) return PERR_NOT_FOUND;
    if (own) {
        j->message = xstrdup("You cannot report your own comment.");
        return PERR_FORBIDDEN;
    }
    /* One report per reader and one per address: fresh guest identities from one
     * address are one voice. */
    int again = store_comments_reported(db, j->comment, j->author_id, j->ip_hash);
    if (again < 0) return PERR_INTERNAL;
    if (again) {
        j->message = xstrdup("You have already reported this comment.");
        return PERR_CONFLICT;
    }
    if (store_comments_report_insert(db, j->comment, j->author_id, j->reason, j->note, now_ms(),
                                     j->ip_hash, j->guest ? srv.cfg.report_weight_guest : 1.0))
        return PERR_UNAVAILABLE;
    /* Enough weight of readers agrees: hide it until a moderator decides. */
    double weight = 0;
    char *article = NULL;
    if (store_comments_report_weight(db, j->comment, &weight, &article)) {
        free(article);
        return PERR_UNAVAILABLE;
    }
    const char *status = "published";
    if (srv.cfg.report_hide_at > 0 && weight + 1e-9 >= (double)srv.cfg.report_hide_at) {
        if (store_comments_hide(db, j->comment)) {
            free(article);
            return PERR_UNAVAILABLE;
        }
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
    if (comments_store_refuses(c, id)) return;
    cjob *j = cjob_new(c, id, run_report, done_report);
    j->comment = comment;
    j->guest = !c->signed_in;
    j->reason = xstrdup(reason);
    j->note = note ? xstrdup(note) : NULL;
    store_submit(srv.store, &j->job);
}
