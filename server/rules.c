/* rules.c: the rule engine's evaluation. Rules are compiled from moderation.yml once
 * (rules_load.c) and read-only afterwards; rules_eval scores one post and records it in
 * the state that outlives reloads (rate windows, the duplicate memory).
 *
 * rules_eval runs on one thread at a time (the storage thread, or the command line):
 * each compiled pattern keeps its match data. */
#include "rules_impl.h"
#include "alloc.h"

#include <math.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "dict.h"
#include "log.h"
#include "rules_norm.h"

static atomic_ulong limit_hits;

unsigned long rules_limit_hits(void) { return atomic_load(&limit_hits); }

/* ---- State kept across reloads ---- */

typedef struct {
    double *t;      /* times of recent events, oldest first */
    size_t n, cap;
    double last;
} window_t;

struct rules_state {
    dict_t *windows;  /* "rule\x1fkey" -> window_t */
    dict_t *seen;     /* duplicate fingerprint -> window_t (one time) */
    unsigned long evals;
};

rules_state_t *rules_state_new(void) {
    rules_state_t *st = xcalloc(1, sizeof *st);
    st->windows = dict_new();
    st->seen = dict_new();
    return st;
}

static void window_free(void *p) {
    window_t *w = p;
    free(w->t);
    free(w);
}

void rules_state_free(rules_state_t *st) {
    if (!st) return;
    dict_free(st->windows, window_free);
    dict_free(st->seen, window_free);
    free(st);
}

/* Adds an event at now to key's window of `window` seconds; returns the events in it. */
static size_t window_add(dict_t *d, const char *key, double now, double window) {
    window_t *w = dict_get(d, key);
    if (!w) {
        if (dict_size(d) >= STATE_MAX_KEYS) return 1; /* full: do not grow past the bound */
        w = xcalloc(1, sizeof *w);
        dict_set(d, key, w, NULL);
    }
    size_t drop = 0;
    while (drop < w->n && w->t[drop] <= now - window) drop++;
    if (drop) memmove(w->t, w->t + drop, (w->n - drop) * sizeof *w->t);
    w->n -= drop;
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4;
        if (w->cap > 4096) { /* a window never needs more than its limit allows */
            w->cap = 4096;
            memmove(w->t, w->t + 1, (w->n - 1) * sizeof *w->t);
            w->n--;
        }
        w->t = xrealloc(w->t, w->cap * sizeof *w->t);
    }
    w->t[w->n++] = now;
    w->last = now;
    return w->n;
}

typedef struct {
    dict_t *d;
    double before;
    char **victims;
    size_t n, cap;
} sweep_arg;

static void sweep_one(const char *key, void *val, void *arg) {
    sweep_arg *a = arg;
    window_t *w = val;
    if (w->last < a->before) {
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 64;
            a->victims = xrealloc(a->victims, a->cap * sizeof *a->victims);
        }
        a->victims[a->n++] = xstrdup(key);
    }
}

/* Forgets keys untouched for a day (the longest window a rule may have). */
static void sweep(dict_t *d, double now) {
    sweep_arg a = {d, now - 86400, NULL, 0, 0};
    dict_each(d, sweep_one, &a);
    for (size_t i = 0; i < a.n; i++) {
        window_free(dict_del(d, a.victims[i]));
        free(a.victims[i]);
    }
    free(a.victims);
}

/* ---- Evaluation ---- */

/* The hits of one rule in one field, gathered before they become a rules_hit. */
typedef struct {
    size_t spans[MAX_SPANS][2];
    size_t nspans;
    size_t matches;
    double extra;      /* kind-specific score added to the rule's score */
} found_t;

static void add_span(found_t *f, size_t s, size_t e) {
    f->matches++;
    if (f->nspans < MAX_SPANS) {
        f->spans[f->nspans][0] = s;
        f->spans[f->nspans][1] = e;
        f->nspans++;
    }
}

/* Runs re over text, adding every match as a code point span. Returns -1 when a limit
 * stopped the match (counted and logged). */
