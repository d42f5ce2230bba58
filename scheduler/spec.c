/*
 * spec.c - compile a validated lt_model into the scheduler's desired-state
 * form (lt_sched_spec): per component its scaler with spread shares, config,
 * secrets, resources, spec digest and prebuilt protobuf pieces for start
 * commands; per link its deterministic id, resolved source/target and digest.
 * Also wadm's spread maths, the deterministic ids and the cross-app deploy check.
 */
#include "sched_int.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"

/* ---------------------------------------------------------------------------------------------
 * Small string helpers
 * ------------------------------------------------------------------------------------------- */

char *sched_strdup0(const char *s)
{
    return lt_strdup(s != NULL ? s : "");
}

bool sched_streq(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

void sched_set_str(char **dst, const char *src)
{
    char *n;

    if (src != NULL && *dst != NULL && strcmp(*dst, src) == 0)
        return;
    n = src != NULL ? lt_strdup(src) : NULL;
    if (src != NULL && n == NULL)
        return; /* out of memory: keep the old text */
    lt_free(*dst);
    *dst = n;
}

/* ---------------------------------------------------------------------------------------------
 * skvs: sorted string maps
 * ------------------------------------------------------------------------------------------- */

void skvs_cleanup(skvs *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->count; i++) {
        lt_free(m->items[i].key);
        lt_free(m->items[i].value);
    }
    lt_free(m->items);
    m->items = NULL;
    m->count = 0;
}

