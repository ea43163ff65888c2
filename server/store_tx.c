/* store_tx.c: explicit transactions in each dialect's form (see store_tx.h). */
#include "store_tx.h"

#include <jansson.h>
#include <stdlib.h>

int store_tx_begin_write(db_t *db) {
    return db_exec(db, db_dialect(db) == DB_POSTGRES ? "BEGIN" : "BEGIN IMMEDIATE");
}

int store_tx_commit(db_t *db) { return db_exec(db, "COMMIT"); }

void store_tx_rollback(db_t *db) { db_exec(db, "ROLLBACK"); }

/* The keys travel as one JSON array (one parameter, escaped by jansson): the INSERT makes
 * rows for articles not seen yet, in key order; the SELECT locks every row, sorted by
 * the database, so every locker meets shared rows in the same order. */
int store_tx_lock_articles(db_t *db, const char *const *keys, size_t n) {
    if (!n) return DB_OK;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_string(keys[i]));
    char *list = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!list) return DB_ERROR;
    static const char *const sql[2] = {
        "INSERT INTO article_locks (article) SELECT value FROM "
        "json_array_elements_text(CAST(? AS json)) ON CONFLICT (article) DO NOTHING",
        "SELECT article FROM article_locks WHERE article IN (SELECT value FROM "
        "json_array_elements_text(CAST(? AS json))) ORDER BY article FOR UPDATE"};
    int rc = DB_OK;
    for (int i = 0; i < 2 && rc == DB_OK; i++) {
        db_stmt *st = NULL;
        rc = db_prepare(db, sql[i], &st);
        if (rc != DB_OK) break;
        db_bind_text(st, 1, list, -1);
        while ((rc = db_step(st)) == DB_ROW) {}
        if (rc == DB_DONE) rc = DB_OK;
        db_finalize(st);
    }
    free(list);
    return rc;
}
