/*
 * build.c - the document tree to the typed model: the manifest, metadata,
 * spec, components, their properties, config, secrets and policies (traits
 * are in build_trait.c). Field rules follow wadm's serde types: unknown keys
 * are errors where wadm denies them and warnings where wadm ignores them;
 * messages use serde's wording ("missing field `name`") plus a location.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "model_int.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define DESCRIBE_MAX 48u

static const char *const MANIFEST_FIELDS[] = { "apiVersion", "kind", "metadata", "spec" };
static const char *const METADATA_FIELDS[] = { "name", "annotations", "labels" };
static const char *const SPEC_FIELDS[] = { "components", "policies" };
static const char *const COMPONENT_FIELDS[] = { "name", "type", "properties", "traits" };
static const char *const PROPERTIES_FIELDS[] = { "image", "application", "id", "config",
                                                 "secrets" };
static const char *const SHARED_FIELDS[] = { "name", "component" };
static const char *const CONFIG_FIELDS[] = { "name", "properties" };
static const char *const SECRET_FIELDS[] = { "name", "properties" };
static const char *const SECRET_SOURCE_FIELDS[] = { "policy", "key", "field", "version" };
static const char *const POLICY_FIELDS[] = { "name", "type", "properties" };
static const char *const COMPONENT_TYPES[] = { "component", "actor", "capability" };

/* ---- values --------------------------------------------------------------------------------- */

/* serde-like description of a value: "integer `8080`", "string \"x\"", "sequence". */
static void describe(const lt__model_node *n, char *buf, size_t size)
{
    const char *name = lt__model_node_kind_name(n->kind);
    if (n->kind == LT__NODE_SEQ || n->kind == LT__NODE_MAP || n->kind == LT__NODE_NULL) {
        snprintf(buf, size, "%s", name);
        return;
    }
    size_t len = n->text_len;
    bool cut = len > DESCRIBE_MAX;
    if (cut) {
        len = DESCRIBE_MAX;
        while (len > 0 && ((unsigned char)n->text[len] & 0xC0) == 0x80)
            len--;
    }
    if (n->kind == LT__NODE_STR)
        snprintf(buf, size, "string \"%.*s%s\"", (int)len, n->text, cut ? "..." : "");
    else
        snprintf(buf, size, "%s `%.*s%s`", name, (int)len, n->text, cut ? "..." : "");
}

static void type_error(lt__model_ctx *cx, const lt__model_node *n, const char *expected)
{
    char found[DESCRIBE_MAX + 32];
    describe(n, found, sizeof(found));
    bool quotable =
        n->kind == LT__NODE_INT || n->kind == LT__NODE_FLOAT || n->kind == LT__NODE_BOOL;
    if (quotable && strcmp(expected, "a string") == 0)
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, n,
                       "invalid type: %s, expected a string (quote the value to make it one: '%s')",
                       found, n->text);
    else
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, n,
                       "invalid type: %s, expected %s", found, expected);
}

bool lt__model_want_map(lt__model_ctx *cx, const lt__model_node *n)
{
    if (n->kind == LT__NODE_MAP)
        return true;
    type_error(cx, n, "a map");
    return false;
}

bool lt__model_want_seq(lt__model_ctx *cx, const lt__model_node *n)
{
    if (n->kind == LT__NODE_SEQ)
        return true;
    type_error(cx, n, "a sequence");
    return false;
}

bool lt__model_want_string(lt__model_ctx *cx, const lt__model_node *n, const char **out)
{
    if (n->kind != LT__NODE_STR) {
        type_error(cx, n, "a string");
        return false;
    }
    *out = lt__model_arena_strndup(cx->model, n->text, n->text_len);
    if (*out == NULL) {
        cx->nomem = true;
        return false;
    }
    return true;
}

bool lt__model_want_uint(lt__model_ctx *cx, const lt__model_node *n, uint64_t *out)
{
    if (n->kind == LT__NODE_INT && n->v.i >= 0) {
        *out = (uint64_t)n->v.i;
        return true;
    }
    if (n->kind == LT__NODE_INT)
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, n,
                       "invalid value: integer `%s`, expected a non-negative integer", n->text);
    else
        type_error(cx, n, "a non-negative integer");
    return false;
}

