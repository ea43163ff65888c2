/* moderation.c: queue listing, moderator actions with audit and undo, bans, and the
 * fan-out of decisions. Each mod.* request is one storage job that re-checks the
 * session, does its work in the group's transaction, and gathers its effects; the loop
 * sends them after the commit. */
#include "moderation.h"
#include "alloc.h"
#include "text.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "bus.h"
#include "store_sqlite_comments.h"
#include "featured.h"
#include "hub.h"
#include "learned.h"
#include "log.h"
#include "rule_quality.h"
#include "notify.h"
#include "outbox.h"
#include "server.h"
#include "store.h"

#define PAGE_MAX 100
#define BULK_MAX 200


/* ---- Reading the queue ---- */

static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        log_err("moderation: %s: %s", sqlite3_errmsg(db), sql);
    return st;
}

static int64_t count_of(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = prep(db, sql);
    int64_t n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return n;
}

json_t *moderation_counts(sqlite3 *db) {
    return json_pack(
        "{s:I, s:I, s:I}", "held",
        (json_int_t)count_of(db, "SELECT COUNT(*) FROM comments WHERE status = 'pending'"),
        "refused",
        (json_int_t)count_of(db, "SELECT COUNT(*) FROM comments WHERE status = 'refused'"),
        "reported",
        (json_int_t)count_of(db, "SELECT COUNT(DISTINCT comment_id) FROM reports WHERE "
                                 "resolved = 0"));
}

int moderation_ban_state(sqlite3 *db, const char *author, const char *ip_hash, int64_t now) {
    sqlite3_stmt *st = prep(db, "SELECT kind FROM bans WHERE lifted = 0 AND (until IS NULL OR "
                                "until > ?1) AND (author_id = ?2 OR (ip_hash IS NOT NULL AND "
                                "ip_hash = ?3 AND ?3 != '')) ORDER BY kind = 'ban' DESC LIMIT 1");
    if (!st) return BAN_NONE;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ip_hash ? ip_hash : "", -1, SQLITE_STATIC);
    int r = BAN_NONE;
    if (sqlite3_step(st) == SQLITE_ROW)
        r = !strcmp((const char *)sqlite3_column_text(st, 0), "ban") ? BAN_BANNED : BAN_SHADOW;
    sqlite3_finalize(st);
    return r;
}

static json_t *author_record(sqlite3 *db, const char *author, const char *name, int guest) {
    json_t *a = json_pack("{s:s, s:s, s:b, s:i, s:i, s:i, s:i}", "id", author, "name", name,
                          "guest", guest, "published", 0, "rejected", 0, "pending", 0,
                          "removed", 0);
    sqlite3_stmt *st = prep(db, "SELECT status, COUNT(*), MIN(created_at) FROM comments WHERE "
                                "author_id = ? GROUP BY status");
    int64_t first = 0;
    sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        const char *key = !strcmp(s, "refused") ? "rejected" : !strcmp(s, "shadow") ? "published"
                          : !strcmp(s, "hidden") ? "pending" : s;
        json_t *cur = json_object_get(a, key);
        if (cur)
            json_object_set_new(a, key, json_integer(json_integer_value(cur) +
                                                     sqlite3_column_int64(st, 1)));
        int64_t f = sqlite3_column_int64(st, 2);
        if (!first || f < first) first = f;
    }
    sqlite3_finalize(st);
    char when[32];
    comment_time(first, when);
    json_object_set_new(a, "first_seen", json_string(when));
    int64_t now = now_ms();
    st = prep(db, "SELECT kind FROM bans WHERE author_id = ? AND lifted = 0 AND "
                  "(until IS NULL OR until > ?)");
    sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    bool banned = false, shadow = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!strcmp((const char *)sqlite3_column_text(st, 0), "ban"))
            banned = true;
        else
            shadow = true;
    }
    sqlite3_finalize(st);
    json_object_set_new(a, "banned", json_boolean(banned));
    json_object_set_new(a, "shadowbanned", json_boolean(shadow));
    json_t *notes = json_array();
    st = prep(db, "SELECT moderator, text, created_at FROM notes WHERE author_id = ? ORDER BY "
                  "id DESC LIMIT 20");
    sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        comment_time(sqlite3_column_int64(st, 2), when);
        json_array_append_new(notes, json_pack("{s:s, s:s, s:s}", "by",
                                               sqlite3_column_text(st, 0), "text",
                                               sqlite3_column_text(st, 1), "at", when));
    }
    sqlite3_finalize(st);
    json_object_set_new(a, "notes", notes);
    return a;
}

