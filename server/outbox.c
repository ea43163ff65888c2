/* outbox.c: emitting events into the outbox (storage thread) and the delivery thread
 * that sends them to the webhooks (see outbox.h). */
#include "outbox.h"
#include "alloc.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "store_comments.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "store_outbox.h"
#include "webhooks.h"

#define PRUNE_AFTER_MS (7LL * 24 * 3600 * 1000) /* delivered rows are kept a week */
#define FAILURES_SHOWN 20

/* The delivery thread's state. Counters are read by the loop for /metrics. */
static struct {
    pthread_t thread;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool kicked;                /* an event was emitted since the thread last looked */
    atomic_bool stop;
    db_t *db;                /* the thread's own connection */
    int lock_fd;                /* data_dir/outbox.lock, flock'd by the delivering process */
    bool leader;
    _Atomic uint64_t delivered, failed, dead;
    _Atomic int64_t backlog, dead_rows;
} ob = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* ---- Emitting (storage thread) ---- */

int outbox_emit(db_t *db, const char *type, json_t *data) {
    const config_t *cfg = &srv.cfg;
    int rc = 0;
    /* moderator alerts also go by mail: one row per address, endpoint "mailto:ADDRESS" */
    bool alert = !strcmp(type, "moderation.alert") && cfg->nalert_emails > 0;
    bool wanted = alert;
    for (int i = 0; i < cfg->nwebhooks && !wanted; i++)
        wanted = config_webhook_wants(&cfg->webhooks[i], type);
    if (!wanted) {
        json_decref(data);
        return 0;
    }
    unsigned char rnd[16];
    char hex[33], event_id[40], created[32];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(event_id, sizeof event_id, "evt_%s", hex);
    int64_t now = now_ms();
    comment_time(now, created);
    json_t *body = json_pack("{s:s, s:s, s:s, s:o}", "id", event_id, "type", type, "created",
                             created, "data", data ? data : json_object());
    char *payload = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    for (int i = 0; i < cfg->nwebhooks && rc == 0; i++) {
        if (!config_webhook_wants(&cfg->webhooks[i], type)) continue;
        store_outbox_row r = {.event_id = event_id, .endpoint = cfg->webhooks[i].url,
                              .type = (char *)type, .payload = payload, .created_at = now};
        rc = store_outbox_insert(db, &r);
    }
    for (int i = 0; alert && i < cfg->nalert_emails && rc == 0; i++) {
        char endpoint[300];
        snprintf(endpoint, sizeof endpoint, "mailto:%s", cfg->alert_emails[i]);
        store_outbox_row r = {.event_id = event_id, .endpoint = endpoint, .type = (char *)type,
                              .payload = payload, .created_at = now};
        rc = store_outbox_insert(db, &r);
    }
    free(payload);
    /* The row is not committed yet: the thread may look too early, and then finds it at
     * its next poll. */
    if (rc == 0) outbox_kick();
    return rc;
}

void outbox_kick(void) {
    pthread_mutex_lock(&ob.lock);
    ob.kicked = true;
    pthread_cond_signal(&ob.cond);
    pthread_mutex_unlock(&ob.lock);
}

int outbox_emit_comment(db_t *db, const char *type, json_t *comment, json_t *extra) {
    json_t *data = json_pack("{s:O}", "comment", comment ? comment : json_null());
    if (extra) {
        json_object_update(data, extra);
        json_decref(extra);
    }
    return outbox_emit(db, type, data);
}

/* Whether any webhook asked for this type: the comment helpers below load nothing when
 * none did (the usual case without webhooks costs the post nothing). */
static bool wanted(const char *type) {
    for (int i = 0; i < srv.cfg.nwebhooks; i++)
        if (config_webhook_wants(&srv.cfg.webhooks[i], type)) return true;
    return false;
}

/* The comment as integrations see it: the queue item's comment with its real status,
 * the rules that fired when withRules, and no address prefix. New reference or NULL. */
static json_t *(*queue_item)(db_t *db, int64_t comment_id);

void outbox_set_item_source(json_t *(*fn)(db_t *db, int64_t comment_id)) { queue_item = fn; }

/* The mail side, registered by notify.c (see outbox_mail_ops); NULL until then. */
static const outbox_mail_ops *mail_ops;

void outbox_set_mail(const outbox_mail_ops *ops) { mail_ops = ops; }

/* Mails an alert through the registered mailer; -1 with a reason when there is none. */
static int alert_mail(const char *to, const char *payload, const atomic_bool *stop, char *err,
                      size_t errlen) {
    if (!mail_ops || !mail_ops->alert_mail) {
        snprintf(err, errlen, "no mailer registered");
        return -1;
    }
    return mail_ops->alert_mail(to, payload, stop, err, errlen);
}

