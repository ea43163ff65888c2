/* feed.c: Atom (RFC 4287) feeds of published comments; see feed.h. */
#include "feed.h"
#include "alloc.h"

#include <libxml/xmlwriter.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_comments.h"
#include "errors.h"
#include "net.h"
#include "server.h"
#include "store.h"
#include "store_feed.h"

#define FEED_DEFAULT 50
#define FEED_MAX 200

typedef struct {
    store_job job;      /* first: the store hands this back */
    uint64_t req_id;
    char *article;      /* NULL: the whole site */
    int limit;
    xmlBufferPtr buf;   /* the document, built on the storage thread */
    xmlTextWriterPtr w;
    int entries;
    bool failed;
} feed_job;

/* A permalink: the article's page with the comment as fragment, when the page is known. */
static void permalink(const char *url, int64_t id, char *out, size_t len) {
    if (url && *url)
        snprintf(out, len, "%.*s#comment-%lld", (int)strcspn(url, "#"), url, (long long)id);
    else
        out[0] = '\0';
}

static void write_entry(const feed_row *r, void *arg) {
    feed_job *j = arg;
    xmlTextWriterPtr w = j->w;
    char id[64], created[32], updated[32], link[2200], title[400];
    snprintf(id, sizeof id, "urn:parley:comment:%lld", (long long)r->id);
    comment_time(r->created_at, created);
    comment_time(r->edited_at ? r->edited_at : r->created_at, updated);
    if (r->title && *r->title)
        snprintf(title, sizeof title, "%s", r->title);
    else
        snprintf(title, sizeof title, "Comment by %s", r->author_name ? r->author_name : "");
    int rc = 0;
    if (!j->entries && !j->article) /* newest first: the first row dates the feed */
        rc |= xmlTextWriterWriteElement(w, BAD_CAST "updated", BAD_CAST updated) < 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "entry") < 0;
    rc |= xmlTextWriterWriteElement(w, BAD_CAST "id", BAD_CAST id) < 0;
    rc |= xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST title) < 0;
    rc |= xmlTextWriterWriteElement(w, BAD_CAST "published", BAD_CAST created) < 0;
    rc |= xmlTextWriterWriteElement(w, BAD_CAST "updated", BAD_CAST updated) < 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "author") < 0;
    rc |= xmlTextWriterWriteElement(w, BAD_CAST "name",
                                    BAD_CAST(r->author_name ? r->author_name : "")) < 0;
    rc |= xmlTextWriterEndElement(w) < 0;
    permalink(r->article_url, r->id, link, sizeof link);
    if (link[0]) {
        rc |= xmlTextWriterStartElement(w, BAD_CAST "link") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "rel", BAD_CAST "alternate") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "href", BAD_CAST link) < 0;
        rc |= xmlTextWriterEndElement(w) < 0;
    }
    rc |= xmlTextWriterStartElement(w, BAD_CAST "category") < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "term", BAD_CAST r->article) < 0;
    rc |= xmlTextWriterEndElement(w) < 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "content") < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "text") < 0;
    rc |= xmlTextWriterWriteString(w, BAD_CAST(r->body ? r->body : "")) < 0;
    rc |= xmlTextWriterEndElement(w) < 0;
    rc |= xmlTextWriterEndElement(w) < 0;
    if (rc) j->failed = true;
    j->entries++;
}

/* Storage thread: the whole document. For one article the feed's <updated> is the
 * article's newest comment, written before the entries (Atom wants it in the head). */
