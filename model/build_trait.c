/*
 * build_trait.c - decoding traits. wadm reads trait properties "untagged":
 * as a link if they decode as one, else as a scaler, else as custom JSON,
 * whatever the trait's type says. We find that shape the same way (decoding
 * quietly), then decode again for the trait's declared type with findings
 * enabled, so a broken link or scaler gets precise reasons. Also the latticed
 * resources trait and the link co-location key (extensions).
 */
#include <math.h>
#include <string.h>

#include "model_int.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const TRAIT_FIELDS[] = { "type", "properties" };
static const char *const LINK_FIELDS[] = {
    "namespace",     "package",       "interfaces",
    "target",        "source",        "name",
    "source_config", "target_config", LT_MODEL_LINK_COLOCATE_KEY
};
static const char *const TARGET_FIELDS[] = { "name", "config", "secrets" };
static const char *const SOURCE_FIELDS[] = { "config", "secrets" };
static const char *const SCALER_FIELDS[] = { "instances", "replicas", "spread" };
static const char *const SPREAD_FIELDS[] = { "name", "requirements", "weight" };
static const char *const RESOURCES_FIELDS[] = { "memory", "cpu" };
static const char *const TRAIT_TYPES[] = { "spreadscaler", "daemonscaler", "link",
                                           LT_MODEL_TRAIT_RESOURCES_TYPE };
static const char *const COLOCATE_VALUES[] = { "none", "preferred", "required" };

/* Decode child `key` of map with fn, the path pointing at it. */
#define AT_KEY(cx, key, stmt)                                 \
    do {                                                      \
        size_t saved_ = lt__model_path_push_key((cx), (key)); \
        stmt;                                                 \
        lt__model_path_pop((cx), saved_);                     \
    } while (0)

/* ---- link ----------------------------------------------------------------------------------- */

static void decode_target(lt__model_ctx *cx, const lt__model_node *map, lt_model_link *l)
{
    const lt__model_node *t = lt__model_node_get(map, "target");
    if (t == NULL)
        return; /* wadm: the target name is then "", which rule 7 reports */
    if (t->kind == LT__NODE_STR) {
        /* deprecated form: target: name, plus target_config */
        AT_KEY(cx, "target", (void)lt__model_want_string(cx, t, &l->target));
        const lt__model_node *tc = lt__model_node_get(map, "target_config");
        if (tc != NULL)
            AT_KEY(cx, "target_config",
                   (void)lt__model_decode_configs(cx, tc, &l->target_config,
                                                  &l->target_config_count));
        return;
    }
    size_t saved = lt__model_path_push_key(cx, "target");
    if (lt__model_want_map(cx, t)) {
        lt__model_check_fields(cx, t, TARGET_FIELDS, COUNT(TARGET_FIELDS), false);
        const lt__model_node *name = lt__model_need(cx, t, "name");
        if (name != NULL)
            AT_KEY(cx, "name", (void)lt__model_want_string(cx, name, &l->target));
        const lt__model_node *cfg = lt__model_node_get(t, "config");
        if (cfg != NULL)
            AT_KEY(cx, "config",
                   (void)lt__model_decode_configs(cx, cfg, &l->target_config,
                                                  &l->target_config_count));
        const lt__model_node *sec = lt__model_node_get(t, "secrets");
        if (sec != NULL)
            AT_KEY(cx, "secrets",
                   (void)lt__model_decode_secrets(cx, sec, &l->target_secrets,
                                                  &l->target_secret_count));
    }
    lt__model_path_pop(cx, saved);
    if (l->target == NULL)
        l->target = "";
}

