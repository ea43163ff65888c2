/* hub.c: reference-counted messages, bounded send queues and article rooms. */
#include "hub.h"

#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "dict.h"
#include "log.h"
#include "metrics.h"

struct room {
    char *article;  /* owned */
    sub_t *head;    /* every subscription, pending ones too */
    size_t nsubs, nactive;
};

static dict_t *rooms;  /* article -> room_t, owned */
static size_t q_max_msgs, q_max_bytes;

/* ---- Messages ---- */

msg_t *msg_new(const char *payload, size_t len) {
    msg_t *m = malloc(sizeof *m + LWS_PRE + len + 1);
    if (!m) abort();
    m->refs = 1;
    m->len = len;
    memcpy(m->data + LWS_PRE, payload, len);
    m->data[LWS_PRE + len] = '\0';
    return m;
}

msg_t *msg_from_json(const json_t *j) {
    size_t len = json_dumpb(j, NULL, 0, JSON_COMPACT);
    msg_t *m = malloc(sizeof *m + LWS_PRE + len + 1);
    if (!m) abort();
    m->refs = 1;
    m->len = json_dumpb(j, (char *)m->data + LWS_PRE, len, JSON_COMPACT);
    m->data[LWS_PRE + m->len] = '\0';
    return m;
}

void msg_unref(msg_t *m) {
    if (m && --m->refs == 0) free(m);
}

/* ---- Send queues ---- */

int conn_enqueue(conn_t *c, msg_t *m) {
    if (c->close_code) return -1;
    if (c->qlen >= q_max_msgs || c->qbytes + m->len > q_max_bytes) {
        clog_warn(c->id, "hub: send queue full (%u messages, %zu bytes): closing slow reader",
                  c->qlen, c->qbytes);
        metrics.slow_closed++;
        conn_close(c, 1013);
        return -1;
    }
    if (c->qlen == c->qcap) {
        uint32_t ncap = c->qcap ? c->qcap * 2 : 4;
        msg_t **nq = malloc(ncap * sizeof *nq);
        if (!nq) abort();
        for (uint32_t i = 0; i < c->qlen; i++) nq[i] = c->q[(c->qhead + i) % c->qcap];
        free(c->q);
        c->q = nq;
        c->qcap = ncap;
        c->qhead = 0;
    }
    c->q[(c->qhead + c->qlen) % c->qcap] = m;
    c->qlen++;
    c->qbytes += m->len;
    m->refs++;
    conn_wake(c);
    return 0;
}

/* ---- Rooms ---- */

void hub_init(size_t max_messages, size_t max_bytes) {
    rooms = dict_new();
    q_max_msgs = max_messages;
    q_max_bytes = max_bytes;
}

static void room_free(void *p) {
    room_t *r = p;
    free(r->article);
    free(r);
}

void hub_shutdown(void) {
    dict_free(rooms, room_free);
    rooms = NULL;
}

sub_t *hub_find(conn_t *c, const char *article) {
    for (sub_t *s = c->subs; s; s = s->cnext)
        if (strcmp(s->room->article, article) == 0) return s;
    return NULL;
}

sub_t *hub_subscribe(conn_t *c, const char *article, bool *created) {
    sub_t *s = hub_find(c, article);
    *created = false;
    if (s) return s;
    room_t *r = dict_get(rooms, article);
    if (!r) {
        r = calloc(1, sizeof *r);
        r->article = strdup(article);
        dict_set(rooms, article, r, NULL);
        metrics.rooms = dict_size(rooms);
    }
    s = calloc(1, sizeof *s);
    s->room = r;
    s->conn = c;
    s->next = r->head;
    if (r->head) r->head->prev = s;
    r->head = s;
    r->nsubs++;
    s->cnext = c->subs;
    c->subs = s;
    c->nsubs++;
    *created = true;
    return s;
}

void hub_activate(sub_t *s) {
    if (!s->active) {
        s->active = true;
        s->room->nactive++;
    }
}

static void sub_remove(sub_t *s) {
    room_t *r = s->room;
    if (s->prev)
        s->prev->next = s->next;
    else
        r->head = s->next;
    if (s->next) s->next->prev = s->prev;
    r->nsubs--;
    if (s->active) r->nactive--;
    if (r->nsubs == 0) {
        dict_del(rooms, r->article);
        room_free(r);
        metrics.rooms = dict_size(rooms);
    }
    free(s);
}

int hub_unsubscribe(conn_t *c, const char *article) {
    for (sub_t **p = &c->subs; *p; p = &(*p)->cnext) {
        if (strcmp((*p)->room->article, article) == 0) {
            sub_t *s = *p;
            *p = s->cnext;
            c->nsubs--;
            sub_remove(s);
            return 0;
        }
    }
    return -1;
}

void hub_unsubscribe_all(conn_t *c) {
    while (c->subs) {
        sub_t *s = c->subs;
        c->subs = s->cnext;
        sub_remove(s);
    }
    c->nsubs = 0;
}

size_t hub_publish(const char *article, msg_t *m) {
    room_t *r = dict_get(rooms, article);
    size_t n = 0;
    if (!r) return 0;
    for (sub_t *s = r->head; s; s = s->next)
        if (s->active && conn_enqueue(s->conn, m) == 0) n++;
    return n;
}

size_t hub_readers(const char *article) {
    room_t *r = rooms ? dict_get(rooms, article) : NULL;
    return r ? r->nactive : 0;
}

size_t hub_rooms(void) { return rooms ? dict_size(rooms) : 0; }

const char *hub_room_article(const room_t *r) { return r->article; }
