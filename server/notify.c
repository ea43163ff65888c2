/* notify.c: reply notifications (see notify.h). */
#include "notify.h"
#include "alloc.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "events.h"
#include "mail.h"
#include "net.h"
#include "outbox.h"
#include "server.h"
#include "store.h"
#include "store_notify.h"

#define REPLIES_MAX 50

/* A `replies` request. Created on the loop, run on the storage thread, answered and
 * freed on the loop; strings and JSON owned by the job. */
typedef struct {
    store_job job;
    uint64_t conn_id;
    json_t *req_id;
    char *article, *author;
    json_t *replies;
    char state[16];             /* the reader's email subscription on the article */
    unsigned char *address;     /* subscribe: nonce || secretbox(address) */
    size_t address_len;
    char *page;
    uint64_t http_id;           /* confirm / unsubscribe links: the HTTP request */
    char ip_hash[33];           /* subscribe: who asks, for the confirmation-mail limits */
    char address_hash[33];      /* subscribe: keyed hash of the address (same purpose) */
    int64_t sub_id, created;
    int result;
} njob;

static void njob_free(njob *j) {
    json_decref(j->req_id);
    json_decref(j->replies);
    free(j->article);
    free(j->author);
    free(j->address);
    free(j->page);
    free(j);
}

static njob *njob_new(conn_t *c, const json_t *id, int (*run)(store_job *, db_t *),
                      void (*done)(store_job *)) {
    njob *j = xcalloc(1, sizeof *j);
    j->job.run = run;
    j->job.done = done;
    if (c) {
        j->conn_id = c->id;
        j->author = xstrdup(c->author_id);
    }
    j->req_id = id ? json_incref((json_t *)id) : NULL;
    return j;
}

/* Storage thread: the replies to the reader on the article, and their email state. */
static int run_replies(store_job *job, db_t *db) {
    njob *j = (njob *)job;
    j->replies = store_notify_replies(db, j->author, j->article, REPLIES_MAX);
    store_notify_email_state(db, j->author, j->article, j->state);
    return j->replies ? 0 : PERR_INTERNAL;
}

/* Loop: answers the `replies` request (if the connection is still there); frees the job. */
static void done_replies(store_job *job) {
    njob *j = (njob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c) {
        if (job->status) {
            conn_error(c, j->req_id, (perr_t)job->status, "The replies could not be read.");
        } else {
            json_t *r = json_pack("{s:s, s:s, s:O, s:o}", "type", "replies", "article", j->article,
                                  "replies", j->replies, "email",
                                  j->state[0] && strcmp(j->state, "off") ? json_string(j->state)
                                                                         : json_null());
            if (j->req_id) json_object_set(r, "id", j->req_id);
            conn_send_json(c, r);
        }
    }
    njob_free(j);
}

void notify_replies(conn_t *c, const json_t *id, const char *article) {
    njob *j = njob_new(c, id, run_replies, done_replies);
    j->article = xstrdup(article);
    store_submit(srv.store, &j->job);
}

void notify_reply_effect(db_t *db, json_t *effects, json_t *comment) {
    json_t *parent = json_object_get(comment, "parent");
    if (!json_is_integer(parent)) return;
    char to[128];
    if (store_notify_comment_author(db, json_integer_value(parent), to, sizeof to)) return;
    const char *from = json_string_value(json_object_get(json_object_get(comment, "author"), "id"));
    if (from && !strcmp(from, to)) return; /* answering oneself is no news */
    effect_author(effects, to,
                  json_pack("{s:s, s:O, s:O, s:O}", "type", "reply", "article",
                            json_object_get(comment, "article"), "parent", parent, "comment",
                            comment));
    /* the digest's row commits with the reply */
    const char *article = json_string_value(json_object_get(comment, "article"));
    if (srv.cfg.smtp_url && article &&
        store_notify_email_pend(db, to, article, json_integer_value(json_object_get(comment, "id")),
                                now_ms()) == 0)
        outbox_kick();
}

/* ---- Keys and signed links ---- */

