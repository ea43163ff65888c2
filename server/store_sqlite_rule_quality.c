/* store_sqlite_rule_quality.c: SQL of per-rule quality (tables rule_quality and
 * rule_overturns of the "moderation that learns" migration in store.c). */
#include "store_sqlite_rule_quality.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_err("rule quality: %s: %s", sqlite3_errmsg(db), sql);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Steps a statement that returns no rows, finalizes it; 0 or -1. */
static int run(sqlite3_stmt *st) {
    if (!st) return -1;
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int store_rq_hit(sqlite3 *db, const char *rule, bool held) {
    sqlite3_stmt *st = prep(db, "INSERT INTO rule_quality (rule, hits, holds) VALUES (?1, 1, ?2) "
                                "ON CONFLICT(rule) DO UPDATE SET hits = hits + 1, holds = holds + ?2");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, rule, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, held ? 1 : 0);
    return run(st);
}

int store_rq_comment(sqlite3 *db, int64_t id, char **status, char **decision) {
    *status = *decision = NULL;
    sqlite3_stmt *st = prep(db, "SELECT status, decision FROM comments WHERE id = ?");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *status = xstrdup((const char *)sqlite3_column_text(st, 0));
        const char *d = (const char *)sqlite3_column_text(st, 1);
        *decision = xstrdup(d ? d : "{}");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int store_rq_clear(sqlite3 *db, int64_t id) {
    sqlite3_stmt *st = prep(db, "DELETE FROM rule_overturns WHERE comment_id = ?");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    return run(st);
}

int store_rq_overturn(sqlite3 *db, int64_t id, const char *rule, const char *kind) {
    sqlite3_stmt *st = prep(db, "INSERT OR REPLACE INTO rule_overturns (comment_id, rule, kind) "
                                "VALUES (?, ?, ?)");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    return run(st);
}

int store_rq_list(sqlite3 *db, store_rq_row **rows) {
    *rows = NULL;
    sqlite3_stmt *st = prep(
        db, "SELECT rule, SUM(hits), SUM(holds), SUM(ah), SUM(rp) FROM ("
            "SELECT rule, hits, holds, 0 AS ah, 0 AS rp FROM rule_quality UNION ALL "
            "SELECT rule, 0, 0, kind = 'approved_held', kind = 'rejected_passed' FROM rule_overturns) "
            "GROUP BY rule ORDER BY rule");
    if (!st) return -1;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            store_rq_row *r = xrealloc(*rows, cap * sizeof *r);
            *rows = r;
        }
        store_rq_row *r = &(*rows)[n++];
        snprintf(r->rule, sizeof r->rule, "%s", (const char *)sqlite3_column_text(st, 0));
        r->hits = sqlite3_column_int64(st, 1);
        r->holds = sqlite3_column_int64(st, 2);
        r->approved_held = sqlite3_column_int64(st, 3);
        r->rejected_passed = sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*rows);
        *rows = NULL;
        return -1;
    }
    return (int)n;
}
