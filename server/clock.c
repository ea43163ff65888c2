/* clock.c: the process's clock (see clock.h). */
#include "clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t fake_ms;

void clock_fake(int64_t wall_ms) { atomic_store(&fake_ms, wall_ms); }

int64_t now_ms(void) {
    int64_t f = atomic_load(&fake_ms);
    if (f) return f;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t mono_us(void) {
    int64_t f = atomic_load(&fake_ms);
    if (f) return (uint64_t)f * 1000;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t mono_ms(void) { return mono_us() / 1000; }
