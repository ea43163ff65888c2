/* import.c: the import sink (article ids, hashes, HTML to text, limits, summary) and the
 * `parley import`, `parley export` and `parley backup` commands. */
#include "import.h"
#include "alloc.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#include "store_comments.h"
#include "config.h"
#include "dict.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "store_import.h"
#include "text.h"

#define MAX_SKIP_REASONS 16

struct import_sink {
    const char *file, *format;
    import_repo *repo;
    dict_t *map;                 /* --article-map: key -> article id (malloc'd) */
    long limit_title, limit_body, limit_name;
    bool failed;
    char err[1024];              /* the first fatal error */
    struct {
        const char *reason;      /* static string */
        int64_t n;
    } skips[MAX_SKIP_REASONS];
    int nskips;
    int64_t threads, comments;   /* staged */
    int64_t file_bytes;
    bool tty;
    struct timespec last_progress;
};

/* ---- Small helpers ---- */

const char *import_sink_file(const import_sink *s) { return s->file; }

void import_sink_error(import_sink *s, long line, long col, const char *fmt, ...) {
    if (s->failed) return;
    s->failed = true;
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line > 0 && col > 0)
        snprintf(s->err, sizeof s->err, "%s:%ld:%ld: %s", s->file, line, col, what);
    else if (line > 0)
        snprintf(s->err, sizeof s->err, "%s:%ld: %s", s->file, line, what);
    else
        snprintf(s->err, sizeof s->err, "%s: %s", s->file, what);
}

void import_sink_skip(import_sink *s, const char *reason) {
    for (int i = 0; i < s->nskips; i++)
        if (!strcmp(s->skips[i].reason, reason)) {
            s->skips[i].n++;
            return;
        }
    if (s->nskips < MAX_SKIP_REASONS) s->skips[s->nskips++] = (typeof(s->skips[0])){reason, 1};
}

void import_sink_progress(import_sink *s, int64_t bytes) {
    if (!s->tty) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - s->last_progress.tv_sec) * 1000 +
            (now.tv_nsec - s->last_progress.tv_nsec) / 1000000 < 250 &&
        bytes < s->file_bytes)
        return;
    s->last_progress = now;
    double pct = s->file_bytes > 0 ? 100.0 * (double)bytes / (double)s->file_bytes : 0;
    fprintf(stderr, "\rimport: %.1f%% of %.1f MB, %lld threads, %lld comments   ", pct,
            (double)s->file_bytes / 1e6, (long long)s->threads, (long long)s->comments);
    fflush(stderr);
}

int64_t import_parse_time(const char *s) {
    if (!s) return -1;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return -1;
    const char *p = s + n;
    int64_t ms = 0, off = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3 || m != 8) return -1;
        p += 1 + m;
        if (*p == '.' || *p == ',') {
            int digits = 0;
            for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                if (digits < 3) ms = ms * 10 + (*p - '0');
            if (!digits) return -1;
            for (; digits < 3; digits++) ms *= 10;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om = 0, k = 0;
            if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) == 2 && k == 5) {
            } else if (sscanf(p + 1, "%2d%2d%n", &oh, &om, &k) == 2 && k == 4) {
            } else if (sscanf(p + 1, "%2d%n", &oh, &k) == 1 && k == 2) {
                om = 0;
            } else {
                return -1;
            }
            if (oh > 23 || om > 59) return -1;
            off = (int64_t)(oh * 60 + om) * 60000 * (*p == '-' ? -1 : 1);
            p += 1 + k;
        }
    }
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p) return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t < 0) return -1;
    return (int64_t)t * 1000 + ms - off;
}

/* ---- Article ids ---- */

static bool article_char(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == ':' || ch == '/' || ch == '-';
}

/* The rule proto.c applies to the article of a message. */
static bool article_valid(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!article_char((unsigned char)s[n])) return false;
    return n >= 1 && n <= 128;
}

