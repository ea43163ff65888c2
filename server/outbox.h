/* outbox.h: durable events for webhooks. A service writes an event with outbox_emit()
 * inside the storage job that caused it, so the event commits (or rolls back) with its
 * cause; a delivery thread of its own reads pending rows from the database and POSTs
 * them, signed, to each endpoint that asked for the type, in order per endpoint, at
 * least once, with exponential backoff, until a give-up age after which a row is dead.
 * Rows still pending when the process stops (or is killed) are sent after it starts. */
#ifndef PARLEY_OUTBOX_H
#define PARLEY_OUTBOX_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include "store_db.h"
#include <stdint.h>

/* Storage thread, inside a job: records event `type` with `data` (stolen) for every
 * webhook that wants the type. The body sent is {"id","type","created","data"}. Does
 * nothing when no endpoint wants it. Returns 0, or -1 when the row could not be written
 * (the caller may fail its job so the cause rolls back too). */
int outbox_emit(db_t *db, const char *type, json_t *data);
/* The comment of an event comes from the moderation queue's item (moderation.c, above
 * this module, registers it at start). */
void outbox_set_item_source(json_t *(*fn)(db_t *db, int64_t comment_id));
/* The same with data {"comment": comment} (borrowed) plus the members of extra (stolen,
 * may be NULL). */
int outbox_emit_comment(db_t *db, const char *type, json_t *comment, json_t *extra);

/* The events of the comment services, one call per place (storage thread; 0 or -1):
 * a new post stored with status published (comment.published, and reply.created when
 * it answers another comment), pending (comment.held) or refused (comment.rejected by
 * the rules); shadow-banned posts emit nothing. */
int outbox_emit_post(db_t *db, int64_t comment_id, const char *status);
/* An author's edit (comment.edited; comment.held when it went back to review) or
 * deletion (edited NULL: comment.removed by the author). */
int outbox_emit_change(db_t *db, int64_t comment_id, const char *old_status, bool edited);
/* A moderator's decision moving a comment from one status to another:
 * moderation.decision, then comment.published (+ reply.created), comment.rejected or
 * comment.removed. */
int outbox_emit_decision(db_t *db, int64_t comment_id, const char *action, const char *from,
                         const char *to, const char *by);

/* The mail side of the delivery thread: reply mails and moderator alerts, which
 * notify.c (above this module) registers at start, so the outbox never calls up into
 * it. Any member may be NULL; with nothing registered there are no alerts, alert
 * mails fail (and are retried) and no reply mails go out. */
typedef struct {
    /* Storage thread, after a post is stored: may emit moderation.alert; 0 or -1. */
    int (*check_alerts)(db_t *db, int64_t comment_id);
    /* Delivery thread: mails an alert's JSON body to `to`; 0 or -1 with err. */
    int (*alert_mail)(const char *to, const char *payload, const atomic_bool *stop, char *err,
                      size_t errlen);
    /* Delivery thread, each round: sends the reply mails due; returns how many settled
     * and lowers *wake to the next retry. */
    int (*mail_tick)(db_t *db, int64_t now, int64_t *wake, const atomic_bool *stop);
    /* Prometheus lines of the mails (malloc'd). */
    char *(*metrics)(void);
} outbox_mail_ops;

/* Main thread, before outbox_start: registers the mail side (ops must outlive the
 * outbox; NULL unregisters). */
void outbox_set_mail(const outbox_mail_ops *ops);

/* Any thread: wakes the delivery thread (something was queued for it). */
void outbox_kick(void);

/* Starts the delivery thread (main thread, after the store is open); 0 or -1. */
int outbox_start(void);
/* Stops it: a transfer in progress is aborted and its row stays pending. */
void outbox_stop(void);

/* Prometheus text for /metrics (backlog, delivered, failed, dead, and the emails of
 * notify.c); malloc'd. */
char *outbox_metrics(void);

/* Storage thread: the console's view, {"type":"mod.webhooks","counts":{pending,delivered,
 * dead,oldest_pending},"endpoints":[url...],"failures":[...]}. New reference. */
json_t *outbox_console(db_t *db);

#endif
