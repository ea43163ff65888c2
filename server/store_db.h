/* store_db.h: the one SQL interface of the store layer. A connection (db_t) and its
 * statements (db_stmt) over either SQLite (the embedded default) or PostgreSQL (libpq,
 * for several machines). Repositories (store_*.c) write their SQL once, with `?`
 * placeholders, in the subset both dialects share (RETURNING, ON CONFLICT, CTEs, ||);
 * where the dialects differ a repository asks db_dialect(). Only the two drivers,
 * store_db_sqlite.c and store_db_pg.c, name sqlite3 or libpq.
 *
 * The shape follows SQLite's statement API (prepare, bind, step, column, finalize) so
 * a row loop reads the same on both: the PostgreSQL driver runs the statement on the
 * first step and walks its result. Connections are not thread safe: one thread each. */
#ifndef PARLEY_STORE_DB_H
#define PARLEY_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

typedef struct db db_t;
typedef struct db_stmt db_stmt;

/* Result codes (SQLite's values, so a log line means the same on both). */
enum {
    DB_OK = 0,
    DB_ERROR = 1,
    DB_BUSY = 5,
    DB_CONSTRAINT = 19, /* unique, foreign key, check or not-null violation */
    DB_ROW = 100,
    DB_DONE = 101,
    DB_RETRY = 200,       /* serialization failure or deadlock: run the transaction again */
    DB_UNAVAILABLE = 201, /* the connection is lost: reconnect with backoff */
};

/* Column types. */
enum { DB_INTEGER = 1, DB_FLOAT = 2, DB_TEXT = 3, DB_BLOB = 4, DB_NULL = 5 };

typedef enum { DB_SQLITE = 0, DB_POSTGRES = 1 } db_dialect_t;

/* Open flags for SQLite files. */
enum { DB_OPEN_READONLY = 1, DB_OPEN_CREATE = 2 };

/* Opens an SQLite file (busy timeout 5 s). NULL with a message in err on failure. */
db_t *db_open_sqlite(const char *path, int flags, char *err, size_t errlen);
/* Connects to PostgreSQL with a libpq connection string or URI. */
db_t *db_open_pg(const char *conninfo, char *err, size_t errlen);
void db_close(db_t *db);

db_dialect_t db_dialect(const db_t *db);
/* Runs one or more statements that return no rows. DB_OK or an error code. */
int db_exec(db_t *db, const char *sql);
/* The message of the last error on this connection. */
const char *db_errmsg(const db_t *db);
/* Rows changed by the last INSERT, UPDATE or DELETE on this connection. */
int64_t db_changes(const db_t *db);
/* Whether the connection is still usable (PostgreSQL: not lost). */
int db_alive(db_t *db);
/* Whether the open transaction has failed and accepts nothing until a rollback
 * (PostgreSQL after any error in it; never on SQLite). The executor asks after each job,
 * so a job that ignored an error is rolled back rather than acknowledged. */
int db_tx_failed(db_t *db);
/* The worst of DB_RETRY and DB_UNAVAILABLE that any call on this connection (or its
 * statements) returned since db_clear_failure, 0 if none: a job may swallow the error,
 * the executor still sees it (rerun the group, or reconnect). */
int db_failure(const db_t *db);
void db_clear_failure(db_t *db);

/* "Now" in ms since the epoch, from the database's clock, for timestamps written by a
 * job: on PostgreSQL the executor reads clock_timestamp() once at the start of each
 * group (every node then stamps with one clock), else it is read from the server on
 * each call; on SQLite it is now_ms(). */
int64_t db_now_ms(db_t *db);
/* Sets the value db_now_ms returns (0: read the clock again); for the executor. */
void db_set_now(db_t *db, int64_t ms);

/* Prepares one statement; `?` marks parameters, numbered from 1 in order. */
int db_prepare(db_t *db, const char *sql, db_stmt **out);
/* Binds parameter i (from 1). Text and blobs must outlive the next db_step (n < 0:
 * NUL-terminated text). */
