/* Unit tests for the post path's repository (store_post.c), the names repository's
 * moderator reservation (store_names.c) and, on PostgreSQL, the article locks of a group
 * (store_tx.c): on a real SQLite file and on a real PostgreSQL cluster started by
 * scripts/pg-cluster.sh, the same assertions on both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store.h"
#include "store_accounts.h"
#include "store_bans.h"
#include "store_comments.h"
#include "store_moderation.h"
#include "store_names.h"
#include "store_post.h"
#include "store_tx.h"

static char dir[64], pgdir[64], conninfo[512];

static int sqlite_setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/parley-spost-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    store_set_postgres(NULL);
    *state = store_open_sync(dir);
    return *state ? 0 : -1;
}

/* One cluster for the PostgreSQL group; a fresh database per test. */
static int pg_group_setup(void **state) {
    (void)state;
    snprintf(pgdir, sizeof pgdir, "/tmp/parley-pgpost-XXXXXX");
    if (!mkdtemp(pgdir)) return -1;
    char line[256];
    snprintf(line, sizeof line, "bash scripts/pg-cluster.sh start %s", pgdir);
    FILE *p = popen(line, "r");
    if (!p) return -1;
    if (!fgets(conninfo, sizeof conninfo, p)) conninfo[0] = 0;
    if (pclose(p) || !conninfo[0]) {
        fprintf(stderr, "cannot start PostgreSQL in %s\n", pgdir);
        return -1;
    }
    conninfo[strcspn(conninfo, "\n")] = 0;
    return 0;
}

static int pg_group_teardown(void **state) {
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "bash scripts/pg-cluster.sh stop %s; rm -rf %s", pgdir, pgdir);
    return system(cmd);
}

