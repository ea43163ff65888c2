/* proto.c: parsing and checking of client messages, then dispatch. */
#include "proto.h"
#include "reader.h"
#include "alloc.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

#include "comments.h"
#include "hub.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "featured.h"
#include "permalink.h"
#include "reactions.h"
#include "sort.h"
#include "server.h"
#include "text.h"

#define MAX_SUBS 32
#define MAX_ID_LEN 64

static proto_mod_handler mod_handler;

void proto_set_mod_handler(proto_mod_handler h) { mod_handler = h; }

/* ---- Field helpers: each sends the error itself and returns -1 ---- */

static int get_article(conn_t *c, json_t *req, const json_t *id, const char **out) {
    json_t *a = json_object_get(req, "article");
    if (!json_is_string(a) || !text_article_valid(json_string_value(a))) {
        conn_error(c, id, PERR_BAD_REQUEST,
                   "'article' must be 1-128 characters of A-Z a-z 0-9 . _ : / -");
        return -1;
    }
    *out = json_string_value(a);
    return 0;
}

/* An optional positive id field: 0 when absent or null. */
static int get_opt_id(conn_t *c, json_t *req, const json_t *id, const char *key, int64_t *out) {
    json_t *v = json_object_get(req, key);
    *out = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        conn_error(c, id, PERR_BAD_REQUEST, "'%s' must be a positive comment id", key);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

static int get_req_id(conn_t *c, json_t *req, const json_t *id, const char *key, int64_t *out) {
    if (get_opt_id(c, req, id, key, out)) return -1;
    if (*out == 0) {
        conn_error(c, id, PERR_BAD_REQUEST, "'%s' is required", key);
        return -1;
    }
    return 0;
}

/* Cleans a text field. required: absent or empty is an error; else absent gives NULL. */
static int get_text(conn_t *c, json_t *req, const json_t *id, const char *key,
                    text_field_t field, long max, bool required, char **out) {
    static const perr_t empty[] = {PERR_TITLE_EMPTY, PERR_BODY_EMPTY, PERR_NAME_EMPTY};
    static const perr_t toolong[] = {PERR_TITLE_TOO_LONG, PERR_BODY_TOO_LONG,
                                     PERR_NAME_TOO_LONG};
    json_t *v = json_object_get(req, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required) return 0;
        conn_error(c, id, empty[field], "The %s is required.", key);
        return -1;
    }
    if (!json_is_string(v)) {
        conn_error(c, id, PERR_BAD_REQUEST, "'%s' must be a string", key);
        return -1;
    }
    size_t ncp;
    text_status_t st = text_clean(json_string_value(v), json_string_length(v), field,
                                  (size_t)max, out, &ncp);
    switch (st) {
    case TEXT_OK:
        return 0;
    case TEXT_EMPTY:
        if (!required) return 0;
        conn_error(c, id, empty[field], "The %s is empty.", key);
        return -1;
    case TEXT_TOO_LONG:
        conn_error(c, id, toolong[field], "The %s is longer than %ld characters.", key, max);
        return -1;
    case TEXT_INVALID:
    default:
        conn_error(c, id, PERR_INVALID_TEXT,
                   "The %s contains characters that are not allowed (control or "
                   "direction-override characters, or invalid UTF-8).",
                   key);
        return -1;
    }
}

/* ---- Handlers ---- */

static void handle_ping(conn_t *c, json_t *req, const json_t *id) {
    char now[32];
    clock_rfc3339(now_ms(), now);
    json_t *r = json_pack("{s:s, s:s}", "type", "pong", "time", now);
    if (id) json_object_set(r, "id", (json_t *)id);
    conn_send_json(c, r);
}

