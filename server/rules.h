/* rules.h: the spam and abuse rule engine (issue 3). Scores a post against the rules
 * of moderation.yml and explains the decision: which rules fired, their scores, and the
 * spans they matched, as code point offsets into the text that is stored.
 *
 * A rules_t is compiled once from the config tree and never changes after; a reload
 * builds a new one and swaps it in. Memory that must survive a reload (rate windows,
 * the duplicate memory) lives in a rules_state_t owned by the server. */
#ifndef PARLEY_RULES_H
#define PARLEY_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"

typedef struct rules rules_t;
typedef struct rules_state rules_state_t;

typedef enum { DECISION_PUBLISH = 0, DECISION_HOLD, DECISION_REJECT } decision_t;

/* One post to score. Texts are what will be stored: valid UTF-8, NFC, trimmed.
 * title may be "" (replies). */
typedef struct {
    const char *title, *body, *name;
    const char *article;  /* article id */
    const char *author;   /* stable author key: "g:<name>" for guests, "u:<sub>" for users */
    const char *ip_hash;  /* hex keyed hash of the client address, or "" */
    long author_posts;    /* the author's earlier posts on record (any status); -1 unknown */
    double now;           /* wall clock in seconds (tests pass their own) */
    /* Counts from windows shared by several processes (Redis), one per entry of
     * rules_shared_keys() and including this post; NULL: use the process's own state. */
    const long *shared_counts;
    /* The learned model `kind: learned` rules score with (rules_learned.h); NULL: they
     * do not fire. Read only during rules_eval. */
    const struct learned_model *model;
    /* The author is trusted (rules_trusted_after approved comments, no rejection):
     * `newcomer` rules do not apply to them. */
    bool trusted;
} rules_input;

/* A counter a stateful rule (rate, duplicate) needs for a post: key "" when the rule does
 * not apply to it. */
typedef struct {
    char key[200];
    long window_ms;
} rules_shared_key;

/* Lists, in rule order, one counter for each rate and duplicate rule; returns how many
 * (at most max). The caller counts them where every process sees them and passes the
 * counts back in rules_input.shared_counts. */
size_t rules_shared_keys(const rules_t *r, const rules_input *in, rules_shared_key *out,
                         size_t max);

typedef enum { FIELD_TITLE = 0, FIELD_BODY, FIELD_NAME, FIELD_NONE } rules_field_t;

/* A rule that fired. spans are [start, end) code point offsets into the text of
 * `field` (FIELD_NONE for rules about the author or article rather than text, such as
 * rate or newcomer, which have no spans). */
typedef struct {
    char *rule;           /* rule name */
    double score;         /* the score it added (0 when it forced an action) */
    char *action;         /* "hold" or "reject" when the rule forces one, else NULL */
    rules_field_t field;
    size_t nspans;
    size_t (*spans)[2];
    double probability;   /* learned rules: the model's probability of the label, else 0 */
} rules_hit;

/* A decision. Owned by the caller; free with rules_result_free(). */
typedef struct {
    decision_t decision;
    double score;
    rules_hit *hits;
    size_t nhits;
    char *message;        /* for reject: text safe to show the author, else NULL */
} rules_result;

/* Compiles the rule set from moderation.yml's tree (sections `moderation`, `rules`,
 * `articles`). Relative word-list paths are resolved against base_dir (the directory
 * of the config file). Returns NULL with "file:line:col: why" in err. */
rules_t *rules_load(const cfg_node *root, const char *file, const char *base_dir, char *err,
                    size_t errlen);
void rules_free(rules_t *r);

rules_state_t *rules_state_new(void);
void rules_state_free(rules_state_t *st);

/* Scores one post and records it in st (rate windows, duplicate memory).
 * Returns 0, or -1 on an internal error (out is then a publish-nothing hold). */
int rules_eval(const rules_t *r, rules_state_t *st, const rules_input *in, rules_result *out);
void rules_result_free(rules_result *res);

/* {"decision":"publish|hold|reject","score":N,"rules":[{"name","score","field",
 *  "spans":[[s,e],...]}], "message"?}. New reference owned by the caller. */
json_t *rules_result_json(const rules_result *res);
const char *rules_decision_name(decision_t d);

/* A compiled rule set shared by the loop and storage jobs; a reload swaps in a new one
 * (srv.ruleset) and the old one is freed when the last job holding it finishes. */
#include <stdatomic.h>
typedef struct ruleset {
    rules_t *rules;
    atomic_int refs;
} ruleset_t;

/* Takes a reference to the current rule set; release with ruleset_put(). */
ruleset_t *ruleset_get(void);
void ruleset_put(ruleset_t *rs);

/* Per-article policy from `articles:` in moderation.yml (patterns of article ids). */
typedef enum { ARTICLE_OPEN = 0, ARTICLE_PREMODERATED, ARTICLE_CLOSED } article_mode_t;
article_mode_t rules_article_mode(const rules_t *r, const char *article);

/* `moderation.trusted_after`: how many approved comments, with none rejected or removed,
 * make an author trusted (skipping newcomer rules); 0 when trust is off. */
long rules_trusted_after(const rules_t *r);
/* How far an author's earlier posts need counting for these rules (rules_input's
 * author_posts): one past the largest newcomer `max_posts`, at least 1 (a first post
 * is one with none). A count capped here decides as the full count would. */
long rules_author_posts_needed(const rules_t *r);

/* Pattern matches stopped by the match or depth limit since start (for /metrics). */
unsigned long rules_limit_hits(void);

/* Number of rules, of word-list entries, for `rules check` and logs. */
void rules_summary(const rules_t *r, size_t *nrules, size_t *nwords);

/* Writes one line per rule (kind, name, score or action, description) to f. */
#include <stdio.h>
void rules_describe(const rules_t *r, FILE *f);

/* `parley rules check|test|learn [--config FILE] [--data DIR]`: argv[0] is "check",
 * "test" or "learn".
 * Returns the process exit code. */
int rules_cli(int argc, char **argv);

#endif
