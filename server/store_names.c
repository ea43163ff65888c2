/* store_names.c: SQL for reserved display names. */
#include "store_names.h"
#include "clock.h"

#include <string.h>

#include "store.h"

bool store_names_has(db_t *db, const char *key) {
    db_stmt *st = NULL;
    if (db_prepare(db, "SELECT 1 FROM reserved_names WHERE key = ?", &st))
        return false;
    db_bind_text(st, 1, key, -1);
    bool found = db_step(st) == DB_ROW;
    db_finalize(st);
    return found;
}

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

bool store_names_moderator_match(db_t *db, const char *key,
                                 int (*fold)(const char *, char *, size_t)) {
    db_stmt *st = NULL;
    if (db_prepare(db, "SELECT name FROM moderators", &st)) return false;
    bool found = false;
    char k[256];
    while (!found && db_step(st) == DB_ROW) {
        const char *name = (const char *)db_col_text(st, 0);
        found = name && fold(name, k, sizeof k) == 0 && !strcmp(k, key);
    }
    db_finalize(st);
    return found;
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
