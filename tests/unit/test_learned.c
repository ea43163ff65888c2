/* Unit tests for the learned rules (issue 16): features through obfuscation, the model's
 * counts, scoring (readiness, caps, one example never enough for a feature), the rule
 * kind in moderation.yml (spans on the heaviest words, config errors), and the store
 * (apply, load, decay, lessons per comment replaced and taken back on undo). Real SQLite
 * files, the real rule engine. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "learned.h"
#include "rules.h"
#include "rules_learned.h"
#include "store.h"
#include "store_learned.h"

static const learned_params PARAMS = {.min_examples = 3, .min_feature_docs = 2,
                                      .max_weight = 3, .alpha = 0.5};

/* The distinct features of title/body. */
static size_t feats_of(const char *body, learned_feats *f, const char **d) {
    memset(f, 0, sizeof *f);
    assert_int_equal(learned_features(body, 1, f), 0);
    return learned_distinct(f, d, LEARNED_MAX_FEATURES);
}

static bool has(const char **d, size_t n, const char *feat) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(d[i], feat)) return true;
    return false;
}

/* Teaches m one example of label. */
static void teach(learned_model_t *m, const char *body, learn_label_t label, double w) {
    learned_feats f;
    const char *d[LEARNED_MAX_FEATURES];
    size_t n = feats_of(body, &f, d);
    learned_model_add(m, d, n, label, w);
    learned_feats_free(&f);
}

/* Scores body; the features the result points to live until the next call. */
static learned_feats last_feats;
static learned_score score_of(const learned_model_t *m, const char *body) {
    learned_feats_free(&last_feats);
    assert_int_equal(learned_features(body, 1, &last_feats), 0);
    learned_score s;
    learned_model_score(m, LEARN_SPAM, &last_feats, &PARAMS, &s);
    return s;
}

static void test_features(void **state) {
    (void)state;
    learned_feats f;
    const char *d[LEARNED_MAX_FEATURES];
    /* folding: leetspeak, spaced letters, look-alikes, case all give the same words */
    size_t n = feats_of("F R E E m0ney, Вuy NOW buy now", &f, d);
    assert_true(has(d, n, "fre"));      /* stretched letters count once, as in the rules */
    assert_true(has(d, n, "money"));
    assert_true(has(d, n, "buy"));
    assert_true(has(d, n, "now"));
    assert_true(has(d, n, "money|1|buy"));
    assert_true(has(d, n, "buy|1|now"));
    assert_false(has(d, n, "m0ney"));
    /* distinct: "buy now" twice counts once */
    size_t buys = 0;
    for (size_t i = 0; i < n; i++) buys += !strcmp(d[i], "buy");
    assert_int_equal(buys, 1);
    /* occurrences keep their code point spans in the original text */
    for (size_t i = 0; i < f.n; i++)
        if (!strcmp(f.occ[i].text, "money")) {
            assert_int_equal(f.occ[i].start, 8);
            assert_int_equal(f.occ[i].end, 13);
        }
    learned_feats_free(&f);
    /* single letters say nothing; an empty text has no features */
    n = feats_of("a b", &f, d);
    assert_int_equal(n, 0);
    learned_feats_free(&f);
    /* a very long post still counts at most LEARNED_MAX_FEATURES features */
    char *big = malloc(200000);
    size_t o = 0;
    for (int i = 0; i < 10000; i++) o += (size_t)sprintf(big + o, "w%dx ", i);
    n = feats_of(big, &f, d);
    assert_int_equal(n, LEARNED_MAX_FEATURES);
    learned_feats_free(&f);
    free(big);
}