lt_status skvs_set(skvs *m, const char *key, const char *value)
{
    size_t lo = 0, hi = m->count;
    char *k, *v;
    skv *ni;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(m->items[mid].key, key);

        if (c == 0) {
            v = lt_strdup(value);
            if (v == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "map value");
            lt_free(m->items[mid].value);
            m->items[mid].value = v;
            return LT_OK;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    k = lt_strdup(key);
    v = lt_strdup(value);
    ni = lt_realloc(m->items, (m->count + 1) * sizeof(*ni));
    if (k == NULL || v == NULL || ni == NULL) {
        lt_free(k);
        lt_free(v);
        if (ni != NULL)
            m->items = ni;
        return LT_FAIL(LT_ERR_NOMEM, "map entry");
    }
    m->items = ni;
    memmove(&ni[lo + 1], &ni[lo], (m->count - lo) * sizeof(*ni));
    ni[lo].key = k;
    ni[lo].value = v;
    m->count++;
    return LT_OK;
}

const char *skvs_get(const skvs *m, const char *key)
{
    size_t lo = 0, hi = m->count;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(m->items[mid].key, key);

        if (c == 0)
            return m->items[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool skvs_equal(const skvs *a, const skvs *b)
{
    size_t i;

    if (a->count != b->count)
        return false;
    for (i = 0; i < a->count; i++)
        if (strcmp(a->items[i].key, b->items[i].key) != 0 ||
            strcmp(a->items[i].value, b->items[i].value) != 0)
            return false;
    return true;
}

bool skvs_match(const skvs *labels, const skvs *req)
{
    size_t i = 0, j = 0;

    /* Both sorted: one merge walk. */
    while (j < req->count) {
        int c;

        if (i == labels->count)
            return false;
        c = strcmp(labels->items[i].key, req->items[j].key);
        if (c < 0) {
            i++;
            continue;
        }
        if (c > 0 || strcmp(labels->items[i].value, req->items[j].value) != 0)
            return false;
        i++;
        j++;
    }
    return true;
}

static void sha_skvs(sched_sha *h, const skvs *m)
{
    size_t i;

    for (i = 0; i < m->count; i++) {
        sched_sha_str(h, m->items[i].key);
        sched_sha_update(h, "=", 1);
        sched_sha_str(h, m->items[i].value);
        sched_sha_update(h, "\n", 1);
    }
    sched_sha_update(h, "\x1e", 1);
}

/* ---------------------------------------------------------------------------------------------
 * Spread maths and ids
 * ------------------------------------------------------------------------------------------- */

__extension__ typedef unsigned __int128 u128;

void lt_sched_spread_counts(uint64_t instances, const uint64_t *weights, size_t n,
                            uint64_t *counts)
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

/* tag + "-" + the first 32 hex digits of SHA-256 over parts[0] seps[0] parts[1] ... */
static void hash_id(char tag, const char *const *parts, const char *seps, size_t n, char *out)
{
    sched_sha h;

    sched_sha_init(&h);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sched_sha_update(&h, &seps[i - 1], 1);
        sched_sha_str(&h, parts[i]);
    }
    out[0] = tag;
    out[1] = '-';
    sched_sha_hex(&h, out + 2, 32);
}

void lt_sched_instance_id(const char *lattice, const char *app, const char *version,
                          const char *component, const char *ordinal, char *out)
{
    const char *parts[] = { lattice, app, version, component, ordinal };

    hash_id('i', parts, "////", 5, out);
}

void lt_sched_link_id(const char *lattice, const char *app, const char *source_id,
                      const char *ns, const char *pkg, const char *name, const char *target_id,
                      char *out)
{
    const char *parts[] = { lattice, app, source_id, ns, pkg, name, target_id };

    hash_id('l', parts, "///://", 7, out);
}

/* wadm's compute_component_id: lower(app) "-" lower(name), non-alphanumerics as '_'. */
static char *compute_id(const char *app, const char *name)
{
    size_t la = strlen(app), ln = strlen(name), i;
    char *out = lt_malloc(la + ln + 2);

    if (out == NULL)
        return NULL;
    for (i = 0; i < la + ln + 1; i++) {
        char c = i < la ? app[i] : i == la ? '-' : name[i - la - 1];

        if (i != la) {
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
                c = '_';
        }
        out[i] = c;
    }
    out[la + ln + 1] = '\0';
    return out;
}

/* ---------------------------------------------------------------------------------------------
 * Freeing
 * ------------------------------------------------------------------------------------------- */

static void free_secrets(Latticed__Host__V1__SecretRef *sec, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        lt_free(sec[i].name);
        lt_free(sec[i].backend);
        lt_free(sec[i].key);
        lt_free(sec[i].field);
        lt_free(sec[i].version);
    }
    lt_free(sec);
}

static void free_link(spec_link *l)
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
    free_secrets(l->ssec, l->n_ssec);
    lt_free(l->ssec_p);
    free_secrets(l->tsec, l->n_tsec);
    lt_free(l->tsec_p);
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
        skvs_cleanup(&c->spreads[i].req);
        lt_free(c->spreads[i].selector);
    }
    lt_free(c->spreads);
    for (i = 0; i < c->n_links; i++)
        free_link(&c->links[i]);
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
    free_secrets(c->sec, c->n_sec);
    lt_free(c->sec_p);
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
    lt_free(spec);
}

/* ---------------------------------------------------------------------------------------------
 * Compiling
 * ------------------------------------------------------------------------------------------- */

static const char *model_map_get(const lt_model_map *m, const char *key)
{
    size_t i;

    for (i = 0; i < m->count; i++)
        if (strcmp(m->items[i].key, key) == 0)
            return m->items[i].value;
    return NULL;
}

/* Merge the managed configs' values into out (later configs win); external names into ext. */
static lt_status merge_config(const lt_model_config *cfg, size_t n, skvs *out, lt_buf *ext)
{
    size_t i, j;
    lt_status st;

    for (i = 0; i < n; i++) {
        if (!cfg[i].has_properties) {
            if (ext != NULL) {
                st = ext->len > 0 ? lt_buf_appendc(ext, ',') : LT_OK;
                if (st == LT_OK)
                    st = lt_buf_appends(ext, cfg[i].name);
                if (st != LT_OK)
                    return st;
            }
            continue;
        }
        for (j = 0; j < cfg[i].properties.count; j++) {
            st = skvs_set(out, cfg[i].properties.items[j].key, cfg[i].properties.items[j].value);
            if (st != LT_OK)
                return st;
        }
    }
    return LT_OK;
}