static unsigned char box_key[crypto_secretbox_KEYBYTES];
static unsigned char mac_key[crypto_generichash_KEYBYTES];
static _Atomic uint64_t mails_sent, mails_failed;

/* Reads data_dir/notify.key (32 random bytes), creating it on first start the way the
 * address-hash key is: written aside and linked into place, so processes starting
 * together agree. */
static int load_key(unsigned char key[32]) {
    /* with PostgreSQL the key lives in the database, so every node agrees */
    if (store_postgres()) return store_secret("notify", key, 32);
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/notify.key", srv.cfg.data_dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, key, 32);
            close(fd);
            if (n == 32) return 0;
            log_err("notify: %s is damaged (want 32 bytes)", path);
            return -1;
        }
        randombytes_buf(key, 32);
        snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, key, 32) != 32 || fsync(fd)) {
            log_err("notify: cannot write %s: %s", tmp, strerror(errno));
            if (fd >= 0) close(fd);
            unlink(tmp);
            return -1;
        }
        close(fd);
        int rc = link(tmp, path), e = errno;
        unlink(tmp);
        if (rc == 0) return 0;
        if (e != EEXIST) {
            log_err("notify: cannot create %s: %s", path, strerror(e));
            return -1;
        }
    }
    return -1;
}

/* The hex MAC (32 characters + NUL) of a link's fields. */
static void link_mac(const char *what, int64_t a, int64_t b, char out[33]) {
    char msg[96];
    int n = snprintf(msg, sizeof msg, "%s:%" PRId64 ":%" PRId64, what, a, b);
    unsigned char mac[16];
    crypto_generichash(mac, sizeof mac, (const unsigned char *)msg, (size_t)n, mac_key,
                       sizeof mac_key);
    sodium_bin2hex(out, 33, mac, sizeof mac);
}

static bool link_ok(const char *what, int64_t a, int64_t b, const char *given) {
    char want[33];
    link_mac(what, a, b, want);
    return strlen(given) == 32 && sodium_memcmp(want, given, 32) == 0;
}

static void base_url(char *out, size_t outlen) {
    if (srv.cfg.public_url) {
        size_t n = strlen(srv.cfg.public_url);
        snprintf(out, outlen, "%.*s", (int)(n && srv.cfg.public_url[n - 1] == '/' ? n - 1 : n),
                 srv.cfg.public_url);
    } else {
        snprintf(out, outlen, "http://%s:%d", srv.cfg.listen_host, srv.cfg.listen_port);
    }
}

/* nonce || secretbox(address); *len gets the size. malloc'd. */
static unsigned char *seal(const char *address, size_t *len) {
    size_t n = strlen(address);
    *len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    unsigned char *out = xmalloc(*len);
    randombytes_buf(out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, (const unsigned char *)address, n,
                          out, box_key);
    return out;
}

/* The address in a sealed blob, malloc'd, or NULL when it does not open. */
static char *unseal(const unsigned char *blob, size_t len) {
    if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return NULL;
    size_t n = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *out = xmalloc(n + 1);
    if (crypto_secretbox_open_easy((unsigned char *)out, blob + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, blob, box_key)) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

/* ---- Subscribing (loop, then storage thread) ---- */

/* A plausible address: one @, something on each side, a dot in the domain, no spaces,
 * controls or characters that would need quoting. */
static bool address_ok(const char *a) {
    size_t n = strlen(a);
    const char *at = strchr(a, '@');
    if (n < 3 || n > 254 || !at || at == a || strchr(at + 1, '@') || !strchr(at + 1, '.'))
        return false;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= ' ' || *p == 0x7f || strchr("<>\"(),;:[]\\", *p)) return false;
    return at[1] != '.' && a[n - 1] != '.';
}

