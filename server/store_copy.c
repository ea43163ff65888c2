/* store_copy.c: an SQLite install copied into PostgreSQL (store_copy.h). */
#include "store_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "store.h"

#define COPY_BATCH 5000 /* rows a transaction on the PostgreSQL side */
#define COPY_COLS 64    /* columns a table has at most */

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- Reading the two schemas ---- */

/* The tables of the SQLite file in the order they were made (a catalog scan returns
 * them so), which is also the order their foreign keys allow: a table is made after
 * those it refers to. SQLite's own tables are left out. Returns a malloc'd array of
 * malloc'd names (NULL-terminated), or NULL (err). */
static char **src_tables(db_t *src, char *err, size_t errlen) {
    db_stmt *st;
    if (db_prepare(src, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                        "name NOT LIKE 'sqlite_%'", &st) != DB_OK) {
        fail(err, errlen, "cannot list the SQLite tables: %s", db_errmsg(src));
        return NULL;
    }
    size_t n = 0, cap = 32;
    char **names = xcalloc(cap + 1, sizeof *names);
    while (db_step(st) == DB_ROW) {
        if (n == cap) {
            names = xrealloc(names, (2 * cap + 1) * sizeof *names);
            cap *= 2;
        }
        names[n++] = xstrdup(db_col_text(st, 0));
        names[n] = NULL;
    }
    db_finalize(st);
    return names;
}

static void free_names(char **names) {
    for (size_t i = 0; names && names[i]; i++) free(names[i]);
    free(names);
}

/* Whether a PostgreSQL table has the column (information_schema: PostgreSQL's alone;
 * the destination is always PostgreSQL). -1 on error. */