static void test_labels(void **state) {
    (void)state;
    assert_int_equal(learned_label_of_reason("Spam"), LEARN_SPAM);
    assert_int_equal(learned_label_of_reason("spam: link farm"), LEARN_SPAM);
    assert_int_equal(learned_label_of_reason("Personal attack"), LEARN_ABUSE);
    assert_int_equal(learned_label_of_reason("Hate speech"), LEARN_ABUSE);
    assert_int_equal(learned_label_of_reason("Harassment"), LEARN_ABUSE);
    assert_int_equal(learned_label_of_reason("abuse"), LEARN_ABUSE);
    assert_int_equal(learned_label_of_reason("Off topic"), LEARN_NONE);
    assert_int_equal(learned_label_of_reason(NULL), LEARN_NONE);
    assert_int_equal(learned_label_parse("ham"), LEARN_HAM);
    assert_int_equal(learned_label_parse("Spam"), LEARN_NONE);
    assert_string_equal(learned_label_name(LEARN_ABUSE), "abuse");
}

static learned_model_t *trained(void) {
    learned_model_t *m = learned_model_new();
    const char *spam[] = {"cheap replica watches best prices", "replica watches cheap shipping",
                          "best prices on cheap replica watches", "cheap watches replica sale"};
    const char *ham[] = {"the council budget vote was close", "a fair point about the budget",
                         "the vote on the council budget", "good article about the council"};
    for (int i = 0; i < 4; i++) teach(m, spam[i], LEARN_SPAM, 1), teach(m, ham[i], LEARN_HAM, 1);
    return m;
}

static void test_scoring(void **state) {
    (void)state;
    learned_model_t *m = learned_model_new();
    /* not ready before min_examples of each label */
    teach(m, "cheap replica watches", LEARN_SPAM, 1);
    teach(m, "cheap replica watches", LEARN_SPAM, 1);
    teach(m, "cheap replica watches", LEARN_SPAM, 1);
    learned_score s = score_of(m, "cheap replica watches");
    assert_false(s.ready);
    learned_model_free(m);

    m = trained();
    s = score_of(m, "replica watches so cheap");
    assert_true(s.ready);
    assert_true(s.probability > 0.95);
    assert_true(s.ntop > 0);
    /* the heaviest feature comes first and is one of the spam words */
    if (!strstr(s.top[0].text, "replica") && !strstr(s.top[0].text, "watches") &&
        !strstr(s.top[0].text, "cheap"))
        fail_msg("heaviest feature: %s", s.top[0].text);
    for (size_t i = 1; i < s.ntop; i++) assert_true(s.top[i - 1].weight >= s.top[i].weight);
    s = score_of(m, "the budget vote in the council");
    assert_true(s.probability < 0.05);
    /* words never seen weigh nothing */
    s = score_of(m, "zebra quantum");
    assert_int_equal(s.nfeatures, 0);
    assert_true(fabs(s.probability - 0.5) < 1e-9);

    /* one example alone never makes a feature count (min_feature_docs 2): a moderator's
     * single mistake cannot teach a new word */
    teach(m, "lovely sunset photograph", LEARN_SPAM, 1);
    s = score_of(m, "lovely sunset photograph");
    assert_int_equal(s.nfeatures, 0);
    /* and a feature's weight is capped whatever the counts */
    for (int i = 0; i < 200; i++) teach(m, "casino", LEARN_SPAM, 1);
    s = score_of(m, "casino");
    assert_int_equal(s.nfeatures, 1);
    assert_true(s.sum <= PARAMS.max_weight + 1e-9);
    /* forgetting (weight -1) takes an example back exactly */
    learned_score before = score_of(m, "cheap replica watches");
    teach(m, "cheap replica watches again", LEARN_SPAM, 1);
    teach(m, "cheap replica watches again", LEARN_SPAM, -1);
    learned_score after = score_of(m, "cheap replica watches");
    assert_true(fabs(before.logodds - after.logodds) < 1e-12);
    learned_feats_free(&last_feats);
    learned_model_free(m);
}

/* ---- The rule kind ---- */

