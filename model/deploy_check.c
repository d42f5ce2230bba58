/*
 * deploy_check.c - wadm's deploy rules (explicit component ids unique across the deployed
 * apps of a lattice, shared references resolvable), on a plain description of the app and
 * callbacks that answer for the others. The API and the scheduler both call it.
 */
#include <stdlib.h>

#include <jansson.h>

#include "lt_model.h"

lt_status lt_model_shared_missing(const lt_model_deploy_comp *comps, size_t n,
                                  const lt_model_deploy_env *env, lt_buf *names, size_t *count)
{
    lt_status st;

    *count = 0;
    for (size_t i = 0; i < n; i++) {
        const lt_model_deploy_comp *c = &comps[i];
        bool ok = false;
        json_t *jname;
        char *quoted;

        if (c->shared_app == NULL)
            continue;
        st = env->shared_has(env->ctx, c->shared_app,
                             c->shared_component != NULL ? c->shared_component : "", c->kind, &ok);
        if (st != LT_OK)
            return st;
        if (ok)
            continue;
        jname = json_string(c->name);
        quoted = jname != NULL ? json_dumps(jname, JSON_ENCODE_ANY) : NULL; /* quoted */
        json_decref(jname);
        st = lt_buf_appends(names, *count == 0 ? "[" : ", ");
        if (st == LT_OK)
            st = quoted != NULL ? lt_buf_appends(names, quoted) : LT_ERR_NOMEM;
        free(quoted);
        if (st != LT_OK)
            return LT_FAIL(st, "shared component list too long");
        (*count)++;
    }
    if (*count > 0 && lt_buf_appends(names, "]") != LT_OK)
        return LT_FAIL(LT_ERR_TOO_BIG, "shared component list too long");
    return LT_OK;
}

lt_status lt_model_check_deploy(const lt_model_deploy_comp *comps, size_t n,
                                const lt_model_deploy_env *env, lt_buf *why)
{
    const char *owner = NULL;
    size_t missing = 0;
    lt_buf names;
    lt_status st = LT_OK;

    lt_buf_init(&names, 64 * 1024);
    for (size_t i = 0; i < n; i++) {
        if (comps[i].id == NULL)
            continue;
        if ((st = env->id_owner(env->ctx, comps[i].id, &owner)) != LT_OK)
            goto out;
        if (owner != NULL) {
            LT_IGNORE(lt_buf_appendf(why,
                                     "Component identifier '%s' is already deployed in a "
                                     "different application '%s'.",
                                     comps[i].id, owner));
            st = LT_ERR_REFUSED;
            goto out;
        }
    }
    if ((st = lt_model_shared_missing(comps, n, env, &names, &missing)) != LT_OK)
        goto out;
    if (missing > 0) {
        LT_IGNORE(lt_buf_appendf(why,
                                 "Application contains shared components that are not "
                                 "deployed in other applications: %s",
                                 names.ptr));
        st = LT_ERR_REFUSED;
    }
out:
    lt_buf_cleanup(&names);
    return st;
}