static int dst_has_column(db_t *dst, const char *table, const char *col) {
    db_stmt *st;
    if (db_prepare(dst, "SELECT count(*) FROM information_schema.columns WHERE "
                        "table_schema = current_schema() AND table_name = ? AND "
                        "column_name = ?", &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, table, -1);
    db_bind_text(st, 2, col, -1);
    int rc = db_step(st);
    int has = rc == DB_ROW ? db_col_int64(st, 0) > 0 : -1;
    db_finalize(st);
    return has;
}

/* Whether a PostgreSQL table exists / has a unique index (ON CONFLICT DO NOTHING then
 * skips rows copied before). -1 on error. */
static int dst_table_info(db_t *dst, const char *table, bool *keyed) {
    db_stmt *st;
    if (db_prepare(dst, "SELECT count(*), coalesce(sum(CASE WHEN i.indisunique THEN 1 ELSE 0 "
                        "END), 0) FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid "
                        "WHERE c.relname = ? AND c.relkind = 'r' AND c.relnamespace = "
                        "current_schema()::regnamespace", &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, table, -1);
    int rc = db_step(st);
    int exists = -1;
    if (rc == DB_ROW) {
        exists = db_col_int64(st, 0) > 0;
        *keyed = db_col_int64(st, 1) > 0;
    }
    db_finalize(st);
    return exists;
}

/* Rows in a table, or -1. */
static int64_t count_rows(db_t *db, const char *table) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
    db_stmt *st;
    if (db_prepare(db, sql, &st) != DB_OK) return -1;
    int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
    db_finalize(st);
    return n;
}

/* ---- Copying a table ---- */

/* Copies the rows of one table that dst lacks, COPY_BATCH to a transaction. Columns are
 * those of the SQLite table (each must exist in PostgreSQL; PostgreSQL's others take
 * their defaults). Sets t->copied. Returns 0 or -1 (err). */
static int copy_rows(db_t *src, db_t *dst, store_copy_table *t, bool keyed, char *err,
                     size_t errlen) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", t->name);
    db_stmt *rd, *wr = NULL;
    if (db_prepare(src, sql, &rd) != DB_OK)
        return fail(err, errlen, "%s: cannot read: %s", t->name, db_errmsg(src));
    int rc = db_step(rd), ncol = db_col_count(rd);
    if (ncol > COPY_COLS) {
        db_finalize(rd);
        return fail(err, errlen, "%s: %d columns (at most %d)", t->name, ncol, COPY_COLS);
    }
    /* INSERT INTO t (c1, ...) VALUES (?, ...) ON CONFLICT DO NOTHING */
    size_t cap = 256 + (size_t)ncol * 80, len = 0;
    char *ins = xmalloc(cap);
    len += (size_t)snprintf(ins + len, cap - len, "INSERT INTO \"%s\" (", t->name);
    for (int c = 0; c < ncol; c++) {
        const char *col = db_col_name(rd, c);
        int has = dst_has_column(dst, t->name, col);
        if (has != 1) {
            free(ins);
            db_finalize(rd);
            return has < 0 ? fail(err, errlen, "%s: %s", t->name, db_errmsg(dst))
                           : fail(err, errlen, "%s.%s has no column in PostgreSQL (schema "
                                               "versions differ?)", t->name, col);
        }
        len += (size_t)snprintf(ins + len, cap - len, "%s\"%s\"", c ? ", " : "", col);
    }
    len += (size_t)snprintf(ins + len, cap - len, ") VALUES (");
    for (int c = 0; c < ncol; c++) len += (size_t)snprintf(ins + len, cap - len, "%s?", c ? ", " : "");
    snprintf(ins + len, cap - len, ")%s", keyed ? " ON CONFLICT DO NOTHING" : "");
    int res = 0;
    if (db_prepare(dst, ins, &wr) != DB_OK) {
        res = fail(err, errlen, "%s: %s", t->name, db_errmsg(dst));
        goto out;
    }
    int in_batch = 0;
    for (; rc == DB_ROW; rc = db_step(rd)) {
        if (!in_batch && db_exec(dst, "BEGIN") != DB_OK) {
            res = fail(err, errlen, "%s: begin: %s", t->name, db_errmsg(dst));
            goto out;
        }
        for (int c = 0; c < ncol; c++) db_bind_column(wr, c + 1, rd, c);
        if (db_step(wr) != DB_DONE) {
            res = fail(err, errlen, "%s: insert: %s", t->name, db_errmsg(dst));
            db_exec(dst, "ROLLBACK");
            goto out;
        }
        t->copied += db_changes(dst);
        db_reset(wr);
        if (++in_batch == COPY_BATCH) {
            if (db_exec(dst, "COMMIT") != DB_OK) {
                res = fail(err, errlen, "%s: commit: %s", t->name, db_errmsg(dst));
                goto out;
            }
            in_batch = 0;
        }
    }
    if (rc != DB_DONE) {
        res = fail(err, errlen, "%s: read: %s", t->name, db_errmsg(src));
        if (in_batch) db_exec(dst, "ROLLBACK");
        goto out;
    }
    if (in_batch && db_exec(dst, "COMMIT") != DB_OK)
        res = fail(err, errlen, "%s: commit: %s", t->name, db_errmsg(dst));
out:
    if (wr) db_finalize(wr);
    db_finalize(rd);
    free(ins);
    return res;
}

/* Moves a table's identity sequence past its highest id, so the next row PostgreSQL
 * numbers does not collide with a copied one. No-op for tables without one (an `id` of
 * text, or none). */
static int advance_sequence(db_t *dst, const char *table, char *err, size_t errlen) {
    int has = dst_has_column(dst, table, "id");
    if (has != 1) return has < 0 ? fail(err, errlen, "%s: %s", table, db_errmsg(dst)) : 0;
    char quoted[80], seq[200] = "", sql[400];
    snprintf(quoted, sizeof quoted, "\"%s\"", table);
    db_stmt *st;
    if (db_prepare(dst, "SELECT pg_get_serial_sequence(?, 'id')", &st) != DB_OK)
        return fail(err, errlen, "%s: sequence: %s", table, db_errmsg(dst));
    db_bind_text(st, 1, quoted, -1);
    int rc = db_step(st);
    if (rc == DB_ROW && db_col_text(st, 0)) snprintf(seq, sizeof seq, "%s", db_col_text(st, 0));
    db_finalize(st);
    if (rc != DB_ROW) return fail(err, errlen, "%s: sequence: %s", table, db_errmsg(dst));
    if (!seq[0]) return 0;
    snprintf(sql, sizeof sql, "SELECT setval(?, m) FROM (SELECT max(id) AS m FROM \"%s\") x "
                              "WHERE m IS NOT NULL", table);
    if (db_prepare(dst, sql, &st) != DB_OK)
        return fail(err, errlen, "%s: sequence: %s", table, db_errmsg(dst));
    db_bind_text(st, 1, seq, -1);
    while ((rc = db_step(st)) == DB_ROW) {
    }
    db_finalize(st);
    return rc == DB_DONE ? 0 : fail(err, errlen, "%s: sequence: %s", table, db_errmsg(dst));
}

