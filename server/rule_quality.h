/* rule_quality.h: per-rule quality, live (issue 16): for each rule, the posts it fired on
 * and held, and how often moderators overturned it (approved what it held, rejected or
 * removed what it let through), kept in the store (shared by every process), shown in
 * /metrics and on the console's Rules page (mod.rules). */
#ifndef PARLEY_RULE_QUALITY_H
#define PARLEY_RULE_QUALITY_H

#include <jansson.h>
#include "store_db.h"
#include <stdint.h>

#include "rules.h"

/* ---- Storage thread ---- */

/* Counts the rules that fired on a post (or an edit) just scored, and whether it was
 * held or refused by them. */
void rule_quality_on_post(db_t *db, const rules_result *res);
/* Re-derives the overturns of a comment from its status now (after a decision or an
 * undo): published although the rules held it; rejected or removed although they let it
 * through. */
void rule_quality_on_decision(db_t *db, int64_t comment_id);
/* [{"rule","hits","holds","approved_held","rejected_passed"}]. New reference, or NULL. */
json_t *rule_quality_json(db_t *db);

/* ---- Loop ---- */

/* Reads the table on the storage thread and calls cb on the loop with Prometheus text
 * (malloc'd, cb frees; NULL when the store failed). */
void rule_quality_fetch(void (*cb)(char *text, void *arg), void *arg);

#endif
