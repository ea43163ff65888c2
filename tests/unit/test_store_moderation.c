/* Unit tests for the moderation repositories (store_bans.c, store_audit.c,
 * store_moderation.c) on a real, migrated SQLite database in a temporary directory:
 * bans written and looked up, audit rows written (and refused) and found again for an
 * undo, the queue's counts, pages and search, and a bulk step rolled back alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store.h"
#include "store_audit.h"
#include "store_bans.h"
#include "store_moderation.h"

static char dir[64];

/* A fresh migrated database per test, in its own temporary directory. */
static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/parley-storemod-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    db_t *db = store_open_sync(dir);
    *state = db;
    return db ? 0 : -1;
}

static int teardown(void **state) {
    db_close(*state);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* Adds a comment; returns its id. */
static int64_t add_comment(db_t *db, const char *author, const char *status, const char *title,
                           const char *ip) {
    db_stmt *st;
    assert_int_equal(db_prepare(db, "INSERT INTO comments (article, author_id, author_name, "
                                    "title, body, status, ip_hash, created_at) VALUES "
                                    "('a1', ?, 'Name', ?, 'body', ?, ?, 1000) RETURNING id",
                                &st),
                     DB_OK);
    db_bind_text(st, 1, author, -1);
    db_bind_text(st, 2, title, -1);
    db_bind_text(st, 3, status, -1);
    db_bind_text(st, 4, ip, -1);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t id = db_col_int64(st, 0);
    db_finalize(st);
    return id;
}

static void add_report(db_t *db, int64_t comment, const char *reporter) {
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO reports (comment_id, reporter, reason, created_at) "
                              "VALUES (%lld, '%s', 'spam', 2000)", (long long)comment, reporter);
    assert_int_equal(db_exec(db, sql), DB_OK);
}

static void test_bans(void **state) {
    db_t *db = *state;
    const int64_t now = 1700000000000;
    assert_int_equal(store_bans_state(db, "g:ann", "ip-ann", now), STORE_BAN_NONE);

    store_ban b = {.author = "g:ann", .ip_hash = "ip-ann", .reason = "spam", .moderator = "root",
                   .created_at = now};
    int64_t ban1 = store_bans_insert(db, &b);
    assert_true(ban1 > 0);
    assert_int_equal(store_bans_state(db, "g:ann", NULL, now), STORE_BAN_BANNED);
    /* another name from the same address is caught by it; an empty address matches none */
    assert_int_equal(store_bans_state(db, "g:other", "ip-ann", now), STORE_BAN_BANNED);
    assert_int_equal(store_bans_state(db, "g:other", "", now), STORE_BAN_NONE);
    assert_int_equal(store_bans_state(db, "g:other", NULL, now), STORE_BAN_NONE);

    /* a shadow ban with an end, and no address: a full ban on the same author wins */
    store_ban s = {.author = "g:bob", .shadow = true, .until = now + 60000, .moderator = "root",
                   .created_at = now};
    int64_t ban2 = store_bans_insert(db, &s);
    assert_true(ban2 > ban1);
    assert_int_equal(store_bans_state(db, "g:bob", "", now), STORE_BAN_SHADOW);
    assert_int_equal(store_bans_state(db, "g:bob", "", now + 60000), STORE_BAN_NONE); /* over */
    s.shadow = false;
    int64_t ban3 = store_bans_insert(db, &s);
    assert_true(ban3 > ban2);
    assert_int_equal(store_bans_state(db, "g:bob", "", now), STORE_BAN_BANNED);
    bool banned, shadow;
    assert_int_equal(store_bans_author_kinds(db, "g:bob", now, &banned, &shadow), 0);
    assert_true(banned);
    assert_true(shadow);
    assert_int_equal(store_bans_author_kinds(db, "g:bob", now + 60000, &banned, &shadow), 0);
    assert_false(banned);
    assert_false(shadow);

    /* unban lifts both of bob's bans and says which; the undo puts one back */
    json_t *ids = store_bans_lift_author(db, "g:bob");
    assert_non_null(ids);
    assert_int_equal(json_array_size(ids), 2);
    int64_t a = json_integer_value(json_array_get(ids, 0)),
            c = json_integer_value(json_array_get(ids, 1));
    assert_true((a == ban2 && c == ban3) || (a == ban3 && c == ban2));
    json_decref(ids);
    assert_int_equal(store_bans_state(db, "g:bob", "", now), STORE_BAN_NONE);
    ids = store_bans_lift_author(db, "g:bob"); /* nothing left to lift */
    assert_int_equal(json_array_size(ids), 0);
    json_decref(ids);
    assert_int_equal(store_bans_set_lifted(db, ban2, false), 0);
    assert_int_equal(store_bans_state(db, "g:bob", "", now), STORE_BAN_SHADOW);
    assert_int_equal(store_bans_set_lifted(db, ban1, true), 0);
    assert_int_equal(store_bans_state(db, "g:ann", "ip-ann", now), STORE_BAN_NONE);
}

