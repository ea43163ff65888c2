/* store_learned.c: SQL of the learned model (tables of migration "learned
 * moderation model" in store.c). */
#include "store_learned.h"
#include "alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("learned: %s: %s", db_errmsg(db), sql);
        db_finalize(st);
        return NULL;
    }
    return st;
}

static char *dup_col(db_stmt *st, int i) {
    const char *s = (const char *)db_col_text(st, i);
    return xstrdup(s ? s : "");
}

int store_learned_meta_get(db_t *db, store_learned_meta *out) {
    memset(out, 0, sizeof *out);
    db_stmt *st = prep(db, "SELECT seq, generation, ham, spam, abuse FROM learned_meta "
                                "WHERE id = 1");
    if (!st) return -1;
    int rc = db_step(st);
    if (rc == DB_ROW) {
        out->seq = db_col_int64(st, 0);
        out->generation = db_col_int64(st, 1);
        for (int i = 0; i < LEARN_NLABELS; i++) out->docs[i] = db_col_double(st, 2 + i);
    }
    db_finalize(st);
    return rc == DB_ROW ? 0 : -1;
}

int store_learned_load(db_t *db, int64_t since, learned_model_t *m) {
    store_learned_meta meta;
    if (store_learned_meta_get(db, &meta)) return -1;
    db_stmt *st = prep(db, "SELECT feature, ham, spam, abuse FROM learned_features WHERE "
                                "seq > ?");
    if (!st) return -1;
    db_bind_int64(st, 1, since);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        double n[LEARN_NLABELS];
        for (int i = 0; i < LEARN_NLABELS; i++) n[i] = db_col_double(st, 1 + i);
        learned_model_set(m, (const char *)db_col_text(st, 0), n);
    }
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("learned: loading the model failed: %s", db_errmsg(db));
        return -1;
    }
    learned_model_set_docs(m, meta.docs);
    return 0;
}

typedef struct {
    db_stmt *st;
    int64_t seq;
    int rc;
} apply_arg;

static void apply_one(const char *feature, const double *n, void *arg) {
    apply_arg *a = arg;
    if (a->rc) return;
    db_reset(a->st);
    db_bind_text(a->st, 1, feature, -1);
    /* ?2..?4: the deltas; ?6..?8: a new feature's counts, never under zero (clamped
     * here: a parameter compared in SQL takes an integer type on PostgreSQL) */
    for (int i = 0; i < LEARN_NLABELS; i++) {
        db_bind_double(a->st, 2 + i, n[i]);
        db_bind_double(a->st, 6 + i, n[i] > 0 ? n[i] : 0);
    }
    db_bind_int64(a->st, 5, a->seq);
    if (db_step(a->st) != DB_DONE) a->rc = -1;
}

/* Halves every count (decay) and drops what is left of rarely seen features. */
static int decay(db_t *db, int64_t seq) {
    static const char *const sql[] = {
        "UPDATE learned_features SET ham = ham / 2, spam = spam / 2, abuse = abuse / 2, seq = ?",
        "DELETE FROM learned_features WHERE ham + spam + abuse < 0.5",
        ("UPDATE learned_meta SET ham = ham / 2, spam = spam / 2, abuse = abuse / 2, "
         "generation = generation + 1 WHERE id = 1"),
    };
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        db_stmt *st = prep(db, sql[i]);
        if (!st) return -1;
        if (i == 0) db_bind_int64(st, 1, seq);
        int rc = db_step(st);
        db_finalize(st);
        if (rc != DB_DONE) {
            log_err("learned: decay failed: %s", db_errmsg(db));
            return -1;
        }
    }
    log_info("learned: the model passed its size; every count halved");
    return 0;
}

