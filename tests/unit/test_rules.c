/* Unit tests for the rule engine: every rule kind, each obfuscation class, thresholds
 * and forced actions, span offsets on multibyte text, failed loads, runaway patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "rules.h"

static char dir[64];

static void write_file(const char *name, const char *text) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/parley-rules-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    write_file("bad.txt", "# insults\nidiot\nbitch*\nass\nfree money\nbig phrase here\n");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* Loads rules from YAML text; NULL (with err) on failure. */
static rules_t *load(const char *yaml, char *err) {
    cfg_node *root = cfg_parse_string(yaml, strlen(yaml), "test.yml", err, CFG_ERRLEN);
    if (!root) return NULL;
    rules_t *r = rules_load(root, "test.yml", dir, err, CFG_ERRLEN);
    cfg_free(root);
    return r;
}

static rules_t *must_load(const char *yaml) {
    char err[CFG_ERRLEN] = "";
    rules_t *r = load(yaml, err);
    if (!r) fail_msg("load failed: %s", err);
    return r;
}

static rules_result eval_full(rules_t *r, rules_state_t *st, const char *title, const char *body,
                              const char *author, long posts, double now) {
    rules_input in = {.title = title, .body = body, .name = "Reader", .article = "a1",
                      .author = author, .ip_hash = "ip1", .author_posts = posts, .now = now};
    rules_result res;
    assert_int_equal(rules_eval(r, st, &in, &res), 0);
    return res;
}

static rules_result eval(rules_t *r, const char *body) {
    rules_state_t *st = rules_state_new();
    rules_result res = eval_full(r, st, "", body, "g:x", -1, 1000);
    rules_state_free(st);
    return res;
}

static const rules_hit *hit(const rules_result *res, const char *name) {
    for (size_t i = 0; i < res->nhits; i++)
        if (!strcmp(res->hits[i].rule, name)) return &res->hits[i];
    return NULL;
}

#define WORDS_YAML                                                                              \
    "moderation: {hold_at: 5, reject_at: 10}\n"                                                 \
    "rules:\n  - {name: bad, kind: words, lists: [bad.txt], score: 5}\n"

static void test_words_obfuscation(void **state) {
    (void)state;
    rules_t *r = must_load(WORDS_YAML);
    const char *caught[] = {
        "you IDIOT",                 /* case */
        "what an ｉｄｉｏｔ",          /* fullwidth (NFKC) */
        "what an іdіоt",             /* Cyrillic look-alikes */
        "what an 1d10t",             /* leetspeak */
        "what an i.d.i.o.t",         /* separators inside the word */
        "what an i d i o t",
        "what an i-d-i-o-t",
        "what an idiiiiiot",         /* stretched letters */
        "what an id\u200Biot",       /* zero-width space */
        "what an ídíót",             /* accents */
        "BITCHES everywhere",        /* prefix entry */
        "ur an a$$",                 /* symbols */
        "get f r e e money now",     /* phrase */
    };
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++) {
        rules_result res = eval(r, caught[i]);
        if (!hit(&res, "bad")) fail_msg("not caught: %s", caught[i]);
        assert_int_equal(res.decision, DECISION_HOLD);
        rules_result_free(&res);
    }
    const char *clean[] = {"as a matter of fact", "idiotic is not listed", "scunthorpe",
                           "the big phrase", "passing"};
    for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
        rules_result res = eval(r, clean[i]);
        if (res.nhits) fail_msg("false match: %s", clean[i]);
        assert_int_equal(res.decision, DECISION_PUBLISH);
        rules_result_free(&res);
    }
    rules_free(r);
}

static void test_spans_multibyte(void **state) {
    (void)state;
    rules_t *r = must_load(WORDS_YAML);
    /* "é😀 the " is 7 code points; the word starts at code point 7 though it starts at byte
     * 11; through obfuscation the span covers the original letters and dots */
    rules_result res = eval(r, "é😀 the i.d.i.o.t!");
    const rules_hit *h = hit(&res, "bad");
    assert_non_null(h);
    assert_int_equal(h->field, FIELD_BODY);
    assert_int_equal(h->nspans, 1);
    assert_int_equal(h->spans[0][0], 7);
    assert_int_equal(h->spans[0][1], 16);
    json_t *j = rules_result_json(&res);
    json_t *sp = json_object_get(json_array_get(json_object_get(j, "rules"), 0), "spans");
    assert_int_equal(json_integer_value(json_array_get(json_array_get(sp, 0), 0)), 7);
    assert_string_equal(json_string_value(json_object_get(j, "decision")), "hold");
    json_decref(j);
    rules_result_free(&res);
    rules_free(r);
}

