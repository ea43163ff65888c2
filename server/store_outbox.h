/* store_outbox.h: the outbox repository. Rows are events waiting for (or done with)
 * delivery to one endpoint: a webhook URL. All its SQL lives in store_outbox.c;
 * callers pass and get plain structs. Every function takes the connection of the
 * thread that calls it (the storage thread's inside its transaction, or the delivery
 * thread's own). */
#ifndef PARLEY_STORE_OUTBOX_H
#define PARLEY_STORE_OUTBOX_H

#include "store_db.h"
#include <stdint.h>

/* One row. Strings are owned by the row (store_outbox_row_free). */
typedef struct {
    int64_t id;             /* row id: order of emission */
    char *event_id;         /* stable across retries; the receiver de-duplicates on it */
    char *endpoint;         /* the webhook URL */
    char *type;
    char *payload;          /* the exact JSON body to send */
    int64_t created_at;     /* ms since the epoch */
    int attempts;
    int64_t next_attempt;   /* ms since the epoch */
    char *state;            /* pending, delivered, dead */
    char *last_error;       /* NULL until an attempt failed */
} store_outbox_row;

void store_outbox_row_free(store_outbox_row *r);

/* Inserts a pending row (event_id, endpoint, type, payload, created_at used; due now).
 * A second insert of the same (event_id, endpoint) is ignored. Returns 0 or -1 (logged). */
int store_outbox_insert(db_t *db, const store_outbox_row *r);

/* The oldest pending row of endpoint into *out; returns 1 when found, 0 when none, -1 on
 * error. */
int store_outbox_head(db_t *db, const char *endpoint, store_outbox_row *out);

/* After an attempt: delivered, failed (attempts, next_attempt, error kept) or dead.
 * Return 0 or -1. */
int store_outbox_delivered(db_t *db, int64_t id, int64_t now);
int store_outbox_failed(db_t *db, int64_t id, int attempts, int64_t next_attempt,
                        const char *error);
int store_outbox_dead(db_t *db, int64_t id, int attempts, const char *error);

/* Counts of rows by state. */
typedef struct {
    int64_t pending, delivered, dead;
    int64_t oldest_pending;  /* created_at of the oldest pending row, 0 when none */
} store_outbox_counts;
int store_outbox_count(db_t *db, store_outbox_counts *out);

/* The newest failed (pending with an error, or dead) rows, newest first, at most max;
 * returns how many were written to out (each to be freed). */
int store_outbox_failures(db_t *db, store_outbox_row *out, int max);

/* Deletes delivered rows older than before_ms; returns how many. */
int64_t store_outbox_prune(db_t *db, int64_t before_ms);

#endif
