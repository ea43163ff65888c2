/* store_bans.c: SQL for bans (store_bans.h). */
#include "store_bans.h"

#include <string.h>

#include "log.h"

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("store: prepare failed: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

/* An empty address matches nothing: it is bound as NULL, and `ip_hash = NULL` is never
 * true. A full ban wins over a shadow ban. */
int store_bans_kind_of(int64_t v) {
    return v == 2 ? STORE_BAN_BANNED : v == 1 ? STORE_BAN_SHADOW : STORE_BAN_NONE;
}

int store_bans_state(db_t *db, const char *author, const char *ip_hash, int64_t now) {
    db_stmt *st = prep(db, STORE_BANS_STATE_SQL);
    if (!st) return STORE_BAN_NONE;
    db_bind_int64(st, 1, now);
    db_bind_text(st, 2, author, -1);
    db_bind_text(st, 3, ip_hash ? ip_hash : "", -1); /* "" matches no address */
    int r = STORE_BAN_NONE, rc = db_step(st);
    if (rc == DB_ROW) {
        r = store_bans_kind_of(db_col_type(st, 0) == DB_NULL ? 0 : db_col_int64(st, 0));
    } else {
        log_err("store: ban state of %s: %s", author, db_errmsg(db));
    }
    db_finalize(st);
    return r;
}

int store_bans_author_kinds(db_t *db, const char *author, int64_t now, bool *banned,
                            bool *shadow) {
    *banned = *shadow = false;
    db_stmt *st = prep(db, "SELECT kind FROM bans WHERE author_id = ? AND lifted = 0 AND "
                           "(until IS NULL OR until > ?)");
    if (!st) return -1;
    db_bind_text(st, 1, author, -1);
    db_bind_int64(st, 2, now);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *kind = db_col_text(st, 0);
        if (kind && !strcmp(kind, "ban"))
            *banned = true;
        else
            *shadow = true;
    }
    db_finalize(st);
    if (rc != DB_DONE) {
        *banned = *shadow = false;
        return -1;
    }
    return 0;
}

int64_t store_bans_insert(db_t *db, const store_ban *b) {
    db_stmt *st = prep(db, "INSERT INTO bans (author_id, ip_hash, kind, until, reason, "
                           "moderator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
    if (!st) return -1;
    db_bind_text(st, 1, b->author, -1);
    db_bind_text(st, 2, b->ip_hash && *b->ip_hash ? b->ip_hash : NULL, -1);
    db_bind_text(st, 3, b->shadow ? "shadow" : "ban", -1);
    if (b->until)
        db_bind_int64(st, 4, b->until);
    else
        db_bind_null(st, 4);
    db_bind_text(st, 5, b->reason, -1);
    db_bind_text(st, 6, b->moderator, -1);
    db_bind_int64(st, 7, b->created_at);
    int rc = db_step(st);
    int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : -1;
    if (rc == DB_ROW) rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE || id <= 0) {
        log_err("store: ban of %s not written: %s", b->author, db_errmsg(db));
        return -1;
    }
    return id;
}

/* One statement: the rows it changes are the ids it returns. */
json_t *store_bans_lift_author(db_t *db, const char *author) {
    db_stmt *st = prep(db, "UPDATE bans SET lifted = 1 WHERE author_id = ? AND lifted = 0 "
                           "RETURNING id");
    if (!st) return NULL;
    db_bind_text(st, 1, author, -1);
    json_t *ids = json_array();
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        json_array_append_new(ids, json_integer(db_col_int64(st, 0)));
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("store: bans of %s not lifted: %s", author, db_errmsg(db));
        json_decref(ids);
        return NULL;
    }
    return ids;
}

int store_bans_set_lifted(db_t *db, int64_t id, bool lifted) {
    db_stmt *st = prep(db, "UPDATE bans SET lifted = ? WHERE id = ?");
    if (!st) return -1;
    db_bind_int(st, 1, lifted ? 1 : 0);
    db_bind_int64(st, 2, id);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}
