/* cfg.c: libyaml's event stream folded into a small tree with positions. */
#include "cfg.h"
#include "alloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

static cfg_node *node_new(cfg_kind_t kind, const yaml_mark_t *m) {
    cfg_node *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

void cfg_free(cfg_node *n) {
    while (n) {
        cfg_node *next = n->next;
        cfg_free(n->child);
        free(n->key);
        free(n->value);
        free(n);
        n = next;
    }
}

static void append(cfg_node *parent, cfg_node *c, cfg_node **tail) {
    if (*tail)
        (*tail)->next = c;
    else
        parent->child = c;
    *tail = c;
    parent->count++;
}

/* Reads one node starting with event ev (already taken). Returns the node or NULL. */
static cfg_node *read_node(yaml_parser_t *p, yaml_event_t *ev, const char *name, char *err,
                           size_t errlen, int depth);

static int next_event(yaml_parser_t *p, yaml_event_t *ev, const char *name, char *err,
                      size_t errlen) {
    if (yaml_parser_parse(p, ev)) return 0;
    snprintf(err, errlen, "%s:%zu:%zu: %s%s%s", name, p->problem_mark.line + 1,
             p->problem_mark.column + 1, p->problem ? p->problem : "syntax error",
             p->context ? " " : "", p->context ? p->context : "");
    return -1;
}

static cfg_node *read_children(yaml_parser_t *p, cfg_node *parent, yaml_event_type_t end,
                               const char *name, char *err, size_t errlen, int depth) {
    cfg_node *tail = NULL;
    for (;;) {
        yaml_event_t ev;
        if (next_event(p, &ev, name, err, errlen)) goto fail;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return parent;
        }
        char *key = NULL;
        int kl = 0, kc = 0;
        if (parent->kind == CFG_MAP) {
            if (ev.type != YAML_SCALAR_EVENT) {
                snprintf(err, errlen, "%s:%zu:%zu: a key must be plain text", name,
                         ev.start_mark.line + 1, ev.start_mark.column + 1);
                yaml_event_delete(&ev);
                goto fail;
            }
            key = xstrdup((char *)ev.data.scalar.value);
            kl = (int)ev.start_mark.line + 1;
            kc = (int)ev.start_mark.column + 1;
            for (cfg_node *c = parent->child; c; c = c->next)
                if (strcmp(c->key, key) == 0) {
                    snprintf(err, errlen, "%s:%d:%d: duplicate key '%s' (first at line %d)",
                             name, kl, kc, key, c->key_line);
                    free(key);
                    yaml_event_delete(&ev);
                    goto fail;
                }
            yaml_event_delete(&ev);
            if (next_event(p, &ev, name, err, errlen)) {
                free(key);
                goto fail;
            }
        }
        cfg_node *c = read_node(p, &ev, name, err, errlen, depth + 1);
        if (!c) {
            free(key);
            goto fail;
        }
        c->key = key;
        c->key_line = kl;
        c->key_col = kc;
        append(parent, c, &tail);
    }
fail:
    cfg_free(parent);
    return NULL;
}

static cfg_node *read_node(yaml_parser_t *p, yaml_event_t *ev, const char *name, char *err,
                           size_t errlen, int depth) {
    cfg_node *n = NULL;
    if (depth > 32) {
        snprintf(err, errlen, "%s:%zu:%zu: nesting too deep", name, ev->start_mark.line + 1,
                 ev->start_mark.column + 1);
        yaml_event_delete(ev);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = node_new(CFG_SCALAR, &ev->start_mark);
        n->value = xstrndup((char *)ev->data.scalar.value, ev->data.scalar.length);
        yaml_event_delete(ev);
        return n;
    case YAML_MAPPING_START_EVENT:
        n = node_new(CFG_MAP, &ev->start_mark);
        yaml_event_delete(ev);
        return read_children(p, n, YAML_MAPPING_END_EVENT, name, err, errlen, depth);
    case YAML_SEQUENCE_START_EVENT:
        n = node_new(CFG_SEQ, &ev->start_mark);
        yaml_event_delete(ev);
        return read_children(p, n, YAML_SEQUENCE_END_EVENT, name, err, errlen, depth);
    case YAML_ALIAS_EVENT:
        snprintf(err, errlen, "%s:%zu:%zu: aliases are not supported", name,
                 ev->start_mark.line + 1, ev->start_mark.column + 1);
        break;
    default:
        snprintf(err, errlen, "%s:%zu:%zu: unexpected YAML event", name,
                 ev->start_mark.line + 1, ev->start_mark.column + 1);
        break;
    }
    yaml_event_delete(ev);
    return NULL;
}

