/* import_cli.c: the `parley import`, `parley export` and `parley backup` commands:
 * arguments, --article-map, the configuration, the dry run and the summary printed at the
 * end. The sink the parsers feed is in import.c. */
#include "import.h"
#include "import_impl.h"
#include "alloc.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_comments.h"
#include "config.h"
#include "dict.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "store_import.h"

/* ---- --article-map ---- */

/* Reads "KEY ARTICLE-ID" lines (the id is the last field; the key may hold spaces; '#'
 * starts a comment line). Returns the map, or NULL with "file:line: why" printed. */
static dict_t *load_map(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "parley import: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    dict_t *d = dict_new();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                     line[n - 1] == '\t'))
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        char *sp = strrchr(p, ' '), *tab = strrchr(p, '\t');
        if (!sp || (tab && tab > sp)) sp = tab;
        if (!sp) {
            fprintf(stderr, "%s:%ld:1: want 'KEY ARTICLE-ID'\n", path, lineno);
            goto bad;
        }
        char *id = sp + 1;
        while (sp > p && (sp[-1] == ' ' || sp[-1] == '\t')) sp--;
        *sp = '\0';
        if (!import_article_valid(id)) {
            fprintf(stderr, "%s:%ld:%ld: '%s' is not an article id (1-128 of A-Z a-z 0-9 . _ : / -)\n",
                    path, lineno, (long)(id - line) + 1, id);
            goto bad;
        }
        void *old = NULL;
        dict_set(d, p, xstrdup(id), &old);
        free(old);
    }
    free(line);
    fclose(f);
    return d;
bad:
    free(line);
    fclose(f);
    dict_free(d, free);
    return NULL;
}

/* ---- Commands ---- */

typedef struct {
    const char *config, *data;
    config_t cfg;
    bool have_cfg;
} cli_env;

/* Loads --config (default ./moderation.yml; when that file is absent and --data is
 * given, the built-in defaults do). Returns the data dir, or NULL after printing why. */
static const char *env_load(cli_env *e) {
    char err[CFG_ERRLEN];
    const char *path = e->config ? e->config : "moderation.yml";
    if (!e->config && e->data && access(path, F_OK) != 0) {
        e->cfg.limit_title = 100;
        e->cfg.limit_body = 1000;
        e->cfg.limit_name = 40;
        return e->data;
    }
    if (config_load(path, &e->cfg, err, sizeof err)) {
        fprintf(stderr, "parley: %s\n", err);
        config_free(&e->cfg);
        return NULL;
    }
    e->have_cfg = true;
    return e->data ? e->data : e->cfg.data_dir;
}

