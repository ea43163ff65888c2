/* store_trust.c: trusted commenters' SQL (see store_trust.h), with a short memory of the
 * answers so a prolific author does not cost a walk over all their comments per post. */
#include "store_trust.h"

#include <stdlib.h>

#include "alloc.h"
#include "clock.h"
#include "dict.h"
#include "log.h"

/* Remembered answers: author -> trust_memo. Storage thread only (the one thread that
 * scores posts); a command-line tool has one thread too. */
typedef struct {
    int trusted;
    long approved;  /* the threshold the answer was for */
    uint64_t at_ms; /* mono_ms() when read */
} trust_memo;

static dict_t *memo;

/* Reads from the store whether author has `approved` moderator-approved comments and
 * none rejected or removed: 1, 0, or -1 on error. Walks the author's comments (index
 * comments_author): as many as they have when they have no approval. */
static int query(db_t *db, const char *author, long approved) {
    db_stmt *st = NULL;
    /* bounded: an author with a long record costs at most `approved` + one row each */
    if (db_prepare(db,
                   "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE author_id "
                   "= ?1 AND status = 'published' AND moderated_by IS NOT NULL LIMIT ?2) AS a), "
                   "CASE WHEN EXISTS (SELECT 1 FROM comments WHERE author_id = ?1 AND status IN "
                   "('rejected','removed')) THEN 1 ELSE 0 END",
                   &st) != DB_OK) {
        log_err("trust: %s", db_errmsg(db));
        db_finalize(st);
        return -1;
    }
    db_bind_text(st, 1, author, -1);
    db_bind_int64(st, 2, approved);
    int r = -1;
    if (db_step(st) == DB_ROW) r = db_col_int64(st, 0) >= approved && !db_col_int(st, 1);
    db_finalize(st);
    return r;
}

int store_trust_is_trusted(db_t *db, const char *author, long approved) {
    uint64_t now = mono_ms();
    if (!memo) memo = dict_new();
    trust_memo *m = dict_get(memo, author);
    if (m && m->approved == approved && now - m->at_ms < STORE_TRUST_MEMO_MS) return m->trusted;
    int r = query(db, author, approved);
    if (r < 0) return r;
    if (!m) {
        if (dict_size(memo) >= STORE_TRUST_MEMO_MAX) store_trust_forget();
        m = xmalloc(sizeof *m);
        dict_set(memo, author, m, NULL);
    }
    *m = (trust_memo){r, approved, now};
    return r;
}

void store_trust_forget(void) {
    if (!memo) return;
    dict_free(memo, free);
    memo = NULL;
}
