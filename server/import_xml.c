/* import_xml.c: libxml2 reader helpers shared by the Disqus and WordPress importers. */
#include "import_xml.h"
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

/* Structured error handler: the first fatal error stops the import with its place. */
static void on_error(void *arg, xmlErrorPtr e) {
    import_sink *s = arg;
    if (!e || e->level < XML_ERR_FATAL) return;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", e->message ? e->message : "malformed XML");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
    import_sink_error(s, e->line, e->int2, "malformed XML: %s", msg);
}

static int io_read(void *arg, char *out, int len) {
    return (int)import_file_read(arg, out, len > 0 ? (size_t)len : 0);
}

static int io_close(void *arg) {
    import_file_close(arg);
    return 0;
}

xmlTextReaderPtr import_xml_open(const char *path, import_sink *s, import_file **file) {
    /* read through import_file.c rather than by libxml2 itself: gzipped exports whatever
     * zlib support libxml2 was built with, a cut or damaged gzip file said so instead of
     * seen as malformed XML, and progress in bytes of the file on disk */
    import_file *f = import_file_open(path, s);
    if (!f) return NULL;
    /* the reader owns f from here (io_close), even when it cannot be made */
    xmlTextReaderPtr r =
        xmlReaderForIO(io_read, io_close, f, path, NULL,
                       XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOERROR |
                           XML_PARSE_NOWARNING);
    *file = r ? f : NULL;
    if (!r) {
        import_sink_error(s, 0, 0, "cannot open the file as XML");
        return NULL;
    }
    xmlTextReaderSetStructuredErrorHandler(r, on_error, s);
    return r;
}

int import_xml_doctype(xmlTextReaderPtr r, import_sink *s) {
    if (xmlTextReaderNodeType(r) != XML_READER_TYPE_DOCUMENT_TYPE) return 0;
    import_sink_error(s, 0, 0, "the file has a DTD (<!DOCTYPE ...>), which no export has: refused");
    return 1;
}

void import_xml_fail(xmlTextReaderPtr r, import_sink *s) {
    import_sink_error(s, xmlTextReaderGetParserLineNumber(r),
                      xmlTextReaderGetParserColumnNumber(r), "malformed XML");
}

xmlNode *import_xml_child(xmlNode *n, const char *local) {
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, local)) return c;
    return NULL;
}

static char *trimmed(const char *v) {
    while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n' || v[n - 1] == '\r')) n--;
    return xstrndup(v, n);
}

char *import_xml_text(xmlNode *n, const char *local) {
    xmlNode *c = import_xml_child(n, local);
    if (!c) return NULL;
    xmlChar *v = xmlNodeGetContent(c);
    char *out = trimmed(v ? (const char *)v : "");
    xmlFree(v);
    return out;
}

char *import_xml_attr(xmlNode *n, const char *local) {
    for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next) {
        const char *name = (const char *)a->name;
        const char *colon = strchr(name, ':'); /* an undeclared prefix stays in the name */
        if (!strcmp(name, local) || (colon && !strcmp(colon + 1, local))) {
            xmlChar *v = xmlNodeGetContent((xmlNode *)a);
            char *out = trimmed(v ? (const char *)v : "");
            xmlFree(v);
            return out;
        }
    }
    return NULL;
}

int import_xml_true(xmlNode *n, const char *local) {
    char *v = import_xml_text(n, local);
    int t = v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "True"));
    free(v);
    return t;
}