bool lt__model_want_string_map(lt__model_ctx *cx, const lt__model_node *n, lt_model_map *out)
{
    *out = (lt_model_map){ NULL, 0 };
    if (!lt__model_want_map(cx, n))
        return false;
    lt_model_kv *items = lt__model_arena_array(cx->model, n->count, sizeof(*items));
    if (items == NULL && n->count > 0) {
        cx->nomem = true;
        return false;
    }
    bool ok = true;
    size_t used = 0;
    for (size_t i = 0; i < n->count; i++) {
        size_t saved = lt__model_path_push_key(cx, lt__model_node_key(n, i));
        const char *v = NULL;
        if (lt__model_want_string(cx, n->items[i], &v)) {
            items[used].key =
                lt__model_arena_strndup(cx->model, n->keys[i]->text, n->keys[i]->text_len);
            items[used].value = v;
            if (items[used].key == NULL)
                cx->nomem = true;
            else
                used++;
        } else {
            ok = false;
        }
        lt__model_path_pop(cx, saved);
    }
    lt__model_map_sort(items, used);
    *out = (lt_model_map){ items, used };
    return ok;
}

void lt__model_check_fields(lt__model_ctx *cx, const lt__model_node *map, const char *const *known,
                            size_t n, bool strict)
{
    /* Quiet decoding (finding a trait's shape) only needs to know whether this fails. */
    if (cx->quiet > 0 && !strict)
        return;
    for (size_t i = 0; i < map->count; i++) {
        const char *key = lt__model_node_key(map, i);
        bool found = false;
        for (size_t k = 0; k < n && !found; k++)
            found = strcmp(key, known[k]) == 0;
        if (found)
            continue;
        if (cx->quiet > 0) {
            lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, map, "unknown field");
            return;
        }
        const char *hint = lt__model_suggest(key, known, n);
        char expected[256] = "";
        if (strict && n == 1)
            snprintf(expected, sizeof(expected), ", expected `%s`", known[0]);
        else if (strict && n == 2)
            snprintf(expected, sizeof(expected), ", expected `%s` or `%s`", known[0], known[1]);
        else if (strict) {
            size_t off = (size_t)snprintf(expected, sizeof(expected), ", expected one of ");
            for (size_t k = 0; k < n && off < sizeof(expected); k++)
                off += (size_t)snprintf(expected + off, sizeof(expected) - off, "%s`%s`",
                                        k > 0 ? ", " : "", known[k]);
        }
        size_t saved = lt__model_path_push_key(cx, key);
        lt__model_diag(cx, strict ? LT_MODEL_ERROR : LT_MODEL_WARNING, LT__MODEL_CODE_SCHEMA,
                       map->keys[i], "unknown field `%s`%s%s%s%s", key,
                       strict ? expected : " is ignored", hint != NULL ? " (did you mean '" : "",
                       hint != NULL ? hint : "", hint != NULL ? "'?)" : "");
        lt__model_path_pop(cx, saved);
    }
}

const lt__model_node *lt__model_need(lt__model_ctx *cx, const lt__model_node *map, const char *name)
{
    const lt__model_node *v = lt__model_node_get(map, name);
    if (v == NULL)
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, map, "missing field `%s`", name);
    return v;
}

/* Optional string field: absent or null leaves *out NULL. */
static void opt_string(lt__model_ctx *cx, const lt__model_node *map, const char *name,
                       const char **out)
{
    const lt__model_node *v = lt__model_node_get(map, name);
    *out = NULL;
    if (v == NULL || v->kind == LT__NODE_NULL)
        return;
    size_t saved = lt__model_path_push_key(cx, name);
    (void)lt__model_want_string(cx, v, out);
    lt__model_path_pop(cx, saved);
}

/* Required string field. */
static void req_string(lt__model_ctx *cx, const lt__model_node *map, const char *name,
                       const char **out)
{
    const lt__model_node *v = lt__model_need(cx, map, name);
    *out = NULL;
    if (v == NULL)
        return;
    size_t saved = lt__model_path_push_key(cx, name);
    (void)lt__model_want_string(cx, v, out);
    lt__model_path_pop(cx, saved);
}

