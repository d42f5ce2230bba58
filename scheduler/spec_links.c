/*
 * spec_links.c - compile the link traits of a component into the spec's links: source and
 * target resolved (through shared references), config and secrets of each side, the content
 * digest hosts are compared on, and the protobuf map entries of LinkSpec.
 */
#include "sched_int.h"

#include <string.h>

#include "lt_alloc.h"

/* The id a link target that names no component of the app gets: wadm's compute_component_id
 * (lt_model_compute_id). NULL when out of memory. */
static char *target_id(const char *app, const char *name)
{
    lt_buf b;
    char *id;

    lt_buf_init(&b, 1u << 16);
    id = lt_model_compute_id(app, name, &b) == LT_OK ? lt_buf_take(&b) : NULL;
    lt_buf_cleanup(&b);
    return id;
}

lt_status lt__sched_compile_link(const lt_model *m, const lt_model_component *src,
                                 const lt_model_link *ml, spec_link *l)
{
    const lt_model_component *tc = NULL;
    skvs scfg = { 0 }, tcfg = { 0 };
    sched_sha h;
    lt_status st = LT_OK;
    size_t i;

    l->name = lt__sched_strdup0(ml->name);
    l->ns = lt__sched_strdup0(ml->wit_namespace);
    l->pkg = lt__sched_strdup0(ml->wit_package);
    l->app = lt__sched_strdup0(m->name);
    l->source_app = lt__sched_strdup0(src->shared_app != NULL ? src->shared_app : m->name);
    l->source_comp = lt__sched_strdup0(src->shared_app != NULL ? src->shared_component : src->name);
    l->source_id = lt__sched_strdup0(src->id);
    if (ml->target != NULL && ml->target[0] != '\0')
        tc = lt_model_find_component(m, ml->target);
    if (tc != NULL) {
        l->target_app = lt__sched_strdup0(tc->shared_app != NULL ? tc->shared_app : m->name);
        l->target_comp =
            lt__sched_strdup0(tc->shared_app != NULL ? tc->shared_component : tc->name);
        l->target_id = lt__sched_strdup0(tc->id);
    } else {
        l->target_app = lt__sched_strdup0(m->name);
        l->target_comp = lt__sched_strdup0("");
        l->target_id = target_id(m->name, ml->target != NULL ? ml->target : "");
    }
    l->colocate =
        ml->colocate == LT_MODEL_COLOCATE_UNSET ? LT_MODEL_COLOCATE_PREFERRED : ml->colocate;
    if (l->name == NULL || l->ns == NULL || l->pkg == NULL || l->app == NULL ||
        l->source_app == NULL || l->source_comp == NULL || l->source_id == NULL ||
        l->target_app == NULL || l->target_comp == NULL || l->target_id == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "link");
    if (ml->interface_count > 0) {
        l->ifaces = lt_calloc(ml->interface_count, sizeof(char *));
        if (l->ifaces == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "link interfaces");
        for (i = 0; i < ml->interface_count; i++) {
            l->ifaces[i] = lt__sched_strdup0(ml->interfaces[i]);
            if (l->ifaces[i] == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "link interface");
            l->n_ifaces = i + 1;
        }
    }
    st = lt__sched_merge_config(ml->source_config, ml->source_config_count, &scfg, NULL);
    if (st == LT_OK)
        st = lt__sched_merge_config(ml->target_config, ml->target_config_count, &tcfg, NULL);
    if (st == LT_OK)
        st = lt__sched_build_secrets(m, ml->source_secrets, ml->source_secret_count, &l->ssec,
                                     &l->ssec_p, &l->n_ssec);
    if (st == LT_OK)
        st = lt__sched_build_secrets(m, ml->target_secrets, ml->target_secret_count, &l->tsec,
                                     &l->tsec_p, &l->n_tsec);
    if (st != LT_OK)
        goto out;
    /* Content digest: everything the host sees except per-instance fields. */
    lt__sched_sha_init(&h);
    lt__sched_sha_str(&h, l->name);
    lt__sched_sha_update(&h, "\x1f", 1);
    lt__sched_sha_str(&h, l->ns);
    lt__sched_sha_update(&h, "\x1f", 1);
    lt__sched_sha_str(&h, l->pkg);
    lt__sched_sha_update(&h, "\x1f", 1);
    for (i = 0; i < l->n_ifaces; i++) {
        lt__sched_sha_str(&h, l->ifaces[i]);
        lt__sched_sha_update(&h, ",", 1);
    }
    lt__sched_sha_str(&h, l->target_id);
    lt__sched_sha_update(&h, "\x1f", 1);
    lt__sched_sha_skvs(&h, &scfg);
    lt__sched_sha_skvs(&h, &tcfg);
    lt__sched_sha_secrets(&h, l->ssec, l->n_ssec);
    lt__sched_sha_secrets(&h, l->tsec, l->n_tsec);
    lt__sched_sha_hex(&h, l->digest, 32);
    {
        static const Latticed__Host__V1__LinkSpec__SourceConfigEntry si =
            LATTICED__HOST__V1__LINK_SPEC__SOURCE_CONFIG_ENTRY__INIT;
        static const Latticed__Host__V1__LinkSpec__TargetConfigEntry ti =
            LATTICED__HOST__V1__LINK_SPEC__TARGET_CONFIG_ENTRY__INIT;

        LT__SCHED_BUILD_ENTRIES(&scfg, si, l->scfg, l->scfg_p, l->n_scfg, st);
        LT__SCHED_BUILD_ENTRIES(&tcfg, ti, l->tcfg, l->tcfg_p, l->n_tcfg, st);
    }
out:
    lt__sched_skvs_cleanup(&scfg);
    lt__sched_skvs_cleanup(&tcfg);
    return st;
}

void lt__sched_free_link(spec_link *l)
{
    size_t i;

    lt_free(l->name);
    lt_free(l->ns);
    lt_free(l->pkg);
    for (i = 0; i < l->n_ifaces; i++)
        lt_free(l->ifaces[i]);
    lt_free(l->ifaces);
    lt_free(l->app);
    lt_free(l->source_app);
    lt_free(l->source_comp);
    lt_free(l->source_id);
    lt_free(l->target_app);
    lt_free(l->target_comp);
    lt_free(l->target_id);
    for (i = 0; i < l->n_scfg; i++) {
        lt_free(l->scfg[i].key);
        lt_free(l->scfg[i].value);
    }
    lt_free(l->scfg);
    lt_free(l->scfg_p);
    for (i = 0; i < l->n_tcfg; i++) {
        lt_free(l->tcfg[i].key);
        lt_free(l->tcfg[i].value);
    }
    lt_free(l->tcfg);
    lt_free(l->tcfg_p);
    lt__sched_free_secrets(l->ssec, l->n_ssec);
    lt_free(l->ssec_p);
    lt__sched_free_secrets(l->tsec, l->n_tsec);
    lt_free(l->tsec_p);
}
