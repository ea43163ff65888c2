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

/* A connection's interest in one article. Owned by the connection (its subs list) and
 * linked into the room's list. Pending until its history has been sent. */
typedef struct sub {
    room_t *room;
    conn_t *conn;
    struct sub *prev, *next;  /* in the room */
    struct sub *cnext;        /* in the connection */
    bool active;
    /* With several processes: ids the history reply held, so a comment that reaches this
     * process through Redis after the history was read is not delivered twice. Owned;
     * dropped after a short while. */
    int64_t *hist_ids;
    uint32_t nhist;
    uint64_t hist_until_ms;
    /* While pending: the room's messages that arrived meanwhile (references, in order,
     * with their comment ids), delivered at activation unless the history held them. A
     * subscription past HUB_PEND_MAX of them is closed with 1013 at activation (the reader
     * resumes with `since`), so nothing is lost and memory stays bounded. */
    msg_t **pend;
    int64_t *pend_ids;
    uint32_t npend;
    bool pend_overflow;
} sub_t;

#define HUB_PEND_MAX 512

/* Told when a room gets its first subscriber and loses its last (the bus registers one
 * to follow rooms between processes); called on the loop. */
typedef struct {
    void (*opened)(const char *article);
    void (*closed)(const char *article);
} hub_observer;
/* Adds an observer (at most 4); o must outlive the hub. */
void hub_add_observer(const hub_observer *o);

/* dedupe: remember delivered comment ids per room (several processes share a bus).
 * Registers the hub's close hook with conn (a closed connection leaves its rooms). */
void hub_init(bool dedupe);
void hub_shutdown(void);

/* The connection's subscription to article, created pending when new. *created tells. */
sub_t *hub_subscribe(conn_t *c, const char *article, bool *created);
sub_t *hub_find(conn_t *c, const char *article);
/* Starts live delivery; ids (n, may be NULL) are the comment ids its history held: the
 * messages that waited for it are delivered, but for those comments. */
void hub_activate(sub_t *s, const int64_t *ids, size_t n);
/* Removes one subscription (0) or returns -1 when there is none. */
int hub_unsubscribe(conn_t *c, const char *article);
void hub_unsubscribe_all(conn_t *c);

/* Queues m to every active subscriber of article in this process. comment_id > 0 marks
 * a new comment: each room delivers one id once. Returns the number reached. */
size_t hub_publish(const char *article, msg_t *m, int64_t comment_id);
/* The room of an article in this process, or NULL. */
room_t *hub_find_room(const char *article);
/* Calls fn for every room. */
void hub_each_room(void (*fn)(room_t *r, void *arg), void *arg);
size_t hub_room_readers(const room_t *r);
/* The newest comment id delivered in the room (0: none yet). */
int64_t hub_room_max_id(const room_t *r);
/* Per-room values kept for the bus: presence last announced, catch-up start. */
size_t *hub_room_presence(room_t *r);
int64_t *hub_room_gap_from(room_t *r);
/* Active readers of an article in this process. */
size_t hub_readers(const char *article);
size_t hub_rooms(void);
const char *hub_room_article(const room_t *r);


#endif