/* The page a subscription links to: an http(s) URL whose origin is allowed to embed. */
static char *page_ok(const char *page) {
    if (!page || strlen(page) > 2000 || strpbrk(page, " \t\r\n\"<>")) return NULL;
    const char *p = !strncmp(page, "https://", 8) ? page + 8 : !strncmp(page, "http://", 7) ? page + 7 : NULL;
    if (!p) return NULL;
    size_t hostlen = strcspn(p, "/?#");
    char origin[512];
    snprintf(origin, sizeof origin, "%.*s", (int)(p - page + (long)hostlen), page);
    return config_origin_allowed(&srv.cfg, origin) ? xstrdup(page) : NULL;
}

/* Storage thread: stores the sealed address in the state decided on the loop. */
static int run_subscribe(store_job *job, db_t *db) {
    njob *j = (njob *)job;
    int64_t now = now_ms();
    bool confirm = !strcmp(j->state, "pending");
    /* a confirmation mail goes to an address someone typed: keep that from becoming a
     * way to mail strangers */
    if (confirm && store_notify_confirm_limited(db, j->author, j->article, j->ip_hash,
                                                j->address_hash, now))
        return PERR_RATE_LIMITED;
    int64_t id = store_notify_email_subscribe(db, j->author, j->article, j->address,
                                              j->address_len, j->state, j->page, now);
    if (id <= 0) return PERR_UNAVAILABLE;
    if (confirm && store_notify_email_asker(db, id, j->ip_hash, j->address_hash))
        return PERR_UNAVAILABLE;
    return 0;
}

/* Storage thread: turns the reader's subscription on the article off (and drops what
 * waited for it). */
static int run_unsubscribe(store_job *job, db_t *db) {
    njob *j = (njob *)job;
    if (store_notify_email_off(db, j->author, j->article, 0) < 0) return PERR_UNAVAILABLE;
    snprintf(j->state, sizeof j->state, "off");
    return 0;
}

/* Loop: answers notify.email / notify.email.off with the new state; a pending one wakes
 * the delivery thread for its confirmation mail. Frees the job. */
static void done_email(store_job *job) {
    njob *j = (njob *)job;
    conn_t *c = conn_by_id(j->conn_id);
    if (c) {
        if (job->status) {
            conn_error(c, j->req_id, (perr_t)job->status, "%s",
                       job->status == PERR_RATE_LIMITED
                           ? "A confirmation mail was sent recently; check your inbox or try "
                             "again later."
                           : "The email setting could not be saved.");
        } else {
            json_t *r = json_pack("{s:s, s:s, s:s}", "type", "notify.email", "article",
                                  j->article, "state", j->state);
            if (j->req_id) json_object_set(r, "id", j->req_id);
            conn_send_json(c, r);
        }
    }
    if (!job->status && !strcmp(j->state, "pending")) outbox_kick();
    njob_free(j);
}

void notify_email(conn_t *c, const json_t *id, const char *article, const char *email,
                  const char *page) {
    if (!srv.cfg.smtp_url) {
        conn_error(c, id, PERR_FORBIDDEN, "Email notifications are not set up on this site.");
        return;
    }
    const char *address = email;
    bool verified = false;
    const char *token_email = c->signed_in && c->person ? c->person->email : NULL;
    if (token_email && (!email || !strcmp(email, token_email))) {
        address = token_email;
        verified = true; /* the host site vouches for it */
    }
    if (!address) {
        conn_error(c, id, PERR_BAD_REQUEST, "Give the email address to send replies to.");
        return;
    }
    if (!address_ok(address)) {
        conn_error(c, id, PERR_BAD_REQUEST, "That does not look like an email address.");
        return;
    }
    njob *j = njob_new(c, id, run_subscribe, done_email);
    j->article = xstrdup(article);
    j->address = seal(address, &j->address_len);
    j->page = page_ok(page);
    snprintf(j->state, sizeof j->state, "%s", verified ? "active" : "pending");
    snprintf(j->ip_hash, sizeof j->ip_hash, "%s", c->ip_hash);
    unsigned char h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)address, strlen(address), mac_key,
                       sizeof mac_key);
    sodium_bin2hex(j->address_hash, sizeof j->address_hash, h, sizeof h);
    store_submit(srv.store, &j->job);
}

