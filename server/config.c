/* config.c: validation of the server sections of moderation.yml. */
#include "config.h"
#include "alloc.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *const top_keys[] = {"server", "storage", "identity", "limits", "log_level",
                                       "moderation", "rules", "articles", "redis", "console",
                                       "webhooks", "notifications", "reactions", NULL};
static const char *const server_keys[] = {
    "listen", "web_root", "public_url", "origins", "behind_tls", "trust_proxy",
    "max_connections", "max_connections_per_ip", "max_frame_bytes", "client_rate",
    "client_burst", "queue_max_messages", "queue_max_bytes", "max_sockets", "max_sockets_per_ip",
    "http_body_seconds", NULL};
static const char *const storage_keys[] = {"data_dir", "batch_max", "queue_max", "postgres",
                                           "start_wait_ms", NULL};
static const char *const identity_keys[] = {"guests", "keys", "self_service", "badges", NULL};
static const char *const limits_keys[] = {"title",
                                          "body",
                                          "name",
                                          "author_posts_per_minute",
                                          "address_posts_per_minute",
                                          "pending_per_author",
                                          "pending_per_address",
                                          NULL};
static const char *const reactions_keys[] = {"guests", "flush_ms", NULL};
static const char *const redis_keys[] = {"url", "password", "prefix", "catchup_ms", NULL};
static const char *const console_keys[] = {"session_hours", "idle_minutes", "login_attempts",
                                           "login_window_minutes", "report_hide_at",
                                           "report_weight_guest", "session_check_seconds",
                                           NULL};

static const char *const webhook_keys[] = {"url", "secret", "events", NULL};
static const char *const notifications_keys[] = {"retry_initial_ms", "retry_max_ms",
                                                 "give_up_seconds", "timeout_ms", "poll_ms",
                                                 "smtp", "email_interval_seconds", "alerts",
                                                 NULL};
static const char *const alerts_keys[] = {"queue_threshold", "surge_posts", "surge_minutes",
                                          "cooldown_minutes", "email", NULL};
static const char *const smtp_keys[] = {"url", "user", "password", "from", "starttls", NULL};

const char *const config_event_types[] = {
    "comment.published", "comment.held",       "comment.rejected", "comment.edited",
    "comment.removed",   "comment.reported",   "moderation.decision", "reader.banned",
    "reply.created",     "moderation.alert",   "comment.featured", NULL};

bool config_webhook_wants(const config_webhook *w, const char *type) {
    for (int i = 0; i < w->nevents; i++)
        if (!strcmp(w->events[i], "*") || !strcmp(w->events[i], type)) return true;
    return false;
}

int config_parse_listen(const char *s, char **host, int *port) {
    const char *colon = strrchr(s, ':');
    if (!colon) return -1;
    const char *h = s;
    size_t hlen = (size_t)(colon - s);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 0 || p > 65535) return -1;
    *host = hlen ? xstrndup(h, hlen) : xstrdup("0.0.0.0");
    *port = (int)p;
    return 0;
}

char *config_path(const config_t *c, const char *p) {
    if (p[0] == '/' || !c->base_dir) return xstrdup(p);
    size_t n = strlen(c->base_dir) + strlen(p) + 2;
    char *out = xmalloc(n);
    snprintf(out, n, "%s/%s", c->base_dir, p);
    return out;
}

bool config_origin_allowed(const config_t *c, const char *origin) {
    for (int i = 0; i < c->norigins; i++)
        if (strcmp(c->origins[i], "*") == 0 || strcmp(c->origins[i], origin) == 0) return true;
    return false;
}

#define OPT_LONG(map, key, min, max, dst)                                                    \
    do {                                                                                     \
        const cfg_node *n_ = cfg_get(map, key);                                              \
        if (n_ && cfg_long(n_, min, max, &(dst), f, err, errlen)) return -1;                 \
    } while (0)
#define OPT_BOOL(map, key, dst)                                                              \
    do {                                                                                     \
        const cfg_node *n_ = cfg_get(map, key);                                              \
        if (n_ && cfg_bool(n_, &(dst), f, err, errlen)) return -1;                           \
    } while (0)
