/* store_moderation.c: SQL for the moderation queue (store_moderation.h). */
#include "store_moderation.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store_comments.h"

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("store: prepare failed: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

/* Copies text column col into out (NULL becomes ""). */
static void col_copy(db_stmt *st, int col, char *out, size_t outlen) {
    const char *t = db_col_text(st, col);
    snprintf(out, outlen, "%s", t ? t : "");
}

/* Steps a statement that returns no rows and finalizes it. 0, or -1 (logged). */
static int run(db_t *db, db_stmt *st, const char *what) {
    if (!st) return -1;
    int rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("store: %s: %s", what, db_errmsg(db));
        return -1;
    }
    return 0;
}

/* Collects the first column of every row as an id, up to max; the count or -1. */
static int collect_ids(db_t *db, db_stmt *st, int64_t *ids, int max) {
    int n = 0, rc;
    while ((rc = db_step(st)) == DB_ROW)
        if (n < max) ids[n++] = db_col_int64(st, 0);
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("store: queue page: %s", db_errmsg(db));
        return -1;
    }
    return n;
}

/* ---- Counts and pages ---- */

int store_moderation_counts_get(db_t *db, store_moderation_counts *out) {
    memset(out, 0, sizeof *out);
    db_stmt *st = prep(db, "SELECT (SELECT COUNT(*) FROM comments WHERE status = 'pending'), "
                           "(SELECT COUNT(*) FROM comments WHERE status = 'refused'), "
                           "(SELECT COUNT(DISTINCT comment_id) FROM reports WHERE resolved = 0)");
    if (!st) return -1;
    int rc = db_step(st);
    if (rc == DB_ROW) {
        out->held = db_col_int64(st, 0);
        out->refused = db_col_int64(st, 1);
        out->reported = db_col_int64(st, 2);
    }
    db_finalize(st);
    return rc == DB_ROW ? 0 : -1;
}

/* The id bound is cast so that PostgreSQL compares it as BIGINT whatever the id column's
 * width (INT64_MAX stands for "from the newest"). */
int store_moderation_queue_ids(db_t *db, store_moderation_queue q, int64_t after,
                               int64_t *ids, int max) {
    db_stmt *st;
    switch (q) {
    case STORE_MOD_HELD:
        st = prep(db, "SELECT id FROM comments WHERE status = 'pending' AND id > CAST(? AS "
                      "BIGINT) ORDER BY id LIMIT ?");
        break;
    case STORE_MOD_REFUSED:
        st = prep(db, "SELECT id FROM comments WHERE status = 'refused' AND id < CAST(? AS "
                      "BIGINT) ORDER BY id DESC LIMIT ?");
        if (after <= 0) after = INT64_MAX;
        break;
    default:
        st = prep(db, "SELECT r.comment_id FROM reports r JOIN comments c ON c.id = "
                      "r.comment_id WHERE r.resolved = 0 AND c.status != 'pending' GROUP BY "
                      "r.comment_id ORDER BY COUNT(*) DESC, r.comment_id LIMIT ?");
        break;
    }
    if (!st) return -1;
    if (q == STORE_MOD_REPORTED) {
        db_bind_int(st, 1, max);
    } else {
        db_bind_int64(st, 1, after);
        db_bind_int(st, 2, max);
    }
    return collect_ids(db, st, ids, max);
}

/* The filters are cast so that PostgreSQL knows their type when they are bound NULL.
 * lower() on both sides does what SQLite's LIKE did alone (fold ASCII case), which
 * PostgreSQL's LIKE does not. */
int store_moderation_search_ids(db_t *db, const char *author, const char *article,
                                const char *text, int64_t before, int64_t *ids, int max) {
    db_stmt *st = prep(db, "SELECT id FROM comments WHERE (CAST(?1 AS TEXT) IS NULL OR "
                           "author_id = ?1 OR author_name = ?1) AND (CAST(?2 AS TEXT) IS NULL "
                           "OR article = ?2) AND (CAST(?3 AS TEXT) IS NULL OR lower(title) LIKE "
                           "'%' || lower(?3) || '%' OR lower(body) LIKE '%' || lower(?3) || "
                           "'%') AND id < CAST(?4 AS BIGINT) ORDER BY id DESC LIMIT ?5");
    if (!st) return -1;
    db_bind_text(st, 1, author, -1);
    db_bind_text(st, 2, article, -1);
    db_bind_text(st, 3, text, -1);
    db_bind_int64(st, 4, before > 0 ? before : INT64_MAX);
    db_bind_int(st, 5, max);
    return collect_ids(db, st, ids, max);
}

