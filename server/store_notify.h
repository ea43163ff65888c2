/* store_notify.h: the reads and writes of reply notifications (SQL in
 * store_notify.c). Called on the storage thread with its connection. */
#ifndef PARLEY_STORE_NOTIFY_H
#define PARLEY_STORE_NOTIFY_H

#include <jansson.h>
#include "store_db.h"
#include <stddef.h>
#include <stdint.h>

/* Published replies by others to author's comments on article, newest first, at most
 * max: a JSON array of COMMENT (new reference), or NULL on error (logged). */
json_t *store_notify_replies(db_t *db, const char *author, const char *article, int max);

/* The author id of comment id into out (outlen bytes); 0 when found, -1 when not. */
int store_notify_comment_author(db_t *db, int64_t id, char *out, size_t outlen);

/* ---- Reply emails ---- */

/* A subscription as the mail sender needs it. address: nonce || secretbox ciphertext,
 * owned (store_notify_sub_free). */
typedef struct {
    int64_t id;
    char *author_id, *article;
    unsigned char *address;
    size_t address_len;
    int64_t created_at;
    char *page;              /* the article page the reader subscribed from, or NULL */
} store_notify_sub;

void store_notify_sub_free(store_notify_sub *s);

/* Creates or replaces the reader's subscription for article with this (encrypted)
 * address in state ("pending": a confirmation mail is due; "active"). Returns its id,
 * or -1. */
int64_t store_notify_email_subscribe(db_t *db, const char *author, const char *article,
                                     const unsigned char *address, size_t len,
                                     const char *state, const char *page, int64_t now);
/* Whether another confirmation mail may go: 0 when it may, 1 when this reader asked
 * for one on this article in the last 10 minutes, this address hash got 3 in the last
 * day, or this client address asked for 5 in the last hour. */
int store_notify_confirm_limited(db_t *db, const char *author, const char *article,
                                 const char *ip_hash, const char *address_hash, int64_t now);
/* Records who asked (client address hash, keyed address hash) on the reader's
 * subscription, for store_notify_confirm_limited. */
int store_notify_email_asker(db_t *db, int64_t id, const char *ip_hash,
                             const char *address_hash);

/* The state of the reader's subscription on article into out (16 bytes): "pending",
 * "active", "off", or "" when there is none. */
void store_notify_email_state(db_t *db, const char *author, const char *article,
                              char out[16]);
/* Turns a subscription off by reader and article, or by id (author NULL). Returns the
 * number of rows changed (0 or 1), or -1. */
int store_notify_email_off(db_t *db, const char *author, const char *article, int64_t id);
/* pending -> active for subscription id when created_at matches (the confirmation link
 * names both). Returns 1 when confirmed now, 0 when already active, -1 when not found. */
int store_notify_email_confirm(db_t *db, int64_t id, int64_t created_at, int64_t now);
/* Queues reply comment_id for the subscription of (author, article) when one is not
 * off; returns 0 or -1. */
int store_notify_email_pend(db_t *db, const char *author, const char *article,
                            int64_t comment_id, int64_t now);

/* Delivery thread: up to max subscriptions whose confirmation mail is due, or with
 * replies waiting whose last digest is older than interval_ms. Returns how many were
 * written to out. */
int store_notify_confirm_due(db_t *db, store_notify_sub *out, int max);
int store_notify_digest_due(db_t *db, int64_t now, int64_t interval_ms, store_notify_sub *out,
                            int max);
int store_notify_confirm_sent(db_t *db, int64_t id, int64_t now);
/* The published replies waiting for subscription id, oldest first, at most the newest
 * 50 (JSON array of COMMENT, new reference); *max_id gets the newest waiting row's
 * comment id (every row up to it is settled by the digest). */
json_t *store_notify_digest_replies(db_t *db, int64_t id, int64_t *max_id);
/* After a digest: drops the waiting rows up to max_id and stamps last_sent_at. */
int store_notify_digest_sent(db_t *db, int64_t id, int64_t max_id, int64_t now);

/* Alerts: the article of comment id into out, and how many comments were posted on it
 * since since_ms. Returns the count, or -1 when the comment is not found. */
int64_t store_notify_article_posts(db_t *db, int64_t comment_id, int64_t since_ms, char *out,
                                   size_t outlen);

#endif