static void test_pattern_and_thresholds(void **state) {
    (void)state;
    rules_t *r = must_load("moderation: {hold_at: 5, reject_at: 10}\n"
                           "rules:\n"
                           "  - {name: p1, kind: pattern, pattern: 'buy now', score: 4}\n"
                           "  - {name: p2, kind: pattern, pattern: 'cheap', score: 3, each: 2}\n"
                           "  - {name: force, kind: pattern, pattern: 'forbidden', action: reject}\n"
                           "  - {name: heldword, kind: pattern, pattern: 'review me', action: hold}\n");
    rules_result res = eval(r, "BUY NOW");
    assert_int_equal(res.decision, DECISION_PUBLISH);
    assert_true(res.score == 4);
    rules_result_free(&res);
    res = eval(r, "buy now cheap");
    assert_int_equal(res.decision, DECISION_HOLD);
    rules_result_free(&res);
    res = eval(r, "buy now cheap cheap cheap"); /* 4 + 3 + 2*2 = 11 */
    assert_int_equal(res.decision, DECISION_REJECT);
    assert_non_null(res.message);
    rules_result_free(&res);
    res = eval(r, "this is forbidden");
    assert_int_equal(res.decision, DECISION_REJECT);
    assert_string_equal(hit(&res, "force")->action, "reject");
    rules_result_free(&res);
    res = eval(r, "please review me");
    assert_int_equal(res.decision, DECISION_HOLD);
    rules_result_free(&res);
    rules_free(r);
}

/* max_score bounds what one rule adds however often it matches: a weak signal alone
 * never holds, with another rule it does. */
static void test_max_score(void **state) {
    (void)state;
    rules_t *r = must_load("moderation: {hold_at: 5, reject_at: 10}\n"
                           "rules:\n"
                           "  - {name: weak, kind: pattern, pattern: 'vote|sell|buy', score: 2.5, each: 1.5,"
                           " max_score: 4.5}\n"
                           "  - {name: other, kind: pattern, pattern: 'my channel', score: 2}\n");
    rules_result res = eval(r, "vote, sell, buy, vote, sell"); /* 2.5 + 4*1.5 = 8.5, bounded */
    assert_int_equal(res.decision, DECISION_PUBLISH);
    assert_true(hit(&res, "weak")->score == 4.5);
    rules_result_free(&res);
    res = eval(r, "vote"); /* under the bound: as scored */
    assert_true(hit(&res, "weak")->score == 2.5);
    rules_result_free(&res);
    res = eval(r, "buy and sell on my channel");
    assert_int_equal(res.decision, DECISION_HOLD);
    rules_result_free(&res);
    rules_free(r);
    char err[CFG_ERRLEN] = "";
    assert_null(load("rules:\n  - {name: w, kind: pattern, pattern: x, score: 1, max_score: 0}\n", err));
    assert_non_null(strstr(err, "test.yml:2"));
}

/* Invisible formatting characters (Cf) do not hide a pattern or a link, and spans stay on
 * the text as posted. */
static void test_invisible_characters(void **state) {
    (void)state;
    rules_t *r = must_load("moderation: {hold_at: 5, reject_at: 10}\n"
                           "rules:\n"
                           "  - {name: promo, kind: pattern, pattern: '\\bsubscribe to my channel\\b', score: 5}\n"
                           "  - {name: page, kind: pattern, pattern: 'facebook\\.com/\\w+(\\s|$)', score: 2}\n"
                           "  - {name: links, kind: links, score: 3}\n");
    /* U+200B in "subscribe", U+00AD (soft hyphen) in "channel": 2 + 3 bytes hidden */
    rules_result res = eval(r, "hi! sub\u200bscribe to my chan\u00adnel");
    const rules_hit *h = hit(&res, "promo");
    assert_non_null(h);
    assert_int_equal(h->nspans, 1);
    assert_int_equal(h->spans[0][0], 4);  /* "s" of "sub" */
    assert_int_equal(h->spans[0][1], 29); /* past "nel": 29 code points, 2 of them hidden */
    assert_int_equal(res.decision, DECISION_HOLD);
    rules_result_free(&res);
    /* a link with U+FEFF after it still ends the text */
    res = eval(r, "join us https://www.facebook.com/someshop\ufeff");
    assert_non_null(hit(&res, "page"));
    assert_non_null(hit(&res, "links"));
    assert_int_equal(res.decision, DECISION_HOLD);
    rules_result_free(&res);
    /* without them nothing changes */
    res = eval(r, "I subscribe to my channel of news");
    h = hit(&res, "promo");
    assert_non_null(h);
    assert_int_equal(h->spans[0][0], 2);
    assert_int_equal(h->spans[0][1], 25);
    rules_result_free(&res);
    rules_free(r);
}

