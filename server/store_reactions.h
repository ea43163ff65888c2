/* store_reactions.h: the reactions table and comments.likes (SQLite). Storage
 * thread only. */
#ifndef PARLEY_STORE_REACTIONS_H
#define PARLEY_STORE_REACTIONS_H

#include <jansson.h>
#include "store_db.h"
#include <stdbool.h>
#include <stdint.h>

/* A comment as a reaction needs it. article is malloc'd (caller frees). */
typedef struct {
    char *article;
    char author_id[80];
    bool published;
} store_reaction_target;

/* Reads the comment; 0, or -1 when there is none (or on error). */
int store_reactions_target(db_t *db, int64_t comment, store_reaction_target *out);
/* Adds (like) or removes reader's like; keeps comments.likes in step. Returns 1 when
 * something changed, 0 when it was already so, -1 on error. */
int store_reactions_set(db_t *db, int64_t comment, const char *reader, bool like);
/* The comment's like count, and whether reader likes it; -1 on error. seq (may be NULL)
 * gets the number of changes the count has seen: a later state has a larger seq. */
int64_t store_reactions_count(db_t *db, int64_t comment, const char *reader, bool *liked,
                              int64_t *seq);

/* Sets "likes", "likes_seq" and, when reader likes it, "liked" on every comment object
 * of the array comments, with two statements whatever the number of comments. Returns 0
 * or -1 (the comments then show no likes). */
int store_reactions_attach(db_t *db, const char *reader, json_t *comments);

#endif
