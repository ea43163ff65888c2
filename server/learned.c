/* learned.c: the learned model of this process, kept in step with the store, and the
 * lessons of moderators' decisions. See learned.h. */
#include "learned.h"
#include "alloc.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_learned.h"
#include "store_trust.h"

/* This process's copy; storage thread only. */
static struct {
    learned_model_t *model;
    store_learned_meta meta;   /* the store's header when last loaded */
    int64_t checked_ms;        /* when the header was last read */
    int stale;                 /* changed by this process: re-read at once */
} L;

const learned_model_t *learned_current(db_t *db, int64_t now_ms) {
    if (!L.model) {
        L.model = learned_model_new();
        L.stale = 1;
        L.meta.seq = 0;
        L.meta.generation = -1;
    }
    if (!L.stale && now_ms - L.checked_ms < LEARNED_REFRESH_MS) return L.model;
    L.checked_ms = now_ms;
    store_learned_meta m;
    if (store_learned_meta_get(db, &m)) return L.model;
    L.stale = 0;
    /* a new generation (decay), or a sequence that went back (a rolled-back change this
     * process had read): everything again; else only what changed since */
    if (m.generation != L.meta.generation || m.seq < L.meta.seq) {
        learned_model_clear(L.model);
        if (!store_learned_load(db, 0, L.model)) L.meta = m;
    } else if (m.seq > L.meta.seq) {
        if (!store_learned_load(db, L.meta.seq, L.model)) L.meta = m;
    }
    return L.model;
}

int learned_teach(db_t *db, const char *title, const char *body, learn_label_t label,
                  double weight) {
    if (label == LEARN_NONE) return 0;
    learned_feats f = {0};
    if ((title && *title && learned_features(title, 0, &f)) ||
        (body && *body && learned_features(body, 1, &f))) {
        learned_feats_free(&f);
        return -1;
    }
    const char **d = xmalloc(LEARNED_MAX_FEATURES * sizeof *d);
    size_t n = learned_distinct(&f, d, LEARNED_MAX_FEATURES);
    learned_model_t *delta = learned_model_new();
    learned_model_add(delta, d, n, label, weight);
    int rc = store_learned_apply(db, delta, LEARNED_MAX_DOCS);
    learned_model_free(delta);
    free(d);
    learned_feats_free(&f);
    L.stale = 1;
    return rc;
}

/* Makes a comment's lesson `label` (LEARN_NONE: none), unlearning the one it taught. */
static int set_lesson(db_t *db, int64_t id, learn_label_t label) {
    learn_label_t old;
    char *ot = NULL, *ob = NULL, *t = NULL, *b = NULL;
    int rc = store_learned_example_get(db, id, &old, &ot, &ob);
    if (rc || old == label) goto out;
    if (old != LEARN_NONE && (rc = learned_teach(db, ot, ob, old, -1))) goto out;
    if (label != LEARN_NONE) {
        if ((rc = store_learned_comment_text(db, id, &t, &b))) goto out;
        if ((rc = learned_teach(db, t, b, label, 1))) goto out;
    }
    rc = store_learned_example_put(db, id, label, t ? t : "", b ? b : "", now_ms());
    if (!rc)
        log_debug("learned: comment %lld now teaches %s", (long long)id,
                  label == LEARN_NONE ? "nothing" : learned_label_name(label));
out:
    free(ot), free(ob), free(t), free(b);
    if (rc) log_err("learned: could not update the lesson of comment %lld", (long long)id);
    return rc;
}

static learn_label_t lesson_of(const char *action, const char *reason) {
    if (!action) return LEARN_NONE;
    if (!strcmp(action, "approve")) return LEARN_HAM;
    if (!strcmp(action, "reject") || !strcmp(action, "remove"))
        return learned_label_of_reason(reason);
    return LEARN_NONE;
}

int learned_on_decision(db_t *db, int64_t comment_id, const char *action, const char *reason) {
    store_trust_forget(); /* an approval or a rejection changes who is trusted */
    return set_lesson(db, comment_id, lesson_of(action, reason));
}

int learned_on_undo(db_t *db, int64_t comment_id, int64_t audit_id) {
    char action[32];
    char *reason = NULL;
    store_trust_forget();
    int found = store_learned_last_decision(db, comment_id, audit_id, action, &reason);
    if (found < 0) return -1;
    int rc = set_lesson(db, comment_id, found ? lesson_of(action, reason) : LEARN_NONE);
    free(reason);
    return rc;
}

void learned_reset(void) {
    learned_model_free(L.model);
    memset(&L, 0, sizeof L);
}
