/* store_db_pg.c: the PostgreSQL (libpq) driver of store_db.h. The only file that names
 * libpq.
 *
 * A statement is prepared on the server once per connection: the first db_step of a
 * given SQL text sends PQprepare under a generated name, kept in a per-connection cache
 * keyed by the (translated) SQL, and every step that starts a run sends PQexecPrepared
 * with the bound values. The whole result arrives at once; later steps walk its rows.
 * Parameters go as text (type left to the server to infer) except blobs, which go as
 * binary bytea. Results come back as text and are parsed on demand.
 *
 * SAVEPOINT and RELEASE inside a transaction (the executor's between two jobs) wait for
 * the next command and go out with it: prefixed to a simple query, or ahead of a
 * prepared statement in one libpq pipeline. A job on PostgreSQL costs one round trip
 * less; their errors (a lost connection) show on that next command. */
#include "store_db.h"
#include "alloc.h"
#include "dict.h"
#include "log.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Type OIDs of the built-in types read (pg_type.h). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
};

typedef struct {
    db_t base;
    PGconn *c;
    dict_t *prepared; /* translated SQL -> statement name (owned, malloc'd) */
    unsigned next_name;
    int64_t changes;
    bool lost;        /* the connection failed (see revive) */
    bool in_tx;       /* a transaction was open when the last command went out */
    bool lost_in_tx;  /* ... and the connection was lost inside it */
    char *deferred;   /* SAVEPOINT/RELEASE statements not sent yet (see the top) */
    char err[512];
} pg_db;

/* One bound parameter: value owned (copied at bind time). */
typedef struct {
    char *val;  /* NULL = SQL NULL */
    int len;
    int binary; /* 1 for a blob (bytea, binary format) */
    Oid type;   /* what was bound: OID_INT8, OID_FLOAT8, OID_TEXT, OID_BYTEA or 0 (NULL) */
} pg_param;

typedef struct {
    db_stmt base;
    pg_db *db;
    char *sql;        /* translated to $N placeholders (owned) */
    int nparams;
    pg_param *params; /* nparams entries */
    PGresult *res;    /* NULL until the first step of a run */
    int row, nrows;   /* current row: -1 before the first */
    bool done;        /* the run has returned DB_DONE */
    unsigned char **blobs; /* unescaped bytea of the current row, per column */
    size_t *bloblens;
    int ncols;
} pg_stmt;

static const db_driver pg_driver;

static pg_db *D(const db_t *db) { return (pg_db *)db; }
static pg_stmt *S(db_stmt *st) { return (pg_stmt *)st; }

/* ---- Errors ---- */

/* Maps a failed result (or a NULL one) to a DB_ code by its SQLSTATE and the connection's
 * state, and keeps the message on the connection. A lost connection stays lost. */
static int pg_fail(pg_db *d, const PGresult *res) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg) msg = PQerrorMessage(d->c);
    snprintf(d->err, sizeof d->err, "%s", msg && *msg ? msg : "unknown PostgreSQL error");
    size_t n = strlen(d->err);
    while (n && (d->err[n - 1] == '\n' || d->err[n - 1] == ' ')) d->err[--n] = 0;
    if (PQstatus(d->c) == CONNECTION_BAD || (state && !strncmp(state, "08", 2)) ||
        (state && (!strcmp(state, "57P01") || !strcmp(state, "57P02") ||
                   !strcmp(state, "57P03")))) {
        if (!d->lost) d->lost_in_tx = d->in_tx;
        d->lost = true;
        free(d->deferred); /* that transaction is gone */
        d->deferred = NULL;
        return DB_UNAVAILABLE;
    }
    if (!state) return DB_ERROR;
    if (!strncmp(state, "23", 2)) return DB_CONSTRAINT;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01")) return DB_RETRY;
    return DB_ERROR;
}

/* Logs a statement the server refused as a programming error (SQLSTATE class 42:
 * syntax, unknown name, type mismatch; class 22: data exception), with its SQL: these
 * are SQL that is not portable yet, and a caller that ignores the code must not hide it. */
static void log_refused(const PGresult *res, const char *sql) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state || (strncmp(state, "42", 2) && strncmp(state, "22", 2))) return;
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    log_err("store: PostgreSQL refused (%s) %s: %.300s", state, msg ? msg : "", sql);
}