/* Optional string map: absent leaves *out empty. */
static void opt_string_map(lt__model_ctx *cx, const lt__model_node *map, const char *name,
                           lt_model_map *out)
{
    const lt__model_node *v = lt__model_node_get(map, name);
    *out = (lt_model_map){ NULL, 0 };
    if (v == NULL)
        return;
    size_t saved = lt__model_path_push_key(cx, name);
    (void)lt__model_want_string_map(cx, v, out);
    lt__model_path_pop(cx, saved);
}

/* ---- config and secrets --------------------------------------------------------------------- */

static void decode_config(lt__model_ctx *cx, const lt__model_node *n, lt_model_config *c)
{
    c->loc = lt__model_loc(cx, n);
    c->name = "";
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, CONFIG_FIELDS, COUNT(CONFIG_FIELDS), true);
    req_string(cx, n, "name", &c->name);
    if (c->name == NULL)
        c->name = "";
    const lt__model_node *p = lt__model_node_get(n, "properties");
    if (p != NULL && p->kind != LT__NODE_NULL) {
        c->has_properties = true;
        opt_string_map(cx, n, "properties", &c->properties);
    }
}

bool lt__model_decode_seq(lt__model_ctx *cx, const lt__model_node *n, size_t size,
                          void (*one)(lt__model_ctx *cx, const lt__model_node *item, void *elem),
                          void **arr)
{
    *arr = NULL;
    if (!lt__model_want_seq(cx, n))
        return false;
    unsigned char *items = lt__model_arena_array(cx->model, n->count, size);
    if (items == NULL && n->count > 0) {
        cx->nomem = true;
        return false;
    }
    for (size_t i = 0; i < n->count; i++) {
        size_t saved = lt__model_path_push_index(cx, i);
        one(cx, n->items[i], items + i * size);
        lt__model_path_pop(cx, saved);
    }
    *arr = items;
    return true;
}

static void config_one(lt__model_ctx *cx, const lt__model_node *n, void *elem)
{
    decode_config(cx, n, elem);
}

bool lt__model_decode_configs(lt__model_ctx *cx, const lt__model_node *n,
                              const lt_model_config **out, size_t *count)
{
    void *arr;
    bool ok = lt__model_decode_seq(cx, n, sizeof(lt_model_config), config_one, &arr);

    *out = arr;
    *count = ok ? n->count : 0;
    return ok;
}

static void decode_secret(lt__model_ctx *cx, const lt__model_node *n, lt_model_secret *s)
{
    s->loc = lt__model_loc(cx, n);
    s->name = s->policy = s->key = "";
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, SECRET_FIELDS, COUNT(SECRET_FIELDS), false);
    req_string(cx, n, "name", &s->name);
    if (s->name == NULL)
        s->name = "";
    const lt__model_node *p = lt__model_need(cx, n, "properties");
    if (p == NULL)
        return;
    size_t saved = lt__model_path_push_key(cx, "properties");
    if (lt__model_want_map(cx, p)) {
        lt__model_check_fields(cx, p, SECRET_SOURCE_FIELDS, COUNT(SECRET_SOURCE_FIELDS), false);
        req_string(cx, p, "policy", &s->policy);
        req_string(cx, p, "key", &s->key);
        opt_string(cx, p, "field", &s->field);
        opt_string(cx, p, "version", &s->version);
    }
    if (s->policy == NULL)
        s->policy = "";
    if (s->key == NULL)
        s->key = "";
    lt__model_path_pop(cx, saved);
}

static void secret_one(lt__model_ctx *cx, const lt__model_node *n, void *elem)
{
    decode_secret(cx, n, elem);
}

bool lt__model_decode_secrets(lt__model_ctx *cx, const lt__model_node *n,
                              const lt_model_secret **out, size_t *count)
{
    void *arr;
    bool ok = lt__model_decode_seq(cx, n, sizeof(lt_model_secret), secret_one, &arr);

    *out = arr;
    *count = ok ? n->count : 0;
    return ok;
}

/* ---- components ----------------------------------------------------------------------------- */

static void decode_shared(lt__model_ctx *cx, const lt__model_node *n, lt_model_component *c)
{
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, SHARED_FIELDS, COUNT(SHARED_FIELDS), false);
    req_string(cx, n, "name", &c->shared_app);
    req_string(cx, n, "component", &c->shared_component);
    if (c->shared_app == NULL || c->shared_component == NULL) {
        c->shared_app = c->shared_app != NULL ? c->shared_app : "";
        c->shared_component = c->shared_component != NULL ? c->shared_component : "";
    }
}

