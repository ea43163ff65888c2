/* rules_norm.h: text normalised for matching, with a map back to the original.
 *
 * The normalised form folds case and compatibility forms (NFKC), strips accents and
 * invisible characters, maps confusable look-alikes (Cyrillic, Greek) and leetspeak to
 * Latin letters, collapses stretched letters into one (freeeee -> fre, with a run count
 * so that a list's "ass" does not match the word "as"), joins letters spelled out with separators (f.r.e.e -> fre), and turns every
 * run of other characters into one space. Each byte of the result remembers the code
 * points of the original it came from, so a match can be shown where it really is. */
#ifndef PARLEY_RULES_NORM_H
#define PARLEY_RULES_NORM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *text;       /* normalised, NUL-terminated; words separated by one space */
    size_t len;
    uint32_t *start;  /* per byte of text: first original code point it came from */
    uint32_t *end;    /* per byte: one past the last */
    uint8_t *run;     /* per byte: how many times the letter stood there in a row */
} norm_t;

/* Normalises UTF-8 s (valid). Returns 0, or -1 on allocation failure. */
int norm_text(const char *s, size_t len, norm_t *out);
void norm_free(norm_t *n);

/* Code point index of byte offset off in UTF-8 s. */
size_t norm_cp_index(const char *s, size_t off);

#endif
