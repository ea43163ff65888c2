/* fake_transport.h: what the unit tests' fake WebSocket transports share. The including
 * file defines fake_t, conns[] and fakes[] (the fake of conns[i] is fakes[i]),
 * fake_write, fake_idle and FAKE_HELD(f): whether f's socket is not writable. */
#ifndef PARLEY_TEST_FAKE_TRANSPORT_H
#define PARLEY_TEST_FAKE_TRANSPORT_H

/* The writable callback at once, until the queue is written (the real transport's comes
 * at the next poll; frames are written only from it since issue 11 fix 8). */
static void fake_wake(void *t) {
    static bool busy;
    if (busy || FAKE_HELD((fake_t *)t)) return;
    busy = true;
    conn_t *c = &conns[(fake_t *)t - fakes];
    while (c->qlen) conn_ws_handlers()->writable(c);
    busy = false;
}
static void fake_close(void *t, int code, const char *reason) {}
static int fake_header(void *t, const char *name, char *out, size_t outlen) { return -1; }
static void fake_closing(void *t, int seconds) {}
static const conn_ops fake_ops = {fake_write, fake_idle, fake_wake, fake_close, fake_header, fake_closing};

#endif
