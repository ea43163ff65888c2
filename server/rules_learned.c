/* rules_learned.c: features, counts and naive Bayes scoring for `kind: learned` rules.
 * Pure computation; see rules_learned.h for the model and docs/decisions.md for why. */
#include "rules_learned.h"
#include "alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict.h"
#include "rules_norm.h"

const char *learned_label_name(learn_label_t l) {
    return l == LEARN_HAM ? "ham" : l == LEARN_SPAM ? "spam" : l == LEARN_ABUSE ? "abuse" : NULL;
}

learn_label_t learned_label_parse(const char *s) {
    if (!s) return LEARN_NONE;
    if (!strcmp(s, "ham")) return LEARN_HAM;
    if (!strcmp(s, "spam")) return LEARN_SPAM;
    if (!strcmp(s, "abuse")) return LEARN_ABUSE;
    return LEARN_NONE;
}

learn_label_t learned_label_of_reason(const char *reason) {
    static const char *const abuse[] = {"abuse",  "abusive",    "personal attack", "harassment",
                                        "hate",   "threat",     "insult",          "slur",
                                        "bullying", "offensive", NULL};
    if (!reason) return LEARN_NONE;
    while (*reason == ' ') reason++;
    if (!strncasecmp(reason, "spam", 4)) return LEARN_SPAM;
    for (int i = 0; abuse[i]; i++)
        if (!strncasecmp(reason, abuse[i], strlen(abuse[i]))) return LEARN_ABUSE;
    return LEARN_NONE;
}

/* ---- Features ---- */

/* Appends one occurrence (text copied). */
static int push_occ(learned_feats *f, const char *text, size_t len, int field, size_t s,
                    size_t e) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        learned_occ *o = xrealloc(f->occ, cap * sizeof *o);
        f->occ = o;
        f->cap = cap;
    }
    char *t = xmalloc(len + 1);
    memcpy(t, text, len);
    t[len] = '\0';
    f->occ[f->n++] = (learned_occ){t, field, s, e};
    return 0;
}

typedef struct {
    size_t off, len;   /* byte range in the normalised text */
} word_t;

int learned_features(const char *text, int field, learned_feats *f) {
    norm_t nt;
    if (norm_text(text, strlen(text), &nt)) return -1;
    word_t *w = NULL;
    size_t nw = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < nt.len;) {
        while (i < nt.len && nt.text[i] == ' ') i++;
        size_t s = i;
        while (i < nt.len && nt.text[i] != ' ') i++;
        if (i - s < 2) continue; /* single letters and digits say little */
        if (nw == cap) {
            cap = cap ? cap * 2 : 32;
            word_t *nwp = xrealloc(w, cap * sizeof *w);
            if (!nwp) {
                rc = -1;
                goto out;
            }
            w = nwp;
        }
        w[nw++] = (word_t){s, i - s > LEARNED_MAX_WORD ? LEARNED_MAX_WORD : i - s};
    }
    char buf[2 * LEARNED_MAX_WORD + 8];
    for (size_t k = 0; k < nw && !rc; k++) {
        const word_t *a = &w[k];
        size_t as = nt.start[a->off], ae = nt.end[a->off + a->len - 1];
        rc = push_occ(f, nt.text + a->off, a->len, field, as, ae);
        /* orthogonal sparse bigrams: this word with each of the next few, and the gap */
        for (size_t d = 1; d <= LEARNED_OSB_WINDOW && k + d < nw && !rc; d++) {
            const word_t *b = &w[k + d];
            int n = snprintf(buf, sizeof buf, "%.*s|%zu|%.*s", (int)a->len, nt.text + a->off, d,
                             (int)b->len, nt.text + b->off);
            rc = push_occ(f, buf, (size_t)n, field, as, nt.end[b->off + b->len - 1]);
        }
    }
out:
    free(w);
    norm_free(&nt);
    return rc;
}

void learned_feats_free(learned_feats *f) {
    for (size_t i = 0; i < f->n; i++) free(f->occ[i].text);
    free(f->occ);
    memset(f, 0, sizeof *f);
}

size_t learned_distinct(const learned_feats *f, const char **out, size_t max) {
    dict_t *seen = dict_new();
    size_t n = 0;
    for (size_t i = 0; i < f->n && n < max; i++) {
        if (dict_get(seen, f->occ[i].text)) continue;
        dict_set(seen, f->occ[i].text, (void *)1, NULL);
        out[n++] = f->occ[i].text;
    }
    dict_free(seen, NULL);
    return n;
}

/* ---- Model ---- */

typedef struct {
    double n[LEARN_NLABELS];
} counts_t;

/* Owned by whoever created it (the learned service, the CLI, a test). */
struct learned_model {
    dict_t *feats;     /* feature -> counts_t (owned) */
    double docs[LEARN_NLABELS];
};

learned_model_t *learned_model_new(void) {
    learned_model_t *m = xcalloc(1, sizeof *m);
    m->feats = dict_new();
    return m;
}

void learned_model_free(learned_model_t *m) {
    if (!m) return;
    dict_free(m->feats, free);
    free(m);
}