static void handle_subscribe(conn_t *c, json_t *req, const json_t *id) {
    const char *article;
    int64_t since = -1; /* absent: the newest page; 0: everything */
    if (get_article(c, req, id, &article)) return;
    json_t *sv = json_object_get(req, "since");
    if (sv && !json_is_null(sv)) {
        if (!json_is_integer(sv) || json_integer_value(sv) < 0) {
            conn_error(c, id, PERR_BAD_REQUEST, "'since' must be a comment id (0 or more)");
            return;
        }
        since = json_integer_value(sv);
    }
    sort_cursor cur;
    const char *why;
    if (sort_parse(req, &cur, &why)) {
        conn_error(c, id, PERR_BAD_REQUEST, "%s", why);
        return;
    }
    if (!hub_find(c, article) && c->nsubs >= MAX_SUBS) {
        conn_error(c, id, PERR_BAD_REQUEST, "A connection may watch at most %d articles.",
                   MAX_SUBS);
        return;
    }
    sub_t *old = hub_find(c, article);
    if (old && !old->active) {
        /* one history at a time per article and connection: a replay in progress is not
         * started again (each would hold a page of memory) */
        conn_error(c, id, PERR_CONFLICT, "The history of this article is still being sent.");
        return;
    }
    /* the page the thread is read on, for moderators' links (kept when it is on the
     * origin of the page that opened this socket) */
    json_t *url = json_object_get(req, "url");
    char origin[256];
    if (url && !json_is_null(url)) {
        if (!json_is_string(url) || permalink_url_origin(json_string_value(url), origin, sizeof origin)) {
            conn_error(c, id, PERR_BAD_REQUEST,
                       "'url' must be an http(s) address (at most 1024 bytes, no fragment)");
            return;
        }
        if (c->origin && !strcmp(origin, c->origin))
            permalink_note_url(article, json_string_value(url));
    }
    bool created;
    hub_subscribe(c, article, &created);
    comments_subscribe(c, id, article, since, &cur);
}

static void handle_replies(conn_t *c, json_t *req, const json_t *id) {
    const char *article;
    if (get_article(c, req, id, &article)) return;
    notify_replies(c, id, article);
}

/* notify.email {article, email?, page?} and notify.email.off {article}. */
static void handle_notify_email(conn_t *c, json_t *req, const json_t *id) {
    const char *article;
    if (get_article(c, req, id, &article)) return;
    json_t *e = json_object_get(req, "email"), *p = json_object_get(req, "page");
    if ((e && !json_is_null(e) && !json_is_string(e)) || (p && !json_is_null(p) && !json_is_string(p))) {
        conn_error(c, id, PERR_BAD_REQUEST, "'email' and 'page' must be strings");
        return;
    }
    notify_email(c, id, article, json_string_value(e), json_string_value(p));
}

static void handle_notify_email_off(conn_t *c, json_t *req, const json_t *id) {
    const char *article;
    if (get_article(c, req, id, &article)) return;
    notify_email_off(c, id, article);
}

static void handle_unsubscribe(conn_t *c, json_t *req, const json_t *id) {
    const char *article;
    if (get_article(c, req, id, &article)) return;
    if (hub_unsubscribe(c, article)) {
        conn_error(c, id, PERR_NOT_FOUND, "Not subscribed to this article.");
        return;
    }
    json_t *r = json_pack("{s:s, s:s}", "type", "unsubscribed", "article", article);
    if (id) json_object_set(r, "id", (json_t *)id);
    conn_send_json(c, r);
}

static void handle_history(conn_t *c, json_t *req, const json_t *id) {
    const char *article;
    int64_t before = 0;
    sort_cursor cur;
    const char *why;
    if (get_article(c, req, id, &article)) return;
    if (sort_parse(req, &cur, &why)) {
        conn_error(c, id, PERR_BAD_REQUEST, "%s", why);
        return;
    }
    /* the oldest order pages back by id; the thread orders by their `after` cursor */
    if (cur.order == SORT_OLDEST ? get_req_id(c, req, id, "before", &before)
                                 : get_opt_id(c, req, id, "before", &before))
        return;
    comments_history(c, id, article, before, &cur);
}

static void handle_thread(conn_t *c, json_t *req, const json_t *id) {
    const char *article;
    int64_t comment;
    if (get_article(c, req, id, &article) || get_req_id(c, req, id, "comment", &comment)) return;
    permalink_thread(c, id, article, comment);
}

static void handle_featured(conn_t *c, json_t *req, const json_t *id) {
    const char *article;
    if (get_article(c, req, id, &article)) return;
    featured_list(c, id, article);
}

static void handle_react(conn_t *c, json_t *req, const json_t *id) {
    int64_t comment;
    if (get_req_id(c, req, id, "comment", &comment)) return;
    json_t *like = json_object_get(req, "like");
    if (like && !json_is_boolean(like)) {
        conn_error(c, id, PERR_BAD_REQUEST, "'like' must be true or false");
        return;
    }
    reactions_react(c, id, comment, !like || json_is_true(like));
}

/* A post's optional client nonce: 1-64 printable ASCII characters (docs/protocol.md).
 * *out gets a copy (owned by the caller) or NULL when absent. */