int import_article_id(const char *raw, char out[129]) {
    if (!raw) return -1;
    /* trim surrounding white space */
    while (*raw == ' ' || *raw == '\t' || *raw == '\n' || *raw == '\r') raw++;
    size_t len = strlen(raw);
    while (len && (raw[len - 1] == ' ' || raw[len - 1] == '\t' || raw[len - 1] == '\n' ||
                   raw[len - 1] == '\r'))
        len--;
    /* each run of characters outside the alphabet becomes one '-' */
    char *buf = xmalloc(len + 1);
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)raw[i];
        if (article_char(ch))
            buf[w++] = (char)ch;
        else if (!w || buf[w - 1] != '-')
            buf[w++] = '-';
    }
    buf[w] = '\0';
    /* no '-' left at either end from what was replaced there */
    size_t a = 0, b = w;
    if (len && !article_char((unsigned char)raw[0])) a = 1;
    if (b > a && len && !article_char((unsigned char)raw[len - 1])) b--;
    if (b <= a) {
        free(buf);
        return -1;
    }
    if (b - a <= 128) {
        memcpy(out, buf + a, b - a);
        out[b - a] = '\0';
    } else {
        /* too long: the first 119 characters, '-', and 8 hex digits of a hash of all */
        unsigned char h[4];
        crypto_generichash(h, sizeof h, (const unsigned char *)raw, len, NULL, 0);
        memcpy(out, buf + a, 119);
        snprintf(out + 119, 10, "-%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
    }
    free(buf);
    return 0;
}

/* The path of a URL ("https://host/a/b?q#f" -> "/a/b"); a string without a scheme is
 * taken as a path. Returns a new string or NULL when there is nothing. */
static char *link_path(const char *link) {
    if (!link) return NULL;
    while (*link == ' ' || *link == '\t' || *link == '\n' || *link == '\r') link++;
    if (!*link) return NULL;
    const char *p = strstr(link, "://");
    if (p) {
        p += 3;
        p += strcspn(p, "/?#");
    } else if (link[0] == '/' && link[1] == '/') {
        p = link + 2 + strcspn(link + 2, "/?#");
    } else {
        p = link;
    }
    size_t n = strcspn(p, "?#");
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == '\t'))
        n--;
    if (!n) return xstrdup("/");
    return xstrndup(p, n);
}

/* ---- HTML to text ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    int pending_nl;   /* line breaks owed before the next text */
    bool pending_sp;  /* a space owed before the next text */
    int pre;          /* inside <pre> */
    bool keep_nl;     /* newlines in text are line breaks (WordPress) */
} textbuf;

static void tb_put(textbuf *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        while (t->len + n + 1 > t->cap) t->cap = t->cap ? t->cap * 2 : 256;
        t->buf = xrealloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

/* Writes what is owed (line breaks, or one space) before more text. */
static void tb_flush(textbuf *t) {
    if (t->len && t->pending_nl) {
        for (int i = 0; i < t->pending_nl && i < 3; i++) tb_put(t, "\n", 1);
    } else if (t->len && t->pending_sp && t->buf[t->len - 1] != '\n') {
        tb_put(t, " ", 1);
    }
    t->pending_nl = 0;
    t->pending_sp = false;
}

static void tb_text(textbuf *t, const char *s) {
    for (; *s; s++) {
        char ch = *s;
        if (t->pre) {
            if (ch == '\r') continue;
            if (ch == '\n') {
                t->pending_nl++;
                continue;
            }
            tb_flush(t);
            tb_put(t, s, 1);
        } else if (ch == '\n' && t->keep_nl) {
            t->pending_nl++;
            t->pending_sp = false;
        } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f') {
            if (!t->pending_nl) t->pending_sp = true;
        } else if ((unsigned char)ch == 0xC2 && (unsigned char)s[1] == 0xA0) {
            tb_flush(t); /* &nbsp; holds words together in a page; in text it is a space */
            tb_put(t, " ", 1);
            s++;
        } else {
            tb_flush(t);
            tb_put(t, s, 1);
        }
    }
}

static void tb_block(textbuf *t, int n) {
    if (t->pending_nl < n) t->pending_nl = n;
    t->pending_sp = false;
}

static bool name_in(const char *name, const char *const *list) {
    for (; *list; list++)
        if (!strcasecmp(name, *list)) return true;
    return false;
}

