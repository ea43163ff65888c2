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
#include "store_comments.h"
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

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK)
        log_err("moderation: %s: %s", db_errmsg(db), sql);
    return st;
}

static int64_t count_of(db_t *db, const char *sql) {
    db_stmt *st = prep(db, sql);
    int64_t n = st && db_step(st) == DB_ROW ? db_col_int64(st, 0) : 0;
    db_finalize(st);
    return n;
}

json_t *moderation_counts(db_t *db) {
    return json_pack(
        "{s:I, s:I, s:I}", "held",
        (json_int_t)count_of(db, "SELECT COUNT(*) FROM comments WHERE status = 'pending'"),
        "refused",
        (json_int_t)count_of(db, "SELECT COUNT(*) FROM comments WHERE status = 'refused'"),
        "reported",
        (json_int_t)count_of(db, "SELECT COUNT(DISTINCT comment_id) FROM reports WHERE "
                                 "resolved = 0"));
}

int moderation_ban_state(db_t *db, const char *author, const char *ip_hash, int64_t now) {
    db_stmt *st = prep(db, "SELECT kind FROM bans WHERE lifted = 0 AND (until IS NULL OR "
                                "until > ?1) AND (author_id = ?2 OR (ip_hash IS NOT NULL AND "
                                "ip_hash = ?3 AND ?3 != '')) ORDER BY kind = 'ban' DESC LIMIT 1");
    if (!st) return BAN_NONE;
    db_bind_int64(st, 1, now);
    db_bind_text(st, 2, author, -1);
    db_bind_text(st, 3, ip_hash ? ip_hash : "", -1);
    int r = BAN_NONE;
    if (db_step(st) == DB_ROW)
        r = !strcmp((const char *)db_col_text(st, 0), "ban") ? BAN_BANNED : BAN_SHADOW;
    db_finalize(st);
    return r;
}

static json_t *author_record(db_t *db, const char *author, const char *name, int guest) {
    json_t *a = json_pack("{s:s, s:s, s:b, s:i, s:i, s:i, s:i}", "id", author, "name", name,
                          "guest", guest, "published", 0, "rejected", 0, "pending", 0,
                          "removed", 0);
    db_stmt *st = prep(db, "SELECT status, COUNT(*), MIN(created_at) FROM comments WHERE "
                                "author_id = ? GROUP BY status");
    int64_t first = 0;
    db_bind_text(st, 1, author, -1);
    while (db_step(st) == DB_ROW) {
        const char *s = (const char *)db_col_text(st, 0);
        const char *key = !strcmp(s, "refused") ? "rejected" : !strcmp(s, "shadow") ? "published"
                          : !strcmp(s, "hidden") ? "pending" : s;
        json_t *cur = json_object_get(a, key);
        if (cur)
            json_object_set_new(a, key, json_integer(json_integer_value(cur) +
                                                     db_col_int64(st, 1)));
        int64_t f = db_col_int64(st, 2);
        if (!first || f < first) first = f;
    }
    db_finalize(st);
    char when[32];
    comment_time(first, when);
    json_object_set_new(a, "first_seen", json_string(when));
    int64_t now = now_ms();
    st = prep(db, "SELECT kind FROM bans WHERE author_id = ? AND lifted = 0 AND "
                  "(until IS NULL OR until > ?)");
    db_bind_text(st, 1, author, -1);
    db_bind_int64(st, 2, now);
    bool banned = false, shadow = false;
    while (db_step(st) == DB_ROW) {
        if (!strcmp((const char *)db_col_text(st, 0), "ban"))
            banned = true;
        else
            shadow = true;
    }
    db_finalize(st);
    json_object_set_new(a, "banned", json_boolean(banned));
    json_object_set_new(a, "shadowbanned", json_boolean(shadow));
    json_t *notes = json_array();
    st = prep(db, "SELECT moderator, text, created_at FROM notes WHERE author_id = ? ORDER BY "
                  "id DESC LIMIT 20");
    db_bind_text(st, 1, author, -1);
    while (db_step(st) == DB_ROW) {
        comment_time(db_col_int64(st, 2), when);
        json_array_append_new(notes, json_pack("{s:s, s:s, s:s}", "by",
                                               db_col_text(st, 0), "text",
                                               db_col_text(st, 1), "at", when));
    }
    db_finalize(st);
    json_object_set_new(a, "notes", notes);
    return a;
}

