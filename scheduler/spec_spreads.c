/*
 * spec_spreads.c - a scaler's spreads in the compiled spec (requirements, weight, selector key)
 * and wadm's spread maths that shares the instances between them.
 */
#include "sched_int.h"

#include "lt_alloc.h"

__extension__ typedef unsigned __int128 u128;

void lt_sched_spread_counts(uint64_t instances, const uint64_t *weights, size_t n, uint64_t *counts)
{
    uint64_t total = 0, given = 0, rem;
    size_t i, j;

    if (n == 0)
        return;
    for (i = 0; i < n; i++)
        total += weights[i];
    for (i = 0; i < n; i++) {
        if (total == 0)
            counts[i] = instances / n;
        else /* floor(instances * w / total), in 128 bits */
            counts[i] = (uint64_t)(((u128)instances * weights[i]) / total);
        given += counts[i];
    }
    /* The remainder (< n) goes one each to the first spreads in weight-descending order,
     * ties in input order (wadm's stable sort). */
    rem = instances - given;
    for (i = 0; i < n && rem > 0; i++) {
        uint64_t rank = 0;

        for (j = 0; j < n; j++)
            if (weights[j] > weights[i] || (weights[j] == weights[i] && j < i))
                rank++;
        if (rank < rem)
            counts[i]++;
    }
}

lt_status lt__sched_compile_spreads(const lt_model_scaler *sc, spec_comp *c)
{
    size_t n = sc != NULL && sc->spread_count > 0 ? sc->spread_count : 1, i, j;
    uint64_t *w = NULL, *cnt = NULL;
    lt_status st = LT_OK;

    c->spreads = lt_calloc(n, sizeof(*c->spreads));
    w = lt_calloc(n, sizeof(*w));
    cnt = lt_calloc(n, sizeof(*cnt));
    if (c->spreads == NULL || w == NULL || cnt == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "spreads");
        goto out;
    }
    c->n_spreads = n;
    for (i = 0; i < n; i++) {
        spec_spread *sp = &c->spreads[i];
        const lt_model_spread *ms = sc != NULL && sc->spread_count > 0 ? &sc->spreads[i] : NULL;
        lt_buf sel;

        sp->name = lt__sched_strdup0(ms != NULL ? ms->name : "default");
        sp->weight = ms != NULL ? ms->weight : LT_MODEL_DEFAULT_WEIGHT;
        if (sp->name == NULL) {
            st = LT_FAIL(LT_ERR_NOMEM, "spread");
            goto out;
        }
        for (j = 0; ms != NULL && j < ms->requirements.count; j++) {
            st = lt__sched_skvs_set(&sp->req, ms->requirements.items[j].key,
                                    ms->requirements.items[j].value);
            if (st != LT_OK)
                goto out;
        }
        lt_buf_init(&sel, 1u << 16);
        for (j = 0; j < sp->req.count && st == LT_OK; j++)
            st = lt_buf_appendf(&sel, "%s=%s\x1f", sp->req.items[j].key, sp->req.items[j].value);
        sp->selector = st == LT_OK ? lt_buf_take(&sel) : NULL;
        lt_buf_cleanup(&sel);
        if (sp->selector == NULL) {
            st = st != LT_OK ? st : LT_FAIL(LT_ERR_NOMEM, "selector");
            goto out;
        }
        w[i] = sp->weight;
    }
    lt_sched_spread_counts(c->instances, w, n, cnt);
    for (i = 0; i < n; i++)
        c->spreads[i].count = cnt[i];
out:
    lt_free(w);
    lt_free(cnt);
    return st;
}
