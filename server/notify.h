/* notify.h: reply notifications. A reader learns of replies to their comments: the
 * `replies` request lists them when they come back to an article, and a `reply` event
 * reaches their connections while they are there (docs/protocol.md). */
#ifndef PARLEY_NOTIFY_H
#define PARLEY_NOTIFY_H

#include <jansson.h>
#include "store_db.h"
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

/* Loop: answers {"type":"replies","article","replies":[COMMENT...]} (newest first, at
 * most 50) for c's author on article, through a storage job. */
void notify_replies(conn_t *c, const json_t *id, const char *article);

/* Storage thread, inside the job that made comment (borrowed) public: when it answers
 * someone else's comment, adds to effects the `reply` event for that author. */
void notify_reply_effect(db_t *db, json_t *effects, json_t *comment);

/* ---- Reply emails (docs/notifications.md) ---- */

/* Main thread at start: loads (creating) data_dir/notify.key, which encrypts stored
 * addresses and signs the links in emails, adds the /api/notify/ routes, and registers
 * the mails and alerts with the outbox's delivery thread (outbox_set_mail).
 * Returns 0 or -1 (logged). */
int notify_init(void);

/* Loop: `notify.email`: the reader asks for email about replies on article. A signed-in
 * reader whose token carries an email is subscribed at once (email NULL or the same);
 * anyone else gives an address and confirms it from the mail sent to it (double
 * opt-in). page is the article's page URL for the links in the mails (kept when its
 * origin is allowed). Answers {"type":"notify.email","article","state"}. */
void notify_email(conn_t *c, const json_t *id, const char *article, const char *email,
                  const char *page);
/* Loop: `notify.email.off`. */
void notify_email_off(conn_t *c, const json_t *id, const char *article);

/* Delivery thread: sends the confirmation mails due and the digests due (at most one a
 * reader and article every notifications.email_interval_seconds). Returns how many
 * mails were settled (look again at once when > 0); lowers *wake to when the relay may
 * be tried again after a failure. */
int notify_mail_tick(db_t *db, int64_t now, int64_t *wake, const atomic_bool *stop);

/* ---- Moderator alerts ---- */

/* Storage thread, after a post is stored: emits moderation.alert when the held queue has
 * reached notifications.alerts.queue_threshold, or the post's article got surge_posts
 * posts within surge_minutes; each kind (and each article) at most once per
 * cooldown_minutes. Returns 0 or -1 (the alert could not be written). */
int notify_check_alerts(db_t *db, int64_t comment_id);

/* Delivery thread: mails an alert event (its JSON body) to a moderator's address.
 * Returns 0 when the relay accepted it, else -1 with a reason in err. */
int notify_alert_mail(const char *to, const char *payload, const atomic_bool *stop, char *err,
                      size_t errlen);

/* Prometheus lines for /metrics (emails sent, failed); malloc'd. */
char *notify_metrics(void);

/* The moderation queue's counts for queue alerts (moderation.c registers it at start). */
void notify_set_queue_counts(json_t *(*fn)(db_t *db));

#endif
