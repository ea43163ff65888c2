/* wiring.h: how the modules of `parley serve` are put together, bottom up, in one place
 * that main and the fuzz harness share: conn over net's transport, hub over conn, the
 * message handler and the open hooks, the services' routes and state. */
#ifndef PARLEY_WIRING_H
#define PARLEY_WIRING_H

#include <stdbool.h>
#include <uv.h>

/* Wires every module on loop; dedupe: several processes share a bus (Redis). */
void wiring_init(uv_loop_t *loop, bool dedupe);

#endif
