/* text.h: what a field of a post must be before anything else looks at it: valid
 * UTF-8, NFC, trimmed, within its limit, free of control and bidi-override characters. */
#ifndef PARLEY_TEXT_H
#define PARLEY_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { TEXT_TITLE, TEXT_BODY, TEXT_NAME } text_field_t;

typedef enum {
    TEXT_OK = 0,
    TEXT_EMPTY,     /* nothing left after trimming */
    TEXT_TOO_LONG,  /* more code points than the limit */
    TEXT_INVALID,   /* bad UTF-8, a forbidden control or bidi character */
} text_status_t;

/* Cleans one field: checks UTF-8, normalises to NFC, folds CR LF and lone CR to LF
 * (body only), trims white space at both ends, caps runs of blank lines at two (body),
 * and counts code points. On TEXT_OK *out is a new NUL-terminated string owned by the
 * caller and *ncp its length in code points; otherwise *out is NULL. max is the limit
 * in code points. */
text_status_t text_clean(const char *in, size_t len, text_field_t field, size_t max, char **out,
                         size_t *ncp);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates, or > U+10FFFF). */
bool text_utf8_valid(const char *s, size_t len);

/* Number of code points in valid UTF-8. */
size_t text_codepoints(const char *s, size_t len);

/* True (1) when s is an article id: 1-128 of A-Z a-z 0-9 . _ : / - */
int text_article_valid(const char *s);

#endif
