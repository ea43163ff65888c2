/* store_rule_quality.h: the SQL of per-rule quality (issue 16): how often each
 * rule fired and held, and on which comments moderators overturned it. Runs on the
 * caller's connection, inside the caller's transaction. */
#ifndef PARLEY_STORE_RULE_QUALITY_H
#define PARLEY_STORE_RULE_QUALITY_H

#include "store_db.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What to add to one rule's counts: posts it fired on, and of those the posts held or
 * refused that it pushed towards holding. */
typedef struct {
    const char *rule;
    int64_t hits, holds;
} store_rq_delta;

/* Adds n rules' deltas to their counts, in one statement. Returns 0 or -1. */
int store_rq_add(db_t *db, const store_rq_delta *d, size_t n);

/* The status and the rules' decision JSON of a comment (malloc'd, caller frees).
 * Returns 0, or -1 when there is no such comment. */
int store_rq_comment(db_t *db, int64_t id, char **status, char **decision);

/* Forgets the overturns recorded for a comment. */
int store_rq_clear(db_t *db, int64_t id);
/* Records that a moderator overturned rule on comment id; kind is "approved_held" or
 * "rejected_passed". */
int store_rq_overturn(db_t *db, int64_t id, const char *rule, const char *kind);

/* One row per rule with anything recorded, by rule name. */
typedef struct {
    char rule[128];
    int64_t hits, holds, approved_held, rejected_passed;
} store_rq_row;

/* Every rule's row into *rows (malloc'd, caller frees); returns how many, or -1. */
int store_rq_list(db_t *db, store_rq_row **rows);

#endif