static json_t *load_comment(db_t *db, int64_t id, bool with_rules) {
    json_t *item = queue_item ? queue_item(db, id) : NULL;
    if (!item) return NULL;
    json_t *c = json_incref(json_object_get(item, "comment"));
    json_decref(item);
    json_object_del(c, "ip");
    json_object_del(c, "score");
    json_object_del(c, "decision");
    if (!with_rules) json_object_del(c, "rules");
    return c;
}

/* reply.created for a published comment that answers another: data {comment, parent:
 * {id, author:{id,name}}}. */
static int emit_reply(db_t *db, json_t *c) {
    json_t *parent = json_object_get(c, "parent");
    if (!json_is_integer(parent)) return 0;
    json_t *p = load_comment(db, json_integer_value(parent), false);
    if (!p) return 0;
    json_t *extra = json_pack("{s:{s:O, s:O, s:O}}", "parent", "id", json_object_get(p, "id"),
                              "author", json_object_get(p, "author"), "article",
                              json_object_get(p, "article"));
    json_decref(p);
    return outbox_emit_comment(db, "reply.created", c, extra);
}

int outbox_emit_post(db_t *db, int64_t id, const char *status) {
    if (mail_ops && mail_ops->check_alerts && mail_ops->check_alerts(db, id)) return -1;
    if (!strcmp(status, "shadow")) return 0;
    bool refused = !strcmp(status, "refused");
    if (!(!strcmp(status, "published") ? wanted("comment.published") || wanted("reply.created")
          : refused                    ? wanted("comment.rejected")
                                       : wanted("comment.held")))
        return 0;
    json_t *c = load_comment(db, id, refused);
    if (!c) return -1;
    int rc;
    if (!strcmp(status, "published"))
        rc = outbox_emit_comment(db, "comment.published", c, NULL) || emit_reply(db, c);
    else if (refused)
        rc = outbox_emit_comment(db, "comment.rejected", c,
                                 json_pack("{s:n, s:b}", "by", "automatic", 1));
    else
        rc = outbox_emit_comment(db, "comment.held", c, NULL);
    json_decref(c);
    return rc ? -1 : 0;
}

int outbox_emit_change(db_t *db, int64_t id, const char *old_status, bool edited) {
    if (edited ? !wanted("comment.edited") && !wanted("comment.held") : !wanted("comment.removed"))
        return 0;
    json_t *c = load_comment(db, id, false);
    if (!c) return -1;
    int rc;
    if (edited) {
        const char *now = json_string_value(json_object_get(c, "status"));
        rc = outbox_emit_comment(db, "comment.edited", c, NULL);
        if (!rc && now && !strcmp(now, "pending") && strcmp(old_status, "pending"))
            rc = outbox_emit_comment(db, "comment.held", c, NULL);
    } else {
        rc = outbox_emit_comment(db, "comment.removed", c, json_pack("{s:s}", "by", "author"));
    }
    json_decref(c);
    return rc ? -1 : 0;
}

int outbox_emit_decision(db_t *db, int64_t id, const char *action, const char *from,
                         const char *to, const char *by) {
    if (!wanted("moderation.decision") && !wanted("comment.published") &&
        !wanted("reply.created") && !wanted("comment.rejected") && !wanted("comment.removed"))
        return 0;
    json_t *c = load_comment(db, id, false);
    if (!c) return -1;
    int rc = outbox_emit_comment(db, "moderation.decision", c,
                                 json_pack("{s:s, s:s, s:s, s:s}", "action", action, "from", from,
                                           "to", to, "by", by ? by : ""));
    if (!rc && strcmp(from, to)) {
        if (!strcmp(to, "published"))
            rc = outbox_emit_comment(db, "comment.published", c, NULL) || emit_reply(db, c);
        else if (!strcmp(to, "rejected"))
            rc = outbox_emit_comment(db, "comment.rejected", c, json_pack("{s:s}", "by", by ? by : ""));
        else if (!strcmp(to, "removed"))
            rc = outbox_emit_comment(db, "comment.removed", c,
                                     json_pack("{s:s}", "by", by ? by : ""));
    }
    json_decref(c);
    return rc ? -1 : 0;
}

/* ---- Delivery (its own thread) ---- */

/* The wait before attempt n+1 after n failures: initial * 2^(n-1), capped, with the
 * upper half jittered so endpoints coming back are not hit by every sender at once. */
static int64_t backoff_ms(int failures) {
    int64_t d = srv.cfg.notify_retry_initial_ms;
    for (int i = 1; i < failures && d < srv.cfg.notify_retry_max_ms; i++) d *= 2;
    if (d > srv.cfg.notify_retry_max_ms) d = srv.cfg.notify_retry_max_ms;
    return d / 2 + (int64_t)randombytes_uniform((uint32_t)(d / 2 + 1));
}