/* A lost connection comes back on its next use when it was lost outside a transaction:
 * PQreset, and the prepared statements of the old session are forgotten. One lost inside
 * a transaction stays lost (every call DB_UNAVAILABLE) until the caller's ROLLBACK, so
 * statements meant for that transaction never run on their own. The executor closes a
 * lost connection itself; this serves long-lived connections of other threads (the
 * outbox, command-line tools). Returns 0 when usable again. */
static int revive(pg_db *d) {
    if (d->lost_in_tx) return -1;
    PQreset(d->c);
    if (PQstatus(d->c) != CONNECTION_OK) return -1;
    dict_free(d->prepared, free);
    d->prepared = dict_new();
    d->lost = false;
    log_info("store: PostgreSQL connection re-established");
    return 0;
}

/* Notes whether a transaction is open before a command goes out. */
static void before_command(pg_db *d) {
    d->in_tx = PQtransactionStatus(d->c) != PQTRANS_IDLE;
}

static int lost(pg_db *d) {
    snprintf(d->err, sizeof d->err, "the connection to PostgreSQL is lost");
    return DB_UNAVAILABLE;
}

/* ---- Connection ---- */

static void pg_quiet(void *arg, const char *msg) {
    (void)arg;
    (void)msg;
}

/* Connects with a conninfo string or URI. Defaults that the conninfo may override: a
 * 5 s connect timeout (a reconnect loop must not hang on a dead host), UTF-8, and an
 * application name. Returns NULL with a message in err when the server cannot be
 * reached. The caller owns the connection (db_close). */
db_t *db_open_pg(const char *conninfo, char *err, size_t errlen) {
    const char *keys[] = {"connect_timeout", "client_encoding", "application_name", "dbname",
                          NULL};
    const char *vals[] = {"5", "UTF8", "parley", conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        if (err) {
            snprintf(err, errlen, "%s", c ? PQerrorMessage(c) : "out of memory");
            size_t n = strlen(err);
            while (n && (err[n - 1] == '\n' || err[n - 1] == ' ')) err[--n] = 0;
        }
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, pg_quiet, NULL);
    pg_db *d = xcalloc(1, sizeof *d);
    d->base.drv = &pg_driver;
    d->c = c;
    d->prepared = dict_new();
    return &d->base;
}

static void pg_close(db_t *db) {
    pg_db *d = D(db);
    PQfinish(d->c);
    dict_free(d->prepared, free);
    free(d->deferred);
    free(d);
}

/* Runs one or more statements with no parameters (PQexec, simple protocol). */
/* Whether sql starts with a transaction-control word (BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
 * RELEASE, START, END, ABORT): those are never wrapped in a savepoint. */
static bool tx_control(const char *sql) {
    static const char *const words[] = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE",
                                        "START", "END", "ABORT"};
    while (*sql == ' ' || *sql == '\n' || *sql == '\t') sql++;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if (!strncasecmp(sql, words[i], n) && !((sql[n] >= 'A' && sql[n] <= 'Z') ||
                                                 (sql[n] >= 'a' && sql[n] <= 'z')))
            return true;
    }
    return false;
}

/* Whether every statement of sql is a SAVEPOINT or a RELEASE: inside a transaction
 * those wait for the next command (see the top). */
static bool deferrable(const char *sql) {
    for (const char *p = sql; p && *p; p = strchr(p, ';')) {
        while (*p == ';' || *p == ' ' || *p == '\n' || *p == '\t') p++;
        if (!*p) break;
        if (strncasecmp(p, "SAVEPOINT ", 10) && strncasecmp(p, "RELEASE ", 8)) return false;
    }
    return true;
}

static void defer(pg_db *d, const char *sql) {
    size_t had = d->deferred ? strlen(d->deferred) : 0, n = strlen(sql);
    d->deferred = xrealloc(d->deferred, had + n + 3);
    if (had) memcpy(d->deferred + had, "; ", 2), had += 2;
    memcpy(d->deferred + had, sql, n + 1);
}

/* The deferred statements followed by sql, as one simple-protocol string (malloc'd), or
 * NULL when none wait. The wait is over either way. */