json_t *moderation_item(sqlite3 *db, int64_t id) {
    sqlite3_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS ", score, decision, ip_hash, status "
                                "FROM comments WHERE id = ?");
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return NULL;
    }
    json_t *c = comment_from_row(st);
    const char *status = (const char *)sqlite3_column_text(st, 17);
    json_object_set_new(c, "status", json_string(status));
    json_object_set_new(c, "score", json_real(sqlite3_column_double(st, 14)));
    json_t *dec = sqlite3_column_text(st, 15)
                      ? json_loads((const char *)sqlite3_column_text(st, 15), 0, NULL)
                      : NULL;
    json_t *rules = json_object_get(dec, "rules"), *decision = json_object_get(dec, "decision");
    json_object_set_new(c, "rules", rules ? json_incref(rules) : json_array());
    json_object_set_new(c, "decision", decision ? json_incref(decision) : json_null());
    json_decref(dec);
    char ip[9];
    snprintf(ip, sizeof ip, "%s", (const char *)sqlite3_column_text(st, 16));
    json_object_set_new(c, "ip", json_string(ip));
    json_t *author = author_record(db, (const char *)sqlite3_column_text(st, 3),
                                   (const char *)sqlite3_column_text(st, 4),
                                   sqlite3_column_int(st, 5));
    bool held = !strcmp(status, "pending"), refused = !strcmp(status, "refused");
    sqlite3_finalize(st);

    json_t *reports = json_array();
    st = prep(db, "SELECT reason, note, created_at FROM reports WHERE comment_id = ? AND "
                  "resolved = 0 ORDER BY id");
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char when[32];
        comment_time(sqlite3_column_int64(st, 2), when);
        json_t *r = json_pack("{s:s, s:s}", "reason", sqlite3_column_text(st, 0), "at", when);
        if (sqlite3_column_text(st, 1))
            json_object_set_new(r, "note", json_string((const char *)sqlite3_column_text(st, 1)));
        json_array_append_new(reports, r);
    }
    sqlite3_finalize(st);
    size_t nrep = json_array_size(reports);
    json_t *item = json_pack("{s:s, s:O, s:o, s:o, s:I}", "queue",
                             held ? "held" : refused ? "refused" : nrep ? "reported" : "none",
                             "comment", c, "author", author, "reports", reports, "report_count",
                             (json_int_t)nrep);
    featured_annotate(db, item, c);
    json_decref(c);
    return item;
}

void effect_queue_changed(json_t *effects, sqlite3 *db, int64_t id, const char *status,
                          const char *by) {
    json_t *item = moderation_item(db, id);
    const char *q = item ? json_string_value(json_object_get(item, "queue")) : "none";
    if (item && strcmp(q, "none") != 0) {
        effect_consoles(effects, json_pack("{s:s, s:o}", "type", "mod.item", "item", item));
    } else {
        json_decref(item);
        json_t *r = json_pack("{s:s, s:I, s:s}", "type", "mod.resolved", "comment",
                              (json_int_t)id, "status", status);
        json_object_set_new(r, "by", by ? json_string(by) : json_null());
        effect_consoles(effects, r);
    }
    effect_consoles(effects,
                    json_pack("{s:s, s:o}", "type", "mod.counts", "counts", moderation_counts(db)));
}

/* ---- Jobs ---- */

typedef struct mjob mjob;
typedef int (*mod_fn)(mjob *j, sqlite3 *db);

struct mjob {
    store_job job;
    uint64_t conn_id;
    json_t *req_id;        /* loop only */
    json_t *args;          /* a deep copy of the request: the job's own */
    char token_hash[65];
    bool hello;
    mod_fn fn;
    bool admin_only;
    char *name, *role;     /* from the session */
    json_t *reply;         /* the answer to the request */
    json_t *effects;
    char *message;
};

/* Set when an audit row of the running job could not be written: the job then fails and
 * its savepoint is rolled back, so no action stands without its audit entry. Storage
 * thread only. */
static _Thread_local bool audit_failed;

static void audit(sqlite3 *db, const char *who, const char *action, const char *target,
                  json_t *before, json_t *after, const char *note, int64_t at) {
    sqlite3_stmt *st = prep(db, "INSERT INTO audit (at, moderator, action, target, before, "
                                "after, note) VALUES (?,?,?,?,?,?,?)");
    char *b = before ? json_dumps(before, JSON_COMPACT) : NULL;
    char *a = after ? json_dumps(after, JSON_COMPACT) : NULL;
    sqlite3_bind_int64(st, 1, at ? at : now_ms());
    sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, target, -1, SQLITE_STATIC);
    if (b) sqlite3_bind_text(st, 5, b, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 5);
    if (a) sqlite3_bind_text(st, 6, a, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 6);
    if (note) sqlite3_bind_text(st, 7, note, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 7);
    if (!st || sqlite3_step(st) != SQLITE_DONE) {
        log_err("moderation: audit entry for %s %s not written: %s; the action is undone",
                action, target, sqlite3_errmsg(db));
        audit_failed = true;
    }
    sqlite3_finalize(st);
    free(b);
    free(a);
    json_decref(before);
    json_decref(after);
}

