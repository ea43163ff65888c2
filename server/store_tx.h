/* store_tx.h: explicit transactions for the code that holds a connection of its own
 * (command-line tools, the delivery thread), in the form each dialect wants. Jobs on
 * the storage thread never call these: the executor's group commit holds their
 * transaction. */
#ifndef PARLEY_STORE_TX_H
#define PARLEY_STORE_TX_H

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

#endif
