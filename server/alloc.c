/* alloc.c: allocations that abort on failure (see alloc.h). */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Out of memory: say how much was asked (stderr: the log may need memory) and abort. */
static void oom(size_t n) {
    fprintf(stderr, "parley: out of memory allocating %zu bytes\n", n);
    fflush(stderr);
    abort();
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *xstrdup(const char *s) {
    char *d = strdup(s);
    if (!d) oom(strlen(s) + 1);
    return d;
}

char *xstrndup(const char *s, size_t n) {
    char *d = strndup(s, n);
    if (!d) oom(n + 1);
    return d;
}
