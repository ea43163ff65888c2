/* import_impl.h: what the import sink (import.c) and the import, export and backup
 * commands (import_cli.c) share: the sink's state, which the command fills in before the
 * parse and reads for the summary after it. Private to the import module. */
#ifndef PARLEY_IMPORT_IMPL_H
#define PARLEY_IMPORT_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dict.h"
#include "import.h"
#include "store_import.h"

#define MAX_SKIP_REASONS 16

struct import_sink {
    const char *file, *format;
    import_repo *repo;
    dict_t *map;                 /* --article-map: key -> article id (malloc'd) */
    long limit_title, limit_body, limit_name;
    bool failed;
    char err[1024];              /* the first fatal error */
    struct {
        const char *reason;      /* static string */
        int64_t n;
    } skips[MAX_SKIP_REASONS];
    int nskips;
    int64_t threads, comments;   /* staged */
    int64_t file_bytes;
    bool tty;
    struct timespec last_progress;
};

/* True when s is a valid article id (1-128 of A-Z a-z 0-9 . _ : / -), the rule proto.c
 * applies to the article of a message. */
bool import_article_valid(const char *s);

#endif