static char *with_deferred(pg_db *d, const char *sql) {
    if (!d->deferred) return NULL;
    size_t n = strlen(d->deferred) + strlen(sql) + 4;
    char *text = xmalloc(n);
    snprintf(text, n, "%s;\n%s", d->deferred, sql);
    free(d->deferred);
    d->deferred = NULL;
    return text;
}

/* Runs one or more statements with no parameters (simple protocol). Inside an open
 * transaction they run under a savepoint of their own (sent first: a string that does
 * not parse fails before any of it runs), so a failure is undone alone and the
 * transaction goes on, as on SQLite (a job that ignores a failed PRAGMA or cleanup keeps
 * its other work). */
static int pg_exec(db_t *db, const char *sql) {
    pg_db *d = D(db);
    if (d->lost && d->lost_in_tx && !strncasecmp(sql, "ROLLBACK", 8) && !strchr(sql, ' ')) {
        d->lost_in_tx = false; /* the server ended that transaction with the session */
        return DB_OK;
    }
    if (d->lost && revive(d)) return lost(d);
    before_command(d);
    bool in_tx = PQtransactionStatus(d->c) == PQTRANS_INTRANS;
    if (in_tx && deferrable(sql)) {
        defer(d, sql);
        return DB_OK;
    }
    if (d->deferred && (!strncasecmp(sql, "ROLLBACK", 8) || !strncasecmp(sql, "ABORT", 5)) &&
        !strcasestr(sql, " TO ")) {
        free(d->deferred); /* the whole transaction goes: they need not run */
        d->deferred = NULL;
    }
    bool guard = in_tx && !tx_control(sql);
    char *text = NULL;
    if (guard) {
        char *first = with_deferred(d, "SAVEPOINT db_exec");
        PGresult *sp = PQexec(d->c, first ? first : "SAVEPOINT db_exec");
        free(first);
        bool ok = sp && PQresultStatus(sp) == PGRES_COMMAND_OK;
        if (!ok) {
            int rc = pg_fail(d, sp);
            PQclear(sp);
            return rc;
        }
        PQclear(sp);
        size_t n = strlen(sql) + 32;
        text = xmalloc(n);
        snprintf(text, n, "%s\n;RELEASE db_exec", sql);
    } else {
        text = with_deferred(d, sql);
    }
    int rc = DB_OK;
    PGresult *failed = NULL;
    int64_t changes = 0;
    if (!PQsendQuery(d->c, text ? text : sql)) {
        rc = pg_fail(d, NULL);
        free(text);
        return rc;
    }
    /* every result in turn: the first failure, else the changes of the last statement
     * (the one before RELEASE when guarded) */
    PGresult *r, *prev = NULL, *last = NULL;
    while ((r = PQgetResult(d->c))) {
        int st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            if (!failed) failed = r;
            else PQclear(r);
            continue;
        }
        if (prev) PQclear(prev);
        prev = last;
        last = r;
    }
    PGresult *mine = guard ? prev : last;
    if (mine) {
        const char *t = PQcmdTuples(mine);
        changes = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    if (prev) PQclear(prev);
    if (last) PQclear(last);
    if (failed || PQstatus(d->c) != CONNECTION_OK) {
        log_refused(failed, sql);
        rc = pg_fail(d, failed);
        if (guard && rc != DB_UNAVAILABLE)
            PQclear(PQexec(d->c, "ROLLBACK TO db_exec; RELEASE db_exec"));
    } else {
        d->changes = changes;
    }
    PQclear(failed);
    free(text);
    return rc;
}

static const char *pg_errmsg(const db_t *db) { return D(db)->err; }
static int64_t pg_changes(const db_t *db) { return D(db)->changes; }
static int pg_alive(db_t *db) {
    pg_db *d = D(db);
    return !d->lost && PQstatus(d->c) == CONNECTION_OK;
}
static int pg_tx_failed(db_t *db) {
    pg_db *d = D(db);
    return d->lost || PQtransactionStatus(d->c) == PQTRANS_INERROR;
}

/* ---- Placeholders ---- */

/* Translates `?` and `?N` to `$N`, leaving string literals ('...', E'...'), quoted
 * identifiers, dollar-quoted bodies and comments alone. Returns a malloc'd string and
 * the number of parameters (the highest index used) in *nparams. */
