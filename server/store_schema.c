/* store_schema.c: the SQLite schema and its migrations (see store_schema.h; the
 * version functions are declared in store.h). */
#include "store_schema.h"

#include <stdio.h>

#include "log.h"

/* Migration n takes user_version n-1 to n. Never edit a released one: add another. */
static const char *const migrations[] = {
    /* 1: comments, reports, article settings */
    "CREATE TABLE comments ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  article TEXT NOT NULL,"
    "  parent INTEGER REFERENCES comments(id),"
    "  author_id TEXT NOT NULL,"
    "  author_name TEXT NOT NULL,"
    "  author_guest INTEGER NOT NULL DEFAULT 1,"
    "  author_avatar TEXT,"
    "  ip_hash TEXT NOT NULL DEFAULT '',"
    "  title TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  reason TEXT,"
    "  score REAL NOT NULL DEFAULT 0,"
    "  decision TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  edited_at INTEGER);"
    "CREATE INDEX comments_article ON comments(article, status, id);"
    "CREATE INDEX comments_author ON comments(author_id, id);"
    "CREATE INDEX comments_status ON comments(status, id);"
    "CREATE TABLE reports ("
    "  id INTEGER PRIMARY KEY,"
    "  comment_id INTEGER NOT NULL REFERENCES comments(id),"
    "  reporter TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  note TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  resolved INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (comment_id, reporter));"
    "CREATE TABLE articles ("
    "  id TEXT PRIMARY KEY,"
    "  mode TEXT NOT NULL DEFAULT 'open',"
    "  updated_at INTEGER NOT NULL);",
    /* 2: moderators, their sessions, the audit log, bans, notes */
    "ALTER TABLE comments ADD COLUMN moderated_by TEXT;"
    "CREATE TABLE moderators ("
    "  name TEXT PRIMARY KEY,"
    "  role TEXT NOT NULL CHECK (role IN ('admin','moderator')),"
    "  pwhash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    "  token_hash TEXT PRIMARY KEY,"
    "  moderator TEXT NOT NULL REFERENCES moderators(name) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  moderator TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  before TEXT,"
    "  after TEXT,"
    "  note TEXT,"
    "  undone INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX audit_moderator ON audit(moderator, id);"
    "CREATE TABLE bans ("
    "  id INTEGER PRIMARY KEY,"
    "  author_id TEXT NOT NULL,"
    "  ip_hash TEXT,"
    "  kind TEXT NOT NULL CHECK (kind IN ('ban','shadow')),"
    "  until INTEGER,"
    "  reason TEXT,"
    "  moderator TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  lifted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX bans_author ON bans(author_id);"
    "CREATE INDEX bans_ip ON bans(ip_hash);"
    "CREATE TABLE notes ("
    "  id INTEGER PRIMARY KEY,"
    "  author_id TEXT,"
    "  comment_id INTEGER,"
    "  moderator TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX reports_open ON reports(resolved, comment_id);",
    /* 3: when a comment last changed, so a reader resuming with `since` hears of edits,
     * removals and approvals of older comments too */
    "ALTER TABLE comments ADD COLUMN updated_at INTEGER;"
    "CREATE INDEX comments_updated ON comments(article, updated_at);"
    "CREATE TRIGGER comments_touch AFTER UPDATE OF status, title, body ON comments BEGIN "
    "  UPDATE comments SET updated_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) "
    "  WHERE id = NEW.id; "
    "END;",
    /* 4: reports counted once per address too, and weighed (guests count less) */
    "ALTER TABLE reports ADD COLUMN ip_hash TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE reports ADD COLUMN weight REAL NOT NULL DEFAULT 1;"
    "CREATE INDEX reports_addr ON reports(comment_id, ip_hash);",
    /* 5: display names that belong to accounts (folded as the rules fold text), which a
     * guest cannot take */
    "CREATE TABLE reserved_names ("
    "  key TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);",
    /* 6: import (source ids of imported comments; article titles and links) */
    "CREATE TABLE import_sources ("
    "  format TEXT NOT NULL,"
    "  source_id TEXT NOT NULL,"
    "  comment_id INTEGER NOT NULL,"
    "  PRIMARY KEY (format, source_id)) WITHOUT ROWID;"
    "CREATE INDEX import_sources_comment ON import_sources(comment_id);"
    "ALTER TABLE articles ADD COLUMN title TEXT;"
    "ALTER TABLE articles ADD COLUMN url TEXT;",
    /* 7: moderation that learns (issue 16). The learned model: per feature, in how many examples of each
     * label it appeared; the examples per label and a change sequence that other
     * processes poll; the text each decided comment taught, to unlearn it on undo */
    "CREATE TABLE learned_features ("
    "  feature TEXT PRIMARY KEY,"
    "  ham REAL NOT NULL DEFAULT 0,"
    "  spam REAL NOT NULL DEFAULT 0,"
    "  abuse REAL NOT NULL DEFAULT 0,"
    "  seq INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX learned_features_seq ON learned_features(seq);"
    "CREATE TABLE learned_meta ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  seq INTEGER NOT NULL,"
    "  generation INTEGER NOT NULL,"
    "  ham REAL NOT NULL,"
    "  spam REAL NOT NULL,"
    "  abuse REAL NOT NULL);"
    "INSERT INTO learned_meta VALUES (1, 0, 0, 0, 0, 0);"
    "CREATE TABLE learned_examples ("
    "  comment_id INTEGER PRIMARY KEY,"
    "  label TEXT NOT NULL CHECK (label IN ('ham','spam','abuse')),"
    "  title TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  at INTEGER NOT NULL);"
    /* ... and per-rule quality: posts each rule fired on and held, and the comments on
     * which a moderator overturned it (approved what it held, rejected what it passed) */
    "CREATE TABLE rule_quality ("
    "  rule TEXT PRIMARY KEY,"
    "  hits INTEGER NOT NULL DEFAULT 0,"
    "  holds INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE rule_overturns ("
    "  comment_id INTEGER NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('approved_held','rejected_passed')),"
    "  PRIMARY KEY (comment_id, rule)) WITHOUT ROWID;"
    "CREATE INDEX rule_overturns_rule ON rule_overturns(rule, kind);",
    /* 8: notifications: the outbox of events for webhooks, one row per event and
     * endpoint, delivered at least once in order per endpoint */
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  event_id TEXT NOT NULL,"
    "  endpoint TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','dead')),"
    "  last_error TEXT,"
    "  delivered_at INTEGER,"
    "  UNIQUE (event_id, endpoint));"
    "CREATE INDEX outbox_pending ON outbox(state, endpoint, id);"
    /* reply emails: one subscription per reader and article (address encrypted), the
     * replies waiting for the next digest */
    "CREATE TABLE email_subs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  author_id TEXT NOT NULL,"
    "  article TEXT NOT NULL,"
    "  address BLOB NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending','active','off')),"
    "  created_at INTEGER NOT NULL,"
    "  confirm_sent_at INTEGER,"
    "  confirmed_at INTEGER,"
    "  last_sent_at INTEGER NOT NULL DEFAULT 0,"
    "  page TEXT,"
    "  ip_hash TEXT,"
    "  address_hash TEXT,"
    "  UNIQUE (author_id, article));"
    "CREATE TABLE email_pending ("
    "  sub_id INTEGER NOT NULL REFERENCES email_subs(id) ON DELETE CASCADE,"
    "  comment_id INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (sub_id, comment_id));",
    /* 9: readers (issue 13): reactions (one like per reader per comment, counted on the
     * comment for the "most liked" order), the parent index that threads pages by their
     * top-level comment, featured comments, article page addresses */
    "ALTER TABLE comments ADD COLUMN likes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE comments ADD COLUMN likes_seq INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE reactions ("
    "  comment_id INTEGER NOT NULL REFERENCES comments(id),"
    "  reader TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (comment_id, reader)) WITHOUT ROWID;"
    "CREATE INDEX comments_liked ON comments(article, likes, id);"
    "CREATE INDEX comments_parent ON comments(parent);"
    "ALTER TABLE comments ADD COLUMN author_badge TEXT;"
    /* featured comments, and the page address each article was last read at */
    "CREATE TABLE featured ("
    "  comment_id INTEGER PRIMARY KEY REFERENCES comments(id),"
    "  article TEXT NOT NULL,"
    "  moderator TEXT NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX featured_article ON featured(article, at);"
    "CREATE TABLE article_pages ("
    "  article TEXT PRIMARY KEY,"
    "  url TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);",
    /* 10: post nonce: a client's retry of a post (same author, same nonce) finds the
     * comment it stored instead of storing another */
    ("ALTER TABLE comments ADD COLUMN nonce TEXT;"
     "CREATE UNIQUE INDEX comments_nonce ON comments(author_id, nonce) WHERE nonce IS NOT NULL;"),
};

