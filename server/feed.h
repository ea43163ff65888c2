/* feed.h: Atom feeds of published comments over HTTP:
 *   GET /api/feed?article=ID[&n=N]   the newest N comments of one article
 *   GET /api/feed[?n=N]              the newest N comments of the whole site
 * (N 1-200, default 50). Built on the storage thread with libxml2's xmlTextWriter, so
 * every text is escaped by the library. */
#ifndef PARLEY_FEED_H
#define PARLEY_FEED_H

/* Registers the route; call before net_start. */
void feed_init(void);

#endif