cfg_node *cfg_parse_string(const char *text, size_t len, const char *name, char *err,
                           size_t errlen) {
    yaml_parser_t p;
    yaml_event_t ev;
    cfg_node *root = NULL;
    if (!yaml_parser_initialize(&p)) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    /* stream start, document start (or stream end for an empty file) */
    for (;;) {
        if (next_event(&p, &ev, name, err, errlen)) goto out;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            root = xcalloc(1, sizeof *root); /* empty file: an empty map */
            root->kind = CFG_MAP;
            root->line = root->col = 1;
            goto out;
        }
        root = read_node(&p, &ev, name, err, errlen, 0);
        break;
    }
    if (root && root->kind != CFG_MAP) {
        snprintf(err, errlen, "%s:%d:%d: the top level must be a map of sections", name,
                 root->line, root->col);
        cfg_free(root);
        root = NULL;
    }
out:
    yaml_parser_delete(&p);
    return root;
}

cfg_node *cfg_parse_file(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s:0:0: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[8192];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            buf = xrealloc(buf, cap);
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        snprintf(err, errlen, "%s:0:0: read error", path);
        free(buf);
        return NULL;
    }
    cfg_node *root = cfg_parse_string(buf ? buf : "", len, path, err, errlen);
    free(buf);
    return root;
}

cfg_node *cfg_get(const cfg_node *map, const char *key) {
    if (!map || map->kind != CFG_MAP) return NULL;
    for (cfg_node *c = map->child; c; c = c->next)
        if (strcmp(c->key, key) == 0) return c;
    return NULL;
}

int cfg_error(char *err, size_t errlen, const char *file, const cfg_node *n, const char *fmt,
              ...) {
    int w = snprintf(err, errlen, "%s:%d:%d: ", file, n ? n->line : 0, n ? n->col : 0);
    va_list ap;
    va_start(ap, fmt);
    if (w >= 0 && (size_t)w < errlen) vsnprintf(err + w, errlen - w, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *kind_name(cfg_kind_t k) {
    return k == CFG_MAP ? "a map" : k == CFG_SEQ ? "a list" : "a single value";
}

int cfg_expect(const cfg_node *n, cfg_kind_t kind, const char *what, const char *file, char *err,
               size_t errlen) {
    if (n->kind == kind) return 0;
    return cfg_error(err, errlen, file, n, "%s must be %s, not %s", what, kind_name(kind),
                     kind_name(n->kind));
}

int cfg_check_keys(const cfg_node *map, const char *const *allowed, const char *file, char *err,
                   size_t errlen) {
    for (cfg_node *c = map->child; c; c = c->next) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, c->key) == 0) ok = 1;
        if (!ok) {
            char list[256] = "";
            for (const char *const *a = allowed; *a; a++) {
                if (a != allowed) strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, *a, sizeof list - strlen(list) - 1);
            }
            snprintf(err, errlen, "%s:%d:%d: unknown key '%s' (expected one of: %s)", file,
                     c->key_line, c->key_col, c->key, list);
            return -1;
        }
    }
    return 0;
}

const char *cfg_str(const cfg_node *n, const char *file, char *err, size_t errlen) {
    if (n->kind != CFG_SCALAR) {
        cfg_error(err, errlen, file, n, "'%s' must be a single value, not %s",
                  n->key ? n->key : "value", kind_name(n->kind));
        return NULL;
    }
    return n->value;
}

int cfg_long(const cfg_node *n, long min, long max, long *out, const char *file, char *err,
             size_t errlen) {
    const char *s = cfg_str(n, file, err, errlen);
    if (!s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return cfg_error(err, errlen, file, n, "'%s' must be a whole number, not '%s'",
                         n->key ? n->key : "value", s);
    if (v < min || v > max)
        return cfg_error(err, errlen, file, n, "'%s' must be between %ld and %ld, not %ld",
                         n->key ? n->key : "value", min, max, v);
    *out = v;
    return 0;
}

int cfg_double(const cfg_node *n, double min, double max, double *out, const char *file,
               char *err, size_t errlen) {
    const char *s = cfg_str(n, file, err, errlen);
    if (!s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return cfg_error(err, errlen, file, n, "'%s' must be a number, not '%s'",
                         n->key ? n->key : "value", s);
    if (v < min || v > max)
        return cfg_error(err, errlen, file, n, "'%s' must be between %g and %g, not %g",
                         n->key ? n->key : "value", min, max, v);
    *out = v;
    return 0;
}

int cfg_bool(const cfg_node *n, bool *out, const char *file, char *err, size_t errlen) {
    const char *s = cfg_str(n, file, err, errlen);
    if (!s) return -1;
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) {
        *out = false;
        return 0;
    }
    return cfg_error(err, errlen, file, n, "'%s' must be true or false, not '%s'",
                     n->key ? n->key : "value", s);
}