static int find_regex(const rules_t *rs, pcre2_code *re, pcre2_match_data *md, const char *text,
                      found_t *f, void (*each)(const char *, size_t, size_t, found_t *, void *),
                      void *arg) {
    size_t len = strlen(text), off = 0;
    while (off <= len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)text, len, off, 0, md, rs->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_HEAPLIMIT) {
                atomic_fetch_add(&limit_hits, 1);
                log_warn("rules: a pattern hit its match limit (%d); treated as no match", rc);
                return -1;
            }
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t s = ov[0], e = ov[1];
        if (each)
            each(text, s, e, f, arg);
        else
            add_span(f, norm_cp_index(text, s), norm_cp_index(text, e));
        off = e > s ? e : e + 1;
        while (off < len && ((unsigned char)text[off] & 0xC0) == 0x80) off++;
        if (f->matches > 200) break;
    }
    return 0;
}

typedef struct {
    const norm_t *nt;
    found_t *f;
} word_arg;

static void on_word(size_t s, size_t e, void *arg) {
    word_arg *a = arg;
    add_span(a->f, a->nt->start[s], a->nt->end[e - 1]);
}

/* Host of a link match, lowercased, without scheme, www. and path; " dot " -> ".". */
static void link_host(const char *m, size_t len, char *out, size_t outlen) {
    char tmp[512];
    size_t n = len < sizeof tmp - 1 ? len : sizeof tmp - 1, o = 0;
    for (size_t i = 0; i < n; i++) tmp[i] = (char)((m[i] >= 'A' && m[i] <= 'Z') ? m[i] + 32 : m[i]);
    tmp[n] = '\0';
    char *p = tmp;
    if (!strncmp(p, "http://", 7)) p += 7;
    else if (!strncmp(p, "https://", 8)) p += 8;
    if (!strncmp(p, "www.", 4)) p += 4;
    for (; *p && *p != '/' && *p != '?' && *p != '#' && o + 1 < outlen; p++) {
        if (*p == ' ' || *p == '(' || *p == ')' || *p == '[' || *p == ']' || *p == '{' || *p == '}')
            continue;
        if (!strncmp(p, "dot", 3) && o && out[o - 1] != '.') {
            out[o++] = '.';
            p += 2;
            continue;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
}

static bool domain_in(char **list, int n, const char *host) {
    size_t hl = strlen(host);
    for (int i = 0; i < n; i++) {
        size_t dl = strlen(list[i]);
        if (hl == dl ? !strcmp(host, list[i])
                     : (hl > dl && host[hl - dl - 1] == '.' && !strcmp(host + hl - dl, list[i])))
            return true;
    }
    return false;
}

typedef struct {
    const rule_t *r;
    size_t denied, counted;
    char *mask;     /* the text with every link blanked, to count the words left */
} link_arg;

static void on_link(const char *text, size_t s, size_t e, found_t *f, void *arg) {
    link_arg *a = arg;
    char host[256];
    link_host(text + s, e - s, host, sizeof host);
    if (domain_in(a->r->allow, a->r->nallow, host)) return;
    if (domain_in(a->r->deny, a->r->ndeny, host)) a->denied++;
    a->counted++;
    if (a->mask) memset(a->mask + s, ' ', e - s);
    add_span(f, norm_cp_index(text, s), norm_cp_index(text, e));
}

static void find_shouting(const rule_t *r, const char *text, found_t *f) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(text);
    long upper = 0, letters = 0;
    size_t ncp = 0;
    while (left > 0) {
        if (*p < 0x80) { /* ASCII: no table lookup */
            if (*p >= 'A' && *p <= 'Z') upper++, letters++;
            else if (*p >= 'a' && *p <= 'z') letters++;
            p++, left--, ncp++;
            continue;
        }
        int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) break;
        p += n, left -= n, ncp++;
        utf8proc_category_t c = utf8proc_category(cp);
        if (c == UTF8PROC_CATEGORY_LU) upper++, letters++;
        else if (c == UTF8PROC_CATEGORY_LL) letters++;
    }
    if (letters >= r->min_letters && (double)upper / (double)letters >= r->ratio)
        add_span(f, 0, ncp);
}

static bool is_emoji(int32_t cp) {
    return (cp >= 0x1F300 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF);
}

