/* import_commento.c: Commento's JSON export ({"version": 1, "comments": [...],
 * "commenters": [...]}), as Commento writes it gzipped or unpacked (import_file.c). The
 * export is one JSON document, so it is parsed whole with jansson (Commento's exports
 * are per domain and small; see docs/migration.md). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "import.h"
#include "import_file.h"

static const char *str(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* state: approved, unapproved, flagged; deleted: true wins. */
static const char *status_of(json_t *c) {
    if (json_is_true(json_object_get(c, "deleted"))) return "removed";
    const char *st = str(c, "state");
    if (!st || !strcmp(st, "approved")) return "published";
    return "pending";
}

int import_commento(const char *path, import_sink *s) {
    import_file *f = import_file_open(path, s);
    if (!f) return -1;
    json_error_t je;
    json_t *root = import_file_json(f, 0, &je);
    import_file_close(f);
    if (!root) {
        import_sink_error(s, je.line, je.column, "%s", je.text); /* unless a read error was */
        return -1;
    }
    json_t *comments = json_object_get(root, "comments");
    json_t *commenters = json_object_get(root, "commenters");
    if (!json_is_object(root) || !json_is_array(comments)) {
        import_sink_error(s, 0, 0, "not a Commento export: no \"comments\" array");
        json_decref(root);
        return -1;
    }
    dict_t *who = dict_new(); /* commenterHex -> its object (borrowed from root) */
    size_t i;
    json_t *c;
    json_array_foreach(commenters, i, c) {
        const char *hex = str(c, "commenterHex");
        if (hex) dict_set(who, hex, c, NULL);
    }
    int rc = 0;
    json_array_foreach(comments, i, c) {
        /* Commento writes the page's path as "url" (its comment struct's Path field is
         * tagged json:"url"); "path" is read too, for hand-made files */
        const char *hex = str(c, "commentHex"), *domain = str(c, "domain"), *pth = str(c, "url");
        if (!pth || !*pth) pth = str(c, "path");
        int64_t ms = import_parse_time(str(c, "creationDate"));
        if (!hex || !*hex) {
            import_sink_skip(s, "comment_without_id");
            continue;
        }
        if (ms < 0) {
            import_sink_error(s, 0, 0, "comment %s: 'creationDate' must be an RFC 3339 time", hex);
            rc = -1;
            break;
        }
        char key[2048];
        snprintf(key, sizeof key, "%s%s", domain ? domain : "", pth ? pth : "");
        import_thread t = {.source_id = key, .identifier = pth, .link = pth};
        if ((rc = import_sink_thread(s, &t))) break;
        const char *parent = str(c, "parentHex");
        json_t *person = dict_get(who, str(c, "commenterHex") ? str(c, "commenterHex") : "");
        const char *md = str(c, "markdown"); /* the reader's text; else its HTML */
        if (md && !*md && str(c, "html") && *str(c, "html")) md = NULL;
        import_comment ic = {.source_id = hex, .thread = key,
                             .parent = parent && strcmp(parent, "root") ? parent : NULL,
                             .name = person ? str(person, "name") : NULL,
                             .email = person ? str(person, "email") : NULL,
                             .account = str(c, "commenterHex"),
                             .text = md, .html = md ? NULL : str(c, "html"),
                             .status = status_of(c), .created_ms = ms};
        if (!ic.text && !ic.html) ic.text = "";
        if ((rc = import_sink_comment(s, &ic))) break;
    }
    dict_free(who, NULL);
    json_decref(root);
    return rc;
}
