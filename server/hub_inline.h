/* hub_inline.h: the one inline accessor of hub.h, kept apart so hub.h does not need
 * libwebsockets.h for LWS_PRE. */
#ifndef PARLEY_HUB_INLINE_H
#define PARLEY_HUB_INLINE_H
#include <libwebsockets.h>
static inline unsigned char *msg_payload(msg_t *m) { return m->data + LWS_PRE; }
#endif