static char *pg_translate(const char *sql, int *nparams) {
    size_t n = strlen(sql);
    char *out = xmalloc(n * 4 + 16); /* "?" -> "$NNNN" at most */
    size_t o = 0;
    int next = 0, max = 0;
    for (size_t i = 0; i < n;) {
        char ch = sql[i];
        if (ch == '\'' || ch == '"') {
            /* a literal or identifier: to its closing quote (doubled quotes stay in) */
            char q = ch;
            bool esc = q == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
            out[o++] = sql[i++];
            while (i < n) {
                if (esc && sql[i] == '\\' && i + 1 < n) {
                    out[o++] = sql[i++];
                    out[o++] = sql[i++];
                    continue;
                }
                if (sql[i] == q) {
                    if (i + 1 < n && sql[i + 1] == q) {
                        out[o++] = sql[i++];
                        out[o++] = sql[i++];
                        continue;
                    }
                    out[o++] = sql[i++];
                    break;
                }
                out[o++] = sql[i++];
            }
        } else if (ch == '-' && i + 1 < n && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n') out[o++] = sql[i++];
        } else if (ch == '/' && i + 1 < n && sql[i + 1] == '*') {
            out[o++] = sql[i++];
            out[o++] = sql[i++];
            while (i < n && !(sql[i] == '*' && i + 1 < n && sql[i + 1] == '/'))
                out[o++] = sql[i++];
            if (i < n) {
                out[o++] = sql[i++];
                out[o++] = sql[i++];
            }
        } else if (ch == '$' && i + 1 < n &&
                   (sql[i + 1] == '$' || sql[i + 1] == '_' ||
                    (sql[i + 1] >= 'A' && sql[i + 1] <= 'Z') ||
                    (sql[i + 1] >= 'a' && sql[i + 1] <= 'z'))) {
            /* $tag$ ... $tag$ */
            size_t j = i + 1;
            while (j < n && sql[j] != '$' &&
                   (sql[j] == '_' || (sql[j] >= 'A' && sql[j] <= 'Z') ||
                    (sql[j] >= 'a' && sql[j] <= 'z') || (sql[j] >= '0' && sql[j] <= '9')))
                j++;
            if (j >= n || sql[j] != '$') {
                out[o++] = sql[i++];
                continue;
            }
            size_t taglen = j - i + 1;
            const char *close = NULL;
            for (const char *p = sql + j + 1; *p; p++)
                if (!strncmp(p, sql + i, taglen)) {
                    close = p;
                    break;
                }
            size_t stop = close ? (size_t)(close - sql) + taglen : n;
            while (i < stop) out[o++] = sql[i++];
        } else if (ch == '?') {
            i++;
            int num = 0;
            bool explicit_num = false;
            while (i < n && sql[i] >= '0' && sql[i] <= '9' && num < 100000) {
                num = num * 10 + (sql[i++] - '0');
                explicit_num = true;
            }
            if (!explicit_num) num = ++next;
            else if (num > next) next = num;
            if (num > max) max = num;
            o += (size_t)sprintf(out + o, "$%d", num);
        } else {
            out[o++] = sql[i++];
        }
    }
    out[o] = 0;
    *nparams = max;
    return out;
}

/* ---- Statements ---- */

static int pg_prepare(db_t *db, const char *sql, db_stmt **out) {
    pg_db *d = D(db);
    if (d->lost && revive(d)) return lost(d);
    pg_stmt *st = xcalloc(1, sizeof *st);
    st->base.drv = &pg_driver;
    st->db = d;
    st->sql = pg_translate(sql, &st->nparams);
    st->params = xcalloc((size_t)st->nparams + 1, sizeof *st->params);
    st->row = -1;
    *out = &st->base;
    return DB_OK;
}

static void free_row(pg_stmt *st) {
    for (int i = 0; i < st->ncols; i++) {
        if (st->blobs[i]) PQfreemem(st->blobs[i]);
        st->blobs[i] = NULL;
    }
}

static void free_result(pg_stmt *st) {
    if (st->blobs) free_row(st);
    free(st->blobs);
    free(st->bloblens);
    st->blobs = NULL;
    st->bloblens = NULL;
    st->ncols = 0;
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->nrows = 0;
    st->done = false;
}

