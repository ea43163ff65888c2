/* moderation.c: moderator actions with audit and undo, bans, notes and article modes,
 * and the fan-out of decisions. Each mod.* request is one storage job that re-checks the
 * session, does its work in the group's transaction, and gathers its effects; the loop
 * sends them after the commit. Reading the queue is moderation_queue.c's; every
 * statement is a repository's (store_moderation.h, store_bans.h, store_audit.h). */
#include "moderation.h"
#include "alloc.h"
#include "text.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "featured.h"
#include "learned.h"
#include "log.h"
#include "rule_quality.h"
#include "notify.h"
#include "outbox.h"
#include "server.h"
#include "store.h"
#include "store_audit.h"
#include "store_bans.h"
#include "store_moderation.h"

#define BULK_MAX 200

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

/* Writes an audit entry (at 0: now), taking before and after (may be NULL). When the row
 * cannot be written the running job is marked to fail (audit_failed). */
static void audit(db_t *db, const char *who, const char *action, const char *target,
                  json_t *before, json_t *after, const char *note, int64_t at) {
    store_audit_entry e = {.at = at ? at : now_ms(), .moderator = who, .action = action,
                           .target = target, .before = before, .after = after, .note = note};
    if (store_audit_insert(db, &e) < 0) {
        log_err("moderation: audit entry for %s %s not written: %s; the action is undone",
                action, target, db_errmsg(db));
        audit_failed = true;
    }
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
    json_t *c = store_moderation_comment(db, id);
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

/* Current status of a comment into out (64): 0, PERR_NOT_FOUND or PERR_UNAVAILABLE. */
static int get_status(db_t *db, int64_t id, char out[64]) {
    int r = store_moderation_status(db, id, out);
    return r == 1 ? 0 : r == 0 ? PERR_NOT_FOUND : PERR_UNAVAILABLE;
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
    if (store_moderation_set_status(db, id, to, reason, j->name)) return PERR_UNAVAILABLE;
    learned_on_decision(db, id, action, reason); /* approve = ham; spam/abuse reasons */
    rule_quality_on_decision(db, id);            /* did it overturn a rule? */
    if (store_moderation_resolve_reports(db, id)) return PERR_UNAVAILABLE;
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

/* mod.bulk: one decision on many comments, each in a savepoint of its own so that one
 * comment that cannot take it fails alone; they share one audit time, so one undo takes
 * the whole action back. */
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
        int e = id > 0 ? 0 : PERR_BAD_REQUEST;
        /* an id listed twice is decided once: the repeat fails (no second audit entry,
         * webhook event or decision sent to the author) */
        for (size_t k = 0; !e && k < i; k++)
            if (json_is_integer(json_array_get(ids, k)) &&
                json_integer_value(json_array_get(ids, k)) == id)
                e = PERR_CONFLICT;
        if (!e && store_moderation_step_begin(db)) {
            e = PERR_UNAVAILABLE;
        } else if (!e) {
            e = decide(j, db, action, id, reason, at, "bulk");
            if (store_moderation_step_end(db, !e) && !e) e = PERR_UNAVAILABLE;
        }
        json_array_append(e ? failed : done, v);
    }
    free(j->message);
    j->message = NULL;
    j->reply = json_pack("{s:s, s:o, s:o}", "type", "mod.ok", "done", done, "failed", failed);
    return 0;
}

/* mod.ban / mod.shadowban: bans an author (for `duration` seconds, or for good; a full
 * ban optionally by their last address too), tells the outbox, audits it, and decides
 * the comment it was taken from when one is named. */
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
    char ip[72] = "";
    if (!shadow && json_is_true(json_object_get(j->args, "ip")) &&
        store_moderation_last_ip(db, author, ip, sizeof ip))
        return PERR_UNAVAILABLE;
    store_ban ban = {.author = author, .ip_hash = ip, .shadow = shadow, .until = until,
                     .reason = arg_str(j, "reason"), .moderator = j->name, .created_at = now};
    int64_t ban_id = store_bans_insert(db, &ban);
    if (ban_id < 0) return PERR_UNAVAILABLE;
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
        int theirs = store_moderation_comment_is_by(db, comment, author);
        if (theirs < 0) return PERR_UNAVAILABLE;
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