void learned_model_clear(learned_model_t *m) {
    dict_free(m->feats, free);
    m->feats = dict_new();
    memset(m->docs, 0, sizeof m->docs);
}

void learned_model_set(learned_model_t *m, const char *feature, const double n[LEARN_NLABELS]) {
    bool any = false;
    for (int i = 0; i < LEARN_NLABELS; i++) any |= n[i] > 1e-9;
    counts_t *c = dict_get(m->feats, feature);
    if (!any) {
        free(dict_del(m->feats, feature));
        return;
    }

    if (!c) {
        c = xmalloc(sizeof *c);
        dict_set(m->feats, feature, c, NULL);
    }
    memcpy(c->n, n, sizeof c->n);
}

const double *learned_model_get(const learned_model_t *m, const char *feature) {
    counts_t *c = dict_get(m->feats, feature);
    return c ? c->n : NULL;
}

void learned_model_set_docs(learned_model_t *m, const double docs[LEARN_NLABELS]) {
    memcpy(m->docs, docs, sizeof m->docs);
}

void learned_model_docs(const learned_model_t *m, double docs[LEARN_NLABELS]) {
    memcpy(docs, m->docs, sizeof m->docs);
}

size_t learned_model_size(const learned_model_t *m) { return dict_size(m->feats); }

void learned_model_add(learned_model_t *m, const char *const *feats, size_t n,
                       learn_label_t label, double weight) {
    if (label < 0 || label >= LEARN_NLABELS) return;
    m->docs[label] += weight;
    for (size_t i = 0; i < n; i++) {
        counts_t *c = dict_get(m->feats, feats[i]);
        if (!c) {
            c = xcalloc(1, sizeof *c);
            dict_set(m->feats, feats[i], c, NULL);
        }
        c->n[label] += weight;
    }
}

typedef struct {
    void (*fn)(const char *, const double *, void *);
    void *arg;
} each_arg;

static void each_one(const char *key, void *val, void *arg) {
    each_arg *a = arg;
    a->fn(key, ((counts_t *)val)->n, a->arg);
}

void learned_model_each(const learned_model_t *m,
                        void (*fn)(const char *feature, const double *n, void *arg), void *arg) {
    each_arg a = {fn, arg};
    dict_each(m->feats, each_one, &a);
}

/* ---- Scoring ---- */

/* Inserts w into the top list (heaviest first) when it is heavy enough. */
static void keep_top(learned_score *out, const char *text, double weight) {
    if (weight <= 0) return;
    size_t at = out->ntop;
    while (at > 0 && out->top[at - 1].weight < weight) at--;
    if (at >= LEARNED_TOP) return;
    size_t last = out->ntop < LEARNED_TOP ? out->ntop : LEARNED_TOP - 1;
    memmove(&out->top[at + 1], &out->top[at], (last - at) * sizeof out->top[0]);
    out->top[at] = (learned_weight){text, weight};
    if (out->ntop < LEARNED_TOP) out->ntop++;
}

/* Each distinct feature weighs log(P(f|label) / P(f|ham)), the probabilities being the
 * smoothed shares of each label's examples that had the feature, capped to +-max_weight;
 * features absent from the post do not count (short comments would otherwise be judged
 * by what they lack), nor do features seen in fewer than min_feature_docs examples (so
 * one decision alone never makes a feature count). Class priors are left out: how much
 * spam a site gets says nothing about this post. */
int learned_model_score(const learned_model_t *m, learn_label_t label, const learned_feats *f,
                        const learned_params *p, learned_score *out) {
    memset(out, 0, sizeof *out);
    double dl = m->docs[label], dh = m->docs[LEARN_HAM];
    if (label <= LEARN_HAM || label >= LEARN_NLABELS || dl < p->min_examples ||
        dh < p->min_examples || dl <= 0 || dh <= 0) {
        out->probability = 0.5;
        return 0;
    }
    out->ready = true;
    const char **feats = xmalloc(LEARNED_MAX_FEATURES * sizeof *feats);
    size_t n = learned_distinct(f, feats, LEARNED_MAX_FEATURES);
    double a = p->alpha > 0 ? p->alpha : 0.5;
    for (size_t i = 0; i < n; i++) {
        const double *c = learned_model_get(m, feats[i]);
        if (!c) continue;
        double cl = c[label] > 0 ? c[label] : 0, ch = c[LEARN_HAM] > 0 ? c[LEARN_HAM] : 0;
        if (cl + ch < p->min_feature_docs) continue;
        double w = log(((cl + a) / (dl + 2 * a)) / ((ch + a) / (dh + 2 * a)));
        if (w > p->max_weight) w = p->max_weight;
        if (w < -p->max_weight) w = -p->max_weight;
        out->sum += w;
        out->nfeatures++;
        keep_top(out, feats[i], w);
    }
    free(feats);
    /* the features of one text are far from independent (a word and the bigrams it is
     * in, phrases that go together): their evidence is taken to grow like the square
     * root of their number, not like their number, which keeps long posts from
     * reaching certainty on weak words */
    if (out->nfeatures) out->logodds = out->sum / sqrt((double)out->nfeatures);
    out->probability = 1.0 / (1.0 + exp(-out->logodds));
    return 0;
}
