/* store_moderation.h: the moderation queue's repository: counts, queue pages and search,
 * the rows a queue item is built from, moderators' changes to comments, reports, notes
 * and article modes. (Bans are store_bans.h's, the audit log store_audit.h's.) Plain
 * values in and out, or jansson objects for wire rows; every statement runs unchanged on
 * SQLite and PostgreSQL. Storage thread only. */
#ifndef PARLEY_STORE_MODERATION_H
#define PARLEY_STORE_MODERATION_H

#include <jansson.h>
#include "store_db.h"
#include <stdbool.h>
#include <stdint.h>

/* ---- Counts and pages ---- */

typedef struct {
    int64_t held;     /* comments waiting for a moderator (status pending) */
    int64_t refused;  /* comments the rules refused */
    int64_t reported; /* comments with open reports */
} store_moderation_counts;

/* Fills *out (zeros on error); returns 0 or -1. */
int store_moderation_counts_get(db_t *db, store_moderation_counts *out);

typedef enum {
    STORE_MOD_HELD,     /* pending, oldest first, ids above `after` */
    STORE_MOD_REFUSED,  /* refused, newest first, ids below `after` (0: from the newest) */
    STORE_MOD_REPORTED, /* not pending with open reports, most reported first */
} store_moderation_queue;

/* Writes up to max comment ids of the queue page into ids; returns how many, or -1 on
 * error. `after` is ignored for STORE_MOD_REPORTED. */
int store_moderation_queue_ids(db_t *db, store_moderation_queue q, int64_t after,
                               int64_t *ids, int max);

/* Comment ids below `before` (0: from the newest), newest first, up to max, of comments
 * by author (id or name), on article, and whose title or body holds text (ASCII case
 * folded, as SQL's lower()); a NULL filter matches all. Returns the count or -1. */
int store_moderation_search_ids(db_t *db, const char *author, const char *article,
                                const char *text, int64_t before, int64_t *ids, int max);

/* ---- What a queue item is built from ---- */

/* One comment as moderators see it. */
typedef struct {
    json_t *comment;   /* the COMMENT object (store_comments.h); owned, see _clear */
    char status[32];   /* the real status (a shadow-banned post is "shadow" here) */
    double score;
    json_t *decision;  /* the rules' decision record, parsed; owned; NULL when none */
    char ip_hash[72];  /* "" when unknown */
} store_moderation_row;

/* Reads comment id into *out; returns 1, 0 when there is no such comment, -1 on error.
 * On 1 the caller frees with store_moderation_row_clear. */
int store_moderation_row_get(db_t *db, int64_t id, store_moderation_row *out);
void store_moderation_row_clear(store_moderation_row *r);

/* An author's comments by status. */
typedef struct {
    char status[32];
    int64_t count;
    int64_t first_at; /* ms of the oldest */
} store_moderation_status_count;

/* Writes up to max rows into out; returns how many, or -1 on error. */
int store_moderation_author_statuses(db_t *db, const char *author,
                                     store_moderation_status_count *out, int max);

/* The newest `limit` notes on author as wire rows [{"by","text","at"}] (new reference;
 * empty on error). */
json_t *store_moderation_notes(db_t *db, const char *author, int limit);

/* The open reports of comment id, oldest first, as wire rows [{"reason","at","note"?}]
 * (new reference; empty on error). */
json_t *store_moderation_open_reports(db_t *db, int64_t id);

/* ---- Comments ---- */

/* The COMMENT object of id whatever its status (new reference), or NULL. */
json_t *store_moderation_comment(db_t *db, int64_t id);
/* The status of comment id into out; 1, 0 when no such comment, -1 on error. */
int store_moderation_status(db_t *db, int64_t id, char out[64]);
/* Sets a comment's status, the reason shown to its author (NULL: none) and the
 * moderator. 0, or -1 on error. */
int store_moderation_set_status(db_t *db, int64_t id, const char *status, const char *reason,
                                const char *by);
/* Closes the open reports of comment id. 0, or -1. */
int store_moderation_resolve_reports(db_t *db, int64_t id);
/* The author id of comment id into out; 1, 0 when no such comment, -1 on error. */
int store_moderation_comment_author(db_t *db, int64_t id, char *out, size_t outlen);
/* Whether comment id is by author: 1, 0, or -1 on error. */
int store_moderation_comment_is_by(db_t *db, int64_t id, const char *author);
/* The address hash of author's newest comment into out ("" when none); 0 or -1. */
int store_moderation_last_ip(db_t *db, const char *author, char *out, size_t outlen);

/* ---- Notes and articles ---- */

/* Writes a moderator's note on author (comment: the comment it was taken from, or 0).
 * 0, or -1 on error. */
int store_moderation_note_add(db_t *db, const char *author, int64_t comment,
                              const char *moderator, const char *text, int64_t at);

/* The article's own mode into out; 1, 0 when it has none (the configured default), -1 on
 * error. */
int store_moderation_article_mode(db_t *db, const char *article, char *out, size_t outlen);
/* Sets (creating the row) the article's mode. 0 or -1. */
int store_moderation_article_set_mode(db_t *db, const char *article, const char *mode,
                                      int64_t at);
/* Puts the mode back as an undo does: mode NULL or "default" removes the article's row,
 * another changes its mode alone. 0 or -1. */
int store_moderation_article_restore(db_t *db, const char *article, const char *mode);

/* ---- One step of a bulk action ---- */

/* Opens a savepoint inside the job's, so one comment of a bulk action can fail alone. */
int store_moderation_step_begin(db_t *db);
/* Closes it: keep the step's changes, or roll them back. 0 or -1. */
int store_moderation_step_end(db_t *db, bool keep);

#endif
