/* errors.c: the table from error enum to wire code. */
#include "errors.h"

static const char *const codes[PERR__COUNT] = {
    [PERR_OK] = "ok",
    [PERR_BAD_JSON] = "bad_json",
    [PERR_BAD_REQUEST] = "bad_request",
    [PERR_UNKNOWN_TYPE] = "unknown_type",
    [PERR_TITLE_EMPTY] = "title_empty",
    [PERR_TITLE_TOO_LONG] = "title_too_long",
    [PERR_BODY_EMPTY] = "body_empty",
    [PERR_BODY_TOO_LONG] = "body_too_long",
    [PERR_NAME_EMPTY] = "name_empty",
    [PERR_NAME_TOO_LONG] = "name_too_long",
    [PERR_INVALID_TEXT] = "invalid_text",
    [PERR_RATE_LIMITED] = "rate_limited",
    [PERR_REJECTED] = "rejected",
    [PERR_UNAUTHORIZED] = "unauthorized",
    [PERR_FORBIDDEN] = "forbidden",
    [PERR_NOT_FOUND] = "not_found",
    [PERR_CONFLICT] = "conflict",
    [PERR_EDIT_WINDOW] = "edit_window_passed",
    [PERR_UNAVAILABLE] = "unavailable",
    [PERR_INTERNAL] = "internal",
    [PERR_NAME_RESERVED] = "name_reserved",
};

const char *perr_code(perr_t e) {
    return (e >= 0 && e < PERR__COUNT && codes[e]) ? codes[e] : "internal";
}
