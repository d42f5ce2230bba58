/*
 * spec_v2.c - compile an app for a wasmCloud v2 lattice (docs/internals/scheduler.md,
 * "wasmCloud v2 mode"). Components joined by component-to-component links form one group,
 * run as one workload: its lead (the member with the most instances) is placed, the others
 * ride along. Capability components are not placed: each link to one becomes a host interface
 * of the group at the component end. Each lead gets the workload template, the exports a host
 * needs to run it, its members' summed resources and a digest over the whole template. Links
 * are dropped (v2 hosts have no link API); links to shared components fail the app.
 */
#include "sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"

static void *pb_alloc(void *data, size_t size)
{
    (void)data;
    return lt_malloc(size);
}

static void pb_free(void *data, void *p)
{
    (void)data;
    lt_free(p);
}

static ProtobufCAllocator pb_allocator = { pb_alloc, pb_free, NULL };

/** A host interface of one group being collected: (lead, ns, pkg, name) is its key. */
typedef struct {
    size_t lead;
    const char *ns, *pkg, *name; /* borrowed from the spec's links */
    skvs ifaces;                 /* a set: the values are empty */
    skvs cfg;
} hiface;

typedef struct {
    lt_sched_spec *spec;
    size_t *up; /* union-find parents */
    hiface **hs;
    size_t n_hs, cap_hs;
} v2_ctx;

static bool member(const spec_comp *c)
{
    return !c->capability && c->shared_app == NULL && c->image != NULL;
}

static bool provider(const spec_comp *c)
{
    return c->capability && c->shared_app == NULL && c->image != NULL;
}

static size_t root(size_t *up, size_t i)
{
    while (up[i] != i)
        i = up[i] = up[up[i]];
    return i;
}

/* The built-in interfaces a wasmCloud host never lists among its exports. */
static bool builtin(const char *ns, const char *pkg)
{
    static const char *const pkgs[] = { "http",   "cli",        "io",     "clocks",
                                        "random", "filesystem", "sockets" };
    size_t i;

    if (strcmp(ns, "wasi") != 0)
        return false;
    for (i = 0; i < sizeof(pkgs) / sizeof(pkgs[0]); i++)
        if (strcmp(pkg, pkgs[i]) == 0)
            return true;
    return false;
}

static lt_status add_entries(skvs *m, void *const *ev, size_t n)
{
    pb_kv_entry *const *e = (pb_kv_entry *const *)ev;
    lt_status st = LT_OK;
    size_t i;

    for (i = 0; i < n && st == LT_OK; i++)
        st = lt__sched_skvs_set(m, e[i]->key, e[i]->value);
    return st;
}

/* Append name to the ", "-separated list in b unless it is there already. */
static lt_status add_name(lt_buf *b, const char *name)
{
    size_t len = strlen(name);
    const char *p = b->len > 0 ? b->ptr : NULL;

    while (p != NULL) {
        const char *e = strstr(p, ", ");
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

        if (n == len && memcmp(p, name, len) == 0)
            return LT_OK;
        p = e != NULL ? e + 2 : NULL;
    }
    if (b->len > 0)
        LT_IGNORE(lt_buf_appends(b, ", "));
    return lt_buf_appends(b, name);
}

/* The manifest name of the shared reference a link targets. */
static const char *shared_target_name(const lt_sched_spec *spec, const spec_link *l)
{
    size_t i;

    for (i = 0; i < spec->n_comps; i++)
        if (spec->comps[i].shared_app != NULL && strcmp(spec->comps[i].id, l->target_id) == 0)
            return spec->comps[i].name;
    return l->target_comp;
}

static lt_status add_user(spec_comp *cap, size_t lead)
{
    size_t i, *n;

    for (i = 0; i < cap->n_users; i++)
        if (cap->users[i] == lead)
            return LT_OK;
    n = lt_realloc(cap->users, (cap->n_users + 1) * sizeof(*n));
    if (n == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "users");
    cap->users = n;
    cap->users[cap->n_users++] = lead;
    return LT_OK;
}

