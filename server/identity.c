/* identity.c: guests and signed-in users (the hello message). */
#include "identity.h"
#include "alloc.h"
#include "clock.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"

#include "jwt.h"
#include "log.h"
#include "server.h"

static const char *const badge_names[] = {"staff", "verified", "moderator", NULL};

static bool badge_known(const char *v) {
    for (int i = 0; v && badge_names[i]; i++)
        if (!strcmp(v, badge_names[i])) return true;
    return false;
}

int identity_check_badges(const cfg_node *identity, const char *file, char *err, size_t errlen) {
    const cfg_node *b = identity ? cfg_get(identity, "badges") : NULL;
    if (!b) return 0;
    if (cfg_expect(b, CFG_MAP, "badges", file, err, errlen)) return -1;
    for (const cfg_node *n = b->child; n; n = n->next)
        if (n->kind != CFG_SCALAR || !badge_known(n->value))
            return cfg_error(err, errlen, file, n,
                             "identity.badges.%s must be staff, verified or moderator", n->key);
    return 0;
}

/* The badge of the first role in identity.badges (in the file's order) that the token
 * holds, into out[16] ("" when none). */
static void badge_of(char *const *roles, char out[16]) {
    out[0] = '\0';
    const cfg_node *b = cfg_get(cfg_get(srv.cfg.tree, "identity"), "badges");
    for (const cfg_node *n = b ? b->child : NULL; n && roles; n = n->next) {
        if (n->kind != CFG_SCALAR || !badge_known(n->value)) continue;
        for (int i = 0; roles[i]; i++)
            if (!strcmp(roles[i], n->key)) {
                snprintf(out, 16, "%s", n->value);
                return;
            }
    }
}

void identity_init_conn(conn_t *c) {
    unsigned char rnd[8];
    char hex[17];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(c->author_id, sizeof c->author_id, "g:%s", hex);
}

static void welcome(conn_t *c, const json_t *id) {
    json_t *user = json_pack("{s:s, s:b}", "id", c->author_id, "guest", !c->signed_in);
    const conn_person *p = c->person;
    /* whether the token carried an address (never the address itself) */
    if (p && p->email) json_object_set_new(user, "email", json_true());
    json_object_set_new(user, "name", p && p->user_name ? json_string(p->user_name) : json_null());
    if (p && p->avatar) json_object_set_new(user, "avatar", json_string(p->avatar));
    if (p && p->badge[0]) json_object_set_new(user, "badge", json_string(p->badge));
    json_t *r = json_pack("{s:s, s:o, s:b, s:{s:I, s:I, s:I}, s:s}", "type", "welcome", "user",
                          user, "guests", srv.cfg.guests, "limits", "title",
                          (json_int_t)srv.cfg.limit_title, "body",
                          (json_int_t)srv.cfg.limit_body, "name",
                          (json_int_t)srv.cfg.limit_name, "version", PARLEY_VERSION);
    json_object_set_new(r, "reply_emails", json_boolean(srv.cfg.smtp_url != NULL));
    /* signed-in readers may take their data out or erase it (reader.c) */
    json_object_set_new(r, "self_service", json_boolean(srv.cfg.self_service && c->signed_in));
    json_object_set_new(r, "reactions", json_pack("{s:b}", "guests", srv.cfg.reactions_guests));
    if (id) json_object_set(r, "id", (json_t *)id);
    conn_send_json(c, r);
}

void identity_hello(conn_t *c, json_t *req, const json_t *id) {
    json_t *key = json_object_get(req, "guest_key");
    json_t *token = json_object_get(req, "token");
    if (token && !json_is_null(token)) {
        if (!json_is_string(token)) {
            conn_error(c, id, PERR_BAD_REQUEST, "'token' must be a string");
            return;
        }
        jwt_claims cl;
        char why[128];
        if (!srv.keys) {
            conn_error(c, id, PERR_UNAUTHORIZED, "Sign-in tokens are not configured here.");
            return;
        }
        if (jwt_verify(srv.keys, json_string_value(token), (double)now_ms() / 1000.0, &cl, why,
                       sizeof why)) {
            clog_info(c->id, "identity: token refused: %s", why);
            conn_error(c, id, PERR_UNAUTHORIZED, "The sign-in token was refused (%s).", why);
            return;
        }
        snprintf(c->author_id, sizeof c->author_id, "u:%s", cl.sub);
        conn_person *p = conn_person_of(c);
        free(p->user_name);
        free(p->avatar);
        /* a display name is held to the same rules as a guest's */
        char *name = NULL;
        size_t ncp;
        if (text_clean(cl.name, strlen(cl.name), TEXT_NAME, (size_t)srv.cfg.limit_name, &name,
                       &ncp) != TEXT_OK)
            name = xstrdup("Reader");
        p->user_name = name;
        p->avatar = cl.avatar ? xstrdup(cl.avatar) : NULL;
        free(p->email);
        p->email = cl.email ? xstrdup(cl.email) : NULL;
        c->signed_in = true;
        badge_of(cl.roles, p->badge);
        jwt_claims_free(&cl);
        welcome(c, id);
        return;
    }
    if (key && !json_is_null(key)) {
        size_t n = json_string_length(key);
        if (!json_is_string(key) || n < 16 || n > 128) {
            conn_error(c, id, PERR_BAD_REQUEST, "'guest_key' must be 16-128 characters");
            return;
        }
        char hex[33];
        server_hash_hex(json_string_value(key), n, hex);
        hex[16] = '\0';
        snprintf(c->author_id, sizeof c->author_id, "g:%s", hex);
        /* a guest now: nothing of an earlier sign-in on this connection stays with the
         * guest id (else its posts showed as a signed-in reader's, with the token's name
         * and badge, and erase_me worked on a guest) */
        c->signed_in = false;
        if (c->person) {
            conn_person *p = c->person;
            free(p->user_name);
            free(p->avatar);
            free(p->email);
            p->user_name = p->avatar = p->email = NULL;
            p->badge[0] = '\0';
        }
    }
    welcome(c, id);
}
