/* rules_norm.c: normalisation for matching (see rules_norm.h). */
#include "rules_norm.h"
#include "alloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* TR39-style skeleton for the look-alikes that matter in English text: Cyrillic and
 * Greek letters that render like Latin ones, and a few symbols. */
static const struct {
    int32_t cp;
    char to;
} confusables[] = {
    {0x0430, 'a'}, {0x0432, 'b'}, {0x0435, 'e'}, {0x0451, 'e'}, {0x043A, 'k'}, {0x043C, 'm'},
    {0x043D, 'h'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0442, 't'}, {0x0443, 'y'},
    {0x0445, 'x'}, {0x0456, 'i'}, {0x0457, 'i'}, {0x0458, 'j'}, {0x0455, 's'}, {0x0501, 'd'},
    {0x04CF, 'l'}, {0x0261, 'g'}, {0x03B1, 'a'}, {0x03B2, 'b'}, {0x03B5, 'e'}, {0x03B9, 'i'},
    {0x03BA, 'k'}, {0x03BD, 'v'}, {0x03BF, 'o'}, {0x03C1, 'p'}, {0x03C4, 't'}, {0x03C5, 'u'},
    {0x03C7, 'x'}, {0x03C9, 'w'}, {0x03F2, 'c'}, {0x0131, 'i'}, {0x0237, 'j'}, {0x1D00, 'a'},
    {0x0280, 'r'}, {0x026A, 'i'}, {0x1D0F, 'o'}, {0x029F, 'l'}, {0x0274, 'n'}, {0x1D1B, 't'},
    {0x00DF, 's'}, {0x00F8, 'o'}, {0x0142, 'l'}, {0x0111, 'd'}, {0x00F0, 'd'}, {0x0127, 'h'},
    /* small capitals */
    {0x0299, 'b'}, {0x1D04, 'c'}, {0x1D05, 'd'}, {0x1D07, 'e'}, {0xA730, 'f'}, {0x0262, 'g'},
    {0x029C, 'h'}, {0x1D0A, 'j'}, {0x1D0B, 'k'}, {0x1D0D, 'm'}, {0x1D18, 'p'}, {0xA731, 's'},
    {0x1D1C, 'u'}, {0x1D20, 'v'}, {0x1D21, 'w'}, {0x028F, 'y'}, {0x1D22, 'z'},
    /* Cyrillic capitals that survive case folding as their own letters */
    {0x0491, 'r'}, {0x0493, 'f'}, {0x04BB, 'h'}, {0x0509, 'l'}, {0x051B, 'q'}, {0x051D, 'w'},
};

/* Leetspeak digits and symbols inside words. */
static char leet(int32_t cp) {
    switch (cp) {
    case '4': case '@': return 'a';
    case '3': return 'e';
    case '1': case '!': case '|': return 'i';
    case '0': return 'o';
    case '5': case '$': return 's';
    case '7': case '+': return 't';
    default: return 0;
    }
}

static char confusable(int32_t cp) {
    for (size_t i = 0; i < sizeof confusables / sizeof confusables[0]; i++)
        if (confusables[i].cp == cp) return confusables[i].to;
    return 0;
}

static bool invisible(int32_t cp) {
    if (cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0xFEFF ||
        cp == 0x00AD || cp == 0x034F || (cp >= 0xFE00 && cp <= 0xFE0F) ||
        (cp >= 0xE0100 && cp <= 0xE01EF) || (cp >= 0x180B && cp <= 0x180E))
        return true;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME;
}

typedef struct {
    char *text;
    uint32_t *start, *end;
    uint8_t *run;
    size_t len, cap;
} buf_t;

static int push(buf_t *b, char ch, uint32_t s, uint32_t e) {
    if (b->len + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *t = xrealloc(b->text, cap);
        if (t) b->text = t;
        uint32_t *st = xrealloc(b->start, cap * sizeof *st);
        if (st) b->start = st;
        uint32_t *en = xrealloc(b->end, cap * sizeof *en);
        if (en) b->end = en;
        uint8_t *rn = xrealloc(b->run, cap);
        if (rn) b->run = rn;
        if (!t || !st || !en || !rn) return -1;
        b->cap = cap;
    }
    b->text[b->len] = ch;
    b->start[b->len] = s;
    b->end[b->len] = e;
    b->run[b->len] = 1;
    b->len++;
    return 0;
}

/* Emits one folded character c that came from code points [s, e). Letters of a run are
 * merged (stretching), separators collapse into one space. */
static int emit(buf_t *b, char c, uint32_t s, uint32_t e) {
    char prev = b->len ? b->text[b->len - 1] : ' ';
    if (c == ' ') {
        if (prev == ' ') return 0;
        return push(b, ' ', s, e);
    }
    if (c == prev && c >= 'a' && c <= 'z') {
        b->end[b->len - 1] = e;
        if (b->run[b->len - 1] < 255) b->run[b->len - 1]++;
        return 0;
    }
    return push(b, c, s, e);
}