static void decode_properties(lt__model_ctx *cx, const lt__model_node *n, lt_model_component *c)
{
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, PROPERTIES_FIELDS, COUNT(PROPERTIES_FIELDS), true);
    opt_string(cx, n, "image", &c->image);
    opt_string(cx, n, "id", &c->explicit_id);
    const lt__model_node *app = lt__model_node_get(n, "application");
    if (app != NULL && app->kind != LT__NODE_NULL) {
        size_t saved = lt__model_path_push_key(cx, "application");
        decode_shared(cx, app, c);
        lt__model_path_pop(cx, saved);
    }
    const lt__model_node *cfg = lt__model_node_get(n, "config");
    if (cfg != NULL) {
        size_t saved = lt__model_path_push_key(cx, "config");
        (void)lt__model_decode_configs(cx, cfg, &c->config, &c->config_count);
        lt__model_path_pop(cx, saved);
    }
    const lt__model_node *sec = lt__model_node_get(n, "secrets");
    if (sec != NULL) {
        size_t saved = lt__model_path_push_key(cx, "secrets");
        (void)lt__model_decode_secrets(cx, sec, &c->secrets, &c->secret_count);
        lt__model_path_pop(cx, saved);
    }
}

static void decode_type(lt__model_ctx *cx, const lt__model_node *n, lt_model_component *c)
{
    const lt__model_node *t = lt__model_need(cx, n, "type");
    if (t == NULL)
        return;
    size_t saved = lt__model_path_push_key(cx, "type");
    const char *type = NULL;
    if (lt__model_want_string(cx, t, &type)) {
        if (strcmp(type, "component") == 0 || strcmp(type, "actor") == 0) {
            c->kind = LT_MODEL_COMPONENT;
        } else if (strcmp(type, "capability") == 0) {
            c->kind = LT_MODEL_CAPABILITY;
        } else {
            const char *hint = lt__model_suggest(type, COMPONENT_TYPES, COUNT(COMPONENT_TYPES));
            lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, t,
                           "unknown variant `%s`, expected one of `component`, `actor`, "
                           "`capability`%s%s%s",
                           type, hint != NULL ? " (did you mean '" : "", hint != NULL ? hint : "",
                           hint != NULL ? "'?)" : "");
        }
    }
    lt__model_path_pop(cx, saved);
}

static void trait_one(lt__model_ctx *cx, const lt__model_node *n, void *elem)
{
    lt__model_build_trait(cx, n, elem);
}

static void decode_traits(lt__model_ctx *cx, const lt__model_node *n, lt_model_component *c)
{
    const lt__model_node *tr = lt__model_node_get(n, "traits");
    if (tr == NULL || tr->kind == LT__NODE_NULL)
        return;
    size_t saved = lt__model_path_push_key(cx, "traits");
    void *traits;
    if (lt__model_decode_seq(cx, tr, sizeof(lt_model_trait), trait_one, &traits)) {
        c->has_traits = true;
        c->traits = traits;
        c->trait_count = tr->count;
    }
    lt__model_path_pop(cx, saved);
}

static void decode_component(lt__model_ctx *cx, const lt__model_node *n, lt_model_component *c)
{
    c->loc = lt__model_loc(cx, n);
    c->name = "";
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, COMPONENT_FIELDS, COUNT(COMPONENT_FIELDS), false);
    req_string(cx, n, "name", &c->name);
    if (c->name == NULL)
        c->name = "";
    decode_type(cx, n, c);
    const lt__model_node *p = lt__model_need(cx, n, "properties");
    if (p != NULL) {
        size_t saved = lt__model_path_push_key(cx, "properties");
        decode_properties(cx, p, c);
        lt__model_path_pop(cx, saved);
    }
    decode_traits(cx, n, c);
}

/* ---- policies ------------------------------------------------------------------------------- */

