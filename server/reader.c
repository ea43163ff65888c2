/* reader.c: `parley reader export|erase ID` (see reader.h). */
#include "reader.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "store.h"
#include "store_sqlite_reader.h"

/* An author id as the server makes them ("g:…", "u:…", "i:…"): printable, no spaces. */
static int id_valid(const char *s) {
    size_t n = strlen(s);
    if (n < 3 || n > 300 || !strchr(s, ':')) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

int reader_cli(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"by", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL, *data = NULL, *by = "cli";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:b:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'd': data = optarg; break;
        case 'b': by = optarg; break;
        default: return 2;
        }
    }
    const char *cmd = argv[0];
    if ((strcmp(cmd, "export") && strcmp(cmd, "erase")) || argc - optind != 1) {
        fprintf(stderr, "usage: parley reader export|erase AUTHOR-ID [--config FILE] [--data DIR] "
                        "[--by NAME]\n");
        return 2;
    }
    const char *id = argv[optind];
    if (!id_valid(id)) {
        fprintf(stderr, "parley reader: '%s' is not an author id (as in comment.author.id)\n", id);
        return 2;
    }
    if (log_get_level() < LOG_WARN) log_set_level(LOG_WARN);
    config_t cfg = {0};
    bool have = false;
    const char *path = config ? config : "moderation.yml";
    if (config || !data || access(path, F_OK) == 0) {
        char err[CFG_ERRLEN];
        if (config_load(path, &cfg, err, sizeof err)) {
            fprintf(stderr, "parley: %s\n", err);
            config_free(&cfg);
            return 1;
        }
        have = true;
    }
    sqlite3 *db = store_open_sync(data ? data : cfg.data_dir);
    int rc = 1;
    if (db && !strcmp(cmd, "export")) {
        json_t *o = reader_repo_export(db, id);
        if (o) {
            char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            puts(s);
            free(s);
            json_decref(o);
            rc = 0;
        } else {
            fprintf(stderr, "parley reader: the export failed\n");
        }
    } else if (db) {
        reader_erased e;
        if (reader_repo_erase(db, id, by, &e) == 0) {
            printf("erased %s: %lld comments kept as placeholders, %lld reports, %lld notes, "
                   "%lld bans deleted, %lld audit entries scrubbed\n",
                   id, (long long)e.comments, (long long)e.reports, (long long)e.notes,
                   (long long)e.bans, (long long)e.audit);
            rc = 0;
        } else {
            fprintf(stderr, "parley reader: the erasure failed; nothing was changed\n");
        }
    }
    if (db) sqlite3_close(db);
    if (have) config_free(&cfg);
    return rc;
}
