/* status.h: /healthz and /metrics, which report on every subsystem; wired by main. */
#ifndef PARLEY_STATUS_H
#define PARLEY_STATUS_H

/* Registers both routes with net. */
void status_init(void);

#endif
