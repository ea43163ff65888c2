/* fuzz_common.h: set-up shared by the libFuzzer targets that need the server's globals:
 * the repository's moderation.yml loaded into srv.cfg and its rules (with the word lists
 * under rules/) compiled into srv.ruleset, as `parley serve` does at start-up.
 *
 * PARLEY_SRC_DIR is the repository root (the Makefile passes it), so a target runs from
 * any directory. Logging is off unless FUZZ_LOG names a level (debug, info, warn, error):
 * a fuzzer makes thousands of refusals a second and each would be a log line. */
#ifndef PARLEY_FUZZ_COMMON_H
#define PARLEY_FUZZ_COMMON_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "config.h"
#include "log.h"
#include "rules.h"
#include "server.h"

#ifndef PARLEY_SRC_DIR
#define PARLEY_SRC_DIR "."
#endif

/* Stops the fuzzer with a message: set-up failed, so nothing it would find means much. */
static inline void fuzz_die(const char *what, const char *err) {
    fprintf(stderr, "fuzz set-up: %s: %s\n", what, err ? err : "");
    abort();
}

/* Sets the log level from FUZZ_LOG; every level is muted when it is unset. */
static inline void fuzz_log_init(void) {
    const char *lv = getenv("FUZZ_LOG");
    int n = lv ? log_level_parse(lv) : -1;
    log_set_level(n >= 0 ? (log_level_t)n : (log_level_t)(LOG_ERR + 1));
}

/* Loads PARLEY_SRC_DIR/moderation.yml into srv.cfg; the tree stays in srv.cfg.tree. */
static inline void fuzz_load_config(void) {
    char err[CFG_ERRLEN];
    if (config_load(PARLEY_SRC_DIR "/moderation.yml", &srv.cfg, err, sizeof err))
        fuzz_die("moderation.yml", err);
}

/* Compiles the rules of the loaded config into a new rules_t (the caller owns it). */
static inline rules_t *fuzz_load_rules(void) {
    char err[CFG_ERRLEN];
    rules_t *r = rules_load(srv.cfg.tree, srv.cfg.file, srv.cfg.base_dir, err, sizeof err);
    if (!r) fuzz_die("rules", err);
    return r;
}

/* Installs r as the server's rule set (one reference, held for the process's life) and
 * a fresh rules state, as cmd_serve does. */
static inline void fuzz_install_rules(rules_t *r) {
    ruleset_t *rs = calloc(1, sizeof *rs);
    if (!rs) abort();
    rs->rules = r;
    atomic_init(&rs->refs, 1);
    srv.ruleset = rs;
    srv.rules_state = rules_state_new();
}

#endif