static void test_audit(void **state) {
    db_t *db = *state;
    store_audit_last last;
    assert_int_equal(store_audit_last_undoable(db, "root", &last), 0);

    json_t *from = json_pack("{s:s}", "status", "pending"),
           *to = json_pack("{s:s}", "status", "published"), *ban = json_pack("{s:I}", "ban_id", 7);
    /* one bulk action at t=5000 (two decisions and a ban), then a note at t=6000 */
    store_audit_entry e = {.at = 5000, .moderator = "root", .action = "approve",
                           .target = "comment:1", .before = from, .after = to, .note = "bulk"};
    int64_t a1 = store_audit_insert(db, &e);
    e.target = "comment:2";
    int64_t a2 = store_audit_insert(db, &e);
    store_audit_entry eb = {.at = 5000, .moderator = "root", .action = "ban",
                            .target = "author:g:x", .after = ban, .note = "bulk"};
    int64_t a3 = store_audit_insert(db, &eb);
    store_audit_entry en = {.at = 6000, .moderator = "root", .action = "note",
                            .target = "author:g:x"};
    int64_t a4 = store_audit_insert(db, &en);
    store_audit_entry eo = {.at = 7000, .moderator = "other", .action = "reject",
                            .target = "comment:3", .before = from, .after = to};
    int64_t a5 = store_audit_insert(db, &eo);
    assert_true(a1 > 0 && a2 > a1 && a3 > a2 && a4 > a3 && a5 > a4);

    /* a note cannot be undone: root's last undoable entry is the ban, noted "bulk" */
    assert_int_equal(store_audit_last_undoable(db, "root", &last), 1);
    assert_int_equal(last.id, a3);
    assert_int_equal(last.at, 5000);
    assert_string_equal(last.note, "bulk");

    /* the whole action: the ban first, then the decisions newest first, with their states */
    json_t *u = store_audit_undo_entries(db, "root", true, last.at, last.id);
    assert_non_null(u);
    assert_int_equal(json_array_size(u), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(u, 0), "id")), a3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(u, 0), "action")), "ban");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(u, 0), "after"), "ban_id")), 7);
    assert_true(json_is_null(json_object_get(json_array_get(u, 0), "before")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(u, 1), "id")), a2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(u, 2), "id")), a1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(u, 2), "before"), "status")),
                        "pending");
    json_decref(u);
    /* one entry alone */
    u = store_audit_undo_entries(db, "other", false, 0, a5);
    assert_int_equal(json_array_size(u), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(u, 0), "target")),
                        "comment:3");
    json_decref(u);

    /* undone entries are not offered again */
    assert_int_equal(store_audit_mark_undone(db, a3), 0);
    assert_int_equal(store_audit_mark_undone(db, a2), 0);
    assert_int_equal(store_audit_last_undoable(db, "root", &last), 1);
    assert_int_equal(last.id, a1);
    u = store_audit_undo_entries(db, "root", true, 5000, a1);
    assert_int_equal(json_array_size(u), 1);
    json_decref(u);

    /* the admins' page: newest first, filtered, paged by id, undone shown */
    json_t *p = store_audit_page(db, NULL, NULL, 0, 100);
    assert_int_equal(json_array_size(p), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 0), "id")), a5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "at")),
                        "1970-01-01T00:00:07.000Z");
    json_decref(p);
    p = store_audit_page(db, "root", "approve", 0, 100);
    assert_int_equal(json_array_size(p), 2);
    assert_true(json_is_true(json_object_get(json_array_get(p, 0), "undone")));
    assert_true(json_is_false(json_object_get(json_array_get(p, 1), "undone")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(p, 1), "note")), "bulk");
    json_decref(p);
    p = store_audit_page(db, NULL, NULL, a3, 2);
    assert_int_equal(json_array_size(p), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 0), "id")), a2);
    json_decref(p);

    /* a row the database refuses is reported, so the action it records can be undone */
    assert_int_equal(db_exec(db, "CREATE TRIGGER audit_refused BEFORE INSERT ON audit BEGIN "
                                 "SELECT RAISE(ABORT, 'audit refused'); END;"),
                     DB_OK);
    assert_int_equal(store_audit_insert(db, &en), -1);
    json_decref(from);
    json_decref(to);
    json_decref(ban);
}