#define OPT_DOUBLE(map, key, min, max, dst)                                                  \
    do {                                                                                     \
        const cfg_node *n_ = cfg_get(map, key);                                              \
        if (n_ && cfg_double(n_, min, max, &(dst), f, err, errlen)) return -1;               \
    } while (0)
#define OPT_STR(map, key, dst)                                                               \
    do {                                                                                     \
        const cfg_node *n_ = cfg_get(map, key);                                              \
        if (n_) {                                                                            \
            const char *s_ = cfg_str(n_, f, err, errlen);                                    \
            if (!s_) return -1;                                                              \
            free(dst);                                                                       \
            (dst) = xstrdup(s_);                                                              \
        }                                                                                    \
    } while (0)

/* Gets a section that must be a map with known keys; NULL (no error) when absent. */
static int section(const cfg_node *root, const char *name, const char *const *keys,
                   const cfg_node **out, const char *f, char *err, size_t errlen) {
    *out = cfg_get(root, name);
    if (!*out) return 0;
    if (cfg_expect(*out, CFG_MAP, name, f, err, errlen)) return -1;
    return cfg_check_keys(*out, keys, f, err, errlen);
}

static int read_server(config_t *c, const cfg_node *s, char *err, size_t errlen) {
    const char *f = c->file;
    const cfg_node *n = cfg_get(s, "listen");
    if (n) {
        const char *v = cfg_str(n, f, err, errlen);
        if (!v) return -1;
        free(c->listen_host);
        c->listen_host = NULL;
        if (config_parse_listen(v, &c->listen_host, &c->listen_port))
            return cfg_error(err, errlen, f, n, "'listen' must be HOST:PORT, not '%s'", v);
    }
    OPT_STR(s, "web_root", c->web_root);
    OPT_STR(s, "public_url", c->public_url);
    n = cfg_get(s, "origins");
    if (n) {
        if (cfg_expect(n, CFG_SEQ, "origins", f, err, errlen)) return -1;
        c->origins = xcalloc(n->count + 1, sizeof *c->origins);
        c->norigins = 0;
        for (const cfg_node *o = n->child; o; o = o->next) {
            const char *v = cfg_str(o, f, err, errlen);
            if (!v) return -1;
            if (strcmp(v, "*") && strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
                return cfg_error(err, errlen, f, o,
                                 "an origin is scheme://host[:port] (or \"*\"), not '%s'", v);
            size_t len = strlen(v);
            if (len > 1 && v[len - 1] == '/')
                return cfg_error(err, errlen, f, o, "an origin has no trailing slash: '%s'", v);
            c->origins[c->norigins++] = xstrdup(v);
        }
    }
    OPT_BOOL(s, "behind_tls", c->behind_tls);
    OPT_BOOL(s, "trust_proxy", c->trust_proxy);
    OPT_LONG(s, "max_connections", 1, 1000000, c->max_connections);
    OPT_LONG(s, "max_connections_per_ip", 0, 1000000, c->max_connections_per_ip);
    OPT_LONG(s, "max_sockets", 0, 10000000, c->max_sockets);
    OPT_LONG(s, "max_sockets_per_ip", 0, 10000000, c->max_sockets_per_ip);
    OPT_LONG(s, "max_frame_bytes", 1024, 1 << 24, c->max_frame_bytes);
    OPT_LONG(s, "http_body_seconds", 1, 3600, c->http_body_seconds);
    OPT_DOUBLE(s, "client_rate", 0.1, 1e6, c->client_rate);
    OPT_DOUBLE(s, "client_burst", 1, 1e6, c->client_burst);
    OPT_LONG(s, "queue_max_messages", 8, 1 << 20, c->queue_max_messages);
    OPT_LONG(s, "queue_max_bytes", 16384, 1L << 32, c->queue_max_bytes);
    return 0;
}

/* redis: url redis://[:password@]host[:port][/db], password, prefix. */
static int read_redis(config_t *c, const cfg_node *s, char *err, size_t errlen) {
    const char *f = c->file;
    const cfg_node *n = cfg_get(s, "url");
    if (!n) return cfg_error(err, errlen, f, s, "'redis' needs a 'url' (redis://host:port)");
    const char *url = cfg_str(n, f, err, errlen);
    if (!url) return -1;
    if (strncmp(url, "redis://", 8))
        return cfg_error(err, errlen, f, n, "'url' must start with redis://, not '%s'", url);
    const char *p = url + 8, *at = strchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) c->redis_password = xstrndup(colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    char hostport[256];
    snprintf(hostport, sizeof hostport, "%.*s", slash ? (int)(slash - p) : (int)strlen(p), p);
    char *colon = strrchr(hostport, ':');
    c->redis_port = 6379;
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end || port <= 0 || port > 65535)
            return cfg_error(err, errlen, f, n, "bad port in '%s'", url);
        c->redis_port = (int)port;
        *colon = '\0';
    }
    if (!*hostport) return cfg_error(err, errlen, f, n, "no host in '%s'", url);
    c->redis_host = xstrdup(hostport);
    c->redis_db = slash && slash[1] ? atoi(slash + 1) : 0;
    OPT_STR(s, "password", c->redis_password);
    c->redis_prefix = xstrdup("parley:");
    OPT_STR(s, "prefix", c->redis_prefix);
    OPT_LONG(s, "catchup_ms", 100, 600000, c->catchup_ms);
    return 0;
}

