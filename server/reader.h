/* reader.h: a reader's own data: `parley reader export ID` (everything stored about
 * the author id, as JSON) and `parley reader erase ID` (texts and name removed, comments
 * kept as placeholders so replies keep their place, identity forgotten, audited). */
#ifndef PARLEY_READER_H
#define PARLEY_READER_H

/* Registers GET /api/mod/reader?id=ID and POST /api/mod/reader/erase (admins only). */
void reader_init(void);

/* argv[0] is "export" or "erase". Returns the exit status. */
int reader_cli(int argc, char **argv);

#endif
