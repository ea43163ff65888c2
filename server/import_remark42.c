/* import_remark42.c: a Remark42 backup (one JSON object a line; a first line holding
 * "version" and the site's users and posts is metadata and skipped). Each comment line
 * has id, pid, text (HTML), user {name, id, ip}, locator {site, url}, time, delete and
 * title (the page's). Read a line at a time. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

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
    /* user.ip is already Remark42's own hash, never an address: not kept */
    import_comment c = {.source_id = id, .thread = url, .parent = pid && *pid ? pid : NULL,
                        .name = str(user, "name"), .account = str(user, "id"),
                        .html = str(o, "text") ? str(o, "text") : "",
                        .status = json_is_true(json_object_get(o, "delete")) ? "removed"
                                                                             : "published",
                        .created_ms = ms};
    return import_sink_comment(s, &c);
}

int import_remark42(const char *path, import_sink *s) {
    FILE *f = fopen(path, "r");
    if (!f) {
        import_sink_error(s, 0, 0, "cannot open the file");
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int64_t bytes = 0;
    int rc = 0;
    bool known = false;
    while (!rc && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        bytes += n;
        size_t k = (size_t)n;
        while (k && (line[k - 1] == '\n' || line[k - 1] == '\r' || line[k - 1] == ' ')) k--;
        size_t bom = lineno == 1 ? import_bom_len(line, k) : 0;
        if (k == bom) continue;
        json_error_t je;
        json_t *o = json_loadb(line + bom, k - bom, 0, &je);
        if (!json_is_object(o)) {
            import_sink_error(s, lineno, o ? 1 : je.column, "%s",
                              o ? "a line must be a JSON object" : je.text);
            rc = -1;
        } else {
            rc = do_line(o, lineno, s, &known);
        }
        json_decref(o);
        import_sink_progress(s, bytes);
    }
    free(line);
    fclose(f);
    /* JSON lines, but neither the metadata line nor one comment: another format's file
     * (a Commento export on one line, an empty file), not an empty import */
    if (!rc && !known) {
        import_sink_error(s, 0, 0, "not a Remark42 backup: no metadata line (\"version\", \"users\") "
                                   "and no comment (\"id\", \"locator\")");
        rc = -1;
    }
    return rc;
}
