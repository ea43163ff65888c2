/* import_wxr.c: WordPress eXtended RSS (WXR 1.0-1.2), streamed. Each <item> is a post or
 * page; its own fields (title, link, wp:post_name, wp:post_id) are read one at a time
 * and each <wp:comment> is expanded alone, so memory is one comment at a time. The
 * item's comments name it by a key ("#N", its place in the file) that the thread
 * staged when the item ends resolves, whatever order the fields come in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_xml.h"
#include "alloc.h"

typedef struct {
    char key[32];
    char *title, *link, *name, *post_id;
} item_t;

static void item_clear(item_t *it) {
    free(it->title);
    free(it->link);
    free(it->name);
    free(it->post_id);
    memset(it, 0, sizeof *it);
}

/* The comment's status from wp:comment_approved. */
static const char *approved_status(const char *v) {
    if (!v || !strcmp(v, "1") || !strcmp(v, "approve") || !strcmp(v, "approved")) return "published";
    if (!strcmp(v, "spam")) return "rejected";
    if (!strcmp(v, "trash") || !strcmp(v, "post-trashed")) return "removed";
    return "pending"; /* "0", "hold", anything else */
}

static int do_comment(xmlNode *n, const item_t *it, import_sink *s) {
    char *id = import_xml_text(n, "comment_id"), *type = import_xml_text(n, "comment_type");
    char *gmt = import_xml_text(n, "comment_date_gmt"), *local = import_xml_text(n, "comment_date");
    char *parent = import_xml_text(n, "comment_parent");
    char *author = import_xml_text(n, "comment_author");
    char *email = import_xml_text(n, "comment_author_email");
    char *ip = import_xml_text(n, "comment_author_IP");
    char *content = import_xml_text(n, "comment_content");
    char *approved = import_xml_text(n, "comment_approved");
    char *user = import_xml_text(n, "comment_user_id");
    int rc = 0;
    /* the GMT date, unless WordPress left it zero (drafts); then the local one as UTC */
    int64_t ms = gmt && strncmp(gmt, "0000", 4) ? import_parse_time(gmt) : -1;
    if (ms < 0 && local && strncmp(local, "0000", 4)) ms = import_parse_time(local);
    if (type && (!strcmp(type, "pingback") || !strcmp(type, "trackback"))) {
        import_sink_skip(s, type[0] == 'p' ? "pingback" : "trackback");
    } else if (type && *type && strcmp(type, "comment") && strcmp(type, "review")) {
        /* not a reader's comment: editor notes (WordPress 6.9 "note"), WooCommerce order
         * notes and logs ... are private, and would be published here */
        import_sink_skip(s, "other_comment_type");
    } else if (!id || !*id) {
        import_sink_skip(s, "comment_without_id");
    } else if (ms < 0) {
        import_sink_error(s, xmlGetLineNo(n), 0, "comment %s: no valid comment_date_gmt or "
                          "comment_date", id);
        rc = -1;
    } else {
        char account[48] = "";
        if (user && *user && strcmp(user, "0")) snprintf(account, sizeof account, "%s", user);
        import_comment c = {.source_id = id, .thread = it->key,
                            .parent = parent && strcmp(parent, "0") ? parent : NULL,
                            .name = author, .email = email, .ip = ip,
                            .account = account[0] ? account : NULL,
                            .html = content ? content : "", .status = approved_status(approved),
                            .created_ms = ms};
        rc = import_sink_comment(s, &c);
    }
    free(id);
    free(type);
    free(gmt);
    free(local);
    free(parent);
    free(author);
    free(email);
    free(ip);
    free(content);
    free(approved);
    free(user);
    return rc;
}

/* The item is over: stage it as a thread (the article comes from its link's path, else
 * its slug, else its post id). */
static int end_item(item_t *it, import_sink *s) {
    const char *ident = it->link && *it->link ? NULL : it->name && *it->name ? it->name : it->post_id;
    import_thread t = {.source_id = it->key, .identifier = ident, .link = it->link,
                       .title = it->title};
    int rc = import_sink_thread(s, &t);
    item_clear(it);
    return rc;
}

/* Reads the text of the element the reader is on (text and CDATA) into *dst. */
static void read_field(xmlTextReaderPtr r, char **dst) {
    xmlChar *v = xmlTextReaderReadString(r);
    free(*dst);
    const char *p = v ? (const char *)v : "";
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == '\t')) n--;
    *dst = xstrndup(p, n);
    xmlFree(v);
}

int import_wxr(const char *path, import_sink *s) {
    import_file *f;
    xmlTextReaderPtr r = import_xml_open(path, s, &f);
    if (!r) return -1;
    item_t it = {0};
    long nitems = 0;
    int item_depth = -1, ret = xmlTextReaderRead(r), rc = 0;
    bool root = false;
    while (ret == 1 && !rc) {
        int type = xmlTextReaderNodeType(r), depth = xmlTextReaderDepth(r);
        const char *local = (const char *)xmlTextReaderConstLocalName(r);
        if (import_xml_doctype(r, s)) {
            rc = -1;
            break;
        }
        if (type == XML_READER_TYPE_END_ELEMENT && depth == item_depth &&
            !strcmp(local, "item")) {
            rc = end_item(&it, s);
            item_depth = -1;
        } else if (type == XML_READER_TYPE_ELEMENT) {
            if (depth == 0) {
                if (strcmp(local, "rss")) {
                    import_sink_error(s, xmlTextReaderGetParserLineNumber(r), 0,
                                      "the root element is <%s>, not <rss>: not a WordPress "
                                      "export", local);
                    rc = -1;
                    break;
                }
                root = true;
            } else if (item_depth < 0 && !strcmp(local, "item")) {
                if (!xmlTextReaderIsEmptyElement(r)) {
                    item_depth = depth;
                    snprintf(it.key, sizeof it.key, "#%ld", ++nitems);
                }
            } else if (item_depth >= 0 && depth == item_depth + 1) {
                char **field = !strcmp(local, "title")       ? &it.title
                               : !strcmp(local, "link")      ? &it.link
                               : !strcmp(local, "post_name") ? &it.name
                               : !strcmp(local, "post_id")   ? &it.post_id
                                                             : NULL;
                if (field) {
                    read_field(r, field);
                    ret = xmlTextReaderNext(r);
                    continue;
                }
                if (!strcmp(local, "comment")) {
                    xmlNode *n = xmlTextReaderExpand(r);
                    if (!n) {
                        rc = -1;
                        break;
                    }
                    rc = do_comment(n, &it, s);
                    import_sink_progress(s, import_file_offset(f));
                    ret = xmlTextReaderNext(r);
                    continue;
                }
                /* anything else (content:encoded, postmeta, ...): skipped whole */
                ret = xmlTextReaderNext(r);
                continue;
            }
        }
        ret = xmlTextReaderRead(r);
    }
    if (!rc && ret < 0) rc = -1;
    if (!rc && !root) {
        import_sink_error(s, 0, 0, "no <rss> element: not a WordPress export");
        rc = -1;
    }
    if (rc) import_xml_fail(r, s);
    item_clear(&it);
    xmlFreeTextReader(r);
    return rc;
}
