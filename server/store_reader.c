/* store_reader.c: the SQL of `parley reader export|erase`. */
#include "store_reader.h"
#include "store_tx.h"
#include "clock.h"

#include <stdio.h>
#include <string.h>

#include "store_comments.h"
#include "log.h"
#include "store.h"

static json_t *col_json(db_stmt *st, int i) {
    switch (db_col_type(st, i)) {
    case DB_NULL: return json_null();
    case DB_INTEGER: return json_integer(db_col_int64(st, i));
    case DB_FLOAT: return json_real(db_col_double(st, i));
    default: return json_string((const char *)db_col_text(st, i));
    }
}

/* Runs sql with ?1 = reader; every row becomes an object with the columns' names, and
 * columns whose name ends in "_at" (ms) become RFC 3339 times. NULL on error. */
static json_t *rows(db_t *db, const char *sql, const char *reader) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("reader: %s", db_errmsg(db));
        return NULL;
    }
    db_bind_text(st, 1, reader, -1);
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < db_col_count(st); i++) {
            const char *name = db_col_name(st, i);
            size_t n = strlen(name);
            if (n > 3 && !strcmp(name + n - 3, "_at") && db_col_type(st, i) == DB_INTEGER) {
                char t[32];
                comment_time(db_col_int64(st, i), t);
                json_object_set_new(o, name, json_string(t));
            } else {
                json_object_set_new(o, name, col_json(st, i));
            }
        }
        json_array_append_new(arr, o);
    }
    db_finalize(st);
    if (rc != DB_DONE) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *reader_repo_export_tx(db_t *db, const char *reader) {
    json_t *comments = rows(db, "SELECT id, article, parent, author_name AS name, author_avatar "
                                "AS avatar, title, body, status, created_at, edited_at FROM "
                                "comments WHERE author_id = ?1 ORDER BY id", reader);
    json_t *reports = rows(db, "SELECT comment_id AS comment, reason, note, created_at, resolved "
                               "FROM reports WHERE reporter = ?1 ORDER BY id", reader);
    json_t *bans = rows(db, "SELECT kind, until AS until_at, reason, created_at, lifted FROM bans "
                            "WHERE author_id = ?1 ORDER BY id", reader);
    json_t *notes = rows(db, "SELECT comment_id AS comment, text, created_at FROM notes WHERE "
                             "author_id = ?1 OR comment_id IN (SELECT id FROM comments WHERE "
                             "author_id = ?1) ORDER BY id", reader);
    json_t *likes = rows(db, "SELECT r.comment_id AS comment, c.article, 'like' AS kind, "
                             "r.created_at FROM reactions r JOIN comments c ON c.id = "
                             "r.comment_id WHERE r.reader = ?1 ORDER BY r.created_at, "
                             "r.comment_id", reader);
    if (!comments || !reports || !bans || !notes || !likes) {
        json_decref(comments);
        json_decref(reports);
        json_decref(bans);
        json_decref(notes);
        json_decref(likes);
        return NULL;
    }
    char now[32];
    comment_time(db_now_ms(db), now);
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "reader", reader, "exported_at", now,
                     "comments", comments, "reports", reports, "bans", bans, "notes", notes,
                     "reactions", likes);
}

/* Runs one statement with ?1 = reader (and ?2 = text when given); rows changed or -1. */
static int64_t change(db_t *db, const char *sql, const char *reader, const char *two) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("reader: %s: %s", db_errmsg(db), sql);
        return -1;
    }
    db_bind_text(st, 1, reader, -1);
    if (two) db_bind_text(st, 2, two, -1);
    int rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("reader: %s: %s", db_errmsg(db), sql);
        return -1;
    }
    return db_changes(db);
}

/* A reader's own erasure keeps the bans in force on them, their reasons cleared: else
 * a banned reader would lift their ban by erasing themselves. The rest are deleted.
 * Rows deleted, or -1. */
static int64_t erase_bans_keeping_in_force(db_t *db, const char *reader, int64_t now) {
    db_stmt *st = NULL;
    const char *sql = "DELETE FROM bans WHERE author_id = ?1 AND NOT (lifted = 0 AND "
                      "(until IS NULL OR until > ?2))";
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("reader: %s: %s", db_errmsg(db), sql);
        return -1;
    }
    db_bind_text(st, 1, reader, -1);
    db_bind_int64(st, 2, now);
    int rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("reader: %s: %s", db_errmsg(db), sql);
        return -1;
    }
    int64_t deleted = db_changes(db);
    if (change(db, "UPDATE bans SET reason = NULL WHERE author_id = ?1", reader, NULL) < 0)
        return -1;
    return deleted;
}

/* Deletes the webhook events whose payload names the reader (their id as a JSON
 * string, quoted, so "u:1" is not found in "u:10"); rows deleted or -1. */
static int64_t erase_events(db_t *db, const char *reader) {
    json_t *str = json_string(reader);
    char *quoted = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
    json_decref(str);
    if (!quoted) return -1;
    int64_t n = change(db, db_dialect(db) == DB_POSTGRES
                               ? "DELETE FROM outbox WHERE strpos(payload, ?2) > 0 AND "
                                 "CAST(?1 AS TEXT) IS NOT NULL"
                               : "DELETE FROM outbox WHERE instr(payload, ?2) > 0 AND "
                                 "?1 IS NOT NULL",
                       reader, quoted);
    free(quoted);
    return n;
}

