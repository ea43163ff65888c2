/* events.c: what a committed change tells people (see events.h). */
#include "events.h"

#include <string.h>

#include "bus.h"
#include "conn.h"

static void effect(json_t *effects, const char *to, const char *key, json_t *msg) {
    json_t *e = json_pack("{s:s, s:o}", "to", to, "msg", msg);
    if (key) json_object_set_new(e, "key", json_string(key));
    json_array_append_new(effects, e);
}

void effect_article(json_t *effects, const char *article, json_t *msg) {
    effect(effects, "article", article, msg);
}
void effect_author(json_t *effects, const char *author, json_t *msg) {
    effect(effects, "author", author, msg);
}
void effect_consoles(json_t *effects, json_t *msg) { effect(effects, "consoles", NULL, msg); }

void effects_apply(json_t *effects) {
    size_t i;
    json_t *e;
    json_array_foreach(effects, i, e) {
        const char *to = json_string_value(json_object_get(e, "to"));
        const char *key = json_string_value(json_object_get(e, "key"));
        json_t *msg = json_object_get(e, "msg");
        msg_t *m = msg_from_json(msg);
        if (!strcmp(to, "article")) {
            /* a comment made public out of id order (approved from the queue): readers
             * that lack it get it now, and the catch-up by id will not bring it twice */
            const char *type = json_string_value(json_object_get(msg, "type"));
            json_int_t cid = json_integer_value(
                json_object_get(json_object_get(msg, "comment"), "id"));
            bus_article(key, m, type && !strcmp(type, "comment") && cid > 0 ? -cid : 0);
        } else if (!strcmp(to, "author")) {
            bus_author(key, m);
        } else {
            bus_consoles(m);
        }
        msg_unref(m);
    }
}

