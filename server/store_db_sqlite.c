/* store_db_sqlite.c: the SQLite driver of store_db.h. The only file that names sqlite3
 * (besides the online backup, which asks for the handle). */
#include "store_db.h"
#include "alloc.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Statements finished with are kept, reset, for the next prepare of the same text: the
 * storage thread runs the same few dozen statements for every post, and preparing them
 * anew each time was a third of its work (bench/postrate.sh under perf). */
#define SQ_CACHE 128

typedef struct {
    uint64_t hash;
    sqlite3_stmt *st;
} sq_cached;

typedef struct {
    db_t base;
    sqlite3 *h;
    int ncache;
    sq_cached cache[SQ_CACHE];
} sq_db;

typedef struct {
    db_stmt base;
    sqlite3_stmt *st;
    sq_db *db; /* whose cache takes the statement back */
} sq_stmt;

static const db_driver sqlite_driver;

static sqlite3 *H(const db_t *db) { return ((const sq_db *)db)->h; }
static sqlite3_stmt *S(db_stmt *st) { return ((sq_stmt *)st)->st; }

static int code(int rc) {
    switch (rc & 0xff) {
    case SQLITE_OK: return DB_OK;
    case SQLITE_ROW: return DB_ROW;
    case SQLITE_DONE: return DB_DONE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return DB_BUSY;
    case SQLITE_CONSTRAINT: return DB_CONSTRAINT;
    default: return DB_ERROR;
    }
}

