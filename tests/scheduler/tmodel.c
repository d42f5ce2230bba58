/*
 * tmodel.c - test-only lt_model builder (see tmodel.h). Arrays have fixed
 * capacities so pointers handed out stay valid; strings are copied into a
 * per-model list freed by tm_free.
 */
#include "tmodel.h"

#include <stdlib.h>
#include <string.h>

#define CAP 32

typedef struct {
    lt_model m;
    lt_model_component comps[CAP];
    lt_model_trait traits[CAP][CAP];
    lt_model_spread spreads[CAP][CAP];
    lt_model_kv kvs[CAP * CAP * 2];
    size_t n_kv;
    lt_model_config configs[CAP][CAP];
    lt_model_config link_cfg[CAP * CAP];
    size_t n_link_cfg;
    const char *ifaces[CAP * CAP];
    size_t n_iface;
    lt_model_resources res[CAP];
    lt_model_kv ann[4];
    char *strs[4096];
    size_t n_strs;
} tm;

static tm *of(const lt_model *m)
{
    return (tm *)(void *)m; /* m is the first member */
}

static const char *keep(tm *t, const char *s)
{
    char *c;

    if (s == NULL)
        return NULL;
    c = strdup(s);
    if (t->n_strs < 4096)
        t->strs[t->n_strs++] = c;
    return c;
}

static tm *owner_of(const lt_model_component *c);
static tm *last_tm; /* tests build one model at a time; components find their model here */

lt_model *tm_app(const char *name, const char *version)
{
    tm *t = calloc(1, sizeof(*t));

    last_tm = t;
    t->m.api_version = LT_MODEL_OAM_VERSION;
    t->m.kind = LT_MODEL_APP_KIND;
    t->m.name = keep(t, name);
    t->m.version = keep(t, version);
    t->m.components = t->comps;
    if (version != NULL) {
        t->ann[0].key = "version";
        t->ann[0].value = t->m.version;
        t->m.annotations.items = t->ann;
        t->m.annotations.count = 1;
    }
    return &t->m;
}

void tm_free(lt_model *m)
{
    tm *t;
    size_t i;

    if (m == NULL)
        return;
    t = of(m);
    for (i = 0; i < t->n_strs; i++)
        free(t->strs[i]);
    if (last_tm == t)
        last_tm = NULL;
    free(t);
}

void tm_shared(lt_model *m)
{
    m->shared = true;
}

static tm *owner_of(const lt_model_component *c)
{
    (void)c;
    return last_tm;
}

static size_t comp_index(tm *t, const lt_model_component *c)
{
    return (size_t)(c - t->comps);
}

