/* Unit tests for the pacing of reader-count announcements (bus.c, issue 17): a crowd
 * joining many rooms at once is announced over several loop turns, about 100 readers'
 * frames a turn (plus the room that crosses it), each reader once with the newest count;
 * and a large room's count is announced only when it moved by 1%, or changed at all 10 s
 * after the last announcement. The bus runs locally (no Redis) on a real libuv loop; the
 * transport is a fake that counts the presence frames written to each connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "bus.h"
#include "clock.h"
#include "conn.h"
#include "hub.h"

#define ROOMS 30
#define PER_ROOM 50
#define NCONN (ROOMS * PER_ROOM)

typedef struct {
    int presence;     /* presence frames written */
    long last_count;  /* the count the last one carried */
} fake_t;

static conn_t conns[NCONN];
static fake_t fakes[NCONN];
static int frames_written;

static int fake_write(void *t, const net_frame *fr, size_t nf) {
    fake_t *f = t;
    for (size_t i = 0; i < nf; i++) {
        json_t *j = json_loadb((const char *)fr[i].payload, fr[i].len, 0, NULL);
        const char *type = json_string_value(json_object_get(j, "type"));
        if (type && !strcmp(type, "presence")) {
            f->presence++;
            f->last_count = (long)json_integer_value(json_object_get(j, "reading"));
            frames_written++;
        }
        json_decref(j);
    }
    return (int)nf;
}
static bool fake_idle(void *t) { return true; }
#define FAKE_HELD(f) false
#include "fake_transport.h"

static uv_loop_t *loop;

static int group_setup(void **state) {
    loop = uv_default_loop();
    conn_init(&fake_ops, 1024, 1 << 20);
    hub_init(false);
    assert_int_equal(bus_start(loop), 0);
    return 0;
}

static int group_teardown(void **state) {
    for (int i = 0; i < NCONN; i++) hub_unsubscribe_all(&conns[i]);
    bus_stop();
    uv_run(loop, UV_RUN_NOWAIT); /* the bus's handles close */
    hub_shutdown();
    conn_shutdown();
    return 0;
}

static void join(int i, const char *article) {
    bool created;
    sub_t *s = hub_subscribe(&conns[i], article, &created);
    assert_non_null(s);
    hub_activate(s, NULL, 0, 0);
}

static void test_crowd_announced_over_turns(void **state) {
    char art[32];
    for (int i = 0; i < NCONN; i++) {
        conns[i].transport = &fakes[i];
        snprintf(art, sizeof art, "crowd-%d", i / PER_ROOM);
        join(i, art);
    }
    bus_presence();
    assert_int_equal(frames_written, 0); /* queued, not sent in the caller's turn */
    int turns = 0, prev = 0;
    while (frames_written < NCONN && turns < 100) {
        uv_run(loop, UV_RUN_NOWAIT);
        turns++;
        /* a turn sends rooms until 100 frames: at most 100 + one room's */
        assert_true(frames_written - prev <= 100 + PER_ROOM);
        assert_true(frames_written > prev);
        prev = frames_written;
    }
    assert_int_equal(frames_written, NCONN);
    assert_true(turns >= NCONN / (100 + PER_ROOM));
    for (int i = 0; i < NCONN; i++) {
        assert_int_equal(fakes[i].presence, 1);
        assert_int_equal(fakes[i].last_count, PER_ROOM);
    }
    /* nothing moved: nothing more */
    bus_presence();
    uv_run(loop, UV_RUN_NOWAIT);
    assert_int_equal(frames_written, NCONN);
}

/* Two ticks before a turn: the room goes out once, with the newer count. */
static void test_newest_count_once(void **state) {
    memset(fakes, 0, sizeof fakes);
    frames_written = 0;
    hub_unsubscribe(&conns[0], "crowd-0"); /* 50 -> 49 */
    bus_presence();
    hub_unsubscribe(&conns[1], "crowd-0"); /* 49 -> 48 before the turn */
    bus_presence();
    uv_run(loop, UV_RUN_NOWAIT);
    assert_int_equal(frames_written, PER_ROOM - 2);
    for (int i = 2; i < PER_ROOM; i++) {
        assert_int_equal(fakes[i].presence, 1);
        assert_int_equal(fakes[i].last_count, PER_ROOM - 2);
    }
}

/* A room of 300 readers: a change of 2 (under 1%) is not announced, one of 3 is; a change
 * of 1 is, 10 s later. */
static void test_large_room_moves_by_a_percent(void **state) {
    for (int i = 0; i < 300; i++) hub_unsubscribe_all(&conns[i]);
    for (int i = 0; i < 300; i++) join(i, "big");
    bus_presence();
    for (int k = 0; k < 5; k++) uv_run(loop, UV_RUN_NOWAIT);
    memset(fakes, 0, sizeof fakes);
    frames_written = 0;
    hub_unsubscribe(&conns[0], "big");
    hub_unsubscribe(&conns[1], "big"); /* 298: moved by 2 of 300 */
    bus_presence();
    uv_run(loop, UV_RUN_NOWAIT);
    assert_int_equal(frames_written, 0);
    hub_unsubscribe(&conns[2], "big"); /* 297: 3 of 300 */
    bus_presence();
    uv_run(loop, UV_RUN_NOWAIT);
    assert_int_equal(frames_written, 297);
    assert_int_equal(fakes[3].last_count, 297);
    /* under 1% is announced once the last announcement is 10 s old: a reader who joined
     * meanwhile learns the count */
    frames_written = 0;
    hub_unsubscribe(&conns[3], "big"); /* 296: 1 of 297 */
    bus_presence();
    uv_run(loop, UV_RUN_NOWAIT);
    assert_int_equal(frames_written, 0);
    clock_fake(now_ms() + 11000);
    bus_presence();
    uv_run(loop, UV_RUN_NOWAIT);
    clock_fake(0);
    assert_int_equal(frames_written, 296);
    assert_int_equal(fakes[4].last_count, 296);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crowd_announced_over_turns),
        cmocka_unit_test(test_newest_count_once),
        cmocka_unit_test(test_large_room_moves_by_a_percent),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