/* A bare domain with a country's top-level domain is a link when a path follows it; a
 * missing space after a full stop ("job.it") is not. */
static void test_bare_domains(void **state) {
    (void)state;
    rules_t *r = must_load("moderation: {hold_at: 5, reject_at: 10}\n"
                           "rules:\n  - {name: links, kind: links, score: 3}\n");
    const char *links[] = {"she loves it. trojmiasto.pl/Vena-Bus-Taxi.html", "see shop.example.com.br/x",
                           "example.com", "www.example.nl"};
    for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
        rules_result res = eval(r, links[i]);
        if (!hit(&res, "links")) fail_msg("no link found in \"%s\"", links[i]);
        rules_result_free(&res);
    }
    const char *prose[] = {"great job.it was fine", "rated 3.5/10 and/or more", "the U.S/Mexico border"};
    for (size_t i = 0; i < sizeof prose / sizeof *prose; i++) {
        rules_result res = eval(r, prose[i]);
        if (hit(&res, "links")) fail_msg("a link found in \"%s\"", prose[i]);
        rules_result_free(&res);
    }
    rules_free(r);
}

static void test_links_shouting_repetition(void **state) {
    (void)state;
    rules_t *r = must_load("moderation: {hold_at: 5, reject_at: 100}\n"
                           "rules:\n"
                           "  - {name: links, kind: links, score: 3, each: 2, deny: [bad.example],"
                           " deny_score: 10, allow: [good.org], first_post_score: 2}\n"
                           "  - {name: caps, kind: shouting, min_letters: 10, ratio: 0.7, score: 2}\n"
                           "  - {name: rep, kind: repetition, max_char_run: 5, max_word_repeat: 3,"
                           " max_marks: 3, score: 2}\n");
    rules_result res = eval(r, "see https://x.example/a and www.y.net and z.com");
    assert_true(res.score == 3 + 2 + 2);
    assert_int_equal(hit(&res, "links")->nspans, 3);
    rules_result_free(&res);
    res = eval(r, "see example dot com");
    assert_non_null(hit(&res, "links"));
    rules_result_free(&res);
    res = eval(r, "https://good.org/page is fine");
    assert_null(hit(&res, "links"));
    rules_result_free(&res);
    res = eval(r, "http://bad.example/x");
    assert_true(res.score >= 13);
    rules_result_free(&res);
    rules_state_t *st = rules_state_new();
    res = eval_full(r, st, "", "my first post with http://site.com", "g:new", 0, 1);
    assert_true(res.score == 5);
    rules_result_free(&res);
    rules_state_free(st);
    res = eval(r, "THIS IS ALL CAPITALS REALLY");
    assert_non_null(hit(&res, "caps"));
    rules_result_free(&res);
    res = eval(r, "This is Normal Text here");
    assert_null(hit(&res, "caps"));
    rules_result_free(&res);
    res = eval(r, "nooooooo way");
    assert_non_null(hit(&res, "rep"));
    rules_result_free(&res);
    res = eval(r, "spam spam spam spam");
    assert_non_null(hit(&res, "rep"));
    rules_result_free(&res);
    res = eval(r, "Z\xCC\x81\xCC\x82\xCC\x83\xCC\x84\xCC\x85" "algo"); /* five stacked marks */
    assert_non_null(hit(&res, "rep"));
    rules_result_free(&res);
    res = eval(r, "a calm sentence");
    assert_int_equal(res.nhits, 0);
    rules_result_free(&res);
    rules_free(r);
}