db_t *db_open_sqlite(const char *path, int flags, char *err, size_t errlen) {
    sqlite3 *h = NULL;
    int f = (flags & DB_OPEN_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (flags & DB_OPEN_CREATE) f |= SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &h, f | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        if (err) snprintf(err, errlen, "%s: %s", path, h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close(h);
        return NULL;
    }
    sqlite3_busy_timeout(h, 5000);
    sq_db *db = xcalloc(1, sizeof *db);
    db->base.drv = &sqlite_driver;
    db->h = h;
    return &db->base;
}

void *db_sqlite_handle(db_t *db) { return db && db->drv == &sqlite_driver ? H(db) : NULL; }

static uint64_t sql_hash(const char *sql) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a: the keys are our own SQL texts */
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

static void sq_close(db_t *db) {
    sq_db *d = (sq_db *)db;
    for (int i = 0; i < d->ncache; i++) sqlite3_finalize(d->cache[i].st);
    d->ncache = 0;
    sqlite3_close(H(db));
    free(db);
}
static int sq_exec(db_t *db, const char *sql) {
    return code(sqlite3_exec(H(db), sql, NULL, NULL, NULL));
}
static const char *sq_errmsg(const db_t *db) { return sqlite3_errmsg(H(db)); }
static int64_t sq_changes(const db_t *db) { return sqlite3_changes64(H(db)); }
static int sq_alive(db_t *db) {
    (void)db;
    return 1;
}
static int sq_prepare(db_t *db, const char *sql, db_stmt **out) {
    sq_db *d = (sq_db *)db;
    sqlite3_stmt *s = NULL;
    uint64_t h = sql_hash(sql);
    for (int i = d->ncache - 1; i >= 0; i--) {
        if (d->cache[i].hash == h && !strcmp(sqlite3_sql(d->cache[i].st), sql)) {
            s = d->cache[i].st;
            d->cache[i] = d->cache[--d->ncache];
            break;
        }
    }
    if (!s) {
        int rc = sqlite3_prepare_v2(H(db), sql, -1, &s, NULL);
        if (rc != SQLITE_OK || !s) {
            sqlite3_finalize(s);
            return rc != SQLITE_OK ? code(rc) : DB_ERROR; /* !s: no statement in sql */
        }
    }
    sq_stmt *st = xcalloc(1, sizeof *st);
    st->base.drv = &sqlite_driver;
    st->st = s;
    st->db = d;
    *out = &st->base;
    return DB_OK;
}
static int sq_bind_int64(db_stmt *st, int i, int64_t v) {
    return code(sqlite3_bind_int64(S(st), i, v));
}
static int sq_bind_double(db_stmt *st, int i, double v) {
    return code(sqlite3_bind_double(S(st), i, v));
}
static int sq_bind_text(db_stmt *st, int i, const char *s, int n) {
    return code(sqlite3_bind_text(S(st), i, s, n, SQLITE_STATIC));
}
static int sq_bind_blob(db_stmt *st, int i, const void *p, int n) {
    return code(sqlite3_bind_blob(S(st), i, p, n, SQLITE_STATIC));
}
static int sq_bind_null(db_stmt *st, int i) { return code(sqlite3_bind_null(S(st), i)); }
static int sq_step(db_stmt *st) { return code(sqlite3_step(S(st))); }
static int sq_reset(db_stmt *st) { return code(sqlite3_reset(S(st))); }
static int sq_clear(db_stmt *st) { return code(sqlite3_clear_bindings(S(st))); }
static void sq_finalize(db_stmt *st) {
    sqlite3_stmt *s = S(st);
    sq_db *d = ((sq_stmt *)st)->db;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (d && d->ncache < SQ_CACHE && !sqlite3_stmt_busy(s))
        d->cache[d->ncache++] = (sq_cached){sql_hash(sqlite3_sql(s)), s};
    else
        sqlite3_finalize(s);
    free(st);
}
static int64_t sq_col_int64(db_stmt *st, int c) { return sqlite3_column_int64(S(st), c); }
static double sq_col_double(db_stmt *st, int c) { return sqlite3_column_double(S(st), c); }
static const char *sq_col_text(db_stmt *st, int c) {
    return (const char *)sqlite3_column_text(S(st), c);
}
static const void *sq_col_blob(db_stmt *st, int c) { return sqlite3_column_blob(S(st), c); }
static int sq_col_bytes(db_stmt *st, int c) { return sqlite3_column_bytes(S(st), c); }
static int sq_col_type(db_stmt *st, int c) {
    switch (sqlite3_column_type(S(st), c)) {
    case SQLITE_INTEGER: return DB_INTEGER;
    case SQLITE_FLOAT: return DB_FLOAT;
    case SQLITE_BLOB: return DB_BLOB;
    case SQLITE_NULL: return DB_NULL;
    default: return DB_TEXT;
    }
}
static int sq_col_count(db_stmt *st) { return sqlite3_column_count(S(st)); }
static const char *sq_col_name(db_stmt *st, int c) { return sqlite3_column_name(S(st), c); }

int db_sqlite_backup(db_t *db, const char *path, char *err, size_t errlen) {
    if (!db_sqlite_handle(db)) {
        snprintf(err, errlen, "an online backup copies an SQLite database only");
        return -1;
    }
    sqlite3 *dst = NULL;
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", path,
                 dst ? sqlite3_errmsg(dst) : "out of memory");
        sqlite3_close(dst);
        return -1;
    }
    sqlite3_busy_timeout(dst, 5000);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", H(db), "main");
    if (!b) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return -1;
    }
    /* All pages in one step: one read transaction, so the copy is one consistent
     * snapshot, and in WAL mode the server's writer never waits for it. */
    int rc;
    while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
        sqlite3_sleep(20);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "backup to %s failed: %s", path, sqlite3_errstr(rc));
        sqlite3_close(dst);
        return -1;
    }
    if (sqlite3_close(dst) != SQLITE_OK) {
        snprintf(err, errlen, "cannot close %s", path);
        return -1;
    }
    return 0;
}

int db_sqlite_checkpoint(db_t *db) {
    if (!db_sqlite_handle(db)) return 0;
    return sqlite3_wal_checkpoint_v2(H(db), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) ==
                   SQLITE_OK
               ? 0
               : -1;
}

static const db_driver sqlite_driver = {
    .dialect = DB_SQLITE,
    .close = sq_close,
    .exec = sq_exec,
    .errmsg = sq_errmsg,
    .changes = sq_changes,
    .alive = sq_alive,
    .prepare = sq_prepare,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .reset = sq_reset,
    .clear_bindings = sq_clear,
    .finalize = sq_finalize,
    .col_int64 = sq_col_int64,
    .col_double = sq_col_double,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .col_bytes = sq_col_bytes,
    .col_type = sq_col_type,
    .col_count = sq_col_count,
    .col_name = sq_col_name,
};