/* Delivers the head of one endpoint's queue if it is due: a webhook (w), or the mail
 * address of a moderator who wants alerts (w NULL, endpoint "mailto:..."). Returns 1
 * when a row was settled (delivered or dead: look again at once), 0 otherwise; *wake is
 * lowered to the time the head is due. */
static int deliver_head(const config_webhook *w, const char *endpoint, int64_t now,
                        int64_t *wake) {
    store_outbox_row r;
    memset(&r, 0, sizeof r);
    if (store_outbox_head(ob.db, endpoint, &r) != 1) return 0;
    int settled = 0;
    int64_t give_up_at = r.created_at + srv.cfg.notify_give_up_s * 1000;
    if (r.next_attempt > now) {
        if (r.next_attempt < *wake) *wake = r.next_attempt;
    } else if (now >= give_up_at) {
        store_outbox_dead(ob.db, r.id, r.attempts, r.last_error ? r.last_error : "expired");
        atomic_fetch_add(&ob.dead, 1);
        settled = 1;
    } else {
        char err[256] = "";
        int rc = w ? webhooks_post(w->url, w->secret, r.event_id, r.type, r.payload,
                                   srv.cfg.notify_timeout_ms, &ob.stop, err, sizeof err)
                   : alert_mail(endpoint + 7, r.payload, &ob.stop, err, sizeof err);
        int64_t t = now_ms();
        if (rc == 0) {
            store_outbox_delivered(ob.db, r.id, t);
            atomic_fetch_add(&ob.delivered, 1);
            settled = 1;
        } else if (!atomic_load(&ob.stop)) {
            atomic_fetch_add(&ob.failed, 1);
            int64_t next = t + backoff_ms(r.attempts + 1);
            if (next >= give_up_at) {
                log_warn("outbox: %s to %s dead after %d attempts: %s", r.event_id,
                         w ? w->url : "an alert address", r.attempts + 1, err);
                store_outbox_dead(ob.db, r.id, r.attempts + 1, err);
                atomic_fetch_add(&ob.dead, 1);
                settled = 1;
            } else {
                log_info("outbox: %s to %s failed (attempt %d): %s; next in %lld ms",
                         r.event_id, w ? w->url : "an alert address", r.attempts + 1, err,
                         (long long)(next - t));
                store_outbox_failed(ob.db, r.id, r.attempts + 1, next, err);
                if (next < *wake) *wake = next;
            }
        }
    }
    store_outbox_row_free(&r);
    return settled;
}

/* Processes sharing a data dir deliver one at a time, so each endpoint sees one ordered
 * stream: the process holding the lock delivers, the others try again at every poll
 * and take over when it goes (the kernel drops the lock of a dead process). */
static bool take_lead(void) {
    if (ob.leader) return true;
    if (flock(ob.lock_fd, LOCK_EX | LOCK_NB) == 0) {
        ob.leader = true;
        log_info("outbox: this process delivers the webhooks");
    }
    return ob.leader;
}

/* The delivery thread: each round delivers the due head of every endpoint's queue (and
 * the reply mails of notify.c), refreshes the gauges, prunes old rows hourly, and sleeps
 * until the earliest retry, the poll interval, or a kick. */
static void *delivery_thread(void *arg) {
    int64_t last_prune = 0;
    while (!atomic_load(&ob.stop)) {
        int64_t now = now_ms();
        int64_t wake = now + srv.cfg.notify_poll_ms;
        int progress = 0;
        bool lead = take_lead();
        for (int i = 0; lead && i < srv.cfg.nwebhooks && !atomic_load(&ob.stop); i++)
            progress += deliver_head(&srv.cfg.webhooks[i], srv.cfg.webhooks[i].url, now, &wake);
        for (int i = 0; lead && i < srv.cfg.nalert_emails && !atomic_load(&ob.stop); i++) {
            char endpoint[300];
            snprintf(endpoint, sizeof endpoint, "mailto:%s", srv.cfg.alert_emails[i]);
            progress += deliver_head(NULL, endpoint, now, &wake);
        }
        if (lead && mail_ops && mail_ops->mail_tick)
            progress += mail_ops->mail_tick(ob.db, now, &wake, &ob.stop);
        store_outbox_counts c;
        if (store_outbox_count(ob.db, &c) == 0) {
            atomic_store(&ob.backlog, c.pending);
            atomic_store(&ob.dead_rows, c.dead);
        }
        if (lead && now - last_prune > 3600 * 1000) {
            store_outbox_prune(ob.db, now - PRUNE_AFTER_MS);
            last_prune = now;
        }
        if (progress) continue;
        pthread_mutex_lock(&ob.lock);
        if (!ob.kicked && !atomic_load(&ob.stop)) {
            struct timespec ts = {.tv_sec = (time_t)(wake / 1000),
                                  .tv_nsec = (long)(wake % 1000) * 1000000};
            pthread_cond_timedwait(&ob.cond, &ob.lock, &ts);
        }
        ob.kicked = false;
        pthread_mutex_unlock(&ob.lock);
    }
    return NULL;
}

