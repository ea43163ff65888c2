/* alloc.h: the one allocation policy of the server, as Redis's zmalloc: an allocation
 * that fails logs what was asked and aborts, so no call site checks and none forgets.
 * (A comment server that cannot get a few hundred bytes cannot do anything useful; the
 * bounds on queues, tables and requests are what keep it from asking too much.) */
#ifndef PARLEY_ALLOC_H
#define PARLEY_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
