/* sort.c: orders and cursors of thread pages (see sort.h). */
#include "sort.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {"oldest", "newest", "liked"};

const char *sort_name(sort_order_t o) { return names[o]; }

/* Parses "LIKES:ID" (liked) or "ID" (newest): non-negative decimal integers only. */
static int parse_cursor(const char *s, sort_cursor *out) {
    int64_t v[2] = {0, 0};
    int n = 0;
    const char *p = s;
    for (;;) {
        if (*p < '0' || *p > '9') return -1;
        int64_t x = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (x > (INT64_MAX - 9) / 10) return -1;
            x = x * 10 + (*p - '0');
        }
        v[n++] = x;
        if (*p == '\0') break;
        if (*p != ':' || n == 2) return -1;
        p++;
    }
    if (out->order == SORT_LIKED) {
        if (n != 2) return -1;
        out->likes = v[0];
        out->id = v[1];
    } else {
        if (n != 1) return -1;
        out->likes = INT64_MAX;
        out->id = v[0];
    }
    return 0;
}

int sort_parse(const json_t *req, sort_cursor *out, const char **why) {
    out->order = SORT_OLDEST;
    out->likes = out->id = INT64_MAX;
    json_t *o = json_object_get(req, "order");
    if (o && !json_is_null(o)) {
        const char *s = json_string_value(o);
        int found = -1;
        for (int i = 0; s && i < 3; i++)
            if (!strcmp(s, names[i])) found = i;
        if (found < 0) {
            *why = "'order' must be one of oldest, newest, liked";
            return -1;
        }
        out->order = (sort_order_t)found;
    }
    json_t *a = json_object_get(req, "after");
    if (a && !json_is_null(a)) {
        if (out->order == SORT_OLDEST) {
            *why = "'after' pages the newest and liked orders; the oldest order pages with 'before'";
            return -1;
        }
        if (!json_is_string(a) || json_string_length(a) > 48 ||
            parse_cursor(json_string_value(a), out)) {
            *why = "'after' must be the 'next' value of an earlier history reply";
            return -1;
        }
    }
    return 0;
}

json_t *sort_next(const sort_cursor *cur) {
    char buf[48];
    if (cur->order == SORT_LIKED)
        snprintf(buf, sizeof buf, "%" PRId64 ":%" PRId64, cur->likes, cur->id);
    else
        snprintf(buf, sizeof buf, "%" PRId64, cur->id);
    return json_string(buf);
}