/* ---- What a queue item is built from ---- */

int store_moderation_row_get(db_t *db, int64_t id, store_moderation_row *out) {
    memset(out, 0, sizeof *out);
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS ", score, decision, ip_hash, status "
                           "FROM comments WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    if (rc != DB_ROW) {
        db_finalize(st);
        return rc == DB_DONE ? 0 : -1;
    }
    out->comment = comment_from_row(st);
    out->score = db_col_double(st, 14);
    const char *dec = db_col_text(st, 15);
    out->decision = dec ? json_loads(dec, 0, NULL) : NULL;
    col_copy(st, 16, out->ip_hash, sizeof out->ip_hash);
    col_copy(st, 17, out->status, sizeof out->status);
    db_finalize(st);
    return 1;
}

void store_moderation_row_clear(store_moderation_row *r) {
    json_decref(r->comment);
    json_decref(r->decision);
    r->comment = r->decision = NULL;
}

int store_moderation_author_statuses(db_t *db, const char *author,
                                     store_moderation_status_count *out, int max) {
    db_stmt *st = prep(db, "SELECT status, COUNT(*), MIN(created_at) FROM comments WHERE "
                           "author_id = ? GROUP BY status");
    if (!st) return -1;
    db_bind_text(st, 1, author, -1);
    int n = 0, rc;
    while ((rc = db_step(st)) == DB_ROW && n < max) {
        col_copy(st, 0, out[n].status, sizeof out[n].status);
        out[n].count = db_col_int64(st, 1);
        out[n].first_at = db_col_int64(st, 2);
        n++;
    }
    db_finalize(st);
    return rc == DB_DONE || rc == DB_ROW ? n : -1;
}

json_t *store_moderation_notes(db_t *db, const char *author, int limit) {
    json_t *notes = json_array();
    db_stmt *st = prep(db, "SELECT moderator, text, created_at FROM notes WHERE author_id = ? "
                           "ORDER BY id DESC LIMIT ?");
    if (!st) return notes;
    db_bind_text(st, 1, author, -1);
    db_bind_int(st, 2, limit);
    while (db_step(st) == DB_ROW) {
        char when[32];
        comment_time(db_col_int64(st, 2), when);
        json_array_append_new(notes, json_pack("{s:s, s:s, s:s}", "by", db_col_text(st, 0),
                                               "text", db_col_text(st, 1), "at", when));
    }
    db_finalize(st);
    return notes;
}

json_t *store_moderation_open_reports(db_t *db, int64_t id) {
    json_t *reports = json_array();
    db_stmt *st = prep(db, "SELECT reason, note, created_at FROM reports WHERE comment_id = ? "
                           "AND resolved = 0 ORDER BY id");
    if (!st) return reports;
    db_bind_int64(st, 1, id);
    while (db_step(st) == DB_ROW) {
        char when[32];
        comment_time(db_col_int64(st, 2), when);
        json_t *r = json_pack("{s:s, s:s}", "reason", db_col_text(st, 0), "at", when);
        if (db_col_text(st, 1)) json_object_set_new(r, "note", json_string(db_col_text(st, 1)));
        json_array_append_new(reports, r);
    }
    db_finalize(st);
    return reports;
}

/* ---- Comments ---- */

json_t *store_moderation_comment(db_t *db, int64_t id) {
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id = ?");
    if (!st) return NULL;
    db_bind_int64(st, 1, id);
    json_t *c = db_step(st) == DB_ROW ? comment_from_row(st) : NULL;
    db_finalize(st);
    return c;
}