static void html_walk(textbuf *t, xmlNode *n, int depth) {
    static const char *const para[] = {"p", "div", "blockquote", "pre", "h1", "h2", "h3", "h4",
                                       "h5", "h6", "ul", "ol", "table", "hr", "section",
                                       "article", "header", "footer", "figure", "dl", NULL};
    static const char *const line[] = {"li", "tr", "dt", "dd", "figcaption", NULL};
    /* (html and body are implied around the fragment: without them libxml2 2.9 nests
     * what follows a <script> inside it) */
    static const char *const drop[] = {"script", "style", "noscript", "template", "title",
                                       NULL};
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content) tb_text(t, (const char *)n->content);
            continue;
        }
        if (n->type != XML_ELEMENT_NODE || depth > 200) continue;
        const char *name = (const char *)n->name;
        if (name_in(name, drop)) continue;
        if (!strcasecmp(name, "br")) {
            t->pending_nl++;
            t->pending_sp = false;
            continue;
        }
        if (!strcasecmp(name, "img")) {
            xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");
            if (alt && *alt) tb_text(t, (const char *)alt);
            xmlFree(alt);
            continue;
        }
        bool is_para = name_in(name, para), is_line = !is_para && name_in(name, line);
        if (is_para) tb_block(t, 2);
        if (is_line) tb_block(t, 1);
        bool pre = !strcasecmp(name, "pre");
        t->pre += pre;
        size_t start = t->len;
        html_walk(t, n->children, depth + 1);
        t->pre -= pre;
        if (!strcasecmp(name, "a")) {
            xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
            const char *h = (const char *)href;
            if (h) {
                while (*h == ' ' || *h == '\t' || *h == '\n') h++;
                size_t hl = strlen(h);
                while (hl && (h[hl - 1] == ' ' || h[hl - 1] == '\n' || h[hl - 1] == '\t')) hl--;
                const char *shown = t->buf ? t->buf + start : "";
                size_t sl = t->len - start;
                while (sl && (*shown == ' ' || *shown == '\n')) shown++, sl--;
                bool useless = !hl || h[0] == '#' || !strncasecmp(h, "javascript:", 11);
                /* "text (url)", unless the text already is the url */
                bool same = (sl == hl && !memcmp(shown, h, hl)) ||
                            (!strncasecmp(h, "mailto:", 7) && sl == hl - 7 &&
                             !memcmp(shown, h + 7, sl));
                if (!useless && !same) {
                    if (sl) {
                        tb_text(t, " ");
                        tb_flush(t);
                        tb_put(t, "(", 1);
                    } else {
                        tb_flush(t);
                    }
                    tb_put(t, h, hl);
                    if (sl) tb_put(t, ")", 1);
                }
            }
            xmlFree(href);
        }
        if (is_para) tb_block(t, 2);
        if (is_line) tb_block(t, 1);
    }
}

/* The converter behind import_html_text; keep_nl makes a newline in text a line break,
 * as WordPress shows comments (its text keeps newlines and allows some tags). */
static char *html_text(const char *html, size_t len, bool keep_nl) {
    textbuf t = {.keep_nl = keep_nl};
    if (len > INT_MAX) len = INT_MAX;
    if (len) {
        htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                                        HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                            HTML_PARSE_NONET);
        if (doc) {
            html_walk(&t, doc->children, 0);
            xmlFreeDoc(doc);
        }
    }
    if (!t.buf) return xstrdup("");
    return t.buf;
}

char *import_html_text(const char *html, size_t len) { return html_text(html, len, false); }

/* ---- Field cleaning ---- */

/* Cleans imported text as the server cleans posts (NFC, trimming, blank-line runs), but
 * first drops what a post may not contain (controls, bidi overrides, noncharacters; tabs
 * become spaces) instead of refusing the comment. Never checks the limit; *ncp is the
 * length in code points. Returns a new string (possibly ""). */
static char *clean_field(const char *in, text_field_t field, size_t *ncp) {
    *ncp = 0;
    if (!in) return xstrdup("");
    size_t len = strlen(in);
    char *tmp = xmalloc(len * 3 + 4); /* an invalid byte becomes 3 (U+FFFD) */
    size_t w = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) { /* invalid byte: replaced */
            w += (size_t)utf8proc_encode_char(0xFFFD, (utf8proc_uint8_t *)tmp + w);
            p++;
            left--;
            continue;
        }
        p += n;
        left -= n;
        if (cp == '\t') cp = ' ';
        bool nl = cp == '\n' || cp == '\r';
        if ((cp < 0x20 && !nl) || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2066 && cp <= 0x2069) || (cp & 0xFFFE) == 0xFFFE ||
            (cp >= 0xFDD0 && cp <= 0xFDEF))
            continue;
        if (nl && field != TEXT_BODY) cp = ' ';
        w += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)tmp + w);
    }
    char *out = NULL;
    text_status_t st = text_clean(tmp, w, field, SIZE_MAX / 2, &out, ncp);
    free(tmp);
    if (st != TEXT_OK) {
        *ncp = 0;
        return xstrdup("");
    }
    return out;
}