static void find_repetition(const rule_t *r, const char *text, const norm_t *nt, found_t *f) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(text);
    int32_t prev = -1;
    size_t idx = 0, run_start = 0, run = 0, marks = 0, mark_start = 0;
    while (left >= 0) {
        int32_t cp = -2;
        utf8proc_ssize_t n = 0;
        if (left > 0) {
            if (*p < 0x80) {
                cp = *p;
                n = 1;
            } else {
                n = utf8proc_iterate(p, left, &cp);
                if (n <= 0) break;
            }
        }
        /* a run of one character */
        if (cp == prev && cp != ' ') {
            run++;
        } else {
            long limit = is_emoji(prev) ? r->max_emoji_run : r->max_char_run;
            if (prev >= 0 && !(prev >= '0' && prev <= '9') && (long)run > limit)
                add_span(f, run_start, idx);
            run = 1;
            run_start = idx;
        }
        /* stacked combining marks */
        if (cp >= 0x300 && utf8proc_category(cp) == UTF8PROC_CATEGORY_MN) {
            if (marks++ == 0) mark_start = idx;
        } else {
            if ((long)marks > r->max_marks) add_span(f, mark_start ? mark_start - 1 : 0, idx);
            marks = 0;
        }
        prev = cp;
        if (left == 0) break;
        p += n, left -= n, idx++;
    }
    /* the same word again and again */
    const char *t = nt->text;
    size_t i = 1, wcount = 0, wstart = 0, pstart = 0, plen = 0;
    while (i < nt->len) {
        size_t s = i;
        while (i < nt->len && t[i] != ' ') i++;
        size_t len = i - s;
        if (len) {
            if (plen == len && !memcmp(t + pstart, t + s, len)) {
                wcount++;
            } else {
                if ((long)wcount >= r->max_word_repeat)
                    add_span(f, nt->start[wstart], nt->end[pstart + plen - 1]);
                wcount = 1;
                wstart = s;
            }
            pstart = s, plen = len;
        }
        i++;
    }
    if ((long)wcount >= r->max_word_repeat && plen)
        add_span(f, nt->start[wstart], nt->end[pstart + plen - 1]);
}

/* Words of two or more letters in text (what is left of a comment besides its links). */
static size_t count_words(const char *text) {
    size_t n = 0, letters = 0;
    for (const unsigned char *p = (const unsigned char *)text;; p++) {
        if (*p && (*p >= 0x80 || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))) {
            letters++;
            continue;
        }
        if (letters >= 2) n++;
        letters = 0;
        if (!*p) break;
    }
    return n;
}

/* Builds the result's hit for rule r in field fd. */
static void push_hit(rules_result *out, const rule_t *r, rules_field_t fd, const found_t *f,
                     double score) {
    out->hits = xrealloc(out->hits, (out->nhits + 1) * sizeof *out->hits);
    rules_hit *h = &out->hits[out->nhits++];
    memset(h, 0, sizeof *h);
    h->rule = xstrdup(r->name);
    h->score = score;
    h->action = r->action == DECISION_HOLD ? xstrdup("hold")
                : r->action == DECISION_REJECT ? xstrdup("reject") : NULL;
    h->field = fd;
    if (f && f->nspans) {
        h->nspans = f->nspans;
        h->spans = xmalloc(f->nspans * sizeof *h->spans);
        memcpy(h->spans, f->spans, f->nspans * sizeof *h->spans);
    }
}

static void fire(rules_result *out, const rule_t *r, rules_field_t fd, const found_t *f,
                 bool first, decision_t *forced, const char **message) {
    double score = 0;
    if (first && r->action == DECISION_PUBLISH) {
        score = r->score + (f ? f->extra : 0);
        if (f && f->matches > 1) score += r->each * (double)(f->matches - 1);
        if (r->max_score > 0 && score > r->max_score) score = r->max_score;
    }
    if (r->action > *forced) *forced = r->action;
    if (r->message && !*message) *message = r->message;
    out->score += score;
    push_hit(out, r, fd, f, score);
}

