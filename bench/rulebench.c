/* rulebench: time per post of the default rules (rules_eval, the code the server runs),
 * over the labelled comments in shared/data and over adversarial input. Linked with the
 * server's objects by bench/run.sh. Prints JSON. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "rules.h"
#include "text.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double *times;
static size_t ntimes;

static void run(const rules_t *r, rules_state_t *st, const char *body, long i) {
    char author[32];
    snprintf(author, sizeof author, "g:%ld", i);
    rules_input in = {.title = "A title", .body = body, .name = "Reader", .article = "bench",
                      .author = author, .ip_hash = "", .author_posts = -1, .now = 1000 + (double)i};
    rules_result res;
    double t0 = now_us();
    rules_eval(r, st, &in, &res);
    times[ntimes++] = now_us() - t0;
    rules_result_free(&res);
}

static void report(const char *name, size_t from) {
    size_t n = ntimes - from;
    static int printed;
    if (n == 0) return; /* an empty or missing data file */
    qsort(times + from, n, sizeof *times, cmp);
    printf("%s\"%s\":{\"posts\":%zu,\"median_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}", printed++ ? "," : "",
           name, n, times[from + n / 2], times[from + (size_t)((double)(n - 1) * 0.99)], times[ntimes - 1]);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rulebench moderation.yml data.jsonl...\n");
        return 2;
    }
    config_t cfg;
    char err[CFG_ERRLEN];
    if (config_load(argv[1], &cfg, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    rules_t *r = rules_load(cfg.tree, cfg.file, cfg.base_dir, err, sizeof err);
    if (!r) { fprintf(stderr, "%s\n", err); return 1; }
    rules_state_t *st = rules_state_new();
    times = malloc(sizeof *times * 200000);
    printf("{");
    long i = 0;
    for (int f = 2; f < argc; f++) {
        FILE *fp = fopen(argv[f], "r");
        if (!fp) continue;
        char *line = NULL;
        size_t cap = 0;
        size_t from = ntimes;
        while (getline(&line, &cap, fp) > 0 && ntimes < 190000) {
            json_t *j = json_loads(line, 0, NULL);
            const char *t = json_string_value(json_object_get(j, "text"));
            char *clean = NULL;
            size_t ncp;
            if (t && text_clean(t, strlen(t), TEXT_BODY, 100000, &clean, &ncp) == TEXT_OK)
                run(r, st, clean, i++);
            free(clean);
            json_decref(j);
        }
        free(line);
        fclose(fp);
        const char *base = strrchr(argv[f], '/');
        report(base ? base + 1 : argv[f], from);
    }
    /* 1000-character posts: ordinary prose, and adversarial shapes */
    static const char *const shapes[] = {"The council voted again on the heating plan; ",
                                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                         "i.d.i.o.i.d.i.o.i.d.i.o.i.d.i.o.i.d.i.o.i.d.i.o.",
                                         "check out my chan check out my chan check out my ",
                                         "http://a.com http://b.net www.c.org d dot com e.io ",
                                         "Z\xCC\x81\xCC\x82\xCC\x83\xCC\x84\xCC\x85\xCC\x86 ",
                                         "((((((((((((((((((((((((((((((((((((((((((((((((",
                                         "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        char body[4096] = "";
        while (strlen(body) + strlen(shapes[s]) < 1000) strcat(body, shapes[s]);
        size_t from = ntimes;
        for (int k = 0; k < 200; k++) run(r, st, body, i++);
        char name[32];
        snprintf(name, sizeof name, s == 0 ? "prose_1000" : "adversarial_%zu", s);
        report(name, from);
    }
    printf("}\n");
    rules_state_free(st);
    rules_free(r);
    config_free(&cfg);
    return 0;
}
