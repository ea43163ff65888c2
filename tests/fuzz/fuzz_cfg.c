/* libFuzzer target: the YAML tree reader on arbitrary text. Every input either gives a
 * tree or an error naming file:line:col; nothing crashes or leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[CFG_ERRLEN];
    err[0] = '\0';
    cfg_node *root = cfg_parse_string((const char *)data, size, "fuzz.yml", err, sizeof err);
    if (root) {
        (void)cfg_get(root, "server");
        cfg_free(root);
    } else if (strncmp(err, "fuzz.yml:", 9) != 0) {
        abort();
    }
    return 0;
}