static int span_cmp(const void *a, const void *b) {
    const size_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Sorts f's spans and joins those that overlap or touch (a word and the bigrams it is
 * part of). */
static void merge_spans(found_t *f) {
    if (f->nspans < 2) return;
    qsort(f->spans, f->nspans, sizeof f->spans[0], span_cmp);
    size_t w = 0;
    for (size_t i = 1; i < f->nspans; i++) {
        if (f->spans[i][0] <= f->spans[w][1]) {
            if (f->spans[i][1] > f->spans[w][1]) f->spans[w][1] = f->spans[i][1];
        } else {
            w++;
            f->spans[w][0] = f->spans[i][0], f->spans[w][1] = f->spans[i][1];
        }
    }
    f->nspans = w + 1;
}

/* A learned rule: scores the post's title and body with the model; fires when the
 * probability of the rule's label reaches its threshold (strong_score past
 * strong_threshold). Its spans are the occurrences of the features that weighed most. */
static void eval_learned(const rule_t *r, const rules_input *in, const char *const texts[3],
                         rules_result *out, decision_t *forced, const char **message) {
    /* silent until the model has seen min_examples of the label and of ham: no need to
     * cut the text into features (the model of a new site, and of a bench) */
    double docs[LEARN_NLABELS];
    learned_model_docs(in->model, docs);
    if (docs[r->label] < r->min_examples || docs[LEARN_HAM] < r->min_examples) return;
    learned_feats feats = {0};
    for (int fd = FIELD_TITLE; fd <= FIELD_BODY; fd++)
        if ((r->fields & (1u << fd)) && *texts[fd] && learned_features(texts[fd], fd, &feats)) {
            learned_feats_free(&feats);
            return;
        }
    learned_params p = {.min_examples = r->min_examples, .min_feature_docs = r->min_feature_docs,
                        .max_weight = r->max_weight, .alpha = 0.5};
    learned_score sc;
    learned_model_score(in->model, (learn_label_t)r->label, &feats, &p, &sc);
    bool spam_like = sc.probability >= r->threshold;
    if (sc.ready && (spam_like || (r->ham_threshold > 0 && sc.probability <= r->ham_threshold))) {
        double score = !spam_like ? r->ham_score
                       : r->strong_threshold > 0 && sc.probability >= r->strong_threshold
                           ? r->strong_score : r->score;
        found_t f[2];
        memset(f, 0, sizeof f);
        for (size_t i = 0; spam_like && i < feats.n; i++) {
            const learned_occ *o = &feats.occ[i];
            for (size_t k = 0; k < sc.ntop; k++)
                if (!strcmp(o->text, sc.top[k].text)) add_span(&f[o->field], o->start, o->end);
        }
        bool first = true;
        for (int fd = FIELD_BODY; fd >= FIELD_TITLE; fd--) {
            if (!f[fd].nspans && !(fd == FIELD_BODY && !f[FIELD_TITLE].nspans)) continue;
            merge_spans(&f[fd]);
            f[fd].matches = 1;
            f[fd].extra = score - r->score;
            fire(out, r, (rules_field_t)fd, &f[fd], first, forced, message);
            out->hits[out->nhits - 1].probability = sc.probability < 1e-6 ? 1e-6 : sc.probability;
            first = false;
        }
    }
    learned_feats_free(&feats);
}

/* The state key of a rate or duplicate rule for this post into out; 0 when the rule does
 * not apply (no author or address; a body too short to call a duplicate). */
static int state_key(const rule_t *r, const rules_input *in, const norm_t *body, char *out,
                     size_t outlen) {
    if (r->kind == KIND_RATE) {
        const char *who = r->per == PER_AUTHOR ? in->author
                          : r->per == PER_IP ? in->ip_hash : in->article;
        if (!who || !*who) return 0;
        snprintf(out, outlen, "rate:%s:%s", r->name, who);
        return 1;
    }
    if (!body || body->len < 3) return 0;
    unsigned char h[16];
    crypto_generichash_state gs;
    crypto_generichash_init(&gs, NULL, 0, sizeof h);
    crypto_generichash_update(&gs, (const unsigned char *)r->name, strlen(r->name) + 1);
    if (r->by_author)
        crypto_generichash_update(&gs, (const unsigned char *)in->author, strlen(in->author) + 1);
    crypto_generichash_update(&gs, (const unsigned char *)body->text, body->len);
    crypto_generichash_final(&gs, h, sizeof h);
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(out, outlen, "dup:%s", hex);
    return 1;
}

