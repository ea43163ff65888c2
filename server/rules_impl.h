/* rules_impl.h: what rules.c (evaluation) and rules_load.c (compiling moderation.yml)
 * share about a compiled rule set. Private to the rule engine. */
#ifndef PARLEY_RULES_IMPL_H
#define PARLEY_RULES_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>

#include "rules.h"
#include "rules_learned.h"
#include "rules_words.h"

#define MATCH_LIMIT 200000
#define DEPTH_LIMIT 2000
#define MAX_SPANS 32
#define STATE_MAX_KEYS 200000



typedef enum {
    KIND_PATTERN,
    KIND_WORDS,
    KIND_LINKS,
    KIND_SHOUTING,
    KIND_REPETITION,
    KIND_DUPLICATE,
    KIND_RATE,
    KIND_NEWCOMER,
    KIND_LEARNED
} kind_t;
#define NKINDS 9

static const char *const kind_names[] __attribute__((unused)) = {"pattern", "words", "links", "shouting",
                                         "repetition", "duplicate", "rate", "newcomer", "learned"};

typedef struct {
    char *name, *description, *message;
    kind_t kind;
    double score, each;       /* score when it fires; extra for each further match */
    double max_score;         /* the most score + each may add up to; 0: no bound */
    decision_t action;        /* DECISION_PUBLISH: none */
    unsigned fields;          /* bit per rules_field_t */
    /* pattern */
    pcre2_code *re;
    pcre2_match_data *md;
    /* words */
    words_t *words;
    /* links */
    char **allow, **deny;
    int nallow, ndeny;
    long free_links;
    double deny_score, first_post_score;
    double bare_score;        /* links with hardly any text of their own */
    long bare_words;
    /* shouting */
    long min_letters;
    double ratio;
    /* repetition */
    long max_char_run, max_word_repeat, max_emoji_run, max_marks;
    /* duplicate, rate */
    double window;
    bool by_author;           /* duplicate scope */
    enum { PER_AUTHOR, PER_IP, PER_ARTICLE } per;
    long max;
    /* newcomer */
    long max_posts;
    /* learned (rules_learned.h) */
    int label;                /* learn_label_t */
    double threshold, strong_threshold, strong_score, ham_threshold, ham_score;
    double min_examples, min_feature_docs, max_weight;
} rule_t;

typedef struct {
    char *match;
    article_mode_t mode;
} article_rule_t;

struct rules {
    rule_t *rules;
    int nrules;
    double hold_at, reject_at;
    long trusted_after;       /* approved comments that make an author trusted (0: never) */
    char *reject_message;
    article_rule_t *articles;
    int narticles;
    pcre2_code *link_re;      /* URLs, bare and spelled-out domains */
    pcre2_match_data *link_md;
    pcre2_match_context *mctx;
    size_t nwords;
};


#endif