/* ---- The sink ---- */

static const char *map_get(const import_sink *s, const char *key) {
    return s->map && key && *key ? dict_get(s->map, key) : NULL;
}

int import_sink_thread(import_sink *s, const import_thread *t) {
    if (s->failed) return -1;
    char article[129];
    char *path = link_path(t->link);
    const char *mapped = map_get(s, t->source_id);
    if (!mapped) mapped = map_get(s, t->identifier);
    if (!mapped) mapped = map_get(s, t->link);
    if (!mapped) mapped = map_get(s, path);
    int rc = -1;
    if (mapped) {
        snprintf(article, sizeof article, "%s", mapped);
        rc = 0;
    } else {
        if (t->identifier) rc = import_article_id(t->identifier, article);
        if (rc && path) rc = import_article_id(path, article);
    }
    free(path);
    if (rc) {
        import_sink_skip(s, "thread_without_identifier_or_link");
        return 0;
    }
    size_t n;
    char *title = t->title ? clean_field(t->title, TEXT_TITLE, &n) : NULL;
    rc = import_repo_thread(s->repo, t->source_id, article, title && *title ? title : NULL,
                            t->link && *t->link ? t->link : NULL);
    free(title);
    if (rc) {
        import_sink_error(s, 0, 0, "the staging database failed");
        return -1;
    }
    s->threads++;
    return 0;
}

static bool status_known(const char *st) {
    static const char *const ok[] = {"published", "pending", "rejected", "refused", "shadow",
                                     "hidden", "removed", NULL};
    for (const char *const *p = ok; *p; p++)
        if (!strcmp(st, *p)) return true;
    return false;
}

/* A stable author id for an imported reader: the keyed hash of the e-mail address (so
 * one reader is one author across every import), else of the source account, else of
 * the display name within the format. */
static void author_id_for(const import_sink *s, const import_comment *c, char out[64]) {
    char key[1024], hex[33];
    if (c->email && *c->email) {
        size_t i = 0;
        const char *e = c->email;
        while (*e == ' ') e++;
        for (; e[i] && i + 7 < sizeof key; i++)
            key[i] = (char)((e[i] >= 'A' && e[i] <= 'Z') ? e[i] + 32 : e[i]);
        while (i && key[i - 1] == ' ') i--;
        key[i] = '\0';
        char k2[1100];
        snprintf(k2, sizeof k2, "email:%s", key);
        server_hash_hex(k2, strlen(k2), hex);
    } else if (c->account && *c->account) {
        snprintf(key, sizeof key, "account:%s:%s", s->format, c->account);
        server_hash_hex(key, strlen(key), hex);
    } else {
        snprintf(key, sizeof key, "name:%s:%s", s->format, c->name ? c->name : "");
        server_hash_hex(key, strlen(key), hex);
    }
    snprintf(out, 64, "i:%s", hex);
}

