/* net_http.h: what the two halves of the net layer share (net.c, the transport, and
 * net_http.c, HTTP). Nothing outside net includes it: the public face is net.h. */
#ifndef PARLEY_NET_HTTP_H
#define PARLEY_NET_HTTP_H

#include <libwebsockets.h>

/* ---- From net.c ---- */

/* The socket whose writeable callback is running (lws's rule: write only from there). */
extern struct lws *net_writeable_wsi;
/* lws_write, counting in metrics.*_writes_outside a write made outside the socket's
 * writeable callback (for HTTP headers: outside its own HTTP callback, where lws allows
 * them). Returns lws_write's result. */
int net_lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp);
/* Whether a socket just accepted may stay: 0 yes, else 1 (lws closes it). */
int net_sock_filter(int fd);
/* Counts an accepted socket under its address hash, and uncounts it when it goes. */
void net_sock_opened(struct lws *wsi);
void net_sock_closed(struct lws *wsi);
/* 0 when the request's size is acceptable, else the status to answer with (414, 431). */
int net_request_size_status(struct lws *wsi);
/* Checks a WebSocket handshake before the upgrade: 0 to accept, else the HTTP status. */
int net_check_upgrade(struct lws *wsi);

/* ---- From net_http.c ---- */

/* The socket whose own HTTP callback is running, or NULL. */
extern struct lws *net_http_serviced_wsi;

/* The lws callback of the "http" protocol (per-session data: http_req). */
int net_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len);
/* Makes and frees the request registry and the static file cache (net_start, net_stop). */
void net_http_init(void);
void net_http_stop(void);

#endif