static int pg_setup(void **state) {
    static int n;
    char sql[64], target[600];
    snprintf(dir, sizeof dir, "/tmp/parley-spost-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    store_set_postgres(conninfo);
    db_t *admin = store_open_sync(dir);
    if (!admin) return -1;
    snprintf(sql, sizeof sql, "CREATE DATABASE post%d", ++n);
    int rc = db_exec(admin, sql);
    db_close(admin);
    if (rc != DB_OK) return -1;
    snprintf(target, sizeof target, "%s dbname=post%d", conninfo, n);
    store_set_postgres(target);
    *state = store_open_sync(dir);
    return *state ? 0 : -1;
}

static int teardown(void **state) {
    if (*state) db_close(*state);
    store_set_postgres(NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static int64_t add(db_t *db, const char *article, const char *author) {
    store_comment_new c = {.article = article, .author_id = author, .author_name = "Ann",
                           .ip_hash = "ip1", .title = "T", .body = "b", .status = "published",
                           .created_at = 1000, .guest = true};
    return store_comments_insert(db, &c, NULL);
}

static void assert_same(const store_post_facts *a, const store_post_facts *b) {
    assert_int_equal(a->has_mode, b->has_mode);
    assert_string_equal(a->mode, b->mode);
    assert_int_equal(a->ban, b->ban);
    assert_int_equal(a->author_posts, b->author_posts);
    assert_int_equal(a->name_reserved, b->name_reserved);
    assert_int_equal(a->nonce_id, b->nonce_id);
}

/* The facts of one query, read alone and (the same, checked) in a batch between two
 * others. */
static store_post_facts facts(db_t *db, const char *article, const char *author,
                              const char *ip, const char *key, long cap) {
    store_post_query q = {.article = article, .author_id = author, .ip_hash = ip,
                          .name_key = key, .now = 5000, .count_cap = cap};
    store_post_facts f, many[3];
    assert_int_equal(store_post_facts_get(db, &q, &f), 0);
    store_post_query qs[3] = {q, q, q};
    qs[0].author_id = qs[2].author_id = "g:someone-else";
    assert_int_equal(store_post_facts_many(db, qs, 3, many), 0);
    assert_same(&many[1], &f);
    return f;
}

/* A batch answers each query as it would be answered alone, in order: nonces, keys
 * that need escaping, repeated authors; queries with different caps too. */
static void test_many(void **state) {
    db_t *db = *state;
    store_comment_new c = {.article = "a\"q\"", .author_id = "g:ann", .author_name = "Ann",
                           .ip_hash = "ip1", .title = "T", .body = "b", .status = "published",
                           .created_at = 1000, .guest = true, .nonce = "n-1"};
    int64_t id = store_comments_insert(db, &c, NULL);
    assert_true(id > 0);
    add(db, "a\"q\"", "g:ann");
    assert_int_equal(store_moderation_article_set_mode(db, "a\"q\"", "premoderated", 1), 0);
    store_names_put(db, "ada", "reader");
    store_ban ban = {.author = "g:carl", .ip_hash = "ip-bad", .moderator = "m", .created_at = 2};
    assert_true(store_bans_insert(db, &ban) > 0);
    store_post_query qs[6] = {
        {.article = "a\"q\"", .author_id = "g:ann", .nonce = "n-1", .now = 5000, .count_cap = 5},
        {.article = "a\"q\"", .author_id = "g:ann", .nonce = "n-2", .now = 5000, .count_cap = 5},
        {.article = "other", .author_id = "g:bob", .ip_hash = "ip-bad", .now = 5000,
         .count_cap = 5},
        {.article = "c\xc3\xa9", .author_id = "g:\\x", .name_key = "ada", .now = 5000,
         .count_cap = 5},
        {.article = "a\"q\"", .author_id = "g:ann", .now = 5000, .count_cap = 5},
        {.article = "a\"q\"", .author_id = "g:ann", .nonce = "n-1", .now = 5000, .count_cap = 1},
    };
    store_post_facts many[6], one;
    for (size_t n = 5; n <= 6; n++) { /* one cap, then two */
        assert_int_equal(store_post_facts_many(db, qs, n, many), 0);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(store_post_facts_get(db, &qs[i], &one), 0);
            assert_same(&many[i], &one);
        }
    }
    assert_int_equal(many[0].nonce_id, id);
    assert_int_equal(many[1].nonce_id, 0);
    assert_int_equal(many[0].author_posts, 2);
    assert_string_equal(many[0].mode, "premoderated");
    assert_int_equal(many[2].ban, STORE_BAN_BANNED);
    assert_false(many[2].has_mode);
    assert_true(many[3].name_reserved);
    assert_int_equal(many[4].nonce_id, 0); /* no nonce: none found */
    assert_int_equal(many[5].author_posts, 1);
}

/* The article's stored mode, the author's count up to the cap, and nothing else. */
static void test_mode_and_count(void **state) {
    db_t *db = *state;
    store_post_facts f = facts(db, "a1", "g:ann", "ip1", NULL, 3);
    assert_false(f.has_mode);
    assert_int_equal(f.ban, STORE_BAN_NONE);
    assert_int_equal(f.author_posts, 0);
    assert_false(f.name_reserved);
    for (int i = 0; i < 5; i++) assert_true(add(db, "a1", "g:ann") > 0);
    add(db, "a1", "g:bob");
    assert_int_equal(facts(db, "a1", "g:ann", "ip1", NULL, 3).author_posts, 3); /* capped */
    assert_int_equal(facts(db, "a1", "g:ann", "ip1", NULL, 10).author_posts, 5);
    assert_int_equal(facts(db, "a1", "g:bob", "ip1", NULL, 10).author_posts, 1);
    assert_int_equal(store_moderation_article_set_mode(db, "a1", "closed", 1), 0);
    f = facts(db, "a1", "g:ann", "ip1", NULL, 3);
    assert_true(f.has_mode);
    assert_string_equal(f.mode, "closed");
    assert_false(facts(db, "a2", "g:ann", "ip1", NULL, 3).has_mode);
}

/* Bans by author and by address, the stronger first, expired and lifted ones not. */
static void test_bans(void **state) {
    db_t *db = *state;
    store_ban shadow = {.author = "g:ann", .ip_hash = "ip-ann", .shadow = true,
                        .moderator = "m", .created_at = 1};
    assert_true(store_bans_insert(db, &shadow) > 0);
    assert_int_equal(facts(db, "a", "g:ann", NULL, NULL, 1).ban, STORE_BAN_SHADOW);
    assert_int_equal(facts(db, "a", "g:other", "ip-ann", NULL, 1).ban, STORE_BAN_SHADOW);
    assert_int_equal(facts(db, "a", "g:other", "", NULL, 1).ban, STORE_BAN_NONE);
    store_ban ban = {.author = "g:ann", .until = 6000, .moderator = "m", .created_at = 2};
    assert_true(store_bans_insert(db, &ban) > 0);
    assert_int_equal(facts(db, "a", "g:ann", NULL, NULL, 1).ban, STORE_BAN_BANNED);
    assert_int_equal(store_bans_state(db, "g:ann", NULL, 5000), STORE_BAN_BANNED);
    store_post_query later = {.article = "a", .author_id = "g:ann", .now = 7000, .count_cap = 1};
    store_post_facts f;
    assert_int_equal(store_post_facts_get(db, &later, &f), 0);
    assert_int_equal(f.ban, STORE_BAN_SHADOW); /* the ban ran out; the shadow ban stays */
    assert_int_equal(store_bans_state(db, "g:ann", NULL, 7000), STORE_BAN_SHADOW);
}

/* Lowercases ASCII: a stand-in for names_key's folding. */
static int fold(const char *name, char *out, size_t outlen) {
    size_t i = 0;
    for (; name[i] && i + 1 < outlen; i++)
        out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    out[i] = 0;
    return i ? 0 : -1;
}

/* Readers' names and moderators' (reserved from the moderators table) are taken;
 * releasing is by kind. */
static void test_reserved_names(void **state) {
    db_t *db = *state;
    store_names_put(db, "ada", "reader");
    assert_true(facts(db, "a", "g:x", NULL, "ada", 1).name_reserved);
    assert_false(facts(db, "a", "g:x", NULL, "mara", 1).name_reserved);
    assert_int_equal(store_accounts_moderator_add(db, "Mara", "moderator", "h", 1), 0);
    assert_false(facts(db, "a", "g:x", NULL, "mara", 1).name_reserved); /* not yet */
    assert_int_equal(store_names_reserve_moderators(db, fold), 1);
    assert_int_equal(store_names_reserve_moderators(db, fold), 1); /* harmless again */
    assert_true(facts(db, "a", "g:x", NULL, "mara", 1).name_reserved);
    assert_int_equal(store_names_release(db, "mara", "reader"), 0); /* not a reader's */
    assert_true(facts(db, "a", "g:x", NULL, "mara", 1).name_reserved);
    assert_int_equal(store_names_release(db, "mara", "moderator"), 0);
    assert_false(facts(db, "a", "g:x", NULL, "mara", 1).name_reserved);
}

/* PostgreSQL: article locks for keys that need JSON escaping, made once, locked
 * together; an empty list is no statement at all. */
static void test_lock_articles(void **state) {
    db_t *db = *state;
    const char *keys[] = {"a\"quoted\"", "b\\slash", "c\xc3\xa9t\xc3\xa9", "d\nline"};
    assert_int_equal(store_tx_begin_write(db), DB_OK);
    assert_int_equal(store_tx_lock_articles(db, keys, 4), DB_OK);
    assert_int_equal(store_tx_lock_articles(db, keys, 4), DB_OK); /* again: rows exist */
    assert_int_equal(store_tx_lock_articles(db, keys, 0), DB_OK);
    assert_int_equal(store_tx_commit(db), DB_OK);
    db_stmt *st;
    assert_int_equal(db_prepare(db, "SELECT article FROM article_locks ORDER BY article", &st),
                     DB_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(db_step(st), DB_ROW);
        assert_string_equal(db_col_text(st, 0), keys[i]);
    }
    assert_int_equal(db_step(st), DB_DONE);
    db_finalize(st);
}

int main(void) {
    const struct CMUnitTest on_sqlite[] = {
        cmocka_unit_test_setup_teardown(test_mode_and_count, sqlite_setup, teardown),
        cmocka_unit_test_setup_teardown(test_bans, sqlite_setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_names, sqlite_setup, teardown),
        cmocka_unit_test_setup_teardown(test_many, sqlite_setup, teardown),
    };
    const struct CMUnitTest on_postgres[] = {
        cmocka_unit_test_setup_teardown(test_mode_and_count, pg_setup, teardown),
        cmocka_unit_test_setup_teardown(test_bans, pg_setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_names, pg_setup, teardown),
        cmocka_unit_test_setup_teardown(test_many, pg_setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_articles, pg_setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("sqlite", on_sqlite, NULL, NULL);
    return failed + cmocka_run_group_tests_name("postgres", on_postgres, pg_group_setup,
                                                pg_group_teardown);
}
