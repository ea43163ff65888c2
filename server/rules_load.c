/* rules_load.c: compiling and checking the rules of moderation.yml (rules_load), with
 * every error reported as file:line:col, describing them (rules check), and the rule
 * sets' lifetime: built here, freed here when the last job holding one lets go. */
#include "rules_impl.h"
#include "alloc.h"

#include <fnmatch.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* ---- Loading ---- */

static void rule_clear(rule_t *r) {
    free(r->name);
    free(r->description);
    free(r->message);
    pcre2_code_free(r->re);
    pcre2_match_data_free(r->md);
    words_free(r->words);
    for (int i = 0; i < r->nallow; i++) free(r->allow[i]);
    for (int i = 0; i < r->ndeny; i++) free(r->deny[i]);
    free(r->allow);
    free(r->deny);
}

void rules_free(rules_t *r) {
    if (!r) return;
    for (int i = 0; i < r->nrules; i++) rule_clear(&r->rules[i]);
    free(r->rules);
    for (int i = 0; i < r->narticles; i++) free(r->articles[i].match);
    free(r->articles);
    free(r->reject_message);
    pcre2_code_free(r->link_re);
    pcre2_match_data_free(r->link_md);
    pcre2_match_context_free(r->mctx);
    free(r);
}

static pcre2_code *compile(const char *pattern, uint32_t flags, char *why, size_t whylen,
                           size_t *where) {
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | flags, &ec,
                                   &off, NULL);
    if (!re) {
        pcre2_get_error_message(ec, (PCRE2_UCHAR *)why, whylen);
        *where = off;
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

/* Possessive, bounded label groups: a dotted run like "a.b.c.d..." costs linear time.
 * A bare domain counts with the listed top-level domains, or with any (a country's:
 * example.pl, example.com.br) when a path follows it: "word.it" may be a missing space,
 * "trojmiasto.pl/page" is a link. */
static const char *link_pattern =
    "(?:https?://|www\\.)[^\\s<>\"']++"
    "|\\b(?:[a-z0-9][a-z0-9-]{0,62}\\.){1,4}+(?:com|net|org|info|biz|io|co|ly|me|"
    "tv|ru|cn|xyz|top|club|site|online|link|gl|us|uk|de|fr|in|tk|ml|ga|cf|gq|be|to|cc|ws|app|"
    "dev|shop|store|live|news|blog|pro|website|space|fun|win|bid|loan|click)\\b(?:/[^\\s]*+)?"
    "|\\b(?:[a-z0-9][a-z0-9-]{0,62}\\.){1,4}+[a-z]{2,6}/[^\\s]*+"
    "|\\b[a-z0-9-]{2,}+(?:\\s*(?:\\(dot\\)|\\[dot\\]|\\{dot\\})|\\s+dot)\\s*+(?:com|net|org|info|"
    "io|co|ru|xyz|me|tv)\\b";

#define FAIL(node, ...) do { cfg_error(err, errlen, file, node, __VA_ARGS__); goto fail; } while (0)

/* Reads a list of strings (a sequence of scalars) into a malloc'd array. */
static int str_list(const cfg_node *n, char ***out, int *count, const char *file, char *err,
                    size_t errlen) {
    if (cfg_expect(n, CFG_SEQ, n->key ? n->key : "value", file, err, errlen)) return -1;
    *out = xcalloc(n->count + 1, sizeof **out);
    *count = 0;
    for (const cfg_node *c = n->child; c; c = c->next) {
        const char *s = cfg_str(c, file, err, errlen);
        if (!s) return -1;
        (*out)[(*count)++] = xstrdup(s);
    }
    return 0;
}

static char *resolve(const char *base_dir, const char *p) {
    if (p[0] == '/' || !base_dir) return xstrdup(p);
    size_t n = strlen(base_dir) + strlen(p) + 2;
    char *out = xmalloc(n);
    snprintf(out, n, "%s/%s", base_dir, p);
    return out;
}

static int load_rule(rules_t *rs, rule_t *r, const cfg_node *n, const char *file,
                     const char *base_dir, char *err, size_t errlen) {
    static const char *const common[] = {"name", "description", "kind", "score", "each",
                                         "max_score", "action", "fields", "message"};
    static const char *const extra[][12] = {
        [KIND_PATTERN] = {"pattern", "case_sensitive"},
        [KIND_WORDS] = {"lists"},
        [KIND_LINKS] = {"allow", "deny", "free", "deny_score", "first_post_score", "bare_score",
                        "bare_words"},
        [KIND_SHOUTING] = {"min_letters", "ratio"},
        [KIND_REPETITION] = {"max_char_run", "max_word_repeat", "max_emoji_run", "max_marks"},
        [KIND_DUPLICATE] = {"window_seconds", "scope"},
        [KIND_RATE] = {"per", "max", "window_seconds"},
        [KIND_NEWCOMER] = {"max_posts"},
        [KIND_LEARNED] = {"label", "min_examples", "threshold", "strong_threshold",
                          "strong_score", "min_feature_docs", "max_weight", "ham_threshold",
                          "ham_score"},
    };
    if (cfg_expect(n, CFG_MAP, "a rule", file, err, errlen)) return -1;
    const cfg_node *k = cfg_get(n, "kind"), *v;
    if (!k) return cfg_error(err, errlen, file, n, "a rule needs a 'kind'");
    const char *ks = cfg_str(k, file, err, errlen);
    if (!ks) return -1;
    int kind = -1;
    for (int i = 0; i < NKINDS; i++)
        if (!strcmp(ks, kind_names[i])) kind = i;
    if (kind < 0)
        return cfg_error(err, errlen, file, k,
                         "unknown rule kind '%s' (pattern, words, links, shouting, repetition, "
                         "duplicate, rate, newcomer, learned)", ks);
    r->kind = (kind_t)kind;
    const char *allowed[24];
    int na = 0;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) allowed[na++] = common[i];
    for (int i = 0; i < 12 && extra[kind][i]; i++) allowed[na++] = extra[kind][i];
    allowed[na] = NULL;
    if (cfg_check_keys(n, allowed, file, err, errlen)) return -1;

    if (!(v = cfg_get(n, "name"))) return cfg_error(err, errlen, file, n, "a rule needs a 'name'");
    const char *name = cfg_str(v, file, err, errlen);
    if (!name) return -1;
    for (int i = 0; i < rs->nrules; i++)
        if (rs->rules[i].name && !strcmp(rs->rules[i].name, name))
            return cfg_error(err, errlen, file, v, "duplicate rule name '%s'", name);
    r->name = xstrdup(name);
    if ((v = cfg_get(n, "description"))) {
        const char *s = cfg_str(v, file, err, errlen);
        if (!s) return -1;
        r->description = xstrdup(s);
    }
    if ((v = cfg_get(n, "message"))) {
        const char *s = cfg_str(v, file, err, errlen);
        if (!s) return -1;
        r->message = xstrdup(s);
    }
    const cfg_node *sc = cfg_get(n, "score"), *ac = cfg_get(n, "action");
    if (sc && cfg_double(sc, -1000, 1000, &r->score, file, err, errlen)) return -1;
    if ((v = cfg_get(n, "each")) && cfg_double(v, 0, 1000, &r->each, file, err, errlen)) return -1;
    if ((v = cfg_get(n, "max_score")) && cfg_double(v, 0.1, 1000, &r->max_score, file, err, errlen))
        return -1;
    if (ac) {
        const char *a = cfg_str(ac, file, err, errlen);
        if (!a) return -1;
        if (!strcmp(a, "hold")) r->action = DECISION_HOLD;
        else if (!strcmp(a, "reject")) r->action = DECISION_REJECT;
        else return cfg_error(err, errlen, file, ac, "'action' is hold or reject, not '%s'", a);
    }
    if (!sc && !ac) return cfg_error(err, errlen, file, n, "rule '%s' needs a 'score' or an 'action'", name);
    r->fields = (1u << FIELD_TITLE) | (1u << FIELD_BODY);
    if ((v = cfg_get(n, "fields"))) {
        if (cfg_expect(v, CFG_SEQ, "fields", file, err, errlen)) return -1;
        r->fields = 0;
        for (const cfg_node *f = v->child; f; f = f->next) {
            const char *s = cfg_str(f, file, err, errlen);
            if (!s) return -1;
            if (!strcmp(s, "title")) r->fields |= 1u << FIELD_TITLE;
            else if (!strcmp(s, "body")) r->fields |= 1u << FIELD_BODY;
            else if (!strcmp(s, "name")) r->fields |= 1u << FIELD_NAME;
            else return cfg_error(err, errlen, file, f, "a field is title, body or name, not '%s'", s);
        }
    }
    long l;
    switch (r->kind) {
    case KIND_PATTERN: {
        if (!(v = cfg_get(n, "pattern"))) return cfg_error(err, errlen, file, n, "rule '%s' needs a 'pattern'", name);
        const char *p = cfg_str(v, file, err, errlen);
        if (!p) return -1;
        bool cs = false;
        const cfg_node *c = cfg_get(n, "case_sensitive");
        if (c && cfg_bool(c, &cs, file, err, errlen)) return -1;
        char why[256];
        size_t where = 0;
        r->re = compile(p, cs ? 0 : PCRE2_CASELESS, why, sizeof why, &where);
        if (!r->re)
            return cfg_error(err, errlen, file, v, "bad pattern in rule '%s': %s at offset %zu", name,
                             why, where);
        r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
        break;
    }
    case KIND_WORDS: {
        if (!(v = cfg_get(n, "lists"))) return cfg_error(err, errlen, file, n, "rule '%s' needs 'lists' (word list files)", name);
        char **lists;
        int nl;
        if (str_list(v, &lists, &nl, file, err, errlen)) return -1;
        char **paths = xcalloc((size_t)nl + 1, sizeof *paths);
        for (int i = 0; i < nl; i++) paths[i] = resolve(base_dir, lists[i]);
        char why[400];
        r->words = words_load((const char *const *)paths, nl, why, sizeof why);
        for (int i = 0; i < nl; i++) free(paths[i]), free(lists[i]);
        free(paths);
        free(lists);
        if (!r->words) return cfg_error(err, errlen, file, v, "rule '%s': %s", name, why);
        rs->nwords += words_count(r->words);
        break;
    }
    case KIND_LINKS:
        if ((v = cfg_get(n, "allow")) && str_list(v, &r->allow, &r->nallow, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "deny")) && str_list(v, &r->deny, &r->ndeny, file, err, errlen)) return -1;
        r->free_links = 0;
        if ((v = cfg_get(n, "free")) && cfg_long(v, 0, 100, &r->free_links, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "deny_score")) && cfg_double(v, 0, 1000, &r->deny_score, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "first_post_score")) && cfg_double(v, 0, 1000, &r->first_post_score, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "bare_score")) && cfg_double(v, 0, 1000, &r->bare_score, file, err, errlen)) return -1;
        r->bare_words = 6;
        if ((v = cfg_get(n, "bare_words")) && cfg_long(v, 0, 1000, &r->bare_words, file, err, errlen)) return -1;
        break;
    case KIND_SHOUTING:
        r->min_letters = 12;
        r->ratio = 0.7;
        if ((v = cfg_get(n, "min_letters")) && cfg_long(v, 1, 100000, &r->min_letters, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "ratio")) && cfg_double(v, 0.01, 1, &r->ratio, file, err, errlen)) return -1;
        break;
    case KIND_REPETITION:
        r->max_char_run = 8, r->max_word_repeat = 4, r->max_emoji_run = 6, r->max_marks = 3;
        if ((v = cfg_get(n, "max_char_run")) && cfg_long(v, 2, 1000, &r->max_char_run, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "max_word_repeat")) && cfg_long(v, 2, 1000, &r->max_word_repeat, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "max_emoji_run")) && cfg_long(v, 2, 1000, &r->max_emoji_run, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "max_marks")) && cfg_long(v, 1, 100, &r->max_marks, file, err, errlen)) return -1;
        break;
    case KIND_DUPLICATE:
        r->window = 600;
        if ((v = cfg_get(n, "window_seconds")) && cfg_double(v, 1, 86400, &r->window, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "scope"))) {
            const char *s = cfg_str(v, file, err, errlen);
            if (!s) return -1;
            if (!strcmp(s, "author")) r->by_author = true;
            else if (strcmp(s, "anyone")) return cfg_error(err, errlen, file, v, "'scope' is anyone or author, not '%s'", s);
        }
        break;
    case KIND_RATE:
        if (!(v = cfg_get(n, "per"))) return cfg_error(err, errlen, file, n, "rule '%s' needs 'per' (author, ip or article)", name);
        {
            const char *s = cfg_str(v, file, err, errlen);
            if (!s) return -1;
            if (!strcmp(s, "author")) r->per = PER_AUTHOR;
            else if (!strcmp(s, "ip")) r->per = PER_IP;
            else if (!strcmp(s, "article")) r->per = PER_ARTICLE;
            else return cfg_error(err, errlen, file, v, "'per' is author, ip or article, not '%s'", s);
        }
        if (!(v = cfg_get(n, "max"))) return cfg_error(err, errlen, file, n, "rule '%s' needs 'max'", name);
        if (cfg_long(v, 1, 1000000, &r->max, file, err, errlen)) return -1;
        r->window = 60;
        if ((v = cfg_get(n, "window_seconds")) && cfg_double(v, 1, 86400, &r->window, file, err, errlen)) return -1;
        break;
    case KIND_NEWCOMER:
        l = 0;
        if ((v = cfg_get(n, "max_posts")) && cfg_long(v, 0, 1000, &l, file, err, errlen)) return -1;
        r->max_posts = l;
        break;
    case KIND_LEARNED: {
        if (!(v = cfg_get(n, "label")))
            return cfg_error(err, errlen, file, n, "rule '%s' needs 'label' (spam or abuse)", name);
        const char *s = cfg_str(v, file, err, errlen);
        if (!s) return -1;
        r->label = learned_label_parse(s);
        if (r->label != LEARN_SPAM && r->label != LEARN_ABUSE)
            return cfg_error(err, errlen, file, v, "'label' is spam or abuse, not '%s'", s);
        r->min_examples = 20, r->threshold = 0.9, r->strong_threshold = 0;
        r->min_feature_docs = 2, r->max_weight = 3;
        if ((v = cfg_get(n, "min_examples")) && cfg_double(v, 1, 1e9, &r->min_examples, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "threshold")) && cfg_double(v, 0, 1, &r->threshold, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "strong_threshold"))) {
            if (cfg_double(v, 0.5, 1, &r->strong_threshold, file, err, errlen)) return -1;
            if (r->strong_threshold <= r->threshold)
                return cfg_error(err, errlen, file, v, "'strong_threshold' (%g) must be above 'threshold' (%g)",
                                 r->strong_threshold, r->threshold);
            if (!cfg_get(n, "strong_score"))
                return cfg_error(err, errlen, file, v, "'strong_threshold' needs a 'strong_score'");
        }
        if ((v = cfg_get(n, "strong_score"))) {
            if (cfg_double(v, -1000, 1000, &r->strong_score, file, err, errlen)) return -1;
            if (!cfg_get(n, "strong_threshold"))
                return cfg_error(err, errlen, file, v, "'strong_score' needs a 'strong_threshold'");
        }
        if ((v = cfg_get(n, "ham_threshold"))) {
            if (cfg_double(v, 0, 0.5, &r->ham_threshold, file, err, errlen)) return -1;
            if (!cfg_get(n, "ham_score"))
                return cfg_error(err, errlen, file, v, "'ham_threshold' needs a 'ham_score'");
        }
        if ((v = cfg_get(n, "ham_score"))) {
            if (cfg_double(v, -1000, 0, &r->ham_score, file, err, errlen)) return -1;
            if (!cfg_get(n, "ham_threshold"))
                return cfg_error(err, errlen, file, v, "'ham_score' needs a 'ham_threshold'");
        }
        if ((v = cfg_get(n, "min_feature_docs")) && cfg_double(v, 1, 1e6, &r->min_feature_docs, file, err, errlen)) return -1;
        if ((v = cfg_get(n, "max_weight")) && cfg_double(v, 0.1, 20, &r->max_weight, file, err, errlen)) return -1;
        if (r->action != DECISION_PUBLISH)
            return cfg_error(err, errlen, file, cfg_get(n, "action"), "a learned rule takes a 'score', not an 'action'");
        break;
    }
    }
    return 0;
}