/* Stores a parameter's value (copied). */
static int set_param(pg_stmt *st, int i, const char *v, int len, int binary, Oid type) {
    if (i < 1 || i > st->nparams) {
        snprintf(st->db->err, sizeof st->db->err, "parameter %d out of range (1..%d)", i,
                 st->nparams);
        return DB_ERROR;
    }
    pg_param *p = &st->params[i - 1];
    free(p->val);
    p->val = NULL;
    p->len = 0;
    if (v) {
        p->val = xmalloc((size_t)len + 1);
        memcpy(p->val, v, (size_t)len);
        p->val[len] = 0;
        p->len = len;
    }
    p->binary = binary;
    p->type = type;
    return DB_OK;
}

static int pg_bind_int64(db_stmt *s, int i, int64_t v) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    return set_param(S(s), i, buf, n, 0, OID_INT8);
}
static int pg_bind_double(db_stmt *s, int i, double v) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.17g", v);
    return set_param(S(s), i, buf, n, 0, OID_FLOAT8);
}
static int pg_bind_text(db_stmt *s, int i, const char *t, int n) {
    return set_param(S(s), i, t, n < 0 ? (int)strlen(t) : n, 0, OID_TEXT);
}
static int pg_bind_blob(db_stmt *s, int i, const void *p, int n) {
    /* an empty blob is a value, not NULL */
    return set_param(S(s), i, p ? (const char *)p : "", p ? n : 0, 1, OID_BYTEA);
}
static int pg_bind_null(db_stmt *s, int i) { return set_param(S(s), i, NULL, 0, 0, 0); }

/* PQprepare that leaves an open transaction usable when it fails: inside a transaction
 * the attempt runs under a savepoint. Returns the result (caller clears). */
static PGresult *prepare_guarded(pg_db *d, const char *name, const char *sql, int n,
                                 const Oid *types, bool in_tx) {
    if (in_tx) {
        char *first = with_deferred(d, "SAVEPOINT db_prepare");
        PGresult *r = PQexec(d->c, first ? first : "SAVEPOINT db_prepare");
        free(first);
        bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) return r;
        PQclear(r);
    }
    PGresult *res = PQprepare(d->c, name, sql, n, types);
    if (in_tx) {
        bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(PQexec(d->c, ok ? "RELEASE db_prepare"
                                : "ROLLBACK TO db_prepare; RELEASE db_prepare"));
    }
    return res;
}

/* Finds or creates the server-side prepared statement for st's SQL. Parameter types
 * are left to the server, except blobs (bytea); a statement whose parameter types the
 * server cannot infer (`? IS NULL`: 42P18 or 42P08) is prepared again with the types of the values
 * bound now. Returns the name (owned by the cache) or NULL with an error code. */
static const char *pg_prepared(pg_stmt *st, int *rc) {
    pg_db *d = st->db;
    const char *name = dict_get(d->prepared, st->sql);
    if (name) return name;
    char buf[32];
    snprintf(buf, sizeof buf, "p%u", ++d->next_name);
    Oid *types = xcalloc((size_t)st->nparams + 1, sizeof *types);
    for (int i = 0; i < st->nparams; i++)
        if (st->params[i].binary) types[i] = OID_BYTEA;
    bool in_tx = PQtransactionStatus(d->c) != PQTRANS_IDLE;
    PGresult *res = prepare_guarded(d, buf, st->sql, st->nparams, types, in_tx);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (res && PQresultStatus(res) != PGRES_COMMAND_OK && state &&
        (!strcmp(state, "42P18") || !strcmp(state, "42P08"))) {
        PQclear(res);
        for (int i = 0; i < st->nparams; i++)
            types[i] = st->params[i].type ? st->params[i].type : OID_TEXT;
        res = prepare_guarded(d, buf, st->sql, st->nparams, types, in_tx);
    }
    free(types);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        log_refused(res, st->sql);
        *rc = pg_fail(d, res);
        PQclear(res);
        return NULL;
    }
    PQclear(res);
    char *owned = xstrdup(buf);
    dict_set(d->prepared, st->sql, owned, NULL);
    return owned;
}