void notify_email_off(conn_t *c, const json_t *id, const char *article) {
    njob *j = njob_new(c, id, run_unsubscribe, done_email);
    j->article = xstrdup(article);
    store_submit(srv.store, &j->job);
}

/* ---- The links in the mails (HTTP) ---- */

/* Answers r with a small HTML page: title, text (both escaped) and optional trusted
 * markup (form). Returns what net_http_respond returns. */
static int page(http_req *r, int status, const char *title, const char *text, const char *form) {
    mail_buf b = {0};
    mail_buf_add(&b, "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport "
                     "content=\"width=device-width\"><title>");
    mail_buf_html(&b, title);
    mail_buf_add(&b, "</title><body style=\"font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em\"><h1>");
    mail_buf_html(&b, title);
    mail_buf_add(&b, "</h1><p>");
    mail_buf_html(&b, text);
    mail_buf_add(&b, "</p>");
    if (form) mail_buf_add(&b, form);
    mail_buf_add(&b, "</body></html>\n");
    http_header h[2] = {{"cache-control", "no-store"}, {"referrer-policy", "no-referrer"}};
    int rc = net_http_respond(r, status, "text/html; charset=utf-8", h, 2, b.buf, b.len);
    free(b.buf);
    return rc;
}

/* Reads the s (id), c (created) and t (MAC) arguments; false when missing. */
static bool link_args(http_req *r, int64_t *id, int64_t *created, char t[40]) {
    char s[32] = "", cr[32] = "0";
    if (net_http_arg(r, "s", s, sizeof s) <= 0 || net_http_arg(r, "t", t, 40) <= 0) return false;
    net_http_arg(r, "c", cr, sizeof cr);
    char *end;
    *id = strtoll(s, &end, 10);
    if (*end || *id <= 0) return false;
    *created = strtoll(cr, &end, 10);
    return !*end;
}

/* Storage thread: pending -> active for the link's subscription; result as
 * store_notify_email_confirm. */
static int run_confirm(store_job *job, db_t *db) {
    njob *j = (njob *)job;
    j->result = store_notify_email_confirm(db, j->sub_id, j->created, now_ms());
    return 0;
}

/* Storage thread: the unsubscribe link's subscription off. */
static int run_off_link(store_job *job, db_t *db) {
    njob *j = (njob *)job;
    j->result = store_notify_email_off(db, NULL, NULL, j->sub_id);
    return j->result < 0 ? PERR_UNAVAILABLE : 0;
}

/* Loop: the page that answers a confirmation or unsubscribe link; frees the job. */
static void done_link(store_job *job) {
    njob *j = (njob *)job;
    http_req *r = net_http_by_id(j->http_id);
    if (r) {
        if (job->status)
            page(r, 503, "Please try again", "The change could not be saved just now.", NULL);
        else if (j->job.run == run_confirm && j->result < 0)
            page(r, 404, "Link expired", "This confirmation link is no longer valid. Ask for "
                                         "email notifications again under your comment.", NULL);
        else if (j->job.run == run_confirm)
            page(r, 200, "Email notifications are on",
                 "You will get an email when someone replies to your comments (at most one "
                 "email per discussion at a time).", NULL);
        else
            page(r, 200, "Unsubscribed", "You will get no more emails about replies in this "
                                         "discussion.", NULL);
    }
    njob_free(j);
}

/* GET /api/notify/confirm?s=ID&c=CREATED&t=MAC: the double opt-in link. */
static int route_confirm(http_req *r) {
    int64_t id, created;
    char t[40];
    if (!link_args(r, &id, &created, t) || !link_ok("confirm", id, created, t))
        return page(r, 400, "Invalid link", "This link is not valid.", NULL);
    njob *j = njob_new(NULL, NULL, run_confirm, done_link);
    j->sub_id = id;
    j->created = created;
    j->http_id = r->id;
    store_submit(srv.store, &j->job);
    return 1;
}

/* GET /api/notify/unsubscribe?s=ID&t=MAC shows a button (link checkers follow GETs);
 * POST (the button, or a mail client's RFC 8058 one-click) unsubscribes. */
