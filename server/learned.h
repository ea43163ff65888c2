/* learned.h: moderation that learns (issue 16). Keeps this process's copy of the learned
 * model that `kind: learned` rules score with, in step with the store (shared by every
 * process on it), and teaches it from moderators' decisions: approve = ham; reject or
 * remove with a spam or abuse reason = that label; an undo takes the lesson back.
 * Readers' reports never teach it.
 *
 * Storage thread only (or a command-line tool's one thread): the functions take the
 * connection and run inside the caller's transaction. */
#ifndef PARLEY_LEARNED_H
#define PARLEY_LEARNED_H

#include "store_db.h"
#include <stdint.h>

#include "rules_learned.h"

/* The examples of all labels together past which every count is halved. */
#define LEARNED_MAX_DOCS 20000

/* The model to score with, brought up to date with the store first: at most every
 * LEARNED_REFRESH_MS, or at once after this process changed it. Owned by this module;
 * valid until the next call. Never NULL. */
#define LEARNED_REFRESH_MS 500
const learned_model_t *learned_current(db_t *db, int64_t now_ms);

/* Teaches one example (title and body as stored) of label, or takes one back when
 * weight is -1. Returns 0 or -1. */
int learned_teach(db_t *db, const char *title, const char *body, learn_label_t label,
                  double weight);

/* A moderator's decision on a comment: "approve", "reject" or "remove" with its reason.
 * Makes the comment's lesson the one the decision teaches (replacing what an earlier
 * decision on it taught). Returns 0 or -1 (logged; the decision stands). */
int learned_on_decision(db_t *db, int64_t comment_id, const char *action, const char *reason);

/* An undo of audit entry audit_id about a comment: its lesson becomes that of the last
 * decision on it still in force, or none. Returns 0 or -1. */
int learned_on_undo(db_t *db, int64_t comment_id, int64_t audit_id);

/* Drops this process's copy (tests, shutdown). */
void learned_reset(void);

#endif
