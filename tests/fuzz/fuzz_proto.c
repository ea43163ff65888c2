/* libFuzzer target: the client message parser and dispatcher (server/proto.c,
 * proto_handle) on a fake connection.
 *
 * Layer covered: everything behind proto_handle, the full dispatch. The server runs in
 * the process (fuzz_server.h: moderation.yml, compiled rules, hub, local bus, auth,
 * moderation, a real SQLite store on its storage thread in a temp dir); after each
 * message the fuzzer turns the loop until every storage job has come back, so subscribe,
 * history, post (rules + store), edit, delete, report, hello and the mod.* actions all
 * run to their replies within the input that sent them. What stays outside: lws itself
 * (the frame layer and the token bucket of net.c's on_receive), covered by fuzz_http's
 * real context.
 *
 * The connection is set up as net.c does on LWS_CALLBACK_ESTABLISHED (id, address hash,
 * guest identity, token allowance, registered in srv.conns), but with no wsi: every
 * reply is queued in the conn's send queue, checked (each a JSON object with a string
 * "type"; a request with an acceptable "id" gets at least one reply carrying it) and
 * freed; on the way out it is torn down as net.c's on_closed does.
 * The author id is fixed ("g:00000000fuzz0000") rather than random, so one input can
 * edit or report what an earlier one posted and crashes reproduce.
 *
 * Input: one flags byte, then messages separated by '\n' (at most 16; a raw newline
 * cannot occur inside JSON, so nothing is lost). Flags: bit 0 gives the connection the
 * moderator session cookie (then mod.hello opens the console; "fuzzmod" is an admin);
 * bit 1 makes it a signed-in reader; bit 2 marks the server as shutting down.
 * Every FUZZ_PROTO_RESET inputs (default 2000) the database and rules state are replaced
 * with fresh ones (fuzz_server_reset). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_server.h"
#include "identity.h"
#include "metrics.h"
#include "proto.h"

#define MAX_MSGS 16

static bool started;
static unsigned long inputs, reset_every = 2000;

/* The request id a reply must carry: the message's "id" when the message is a JSON
 * object whose id proto accepts (a number, or a string of at most 64 bytes); else NULL.
 * New reference. */
static json_t *expected_id(const char *p, size_t len) {
    json_t *req = json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *id = json_object_get(req, "id");
    if (id && (json_is_integer(id) || (json_is_string(id) && json_string_length(id) <= 64)))
        json_incref(id);
    else
        id = NULL;
    json_decref(req);
    return id;
}

/* Checks and frees everything queued on c; *seen is set when a reply carries want. */
static void take_replies(conn_t *c, const json_t *want, bool *seen) {
    while (c->qlen) {
        msg_t *m = c->q[c->qhead];
        json_error_t e;
        json_t *j = json_loadb((const char *)msg_payload(m), m->len, 0, &e);
        if (!json_is_object(j) || !json_is_string(json_object_get(j, "type"))) {
            fprintf(stderr, "fuzz_proto: reply is not a typed JSON object: %.*s\n",
                    (int)(m->len > 200 ? 200 : m->len), (const char *)msg_payload(m));
            abort();
        }
        if (want && seen && json_equal(json_object_get(j, "id"), (json_t *)want)) *seen = true;
        json_decref(j);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
        msg_unref(m);
    }
    c->qbytes = 0;
}

/* A connection as the conn layer opens it for net's ESTABLISHED, without a socket (no
 * transport: replies stay in its queue, where take_replies reads them). */
static conn_t *conn_open(unsigned flags) {
    conn_t *c = calloc(1, sizeof *c);
    /* the transport keeps the address hash as long as the connection (conn_t points to it) */
    static char iph[33];
    if (!iph[0]) server_hash_hex("127.0.0.1", strlen("127.0.0.1"), iph);
    conn_ws_handlers()->open(c, NULL, iph);
    snprintf(c->author_id, sizeof c->author_id, "g:00000000fuzz0000");
    if (flags & 1) conn_person_of(c)->session = strdup(FUZZ_SESSION);
    if (flags & 2) {
        c->signed_in = true;
        conn_person_of(c)->user_name = strdup("Signed Reader");
        conn_person_of(c)->avatar = strdup("https://example.com/a.png");
        snprintf(c->author_id, sizeof c->author_id, "u:fuzz-user");
    }
    return c;
}

/* Tears c down as the conn layer does when net reports it closed. */
static void conn_gone(conn_t *c) {
    take_replies(c, NULL, NULL);
    conn_ws_handlers()->closed(c);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!started) {
        fuzz_server_start();
        const char *r = getenv("FUZZ_PROTO_RESET");
        if (r) reset_every = strtoul(r, NULL, 10);
        started = true;
    }
    if (size < 1) return 0;
    if (reset_every && ++inputs % reset_every == 0) fuzz_server_reset();
    unsigned flags = data[0];
    srv.shutting_down = (flags & 4) != 0;
    conn_t *c = conn_open(flags);
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    for (int n = 0; n < MAX_MSGS && p <= end; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        json_t *want = expected_id(p, (size_t)(e - p));
        bool seen = false;
        proto_handle(c, p, (size_t)(e - p));
        fuzz_drain();
        take_replies(c, want, &seen);
        /* docs/protocol.md: every reply to a request carries its id, and every request
         * gets one (unless the connection is being closed for a full queue) */
        if (want && !seen && !c->close_code) {
            fprintf(stderr, "fuzz_proto: no reply carried the id of: %.*s\n",
                    (int)((e - p) > 300 ? 300 : (e - p)), p);
            abort();
        }
        json_decref(want);
        if (!nl) break;
        p = nl + 1;
    }
    conn_gone(c);
    srv.shutting_down = false;
    return 0;
}
