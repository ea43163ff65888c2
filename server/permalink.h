/* permalink.h: one comment's whole thread, for a reader who follows a link to a comment
 * that is not among the pages loaded (the `thread` message): its top-level comment and
 * every reply below it, so the widget can show it in place with its parents. */
#ifndef PARLEY_PERMALINK_H
#define PARLEY_PERMALINK_H

#include <jansson.h>
#include "store_db.h"
#include <stdint.h>

#include "conn.h"
#include "store_permalink.h"

/* Replies {"type":"thread","article","comment","comments":[...]} (oldest first) or
 * not_found when the comment is not on article or not visible to c's reader. */
void permalink_thread(conn_t *c, const json_t *id, const char *article, int64_t comment);

/* The origin ("http(s)://host[:port]") of a page address into out (n bytes). Returns
 * 0, or -1 when url is not an absolute http(s) address without fragment, white space or
 * control characters, of at most 1024 bytes. */
int permalink_url_origin(const char *url, char *out, size_t n);
/* Remembers url (checked with permalink_url_origin, on the reader's own origin) as the
 * page article is read at, so moderators' links can open a comment on its article page.
 * The last one seen wins; a process writes each (article, url) pair once, and only for
 * an article that has a comment (made-up article ids would otherwise grow the table). */
void permalink_note_url(const char *article, const char *url);
/* A comment was stored on article: an address noted while it had none is written now. */
void permalink_article_posted(const char *article);
void permalink_shutdown(void);

#endif
