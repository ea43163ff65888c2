/* reader.h: a reader's own data: `parley reader export ID` (everything stored about
 * the author id, as JSON) and `parley reader erase ID` (texts and name removed, comments
 * kept as placeholders so replies keep their place, identity forgotten, audited). */
#ifndef PARLEY_READER_H
#define PARLEY_READER_H

/* Registers GET /api/mod/reader?id=ID and POST /api/mod/reader/erase (admins only). */
void reader_init(void);

/* A signed-in reader's own request over the WebSocket (identity.self_service):
 * {"type":"my_data"} answers {"type":"my_data","data":EXPORT}; {"type":"erase_me",
 * "confirm":true} erases the reader and answers {"type":"erased","erased":{...}}. */
#include <jansson.h>
#include "conn.h"
void reader_ws_export(conn_t *c, const json_t *id);
void reader_ws_erase(conn_t *c, json_t *req, const json_t *id);

/* argv[0] is "export" or "erase". Returns the exit status. */
int reader_cli(int argc, char **argv);

#endif