/* webhooks: a list of {url, secret, events}. Each url is http(s)://, each secret at least
 * 16 bytes, each event a known type (or "*" for all). */
static int read_webhooks(config_t *c, const cfg_node *s, char *err, size_t errlen) {
    const char *f = c->file;
    if (cfg_expect(s, CFG_SEQ, "webhooks", f, err, errlen)) return -1;
    c->webhooks = xcalloc(s->count + 1, sizeof *c->webhooks);
    for (const cfg_node *w = s->child; w; w = w->next) {
        if (cfg_expect(w, CFG_MAP, "a webhook", f, err, errlen)) return -1;
        if (cfg_check_keys(w, webhook_keys, f, err, errlen)) return -1;
        config_webhook *h = &c->webhooks[c->nwebhooks++];
        const cfg_node *n = cfg_get(w, "url");
        if (!n) return cfg_error(err, errlen, f, w, "a webhook needs a 'url'");
        const char *v = cfg_str(n, f, err, errlen);
        if (!v) return -1;
        if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) || strlen(v) > 2000 ||
            strpbrk(v, " \t\r\n"))
            return cfg_error(err, errlen, f, n, "a webhook 'url' is http:// or https://, not '%s'",
                             v);
        h->url = xstrdup(v);
        for (int i = 0; i < c->nwebhooks - 1; i++)
            if (!strcmp(c->webhooks[i].url, v))
                return cfg_error(err, errlen, f, n, "webhook '%s' is listed twice", v);
        n = cfg_get(w, "secret");
        if (!n) return cfg_error(err, errlen, f, w, "a webhook needs a 'secret'");
        if (!(v = cfg_str(n, f, err, errlen))) return -1;
        if (strlen(v) < 16)
            return cfg_error(err, errlen, f, n, "a webhook 'secret' needs at least 16 characters");
        h->secret = xstrdup(v);
        n = cfg_get(w, "events");
        if (!n) return cfg_error(err, errlen, f, w, "a webhook needs 'events' (a list, or [\"*\"])");
        if (cfg_expect(n, CFG_SEQ, "events", f, err, errlen)) return -1;
        if (n->count == 0) return cfg_error(err, errlen, f, n, "'events' is empty");
        h->events = xcalloc(n->count + 1, sizeof *h->events);
        for (const cfg_node *e = n->child; e; e = e->next) {
            if (!(v = cfg_str(e, f, err, errlen))) return -1;
            bool known = !strcmp(v, "*");
            for (int i = 0; !known && config_event_types[i]; i++)
                known = !strcmp(v, config_event_types[i]);
            if (!known)
                return cfg_error(err, errlen, f, e,
                                 "unknown event '%s' (comment.published, comment.held, "
                                 "comment.rejected, comment.edited, comment.removed, "
                                 "comment.reported, moderation.decision, reader.banned, "
                                 "reply.created, moderation.alert, comment.featured or \"*\")", v);
            h->events[h->nevents++] = xstrdup(v);
        }
    }
    return 0;
}