size_t rules_shared_keys(const rules_t *rs, const rules_input *in, rules_shared_key *out,
                         size_t max) {
    norm_t body;
    bool have = !norm_text(in->body ? in->body : "", strlen(in->body ? in->body : ""), &body);
    size_t n = 0;
    for (int i = 0; i < rs->nrules && n < max; i++) {
        const rule_t *r = &rs->rules[i];
        if (r->kind != KIND_RATE && r->kind != KIND_DUPLICATE) continue;
        out[n].window_ms = (long)(r->window * 1000);
        if (!state_key(r, in, have ? &body : NULL, out[n].key, sizeof out[n].key)) out[n].key[0] = '\0';
        n++;
    }
    if (have) norm_free(&body);
    return n;
}

/* Text for patterns and links without its invisible formatting characters (Unicode
 * category Cf: zero-width spaces and joiners, the byte-order mark, soft hyphens, bidi
 * controls): "sub\u200Bscribe" is "subscribe" to a reader and must be to a pattern too, and
 * a link followed by U+FEFF is still a link. The word lists' folding drops them already
 * (rules_norm.c). map[i] is the code point index in the original of the result's i-th
 * code point, so that spans are reported on the text as posted. Returns false (and
 * nothing allocated) when the text has none. */
typedef struct {
    char *text;
    size_t *map;
} plain_t;

static bool plain_text(const char *text, plain_t *out) {
    /* first only look, without allocating: most texts have none */
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(text);
    size_t len = (size_t)left, first = len; /* byte offset of the first Cf */
    while (left > 0) {
        if (*p < 0x80) { /* Cf lives outside ASCII */
            p++, left--;
            continue;
        }
        int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) n = 1, cp = -1;
        if (cp >= 0 && utf8proc_category(cp) == UTF8PROC_CATEGORY_CF) {
            first = len - (size_t)left;
            break;
        }
        p += n, left -= n;
    }
    if (first == len) return false;
    size_t ncp = norm_cp_index(text, first), o = first, kept = ncp;
    char *t = xmalloc(len + 1);
    size_t *map = xmalloc((len + 1) * sizeof *map);
    memcpy(t, text, first);
    for (size_t i = 0; i < ncp; i++) map[i] = i;
    while (left > 0) {
        int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) n = 1, cp = -1; /* not UTF-8: kept byte for byte */
        if (cp < 0 || utf8proc_category(cp) != UTF8PROC_CATEGORY_CF) {
            memcpy(t + o, p, (size_t)n);
            o += (size_t)n;
            map[kept++] = ncp;
        }
        p += n, left -= n, ncp++;
    }
    t[o] = '\0';
    map[kept] = ncp; /* the end */
    out->text = t;
    out->map = map;
    return true;
}

/* Spans found on a plain text, moved onto the original's code points. */
static void spans_to_original(found_t *f, const size_t *map) {
    for (size_t i = 0; i < f->nspans; i++) {
        size_t s = f->spans[i][0], e = f->spans[i][1];
        f->spans[i][0] = map[s];
        f->spans[i][1] = e > s ? map[e - 1] + 1 : map[s];
    }
}

