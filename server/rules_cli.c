/* rules_cli.c: `parley rules check` and `parley rules test`, through the code the server
 * runs (config_load, rules_load, text_clean, rules_eval). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "alloc.h"
#include "clock.h"
#include "learned.h"
#include "log.h"
#include "rules.h"
#include "store.h"
#include "store_learned.h"
#include "text.h"

static int load(const char *path, config_t *cfg, rules_t **rules) {
    char err[CFG_ERRLEN];
    if (config_load(path, cfg, err, sizeof err)) {
        fprintf(stderr, "parley: %s\n", err);
        return 1;
    }
    *rules = rules_load(cfg->tree, cfg->file, cfg->base_dir, err, sizeof err);
    if (!*rules) {
        fprintf(stderr, "parley: %s\n", err);
        return 1;
    }
    return 0;
}

/* Cleans one field of a test line as the server would; "" when absent. */
static const char *field(json_t *line, const char *key, text_field_t kind, long max, char **keep,
                         const char **bad) {
    json_t *v = json_object_get(line, key);
    *keep = NULL;
    if (!json_is_string(v)) return "";
    size_t ncp;
    text_status_t st = text_clean(json_string_value(v), json_string_length(v), kind,
                                  (size_t)max, keep, &ncp);
    if (st == TEXT_EMPTY) return "";
    if (st == TEXT_TOO_LONG) {
        *bad = "too_long";
        return "";
    }
    if (st != TEXT_OK) {
        *bad = "invalid_text";
        return "";
    }
    return *keep;
}

static int test(const config_t *cfg, rules_t *rules, const learned_model_t *model) {
    rules_state_t *st = rules_state_new();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *j = json_loadb(line, (size_t)n, 0, &jerr);
        if (!json_is_object(j)) {
            printf("{\"error\":\"bad_json\",\"line\":%ld}\n", lineno);
            json_decref(j);
            continue;
        }
        char *t = NULL, *b = NULL, *nm = NULL;
        const char *bad = NULL;
        /* the limits are the server's, but a test line may be longer: score it anyway */
        const char *title = field(j, "title", TEXT_TITLE, 1 << 20, &t, &bad);
        const char *body = field(j, "body", TEXT_BODY, 1 << 20, &b, &bad);
        if (!*body) body = json_string_value(json_object_get(j, "text")) ? field(j, "text", TEXT_BODY, 1 << 20, &b, &bad) : body;
        const char *name = field(j, "name", TEXT_NAME, 1 << 20, &nm, &bad);
        if (bad) {
            printf("{\"error\":\"%s\",\"line\":%ld}\n", bad, lineno);
        } else {
            char author[64];
            const char *a = json_string_value(json_object_get(j, "author"));
            if (!a) {
                snprintf(author, sizeof author, "g:line%ld", lineno);
                a = author;
            }
            json_t *ap = json_object_get(j, "author_posts");
            const char *article = json_string_value(json_object_get(j, "article"));
            rules_input in = {.title = title, .body = body, .name = name,
                              .article = article ? article : "test", .author = a,
                              .ip_hash = json_string_value(json_object_get(j, "ip")) ?: "",
                              .author_posts = json_is_integer(ap) ? (long)json_integer_value(ap) : -1,
                              .now = (double)time(NULL), .model = model};
            rules_result res;
            rules_eval(rules, st, &in, &res);
            json_t *out = rules_result_json(&res);
            char *s = json_dumps(out, JSON_COMPACT);
            puts(s);
            free(s);
            json_decref(out);
            rules_result_free(&res);
        }
        free(t);
        free(b);
        free(nm);
        json_decref(j);
    }
    free(line);
    rules_state_free(st);
    (void)cfg;
    return 0;
}

/* `rules learn`: JSON lines {"title","body","label":"ham"|"spam"|"abuse"} on stdin, cleaned
 * as the server cleans posts, added to the model in the store under dir in one
 * transaction. A bad line is reported on stdout ({"error":...,"line":N}) and skipped; the
 * summary follows. Returns 0, or 1 when a line was bad or the store failed. */