int store_learned_apply(db_t *db, const learned_model_t *delta, double max_docs) {
    store_learned_meta meta;
    if (store_learned_meta_get(db, &meta)) return -1;
    int64_t seq = meta.seq + 1;
    double d[LEARN_NLABELS];
    learned_model_docs(delta, d);
    /* counts never go under zero (CASE: both dialects; no two-argument MAX) */
    db_stmt *st = prep(db, "UPDATE learned_meta SET seq = ?1, "
                           "ham = CASE WHEN ham + ?2 > 0 THEN ham + ?2 ELSE 0 END, "
                           "spam = CASE WHEN spam + ?3 > 0 THEN spam + ?3 ELSE 0 END, "
                           "abuse = CASE WHEN abuse + ?4 > 0 THEN abuse + ?4 ELSE 0 END WHERE id = 1");
    if (!st) return -1;
    db_bind_int64(st, 1, seq);
    for (int i = 0; i < LEARN_NLABELS; i++) db_bind_double(st, 2 + i, d[i]);
    int rc = db_step(st) == DB_DONE ? 0 : -1;
    db_finalize(st);
    if (rc) return -1;
    st = prep(db, "INSERT INTO learned_features (feature, ham, spam, abuse, seq) VALUES "
                  "(?1, ?6, ?7, ?8, ?5) ON CONFLICT (feature) DO UPDATE SET "
                  "ham = CASE WHEN learned_features.ham + ?2 > 0 THEN learned_features.ham + ?2 ELSE 0 END, "
                  "spam = CASE WHEN learned_features.spam + ?3 > 0 THEN learned_features.spam + ?3 ELSE 0 END, "
                  "abuse = CASE WHEN learned_features.abuse + ?4 > 0 THEN learned_features.abuse + ?4 ELSE 0 END, "
                  "seq = ?5");
    if (!st) return -1;
    apply_arg a = {st, seq, 0};
    learned_model_each(delta, apply_one, &a);
    db_finalize(st);
    if (a.rc) {
        log_err("learned: updating the model failed: %s", db_errmsg(db));
        return -1;
    }
    double total = 0;
    for (int i = 0; i < LEARN_NLABELS; i++) total += meta.docs[i] + d[i];
    if (max_docs > 0 && total > max_docs) return decay(db, seq);
    return 0;
}

int store_learned_example_get(db_t *db, int64_t comment_id, learn_label_t *label,
                              char **title, char **body) {
    *label = LEARN_NONE;
    *title = *body = NULL;
    db_stmt *st = prep(db, "SELECT label, title, body FROM learned_examples WHERE "
                                "comment_id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, comment_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *label = learned_label_parse((const char *)db_col_text(st, 0));
        *title = dup_col(st, 1);
        *body = dup_col(st, 2);
    }
    db_finalize(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : -1;
}

int store_learned_example_put(db_t *db, int64_t comment_id, learn_label_t label,
                              const char *title, const char *body, int64_t now) {
    db_stmt *st =
        label == LEARN_NONE
            ? prep(db, "DELETE FROM learned_examples WHERE comment_id = ?1")
            : prep(db, "INSERT INTO learned_examples (comment_id, label, title, body, at) VALUES "
                       "(?1, ?2, ?3, ?4, ?5) ON CONFLICT(comment_id) DO UPDATE SET label = ?2, "
                       "title = ?3, body = ?4, at = ?5");
    if (!st) return -1;
    db_bind_int64(st, 1, comment_id);
    if (label != LEARN_NONE) {
        db_bind_text(st, 2, learned_label_name(label), -1);
        db_bind_text(st, 3, title, -1);
        db_bind_text(st, 4, body, -1);
        db_bind_int64(st, 5, now);
    }
    int rc = db_step(st) == DB_DONE ? 0 : -1;
    db_finalize(st);
    return rc;
}

int store_learned_comment_text(db_t *db, int64_t comment_id, char **title, char **body) {
    *title = *body = NULL;
    db_stmt *st = prep(db, "SELECT title, body FROM comments WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, comment_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *title = dup_col(st, 0);
        *body = dup_col(st, 1);
    }
    db_finalize(st);
    return rc == DB_ROW ? 0 : -1;
}

int store_learned_last_decision(db_t *db, int64_t comment_id, int64_t except, char action[32],
                                char **reason) {
    *reason = NULL;
    action[0] = '\0';
    char target[40];
    snprintf(target, sizeof target, "comment:%lld", (long long)comment_id);
    /* the reason is read from the entry's JSON here, not in SQL (json_extract is
     * SQLite's; PostgreSQL spells it ->>) */
    db_stmt *st = prep(db, "SELECT action, after FROM audit WHERE target = ? AND undone = 0 "
                           "AND id <> ? AND action IN ('approve','reject','remove') "
                           "ORDER BY id DESC LIMIT 1");
    if (!st) return -1;
    db_bind_text(st, 1, target, -1);
    db_bind_int64(st, 2, except);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        snprintf(action, 32, "%s", (const char *)db_col_text(st, 0));
        const char *after = (const char *)db_col_text(st, 1);
        json_t *a = after ? json_loads(after, 0, NULL) : NULL;
        const char *r = json_string_value(json_object_get(a, "reason"));
        if (r) *reason = xstrdup(r);
        json_decref(a);
        found = 1;
    }
    db_finalize(st);
    return rc == DB_ROW || rc == DB_DONE ? found : -1;
}