int store_copy(db_t *src, db_t *dst, FILE *out, store_copy_table **tables, size_t *n,
               char *err, size_t errlen) {
    *tables = NULL;
    *n = 0;
    if (db_dialect(src) != DB_SQLITE || db_dialect(dst) != DB_POSTGRES)
        return fail(err, errlen, "the copy goes from SQLite to PostgreSQL");
    char **names = src_tables(src, err, errlen);
    if (!names) return -1;
    size_t cnt = 0;
    while (names[cnt]) cnt++;
    store_copy_table *t = xcalloc(cnt ? cnt : 1, sizeof *t);
    int res = 0;
    /* one read snapshot of the source for the whole copy */
    if (db_exec(src, "BEGIN") != DB_OK) {
        res = fail(err, errlen, "cannot read SQLite: %s", db_errmsg(src));
        goto out;
    }
    for (size_t i = 0; i < cnt && res == 0; i++) {
        snprintf(t[i].name, sizeof t[i].name, "%s", names[i]);
        bool keyed = false;
        int exists = dst_table_info(dst, names[i], &keyed);
        if (exists != 1) {
            res = exists < 0 ? fail(err, errlen, "%s: %s", names[i], db_errmsg(dst))
                             : fail(err, errlen, "table %s is not in PostgreSQL (schema "
                                                 "versions differ?)", names[i]);
            break;
        }
        t[i].src_rows = count_rows(src, names[i]);
        int64_t before = count_rows(dst, names[i]);
        if (t[i].src_rows < 0 || before < 0) {
            res = fail(err, errlen, "%s: cannot count rows", names[i]);
            break;
        }
        if (!keyed && before > 0 && before != t[i].src_rows) {
            /* without a key a second copy would double rows: refuse instead */
            res = fail(err, errlen, "%s has %" PRId64 " rows in PostgreSQL already and no key "
                       "to skip them by", names[i], before);
            break;
        }
        if (t[i].src_rows > 0 && (keyed || before == 0) &&
            copy_rows(src, dst, &t[i], keyed, err, errlen)) {
            res = -1;
            break;
        }
        if (advance_sequence(dst, names[i], err, errlen)) {
            res = -1;
            break;
        }
        t[i].dst_rows = count_rows(dst, names[i]);
        const char *check = t[i].dst_rows == t[i].src_rows ? "" : "  COUNTS DIFFER";
        if (t[i].copied)
            fprintf(out, "%-20s %8" PRId64 " rows copied (SQLite %" PRId64 ", PostgreSQL %" PRId64
                    ")%s\n", names[i], t[i].copied, t[i].src_rows, t[i].dst_rows, check);
        else
            fprintf(out, "%-20s nothing new (SQLite %" PRId64 ", PostgreSQL %" PRId64 ")%s\n",
                    names[i], t[i].src_rows, t[i].dst_rows, check);
        if (t[i].dst_rows != t[i].src_rows) res = 1;
        *n = i + 1;
    }
    db_exec(src, "COMMIT");
out:
    free_names(names);
    *tables = t;
    return res;
}

