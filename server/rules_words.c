/* rules_words.c: an Aho-Corasick automaton over normalised entries. Children are kept in
 * small sorted arrays (memory grows with the list, not with an alphabet), failure links
 * are computed breadth first, and each node knows the next node on its failure chain
 * that ends an entry. */
#include "rules_words.h"
#include "alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_norm.h"

typedef struct {
    uint32_t first;   /* index of the first child edge in edges[] */
    uint16_t nchild;
    uint16_t depth;   /* bytes from the root */
    uint32_t fail;
    uint32_t out;     /* next node on the failure chain that ends an entry (0: none) */
    int32_t entry;    /* entry ending here, -1 none */
} node_t;

typedef struct {
    unsigned char byte;
    uint32_t to;
} edge_t;

typedef struct {
    uint16_t len;
    uint8_t prefix;   /* '*': any ending */
    uint32_t runs;    /* offset in runs[]: how often each letter stands in the entry */
} entry_t;

struct words {
    node_t *nodes;
    size_t nnodes, capnodes;
    edge_t *edges;    /* built from the per-node lists once loading ends */
    entry_t *entries;
    size_t nentries, capentries;
    uint8_t *runs;
    size_t nruns, capruns;
    /* while loading: children as linked lists */
    uint32_t *child_head, *sib_next;
    unsigned char *node_byte;
};

static uint32_t new_node(words_t *w, uint16_t depth) {
    if (w->nnodes == w->capnodes) {
        w->capnodes = w->capnodes ? w->capnodes * 2 : 1024;
        w->nodes = xrealloc(w->nodes, w->capnodes * sizeof *w->nodes);
        w->child_head = xrealloc(w->child_head, w->capnodes * sizeof *w->child_head);
        w->sib_next = xrealloc(w->sib_next, w->capnodes * sizeof *w->sib_next);
        w->node_byte = xrealloc(w->node_byte, w->capnodes);
        if (!w->nodes || !w->child_head || !w->sib_next || !w->node_byte) abort();
    }
    uint32_t id = (uint32_t)w->nnodes++;
    memset(&w->nodes[id], 0, sizeof w->nodes[id]);
    w->nodes[id].entry = -1;
    w->nodes[id].depth = depth;
    w->child_head[id] = 0;
    w->sib_next[id] = 0;
    return id;
}

static uint32_t find_child_list(const words_t *w, uint32_t n, unsigned char c) {
    for (uint32_t k = w->child_head[n]; k; k = w->sib_next[k])
        if (w->node_byte[k] == c) return k;
    return 0;
}

static void add_entry(words_t *w, const char *s, const uint8_t *run, size_t len, int prefix) {
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        uint32_t k = find_child_list(w, n, c);
        if (!k) {
            k = new_node(w, (uint16_t)(w->nodes[n].depth + 1));
            w->node_byte[k] = c;
            w->sib_next[k] = w->child_head[n];
            w->child_head[n] = k;
            w->nodes[n].nchild++;
        }
        n = k;
    }
    if (w->nodes[n].entry >= 0) {
        /* the same entry again: a prefix form wins */
        if (prefix) w->entries[w->nodes[n].entry].prefix = 1;
        return;
    }
    if (w->nentries == w->capentries) {
        w->capentries = w->capentries ? w->capentries * 2 : 256;
        w->entries = xrealloc(w->entries, w->capentries * sizeof *w->entries);
    }
    if (w->nruns + len > w->capruns) {
        w->capruns = (w->nruns + len) * 2;
        w->runs = xrealloc(w->runs, w->capruns);
    }
    memcpy(w->runs + w->nruns, run, len);
    w->entries[w->nentries] = (entry_t){(uint16_t)len, (uint8_t)prefix, (uint32_t)w->nruns};
    w->nruns += len;
    w->nodes[n].entry = (int32_t)w->nentries++;
}

static int cmp_edge(const void *a, const void *b) {
    return ((const edge_t *)a)->byte - ((const edge_t *)b)->byte;
}

/* Next node from n on byte c, following children only (0: none, except at the root). */
static uint32_t child(const words_t *w, uint32_t n, unsigned char c) {
    const node_t *nd = &w->nodes[n];
    const edge_t *e = w->edges + nd->first;
    size_t lo = 0, hi = nd->nchild;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e[mid].byte == c) return e[mid].to;
        if (e[mid].byte < c) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