static lt_status build_secrets(const lt_model *m, const lt_model_secret *sec, size_t n,
                               Latticed__Host__V1__SecretRef **out, Latticed__Host__V1__SecretRef ***outp,
                               size_t *nout)
{
    static const Latticed__Host__V1__SecretRef init = LATTICED__HOST__V1__SECRET_REF__INIT;
    Latticed__Host__V1__SecretRef *a;
    size_t i, j;

    *nout = 0;
    if (n == 0)
        return LT_OK;
    a = lt_calloc(n, sizeof(*a));
    *outp = lt_calloc(n, sizeof(**outp));
    *out = a;
    if (a == NULL || *outp == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "secrets");
    for (i = 0; i < n; i++) {
        const char *backend = "";

        for (j = 0; j < m->policy_count; j++)
            if (strcmp(m->policies[j].name, sec[i].policy) == 0) {
                const char *b = model_map_get(&m->policies[j].properties, "backend");

                backend = b != NULL ? b : "";
            }
        a[i] = init;
        a[i].name = sched_strdup0(sec[i].name);
        a[i].backend = sched_strdup0(backend);
        a[i].key = sched_strdup0(sec[i].key);
        a[i].field = sched_strdup0(sec[i].field);
        a[i].version = sched_strdup0(sec[i].version);
        *nout = i + 1;
        (*outp)[i] = &a[i];
        if (a[i].name == NULL || a[i].backend == NULL || a[i].key == NULL ||
            a[i].field == NULL || a[i].version == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "secret");
    }
    return LT_OK;
}

static void sha_secrets(sched_sha *h, const Latticed__Host__V1__SecretRef *sec, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        sched_sha_str(h, sec[i].name);
        sched_sha_update(h, "\x1f", 1);
        sched_sha_str(h, sec[i].backend);
        sched_sha_update(h, "\x1f", 1);
        sched_sha_str(h, sec[i].key);
        sched_sha_update(h, "\x1f", 1);
        sched_sha_str(h, sec[i].field);
        sched_sha_update(h, "\x1f", 1);
        sched_sha_str(h, sec[i].version);
        sched_sha_update(h, "\n", 1);
    }
    sched_sha_update(h, "\x1e", 1);
}

/* Move a skvs into protobuf-c map entries (all entry types are {base, key, value}); init is
 * the entry type's initialiser object. Sets st on failure. */
#define BUILD_ENTRIES(kvs, init, arr, parr, nout, st)                        \
    do {                                                                     \
        size_t i_;                                                           \
        (nout) = 0;                                                          \
        if ((st) != LT_OK || (kvs)->count == 0)                              \
            break;                                                           \
        (arr) = lt_calloc((kvs)->count, sizeof(*(arr)));                     \
        (parr) = lt_calloc((kvs)->count, sizeof(*(parr)));                   \
        if ((arr) == NULL || (parr) == NULL) {                               \
            (st) = LT_FAIL(LT_ERR_NOMEM, "map entries");                     \
            break;                                                           \
        }                                                                    \
        for (i_ = 0; i_ < (kvs)->count; i_++) {                              \
            (arr)[i_] = (init);                                              \
            (arr)[i_].key = (kvs)->items[i_].key;                            \
            (arr)[i_].value = (kvs)->items[i_].value;                        \
            (kvs)->items[i_].key = NULL; /* moved */                         \
            (kvs)->items[i_].value = NULL;                                   \
            (parr)[i_] = &(arr)[i_];                                         \
            (nout) = i_ + 1;                                                 \
        }                                                                    \
    } while (0)

static const lt_model_component *find_model_comp(const lt_model *m, const char *name)
{
    size_t i;

    for (i = 0; i < m->component_count; i++)
        if (strcmp(m->components[i].name, name) == 0)
            return &m->components[i];
    return NULL;
}