static rules_t *load(const char *yaml, char *err) {
    cfg_node *root = cfg_parse_string(yaml, strlen(yaml), "test.yml", err, CFG_ERRLEN);
    if (!root) return NULL;
    rules_t *r = rules_load(root, "test.yml", "/tmp", err, CFG_ERRLEN);
    cfg_free(root);
    return r;
}

#define LEARNED_YAML                                                                            \
    "moderation: {hold_at: 5, reject_at: 10}\n"                                                 \
    "rules:\n"                                                                                  \
    "  - {name: learned-spam, kind: learned, label: spam, min_examples: 3, threshold: 0.9,\n"   \
    "     score: 2, strong_threshold: 0.98, strong_score: 5, ham_threshold: 0.05,\n"            \
    "     ham_score: -2}\n"

static rules_result eval_with(rules_t *r, const learned_model_t *m, const char *title,
                              const char *body) {
    rules_state_t *st = rules_state_new();
    rules_input in = {.title = title, .body = body, .name = "Reader", .article = "a1",
                      .author = "g:x", .ip_hash = "", .author_posts = -1, .now = 1000,
                      .model = m};
    rules_result res;
    assert_int_equal(rules_eval(r, st, &in, &res), 0);
    rules_state_free(st);
    return res;
}

static void test_rule(void **state) {
    (void)state;
    char err[CFG_ERRLEN] = "";
    rules_t *r = load(LEARNED_YAML, err);
    if (!r) fail_msg("%s", err);
    learned_model_t *m = trained();
    /* strong: holds on its own, with spans over the words that weighed most */
    const char *body = "Hello! Cheap replica watches here";
    rules_result res = eval_with(r, m, "", body);
    assert_int_equal(res.nhits, 1);
    assert_string_equal(res.hits[0].rule, "learned-spam");
    assert_int_equal(res.hits[0].field, FIELD_BODY);
    if (res.hits[0].score != 5) fail_msg("score %g p %g", res.hits[0].score, res.hits[0].probability);
    assert_true(res.hits[0].probability >= 0.98);
    assert_int_equal(res.decision, DECISION_HOLD);
    assert_true(res.hits[0].nspans >= 1);
    /* "Cheap replica watches" is code points 7..28: the spans fall inside it, merged */
    for (size_t k = 0; k < res.hits[0].nspans; k++) {
        assert_true(res.hits[0].spans[k][0] >= 7);
        assert_true(res.hits[0].spans[k][1] <= 28);
        if (k) assert_true(res.hits[0].spans[k][0] > res.hits[0].spans[k - 1][1]);
    }
    rules_result_free(&res);
    /* the model alone can hold, never refuse: 5 from it + 6 from a rule passes reject_at
     * (10) but the written rules alone do not */
    {
        char e2[CFG_ERRLEN] = "";
        rules_t *r2 = load("moderation: {hold_at: 5, reject_at: 10}\n"
                           "rules:\n  - {name: watch, kind: pattern, pattern: 'replica', score: 6}\n"
                           "  - {name: learned-spam, kind: learned, label: spam, min_examples: 3,\n"
                           "     threshold: 0.9, score: 5}\n", e2);
        if (!r2) fail_msg("%s", e2);
        rules_result x = eval_with(r2, m, "", body);
        assert_true(x.score >= 10);
        assert_int_equal(x.decision, DECISION_HOLD);
        rules_result_free(&x);
        rules_free(r2);
    }
    /* clearly like the approved posts: a negative score, no spans */
    res = eval_with(r, m, "", "the council budget vote");
    assert_int_equal(res.nhits, 1);
    assert_true(res.hits[0].score == -2);
    assert_int_equal(res.hits[0].nspans, 0);
    assert_int_equal(res.decision, DECISION_PUBLISH);
    rules_result_free(&res);
    /* words in the title are explained in the title */
    res = eval_with(r, m, "replica watches cheap", "");
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].field, FIELD_TITLE);
    rules_result_free(&res);
    /* no model (or an empty one): silent */
    res = eval_with(r, NULL, "", body);
    assert_int_equal(res.nhits, 0);
    rules_result_free(&res);
    learned_model_t *empty = learned_model_new();
    res = eval_with(r, empty, "", body);
    assert_int_equal(res.nhits, 0);
    rules_result_free(&res);
    /* the JSON explanation carries the probability */
    res = eval_with(r, m, "", body);
    json_t *j = rules_result_json(&res);
    json_t *h = json_array_get(json_object_get(j, "rules"), 0);
    assert_true(json_real_value(json_object_get(h, "probability")) >= 0.98);
    json_decref(j);
    rules_result_free(&res);
    learned_model_free(empty);
    learned_model_free(m);
    rules_free(r);
}

