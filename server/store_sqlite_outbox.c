/* store_sqlite_outbox.c: the outbox repository on SQLite (see store_outbox.h). */
#include "store_outbox.h"
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_err("outbox: %s: %s", sqlite3_errmsg(db), sql);
        return NULL;
    }
    return st;
}

static char *col_dup(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

/* Runs a prepared statement that returns no row and finalizes it; 0 or -1. */
static int exec_done(sqlite3 *db, sqlite3_stmt *st) {
    if (!st) return -1;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_err("outbox: write failed: %s", sqlite3_errmsg(db));
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

int store_outbox_insert(sqlite3 *db, const store_outbox_row *r) {
    sqlite3_stmt *st = prep(db, "INSERT OR IGNORE INTO outbox (event_id, endpoint, type, "
                                "payload, created_at, next_attempt) VALUES (?,?,?,?,?,?)");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, r->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, r->created_at);
    sqlite3_bind_int64(st, 6, r->created_at);
    return exec_done(db, st);
}

#define ROW_COLUMNS                                                                         \
    "id, event_id, endpoint, type, payload, created_at, attempts, next_attempt, state, "   \
    "last_error"

static void row_read(sqlite3_stmt *st, store_outbox_row *out) {
    out->id = sqlite3_column_int64(st, 0);
    out->event_id = col_dup(st, 1);
    out->endpoint = col_dup(st, 2);
    out->type = col_dup(st, 3);
    out->payload = col_dup(st, 4);
    out->created_at = sqlite3_column_int64(st, 5);
    out->attempts = sqlite3_column_int(st, 6);
    out->next_attempt = sqlite3_column_int64(st, 7);
    out->state = col_dup(st, 8);
    out->last_error = col_dup(st, 9);
}

int store_outbox_head(sqlite3 *db, const char *endpoint, store_outbox_row *out) {
    sqlite3_stmt *st = prep(db, "SELECT " ROW_COLUMNS " FROM outbox WHERE state = 'pending' "
                                "AND endpoint = ? ORDER BY id LIMIT 1");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        row_read(st, out);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        log_err("outbox: read failed: %s", sqlite3_errmsg(db));
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

int store_outbox_delivered(sqlite3 *db, int64_t id, int64_t now) {
    sqlite3_stmt *st = prep(db, "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, "
                                "delivered_at = ?, last_error = NULL WHERE id = ?");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    return exec_done(db, st);
}

int store_outbox_failed(sqlite3 *db, int64_t id, int attempts, int64_t next_attempt,
                        const char *error) {
    sqlite3_stmt *st = prep(db, "UPDATE outbox SET attempts = ?, next_attempt = ?, "
                                "last_error = ? WHERE id = ?");
    if (!st) return -1;
    sqlite3_bind_int(st, 1, attempts);
    sqlite3_bind_int64(st, 2, next_attempt);
    sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, id);
    return exec_done(db, st);
}

int store_outbox_dead(sqlite3 *db, int64_t id, int attempts, const char *error) {
    sqlite3_stmt *st = prep(db, "UPDATE outbox SET state = 'dead', attempts = ?, last_error = ? "
                                "WHERE id = ?");
    if (!st) return -1;
    sqlite3_bind_int(st, 1, attempts);
    sqlite3_bind_text(st, 2, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    return exec_done(db, st);
}

int store_outbox_count(sqlite3 *db, store_outbox_counts *out) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = prep(db, "SELECT state, COUNT(*), MIN(created_at) FROM outbox GROUP BY "
                                "state");
    if (!st) return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        if (!strcmp(s, "pending")) {
            out->pending = n;
            out->oldest_pending = sqlite3_column_int64(st, 2);
        } else if (!strcmp(s, "delivered")) {
            out->delivered = n;
        } else if (!strcmp(s, "dead")) {
            out->dead = n;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

int store_outbox_failures(sqlite3 *db, store_outbox_row *out, int max) {
    sqlite3_stmt *st = prep(db, "SELECT " ROW_COLUMNS " FROM outbox WHERE last_error IS NOT NULL "
                                "AND state != 'delivered' ORDER BY id DESC LIMIT ?");
    if (!st) return 0;
    sqlite3_bind_int(st, 1, max);
    int n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW) row_read(st, &out[n++]);
    sqlite3_finalize(st);
    return n;
}

int64_t store_outbox_prune(sqlite3 *db, int64_t before_ms) {
    sqlite3_stmt *st = prep(db, "DELETE FROM outbox WHERE state = 'delivered' AND "
                                "delivered_at < ?");
    if (!st) return 0;
    sqlite3_bind_int64(st, 1, before_ms);
    if (exec_done(db, st)) return 0;
    return sqlite3_changes(db);
}
