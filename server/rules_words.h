/* rules_words.h: whole-word matching of large word and phrase lists on normalised text,
 * with an Aho-Corasick automaton (one pass over the text whatever the list's size). */
#ifndef PARLEY_RULES_WORDS_H
#define PARLEY_RULES_WORDS_H

#include <stddef.h>

typedef struct words words_t;

/* Builds an automaton from list files (one entry a line, '#' comments, a trailing '*'
 * matches any ending: "insult*" matches insults, insulting). Entries are normalised like
 * the text. Returns NULL with why in err (file:line). */
words_t *words_load(const char *const *files, int nfiles, char *err, size_t errlen);
void words_free(words_t *w);
size_t words_count(const words_t *w);

/* Calls fn for every whole-word match in normalised text (with its leading and trailing
 * space, as norm_text makes it; run is its run counts): [start, end) byte offsets into
 * text. Returns matches. */
#include <stdint.h>
size_t words_match(const words_t *w, const char *text, const uint8_t *run, size_t len,
                   void (*fn)(size_t start, size_t end, void *arg), void *arg);

#endif