int rules_eval(const rules_t *rs, rules_state_t *st, const rules_input *in, rules_result *out) {
    memset(out, 0, sizeof *out);
    const char *texts[3] = {in->title ? in->title : "", in->body ? in->body : "",
                            in->name ? in->name : ""};
    norm_t norms[3];
    bool have_norm[3] = {false, false, false};
    plain_t plains[3];
    bool have_plain[3];
    const char *ptexts[3]; /* texts for patterns and links */
    for (int fd = 0; fd < 3; fd++) {
        have_plain[fd] = plain_text(texts[fd], &plains[fd]);
        ptexts[fd] = have_plain[fd] ? plains[fd].text : texts[fd];
    }
    decision_t forced = DECISION_PUBLISH;
    const char *message = NULL;
    size_t shared_at = 0;

    for (int i = 0; i < rs->nrules; i++) {
        const rule_t *r = &rs->rules[i];
        bool fired = false;
        switch (r->kind) {
        case KIND_PATTERN:
        case KIND_WORDS:
        case KIND_LINKS:
        case KIND_SHOUTING:
        case KIND_REPETITION: {
            size_t total_links = 0, denied = 0, words_left = 0;
            found_t links[3];
            memset(links, 0, sizeof links);
            for (int fd = 0; fd < 3; fd++) {
                if (!(r->fields & (1u << fd)) || !*texts[fd]) continue;
                found_t f;
                memset(&f, 0, sizeof f);
                if ((r->kind == KIND_WORDS || r->kind == KIND_REPETITION) && !have_norm[fd]) {
                    if (norm_text(texts[fd], strlen(texts[fd]), &norms[fd])) continue;
                    have_norm[fd] = true;
                }
                if (r->kind == KIND_PATTERN) {
                    find_regex(rs, r->re, r->md, ptexts[fd], &f, NULL, NULL);
                    if (have_plain[fd]) spans_to_original(&f, plains[fd].map);
                } else if (r->kind == KIND_WORDS) {
                    word_arg a = {&norms[fd], &f};
                    words_match(r->words, norms[fd].text, norms[fd].run, norms[fd].len, on_word, &a);
                } else if (r->kind == KIND_LINKS) {
                    /* every link form has a dot, a colon or a spelled-out "dot" */
                    if (!strpbrk(ptexts[fd], ".:") && !strcasestr(ptexts[fd], "dot")) continue;
                    link_arg a = {r, 0, 0, xstrdup(ptexts[fd])};
                    find_regex(rs, rs->link_re, rs->link_md, ptexts[fd], &f, on_link, &a);
                    if (have_plain[fd]) spans_to_original(&f, plains[fd].map);
                    total_links += a.counted;
                    denied += a.denied;
                    if (a.counted) words_left += count_words(a.mask);
                    free(a.mask);
                    links[fd] = f;
                    continue; /* scored once over all fields, below */
                } else if (r->kind == KIND_SHOUTING) {
                    find_shouting(r, texts[fd], &f);
                } else {
                    find_repetition(r, texts[fd], &norms[fd], &f);
                }
                if (f.matches) {
                    fire(out, r, (rules_field_t)fd, &f, !fired, &forced, &message);
                    fired = true;
                }
            }
            if (r->kind == KIND_LINKS) {
                size_t over = total_links > (size_t)r->free_links ? total_links - (size_t)r->free_links : 0;
                if (!over && !denied) break;
                /* score per link past the free ones, per denied domain, and for links in an
                 * author's first post */
                double total = (over ? r->score + r->each * (double)(over - 1) : 0) +
                               r->deny_score * (double)denied +
                               (over && (long)words_left <= r->bare_words ? r->bare_score : 0) +
                               (in->author_posts == 0 ? r->first_post_score : 0);
                for (int fd = 0; fd < 3; fd++) {
                    if (!links[fd].nspans) continue;
                    links[fd].extra = total - r->score; /* fire() adds the score back */
                    links[fd].matches = 1;
                    fire(out, r, (rules_field_t)fd, &links[fd], !fired, &forced, &message);
                    fired = true;
                }
            }
            break;
        }
        case KIND_DUPLICATE:
        case KIND_RATE: {
            size_t k = shared_at++;
            char key[200];
            if (r->kind == KIND_DUPLICATE && !have_norm[FIELD_BODY] &&
                !norm_text(texts[FIELD_BODY], strlen(texts[FIELD_BODY]), &norms[FIELD_BODY]))
                have_norm[FIELD_BODY] = true;
            if (!state_key(r, in, have_norm[FIELD_BODY] ? &norms[FIELD_BODY] : NULL, key, sizeof key))
                break;
            long n = in->shared_counts ? in->shared_counts[k]
                                       : (long)window_add(r->kind == KIND_DUPLICATE ? st->seen : st->windows,
                                                          key, in->now, r->window);
            if (r->kind == KIND_DUPLICATE ? n > 1 : n > r->max) {
                found_t f;
                memset(&f, 0, sizeof f);
                f.matches = 1;
                fire(out, r, FIELD_NONE, r->kind == KIND_DUPLICATE ? &f : NULL, true, &forced, &message);
            }
            break;
        }
        case KIND_NEWCOMER:
            if (!in->trusted && in->author_posts >= 0 && in->author_posts <= r->max_posts)
                fire(out, r, FIELD_NONE, NULL, true, &forced, &message);
            break;
        case KIND_LEARNED:
            if (in->model) eval_learned(r, in, texts, out, &forced, &message);
            break;
        }
    }
    for (int fd = 0; fd < 3; fd++) {
        if (have_norm[fd]) norm_free(&norms[fd]);
        if (have_plain[fd]) free(plains[fd].text), free(plains[fd].map);
    }
    if (++st->evals % 4096 == 0) {
        sweep(st->windows, in->now);
        sweep(st->seen, in->now);
    }

    /* A refusal is for what the written rules are sure of: what the learned model added
     * may hold a post, never refuse it (a refused post is only seen in the Refused
     * queue; a held one is seen by a moderator first). */
    double learned_added = 0;
    for (size_t i = 0; i < out->nhits; i++)
        if (out->hits[i].probability > 0 && out->hits[i].score > 0) learned_added += out->hits[i].score;
    decision_t d = out->score - learned_added >= rs->reject_at ? DECISION_REJECT
                   : out->score >= rs->hold_at                  ? DECISION_HOLD
                                                                : DECISION_PUBLISH;
    if (forced > d) d = forced;
    out->decision = d;
    if (d == DECISION_REJECT) out->message = xstrdup(message ? message : rs->reject_message);
    return 0;
}