static int learn(const char *dir) {
    db_t *db = store_open_sync(dir);
    if (!db) {
        fprintf(stderr, "parley: cannot open the store under %s\n", dir ? dir : "--store");
        return 1;
    }
    learned_model_t *delta = learned_model_new();
    const char **d = xmalloc(LEARNED_MAX_FEATURES * sizeof *d);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, bad = 0, counts[LEARN_NLABELS] = {0};
    while ((n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        if (n == 1 && line[0] == '\n') continue;
        json_error_t jerr;
        json_t *j = json_loadb(line, (size_t)n, 0, &jerr);
        const char *why = NULL;
        char *t = NULL, *b = NULL;
        learn_label_t label = LEARN_NONE;
        if (!json_is_object(j)) {
            why = "bad_json";
        } else if ((label = learned_label_parse(json_string_value(json_object_get(j, "label")))) ==
                   LEARN_NONE) {
            why = "bad_label";
        } else {
            const char *title = field(j, "title", TEXT_TITLE, 1 << 20, &t, &why);
            const char *body = field(j, json_object_get(j, "body") ? "body" : "text", TEXT_BODY,
                                     1 << 20, &b, &why);
            if (!why && !*title && !*body) why = "empty";
            if (!why) {
                learned_feats f = {0};
                if ((*title && learned_features(title, 0, &f)) ||
                    (*body && learned_features(body, 1, &f))) {
                    why = "internal";
                } else {
                    size_t k = learned_distinct(&f, d, LEARNED_MAX_FEATURES);
                    learned_model_add(delta, d, k, label, 1);
                    counts[label]++;
                }
                learned_feats_free(&f);
            }
        }
        if (why) {
            printf("{\"error\":\"%s\",\"line\":%ld}\n", why, lineno);
            bad++;
        }
        free(t);
        free(b);
        json_decref(j);
    }
    free(line);
    free(d);
    int rc = db_exec(db, db_dialect(db) == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN") != DB_OK ||
             store_learned_apply(db, delta, LEARNED_MAX_DOCS) ||
             db_exec(db, "COMMIT") != DB_OK;
    if (rc) {
        db_exec(db, "ROLLBACK");
        fprintf(stderr, "parley: the model could not be stored under %s\n", dir ? dir : "--store");
    } else {
        store_learned_meta m;
        store_learned_meta_get(db, &m);
        printf("{\"learned\":{\"ham\":%ld,\"spam\":%ld,\"abuse\":%ld},\"bad_lines\":%ld,"
               "\"model\":{\"ham\":%g,\"spam\":%g,\"abuse\":%g}}\n",
               counts[LEARN_HAM], counts[LEARN_SPAM], counts[LEARN_ABUSE], bad,
               m.docs[LEARN_HAM], m.docs[LEARN_SPAM], m.docs[LEARN_ABUSE]);
    }
    learned_model_free(delta);
    db_close(db);
    return rc || bad ? 1 : 0;
}

int rules_cli(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    const char *path = "moderation.yml", *data = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:", opts, NULL)) != -1) {
        if (ch == 'c') path = optarg;
        else if (ch == 'd') data = optarg;
        else return 2;
    }
    if (!strcmp(argv[0], "learn")) {
        if (!data && !store_postgres()) {
            fprintf(stderr, "parley: rules learn needs --data DIR or --store CONNINFO (the "
                            "store to teach)\n");
            return 2;
        }
        return learn(data);
    }
    config_t cfg;
    rules_t *rules = NULL;
    int rc = load(path, &cfg, &rules);
    if (!rc) {
        if (!strcmp(argv[0], "check")) {
            size_t nr, nw;
            rules_summary(rules, &nr, &nw);
            printf("%s: ok: %zu rules, %zu word-list entries\n", path, nr, nw);
            rules_describe(rules, stdout);
        } else if (data) {
            char dbpath[4096];
            snprintf(dbpath, sizeof dbpath, "%s/parley.db", data);
            db_t *db = access(dbpath, R_OK) && !store_postgres() ? NULL : store_open_sync(data);
            if (!db) {
                fprintf(stderr, "parley: cannot open the store under %s\n", data);
                rc = 1;
            } else {
                rc = test(&cfg, rules, learned_current(db, now_ms()));
                db_close(db);
                learned_reset();
            }
        } else {
            rc = test(&cfg, rules, NULL);
        }
    }
    rules_free(rules);
    config_free(&cfg);
    return rc;
}
