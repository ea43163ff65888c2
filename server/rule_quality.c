/* rule_quality.c: per-rule quality counters; see rule_quality.h. */
#include "rule_quality.h"
#include "alloc.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "errors.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "store_rule_quality.h"

/* Whether a rule hit pushed towards holding (a positive score or a forced action). */
static bool pushed(json_t *hit) {
    return json_is_string(json_object_get(hit, "action")) ||
           json_number_value(json_object_get(hit, "score")) > 0;
}

/* ---- Hits and holds: counted in memory, written once a second ---- */

/* A rule's counts not yet in the store. */
typedef struct {
    int64_t hits, holds;
} rq_pending;

/* rule -> rq_pending; storage thread only. */
static dict_t *pending;
/* Set by the storage thread when pending has something; read by the loop's timer. */
static atomic_int dirty;

void rule_quality_on_post(db_t *db, const rules_result *res) {
    (void)db;
    bool held = res->decision != DECISION_PUBLISH;
    for (size_t i = 0; i < res->nhits; i++) {
        const rules_hit *h = &res->hits[i];
        bool seen = false; /* a rule that fired in two fields counts once */
        for (size_t k = 0; k < i && !seen; k++) seen = !strcmp(res->hits[k].rule, h->rule);
        if (seen) continue;
        bool push = false;
        for (size_t k = i; k < res->nhits; k++)
            if (!strcmp(res->hits[k].rule, h->rule) && (res->hits[k].action || res->hits[k].score > 0))
                push = true;
        if (!pending) pending = dict_new();
        rq_pending *p = dict_get(pending, h->rule);
        if (!p) {
            p = xcalloc(1, sizeof *p);
            dict_set(pending, h->rule, p, NULL);
        }
        p->hits++;
        p->holds += held && push;
        atomic_store(&dirty, 1);
    }
}

typedef struct {
    store_rq_delta *d;
    size_t n;
} collect_arg;

static void collect(const char *rule, void *val, void *arg) {
    collect_arg *c = arg;
    const rq_pending *p = val;
    c->d[c->n++] = (store_rq_delta){rule, p->hits, p->holds};
}

/* Writes the counts kept in memory to the store (in the caller's transaction) and
 * forgets them; on failure they are kept for the next time. Storage thread only.
 * Returns 0 or -1. */
static int flush_pending(db_t *db) {
    atomic_store(&dirty, 0);
    size_t n = pending ? dict_size(pending) : 0;
    if (!n) return 0;
    collect_arg c = {xmalloc(n * sizeof *c.d), 0};
    dict_each(pending, collect, &c);
    int rc = 0;
    for (size_t i = 0; i < c.n && !rc; i += RULE_QUALITY_FLUSH_ROWS)
        rc = store_rq_add(db, c.d + i, c.n - i < RULE_QUALITY_FLUSH_ROWS ? c.n - i : RULE_QUALITY_FLUSH_ROWS);
    free(c.d);
    if (rc) {
        log_warn("rule quality: could not write the rules' hits; kept for the next time");
        atomic_store(&dirty, 1);
        return -1;
    }
    dict_free(pending, free);
    pending = NULL;
    return 0;
}

static int run_flush(store_job *job, db_t *db) {
    (void)job;
    /* an error rolls this job back: the counts stay in memory for the next one */
    return flush_pending(db) ? PERR_UNAVAILABLE : 0;
}

static uv_timer_t flush_timer;
static bool flush_in_flight; /* loop thread only */

static void done_flush(store_job *job) {
    flush_in_flight = false;
    free(job);
}

/* Every RULE_QUALITY_FLUSH_MS on the loop: a flush job when posts were counted. */
static void on_flush_timer(uv_timer_t *t) {
    (void)t;
    if (flush_in_flight || !srv.store || !atomic_load(&dirty)) return;
    store_job *job = xcalloc(1, sizeof *job);
    job->run = run_flush;
    job->done = done_flush;
    flush_in_flight = true;
    store_submit(srv.store, job);
}

void rule_quality_init(uv_loop_t *loop) {
    uv_timer_init(loop, &flush_timer);
    uv_timer_start(&flush_timer, on_flush_timer, RULE_QUALITY_FLUSH_MS, RULE_QUALITY_FLUSH_MS);
    uv_unref((uv_handle_t *)&flush_timer); /* never keeps the loop (or a shutdown) waiting */
}