int import_sink_comment(import_sink *s, const import_comment *c) {
    if (s->failed) return -1;
    if (!c->source_id || !*c->source_id) {
        import_sink_skip(s, "no_source_id");
        return 0;
    }
    if (!c->thread && !c->article) {
        import_sink_skip(s, "unknown_thread");
        return 0;
    }
    const char *status = c->status ? c->status : "published";
    if (!status_known(status)) {
        import_sink_error(s, 0, 0, "comment %s: unknown status '%s'", c->source_id, status);
        return -1;
    }
    size_t nbody, ntitle, nname;
    char *html_body = NULL;
    if (!c->text && c->html)
        html_body = html_text(c->html, strlen(c->html), !strcmp(s->format, "wordpress"));
    char *body = clean_field(c->text ? c->text : html_body ? html_body : "", TEXT_BODY, &nbody);
    free(html_body);
    char *title = clean_field(c->title, TEXT_TITLE, &ntitle);
    char *name = clean_field(c->name, TEXT_NAME, &nname);
    if (!*name && !c->author_id) {
        free(name);
        name = xstrdup("Anonymous");
    }
    char author[64], iph[33];
    if (!c->author_id) author_id_for(s, c, author);
    const char *ip_hash = c->ip_hash;
    if (!c->author_id && c->ip && *c->ip) {
        server_hash_hex(c->ip, strlen(c->ip), iph);
        ip_hash = iph;
    }
    import_row row = {
        .source_id = c->source_id,
        .thread = c->article ? NULL : c->thread,
        .article = c->article,
        .parent_source = c->parent && *c->parent ? c->parent : NULL,
        .author_id = c->author_id ? c->author_id : author,
        .author_name = name,
        .avatar = c->avatar,
        .ip_hash = ip_hash,
        .guest = c->author_id ? c->guest : 1,
        .title = title,
        .body = body,
        .status = status,
        .reason = c->reason,
        .score = c->score,
        .decision = c->decision,
        .moderated_by = c->moderated_by,
        .created_at = c->created_ms,
        .edited_at = c->edited_ms,
        .updated_at = c->updated_ms,
        .alt_format = c->alt_format,
        .alt_source = c->alt_source,
        .over_limit = nbody > (size_t)s->limit_body || ntitle > (size_t)s->limit_title ||
                      nname > (size_t)s->limit_name,
    };
    int rc = import_repo_comment(s->repo, &row);
    free(body);
    free(title);
    free(name);
    if (rc) {
        import_sink_error(s, 0, 0, "the staging database failed");
        return -1;
    }
    s->comments++;
    return 0;
}

/* ---- --article-map ---- */

/* Reads "KEY ARTICLE-ID" lines (the id is the last field; the key may hold spaces; '#'
 * starts a comment line). Returns the map, or NULL with "file:line: why" printed. */
static dict_t *load_map(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "parley import: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    dict_t *d = dict_new();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                     line[n - 1] == '\t'))
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        char *sp = strrchr(p, ' '), *tab = strrchr(p, '\t');
        if (!sp || (tab && tab > sp)) sp = tab;
        if (!sp) {
            fprintf(stderr, "%s:%ld:1: want 'KEY ARTICLE-ID'\n", path, lineno);
            goto bad;
        }
        char *id = sp + 1;
        while (sp > p && (sp[-1] == ' ' || sp[-1] == '\t')) sp--;
        *sp = '\0';
        if (!article_valid(id)) {
            fprintf(stderr, "%s:%ld:%ld: '%s' is not an article id (1-128 of A-Z a-z 0-9 . _ : / -)\n",
                    path, lineno, (long)(id - line) + 1, id);
            goto bad;
        }
        void *old = NULL;
        dict_set(d, p, xstrdup(id), &old);
        free(old);
    }
    free(line);
    fclose(f);
    return d;
bad:
    free(line);
    fclose(f);
    dict_free(d, free);
    return NULL;
}

/* ---- Commands ---- */

typedef struct {
    const char *config, *data;
    config_t cfg;
    bool have_cfg;
} cli_env;

/* Loads --config (default ./moderation.yml; when that file is absent and --data is
 * given, the built-in defaults do). Returns the data dir, or NULL after printing why. */
static const char *env_load(cli_env *e) {
    char err[CFG_ERRLEN];
    const char *path = e->config ? e->config : "moderation.yml";
    if (!e->config && e->data && access(path, F_OK) != 0) {
        e->cfg.limit_title = 100;
        e->cfg.limit_body = 1000;
        e->cfg.limit_name = 40;
        return e->data;
    }
    if (config_load(path, &e->cfg, err, sizeof err)) {
        fprintf(stderr, "parley: %s\n", err);
        config_free(&e->cfg);
        return NULL;
    }
    e->have_cfg = true;
    return e->data ? e->data : e->cfg.data_dir;
}

