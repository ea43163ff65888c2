/* mail.c: reply emails: MIME composition and SMTP delivery with libcurl (see mail.h). */
#include "mail.h"
#include "alloc.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"

/* ---- Buffers ---- */

/* Grows b to hold more bytes and a NUL (aborts when out of memory). */
static void reserve(mail_buf *b, size_t more) {
    if (b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1) cap *= 2;
    char *n = xrealloc(b->buf, cap);
    b->buf = n;
    b->cap = cap;
}

void mail_buf_add(mail_buf *b, const char *s) {
    size_t n = strlen(s);
    reserve(b, n);
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
}

void mail_buf_printf(mail_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void mail_buf_html(mail_buf *b, const char *s) {
    char one[2] = {0, 0};
    for (; *s; s++) {
        switch (*s) {
        case '&': mail_buf_add(b, "&amp;"); break;
        case '<': mail_buf_add(b, "&lt;"); break;
        case '>': mail_buf_add(b, "&gt;"); break;
        case '"': mail_buf_add(b, "&quot;"); break;
        case '\'': mail_buf_add(b, "&#39;"); break;
        case '\n': mail_buf_add(b, "<br>"); break;
        default: one[0] = *s; mail_buf_add(b, one);
        }
    }
}

/* ---- Composition ---- */

/* Appends data as base64 in lines of 76 characters. */
static void add_base64(mail_buf *b, const char *data) {
    size_t n = strlen(data);
    size_t enc = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *tmp = xmalloc(enc);
    sodium_bin2base64(tmp, enc, (const unsigned char *)data, n, sodium_base64_VARIANT_ORIGINAL);
    size_t len = strlen(tmp);
    for (size_t i = 0; i < len; i += 76) mail_buf_printf(b, "%.*s\r\n", (int)(len - i < 76 ? len - i : 76), tmp + i);
    free(tmp);
}

static int header_safe(const char *s) { return s && !strpbrk(s, "\r\n"); }

char *mail_build(const char *from, const char *to, const char *subject, const char *text,
                 const char *html, const char *unsubscribe_url) {
    if (!header_safe(from) || !strchr(from, '@') || !header_safe(to) || !header_safe(subject) ||
        (unsubscribe_url && !header_safe(unsubscribe_url)))
        return NULL;
    unsigned char rnd[12];
    char boundary[40], msgid[40], date[64];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(msgid, sizeof msgid, rnd, sizeof rnd);
    snprintf(boundary, sizeof boundary, "=_parley_%.24s", msgid);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    const char *domain = strchr(from, '@') + 1;
    mail_buf b = {0};
    mail_buf_printf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
                        "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                        "Auto-Submitted: auto-generated\r\n",
                    from, to, subject, date, msgid, domain);
    if (unsubscribe_url)
        mail_buf_printf(&b, "List-Unsubscribe: <%s>\r\n"
                            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
                        unsubscribe_url);
    mail_buf_printf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
    mail_buf_printf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n", boundary);
    add_base64(&b, text);
    mail_buf_printf(&b, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n", boundary);
    add_base64(&b, html);
    mail_buf_printf(&b, "--%s--\r\n", boundary);
    return b.buf;
}

/* ---- SMTP ---- */

typedef struct {
    const char *data;
    size_t len, off;
} upload;

/* libcurl's upload callback: the next bytes of the message. */
static size_t read_cb(char *ptr, size_t size, size_t n, void *arg) {
    upload *u = arg;
    size_t room = size * n, left = u->len - u->off;
    size_t k = left < room ? left : room;
    memcpy(ptr, u->data + u->off, k);
    u->off += k;
    return k;
}

/* Aborts the transfer once the process is stopping. */
static int progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    const atomic_bool *stop = arg;
    return stop && atomic_load(stop) ? 1 : 0;
}

int mail_send(const char *to, const char *message, long timeout_ms, const atomic_bool *stop,
              char *err, size_t errlen) {
    const config_t *cfg = &srv.cfg;
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "libcurl: no handle");
        return -1;
    }
    char from[300], rcpt[300];
    snprintf(from, sizeof from, "<%s>", cfg->smtp_from);
    snprintf(rcpt, sizeof rcpt, "<%s>", to);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    upload u = {message, strlen(message), 0};
    curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (!strncmp(cfg->smtp_url, "smtp://", 7))
        curl_easy_setopt(h, CURLOPT_USE_SSL, cfg->smtp_starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    if (cfg->smtp_user) curl_easy_setopt(h, CURLOPT_USERNAME, cfg->smtp_user);
    if (cfg->smtp_password) curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->smtp_password);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)stop);
    CURLcode rc = curl_easy_perform(h);
    int result = 0;
    if (rc != CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        snprintf(err, errlen, "%s (SMTP %ld)", curl_easy_strerror(rc), code);
        result = -1;
    }
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(h);
    return result;
}
