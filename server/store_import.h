/* store_import.h: the repository behind `parley import`, `export` and `backup`.
 * An import stages every thread and comment of a file in temporary tables first (no lock
 * on the live database, bounded memory), then applies them in one write transaction:
 * threads resolved, duplicates and earlier imports dropped, comments inserted in time
 * order with their source ids remembered, parents fixed up from source ids. */
#ifndef PARLEY_STORE_IMPORT_H
#define PARLEY_STORE_IMPORT_H

#include "store_db.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct import_repo import_repo;

/* One comment ready to store: every string already cleaned, hashed and mapped. Strings
 * are borrowed for the duration of the call. NULL means absent (SQL NULL or default). */
typedef struct {
    const char *source_id;     /* unique within the format */
    const char *thread;        /* source thread id, resolved at apply; or NULL */
    const char *article;       /* the article id when the source names it directly */
    const char *parent_source; /* source id of the parent; NULL at top level */
    const char *author_id, *author_name, *avatar, *ip_hash;
    int guest;
    const char *title, *body, *status, *reason, *decision, *moderated_by;
    double score;
    int64_t created_at, edited_at, updated_at; /* ms; edited/updated 0 = none */
    const char *alt_format, *alt_source;       /* a further source id to remember */
    int over_limit;                            /* 1 when kept although over today's limits */
} import_row;

/* What an apply did (or, on a dry run, would have done). */
typedef struct {
    int64_t threads, articles, articles_new, comments, replies, over_limit;
    int64_t skip_unknown_thread, skip_duplicate, skip_already, orphans, shared_articles;
    int64_t cycles; /* replies whose parent link closed a loop: kept at top level */
    int64_t in_deleted_threads; /* comments of threads the source deleted: kept removed */
} import_result;

/* Opens the staging tables on db for one import of format; NULL on failure (logged). */
import_repo *import_repo_open(db_t *db, const char *format);
/* Stages a thread (its source id, article id, title and link; deleted when the source
 * deleted it, which makes its comments removed). Returns 0 or -1. */
int import_repo_thread(import_repo *r, const char *source_id, const char *article,
                       const char *title, const char *url, bool deleted);
/* Stages a comment. Returns 0 or -1. */
int import_repo_comment(import_repo *r, const import_row *row);
/* Applies everything staged in one transaction; rolls back instead of committing when
 * dry_run. Fills res. Returns 0 or -1 (nothing stored). */
int import_repo_apply(import_repo *r, bool dry_run, import_result *res);
/* Drops the staging tables and frees r. */
void import_repo_close(import_repo *r);

/* One stored comment as `parley export` writes it. Strings belong to the repository and
 * are valid during the callback only; NULL when the column is NULL. */
typedef struct {
    int64_t id, parent; /* parent 0: top level */
    const char *article, *author_id, *author_name, *avatar, *ip_hash, *title, *body;
    const char *status, *reason, *decision, *moderated_by, *src_format, *src_id;
    int guest;
    double score;
    int64_t created_at, edited_at, updated_at; /* 0: none */
} export_row;

/* Calls cb for every comment (of article when not NULL) in id order; stops when cb
 * returns non-zero and returns that value; -1 on a database error. */
int export_repo_each(db_t *db, const char *article, int (*cb)(const export_row *, void *),
                     void *arg);

/* Copies the live database db into a new SQLite file at path with the online backup API
 * (a consistent snapshot while others write). Returns 0, or -1 with a message in err. */
int backup_repo_copy(db_t *db, const char *path, char *err, size_t errlen);

#endif
