/* rules_learned.h: the statistical text classifier behind `kind: learned` rules (issue 16).
 *
 * A naive Bayes model over the features of a post: the words of its title and body after
 * the rules' obfuscation folding (rules_norm.h) and sparse bigrams (each word paired with
 * the next LEARNED_OSB_WINDOW words, with the distance: "free|1|money"). Each labelled
 * example counts a feature once (presence, not frequency), and at most
 * LEARNED_MAX_FEATURES of them, so one post weighs at most one example whatever its
 * length. The model keeps, per feature, in how many examples of each label it appeared,
 * and the number of examples per label.
 *
 * This file is pure computation: no SQL, no I/O. The counts are kept in the store by
 * store_learned.c and loaded into a learned_model_t by learned.c. */
#ifndef PARLEY_RULES_LEARNED_H
#define PARLEY_RULES_LEARNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The labels a moderator's decision teaches. */
typedef enum { LEARN_NONE = -1, LEARN_HAM = 0, LEARN_SPAM = 1, LEARN_ABUSE = 2 } learn_label_t;
#define LEARN_NLABELS 3

/* Features counted per example at most (the first ones in the text). */
#define LEARNED_MAX_FEATURES 400
/* Bigrams pair a word with the next LEARNED_OSB_WINDOW words (1: adjacent pairs only;
 * wider windows measured worse on the labelled data, docs/decisions.md). */
#define LEARNED_OSB_WINDOW 1
/* Longest feature kept, in bytes (longer words are cut). */
#define LEARNED_MAX_WORD 40

/* "ham", "spam", "abuse", or NULL for LEARN_NONE. */
const char *learned_label_name(learn_label_t l);
/* Parses "ham", "spam", "abuse" (exactly); LEARN_NONE otherwise. */
learn_label_t learned_label_parse(const char *s);
/* What a moderator's reason teaches when they reject or remove a post: "spam" (any case,
 * or a reason starting with it) is spam; abuse, personal attacks, harassment, hate
 * speech, threats and insults are abuse; any other reason (off topic, ...) teaches
 * nothing. NULL reason: LEARN_NONE. */
learn_label_t learned_label_of_reason(const char *reason);

/* ---- Features ---- */

/* One occurrence of a feature in a field: [start, end) code point offsets. */
typedef struct {
    char *text;      /* the feature, owned by the list */
    int field;       /* rules_field_t: 0 title, 1 body */
    size_t start, end;
} learned_occ;

/* The features of a post: every occurrence, in text order. */
typedef struct {
    learned_occ *occ;
    size_t n, cap;
} learned_feats;

/* Appends the features of text (valid UTF-8) from field to f. Returns 0, or -1 when out
 * of memory. */
int learned_features(const char *text, int field, learned_feats *f);
void learned_feats_free(learned_feats *f);
/* The distinct features of f, at most max, in first-seen order, as pointers into f (valid
 * while f lives); returns how many were written into out (which has room for max). */
size_t learned_distinct(const learned_feats *f, const char **out, size_t max);

/* ---- Model ---- */

typedef struct learned_model learned_model_t;

learned_model_t *learned_model_new(void);
void learned_model_free(learned_model_t *m);
/* Forgets every count. */
void learned_model_clear(learned_model_t *m);
/* Sets a feature's absolute counts per label (a row loaded from the store). Counts at or
 * below zero everywhere remove it. */
void learned_model_set(learned_model_t *m, const char *feature, const double n[LEARN_NLABELS]);
/* The counts of a feature, or NULL when unknown. Owned by the model. */
const double *learned_model_get(const learned_model_t *m, const char *feature);
/* Sets / reads the number of examples per label. */
void learned_model_set_docs(learned_model_t *m, const double docs[LEARN_NLABELS]);
void learned_model_docs(const learned_model_t *m, double docs[LEARN_NLABELS]);
size_t learned_model_size(const learned_model_t *m);
/* Adds weight (1 to learn, -1 to forget) times one example of label with features feats
 * (distinct) to m. Used to build a delta to send to the store, and by tests. */
void learned_model_add(learned_model_t *m, const char *const *feats, size_t n,
                       learn_label_t label, double weight);
/* Calls fn for every feature with its counts. */
void learned_model_each(const learned_model_t *m,
                        void (*fn)(const char *feature, const double *n, void *arg), void *arg);

/* ---- Scoring ---- */

typedef struct {
    double min_examples;     /* of the label and of ham before the rule acts */
    double min_feature_docs; /* a feature seen in fewer examples is ignored */
    double max_weight;       /* one feature's log-likelihood ratio is capped to +-this */
    double alpha;            /* additive smoothing of the per-label frequencies */
} learned_params;

/* A feature of the scored post and how much it weighed (natural log-likelihood ratio). */
typedef struct {
    const char *text;        /* points into the learned_feats scored */
    double weight;
} learned_weight;

#define LEARNED_TOP 5

typedef struct {
    bool ready;              /* enough examples of both labels */
    double sum;              /* sum of the features' weights */
    double logodds;          /* sum / sqrt(nfeatures) */
    double probability;      /* 1 / (1 + e^-logodds) */
    size_t nfeatures;        /* distinct features that counted */
    learned_weight top[LEARNED_TOP]; /* the heaviest features towards the label, heaviest first */
    size_t ntop;
} learned_score;

/* Scores the distinct features of f for label against ham under params p. Returns 0. */
int learned_model_score(const learned_model_t *m, learn_label_t label, const learned_feats *f,
                        const learned_params *p, learned_score *out);

#endif
