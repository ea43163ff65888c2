/* assets.h: content versions of the static files the server hands to host pages, so
 * the widget can be fetched from a versioned URL (?v=VERSION) cached for a year, and the
 * loader (embed.js) can name the widget's current version. Layer 1 (util): it knows
 * files and bytes, not HTTP. */
#ifndef PARLEY_ASSETS_H
#define PARLEY_ASSETS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Length of a version string: 16 hex digits, without the NUL. */
#define ASSETS_VERSION_LEN 16

/* The placeholder in web/embed.js that the server replaces with the widget's version. */
#define ASSETS_WIDGET_PLACEHOLDER "@PARLEY_WIDGET_VERSION@"

/* Writes the version of len bytes at data (the first 8 bytes of their BLAKE2b hash, in
 * hex) into out. */
void assets_version(const void *data, size_t len, char out[ASSETS_VERSION_LEN + 1]);

/* Writes the version of the file at path into out, from a small cache keyed by the
 * file's size and modification time. Returns 0, or -1 when the file cannot be read
 * (out is then ""). */
int assets_file_version(const char *path, char out[ASSETS_VERSION_LEN + 1]);

/* The widget (/widget.js) is no one file on disk: it is the parts under the web root
 * (widget/text.js, widget/socket.js, widget/thread.js) joined in that fixed order
 * (docs/architecture.md, "The widget's parts"). */
#define ASSETS_WIDGET_PATH "/widget.js"

/* Stats the widget's parts under root: *size is their total size, *mtime the latest
 * modification time, *stamp a digest of every part's size and modification time (it
 * changes when any part does). Returns 0, or -1 when a part is missing, not a regular
 * file or too big. */
int assets_widget_stat(const char *root, off_t *size, struct timespec *mtime, uint64_t *stamp);

/* Reads the widget's parts under root and joins them in order. Returns a malloc'd buffer
 * (NUL-terminated; the caller frees it) of *len bytes, or NULL when a part cannot be
 * read. */
char *assets_widget_read(const char *root, size_t *len);

/* Writes the version of the joined widget (what assets_version gives for the bytes
 * served as /widget.js) into out, from the cache of assets_file_version keyed by the
 * parts' stamp. Returns 0, or -1 when a part cannot be read (out is then ""). */
int assets_widget_version(const char *root, char out[ASSETS_VERSION_LEN + 1]);

/* Returns a malloc'd copy of data (len bytes) with every occurrence of needle replaced by
 * repl, and its length in *outlen; the caller frees it. Returns NULL when needle does not
 * occur (nothing allocated). */
char *assets_replace(const char *data, size_t len, const char *needle, const char *repl,
                     size_t *outlen);

#endif