int reader_repo_erase_tx(db_t *db, const char *reader, const char *by, bool keep_bans,
                         reader_erased *out) {
    memset(out, 0, sizeof *out);
    int64_t a1 = change(db, "UPDATE audit SET before = NULL, after = NULL WHERE target IN "
                            "(SELECT 'comment:' || id FROM comments WHERE author_id = ?1)",
                        reader, NULL);
    int64_t a2 = change(db, "UPDATE audit SET target = 'author:erased', before = NULL, after = "
                            "NULL WHERE target = 'author:' || ?1", reader, NULL);
    out->notes = change(db, "DELETE FROM notes WHERE author_id = ?1 OR comment_id IN (SELECT id "
                            "FROM comments WHERE author_id = ?1)", reader, NULL);
    out->reports = change(db, "DELETE FROM reports WHERE reporter = ?1", reader, NULL);
    /* their likes (the counts go down), their reply emails (sealed addresses), the texts
     * the learned model keeps of their decided comments, and the webhook events that
     * carry them: gone too */
    int64_t l1 = change(db, "UPDATE comments SET likes = likes - 1, likes_seq = likes_seq + 1 "
                            "WHERE id IN (SELECT comment_id FROM reactions WHERE reader = ?1)",
                        reader, NULL);
    out->reactions = l1 < 0 ? -1 : change(db, "DELETE FROM reactions WHERE reader = ?1", reader, NULL);
    int64_t e1 = change(db, "DELETE FROM email_pending WHERE sub_id IN (SELECT id FROM "
                            "email_subs WHERE author_id = ?1)", reader, NULL);
    out->emails = e1 < 0 ? -1 : change(db, "DELETE FROM email_subs WHERE author_id = ?1", reader, NULL);
    out->examples = change(db, "DELETE FROM learned_examples WHERE comment_id IN (SELECT id "
                               "FROM comments WHERE author_id = ?1)", reader, NULL);
    out->events = erase_events(db, reader);
    out->bans = keep_bans ? erase_bans_keeping_in_force(db, reader, db_now_ms(db))
                          : change(db, "DELETE FROM bans WHERE author_id = ?1", reader, NULL);
    out->comments = change(db, "UPDATE comments SET title = '', body = '', author_name = '', "
                               "author_avatar = NULL, ip_hash = '', author_id = 'x:erased', "
                               "status = 'removed', reason = 'erased' WHERE author_id = ?1",
                           reader, NULL);
    out->audit = a1 < 0 || a2 < 0 ? -1 : a1 + a2;
    if (out->audit < 0 || out->notes < 0 || out->reports < 0 || out->bans < 0 || out->comments < 0 ||
        out->reactions < 0 || out->emails < 0 || out->examples < 0 || out->events < 0)
        return -1;
    char note[160];
    snprintf(note, sizeof note, "%lld comments, %lld reports, %lld notes, %lld bans",
             (long long)out->comments, (long long)out->reports, (long long)out->notes,
             (long long)out->bans);
    db_stmt *st = NULL;
    if (db_prepare(db, "INSERT INTO audit (at, moderator, action, target, note) VALUES "
                               "(?, ?, 'reader.erase', 'reader:erased', ?)", &st) != DB_OK)
        return -1;
    db_bind_int64(st, 1, db_now_ms(db));
    db_bind_text(st, 2, by, -1);
    db_bind_text(st, 3, note, -1);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

json_t *reader_repo_export(db_t *db, const char *reader) {
    if (db_exec(db, "BEGIN") != DB_OK) return NULL;
    json_t *o = reader_repo_export_tx(db, reader);
    db_exec(db, "COMMIT");
    return o;
}

int reader_repo_secure_delete_on(db_t *db) {
    if (db_dialect(db) != DB_SQLITE) return 1;
    db_stmt *st = NULL;
    int was = 0;
    if (db_prepare(db, "PRAGMA secure_delete", &st) == DB_OK && db_step(st) == DB_ROW)
        was = db_col_int(st, 0);
    db_finalize(st);
    db_exec(db, "PRAGMA secure_delete = ON");
    return was;
}

void reader_repo_secure_delete_restore(db_t *db, int was) {
    if (db_dialect(db) == DB_SQLITE && !was) db_exec(db, "PRAGMA secure_delete = OFF");
}

int reader_repo_erase(db_t *db, const char *reader, const char *by, reader_erased *out) {
    /* freed pages are overwritten, so the texts do not linger in the file */
    reader_repo_secure_delete_on(db);
    if (store_tx_begin_write(db) != DB_OK) return -1;
    if (reader_repo_erase_tx(db, reader, by, false, out) || store_tx_commit(db) != DB_OK) {
        store_tx_rollback(db);
        return -1;
    }
    /* old page versions live on in the WAL until a checkpoint: move them now if we can */
    db_sqlite_checkpoint(db);
    return 0;
}