static int route_unsubscribe_get(http_req *r) {
    int64_t id, created;
    char t[40];
    if (!link_args(r, &id, &created, t) || !link_ok("unsub", id, 0, t))
        return page(r, 400, "Invalid link", "This link is not valid.", NULL);
    char form[256];
    snprintf(form, sizeof form,
             "<form method=post action=\"/api/notify/unsubscribe?s=%" PRId64 "&amp;t=%.32s\">"
             "<button type=submit>Unsubscribe</button></form>", id, t);
    return page(r, 200, "Unsubscribe", "Stop the emails about replies in this discussion?", form);
}

static int route_unsubscribe_post(http_req *r) {
    int64_t id, created;
    char t[40];
    if (!link_args(r, &id, &created, t) || !link_ok("unsub", id, 0, t))
        return page(r, 400, "Invalid link", "This link is not valid.", NULL);
    njob *j = njob_new(NULL, NULL, run_off_link, done_link);
    j->sub_id = id;
    j->http_id = r->id;
    store_submit(srv.store, &j->job);
    return 1;
}

int notify_init(void) {
    /* the delivery thread carries the mails and asks us about alerts */
    static const outbox_mail_ops mail = {notify_check_alerts, notify_alert_mail,
                                         notify_mail_tick, notify_metrics};
    outbox_set_mail(&mail);
    unsigned char key[32];
    if (load_key(key)) return -1;
    crypto_kdf_derive_from_key(box_key, sizeof box_key, 1, "parleyml", key);
    crypto_kdf_derive_from_key(mac_key, sizeof mac_key, 2, "parleyml", key);
    sodium_memzero(key, sizeof key);
    net_add_route("GET", "/api/notify/confirm", route_confirm);
    net_add_route("GET", "/api/notify/unsubscribe", route_unsubscribe_get);
    net_add_route("POST", "/api/notify/unsubscribe", route_unsubscribe_post);
    return 0;
}

/* ---- Sending (delivery thread) ---- */

static int64_t mail_blocked_until;
static int mail_failures;

/* After a failed send: the relay is left alone for a growing while. */
static void mail_failed(int64_t now, const char *what, int64_t sub, const char *err) {
    atomic_fetch_add(&mails_failed, 1);
    mail_failures++;
    int64_t d = srv.cfg.notify_retry_initial_ms;
    for (int i = 1; i < mail_failures && d < srv.cfg.notify_retry_max_ms; i++) d *= 2;
    if (d > srv.cfg.notify_retry_max_ms) d = srv.cfg.notify_retry_max_ms;
    mail_blocked_until = now + d;
    /* never the address: the subscription's number says which */
    log_warn("notify: %s mail for subscription %" PRId64 " failed: %s; retry in %lld ms", what,
             sub, err, (long long)d);
}

/* Appends one reply to a digest: "NAME replied:" and its body quoted, in both parts. */
static void quote_body(mail_buf *text, mail_buf *html, json_t *c) {
    const char *name = json_string_value(json_object_get(json_object_get(c, "author"), "name"));
    const char *body = json_string_value(json_object_get(c, "body"));
    mail_buf_printf(text, "%s replied:\n\n", name ? name : "Someone");
    for (const char *p = body ? body : ""; *p;) {
        size_t n = strcspn(p, "\n");
        mail_buf_printf(text, "  > %.*s\n", (int)n, p);
        p += n;
        if (*p) p++;
    }
    mail_buf_add(text, "\n");
    mail_buf_add(html, "<p><strong>");
    mail_buf_html(html, name ? name : "Someone");
    mail_buf_add(html, "</strong> replied:</p><blockquote style=\"border-left:3px solid #ccc;margin:0 0 1em;padding-left:1em\">");
    mail_buf_html(html, body ? body : "");
    mail_buf_add(html, "</blockquote>");
}

/* Mails subscription s the replies waiting for it and settles them. Returns 1 when
 * settled (sent, or nothing left to send), -1 when the relay failed (they stay). */
