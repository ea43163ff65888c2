/* moderation_queue.c: reading the moderation queue (moderation_queue.h). Every query is
 * a repository's (store_moderation.h, store_bans.h, store_audit.h); this file shapes
 * what they return into the wire's objects. */
#include "moderation_queue.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "errors.h"
#include "events.h"
#include "featured.h"
#include "store_audit.h"
#include "store_comments.h"
#include "store_moderation.h"

#define PAGE_MAX 100
#define PAGE_DEFAULT 50
#define SEARCH_MAX 50
#define AUDIT_PAGE 100
#define NOTES_SHOWN 20

json_t *moderation_counts(db_t *db) {
    store_moderation_counts n;
    store_moderation_counts_get(db, &n); /* zeros on error, logged */
    return json_pack("{s:I, s:I, s:I}", "held", (json_int_t)n.held, "refused",
                     (json_int_t)n.refused, "reported", (json_int_t)n.reported);
}

/* The AUTHOR record of an item: their comments by status (a refused post counts as
 * rejected, a shadow-banned one as published, a hidden one as pending), when first
 * seen, the bans on them and the newest notes. New reference. */
static json_t *author_record(db_t *db, const char *author, const char *name, int guest) {
    json_t *a = json_pack("{s:s, s:s, s:b, s:i, s:i, s:i, s:i}", "id", author, "name", name,
                          "guest", guest, "published", 0, "rejected", 0, "pending", 0,
                          "removed", 0);
    store_moderation_status_count rows[32];
    int n = store_moderation_author_statuses(db, author, rows, 32);
    int64_t first = 0;
    for (int i = 0; i < n; i++) {
        const char *s = rows[i].status;
        const char *key = !strcmp(s, "refused")  ? "rejected"
                          : !strcmp(s, "shadow") ? "published"
                          : !strcmp(s, "hidden") ? "pending"
                                                 : s;
        json_t *cur = json_object_get(a, key);
        if (cur)
            json_object_set_new(a, key, json_integer(json_integer_value(cur) + rows[i].count));
        if (!first || rows[i].first_at < first) first = rows[i].first_at;
    }
    char when[32];
    comment_time(first, when);
    json_object_set_new(a, "first_seen", json_string(when));
    bool banned, shadow;
    store_bans_author_kinds(db, author, now_ms(), &banned, &shadow);
    json_object_set_new(a, "banned", json_boolean(banned));
    json_object_set_new(a, "shadowbanned", json_boolean(shadow));
    json_object_set_new(a, "notes", store_moderation_notes(db, author, NOTES_SHOWN));
    return a;
}

json_t *moderation_item(db_t *db, int64_t id) {
    store_moderation_row row;
    if (store_moderation_row_get(db, id, &row) != 1) return NULL;
    json_t *c = row.comment;
    json_object_set_new(c, "status", json_string(row.status));
    json_object_set_new(c, "score", json_real(row.score));
    json_t *rules = json_object_get(row.decision, "rules"),
           *decision = json_object_get(row.decision, "decision");
    json_object_set_new(c, "rules", rules ? json_incref(rules) : json_array());
    json_object_set_new(c, "decision", decision ? json_incref(decision) : json_null());
    char ip[9]; /* the first 8 hex digits are enough to match posts by address */
    snprintf(ip, sizeof ip, "%.8s", row.ip_hash);
    json_object_set_new(c, "ip", json_string(ip));
    json_t *who = json_object_get(c, "author");
    json_t *author = author_record(db, json_string_value(json_object_get(who, "id")),
                                   json_string_value(json_object_get(who, "name")),
                                   json_is_true(json_object_get(who, "guest")));
    bool held = !strcmp(row.status, "pending"), refused = !strcmp(row.status, "refused");
    json_t *reports = store_moderation_open_reports(db, id);
    size_t nrep = json_array_size(reports);
    json_t *item = json_pack("{s:s, s:O, s:o, s:o, s:I}", "queue",
                             held ? "held" : refused ? "refused" : nrep ? "reported" : "none",
                             "comment", c, "author", author, "reports", reports, "report_count",
                             (json_int_t)nrep);
    featured_annotate(db, item, c);
    store_moderation_row_clear(&row);
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

/* Appends the items of n comment ids to items (a comment gone since is skipped). */
static void append_items(db_t *db, json_t *items, const int64_t *ids, int n) {
    for (int i = 0; i < n; i++) {
        json_t *it = moderation_item(db, ids[i]);
        if (it) json_array_append_new(items, it);
    }
}

int moderation_queue_page(db_t *db, const char *q, int64_t limit, int64_t after,
                          json_t **reply) {
    if (!q) q = "all";
    if (strcmp(q, "held") && strcmp(q, "reported") && strcmp(q, "refused") && strcmp(q, "all"))
        return PERR_BAD_REQUEST;
    if (limit <= 0 || limit > PAGE_MAX) limit = PAGE_DEFAULT;
    int64_t ids[PAGE_MAX];
    json_t *items = json_array();
    if (strcmp(q, "reported")) {
        /* held: oldest first; refused (its own queue, not in "all"): newest first */
        int n = store_moderation_queue_ids(
            db, !strcmp(q, "refused") ? STORE_MOD_REFUSED : STORE_MOD_HELD, after, ids, (int)limit);
        if (n < 0) goto fail;
        append_items(db, items, ids, n);
    }
    if (strcmp(q, "held") && strcmp(q, "refused")) {
        int n = store_moderation_queue_ids(db, STORE_MOD_REPORTED, 0, ids, (int)limit);
        if (n < 0) goto fail;
        append_items(db, items, ids, n);
    }
    *reply = json_pack("{s:s, s:s, s:o, s:o}", "type", "mod.queue", "queue", q, "items", items,
                       "counts", moderation_counts(db));
    return 0;
fail:
    json_decref(items);
    return PERR_UNAVAILABLE;
}

int moderation_search_page(db_t *db, const char *author, const char *article,
                           const char *text, int64_t before, json_t **reply) {
    if (!author && !article && !text) return PERR_BAD_REQUEST;
    int64_t ids[SEARCH_MAX];
    int n = store_moderation_search_ids(db, author, article, text, before, ids, SEARCH_MAX);
    if (n < 0) return PERR_UNAVAILABLE;
    json_t *items = json_array();
    append_items(db, items, ids, n);
    *reply = json_pack("{s:s, s:o}", "type", "mod.search", "items", items);
    return 0;
}

int moderation_audit_page(db_t *db, const char *moderator, const char *action,
                          int64_t before, json_t **reply) {
    json_t *entries = store_audit_page(db, moderator, action, before, AUDIT_PAGE);
    if (!entries) return PERR_UNAVAILABLE;
    *reply = json_pack("{s:s, s:o}", "type", "mod.audit", "entries", entries);
    return 0;
}
