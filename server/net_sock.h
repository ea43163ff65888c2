/* net_sock.h: what both halves of the net layer use (net_sock.c): the one lws_write,
 * sockets counted and capped from accept on, request sizes, the checks on a WebSocket
 * handshake, and the client's address and origin (which auth and reader use too). */
#ifndef PARLEY_NET_SOCK_H
#define PARLEY_NET_SOCK_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* The socket whose writeable callback is running (lws's rule: write only from there). */
extern struct lws *net_writeable_wsi;
/* The socket whose own HTTP callback is running, or NULL (set by net_http.c). */
extern struct lws *net_http_serviced_wsi;
/* lws_write, counting in metrics.*_writes_outside a write made outside the socket's
 * writeable callback (for HTTP headers: outside its own HTTP callback, where lws allows
 * them). Returns lws_write's result. */
int net_lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp);

/* The socket counts and caps (net_start), and their end (false when already ended). */
void net_sock_init(uv_loop_t *loop);
bool net_sock_stop(void);
/* Whether a socket just accepted may stay: 0 yes, else 1 (lws closes it). */
int net_sock_filter(int fd);
/* Counts an accepted socket under its address hash, and uncounts it when it goes. */
void net_sock_opened(struct lws *wsi);
void net_sock_closed(struct lws *wsi);

/* lws keeps a request's headers in one buffer of this size (max_http_header_data); it is
 * larger than what is accepted, so that a request too big gets a status it can read. */
#define HEADER_BUFFER 65000
/* 0 when the request's size is acceptable, else the status to answer with (414, 431). */
int net_request_size_status(struct lws *wsi);
/* Checks a WebSocket handshake before the upgrade: 0 to accept, else the HTTP status. */
int net_check_upgrade(struct lws *wsi);

/* The client's address as text, honouring server.trust_proxy. */
void net_client_addr(struct lws *wsi, char *out, size_t outlen);
/* True when origin names this server itself (its Host header, or server.public_url). */
bool net_own_origin(struct lws *wsi, const char *origin);

#endif
