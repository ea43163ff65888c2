/* text.c: field cleaning on utf8proc (validation, NFC, character properties). */
#include "text.h"
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

bool text_utf8_valid(const char *s, size_t len) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n < 0 || cp < 0) return false;
        p += n;
        left -= n;
    }
    return true;
}

size_t text_codepoints(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

/* White space trimmed at both ends: Unicode separators and the ASCII line breaks. */
static bool is_trim_space(utf8proc_int32_t cp) {
    if (cp == '\n' || cp == '\r' || cp == '\t' || cp == 0x0B || cp == 0x0C || cp == 0x85)
        return true;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

/* Bidi embedding, override and isolate controls: they let text pretend to be other text. */
static bool is_bidi_control(utf8proc_int32_t cp) {
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static bool is_control(utf8proc_int32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Decodes NFC text into code points; returns a new array (caller frees) and its length. */
static utf8proc_int32_t *decode(const utf8proc_uint8_t *s, utf8proc_ssize_t len, size_t *n) {
    utf8proc_int32_t *cps = xmalloc(((size_t)len + 1) * sizeof *cps);
    size_t k = 0;
    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t w = utf8proc_iterate(s, len, &cp);
        if (w <= 0) break; /* validated before; cannot happen */
        cps[k++] = cp;
        s += w;
        len -= w;
    }
    *n = k;
    return cps;
}

text_status_t text_clean(const char *in, size_t len, text_field_t field, size_t max, char **out,
                         size_t *ncp) {
    *out = NULL;
    *ncp = 0;
    if (!text_utf8_valid(in, len) || memchr(in, '\0', len)) return TEXT_INVALID;

    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t nlen = utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len,
                                         &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (nlen < 0) return TEXT_INVALID;

    size_t n;
    utf8proc_int32_t *cps = decode(nfc, nlen, &n);
    free(nfc);
    if (!cps) return TEXT_INVALID;

    /* Line breaks: CR LF and lone CR become LF in the body; elsewhere any is invalid
     * (but trimming first lets a title end in a stray newline). A tab becomes a space,
     * as the widget turns pasted tabs into spaces. */
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (cps[i] == '\t') {
            cps[w++] = ' ';
        } else if (cps[i] == '\r') {
            if (i + 1 < n && cps[i + 1] == '\n') continue;
            cps[w++] = '\n';
        } else {
            cps[w++] = cps[i];
        }
    }
    n = w;

    size_t start = 0, end = n;
    while (start < end && is_trim_space(cps[start])) start++;
    while (end > start && is_trim_space(cps[end - 1])) end--;

    text_status_t st = TEXT_OK;
    for (size_t i = start; i < end && st == TEXT_OK; i++) {
        utf8proc_int32_t cp = cps[i];
        if (is_bidi_control(cp)) st = TEXT_INVALID;
        else if (cp == '\n' && field == TEXT_BODY) continue;
        else if (is_control(cp)) st = TEXT_INVALID;
        else if ((cp & 0xFFFE) == 0xFFFE || (cp >= 0xFDD0 && cp <= 0xFDEF)) st = TEXT_INVALID;
    }

    /* Blank-line runs: at most two empty lines in a row (three LFs); a line holding only
     * spaces counts as empty and loses its spaces. */
    w = start;
    if (st == TEXT_OK && field == TEXT_BODY) {
        size_t lf = 0;
        for (size_t i = start; i < end; i++) {
            utf8proc_int32_t cp = cps[i];
            if (cp == '\n') {
                /* drop spaces that ended the previous line */
                while (w > start && cps[w - 1] != '\n' && is_trim_space(cps[w - 1])) w--;
                if (++lf > 3) continue;
                cps[w++] = cp;
            } else {
                if (lf && is_trim_space(cp)) {
                    /* leading spaces of a line: keep unless the line turns out blank */
                    size_t j = i;
                    while (j < end && cps[j] != '\n' && is_trim_space(cps[j])) j++;
                    if (j < end && cps[j] == '\n') {
                        i = j - 1;
                        continue;
                    }
                }
                lf = 0;
                cps[w++] = cp;
            }
        }
        end = w;
    }

    size_t count = end - start;
    /* Nothing visible is empty: default-ignorable code points (U+200B, U+FEFF, U+2060,
     * variation selectors ...) count as white space for this check, though they are
     * kept (and counted) inside text that has something else. */
    bool visible = false;
    for (size_t i = start; i < end && !visible; i++)
        visible = !is_trim_space(cps[i]) && !utf8proc_get_property(cps[i])->ignorable;
    if (st == TEXT_OK && !visible) st = TEXT_EMPTY;
    if (st == TEXT_OK && count > max) st = TEXT_TOO_LONG;
    if (st != TEXT_OK) {
        free(cps);
        return st;
    }

    char *buf = xmalloc(count * 4 + 1);
    if (!buf) {
        free(cps);
        return TEXT_INVALID;
    }
    size_t b = 0;
    for (size_t i = start; i < end; i++)
        b += (size_t)utf8proc_encode_char(cps[i], (utf8proc_uint8_t *)buf + b);
    buf[b] = '\0';
    free(cps);
    *out = buf;
    *ncp = count;
    return TEXT_OK;
}

int text_article_valid(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == ':' || ch == '/' || ch == '-'))
            return 0;
    }
    return n >= 1 && n <= 128;
}
