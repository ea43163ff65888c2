/* import_remark42.c: a Remark42 backup (one JSON object a line; a first line holding
 * "version" and the site's users and posts is metadata and skipped). Each comment line
 * has id, pid, text (HTML), user {name, id, ip}, locator {site, url}, time, edit {time},
 * delete and title (the page's). Read a line at a time, gzipped (as Remark42 writes its
 * backups, backup-{site}-{YYYYMMDD}.gz) or not (import_file.c). */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_file.h"

static const char *str(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* One line; *known is set when it is the metadata line or a comment. */
static int do_line(json_t *o, long lineno, import_sink *s, bool *known) {
    json_t *loc = json_object_get(o, "locator"), *user = json_object_get(o, "user");
    const char *id = str(o, "id"), *url = str(loc, "url");
    if (!id || !json_is_object(loc)) {
        /* Remark42's metadata: {"version": 1, "users": [...], "posts": [...]} (either
         * list may be null); Commento's export also has a "version" */
        if (json_object_get(o, "version") &&
            (json_object_get(o, "users") || json_object_get(o, "posts")))
            *known = true;
        import_sink_skip(s, "not_a_comment"); /* the metadata line, or anything else */
        return 0;
    }
    *known = true;
    if (!url || !*url) {
        import_sink_skip(s, "unknown_thread");
        return 0;
    }
    int64_t ms = import_parse_time(str(o, "time"));
    if (ms < 0) {
        import_sink_error(s, lineno, 0, "comment %s: 'time' must be an RFC 3339 time", id);
        return -1;
    }
    import_thread t = {.source_id = url, .link = url, .title = str(o, "title")};
    if (import_sink_thread(s, &t)) return -1;
    const char *pid = str(o, "pid");
    /* edit: {"time", "summary"} once the author edited it; a time that cannot be read
     * (Go's zero time, 0001-01-01) is no edit */
    int64_t edited = import_parse_time(str(json_object_get(o, "edit"), "time"));
    /* user.ip is already Remark42's own hash, never an address: not kept */
    import_comment c = {.source_id = id, .thread = url, .parent = pid && *pid ? pid : NULL,
                        .name = str(user, "name"), .account = str(user, "id"),
                        .html = str(o, "text") ? str(o, "text") : "",
                        .status = json_is_true(json_object_get(o, "delete")) ? "removed"
                                                                             : "published",
                        .created_ms = ms, .edited_ms = edited > ms ? edited : 0};
    return import_sink_comment(s, &c);
}

typedef struct {
    import_sink *s;
    bool known; /* the metadata line or a comment was seen */
} remark42_read;

static int on_line(json_t *o, long lineno, void *arg) {
    remark42_read *r = arg;
    return do_line(o, lineno, r->s, &r->known);
}

int import_remark42(const char *path, import_sink *s) {
    remark42_read r = {.s = s};
    int rc = import_file_json_lines(path, s, 0, on_line, &r);
    /* JSON lines, but neither the metadata line nor one comment: another format's file
     * (a Commento export on one line, an empty file), not an empty import */
    if (!rc && !r.known) {
        import_sink_error(s, 0, 0, "not a Remark42 backup: no metadata line (\"version\", \"users\") "
                                   "and no comment (\"id\", \"locator\")");
        rc = -1;
    }
    return rc;
}
