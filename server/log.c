/* log.c: plain stderr logging, one line an event. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static log_level_t min_level = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level_t level) { min_level = level; }
log_level_t log_get_level(void) { return min_level; }

int log_level_parse(const char *s) {
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) return i;
    if (strcmp(s, "warning") == 0) return LOG_WARN;
    return -1;
}

/* ---- Repeats ----
 *
 * A line that an attacker can trigger at will (a refused socket, a bad frame) must not
 * let them fill the disk: each call site (its format string) may log LOG_BURST lines a
 * second; the rest are counted, and the next line that gets through says how many were
 * left out. The table is small and direct-mapped: two sites sharing a slot only share a
 * budget. */
#define LOG_SLOTS 64
#define LOG_BURST 10

static struct {
    const char *fmt;
    time_t second;
    unsigned count;
    unsigned long suppressed;
} slots[LOG_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether a line from fmt may be written now; *skipped gets the lines left out before. */
static int log_admit(const char *fmt, time_t now, unsigned long *skipped) {
    size_t i = ((uintptr_t)fmt >> 3) % LOG_SLOTS;
    int ok;
    pthread_mutex_lock(&slots_lock);
    if (slots[i].fmt != fmt || slots[i].second != now) {
        if (slots[i].fmt != fmt) slots[i].suppressed = 0;
        slots[i].fmt = fmt;
        slots[i].second = now;
        slots[i].count = 0;
    }
    ok = ++slots[i].count <= LOG_BURST;
    if (ok) {
        *skipped = slots[i].suppressed;
        slots[i].suppressed = 0;
    } else {
        slots[i].suppressed++;
    }
    pthread_mutex_unlock(&slots_lock);
    return ok;
}

void log_msg(log_level_t level, uint64_t conn, const char *fmt, ...) {
    if (level < min_level) return;
    char line[1024];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    unsigned long skipped = 0;
    if (!log_admit(fmt, tv.tv_sec, &skipped)) return;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (long)tv.tv_usec / 1000, level_names[level]);
    if (conn)
        n += snprintf(line + n, sizeof line - n, "c%llu ", (unsigned long long)conn);
    else
        n += snprintf(line + n, sizeof line - n, "- ");
    if (skipped)
        n += snprintf(line + n, sizeof line - n, "(%lu like this left out) ", skipped);
    va_list ap;
    va_start(ap, fmt);
    if (n < (int)sizeof line) vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    /* One fputs of a whole line keeps lines whole when several threads log. */
    size_t len = strnlen(line, sizeof line - 2);
    line[len] = '\n';
    line[len + 1] = '\0';
    fputs(line, stderr);
}

char *log_excerpt(const char *text, char *out, size_t outlen) {
    size_t max = 80, i = 0, o = 0;
    if (outlen < 96) max = outlen > 16 ? outlen - 16 : 0;
    if (!text) text = "";
    while (text[i] && o < max) {
        unsigned char c = (unsigned char)text[i];
        size_t clen = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
        if (o + clen > max) break;
        if (c < 0x20 || c == 0x7f) {
            out[o++] = ' ';
            i++;
            continue;
        }
        for (size_t k = 0; k < clen && text[i]; k++) out[o++] = text[i++];
    }
    if (text[i]) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}
