/* store_sqlite_names.c: SQL for reserved display names. */
#include "store_sqlite_names.h"
#include "clock.h"

#include <string.h>

#include "store.h"

bool store_names_has(sqlite3 *db, const char *key) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM reserved_names WHERE key = ?", -1, &st, NULL))
        return false;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

void store_names_put(sqlite3 *db, const char *key, const char *kind) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO reserved_names (key, kind, created_at) "
                               "VALUES (?, ?, ?)",
                           -1, &st, NULL))
        return;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms());
    sqlite3_step(st);
    sqlite3_finalize(st);
}

bool store_names_moderator_match(sqlite3 *db, const char *key,
                                 int (*fold)(const char *, char *, size_t)) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name FROM moderators", -1, &st, NULL)) return false;
    bool found = false;
    char k[256];
    while (!found && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        found = name && fold(name, k, sizeof k) == 0 && !strcmp(k, key);
    }
    sqlite3_finalize(st);
    return found;
}

void store_names_forget_author(sqlite3 *db, const char *author_id,
                               int (*fold)(const char *, char *, size_t)) {
    sqlite3_stmt *st = NULL, *del = NULL;
    if (sqlite3_prepare_v2(db, "SELECT DISTINCT author_name FROM comments WHERE author_id = ?",
                           -1, &st, NULL) ||
        sqlite3_prepare_v2(db, "DELETE FROM reserved_names WHERE key = ? AND kind = 'reader'", -1,
                           &del, NULL)) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_bind_text(st, 1, author_id, -1, SQLITE_STATIC);
    char k[256];
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (!name || fold(name, k, sizeof k)) continue;
        sqlite3_bind_text(del, 1, k, -1, SQLITE_TRANSIENT);
        sqlite3_step(del);
        sqlite3_reset(del);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(del);
}