int store_moderation_status(db_t *db, int64_t id, char out[64]) {
    *out = 0;
    db_stmt *st = prep(db, "SELECT status FROM comments WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW) col_copy(st, 0, out, 64);
    db_finalize(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

int store_moderation_set_status(db_t *db, int64_t id, const char *status, const char *reason,
                                const char *by) {
    db_stmt *st = prep(db, "UPDATE comments SET status = ?, reason = ?, moderated_by = ? "
                           "WHERE id = ?");
    if (st) {
        db_bind_text(st, 1, status, -1);
        db_bind_text(st, 2, reason, -1);
        db_bind_text(st, 3, by, -1);
        db_bind_int64(st, 4, id);
    }
    return run(db, st, "comment status");
}

int store_moderation_resolve_reports(db_t *db, int64_t id) {
    db_stmt *st = prep(db, "UPDATE reports SET resolved = 1 WHERE comment_id = ?");
    if (st) db_bind_int64(st, 1, id);
    return run(db, st, "resolving reports");
}

int store_moderation_comment_author(db_t *db, int64_t id, char *out, size_t outlen) {
    *out = 0;
    db_stmt *st = prep(db, "SELECT author_id FROM comments WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW) col_copy(st, 0, out, outlen);
    db_finalize(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

int store_moderation_comment_is_by(db_t *db, int64_t id, const char *author) {
    db_stmt *st = prep(db, "SELECT 1 FROM comments WHERE id = ? AND author_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    db_bind_text(st, 2, author, -1);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

int store_moderation_last_ip(db_t *db, const char *author, char *out, size_t outlen) {
    *out = 0;
    db_stmt *st = prep(db, "SELECT ip_hash FROM comments WHERE author_id = ? ORDER BY id DESC "
                           "LIMIT 1");
    if (!st) return -1;
    db_bind_text(st, 1, author, -1);
    int rc = db_step(st);
    if (rc == DB_ROW) col_copy(st, 0, out, outlen);
    db_finalize(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : -1;
}

/* ---- Notes and articles ---- */

int store_moderation_note_add(db_t *db, const char *author, int64_t comment,
                              const char *moderator, const char *text, int64_t at) {
    db_stmt *st = prep(db, "INSERT INTO notes (author_id, comment_id, moderator, text, "
                           "created_at) VALUES (?, ?, ?, ?, ?)");
    if (st) {
        db_bind_text(st, 1, author, -1);
        if (comment > 0)
            db_bind_int64(st, 2, comment);
        else
            db_bind_null(st, 2);
        db_bind_text(st, 3, moderator, -1);
        db_bind_text(st, 4, text, -1);
        db_bind_int64(st, 5, at);
    }
    return run(db, st, "note");
}

int store_moderation_article_mode(db_t *db, const char *article, char *out, size_t outlen) {
    *out = 0;
    db_stmt *st = prep(db, "SELECT mode FROM articles WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 1, article, -1);
    int rc = db_step(st);
    if (rc == DB_ROW) col_copy(st, 0, out, outlen);
    db_finalize(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

int store_moderation_article_set_mode(db_t *db, const char *article, const char *mode,
                                      int64_t at) {
    db_stmt *st = prep(db, "INSERT INTO articles (id, mode, updated_at) VALUES (?, ?, ?) ON "
                           "CONFLICT (id) DO UPDATE SET mode = excluded.mode, updated_at = "
                           "excluded.updated_at");
    if (st) {
        db_bind_text(st, 1, article, -1);
        db_bind_text(st, 2, mode, -1);
        db_bind_int64(st, 3, at);
    }
    return run(db, st, "article mode");
}

int store_moderation_article_restore(db_t *db, const char *article, const char *mode) {
    bool drop = !mode || !strcmp(mode, "default");
    db_stmt *st = prep(db, drop ? "DELETE FROM articles WHERE id = ?"
                                : "UPDATE articles SET mode = ? WHERE id = ?");
    if (st) {
        if (drop) {
            db_bind_text(st, 1, article, -1);
        } else {
            db_bind_text(st, 1, mode, -1);
            db_bind_text(st, 2, article, -1);
        }
    }
    return run(db, st, "article mode undo");
}

/* ---- One step of a bulk action ---- */

int store_moderation_step_begin(db_t *db) {
    return db_exec(db, "SAVEPOINT mod_step") == DB_OK ? 0 : -1;
}

/* ROLLBACK TO leaves the savepoint open (on both dialects), so it is released after. */
int store_moderation_step_end(db_t *db, bool keep) {
    int rc = DB_OK;
    if (!keep) rc = db_exec(db, "ROLLBACK TO SAVEPOINT mod_step");
    if (db_exec(db, "RELEASE SAVEPOINT mod_step") != DB_OK) rc = DB_ERROR;
    return rc == DB_OK ? 0 : -1;
}
