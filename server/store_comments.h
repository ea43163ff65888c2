/* store_comments.h: the comments repository. Every statement on the comments and
 * reports tables that the comments services (comments.c, comments_read.c) run, written
 * once in the SQL both dialects share (store_db.h), plus the row reader the other
 * repositories use: the columns to select and the COMMENT object they make
 * (docs/protocol.md). Functions take a db_t on the storage thread and plain values;
 * JSON results are new references owned by the caller. */
#ifndef PARLEY_STORE_COMMENTS_H
#define PARLEY_STORE_COMMENTS_H

#include <jansson.h>
#include "store_db.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Columns to select for comment_from_row(), in this order. */
#define COMMENT_COLUMNS                                                                     \
    "id, article, parent, author_id, author_name, author_guest, author_avatar, title, "    \
    "body, created_at, edited_at, status, reason, author_badge"

/* Builds a COMMENT object from a row selected with COMMENT_COLUMNS (new reference). */
json_t *comment_from_row(db_stmt *st);
/* Formats ms since the epoch as RFC 3339 UTC with milliseconds into out[32]. */
void comment_time(int64_t ms, char out[32]);

/* ---- Reads: one comment, counts, history pages ---- */

/* The comment as the wire shows it, or NULL (not found or error; new reference). */
json_t *store_comments_load(db_t *db, int64_t id);
/* Published comments of article; 0 on error (logged). */
int64_t store_comments_published_count(db_t *db, const char *article);

/* Replay after `after_id`, oldest first: appends to page the comments of article that
 * viewer may see (published, or viewer's own held, rejected and shadow ones), at most
 * max_rows of them and about max_bytes of text. *more says whether rows remain after
 * the page. Returns 0 or -1. */
int store_comments_page_after(db_t *db, const char *article, const char *viewer,
                              int64_t after_id, int max_rows, size_t max_bytes, json_t *page,
                              bool *more);
/* Whether viewer may see any comment of article with an id at or before `id`: 1, 0, or
 * -1 on error. */
int store_comments_visible_upto(db_t *db, const char *article, const char *viewer, int64_t id);
/* Appends to out, oldest first, the comments of article at or before `id` that changed
 * (edited, removed, approved) since comment `id` was created: at most limit, the newest
 * changes winning. Statuses are as stored (comment_from_row). Returns 0 or -1. */
int store_comments_changed_upto(db_t *db, const char *article, int64_t id, int limit,
                                json_t *out);
/* Appends to out, newest first, at most limit comments of article older than
 * `before_id` that viewer may see. Returns 0 or -1. */
int store_comments_page_before(db_t *db, const char *article, const char *viewer,
                               int64_t before_id, int limit, json_t *out);

/* ---- Posting, editing, deleting ---- */

/* The few columns a change is checked against. Strings are owned by the struct. */
typedef struct {
    char *author_id, *status, *article, *title;
    int64_t created_at;
} store_comment_meta;

/* Reads comment id's meta into *out: 1 found, 0 not found, -1 error. Free with
 * store_comment_meta_free() when found. */
int store_comments_meta(db_t *db, int64_t id, store_comment_meta *out);
void store_comment_meta_free(store_comment_meta *m);

/* How many comments author has stored, counted up to cap; -1 on error. */
long store_comments_author_count(db_t *db, const char *author, long cap);
/* Its query, also read as a scalar subquery by store_post.c: a printf format whose %ld
 * is the cap, written into the text (one parameter: author). As a parameter the cap is
 * unknown to PostgreSQL's generic plan, which then guesses a tenth of the author's rows,
 * costs more than a custom plan and so is never chosen: the statement was planned again
 * on every post (pg_stat_statements: plans = calls, planning 10x the execution). */
#define STORE_COMMENTS_AUTHOR_COUNT_SQL STORE_COMMENTS_AUTHOR_COUNT_SQL_OF("?")
/* The same with an SQL expression (a string literal) for the author. (On PostgreSQL
 * its plan stays on the index (author_id, id) because of migration 4's n_distinct.) */
#define STORE_COMMENTS_AUTHOR_COUNT_SQL_OF(author)                                          \
    "SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE author_id = " author " LIMIT %ld) AS posts"
/* How many posts held for review since since_ms from the author (by_address false) or
 * the address hash (true), counted up to cap; -1 on error. */
long store_comments_pending_count(db_t *db, bool by_address, const char *value,
                                  int64_t since_ms, long cap);

/* The id of the comment an author stored with a client nonce (no row: none), with SQL
 * expressions (string literals) for both; read as a scalar subquery by store_post.c. */
#define STORE_COMMENTS_NONCE_ID_SQL_OF(author, nonce)                                       \
    "SELECT id FROM comments WHERE author_id = " author " AND nonce = " nonce

/* The comment author posted with the client nonce, if any: 1 with its id, its stored
 * status in status[16] and the rules' explanation (JSON text, malloc'd, owned by the
 * caller; NULL when none) in *decision; 0 when none, -1 on error. */
int store_comments_by_nonce(db_t *db, const char *author, const char *nonce, int64_t *id,
                            char status[16], char **decision);

/* A new comment. Strings are borrowed; avatar, badge (may be ""), decision and nonce may
 * be NULL; parent 0 is top level. */
typedef struct {
    const char *article, *author_id, *author_name, *author_avatar, *author_badge;
    const char *ip_hash, *title, *body, *status, *decision, *nonce;
    int64_t parent, created_at;
    bool guest;
    double score;
} store_comment_new;

/* Inserts c. Returns its id (> 0), with the stored COMMENT in *comment when comment is
 * not NULL (new reference; read back by the INSERT itself); 0 when the author already
 * has a comment with c's nonce (nothing stored); -1 on error (logged). */
int64_t store_comments_insert(db_t *db, const store_comment_new *c, json_t **comment);
/* The author's edit: new title and body, edited at `at`, with the status and the rules'
 * score and explanation. Returns 0 or -1. */
int store_comments_update_text(db_t *db, int64_t id, const char *title, const char *body,
                               int64_t at, const char *status, double score,
                               const char *decision);
/* Removes comment id at its author's request (reason 'author'). Returns 0 or -1. */
int store_comments_remove_by_author(db_t *db, int64_t id);
/* Hides comment id until a moderator decides (readers' reports). Returns 0 or -1. */
int store_comments_hide(db_t *db, int64_t id);

/* ---- Reports ---- */

/* Whether comment was reported already by reporter or, when ip_hash is not empty, from
 * that address: 1, 0, or -1 on error. */
int store_comments_reported(db_t *db, int64_t comment, const char *reporter,
                            const char *ip_hash);
/* Stores a report (note may be NULL). Returns 0 or -1. */
int store_comments_report_insert(db_t *db, int64_t comment, const char *reporter,
                                 const char *reason, const char *note, int64_t at,
                                 const char *ip_hash, double weight);
/* The summed weight of the comment's open reports into *weight and its article into
 * *article (malloc'd, owned by the caller; "" when the comment is gone). Returns 0 or
 * -1. */
int store_comments_report_weight(db_t *db, int64_t comment, double *weight, char **article);

#endif
