/* store_import.c: the SQL of import, export and backup (see the header). */
#include "store_import.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

struct import_repo {
    db_t *db;
    char *format;
    db_stmt *ins_thread, *ins_comment; /* owned; finalized by close */
};

static int exec(db_t *db, const char *sql) {
    if (db_exec(db, sql) != DB_OK) {
        log_err("import: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}

static db_stmt *prep(db_t *db, const char *sql) {
    db_stmt *st = NULL;
    if (db_prepare(db, sql, &st) != DB_OK) {
        log_err("import: prepare failed: %s: %s", db_errmsg(db), sql);
        return NULL;
    }
    return st;
}

/* Runs a statement that yields one integer (bound ?1 = format when asked). */
static int64_t scalar(db_t *db, const char *sql, const char *format) {
    db_stmt *st = prep(db, sql);
    if (!st) return -1;
    if (format) db_bind_text(st, 1, format, -1);
    int64_t v = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
    db_finalize(st);
    return v;
}

/* Runs a statement binding ?1 = format; returns the rows changed or -1. */
static int64_t change(db_t *db, const char *sql, const char *format) {
    db_stmt *st = prep(db, sql);
    if (!st) return -1;
    if (format) db_bind_text(st, 1, format, -1);
    int rc = db_step(st);
    db_finalize(st);
    if (rc != DB_DONE) {
        log_err("import: %s: %s", db_errmsg(db), sql);
        return -1;
    }
    return db_changes(db);
}

/* ---- Staging ---- */

import_repo *import_repo_open(db_t *db, const char *format) {
    /* TEMP tables live in their own file-backed database: staging takes no lock on the
     * live file, and a big export spills to disk instead of memory. */
    if (exec(db, "PRAGMA temp_store = FILE; PRAGMA temp.cache_size = -8192;"
                 "DROP TABLE IF EXISTS temp.import_stage;"
                 "DROP TABLE IF EXISTS temp.import_thread_stage;"
                 "DROP TABLE IF EXISTS temp.import_links;"
                 "CREATE TEMP TABLE import_stage (seq INTEGER PRIMARY KEY, source_id TEXT NOT "
                 "NULL, thread TEXT, article TEXT, parent_source TEXT, author_id TEXT NOT NULL, "
                 "author_name TEXT NOT NULL, guest INTEGER, avatar TEXT, ip_hash TEXT, title "
                 "TEXT, body TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, score REAL, "
                 "decision TEXT, moderated_by TEXT, created_at INTEGER NOT NULL, edited_at "
                 "INTEGER, updated_at INTEGER, alt_format TEXT, alt_source TEXT, over_limit "
                 "INTEGER NOT NULL DEFAULT 0);"
                 /* the apply reads in time order without a sort of its own */
                 "CREATE INDEX temp.import_stage_time ON import_stage(created_at, seq);"
                 "CREATE TEMP TABLE import_thread_stage (source_id TEXT PRIMARY KEY, article "
                 "TEXT NOT NULL, title TEXT, url TEXT);"
                 "CREATE TEMP TABLE import_links (comment_id INTEGER PRIMARY KEY, "
                 "parent_source TEXT NOT NULL);"))
        return NULL;
    import_repo *r = xcalloc(1, sizeof *r);
    r->db = db;
    r->format = xstrdup(format);
    r->ins_thread = prep(db, "INSERT OR IGNORE INTO temp.import_thread_stage (source_id, "
                             "article, title, url) VALUES (?, ?, ?, ?)");
    r->ins_comment = prep(db, "INSERT INTO temp.import_stage (source_id, thread, article, "
                              "parent_source, author_id, author_name, guest, avatar, ip_hash, "
                              "title, body, status, reason, score, decision, moderated_by, "
                              "created_at, edited_at, updated_at, alt_format, alt_source, "
                              "over_limit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                              "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)");
    if (!r->ins_thread || !r->ins_comment) {
        import_repo_close(r);
        return NULL;
    }
    return r;
}

static void bind_opt(db_stmt *st, int i, const char *s) {
    if (s)
        db_bind_text(st, i, s, -1);
    else
        db_bind_null(st, i);
}

static void bind_time(db_stmt *st, int i, int64_t ms) {
    if (ms)
        db_bind_int64(st, i, ms);
    else
        db_bind_null(st, i);
}

static int step_reset(db_t *db, db_stmt *st) {
    int rc = db_step(st);
    db_reset(st);
    db_clear_bindings(st);
    if (rc != DB_DONE) {
        log_err("import: staging failed: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}

int import_repo_thread(import_repo *r, const char *source_id, const char *article,
                       const char *title, const char *url) {
    db_stmt *st = r->ins_thread;
    db_bind_text(st, 1, source_id, -1);
    db_bind_text(st, 2, article, -1);
    bind_opt(st, 3, title);
    bind_opt(st, 4, url);
    return step_reset(r->db, st);
}

int import_repo_comment(import_repo *r, const import_row *row) {
    db_stmt *st = r->ins_comment;
    db_bind_text(st, 1, row->source_id, -1);
    bind_opt(st, 2, row->thread);
    bind_opt(st, 3, row->article);
    bind_opt(st, 4, row->parent_source);
    db_bind_text(st, 5, row->author_id, -1);
    db_bind_text(st, 6, row->author_name, -1);
    db_bind_int(st, 7, row->guest);
    bind_opt(st, 8, row->avatar);
    bind_opt(st, 9, row->ip_hash);
    db_bind_text(st, 10, row->title ? row->title : "", -1);
    db_bind_text(st, 11, row->body, -1);
    db_bind_text(st, 12, row->status, -1);
    bind_opt(st, 13, row->reason);
    db_bind_double(st, 14, row->score);
    bind_opt(st, 15, row->decision);
    bind_opt(st, 16, row->moderated_by);
    db_bind_int64(st, 17, row->created_at);
    bind_time(st, 18, row->edited_at);
    bind_time(st, 19, row->updated_at);
    bind_opt(st, 20, row->alt_format);
    bind_opt(st, 21, row->alt_source);
    db_bind_int(st, 22, row->over_limit);
    return step_reset(r->db, st);
}

/* ---- Apply ---- */

/* Inserts the staged comments (already filtered) oldest first, remembering each one's
 * source id and, for replies, its parent's source id for the fix-up. Returns the number
 * inserted or -1. */
static int64_t insert_comments(import_repo *r) {
    db_t *db = r->db;
    db_stmt *sel = prep(db, "SELECT source_id, article, parent_source, author_id, "
                                 "author_name, guest, avatar, ip_hash, title, body, status, "
                                 "reason, score, decision, moderated_by, created_at, edited_at, "
                                 "updated_at, alt_format, alt_source FROM temp.import_stage "
                                 "ORDER BY created_at, seq");
    db_stmt *ins = prep(db, "INSERT INTO comments (article, author_id, author_name, "
                                 "author_guest, author_avatar, ip_hash, title, body, status, "
                                 "reason, score, decision, moderated_by, created_at, edited_at, "
                                 "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                 "?11, ?12, ?13, ?14, ?15, ?16) RETURNING id");
    db_stmt *src = prep(db, "INSERT OR IGNORE INTO import_sources (format, source_id, "
                                 "comment_id) VALUES (?, ?, ?)");
    db_stmt *link = prep(db, "INSERT INTO temp.import_links (comment_id, parent_source) "
                                  "VALUES (?, ?)");
    int64_t n = -1;
    if (!sel || !ins || !src || !link) goto out;
    n = 0;
    while (db_step(sel) == DB_ROW) {
        db_bind_column(ins, 1, sel, 1);
        for (int c = 3; c <= 17; c++)
            db_bind_column(ins, c - 1, sel, c);
        if (db_col_type(sel, 7) == DB_NULL) db_bind_text(ins, 6, "", 0);
        int64_t id = db_step(ins) == DB_ROW ? db_col_int64(ins, 0) : -1;
        if (id < 0 || step_reset(db, ins)) {
            n = -1;
            goto out;
        }
        db_bind_text(src, 1, r->format, -1);
        db_bind_column(src, 2, sel, 0);
        db_bind_int64(src, 3, id);
        if (step_reset(db, src)) {
            n = -1;
            goto out;
        }
        if (db_col_type(sel, 18) != DB_NULL &&
            db_col_type(sel, 19) != DB_NULL) {
            db_bind_column(src, 1, sel, 18);
            db_bind_column(src, 2, sel, 19);
            db_bind_int64(src, 3, id);
            if (step_reset(db, src)) {
                n = -1;
                goto out;
            }
        }
        if (db_col_type(sel, 2) != DB_NULL) {
            db_bind_int64(link, 1, id);
            db_bind_column(link, 2, sel, 2);
            if (step_reset(db, link)) {
                n = -1;
                goto out;
            }
        }
        n++;
    }
out:
    db_finalize(sel);
    db_finalize(ins);
    db_finalize(src);
    db_finalize(link);
    return n;
}

int import_repo_apply(import_repo *r, bool dry_run, import_result *res) {
    db_t *db = r->db;
    const char *f = r->format;
    memset(res, 0, sizeof *res);
    /* A bigger page cache while the write lock is held: the inserts touch indexes all
     * over the file, and spilling pages mid-transaction doubles the time the server
     * waits. Bounded (32 MB) whatever the size of the import. */
    exec(db, "PRAGMA main.cache_size = -32768");
    if (exec(db, "BEGIN IMMEDIATE")) return -1;
    res->threads = scalar(db, "SELECT COUNT(*) FROM temp.import_thread_stage", NULL);
    res->shared_articles = scalar(db, "SELECT COUNT(*) FROM (SELECT article FROM "
                                      "temp.import_thread_stage GROUP BY article HAVING "
                                      "COUNT(*) > 1)", NULL);
    /* posts name their thread by source id; threads may have come before or after them */
    if (change(db, "UPDATE temp.import_stage SET article = (SELECT t.article FROM "
                   "temp.import_thread_stage t WHERE t.source_id = import_stage.thread) WHERE "
                   "article IS NULL", NULL) < 0)
        goto fail;
    res->skip_unknown_thread =
        change(db, "DELETE FROM temp.import_stage WHERE article IS NULL", NULL);
    /* the same source id twice in one file: the first one counts */
    res->skip_duplicate = change(db, "DELETE FROM temp.import_stage WHERE seq NOT IN (SELECT "
                                     "MIN(seq) FROM temp.import_stage GROUP BY source_id)", NULL);
    /* imported by an earlier run: re-running adds nothing */
    res->skip_already = change(db, "DELETE FROM temp.import_stage WHERE EXISTS (SELECT 1 FROM "
                                   "import_sources s WHERE s.format = ?1 AND s.source_id = "
                                   "import_stage.source_id)", f);
    if (res->skip_unknown_thread < 0 || res->skip_duplicate < 0 || res->skip_already < 0)
        goto fail;
    res->over_limit = scalar(db, "SELECT COUNT(*) FROM temp.import_stage WHERE over_limit", NULL);
    res->articles = scalar(db, "SELECT COUNT(DISTINCT article) FROM temp.import_stage", NULL);
    res->articles_new =
        change(db, "INSERT OR IGNORE INTO articles (id, updated_at, title, url) SELECT "
                   "a.article, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), "
                   "(SELECT t.title FROM temp.import_thread_stage t WHERE t.article = a.article "
                   "LIMIT 1), (SELECT t.url FROM temp.import_thread_stage t WHERE t.article = "
                   "a.article LIMIT 1) FROM (SELECT DISTINCT article FROM temp.import_stage) a",
               NULL);
    if (res->articles_new < 0) goto fail;
    res->comments = insert_comments(r);
    if (res->comments < 0) goto fail;
    /* Parents from source ids, now that every comment has its id: a parent that came
     * after its child in the file, or in an earlier run, is found the same way. A parent
     * under another article, or the comment itself, does not count. */
    res->replies = change(db, "UPDATE comments SET parent = (SELECT s.comment_id FROM "
                              "temp.import_links l JOIN import_sources s ON s.format = ?1 AND "
                              "s.source_id = l.parent_source JOIN comments p ON p.id = "
                              "s.comment_id AND p.article = comments.article AND p.id <> "
                              "comments.id WHERE l.comment_id = comments.id) WHERE id IN (SELECT "
                              "comment_id FROM temp.import_links)",
                          f);
    if (res->replies < 0) goto fail;
    res->orphans = scalar(db, "SELECT COUNT(*) FROM temp.import_links l JOIN comments c ON c.id "
                              "= l.comment_id WHERE c.parent IS NULL", NULL);
    res->replies -= res->orphans;
    if (exec(db, dry_run ? "ROLLBACK" : "COMMIT")) goto fail;
    return 0;
fail:
    db_exec(db, "ROLLBACK");
    return -1;
}

void import_repo_close(import_repo *r) {
    if (!r) return;
    db_finalize(r->ins_thread);
    db_finalize(r->ins_comment);
    db_exec(r->db,
                 "DROP TABLE IF EXISTS temp.import_stage; DROP TABLE IF EXISTS "
                 "temp.import_thread_stage; DROP TABLE IF EXISTS temp.import_links;");
    free(r->format);
    free(r);
}

/* ---- Export ---- */

static const char *ctext(db_stmt *st, int i) {
    return db_col_type(st, i) == DB_NULL ? NULL
                                                     : (const char *)db_col_text(st, i);
}

int export_repo_each(db_t *db, const char *article, int (*cb)(const export_row *, void *),
                     void *arg) {
    /* one read transaction: the export is one consistent snapshot */
    if (exec(db, "BEGIN")) return -1;
    db_stmt *st = prep(
        db, "SELECT c.id, c.parent, c.article, c.author_id, c.author_name, c.author_avatar, "
            "c.ip_hash, c.title, c.body, c.status, c.reason, c.decision, c.moderated_by, "
            "(SELECT s.format FROM import_sources s WHERE s.comment_id = c.id AND s.format <> "
            "'parley' LIMIT 1), (SELECT s.source_id FROM import_sources s WHERE s.comment_id = "
            "c.id AND s.format <> 'parley' LIMIT 1), c.author_guest, c.score, c.created_at, "
            "c.edited_at, c.updated_at FROM comments c WHERE ?1 IS NULL OR c.article = ?1 "
            "ORDER BY c.id");
    if (!st) {
        db_exec(db, "ROLLBACK");
        return -1;
    }
    bind_opt(st, 1, article);
    int rc = 0, s;
    while ((s = db_step(st)) == DB_ROW) {
        export_row row = {
            .id = db_col_int64(st, 0),
            .parent = db_col_int64(st, 1),
            .article = ctext(st, 2),
            .author_id = ctext(st, 3),
            .author_name = ctext(st, 4),
            .avatar = ctext(st, 5),
            .ip_hash = ctext(st, 6),
            .title = ctext(st, 7),
            .body = ctext(st, 8),
            .status = ctext(st, 9),
            .reason = ctext(st, 10),
            .decision = ctext(st, 11),
            .moderated_by = ctext(st, 12),
            .src_format = ctext(st, 13),
            .src_id = ctext(st, 14),
            .guest = db_col_int(st, 15),
            .score = db_col_double(st, 16),
            .created_at = db_col_int64(st, 17),
            .edited_at = db_col_int64(st, 18),
            .updated_at = db_col_int64(st, 19),
        };
        if ((rc = cb(&row, arg))) break;
    }
    if (!rc && s != DB_DONE) {
        log_err("export: %s", db_errmsg(db));
        rc = -1;
    }
    db_finalize(st);
    db_exec(db, "COMMIT");
    return rc;
}

/* ---- Backup ---- */

int backup_repo_copy(db_t *db, const char *path, char *err, size_t errlen) {
    return db_sqlite_backup(db, path, err, errlen);
}
