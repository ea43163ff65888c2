/* errors.h: the one error enum of the server; each maps to a stable wire code. */
#ifndef PARLEY_ERRORS_H
#define PARLEY_ERRORS_H

typedef enum {
    PERR_OK = 0,
    PERR_BAD_JSON,
    PERR_BAD_REQUEST,
    PERR_UNKNOWN_TYPE,
    PERR_TITLE_EMPTY,
    PERR_TITLE_TOO_LONG,
    PERR_BODY_EMPTY,
    PERR_BODY_TOO_LONG,
    PERR_NAME_EMPTY,
    PERR_NAME_TOO_LONG,
    PERR_INVALID_TEXT,
    PERR_RATE_LIMITED,
    PERR_REJECTED,
    PERR_UNAUTHORIZED,
    PERR_FORBIDDEN,
    PERR_NOT_FOUND,
    PERR_CONFLICT,
    PERR_EDIT_WINDOW,
    PERR_UNAVAILABLE,
    PERR_INTERNAL,
    PERR_NAME_RESERVED,
    PERR__COUNT
} perr_t;

/* The wire code ("bad_json", ...) of an error. */
const char *perr_code(perr_t e);

#endif