static void test_queue(void **state) {
    db_t *db = *state;
    store_moderation_counts n;
    assert_int_equal(store_moderation_counts_get(db, &n), 0);
    assert_true(n.held == 0 && n.refused == 0 && n.reported == 0);

    int64_t p1 = add_comment(db, "g:ann", "pending", "Hello World", "abcdef0123456789");
    int64_t p2 = add_comment(db, "g:ann", "pending", "second", "abcdef0123456789");
    int64_t r1 = add_comment(db, "g:bob", "refused", "spam", "");
    int64_t r2 = add_comment(db, "g:bob", "refused", "more spam", "");
    int64_t pub = add_comment(db, "g:cy", "published", "fine", "");
    int64_t pub2 = add_comment(db, "g:cy", "published", "also fine", "");
    add_report(db, pub, "r1");
    add_report(db, pub2, "r1");
    add_report(db, pub2, "r2");
    add_report(db, p1, "r1"); /* a held comment is in the held queue, not the reported */
    assert_int_equal(store_moderation_counts_get(db, &n), 0);
    assert_int_equal(n.held, 2);
    assert_int_equal(n.refused, 2);
    assert_int_equal(n.reported, 3);

    int64_t ids[10];
    assert_int_equal(store_moderation_queue_ids(db, STORE_MOD_HELD, 0, ids, 10), 2);
    assert_int_equal(ids[0], p1); /* oldest first */
    assert_int_equal(ids[1], p2);
    assert_int_equal(store_moderation_queue_ids(db, STORE_MOD_HELD, p1, ids, 10), 1);
    assert_int_equal(ids[0], p2);
    assert_int_equal(store_moderation_queue_ids(db, STORE_MOD_HELD, 0, ids, 1), 1);
    assert_int_equal(store_moderation_queue_ids(db, STORE_MOD_REFUSED, 0, ids, 10), 2);
    assert_int_equal(ids[0], r2); /* newest first */
    assert_int_equal(store_moderation_queue_ids(db, STORE_MOD_REFUSED, r2, ids, 10), 1);
    assert_int_equal(ids[0], r1);
    assert_int_equal(store_moderation_queue_ids(db, STORE_MOD_REPORTED, 0, ids, 10), 2);
    assert_int_equal(ids[0], pub2); /* most reported first */
    assert_int_equal(ids[1], pub);

    /* search folds ASCII case, as SQLite's LIKE did alone */
    assert_int_equal(store_moderation_search_ids(db, NULL, NULL, "hello WORLD", 0, ids, 10), 1);
    assert_int_equal(ids[0], p1);
    assert_int_equal(store_moderation_search_ids(db, "g:bob", NULL, NULL, 0, ids, 10), 2);
    assert_int_equal(store_moderation_search_ids(db, "Name", "a1", "fine", 0, ids, 10), 2);
    assert_int_equal(store_moderation_search_ids(db, "Name", "a1", "fine", pub2, ids, 10), 1);
    assert_int_equal(store_moderation_search_ids(db, NULL, "nope", NULL, 0, ids, 10), 0);

    /* the row an item is built from, with the real status */
    store_moderation_row row;
    assert_int_equal(store_moderation_row_get(db, p1, &row), 1);
    assert_string_equal(row.status, "pending");
    assert_string_equal(row.ip_hash, "abcdef0123456789");
    assert_null(row.decision);
    assert_string_equal(json_string_value(json_object_get(row.comment, "title")), "Hello World");
    store_moderation_row_clear(&row);
    assert_int_equal(store_moderation_row_get(db, 9999, &row), 0);
    store_moderation_status_count sc[8];
    int k = store_moderation_author_statuses(db, "g:bob", sc, 8);
    assert_int_equal(k, 1);
    assert_string_equal(sc[0].status, "refused");
    assert_int_equal(sc[0].count, 2);
    assert_int_equal(sc[0].first_at, 1000);
    json_t *reps = store_moderation_open_reports(db, pub2);
    assert_int_equal(json_array_size(reps), 2);
    json_decref(reps);

    /* a decision: status set, reports closed, counts follow */
    char st[64];
    assert_int_equal(store_moderation_set_status(db, pub2, "removed", "off topic", "root"), 0);
    assert_int_equal(store_moderation_resolve_reports(db, pub2), 0);
    assert_int_equal(store_moderation_status(db, pub2, st), 1);
    assert_string_equal(st, "removed");
    assert_int_equal(store_moderation_status(db, 9999, st), 0);
    assert_int_equal(store_moderation_counts_get(db, &n), 0);
    assert_int_equal(n.reported, 2);
    json_t *c = store_moderation_comment(db, pub2);
    assert_string_equal(json_string_value(json_object_get(c, "reason")), "off topic");
    json_decref(c);

    char who[128], ip[72];
    assert_int_equal(store_moderation_comment_author(db, r1, who, sizeof who), 1);
    assert_string_equal(who, "g:bob");
    assert_int_equal(store_moderation_comment_is_by(db, r1, "g:bob"), 1);
    assert_int_equal(store_moderation_comment_is_by(db, r1, "g:ann"), 0);
    assert_int_equal(store_moderation_last_ip(db, "g:ann", ip, sizeof ip), 0);
    assert_string_equal(ip, "abcdef0123456789");
    assert_int_equal(store_moderation_last_ip(db, "g:nobody", ip, sizeof ip), 0);
    assert_string_equal(ip, "");
}