static void test_rule_config_errors(void **state) {
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"rules:\n  - {name: l, kind: learned, score: 2}\n", "needs 'label'"},
        {"rules:\n  - {name: l, kind: learned, label: ham, score: 2}\n", "'label' is spam or abuse"},
        {"rules:\n  - {name: l, kind: learned, label: spam, action: hold}\n", "not an 'action'"},
        {"rules:\n  - {name: l, kind: learned, label: spam, score: 2, strong_threshold: 0.99}\n",
         "needs a 'strong_score'"},
        {"rules:\n  - {name: l, kind: learned, label: spam, score: 2, threshold: 0.9, "
         "strong_threshold: 0.8, strong_score: 4}\n", "must be above"},
        {"rules:\n  - {name: l, kind: learned, label: spam, score: 2, ham_score: -1}\n",
         "needs a 'ham_threshold'"},
        {"rules:\n  - {name: l, kind: learned, label: spam, score: 2, threshold: 2}\n", "threshold"},
        {"rules:\n  - {name: l, kind: learned, label: spam, score: 2, lists: [x]}\n", "lists"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[CFG_ERRLEN] = "";
        rules_t *r = load(cases[i].yaml, err);
        if (r) fail_msg("loaded: %s", cases[i].yaml);
        if (!strstr(err, cases[i].want)) fail_msg("error '%s' lacks '%s'", err, cases[i].want);
        assert_non_null(strstr(err, "test.yml:"));
    }
}

/* Trusted authors skip newcomer rules; trusted_after is checked. */
static void test_trusted(void **state) {
    (void)state;
    char err[CFG_ERRLEN] = "";
    rules_t *r = load("moderation: {hold_at: 5, reject_at: 10, trusted_after: 3}\n"
                      "rules:\n  - {name: new, kind: newcomer, max_posts: 5, action: hold}\n", err);
    if (!r) fail_msg("%s", err);
    assert_int_equal(rules_trusted_after(r), 3);
    rules_state_t *st = rules_state_new();
    rules_input in = {.title = "", .body = "hello", .name = "R", .article = "a", .author = "g:x",
                      .ip_hash = "", .author_posts = 2, .now = 1};
    rules_result res;
    rules_eval(r, st, &in, &res);
    assert_int_equal(res.decision, DECISION_HOLD);
    rules_result_free(&res);
    in.trusted = true;
    rules_eval(r, st, &in, &res);
    assert_int_equal(res.decision, DECISION_PUBLISH);
    assert_int_equal(res.nhits, 0);
    rules_result_free(&res);
    rules_state_free(st);
    rules_free(r);
    assert_null(load("moderation: {trusted_after: -1}\n", err));
    assert_non_null(strstr(err, "trusted_after"));
    assert_null(load("moderation: {trusted_after: many}\n", err));
}

/* ---- The store ---- */

static char dir[64];

static db_t *open_store(void) {
    snprintf(dir, sizeof dir, "/tmp/parley-learned-XXXXXX");
    if (!mkdtemp(dir)) fail_msg("mkdtemp");
    db_t *db = store_open_sync(dir);
    assert_non_null(db);
    /* the server runs these in its group's transaction; here each statement commits */
    db_exec(db, "PRAGMA synchronous=OFF");
    learned_reset();
    return db;
}