json_t *moderation_item(db_t *db, int64_t id) {
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS ", score, decision, ip_hash, status "
                                "FROM comments WHERE id = ?");
    if (!st) return NULL;
    db_bind_int64(st, 1, id);
    if (db_step(st) != DB_ROW) {
        db_finalize(st);
        return NULL;
    }
    json_t *c = comment_from_row(st);
    const char *status = (const char *)db_col_text(st, 17);
    json_object_set_new(c, "status", json_string(status));
    json_object_set_new(c, "score", json_real(db_col_double(st, 14)));
    json_t *dec = db_col_text(st, 15)
                      ? json_loads((const char *)db_col_text(st, 15), 0, NULL)
                      : NULL;
    json_t *rules = json_object_get(dec, "rules"), *decision = json_object_get(dec, "decision");
    json_object_set_new(c, "rules", rules ? json_incref(rules) : json_array());
    json_object_set_new(c, "decision", decision ? json_incref(decision) : json_null());
    json_decref(dec);
    char ip[9];
    snprintf(ip, sizeof ip, "%s", (const char *)db_col_text(st, 16));
    json_object_set_new(c, "ip", json_string(ip));
    json_t *author = author_record(db, (const char *)db_col_text(st, 3),
                                   (const char *)db_col_text(st, 4),
                                   db_col_int(st, 5));
    bool held = !strcmp(status, "pending"), refused = !strcmp(status, "refused");
    db_finalize(st);

    json_t *reports = json_array();
    st = prep(db, "SELECT reason, note, created_at FROM reports WHERE comment_id = ? AND "
                  "resolved = 0 ORDER BY id");
    db_bind_int64(st, 1, id);
    while (db_step(st) == DB_ROW) {
        char when[32];
        comment_time(db_col_int64(st, 2), when);
        json_t *r = json_pack("{s:s, s:s}", "reason", db_col_text(st, 0), "at", when);
        if (db_col_text(st, 1))
            json_object_set_new(r, "note", json_string((const char *)db_col_text(st, 1)));
        json_array_append_new(reports, r);
    }
    db_finalize(st);
    size_t nrep = json_array_size(reports);
    json_t *item = json_pack("{s:s, s:O, s:o, s:o, s:I}", "queue",
                             held ? "held" : refused ? "refused" : nrep ? "reported" : "none",
                             "comment", c, "author", author, "reports", reports, "report_count",
                             (json_int_t)nrep);
    featured_annotate(db, item, c);
    json_decref(c);
    return item;
}

