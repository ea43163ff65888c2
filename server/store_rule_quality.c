/* store_rule_quality.c: SQL of per-rule quality (tables rule_quality and
 * rule_overturns of the "moderation that learns" migration in store.c). */
#include "store_rule_quality.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("rule quality: %s: %s", db_errmsg(db), sql);
        db_finalize(st);
        return NULL;
    }
    return st;
}

/* Steps a statement that returns no rows, finalizes it; 0 or -1. */
static int run(db_stmt *st) {
    if (!st) return -1;
    int rc = db_step(st) == DB_DONE ? 0 : -1;
    db_finalize(st);
    return rc;
}

int store_rq_add(db_t *db, const store_rq_delta *d, size_t n) {
    if (!n) return 0;
    /* one statement for every rule: VALUES (?, ?, ?), (?, ?, ?), ... */
    static const char head[] = "INSERT INTO rule_quality (rule, hits, holds) VALUES ";
    static const char tuple[] = ", (?, ?, ?)";
    static const char tail[] = " ON CONFLICT (rule) DO UPDATE SET hits = rule_quality.hits + "
                               "excluded.hits, holds = rule_quality.holds + excluded.holds";
    size_t cap = sizeof head + n * (sizeof tuple - 1) + sizeof tail;
    char *sql = xmalloc(cap), *o = sql;
    o = stpcpy(o, head);
    for (size_t i = 0; i < n; i++) o = stpcpy(o, tuple + (i ? 0 : 2));
    stpcpy(o, tail);
    db_stmt *st = prep(db, sql);
    free(sql);
    if (!st) return -1;
    for (size_t i = 0; i < n; i++) {
        db_bind_text(st, (int)(3 * i + 1), d[i].rule, -1);
        db_bind_int64(st, (int)(3 * i + 2), d[i].hits);
        db_bind_int64(st, (int)(3 * i + 3), d[i].holds);
    }
    return run(st);
}

int store_rq_comment(db_t *db, int64_t id, char **status, char **decision) {
    *status = *decision = NULL;
    db_stmt *st = prep(db, "SELECT status, decision FROM comments WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *status = xstrdup((const char *)db_col_text(st, 0));
        const char *d = (const char *)db_col_text(st, 1);
        *decision = xstrdup(d ? d : "{}");
    }
    db_finalize(st);
    return rc == DB_ROW ? 0 : -1;
}

int store_rq_clear(db_t *db, int64_t id) {
    db_stmt *st = prep(db, "DELETE FROM rule_overturns WHERE comment_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    return run(st);
}

int store_rq_overturn(db_t *db, int64_t id, const char *rule, const char *kind) {
    db_stmt *st = prep(db, "INSERT INTO rule_overturns (comment_id, rule, kind) VALUES (?, ?, ?) "
                                "ON CONFLICT (comment_id, rule) DO UPDATE SET kind = excluded.kind");
    if (!st) return -1;
    db_bind_int64(st, 1, id);
    db_bind_text(st, 2, rule, -1);
    db_bind_text(st, 3, kind, -1);
    return run(st);
}

int store_rq_list(db_t *db, store_rq_row **rows) {
    *rows = NULL;
    db_stmt *st = prep(
        db, "SELECT rule, CAST(SUM(hits) AS BIGINT), CAST(SUM(holds) AS BIGINT), "
            "CAST(SUM(ah) AS BIGINT), CAST(SUM(rp) AS BIGINT) FROM ("
            "SELECT rule, hits, holds, 0 AS ah, 0 AS rp FROM rule_quality UNION ALL "
            "SELECT rule, 0, 0, CASE WHEN kind = 'approved_held' THEN 1 ELSE 0 END, "
            "CASE WHEN kind = 'rejected_passed' THEN 1 ELSE 0 END FROM rule_overturns) AS q "
            "GROUP BY rule ORDER BY rule");
    if (!st) return -1;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            store_rq_row *r = xrealloc(*rows, cap * sizeof *r);
            *rows = r;
        }
        store_rq_row *r = &(*rows)[n++];
        snprintf(r->rule, sizeof r->rule, "%s", (const char *)db_col_text(st, 0));
        r->hits = db_col_int64(st, 1);
        r->holds = db_col_int64(st, 2);
        r->approved_held = db_col_int64(st, 3);
        r->rejected_passed = db_col_int64(st, 4);
    }
    db_finalize(st);
    if (rc != DB_DONE) {
        free(*rows);
        *rows = NULL;
        return -1;
    }
    return (int)n;
}