/* Runs the deferred statements and then prepared statement `name` in one pipeline (one
 * round trip). Returns the statement's result, or the first failure before it (the
 * caller clears either), or NULL when nothing could be sent. */
static PGresult *exec_after_deferred(pg_db *d, char *pending, const char *name, int n,
                                     const char *const *vals, const int *lens,
                                     const int *fmts) {
    if (!PQenterPipelineMode(d->c)) { /* not idle: one after the other */
        PGresult *r = PQexec(d->c, pending);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) return r;
        PQclear(r);
        return PQexecPrepared(d->c, name, n, vals, lens, fmts, 0);
    }
    int sent = 0;
    bool ok = true;
    char *save = NULL;
    for (char *part = strtok_r(pending, ";", &save); part && ok;
         part = strtok_r(NULL, ";", &save)) {
        while (*part == ' ' || *part == '\n' || *part == '\t') part++;
        if (!*part) continue;
        ok = PQsendQueryParams(d->c, part, 0, NULL, NULL, NULL, NULL, 0);
        sent += ok;
    }
    if (ok) {
        ok = PQsendQueryPrepared(d->c, name, n, vals, lens, fmts, 0);
        sent += ok;
    }
    PGresult *mine = NULL, *failed = NULL;
    if (ok && PQpipelineSync(d->c)) {
        /* each query's results end with a NULL; then the sync point */
        for (int q = 0; q < sent; q++) {
            PGresult *r;
            while ((r = PQgetResult(d->c))) {
                int st = PQresultStatus(r);
                bool good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
                if (good && q == sent - 1 && !mine) mine = r;
                else if (!good && st != PGRES_PIPELINE_ABORTED && !failed) failed = r;
                else PQclear(r);
            }
        }
        PGresult *sync = PQgetResult(d->c);
        PQclear(sync);
    }
    PQexitPipelineMode(d->c);
    if (failed) {
        PQclear(mine);
        return failed;
    }
    return mine;
}

/* Runs the statement with its bound values: the result is kept for the row walk. */
static int pg_run(pg_stmt *st) {
    pg_db *d = st->db;
    if (d->lost && revive(d)) return lost(d);
    before_command(d);
    int rc = DB_OK;
    const char *name = pg_prepared(st, &rc);
    if (!name) return rc;
    int n = st->nparams;
    const char **vals = xcalloc((size_t)n + 1, sizeof *vals);
    int *lens = xcalloc((size_t)n + 1, sizeof *lens);
    int *fmts = xcalloc((size_t)n + 1, sizeof *fmts);
    for (int i = 0; i < n; i++) {
        vals[i] = st->params[i].val;
        lens[i] = st->params[i].len;
        fmts[i] = st->params[i].binary;
    }
    char *pending = d->deferred;
    d->deferred = NULL;
    PGresult *res = pending ? exec_after_deferred(d, pending, name, n, vals, lens, fmts)
                            : PQexecPrepared(d->c, name, n, vals, lens, fmts, 0);
    free(pending);
    free(vals);
    free(lens);
    free(fmts);
    int status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        log_refused(res, st->sql);
        rc = pg_fail(d, res);
        PQclear(res);
        return rc;
    }
    const char *t = PQcmdTuples(res);
    d->changes = t && *t ? strtoll(t, NULL, 10) : 0;
    st->res = res;
    st->nrows = PQntuples(res);
    st->ncols = PQnfields(res);
    st->blobs = xcalloc((size_t)st->ncols + 1, sizeof *st->blobs);
    st->bloblens = xcalloc((size_t)st->ncols + 1, sizeof *st->bloblens);
    st->row = -1;
    return DB_OK;
}

/* Executes on the first step of a run, then moves to the next row. After DB_DONE a
 * further step runs the statement again (as SQLite's step does). */
static int pg_step(db_stmt *s) {
    pg_stmt *st = S(s);
    if (st->done) free_result(st);
    if (!st->res) {
        int rc = pg_run(st);
        if (rc != DB_OK) return rc;
    }
    free_row(st);
    if (st->row + 1 < st->nrows) {
        st->row++;
        return DB_ROW;
    }
    st->done = true;
    return DB_DONE;
}