static void test_stateful(void **state) {
    (void)state;
    rules_t *r = must_load("moderation: {hold_at: 5, reject_at: 100}\n"
                           "rules:\n"
                           "  - {name: dup, kind: duplicate, scope: anyone, window_seconds: 60, score: 5}\n"
                           "  - {name: dupa, kind: duplicate, scope: author, window_seconds: 600, score: 1}\n"
                           "  - {name: flood, kind: rate, per: author, max: 3, window_seconds: 10, action: hold}\n"
                           "  - {name: new, kind: newcomer, max_posts: 0, score: 1}\n");
    rules_state_t *st = rules_state_new();
    rules_result res = eval_full(r, st, "", "Same words here", "g:a", 0, 100);
    assert_non_null(hit(&res, "new"));
    assert_null(hit(&res, "dup"));
    rules_result_free(&res);
    res = eval_full(r, st, "", "SAME   words here!", "g:b", 5, 110); /* normalised alike */
    assert_non_null(hit(&res, "dup"));
    assert_null(hit(&res, "dupa"));
    assert_null(hit(&res, "new"));
    rules_result_free(&res);
    res = eval_full(r, st, "", "Same words here", "g:c", 5, 200); /* window over */
    assert_null(hit(&res, "dup"));
    rules_result_free(&res);
    /* rate: the 4th post within 10 s is held, and later ones pass again */
    for (int i = 0; i < 4; i++) {
        char body[32];
        snprintf(body, sizeof body, "post number %d", i);
        res = eval_full(r, st, "", body, "g:fast", 5, 300 + i);
        if (i < 3) assert_null(hit(&res, "flood"));
        else assert_int_equal(res.decision, DECISION_HOLD);
        rules_result_free(&res);
    }
    res = eval_full(r, st, "", "much later", "g:fast", 5, 400);
    assert_null(hit(&res, "flood"));
    rules_result_free(&res);
    rules_state_free(st);
    rules_free(r);
}

static void test_load_errors(void **state) {
    (void)state;
    char err[CFG_ERRLEN];
    assert_null(load("rules:\n  - {name: x, kind: pattern, pattern: 'a(b', score: 1}\n", err));
    assert_non_null(strstr(err, "test.yml:2:"));
    assert_non_null(strstr(err, "offset"));
    assert_null(load("rules:\n  - {name: x, kind: words, lists: [missing.txt], score: 1}\n", err));
    assert_non_null(strstr(err, "missing.txt"));
    assert_null(load("moderation: {hold_at: 9, reject_at: 5}\n", err));
    assert_non_null(strstr(err, "out of order"));
    assert_null(load("rules:\n  - {name: x, kind: shouting, score: 1, colour: red}\n", err));
    assert_non_null(strstr(err, "unknown key 'colour'"));
    assert_null(load("rules:\n  - {name: x, kind: magic, score: 1}\n", err));
    assert_null(load("rules:\n  - {name: x, kind: pattern, pattern: a}\n", err));
    assert_non_null(strstr(err, "score"));
    /* a failed load leaves a loaded rule set working */
    rules_t *ok = must_load(WORDS_YAML);
    assert_null(load("rules: [ {name: y, kind: pattern, pattern: '(', score: 1} ]\n", err));
    rules_result res = eval(ok, "idiot");
    assert_int_equal(res.decision, DECISION_HOLD);
    rules_result_free(&res);
    rules_free(ok);
}

static void test_runaway_pattern(void **state) {
    (void)state;
    rules_t *r = must_load("rules:\n  - {name: evil, kind: pattern, pattern: '(a+)+$', score: 5}\n");
    char body[1001];
    memset(body, 'a', 999);
    body[999] = '!';
    body[1000] = '\0';
    unsigned long before = rules_limit_hits();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rules_result res = eval(r, body);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs < 1.0); /* a bound, not a benchmark: catastrophic backtracking is stopped */
    assert_int_equal(rules_limit_hits(), before + 1);
    assert_int_equal(res.decision, DECISION_PUBLISH);
    rules_result_free(&res);
    rules_free(r);
}

static void test_articles(void **state) {
    (void)state;
    rules_t *r = must_load("articles:\n  - {match: 'live-*', mode: premoderated}\n"
                           "  - {match: 'old-*', mode: closed}\n");
    assert_int_equal(rules_article_mode(r, "live-1"), ARTICLE_PREMODERATED);
    assert_int_equal(rules_article_mode(r, "old-2"), ARTICLE_CLOSED);
    assert_int_equal(rules_article_mode(r, "news-3"), ARTICLE_OPEN);
    rules_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_obfuscation), cmocka_unit_test(test_spans_multibyte),
        cmocka_unit_test(test_pattern_and_thresholds), cmocka_unit_test(test_max_score),
        cmocka_unit_test(test_invisible_characters),
        cmocka_unit_test(test_bare_domains),
        cmocka_unit_test(test_links_shouting_repetition),
        cmocka_unit_test(test_stateful), cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_runaway_pattern), cmocka_unit_test(test_articles),
    };
    return cmocka_run_group_tests_name("rules", tests, setup, teardown);
}