/* notifications.smtp: url smtp://host[:port] or smtps://..., user, password, from (an
 * address), starttls (default true: plain smtp:// must upgrade). */
static int read_smtp(config_t *c, const cfg_node *s, char *err, size_t errlen) {
    const char *f = c->file;
    if (cfg_expect(s, CFG_MAP, "smtp", f, err, errlen)) return -1;
    if (cfg_check_keys(s, smtp_keys, f, err, errlen)) return -1;
    const cfg_node *n = cfg_get(s, "url");
    if (!n) return cfg_error(err, errlen, f, s, "'smtp' needs a 'url' (smtp://host:port or smtps://...)");
    const char *v = cfg_str(n, f, err, errlen);
    if (!v) return -1;
    if ((strncmp(v, "smtp://", 7) && strncmp(v, "smtps://", 8)) || strpbrk(v, " \t\r\n"))
        return cfg_error(err, errlen, f, n, "'url' must start with smtp:// or smtps://, not '%s'", v);
    c->smtp_url = xstrdup(v);
    n = cfg_get(s, "from");
    if (!n) return cfg_error(err, errlen, f, s, "'smtp' needs a 'from' address");
    if (!(v = cfg_str(n, f, err, errlen))) return -1;
    const char *at = strchr(v, '@');
    if (!at || at == v || !at[1] || strpbrk(v, " \t\r\n<>\",") || strlen(v) > 254)
        return cfg_error(err, errlen, f, n, "'from' must be an address like news@example.com, not '%s'", v);
    c->smtp_from = xstrdup(v);
    OPT_STR(s, "user", c->smtp_user);
    OPT_STR(s, "password", c->smtp_password);
    c->smtp_starttls = true;
    OPT_BOOL(s, "starttls", c->smtp_starttls);
    return 0;
}

/* notifications.alerts: queue_threshold, surge_posts in surge_minutes, cooldown_minutes,
 * email (addresses of the moderators who want the alerts; needs smtp). */
static int read_alerts(config_t *c, const cfg_node *s, char *err, size_t errlen) {
    const char *f = c->file;
    if (cfg_expect(s, CFG_MAP, "alerts", f, err, errlen)) return -1;
    if (cfg_check_keys(s, alerts_keys, f, err, errlen)) return -1;
    OPT_LONG(s, "queue_threshold", 0, 1000000, c->alert_queue);
    OPT_LONG(s, "surge_posts", 0, 1000000, c->alert_surge_posts);
    OPT_LONG(s, "surge_minutes", 1, 24 * 60, c->alert_surge_minutes);
    OPT_LONG(s, "cooldown_minutes", 1, 7 * 24 * 60, c->alert_cooldown_minutes);
    const cfg_node *n = cfg_get(s, "email");
    if (n) {
        if (cfg_expect(n, CFG_SEQ, "email", f, err, errlen)) return -1;
        if (!c->smtp_url)
            return cfg_error(err, errlen, f, n, "alert emails need notifications.smtp");
        c->alert_emails = xcalloc(n->count + 1, sizeof *c->alert_emails);
        for (const cfg_node *e = n->child; e; e = e->next) {
            const char *v = cfg_str(e, f, err, errlen);
            if (!v) return -1;
            const char *at = strchr(v, '@');
            if (!at || at == v || !at[1] || strpbrk(v, " \t\r\n<>\",") || strlen(v) > 254)
                return cfg_error(err, errlen, f, e, "'%s' is not an email address", v);
            c->alert_emails[c->nalert_emails++] = xstrdup(v);
        }
    }
    return 0;
}