int db_bind_int64(db_stmt *st, int i, int64_t v);
int db_bind_int(db_stmt *st, int i, int v);
int db_bind_double(db_stmt *st, int i, double v);
int db_bind_text(db_stmt *st, int i, const char *s, int n);
int db_bind_blob(db_stmt *st, int i, const void *p, int n);
int db_bind_null(db_stmt *st, int i);
/* Binds parameter i to column col of src's current row (copying rows between tables). */
int db_bind_column(db_stmt *st, int i, db_stmt *src, int col);
/* DB_ROW while rows remain, then DB_DONE; or an error code. */
int db_step(db_stmt *st);
/* Makes the statement ready to step again (bindings kept). */
int db_reset(db_stmt *st);
int db_clear_bindings(db_stmt *st);
void db_finalize(db_stmt *st);

/* Columns of the current row, from 0. Text is NULL for SQL NULL (as SQLite's); it lives
 * until the next step, reset or finalize. */
int64_t db_col_int64(db_stmt *st, int col);
int db_col_int(db_stmt *st, int col);
double db_col_double(db_stmt *st, int col);
const char *db_col_text(db_stmt *st, int col);
const void *db_col_blob(db_stmt *st, int col);
int db_col_bytes(db_stmt *st, int col);
int db_col_type(db_stmt *st, int col);
int db_col_count(db_stmt *st);
const char *db_col_name(db_stmt *st, int col);

/* ---- The driver table (as Redis's ConnectionType): each driver fills one. ---- */
typedef struct db_driver {
    db_dialect_t dialect;
    void (*close)(db_t *db);
    int (*exec)(db_t *db, const char *sql);
    const char *(*errmsg)(const db_t *db);
    int64_t (*changes)(const db_t *db);
    int (*alive)(db_t *db);
    int (*prepare)(db_t *db, const char *sql, db_stmt **out);
    int (*bind_int64)(db_stmt *st, int i, int64_t v);
    int (*bind_double)(db_stmt *st, int i, double v);
    int (*bind_text)(db_stmt *st, int i, const char *s, int n);
    int (*bind_blob)(db_stmt *st, int i, const void *p, int n);
    int (*bind_null)(db_stmt *st, int i);
    int (*step)(db_stmt *st);
    int (*reset)(db_stmt *st);
    int (*clear_bindings)(db_stmt *st);
    void (*finalize)(db_stmt *st);
    int64_t (*col_int64)(db_stmt *st, int col);
    double (*col_double)(db_stmt *st, int col);
    const char *(*col_text)(db_stmt *st, int col);
    const void *(*col_blob)(db_stmt *st, int col);
    int (*col_bytes)(db_stmt *st, int col);
    int (*col_type)(db_stmt *st, int col);
    int (*col_count)(db_stmt *st);
    const char *(*col_name)(db_stmt *st, int col);
    int (*tx_failed)(db_t *db); /* optional: NULL = never */
} db_driver;

/* Every connection and statement starts with its driver (drivers allocate them zeroed;
 * the rest is kept by store_db.c). */
struct db {
    const db_driver *drv;
    int failure;   /* db_failure() */
    int64_t now;   /* db_set_now(); 0 = read the clock */
};
struct db_stmt {
    const db_driver *drv;
    db_t *owner;   /* set by db_prepare */
};

/* SQLite-only handles for the few jobs that are SQLite's alone (online backup). NULL
 * on a PostgreSQL connection. */
void *db_sqlite_handle(db_t *db);
/* Copies an SQLite database, as one consistent snapshot, to a new file at path. */
int db_sqlite_backup(db_t *db, const char *path, char *err, size_t errlen);
/* Checkpoints and truncates the write-ahead log (no-op on PostgreSQL). */
int db_sqlite_checkpoint(db_t *db);

#endif
