/*
 * spec_compile.c - compile a validated lt_model into the scheduler's desired-state form
 * (lt_sched_spec): per component its scaler, config, secrets, resources, annotations, spec
 * and scaler digests and the prebuilt InstanceSpec pieces; the placement order; the whole
 * spec's digest; and freeing it all.
 */
#include "sched_int.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"

static const lt_model_trait *scaler_trait(const lt_model_component *c)
{
    size_t i;

    for (i = 0; i < c->trait_count; i++)
        if (c->traits[i].kind == LT_MODEL_TRAIT_SPREADSCALER ||
            c->traits[i].kind == LT_MODEL_TRAIT_DAEMONSCALER)
            return &c->traits[i];
    return NULL;
}

static lt_status add_ann(skvs *ann, const char *k, const char *v)
{
    return lt__sched_skvs_set(ann, k, v != NULL ? v : "");
}

static lt_status compile_comp(const lt_model *m, const lt_model_component *mc, spec_comp *c,
                              const char *lattice)
{
    static const Latticed__Host__V1__InstanceSpec__ConfigEntry ci =
        LATTICED__HOST__V1__INSTANCE_SPEC__CONFIG_ENTRY__INIT;
    static const Latticed__Host__V1__InstanceSpec__AnnotationsEntry ai =
        LATTICED__HOST__V1__INSTANCE_SPEC__ANNOTATIONS_ENTRY__INIT;
    static const Latticed__Host__V1__ResourceRequests ri =
        LATTICED__HOST__V1__RESOURCE_REQUESTS__INIT;
    const lt_model_trait *tr = scaler_trait(mc);
    skvs cfg = { 0 }, ann = { 0 };
    lt_buf ext;
    sched_sha h;
    lt_status st = LT_OK;
    size_t i;

    lt_buf_init(&ext, 1u << 16);
    c->name = lt__sched_strdup0(mc->name);
    c->id = lt__sched_strdup0(mc->id);
    c->image = mc->image != NULL ? lt_strdup(mc->image) : NULL;
    c->capability = mc->kind == LT_MODEL_CAPABILITY;
    c->explicit_id = mc->explicit_id != NULL;
    c->shared_app = mc->shared_app != NULL ? lt_strdup(mc->shared_app) : NULL;
    c->shared_comp = mc->shared_app != NULL ? lt__sched_strdup0(mc->shared_component) : NULL;
    if (c->name == NULL || c->id == NULL || (mc->image != NULL && c->image == NULL) ||
        (mc->shared_app != NULL && (c->shared_app == NULL || c->shared_comp == NULL))) {
        st = LT_FAIL(LT_ERR_NOMEM, "component");
        goto out;
    }
    c->res = ri;
    if (mc->resources != NULL) {
        c->mem = mc->resources->memory_bytes;
        c->cpu = mc->resources->cpu_millis;
        c->res.memory_bytes = c->mem;
        c->res.cpu_millis = (uint32_t)c->cpu;
    }
    if (c->image != NULL && c->shared_app == NULL) {
        if (tr != NULL) {
            c->scaler = tr->kind == LT_MODEL_TRAIT_DAEMONSCALER ? SCALER_DAEMON : SCALER_SPREAD;
            c->instances = tr->scaler.instances;
        } else if (c->capability) { /* wadm: an implicit spreadscaler of 1 */
            c->scaler = SCALER_SPREAD;
            c->instances = 1;
        }
        if (c->scaler != SCALER_NONE) {
            st = lt__sched_compile_spreads(tr != NULL ? &tr->scaler : NULL, c);
            if (st != LT_OK)
                goto out;
        }
    }
    st = lt__sched_merge_config(mc->config, mc->config_count, &cfg, &ext);
    if (st == LT_OK)
        st = lt__sched_build_secrets(m, mc->secrets, mc->secret_count, &c->sec, &c->sec_p,
                                     &c->n_sec);
    if (st == LT_OK)
        st = add_ann(&ann, LT_SCHED_ANN_MANAGED_BY, LT_SCHED_MANAGER);
    if (st == LT_OK)
        st = add_ann(&ann, LT_SCHED_ANN_LATTICE, lattice);
    if (st == LT_OK)
        st = add_ann(&ann, LT_SCHED_ANN_APP, m->name);
    if (st == LT_OK)
        st = add_ann(&ann, LT_SCHED_ANN_VERSION, m->version);
    if (st == LT_OK)
        st = add_ann(&ann, LT_SCHED_ANN_KIND, c->capability ? "capability" : "component");
    if (st == LT_OK && ext.len > 0)
        st = add_ann(&ann, LT_SCHED_ANN_EXTERNAL_CONFIG, ext.ptr);
    if (st != LT_OK)
        goto out;
    /* Spec digest: what the instance runs, not who asked (version, ordinal, id excluded). */
    lt__sched_sha_init(&h);
    lt__sched_sha_str(&h, c->id);
    lt__sched_sha_update(&h, "\x1f", 1);
    lt__sched_sha_str(&h, c->image);
    lt__sched_sha_update(&h, "\x1f", 1);
    lt__sched_sha_str(&h, c->capability ? "capability" : "component");
    lt__sched_sha_update(&h, "\x1f", 1);
    lt__sched_sha_skvs(&h, &cfg);
    lt__sched_sha_str(&h, ext.ptr);
    lt__sched_sha_update(&h, "\x1f", 1);
    lt__sched_sha_secrets(&h, c->sec, c->n_sec);
    {
        char num[64];

        snprintf(num, sizeof(num), "%llu/%llu", (unsigned long long)c->mem,
                 (unsigned long long)c->cpu);
        lt__sched_sha_str(&h, num);
    }
    lt__sched_sha_hex(&h, c->digest, 32);
    /* wadm's scaler id: SHA-256 of kind, app, name, id, image and config names. */
    lt__sched_sha_init(&h);
    lt__sched_sha_str(&h, c->scaler == SCALER_DAEMON ? "DaemonScaler" : "SpreadScaler");
    lt__sched_sha_str(&h, m->name);
    lt__sched_sha_str(&h, c->name);
    lt__sched_sha_str(&h, c->id);
    lt__sched_sha_str(&h, c->image);
    for (i = 0; i < mc->config_count; i++)
        lt__sched_sha_str(&h, mc->config[i].name);
    lt__sched_sha_hex(&h, c->scaler_id, 64);
    LT__SCHED_BUILD_ENTRIES(&cfg, ci, c->cfg, c->cfg_p, c->n_cfg, st);
    LT__SCHED_BUILD_ENTRIES(&ann, ai, c->ann, c->ann_p, c->n_ann, st);
    if (st != LT_OK)
        goto out;
    /* Links declared on this component. */
    for (i = 0; i < mc->trait_count; i++)
        if (mc->traits[i].kind == LT_MODEL_TRAIT_LINK)
            c->n_links++;
    if (c->n_links > 0) {
        size_t k = 0;

        c->links = lt_calloc(c->n_links, sizeof(*c->links));
        if (c->links == NULL) {
            c->n_links = 0;
            st = LT_FAIL(LT_ERR_NOMEM, "links");
            goto out;
        }
        for (i = 0; i < mc->trait_count && st == LT_OK; i++)
            if (mc->traits[i].kind == LT_MODEL_TRAIT_LINK) {
                spec_link *l = &c->links[k++];

                st = lt__sched_compile_link(m, mc, &mc->traits[i].link, l);
                if (st == LT_OK)
                    lt_sched_link_id(lattice, m->name, l->source_id, l->ns, l->pkg, l->name,
                                     l->target_id, l->link_id);
            }
    }
out:
    lt__sched_skvs_cleanup(&cfg);
    lt__sched_skvs_cleanup(&ann);
    lt_buf_cleanup(&ext);
    return st;
}