/* Link l between component comp and capability cap: a host interface of comp's group. */
static lt_status add_hiface(v2_ctx *x, size_t comp, size_t cap, const spec_link *l)
{
    spec_comp *cc = &x->spec->comps[cap];
    size_t lead = x->spec->comps[comp].lead, i;
    const char *name = strcmp(l->name, "default") == 0 ? "" : l->name;
    hiface *h = NULL;
    lt_status st;

    for (i = 0; i < x->n_hs && h == NULL; i++)
        if (x->hs[i]->lead == lead && strcmp(x->hs[i]->ns, l->ns) == 0 &&
            strcmp(x->hs[i]->pkg, l->pkg) == 0 && strcmp(x->hs[i]->name, name) == 0)
            h = x->hs[i];
    if (h == NULL) {
        if (x->n_hs == x->cap_hs) {
            size_t nc = x->cap_hs ? 2 * x->cap_hs : 8;
            hiface **n = lt_realloc(x->hs, nc * sizeof(*n));

            if (n == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "host interfaces");
            x->hs = n;
            x->cap_hs = nc;
        }
        h = lt_calloc(1, sizeof(*h));
        if (h == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "host interface");
        h->lead = lead;
        h->ns = l->ns;
        h->pkg = l->pkg;
        h->name = name;
        x->hs[x->n_hs++] = h;
    }
    st = add_user(cc, lead);
    for (i = 0; i < l->n_ifaces && st == LT_OK; i++)
        st = lt__sched_skvs_set(&h->ifaces, l->ifaces[i], "");
    /* config: the capability's own, then the link's source config, then its target config */
    if (st == LT_OK)
        st = add_entries(&h->cfg, (void *const *)cc->cfg_p, cc->n_cfg);
    if (st == LT_OK)
        st = add_entries(&h->cfg, (void *const *)l->scfg_p, l->n_scfg);
    if (st == LT_OK)
        st = add_entries(&h->cfg, (void *const *)l->tcfg_p, l->n_tcfg);
    return st;
}

static int hiface_cmp(const void *pa, const void *pb)
{
    const hiface *a = *(hiface *const *)pa, *b = *(hiface *const *)pb;
    int c;

    if (a->lead != b->lead)
        return a->lead < b->lead ? -1 : 1;
    if ((c = strcmp(a->ns, b->ns)) != 0)
        return c;
    if ((c = strcmp(a->pkg, b->pkg)) != 0)
        return c;
    return strcmp(a->name, b->name);
}

