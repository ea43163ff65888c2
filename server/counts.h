/* counts.h: GET /api/counts?article=A&article=B -> {"A":3,"B":0}, the published-comment
 * counts that count.js and the collapsed widget show, cached briefly by CDNs. */
#ifndef PARLEY_COUNTS_H
#define PARLEY_COUNTS_H

/* Registers the route with net. */
void counts_init(void);

#endif
