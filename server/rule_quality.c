/* rule_quality.c: per-rule quality counters; see rule_quality.h. */
#include "rule_quality.h"
#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"
#include "store.h"
#include "store_rule_quality.h"

/* Whether a rule hit pushed towards holding (a positive score or a forced action). */
static bool pushed(json_t *hit) {
    return json_is_string(json_object_get(hit, "action")) ||
           json_number_value(json_object_get(hit, "score")) > 0;
}

void rule_quality_on_post(db_t *db, const rules_result *res) {
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
        if (store_rq_hit(db, h->rule, held && push))
            log_warn("rule quality: could not count a hit of '%s'", h->rule);
    }
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
