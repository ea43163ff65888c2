/* clock.h: the one clock of the process. Everything that needs the time asks here, so
 * tests can fake it in one place (clock_fake) and no module keeps a clock of its own. */
#ifndef PARLEY_CLOCK_H
#define PARLEY_CLOCK_H

#include <stdint.h>

/* Wall clock in milliseconds since the epoch (what is stored and shown). */
int64_t now_ms(void);
/* Monotonic milliseconds and microseconds (durations, windows, timeouts). */
uint64_t mono_ms(void);
uint64_t mono_us(void);

/* Formats ms since the epoch as RFC 3339 UTC with milliseconds into out[32]. */
void clock_rfc3339(int64_t ms, char out[32]);

/* Tests: makes now_ms() return wall_ms (and mono_ms() advance with it); 0 restores
 * the real clocks. */
void clock_fake(int64_t wall_ms);

#endif