static lt_status compile_link(const lt_model *m, const lt_model_component *src,
                              const lt_model_link *ml, spec_link *l)
{
    const lt_model_component *tc = NULL;
    skvs scfg = { 0 }, tcfg = { 0 };
    sched_sha h;
    lt_status st = LT_OK;
    size_t i;

    l->name = sched_strdup0(ml->name);
    l->ns = sched_strdup0(ml->wit_namespace);
    l->pkg = sched_strdup0(ml->wit_package);
    l->app = sched_strdup0(m->name);
    l->source_app = sched_strdup0(src->shared_app != NULL ? src->shared_app : m->name);
    l->source_comp = sched_strdup0(src->shared_app != NULL ? src->shared_component : src->name);
    l->source_id = sched_strdup0(src->id);
    if (ml->target != NULL && ml->target[0] != '\0')
        tc = find_model_comp(m, ml->target);
    if (tc != NULL) {
        l->target_app = sched_strdup0(tc->shared_app != NULL ? tc->shared_app : m->name);
        l->target_comp = sched_strdup0(tc->shared_app != NULL ? tc->shared_component : tc->name);
        l->target_id = sched_strdup0(tc->id);
    } else {
        l->target_app = sched_strdup0(m->name);
        l->target_comp = sched_strdup0("");
        l->target_id = compute_id(m->name, ml->target != NULL ? ml->target : "");
    }
    l->colocate = ml->colocate == LT_MODEL_COLOCATE_UNSET ? LT_MODEL_COLOCATE_PREFERRED
                                                           : ml->colocate;
    if (l->name == NULL || l->ns == NULL || l->pkg == NULL || l->app == NULL ||
        l->source_app == NULL || l->source_comp == NULL || l->source_id == NULL ||
        l->target_app == NULL || l->target_comp == NULL || l->target_id == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "link");
    if (ml->interface_count > 0) {
        l->ifaces = lt_calloc(ml->interface_count, sizeof(char *));
        if (l->ifaces == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "link interfaces");
        for (i = 0; i < ml->interface_count; i++) {
            l->ifaces[i] = sched_strdup0(ml->interfaces[i]);
            if (l->ifaces[i] == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "link interface");
            l->n_ifaces = i + 1;
        }
    }
    st = merge_config(ml->source_config, ml->source_config_count, &scfg, NULL);
    if (st == LT_OK)
        st = merge_config(ml->target_config, ml->target_config_count, &tcfg, NULL);
    if (st == LT_OK)
        st = build_secrets(m, ml->source_secrets, ml->source_secret_count, &l->ssec, &l->ssec_p,
                           &l->n_ssec);
    if (st == LT_OK)
        st = build_secrets(m, ml->target_secrets, ml->target_secret_count, &l->tsec, &l->tsec_p,
                           &l->n_tsec);
    if (st != LT_OK)
        goto out;
    /* Content digest: everything the host sees except per-instance fields. */
    sched_sha_init(&h);
    sched_sha_str(&h, l->name);
    sched_sha_update(&h, "\x1f", 1);
    sched_sha_str(&h, l->ns);
    sched_sha_update(&h, "\x1f", 1);
    sched_sha_str(&h, l->pkg);
    sched_sha_update(&h, "\x1f", 1);
    for (i = 0; i < l->n_ifaces; i++) {
        sched_sha_str(&h, l->ifaces[i]);
        sched_sha_update(&h, ",", 1);
    }
    sched_sha_str(&h, l->target_id);
    sched_sha_update(&h, "\x1f", 1);
    sha_skvs(&h, &scfg);
    sha_skvs(&h, &tcfg);
    sha_secrets(&h, l->ssec, l->n_ssec);
    sha_secrets(&h, l->tsec, l->n_tsec);
    sched_sha_hex(&h, l->digest, 32);
    {
        static const Latticed__Host__V1__LinkSpec__SourceConfigEntry si =
            LATTICED__HOST__V1__LINK_SPEC__SOURCE_CONFIG_ENTRY__INIT;
        static const Latticed__Host__V1__LinkSpec__TargetConfigEntry ti =
            LATTICED__HOST__V1__LINK_SPEC__TARGET_CONFIG_ENTRY__INIT;

        BUILD_ENTRIES(&scfg, si, l->scfg, l->scfg_p, l->n_scfg, st);
        BUILD_ENTRIES(&tcfg, ti, l->tcfg, l->tcfg_p, l->n_tcfg, st);
    }
out:
    skvs_cleanup(&scfg);
    skvs_cleanup(&tcfg);
    return st;
}

