/* store_outbox.c: the outbox repository on SQLite (see store_outbox.h). */
#include "store_outbox.h"
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("outbox: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

static char *col_dup(db_stmt *st, int i) {
    const char *t = db_col_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

/* Runs a prepared statement that returns no row and finalizes it; 0 or -1. */
static int exec_done(db_t *db, db_stmt *st) {
    if (!st) return -1;
    int rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("outbox: write failed: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}

void store_outbox_row_free(store_outbox_row *r) {
    free(r->event_id);
    free(r->endpoint);
    free(r->type);
    free(r->payload);
    free(r->state);
    free(r->last_error);
    memset(r, 0, sizeof *r);
}

int store_outbox_insert(db_t *db, const store_outbox_row *r) {
    db_stmt *st = prep(db, "INSERT INTO outbox (event_id, endpoint, type, payload, "
                                "created_at, next_attempt) VALUES (?,?,?,?,?,?) "
                                "ON CONFLICT (event_id, endpoint) DO NOTHING");
    if (!st) return -1;
    db_bind_text(st, 1, r->event_id, -1);
    db_bind_text(st, 2, r->endpoint, -1);
    db_bind_text(st, 3, r->type, -1);
    db_bind_text(st, 4, r->payload, -1);
    db_bind_int64(st, 5, r->created_at);
    db_bind_int64(st, 6, r->created_at);
    return exec_done(db, st);
}

#define ROW_COLUMNS                                                                         \
    "id, event_id, endpoint, type, payload, created_at, attempts, next_attempt, state, "   \
    "last_error"

static void row_read(db_stmt *st, store_outbox_row *out) {
    out->id = db_col_int64(st, 0);
    out->event_id = col_dup(st, 1);
    out->endpoint = col_dup(st, 2);
    out->type = col_dup(st, 3);
    out->payload = col_dup(st, 4);
    out->created_at = db_col_int64(st, 5);
    out->attempts = db_col_int(st, 6);
    out->next_attempt = db_col_int64(st, 7);
    out->state = col_dup(st, 8);
    out->last_error = col_dup(st, 9);
}

int store_outbox_head(db_t *db, const char *endpoint, store_outbox_row *out) {
    db_stmt *st = prep(db, "SELECT " ROW_COLUMNS " FROM outbox WHERE state = 'pending' "
                                "AND endpoint = ? ORDER BY id LIMIT 1");
    if (!st) return -1;
    db_bind_text(st, 1, endpoint, -1);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        row_read(st, out);
        found = 1;
    } else if (rc != DB_DONE) {
        log_err("outbox: read failed: %s", db_errmsg(db));
        found = -1;
    }
    db_finalize(st);
    return found;
}

int store_outbox_delivered(db_t *db, int64_t id, int64_t now) {
    db_stmt *st = prep(db, "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, "
                                "delivered_at = ?, last_error = NULL WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, now);
    db_bind_int64(st, 2, id);
    return exec_done(db, st);
}

int store_outbox_failed(db_t *db, int64_t id, int attempts, int64_t next_attempt,
                        const char *error) {
    db_stmt *st = prep(db, "UPDATE outbox SET attempts = ?, next_attempt = ?, "
                                "last_error = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_int(st, 1, attempts);
    db_bind_int64(st, 2, next_attempt);
    db_bind_text(st, 3, error, -1);
    db_bind_int64(st, 4, id);
    return exec_done(db, st);
}

int store_outbox_dead(db_t *db, int64_t id, int attempts, const char *error) {
    db_stmt *st = prep(db, "UPDATE outbox SET state = 'dead', attempts = ?, last_error = ? "
                                "WHERE id = ?");
    if (!st) return -1;
    db_bind_int(st, 1, attempts);
    db_bind_text(st, 2, error, -1);
    db_bind_int64(st, 3, id);
    return exec_done(db, st);
}

int store_outbox_count(db_t *db, store_outbox_counts *out) {
    memset(out, 0, sizeof *out);
    db_stmt *st = prep(db, "SELECT state, COUNT(*), MIN(created_at) FROM outbox GROUP BY "
                                "state");
    if (!st) return -1;
    while (db_step(st) == DB_ROW) {
        const char *s = (const char *)db_col_text(st, 0);
        int64_t n = db_col_int64(st, 1);
        if (!strcmp(s, "pending")) {
            out->pending = n;
            out->oldest_pending = db_col_int64(st, 2);
        } else if (!strcmp(s, "delivered")) {
            out->delivered = n;
        } else if (!strcmp(s, "dead")) {
            out->dead = n;
        }
    }
    db_finalize(st);
    return 0;
}

int store_outbox_failures(db_t *db, store_outbox_row *out, int max) {
    db_stmt *st = prep(db, "SELECT " ROW_COLUMNS " FROM outbox WHERE last_error IS NOT NULL "
                                "AND state != 'delivered' ORDER BY id DESC LIMIT ?");
    if (!st) return 0;
    db_bind_int(st, 1, max);
    int n = 0;
    while (n < max && db_step(st) == DB_ROW) row_read(st, &out[n++]);
    db_finalize(st);
    return n;
}

int64_t store_outbox_prune(db_t *db, int64_t before_ms) {
    db_stmt *st = prep(db, "DELETE FROM outbox WHERE state = 'delivered' AND "
                                "delivered_at < ?");
    if (!st) return 0;
    db_bind_int64(st, 1, before_ms);
    if (exec_done(db, st)) return 0;
    return db_changes(db);
}