static int send_digest(db_t *db, store_notify_sub *s, int64_t now, const atomic_bool *stop) {
    int64_t max_id = 0;
    json_t *replies = store_notify_digest_replies(db, s->id, &max_id);
    if (!replies) return 0;
    size_t n = json_array_size(replies);
    if (n == 0) { /* the replies were removed before the digest went */
        json_decref(replies);
        store_notify_digest_sent(db, s->id, max_id, now);
        return 1;
    }
    char *to = unseal(s->address, s->address_len);
    if (!to) {
        log_err("notify: subscription %" PRId64 ": the address does not decrypt (notify.key changed?)", s->id);
        store_notify_email_off(db, NULL, NULL, s->id);
        json_decref(replies);
        return 1;
    }
    char base[600], mac[33], unsub[800], subject[200];
    base_url(base, sizeof base);
    link_mac("unsub", s->id, 0, mac);
    snprintf(unsub, sizeof unsub, "%s/api/notify/unsubscribe?s=%" PRId64 "&t=%s", base, s->id, mac);
    snprintf(subject, sizeof subject, n == 1 ? "1 new reply to your comment" : "%zu new replies to your comment", n);
    mail_buf text = {0}, html = {0};
    mail_buf_add(&html, "<!doctype html><html><body style=\"font-family:system-ui,sans-serif\">");
    size_t i;
    json_t *c;
    json_array_foreach(replies, i, c) quote_body(&text, &html, c);
    if (s->page) {
        mail_buf_printf(&text, "Read the discussion: %s\n\n", s->page);
        mail_buf_add(&html, "<p><a href=\"");
        mail_buf_html(&html, s->page);
        mail_buf_add(&html, "\">Read the discussion</a></p>");
    }
    mail_buf_printf(&text, "You get this because you asked for email about replies in the "
                           "discussion \"%s\".\nUnsubscribe: %s\n", s->article, unsub);
    mail_buf_add(&html, "<p style=\"color:#666;font-size:small\">You get this because you asked for email about replies in the discussion &ldquo;");
    mail_buf_html(&html, s->article);
    mail_buf_add(&html, "&rdquo;. <a href=\"");
    mail_buf_html(&html, unsub);
    mail_buf_add(&html, "\">Unsubscribe</a></p></body></html>");
    char *msg = mail_build(srv.cfg.smtp_from, to, subject, text.buf, html.buf, unsub);
    char err[256] = "";
    int rc = msg ? mail_send(to, msg, srv.cfg.notify_timeout_ms, stop, err, sizeof err) : -1;
    if (!msg) snprintf(err, sizeof err, "unusable address");
    free(msg);
    free(text.buf);
    free(html.buf);
    sodium_memzero(to, strlen(to));
    free(to);
    json_decref(replies);
    if (rc) {
        if (!atomic_load(stop)) mail_failed(now, "digest", s->id, err);
        return -1;
    }
    atomic_fetch_add(&mails_sent, 1);
    mail_failures = 0;
    store_notify_digest_sent(db, s->id, max_id, now);
    return 1;
}

/* Mails subscription s its double opt-in link. Returns 1 when settled, -1 when the relay
 * failed (it stays due). */