void rule_quality_reset(void) {
    if (pending) dict_free(pending, free);
    pending = NULL;
    atomic_store(&dirty, 0);
}

void rule_quality_on_decision(db_t *db, int64_t id) {
    char *status = NULL, *decision = NULL;
    if (store_rq_comment(db, id, &status, &decision)) return;
    store_rq_clear(db, id);
    json_t *d = json_loads(decision, 0, NULL);
    const char *by = json_string_value(json_object_get(d, "decision"));
    const char *kind = NULL;
    if (by && !strcmp(status, "published") && strcmp(by, "publish")) kind = "approved_held";
    else if (by && (!strcmp(status, "rejected") || !strcmp(status, "removed")) && !strcmp(by, "publish"))
        kind = "rejected_passed";
    size_t i;
    json_t *hit;
    if (kind)
        json_array_foreach(json_object_get(d, "rules"), i, hit) {
            const char *rule = json_string_value(json_object_get(hit, "name"));
            if (rule && pushed(hit)) store_rq_overturn(db, id, rule, kind);
        }
    json_decref(d);
    free(status);
    free(decision);
}

json_t *rule_quality_json(db_t *db) {
    flush_pending(db); /* this process's last second too */
    store_rq_row *rows;
    int n = store_rq_list(db, &rows);
    if (n < 0) return NULL;
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I}", "rule", rows[i].rule,
                                           "hits", (json_int_t)rows[i].hits, "holds",
                                           (json_int_t)rows[i].holds, "approved_held",
                                           (json_int_t)rows[i].approved_held, "rejected_passed",
                                           (json_int_t)rows[i].rejected_passed));
    free(rows);
    return a;
}

/* ---- /metrics ---- */

typedef struct {
    store_job job;
    void (*cb)(char *, void *);
    void *arg;
    char *text;
} fetch_job;

/* Appends printf output to a growing string. */
static void add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap = *cap * 2 + (size_t)(n > 0 ? n : 0);
        char *b = xrealloc(*buf, *cap);
        *buf = b;
    }
}

/* Rule names come from moderation.yml; escape what a label value cannot hold. */
static void label(const char *in, char *out, size_t outlen) {
    size_t o = 0;
    for (; *in && o + 3 < outlen; in++) {
        if (*in == '"' || *in == '\\') out[o++] = '\\';
        if (*in == '\n') { out[o++] = ' '; continue; }
        out[o++] = *in;
    }
    out[o] = '\0';
}

static int run_fetch(store_job *job, db_t *db) {
    fetch_job *f = (fetch_job *)job;
    flush_pending(db); /* this process's last second too */
    store_rq_row *rows;
    int n = store_rq_list(db, &rows);
    if (n < 0) return 0;
    size_t len = 0, cap = 1024;
    char *b = xmalloc(cap);
    b[0] = '\0';
    static const char *const names[4][2] = {
        {"parley_rule_hits", "Posts each rule fired on (all processes, from the store)."},
        {"parley_rule_holds", "Posts held or refused that each rule pushed towards holding."},
        {"parley_rule_overturned_approved", "Posts each rule held that moderators approved."},
        {"parley_rule_overturned_rejected", "Posts each rule fired on but let through that moderators rejected or removed."},
    };
    for (int k = 0; k < 4; k++) {
        add(&b, &len, &cap, "# HELP %s %s\n# TYPE %s gauge\n", names[k][0], names[k][1], names[k][0]);
        for (int i = 0; i < n; i++) {
            char l[300];
            label(rows[i].rule, l, sizeof l);
            int64_t v = k == 0 ? rows[i].hits : k == 1 ? rows[i].holds
                        : k == 2 ? rows[i].approved_held : rows[i].rejected_passed;
            add(&b, &len, &cap, "%s{rule=\"%s\"} %lld\n", names[k][0], l, (long long)v);
        }
    }
    free(rows);
    f->text = b;
    return 0;
}

static void done_fetch(store_job *job) {
    fetch_job *f = (fetch_job *)job;
    f->cb(f->text, f->arg);
    free(f);
}

void rule_quality_fetch(void (*cb)(char *text, void *arg), void *arg) {
    fetch_job *f = xcalloc(1, sizeof *f);
    f->job.run = run_fetch;
    f->job.done = done_fetch;
    f->cb = cb;
    f->arg = arg;
    store_submit(srv.store, &f->job);
}
