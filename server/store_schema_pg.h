/* store_schema_pg.h: the PostgreSQL schema and its migrations (store_migrate calls them
 * for a PostgreSQL connection; SQLite's live in store_schema.c, whose migration loop
 * they share). */
#ifndef PARLEY_STORE_SCHEMA_PG_H
#define PARLEY_STORE_SCHEMA_PG_H

#include "store_db.h"

/* Applies every PostgreSQL migration above the database's schema_version, under an
 * advisory lock (several nodes may start at once). Returns 0 or -1 (logged). */
int store_pg_migrate(db_t *db);
/* The PostgreSQL schema version this build migrates to. */
int store_pg_schema_version(void);


#endif