static void env_free(cli_env *e) {
    if (e->have_cfg) config_free(&e->cfg);
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_summary(const import_sink *s, const import_result *r, bool dry, double read_s,
                          double write_s) {
    printf("%s %s from %s\n", dry ? "dry run: would import" : "imported", s->format, s->file);
    printf("  threads read:     %lld\n", (long long)r->threads);
    printf("  articles:         %lld (%lld new)\n", (long long)r->articles,
           (long long)r->articles_new);
    printf("  comments:         %lld\n", (long long)r->comments);
    printf("  replies:          %lld\n", (long long)r->replies);
    printf("  over limits kept: %lld\n", (long long)r->over_limit);
    if (r->shared_articles)
        printf("  articles shared by several threads: %lld\n", (long long)r->shared_articles);
    int64_t skipped = r->skip_unknown_thread + r->skip_duplicate + r->skip_already;
    for (int i = 0; i < s->nskips; i++) skipped += s->skips[i].n;
    printf("  skipped:          %lld\n", (long long)skipped);
    if (r->skip_unknown_thread)
        printf("    unknown_thread: %lld\n", (long long)r->skip_unknown_thread);
    if (r->skip_already)
        printf("    already_imported: %lld\n", (long long)r->skip_already);
    if (r->skip_duplicate)
        printf("    duplicate_id: %lld\n", (long long)r->skip_duplicate);
    for (int i = 0; i < s->nskips; i++)
        printf("    %s: %lld\n", s->skips[i].reason, (long long)s->skips[i].n);
    if (r->orphans)
        printf("  replies whose parent is missing (kept at top level): %lld\n",
               (long long)r->orphans);
    if (r->in_deleted_threads)
        printf("  comments of deleted threads (kept removed): %lld\n",
               (long long)r->in_deleted_threads);
    if (r->cycles)
        printf("  replies whose parents form a loop (kept at top level): %lld\n",
               (long long)r->cycles);
    printf("  time:             %.1f s reading, %.1f s writing (the database is locked for "
           "writing only then)\n", read_s, write_s);
    fflush(stdout);
}

static void import_usage(FILE *f) {
    fprintf(f, "usage: parley import disqus|wordpress|isso|remark42|commento|parley FILE [--config FILE] [--data DIR]\n"
               "                     [--dry-run] [--article-map FILE]\n");
}

int import_cli(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"article-map", required_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_env env = {0};
    const char *map_file = NULL;
    bool dry = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:nm:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': env.config = optarg; break;
        case 'd': env.data = optarg; break;
        case 'n': dry = true; break;
        case 'm': map_file = optarg; break;
        case 'h': import_usage(stdout); return 0;
        default: import_usage(stderr); return 2;
        }
    }
    if (argc - optind != 2) {
        import_usage(stderr);
        return 2;
    }
    const char *format = argv[optind], *file = argv[optind + 1];
    if (log_get_level() < LOG_WARN) log_set_level(LOG_WARN);
    int (*parse)(const char *, import_sink *) = NULL;
    if (!strcmp(format, "disqus")) parse = import_disqus;
    else if (!strcmp(format, "wordpress") || !strcmp(format, "wxr")) format = "wordpress", parse = import_wxr;
    else if (!strcmp(format, "parley")) parse = import_parley;
    else if (!strcmp(format, "isso")) parse = import_isso;
    else if (!strcmp(format, "remark42")) parse = import_remark42;
    else if (!strcmp(format, "commento")) parse = import_commento;
    if (!parse) {
        fprintf(stderr, "parley import: unknown format '%s' (disqus, wordpress, isso, remark42, "
                        "commento, parley)\n", format);
        return 2;
    }
    struct stat stt;
    if (stat(file, &stt) || !S_ISREG(stt.st_mode)) {
        fprintf(stderr, "parley import: cannot read %s: %s\n", file,
                errno ? strerror(errno) : "not a file");
        return 1;
    }
    const char *dir = env_load(&env);
    if (!dir) return 1;
    import_sink s = {.file = file, .format = format, .file_bytes = (int64_t)stt.st_size,
                     .limit_title = env.cfg.limit_title, .limit_body = env.cfg.limit_body,
                     .limit_name = env.cfg.limit_name, .tty = isatty(2)};
    int rc = 1;
    db_t *db = NULL;
    if (map_file && !(s.map = load_map(map_file))) goto out;
    db = store_open_sync(dir);
    if (!db || server_load_ip_key(dir)) goto out;
    s.repo = import_repo_open(db, format);
    if (!s.repo) goto out;
    xmlInitParser();
    double t0 = mono_s();
    int prc = parse(file, &s);
    double t1 = mono_s();
    if (s.tty) fprintf(stderr, "\n");
    if (prc || s.failed) {
        fprintf(stderr, "parley import: %s\nnothing was imported\n",
                s.err[0] ? s.err : "the file could not be read");
        goto out;
    }
    import_result res;
    if (import_repo_apply(s.repo, dry, &res)) {
        fprintf(stderr, "parley import: the database refused the import; nothing was imported\n");
        goto out;
    }
    print_summary(&s, &res, dry, t1 - t0, mono_s() - t1);
    rc = 0;