void rules_result_free(rules_result *res) {
    for (size_t i = 0; i < res->nhits; i++) {
        free(res->hits[i].rule);
        free(res->hits[i].action);
        free(res->hits[i].spans);
    }
    free(res->hits);
    free(res->message);
    memset(res, 0, sizeof *res);
}

long rules_trusted_after(const rules_t *r) { return r->trusted_after; }

long rules_author_posts_needed(const rules_t *r) {
    long need = 1;
    for (int i = 0; i < r->nrules; i++)
        if (r->rules[i].kind == KIND_NEWCOMER && r->rules[i].max_posts + 1 > need)
            need = r->rules[i].max_posts + 1;
    return need;
}

const char *rules_decision_name(decision_t d) {
    return d == DECISION_REJECT ? "reject" : d == DECISION_HOLD ? "hold" : "publish";
}

static const char *field_name(rules_field_t f) {
    return f == FIELD_TITLE ? "title" : f == FIELD_BODY ? "body" : f == FIELD_NAME ? "name" : NULL;
}

json_t *rules_result_json(const rules_result *res) {
    json_t *rules = json_array();
    for (size_t i = 0; i < res->nhits; i++) {
        const rules_hit *h = &res->hits[i];
        json_t *spans = json_array();
        for (size_t k = 0; k < h->nspans; k++)
            json_array_append_new(spans, json_pack("[I,I]", (json_int_t)h->spans[k][0],
                                                   (json_int_t)h->spans[k][1]));
        const char *fn = field_name(h->field);
        json_t *o = json_pack("{s:s, s:f, s:o, s:o}", "name", h->rule, "score", h->score,
                              "field", fn ? json_string(fn) : json_null(), "spans", spans);
        if (h->action) json_object_set_new(o, "action", json_string(h->action));
        if (h->probability > 0)
            json_object_set_new(o, "probability", json_real(round(h->probability * 1e6) / 1e6));
        json_array_append_new(rules, o);
    }
    json_t *j = json_pack("{s:s, s:f, s:o}", "decision", rules_decision_name(res->decision),
                          "score", round(res->score * 1000) / 1000, "rules", rules);
    if (res->message) json_object_set_new(j, "message", json_string(res->message));
    return j;
}