static void env_free(cli_env *e) {
    if (e->have_cfg) config_free(&e->cfg);
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_summary(const import_sink *s, const import_result *r, bool dry, double read_s,
                          double write_s) {
    printf("%s %s from %s\n", dry ? "dry run: would import" : "imported", s->format, s->file);
    printf("  threads read:     %lld\n", (long long)r->threads);
    printf("  articles:         %lld (%lld new)\n", (long long)r->articles,
           (long long)r->articles_new);
    printf("  comments:         %lld\n", (long long)r->comments);
    printf("  replies:          %lld\n", (long long)r->replies);
    printf("  over limits kept: %lld\n", (long long)r->over_limit);
    if (r->shared_articles)
        printf("  articles shared by several threads: %lld\n", (long long)r->shared_articles);
    int64_t skipped = r->skip_unknown_thread + r->skip_duplicate + r->skip_already;
    for (int i = 0; i < s->nskips; i++) skipped += s->skips[i].n;
    printf("  skipped:          %lld\n", (long long)skipped);
    if (r->skip_unknown_thread)
        printf("    unknown_thread: %lld\n", (long long)r->skip_unknown_thread);
    if (r->skip_already)
        printf("    already_imported: %lld\n", (long long)r->skip_already);
    if (r->skip_duplicate)
        printf("    duplicate_id: %lld\n", (long long)r->skip_duplicate);
    for (int i = 0; i < s->nskips; i++)
        printf("    %s: %lld\n", s->skips[i].reason, (long long)s->skips[i].n);
    if (r->orphans)
        printf("  replies whose parent is missing (kept at top level): %lld\n",
               (long long)r->orphans);
    printf("  time:             %.1f s reading, %.1f s writing (the database is locked for "
           "writing only then)\n", read_s, write_s);
    fflush(stdout);
}

static void import_usage(FILE *f) {
    fprintf(f, "usage: parley import disqus|wordpress|isso|remark42|commento|parley FILE [--config FILE] [--data DIR]\n"
               "                     [--dry-run] [--article-map FILE]\n");
}

int import_cli(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"article-map", required_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_env env = {0};
    const char *map_file = NULL;
    bool dry = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:nm:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': env.config = optarg; break;
        case 'd': env.data = optarg; break;
        case 'n': dry = true; break;
        case 'm': map_file = optarg; break;
        case 'h': import_usage(stdout); return 0;
        default: import_usage(stderr); return 2;
        }
    }
    if (argc - optind != 2) {
        import_usage(stderr);
        return 2;
    }
    const char *format = argv[optind], *file = argv[optind + 1];
    if (log_get_level() < LOG_WARN) log_set_level(LOG_WARN);
    int (*parse)(const char *, import_sink *) = NULL;
    if (!strcmp(format, "disqus")) parse = import_disqus;
    else if (!strcmp(format, "wordpress") || !strcmp(format, "wxr")) format = "wordpress", parse = import_wxr;
    else if (!strcmp(format, "parley")) parse = import_parley;
    else if (!strcmp(format, "isso")) parse = import_isso;
    else if (!strcmp(format, "remark42")) parse = import_remark42;
    else if (!strcmp(format, "commento")) parse = import_commento;
    if (!parse) {
        fprintf(stderr, "parley import: unknown format '%s' (disqus, wordpress, isso, remark42, "
                        "commento, parley)\n", format);
        return 2;
    }
    struct stat stt;
    if (stat(file, &stt) || !S_ISREG(stt.st_mode)) {
        fprintf(stderr, "parley import: cannot read %s: %s\n", file,
                errno ? strerror(errno) : "not a file");
        return 1;
    }
    const char *dir = env_load(&env);
    if (!dir) return 1;
    import_sink s = {.file = file, .format = format, .file_bytes = (int64_t)stt.st_size,
                     .limit_title = env.cfg.limit_title, .limit_body = env.cfg.limit_body,
                     .limit_name = env.cfg.limit_name, .tty = isatty(2)};
    int rc = 1;
    db_t *db = NULL;
    if (map_file && !(s.map = load_map(map_file))) goto out;
    db = store_open_sync(dir);
    if (!db || server_load_ip_key(dir)) goto out;
    s.repo = import_repo_open(db, format);
    if (!s.repo) goto out;
    xmlInitParser();
    double t0 = mono_s();
    int prc = parse(file, &s);
    double t1 = mono_s();
    if (s.tty) fprintf(stderr, "\n");
    if (prc || s.failed) {
        fprintf(stderr, "parley import: %s\nnothing was imported\n",
                s.err[0] ? s.err : "the file could not be read");
        goto out;
    }
    import_result res;
    if (import_repo_apply(s.repo, dry, &res)) {
        fprintf(stderr, "parley import: the database refused the import; nothing was imported\n");
        goto out;
    }
    print_summary(&s, &res, dry, t1 - t0, mono_s() - t1);
    rc = 0;