static int64_t arg_id(mjob *j, const char *key) {
    json_t *v = json_object_get(j->args, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

static const char *arg_str(mjob *j, const char *key) {
    return json_string_value(json_object_get(j->args, key));
}

/* The effects of a comment moving from status `from` to `to`: readers, author, consoles. */
static void transition(mjob *j, sqlite3 *db, int64_t id, const char *from, const char *to) {
    json_t *c = NULL;
    sqlite3_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id = ?");
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) c = comment_from_row(st);
    sqlite3_finalize(st);
    if (!c) return;
    /* comment_from_row shows a shadow-banned post as published to its author; here the
     * real status decides. */
    json_object_set_new(c, "status", json_string(to));
    const char *article = json_string_value(json_object_get(c, "article"));
    const char *author = json_string_value(json_object_get(json_object_get(c, "author"), "id"));
    bool was_public = !strcmp(from, "published"), is_public = !strcmp(to, "published");
    if (is_public && !was_public) {
        effect_article(j->effects, article, json_pack("{s:s, s:O}", "type", "comment", "comment", c));
        notify_reply_effect(db, j->effects, c);
    }
    if (was_public && !is_public)
        effect_article(j->effects, article,
                       json_pack("{s:s, s:s, s:I}", "type", "removed", "article", article,
                                 "comment", (json_int_t)id));
    if (strcmp(from, to) && (is_public || !strcmp(to, "rejected") || !strcmp(to, "removed")))
        effect_author(j->effects, author, json_pack("{s:s, s:O}", "type", "decision", "comment", c));
    json_decref(c);
    effect_queue_changed(j->effects, db, id, to, j->name);
}

static int set_status(sqlite3 *db, int64_t id, const char *status, const char *reason,
                      const char *by) {
    sqlite3_stmt *st = prep(db, "UPDATE comments SET status = ?, reason = ?, moderated_by = ? "
                                "WHERE id = ?");
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    if (reason) sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PERR_UNAVAILABLE;
}

/* Current status of a comment into out (64), or PERR_NOT_FOUND. */
static int get_status(sqlite3 *db, int64_t id, char out[64]) {
    sqlite3_stmt *st = prep(db, "SELECT status FROM comments WHERE id = ?");
    sqlite3_bind_int64(st, 1, id);
    int rc = PERR_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, 64, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static void resolve_reports(sqlite3 *db, int64_t id) {
    sqlite3_stmt *st = prep(db, "UPDATE reports SET resolved = 1 WHERE comment_id = ?");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

/* approve / reject / remove one comment. at: the audit time shared by a bulk action. */
static int decide(mjob *j, sqlite3 *db, const char *action, int64_t id, const char *reason,
                  int64_t at, const char *note) {
    char from[64];
    int e = get_status(db, id, from);
    if (e) return e;
    const char *to = !strcmp(action, "approve") ? "published"
                     : !strcmp(action, "reject") ? "rejected" : "removed";
    /* a refused post can be rescued (approve) or its refusal confirmed (reject) */
    if ((!strcmp(from, "refused") && !strcmp(action, "remove")) || !strcmp(from, "removed") ||
        (!strcmp(action, "remove") && strcmp(from, "published") && strcmp(from, "hidden") &&
         strcmp(from, "shadow"))) {
        j->message = xstrdup("This comment cannot take that action in its current state.");
        return PERR_CONFLICT;
    }
    if ((e = set_status(db, id, to, reason, j->name))) return e;
    learned_on_decision(db, id, action, reason); /* approve = ham; spam/abuse reasons */
    rule_quality_on_decision(db, id);            /* did it overturn a rule? */
    resolve_reports(db, id);
    char target[40];
    snprintf(target, sizeof target, "comment:%lld", (long long)id);
    json_t *after = json_pack("{s:s}", "status", to);
    if (reason) json_object_set_new(after, "reason", json_string(reason));
    audit(db, j->name, action, target, json_pack("{s:s}", "status", from), after, note, at);
    transition(j, db, id, from, to);
    if (outbox_emit_decision(db, id, action, from, to, j->name)) return PERR_UNAVAILABLE;
    return 0;
}

static int do_decide(mjob *j, sqlite3 *db) {
    const char *type = arg_str(j, "type") + 4; /* after "mod." */
    int64_t id = arg_id(j, "comment");
    const char *reason = arg_str(j, "reason");
    if (!id) return PERR_BAD_REQUEST;
    if (!strcmp(type, "reject") && (!reason || !*reason)) {
        j->message = xstrdup("A rejection needs a reason for the author.");
        return PERR_BAD_REQUEST;
    }
    return decide(j, db, type, id, reason, 0, NULL);
}

static int do_bulk(mjob *j, sqlite3 *db) {
    const char *action = arg_str(j, "action");
    json_t *ids = json_object_get(j->args, "comments");
    const char *reason = arg_str(j, "reason");
    if (!action || (strcmp(action, "approve") && strcmp(action, "reject")) ||
        !json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > BULK_MAX)
        return PERR_BAD_REQUEST;
    if (!strcmp(action, "reject") && (!reason || !*reason)) {
        j->message = xstrdup("A rejection needs a reason for the author.");
        return PERR_BAD_REQUEST;
    }
    json_t *done = json_array(), *failed = json_array();
    int64_t at = now_ms();
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        int64_t id = json_is_integer(v) ? json_integer_value(v) : 0;
        free(j->message);
        j->message = NULL;
        sqlite3_exec(db, "SAVEPOINT one", NULL, NULL, NULL);
        int e = id > 0 ? decide(j, db, action, id, reason, at, "bulk") : PERR_BAD_REQUEST;
        sqlite3_exec(db, e ? "ROLLBACK TO one" : "RELEASE one", NULL, NULL, NULL);
        if (e) sqlite3_exec(db, "RELEASE one", NULL, NULL, NULL);
        json_array_append(e ? failed : done, v);
    }
    free(j->message);
    j->message = NULL;
    j->reply = json_pack("{s:s, s:o, s:o}", "type", "mod.ok", "done", done, "failed", failed);
    return 0;
}

static int do_ban(mjob *j, sqlite3 *db) {
    const char *type = arg_str(j, "type");
    const char *author = arg_str(j, "author");
    if (!author || !*author) return PERR_BAD_REQUEST;
    bool shadow = !strcmp(type, "mod.shadowban");
    json_t *dur = json_object_get(j->args, "duration");
    if (dur && !json_is_null(dur) && (!json_is_integer(dur) || json_integer_value(dur) <= 0))
        return PERR_BAD_REQUEST;
    int64_t now = now_ms();
    int64_t until = dur && json_is_integer(dur) ? now + json_integer_value(dur) * 1000 : 0;
    char ip[64] = "";
    if (!shadow && json_is_true(json_object_get(j->args, "ip"))) {
        sqlite3_stmt *st = prep(db, "SELECT ip_hash FROM comments WHERE author_id = ? ORDER BY "
                                    "id DESC LIMIT 1");
        sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(ip, sizeof ip, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_stmt *st = prep(db, "INSERT INTO bans (author_id, ip_hash, kind, until, reason, "
                                "moderator, created_at) VALUES (?,?,?,?,?,?,?)");
    sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    if (*ip) sqlite3_bind_text(st, 2, ip, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, shadow ? "shadow" : "ban", -1, SQLITE_STATIC);
    if (until) sqlite3_bind_int64(st, 4, until); else sqlite3_bind_null(st, 4);
    if (arg_str(j, "reason")) sqlite3_bind_text(st, 5, arg_str(j, "reason"), -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 5);
    sqlite3_bind_text(st, 6, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return PERR_UNAVAILABLE;
    char target[80];
    snprintf(target, sizeof target, "author:%s", author);
    json_t *after = json_pack("{s:s, s:I, s:b}", "kind", shadow ? "shadow" : "ban", "ban_id",
                              (json_int_t)sqlite3_last_insert_rowid(db), "ip", *ip != 0);
    json_object_set_new(after, "until", until ? json_integer(until) : json_null());
    if (outbox_emit(db, "reader.banned",
                    json_pack("{s:s, s:s, s:o, s:s?, s:s, s:b}", "author", author, "kind",
                              shadow ? "shadow" : "ban", "until",
                              until ? json_integer(until) : json_null(), "reason",
                              arg_str(j, "reason"), "by", j->name, "ip", *ip != 0))) {
        json_decref(after);
        return PERR_UNAVAILABLE;
    }
    audit(db, j->name, shadow ? "shadowban" : "ban", target, NULL, after, arg_str(j, "reason"), now);
    /* "Ban" from a queue item: the item is decided in the same action (audit entries with
     * one time and the note "ban"), so one undo lifts the ban and restores the comment */
    int64_t comment = arg_id(j, "comment");
    if (comment) {
        char from[64];
        int e = get_status(db, comment, from);
        if (e) return e;
        sqlite3_stmt *ck = prep(db, "SELECT 1 FROM comments WHERE id = ? AND author_id = ?");
        sqlite3_bind_int64(ck, 1, comment);
        sqlite3_bind_text(ck, 2, author, -1, SQLITE_STATIC);
        bool theirs = sqlite3_step(ck) == SQLITE_ROW;
        sqlite3_finalize(ck);
        if (!theirs) {
            j->message = xstrdup("That comment is not by the author being banned.");
            return PERR_BAD_REQUEST;
        }
        const char *act = !strcmp(from, "published") || !strcmp(from, "hidden") ||
                                  !strcmp(from, "shadow") ? "remove" : "reject";
        const char *reason = arg_str(j, "reason");
        return decide(j, db, act, comment, reason && *reason ? reason : "Banned", now, "ban");
    }
    return 0;
}

static int do_unban(mjob *j, sqlite3 *db) {
    const char *author = arg_str(j, "author");
    if (!author) return PERR_BAD_REQUEST;
    json_t *ids = json_array();
    sqlite3_stmt *st = prep(db, "SELECT id FROM bans WHERE author_id = ? AND lifted = 0");
    sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(ids, json_integer(sqlite3_column_int64(st, 0)));
    sqlite3_finalize(st);
    st = prep(db, "UPDATE bans SET lifted = 1 WHERE author_id = ? AND lifted = 0");
    sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
    char target[80];
    snprintf(target, sizeof target, "author:%s", author);
    audit(db, j->name, "unban", target, NULL, json_pack("{s:o}", "ban_ids", ids), NULL, 0);
    return 0;
}

static int do_note(mjob *j, sqlite3 *db) {
    const char *text = arg_str(j, "text");
    int64_t comment = arg_id(j, "comment");
    const char *author = arg_str(j, "author");
    char found[128] = "";
    if (!text || !*text || strlen(text) > 2000) return PERR_BAD_REQUEST;
    if (comment) {
        sqlite3_stmt *st = prep(db, "SELECT author_id FROM comments WHERE id = ?");
        sqlite3_bind_int64(st, 1, comment);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(found, sizeof found, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (!*found) return PERR_NOT_FOUND;
        author = found;
    }
    if (!author) return PERR_BAD_REQUEST;
    sqlite3_stmt *st = prep(db, "INSERT INTO notes (author_id, comment_id, moderator, text, "
                                "created_at) VALUES (?,?,?,?,?)");
    sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    if (comment) sqlite3_bind_int64(st, 2, comment); else sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_ms());
    sqlite3_step(st);
    sqlite3_finalize(st);
    char target[160];
    snprintf(target, sizeof target, "author:%s", author);
    audit(db, j->name, "note", target, NULL, json_pack("{s:s}", "text", text), NULL, 0);
    if (comment) effect_queue_changed(j->effects, db, comment, "noted", j->name);
    return 0;
}

static int do_article(mjob *j, sqlite3 *db) {
    const char *article = arg_str(j, "article"), *mode = arg_str(j, "mode");
    if (!article || !text_article_valid(article) || !mode ||
        (strcmp(mode, "open") && strcmp(mode, "premoderated") && strcmp(mode, "closed")))
        return PERR_BAD_REQUEST;
    char old[32] = "default";
    sqlite3_stmt *st = prep(db, "SELECT mode FROM articles WHERE id = ?");
    sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(old, sizeof old, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    st = prep(db, "INSERT INTO articles (id, mode, updated_at) VALUES (?,?,?) ON CONFLICT(id) "
                  "DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at");
    sqlite3_bind_text(st, 1, article, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, mode, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms());
    sqlite3_step(st);
    sqlite3_finalize(st);
    char target[160];
    snprintf(target, sizeof target, "article:%s", article);
    audit(db, j->name, "article", target, json_pack("{s:s}", "mode", old),
          json_pack("{s:s}", "mode", mode), NULL, 0);
    return 0;
}

/* mod.feature / mod.unfeature: the work is featured.c's; audited here. */
static int do_feature(mjob *j, sqlite3 *db) {
    int64_t id = arg_id(j, "comment");
    if (!id) return PERR_BAD_REQUEST;
    bool on = !strcmp(arg_str(j, "type"), "mod.feature");
    json_t *before, *after;
    char *target;
    int e = featured_set(db, j->name, id, on, j->effects, &before, &after, &target);
    if (e == PERR_CONFLICT)
        j->message = strdup(on ? "Already featured, or the article has the most it may feature."
                               : "That comment is not featured.");
    if (e) return e;
    audit(db, j->name, on ? "feature" : "unfeature", target, before, after, NULL, 0);
    free(target);
    return 0;
}

/* Undoes one audit entry; returns 0 or an error. */
static int undo_entry(mjob *j, sqlite3 *db, int64_t aid, const char *action, const char *target,
                      json_t *before, json_t *after) {
    if (!strncmp(target, "comment:", 8)) {
        int64_t id = strtoll(target + 8, NULL, 10);
        const char *to = json_string_value(json_object_get(before, "status"));
        char from[64];
        if (!to || get_status(db, id, from)) return PERR_NOT_FOUND;
        int e = set_status(db, id, to, NULL, j->name);
        if (e) return e;
        learned_on_undo(db, id, aid); /* the lesson of the decision still in force */
        rule_quality_on_decision(db, id);
        transition(j, db, id, from, to);
        if (outbox_emit_decision(db, id, "undo", from, to, j->name)) return PERR_UNAVAILABLE;
    } else if (!strcmp(action, "ban") || !strcmp(action, "shadowban")) {
        sqlite3_stmt *st = prep(db, "UPDATE bans SET lifted = 1 WHERE id = ?");
        sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(after, "ban_id")));
        sqlite3_step(st);
        sqlite3_finalize(st);
    } else if (!strcmp(action, "unban")) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(after, "ban_ids"), i, v) {
            sqlite3_stmt *st = prep(db, "UPDATE bans SET lifted = 0 WHERE id = ?");
            sqlite3_bind_int64(st, 1, json_integer_value(v));
            sqlite3_step(st);
            sqlite3_finalize(st);
        }
    } else if (!strcmp(action, "feature") || !strcmp(action, "unfeature")) {
        json_t *b, *a;
        char *t;
        int e = featured_set(db, j->name, strtoll(target + 9, NULL, 10),
                             !strcmp(action, "unfeature"), j->effects, &b, &a, &t);
        json_decref(b);
        json_decref(a);
        free(t);
        if (e) return e;
    } else if (!strcmp(action, "article")) {
        const char *mode = json_string_value(json_object_get(before, "mode"));
        sqlite3_stmt *st = !mode || !strcmp(mode, "default")
                               ? prep(db, "DELETE FROM articles WHERE id = ?1")
                               : prep(db, "UPDATE articles SET mode = ?2 WHERE id = ?1");
        sqlite3_bind_text(st, 1, target + 8, -1, SQLITE_STATIC);
        if (mode) sqlite3_bind_text(st, 2, mode, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
    } else {
        return PERR_CONFLICT;
    }
    sqlite3_stmt *st = prep(db, "UPDATE audit SET undone = 1 WHERE id = ?");
    sqlite3_bind_int64(st, 1, aid);
    sqlite3_step(st);
    sqlite3_finalize(st);
    return 0;
}

static int do_undo(mjob *j, sqlite3 *db) {
    sqlite3_stmt *st = prep(db, "SELECT id, at, note FROM audit WHERE moderator = ? AND undone = 0 "
                                "AND action IN ('approve','reject','remove','ban','shadowban',"
                                "'unban','article','feature','unfeature') ORDER BY id DESC LIMIT 1");
    sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        j->message = xstrdup("Nothing to undo.");
        return PERR_NOT_FOUND;
    }
    int64_t last = sqlite3_column_int64(st, 0), at = sqlite3_column_int64(st, 1);
    const char *lnote = (const char *)sqlite3_column_text(st, 2);
    bool bulk = lnote && (!strcmp(lnote, "bulk") || !strcmp(lnote, "ban"));
    sqlite3_finalize(st);
    /* A bulk decision, or a ban with its comment's decision, is undone whole: every entry
     * it wrote shares its time. Bans first, so the restored items show their author free. */
    st = bulk ? prep(db, "SELECT id, action, target, before, after FROM audit WHERE moderator = ?1 "
                         "AND undone = 0 AND at = ?2 AND action IN ('approve','reject','remove',"
                         "'ban','shadowban') ORDER BY action IN ('ban','shadowban') DESC, id DESC")
              : prep(db, "SELECT id, action, target, before, after FROM audit WHERE id = ?3");
    sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int64(st, 3, last);
    json_t *undone = json_array();
    int e = 0;
    while (!e && sqlite3_step(st) == SQLITE_ROW) {
        int64_t aid = sqlite3_column_int64(st, 0);
        char action[32], target[256];
        snprintf(action, sizeof action, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(target, sizeof target, "%s", (const char *)sqlite3_column_text(st, 2));
        json_t *before = sqlite3_column_text(st, 3)
                             ? json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL) : NULL;
        json_t *after = sqlite3_column_text(st, 4)
                            ? json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL) : NULL;
        e = undo_entry(j, db, aid, action, target, before, after);
        json_array_append_new(undone, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)aid,
                                                "action", action, "target", target));
        json_decref(before);
        json_decref(after);
    }
    sqlite3_finalize(st);
    if (e) {
        json_decref(undone);
        return e;
    }
    audit(db, j->name, "undo", "audit", NULL, json_pack("{s:O}", "entries", undone), NULL, 0);
    j->reply = json_pack("{s:s, s:o}", "type", "mod.ok", "undone", undone);
    return 0;
}

