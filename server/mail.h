/* mail.h: composing a plain text + HTML message and sending it through the SMTP relay of
 * notifications.smtp with libcurl (STARTTLS or SMTPS, optional authentication). Called
 * on the delivery thread only. */
#ifndef PARLEY_MAIL_H
#define PARLEY_MAIL_H

#include <stdatomic.h>
#include <stddef.h>

/* Builds an RFC 5322 message: multipart/alternative with UTF-8 text and HTML parts
 * (base64), and, when unsubscribe_url is set, List-Unsubscribe and List-Unsubscribe-Post
 * (RFC 8058). Returns a malloc'd CRLF message, or NULL when an argument would break a
 * header (CR or LF in it). */
char *mail_build(const char *from, const char *to, const char *subject, const char *text,
                 const char *html, const char *unsubscribe_url);

/* Sends message to `to` through the configured relay; 0 when the relay accepted it, else
 * -1 with a reason in err (which never contains the address). */
int mail_send(const char *to, const char *message, long timeout_ms, const atomic_bool *stop,
              char *err, size_t errlen);

/* Appends s to a growing buffer with HTML special characters escaped. */
typedef struct {
    char *buf;
    size_t len, cap;
} mail_buf;
void mail_buf_add(mail_buf *b, const char *s);
void mail_buf_printf(mail_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mail_buf_html(mail_buf *b, const char *s);

#endif
