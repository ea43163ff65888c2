/* Unit tests for the hub's catch-up by id (several processes, dedupe on): each reader
 * gets new comments in id order and each once, from reads of the store by id; an
 * announcement only asks for a read; reads are merged; approvals (out of id order) come at
 * once and are not brought again. The transport is a fake that records the frames written
 * to each connection; the store read is a fake that records what was asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conn.h"
#include "hub.h"

/* ---- A transport that records the comment ids written to each connection ---- */

typedef struct {
    int64_t got[128];
    int n;       /* frames written (ids of the first 128 kept) */
    int writes;  /* calls of write */
    int last;    /* frames the last call was given */
    bool held;   /* the socket is not writable: wake asks, nothing is written */
    bool choked; /* after each write the transport holds unsent bytes (not idle) */
} fake_t;

/* Takes every frame it is given, as net_ws_write does when they fit in its batch. */
static int fake_write(void *t, const net_frame *fr, size_t nf) {
    fake_t *f = t;
    f->writes++;
    f->last = (int)nf;
    for (size_t i = 0; i < nf; i++) {
        json_t *j = json_loadb((const char *)fr[i].payload, fr[i].len, 0, NULL);
        json_t *c = json_object_get(j, "comment");
        if (f->n < 128)
            f->got[f->n] = json_is_object(c) ? json_integer_value(json_object_get(c, "id")) : 0;
        f->n++;
        json_decref(j);
    }
    return (int)nf;
}
static bool fake_idle(void *t) { return !((fake_t *)t)->choked; }
static conn_t conns[4];
static fake_t fakes[4];

#define FAKE_HELD(f) ((f)->held)
#include "fake_transport.h"

/* ---- A store read that records what was asked ---- */

static char asked_article[64][32];
static int64_t asked_after[64];
static int nasked;

static void fake_fetch(const char *const *articles, const int64_t *after_ids, size_t n) {
    for (size_t i = 0; i < n && nasked < 64; i++) {
        snprintf(asked_article[nasked], sizeof asked_article[nasked], "%s", articles[i]);
        asked_after[nasked++] = after_ids[i];
    }
}

static msg_t *comment_msg(int64_t id) {
    return msg_take_json(json_pack("{s:s, s:{s:I}}", "type", "comment", "comment", "id", (json_int_t)id));
}

/* Answers the last read with comments ids[0..n) (ascending). */
static void answer(const char *article, const int64_t *ids, size_t n, bool more) {
    msg_t *m[16] = {0};
    for (size_t i = 0; i < n; i++) m[i] = comment_msg(ids[i]);
    hub_fetched(article, m, ids, n, more, true);
    for (size_t i = 0; i < n; i++) msg_unref(m[i]);
}

/* Once: the conn layer and the hub (which registers its close hook with conn). */
static int group_setup(void **state) {
    conn_init(&fake_ops, 1024, 1 << 20);
    hub_init(true);
    hub_set_fetch(fake_fetch);
    return 0;
}

static int group_teardown(void **state) {
    hub_shutdown();
    conn_shutdown();
    return 0;
}

static int setup(void **state) {
    memset(conns, 0, sizeof conns);
    memset(fakes, 0, sizeof fakes);
    for (int i = 0; i < 4; i++) conns[i].transport = &fakes[i];
    nasked = 0;
    return 0;
}

static int teardown(void **state) {
    for (int i = 0; i < 4; i++) hub_unsubscribe_all(&conns[i]); /* the rooms go too */
    assert_int_equal(hub_rooms(), 0);
    return 0;
}

static sub_t *join(int i, const char *article, int64_t hist_max, int64_t since) {
    bool created;
    sub_t *s = hub_subscribe(&conns[i], article, &created);
    assert_true(created);
    int64_t ids[1] = {hist_max};
    hub_activate(s, ids, hist_max ? 1 : 0, since);
    return s;
}

