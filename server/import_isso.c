/* import_isso.c: an Isso database mapped onto import's threads and comments. The file
 * is read through the store_isso repository (Isso's schema, opened read-only, a row at
 * a time); this file holds only the mapping. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "store_isso.h"

/* Isso's mode: 1 accepted, 2 waiting for moderation, 4 deleted (kept for its replies). */
static const char *mode_status(int mode) {
    return mode == 1 ? "published" : mode == 4 ? "removed" : "pending";
}

/* One Isso thread to the sink; non-zero stops the read (the sink has said why). */
static int on_thread(const store_isso_thread *row, void *arg) {
    /* the uri is the page's path, which the widget named the thread by */
    import_thread t = {.source_id = row->id, .identifier = row->uri, .link = row->uri,
                       .title = row->title};
    return import_sink_thread(arg, &t) ? 1 : 0;
}

/* One Isso comment to the sink; non-zero stops the read (the sink has said why). */
static int on_comment(const store_isso_comment *row, void *arg) {
    import_sink *s = arg;
    /* seconds since 1970, up to the end of year 9999: anything else is no time, and
     * would not even convert to milliseconds */
    if (!row->has_created || !(row->created >= 0 && row->created < 253402300800.0)) {
        import_sink_error(s, 0, 0, "comment %s: 'created' is not a time (seconds since 1970)",
                          row->id ? row->id : "?");
        return 1;
    }
    /* the last edit, when it is a time after the creation; else none (not worth stopping
     * the import for) */
    bool edited = row->has_modified && row->modified > row->created &&
                  row->modified < 253402300800.0;
    import_comment c = {.source_id = row->id, .thread = row->tid, .parent = row->parent,
                        .created_ms = (int64_t)(row->created * 1000.0),
                        .status = mode_status(row->mode), .ip = row->remote_addr,
                        /* Markdown as the reader wrote it: already plain text */
                        .text = row->text ? row->text : "", .name = row->author,
                        .email = row->email,
                        .edited_ms = edited ? (int64_t)(row->modified * 1000.0) : 0};
    return import_sink_comment(s, &c) ? 1 : 0;
}

int import_isso(const char *path, import_sink *s) {
    char err[512];
    db_t *db = store_isso_open(path, err, sizeof err);
    if (!db) {
        import_sink_error(s, 0, 0, "cannot open as SQLite: %s", err);
        return -1;
    }
    int rc = store_isso_threads(db, on_thread, s, err, sizeof err);
    if (!rc) rc = store_isso_comments(db, on_comment, s, err, sizeof err);
    if (rc < 0) import_sink_error(s, 0, 0, "%s", err);
    db_close(db);
    return rc ? -1 : 0;
}