const spec_comp *lt__sched_spec_find(const lt_sched_spec *spec, const char *name)
{
    size_t i;

    for (i = 0; i < spec->n_comps; i++)
        if (strcmp(spec->comps[i].name, name) == 0)
            return &spec->comps[i];
    return NULL;
}

static void order_comps(lt_sched_spec *spec)
{
    size_t i, j, k = 0;

    for (i = 0; i < spec->n_comps; i++)
        for (j = 0; j < spec->comps[i].n_links; j++) {
            const spec_comp *t;

            if (strcmp(spec->comps[i].links[j].target_app, spec->app) != 0)
                continue;
            t = lt__sched_spec_find(spec, spec->comps[i].links[j].target_comp);
            if (t != NULL)
                ((spec_comp *)t)->is_target = true;
        }
    for (i = 0; i < spec->n_comps; i++)
        if (spec->comps[i].is_target)
            spec->order[k++] = i;
    for (i = 0; i < spec->n_comps; i++)
        if (!spec->comps[i].is_target)
            spec->order[k++] = i;
}

lt_status lt_sched_spec_compile(const lt_model *m, const char *lattice, lt_sched_spec **new_spec)
{
    return lt__sched_spec_compile(m, lattice, false, new_spec);
}

lt_status lt__sched_spec_compile(const lt_model *m, const char *lattice, bool v2,
                                 lt_sched_spec **new_spec)
{
    lt_sched_spec *spec = NULL;
    lt_status st = LT_OK;
    sched_sha h;
    size_t i, j;

    *new_spec = NULL;
    if (m == NULL || m->name == NULL || m->name[0] == '\0' || lattice == NULL)
        return LT_FAIL(LT_ERR_INVALID, "a manifest without a name cannot be scheduled");
    spec = lt_calloc(1, sizeof(*spec));
    if (spec == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "spec");
    spec->lattice = lt_strdup(lattice);
    spec->app = lt_strdup(m->name);
    spec->version = lt__sched_strdup0(m->version);
    spec->description = lt__sched_strdup0(m->description);
    spec->shared = m->shared;
    spec->rollout = m->rollout;
    if (spec->lattice == NULL || spec->app == NULL || spec->version == NULL ||
        spec->description == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "spec");
        goto out;
    }
    if (m->component_count > 0) {
        spec->comps = lt_calloc(m->component_count, sizeof(*spec->comps));
        spec->order = lt_calloc(m->component_count, sizeof(*spec->order));
        if (spec->comps == NULL || spec->order == NULL) {
            st = LT_FAIL(LT_ERR_NOMEM, "components");
            goto out;
        }
    }
    for (i = 0; i < m->component_count; i++) {
        spec->n_comps = i + 1;
        st = compile_comp(m, &m->components[i], &spec->comps[i], lattice);
        if (st != LT_OK)
            goto out;
    }
    spec->v2 = v2;
    if (v2 && (st = lt__sched_spec_v2(spec)) != LT_OK)
        goto out;
    order_comps(spec);
    for (i = 0; i < spec->n_comps; i++)
        spec->has_daemon |= spec->comps[i].scaler == SCALER_DAEMON;
    lt__sched_sha_init(&h);
    for (i = 0; i < spec->n_comps; i++) {
        const spec_comp *c = &spec->comps[i];
        char num[64];

        lt__sched_sha_str(&h, c->name);
        lt__sched_sha_str(&h, c->digest);
        snprintf(num, sizeof(num), "/%d/%llu/", (int)c->scaler, (unsigned long long)c->instances);
        lt__sched_sha_str(&h, num);
        for (j = 0; j < c->n_spreads; j++) {
            snprintf(num, sizeof(num), "/%llu/", (unsigned long long)c->spreads[j].weight);
            lt__sched_sha_str(&h, c->spreads[j].name);
            lt__sched_sha_str(&h, c->spreads[j].selector);
            lt__sched_sha_str(&h, num);
        }
        for (j = 0; j < c->n_links; j++) {
            lt__sched_sha_str(&h, c->links[j].link_id);
            lt__sched_sha_str(&h, c->links[j].digest);
            snprintf(num, sizeof(num), "/%d/", (int)c->links[j].colocate);
            lt__sched_sha_str(&h, num);
        }
    }
    {
        char num[64];

        snprintf(num, sizeof(num), "r%d/%d/%u", spec->rollout.set, spec->rollout.percent,
                 spec->rollout.max_unavailable);
        lt__sched_sha_str(&h, num);
        if (v2) { /* native digests stay as they were */
            lt__sched_sha_str(&h, "/v2/");
            lt__sched_sha_str(&h, spec->v2_error);
        }
    }
    lt__sched_sha_hex(&h, spec->digest, 32);
