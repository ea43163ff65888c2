/* libFuzzer target: text_clean on arbitrary bytes, for every field and small limits.
 * Checks the promises of text.h: on TEXT_OK the output is valid UTF-8, within the limit,
 * with no surrounding white space. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    text_field_t field = (text_field_t)(data[0] % 3);
    size_t max = 1 + data[0] / 3;
    char *out = NULL;
    size_t ncp = 0;
    text_status_t st = text_clean((const char *)data + 1, size - 1, field, max, &out, &ncp);
    if (st == TEXT_OK) {
        size_t len = strlen(out);
        if (!text_utf8_valid(out, len)) abort();
        if (text_codepoints(out, len) != ncp || ncp == 0 || ncp > max) abort();
        if (out[0] == ' ' || out[len - 1] == ' ' || out[len - 1] == '\n') abort();
        free(out);
    } else if (out) {
        abort();
    }
    return 0;
}
