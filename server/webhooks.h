/* webhooks.h: signing an event body and POSTing it to an endpoint with libcurl. Called
 * only on the outbox's delivery thread (never on the event loop). */
#ifndef PARLEY_WEBHOOKS_H
#define PARLEY_WEBHOOKS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Writes the header value "t=UNIX_SECONDS,v1=HEX" for body into out (>= 96 bytes), where
 * HEX is HMAC-SHA256 of "t.body" keyed with secret. */
void webhooks_sign(const char *secret, int64_t t, const char *body, size_t len, char *out,
                   size_t outlen);

/* Global libcurl set-up and tear-down (main thread, before and after the delivery
 * thread). webhooks_init returns 0 or -1. */
int webhooks_init(void);
void webhooks_cleanup(void);

/* POSTs body to url with the signature headers, waiting at most timeout_ms; *stop set
 * aborts a transfer in progress. Returns 0 when the endpoint answered 2xx, else -1 with
 * a short reason in err (errlen bytes). */
int webhooks_post(const char *url, const char *secret, const char *event_id, const char *type,
                  const char *body, long timeout_ms, const atomic_bool *stop, char *err,
                  size_t errlen);

#endif