static int run_feed(store_job *job, db_t *db) {
    feed_job *j = (feed_job *)job;
    j->buf = xmlBufferCreate();
    j->w = j->buf ? xmlNewTextWriterMemory(j->buf, 0) : NULL;
    if (!j->w) return PERR_INTERNAL;
    xmlTextWriterPtr w = j->w;
    char title[600], url[2048], atitle[400], self[2400];
    const char *base = srv.cfg.public_url;
    int rc = 0;
    rc |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
    rc |= xmlTextWriterStartElementNS(w, NULL, BAD_CAST "feed", BAD_CAST "http://www.w3.org/2005/Atom") < 0;
    if (j->article) {
        feed_repo_article(db, j->article, atitle, sizeof atitle, url, sizeof url);
        snprintf(title, sizeof title, "Comments on %s", atitle[0] ? atitle : j->article);
        snprintf(self, sizeof self, "%s/api/feed?article=%s", base ? base : "", j->article);
        char id[300];
        snprintf(id, sizeof id, "urn:parley:article:%s", j->article);
        rc |= xmlTextWriterWriteElement(w, BAD_CAST "id", BAD_CAST id) < 0;
    } else {
        url[0] = '\0';
        snprintf(title, sizeof title, "Latest comments");
        snprintf(self, sizeof self, "%s/api/feed", base ? base : "");
        rc |= xmlTextWriterWriteElement(w, BAD_CAST "id", BAD_CAST "urn:parley:site") < 0;
    }
    rc |= xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST title) < 0;
    rc |= xmlTextWriterWriteElement(w, BAD_CAST "generator", BAD_CAST "Parley") < 0;
    if (base) {
        rc |= xmlTextWriterStartElement(w, BAD_CAST "link") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "rel", BAD_CAST "self") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "href", BAD_CAST self) < 0;
        rc |= xmlTextWriterEndElement(w) < 0;
    }
    if (url[0]) {
        rc |= xmlTextWriterStartElement(w, BAD_CAST "link") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "rel", BAD_CAST "alternate") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "href", BAD_CAST url) < 0;
        rc |= xmlTextWriterEndElement(w) < 0;
    }
    if (j->article) {
        /* the newest comment dates the feed; the epoch when there is none */
        char updated[32];
        int64_t newest = feed_repo_newest(db, j->article);
        comment_time(newest, updated);
        rc |= xmlTextWriterWriteElement(w, BAD_CAST "updated", BAD_CAST updated) < 0;
        j->entries = 1; /* the head is dated: write_entry must not date it again */
        if (feed_repo_latest(db, j->article, j->limit, write_entry, j)) return PERR_INTERNAL;
    } else {
        if (feed_repo_latest(db, NULL, j->limit, write_entry, j)) return PERR_INTERNAL;
        if (!j->entries) rc |= xmlTextWriterWriteElement(w, BAD_CAST "updated", BAD_CAST "1970-01-01T00:00:00.000Z") < 0;
    }
    rc |= xmlTextWriterEndDocument(w) < 0;
    xmlFreeTextWriter(j->w);
    j->w = NULL;
    return rc || j->failed ? PERR_INTERNAL : 0;
}

static void done_feed(store_job *job) {
    feed_job *j = (feed_job *)job;
    http_req *r = net_http_by_id(j->req_id);
    if (r) {
        http_header h = {"cache-control", "public, max-age=30"};
        if (job->status || !j->buf)
            net_http_respond(r, 503, "text/plain; charset=utf-8", NULL, 0, "unavailable\n", 12);
        else
            net_http_respond(r, 200, "application/atom+xml; charset=utf-8", &h, 1,
                             (const char *)xmlBufferContent(j->buf), (size_t)xmlBufferLength(j->buf));
    }
    if (j->w) xmlFreeTextWriter(j->w);
    if (j->buf) xmlBufferFree(j->buf);
    free(j->article);
    free(j);
}

static bool article_ok(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == ':' || ch == '/' || ch == '-'))
            return false;
    }
    return n >= 1 && n <= 128;
}

static int route_feed(http_req *r) {
    char article[256], nbuf[16];
    bool one = net_http_arg(r, "article", article, sizeof article) >= 0;
    if (one && !article_ok(article))
        return net_http_respond(r, 400, "text/plain; charset=utf-8", NULL, 0,
                                "article must be 1-128 of A-Z a-z 0-9 . _ : / -\n", 47);
    int limit = FEED_DEFAULT;
    if (net_http_arg(r, "n", nbuf, sizeof nbuf) >= 0) {
        char *end;
        long n = strtol(nbuf, &end, 10);
        if (*end || end == nbuf || n < 1 || n > FEED_MAX)
            return net_http_respond(r, 400, "text/plain; charset=utf-8", NULL, 0,
                                    "n must be 1-200\n", 16);
        limit = (int)n;
    }
    feed_job *j = xcalloc(1, sizeof *j);
    j->job.run = run_feed;
    j->job.done = done_feed;
    j->req_id = r->id;
    j->article = one ? xstrdup(article) : NULL;
    j->limit = limit;
    store_submit(srv.store, &j->job);
    return 1;
}

void feed_init(void) { net_add_route("GET", "/api/feed", route_feed); }
