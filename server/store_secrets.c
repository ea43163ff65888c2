/* store_secrets.c: shared secrets in the database (see store_secrets.h). */
#include "store_secrets.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int store_secrets_get(db_t *db, const char *name, unsigned char *out, size_t len, char *err,
                      size_t errlen) {
    unsigned char fresh[256];
    if (len > sizeof fresh) {
        snprintf(err, errlen, "secret %s: %zu bytes is too long", name, len);
        return -1;
    }
    randombytes_buf(fresh, len);
    db_stmt *st;
    int rc = db_prepare(db, "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) "
                            "ON CONFLICT (name) DO NOTHING",
                        &st);
    if (rc == DB_OK) {
        db_bind_text(st, 1, name, -1);
        db_bind_blob(st, 2, fresh, (int)len);
        db_bind_int64(st, 3, db_now_ms(db));
        rc = db_step(st);
        db_finalize(st);
    }
    if (rc != DB_DONE && rc != DB_OK) {
        snprintf(err, errlen, "secret %s: %s", name, db_errmsg(db));
        return -1;
    }
    rc = db_prepare(db, "SELECT value FROM secrets WHERE name = ?", &st);
    if (rc != DB_OK) {
        snprintf(err, errlen, "secret %s: %s", name, db_errmsg(db));
        return -1;
    }
    db_bind_text(st, 1, name, -1);
    int ok = -1;
    if (db_step(st) == DB_ROW && db_col_bytes(st, 0) == (int)len) {
        memcpy(out, db_col_blob(st, 0), len);
        ok = 0;
    } else {
        snprintf(err, errlen, "secret %s: missing or of the wrong length", name);
    }
    db_finalize(st);
    sodium_memzero(fresh, sizeof fresh);
    return ok;
}