rules_t *rules_load(const cfg_node *root, const char *file, const char *base_dir, char *err,
                    size_t errlen) {
    static const char *const mod_keys[] = {"hold_at", "reject_at", "reject_message",
                                           "trusted_after", NULL};
    static const char *const art_keys[] = {"match", "mode", NULL};
    rules_t *rs = xcalloc(1, sizeof *rs);
    rs->hold_at = 5;
    rs->reject_at = 10;
    rs->reject_message = xstrdup("Your comment was not published: it looks like spam or abuse. "
                                "Please keep to the discussion rules.");
    rs->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(rs->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(rs->mctx, DEPTH_LIMIT);
    char why[256];
    size_t where;
    rs->link_re = compile(link_pattern, PCRE2_CASELESS, why, sizeof why, &where);
    if (!rs->link_re) {
        snprintf(err, errlen, "internal link pattern: %s at %zu", why, where);
        goto fail;
    }
    rs->link_md = pcre2_match_data_create_from_pattern(rs->link_re, NULL);

    const cfg_node *m = cfg_get(root, "moderation"), *v;
    if (m) {
        if (cfg_expect(m, CFG_MAP, "moderation", file, err, errlen) ||
            cfg_check_keys(m, mod_keys, file, err, errlen))
            goto fail;
        if ((v = cfg_get(m, "hold_at")) && cfg_double(v, -1000, 1000, &rs->hold_at, file, err, errlen)) goto fail;
        if ((v = cfg_get(m, "reject_at")) && cfg_double(v, -1000, 1000, &rs->reject_at, file, err, errlen)) goto fail;
        if ((v = cfg_get(m, "trusted_after")) &&
            cfg_long(v, 0, 1000000, &rs->trusted_after, file, err, errlen))
            goto fail;
        if ((v = cfg_get(m, "reject_message"))) {
            const char *s = cfg_str(v, file, err, errlen);
            if (!s) goto fail;
            free(rs->reject_message);
            rs->reject_message = xstrdup(s);
        }
        if (rs->hold_at >= rs->reject_at)
            FAIL(cfg_get(m, "reject_at") ? cfg_get(m, "reject_at") : m,
                 "thresholds out of order: hold_at (%g) must be below reject_at (%g)", rs->hold_at,
                 rs->reject_at);
    }
    const cfg_node *list = cfg_get(root, "rules");
    if (list) {
        if (cfg_expect(list, CFG_SEQ, "rules", file, err, errlen)) goto fail;
        rs->rules = xcalloc(list->count + 1, sizeof *rs->rules);
        for (const cfg_node *n = list->child; n; n = n->next) {
            rule_t *r = &rs->rules[rs->nrules];
            int rc = load_rule(rs, r, n, file, base_dir, err, errlen);
            rs->nrules++;
            if (rc) goto fail;
        }
    }
    const cfg_node *arts = cfg_get(root, "articles");
    if (arts) {
        if (cfg_expect(arts, CFG_SEQ, "articles", file, err, errlen)) goto fail;
        rs->articles = xcalloc(arts->count + 1, sizeof *rs->articles);
        for (const cfg_node *n = arts->child; n; n = n->next) {
            if (cfg_expect(n, CFG_MAP, "an articles entry", file, err, errlen) ||
                cfg_check_keys(n, art_keys, file, err, errlen))
                goto fail;
            const cfg_node *mt = cfg_get(n, "match"), *md = cfg_get(n, "mode");
            if (!mt || !md) FAIL(n, "an articles entry needs 'match' (a pattern like live-*) and 'mode'");
            const char *ms = cfg_str(mt, file, err, errlen), *mode = cfg_str(md, file, err, errlen);
            if (!ms || !mode) goto fail;
            article_rule_t *a = &rs->articles[rs->narticles];
            if (!strcmp(mode, "open")) a->mode = ARTICLE_OPEN;
            else if (!strcmp(mode, "premoderated")) a->mode = ARTICLE_PREMODERATED;
            else if (!strcmp(mode, "closed")) a->mode = ARTICLE_CLOSED;
            else FAIL(md, "'mode' is open, premoderated or closed, not '%s'", mode);
            a->match = xstrdup(ms);
            rs->narticles++;
        }
    }
    return rs;
fail:
    rules_free(rs);
    return NULL;
}

void rules_summary(const rules_t *r, size_t *nrules, size_t *nwords) {
    *nrules = r ? (size_t)r->nrules : 0;
    *nwords = r ? r->nwords : 0;
}

article_mode_t rules_article_mode(const rules_t *r, const char *article) {
    for (int i = 0; r && i < r->narticles; i++)
        if (fnmatch(r->articles[i].match, article, 0) == 0) return r->articles[i].mode;
    return ARTICLE_OPEN;
}

void rules_describe(const rules_t *r, FILE *f) {
    fprintf(f, "hold at %g, reject at %g\n", r->hold_at, r->reject_at);
    for (int i = 0; i < r->nrules; i++) {
        const rule_t *x = &r->rules[i];
        char what[32];
        if (x->action) snprintf(what, sizeof what, "%s", x->action == DECISION_HOLD ? "hold" : "reject");
        else snprintf(what, sizeof what, "%+g", x->score);
        fprintf(f, "  %-10s %-24s %-7s %s\n", kind_names[x->kind], x->name, what,
                x->description ? x->description : "");
    }
    for (int i = 0; i < r->narticles; i++)
        fprintf(f, "  article %-20s %s\n", r->articles[i].match,
                r->articles[i].mode == ARTICLE_CLOSED ? "closed"
                : r->articles[i].mode == ARTICLE_PREMODERATED ? "premoderated" : "open");
}

/* ---- Rule sets shared with storage jobs ---- */

ruleset_t *ruleset_get(void) {
    atomic_fetch_add(&srv.ruleset->refs, 1);
    return srv.ruleset;
}

void ruleset_put(ruleset_t *rs) {
    if (atomic_fetch_sub(&rs->refs, 1) == 1) {
        rules_free(rs->rules);
        free(rs);
    }
}
