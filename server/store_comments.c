/* store_comments.c: a comments row as the wire's COMMENT object (SQLite). */
#include "store_comments.h"
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void comment_time(int64_t ms, char out[32]) { clock_rfc3339(ms, out); }

static const char *col_text(db_stmt *st, int i) {
    const char *t = db_col_text(st, i);
    return t ? (const char *)t : "";
}

json_t *comment_from_row(db_stmt *st) {
    char created[32], edited[32];
    comment_time(db_col_int64(st, 9), created);
    json_t *author = json_pack("{s:s, s:s, s:b}", "id", col_text(st, 3), "name", col_text(st, 4),
                               "guest", db_col_int(st, 5));
    if (db_col_type(st, 6) != DB_NULL)
        json_object_set_new(author, "avatar", json_string(col_text(st, 6)));
    if (db_col_type(st, 13) != DB_NULL)
        json_object_set_new(author, "badge", json_string(col_text(st, 13)));
    json_t *c = json_pack("{s:I, s:s, s:o, s:o, s:s, s:s, s:s, s:s}", "id",
                          (json_int_t)db_col_int64(st, 0), "article", col_text(st, 1),
                          "parent",
                          db_col_type(st, 2) == DB_NULL
                              ? json_null()
                              : json_integer(db_col_int64(st, 2)),
                          "author", author, "title", col_text(st, 7), "body", col_text(st, 8),
                          "created_at", created, "status",
                          /* only its author ever reads a shadow-banned post: as published */
                          strcmp(col_text(st, 11), "shadow") ? col_text(st, 11) : "published");
    if (db_col_type(st, 10) != DB_NULL) {
        comment_time(db_col_int64(st, 10), edited);
        json_object_set_new(c, "edited_at", json_string(edited));
    } else {
        json_object_set_new(c, "edited_at", json_null());
    }
    if (db_col_type(st, 12) != DB_NULL)
        json_object_set_new(c, "reason", json_string(col_text(st, 12)));
    return c;
}