static void test_notes_articles_and_steps(void **state) {
    db_t *db = *state;
    assert_int_equal(store_moderation_note_add(db, "g:ann", 0, "root", "first", 1000), 0);
    assert_int_equal(store_moderation_note_add(db, "g:ann", 5, "mod", "second", 2000), 0);
    json_t *notes = store_moderation_notes(db, "g:ann", 20);
    assert_int_equal(json_array_size(notes), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(notes, 0), "text")),
                        "second");
    assert_string_equal(json_string_value(json_object_get(json_array_get(notes, 0), "by")), "mod");
    json_decref(notes);
    notes = store_moderation_notes(db, "g:ann", 1);
    assert_int_equal(json_array_size(notes), 1);
    json_decref(notes);

    char mode[32];
    assert_int_equal(store_moderation_article_mode(db, "a1", mode, sizeof mode), 0);
    assert_int_equal(store_moderation_article_set_mode(db, "a1", "closed", 1000), 0);
    assert_int_equal(store_moderation_article_set_mode(db, "a1", "premoderated", 2000), 0);
    assert_int_equal(store_moderation_article_mode(db, "a1", mode, sizeof mode), 1);
    assert_string_equal(mode, "premoderated");
    assert_int_equal(store_moderation_article_restore(db, "a1", "closed"), 0);
    assert_int_equal(store_moderation_article_mode(db, "a1", mode, sizeof mode), 1);
    assert_string_equal(mode, "closed");
    assert_int_equal(store_moderation_article_restore(db, "a1", "default"), 0);
    assert_int_equal(store_moderation_article_mode(db, "a1", mode, sizeof mode), 0);

    /* a bulk step rolled back takes its changes alone; a kept one stays */
    assert_int_equal(db_exec(db, "BEGIN"), DB_OK);
    int64_t id = add_comment(db, "g:ann", "pending", "t", "");
    assert_int_equal(store_moderation_step_begin(db), 0);
    assert_int_equal(store_moderation_set_status(db, id, "published", NULL, "root"), 0);
    assert_int_equal(store_moderation_step_end(db, false), 0);
    char st[64];
    assert_int_equal(store_moderation_status(db, id, st), 1);
    assert_string_equal(st, "pending");
    assert_int_equal(store_moderation_step_begin(db), 0);
    assert_int_equal(store_moderation_set_status(db, id, "rejected", "no", "root"), 0);
    assert_int_equal(store_moderation_step_end(db, true), 0);
    assert_int_equal(db_exec(db, "COMMIT"), DB_OK);
    assert_int_equal(store_moderation_status(db, id, st), 1);
    assert_string_equal(st, "rejected");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notes_articles_and_steps, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_moderation", tests, NULL, NULL);
}
