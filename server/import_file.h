/* import_file.h: the input of the JSON importers (remark42, commento, parley): a file
 * read plain or gzip-compressed, told apart by its first bytes (1f 8b), not by its name
 * (zlib's gzread reads both). Remark42 writes its backups gzipped, and Commento's export
 * is a gzipped JSON file. A leading UTF-8 byte order mark is skipped. A read error, or
 * gzip data that is corrupt or ends early, is recorded in the sink; what was read before
 * it must then be dropped (the import stops, nothing is imported). */
#ifndef PARLEY_IMPORT_FILE_H
#define PARLEY_IMPORT_FILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "import.h"

typedef struct import_file import_file;

/* Opens path; NULL when it cannot be opened (recorded in s). */
import_file *import_file_open(const char *path, import_sink *s);
/* The next line with its line end, NUL-terminated, in a buffer owned by f (valid until
 * the next call); *len is its length. NULL at the end of the file or on an error (then
 * import_file_failed is true). A last line without a line end is returned too. */
const char *import_file_line(import_file *f, size_t *len);
/* Up to want bytes of the (decompressed) text into out: how many, 0 at the end, -1 on an
 * error (recorded). */
long import_file_read(import_file *f, char *out, size_t want);
/* The whole file as one JSON document (json_load_callback: read in chunks, never held
 * whole as text). NULL on an error: a read error is recorded in s, a JSON error is left
 * in *je for the caller. */
json_t *import_file_json(import_file *f, size_t flags, json_error_t *je);
/* True once a read error was recorded. */
bool import_file_failed(const import_file *f);
/* Bytes of the file consumed so far (compressed bytes for a gzip file): comparable with
 * its size on disk, for progress. */
int64_t import_file_offset(import_file *f);
void import_file_close(import_file *f);

/* A file of JSON lines (Remark42's backup, Parley's export): every line that is not
 * blank must be a JSON object (parsed with jansson's flags), else the error is recorded
 * in s with its line and column; each object goes to cb with its line number, and a
 * non-zero return stops the read. Returns 0, or -1 (recorded in s). */
int import_file_json_lines(const char *path, import_sink *s, size_t flags,
                           int (*cb)(json_t *o, long lineno, void *arg), void *arg);

#endif
