/* wiring.c: the modules of `parley serve` put together (see wiring.h). */
#include "wiring.h"

#include "auth.h"
#include "catchup.h"
#include "conn.h"
#include "counts.h"
#include "feed.h"
#include "flood.h"
#include "hub.h"
#include "identity.h"
#include "moderation.h"
#include "net.h"
#include "proto.h"
#include "reactions.h"
#include "reader.h"
#include "rule_quality.h"
#include "server.h"
#include "status.h"

void wiring_init(uv_loop_t *loop, bool dedupe) {
    static const conn_ops transport = {net_ws_write, net_ws_idle,   net_ws_wake,
                                       net_ws_close, net_ws_header, net_ws_closing};
    conn_init(&transport, (size_t)srv.cfg.queue_max_messages, (size_t)srv.cfg.queue_max_bytes);
    net_set_ws_handlers(conn_ws_handlers());
    conn_set_message_handler(proto_handle);
    conn_add_open_hook(identity_init_conn);
    proto_set_mod_handler(moderation_handle);
    hub_init(dedupe);
    hub_set_fetch(catchup_fetch);

    status_init();
    counts_init();
    auth_init();
    moderation_init();
    flood_init();
    feed_init();
    reader_init();
    reactions_init(loop);
    rule_quality_init(loop); /* per-rule counts written once a second */
}