out:
    if (st != LT_OK) {
        lt_sched_spec_free(spec);
        return st;
    }
    *new_spec = spec;
    return LT_OK;
}

static void free_comp(spec_comp *c)
{
    size_t i;

    lt_free(c->name);
    lt_free(c->id);
    lt_free(c->image);
    lt_free(c->shared_app);
    lt_free(c->shared_comp);
    for (i = 0; i < c->n_spreads; i++) {
        lt_free(c->spreads[i].name);
        lt__sched_skvs_cleanup(&c->spreads[i].req);
        lt_free(c->spreads[i].selector);
    }
    lt_free(c->spreads);
    for (i = 0; i < c->n_links; i++)
        lt__sched_free_link(&c->links[i]);
    lt_free(c->links);
    for (i = 0; i < c->n_cfg; i++) {
        lt_free(c->cfg[i].key);
        lt_free(c->cfg[i].value);
    }
    lt_free(c->cfg);
    lt_free(c->cfg_p);
    for (i = 0; i < c->n_ann; i++) {
        lt_free(c->ann[i].key);
        lt_free(c->ann[i].value);
    }
    lt_free(c->ann);
    lt_free(c->ann_p);
    lt__sched_free_secrets(c->sec, c->n_sec);
    lt_free(c->sec_p);
    lt__sched_spec_v2_free_comp(c);
}

void lt_sched_spec_free(lt_sched_spec *spec)
{
    size_t i;

    if (spec == NULL)
        return;
    for (i = 0; i < spec->n_comps; i++)
        free_comp(&spec->comps[i]);
    lt_free(spec->comps);
    lt_free(spec->order);
    lt_free(spec->lattice);
    lt_free(spec->app);
    lt_free(spec->version);
    lt_free(spec->description);
    lt_free(spec->v2_error);
    lt_free(spec);
}
