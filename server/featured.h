/* featured.h: comments a moderator picks to show first, under "Featured". Featuring and
 * unfeaturing are moderator actions (mod.feature / mod.unfeature, audited, undoable);
 * readers ask for an article's featured comments with `featured` and hear of changes live
 * (`feature` events). */
#ifndef PARLEY_FEATURED_H
#define PARLEY_FEATURED_H

#include <jansson.h>
#include "store_db.h"
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "store_featured.h"

/* At most this many featured comments per article. */
#define FEATURED_MAX 10

/* Storage thread, for moderation.c: features (on) or unfeatures comment for moderator,
 * adding the readers' `feature` event to effects (moderation.h). *before / *after get
 * the audit states (new references) and *target the audit target ("featured:ID",
 * malloc'd). Returns 0, PERR_NOT_FOUND (no published comment), PERR_CONFLICT (already
 * so, or the article has FEATURED_MAX), or PERR_INTERNAL. */
int featured_set(db_t *db, const char *moderator, int64_t comment, bool on, json_t *effects,
                 json_t **before, json_t **after, char **target);

/* Storage thread, for moderation.c's queue items: sets "featured" (bool) on comment and
 * "article_url" (the page it was read at, or null) on item. */
void featured_annotate(db_t *db, json_t *item, json_t *comment);

/* Replies {"type":"featured","article","comments":[...]} (newest pick first). */
void featured_list(conn_t *c, const json_t *id, const char *article);

#endif