static void decode_source(lt__model_ctx *cx, const lt__model_node *map, lt_model_link *l)
{
    const lt__model_node *sc = lt__model_node_get(map, "source_config");
    if (sc != NULL) {
        l->has_source = true;
        AT_KEY(cx, "source_config",
               (void)lt__model_decode_configs(cx, sc, &l->source_config, &l->source_config_count));
    }
    const lt__model_node *s = lt__model_node_get(map, "source");
    if (s == NULL)
        return;
    /* the `source` block wins over the deprecated source_config */
    l->has_source = true;
    l->source_config = NULL;
    l->source_config_count = 0;
    size_t saved = lt__model_path_push_key(cx, "source");
    if (lt__model_want_map(cx, s)) {
        lt__model_check_fields(cx, s, SOURCE_FIELDS, COUNT(SOURCE_FIELDS), false);
        const lt__model_node *cfg = lt__model_node_get(s, "config");
        if (cfg != NULL)
            AT_KEY(cx, "config",
                   (void)lt__model_decode_configs(cx, cfg, &l->source_config,
                                                  &l->source_config_count));
        const lt__model_node *sec = lt__model_node_get(s, "secrets");
        if (sec != NULL)
            AT_KEY(cx, "secrets",
                   (void)lt__model_decode_secrets(cx, sec, &l->source_secrets,
                                                  &l->source_secret_count));
    }
    lt__model_path_pop(cx, saved);
}

static void decode_interfaces(lt__model_ctx *cx, const lt__model_node *n, lt_model_link *l)
{
    if (!lt__model_want_seq(cx, n))
        return;
    const char **ifaces = lt__model_arena_array(cx->model, n->count, sizeof(*ifaces));
    if (ifaces == NULL && n->count > 0) {
        cx->nomem = true;
        return;
    }
    for (size_t i = 0; i < n->count; i++) {
        size_t saved = lt__model_path_push_index(cx, i);
        if (!lt__model_want_string(cx, n->items[i], &ifaces[i]))
            ifaces[i] = "";
        lt__model_path_pop(cx, saved);
    }
    l->interfaces = ifaces;
    l->interface_count = n->count;
}

static void decode_colocate(lt__model_ctx *cx, const lt__model_node *n, lt_model_link *l)
{
    const char *v = NULL;
    if (!lt__model_want_string(cx, n, &v))
        return;
    for (size_t i = 0; i < COUNT(COLOCATE_VALUES); i++) {
        if (strcmp(v, COLOCATE_VALUES[i]) == 0) {
            l->colocate = (lt_model_colocate)(LT_MODEL_COLOCATE_NONE + i);
            return;
        }
    }
    const char *hint = lt__model_suggest(v, COLOCATE_VALUES, COUNT(COLOCATE_VALUES));
    lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_LATTICED, n,
                   "invalid value \"%s\" for %s: expected `none`, `preferred` or `required`%s%s%s",
                   v, LT_MODEL_LINK_COLOCATE_KEY, hint != NULL ? " (did you mean '" : "",
                   hint != NULL ? hint : "", hint != NULL ? "'?)" : "");
}

/* Decode link properties as wadm's LinkProperty deserializer does (unknown keys ignored).
 * Returns true when they decode as a link. */
static bool decode_link(lt__model_ctx *cx, const lt__model_node *n, lt_model_link *l)
{
    uint64_t before = cx->errors;
    *l = (lt_model_link){
        .name = LT_MODEL_DEFAULT_LINK_NAME, .target = "", .wit_namespace = "", .wit_package = ""
    };
    if (!lt__model_want_map(cx, n))
        return false;
    lt__model_check_fields(cx, n, LINK_FIELDS, COUNT(LINK_FIELDS), false);
    decode_target(cx, n, l);
    decode_source(cx, n, l);
    const lt__model_node *v = lt__model_need(cx, n, "namespace");
    if (v != NULL)
        AT_KEY(cx, "namespace", (void)lt__model_want_string(cx, v, &l->wit_namespace));
    v = lt__model_need(cx, n, "package");
    if (v != NULL)
        AT_KEY(cx, "package", (void)lt__model_want_string(cx, v, &l->wit_package));
    v = lt__model_need(cx, n, "interfaces");
    if (v != NULL)
        AT_KEY(cx, "interfaces", decode_interfaces(cx, v, l));
    v = lt__model_node_get(n, "name");
    if (v != NULL) {
        const char *name = NULL;
        AT_KEY(cx, "name", (void)lt__model_want_string(cx, v, &name));
        if (name != NULL) {
            l->name = name;
            l->name_explicit = true;
        }
    }
    v = lt__model_node_get(n, LT_MODEL_LINK_COLOCATE_KEY);
    if (v != NULL)
        AT_KEY(cx, LT_MODEL_LINK_COLOCATE_KEY, decode_colocate(cx, v, l));
    l->wit_namespace = l->wit_namespace != NULL ? l->wit_namespace : "";
    l->wit_package = l->wit_package != NULL ? l->wit_package : "";
    return cx->errors == before;
}