static int do_queue(mjob *j, sqlite3 *db) {
    const char *q = arg_str(j, "queue");
    if (!q) q = "all";
    if (strcmp(q, "held") && strcmp(q, "reported") && strcmp(q, "refused") && strcmp(q, "all"))
        return PERR_BAD_REQUEST;
    json_int_t limit = json_integer_value(json_object_get(j->args, "limit"));
    if (limit <= 0 || limit > PAGE_MAX) limit = 50;
    int64_t after = arg_id(j, "after");
    json_t *items = json_array();
    if (strcmp(q, "reported")) {
        /* held: oldest first; refused (its own queue, not in "all"): newest first */
        bool ref = !strcmp(q, "refused");
        sqlite3_stmt *st = prep(db, ref ? "SELECT id FROM comments WHERE status = 'refused' AND "
                                          "id < ? ORDER BY id DESC LIMIT ?"
                                        : "SELECT id FROM comments WHERE status = 'pending' AND "
                                          "id > ? ORDER BY id LIMIT ?");
        if (ref && !after) after = INT64_MAX;
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int64(st, 2, limit);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *it = moderation_item(db, sqlite3_column_int64(st, 0));
            if (it) json_array_append_new(items, it);
        }
        sqlite3_finalize(st);
    }
    if (strcmp(q, "held") && strcmp(q, "refused")) {
        sqlite3_stmt *st = prep(db, "SELECT r.comment_id FROM reports r JOIN comments c ON "
                                    "c.id = r.comment_id WHERE r.resolved = 0 AND c.status != "
                                    "'pending' GROUP BY r.comment_id ORDER BY COUNT(*) DESC, "
                                    "r.comment_id LIMIT ?");
        sqlite3_bind_int64(st, 1, limit);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *it = moderation_item(db, sqlite3_column_int64(st, 0));
            if (it) json_array_append_new(items, it);
        }
        sqlite3_finalize(st);
    }
    j->reply = json_pack("{s:s, s:s, s:o, s:o}", "type", "mod.queue", "queue", q, "items", items,
                         "counts", moderation_counts(db));
    return 0;
}

