/* store_db.c: the SQL interface, dispatched to the connection's driver. */
#include "store_db.h"
#include "clock.h"

#include <stddef.h>

/* Remembers a retryable or connection failure on the connection (see db_failure). */
static int note(db_t *db, int rc) {
    if (db && (rc == DB_UNAVAILABLE || (rc == DB_RETRY && db->failure != DB_UNAVAILABLE)))
        db->failure = rc;
    return rc;
}

db_dialect_t db_dialect(const db_t *db) { return db->drv->dialect; }
void db_close(db_t *db) {
    if (db) db->drv->close(db);
}
int db_exec(db_t *db, const char *sql) { return note(db, db->drv->exec(db, sql)); }
const char *db_errmsg(const db_t *db) { return db ? db->drv->errmsg(db) : "no connection"; }
int64_t db_changes(const db_t *db) { return db->drv->changes(db); }
int db_alive(db_t *db) { return db->drv->alive(db); }
int db_tx_failed(db_t *db) { return db->drv->tx_failed ? db->drv->tx_failed(db) : 0; }
int db_failure(const db_t *db) { return db->failure; }
void db_clear_failure(db_t *db) { db->failure = 0; }
void db_set_now(db_t *db, int64_t ms) { db->now = ms; }

int64_t db_now_ms(db_t *db) {
    if (db->now > 0) return db->now;
    if (db_dialect(db) != DB_POSTGRES) return now_ms();
    db_stmt *st;
    int64_t ms = 0;
    if (db_prepare(db, "SELECT CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS BIGINT)",
                   &st) == DB_OK) {
        if (db_step(st) == DB_ROW) ms = db_col_int64(st, 0);
        db_finalize(st);
    }
    return ms > 0 ? ms : now_ms(); /* connection lost: the job fails on its next statement */
}

int db_prepare(db_t *db, const char *sql, db_stmt **out) {
    *out = NULL;
    int rc = note(db, db->drv->prepare(db, sql, out));
    if (*out) (*out)->owner = db;
    return rc;
}
int db_bind_int64(db_stmt *st, int i, int64_t v) { return st->drv->bind_int64(st, i, v); }
int db_bind_int(db_stmt *st, int i, int v) { return st->drv->bind_int64(st, i, v); }
int db_bind_double(db_stmt *st, int i, double v) { return st->drv->bind_double(st, i, v); }
int db_bind_text(db_stmt *st, int i, const char *s, int n) {
    return s ? st->drv->bind_text(st, i, s, n) : st->drv->bind_null(st, i);
}
int db_bind_blob(db_stmt *st, int i, const void *p, int n) {
    return p ? st->drv->bind_blob(st, i, p, n) : st->drv->bind_null(st, i);
}
int db_bind_null(db_stmt *st, int i) { return st->drv->bind_null(st, i); }
int db_bind_column(db_stmt *st, int i, db_stmt *src, int col) {
    switch (db_col_type(src, col)) {
    case DB_INTEGER: return db_bind_int64(st, i, db_col_int64(src, col));
    case DB_FLOAT: return db_bind_double(st, i, db_col_double(src, col));
    case DB_BLOB: return db_bind_blob(st, i, db_col_blob(src, col), db_col_bytes(src, col));
    case DB_NULL: return db_bind_null(st, i);
    default: return db_bind_text(st, i, db_col_text(src, col), db_col_bytes(src, col));
    }
}
int db_step(db_stmt *st) { return note(st->owner, st->drv->step(st)); }
int db_reset(db_stmt *st) { return st->drv->reset(st); }
int db_clear_bindings(db_stmt *st) { return st->drv->clear_bindings(st); }
void db_finalize(db_stmt *st) {
    if (st) st->drv->finalize(st);
}
int64_t db_col_int64(db_stmt *st, int col) { return st->drv->col_int64(st, col); }
int db_col_int(db_stmt *st, int col) { return (int)st->drv->col_int64(st, col); }
double db_col_double(db_stmt *st, int col) { return st->drv->col_double(st, col); }
const char *db_col_text(db_stmt *st, int col) { return st->drv->col_text(st, col); }
const void *db_col_blob(db_stmt *st, int col) { return st->drv->col_blob(st, col); }
int db_col_bytes(db_stmt *st, int col) { return st->drv->col_bytes(st, col); }
int db_col_type(db_stmt *st, int col) { return st->drv->col_type(st, col); }
int db_col_count(db_stmt *st) { return st->drv->col_count(st); }
const char *db_col_name(db_stmt *st, int col) { return st->drv->col_name(st, col); }
