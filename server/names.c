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

bool names_reserved(db_t *db, const char *name) {
    char key[256];
    if (names_key(name, key, sizeof key)) return false;
    if (store_names_has(db, key)) return true;
    /* Moderators are few: their names are folded here, so accounts made before names
     * were reserved count too. */
    return store_names_moderator_match(db, key, names_key);
}

void names_reserve(db_t *db, const char *name, const char *kind) {
    char key[256];
    if (names_key(name, key, sizeof key) == 0) store_names_put(db, key, kind);
}

void names_forget_author(db_t *db, const char *author_id) {
    store_names_forget_author(db, author_id, names_key);
}