int config_load(const char *path, config_t *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->file = xstrdup(path);
    char *dup = xstrdup(path);
    c->base_dir = xstrdup(dirname(dup));
    free(dup);
    c->listen_host = xstrdup("127.0.0.1");
    c->listen_port = 8080;
    c->web_root = xstrdup("web");
    c->max_connections = 19500;
    c->max_connections_per_ip = 64;
    c->max_sockets = 0;          /* 0: max_connections + 256, below the descriptor limit */
    c->max_sockets_per_ip = 128;
    c->max_frame_bytes = 16384;
    c->http_body_seconds = 30;
    c->client_rate = 20;
    c->client_burst = 40;
    c->queue_max_messages = 1024;
    c->queue_max_bytes = 2 << 20;
    c->data_dir = xstrdup("data");
    c->batch_max = 256;
    c->queue_max = 20000;
    c->start_wait_ms = 30000;
    c->catchup_ms = 3000;
    c->guests = true;
    c->limit_title = 100;
    c->limit_body = 1000;
    c->limit_name = 40;
    c->author_posts_per_minute = 10;
    c->address_posts_per_minute = 30;
    c->pending_per_author = 3;
    c->pending_per_address = 10;
    c->log_level = LOG_INFO;
    c->session_hours = 12;
    c->idle_minutes = 60;
    c->session_check_seconds = 15;
    c->login_attempts = 5;
    c->login_window_minutes = 15;
    c->report_hide_at = 3;
    c->report_weight_guest = 0.5;
    c->notify_retry_initial_ms = 1000;
    c->notify_retry_max_ms = 3600 * 1000;
    c->notify_give_up_s = 24 * 3600;
    c->notify_timeout_ms = 5000;
    c->notify_poll_ms = 250;
    c->email_interval_s = 3600;
    c->alert_surge_minutes = 5;
    c->alert_cooldown_minutes = 60;
    c->reactions_guests = true;
    c->reactions_flush_ms = 250;

    c->tree = cfg_parse_file(path, err, errlen);
    if (!c->tree) return -1;
    const char *f = c->file;
    const cfg_node *root = c->tree, *sec;
    if (cfg_check_keys(root, top_keys, f, err, errlen)) return -1;

    if (section(root, "server", server_keys, &sec, f, err, errlen)) return -1;
    if (sec && read_server(c, sec, err, errlen)) return -1;
    if (section(root, "storage", storage_keys, &sec, f, err, errlen)) return -1;
    if (sec) {
        OPT_STR(sec, "data_dir", c->data_dir);
        OPT_STR(sec, "postgres", c->postgres);
        OPT_LONG(sec, "batch_max", 1, 100000, c->batch_max);
        OPT_LONG(sec, "queue_max", 0, 10000000, c->queue_max);
        OPT_LONG(sec, "start_wait_ms", 0, 3600000, c->start_wait_ms);
    }
    if (section(root, "identity", identity_keys, &sec, f, err, errlen)) return -1;
    if (sec) OPT_BOOL(sec, "guests", c->guests);
    if (sec) OPT_BOOL(sec, "self_service", c->self_service);
    if (section(root, "limits", limits_keys, &sec, f, err, errlen)) return -1;
    if (sec) {
        OPT_LONG(sec, "title", 1, 10000, c->limit_title);
        OPT_LONG(sec, "body", 1, 100000, c->limit_body);
        OPT_LONG(sec, "name", 1, 200, c->limit_name);
        OPT_LONG(sec, "author_posts_per_minute", 0, 1000000, c->author_posts_per_minute);
        OPT_LONG(sec, "address_posts_per_minute", 0, 1000000, c->address_posts_per_minute);
        OPT_LONG(sec, "pending_per_author", 0, 1000000, c->pending_per_author);
        OPT_LONG(sec, "pending_per_address", 0, 1000000, c->pending_per_address);
    }
    if (section(root, "console", console_keys, &sec, f, err, errlen)) return -1;
    if (sec) {
        OPT_LONG(sec, "session_hours", 1, 24 * 90, c->session_hours);
        OPT_LONG(sec, "idle_minutes", 1, 60 * 24 * 30, c->idle_minutes);
        OPT_LONG(sec, "session_check_seconds", 1, 3600, c->session_check_seconds);
        OPT_LONG(sec, "login_attempts", 1, 1000, c->login_attempts);
        OPT_LONG(sec, "login_window_minutes", 1, 24 * 60, c->login_window_minutes);
        OPT_LONG(sec, "report_hide_at", 0, 1000, c->report_hide_at);
        OPT_DOUBLE(sec, "report_weight_guest", 0, 1, c->report_weight_guest);
    }
    if (section(root, "reactions", reactions_keys, &sec, f, err, errlen)) return -1;
    if (sec) {
        OPT_BOOL(sec, "guests", c->reactions_guests);
        OPT_LONG(sec, "flush_ms", 20, 10000, c->reactions_flush_ms);
    }
    if (section(root, "redis", redis_keys, &sec, f, err, errlen)) return -1;
    if (sec && read_redis(c, sec, err, errlen)) return -1;
    sec = cfg_get(root, "webhooks");
    if (sec && read_webhooks(c, sec, err, errlen)) return -1;
    if (section(root, "notifications", notifications_keys, &sec, f, err, errlen)) return -1;
    if (sec) {
        OPT_LONG(sec, "retry_initial_ms", 10, 3600L * 1000, c->notify_retry_initial_ms);
        OPT_LONG(sec, "retry_max_ms", 10, 24L * 3600 * 1000, c->notify_retry_max_ms);
        OPT_LONG(sec, "give_up_seconds", 1, 30L * 24 * 3600, c->notify_give_up_s);
        OPT_LONG(sec, "timeout_ms", 100, 60000, c->notify_timeout_ms);
        OPT_LONG(sec, "poll_ms", 10, 60000, c->notify_poll_ms);
        OPT_LONG(sec, "email_interval_seconds", 1, 7L * 24 * 3600, c->email_interval_s);
        const cfg_node *smtp = cfg_get(sec, "smtp");
        if (smtp && read_smtp(c, smtp, err, errlen)) return -1;
        const cfg_node *alerts = cfg_get(sec, "alerts");
        if (alerts && read_alerts(c, alerts, err, errlen)) return -1;
    }
    const cfg_node *ll = cfg_get(root, "log_level");
    if (ll) {
        const char *v = cfg_str(ll, f, err, errlen);
        if (!v) return -1;
        int lv = log_level_parse(v);
        if (lv < 0)
            return cfg_error(err, errlen, f, ll,
                             "'log_level' must be debug, info, warn or error, not '%s'", v);
        c->log_level = lv;
    }
    if (c->client_burst < c->client_rate) c->client_burst = c->client_rate;
    if (!c->origins) c->origins = xcalloc(1, sizeof *c->origins);
    return 0;
}

void config_free(config_t *c) {
    free(c->file);
    free(c->base_dir);
    cfg_free(c->tree);
    free(c->listen_host);
    free(c->web_root);
    free(c->public_url);
    for (int i = 0; i < c->norigins; i++) free(c->origins[i]);
    free(c->origins);
    free(c->data_dir);
    free(c->postgres);
    free(c->redis_host);
    free(c->redis_password);
    free(c->redis_prefix);
    for (int i = 0; i < c->nwebhooks; i++) {
        free(c->webhooks[i].url);
        free(c->webhooks[i].secret);
        for (int k = 0; k < c->webhooks[i].nevents; k++) free(c->webhooks[i].events[k]);
        free(c->webhooks[i].events);
    }
    free(c->webhooks);
    free(c->smtp_url);
    free(c->smtp_user);
    free(c->smtp_password);
    free(c->smtp_from);
    for (int i = 0; i < c->nalert_emails; i++) free(c->alert_emails[i]);
    free(c->alert_emails);
    memset(c, 0, sizeof *c);
}
