/* import.h: `parley import`, `parley export` and `parley backup`. Each format has a
 * streaming parser (import_disqus.c, import_wxr.c, import_parley.c) that reads its file
 * (and import_isso.c, import_remark42.c, import_commento.c)
 * and hands plain import_thread / import_comment records to a sink; the sink (import.c)
 * maps article ids, hashes addresses, turns HTML into text, checks limits and stages the
 * records through the repository (store_import.c), which applies them at the end
 * in one transaction. */
#ifndef PARLEY_IMPORT_H
#define PARLEY_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct import_sink import_sink;

/* A thread of the source (becomes an article). Strings are borrowed for the call. */
typedef struct {
    const char *source_id;  /* how the source's posts name it (required) */
    const char *identifier; /* the site's own id for the page; NULL or "" when none */
    const char *link;       /* the page's URL */
    const char *title;
    bool deleted;           /* the source deleted it: its comments are imported removed */
} import_thread;

/* A comment of the source. Strings are borrowed for the call; NULL when absent. */
typedef struct {
    const char *source_id;     /* required, unique within the format */
    const char *thread;        /* source id of its thread, or NULL when article is given */
    const char *article;       /* the article id itself (parley's own export) */
    const char *parent;        /* source id of the parent, NULL at top level */
    const char *name;          /* display name */
    const char *email, *ip;    /* raw: only their keyed hash is stored */
    const char *account;       /* the author's account in the source (username) */
    const char *title;
    const char *html;          /* body as HTML (converted to text), or */
    const char *text;          /* body as plain text */
    const char *status;        /* published, pending, rejected, removed, ... */
    int64_t created_ms;
    /* parley's own export: kept verbatim (author_id set means the raw fields are unused) */
    const char *author_id, *ip_hash, *avatar, *reason, *decision, *moderated_by;
    const char *alt_format, *alt_source;
    int guest;
    double score;
    int64_t edited_ms, updated_ms;
} import_comment;

/* Stage a thread or a comment. Return 0, or -1 when the import must stop (the error is
 * already recorded in the sink). */
int import_sink_thread(import_sink *s, const import_thread *t);
int import_sink_comment(import_sink *s, const import_comment *c);
/* Counts a record left out for a reason ("pingback", "no_id", ...). */
void import_sink_skip(import_sink *s, const char *reason);
/* Records a fatal error "file:line:column: what" (line/column 0: left out). */
void import_sink_error(import_sink *s, long line, long col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reports progress: bytes of the file consumed so far (shown on a terminal only). */
void import_sink_progress(import_sink *s, int64_t bytes);
/* The file being read, for messages. */
const char *import_sink_file(const import_sink *s);

/* Format parsers: read path, feed s; return 0 or -1 (error recorded in s). */
int import_disqus(const char *path, import_sink *s);
int import_wxr(const char *path, import_sink *s);
int import_parley(const char *path, import_sink *s);
int import_isso(const char *path, import_sink *s);
int import_remark42(const char *path, import_sink *s);
int import_commento(const char *path, import_sink *s);

/* HTML fragment to plain text: paragraphs and <br> become line breaks, links become
 * "text (url)", entities are decoded, scripts and styles dropped. Returns a new string
 * (caller frees), never NULL. */
char *import_html_text(const char *html, size_t len);

/* Maps any string (a thread identifier, or a link's path) into the article-id alphabet
 * (A-Z a-z 0-9 . _ : / -, 1-128 characters); see docs/migration.md. Returns 0 and
 * writes out, or -1 when nothing usable is left. */
int import_article_id(const char *raw, char out[129]);

/* Parses RFC 3339 / ISO 8601 ("2012-05-12T15:32:15Z", "+02:00", fractions) and
 * "YYYY-MM-DD HH:MM:SS" (taken as UTC) into ms since the epoch; -1 when invalid. */
int64_t import_parse_time(const char *s);

/* The length of a UTF-8 byte order mark at the start of s (3), or 0: files saved by some
 * Windows editors begin with one, which JSON does not allow. */
size_t import_bom_len(const char *s, size_t n);

/* The commands (import_cli.c); argv[0] is the command's own name. Return the exit status. */
int import_cli(int argc, char **argv);
int export_cli(int argc, char **argv);
int backup_cli(int argc, char **argv);

#endif
