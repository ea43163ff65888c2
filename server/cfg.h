/* cfg.h: moderation.yml as a tree of nodes that remember where they stood in the file,
 * so every module that reads a section reports errors as file:line:column. */
#ifndef PARLEY_CFG_H
#define PARLEY_CFG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { CFG_SCALAR, CFG_MAP, CFG_SEQ } cfg_kind_t;

/* A node of the tree. Map entries are children whose `key` is set; sequence items are
 * children without a key. Owned by the tree; freed with cfg_free() on the root. */
typedef struct cfg_node {
    cfg_kind_t kind;
    int line, col;           /* 1-based position of the value */
    int key_line, key_col;   /* position of the key, for map entries */
    char *key;               /* map entry key, or NULL */
    char *value;             /* scalar text, or NULL */
    struct cfg_node *child;  /* first child (map entries or sequence items) */
    struct cfg_node *next;   /* next sibling */
    size_t count;            /* number of children */
} cfg_node;

/* Reports go to a caller-owned buffer of this size. */
#define CFG_ERRLEN 512

/* Parses a YAML file into a tree. Returns NULL and writes "file:line:col: why" to err
 * on a read or syntax error. The caller owns the tree (cfg_free). */
cfg_node *cfg_parse_file(const char *path, char *err, size_t errlen);
/* Same for text in memory; `name` stands for the file name in errors. */
cfg_node *cfg_parse_string(const char *text, size_t len, const char *name, char *err,
                           size_t errlen);
void cfg_free(cfg_node *root);

/* Looks up a key in a map node; NULL when the node is not a map or has no such key. */
cfg_node *cfg_get(const cfg_node *map, const char *key);

/* Writes "file:line:col: message" about node n to err. Always returns -1, so callers
 * can `return cfg_error(...)`. */
int cfg_error(char *err, size_t errlen, const char *file, const cfg_node *n, const char *fmt,
              ...) __attribute__((format(printf, 5, 6)));

/* Each returns 0, or -1 with err set, naming the node's position. */
int cfg_expect(const cfg_node *n, cfg_kind_t kind, const char *what, const char *file, char *err,
               size_t errlen);
/* Refuses keys of map not in the NULL-terminated list allowed. */
int cfg_check_keys(const cfg_node *map, const char *const *allowed, const char *file, char *err,
                   size_t errlen);
int cfg_long(const cfg_node *n, long min, long max, long *out, const char *file, char *err,
             size_t errlen);
int cfg_double(const cfg_node *n, double min, double max, double *out, const char *file,
               char *err, size_t errlen);
int cfg_bool(const cfg_node *n, bool *out, const char *file, char *err, size_t errlen);
/* Returns a scalar's text (owned by the tree) or NULL with err set. */
const char *cfg_str(const cfg_node *n, const char *file, char *err, size_t errlen);

#endif
