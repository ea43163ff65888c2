/* Unit tests for the comments repository (store_comments.c) on a real SQLite file:
 * the nonce's uniqueness per author (the conflict path that only racing processes
 * reach through the service), pages, counts, meta and reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store.h"
#include "store_comments.h"

static char dir[64];
static db_t *db;

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/parley-scomments-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    db = store_open_sync(dir);
    return db ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static int64_t insert(const char *article, const char *author, const char *status,
                      const char *nonce, const char *body) {
    store_comment_new c = {.article = article, .author_id = author, .author_name = "Ann",
                           .ip_hash = "ip1", .title = "T", .body = body, .status = status,
                           .decision = "{}", .nonce = nonce, .created_at = 1000, .guest = true};
    return store_comments_insert(db, &c, NULL);
}

static void test_nonce_unique_per_author(void **state) {
    (void)state;
    int64_t a = insert("art", "g:ann", "published", "n1", "first");
    assert_true(a > 0);
    /* the same author and nonce: nothing stored, 0 */
    assert_int_equal(insert("art", "g:ann", "published", "n1", "second"), 0);
    /* another author may use it */
    int64_t b = insert("art", "g:bob", "published", "n1", "bob's");
    assert_true(b > a);
    /* no nonce: stored every time */
    int64_t c1 = insert("art", "g:ann", "published", NULL, "plain");
    int64_t c2 = insert("art", "g:ann", "published", NULL, "plain");
    assert_true(c1 > 0 && c2 > c1);
    int64_t id = 0;
    char status[16], *decision = NULL;
    assert_int_equal(store_comments_by_nonce(db, "g:ann", "n1", &id, status, &decision), 1);
    assert_int_equal(id, a);
    assert_string_equal(status, "published");
    assert_string_equal(decision, "{}");
    free(decision);
    assert_int_equal(store_comments_by_nonce(db, "g:ann", "n2", &id, status, &decision), 0);
    assert_null(decision);
    json_t *cm = store_comments_load(db, a);
    assert_non_null(cm);
    assert_string_equal(json_string_value(json_object_get(cm, "body")), "first");
    json_decref(cm);
    assert_int_equal(store_comments_published_count(db, "art"), 4);
}

static void test_pages_and_meta(void **state) {
    (void)state;
    int64_t ids[5];
    for (int i = 0; i < 5; i++) ids[i] = insert("pages", "g:p", i == 2 ? "pending" : "published",
                                              NULL, "body");
    json_t *page = json_array();
    bool more = false;
    /* another reader does not see the held one */
    assert_int_equal(store_comments_page_after(db, "pages", "g:other", ids[0], 2, 1 << 20, page,
                                               &more), 0);
    assert_int_equal(json_array_size(page), 2);
    assert_true(more);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(page, 1), "id")), ids[3]);
    json_array_clear(page);
    /* its author does */
    assert_int_equal(store_comments_page_after(db, "pages", "g:p", ids[0], 10, 1 << 20, page,
                                               &more), 0);
    assert_int_equal(json_array_size(page), 4);
    assert_false(more);
    json_array_clear(page);
    assert_int_equal(store_comments_page_before(db, "pages", "g:other", ids[4], 10, page), 0);
    assert_int_equal(json_array_size(page), 3); /* newest first, the held one left out */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(page, 0), "id")), ids[3]);
    json_decref(page);
    assert_int_equal(store_comments_visible_upto(db, "pages", "g:other", ids[0]), 1);
    assert_int_equal(store_comments_visible_upto(db, "pages", "g:other", ids[0] - 1), 0);
    assert_int_equal(store_comments_pending_count(db, false, "g:p", 0, 10), 1);
    assert_int_equal(store_comments_pending_count(db, true, "ip1", 0, 10), 1);
    assert_int_equal(store_comments_pending_count(db, true, "ip1", 5000, 10), 0);
    assert_true(store_comments_author_count(db, "g:p", 3) == 3); /* bounded by the cap */
    store_comment_meta m;
    assert_int_equal(store_comments_meta(db, ids[1], &m), 1);
    assert_string_equal(m.author_id, "g:p");
    assert_string_equal(m.article, "pages");
    assert_int_equal(m.created_at, 1000);
    store_comment_meta_free(&m);
    assert_int_equal(store_comments_meta(db, 999999, &m), 0);
    assert_int_equal(store_comments_remove_by_author(db, ids[1]), 0);
    json_t *cm = store_comments_load(db, ids[1]);
    assert_string_equal(json_string_value(json_object_get(cm, "status")), "removed");
    assert_string_equal(json_string_value(json_object_get(cm, "reason")), "author");
    json_decref(cm);
}

static void test_reports(void **state) {
    (void)state;
    int64_t id = insert("rep", "g:r", "published", NULL, "report me");
    assert_int_equal(store_comments_reported(db, id, "g:x", "ipx"), 0);
    assert_int_equal(store_comments_report_insert(db, id, "g:x", "spam", NULL, 2000, "ipx", 0.5), 0);
    assert_int_equal(store_comments_reported(db, id, "g:x", ""), 1);  /* same reporter */
    assert_int_equal(store_comments_reported(db, id, "g:y", "ipx"), 1); /* same address */
    assert_int_equal(store_comments_reported(db, id, "g:y", ""), 0);    /* no address: apart */
    assert_int_equal(store_comments_report_insert(db, id, "g:y", "spam", "note", 2000, "", 1.0), 0);
    double w = 0;
    char *article = NULL;
    assert_int_equal(store_comments_report_weight(db, id, &w, &article), 0);
    assert_true(w > 1.49 && w < 1.51);
    assert_string_equal(article, "rep");
    free(article);
    assert_int_equal(store_comments_hide(db, id), 0);
    assert_int_equal(store_comments_published_count(db, "rep"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonce_unique_per_author),
        cmocka_unit_test(test_pages_and_meta),
        cmocka_unit_test(test_reports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