static int pg_reset(db_stmt *s) {
    free_result(S(s));
    return DB_OK;
}
static int pg_clear(db_stmt *s) {
    pg_stmt *st = S(s);
    for (int i = 0; i < st->nparams; i++) {
        free(st->params[i].val);
        memset(&st->params[i], 0, sizeof st->params[i]);
    }
    return DB_OK;
}
static void pg_finalize(db_stmt *s) {
    pg_stmt *st = S(s);
    free_result(st);
    pg_clear(s);
    free(st->params);
    free(st->sql);
    free(st);
}

/* ---- Columns ---- */

static bool has_value(pg_stmt *st, int c) {
    return st->res && st->row >= 0 && st->row < st->nrows && c >= 0 && c < st->ncols &&
           !PQgetisnull(st->res, st->row, c);
}

static int pg_col_type(db_stmt *s, int c) {
    pg_stmt *st = S(s);
    if (!has_value(st, c)) return DB_NULL;
    switch (PQftype(st->res, c)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
    case OID_BOOL: return DB_INTEGER;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC: return DB_FLOAT;
    case OID_BYTEA: return DB_BLOB;
    default: return DB_TEXT;
    }
}

static int64_t pg_col_int64(db_stmt *s, int c) {
    pg_stmt *st = S(s);
    if (!has_value(st, c)) return 0;
    const char *v = PQgetvalue(st->res, st->row, c);
    Oid t = PQftype(st->res, c);
    if (t == OID_BOOL) return v[0] == 't';
    /* a numeric without a fraction (sum() of BIGINT) keeps every digit */
    if ((t == OID_FLOAT4 || t == OID_FLOAT8 || t == OID_NUMERIC) && strpbrk(v, ".eEnN"))
        return (int64_t)strtod(v, NULL);
    return strtoll(v, NULL, 10);
}

static double pg_col_double(db_stmt *s, int c) {
    pg_stmt *st = S(s);
    if (!has_value(st, c)) return 0;
    const char *v = PQgetvalue(st->res, st->row, c);
    if (PQftype(st->res, c) == OID_BOOL) return v[0] == 't';
    return strtod(v, NULL);
}

static const char *pg_col_text(db_stmt *s, int c) {
    pg_stmt *st = S(s);
    if (!has_value(st, c)) return NULL;
    return PQgetvalue(st->res, st->row, c);
}

/* The bytes of a bytea column, unescaped once per row (freed on the next step). */
static const unsigned char *blob_of(pg_stmt *st, int c, size_t *len) {
    if (!st->blobs[c]) {
        st->blobs[c] = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, c),
                                       &st->bloblens[c]);
        if (!st->blobs[c]) abort(); /* out of memory: the allocation policy of alloc.h */
    }
    *len = st->bloblens[c];
    return st->blobs[c];
}

static const void *pg_col_blob(db_stmt *s, int c) {
    pg_stmt *st = S(s);
    if (!has_value(st, c)) return NULL;
    if (PQftype(st->res, c) != OID_BYTEA) return PQgetvalue(st->res, st->row, c);
    size_t len;
    return blob_of(st, c, &len);
}

static int pg_col_bytes(db_stmt *s, int c) {
    pg_stmt *st = S(s);
    if (!has_value(st, c)) return 0;
    if (PQftype(st->res, c) != OID_BYTEA) return PQgetlength(st->res, st->row, c);
    size_t len;
    blob_of(st, c, &len);
    return (int)len;
}

static int pg_col_count(db_stmt *s) {
    pg_stmt *st = S(s);
    return st->res ? PQnfields(st->res) : 0;
}
static const char *pg_col_name(db_stmt *s, int c) {
    pg_stmt *st = S(s);
    return st->res ? PQfname(st->res, c) : NULL;
}

static const db_driver pg_driver = {
    .dialect = DB_POSTGRES,
    .close = pg_close,
    .exec = pg_exec,
    .errmsg = pg_errmsg,
    .changes = pg_changes,
    .alive = pg_alive,
    .prepare = pg_prepare,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .reset = pg_reset,
    .clear_bindings = pg_clear,
    .finalize = pg_finalize,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_bytes = pg_col_bytes,
    .col_type = pg_col_type,
    .col_count = pg_col_count,
    .col_name = pg_col_name,
    .tx_failed = pg_tx_failed,
};
