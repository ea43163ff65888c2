/* store_comments.c: the comments repository (see store_comments.h): a comments row
 * as the wire's COMMENT object, and the SQL of the comments services. */
#include "store_comments.h"
#include "alloc.h"
#include "clock.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void comment_time(int64_t ms, char out[32]) { clock_rfc3339(ms, out); }

static const char *col_text(db_stmt *st, int i) {
    const char *t = db_col_text(st, i);
    return t ? (const char *)t : "";
}

json_t *comment_from_row(db_stmt *st) {
    char created[32], edited[32];
    comment_time(db_col_int64(st, 9), created);
    json_t *author = json_pack("{s:s, s:s, s:b}", "id", col_text(st, 3), "name", col_text(st, 4),
                               "guest", db_col_int(st, 5));
    if (db_col_type(st, 6) != DB_NULL)
        json_object_set_new(author, "avatar", json_string(col_text(st, 6)));
    if (db_col_type(st, 13) != DB_NULL)
        json_object_set_new(author, "badge", json_string(col_text(st, 13)));
    json_t *c = json_pack("{s:I, s:s, s:o, s:o, s:s, s:s, s:s, s:s}", "id",
                          (json_int_t)db_col_int64(st, 0), "article", col_text(st, 1),
                          "parent",
                          db_col_type(st, 2) == DB_NULL
                              ? json_null()
                              : json_integer(db_col_int64(st, 2)),
                          "author", author, "title", col_text(st, 7), "body", col_text(st, 8),
                          "created_at", created, "status",
                          /* only its author ever reads a shadow-banned post: as published */
                          strcmp(col_text(st, 11), "shadow") ? col_text(st, 11) : "published");
    if (db_col_type(st, 10) != DB_NULL) {
        comment_time(db_col_int64(st, 10), edited);
        json_object_set_new(c, "edited_at", json_string(edited));
    } else {
        json_object_set_new(c, "edited_at", json_null());
    }
    if (db_col_type(st, 12) != DB_NULL)
        json_object_set_new(c, "reason", json_string(col_text(st, 12)));
    return c;
}


/* ---- The repository (store_comments.h) ---- */

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("store: prepare failed: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

/* Steps st through its rows, appending each as a COMMENT to out; finalizes it.
 * Returns 0, or -1 when a step fails. */
static int append_rows(db_stmt *st, json_t *out) {
    int rc;
    while ((rc = db_step(st)) == DB_ROW) json_array_append_new(out, comment_from_row(st));
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

json_t *store_comments_load(db_t *db, int64_t id) {
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id = ?");
    if (!st) return NULL;
    db_bind_int64(st, 1, id);
    json_t *c = db_step(st) == DB_ROW ? comment_from_row(st) : NULL;
    db_finalize(st);
    return c;
}

int64_t store_comments_published_count(db_t *db, const char *article) {
    db_stmt *st = prep(db, "SELECT COUNT(*) FROM comments WHERE article = ? AND "
                           "status = 'published'");
    if (!st) return 0;
    db_bind_text(st, 1, article, -1);
    int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : 0;
    db_finalize(st);
    return n;
}

/* Visible to the viewer bound as ?2: published, or their own held, rejected and
 * shadow-banned comments. */
#define VISIBLE                                                                             \
    "(status = 'published' OR (author_id = ?2 AND status IN ('pending','rejected','shadow')))"

int store_comments_page_after(db_t *db, const char *article, const char *viewer,
                              int64_t after_id, int max_rows, size_t max_bytes, json_t *page,
                              bool *more) {
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE article = ?1 AND "
                           "id > ?3 AND " VISIBLE " ORDER BY id LIMIT ?4");
    if (!st) return -1;
    db_bind_text(st, 1, article, -1);
    db_bind_text(st, 2, viewer, -1);
    db_bind_int64(st, 3, after_id);
    db_bind_int(st, 4, max_rows + 1);
    size_t bytes = 0, n = 0;
    int rc;
    *more = false;
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == (size_t)max_rows || bytes > max_bytes) {
            *more = true;
            break;
        }
        /* title, body and name, plus the fixed fields' share */
        bytes += 256 + (size_t)db_col_bytes(st, 7) + (size_t)db_col_bytes(st, 8) +
                 (size_t)db_col_bytes(st, 4);
        json_array_append_new(page, comment_from_row(st));
        n++;
    }
    db_finalize(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : -1;
}

int store_comments_visible_upto(db_t *db, const char *article, const char *viewer, int64_t id) {
    db_stmt *st = prep(db, "SELECT CASE WHEN EXISTS (SELECT 1 FROM comments WHERE "
                           "article = ?1 AND id <= ?3 AND " VISIBLE ") THEN 1 ELSE 0 END");
    if (!st) return -1;
    db_bind_text(st, 1, article, -1);
    db_bind_text(st, 2, viewer, -1);
    db_bind_int64(st, 3, id);
    int r = db_step(st) == DB_ROW ? db_col_int(st, 0) != 0 : -1;
    db_finalize(st);
    return r;
}

