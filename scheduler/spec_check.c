/*
 * spec_check.c - the scheduler's side of wadm's deploy check (lt_sched_spec_check): the rules
 * of model/deploy_check.c, answered from the deployed specs of the other apps.
 */
#include "sched_int.h"

#include <string.h>

#include "lt_alloc.h"

typedef struct {
    const lt_sched_spec *spec;
    const lt_sched_spec *const *others;
    size_t n;
} spec_env;

static lt_status spec_id_owner(void *ctx, const char *id, const char **owner)
{
    const spec_env *e = ctx;

    *owner = NULL;
    for (size_t j = 0; j < e->n; j++) {
        const lt_sched_spec *o = e->others[j];

        if (o == NULL || strcmp(o->app, e->spec->app) == 0)
            continue;
        for (size_t k = 0; k < o->n_comps; k++)
            if (o->comps[k].explicit_id && o->comps[k].shared_app == NULL &&
                strcmp(o->comps[k].id, id) == 0) {
                *owner = o->app;
                return LT_OK;
            }
    }
    return LT_OK;
}

static lt_status spec_shared_has(void *ctx, const char *app, const char *component,
                                 lt_model_kind kind, bool *ok)
{
    const spec_env *e = ctx;
    const spec_comp *t;

    *ok = false;
    for (size_t j = 0; j < e->n; j++) {
        const lt_sched_spec *o = e->others[j];

        if (o == NULL || strcmp(o->app, app) != 0)
            continue;
        if (!o->shared)
            return LT_OK;
        t = lt__sched_spec_find(o, component);
        *ok = t != NULL && t->shared_app == NULL && t->capability == (kind == LT_MODEL_CAPABILITY);
        return LT_OK;
    }
    return LT_OK;
}

lt_status lt_sched_spec_check(const lt_sched_spec *spec, const lt_sched_spec *const *others,
                              size_t n_others, lt_buf *why)
{
    spec_env e = { .spec = spec, .others = others, .n = n_others };
    lt_model_deploy_env env = { .ctx = &e,
                                .id_owner = spec_id_owner,
                                .shared_has = spec_shared_has };
    lt_model_deploy_comp *comps = lt_calloc(spec->n_comps + 1, sizeof(*comps));
    lt_status st;

    if (comps == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < spec->n_comps; i++) {
        const spec_comp *c = &spec->comps[i];

        comps[i] = (lt_model_deploy_comp){
            .name = c->name,
            .id = c->explicit_id && c->shared_app == NULL ? c->id : NULL,
            .kind = c->capability ? LT_MODEL_CAPABILITY : LT_MODEL_COMPONENT,
            .shared_app = c->shared_app,
            .shared_component = c->shared_comp,
        };
    }
    st = lt_model_check_deploy(comps, spec->n_comps, &env, why);
    lt_free(comps);
    return st == LT_ERR_REFUSED ? LT_ERR_CONFLICT : st;
}
