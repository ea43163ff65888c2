/* names.c: reserved display names (see names.h). */
#include "names.h"

#include <stdio.h>
#include <string.h>

#include "rules_norm.h"
#include "store_names.h"

int names_key(const char *name, char *out, size_t outlen) {
    norm_t n;
    if (outlen == 0 || norm_text(name, strlen(name), &n)) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n.len && o + 1 < outlen; i++)
        if (n.text[i] != ' ') out[o++] = n.text[i];
    out[o] = '\0';
    norm_free(&n);
    return o ? 0 : -1;
}

void names_reserve(db_t *db, const char *name, const char *kind) {
    char key[256];
    if (names_key(name, key, sizeof key) == 0) store_names_put(db, key, kind);
}

void names_release(db_t *db, const char *name, const char *kind) {
    char key[256];
    if (names_key(name, key, sizeof key) == 0) store_names_release(db, key, kind);
}

int names_reserve_moderators(db_t *db) {
    return store_names_reserve_moderators(db, names_key) < 0 ? -1 : 0;
}

void names_forget_author(db_t *db, const char *author_id) {
    store_names_forget_author(db, author_id, names_key);
}