static int str_cmp(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

/* Groups, leads and riders (union of the component-to-component links); v2_error for links
 * to or from shared components. */
static lt_status group(v2_ctx *x)
{
    lt_sched_spec *spec = x->spec;
    size_t i, j, n = spec->n_comps, *best;
    lt_buf bad;
    lt_status st = LT_OK;

    lt_buf_init(&bad, 1u << 16);
    for (i = 0; i < n; i++)
        x->up[i] = i;
    for (i = 0; i < n && st == LT_OK; i++) {
        const spec_comp *c = &spec->comps[i];

        for (j = 0; j < c->n_links && st == LT_OK; j++) {
            const spec_link *l = &c->links[j];
            const spec_comp *t;

            if (c->shared_app != NULL) {
                st = add_name(&bad, c->name);
                continue;
            }
            if (strcmp(l->target_app, spec->app) != 0) {
                st = add_name(&bad, shared_target_name(spec, l));
                continue;
            }
            t = lt__sched_spec_find(spec, l->target_comp);
            if (t != NULL && member(c) && member(t))
                x->up[root(x->up, i)] = root(x->up, (size_t)(t - spec->comps));
        }
    }
    if (st == LT_OK && bad.len > 0) {
        lt_buf msg;

        lt_buf_init(&msg, 1u << 17);
        LT_IGNORE(lt_buf_appends(
            &msg, "links to shared components are not supported on wasmcloud-v2 lattices: "));
        st = lt_buf_appends(&msg, bad.ptr);
        if (st == LT_OK && (spec->v2_error = lt_buf_take(&msg)) == NULL)
            st = LT_FAIL(LT_ERR_NOMEM, "v2 error");
        lt_buf_cleanup(&msg);
    }
    lt_buf_cleanup(&bad);
    if (st != LT_OK)
        return st;
    best = lt_malloc((n + 1) * sizeof(*best));
    if (best == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "groups");
    for (i = 0; i < n; i++)
        best[i] = SIZE_MAX;
    for (i = 0; i < n; i++) {
        size_t r = root(x->up, i);

        if (member(&spec->comps[i]) &&
            (best[r] == SIZE_MAX || spec->comps[i].instances > spec->comps[best[r]].instances))
            best[r] = i; /* the most instances; ties: the first in manifest order */
    }
    for (i = 0; i < n; i++) {
        spec_comp *c = &spec->comps[i];

        if (member(c)) {
            c->lead = best[root(x->up, i)];
            c->role = c->lead == i ? V2_LEAD : V2_RIDER;
        } else if (provider(c)) {
            c->role = V2_CAPABILITY;
        }
    }
    lt_free(best);
    return LT_OK;
}

/* Every link with one capability end: a host interface of the other end's group. */
static lt_status collect_hifaces(v2_ctx *x)
{
    lt_sched_spec *spec = x->spec;
    size_t i, j;
    lt_status st = LT_OK;

    for (i = 0; i < spec->n_comps && st == LT_OK; i++) {
        const spec_comp *c = &spec->comps[i];

        for (j = 0; j < c->n_links && st == LT_OK; j++) {
            const spec_link *l = &c->links[j];
            const spec_comp *t;
            size_t ti;

            if (c->shared_app != NULL || strcmp(l->target_app, spec->app) != 0 ||
                (t = lt__sched_spec_find(spec, l->target_comp)) == NULL)
                continue;
            ti = (size_t)(t - spec->comps);
            if (member(c) && provider(t))
                st = add_hiface(x, i, ti, l);
            else if (provider(c) && member(t))
                st = add_hiface(x, ti, i, l);
        }
    }
    if (x->n_hs > 1)
        qsort(x->hs, x->n_hs, sizeof(*x->hs), hiface_cmp);
    return st;
}

/* Temporaries of one template: borrowed strings, owned arrays. */
typedef struct {
    Wasmcloud__Runtime__V2__Component *comp, **comp_p;
    Wasmcloud__Runtime__V2__LocalResources *lr;
    Wasmcloud__Runtime__V2__LocalResources__ConfigEntry **lcfg; /* per member */
    Wasmcloud__Runtime__V2__WitInterface *wi, **wi_p;
    Wasmcloud__Runtime__V2__WitInterface__ConfigEntry **wcfg; /* per host interface */
    char ***wif;                                              /* per host interface */
    size_t n_comp, n_wi;
} tmpl;

static void tmpl_cleanup(tmpl *t)
{
    size_t i;

    for (i = 0; i < t->n_comp; i++)
        lt_free(t->lcfg != NULL ? t->lcfg[i] : NULL);
    for (i = 0; i < t->n_wi; i++) {
        lt_free(t->wcfg != NULL ? t->wcfg[i] : NULL);
        lt_free(t->wif != NULL ? t->wif[i] : NULL);
    }
    lt_free(t->comp);
    lt_free(t->comp_p);
    lt_free(t->lr);
    lt_free(t->lcfg);
    lt_free(t->wi);
    lt_free(t->wi_p);
    lt_free(t->wcfg);
    lt_free(t->wif);
}

static lt_status fill_members(const lt_sched_spec *spec, size_t lead, tmpl *t, size_t n)
{
    static const Wasmcloud__Runtime__V2__Component ci = WASMCLOUD__RUNTIME__V2__COMPONENT__INIT;
    static const Wasmcloud__Runtime__V2__LocalResources li =
        WASMCLOUD__RUNTIME__V2__LOCAL_RESOURCES__INIT;
    static const Wasmcloud__Runtime__V2__LocalResources__ConfigEntry ei =
        WASMCLOUD__RUNTIME__V2__LOCAL_RESOURCES__CONFIG_ENTRY__INIT;
    size_t i, k, m = 0;

    t->comp = lt_calloc(n + 1, sizeof(*t->comp));
    t->comp_p = lt_calloc(n + 1, sizeof(*t->comp_p));
    t->lr = lt_calloc(n + 1, sizeof(*t->lr));
    t->lcfg = lt_calloc(n + 1, sizeof(*t->lcfg));
    if (t->comp == NULL || t->comp_p == NULL || t->lr == NULL || t->lcfg == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "template");
    for (i = 0; i < spec->n_comps; i++) {
        const spec_comp *c = &spec->comps[i];

        if (c->role != V2_LEAD && c->role != V2_RIDER)
            continue;
        if (c->lead != lead)
            continue;
        t->n_comp = m + 1;
        t->comp[m] = ci;
        t->comp[m].image = c->image;
        t->comp[m].name = c->name;
        t->lr[m] = li; /* always set, even when empty (as the operator does) */
        t->comp[m].local_resources = &t->lr[m];
        if (c->n_cfg > 0) {
            t->lcfg[m] = lt_calloc(c->n_cfg, sizeof(**t->lcfg) + sizeof(void *));
            if (t->lcfg[m] == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "template config");
            t->lr[m].n_config = c->n_cfg;
            t->lr[m].config =
                (Wasmcloud__Runtime__V2__LocalResources__ConfigEntry **)(void *)(t->lcfg[m] +
                                                                                 c->n_cfg);
            for (k = 0; k < c->n_cfg; k++) {
                t->lcfg[m][k] = ei;
                t->lcfg[m][k].key = c->cfg[k].key;
                t->lcfg[m][k].value = c->cfg[k].value;
                t->lr[m].config[k] = &t->lcfg[m][k];
            }
        }
        t->comp_p[m] = &t->comp[m];
        m++;
    }
    return LT_OK;
}

static lt_status fill_hifaces(v2_ctx *x, size_t lead, tmpl *t)
{
    static const Wasmcloud__Runtime__V2__WitInterface wi =
        WASMCLOUD__RUNTIME__V2__WIT_INTERFACE__INIT;
    static const Wasmcloud__Runtime__V2__WitInterface__ConfigEntry ei =
        WASMCLOUD__RUNTIME__V2__WIT_INTERFACE__CONFIG_ENTRY__INIT;
    size_t i, k, m = 0;

    t->wi = lt_calloc(x->n_hs + 1, sizeof(*t->wi));
    t->wi_p = lt_calloc(x->n_hs + 1, sizeof(*t->wi_p));
    t->wcfg = lt_calloc(x->n_hs + 1, sizeof(*t->wcfg));
    t->wif = lt_calloc(x->n_hs + 1, sizeof(*t->wif));
    if (t->wi == NULL || t->wi_p == NULL || t->wcfg == NULL || t->wif == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "template");
    for (i = 0; i < x->n_hs; i++) {
        const hiface *h = x->hs[i];
        Wasmcloud__Runtime__V2__WitInterface *w = &t->wi[m];

        if (h->lead != lead)
            continue;
        t->n_wi = m + 1;
        *w = wi;
        w->namespace_ = (char *)h->ns;
        w->package = (char *)h->pkg;
        w->name = (char *)h->name;
        if (h->ifaces.count > 0) {
            t->wif[m] = lt_calloc(h->ifaces.count, sizeof(char *));
            if (t->wif[m] == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "template interfaces");
            for (k = 0; k < h->ifaces.count; k++)
                t->wif[m][k] = h->ifaces.items[k].key;
            w->n_interfaces = h->ifaces.count;
            w->interfaces = t->wif[m];
        }
        if (h->cfg.count > 0) {
            t->wcfg[m] = lt_calloc(h->cfg.count, sizeof(**t->wcfg) + sizeof(void *));
            if (t->wcfg[m] == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "template config");
            w->n_config = h->cfg.count;
            w->config =
                (Wasmcloud__Runtime__V2__WitInterface__ConfigEntry **)(void *)(t->wcfg[m] +
                                                                               h->cfg.count);
            for (k = 0; k < h->cfg.count; k++) {
                t->wcfg[m][k] = ei;
                t->wcfg[m][k].key = h->cfg.items[k].key;
                t->wcfg[m][k].value = h->cfg.items[k].value;
                w->config[k] = &t->wcfg[m][k];
            }
        }
        t->wi_p[m] = w;
        m++;
    }
    return LT_OK;
}

/* The exports a host needs for lead's host interfaces: sorted, unique, built-ins left out. */
static lt_status fill_exports(v2_ctx *x, size_t lead, spec_comp *c)
{
    size_t i, k, n = 0, w = 0;
    char buf[1024];

    for (i = 0; i < x->n_hs; i++)
        if (x->hs[i]->lead == lead && !builtin(x->hs[i]->ns, x->hs[i]->pkg))
            n += x->hs[i]->ifaces.count;
    if (n == 0)
        return LT_OK;
    c->exports = lt_calloc(n, sizeof(char *));
    if (c->exports == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "exports");
    for (i = 0; i < x->n_hs; i++) {
        const hiface *h = x->hs[i];

        if (h->lead != lead || builtin(h->ns, h->pkg))
            continue;
        for (k = 0; k < h->ifaces.count; k++) {
            snprintf(buf, sizeof(buf), "%s:%s/%s", h->ns, h->pkg, h->ifaces.items[k].key);
            if ((c->exports[c->n_exports] = lt_strdup(buf)) == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "exports");
            c->n_exports++;
        }
    }
    qsort(c->exports, c->n_exports, sizeof(char *), str_cmp);
    for (i = 0; i < c->n_exports; i++) { /* one name of several host interfaces: once */
        if (w > 0 && strcmp(c->exports[w - 1], c->exports[i]) == 0)
            lt_free(c->exports[i]);
        else
            c->exports[w++] = c->exports[i];
    }
    c->n_exports = w;
    return LT_OK;
}

/* The template, resources, exports and digest of lead. */
static lt_status build_lead(v2_ctx *x, size_t lead)
{
    static const Wasmcloud__Runtime__V2__Workload wi = WASMCLOUD__RUNTIME__V2__WORKLOAD__INIT;
    static const Wasmcloud__Runtime__V2__WitWorld ww = WASMCLOUD__RUNTIME__V2__WIT_WORLD__INIT;
    lt_sched_spec *spec = x->spec;
    spec_comp *c = &spec->comps[lead];
    Wasmcloud__Runtime__V2__Workload w = wi;
    Wasmcloud__Runtime__V2__WitWorld world = ww;
    tmpl t = { 0 };
    uint8_t *packed = NULL;
    size_t len, i, n = 0;
    uint64_t mem = 0, cpu = 0;
    sched_sha h;
    lt_status st;
    char buf[1024];

    for (i = 0; i < spec->n_comps; i++)
        n += (spec->comps[i].role == V2_LEAD || spec->comps[i].role == V2_RIDER) &&
             spec->comps[i].lead == lead;
    snprintf(buf, sizeof(buf), "%s-%s", spec->app, c->name);
    c->wl_name = lt_strdup(buf);
    if (c->wl_name == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "workload name");
    st = fill_members(spec, lead, &t, n);
    if (st == LT_OK)
        st = fill_hifaces(x, lead, &t);
    if (st == LT_OK)
        st = fill_exports(x, lead, c);
    if (st != LT_OK)
        goto out;
    w.namespace_ = spec->lattice;
    w.name = c->wl_name;
    w.wit_world = &world;
    world.n_components = t.n_comp;
    world.components = t.comp_p;
    world.n_host_interfaces = t.n_wi;
    world.host_interfaces = t.wi_p;
    len = wasmcloud__runtime__v2__workload__get_packed_size(&w);
    packed = lt_malloc(len + 1);
    if (packed == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "template");
        goto out;
    }
    wasmcloud__runtime__v2__workload__pack(&w, packed);
    c->wl = wasmcloud__runtime__v2__workload__unpack(&pb_allocator, len, packed);
    if (c->wl == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "template");
        goto out;
    }
    /* The digest covers the whole template and every member's own digest (secrets, resources). */
    lt__sched_sha_init(&h);
    lt__sched_sha_str(&h, c->digest);
    lt__sched_sha_update(&h, "\x1f", 1);
    lt__sched_sha_update(&h, packed, len);
    for (i = 0; i < spec->n_comps; i++) {
        const spec_comp *m = &spec->comps[i];

        if ((m->role != V2_LEAD && m->role != V2_RIDER) || m->lead != lead)
            continue;
        lt__sched_sha_update(&h, "\x1f", 1);
        lt__sched_sha_str(&h, m->digest);
        mem += m->mem;
        cpu += m->cpu;
    }
    lt__sched_sha_hex(&h, c->digest, 32);
    c->mem = mem;
    c->cpu = cpu;
    c->res.memory_bytes = mem;
    c->res.cpu_millis = (uint32_t)cpu;
