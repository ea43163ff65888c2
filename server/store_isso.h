/* store_isso.h: a reader of a foreign Isso database (an SQLite file of Isso's schema:
 * threads(id, uri, title) and comments(tid, id, parent, created, modified, mode,
 * remote_addr, text, author, email, website, ...)), for `parley import --format isso`.
 * The SQL here is Isso's schema, not ours, and runs on SQLite only: the file is always
 * SQLite, whatever backend the server uses. */
#ifndef PARLEY_STORE_ISSO_H
#define PARLEY_STORE_ISSO_H

#include <stddef.h>

#include "store_db.h"

/* Opens the Isso file at path read-only. NULL with a message in err on failure; close
 * with db_close. */
db_t *store_isso_open(const char *path, char *err, size_t errlen);

/* One thread row; strings borrowed for the callback, NULL for SQL NULL. */
typedef struct {
    const char *id, *uri, *title;
} store_isso_thread;

/* One comment row; strings borrowed for the callback, NULL for SQL NULL. created is
 * Isso's creation time in seconds (a REAL), has_created 0 when it is NULL or not a
 * number (a text, a blob); modified, the time of the last edit, likewise (NULL when the
 * comment was never edited). mode: 1 accepted, 2 waiting for moderation, 4 deleted. */
typedef struct {
    const char *id, *tid, *parent, *remote_addr, *text, *author, *email;
    double created, modified;
    int has_created, has_modified, mode;
} store_isso_comment;

/* Calls fn for every thread in id order, then returns 0; stops at the first fn that
 * returns non-zero and returns that value; -1 when the file is not an Isso database or
 * cannot be read, with the reason in err. */
int store_isso_threads(db_t *db, int (*fn)(const store_isso_thread *t, void *arg), void *arg,
                       char *err, size_t errlen);
/* The same for every comment, in id order. */
int store_isso_comments(db_t *db, int (*fn)(const store_isso_comment *c, void *arg),
                        void *arg, char *err, size_t errlen);

#endif
