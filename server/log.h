/* log.h: one line per event on stderr: time, level, connection id, message. */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERR } log_level_t;

void log_set_level(log_level_t level);
log_level_t log_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns -1 when unknown. */
int log_level_parse(const char *s);

/* conn is the connection id, or 0 for events that belong to no connection. */
void log_msg(log_level_t level, uint64_t conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, 0, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, 0, __VA_ARGS__)
#define log_err(...)   log_msg(LOG_ERR, 0, __VA_ARGS__)
#define clog_debug(c, ...) log_msg(LOG_DEBUG, (c), __VA_ARGS__)
#define clog_info(c, ...)  log_msg(LOG_INFO, (c), __VA_ARGS__)
#define clog_warn(c, ...)  log_msg(LOG_WARN, (c), __VA_ARGS__)

/* Copies at most 80 bytes of user text into out (>= 96 bytes), cut at a UTF-8
 * boundary, control characters replaced, with "..." when shortened. Returns out. */
char *log_excerpt(const char *text, char *out, size_t outlen);

#endif