static void close_store(db_t *db) {
    db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    learned_reset();
}

static void test_store_apply_load(void **state) {
    (void)state;
    db_t *db = open_store();
    learned_model_t *delta = trained();
    assert_int_equal(store_learned_apply(db, delta, 0), 0);
    assert_int_equal(store_learned_apply(db, delta, 0), 0); /* twice: counts add up */
    learned_model_t *m = learned_model_new();
    assert_int_equal(store_learned_load(db, 0, m), 0);
    double docs[LEARN_NLABELS];
    learned_model_docs(m, docs);
    assert_true(docs[LEARN_SPAM] == 8 && docs[LEARN_HAM] == 8 && docs[LEARN_ABUSE] == 0);
    assert_true(learned_model_get(m, "replica")[LEARN_SPAM] == 8);
    assert_true(learned_model_size(m) == learned_model_size(delta));
    /* loading since the current sequence brings nothing new; a change brings only itself */
    store_learned_meta meta;
    assert_int_equal(store_learned_meta_get(db, &meta), 0);
    assert_int_equal(meta.seq, 2);
    learned_model_t *one = learned_model_new();
    teach(one, "zebra crossing", LEARN_HAM, 1);
    assert_int_equal(store_learned_apply(db, one, 0), 0);
    learned_model_t *inc = learned_model_new();
    assert_int_equal(store_learned_load(db, meta.seq, inc), 0);
    assert_int_equal(learned_model_size(inc), 3); /* zebra, crossing, zebra|1|crossing */
    /* counts never go below zero */
    teach(one, "zebra crossing", LEARN_HAM, -1);
    teach(one, "zebra crossing", LEARN_HAM, -1);
    teach(one, "zebra crossing", LEARN_HAM, -1);
    assert_int_equal(store_learned_apply(db, one, 0), 0);
    learned_model_clear(m);
    assert_int_equal(store_learned_load(db, 0, m), 0);
    assert_null(learned_model_get(m, "zebra"));
    /* the process's copy follows the store */
    const learned_model_t *cur = learned_current(db, 1000);
    assert_true(learned_model_get(cur, "replica")[LEARN_SPAM] == 8);
    learned_model_free(inc);
    learned_model_free(one);
    learned_model_free(m);
    learned_model_free(delta);
    close_store(db);
}

static void test_store_decay(void **state) {
    (void)state;
    db_t *db = open_store();
    learned_model_t *delta = trained();
    assert_int_equal(store_learned_apply(db, delta, 0), 0);
    const learned_model_t *cur = learned_current(db, 1000);
    assert_true(learned_model_get(cur, "replica")[LEARN_SPAM] == 4);
    /* past max_docs every count is halved and the generation moves on */
    learned_model_set(delta, "rare", (const double[LEARN_NLABELS]){0, 0.2, 0});
    assert_int_equal(store_learned_apply(db, delta, 10), 0);
    store_learned_meta meta;
    assert_int_equal(store_learned_meta_get(db, &meta), 0);
    assert_int_equal(meta.generation, 1);
    assert_true(meta.docs[LEARN_SPAM] == 4 && meta.docs[LEARN_HAM] == 4);
    cur = learned_current(db, 1000 + LEARNED_REFRESH_MS);
    assert_true(learned_model_get(cur, "replica")[LEARN_SPAM] == 4);
    /* features left under half an example are dropped */
    assert_null(learned_model_get(cur, "rare"));
    assert_non_null(learned_model_get(cur, "sale"));
    learned_model_free(delta);
    close_store(db);
}

/* A comment row as the server stores it. */
static void add_comment(db_t *db, int64_t id, const char *body) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO comments (id, article, author_id, author_name, author_guest, ip_hash, "
             "title, body, status, score, created_at) VALUES (%lld, 'a', 'g:x', 'X', 1, '', "
             "'A title', '%s', 'pending', 0, 0)",
             (long long)id, body);
    if (db_exec(db, sql) != DB_OK) fail_msg("%s", db_errmsg(db));
}