/* mod.unban: lifts every ban of the author; the audit entry keeps their ids for undo. */
static int do_unban(mjob *j, db_t *db) {
    const char *author = arg_str(j, "author");
    if (!author) return PERR_BAD_REQUEST;
    json_t *ids = store_bans_lift_author(db, author);
    if (!ids) return PERR_UNAVAILABLE;
    char target[80];
    snprintf(target, sizeof target, "author:%s", author);
    audit(db, j->name, "unban", target, NULL, json_pack("{s:o}", "ban_ids", ids), NULL, 0);
    return 0;
}

/* mod.note: a moderator's note on an author (named, or the author of `comment`). */
static int do_note(mjob *j, db_t *db) {
    const char *text = arg_str(j, "text");
    int64_t comment = arg_id(j, "comment");
    const char *author = arg_str(j, "author");
    char found[128] = "";
    if (!text || !*text || strlen(text) > 2000) return PERR_BAD_REQUEST;
    if (comment) {
        int r = store_moderation_comment_author(db, comment, found, sizeof found);
        if (r < 0) return PERR_UNAVAILABLE;
        if (!r || !*found) return PERR_NOT_FOUND;
        author = found;
    }
    if (!author) return PERR_BAD_REQUEST;
    if (store_moderation_note_add(db, author, comment, j->name, text, now_ms()))
        return PERR_UNAVAILABLE;
    char target[160];
    snprintf(target, sizeof target, "author:%s", author);
    audit(db, j->name, "note", target, NULL, json_pack("{s:s}", "text", text), NULL, 0);
    if (comment) effect_queue_changed(j->effects, db, comment, "noted", j->name);
    return 0;
}

/* mod.article (admins): sets an article's mode; the old one ("default" when the article
 * had none) is audited so an undo can put it back. */
static int do_article(mjob *j, db_t *db) {
    const char *article = arg_str(j, "article"), *mode = arg_str(j, "mode");
    if (!article || !text_article_valid(article) || !mode ||
        (strcmp(mode, "open") && strcmp(mode, "premoderated") && strcmp(mode, "closed")))
        return PERR_BAD_REQUEST;
    char old[32];
    int r = store_moderation_article_mode(db, article, old, sizeof old);
    if (r < 0) return PERR_UNAVAILABLE;
    if (!r) snprintf(old, sizeof old, "default");
    if (store_moderation_article_set_mode(db, article, mode, now_ms())) return PERR_UNAVAILABLE;
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
        j->message = xstrdup(on ? "Already featured, or the article has the most it may feature."
                               : "That comment is not featured.");
    if (e) return e;
    audit(db, j->name, on ? "feature" : "unfeature", target, before, after, NULL, 0);
    free(target);
    return 0;
}

/* ---- Undo ---- */