static int get_nonce(conn_t *c, json_t *req, const json_t *id, char **out) {
    json_t *v = json_object_get(req, "nonce");
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0;
    bool ok = s && n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++) ok = s[i] >= 0x20 && s[i] <= 0x7e;
    if (!ok) {
        conn_error(c, id, PERR_BAD_REQUEST, "'nonce' must be 1-64 printable ASCII characters");
        return -1;
    }
    *out = xstrdup(s);
    return 0;
}

static void handle_post(conn_t *c, json_t *req, const json_t *id) {
    const config_t *cfg = &srv.cfg;
    post_input in = {0};
    const char *article;
    if (get_article(c, req, id, &article) || get_opt_id(c, req, id, "parent", &in.parent))
        return;
    if (!c->signed_in && !cfg->guests) {
        conn_error(c, id, PERR_UNAUTHORIZED, "Sign in to comment.");
        return;
    }
    if (get_text(c, req, id, "title", TEXT_TITLE, cfg->limit_title, in.parent == 0, &in.title))
        goto fail;
    if (get_text(c, req, id, "body", TEXT_BODY, cfg->limit_body, true, &in.body)) goto fail;
    if (c->signed_in && c->person) {
        in.name = xstrdup(c->person->user_name);
        in.avatar = c->person->avatar ? xstrdup(c->person->avatar) : NULL;
    } else if (get_text(c, req, id, "name", TEXT_NAME, cfg->limit_name, true, &in.name)) {
        goto fail;
    }
    if (get_nonce(c, req, id, &in.nonce)) goto fail;
    if (!in.title) in.title = xstrdup("");
    in.article = xstrdup(article);
    comments_post(c, id, &in);
    return;
fail:
    metrics.posts[POST_INVALID]++;
    free(in.title);
    free(in.body);
    free(in.name);
    free(in.avatar);
}

static void handle_edit(conn_t *c, json_t *req, const json_t *id) {
    int64_t comment;
    char *title = NULL, *body = NULL;
    if (get_req_id(c, req, id, "comment", &comment)) return;
    if (get_text(c, req, id, "title", TEXT_TITLE, srv.cfg.limit_title, false, &title)) return;
    if (get_text(c, req, id, "body", TEXT_BODY, srv.cfg.limit_body, true, &body)) {
        free(title);
        return;
    }
    comments_edit(c, id, comment, title, body);
}

static void handle_delete(conn_t *c, json_t *req, const json_t *id) {
    int64_t comment;
    if (get_req_id(c, req, id, "comment", &comment)) return;
    comments_delete(c, id, comment);
}

static void handle_report(conn_t *c, json_t *req, const json_t *id) {
    static const char *const reasons[] = {"spam", "abuse", "off_topic", "other", NULL};
    int64_t comment;
    if (get_req_id(c, req, id, "comment", &comment)) return;
    const char *reason = json_string_value(json_object_get(req, "reason"));
    int ok = 0;
    for (int i = 0; reason && reasons[i]; i++) ok |= !strcmp(reason, reasons[i]);
    if (!ok) {
        conn_error(c, id, PERR_BAD_REQUEST,
                   "'reason' must be one of spam, abuse, off_topic, other");
        return;
    }
    char *note = NULL;
    if (get_text(c, req, id, "note", TEXT_BODY, 500, false, &note)) return;
    comments_report(c, id, comment, reason, note);
    free(note);
}

static void handle_hello(conn_t *c, json_t *req, const json_t *id) {
    identity_hello(c, req, id);
}

typedef struct {
    const char *type;
    void (*fn)(conn_t *, json_t *, const json_t *);
} handler_t;

static void handle_my_data(conn_t *c, json_t *req, const json_t *id) { reader_ws_export(c, id); }
static void handle_erase_me(conn_t *c, json_t *req, const json_t *id) { reader_ws_erase(c, req, id); }

static const handler_t handlers[] = {
    {"ping", handle_ping},       {"hello", handle_hello},
    {"subscribe", handle_subscribe}, {"unsubscribe", handle_unsubscribe},
    {"history", handle_history}, {"post", handle_post},
    {"edit", handle_edit},       {"delete", handle_delete},
    {"report", handle_report},   {"replies", handle_replies},
    {"notify.email", handle_notify_email}, {"notify.email.off", handle_notify_email_off},
    {"my_data", handle_my_data}, {"erase_me", handle_erase_me},
    {"report", handle_report},   {"react", handle_react},
    {"thread", handle_thread},   {"featured", handle_featured},
    {NULL, NULL},
};

/* Recovers the request id of a frame that is not valid UTF-8, so the error can carry it:
 * invalid bytes become '?' and the copy is parsed. */