static char *compute_id(tm *t, const char *app, const char *name)
{
    char buf[512];
    size_t i, n = 0;

    for (i = 0; app[i] != '\0' && n < 200; i++)
        buf[n++] = (app[i] >= 'A' && app[i] <= 'Z') ? (char)(app[i] - 'A' + 'a')
                   : ((app[i] >= 'a' && app[i] <= 'z') || (app[i] >= '0' && app[i] <= '9')) ? app[i]
                                                                                            : '_';
    buf[n++] = '-';
    for (i = 0; name[i] != '\0' && n < 500; i++)
        buf[n++] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a')
                   : ((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9'))
                       ? name[i]
                       : '_';
    buf[n] = '\0';
    return (char *)keep(t, buf);
}

lt_model_component *tm_comp(lt_model *m, const char *name, const char *image, bool capability)
{
    tm *t = of(m);
    lt_model_component *c = &t->comps[m->component_count++];

    c->name = keep(t, name);
    c->kind = capability ? LT_MODEL_CAPABILITY : LT_MODEL_COMPONENT;
    c->image = keep(t, image);
    c->id = compute_id(t, m->name, name);
    c->traits = t->traits[comp_index(t, c)];
    c->config = t->configs[comp_index(t, c)];
    return c;
}

void tm_id(lt_model *m, lt_model_component *c, const char *explicit_id)
{
    tm *t = of(m);

    c->explicit_id = keep(t, explicit_id);
    c->id = c->explicit_id;
}

void tm_ref(lt_model_component *c, const char *app, const char *comp)
{
    tm *t = owner_of(c);

    c->image = NULL;
    c->shared_app = keep(t, app);
    c->shared_component = keep(t, comp);
    c->id = compute_id(t, app, comp);
}

static lt_model_map parse_kvs(tm *t, const char *spec)
{
    lt_model_map m = { &t->kvs[t->n_kv], 0 };
    char buf[1024], *save = NULL, *tok;

    if (spec == NULL || spec[0] == '\0')
        return m;
    strncpy(buf, spec, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');

        if (eq == NULL)
            continue;
        *eq = '\0';
        t->kvs[t->n_kv].key = keep(t, tok);
        t->kvs[t->n_kv].value = keep(t, eq + 1);
        t->n_kv++;
        m.count++;
    }
    return m;
}

void tm_config(lt_model_component *c, const char *name, const char *key, const char *value)
{
    tm *t = owner_of(c);
    lt_model_config *cfg = &t->configs[comp_index(t, c)][c->config_count++];
    lt_model_kv *kv = &t->kvs[t->n_kv++];

    cfg->name = keep(t, name);
    cfg->has_properties = true;
    kv->key = keep(t, key);
    kv->value = keep(t, value);
    cfg->properties.items = kv;
    cfg->properties.count = 1;
}

void tm_resources(lt_model_component *c, uint64_t memory_bytes, uint32_t cpu_millis)
{
    tm *t = owner_of(c);
    lt_model_resources *r = &t->res[comp_index(t, c)];

    r->memory_bytes = memory_bytes;
    r->cpu_millis = cpu_millis;
    c->resources = r;
}

static lt_model_trait *new_trait(lt_model_component *c, const char *type, lt_model_trait_kind kind,
                                 lt_model_shape shape)
{
    tm *t = owner_of(c);
    lt_model_trait *tr = &t->traits[comp_index(t, c)][c->trait_count++];

    c->has_traits = true;
    tr->type = type;
    tr->kind = kind;
    tr->shape = shape;
    return tr;
}

void tm_scaler(lt_model_component *c, bool daemon, uint64_t instances)
{
    tm *t = owner_of(c);
    lt_model_trait *tr =
        new_trait(c, daemon ? "daemonscaler" : "spreadscaler",
                  daemon ? LT_MODEL_TRAIT_DAEMONSCALER : LT_MODEL_TRAIT_SPREADSCALER,
                  LT_MODEL_SHAPE_SCALER);

    tr->scaler.instances = instances;
    tr->scaler.spreads = t->spreads[comp_index(t, c)];
}

void tm_spread(lt_model_component *c, const char *name, uint64_t weight, const char *req)
{
    tm *t = owner_of(c);
    size_t i;

    for (i = 0; i < c->trait_count; i++) {
        lt_model_trait *tr = (lt_model_trait *)&c->traits[i];
        lt_model_spread *sp;

        if (tr->shape != LT_MODEL_SHAPE_SCALER)
            continue;
        sp = &t->spreads[comp_index(t, c)][tr->scaler.spread_count++];
        sp->name = keep(t, name);
        sp->weight = weight;
        sp->has_weight = true;
        sp->requirements = parse_kvs(t, req);
        return;
    }
}

lt_model_link *tm_link(lt_model_component *c, const char *target, const char *ns, const char *pkg,
                       const char *iface, const char *src_cfg)
{
    tm *t = owner_of(c);
    lt_model_trait *tr = new_trait(c, "link", LT_MODEL_TRAIT_LINK, LT_MODEL_SHAPE_LINK);
    lt_model_link *l = &tr->link;

    l->name = LT_MODEL_DEFAULT_LINK_NAME;
    l->wit_namespace = keep(t, ns);
    l->wit_package = keep(t, pkg);
    t->ifaces[t->n_iface] = keep(t, iface);
    l->interfaces = &t->ifaces[t->n_iface++];
    l->interface_count = 1;
    l->target = keep(t, target);
    if (src_cfg != NULL) {
        lt_model_config *cfg = &t->link_cfg[t->n_link_cfg++];

        cfg->name = "linkcfg";
        cfg->has_properties = true;
        cfg->properties = parse_kvs(t, src_cfg);
        l->source_config = cfg;
        l->source_config_count = 1;
        l->has_source = true;
    }
    return l;
}

void tm_link_target_config(lt_model_component *c, lt_model_link *l, const char *cfg)
{
    tm *t = owner_of(c);
    lt_model_config *mc = &t->link_cfg[t->n_link_cfg++];

    mc->name = "targetcfg";
    mc->has_properties = true;
    mc->properties = parse_kvs(t, cfg);
    l->target_config = mc;
    l->target_config_count = 1;
}

void tm_link_colocate(lt_model_link *l, lt_model_colocate co)
{
    l->colocate = co;
}
