/* store_copy.h: `parley store copy --from DIR --to CONNINFO`: an SQLite install moved into
 * PostgreSQL (issue 12). Every table, ids kept, identity sequences advanced past the
 * highest id, the keyed-hash secrets of the data dir carried over (guest ids and address
 * bans stay valid), idempotent (rows already there are left alone), and the row counts of
 * every table compared at the end. */
#ifndef PARLEY_STORE_COPY_H
#define PARLEY_STORE_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store_db.h"

/* What happened to one table. */
typedef struct {
    char name[64];
    int64_t src_rows;  /* in SQLite */
    int64_t dst_rows;  /* in PostgreSQL, after the copy */
    int64_t copied;    /* rows this run inserted */
} store_copy_table;

/* Copies every table of src (SQLite, current schema) into dst (PostgreSQL, current
 * schema), printing a line a table to out. *tables (malloc'd, the caller frees) and *n
 * report each table. Returns 0 when every table's counts match, 1 when some differ, -1
 * on an error (message in err). */
int store_copy(db_t *src, db_t *dst, FILE *out, store_copy_table **tables, size_t *n,
               char *err, size_t errlen);

/* Stores the secret name = value (len bytes) in dst's secrets table, replacing another
 * value. Returns 1 when it changed, 0 when it was already so, -1 on error (err). */
int store_copy_secret(db_t *dst, const char *name, const unsigned char *value, size_t len,
                      char *err, size_t errlen);

/* `parley store copy --from DIR --to CONNINFO`; argv[0] is "copy". Returns the exit
 * status: 0 done and counts match, 1 counts differ or the copy failed, 2 usage. */
int store_copy_cli(int argc, char **argv);

#endif