static const lt_model_trait *scaler_trait(const lt_model_component *c)
{
    size_t i;

    for (i = 0; i < c->trait_count; i++)
        if (c->traits[i].kind == LT_MODEL_TRAIT_SPREADSCALER ||
            c->traits[i].kind == LT_MODEL_TRAIT_DAEMONSCALER)
            return &c->traits[i];
    return NULL;
}

static lt_status compile_spreads(const lt_model_scaler *sc, spec_comp *c)
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

        sp->name = sched_strdup0(ms != NULL ? ms->name : "default");
        sp->weight = ms != NULL ? ms->weight : LT_MODEL_DEFAULT_WEIGHT;
        if (sp->name == NULL) {
            st = LT_FAIL(LT_ERR_NOMEM, "spread");
            goto out;
        }
        for (j = 0; ms != NULL && j < ms->requirements.count; j++) {
            st = skvs_set(&sp->req, ms->requirements.items[j].key,
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

static lt_status add_ann(skvs *ann, const char *k, const char *v)
{
    return skvs_set(ann, k, v != NULL ? v : "");
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
    c->name = sched_strdup0(mc->name);
    c->id = sched_strdup0(mc->id);
    c->image = mc->image != NULL ? lt_strdup(mc->image) : NULL;
    c->capability = mc->kind == LT_MODEL_CAPABILITY;
    c->explicit_id = mc->explicit_id != NULL;
    c->shared_app = mc->shared_app != NULL ? lt_strdup(mc->shared_app) : NULL;
    c->shared_comp = mc->shared_app != NULL ? sched_strdup0(mc->shared_component) : NULL;
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
            st = compile_spreads(tr != NULL ? &tr->scaler : NULL, c);
            if (st != LT_OK)
                goto out;
        }
    }
    st = merge_config(mc->config, mc->config_count, &cfg, &ext);
    if (st == LT_OK)
        st = build_secrets(m, mc->secrets, mc->secret_count, &c->sec, &c->sec_p, &c->n_sec);
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
    sched_sha_init(&h);
    sched_sha_str(&h, c->id);
    sched_sha_update(&h, "\x1f", 1);
    sched_sha_str(&h, c->image);
    sched_sha_update(&h, "\x1f", 1);
    sched_sha_str(&h, c->capability ? "capability" : "component");
    sched_sha_update(&h, "\x1f", 1);
    sha_skvs(&h, &cfg);
    sched_sha_str(&h, ext.ptr);
    sched_sha_update(&h, "\x1f", 1);
    sha_secrets(&h, c->sec, c->n_sec);
    {
        char num[64];

        snprintf(num, sizeof(num), "%llu/%llu", (unsigned long long)c->mem,
                 (unsigned long long)c->cpu);
        sched_sha_str(&h, num);
    }
    sched_sha_hex(&h, c->digest, 32);
    /* wadm's scaler id: SHA-256 of kind, app, name, id, image and config names. */
    sched_sha_init(&h);
    sched_sha_str(&h, c->scaler == SCALER_DAEMON ? "DaemonScaler" : "SpreadScaler");
    sched_sha_str(&h, m->name);
    sched_sha_str(&h, c->name);
    sched_sha_str(&h, c->id);
    sched_sha_str(&h, c->image);
    for (i = 0; i < mc->config_count; i++)
        sched_sha_str(&h, mc->config[i].name);
    sched_sha_hex(&h, c->scaler_id, 64);
    BUILD_ENTRIES(&cfg, ci, c->cfg, c->cfg_p, c->n_cfg, st);
    BUILD_ENTRIES(&ann, ai, c->ann, c->ann_p, c->n_ann, st);
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

                st = compile_link(m, mc, &mc->traits[i].link, l);
                if (st == LT_OK)
                    lt_sched_link_id(lattice, m->name, l->source_id, l->ns, l->pkg, l->name,
                                     l->target_id, l->link_id);
            }
    }