void effect_queue_changed(json_t *effects, db_t *db, int64_t id, const char *status,
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
typedef int (*mod_fn)(mjob *j, db_t *db);

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

static void audit(db_t *db, const char *who, const char *action, const char *target,
                  json_t *before, json_t *after, const char *note, int64_t at) {
    db_stmt *st = prep(db, "INSERT INTO audit (at, moderator, action, target, before, "
                                "after, note) VALUES (?,?,?,?,?,?,?)");
    char *b = before ? json_dumps(before, JSON_COMPACT) : NULL;
    char *a = after ? json_dumps(after, JSON_COMPACT) : NULL;
    db_bind_int64(st, 1, at ? at : now_ms());
    db_bind_text(st, 2, who, -1);
    db_bind_text(st, 3, action, -1);
    db_bind_text(st, 4, target, -1);
    if (b) db_bind_text(st, 5, b, -1); else db_bind_null(st, 5);
    if (a) db_bind_text(st, 6, a, -1); else db_bind_null(st, 6);
    if (note) db_bind_text(st, 7, note, -1); else db_bind_null(st, 7);
    if (!st || db_step(st) != DB_DONE) {
        log_err("moderation: audit entry for %s %s not written: %s; the action is undone",
                action, target, db_errmsg(db));
        audit_failed = true;
    }
    db_finalize(st);
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
static void transition(mjob *j, db_t *db, int64_t id, const char *from, const char *to) {
    json_t *c = NULL;
    db_stmt *st = prep(db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id = ?");
    db_bind_int64(st, 1, id);
    if (db_step(st) == DB_ROW) c = comment_from_row(st);
    db_finalize(st);
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

static int set_status(db_t *db, int64_t id, const char *status, const char *reason,
                      const char *by) {
    db_stmt *st = prep(db, "UPDATE comments SET status = ?, reason = ?, moderated_by = ? "
                                "WHERE id = ?");
    db_bind_text(st, 1, status, -1);
    if (reason) db_bind_text(st, 2, reason, -1); else db_bind_null(st, 2);
    db_bind_text(st, 3, by, -1);
    db_bind_int64(st, 4, id);
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 0 : PERR_UNAVAILABLE;
}

/* Current status of a comment into out (64), or PERR_NOT_FOUND. */
static int get_status(db_t *db, int64_t id, char out[64]) {
    db_stmt *st = prep(db, "SELECT status FROM comments WHERE id = ?");
    db_bind_int64(st, 1, id);
    int rc = PERR_NOT_FOUND;
    if (db_step(st) == DB_ROW) {
        snprintf(out, 64, "%s", (const char *)db_col_text(st, 0));
        rc = 0;
    }
    db_finalize(st);
    return rc;
}

static void resolve_reports(db_t *db, int64_t id) {
    db_stmt *st = prep(db, "UPDATE reports SET resolved = 1 WHERE comment_id = ?");
    db_bind_int64(st, 1, id);
    db_step(st);
    db_finalize(st);
}

/* approve / reject / remove one comment. at: the audit time shared by a bulk action. */
static int decide(mjob *j, db_t *db, const char *action, int64_t id, const char *reason,
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

static int do_decide(mjob *j, db_t *db) {
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

static int do_bulk(mjob *j, db_t *db) {
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
        db_exec(db, "SAVEPOINT one");
        int e = id > 0 ? decide(j, db, action, id, reason, at, "bulk") : PERR_BAD_REQUEST;
        db_exec(db, e ? "ROLLBACK TO one" : "RELEASE one");
        if (e) db_exec(db, "RELEASE one");
        json_array_append(e ? failed : done, v);
    }
    free(j->message);
    j->message = NULL;
    j->reply = json_pack("{s:s, s:o, s:o}", "type", "mod.ok", "done", done, "failed", failed);
    return 0;
}

static int do_ban(mjob *j, db_t *db) {
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
        db_stmt *st = prep(db, "SELECT ip_hash FROM comments WHERE author_id = ? ORDER BY "
                                    "id DESC LIMIT 1");
        db_bind_text(st, 1, author, -1);
        if (db_step(st) == DB_ROW)
            snprintf(ip, sizeof ip, "%s", (const char *)db_col_text(st, 0));
        db_finalize(st);
    }
    db_stmt *st = prep(db, "INSERT INTO bans (author_id, ip_hash, kind, until, reason, "
                                "moderator, created_at) VALUES (?,?,?,?,?,?,?) RETURNING id");
    db_bind_text(st, 1, author, -1);
    if (*ip) db_bind_text(st, 2, ip, -1); else db_bind_null(st, 2);
    db_bind_text(st, 3, shadow ? "shadow" : "ban", -1);
    if (until) db_bind_int64(st, 4, until); else db_bind_null(st, 4);
    if (arg_str(j, "reason")) db_bind_text(st, 5, arg_str(j, "reason"), -1);
    else db_bind_null(st, 5);
    db_bind_text(st, 6, j->name, -1);
    db_bind_int64(st, 7, now);
    int rc = db_step(st);
    int64_t ban_id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
    if (rc == DB_ROW) rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) return PERR_UNAVAILABLE;
    char target[80];
    snprintf(target, sizeof target, "author:%s", author);
    json_t *after = json_pack("{s:s, s:I, s:b}", "kind", shadow ? "shadow" : "ban", "ban_id",
                              (json_int_t)ban_id, "ip", *ip != 0);
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
        db_stmt *ck = prep(db, "SELECT 1 FROM comments WHERE id = ? AND author_id = ?");
        db_bind_int64(ck, 1, comment);
        db_bind_text(ck, 2, author, -1);
        bool theirs = db_step(ck) == DB_ROW;
        db_finalize(ck);
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

static int do_unban(mjob *j, db_t *db) {
    const char *author = arg_str(j, "author");
    if (!author) return PERR_BAD_REQUEST;
    json_t *ids = json_array();
    db_stmt *st = prep(db, "SELECT id FROM bans WHERE author_id = ? AND lifted = 0");
    db_bind_text(st, 1, author, -1);
    while (db_step(st) == DB_ROW)
        json_array_append_new(ids, json_integer(db_col_int64(st, 0)));
    db_finalize(st);
    st = prep(db, "UPDATE bans SET lifted = 1 WHERE author_id = ? AND lifted = 0");
    db_bind_text(st, 1, author, -1);
    db_step(st);
    db_finalize(st);
    char target[80];
    snprintf(target, sizeof target, "author:%s", author);
    audit(db, j->name, "unban", target, NULL, json_pack("{s:o}", "ban_ids", ids), NULL, 0);
    return 0;
}

static int do_note(mjob *j, db_t *db) {
    const char *text = arg_str(j, "text");
    int64_t comment = arg_id(j, "comment");
    const char *author = arg_str(j, "author");
    char found[128] = "";
    if (!text || !*text || strlen(text) > 2000) return PERR_BAD_REQUEST;
    if (comment) {
        db_stmt *st = prep(db, "SELECT author_id FROM comments WHERE id = ?");
        db_bind_int64(st, 1, comment);
        if (db_step(st) == DB_ROW)
            snprintf(found, sizeof found, "%s", (const char *)db_col_text(st, 0));
        db_finalize(st);
        if (!*found) return PERR_NOT_FOUND;
        author = found;
    }
    if (!author) return PERR_BAD_REQUEST;
    db_stmt *st = prep(db, "INSERT INTO notes (author_id, comment_id, moderator, text, "
                                "created_at) VALUES (?,?,?,?,?)");
    db_bind_text(st, 1, author, -1);
    if (comment) db_bind_int64(st, 2, comment); else db_bind_null(st, 2);
    db_bind_text(st, 3, j->name, -1);
    db_bind_text(st, 4, text, -1);
    db_bind_int64(st, 5, now_ms());
    db_step(st);
    db_finalize(st);
    char target[160];
    snprintf(target, sizeof target, "author:%s", author);
    audit(db, j->name, "note", target, NULL, json_pack("{s:s}", "text", text), NULL, 0);
    if (comment) effect_queue_changed(j->effects, db, comment, "noted", j->name);
    return 0;
}

static int do_article(mjob *j, db_t *db) {
    const char *article = arg_str(j, "article"), *mode = arg_str(j, "mode");
    if (!article || !text_article_valid(article) || !mode ||
        (strcmp(mode, "open") && strcmp(mode, "premoderated") && strcmp(mode, "closed")))
        return PERR_BAD_REQUEST;
    char old[32] = "default";
    db_stmt *st = prep(db, "SELECT mode FROM articles WHERE id = ?");
    db_bind_text(st, 1, article, -1);
    if (db_step(st) == DB_ROW)
        snprintf(old, sizeof old, "%s", (const char *)db_col_text(st, 0));
    db_finalize(st);
    st = prep(db, "INSERT INTO articles (id, mode, updated_at) VALUES (?,?,?) ON CONFLICT(id) "
                  "DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at");
    db_bind_text(st, 1, article, -1);
    db_bind_text(st, 2, mode, -1);
    db_bind_int64(st, 3, now_ms());
    db_step(st);
    db_finalize(st);
    char target[160];
    snprintf(target, sizeof target, "article:%s", article);
    audit(db, j->name, "article", target, json_pack("{s:s}", "mode", old),
          json_pack("{s:s}", "mode", mode), NULL, 0);
    return 0;
}

/* mod.feature / mod.unfeature: the work is featured.c's; audited here. */
static int do_feature(mjob *j, db_t *db) {
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
static int undo_entry(mjob *j, db_t *db, int64_t aid, const char *action, const char *target,
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
        db_stmt *st = prep(db, "UPDATE bans SET lifted = 1 WHERE id = ?");
        db_bind_int64(st, 1, json_integer_value(json_object_get(after, "ban_id")));
        db_step(st);
        db_finalize(st);
    } else if (!strcmp(action, "unban")) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(after, "ban_ids"), i, v) {
            db_stmt *st = prep(db, "UPDATE bans SET lifted = 0 WHERE id = ?");
            db_bind_int64(st, 1, json_integer_value(v));
            db_step(st);
            db_finalize(st);
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
        db_stmt *st = !mode || !strcmp(mode, "default")
                               ? prep(db, "DELETE FROM articles WHERE id = ?1")
                               : prep(db, "UPDATE articles SET mode = ?2 WHERE id = ?1");
        db_bind_text(st, 1, target + 8, -1);
        if (mode) db_bind_text(st, 2, mode, -1);
        db_step(st);
        db_finalize(st);
    } else {
        return PERR_CONFLICT;
    }
    db_stmt *st = prep(db, "UPDATE audit SET undone = 1 WHERE id = ?");
    db_bind_int64(st, 1, aid);
    db_step(st);
    db_finalize(st);
    return 0;
}

static int do_undo(mjob *j, db_t *db) {
    db_stmt *st = prep(db, "SELECT id, at, note FROM audit WHERE moderator = ? AND undone = 0 "
                                "AND action IN ('approve','reject','remove','ban','shadowban',"
                                "'unban','article','feature','unfeature') ORDER BY id DESC LIMIT 1");
    db_bind_text(st, 1, j->name, -1);
    if (db_step(st) != DB_ROW) {
        db_finalize(st);
        j->message = xstrdup("Nothing to undo.");
        return PERR_NOT_FOUND;
    }
    int64_t last = db_col_int64(st, 0), at = db_col_int64(st, 1);
    const char *lnote = (const char *)db_col_text(st, 2);
    bool bulk = lnote && (!strcmp(lnote, "bulk") || !strcmp(lnote, "ban"));
    db_finalize(st);
    /* A bulk decision, or a ban with its comment's decision, is undone whole: every entry
     * it wrote shares its time. Bans first, so the restored items show their author free. */
    st = bulk ? prep(db, "SELECT id, action, target, before, after FROM audit WHERE moderator = ?1 "
                         "AND undone = 0 AND at = ?2 AND action IN ('approve','reject','remove',"
                         "'ban','shadowban') ORDER BY action IN ('ban','shadowban') DESC, id DESC")
              : prep(db, "SELECT id, action, target, before, after FROM audit WHERE id = ?3");
    db_bind_text(st, 1, j->name, -1);
    db_bind_int64(st, 2, at);
    db_bind_int64(st, 3, last);
    json_t *undone = json_array();
    int e = 0;
    while (!e && db_step(st) == DB_ROW) {
        int64_t aid = db_col_int64(st, 0);
        char action[32], target[256];
        snprintf(action, sizeof action, "%s", (const char *)db_col_text(st, 1));
        snprintf(target, sizeof target, "%s", (const char *)db_col_text(st, 2));
        json_t *before = db_col_text(st, 3)
                             ? json_loads((const char *)db_col_text(st, 3), 0, NULL) : NULL;
        json_t *after = db_col_text(st, 4)
                            ? json_loads((const char *)db_col_text(st, 4), 0, NULL) : NULL;
        e = undo_entry(j, db, aid, action, target, before, after);
        json_array_append_new(undone, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)aid,
                                                "action", action, "target", target));
        json_decref(before);
        json_decref(after);
    }
    db_finalize(st);
    if (e) {
        json_decref(undone);
        return e;
    }
    audit(db, j->name, "undo", "audit", NULL, json_pack("{s:O}", "entries", undone), NULL, 0);
    j->reply = json_pack("{s:s, s:o}", "type", "mod.ok", "undone", undone);
    return 0;
}

static int do_queue(mjob *j, db_t *db) {
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
        db_stmt *st = prep(db, ref ? "SELECT id FROM comments WHERE status = 'refused' AND "
                                          "id < ? ORDER BY id DESC LIMIT ?"
                                        : "SELECT id FROM comments WHERE status = 'pending' AND "
                                          "id > ? ORDER BY id LIMIT ?");
        if (ref && !after) after = INT64_MAX;
        db_bind_int64(st, 1, after);
        db_bind_int64(st, 2, limit);
        while (db_step(st) == DB_ROW) {
            json_t *it = moderation_item(db, db_col_int64(st, 0));
            if (it) json_array_append_new(items, it);
        }
        db_finalize(st);
    }
    if (strcmp(q, "held") && strcmp(q, "refused")) {
        db_stmt *st = prep(db, "SELECT r.comment_id FROM reports r JOIN comments c ON "
                                    "c.id = r.comment_id WHERE r.resolved = 0 AND c.status != "
                                    "'pending' GROUP BY r.comment_id ORDER BY COUNT(*) DESC, "
                                    "r.comment_id LIMIT ?");
        db_bind_int64(st, 1, limit);
        while (db_step(st) == DB_ROW) {
            json_t *it = moderation_item(db, db_col_int64(st, 0));
            if (it) json_array_append_new(items, it);
        }
        db_finalize(st);
    }
    j->reply = json_pack("{s:s, s:s, s:o, s:o}", "type", "mod.queue", "queue", q, "items", items,
                         "counts", moderation_counts(db));
    return 0;
}