static int do_search(mjob *j, sqlite3 *db) {
    const char *author = arg_str(j, "author"), *article = arg_str(j, "article"),
               *text = arg_str(j, "text");
    int64_t before = arg_id(j, "before");
    if (!author && !article && !text) return PERR_BAD_REQUEST;
    sqlite3_stmt *st = prep(db, "SELECT id FROM comments WHERE (?1 IS NULL OR author_id = ?1 OR "
                                "author_name = ?1) AND (?2 IS NULL OR article = ?2) AND (?3 IS "
                                "NULL OR title LIKE '%' || ?3 || '%' OR body LIKE '%' || ?3 || "
                                "'%') AND id < ?4 ORDER BY id DESC LIMIT 50");
    if (author) sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    if (article) sqlite3_bind_text(st, 2, article, -1, SQLITE_STATIC);
    if (text) sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, before ? before : INT64_MAX);
    json_t *items = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *it = moderation_item(db, sqlite3_column_int64(st, 0));
        if (it) json_array_append_new(items, it);
    }
    sqlite3_finalize(st);
    j->reply = json_pack("{s:s, s:o}", "type", "mod.search", "items", items);
    return 0;
}

static int do_audit(mjob *j, sqlite3 *db) {
    const char *who = arg_str(j, "moderator"), *action = arg_str(j, "action");
    int64_t before = arg_id(j, "before");
    sqlite3_stmt *st = prep(db, "SELECT id, at, moderator, action, target, before, after, note, "
                                "undone FROM audit WHERE (?1 IS NULL OR moderator = ?1) AND (?2 IS "
                                "NULL OR action = ?2) AND id < ?3 ORDER BY id DESC LIMIT 100");
    if (who) sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
    if (action) sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, before ? before : INT64_MAX);
    json_t *entries = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        char when[32];
        comment_time(sqlite3_column_int64(st, 1), when);
        json_t *e = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b}", "id",
                              (json_int_t)sqlite3_column_int64(st, 0), "at", when, "moderator",
                              sqlite3_column_text(st, 2), "action", sqlite3_column_text(st, 3),
                              "target", sqlite3_column_text(st, 4), "undone",
                              sqlite3_column_int(st, 8));
        for (int k = 5; k <= 6; k++) {
            const char *t = (const char *)sqlite3_column_text(st, k);
            json_object_set_new(e, k == 5 ? "before" : "after",
                                t ? json_loads(t, 0, NULL) : json_null());
        }
        const char *note = (const char *)sqlite3_column_text(st, 7);
        json_object_set_new(e, "note", note ? json_string(note) : json_null());
        json_array_append_new(entries, e);
    }
    sqlite3_finalize(st);
    j->reply = json_pack("{s:s, s:o}", "type", "mod.audit", "entries", entries);
    return 0;
}