int store_copy_secret(db_t *dst, const char *name, const unsigned char *value, size_t len,
                      char *err, size_t errlen) {
    db_stmt *st;
    if (db_prepare(dst, "SELECT value FROM secrets WHERE name = ?", &st) != DB_OK)
        return fail(err, errlen, "secrets: %s", db_errmsg(dst));
    db_bind_text(st, 1, name, -1);
    int rc = db_step(st);
    bool same = rc == DB_ROW && (size_t)db_col_bytes(st, 0) == len &&
                !memcmp(db_col_blob(st, 0), value, len);
    db_finalize(st);
    if (rc != DB_ROW && rc != DB_DONE) return fail(err, errlen, "secrets: %s", db_errmsg(dst));
    if (same) return 0;
    if (db_prepare(dst, "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value", &st) != DB_OK)
        return fail(err, errlen, "secrets: %s", db_errmsg(dst));
    db_bind_text(st, 1, name, -1);
    db_bind_blob(st, 2, value, (int)len);
    db_bind_int64(st, 3, 0);
    rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? 1 : fail(err, errlen, "secrets: %s", db_errmsg(dst));
}

/* ---- The command ---- */

/* Reads a secret file of the data dir: its length in bytes, 0 when absent, -1 when
 * unreadable. */
static ssize_t read_key(const char *dir, const char *file, unsigned char *out, size_t cap) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    ssize_t n = read(fd, out, cap);
    close(fd);
    return n;
}

static int usage(void) {
    fprintf(stderr, "usage: parley store copy --from DIR --to CONNINFO\n"
                    "  copies the SQLite install in data dir DIR (DIR/parley.db and its keys)\n"
                    "  into the PostgreSQL database CONNINFO (a libpq connection string or URI)\n");
    return 2;
}

int store_copy_cli(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "copy")) return usage();
    const char *from = NULL, *to = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc)
            from = argv[++i];
        else if (!strcmp(argv[i], "--to") && i + 1 < argc)
            to = argv[++i];
        else
            return usage();
    }
    if (!from || !to || !*from || !*to) return usage();
    char path[4096], err[512] = "";
    snprintf(path, sizeof path, "%s/parley.db", from);
    if (access(path, R_OK)) {
        fprintf(stderr, "parley store copy: no SQLite store at %s: %s\n", path, strerror(errno));
        return 1;
    }
    /* both through the store's own opening, so each is migrated to this build's schema */
    store_set_postgres(NULL);
    db_t *src = store_open_sync(from);
    if (!src) {
        fprintf(stderr, "parley store copy: cannot open %s (see the log above)\n", path);
        return 1;
    }
    store_set_postgres(to);
    db_t *dst = store_open_sync(NULL);
    if (!dst) {
        fprintf(stderr, "parley store copy: cannot open PostgreSQL at '%s' (see the log above)\n", to);
        db_close(src);
        return 1;
    }
    store_copy_table *tables;
    size_t n;
    int rc = store_copy(src, dst, stdout, &tables, &n, err, sizeof err);
    int64_t copied = 0;
    for (size_t i = 0; i < n; i++) copied += tables[i].copied;
    if (rc < 0) fprintf(stderr, "parley store copy: %s\n", err);
    /* the keyed-hash keys: the same guest ids and address hashes on every node */
    static const struct {
        const char *file, *name;
    } keys[] = {{"ip-hash.key", "ip-hash"}, {"notify.key", "notify"}};
    for (size_t k = 0; rc >= 0 && k < sizeof keys / sizeof keys[0]; k++) {
        unsigned char buf[256];
        ssize_t len = read_key(from, keys[k].file, buf, sizeof buf);
        if (len < 0) {
            fprintf(stderr, "parley store copy: cannot read %s/%s\n", from, keys[k].file);
            rc = -1;
        } else if (len > 0) {
            int ch = store_copy_secret(dst, keys[k].name, buf, (size_t)len, err, sizeof err);
            if (ch < 0) {
                fprintf(stderr, "parley store copy: %s\n", err);
                rc = -1;
            } else {
                printf("%-20s %s\n", keys[k].file, ch ? "copied (restart nodes already running)"
                                                      : "nothing new");
                copied += ch;
            }
        }
    }
    if (rc == 0)
        printf(copied ? "store copy: %" PRId64 " rows copied; every table's counts match\n"
                      : "store copy: nothing new to copy; every table's counts match\n",
               copied);
    else if (rc == 1)
        fprintf(stderr, "parley store copy: row counts differ (see the tables marked above)\n");
    free(tables);
    db_close(dst);
    db_close(src);
    return rc == 0 ? 0 : 1;
}