out:
    import_repo_close(s.repo);
    if (db) db_close(db);
    if (s.map) dict_free(s.map, free);
    xmlCleanupParser();
    env_free(&env);
    return rc;
}

/* ---- Export ---- */

static json_t *time_or_null(int64_t ms) {
    if (!ms) return json_null();
    char t[32];
    comment_time(ms, t);
    return json_string(t);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* Writes one comment as a JSON line on stdout. */
static int export_line(const export_row *r, void *arg) {
    char created[32];
    comment_time(r->created_at, created);
    json_t *o = json_pack("{s:s, s:I, s:o, s:s, s:s, s:s, s:s, s:s}", "article", r->article,
                          "id", (json_int_t)r->id, "parent",
                          r->parent ? json_integer(r->parent) : json_null(), "title",
                          r->title ? r->title : "", "body", r->body ? r->body : "", "name",
                          r->author_name ? r->author_name : "", "created", created, "status",
                          r->status ? r->status : "");
    json_object_set_new(o, "author_id", json_string(r->author_id ? r->author_id : ""));
    json_object_set_new(o, "guest", json_boolean(r->guest));
    json_object_set_new(o, "avatar", str_or_null(r->avatar));
    json_object_set_new(o, "ip_hash", str_or_null(r->ip_hash && *r->ip_hash ? r->ip_hash : NULL));
    json_object_set_new(o, "reason", str_or_null(r->reason));
    json_object_set_new(o, "score", json_real(r->score));
    json_object_set_new(o, "decision", str_or_null(r->decision));
    json_object_set_new(o, "moderated_by", str_or_null(r->moderated_by));
    json_object_set_new(o, "edited", time_or_null(r->edited_at));
    json_object_set_new(o, "updated", time_or_null(r->updated_at));
    if (r->src_format && r->src_id)
        json_object_set_new(o, "source",
                            json_pack("{s:s, s:s}", "format", r->src_format, "id", r->src_id));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!line) return -1;
    int rc = puts(line) < 0 ? -1 : 0;
    free(line);
    return rc;
}

int export_cli(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"article", required_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    cli_env env = {0};
    const char *article = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:a:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': env.config = optarg; break;
        case 'd': env.data = optarg; break;
        case 'a': article = optarg; break;
        default:
            fprintf(stderr, "usage: parley export [--config FILE] [--data DIR] [--article ID]\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "parley export: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (article && !import_article_valid(article)) {
        fprintf(stderr, "parley export: '%s' is not an article id\n", article);
        return 2;
    }
    const char *dir = env_load(&env);
    if (!dir) return 1;
    db_t *db = store_open_sync(dir);
    int rc = db ? export_repo_each(db, article, export_line, NULL) : -1;
    if (db) db_close(db);
    env_free(&env);
    if (fflush(stdout) || rc) {
        fprintf(stderr, "parley export: failed\n");
        return 1;
    }
    return 0;
}

/* ---- Backup ---- */

int backup_cli(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    cli_env env = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': env.config = optarg; break;
        case 'd': env.data = optarg; break;
        default: fprintf(stderr, "usage: parley backup FILE [--config FILE] [--data DIR]\n"); return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "usage: parley backup FILE [--config FILE] [--data DIR]\n");
        return 2;
    }
    const char *file = argv[optind];
    if (access(file, F_OK) == 0) {
        fprintf(stderr, "parley backup: %s exists; give a new file\n", file);
        return 1;
    }
    const char *dir = env_load(&env);
    if (!dir) return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/parley.db", dir);
    int rc = 1;
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "parley backup: no database at %s\n", path);
    } else {
        db_t *db = store_open_sync(dir);
        char err[512];
        if (db && backup_repo_copy(db, file, err, sizeof err) == 0) {
            printf("backed up %s to %s\n", path, file);
            rc = 0;
        } else if (db) {
            fprintf(stderr, "parley backup: %s\n", err);
            unlink(file);
        }
        if (db) db_close(db);
    }
    env_free(&env);
    return rc;
}
