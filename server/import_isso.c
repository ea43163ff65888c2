/* import_isso.c: an Isso database (SQLite: threads(id, uri, title) and comments(tid, id,
 * parent, created, modified, mode, remote_addr, text, author, email, website, ...)),
 * opened read-only and read a row at a time. This is the one file outside
 * store_*.c that speaks SQL: the SQL is Isso's schema, not ours (see
 * docs/decisions.md). */
#include "store_db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

static const char *col(db_stmt *st, int i) {
    return db_col_type(st, i) == DB_NULL ? NULL
                                                     : (const char *)db_col_text(st, i);
}

/* Isso's mode: 1 accepted, 2 waiting for moderation, 4 deleted (kept for its replies). */
static const char *mode_status(int mode) {
    return mode == 1 ? "published" : mode == 4 ? "removed" : "pending";
}

int import_isso(const char *path, import_sink *s) {
    db_t *db = NULL;
    db_stmt *st = NULL;
    int rc = -1;
    char err[512];
    if (!(db = db_open_sqlite(path, DB_OPEN_READONLY, err, sizeof err))) {
        import_sink_error(s, 0, 0, "cannot open as SQLite: %s", err);
        goto out;
    }
    if (db_prepare(db, "SELECT id, uri, title FROM threads ORDER BY id", &st) !=
        DB_OK) {
        import_sink_error(s, 0, 0, "not an Isso database: %s", db_errmsg(db));
        goto out;
    }
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        const char *uri = col(st, 1);
        /* the uri is the page's path, which the widget named the thread by */
        import_thread t = {.source_id = col(st, 0), .identifier = uri, .link = uri,
                           .title = col(st, 2)};
        if (import_sink_thread(s, &t)) goto out;
    }
    if (step != DB_DONE) {
        import_sink_error(s, 0, 0, "reading threads: %s", db_errmsg(db));
        goto out;
    }
    db_finalize(st);
    st = NULL;
    if (db_prepare(db, "SELECT id, tid, parent, created, mode, remote_addr, text, "
                               "author, email FROM comments ORDER BY id", &st) != DB_OK) {
        import_sink_error(s, 0, 0, "not an Isso database: %s", db_errmsg(db));
        goto out;
    }
    while ((step = db_step(st)) == DB_ROW) {
        if (db_col_type(st, 3) == DB_NULL) {
            import_sink_error(s, 0, 0, "comment %s has no creation time", col(st, 0));
            goto out;
        }
        import_comment c = {.source_id = col(st, 0), .thread = col(st, 1), .parent = col(st, 2),
                            .created_ms = (int64_t)(db_col_double(st, 3) * 1000.0),
                            .status = mode_status(db_col_int(st, 4)), .ip = col(st, 5),
                            /* Markdown as the reader wrote it: already plain text */
                            .text = col(st, 6) ? col(st, 6) : "", .name = col(st, 7),
                            .email = col(st, 8)};
        if (import_sink_comment(s, &c)) goto out;
    }
    if (step != DB_DONE) {
        import_sink_error(s, 0, 0, "reading comments: %s", db_errmsg(db));
        goto out;
    }
    rc = 0;
out:
    db_finalize(st);
    db_close(db);
    return rc;
}
