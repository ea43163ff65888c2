/* store_audit.c: SQL for the audit log (store_audit.h). */
#include "store_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_comments.h"

/* The actions an undo can take back; one list for both queries below. */
#define UNDOABLE "('approve','reject','remove','ban','shadowban','unban','article','feature'," \
                 "'unfeature')"

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("store: prepare failed: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

/* A JSON text column parsed (new reference), or NULL when it is NULL or not JSON. */
static json_t *col_json(db_stmt *st, int col) {
    const char *t = db_col_text(st, col);
    return t ? json_loads(t, 0, NULL) : NULL;
}

int64_t store_audit_insert(db_t *db, const store_audit_entry *e) {
    char *b = e->before ? json_dumps(e->before, JSON_COMPACT) : NULL;
    char *a = e->after ? json_dumps(e->after, JSON_COMPACT) : NULL;
    int64_t id = -1;
    db_stmt *st = prep(db, "INSERT INTO audit (at, moderator, action, target, before, after, "
                           "note) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
    if (st) {
        db_bind_int64(st, 1, e->at);
        db_bind_text(st, 2, e->moderator, -1);
        db_bind_text(st, 3, e->action, -1);
        db_bind_text(st, 4, e->target, -1);
        db_bind_text(st, 5, b, -1); /* NULL text binds SQL NULL */
        db_bind_text(st, 6, a, -1);
        db_bind_text(st, 7, e->note, -1);
        int rc = db_step(st);
        if (rc == DB_ROW) {
            id = db_col_int64(st, 0);
            if (db_step(st) != DB_DONE) id = -1;
        }
        db_finalize(st);
    }
    free(b);
    free(a);
    return id > 0 ? id : -1;
}

int store_audit_last_undoable(db_t *db, const char *moderator, store_audit_last *out) {
    memset(out, 0, sizeof *out);
    db_stmt *st = prep(db, "SELECT id, at, note FROM audit WHERE moderator = ? AND undone = 0 "
                           "AND action IN " UNDOABLE " ORDER BY id DESC LIMIT 1");
    if (!st) return -1;
    db_bind_text(st, 1, moderator, -1);
    int rc = db_step(st), r = rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
    if (r == 1) {
        out->id = db_col_int64(st, 0);
        out->at = db_col_int64(st, 1);
        const char *note = db_col_text(st, 2);
        snprintf(out->note, sizeof out->note, "%s", note ? note : "");
    }
    db_finalize(st);
    return r;
}

json_t *store_audit_undo_entries(db_t *db, const char *moderator, bool whole, int64_t at,
                                 int64_t id) {
    db_stmt *st;
    if (whole) {
        st = prep(db, "SELECT id, action, target, before, after FROM audit WHERE moderator = ? "
                      "AND undone = 0 AND at = ? AND action IN ('approve','reject','remove',"
                      "'ban','shadowban') ORDER BY CASE WHEN action IN ('ban','shadowban') "
                      "THEN 1 ELSE 0 END DESC, id DESC");
        if (!st) return NULL;
        db_bind_text(st, 1, moderator, -1);
        db_bind_int64(st, 2, at);
    } else {
        st = prep(db, "SELECT id, action, target, before, after FROM audit WHERE id = ?");
        if (!st) return NULL;
        db_bind_int64(st, 1, id);
    }
    json_t *out = json_array();
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        json_t *before = col_json(st, 3), *after = col_json(st, 4);
        json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:o, s:o}", "id",
                                             (json_int_t)db_col_int64(st, 0), "action",
                                             db_col_text(st, 1), "target", db_col_text(st, 2),
                                             "before", before ? before : json_null(), "after",
                                             after ? after : json_null()));
    }
    db_finalize(st);
    if (rc != DB_DONE) {
        json_decref(out);
        return NULL;
    }
    return out;
}

int store_audit_mark_undone(db_t *db, int64_t id) {
    db_stmt *st = prep(db, "UPDATE audit SET undone = 1 WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

/* The optional filters are cast so that PostgreSQL knows their type when they are NULL;
 * so is the id bound (INT64_MAX when from the newest) to compare with any integer id. */
json_t *store_audit_page(db_t *db, const char *moderator, const char *action, int64_t before,
                         int limit) {
    db_stmt *st = prep(db, "SELECT id, at, moderator, action, target, before, after, note, "
                           "undone FROM audit WHERE (CAST(?1 AS TEXT) IS NULL OR moderator = ?1) "
                           "AND (CAST(?2 AS TEXT) IS NULL OR action = ?2) AND id < CAST(?3 AS "
                           "BIGINT) ORDER BY id DESC LIMIT ?4");
    if (!st) return NULL;
    db_bind_text(st, 1, moderator, -1);
    db_bind_text(st, 2, action, -1);
    db_bind_int64(st, 3, before > 0 ? before : INT64_MAX);
    db_bind_int(st, 4, limit);
    json_t *entries = json_array();
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        char when[32];
        comment_time(db_col_int64(st, 1), when);
        json_t *e = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b}", "id",
                              (json_int_t)db_col_int64(st, 0), "at", when, "moderator",
                              db_col_text(st, 2), "action", db_col_text(st, 3), "target",
                              db_col_text(st, 4), "undone", db_col_int(st, 8));
        for (int k = 5; k <= 6; k++) {
            json_t *v = col_json(st, k);
            json_object_set_new(e, k == 5 ? "before" : "after", v ? v : json_null());
        }
        const char *note = db_col_text(st, 7);
        json_object_set_new(e, "note", note ? json_string(note) : json_null());
        json_array_append_new(entries, e);
    }
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("store: audit page: %s", db_errmsg(db));
        json_decref(entries);
        return NULL;
    }
    return entries;
}