int outbox_start(void) {
    if (srv.cfg.nwebhooks == 0 && !srv.cfg.smtp_url) return 0;
    if (webhooks_init()) return -1;
    ob.db = store_open_sync(srv.cfg.data_dir);
    if (!ob.db) return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/outbox.lock", srv.cfg.data_dir);
    ob.lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (ob.lock_fd < 0) {
        log_err("outbox: cannot open %s: %s", path, strerror(errno));
        db_close(ob.db);
        ob.db = NULL;
        return -1;
    }
    atomic_store(&ob.stop, false);
    if (pthread_create(&ob.thread, NULL, delivery_thread, NULL)) {
        log_err("outbox: cannot start the delivery thread");
        db_close(ob.db);
        ob.db = NULL;
        return -1;
    }
    ob.running = true;
    log_info("outbox: delivering to %d webhook%s%s", srv.cfg.nwebhooks,
             srv.cfg.nwebhooks == 1 ? "" : "s", srv.cfg.smtp_url ? " and reply emails" : "");
    return 0;
}

void outbox_stop(void) {
    if (!ob.running) return;
    pthread_mutex_lock(&ob.lock);
    atomic_store(&ob.stop, true);
    pthread_cond_signal(&ob.cond);
    pthread_mutex_unlock(&ob.lock);
    pthread_join(ob.thread, NULL);
    ob.running = false;
    db_close(ob.db);
    ob.db = NULL;
    close(ob.lock_fd); /* releases the lead */
    ob.leader = false;
    webhooks_cleanup();
}

char *outbox_metrics(void) {
    char *out = NULL,
         *mails = mail_ops && mail_ops->metrics ? mail_ops->metrics() : xstrdup("");
    if (asprintf(&out,
                 "# HELP parley_outbox_backlog Webhook deliveries waiting in the outbox.\n"
                 "# TYPE parley_outbox_backlog gauge\nparley_outbox_backlog %lld\n"
                 "# HELP parley_outbox_dead Webhook deliveries given up (dead letters).\n"
                 "# TYPE parley_outbox_dead gauge\nparley_outbox_dead %lld\n"
                 "# HELP parley_webhook_deliveries_total Webhook delivery attempts by result.\n"
                 "# TYPE parley_webhook_deliveries_total counter\n"
                 "parley_webhook_deliveries_total{result=\"delivered\"} %llu\n"
                 "parley_webhook_deliveries_total{result=\"failed\"} %llu\n"
                 "parley_webhook_deliveries_total{result=\"dead\"} %llu\n%s",
                 (long long)atomic_load(&ob.backlog), (long long)atomic_load(&ob.dead_rows),
                 (unsigned long long)atomic_load(&ob.delivered),
                 (unsigned long long)atomic_load(&ob.failed),
                 (unsigned long long)atomic_load(&ob.dead), mails) < 0)
        abort();
    free(mails);
    return out;
}

json_t *outbox_console(db_t *db) {
    store_outbox_counts c;
    store_outbox_count(db, &c);
    char oldest[32] = "";
    if (c.oldest_pending) comment_time(c.oldest_pending, oldest);
    json_t *endpoints = json_array();
    for (int i = 0; i < srv.cfg.nwebhooks; i++)
        json_array_append_new(endpoints, json_string(srv.cfg.webhooks[i].url));
    store_outbox_row rows[FAILURES_SHOWN];
    int n = store_outbox_failures(db, rows, FAILURES_SHOWN);
    json_t *failures = json_array();
    for (int i = 0; i < n; i++) {
        char created[32], next[32];
        comment_time(rows[i].created_at, created);
        comment_time(rows[i].next_attempt, next);
        json_array_append_new(
            failures, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "event", rows[i].event_id,
                                "type", rows[i].type, "endpoint", rows[i].endpoint, "state",
                                rows[i].state, "attempts", rows[i].attempts, "error",
                                rows[i].last_error ? rows[i].last_error : "", "created", created,
                                "next_attempt", next));
        store_outbox_row_free(&rows[i]);
    }
    return json_pack("{s:s, s:{s:I, s:I, s:I, s:o}, s:o, s:o}", "type", "mod.webhooks", "counts",
                     "pending", (json_int_t)c.pending, "delivered", (json_int_t)c.delivered,
                     "dead", (json_int_t)c.dead, "oldest_pending",
                     c.oldest_pending ? json_string(oldest) : json_null(), "endpoints",
                     endpoints, "failures", failures);
}