static int send_confirm(db_t *db, store_notify_sub *s, int64_t now, const atomic_bool *stop) {
    char *to = unseal(s->address, s->address_len);
    if (!to) {
        store_notify_email_off(db, NULL, NULL, s->id);
        return 1;
    }
    char base[600], mac[33], link[800];
    base_url(base, sizeof base);
    link_mac("confirm", s->id, s->created_at, mac);
    snprintf(link, sizeof link, "%s/api/notify/confirm?s=%" PRId64 "&c=%" PRId64 "&t=%s", base,
             s->id, s->created_at, mac);
    mail_buf text = {0}, html = {0};
    mail_buf_printf(&text, "Someone (we hope you) asked to be emailed when people reply to "
                           "their comments in the discussion \"%s\".\n\nConfirm: %s\n\n"
                           "If it was not you, ignore this mail: nothing more will be sent.\n",
                    s->article, link);
    mail_buf_add(&html, "<!doctype html><html><body style=\"font-family:system-ui,sans-serif\"><p>Someone (we hope you) asked to be emailed when people reply to their comments in the discussion &ldquo;");
    mail_buf_html(&html, s->article);
    mail_buf_add(&html, "&rdquo;.</p><p><a href=\"");
    mail_buf_html(&html, link);
    mail_buf_add(&html, "\">Confirm email notifications</a></p><p>If it was not you, ignore this mail: nothing more will be sent.</p></body></html>");
    char *msg = mail_build(srv.cfg.smtp_from, to, "Confirm email notifications for replies",
                           text.buf, html.buf, NULL);
    char err[256] = "";
    int rc = msg ? mail_send(to, msg, srv.cfg.notify_timeout_ms, stop, err, sizeof err) : -1;
    if (!msg) snprintf(err, sizeof err, "unusable address");
    free(msg);
    free(text.buf);
    free(html.buf);
    sodium_memzero(to, strlen(to));
    free(to);
    if (rc) {
        if (!atomic_load(stop)) mail_failed(now, "confirmation", s->id, err);
        return -1;
    }
    atomic_fetch_add(&mails_sent, 1);
    mail_failures = 0;
    store_notify_confirm_sent(db, s->id, now);
    return 1;
}

int notify_mail_tick(db_t *db, int64_t now, int64_t *wake, const atomic_bool *stop) {
    if (!srv.cfg.smtp_url) return 0;
    if (now < mail_blocked_until) {
        if (mail_blocked_until < *wake) *wake = mail_blocked_until;
        return 0;
    }
    enum { BATCH = 8 };
    store_notify_sub subs[BATCH];
    int settled = 0, failed = 0;
    int n = store_notify_confirm_due(db, subs, BATCH);
    for (int i = 0; i < n; i++) {
        if (!failed && !atomic_load(stop)) {
            int rc = send_confirm(db, &subs[i], now, stop);
            if (rc < 0) failed = 1; else settled += rc;
        }
        store_notify_sub_free(&subs[i]);
    }
    n = failed ? 0 : store_notify_digest_due(db, now, srv.cfg.email_interval_s * 1000, subs, BATCH);
    for (int i = 0; i < n; i++) {
        if (!failed && !atomic_load(stop)) {
            int rc = send_digest(db, &subs[i], now, stop);
            if (rc < 0) failed = 1; else settled += rc;
        }
        store_notify_sub_free(&subs[i]);
    }
    return settled;
}

char *notify_metrics(void) {
    char *out = NULL;
    if (asprintf(&out,
                 "# HELP parley_notify_emails_total Reply and confirmation emails by result.\n"
                 "# TYPE parley_notify_emails_total counter\n"
                 "parley_notify_emails_total{result=\"sent\"} %llu\n"
                 "parley_notify_emails_total{result=\"failed\"} %llu\n",
                 (unsigned long long)atomic_load(&mails_sent),
                 (unsigned long long)atomic_load(&mails_failed)) < 0)
        abort();
    return out;
}

/* ---- Moderator alerts ---- */

/* Storage thread only: when each kind of alert last went, so a flood raises one alert
 * per cooldown, not one per post. Articles are remembered in a small ring. */
#define SURGE_SLOTS 64
static int64_t queue_alert_at;
static struct {
    char article[129];
    int64_t at;
} surge_alerts[SURGE_SLOTS];
static unsigned surge_next;

/* The queue's counts, from the moderation service above (registered at its start):
 * notify sits below moderation, which emits through it. */
static json_t *(*queue_counts)(db_t *db);

void notify_set_queue_counts(json_t *(*fn)(db_t *db)) { queue_counts = fn; }

