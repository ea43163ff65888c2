/* store_learned.h: the learned model's repository in SQLite (issue 16). All the
 * SQL of the learning feature is here; callers pass and get plain values and
 * learned_model_t counts. Every function runs on the caller's connection and inside the
 * caller's transaction (the storage thread's group, or the command line's). */
#ifndef PARLEY_STORE_LEARNED_H
#define PARLEY_STORE_LEARNED_H

#include "store_db.h"
#include <stdint.h>

#include "rules_learned.h"

/* The model's header: a sequence bumped by every change, a generation bumped when every
 * count changes at once (decay), and the examples per label. */
typedef struct {
    int64_t seq, generation;
    double docs[LEARN_NLABELS];
} store_learned_meta;

/* Reads the header. Returns 0 or -1 (logged). */
int store_learned_meta_get(db_t *db, store_learned_meta *out);

/* Sets in m the absolute counts of every feature changed after sequence `since` (0: all)
 * and the examples per label. Returns 0 or -1. */
int store_learned_load(db_t *db, int64_t since, learned_model_t *m);

/* Adds the counts of delta (which may be negative; results are kept at zero or above)
 * to the stored model, bumping the sequence. When the examples of all labels together
 * pass max_docs, every count is halved (decay), features left under 0.5 are dropped and
 * the generation is bumped. Returns 0 or -1. */
int store_learned_apply(db_t *db, const learned_model_t *delta, double max_docs);

/* The example a comment taught: its label (LEARN_NONE when it taught nothing) and the
 * title and body learned (malloc'd, caller frees; NULL when none). Returns 0 or -1. */
int store_learned_example_get(db_t *db, int64_t comment_id, learn_label_t *label,
                              char **title, char **body);
/* Records (label != LEARN_NONE) or forgets (LEARN_NONE) the example of a comment.
 * Returns 0 or -1. */
int store_learned_example_put(db_t *db, int64_t comment_id, learn_label_t label,
                              const char *title, const char *body, int64_t now);

/* The title and body of a comment (malloc'd, caller frees). Returns 0, or -1 when there
 * is no such comment. */
int store_learned_comment_text(db_t *db, int64_t comment_id, char **title, char **body);

/* The last moderator decision on a comment that is still in force, ignoring audit entry
 * `except`: action ("approve", "reject", "remove") into action (32) and its reason
 * (malloc'd or NULL) into *reason. Returns 1 when found, 0 when none, -1 on error. */
int store_learned_last_decision(db_t *db, int64_t comment_id, int64_t except, char action[32],
                                char **reason);

#endif