static void test_each_reader_above_its_own_last(void **state) {
    join(0, "a", 10, 0);
    join(1, "a", 12, 0);
    /* each activation asks what committed since its history */
    assert_int_equal(nasked, 1); /* the second merged into the first, outstanding */
    answer("a", NULL, 0, false);  /* and it asks again for the second reader */
    assert_int_equal(nasked, 2);
    assert_int_equal(asked_after[1], 10); /* the lowest last id */
    answer("a", NULL, 0, false);
    /* an announcement of 13: nothing delivered from it, a read from 10 */
    msg_t *m = comment_msg(13);
    assert_int_equal(hub_publish("a", m, 13), 0);
    msg_unref(m);
    assert_int_equal(nasked, 3);
    assert_string_equal(asked_article[2], "a");
    assert_int_equal(asked_after[2], 10);
    int64_t rows[3] = {11, 12, 13};
    answer("a", rows, 3, false);
    assert_int_equal(fakes[0].n, 3);
    assert_int_equal(fakes[0].got[0], 11);
    assert_int_equal(fakes[0].got[2], 13);
    assert_int_equal(fakes[1].n, 1); /* 11 and 12 were in its history */
    assert_int_equal(fakes[1].got[0], 13);
    /* the same rows again (a late duplicate read): nothing twice */
    answer("a", rows, 3, false);
    assert_int_equal(fakes[0].n, 3);
    assert_int_equal(fakes[1].n, 1);
    /* an announcement everyone has: no read */
    m = comment_msg(12);
    hub_publish("a", m, 12);
    msg_unref(m);
    assert_int_equal(nasked, 3);
}

static void test_reads_merge_and_pages_continue(void **state) {
    join(0, "b", 5, 0);
    answer("b", NULL, 0, false);
    nasked = 0;
    msg_t *m = comment_msg(6);
    hub_publish("b", m, 6);
    hub_publish("b", m, 7);
    hub_publish("b", m, 8);
    msg_unref(m);
    assert_int_equal(nasked, 1); /* one outstanding; the others merged */
    int64_t rows[2] = {6, 7};
    answer("b", rows, 2, true); /* a full page: the next is asked at once */
    assert_int_equal(nasked, 2);
    assert_int_equal(asked_after[1], 7);
    int64_t rest[1] = {8};
    answer("b", rest, 1, false);
    assert_int_equal(nasked, 2);
    assert_int_equal(fakes[0].n, 3);
    assert_int_equal(fakes[0].got[2], 8);
}

static void test_since_bounds_a_reader(void **state) {
    /* empty history after since 40: the reader's last id is 40, not 0 */
    join(0, "c", 0, 40);
    assert_int_equal(nasked, 1);
    assert_int_equal(asked_after[0], 40);
    int64_t rows[2] = {41, 42};
    answer("c", rows, 2, false);
    assert_int_equal(fakes[0].n, 2);
}

static void test_pending_reader_keeps_what_comes(void **state) {
    join(0, "d", 20, 0);
    answer("d", NULL, 0, false);
    bool created;
    sub_t *s = hub_subscribe(&conns[1], "d", &created); /* its history is being read */
    msg_t *m = comment_msg(21);
    hub_publish("d", m, 21);
    msg_unref(m);
    int64_t rows[2] = {21, 22};
    answer("d", rows, 2, false);
    assert_int_equal(fakes[1].n, 0);
    /* its history held 21: only 22 is delivered at activation */
    int64_t hist[1] = {21};
    hub_activate(s, hist, 1, 0);
    assert_int_equal(fakes[1].n, 1);
    assert_int_equal(fakes[1].got[0], 22);
    assert_int_equal(s->last, 22);
}

static void test_approval_once(void **state) {
    join(0, "e", 30, 0);
    answer("e", NULL, 0, false);
    /* an approved comment above the reader's last: at once, and the read skips it */
    msg_t *m = comment_msg(31);
    assert_int_equal(hub_publish("e", m, -31), 1);
    msg_unref(m);
    assert_int_equal(fakes[0].n, 1);
    hub_catch_up("e");
    int64_t rows[2] = {31, 32};
    answer("e", rows, 2, false);
    assert_int_equal(fakes[0].n, 2);
    assert_int_equal(fakes[0].got[1], 32);
    /* an approved old comment (below last): at once, once */
    m = comment_msg(3);
    assert_int_equal(hub_publish("e", m, -3), 1);
    msg_unref(m);
    assert_int_equal(fakes[0].n, 3);
}

/* Queues n comments straight onto connection i. */
static void fill(int i, int n) {
    for (int k = 0; k < n; k++) {
        msg_t *m = comment_msg(1000 + k);
        assert_int_equal(conn_enqueue(&conns[i], m), 0);
        msg_unref(m);
    }
}

/* One writable callback hands the queued frames to the transport in one write, in order,
 * a round at most (64 frames), whether or not the transport still holds bytes. */