out:
    import_repo_close(s.repo);
    if (db) db_close(db);
    if (s.map) dict_free(s.map, free);
    xmlCleanupParser();
    env_free(&env);
    return rc;
}

/* ---- Export ---- */

static json_t *time_or_null(int64_t ms) {
    if (!ms) return json_null();
    char t[32];
    comment_time(ms, t);
    return json_string(t);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* Writes one comment as a JSON line on stdout. */
static int export_line(const export_row *r, void *arg) {
    char created[32];
    comment_time(r->created_at, created);
    json_t *o = json_pack("{s:s, s:I, s:o, s:s, s:s, s:s, s:s, s:s}", "article", r->article,
                          "id", (json_int_t)r->id, "parent",
                          r->parent ? json_integer(r->parent) : json_null(), "title",
                          r->title ? r->title : "", "body", r->body ? r->body : "", "name",
                          r->author_name ? r->author_name : "", "created", created, "status",
                          r->status ? r->status : "");
    json_object_set_new(o, "author_id", json_string(r->author_id ? r->author_id : ""));
    json_object_set_new(o, "guest", json_boolean(r->guest));
    json_object_set_new(o, "avatar", str_or_null(r->avatar));
    json_object_set_new(o, "ip_hash", str_or_null(r->ip_hash && *r->ip_hash ? r->ip_hash : NULL));
    json_object_set_new(o, "reason", str_or_null(r->reason));
    json_object_set_new(o, "score", json_real(r->score));
    json_object_set_new(o, "decision", str_or_null(r->decision));
    json_object_set_new(o, "moderated_by", str_or_null(r->moderated_by));
    json_object_set_new(o, "edited", time_or_null(r->edited_at));
    json_object_set_new(o, "updated", time_or_null(r->updated_at));
    if (r->src_format && r->src_id)
        json_object_set_new(o, "source",
                            json_pack("{s:s, s:s}", "format", r->src_format, "id", r->src_id));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!line) return -1;
    int rc = puts(line) < 0 ? -1 : 0;
    free(line);
    return rc;
}

int export_cli(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"article", required_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    cli_env env = {0};
    const char *article = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:a:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': env.config = optarg; break;
        case 'd': env.data = optarg; break;
        case 'a': article = optarg; break;
        default:
            fprintf(stderr, "usage: parley export [--config FILE] [--data DIR] [--article ID]\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "parley export: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (article && !article_valid(article)) {
        fprintf(stderr, "parley export: '%s' is not an article id\n", article);
        return 2;
    }
    const char *dir = env_load(&env);
    if (!dir) return 1;
    db_t *db = store_open_sync(dir);
    int rc = db ? export_repo_each(db, article, export_line, NULL) : -1;
    if (db) db_close(db);
    env_free(&env);
    if (fflush(stdout) || rc) {
        fprintf(stderr, "parley export: failed\n");
        return 1;
    }
    return 0;
}

/* ---- Backup ---- */

int backup_cli(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    cli_env env = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': env.config = optarg; break;
        case 'd': env.data = optarg; break;
        default: fprintf(stderr, "usage: parley backup FILE [--config FILE] [--data DIR]\n"); return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "usage: parley backup FILE [--config FILE] [--data DIR]\n");
        return 2;
    }
    const char *file = argv[optind];
    if (access(file, F_OK) == 0) {
        fprintf(stderr, "parley backup: %s exists; give a new file\n", file);
        return 1;
    }
    const char *dir = env_load(&env);
    if (!dir) return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/parley.db", dir);
    int rc = 1;
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "parley backup: no database at %s\n", path);
    } else {
        db_t *db = store_open_sync(dir);
        char err[512];
        if (db && backup_repo_copy(db, file, err, sizeof err) == 0) {
            printf("backed up %s to %s\n", path, file);
            rc = 0;
        } else if (db) {
            fprintf(stderr, "parley backup: %s\n", err);
            unlink(file);
        }
        if (db) db_close(db);
    }
    env_free(&env);
    return rc;
}