int notify_check_alerts(db_t *db, int64_t comment_id) {
    const config_t *cfg = &srv.cfg;
    if (!cfg->alert_queue && !cfg->alert_surge_posts) return 0;
    int64_t now = now_ms(), cooldown = cfg->alert_cooldown_minutes * 60 * 1000;
    int rc = 0;
    if (cfg->alert_queue && queue_counts && now - queue_alert_at >= cooldown) {
        json_t *counts = queue_counts(db);
        json_int_t held = json_integer_value(json_object_get(counts, "held"));
        json_decref(counts);
        if (held >= cfg->alert_queue) {
            queue_alert_at = now;
            log_warn("notify: alert: %lld posts held for review (threshold %ld)", (long long)held,
                     cfg->alert_queue);
            rc |= outbox_emit(db, "moderation.alert",
                              json_pack("{s:s, s:I, s:I}", "kind", "queue", "held", held,
                                        "threshold", (json_int_t)cfg->alert_queue));
        }
    }
    if (cfg->alert_surge_posts) {
        char article[129];
        int64_t n = store_notify_article_posts(db, comment_id,
                                               now - cfg->alert_surge_minutes * 60 * 1000,
                                               article, sizeof article);
        if (n >= cfg->alert_surge_posts) {
            int slot = -1;
            for (int i = 0; i < SURGE_SLOTS; i++)
                if (surge_alerts[i].at && !strcmp(surge_alerts[i].article, article)) slot = i;
            if (slot < 0 || now - surge_alerts[slot].at >= cooldown) {
                if (slot < 0) slot = (int)(surge_next++ % SURGE_SLOTS);
                snprintf(surge_alerts[slot].article, sizeof surge_alerts[slot].article, "%s", article);
                surge_alerts[slot].at = now;
                log_warn("notify: alert: %lld posts on '%s' in %ld minutes", (long long)n, article,
                         cfg->alert_surge_minutes);
                rc |= outbox_emit(db, "moderation.alert",
                                  json_pack("{s:s, s:s, s:I, s:I}", "kind", "surge", "article",
                                            article, "posts", (json_int_t)n, "minutes",
                                            (json_int_t)cfg->alert_surge_minutes));
            }
        }
    }
    return rc ? -1 : 0;
}

int notify_alert_mail(const char *to, const char *payload, const atomic_bool *stop, char *err,
                      size_t errlen) {
    json_t *ev = json_loads(payload, 0, NULL);
    json_t *d = json_object_get(ev, "data");
    const char *kind = json_string_value(json_object_get(d, "kind"));
    char subject[300], line[600], base[600];
    base_url(base, sizeof base);
    if (kind && !strcmp(kind, "surge"))
        snprintf(line, sizeof line, "%lld comments were posted on \"%s\" in the last %lld minutes.",
                 (long long)json_integer_value(json_object_get(d, "posts")),
                 json_string_value(json_object_get(d, "article")),
                 (long long)json_integer_value(json_object_get(d, "minutes")));
    else
        snprintf(line, sizeof line, "%lld posts are waiting for review (alert threshold %lld).",
                 (long long)json_integer_value(json_object_get(d, "held")),
                 (long long)json_integer_value(json_object_get(d, "threshold")));
    snprintf(subject, sizeof subject, "[Parley] %s", kind && !strcmp(kind, "surge")
                                                          ? "Surge of comments on one article"
                                                          : "Moderation queue is filling up");
    mail_buf text = {0}, html = {0};
    mail_buf_printf(&text, "%s\n\nOpen the console: %s/console/\n", line, base);
    mail_buf_add(&html, "<!doctype html><html><body style=\"font-family:system-ui,sans-serif\"><p>");
    mail_buf_html(&html, line);
    mail_buf_add(&html, "</p><p><a href=\"");
    mail_buf_html(&html, base);
    mail_buf_add(&html, "/console/\">Open the console</a></p></body></html>");
    json_decref(ev);
    char *msg = mail_build(srv.cfg.smtp_from, to, subject, text.buf, html.buf, NULL);
    int rc = msg ? mail_send(to, msg, srv.cfg.notify_timeout_ms, stop, err, errlen) : -1;
    if (!msg) snprintf(err, errlen, "unusable address");
    if (rc == 0) atomic_fetch_add(&mails_sent, 1); else atomic_fetch_add(&mails_failed, 1);
    free(msg);
    free(text.buf);
    free(html.buf);
    return rc;
}