static void test_write_round(void **state) {
    fakes[0].held = true;
    fill(0, 100);
    conn_ws_handlers()->writable(&conns[0]);
    assert_int_equal(fakes[0].writes, 1);
    assert_int_equal(fakes[0].n, 64);
    assert_int_equal(conns[0].qlen, 36);
    fakes[0].choked = true;
    conn_ws_handlers()->writable(&conns[0]);
    assert_int_equal(fakes[0].writes, 2);
    assert_int_equal(conns[0].qlen, 0);
    assert_int_equal(fakes[0].n, 100);
    for (int k = 0; k < 100; k++) assert_int_equal(fakes[0].got[k], 1000 + k);
    fakes[0].choked = false;
}

/* A round also ends at NET_WS_BATCH_BYTES of payload, except that its first frame goes
 * whatever its size. */
static void test_write_round_bytes(void **state) {
    fakes[0].held = true;
    size_t big = NET_WS_BATCH_BYTES / 3 + 1; /* two fit in a batch, three do not */
    char *text = malloc(big + 1);
    memset(text, 'x', big);
    text[big] = '\0';
    for (int k = 0; k < 5; k++) {
        msg_t *m = msg_take_json(json_pack("{s:s, s:{s:I, s:s}}", "type", "comment", "comment",
                                           "id", (json_int_t)(2000 + k), "body", text));
        assert_true(m->len > big && m->len < NET_WS_BATCH_BYTES / 2);
        assert_int_equal(conn_enqueue(&conns[0], m), 0);
        msg_unref(m);
    }
    free(text);
    conn_ws_handlers()->writable(&conns[0]);
    assert_int_equal(fakes[0].last, 2);
    conn_ws_handlers()->writable(&conns[0]);
    assert_int_equal(fakes[0].last, 2);
    conn_ws_handlers()->writable(&conns[0]);
    assert_int_equal(fakes[0].last, 1);
    assert_int_equal(conns[0].qlen, 0);
    assert_int_equal(fakes[0].writes, 3);
    for (int k = 0; k < 5; k++) assert_int_equal(fakes[0].got[k], 2000 + k);
}

/* Two readers of article, their first reads answered; reader 0 stops writing with 600 of
 * its 1,024 queued and the room is asked to read: it waits. Returns the reads asked. */
static int one_reader_half_full(const char *article) {
    join(0, article, 5, 0);
    join(1, article, 5, 0);
    answer(article, NULL, 0, false);
    answer(article, NULL, 0, false);
    int before = nasked;
    fakes[0].held = true;
    fill(0, 600);
    hub_catch_up(article);
    assert_int_equal(nasked, before);
    return before;
}

/* A room does not read while a reader's queue is half full; it reads once the queue has
 * drained (a page always fits). */
static void test_reads_wait_for_a_half_full_queue(void **state) {
    int before = one_reader_half_full("w");
    hub_catch_up("w"); /* asks again: merged into the one read after the drain */
    assert_int_equal(nasked, before);
    fakes[0].held = false;
    while (conns[0].qlen) conn_ws_handlers()->writable(&conns[0]);
    conn_ws_handlers()->writable(&conns[0]); /* drained: the waiter runs */
    assert_int_equal(nasked, before + 1);
    assert_int_equal(asked_after[nasked - 1], 5);
}

/* A reader that has not drained by the second periodic catch-up of the wait is closed as
 * slow, and the room reads on for the others. */
static void test_stalled_reader_closed_at_the_second_tick(void **state) {
    int before = one_reader_half_full("x");
    hub_catch_up_all(); /* first tick of the wait: still waiting */
    assert_int_equal(nasked, before);
    assert_int_equal(conns[0].close_code, 0);
    hub_catch_up_all(); /* second: the reader goes, the room reads */
    assert_int_equal(conns[0].close_code, 1013);
    assert_int_equal(nasked, before + 1);
    /* the closed reader's socket ends: its waiter is released */
    fakes[0].held = false;
    for (int k = 0; k < 20 && conns[0].waiters; k++) conn_ws_handlers()->writable(&conns[0]);
    assert_null(conns[0].waiters);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_reader_above_its_own_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_merge_and_pages_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_since_bounds_a_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_reader_keeps_what_comes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_round, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_round_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_wait_for_a_half_full_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_reader_closed_at_the_second_tick, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
