/* import_disqus.c: the Disqus XML export, streamed. The file is <disqus> holding
 * <category>, <thread dsq:id> and <post dsq:id> elements in any order; each thread and
 * post is expanded alone (memory is one element at a time) and handed to the sink. */
#include <stdlib.h>
#include <string.h>

#include "import_xml.h"

/* <thread dsq:id="..."><id>identifier</id><link/><title/>...</thread> */
static int do_thread(xmlNode *n, import_sink *s) {
    char *id = import_xml_attr(n, "id");
    if (!id || !*id) {
        free(id);
        import_sink_skip(s, "thread_without_id");
        return 0;
    }
    /* the site's identifier: <id>, or <identifier> / <identifiers><identifier> */
    char *ident = import_xml_text(n, "id");
    if (!ident || !*ident) {
        free(ident);
        ident = import_xml_text(n, "identifier");
    }
    if ((!ident || !*ident) && import_xml_child(n, "identifiers")) {
        free(ident);
        ident = import_xml_text(import_xml_child(n, "identifiers"), "identifier");
    }
    char *link = import_xml_text(n, "link"), *title = import_xml_text(n, "title");
    import_thread t = {.source_id = id, .identifier = ident, .link = link, .title = title,
                       .deleted = import_xml_true(n, "isDeleted")};
    int rc = import_sink_thread(s, &t);
    free(id);
    free(ident);
    free(link);
    free(title);
    return rc;
}

/* <post dsq:id="..."><message>HTML</message><createdAt/><isDeleted/><isSpam/>
 * <author><name/><email/><username/></author><ipAddress/><thread dsq:id/><parent dsq:id/> */
static int do_post(xmlNode *n, import_sink *s) {
    char *id = import_xml_attr(n, "id");
    if (!id || !*id) { /* some exports have posts without dsq:id, but with an <id> */
        free(id);
        id = import_xml_text(n, "id");
    }
    char *created = import_xml_text(n, "createdAt");
    int rc = 0;
    int64_t ms = import_parse_time(created);
    xmlNode *author = import_xml_child(n, "author");
    char *thread = import_xml_attr(import_xml_child(n, "thread"), "id");
    char *parent = import_xml_attr(import_xml_child(n, "parent"), "id");
    char *message = import_xml_text(n, "message"), *ip = import_xml_text(n, "ipAddress");
    char *name = import_xml_text(author, "name"), *email = import_xml_text(author, "email");
    char *user = import_xml_text(author, "username");
    if (!id || !*id) {
        import_sink_skip(s, "post_without_id");
    } else if (ms < 0) {
        xmlNode *c = import_xml_child(n, "createdAt");
        import_sink_error(s, xmlGetLineNo(c ? c : n), 0, "post %s: %s", id,
                          created ? "createdAt is not an ISO 8601 time" : "no createdAt");
        rc = -1;
    } else if (!thread || !*thread) {
        import_sink_skip(s, "unknown_thread");
    } else {
        bool deleted = import_xml_true(n, "isDeleted"), spam = import_xml_true(n, "isSpam");
        import_comment c = {.source_id = id, .thread = thread, .parent = parent, .name = name,
                            .email = email, .ip = ip, .account = user,
                            .html = message ? message : "",
                            .status = deleted ? "removed" : spam ? "rejected" : "published",
                            .created_ms = ms};
        rc = import_sink_comment(s, &c);
    }
    free(id);
    free(created);
    free(thread);
    free(parent);
    free(message);
    free(ip);
    free(name);
    free(email);
    free(user);
    return rc;
}

int import_disqus(const char *path, import_sink *s) {
    import_file *f;
    xmlTextReaderPtr r = import_xml_open(path, s, &f);
    if (!r) return -1;
    int ret = xmlTextReaderRead(r), rc = 0;
    bool root = false;
    while (ret == 1 && !rc) {
        if (import_xml_doctype(r, s)) {
            rc = -1;
            break;
        }
        if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT) {
            ret = xmlTextReaderRead(r);
            continue;
        }
        const char *local = (const char *)xmlTextReaderConstLocalName(r);
        int depth = xmlTextReaderDepth(r);
        if (depth == 0) {
            if (strcmp(local, "disqus")) {
                import_sink_error(s, xmlTextReaderGetParserLineNumber(r), 0,
                                  "the root element is <%s>, not <disqus>: not a Disqus export",
                                  local);
                rc = -1;
                break;
            }
            root = true;
        } else if (depth == 1 && (!strcmp(local, "thread") || !strcmp(local, "post"))) {
            xmlNode *n = xmlTextReaderExpand(r);
            if (!n) {
                rc = -1;
                break;
            }
            rc = !strcmp(local, "thread") ? do_thread(n, s) : do_post(n, s);
            import_sink_progress(s, import_file_offset(f));
            ret = xmlTextReaderNext(r);
            continue;
        }
        ret = xmlTextReaderRead(r);
    }
    if (!rc && ret < 0) rc = -1;
    if (!rc && !root) {
        import_sink_error(s, 0, 0, "no <disqus> element: not a Disqus export");
        rc = -1;
    }
    if (rc) import_xml_fail(r, s);
    xmlFreeTextReader(r);
    return rc;
}
