/* hub.h: per-article rooms and their subscriptions.
 *
 * A message for a room is serialised once into a msg_t (conn.h) and each subscriber's
 * queue holds a reference; the last release frees it. Queues are bounded (conn.c); a
 * reader past either bound is closed with 1013 and resumes with `since`. */
#ifndef PARLEY_HUB_H
#define PARLEY_HUB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

typedef struct room room_t;

#define HUB_EXTRA_MAX 16

/* A connection's interest in one article. Owned by the connection (its subs list) and
 * linked into the room's list. Pending until its history has been sent. */
/* While a subscription is pending: the room's messages that arrived meanwhile
 * (references, in order, with their comment ids), delivered at activation unless the
 * history held them. A subscription past HUB_PEND_MAX of them is closed with 1013 at
 * activation (the reader resumes with `since`), so nothing is lost and memory stays
 * bounded. Allocated at the first such message. */
#define HUB_PEND_MAX 512
typedef struct sub_pend {
    int64_t last;            /* highest comment id waiting */
    uint32_t n;
    bool overflow;
    msg_t *msgs[HUB_PEND_MAX];
    int64_t ids[HUB_PEND_MAX];
} sub_pend;

/* One reader of one room: 80 bytes a subscription (issue 17: idle memory). */
typedef struct sub {
    room_t *room;
    conn_t *conn;
    struct sub *prev, *next;  /* in the room */
    struct sub *cnext;        /* in the connection */
    /* With several processes: the highest comment id this reader has (its history's, or
     * the last delivered live). New comments reach a reader in id order and only above
     * it, so each comes once and a reader resuming `since` it misses nothing. */
    int64_t last;
    /* Comments above `last` this reader was given out of order (approved from the
     * queue), so that the read bringing them by id skips them. Owned, allocated at the
     * first (HUB_EXTRA_MAX entries), NULL for most readers. */
    int64_t *extra;
    sub_pend *pend;           /* NULL unless messages wait for activation */
    uint32_t nextra;
    bool active;
} sub_t;

/* Told when a room gets its first subscriber and loses its last (the bus registers one
 * to follow rooms between processes); called on the loop. */
typedef struct {
    void (*opened)(const char *article);
    void (*closed)(const char *article);
} hub_observer;
/* Adds an observer (at most 4); o must outlive the hub. */
void hub_add_observer(const hub_observer *o);

/* dedupe: several processes share a bus (Redis). New comments then reach readers only
 * through reads of the store by id (hub_set_fetch), in id order, never straight from the
 * message that announced them: ids become visible in commit order within an article, so
 * a read "newer than the reader's last id" misses nothing, while announcements from
 * several processes can arrive in any order, or not at all. Without it (one process)
 * a new comment is delivered as it is announced.
 * Registers the hub's close hook with conn (a closed connection leaves its rooms). */
void hub_init(bool dedupe);
void hub_shutdown(void);

/* The connection's subscription to article, created pending when new. *created tells. */
sub_t *hub_subscribe(conn_t *c, const char *article, bool *created);
sub_t *hub_find(conn_t *c, const char *article);
/* Starts live delivery; ids (n, may be NULL) are the comment ids its history held and
 * since the id the reader asked to resume after (0: none). The messages that waited for
 * it are delivered, but for comments the history held or at or below since; the reader's
 * last id becomes the highest of those. With dedupe the room then reads what is newer. */
void hub_activate(sub_t *s, const int64_t *ids, size_t n, int64_t since);
/* Removes one subscription (0) or returns -1 when there is none. */
int hub_unsubscribe(conn_t *c, const char *article);
void hub_unsubscribe_all(conn_t *c);

/* Queues m to every active subscriber of article in this process. comment_id > 0 marks
 * a new comment: with dedupe, m only announces it (the room reads what is newer than its
 * readers' last ids, hub_catch_up); without, it is delivered to readers below that id.
 * comment_id < 0 marks a comment (-comment_id) published out of id order, as an approval
 * from the queue: m goes at once to the readers that lack it, and the read by id will
 * not bring it again. Returns the number of readers reached (0 for an announcement). */
size_t hub_publish(const char *article, msg_t *m, int64_t comment_id);

/* ---- Catch-up by id (with dedupe) ----
 * fetch reads, off the loop, for each of n articles its published comments with ids
 * above after_ids[i], oldest first, at most a page each, and answers with one
 * hub_fetched() per article on the loop. A room has at most one read outstanding; asks
 * meanwhile are merged into one more read. The periodic catch-up asks for up to
 * HUB_FETCH_BATCH rooms in one call (one store job). */
typedef void (*hub_fetch_fn)(const char *const *articles, const int64_t *after_ids, size_t n);
#define HUB_FETCH_BATCH 256
void hub_set_fetch(hub_fetch_fn fn);
/* Asks the article's room to read what its readers lack (no-op without active readers,
 * without dedupe or without a fetch function). */
void hub_catch_up(const char *article);
/* The same for every room (after a bus outage, and every few seconds), in batches. */
void hub_catch_up_all(void);
/* The answer to a fetch: n comments (msgs[i] a "comment" event for ids[i], ascending;
 * the hub takes its own references), more when the page was full, ok false when the read
 * failed (the next catch-up tries again). */
void hub_fetched(const char *article, msg_t *const *msgs, const int64_t *ids, size_t n,
                 bool more, bool ok);
/* Reads started and comments delivered by them (for /metrics). */
uint64_t hub_fetches(void);
uint64_t hub_fetched_comments(void);
/* The room of an article in this process, or NULL. */
room_t *hub_find_room(const char *article);
/* Calls fn for every room. */
void hub_each_room(void (*fn)(room_t *r, void *arg), void *arg);
size_t hub_room_readers(const room_t *r);
/* The newest comment id delivered in the room (0: none yet). */
int64_t hub_room_max_id(const room_t *r);
/* Per-room values kept for the bus: presence last announced, and when (mono_ms). */
size_t *hub_room_presence(room_t *r);
int64_t *hub_room_presence_at(room_t *r);
/* Active readers of an article in this process. */
size_t hub_readers(const char *article);
size_t hub_rooms(void);
const char *hub_room_article(const room_t *r);


#endif
