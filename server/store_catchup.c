/* store_catchup.c: reads for catch-up by id (store_catchup.h). */
#include "store_catchup.h"

#include "errors.h"
#include "log.h"
#include "store_comments.h"

int store_catchup_after(db_t *db, const char *article, int64_t after_id, int limit,
                        json_t *out) {
    db_stmt *st;
    if (db_prepare(db,
                   "SELECT " COMMENT_COLUMNS " FROM comments WHERE article = ? AND "
                   "status = 'published' AND id > ? ORDER BY id LIMIT ?",
                   &st) != DB_OK) {
        log_err("store: catch-up read: %s", db_errmsg(db));
        return PERR_UNAVAILABLE;
    }
    db_bind_text(st, 1, article, -1);
    db_bind_int64(st, 2, after_id);
    db_bind_int(st, 3, limit);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) json_array_append_new(out, comment_from_row(st));
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("store: catch-up read: %s", db_errmsg(db));
        return PERR_UNAVAILABLE;
    }
    return 0;
}