/* mod.rules: per-rule quality (rule_quality.h). */
static int do_rules(mjob *j, sqlite3 *db) {
    json_t *rules = rule_quality_json(db);
    if (!rules) return PERR_UNAVAILABLE;
    j->reply = json_pack("{s:s, s:o}", "type", "mod.rules", "rules", rules);
    return 0;
}

/* mod.webhooks (admins): the outbox's endpoints, backlog and failures. */
static int do_webhooks(mjob *j, sqlite3 *db) {
    j->reply = outbox_console(db);
    return 0;
}

static int do_hello(mjob *j, sqlite3 *db) {
    j->reply = json_pack("{s:s, s:{s:s, s:s}, s:o}", "type", "mod.welcome", "moderator", "name",
                         j->name, "role", j->role, "counts", moderation_counts(db));
    return 0;
}

static int run_mod(store_job *job, sqlite3 *db) {
    mjob *j = (mjob *)job;
    int e = auth_session_check(db, j->token_hash, now_ms(), &j->name, &j->role);
    if (e) {
        j->message = xstrdup("Your session has ended; sign in again.");
        return e;
    }
    if (j->admin_only && strcmp(j->role, "admin")) {
        j->message = xstrdup("Only an admin can do that.");
        return PERR_FORBIDDEN;
    }
    audit_failed = false;
    int rc = j->fn(j, db);
    if (!rc && audit_failed) {
        free(j->message);
        j->message = xstrdup("The action could not be recorded in the audit log, so it was not done.");
        rc = PERR_UNAVAILABLE;
    }
    return rc;
}

