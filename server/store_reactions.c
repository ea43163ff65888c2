/* store_reactions.c: SQL for likes (see store_reactions.h). */
#include "store_reactions.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("store: prepare failed: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

int store_reactions_target(db_t *db, int64_t comment, store_reaction_target *out) {
    memset(out, 0, sizeof *out);
    db_stmt *st = prep(db, "SELECT article, author_id, status FROM comments WHERE id = ?");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    int rc = -1;
    if (db_step(st) == DB_ROW) {
        out->article = strdup((const char *)db_col_text(st, 0));
        snprintf(out->author_id, sizeof out->author_id, "%s",
                 (const char *)db_col_text(st, 1));
        out->published = !strcmp((const char *)db_col_text(st, 2), "published");
        rc = 0;
    }
    db_finalize(st);
    return rc;
}

int store_reactions_set(db_t *db, int64_t comment, const char *reader, bool like) {
    db_stmt *st =
        prep(db, like ? "INSERT INTO reactions (comment_id, reader, created_at) VALUES "
                        "(?1, ?2, ?3) ON CONFLICT (comment_id, reader) DO NOTHING"
                      : "DELETE FROM reactions WHERE comment_id = ?1 AND reader = ?2");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    db_bind_text(st, 2, reader, -1);
    if (like) db_bind_int64(st, 3, db_now_ms(db));
    int rc = db_step(st) == DB_DONE ? 0 : -1;
    db_finalize(st);
    if (rc || db_changes(db) == 0) return rc;
    st = prep(db, "UPDATE comments SET likes = likes + ?2, likes_seq = likes_seq + 1 WHERE id = ?1");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    db_bind_int(st, 2, like ? 1 : -1);
    rc = db_step(st) == DB_DONE ? 1 : -1;
    db_finalize(st);
    return rc;
}

int64_t store_reactions_count(db_t *db, int64_t comment, const char *reader, bool *liked,
                              int64_t *seq) {
    db_stmt *st = prep(db, "SELECT likes, likes_seq, EXISTS (SELECT 1 FROM reactions WHERE "
                                "comment_id = ?1 AND reader = ?2) FROM comments WHERE id = ?1");
    if (!st) return -1;
    db_bind_int64(st, 1, comment);
    db_bind_text(st, 2, reader, -1);
    int64_t n = -1;
    *liked = false;
    if (db_step(st) == DB_ROW) {
        n = db_col_int64(st, 0);
        if (seq) *seq = db_col_int64(st, 1);
        *liked = db_col_int(st, 2) != 0;
    }
    db_finalize(st);
    return n;
}

int store_reactions_attach(db_t *db, const char *reader, json_t *comments) {
    /* id -> comment object (borrowed), and the ids as a JSON array for json_each */
    json_t *byid = json_object(), *ids = json_array(), *cm;
    size_t i;
    char key[24];
    json_array_foreach(comments, i, cm) {
        json_int_t id = json_integer_value(json_object_get(cm, "id"));
        snprintf(key, sizeof key, "%lld", (long long)id);
        json_object_set(byid, key, cm);
        json_array_append_new(ids, json_integer(id));
        json_object_set_new(cm, "likes", json_integer(0));
        json_object_set_new(cm, "likes_seq", json_integer(0));
    }
    char *list = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    int rc = -1;
    /* the ids go as one JSON array; each dialect has its own table function for it */
    const char *ids_sql = db_dialect(db) == DB_POSTGRES
                              ? "(SELECT CAST(value AS BIGINT) FROM "
                                "json_array_elements_text(CAST(?1 AS json)))"
                              : "(SELECT value FROM json_each(?1))";
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT id, likes, likes_seq FROM comments WHERE id IN %s", ids_sql);
    db_stmt *st = prep(db, sql);
    if (!st) goto out;
    db_bind_text(st, 1, list, -1);
    while (db_step(st) == DB_ROW) {
        snprintf(key, sizeof key, "%lld", (long long)db_col_int64(st, 0));
        json_t *c = json_object_get(byid, key);
        if (!c) continue;
        json_object_set_new(c, "likes", json_integer(db_col_int64(st, 1)));
        json_object_set_new(c, "likes_seq", json_integer(db_col_int64(st, 2)));
    }
    db_finalize(st);
    snprintf(sql, sizeof sql, "SELECT comment_id FROM reactions WHERE reader = ?2 AND "
                              "comment_id IN %s", ids_sql);
    st = prep(db, sql);
    if (!st) goto out;
    db_bind_text(st, 1, list, -1);
    db_bind_text(st, 2, reader, -1);
    while (db_step(st) == DB_ROW) {
        snprintf(key, sizeof key, "%lld", (long long)db_col_int64(st, 0));
        json_t *c = json_object_get(byid, key);
        if (c) json_object_set_new(c, "liked", json_true());
    }
    db_finalize(st);
    rc = 0;
out:
    free(list);
    json_decref(byid);
    return rc;
}