static int do_search(mjob *j, db_t *db) {
    const char *author = arg_str(j, "author"), *article = arg_str(j, "article"),
               *text = arg_str(j, "text");
    int64_t before = arg_id(j, "before");
    if (!author && !article && !text) return PERR_BAD_REQUEST;
    db_stmt *st = prep(db, "SELECT id FROM comments WHERE (?1 IS NULL OR author_id = ?1 OR "
                                "author_name = ?1) AND (?2 IS NULL OR article = ?2) AND (?3 IS "
                                "NULL OR title LIKE '%' || ?3 || '%' OR body LIKE '%' || ?3 || "
                                "'%') AND id < ?4 ORDER BY id DESC LIMIT 50");
    if (author) db_bind_text(st, 1, author, -1);
    if (article) db_bind_text(st, 2, article, -1);
    if (text) db_bind_text(st, 3, text, -1);
    db_bind_int64(st, 4, before ? before : INT64_MAX);
    json_t *items = json_array();
    while (db_step(st) == DB_ROW) {
        json_t *it = moderation_item(db, db_col_int64(st, 0));
        if (it) json_array_append_new(items, it);
    }
    db_finalize(st);
    j->reply = json_pack("{s:s, s:o}", "type", "mod.search", "items", items);
    return 0;
}