static void done_mod(store_job *job) {
    mjob *j = (mjob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (job->status) {
        if (c) {
            if (job->status == PERR_UNAUTHORIZED && c->moderator) c->moderator = false;
            conn_error(c, j->req_id, (perr_t)job->status, "%s",
                       j->message ? j->message : "The action failed.");
        }
    } else {
        if (c && j->hello) {
            free(c->mod_name);
            free(c->mod_role);
            c->mod_name = xstrdup(j->name);
            c->mod_role = xstrdup(j->role);
            c->moderator = true; /* from now on it gets the console events */
            clog_info(c->id, "moderation: console for '%s' (%s)", j->name, j->role);
        }
        effects_apply(j->effects);
        if (c) {
            json_t *r = j->reply ? json_incref(j->reply) : json_pack("{s:s}", "type", "mod.ok");
            if (j->req_id) json_object_set(r, "id", j->req_id);
            conn_send_json(c, r);
        }
    }
    json_decref(j->req_id);
    json_decref(j->args);
    json_decref(j->reply);
    json_decref(j->effects);
    free(j->name);
    free(j->role);
    free(j->message);
    free(j);
}

static const struct {
    const char *type;
    mod_fn fn;
    bool admin_only;
} actions[] = {
    {"mod.hello", do_hello, false},      {"mod.queue", do_queue, false},
    {"mod.approve", do_decide, false},   {"mod.reject", do_decide, false},
    {"mod.remove", do_decide, false},    {"mod.ban", do_ban, false},
    {"mod.shadowban", do_ban, false},    {"mod.unban", do_unban, false},
    {"mod.note", do_note, false},        {"mod.undo", do_undo, false},
    {"mod.bulk", do_bulk, false},        {"mod.article", do_article, true},
    {"mod.search", do_search, false},    {"mod.audit", do_audit, true},
    {"mod.rules", do_rules, false},
    {"mod.webhooks", do_webhooks, true},
    {"mod.feature", do_feature, false},  {"mod.unfeature", do_feature, false},
    {NULL, NULL, false},
};

static void handle_mod(conn_t *c, const char *type, json_t *req, const json_t *id) {
    bool hello = !strcmp(type, "mod.hello");
    bool known = false;
    for (int i = 0; actions[i].type && !known; i++) known = !strcmp(actions[i].type, type);
    if (!known) {
        /* an unknown type is unknown to everyone, signed in or not */
        char ex[96];
        conn_error(c, id, PERR_UNKNOWN_TYPE, "Unknown message type '%s'.",
                   log_excerpt(type, ex, sizeof ex));
        return;
    }
    if (!c->session || (!hello && !c->moderator)) {
        conn_error(c, id, hello ? PERR_UNAUTHORIZED : PERR_FORBIDDEN,
                   hello ? "Sign in as a moderator first." : "Moderator actions need a moderator session.");
        return;
    }
    for (int i = 0; actions[i].type; i++) {
        if (strcmp(actions[i].type, type)) continue;
        mjob *j = xcalloc(1, sizeof *j);
        j->job.run = run_mod;
        j->job.done = done_mod;
        j->conn_id = c->id;
        j->req_id = id ? json_incref((json_t *)id) : NULL;
        j->args = json_deep_copy(req);
        j->effects = json_array();
        j->hello = hello;
        j->fn = actions[i].fn;
        j->admin_only = actions[i].admin_only;
        auth_token_hash(c->session, j->token_hash);
        store_submit(srv.store, &j->job);
        return;
    }
    char ex[96];
    conn_error(c, id, PERR_UNKNOWN_TYPE, "Unknown message type '%s'.", log_excerpt(type, ex, sizeof ex));
}

void moderation_init(void) {
    /* outbox and notify sit below this module: they reach the queue through these */
    outbox_set_item_source(moderation_item);
    notify_set_queue_counts(moderation_counts);
}

void moderation_handle(conn_t *c, const char *type, json_t *req, const json_t *id) {
    handle_mod(c, type, req, id);
}

void moderation_shutdown(void) {}
