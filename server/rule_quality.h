/* rule_quality.h: per-rule quality, live (issue 16): for each rule, the posts it fired on
 * and held, and how often moderators overturned it (approved what it held, rejected or
 * removed what it let through), kept in the store (shared by every process), shown in
 * /metrics and on the console's Rules page (mod.rules). */
#ifndef PARLEY_RULE_QUALITY_H
#define PARLEY_RULE_QUALITY_H

#include <jansson.h>
#include <uv.h>
#include "store_db.h"
#include <stdint.h>

#include "rules.h"

/* ---- Storage thread ---- */

/* How often the counts kept in memory are written to the store, and how many rules one
 * statement writes at most. */
#define RULE_QUALITY_FLUSH_MS 1000
#define RULE_QUALITY_FLUSH_ROWS 100

/* Counts the rules that fired on a post (or an edit) just scored, and whether it was
 * held or refused by them: in memory, no SQL per post; the loop's timer writes the
 * counts gathered to the store once a second (one statement), and the readers below
 * write this process's counts first. What a process counted in its last second before
 * it stopped, or in a group whose commit failed, is lost. */
void rule_quality_on_post(db_t *db, const rules_result *res);
/* Forgets the counts not yet written (tests). Storage thread only. */
void rule_quality_reset(void);
/* Re-derives the overturns of a comment from its status now (after a decision or an
 * undo): published although the rules held it; rejected or removed although they let it
 * through. */
void rule_quality_on_decision(db_t *db, int64_t comment_id);
/* [{"rule","hits","holds","approved_held","rejected_passed"}]. New reference, or NULL. */
json_t *rule_quality_json(db_t *db);

/* ---- Loop ---- */

/* Starts the once-a-second timer that writes the counts (wiring, at start-up). */
void rule_quality_init(uv_loop_t *loop);

/* Reads the table on the storage thread and calls cb on the loop with Prometheus text
 * (malloc'd, cb frees; NULL when the store failed). */
void rule_quality_fetch(void (*cb)(char *text, void *arg), void *arg);

#endif
