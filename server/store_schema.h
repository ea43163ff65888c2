/* store_schema.h: the SQLite schema and its migrations, and the migration loop both
 * dialects share (store_schema_pg.c uses it). store_migrate (store.h) picks the dialect. */
#ifndef PARLEY_STORE_SCHEMA_H
#define PARLEY_STORE_SCHEMA_H

#include "store_db.h"

/* Applies every SQLite migration above the file's user_version, inside one write
 * transaction (processes starting together on one file take turns). 0 or -1 (logged). */
int store_sqlite_migrate(db_t *db);
/* The SQL of SQLite migration n (1-based), or NULL; for tests that build old databases. */
const char *store_migration_sql(int n);
/* The SQLite schema version this build migrates to. */
int store_schema_version(void);

/* The migration loop: inside the caller's open transaction, applies list[from..to-1],
 * recording each version with record_fmt (a printf format of the version), then
 * commits; on a failure rolls back. dialect names it in the log ("" or "PostgreSQL ").
 * Returns 0 or -1 (logged). */
int store_schema_apply(db_t *db, const char *const *list, int from, int to,
                       const char *record_fmt, const char *dialect);

#endif