/* Undoes one audit entry (aid) and marks it undone; returns 0 or an error. */
static int undo_entry(mjob *j, db_t *db, int64_t aid, const char *action, const char *target,
                      json_t *before, json_t *after) {
    if (!strncmp(target, "comment:", 8)) {
        int64_t id = strtoll(target + 8, NULL, 10);
        const char *to = json_string_value(json_object_get(before, "status"));
        const char *left = json_string_value(json_object_get(after, "status"));
        char from[64];
        if (!to || get_status(db, id, from)) return PERR_NOT_FOUND;
        /* Only a decision still in force is taken back: one that another moderator, the
         * author (an edit held, a delete, an erasure) or readers' reports changed since
         * stays as it is now. */
        if (left && strcmp(from, left)) {
            free(j->message);
            char msg[160];
            snprintf(msg, sizeof msg, "Comment %lld has changed since (it is %s now); nothing "
                     "was undone.", (long long)id, from);
            j->message = xstrdup(msg);
            return PERR_CONFLICT;
        }
        if (store_moderation_set_status(db, id, to, NULL, j->name)) return PERR_UNAVAILABLE;
        learned_on_undo(db, id, aid); /* the lesson of the decision still in force */
        rule_quality_on_decision(db, id);
        transition(j, db, id, from, to);
        if (outbox_emit_decision(db, id, "undo", from, to, j->name)) return PERR_UNAVAILABLE;
    } else if (!strcmp(action, "ban") || !strcmp(action, "shadowban")) {
        if (store_bans_set_lifted(db, json_integer_value(json_object_get(after, "ban_id")), true))
            return PERR_UNAVAILABLE;
    } else if (!strcmp(action, "unban")) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(after, "ban_ids"), i, v) {
            if (store_bans_set_lifted(db, json_integer_value(v), false)) return PERR_UNAVAILABLE;
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
        if (store_moderation_article_restore(db, target + 8,
                                             json_string_value(json_object_get(before, "mode"))))
            return PERR_UNAVAILABLE;
    } else {
        return PERR_CONFLICT;
    }
    return store_audit_mark_undone(db, aid) ? PERR_UNAVAILABLE : 0;
}

/* mod.undo: takes back the moderator's last undoable action. A bulk decision, or a ban
 * with its comment's decision, is undone whole: every entry it wrote shares its time.
 * Bans first, so the restored items show their author free. */
static int do_undo(mjob *j, db_t *db) {
    store_audit_last last;
    int r = store_audit_last_undoable(db, j->name, &last);
    if (r < 0) return PERR_UNAVAILABLE;
    if (!r) {
        j->message = xstrdup("Nothing to undo.");
        return PERR_NOT_FOUND;
    }
    bool whole = !strcmp(last.note, "bulk") || !strcmp(last.note, "ban");
    json_t *entries = store_audit_undo_entries(db, j->name, whole, last.at, last.id);
    if (!entries) return PERR_UNAVAILABLE;
    json_t *undone = json_array();
    int e = 0;
    size_t i;
    json_t *en;
    json_array_foreach(entries, i, en) {
        int64_t aid = json_integer_value(json_object_get(en, "id"));
        const char *action = json_string_value(json_object_get(en, "action"));
        const char *target = json_string_value(json_object_get(en, "target"));
        if (!action || !target) continue;
        e = undo_entry(j, db, aid, action, target, json_object_get(en, "before"),
                       json_object_get(en, "after"));
        json_array_append_new(undone, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)aid,
                                                "action", action, "target", target));
        if (e) break;
    }
    json_decref(entries);
    if (e) {
        json_decref(undone);
        return e;
    }
    audit(db, j->name, "undo", "audit", NULL, json_pack("{s:O}", "entries", undone), NULL, 0);
    j->reply = json_pack("{s:s, s:o}", "type", "mod.ok", "undone", undone);
    return 0;
}

/* ---- Reading (moderation_queue.c does the work) ---- */

static int do_queue(mjob *j, db_t *db) {
    return moderation_queue_page(db, arg_str(j, "queue"),
                                 json_integer_value(json_object_get(j->args, "limit")),
                                 arg_id(j, "after"), &j->reply);
}

static int do_search(mjob *j, db_t *db) {
    return moderation_search_page(db, arg_str(j, "author"), arg_str(j, "article"),
                                  arg_str(j, "text"), arg_id(j, "before"), &j->reply);
}

static int do_audit(mjob *j, db_t *db) {
    return moderation_audit_page(db, arg_str(j, "moderator"), arg_str(j, "action"),
                                 arg_id(j, "before"), &j->reply);
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
            conn_person *p = conn_person_of(c);
            free(p->mod_name);
            free(p->mod_role);
            p->mod_name = xstrdup(j->name);
            p->mod_role = xstrdup(j->role);
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
    if (!c->person || !c->person->session || (!hello && !c->moderator)) {
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
        auth_token_hash(c->person->session, j->token_hash);
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
