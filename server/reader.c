/* reader.c: `parley reader export|erase ID` (see reader.h). */
#include "reader.h"
#include "alloc.h"
#include "clock.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "errors.h"
#include "log.h"
#include "conn.h"
#include "names.h"
#include "net.h"
#include "server.h"
#include "store.h"
#include "store_reader.h"

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
    db_t *db = store_open_sync(data ? data : cfg.data_dir);
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
                   "%lld bans, %lld likes, %lld reply-email subscriptions, %lld learned texts, "
                   "%lld webhook events deleted, %lld audit entries scrubbed\n",
                   id, (long long)e.comments, (long long)e.reports, (long long)e.notes,
                   (long long)e.bans, (long long)e.reactions, (long long)e.emails,
                   (long long)e.examples, (long long)e.events, (long long)e.audit);
            rc = 0;
        } else {
            fprintf(stderr, "parley reader: the erasure failed; nothing was changed\n");
        }
    }
    if (db) db_close(db);
    if (have) config_free(&cfg);
    return rc;
}

/* ---- For admins over HTTP (the console) ---- */

/* GET /api/mod/reader?id=AUTHOR-ID          -> the export above
 * POST /api/mod/reader/erase {"id": "..."}  -> {"erased": {...counts}}
 * Admins only (session cookie); the POST only from the server's own pages. */
typedef struct {
    store_job job;
    uint64_t http_id;
    char token_hash[65];
    char *reader, *by;
    bool erase;
    json_t *result; /* built on the storage thread */
    uint64_t conn_id;  /* a reader's own request over the WebSocket: no session check */
    json_t *req_id;
} reader_job;

static int run_reader(store_job *job, db_t *db) {
    reader_job *j = (reader_job *)job;
    int rc = 0;
    if (j->conn_id) {
        j->by = xstrdup("reader"); /* the reader's own request */
    } else {
        char *name = NULL, *role = NULL;
        rc = auth_session_check(db, j->token_hash, now_ms(), &name, &role);
        if (!rc && strcmp(role, "admin")) rc = PERR_FORBIDDEN;
        if (!rc) j->by = xstrdup(name);
        free(name);
        free(role);
        if (rc) return rc;
    }
    if (!j->erase) {
        j->result = reader_repo_export_tx(db, j->reader);
        return j->result ? 0 : PERR_INTERNAL;
    }
    /* freed pages are overwritten while this runs, then the setting is put back */
    int was = reader_repo_secure_delete_on(db);
    reader_erased e;
    names_forget_author(db, j->reader); /* before the names are gone from the comments */
    /* a reader's own request keeps the bans in force on them (else erasing would lift
     * them); an admin's erases them too */
    rc = reader_repo_erase_tx(db, j->reader, j->by, j->conn_id != 0, &e);
    reader_repo_secure_delete_restore(db, was);
    if (rc) return PERR_INTERNAL;
    j->result = json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "erased",
                          "comments", (json_int_t)e.comments, "reports", (json_int_t)e.reports,
                          "notes", (json_int_t)e.notes, "bans", (json_int_t)e.bans, "audit",
                          (json_int_t)e.audit, "likes", (json_int_t)e.reactions, "emails",
                          (json_int_t)e.emails, "learned", (json_int_t)e.examples, "events",
                          (json_int_t)e.events);
    return 0;
}

static int reply(http_req *r, int status, json_t *body) {
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    http_header h = {"cache-control", "no-store"};
    int rc = net_http_respond(r, status, "application/json", &h, 1, text, strlen(text));
    free(text);
    return rc;
}

static void done_reader(store_job *job) {
    reader_job *j = (reader_job *)job;
    http_req *r = net_http_by_id(j->http_id);
    if (r) {
        if (job->status) {
            int st = job->status == PERR_UNAUTHORIZED ? 401
                     : job->status == PERR_FORBIDDEN  ? 403
                                                      : 503;
            reply(r, st, json_pack("{s:s}", "error", perr_code((perr_t)job->status)));
        } else {
            reply(r, 200, json_incref(j->result));
        }
    }
    json_decref(j->result);
    free(j->reader);
    free(j->by);
    free(j);
}