static void audit_row(db_t *db, int64_t id, const char *action, const char *after) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO audit (at, moderator, action, target, before, after) VALUES (0, 'm', "
             "'%s', 'comment:%lld', '{}', '%s')",
             action, (long long)id, after);
    assert_int_equal(db_exec(db, sql), DB_OK);
}

static void test_lessons(void **state) {
    (void)state;
    db_t *db = open_store();
    add_comment(db, 1, "cheap replica watches");
    store_learned_meta m;
    /* approve: one ham example */
    assert_int_equal(learned_on_decision(db, 1, "approve", NULL), 0);
    audit_row(db, 1, "approve", "{\"status\":\"published\"}");
    assert_int_equal(store_learned_meta_get(db, &m), 0);
    assert_true(m.docs[LEARN_HAM] == 1 && m.docs[LEARN_SPAM] == 0);
    /* approving again teaches nothing more */
    assert_int_equal(learned_on_decision(db, 1, "approve", NULL), 0);
    assert_int_equal(store_learned_meta_get(db, &m), 0);
    assert_true(m.docs[LEARN_HAM] == 1);
    /* then removed as spam: the ham lesson is replaced */
    assert_int_equal(learned_on_decision(db, 1, "remove", "Spam"), 0);
    audit_row(db, 1, "remove", "{\"status\":\"removed\",\"reason\":\"Spam\"}");
    assert_int_equal(store_learned_meta_get(db, &m), 0);
    assert_true(m.docs[LEARN_HAM] == 0 && m.docs[LEARN_SPAM] == 1);
    learned_model_t *model = learned_model_new();
    assert_int_equal(store_learned_load(db, 0, model), 0);
    assert_true(learned_model_get(model, "replica")[LEARN_SPAM] == 1);
    assert_true(learned_model_get(model, "replica")[LEARN_HAM] == 0);
    /* undo of the removal (audit entry 2): back to the approval's lesson */
    assert_int_equal(learned_on_undo(db, 1, 2), 0);
    assert_int_equal(db_exec(db, "UPDATE audit SET undone = 1 WHERE id = 2"),
                     DB_OK);
    assert_int_equal(store_learned_meta_get(db, &m), 0);
    assert_true(m.docs[LEARN_HAM] == 1 && m.docs[LEARN_SPAM] == 0);
    /* undo of the approval (entry 1): no lesson at all */
    assert_int_equal(learned_on_undo(db, 1, 1), 0);
    assert_int_equal(store_learned_meta_get(db, &m), 0);
    assert_true(m.docs[LEARN_HAM] == 0 && m.docs[LEARN_SPAM] == 0);
    learned_model_clear(model);
    assert_int_equal(store_learned_load(db, 0, model), 0);
    assert_int_equal(learned_model_size(model), 0);
    /* off-topic teaches nothing; a missing comment is an error, not a crash */
    assert_int_equal(learned_on_decision(db, 1, "reject", "Off topic"), 0);
    assert_int_equal(store_learned_meta_get(db, &m), 0);
    assert_true(m.docs[LEARN_HAM] == 0 && m.docs[LEARN_SPAM] == 0 && m.docs[LEARN_ABUSE] == 0);
    assert_int_equal(learned_on_decision(db, 99, "approve", NULL), -1);
    learned_model_free(model);
    close_store(db);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features),         cmocka_unit_test(test_labels),
        cmocka_unit_test(test_scoring),          cmocka_unit_test(test_rule),
        cmocka_unit_test(test_rule_config_errors), cmocka_unit_test(test_store_apply_load),
        cmocka_unit_test(test_store_decay),      cmocka_unit_test(test_lessons),
        cmocka_unit_test(test_trusted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