static int do_audit(mjob *j, db_t *db) {
    const char *who = arg_str(j, "moderator"), *action = arg_str(j, "action");
    int64_t before = arg_id(j, "before");
    db_stmt *st = prep(db, "SELECT id, at, moderator, action, target, before, after, note, "
                                "undone FROM audit WHERE (?1 IS NULL OR moderator = ?1) AND (?2 IS "
                                "NULL OR action = ?2) AND id < ?3 ORDER BY id DESC LIMIT 100");
    if (who) db_bind_text(st, 1, who, -1);
    if (action) db_bind_text(st, 2, action, -1);
    db_bind_int64(st, 3, before ? before : INT64_MAX);
    json_t *entries = json_array();
    while (db_step(st) == DB_ROW) {
        char when[32];
        comment_time(db_col_int64(st, 1), when);
        json_t *e = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b}", "id",
                              (json_int_t)db_col_int64(st, 0), "at", when, "moderator",
                              db_col_text(st, 2), "action", db_col_text(st, 3),
                              "target", db_col_text(st, 4), "undone",
                              db_col_int(st, 8));
        for (int k = 5; k <= 6; k++) {
            const char *t = (const char *)db_col_text(st, k);
            json_object_set_new(e, k == 5 ? "before" : "after",
                                t ? json_loads(t, 0, NULL) : json_null());
        }
        const char *note = (const char *)db_col_text(st, 7);
        json_object_set_new(e, "note", note ? json_string(note) : json_null());
        json_array_append_new(entries, e);
    }
    db_finalize(st);
    j->reply = json_pack("{s:s, s:o}", "type", "mod.audit", "entries", entries);
    return 0;
}

/* mod.rules: per-rule quality (rule_quality.h). */
static int do_rules(mjob *j, db_t *db) {
    json_t *rules = rule_quality_json(db);
    if (!rules) return PERR_UNAVAILABLE;
    j->reply = json_pack("{s:s, s:o}", "type", "mod.rules", "rules", rules);
    return 0;
}

/* mod.webhooks (admins): the outbox's endpoints, backlog and failures. */
static int do_webhooks(mjob *j, db_t *db) {
    j->reply = outbox_console(db);
    return 0;
}

static int do_hello(mjob *j, db_t *db) {
    j->reply = json_pack("{s:s, s:{s:s, s:s}, s:o}", "type", "mod.welcome", "moderator", "name",
                         j->name, "role", j->role, "counts", moderation_counts(db));
    return 0;
}

static int run_mod(store_job *job, db_t *db) {
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