static json_t *salvage_id(const char *data, size_t len) {
    char *copy = xmalloc(len + 1);
    size_t i = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)data[i];
        size_t n = ch < 0x80 ? 1 : (ch >> 5) == 6 ? 2 : (ch >> 4) == 14 ? 3 : (ch >> 3) == 30 ? 4 : 0;
        if (n && i + n <= len && text_utf8_valid(data + i, n)) {
            memcpy(copy + i, data + i, n);
            i += n;
        } else {
            copy[i++] = '?';
        }
    }
    copy[len] = '\0';
    json_t *req = json_loadb(copy, len, 0, NULL);
    free(copy);
    json_t *id = req ? json_object_get(req, "id") : NULL;
    if (id) json_incref(id);
    json_decref(req);
    return id;
}

/* A frame that is JSON but for its text: a \u0000 escape (NUL, which no text may hold)
 * or an escaped surrogate half without its pair (no character at all). Returns the
 * object's "id" (a new reference, NULL when it has none) in *id and true when the frame
 * parses once those are set aside, so the error can answer the request by its id. */
static bool text_escape_only(const char *data, size_t len, json_t **id) {
    json_t *o = json_loadb(data, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
    if (!o) {
        /* \uD800-\uDFFF become \uFFFD (same length): pairs too, that is no matter here */
        char *copy = xmalloc(len + 1);
        memcpy(copy, data, len);
        copy[len] = '\0';
        for (size_t i = 0; i + 6 <= len; i++) {
            if (copy[i] == '\\' && copy[i + 1] == '\\') {
                i++; /* an escaped backslash, not an escape */
            } else if (copy[i] == '\\' && copy[i + 1] == 'u' && (copy[i + 2] == 'd' || copy[i + 2] == 'D') &&
                       strchr("89abcdefABCDEF", copy[i + 3]) && copy[i + 3]) {
                memcpy(copy + i + 2, "FFFD", 4);
                i += 5;
            }
        }
        o = json_loadb(copy, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
        free(copy);
    }
    bool ok = json_is_object(o);
    *id = ok ? json_object_get(o, "id") : NULL;
    if (*id) json_incref(*id);
    json_decref(o);
    return ok;
}

void proto_handle(conn_t *c, const char *data, size_t len) {
    if (!text_utf8_valid(data, len)) {
        json_t *id = salvage_id(data, len);
        conn_error(c, id, PERR_INVALID_TEXT, "The message is not valid UTF-8.");
        json_decref(id);
        return;
    }
    json_error_t jerr;
    json_t *req = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *salvaged = NULL;
    if (!req && text_escape_only(data, len, &salvaged)) {
        conn_error(c, salvaged, PERR_INVALID_TEXT,
                   "The message holds a NUL character or half of a surrogate pair (\\u0000, "
                   "\\uD800-\\uDFFF alone), which is no text.");
        json_decref(salvaged);
        return;
    }
    if (!req || !json_is_object(req)) {
        conn_error(c, NULL, PERR_BAD_JSON, "%s",
                   req ? "A message must be a JSON object." : jerr.text);
        json_decref(req);
        return;
    }
    json_t *id = json_object_get(req, "id");
    if (id && !((json_is_integer(id)) ||
                (json_is_string(id) && json_string_length(id) <= MAX_ID_LEN))) {
        conn_error(c, NULL, PERR_BAD_REQUEST, "'id' must be a number or a short string");
        json_decref(req);
        return;
    }
    const char *type = json_string_value(json_object_get(req, "type"));
    if (!type) {
        conn_error(c, id, PERR_UNKNOWN_TYPE, "A message needs a string 'type'.");
        json_decref(req);
        return;
    }
    if (srv.shutting_down) {
        conn_error(c, id, PERR_UNAVAILABLE, "The server is restarting; retry shortly.");
        json_decref(req);
        return;
    }
    for (const handler_t *h = handlers; h->type; h++) {
        if (strcmp(h->type, type) == 0) {
            h->fn(c, req, id);
            json_decref(req);
            return;
        }
    }
    if (strncmp(type, "mod.", 4) == 0) {
        if (!mod_handler)
            conn_error(c, id, PERR_FORBIDDEN, "Moderator actions need a moderator session.");
        else
            mod_handler(c, type, req, id);
        json_decref(req);
        return;
    }
    char ex[96];
    conn_error(c, id, PERR_UNKNOWN_TYPE, "Unknown message type '%s'.",
               log_excerpt(type, ex, sizeof ex));
    json_decref(req);
}
