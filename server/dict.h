/* dict.h: a small chained hash map with string keys (Redis's dict, much reduced).
 * Keys are copied and owned by the dict; values belong to the caller. */
#ifndef PARLEY_DICT_H
#define PARLEY_DICT_H

#include <stddef.h>

typedef struct dict dict_t;

/* Draws the random hash key (once; dict_new calls it). Call it before threads start. */
void dict_seed(void);
dict_t *dict_new(void);
/* Frees the dict and its keys; calls free_val on each value when given. */
void dict_free(dict_t *d, void (*free_val)(void *));
void *dict_get(const dict_t *d, const char *key);
/* Sets key to val, replacing any value (returned through *old when old != NULL). */
void dict_set(dict_t *d, const char *key, void *val, void **old);
/* Removes key; returns its value or NULL. */
void *dict_del(dict_t *d, const char *key);
size_t dict_size(const dict_t *d);

/* Calls fn for each entry; fn must not change the dict. */
void dict_each(const dict_t *d, void (*fn)(const char *key, void *val, void *arg), void *arg);

#endif