/* ---- scalers -------------------------------------------------------------------------------- */

static void decode_spread(lt__model_ctx *cx, const lt__model_node *n, lt_model_spread *s)
{
    s->loc = lt__model_loc(cx, n);
    s->name = "";
    s->weight = LT_MODEL_DEFAULT_WEIGHT;
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, SPREAD_FIELDS, COUNT(SPREAD_FIELDS), true);
    const lt__model_node *v = lt__model_need(cx, n, "name");
    if (v != NULL)
        AT_KEY(cx, "name", (void)lt__model_want_string(cx, v, &s->name));
    if (s->name == NULL)
        s->name = "";
    /* wadm requires `requirements` but omits it when empty on output: accepted missing */
    v = lt__model_node_get(n, "requirements");
    if (v != NULL)
        AT_KEY(cx, "requirements", (void)lt__model_want_string_map(cx, v, &s->requirements));
    v = lt__model_node_get(n, "weight");
    if (v != NULL && v->kind != LT__NODE_NULL) {
        AT_KEY(cx, "weight", s->has_weight = lt__model_want_uint(cx, v, &s->weight));
        if (!s->has_weight)
            s->weight = LT_MODEL_DEFAULT_WEIGHT;
    }
}

static void spread_one(lt__model_ctx *cx, const lt__model_node *n, void *elem)
{
    decode_spread(cx, n, elem);
}

/* Decode scaler properties (SpreadScalerProperty: unknown keys refused). */
static bool decode_scaler(lt__model_ctx *cx, const lt__model_node *n, lt_model_scaler *sc)
{
    uint64_t before = cx->errors;
    *sc = (lt_model_scaler){ 0 };
    if (!lt__model_want_map(cx, n))
        return false;
    lt__model_check_fields(cx, n, SCALER_FIELDS, COUNT(SCALER_FIELDS), true);
    const lt__model_node *inst = lt__model_node_get(n, "instances");
    const lt__model_node *rep = lt__model_node_get(n, "replicas");
    if (inst != NULL && rep != NULL) {
        AT_KEY(cx, "replicas",
               lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, rep,
                              "duplicate field `instances` (`replicas` is its alias)"));
    } else if (inst == NULL && rep == NULL) {
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, n, "missing field `instances`");
    } else {
        AT_KEY(cx, inst != NULL ? "instances" : "replicas",
               (void)lt__model_want_uint(cx, inst != NULL ? inst : rep, &sc->instances));
    }
    const lt__model_node *sp = lt__model_node_get(n, "spread");
    if (sp != NULL) {
        size_t saved = lt__model_path_push_key(cx, "spread");
        void *spreads;
        if (lt__model_decode_seq(cx, sp, sizeof(lt_model_spread), spread_one, &spreads)) {
            sc->spreads = spreads;
            sc->spread_count = sp->count;
        }
        lt__model_path_pop(cx, saved);
    }
    return cx->errors == before;
}

/* ---- resources (extension) ------------------------------------------------------------------ */

static void decode_memory(lt__model_ctx *cx, const lt__model_node *v, lt_model_resources *r)
{
    uint64_t bytes = 0;
    if (v->kind == LT__NODE_INT && v->v.i > 0) {
        bytes = (uint64_t)v->v.i;
    } else if (v->kind != LT__NODE_STR || !lt__model_parse_memory(v->text, &bytes) || bytes == 0) {
        lt__model_diag(
            cx, LT_MODEL_ERROR, LT__MODEL_CODE_LATTICED, v,
            "invalid memory request `%s`: expected a positive quantity such as \"128Mi\", "
            "\"1G\" or a number of bytes",
            v->text != NULL ? v->text : "");
        return;
    }
    r->memory_bytes = bytes;
}