out:
    skvs_cleanup(&cfg);
    skvs_cleanup(&ann);
    lt_buf_cleanup(&ext);
    return st;
}

const spec_comp *spec_find(const lt_sched_spec *spec, const char *name)
{
    size_t i;

    for (i = 0; i < spec->n_comps; i++)
        if (strcmp(spec->comps[i].name, name) == 0)
            return &spec->comps[i];
    return NULL;
}

uint64_t spec_max_unavailable(const lt_sched_spec *spec, uint64_t n)
{
    uint64_t pct = 25, u;

    if (spec->rollout.set && !spec->rollout.percent)
        return spec->rollout.max_unavailable;
    if (spec->rollout.set)
        pct = spec->rollout.max_unavailable;
    u = n * pct / 100;
    if (u == 0 && pct != 0)
        u = 1;
    return u;
}

static void order_comps(lt_sched_spec *spec)
{
    size_t i, j, k = 0;

    for (i = 0; i < spec->n_comps; i++)
        for (j = 0; j < spec->comps[i].n_links; j++) {
            const spec_comp *t;

            if (strcmp(spec->comps[i].links[j].target_app, spec->app) != 0)
                continue;
            t = spec_find(spec, spec->comps[i].links[j].target_comp);
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
    spec->version = sched_strdup0(m->version);
    spec->description = sched_strdup0(m->description);
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
    order_comps(spec);
    for (i = 0; i < spec->n_comps; i++)
        spec->has_daemon |= spec->comps[i].scaler == SCALER_DAEMON;
    sched_sha_init(&h);
    for (i = 0; i < spec->n_comps; i++) {
        const spec_comp *c = &spec->comps[i];
        char num[64];

        sched_sha_str(&h, c->name);
        sched_sha_str(&h, c->digest);
        snprintf(num, sizeof(num), "/%d/%llu/", (int)c->scaler, (unsigned long long)c->instances);
        sched_sha_str(&h, num);
        for (j = 0; j < c->n_spreads; j++) {
            snprintf(num, sizeof(num), "/%llu/", (unsigned long long)c->spreads[j].weight);
            sched_sha_str(&h, c->spreads[j].name);
            sched_sha_str(&h, c->spreads[j].selector);
            sched_sha_str(&h, num);
        }
        for (j = 0; j < c->n_links; j++) {
            sched_sha_str(&h, c->links[j].link_id);
            sched_sha_str(&h, c->links[j].digest);
            snprintf(num, sizeof(num), "/%d/", (int)c->links[j].colocate);
            sched_sha_str(&h, num);
        }
    }
    {
        char num[64];

        snprintf(num, sizeof(num), "r%d/%d/%u", spec->rollout.set, spec->rollout.percent,
                 spec->rollout.max_unavailable);
        sched_sha_str(&h, num);
    }
    sched_sha_hex(&h, spec->digest, 32);
out:
    if (st != LT_OK) {
        lt_sched_spec_free(spec);
        return st;
    }
    *new_spec = spec;
    return LT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The deploy check: model/deploy_check.c's rules, answered from the other apps' specs
 * ------------------------------------------------------------------------------------------- */

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
        t = spec_find(o, component);
        *ok = t != NULL && t->shared_app == NULL &&
              t->capability == (kind == LT_MODEL_CAPABILITY);
        return LT_OK;
    }
    return LT_OK;
}

lt_status lt_sched_spec_check(const lt_sched_spec *spec, const lt_sched_spec *const *others,
                              size_t n_others, lt_buf *why)
{
    spec_env e = { .spec = spec, .others = others, .n = n_others };
    lt_model_deploy_env env = { .ctx = &e, .id_owner = spec_id_owner,
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
