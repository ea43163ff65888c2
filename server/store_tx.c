/* store_tx.c: explicit transactions in each dialect's form (see store_tx.h). */
#include "store_tx.h"

int store_tx_begin_write(db_t *db) {
    return db_exec(db, db_dialect(db) == DB_POSTGRES ? "BEGIN" : "BEGIN IMMEDIATE");
}

int store_tx_commit(db_t *db) { return db_exec(db, "COMMIT"); }

void store_tx_rollback(db_t *db) { db_exec(db, "ROLLBACK"); }
