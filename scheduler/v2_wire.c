/*
 * v2_wire.c - the pure parts of the wasmCloud 2.x driver: host versions and the fields each
 * knows, and the workload.start request built from the scheduler's workload template.
 *
 * A v2 host decodes requests strictly: a field it does not know makes it drop the request
 * without a reply (wasmcloud-v2-hosts.md, 1.3 and 1.7). There is no protocol version on the
 * wire, only the host's release in its heartbeat, so every request is cut to what that
 * release knows before it is encoded.
 */
#include "sched_v2_int.h"

#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_pbjson.h"

#define V2_OLDEST 20000u       /* 2.0.0 */
#define V2_IP_LOOKUPS 20600u   /* LocalResources.allowed_ip_name_lookups */
#define V2_CONCURRENCY 20700u  /* Component.max_concurrency */
#define V2_LOOPBACK 20700u     /* LocalResources.allowed_host_loopback_ports */
#define V2_MAX_ANNOTATIONS 64u /* owner annotations plus ours */

uint32_t lt__sched_v2_version(const char *version)
{
    unsigned long part[3] = { 0, 0, 0 };
    const char *p = version;
    char *end;
    int i;

    if (p == NULL)
        return V2_OLDEST;
    if (*p == 'v')
        p++;
    for (i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return V2_OLDEST;
        part[i] = strtoul(p, &end, 10);
        if (part[i] > 99)
            part[i] = 99;
        p = end;
        if (i < 2 && *p != '.')
            return V2_OLDEST;
        if (i < 2)
            p++;
    }
    if (part[0] < 2)
        return V2_OLDEST;
    return (uint32_t)(part[0] * 10000u + part[1] * 100u + part[2]);
}

const char *lt__sched_v2_lattice_of(const char *environment)
{
    return environment == NULL || environment[0] == '\0' ? "default" : environment;
}

/* What a host of version ver does not know, removed from one component's copy. */
static void cut_component(Wasmcloud__Runtime__V2__Component *c,
                          Wasmcloud__Runtime__V2__LocalResources *lr, uint32_t ver)
{
    if (ver < V2_CONCURRENCY)
        c->max_concurrency = 0;
    if (c->local_resources == NULL)
        return;
    *lr = *c->local_resources;
    if (ver < V2_IP_LOOKUPS) {
        lr->n_allowed_ip_name_lookups = 0;
        lr->allowed_ip_name_lookups = NULL;
    }
    if (ver < V2_LOOPBACK) {
        lr->n_allowed_host_loopback_ports = 0;
        lr->allowed_host_loopback_ports = NULL;
    }
    c->local_resources = lr;
}

lt_status lt__sched_v2_start_json(const Wasmcloud__Runtime__V2__Workload *tmpl,
                                  const Latticed__Host__V1__InstanceSpec *spec, uint32_t ver,
                                  char **out)
{
    Wasmcloud__Runtime__V2__WorkloadStartRequest req =
        WASMCLOUD__RUNTIME__V2__WORKLOAD_START_REQUEST__INIT;
    Wasmcloud__Runtime__V2__Workload w = *tmpl;
    Wasmcloud__Runtime__V2__WitWorld world = WASMCLOUD__RUNTIME__V2__WIT_WORLD__INIT;
    Wasmcloud__Runtime__V2__Workload__AnnotationsEntry ann[V2_MAX_ANNOTATIONS];
    Wasmcloud__Runtime__V2__Workload__AnnotationsEntry *annp[V2_MAX_ANNOTATIONS];
    Wasmcloud__Runtime__V2__Component *comps = NULL, **compp = NULL;
    Wasmcloud__Runtime__V2__LocalResources *lrs = NULL;
    const char *extra[3][2] = {
        { LT_SCHED_V2_ANN_COMPONENT, spec->component_name },
        { LT_SCHED_V2_ANN_COMPONENT_ID, spec->component_id },
        { LT_SCHED_V2_ANN_DIGEST, spec->spec_digest },
    };
    size_t i, n = 0, nc = 0;
    lt_status st = LT_OK;

    *out = NULL;
    for (i = 0; i < spec->n_annotations && n < V2_MAX_ANNOTATIONS - 3; i++) {
        ann[n] = (Wasmcloud__Runtime__V2__Workload__AnnotationsEntry)
            WASMCLOUD__RUNTIME__V2__WORKLOAD__ANNOTATIONS_ENTRY__INIT;
        ann[n].key = spec->annotations[i]->key;
        ann[n].value = spec->annotations[i]->value;
        annp[n] = &ann[n];
        n++;
    }
    for (i = 0; i < 3; i++) {
        if (extra[i][1] == NULL || extra[i][1][0] == '\0')
            continue;
        ann[n] = (Wasmcloud__Runtime__V2__Workload__AnnotationsEntry)
            WASMCLOUD__RUNTIME__V2__WORKLOAD__ANNOTATIONS_ENTRY__INIT;
        ann[n].key = (char *)extra[i][0];
        ann[n].value = (char *)extra[i][1];
        annp[n] = &ann[n];
        n++;
    }
    w.n_annotations = n;
    w.annotations = annp;
    if (tmpl->wit_world != NULL) {
        world = *tmpl->wit_world;
        nc = world.n_components;
        if (nc > 0) {
            comps = lt_calloc(nc, sizeof(*comps));
            compp = lt_calloc(nc, sizeof(*compp));
            lrs = lt_calloc(nc, sizeof(*lrs));
            if (comps == NULL || compp == NULL || lrs == NULL) {
                st = LT_FAIL(LT_ERR_NOMEM, "workload request");
                goto out;
            }
            for (i = 0; i < nc; i++) {
                comps[i] = *world.components[i];
                cut_component(&comps[i], &lrs[i], ver);
                compp[i] = &comps[i];
            }
            world.components = compp;
        }
        w.wit_world = &world;
    }
    req.workload = &w;
    req.workload_id = spec->instance_id;
    st = lt_pbjson_encode(&req.base, 0, out, NULL);
out:
    lt_free(comps);
    lt_free(compp);
    lt_free(lrs);
    return st;
}

const char *lt__sched_v2_ann(const Wasmcloud__Runtime__V2__Workload *w, const char *key)
{
    size_t i;

    for (i = 0; i < w->n_annotations; i++)
        if (w->annotations[i] != NULL && strcmp(w->annotations[i]->key, key) == 0)
            return w->annotations[i]->value;
    return "";
}
