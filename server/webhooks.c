/* webhooks.c: the signature of a webhook body and its HTTP delivery (libcurl easy
 * interface, on the delivery thread). */
#include "webhooks.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "server.h"

void webhooks_sign(const char *secret, int64_t t, const char *body, size_t len, char *out,
                   size_t outlen) {
    char ts[24];
    int tl = snprintf(ts, sizeof ts, "%" PRId64 ".", t);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)tl);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, outlen, "t=%" PRId64 ",v1=%s", t, hex);
}

int webhooks_init(void) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_err("webhooks: libcurl failed to initialise");
        return -1;
    }
    return 0;
}

void webhooks_cleanup(void) { curl_global_cleanup(); }

/* The response body is not read: its bytes are dropped as they come. */
static size_t discard(char *ptr, size_t size, size_t n, void *arg) { return size * n; }

/* Aborts the transfer once the process is stopping. */
static int progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    const atomic_bool *stop = arg;
    return stop && atomic_load(stop) ? 1 : 0;
}

int webhooks_post(const char *url, const char *secret, const char *event_id, const char *type,
                  const char *body, long timeout_ms, const atomic_bool *stop, char *err,
                  size_t errlen) {
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "libcurl: no handle");
        return -1;
    }
    size_t len = strlen(body);
    char sig[160], line[256];
    webhooks_sign(secret, (int64_t)time(NULL), body, len, sig, sizeof sig);
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    snprintf(line, sizeof line, "Parley-Signature: %s", sig);
    hdrs = curl_slist_append(hdrs, line);
    snprintf(line, sizeof line, "Parley-Event-Id: %s", event_id);
    hdrs = curl_slist_append(hdrs, line);
    snprintf(line, sizeof line, "Parley-Event-Type: %s", type);
    hdrs = curl_slist_append(hdrs, line);
    hdrs = curl_slist_append(hdrs, "User-Agent: Parley/" PARLEY_VERSION);
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)stop);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    int result = -1;
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300)
            result = 0;
        else
            snprintf(err, errlen, "HTTP %ld", status);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return result;
}
