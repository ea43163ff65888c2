/* import_xml.h: what the XML importers share on top of libxml2's streaming reader:
 * opening a file with errors routed to the sink, and reading one expanded element. */
#ifndef PARLEY_IMPORT_XML_H
#define PARLEY_IMPORT_XML_H

#include <libxml/tree.h>
#include <libxml/xmlreader.h>

#include "import.h"
#include "import_file.h"

/* Opens path, plain or gzipped (import_file.c), for streaming (no network, no external
 * entities, big line numbers); well-formedness errors are recorded in s with their line
 * and column. NULL on failure (recorded). Free with xmlFreeTextReader, which closes
 * *file too (borrowed meanwhile, for import_file_offset). */
xmlTextReaderPtr import_xml_open(const char *path, import_sink *s, import_file **file);
/* True, with the error recorded in s, when the reader is on a <!DOCTYPE>: exports have
 * none, and the entities a DTD declares could expand a small file without bound (each
 * reference is expanded again wherever the text is read). */
int import_xml_doctype(xmlTextReaderPtr r, import_sink *s);
/* Records the reader's failure in s unless an error is already recorded. */
void import_xml_fail(xmlTextReaderPtr r, import_sink *s);
/* The first element child of n with this local name (any namespace), or NULL. */
xmlNode *import_xml_child(xmlNode *n, const char *local);
/* The text (text and CDATA) of the named child, trimmed: a new string (free() it), or
 * NULL when the child is absent. */
char *import_xml_text(xmlNode *n, const char *local);
/* An attribute by local name in any namespace or none (dsq:id, id); new string or NULL. */
char *import_xml_attr(xmlNode *n, const char *local);
/* True when the named child's text is "true" or "1". */
int import_xml_true(xmlNode *n, const char *local);

#endif
