/* config.h: the server's own settings from moderation.yml (sections server, storage,
 * identity, limits, log_level). Rules and identity keys are read by their modules from
 * the same tree, kept here. */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include <stdbool.h>

#include "cfg.h"

/* One webhook endpoint. events: the event types it asked for (names from
 * config_event_types), owned. */
typedef struct {
    char *url, *secret;
    char **events;
    int nevents;
} config_webhook;

/* The event types a webhook may ask for, NULL-terminated. */
extern const char *const config_event_types[];

typedef struct {
    char *file;      /* path of moderation.yml */
    char *base_dir;  /* its directory: relative paths in it are resolved against it */
    cfg_node *tree;  /* the parsed file, owned */

    char *listen_host;
    int listen_port;
    char *web_root;
    char *public_url;
    char **origins;
    int norigins;
    bool behind_tls, trust_proxy;
    long max_connections, max_connections_per_ip, max_frame_bytes;
    long http_body_seconds;   /* a POST's body must be in within this, however it trickles */
    long max_sockets, max_sockets_per_ip;  /* every socket from accept on (net.c) */
    double client_rate, client_burst;
    long queue_max_messages, queue_max_bytes;

    char *data_dir;
    char *postgres;  /* storage.postgres: a libpq conninfo or URI; NULL = SQLite in data_dir */
    long batch_max;
    long queue_max;  /* storage jobs waiting at most; past it new work gets `unavailable` */
    long start_wait_ms; /* PostgreSQL: how long serve waits at start for it to answer */

    bool guests;
    bool self_service;  /* signed-in readers may export and erase their data (widget) */

    long limit_title, limit_body, limit_name;
    /* hard posting limits (flood.c): past them posts are refused, not held */
    long author_posts_per_minute, address_posts_per_minute;
    long pending_per_author, pending_per_address;

    /* console: moderator sessions and reports */
    long session_hours, idle_minutes;
    long session_check_seconds;  /* open consoles' sessions are re-checked this often */
    long login_attempts, login_window_minutes;
    long report_hide_at;
    double report_weight_guest;  /* a guest's report counts this much (signed-in: 1) */

    /* reactions (reactions.c): may guests like; how often live counts are flushed */
    bool reactions_guests;
    long reactions_flush_ms;

    /* redis: several processes as one service; NULL host when absent */
    char *redis_host;
    int redis_port, redis_db;
    char *redis_password;
    char *redis_prefix;
    long catchup_ms; /* rooms read what is newer than their readers have this often */
    int log_level;

    /* webhooks: signed HTTP POSTs of outbox events (docs/webhooks.md) */
    config_webhook *webhooks;
    int nwebhooks;
    /* notifications: delivery of the outbox */
    long notify_retry_initial_ms, notify_retry_max_ms, notify_give_up_s;
    long notify_timeout_ms, notify_poll_ms;
    /* notifications.smtp: reply emails; NULL url when absent */
    char *smtp_url, *smtp_user, *smtp_password, *smtp_from;
    bool smtp_starttls;
    long email_interval_s;   /* at most one email per reader and article this often */
    /* notifications.alerts: moderator alerts (0: off) */
    long alert_queue, alert_surge_posts, alert_surge_minutes, alert_cooldown_minutes;
    char **alert_emails;
    int nalert_emails;
} config_t;

/* Reads and validates path into c (zeroed by the caller or not: it is overwritten).
 * Returns 0, or -1 with "file:line:col: why" in err. */
int config_load(const char *path, config_t *c, char *err, size_t errlen);
void config_free(config_t *c);

/* Splits "HOST:PORT" (or "[v6]:PORT", or ":PORT"); returns 0 or -1. host is malloc'd. */
int config_parse_listen(const char *s, char **host, int *port);

/* True when origin is listed under server.origins. */
bool config_origin_allowed(const config_t *c, const char *origin);

/* True when webhook w asked for events of this type. */
bool config_webhook_wants(const config_webhook *w, const char *type);

/* Resolves a path from the config against base_dir; returns a malloc'd path. */
char *config_path(const config_t *c, const char *p);

#endif