static void decode_policy(lt__model_ctx *cx, const lt__model_node *n, lt_model_policy *p)
{
    p->loc = lt__model_loc(cx, n);
    p->name = p->type = "";
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, POLICY_FIELDS, COUNT(POLICY_FIELDS), false);
    req_string(cx, n, "name", &p->name);
    req_string(cx, n, "type", &p->type);
    p->name = p->name != NULL ? p->name : "";
    p->type = p->type != NULL ? p->type : "";
    const lt__model_node *props = lt__model_need(cx, n, "properties");
    if (props != NULL) {
        size_t saved = lt__model_path_push_key(cx, "properties");
        (void)lt__model_want_string_map(cx, props, &p->properties);
        lt__model_path_pop(cx, saved);
    }
}

/* ---- top level ------------------------------------------------------------------------------ */

static void decode_metadata(lt__model_ctx *cx, const lt__model_node *n, lt_model *m)
{
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, METADATA_FIELDS, COUNT(METADATA_FIELDS), false);
    req_string(cx, n, "name", &m->name);
    /* wadm requires the `annotations` key (even empty) but never writes it when empty, so its
     * own output would not parse again; latticed accepts it missing. */
    opt_string_map(cx, n, "annotations", &m->annotations);
    opt_string_map(cx, n, "labels", &m->labels);
}

static void component_one(lt__model_ctx *cx, const lt__model_node *n, void *elem)
{
    decode_component(cx, n, elem);
}

static void policy_one(lt__model_ctx *cx, const lt__model_node *n, void *elem)
{
    decode_policy(cx, n, elem);
}

static void decode_list(lt__model_ctx *cx, const lt__model_node *n, bool components, lt_model *m)
{
    void *arr;

    if (components &&
        lt__model_decode_seq(cx, n, sizeof(lt_model_component), component_one, &arr)) {
        m->components = arr;
        m->component_count = n->count;
    } else if (!components &&
               lt__model_decode_seq(cx, n, sizeof(lt_model_policy), policy_one, &arr)) {
        m->policies = arr;
        m->policy_count = n->count;
    }
}

static void decode_spec(lt__model_ctx *cx, const lt__model_node *n, lt_model *m)
{
    if (!lt__model_want_map(cx, n))
        return;
    lt__model_check_fields(cx, n, SPEC_FIELDS, COUNT(SPEC_FIELDS), false);
    const lt__model_node *comps = lt__model_need(cx, n, "components");
    if (comps != NULL) {
        size_t saved = lt__model_path_push_key(cx, "components");
        decode_list(cx, comps, true, m);
        lt__model_path_pop(cx, saved);
    }
    const lt__model_node *pols = lt__model_node_get(n, "policies");
    if (pols != NULL && pols->kind != LT__NODE_NULL) {
        size_t saved = lt__model_path_push_key(cx, "policies");
        decode_list(cx, pols, false, m);
        lt__model_path_pop(cx, saved);
    }
}

/* Decode a required top-level section with fn. */
static void section(lt__model_ctx *cx, const lt__model_node *root, const char *name,
                    void (*fn)(lt__model_ctx *, const lt__model_node *, lt_model *), lt_model *m)
{
    const lt__model_node *n = lt__model_need(cx, root, name);
    if (n == NULL)
        return;
    size_t saved = lt__model_path_push_key(cx, name);
    fn(cx, n, m);
    lt__model_path_pop(cx, saved);
}

static void decode_root(lt__model_ctx *cx, const lt__model_node *root, lt_model *m)
{
    if (root->kind == LT__NODE_NULL) {
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, root, "the manifest is empty");
        return;
    }
    if (root->kind != LT__NODE_MAP) {
        type_error(cx, root, "a manifest (a map with apiVersion, kind, metadata and spec)");
        return;
    }
    lt__model_check_fields(cx, root, MANIFEST_FIELDS, COUNT(MANIFEST_FIELDS), true);
    req_string(cx, root, "apiVersion", &m->api_version);
    req_string(cx, root, "kind", &m->kind);
    section(cx, root, "metadata", decode_metadata, m);
    section(cx, root, "spec", decode_spec, m);
}

void lt__model_build(lt__model_ctx *cx, const lt__model_node *root, lt_model *m)
{
    decode_root(cx, root, m);
    /* whatever failed, the validators see strings, never NULL */
    if (m->api_version == NULL)
        m->api_version = "";
    if (m->kind == NULL)
        m->kind = "";
    if (m->name == NULL)
        m->name = "";
}