static int submit(http_req *r, const char *reader, bool erase) {
    if (!reader || !id_valid(reader))
        return reply(r, 400, json_pack("{s:s}", "error", "bad_request"));
    char *token = auth_http_token(r);
    if (!token) return reply(r, 401, json_pack("{s:s}", "error", "unauthorized"));
    reader_job *j = xcalloc(1, sizeof *j);
    auth_token_hash(token, j->token_hash);
    free(token);
    j->http_id = r->id;
    j->reader = xstrdup(reader);
    j->erase = erase;
    j->job.run = run_reader;
    j->job.done = done_reader;
    store_submit(srv.store, &j->job);
    return 1;
}

static int route_export(http_req *r) {
    char id[320];
    return submit(r, net_http_arg(r, "id", id, sizeof id) > 0 ? id : NULL, false);
}

static int route_erase(http_req *r) {
    if (!r->origin[0] || !net_own_origin(r->wsi, r->origin))
        return reply(r, 403, json_pack("{s:s}", "error", "forbidden"));
    json_t *body = r->body ? json_loads(r->body, 0, NULL) : NULL;
    json_t *id = json_object_get(body, "id");
    int rc = submit(r, json_is_string(id) ? json_string_value(id) : NULL, true);
    json_decref(body);
    return rc;
}

/* ---- A signed-in reader's own data, over the WebSocket ---- */

static void done_ws(store_job *job) {
    reader_job *j = (reader_job *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c) {
        if (job->status) {
            conn_error(c, j->req_id, (perr_t)job->status, "Your data could not be read or erased; try again later.");
        } else {
            json_t *m = j->erase ? json_pack("{s:s, s:O}", "type", "erased", "erased",
                                             json_object_get(j->result, "erased"))
                                 : json_pack("{s:s, s:O}", "type", "my_data", "data", j->result);
            if (j->req_id) json_object_set(m, "id", j->req_id);
            conn_send_json(c, m);
            if (j->erase) clog_info(c->id, "reader: erased at the reader's request");
        }
    }
    json_decref(j->req_id);
    json_decref(j->result);
    free(j->reader);
    free(j->by);
    free(j);
}

/* Checks that c may act on its own data; sends the error itself and returns -1 if not. */
static int self_allowed(conn_t *c, const json_t *id) {
    if (!srv.cfg.self_service) {
        conn_error(c, id, PERR_FORBIDDEN, "This site does not offer that here; ask its editors.");
        return -1;
    }
    if (!c->signed_in) {
        conn_error(c, id, PERR_UNAUTHORIZED, "Sign in to see or erase your data.");
        return -1;
    }
    return 0;
}

static void ws_submit(conn_t *c, const json_t *id, bool erase) {
    reader_job *j = xcalloc(1, sizeof *j);
    j->conn_id = c->id;
    j->req_id = id ? json_incref((json_t *)id) : NULL;
    j->reader = xstrdup(c->author_id);
    j->erase = erase;
    j->job.run = run_reader;
    j->job.done = done_ws;
    j->job.read_only = !erase;
    store_submit(srv.store, &j->job);
}

void reader_ws_export(conn_t *c, const json_t *id) {
    if (self_allowed(c, id) == 0) ws_submit(c, id, false);
}

void reader_ws_erase(conn_t *c, json_t *req, const json_t *id) {
    if (self_allowed(c, id)) return;
    if (!json_is_true(json_object_get(req, "confirm"))) {
        conn_error(c, id, PERR_BAD_REQUEST, "Erasing needs \"confirm\": true.");
        return;
    }
    ws_submit(c, id, true);
}

void reader_init(void) {
    net_add_route("GET", "/api/mod/reader", route_export);
    net_add_route("POST", "/api/mod/reader/erase", route_erase);
}
