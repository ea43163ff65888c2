/* import_parley.c: Parley's own export (`parley export`), one JSON object a line, read
 * back line by line, gzipped or not (import_file.c). Every field is kept as it was; ids become source ids, so parents
 * are rebuilt whatever ids the comments get here. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_file.h"

static const char *str(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An optional time field: 0 when null or absent, -1 when malformed. */
static int64_t opt_time(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return 0;
    return json_is_string(v) ? import_parse_time(json_string_value(v)) : -1;
}

static int do_line(json_t *o, long lineno, import_sink *s) {
    json_t *id = json_object_get(o, "id"), *parent = json_object_get(o, "parent");
    const char *article = str(o, "article"), *created = str(o, "created");
    const char *body = str(o, "body"), *status = str(o, "status");
    char why[96] = "";
    if (!json_is_integer(id) || json_integer_value(id) <= 0) snprintf(why, sizeof why, "'id' must be a positive integer");
    else if (parent && !json_is_null(parent) && !json_is_integer(parent)) snprintf(why, sizeof why, "'parent' must be an id or null");
    else if (!article) snprintf(why, sizeof why, "'article' is missing");
    else if (!body) snprintf(why, sizeof why, "'body' is missing");
    else if (!status) snprintf(why, sizeof why, "'status' is missing");
    else if (import_parse_time(created) < 0) snprintf(why, sizeof why, "'created' must be an RFC 3339 time");
    char art[129];
    if (!why[0] && (import_article_id(article, art) || strcmp(art, article)))
        snprintf(why, sizeof why, "'article' is not an article id");
    int64_t edited = opt_time(o, "edited"), updated = opt_time(o, "updated");
    if (!why[0] && (edited < 0 || updated < 0)) snprintf(why, sizeof why, "'edited' and 'updated' must be RFC 3339 times or null");
    if (why[0]) {
        import_sink_error(s, lineno, 0, "%s", why);
        return -1;
    }
    char sid[32], pid[32];
    snprintf(sid, sizeof sid, "%lld", (long long)json_integer_value(id));
    if (json_is_integer(parent)) snprintf(pid, sizeof pid, "%lld", (long long)json_integer_value(parent));
    json_t *src = json_object_get(o, "source");
    json_t *score = json_object_get(o, "score");
    const char *author_id = str(o, "author_id");
    import_comment c = {
        .source_id = sid,
        .article = article,
        .parent = json_is_integer(parent) ? pid : NULL,
        .name = str(o, "name"),
        .title = str(o, "title"),
        .text = body,
        .status = status,
        .created_ms = import_parse_time(created),
        .author_id = author_id && *author_id ? author_id : NULL,
        .ip_hash = str(o, "ip_hash"),
        .avatar = str(o, "avatar"),
        .reason = str(o, "reason"),
        .decision = str(o, "decision"),
        .moderated_by = str(o, "moderated_by"),
        .alt_format = str(src, "format"),
        .alt_source = str(src, "id"),
        .guest = json_is_false(json_object_get(o, "guest")) ? 0 : 1,
        .score = json_is_number(score) ? json_number_value(score) : 0,
        .edited_ms = edited,
        .updated_ms = updated,
    };
    return import_sink_comment(s, &c);
}

static int on_line(json_t *o, long lineno, void *arg) { return do_line(o, lineno, arg); }

int import_parley(const char *path, import_sink *s) {
    return import_file_json_lines(path, s, JSON_REJECT_DUPLICATES, on_line, s);
}
