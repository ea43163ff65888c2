/* libFuzzer target: rule evaluation (server/rules*.c) over adversarial text, with the
 * repository's moderation.yml and its rules/ word lists compiled as `parley serve` does.
 *
 * Input: one flags byte, then the title up to the first '\n', the body up to the first
 * 0xff byte, and the name after it. Each text goes through text_clean with the
 * configured limits first, as proto.c does, because rules only ever see cleaned text; a
 * text the cleaner refuses is left empty (the fuzzer still reaches the rest).
 * Flags: bits 0-1 pick author_posts (-1, 0, 1, 100); bit 2 scores with counts from
 * shared windows (rules_shared_keys, the Redis path) instead of the process's own state.
 *
 * Each post is scored twice against a fresh rules state (so the duplicate and rate rules
 * fire on the second, and a crash reproduces from its input alone). Checked every time:
 * rules_eval returns 0; the decision is one of the three; every score is finite; a
 * forced action is hold or reject; spans lie within their field's text in code points,
 * start <= end, and rules without a field have none; a reject carries a message; the
 * JSON rendering works; one evaluation stays under FUZZ_RULES_MAX_MS (default 2000 ms),
 * the bound the PCRE2 match and depth limits are there to give. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"
#include "text.h"

static rules_t *rules;
static double max_ms = 2000;

static void setup(void) {
    fuzz_log_init();
    fuzz_load_config();
    rules = fuzz_load_rules();
    const char *m = getenv("FUZZ_RULES_MAX_MS");
    if (m) max_ms = atof(m);
}

/* Cleans len bytes as a field of kind f with limit max; "" (static) when refused. */
static char *clean(const uint8_t *p, size_t len, text_field_t f, long max) {
    char *out = NULL;
    size_t ncp;
    if (text_clean((const char *)p, len, f, (size_t)max, &out, &ncp) != TEXT_OK) {
        free(out);
        return NULL;
    }
    return out;
}

static double ms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void check(const rules_result *res, const char *const texts[3]) {
    size_t ncp[3];
    for (int i = 0; i < 3; i++) ncp[i] = text_codepoints(texts[i], strlen(texts[i]));
    if (res->decision != DECISION_PUBLISH && res->decision != DECISION_HOLD &&
        res->decision != DECISION_REJECT)
        abort();
    if (!isfinite(res->score)) abort();
    if ((res->decision == DECISION_REJECT) != (res->message != NULL)) abort();
    for (size_t h = 0; h < res->nhits; h++) {
        const rules_hit *hit = &res->hits[h];
        if (!hit->rule || !isfinite(hit->score)) abort();
        if (hit->action && strcmp(hit->action, "hold") && strcmp(hit->action, "reject")) abort();
        if (hit->field > FIELD_NONE) abort();
        if (hit->field == FIELD_NONE) {
            if (hit->nspans) abort();
            continue;
        }
        for (size_t s = 0; s < hit->nspans; s++)
            if (hit->spans[s][0] > hit->spans[s][1] || hit->spans[s][1] > ncp[hit->field])
                abort();
    }
    json_t *j = rules_result_json(res);
    if (!j) abort();
    char *txt = json_dumps(j, JSON_COMPACT);
    if (!txt) abort();
    free(txt);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!rules) setup();
    if (size < 1) return 0;
    static const long posts[4] = {-1, 0, 1, 100};
    unsigned flags = data[0];
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    const uint8_t *tend = nl ? nl : p;
    const uint8_t *bstart = nl ? nl + 1 : p;
    const uint8_t *ff = memchr(bstart, 0xff, (size_t)(end - bstart));
    const uint8_t *bend = ff ? ff : end;
    char *title = clean(p, (size_t)(tend - p), TEXT_TITLE, srv.cfg.limit_title);
    char *body = clean(bstart, (size_t)(bend - bstart), TEXT_BODY, srv.cfg.limit_body);
    char *name = ff ? clean(ff + 1, (size_t)(end - ff - 1), TEXT_NAME, srv.cfg.limit_name) : NULL;
    const char *texts[3] = {title ? title : "", body ? body : "", name ? name : "Reader"};

    rules_state_t *st = rules_state_new();
    rules_input in = {
        .title = texts[0],
        .body = texts[1],
        .name = texts[2],
        .article = "fuzz-article",
        .author = "g:fuzz",
        .ip_hash = "00112233445566778899aabbccddeeff",
        .author_posts = posts[flags & 3],
        .now = 1800000000.0,
    };
    rules_shared_key keys[32];
    long counts[32];
    if (flags & 4) {
        size_t n = rules_shared_keys(rules, &in, keys, 32);
        if (n > 32) abort();
        for (size_t i = 0; i < n; i++) counts[i] = (long)(flags >> 3) * (long)i;
        in.shared_counts = counts;
    }
    for (int round = 0; round < 2; round++) {
        rules_result res;
        double t0 = ms_now();
        if (rules_eval(rules, st, &in, &res) != 0) abort();
        double took = ms_now() - t0;
        if (took > max_ms) {
            fprintf(stderr, "fuzz_rules: one evaluation took %.0f ms\n", took);
            abort();
        }
        check(&res, texts);
        rules_result_free(&res);
    }
    rules_state_free(st);
    free(title);
    free(body);
    free(name);
    return 0;
}