static void build(words_t *w) {
    /* children into one sorted edge array */
    size_t nedges = 0;
    for (size_t i = 0; i < w->nnodes; i++) nedges += w->nodes[i].nchild;
    w->edges = xmalloc((nedges + 1) * sizeof *w->edges);
    size_t at = 0;
    for (size_t i = 0; i < w->nnodes; i++) {
        w->nodes[i].first = (uint32_t)at;
        for (uint32_t k = w->child_head[i]; k; k = w->sib_next[k])
            w->edges[at++] = (edge_t){w->node_byte[k], k};
        qsort(w->edges + w->nodes[i].first, w->nodes[i].nchild, sizeof *w->edges, cmp_edge);
    }
    /* failure links, breadth first */
    uint32_t *queue = xmalloc(w->nnodes * sizeof *queue);
    size_t qh = 0, qt = 0;
    for (size_t k = 0; k < w->nodes[0].nchild; k++) {
        uint32_t c = w->edges[w->nodes[0].first + k].to;
        w->nodes[c].fail = 0;
        queue[qt++] = c;
    }
    while (qh < qt) {
        uint32_t n = queue[qh++];
        for (size_t k = 0; k < w->nodes[n].nchild; k++) {
            edge_t e = w->edges[w->nodes[n].first + k];
            uint32_t f = w->nodes[n].fail, g;
            while (f && !(g = child(w, f, e.byte))) f = w->nodes[f].fail;
            if (!f) g = child(w, 0, e.byte);
            w->nodes[e.to].fail = (g && g != e.to) ? g : 0;
            uint32_t fl = w->nodes[e.to].fail;
            w->nodes[e.to].out = w->nodes[fl].entry >= 0 ? fl : w->nodes[fl].out;
            queue[qt++] = e.to;
        }
    }
    free(queue);
    free(w->child_head);
    free(w->sib_next);
    free(w->node_byte);
    w->child_head = w->sib_next = NULL;
    w->node_byte = NULL;
}

words_t *words_load(const char *const *files, int nfiles, char *err, size_t errlen) {
    words_t *w = xcalloc(1, sizeof *w);
    new_node(w, 0);
    for (int f = 0; f < nfiles; f++) {
        FILE *fp = fopen(files[f], "r");
        if (!fp) {
            snprintf(err, errlen, "cannot read word list %s: %s", files[f], strerror(errno));
            words_free(w);
            return NULL;
        }
        char line[1024];
        int lineno = 0;
        while (fgets(line, sizeof line, fp)) {
            lineno++;
            char *hash = strchr(line, '#');
            if (hash) *hash = '\0';
            size_t n = strcspn(line, "\r\n");
            line[n] = '\0';
            while (n && (line[n - 1] == ' ' || line[n - 1] == '\t')) line[--n] = '\0';
            char *p = line;
            while (*p == ' ' || *p == '\t') p++;
            if (!*p) continue;
            int prefix = 0;
            n = strlen(p);
            if (p[n - 1] == '*') {
                prefix = 1;
                p[--n] = '\0';
            }
            norm_t nt;
            if (norm_text(p, n, &nt)) {
                fclose(fp);
                words_free(w);
                snprintf(err, errlen, "out of memory");
                return NULL;
            }
            /* drop the surrounding spaces of the normalised form */
            const char *t = nt.text;
            const uint8_t *run = nt.run;
            size_t tl = nt.len;
            while (tl && *t == ' ') t++, run++, tl--;
            while (tl && t[tl - 1] == ' ') tl--;
            if (tl == 0 || tl > 200) {
                snprintf(err, errlen, "%s:%d: entry '%.40s' is empty once normalised or too long",
                         files[f], lineno, p);
                norm_free(&nt);
                fclose(fp);
                words_free(w);
                return NULL;
            }
            add_entry(w, t, run, tl, prefix);
            norm_free(&nt);
        }
        fclose(fp);
    }
    build(w);
    return w;
}

void words_free(words_t *w) {
    if (!w) return;
    free(w->nodes);
    free(w->edges);
    free(w->entries);
    free(w->runs);
    free(w->child_head);
    free(w->sib_next);
    free(w->node_byte);
    free(w);
}

size_t words_count(const words_t *w) { return w ? w->nentries : 0; }

static void report(const words_t *w, uint32_t node, const char *text, const uint8_t *run,
                   size_t len, size_t i, void (*fn)(size_t, size_t, void *), void *arg,
                   size_t *count) {
    const entry_t *e = &w->entries[w->nodes[node].entry];
    size_t end = i + 1, start = end - e->len;
    if (start == 0 || text[start - 1] != ' ') return; /* not at a word start */
    /* a doubled letter of the entry needs at least a double in the text: "ass" is not "as" */
    for (size_t k = 0; k < e->len; k++)
        if (run[start + k] < w->runs[e->runs + k]) return;
    if (end < len && text[end] != ' ') {
        if (!e->prefix) return; /* not at a word end */
        while (end < len && text[end] != ' ') end++; /* a prefix entry takes the word */
    }
    fn(start, end, arg);
    (*count)++;
}

size_t words_match(const words_t *w, const char *text, const uint8_t *run, size_t len,
                   void (*fn)(size_t, size_t, void *), void *arg) {
    size_t count = 0;
    uint32_t n = 0;
    if (!w || w->nentries == 0) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        uint32_t g;
        while (n && !(g = child(w, n, c))) n = w->nodes[n].fail;
        if (!n) g = child(w, 0, c);
        n = g;
        if (w->nodes[n].entry >= 0) report(w, n, text, run, len, i, fn, arg, &count);
        for (uint32_t o = w->nodes[n].out; o; o = w->nodes[o].out)
            report(w, o, text, run, len, i, fn, arg, &count);
    }
    return count;
}
