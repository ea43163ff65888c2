/* comments.h: what readers do to comments, as storage jobs: the request is checked on
 * the loop, the work runs on the storage thread, the reply and the fan-out happen back
 * on the loop after the commit. Reading is comments_read.c, writing comments.c; the
 * SQL of both is the comments repository (store_comments.h). */
#ifndef PARLEY_COMMENTS_H
#define PARLEY_COMMENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "sort.h"


/* A cleaned post, ready to store. Strings are owned by the caller until passed. */
typedef struct {
    char *article, *title, *body, *name, *avatar;
    char *nonce;     /* the client's nonce for retries (docs/protocol.md), or NULL */
    int64_t parent;  /* 0: top level */
} post_input;

/* Subscribes c to article; replies with history (since >= 0: everything after it;
 * -1: the first page in the order of cur, sort.h). */
void comments_subscribe(conn_t *c, const json_t *id, const char *article, int64_t since,
                        const sort_cursor *cur);
/* Replies with a page of history: before `before` (oldest order) or after cur (the
 * thread orders). */
void comments_history(conn_t *c, const json_t *id, const char *article, int64_t before,
                      const sort_cursor *cur);
/* Scores and stores a post; takes ownership of in's strings. A post whose nonce the
 * author used before stores nothing and is acknowledged with that first comment. */
void comments_post(conn_t *c, const json_t *id, post_input *in);
/* Edits (title may be NULL: unchanged) or deletes (body NULL) the author's own comment. */
void comments_edit(conn_t *c, const json_t *id, int64_t comment, char *title, char *body);
void comments_delete(conn_t *c, const json_t *id, int64_t comment);
void comments_report(conn_t *c, const json_t *id, int64_t comment, const char *reason,
                     const char *note);

/* Whether the storage queue is past its bound; if so replies `unavailable` to the
 * request id on c (and counts it) and returns true: the caller stores nothing. */
bool comments_store_refuses(conn_t *c, const json_t *id);

/* Counts of published comments for the articles; calls back on the loop with a JSON
 * object {article: count} (new reference, or NULL on failure). */
void comments_counts(const char *const *articles, int n, void (*cb)(json_t *, void *),
                     void *arg);

#endif