const char *store_migration_sql(int n) {
    return n >= 1 && n <= store_schema_version() ? migrations[n - 1] : NULL;
}

int store_schema_version(void) { return (int)(sizeof migrations / sizeof migrations[0]); }

/* Migrates inside one write transaction, so processes starting together on one file
 * take turns and each sees the version the other left. */
static int user_version(db_t *db) {
    db_stmt *st;
    int version = -1;
    if (db_prepare(db, "PRAGMA user_version", &st) == DB_OK) {
        if (db_step(st) == DB_ROW) version = db_col_int(st, 0);
        db_finalize(st);
    }
    return version;
}

int store_sqlite_migrate(db_t *db) {
    /* Current already (the common case, and every command-line tool run beside a busy
     * server): no write lock is needed to find that out. */
    if (user_version(db) == store_schema_version()) return 0;
    if (db_exec(db, "BEGIN IMMEDIATE") != DB_OK) {
        log_err("store: cannot lock the database to migrate: %s", db_errmsg(db));
        return -1;
    }
    int version = user_version(db), target = store_schema_version();
    if (version < 0) version = 0;
    if (version > target) {
        log_err("store: database schema %d is newer than this build (%d)", version, target);
        db_exec(db, "ROLLBACK");
        return -1;
    }
    return store_schema_apply(db, migrations, version, target, "PRAGMA user_version = %d", "");
}

int store_schema_apply(db_t *db, const char *const *list, int from, int to,
                       const char *record_fmt, const char *dialect) {
    for (int v = from; v < to; v++) {
        char sql[128];
        snprintf(sql, sizeof sql, record_fmt, v + 1);
        if (db_exec(db, list[v]) != DB_OK || db_exec(db, sql) != DB_OK) {
            log_err("store: %smigration %d failed: %s", dialect, v + 1, db_errmsg(db));
            db_exec(db, "ROLLBACK");
            return -1;
        }
        log_info("store: migrated %sschema to version %d", dialect, v + 1);
    }
    if (db_exec(db, "COMMIT") != DB_OK) {
        log_err("store: migration commit failed: %s", db_errmsg(db));
        db_exec(db, "ROLLBACK");
        return -1;
    }
    return 0;
}