static void decode_cpu(lt__model_ctx *cx, const lt__model_node *v, lt_model_resources *r)
{
    uint64_t millis = 0;
    bool ok = false;
    if (v->kind == LT__NODE_STR) {
        ok = lt__model_parse_cpu(v->text, &millis);
    } else if (v->kind == LT__NODE_INT && v->v.i > 0 && v->v.i <= UINT32_MAX / 1000) {
        millis = (uint64_t)v->v.i * 1000u;
        ok = true;
    } else if (v->kind == LT__NODE_FLOAT && v->v.d > 0 && v->v.d <= UINT32_MAX / 1000.0) {
        double m = v->v.d * 1000.0;
        ok = fabs(m - nearbyint(m)) < 1e-6;
        millis = (uint64_t)nearbyint(m);
    }
    if (!ok || millis == 0 || millis > UINT32_MAX) {
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_LATTICED, v,
                       "invalid cpu request `%s`: expected a positive quantity such as \"250m\" "
                       "(millicores), \"0.5\" or 2 (cores)",
                       v->text != NULL ? v->text : "");
        return;
    }
    r->cpu_millis = (uint32_t)millis;
}

static bool decode_resources(lt__model_ctx *cx, const lt__model_node *n, lt_model_resources *r)
{
    uint64_t before = cx->errors;
    *r = (lt_model_resources){ 0 };
    if (!lt__model_want_map(cx, n))
        return false;
    lt__model_check_fields(cx, n, RESOURCES_FIELDS, COUNT(RESOURCES_FIELDS), true);
    const lt__model_node *mem = lt__model_node_get(n, "memory");
    const lt__model_node *cpu = lt__model_node_get(n, "cpu");
    if (mem == NULL && cpu == NULL)
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_LATTICED, n,
                       "a %s trait needs `memory`, `cpu` or both", LT_MODEL_TRAIT_RESOURCES_TYPE);
    if (mem != NULL)
        AT_KEY(cx, "memory", decode_memory(cx, mem, r));
    if (cpu != NULL)
        AT_KEY(cx, "cpu", decode_cpu(cx, cpu, r));
    return cx->errors == before;
}

/* ---- traits --------------------------------------------------------------------------------- */

/* Decoders run with findings off, to find the shape; true when they decode cleanly. */
static bool quiet_link(lt__model_ctx *cx, const lt__model_node *props, lt_model_link *l)
{
    uint64_t before = cx->errors;
    cx->quiet++;
    bool ok = decode_link(cx, props, l);
    cx->quiet--;
    cx->errors = before;
    return ok;
}

static bool quiet_scaler(lt__model_ctx *cx, const lt__model_node *props, lt_model_scaler *sc)
{
    uint64_t before = cx->errors;
    cx->quiet++;
    bool ok = decode_scaler(cx, props, sc);
    cx->quiet--;
    cx->errors = before;
    return ok;
}

static lt_model_shape find_shape(lt__model_ctx *cx, const lt__model_node *props, lt_model_trait *t)
{
    if (quiet_link(cx, props, &t->link))
        return LT_MODEL_SHAPE_LINK;
    if (quiet_scaler(cx, props, &t->scaler))
        return LT_MODEL_SHAPE_SCALER;
    return LT_MODEL_SHAPE_CUSTOM;
}

static bool is_scaler_type(const char *type)
{
    return strcmp(type, "spreadscaler") == 0 || strcmp(type, "daemonscaler") == 0;
}

/* Decode again for the declared type with findings enabled, and set the kind. When the
 * properties do not have the declared type's shape, the reasons are given later, after wadm's
 * own message (lt__model_explain_trait), so the first error stays the one wadm reports. */
