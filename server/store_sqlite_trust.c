/* store_sqlite_trust.c: trusted commenters' SQL (see store_sqlite_trust.h). */
#include "store_sqlite_trust.h"

#include "log.h"

int store_trust_is_trusted(sqlite3 *db, const char *author, long approved) {
    sqlite3_stmt *st = NULL;
    /* bounded: an author with a long record costs at most `approved` + one row each */
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE author_id "
                           "= ?1 AND status = 'published' AND moderated_by IS NOT NULL LIMIT ?2)), "
                           "EXISTS (SELECT 1 FROM comments WHERE author_id = ?1 AND status IN "
                           "('rejected','removed'))",
                           -1, &st, NULL) != SQLITE_OK) {
        log_err("trust: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, approved);
    int r = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        r = sqlite3_column_int64(st, 0) >= approved && !sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    return r;
}
