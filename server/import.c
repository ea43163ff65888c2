/* import.c: the import sink: receives the parsers' threads and comments, maps article
 * ids, hashes addresses, turns HTML into text, checks limits and stages the records
 * (store_import.c). The commands that drive it are in import_cli.c. */
#include "import.h"
#include "import_impl.h"
#include "alloc.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/uri.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <utf8proc.h>

#include "dict.h"
#include "server.h"
#include "store_import.h"
#include "text.h"

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

size_t import_bom_len(const char *s, size_t n) {
    return n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3) ? 3 : 0;
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
bool import_article_valid(const char *s) {
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
 * taken as a path. When the path is only "/", the query is kept: it is what names the
 * page ("https://blog/?p=12", WordPress's plain permalinks), and without it every post
 * of such a site would share one article. Returns a new string or NULL when there is
 * nothing. */
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
    if ((n == 0 || (n == 1 && p[0] == '/')) && p[n] == '?' && p[n + 1] && p[n + 1] != '#') {
        char *q = xstrndup(p + n, strcspn(p + n, "#"));
        char *out = xmalloc(strlen(q) + 2);
        sprintf(out, "/%s", q);
        free(q);
        return out;
    }
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
    bool disqus;      /* links through Disqus's redirector are unwrapped */
} textbuf;

/* Disqus sends the links of a message through its redirector, and its export keeps them
 * so: https://disq.us/url?url=<the target, percent-encoded>%3A<hash>&cuid=<n> (older:
 * http://disq.us/?url=...). The target is the url parameter, decoded, without the
 * ":<hash>" Disqus appends (27 characters of base64url, a SHA-1 digest: so neither a
 * port nor "Special:Page" is taken for one). Returns the target (free() it), or NULL when href is not such a link. */
static char *disqus_target(const char *href) {
    xmlURIPtr u = xmlParseURI(href);
    if (!u) return NULL;
    char *out = NULL;
    const char *q = u->query_raw ? u->query_raw : u->query;
    bool redirector = u->server && (!strcasecmp(u->server, "disq.us") ||
                                    (strlen(u->server) > 8 &&
                                     !strcasecmp(u->server + strlen(u->server) - 8, ".disq.us")));
    if (redirector && q && (!u->path || !strcmp(u->path, "/") || !strcmp(u->path, "/url"))) {
        const char *p = q;
        while (*p && strncmp(p, "url=", 4)) {
            p += strcspn(p, "&");
            p += *p == '&';
        }
        size_t n = strcspn(p, "&");
        if (n > 4) {
            char *raw = xstrndup(p + 4, n - 4);
            for (char *c = raw; *c; c++)
                if (*c == '+') *c = ' '; /* form encoding: '+' is a space ("%2B" a plus) */
            /* "%00" would end the string early: such a link is left as it is */
            char *v = strstr(raw, "%00") ? NULL : xmlURIUnescapeString(raw, 0, NULL);
            free(raw);
            char *colon = v ? strrchr(v, ':') : NULL;
            if (colon) {
                size_t k = strlen(colon + 1);
                bool hash = k == 27;
                for (const char *c = colon + 1; *c && hash; c++)
                    hash = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                           (*c >= '0' && *c <= '9') || *c == '-' || *c == '_';
                if (hash) *colon = '\0';
            }
            if (v && *v) out = xstrdup(v);
            xmlFree(v);
        }
    }
    xmlFreeURI(u);
    return out;
}

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
            char *target = t->disqus && h ? disqus_target(h) : NULL;
            if (target) h = target;
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
            free(target);
            xmlFree(href);
        }
        if (is_para) tb_block(t, 2);
        if (is_line) tb_block(t, 1);
    }
}

/* The converter behind import_html_text; keep_nl makes a newline in text a line break,
 * as WordPress shows comments (its text keeps newlines and allows some tags); disqus
 * unwraps the links of Disqus's redirector. */
static char *html_text(const char *html, size_t len, bool keep_nl, bool disqus) {
    textbuf t = {.keep_nl = keep_nl, .disqus = disqus};
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

char *import_html_text(const char *html, size_t len) {
    return html_text(html, len, false, false);
}

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
                            t->link && *t->link ? t->link : NULL, t->deleted);
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
        html_body = html_text(c->html, strlen(c->html), !strcmp(s->format, "wordpress"),
                              !strcmp(s->format, "disqus"));
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