out:
    lt_free(packed);
    tmpl_cleanup(&t);
    return st;
}

lt_status lt__sched_spec_v2(lt_sched_spec *spec)
{
    v2_ctx x = { .spec = spec };
    size_t i, j;
    lt_status st = LT_OK;

    if (spec->n_comps == 0)
        return LT_OK;
    x.up = lt_calloc(spec->n_comps, sizeof(*x.up));
    if (x.up == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "groups");
    st = group(&x);
    if (st == LT_OK)
        st = collect_hifaces(&x);
    for (i = 0; i < spec->n_comps && st == LT_OK; i++)
        if (spec->comps[i].role == V2_LEAD)
            st = build_lead(&x, i);
    for (i = 0; i < spec->n_comps; i++) { /* nothing link-related reaches a v2 host */
        spec_comp *c = &spec->comps[i];

        for (j = 0; j < c->n_links; j++)
            lt__sched_free_link(&c->links[j]);
        lt_free(c->links);
        c->links = NULL;
        c->n_links = 0;
    }
    for (i = 0; i < x.n_hs; i++) {
        lt__sched_skvs_cleanup(&x.hs[i]->ifaces);
        lt__sched_skvs_cleanup(&x.hs[i]->cfg);
        lt_free(x.hs[i]);
    }
    lt_free(x.hs);
    lt_free(x.up);
    return st;
}

void lt__sched_spec_v2_free_comp(spec_comp *c)
{
    size_t i;

    if (c->wl != NULL)
        wasmcloud__runtime__v2__workload__free_unpacked(c->wl, &pb_allocator);
    c->wl = NULL;
    lt_free(c->wl_name);
    for (i = 0; i < c->n_exports; i++)
        lt_free(c->exports[i]);
    lt_free(c->exports);
    lt_free(c->users);
}