static void decode_declared(lt__model_ctx *cx, const lt__model_node *props, lt_model_trait *t)
{
    t->kind = LT_MODEL_TRAIT_CUSTOM;
    if (strcmp(t->type, "link") == 0) {
        if (t->shape == LT_MODEL_SHAPE_LINK) {
            (void)decode_link(cx, props, &t->link);
            t->kind = LT_MODEL_TRAIT_LINK;
        }
    } else if (is_scaler_type(t->type)) {
        if (t->shape == LT_MODEL_SHAPE_LINK) {
            lt__model_diag(cx, LT_MODEL_WARNING, LT__MODEL_CODE_LATTICED, props,
                           "%s trait has link properties (namespace, package, interfaces): it is "
                           "read as a link and ignored, so nothing is scaled",
                           t->type);
        } else if (t->shape == LT_MODEL_SHAPE_SCALER) {
            (void)decode_scaler(cx, props, &t->scaler);
            t->kind = t->type[0] == 's' ? LT_MODEL_TRAIT_SPREADSCALER : LT_MODEL_TRAIT_DAEMONSCALER;
        }
    } else if (strcmp(t->type, LT_MODEL_TRAIT_RESOURCES_TYPE) == 0) {
        if (decode_resources(cx, props, &t->resources))
            t->kind = LT_MODEL_TRAIT_RESOURCES;
    }
}

void lt__model_explain_trait(lt__model_ctx *cx, const lt__model_node *props,
                             const lt_model_trait *t)
{
    if (props == NULL)
        return;
    lt_buf_reset(&cx->path);
    if (lt_buf_appends(&cx->path, t->loc.path) != LT_OK)
        lt_buf_reset(&cx->path);
    size_t saved = lt__model_path_push_key(cx, "properties");
    if (strcmp(t->type, "link") == 0) {
        lt_model_link scratch;
        (void)decode_link(cx, props, &scratch);
    } else if (is_scaler_type(t->type)) {
        lt_model_scaler scratch;
        (void)decode_scaler(cx, props, &scratch);
    }
    lt__model_path_pop(cx, saved);
    lt_buf_reset(&cx->path);
}

/* Warn about a trait type nothing acts upon (wadm ignores them silently). */
static void check_type(lt__model_ctx *cx, const lt__model_node *type, const char *name)
{
    for (size_t i = 0; i < COUNT(TRAIT_TYPES); i++) {
        if (strcmp(name, TRAIT_TYPES[i]) == 0)
            return;
    }
    const char *hint = lt__model_suggest(name, TRAIT_TYPES, COUNT(TRAIT_TYPES));
    lt__model_diag(cx, LT_MODEL_WARNING, LT__MODEL_CODE_LATTICED, type,
                   "trait type '%s' is not one latticed knows: it is kept but has no effect%s%s%s",
                   name, hint != NULL ? " (did you mean '" : "", hint != NULL ? hint : "",
                   hint != NULL ? "'?)" : "");
}

void lt__model_build_trait(lt__model_ctx *cx, const lt__model_node *n, lt_model_trait *t)
{
    *t = (lt_model_trait){ .type = "", .kind = LT_MODEL_TRAIT_CUSTOM };
    t->loc = lt__model_loc(cx, n);
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, TRAIT_FIELDS, COUNT(TRAIT_FIELDS), true);
    const lt__model_node *type = lt__model_need(cx, n, "type");
    if (type != NULL)
        AT_KEY(cx, "type",
               if (lt__model_want_string(cx, type, &t->type)) check_type(cx, type, t->type));
    if (t->type == NULL)
        t->type = "";
    const lt__model_node *props = lt__model_need(cx, n, "properties");
    if (props == NULL)
        return;
    size_t saved = lt__model_path_push_key(cx, "properties");
    t->shape = find_shape(cx, props, t);
    decode_declared(cx, props, t);
    if (t->kind == LT_MODEL_TRAIT_CUSTOM || t->kind == LT_MODEL_TRAIT_RESOURCES) {
        bool invalid = false;
        t->properties_json = lt__model_node_json_text(cx->model, props, &invalid);
        if (t->properties_json == NULL && invalid)
            lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, props,
                           "trait properties cannot be represented as JSON (.inf and .nan are not "
                           "allowed)");
        else if (t->properties_json == NULL)
            cx->nomem = true;
    }
    lt__model_path_pop(cx, saved);
}
