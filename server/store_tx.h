/* store_tx.h: explicit transactions for the code that holds a connection of its own
 * (command-line tools, the delivery thread), in the form each dialect wants. Jobs on
 * the storage thread never call these: the executor's group commit holds their
 * transaction. */
#ifndef PARLEY_STORE_TX_H
#define PARLEY_STORE_TX_H

#include <stddef.h>

#include "store_db.h"

/* Begins a write transaction: on SQLite `BEGIN IMMEDIATE`, which takes the write lock
 * at once (so a busy database is met at the start, under the busy timeout, never half
 * way); on PostgreSQL plain `BEGIN` (row locks are taken as rows are written).
 * Returns DB_OK or an error code. */
int store_tx_begin_write(db_t *db);
/* Commits. DB_OK or an error code (the transaction is then still open: roll back). */
int store_tx_commit(db_t *db);
/* Rolls back the open transaction; harmless when none is open. */
void store_tx_rollback(db_t *db);

/* PostgreSQL: locks the article_locks rows of keys (sorted, without repeats), creating
 * the missing ones, in the order of the keys, in two statements whatever their number.
 * Two transactions that lock articles this way take turns on each shared article and
 * cannot deadlock on each other. Returns DB_OK or the failing code. */
int store_tx_lock_articles(db_t *db, const char *const *keys, size_t n);

#endif
