/* store_notify.c: reply notifications on SQLite (see store_notify.h). */
#include "store_notify.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_comments.h"
#include "log.h"

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("notify: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

json_t *store_notify_replies(db_t *db, const char *author, const char *article, int max) {
    /* comments_author(author_id, id) finds the author's comments; the replies are then
     * looked up by parent. */
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE status = "
                                "'published' AND article = ?2 AND author_id != ?1 AND parent IN "
                                "(SELECT id FROM comments WHERE author_id = ?1 AND article = ?2) "
                                "ORDER BY id DESC LIMIT ?3");
    if (!st) return NULL;
    db_bind_text(st, 1, author, -1);
    db_bind_text(st, 2, article, -1);
    db_bind_int(st, 3, max);
    json_t *out = json_array();
    int rc;
    while ((rc = db_step(st)) == DB_ROW) json_array_append_new(out, comment_from_row(st));
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("notify: replies: %s", db_errmsg(db));
        json_decref(out);
        return NULL;
    }
    return out;
}

int store_notify_comment_author(db_t *db, int64_t id, char *out, size_t outlen) {
    db_stmt *st = prep(db, "SELECT author_id FROM comments WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    int rc = -1;
    if (db_step(st) == DB_ROW) {
        snprintf(out, outlen, "%s", (const char *)db_col_text(st, 0));
        rc = 0;
    }
    db_finalize(st);
    return rc;
}

/* ---- Reply emails ---- */

static int exec_done(db_t *db, db_stmt *st) {
    if (!st) return -1;
    int rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("notify: write failed: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}

void store_notify_sub_free(store_notify_sub *s) {
    free(s->author_id);
    free(s->article);
    free(s->address);
    free(s->page);
    memset(s, 0, sizeof *s);
}

int64_t store_notify_email_subscribe(db_t *db, const char *author, const char *article,
                                     const unsigned char *address, size_t len,
                                     const char *state, const char *page, int64_t now) {
    db_stmt *st = prep(db, "INSERT INTO email_subs (author_id, article, address, state, "
                                "created_at, page) VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT(author_id, "
                                "article) DO UPDATE SET address = excluded.address, state = "
                                "excluded.state, created_at = excluded.created_at, page = "
                                "excluded.page, "
                                "confirm_sent_at = NULL, confirmed_at = NULL RETURNING id");
    if (!st) return -1;
    db_bind_text(st, 1, author, -1);
    db_bind_text(st, 2, article, -1);
    db_bind_blob(st, 3, address, (int)len);
    db_bind_text(st, 4, state, -1);
    db_bind_int64(st, 5, now);
    if (page) db_bind_text(st, 6, page, -1); else db_bind_null(st, 6);
    int64_t id = -1;
    if (db_step(st) == DB_ROW) id = db_col_int64(st, 0);
    else log_err("notify: subscribe failed: %s", db_errmsg(db));
    db_finalize(st);
    return id;
}

int store_notify_confirm_limited(db_t *db, const char *author, const char *article,
                                 const char *ip_hash, const char *address_hash, int64_t now) {
    db_stmt *st = prep(db, "SELECT (SELECT COUNT(*) FROM email_subs WHERE author_id = ?1 "
                                "AND article = ?2 AND state = 'pending' AND created_at > CAST(?5 AS BIGINT) - "
                                "600000), (SELECT COUNT(*) FROM email_subs WHERE address_hash = "
                                "?4 AND confirm_sent_at IS NOT NULL AND confirm_sent_at > CAST(?5 AS BIGINT) - "
                                "86400000) + (SELECT COUNT(*) FROM email_subs WHERE address_hash "
                                "= ?4 AND state = 'pending' AND confirm_sent_at IS NULL), "
                                "(SELECT COUNT(*) FROM email_subs WHERE ip_hash = ?3 AND "
                                "address_hash IS NOT NULL AND created_at > CAST(?5 AS BIGINT) - 3600000)");
    if (!st) return 1;
    db_bind_text(st, 1, author, -1);
    db_bind_text(st, 2, article, -1);
    db_bind_text(st, 3, ip_hash, -1);
    db_bind_text(st, 4, address_hash, -1);
    db_bind_int64(st, 5, now);
    int limited = 1;
    if (db_step(st) == DB_ROW)
        limited = db_col_int64(st, 0) > 0 || db_col_int64(st, 1) >= 3 ||
                  db_col_int64(st, 2) >= 5;
    db_finalize(st);
    return limited;
}

int store_notify_email_asker(db_t *db, int64_t id, const char *ip_hash,
                             const char *address_hash) {
    db_stmt *st = prep(db, "UPDATE email_subs SET ip_hash = ?, address_hash = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_text(st, 1, ip_hash, -1);
    db_bind_text(st, 2, address_hash, -1);
    db_bind_int64(st, 3, id);
    return exec_done(db, st);
}

void store_notify_email_state(db_t *db, const char *author, const char *article,
                              char out[16]) {
    out[0] = '\0';
    db_stmt *st = prep(db, "SELECT state FROM email_subs WHERE author_id = ? AND article = ?");
    if (!st) return;
    db_bind_text(st, 1, author, -1);
    db_bind_text(st, 2, article, -1);
    if (db_step(st) == DB_ROW)
        snprintf(out, 16, "%s", (const char *)db_col_text(st, 0));
    db_finalize(st);
}

int store_notify_email_off(db_t *db, const char *author, const char *article, int64_t id) {
    db_stmt *st = author ? prep(db, "UPDATE email_subs SET state = 'off' WHERE author_id = ? "
                                         "AND article = ? AND state != 'off'")
                              : prep(db, "UPDATE email_subs SET state = 'off' WHERE id = ?3 AND "
                                         "state != 'off'");
    if (!st) return -1;
    if (author) {
        db_bind_text(st, 1, author, -1);
        db_bind_text(st, 2, article, -1);
    } else {
        db_bind_int64(st, 3, id);
    }
    if (exec_done(db, st)) return -1;
    int n = db_changes(db);
    if (n) {
        /* nothing waits for a subscription that is off */
        st = prep(db, author ? "DELETE FROM email_pending WHERE sub_id = (SELECT id FROM "
                               "email_subs WHERE author_id = ?1 AND article = ?2)"
                             : "DELETE FROM email_pending WHERE sub_id = ?3");
        if (author) {
            db_bind_text(st, 1, author, -1);
            db_bind_text(st, 2, article, -1);
        } else {
            db_bind_int64(st, 3, id);
        }
        if (exec_done(db, st)) return -1;
    }
    return n;
}

int store_notify_email_confirm(db_t *db, int64_t id, int64_t created_at, int64_t now) {
    db_stmt *st = prep(db, "SELECT state FROM email_subs WHERE id = ? AND created_at = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, created_at);
    char state[16] = "";
    if (db_step(st) == DB_ROW)
        snprintf(state, sizeof state, "%s", (const char *)db_col_text(st, 0));
    db_finalize(st);
    if (!state[0] || !strcmp(state, "off")) return -1;
    if (!strcmp(state, "active")) return 0;
    st = prep(db, "UPDATE email_subs SET state = 'active', confirmed_at = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, now);
    db_bind_int64(st, 2, id);
    return exec_done(db, st) ? -1 : 1;
}

int store_notify_email_pend(db_t *db, const char *author, const char *article,
                            int64_t comment_id, int64_t now) {
    db_stmt *st = prep(db, "INSERT INTO email_pending (sub_id, comment_id, created_at) "
                                "SELECT id, ?3, ?4 FROM email_subs WHERE author_id = ?1 AND "
                                "article = ?2 AND state != 'off' "
                                "ON CONFLICT (sub_id, comment_id) DO NOTHING");
    if (!st) return -1;
    db_bind_text(st, 1, author, -1);
    db_bind_text(st, 2, article, -1);
    db_bind_int64(st, 3, comment_id);
    db_bind_int64(st, 4, now);
    return exec_done(db, st);
}

static int read_subs(db_stmt *st, store_notify_sub *out, int max) {
    int n = 0;
    while (n < max && db_step(st) == DB_ROW) {
        store_notify_sub *s = &out[n++];
        s->id = db_col_int64(st, 0);
        s->author_id = xstrdup((const char *)db_col_text(st, 1));
        s->article = xstrdup((const char *)db_col_text(st, 2));
        s->address_len = (size_t)db_col_bytes(st, 3);
        s->address = xmalloc(s->address_len + 1);
        memcpy(s->address, db_col_blob(st, 3), s->address_len);
        s->created_at = db_col_int64(st, 4);
        s->page = db_col_text(st, 5) ? xstrdup((const char *)db_col_text(st, 5)) : NULL;
    }
    db_finalize(st);
    return n;
}

int store_notify_confirm_due(db_t *db, store_notify_sub *out, int max) {
    db_stmt *st = prep(db, "SELECT id, author_id, article, address, created_at, page FROM "
                                "email_subs WHERE state = 'pending' AND confirm_sent_at IS NULL "
                                "ORDER BY id LIMIT ?");
    if (!st) return 0;
    db_bind_int(st, 1, max);
    return read_subs(st, out, max);
}

int store_notify_digest_due(db_t *db, int64_t now, int64_t interval_ms, store_notify_sub *out,
                            int max) {
    db_stmt *st = prep(db, "SELECT id, author_id, article, address, created_at, page FROM "
                                "email_subs s WHERE state = 'active' AND last_sent_at <= ?1 AND "
                                "EXISTS (SELECT 1 FROM email_pending p WHERE p.sub_id = s.id) "
                                "ORDER BY last_sent_at, id LIMIT ?2");
    if (!st) return 0;
    db_bind_int64(st, 1, now - interval_ms);
    db_bind_int(st, 2, max);
    return read_subs(st, out, max);
}

int store_notify_confirm_sent(db_t *db, int64_t id, int64_t now) {
    db_stmt *st = prep(db, "UPDATE email_subs SET confirm_sent_at = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, now);
    db_bind_int64(st, 2, id);
    return exec_done(db, st);
}

json_t *store_notify_digest_replies(db_t *db, int64_t id, int64_t *max_id) {
    *max_id = 0;
    db_stmt *st = prep(db, "SELECT MAX(comment_id) FROM email_pending WHERE sub_id = ?");
    if (!st) return NULL;
    db_bind_int64(st, 1, id);
    if (db_step(st) == DB_ROW) *max_id = db_col_int64(st, 0);
    db_finalize(st);
    /* a digest quotes at most the newest 50 replies; the page link leads to the rest */
    st = prep(db, "SELECT * FROM (SELECT " COMMENT_COLUMNS " FROM comments WHERE status = "
                  "'published' AND id IN (SELECT comment_id FROM email_pending WHERE sub_id = ? "
                  "AND comment_id <= ?) ORDER BY id DESC LIMIT 50) AS last ORDER BY id");
    if (!st) return NULL;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, *max_id);
    json_t *out = json_array();
    while (db_step(st) == DB_ROW) json_array_append_new(out, comment_from_row(st));
    db_finalize(st);
    return out;
}

int store_notify_digest_sent(db_t *db, int64_t id, int64_t max_id, int64_t now) {
    db_stmt *st = prep(db, "DELETE FROM email_pending WHERE sub_id = ? AND comment_id <= ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, max_id);
    if (exec_done(db, st)) return -1;
    st = prep(db, "UPDATE email_subs SET last_sent_at = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, now);
    db_bind_int64(st, 2, id);
    return exec_done(db, st);
}

/* ---- Alerts ---- */

int64_t store_notify_article_posts(db_t *db, int64_t comment_id, int64_t since_ms, char *out,
                                   size_t outlen) {
    db_stmt *st = prep(db, "SELECT article, (SELECT COUNT(*) FROM comments c WHERE "
                                "c.article = x.article AND c.created_at >= ?2) FROM comments x "
                                "WHERE id = ?1");
    if (!st) return -1;
    db_bind_int64(st, 1, comment_id);
    db_bind_int64(st, 2, since_ms);
    int64_t n = -1;
    if (db_step(st) == DB_ROW) {
        snprintf(out, outlen, "%s", (const char *)db_col_text(st, 0));
        n = db_col_int64(st, 1);
    }
    db_finalize(st);
    return n;
}