/* Joins single letters spelled out with separators: "f r e e" -> "fre". A run of three
 * or more one-letter words becomes one word. */
static void join_spelled(buf_t *b) {
    size_t w = 0, i = 0;
    while (i < b->len) {
        /* find the run of one-letter words starting at i */
        size_t j = i, n = 0;
        while (j < b->len && (j + 1 == b->len || b->text[j + 1] == ' ') && b->text[j] != ' ' &&
               (j == 0 || b->text[j - 1] == ' ')) {
            n++;
            j += 2;
        }
        if (n >= 3) {
            size_t stop = i + 2 * (n - 1);
            for (size_t k = i; k <= stop; k += 2) {
                char c = b->text[k];
                if (w && b->text[w - 1] == c && k != i) {
                    b->end[w - 1] = b->end[k];
                    if (b->run[w - 1] < 255) b->run[w - 1]++;
                    continue;
                }
                b->text[w] = c, b->start[w] = b->start[k], b->end[w] = b->end[k];
                b->run[w] = b->run[k];
                w++;
            }
            i = stop + 1;
            continue;
        }
        b->text[w] = b->text[i], b->start[w] = b->start[i], b->end[w] = b->end[i];
        b->run[w] = b->run[i];
        w++, i++;
    }
    b->len = w;
}

int norm_text(const char *s, size_t len, norm_t *out) {
    buf_t b = {0};
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    uint32_t idx = 0;
    if (push(&b, ' ', 0, 0)) goto oom; /* a leading space: every word starts after one */
    while (left > 0) {
        int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) break;
        p += n, left -= n;
        uint32_t s0 = idx, e0 = ++idx;
        int rc = 0;
        if (cp < 0x80) {
            char c = (char)cp, l = leet(cp);
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            bool after_letter = b.len && b.text[b.len - 1] >= 'a' && b.text[b.len - 1] <= 'z';
            bool before_letter = left > 0 && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z');
            /* digits and $ @ inside or at the start of a word, punctuation only inside one */
            bool symbol = c == '!' || c == '|' || c == '+';
            if (c >= 'a' && c <= 'z') rc = emit(&b, c, s0, e0);
            else if (l && !symbol && (after_letter || before_letter))
                rc = emit(&b, l, s0, e0);
            else if (l && symbol && after_letter && before_letter)
                rc = emit(&b, l, s0, e0);
            else if (c >= '0' && c <= '9') rc = emit(&b, c, s0, e0);
            else rc = emit(&b, ' ', s0, e0);
        } else if (invisible(cp)) {
            continue; /* zero-width and combining marks vanish */
        } else {
            char c = confusable(cp);
            if (c) {
                rc = emit(&b, c, s0, e0);
            } else {
                int32_t dec[8];
                int last = 0;
                utf8proc_ssize_t k = utf8proc_decompose_char(
                    cp, dec, 8, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK,
                    &last);
                if (k < 0 || k > 8) k = 0;
                bool any = false;
                for (utf8proc_ssize_t q = 0; q < k && !rc; q++) {
                    int32_t d = dec[q];
                    char cc = d < 0x80 ? (char)d : confusable(d);
                    if (cc >= 'A' && cc <= 'Z') cc = (char)(cc - 'A' + 'a');
                    if ((cc >= 'a' && cc <= 'z') || (cc >= '0' && cc <= '9')) {
                        rc = emit(&b, cc, s0, e0);
                        any = true;
                    } else if (d >= 0x80 && utf8proc_category(d) <= UTF8PROC_CATEGORY_LO &&
                               utf8proc_category(d) >= UTF8PROC_CATEGORY_LU) {
                        /* a letter of another script: kept as UTF-8 */
                        utf8proc_uint8_t enc[4];
                        utf8proc_ssize_t el = utf8proc_encode_char(d, enc);
                        for (utf8proc_ssize_t z = 0; z < el && !rc; z++)
                            rc = push(&b, (char)enc[z], s0, e0);
                        any = true;
                    } else if (utf8proc_category(d) == UTF8PROC_CATEGORY_MN) {
                        any = true;
                    }
                }
                if (!any && !rc) rc = emit(&b, ' ', s0, e0);
            }
        }
        if (rc) goto oom;
    }
    if (emit(&b, ' ', idx, idx)) goto oom;
    join_spelled(&b);
    if (push(&b, '\0', idx, idx)) goto oom;
    b.len--;
    out->text = b.text;
    out->len = b.len;
    out->start = b.start;
    out->end = b.end;
    out->run = b.run;
    return 0;
oom:
    free(b.text);
    free(b.start);
    free(b.end);
    free(b.run);
    return -1;
}

void norm_free(norm_t *n) {
    free(n->text);
    free(n->start);
    free(n->end);
    free(n->run);
    memset(n, 0, sizeof *n);
}

size_t norm_cp_index(const char *s, size_t off) {
    size_t n = 0;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}
