/* store_trust.c: trusted commenters' SQL (see store_trust.h). */
#include "store_trust.h"

#include "log.h"

int store_trust_is_trusted(db_t *db, const char *author, long approved) {
    db_stmt *st = NULL;
    /* bounded: an author with a long record costs at most `approved` + one row each */
    if (db_prepare(db,
                           "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE author_id "
                           "= ?1 AND status = 'published' AND moderated_by IS NOT NULL LIMIT ?2) AS "
                           "approved), CASE WHEN EXISTS (SELECT 1 FROM comments WHERE author_id = "
                           "?1 AND status IN ('rejected','removed')) THEN 1 ELSE 0 END", &st) != DB_OK) {
        log_err("trust: %s", db_errmsg(db));
        db_finalize(st);
        return -1;
    }
    db_bind_text(st, 1, author, -1);
    db_bind_int64(st, 2, approved);
    int r = -1;
    if (db_step(st) == DB_ROW)
        r = db_col_int64(st, 0) >= approved && !db_col_int(st, 1);
    db_finalize(st);
    return r;
}
