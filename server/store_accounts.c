/* store_accounts.c: moderators and sessions, all the SQL (see store_accounts.h). Every
 * statement is in the subset that SQLite and PostgreSQL share. */
#include "store_accounts.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* A malloc'd copy of a text column, or NULL for SQL NULL. */
static char *col_dup(db_stmt *st, int col) {
    const char *s = db_col_text(st, col);
    return s ? xstrdup(s) : NULL;
}

/* Runs a statement of text parameters (a, then b when not NULL) that returns no rows.
 * Returns the rows it changed, or -1. */
static int exec_text(db_t *db, const char *sql, const char *a, const char *b) {
    db_stmt *st;
    if (db_prepare(db, sql, &st) != DB_OK) return -1;
    db_bind_text(st, 1, a, -1);
    if (b) db_bind_text(st, 2, b, -1);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? (int)db_changes(db) : -1;
}

int store_accounts_session_get(db_t *db, const char *token_hash, store_accounts_session *out) {
    db_stmt *st;
    memset(out, 0, sizeof *out);
    if (db_prepare(db,
                   "SELECT s.moderator, m.role, s.created_at, s.last_seen, s.expires_at "
                   "FROM sessions s JOIN moderators m ON m.name = s.moderator "
                   "WHERE s.token_hash = ?",
                   &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, token_hash, -1);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        out->moderator = col_dup(st, 0);
        out->role = col_dup(st, 1);
        out->created_at = db_col_int64(st, 2);
        out->last_seen = db_col_int64(st, 3);
        out->expires_at = db_col_int64(st, 4);
        found = 1;
    }
    db_finalize(st);
    return found ? 1 : rc == DB_DONE ? 0 : -1;
}

void store_accounts_session_free(store_accounts_session *s) {
    free(s->moderator);
    free(s->role);
    s->moderator = s->role = NULL;
}

int store_accounts_session_insert(db_t *db, const char *token_hash, const char *moderator,
                                  int64_t now, int64_t expires_at) {
    db_stmt *st;
    if (db_prepare(db,
                   "INSERT INTO sessions (token_hash, moderator, created_at, last_seen, "
                   "expires_at) VALUES (?, ?, ?, ?, ?)",
                   &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, token_hash, -1);
    db_bind_text(st, 2, moderator, -1);
    db_bind_int64(st, 3, now);
    db_bind_int64(st, 4, now);
    db_bind_int64(st, 5, expires_at);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

int store_accounts_session_touch(db_t *db, const char *token_hash, int64_t now) {
    db_stmt *st;
    if (db_prepare(db, "UPDATE sessions SET last_seen = ? WHERE token_hash = ?", &st) != DB_OK)
        return -1;
    db_bind_int64(st, 1, now);
    db_bind_text(st, 2, token_hash, -1);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

int store_accounts_session_delete(db_t *db, const char *token_hash) {
    return exec_text(db, "DELETE FROM sessions WHERE token_hash = ?", token_hash, NULL);
}

int store_accounts_sessions_expire(db_t *db, int64_t now) {
    db_stmt *st;
    if (db_prepare(db, "DELETE FROM sessions WHERE expires_at < ?", &st) != DB_OK) return -1;
    db_bind_int64(st, 1, now);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? (int)db_changes(db) : -1;
}

int store_accounts_sessions_delete_for(db_t *db, const char *moderator) {
    return exec_text(db, "DELETE FROM sessions WHERE moderator = ?", moderator, NULL);
}

int store_accounts_moderator_get(db_t *db, const char *name, store_accounts_moderator *out) {
    db_stmt *st;
    memset(out, 0, sizeof *out);
    if (db_prepare(db, "SELECT name, role, pwhash, created_at FROM moderators WHERE name = ?",
                   &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, name, -1);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        out->name = col_dup(st, 0);
        out->role = col_dup(st, 1);
        out->pwhash = col_dup(st, 2);
        out->created_at = db_col_int64(st, 3);
        found = 1;
    }
    db_finalize(st);
    return found ? 1 : rc == DB_DONE ? 0 : -1;
}

void store_accounts_moderator_free(store_accounts_moderator *m) {
    free(m->name);
    free(m->role);
    free(m->pwhash);
    m->name = m->role = m->pwhash = NULL;
}

int store_accounts_moderator_each(db_t *db,
                                  void (*fn)(const store_accounts_moderator *m, void *arg),
                                  void *arg) {
    db_stmt *st;
    if (db_prepare(db, "SELECT name, role, created_at FROM moderators ORDER BY name", &st) !=
        DB_OK)
        return -1;
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        store_accounts_moderator m = {.name = (char *)db_col_text(st, 0),
                                      .role = (char *)db_col_text(st, 1),
                                      .created_at = db_col_int64(st, 2)};
        fn(&m, arg);
        n++;
    }
    db_finalize(st);
    return rc == DB_DONE ? n : -1;
}

int store_accounts_moderator_add(db_t *db, const char *name, const char *role,
                                 const char *pwhash, int64_t now) {
    db_stmt *st;
    if (db_prepare(db,
                   "INSERT INTO moderators (name, role, pwhash, created_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (name) DO NOTHING",
                   &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, name, -1);
    db_bind_text(st, 2, role, -1);
    db_bind_text(st, 3, pwhash, -1);
    db_bind_int64(st, 4, now);
    int rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) return -1;
    return db_changes(db) == 1 ? 0 : 1;
}

int store_accounts_moderator_remove(db_t *db, const char *name) {
    return exec_text(db, "DELETE FROM moderators WHERE name = ?", name, NULL);
}

int store_accounts_moderator_set_pwhash(db_t *db, const char *name, const char *pwhash) {
    return exec_text(db, "UPDATE moderators SET pwhash = ? WHERE name = ?", pwhash, name);
}
