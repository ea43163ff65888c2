/* store_names.c: SQL for reserved display names. */
#include "store_names.h"
#include "clock.h"

#include <string.h>

#include "store.h"

void store_names_put(db_t *db, const char *key, const char *kind) {
    db_stmt *st = NULL;
    if (db_prepare(db, "INSERT INTO reserved_names (key, kind, created_at) VALUES "
                               "(?, ?, ?) ON CONFLICT (key) DO NOTHING", &st))
        return;
    db_bind_text(st, 1, key, -1);
    db_bind_text(st, 2, kind, -1);
    db_bind_int64(st, 3, db_now_ms(db));
    db_step(st);
    db_finalize(st);
}

int store_names_release(db_t *db, const char *key, const char *kind) {
    db_stmt *st = NULL;
    if (db_prepare(db, "DELETE FROM reserved_names WHERE key = ? AND kind = ?", &st))
        return -1;
    db_bind_text(st, 1, key, -1);
    db_bind_text(st, 2, kind, -1);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

int store_names_reserve_moderators(db_t *db, int (*fold)(const char *, char *, size_t)) {
    db_stmt *st = NULL;
    if (db_prepare(db, "SELECT name FROM moderators", &st)) return -1;
    int n = 0, rc;
    char k[256];
    while ((rc = db_step(st)) == DB_ROW) {
        const char *name = db_col_text(st, 0);
        n++;
        if (name && fold(name, k, sizeof k) == 0) store_names_put(db, k, "moderator");
    }
    db_finalize(st);
    return rc == DB_DONE ? n : -1;
}

void store_names_forget_author(db_t *db, const char *author_id,
                               int (*fold)(const char *, char *, size_t)) {
    db_stmt *st = NULL, *del = NULL;
    if (db_prepare(db, "SELECT DISTINCT author_name FROM comments WHERE author_id = ?", &st) ||
        db_prepare(db, "DELETE FROM reserved_names WHERE key = ? AND kind = 'reader'", &del)) {
        db_finalize(st);
        return;
    }
    db_bind_text(st, 1, author_id, -1);
    char k[256];
    while (db_step(st) == DB_ROW) {
        const char *name = (const char *)db_col_text(st, 0);
        if (!name || fold(name, k, sizeof k)) continue;
        db_bind_text(del, 1, k, -1);
        db_step(del);
        db_reset(del);
    }
    db_finalize(st);
    db_finalize(del);
}
