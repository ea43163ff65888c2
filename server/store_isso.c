/* store_isso.c: reads an Isso database a row at a time (see store_isso.h). */
#include "store_isso.h"

#include <stdio.h>

/* Text of a column, or NULL for SQL NULL. */
static const char *col(db_stmt *st, int i) {
    return db_col_type(st, i) == DB_NULL ? NULL : db_col_text(st, i);
}

db_t *store_isso_open(const char *path, char *err, size_t errlen) {
    return db_open_sqlite(path, DB_OPEN_READONLY, err, errlen);
}

int store_isso_threads(db_t *db, int (*fn)(const store_isso_thread *t, void *arg), void *arg,
                       char *err, size_t errlen) {
    db_stmt *st;
    if (db_prepare(db, "SELECT id, uri, title FROM threads ORDER BY id", &st) != DB_OK) {
        snprintf(err, errlen, "not an Isso database: %s", db_errmsg(db));
        return -1;
    }
    int step, rc = 0;
    while (!rc && (step = db_step(st)) == DB_ROW) {
        store_isso_thread t = {.id = col(st, 0), .uri = col(st, 1), .title = col(st, 2)};
        rc = fn(&t, arg);
    }
    if (!rc && step != DB_DONE) {
        snprintf(err, errlen, "reading threads: %s", db_errmsg(db));
        rc = -1;
    }
    db_finalize(st);
    return rc;
}

int store_isso_comments(db_t *db, int (*fn)(const store_isso_comment *c, void *arg),
                        void *arg, char *err, size_t errlen) {
    db_stmt *st;
    if (db_prepare(db,
                   "SELECT id, tid, parent, created, mode, remote_addr, text, author, email, "
                   "modified "
                   "FROM comments ORDER BY id",
                   &st) != DB_OK) {
        snprintf(err, errlen, "not an Isso database: %s", db_errmsg(db));
        return -1;
    }
    int step, rc = 0;
    while (!rc && (step = db_step(st)) == DB_ROW) {
        store_isso_comment c = {.id = col(st, 0),
                                .tid = col(st, 1),
                                .parent = col(st, 2),
                                .has_created = db_col_type(st, 3) == DB_FLOAT ||
                                               db_col_type(st, 3) == DB_INTEGER,
                                .created = db_col_double(st, 3),
                                .mode = db_col_int(st, 4),
                                .remote_addr = col(st, 5),
                                .text = col(st, 6),
                                .author = col(st, 7),
                                .email = col(st, 8),
                                .has_modified = db_col_type(st, 9) == DB_FLOAT ||
                                                db_col_type(st, 9) == DB_INTEGER,
                                .modified = db_col_double(st, 9)};
        rc = fn(&c, arg);
    }
    if (!rc && step != DB_DONE) {
        snprintf(err, errlen, "reading comments: %s", db_errmsg(db));
        rc = -1;
    }
    db_finalize(st);
    return rc;
}