int store_comments_changed_upto(db_t *db, const char *article, int64_t id, int limit,
                                json_t *out) {
    db_stmt *st = prep(db, "SELECT * FROM (SELECT " COMMENT_COLUMNS " FROM comments WHERE "
                           "article = ?1 AND id <= ?2 AND updated_at >= (SELECT created_at "
                           "FROM comments WHERE id = ?2) ORDER BY updated_at DESC LIMIT ?3) "
                           "AS changed ORDER BY id");
    if (!st) return -1;
    db_bind_text(st, 1, article, -1);
    db_bind_int64(st, 2, id);
    db_bind_int(st, 3, limit);
    return append_rows(st, out);
}

int store_comments_page_before(db_t *db, const char *article, const char *viewer,
                               int64_t before_id, int limit, json_t *out) {
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE article = ?1 AND "
                           "id < CAST(?3 AS BIGINT) AND " VISIBLE " ORDER BY id DESC LIMIT ?4");
    if (!st) return -1;
    db_bind_text(st, 1, article, -1);
    db_bind_text(st, 2, viewer, -1);
    db_bind_int64(st, 3, before_id);
    db_bind_int(st, 4, limit);
    return append_rows(st, out);
}

/* ---- Posting, editing, deleting ---- */

int store_comments_meta(db_t *db, int64_t id, store_comment_meta *out) {
    memset(out, 0, sizeof *out);
    db_stmt *st = prep(db, "SELECT author_id, status, article, created_at, title FROM comments "
                           "WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        out->author_id = xstrdup(col_text(st, 0));
        out->status = xstrdup(col_text(st, 1));
        out->article = xstrdup(col_text(st, 2));
        out->created_at = db_col_int64(st, 3);
        out->title = xstrdup(col_text(st, 4));
    }
    db_finalize(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

void store_comment_meta_free(store_comment_meta *m) {
    free(m->author_id);
    free(m->status);
    free(m->article);
    free(m->title);
    memset(m, 0, sizeof *m);
}

/* Runs a bounded count (one text and one time parameter, then the cap) and returns
 * it, or -1. */
static long bounded_count(db_t *db, const char *sql, const char *value, int64_t since,
                          long cap) {
    db_stmt *st = prep(db, sql);
    if (!st) return -1;
    int i = 1;
    db_bind_text(st, i++, value, -1);
    db_bind_int64(st, i++, since);
    db_bind_int64(st, i, cap);
    long n = db_step(st) == DB_ROW ? (long)db_col_int64(st, 0) : -1;
    db_finalize(st);
    return n;
}

long store_comments_author_count(db_t *db, const char *author, long cap) {
    char sql[128];
    snprintf(sql, sizeof sql, STORE_COMMENTS_AUTHOR_COUNT_SQL, cap < 0 ? 0 : cap);
    db_stmt *st = prep(db, sql);
    if (!st) return -1;
    db_bind_text(st, 1, author, -1);
    long n = db_step(st) == DB_ROW ? (long)db_col_int64(st, 0) : -1;
    db_finalize(st);
    return n;
}

long store_comments_pending_count(db_t *db, bool by_address, const char *value,
                                  int64_t since_ms, long cap) {
    return bounded_count(db,
                         by_address
                             ? "SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE ip_hash = ? "
                               "AND status = 'pending' AND created_at > ? LIMIT ?) AS held"
                             : "SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE author_id = "
                               "? AND status = 'pending' AND created_at > ? LIMIT ?) AS held",
                         value, since_ms, cap);
}

int store_comments_by_nonce(db_t *db, const char *author, const char *nonce, int64_t *id,
                            char status[16], char **decision) {
    *decision = NULL;
    db_stmt *st = prep(db, "SELECT id, status, decision FROM comments WHERE author_id = ? AND "
                           "nonce = ?");
    if (!st) return -1;
    db_bind_text(st, 1, author, -1);
    db_bind_text(st, 2, nonce, -1);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_col_int64(st, 0);
        snprintf(status, 16, "%s", col_text(st, 1));
        if (db_col_type(st, 2) != DB_NULL) *decision = xstrdup(col_text(st, 2));
    }
    db_finalize(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

static void bind_opt_text(db_stmt *st, int i, const char *s) {
    if (s && s[0]) db_bind_text(st, i, s, -1);
    else db_bind_null(st, i);
}

int64_t store_comments_insert(db_t *db, const store_comment_new *c, json_t **comment) {
    /* A second post with the author's nonce (a client's retry) stores nothing: the
     * partial unique index of migration 10 decides, so racing retries on several
     * processes cannot both land. */
    db_stmt *st = prep(db, "INSERT INTO comments (article, parent, author_id, author_name, "
                           "author_guest, author_avatar, ip_hash, title, body, status, score, "
                           "decision, created_at, author_badge, nonce) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                           "ON CONFLICT (author_id, nonce) WHERE nonce IS NOT NULL DO NOTHING "
                           "RETURNING " COMMENT_COLUMNS);
    if (!st) return -1;
    db_bind_text(st, 1, c->article, -1);
    if (c->parent > 0) db_bind_int64(st, 2, c->parent);
    else db_bind_null(st, 2);
    db_bind_text(st, 3, c->author_id, -1);
    db_bind_text(st, 4, c->author_name, -1);
    db_bind_int(st, 5, c->guest ? 1 : 0);
    if (c->author_avatar) db_bind_text(st, 6, c->author_avatar, -1);
    else db_bind_null(st, 6);
    db_bind_text(st, 7, c->ip_hash ? c->ip_hash : "", -1);
    db_bind_text(st, 8, c->title, -1);
    db_bind_text(st, 9, c->body, -1);
    db_bind_text(st, 10, c->status, -1);
    db_bind_double(st, 11, c->score);
    if (c->decision) db_bind_text(st, 12, c->decision, -1);
    else db_bind_null(st, 12);
    db_bind_int64(st, 13, c->created_at);
    bind_opt_text(st, 14, c->author_badge);
    bind_opt_text(st, 15, c->nonce);
    int rc = db_step(st);
    int64_t id = 0;
    json_t *row = NULL;
    if (rc == DB_ROW) {
        id = db_col_int64(st, 0);
        if (comment) row = comment_from_row(st);
        rc = db_step(st);
    }
    if (rc != DB_DONE || (id <= 0 && !c->nonce)) {
        log_err("store: comment insert failed: %s", db_errmsg(db));
        id = -1;
    }
    if (comment) *comment = id > 0 ? row : NULL;
    if (id <= 0) json_decref(row);
    db_finalize(st);
    return id;
}

int store_comments_update_text(db_t *db, int64_t id, const char *title, const char *body,
                               int64_t at, const char *status, double score,
                               const char *decision) {
    db_stmt *st = prep(db, "UPDATE comments SET title = ?, body = ?, edited_at = ?, "
                           "status = ?, score = ?, decision = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 1, title, -1);
    db_bind_text(st, 2, body, -1);
    db_bind_int64(st, 3, at);
    db_bind_text(st, 4, status, -1);
    db_bind_double(st, 5, score);
    if (decision) db_bind_text(st, 6, decision, -1);
    else db_bind_null(st, 6);
    db_bind_int64(st, 7, id);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

/* Runs an UPDATE with one id parameter; 0 or -1. */
static int update_by_id(db_t *db, const char *sql, int64_t id) {
    db_stmt *st = prep(db, sql);
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

int store_comments_remove_by_author(db_t *db, int64_t id) {
    return update_by_id(db, "UPDATE comments SET status = 'removed', reason = 'author' "
                            "WHERE id = ?", id);
}

int store_comments_hide(db_t *db, int64_t id) {
    return update_by_id(db, "UPDATE comments SET status = 'hidden' WHERE id = ?", id);
}

/* ---- Reports ---- */

int store_comments_reported(db_t *db, int64_t comment, const char *reporter,
                            const char *ip_hash) {
    /* one voice per address too: fresh guest identities from one address */
    db_stmt *st = prep(db, "SELECT 1 FROM reports WHERE comment_id = ?1 AND (reporter = ?2 OR "
                           "(ip_hash = ?3 AND ip_hash <> ''))");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    db_bind_text(st, 2, reporter, -1);
    db_bind_text(st, 3, ip_hash ? ip_hash : "", -1);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

int store_comments_report_insert(db_t *db, int64_t comment, const char *reporter,
                                 const char *reason, const char *note, int64_t at,
                                 const char *ip_hash, double weight) {
    db_stmt *st = prep(db, "INSERT INTO reports (comment_id, reporter, reason, note, "
                           "created_at, ip_hash, weight) VALUES (?,?,?,?,?,?,?)");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    db_bind_text(st, 2, reporter, -1);
    db_bind_text(st, 3, reason, -1);
    if (note) db_bind_text(st, 4, note, -1);
    else db_bind_null(st, 4);
    db_bind_int64(st, 5, at);
    db_bind_text(st, 6, ip_hash ? ip_hash : "", -1);
    db_bind_double(st, 7, weight);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

int store_comments_report_weight(db_t *db, int64_t comment, double *weight, char **article) {
    *weight = 0;
    *article = NULL;
    db_stmt *st = prep(db, "SELECT COALESCE(SUM(weight), 0), (SELECT article FROM comments "
                           "WHERE id = ?1) FROM reports WHERE comment_id = ?1 AND resolved = 0");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    int rc = db_step(st);
    if (rc == DB_ROW) *weight = db_col_double(st, 0);
    *article = xstrdup(rc == DB_ROW ? col_text(st, 1) : "");
    db_finalize(st);
    return rc == DB_ROW ? 0 : -1;
}
