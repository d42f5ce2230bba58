/*
 * serialize.c - the canonical JSON form of a model, for storage and `get`:
 * wadm's field names and order (what wadm's serde would write), optional
 * fields omitted when empty, maps sorted, deprecated link forms rewritten,
 * custom trait properties verbatim with sorted keys. Parsing the result gives
 * an equal model, and serialising that gives the same bytes.
 */
#include <string.h>

#include "model_int.h"

/* Every builder returns NULL when out of memory (jansson takes NULL values gracefully in
 * json_object_set_new, which then fails and is reported). */

typedef struct {
    bool failed;
} jb;

static void set(jb *b, json_t *obj, const char *key, json_t *v)
{
    if (v == NULL || json_object_set_new(obj, key, v) != 0)
        b->failed = true;
}

static void append(jb *b, json_t *arr, json_t *v)
{
    if (v == NULL || json_array_append_new(arr, v) != 0)
        b->failed = true;
}

static json_t *str(const char *s)
{
    return json_string(s);
}

static json_t *map_json(jb *b, const lt_model_map *m)
{
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < m->count; i++)
        set(b, o, m->items[i].key, str(m->items[i].value));
    return o;
}

static json_t *configs_json(jb *b, const lt_model_config *c, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        json_t *o = json_object();
        if (o != NULL) {
            set(b, o, "name", str(c[i].name));
            if (c[i].has_properties)
                set(b, o, "properties", map_json(b, &c[i].properties));
        }
        append(b, a, o);
    }
    return a;
}

static json_t *secrets_json(jb *b, const lt_model_secret *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        json_t *o = json_object();
        json_t *p = json_object();
        if (o != NULL && p != NULL) {
            set(b, p, "policy", str(s[i].policy));
            set(b, p, "key", str(s[i].key));
            if (s[i].field != NULL)
                set(b, p, "field", str(s[i].field));
            if (s[i].version != NULL)
                set(b, p, "version", str(s[i].version));
            set(b, o, "name", str(s[i].name));
        }
        set(b, o, "properties", p);
        append(b, a, o);
    }
    return a;
}

/* config/secrets pair as wadm writes it: each omitted when empty */
static void config_secrets(jb *b, json_t *o, const lt_model_config *c, size_t nc,
                           const lt_model_secret *s, size_t ns)
{
    if (o == NULL)
        return;
    if (nc > 0)
        set(b, o, "config", configs_json(b, c, nc));
    if (ns > 0)
        set(b, o, "secrets", secrets_json(b, s, ns));
}

static json_t *scaler_json(jb *b, const lt_model_scaler *sc)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    set(b, o, "instances", json_integer((json_int_t)sc->instances));
    if (sc->spread_count == 0)
        return o;
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < sc->spread_count; i++) {
        const lt_model_spread *s = &sc->spreads[i];
        json_t *so = json_object();
        if (so != NULL) {
            set(b, so, "name", str(s->name));
            if (s->requirements.count > 0)
                set(b, so, "requirements", map_json(b, &s->requirements));
            if (s->has_weight)
                set(b, so, "weight", json_integer((json_int_t)s->weight));
        }
        append(b, a, so);
    }
    set(b, o, "spread", a);
    return o;
}

static const char *colocate_name(lt_model_colocate c)
{
    switch (c) {
    case LT_MODEL_COLOCATE_NONE:
        return "none";
    case LT_MODEL_COLOCATE_PREFERRED:
        return "preferred";
    case LT_MODEL_COLOCATE_REQUIRED:
        return "required";
    case LT_MODEL_COLOCATE_UNSET:
        break;
    }
    return NULL;
}

static json_t *link_json(jb *b, const lt_model_link *l)
{
    json_t *o = json_object();
    json_t *ifaces = json_array();
    json_t *target = json_object();
    if (o == NULL || ifaces == NULL || target == NULL) {
        json_decref(ifaces);
        json_decref(target);
        json_decref(o);
        return NULL;
    }
    set(b, o, "namespace", str(l->wit_namespace));
    set(b, o, "package", str(l->wit_package));
    for (size_t i = 0; i < l->interface_count; i++)
        append(b, ifaces, str(l->interfaces[i]));
    set(b, o, "interfaces", ifaces);
    if (l->has_source) {
        json_t *src = json_object();
        config_secrets(b, src, l->source_config, l->source_config_count, l->source_secrets,
                       l->source_secret_count);
        set(b, o, "source", src);
    }
    set(b, target, "name", str(l->target));
    config_secrets(b, target, l->target_config, l->target_config_count, l->target_secrets,
                   l->target_secret_count);
    set(b, o, "target", target);
    if (l->name_explicit)
        set(b, o, "name", str(l->name));
    const char *coloc = colocate_name(l->colocate);
    if (coloc != NULL)
        set(b, o, LT_MODEL_LINK_COLOCATE_KEY, str(coloc));
    return o;
}

static json_t *trait_json(jb *b, const lt_model_trait *t)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    set(b, o, "type", str(t->type));
    json_t *props = NULL;
    switch (t->kind) {
    case LT_MODEL_TRAIT_SPREADSCALER:
    case LT_MODEL_TRAIT_DAEMONSCALER:
        props = scaler_json(b, &t->scaler);
        break;
    case LT_MODEL_TRAIT_LINK:
        props = link_json(b, &t->link);
        break;
    case LT_MODEL_TRAIT_RESOURCES:
    case LT_MODEL_TRAIT_CUSTOM:
        props = t->properties_json != NULL ? json_loads(t->properties_json, JSON_DECODE_ANY, NULL)
                                           : json_null();
        break;
    }
    set(b, o, "properties", props);
    return o;
}

static json_t *component_json(jb *b, const lt_model_component *c)
{
    json_t *o = json_object();
    json_t *p = json_object();
    if (o == NULL || p == NULL) {
        json_decref(p);
        return o;
    }
    set(b, o, "name", str(c->name));
    set(b, o, "type", str(c->kind == LT_MODEL_CAPABILITY ? "capability" : "component"));
    if (c->image != NULL)
        set(b, p, "image", str(c->image));
    if (c->shared_app != NULL) {
        json_t *app = json_object();
        if (app != NULL) {
            set(b, app, "name", str(c->shared_app));
            set(b, app, "component", str(c->shared_component));
        }
        set(b, p, "application", app);
    }
    if (c->explicit_id != NULL)
        set(b, p, "id", str(c->explicit_id));
    config_secrets(b, p, c->config, c->config_count, c->secrets, c->secret_count);
    set(b, o, "properties", p);
    if (c->has_traits) {
        json_t *a = json_array();
        for (size_t i = 0; a != NULL && i < c->trait_count; i++)
            append(b, a, trait_json(b, &c->traits[i]));
        set(b, o, "traits", a);
    }
    return o;
}

static json_t *model_json(jb *b, const lt_model *m)
{
    json_t *root = json_object();
    json_t *meta = json_object();
    json_t *spec = json_object();
    json_t *comps = json_array();
    if (root == NULL || meta == NULL || spec == NULL || comps == NULL) {
        json_decref(meta);
        json_decref(spec);
        json_decref(comps);
        json_decref(root);
        return NULL;
    }
    set(b, root, "apiVersion", str(m->api_version));
    set(b, root, "kind", str(m->kind));
    set(b, meta, "name", str(m->name));
    if (m->annotations.count > 0)
        set(b, meta, "annotations", map_json(b, &m->annotations));
    if (m->labels.count > 0)
        set(b, meta, "labels", map_json(b, &m->labels));
    set(b, root, "metadata", meta);
    for (size_t i = 0; i < m->component_count; i++)
        append(b, comps, component_json(b, &m->components[i]));
    set(b, spec, "components", comps);
    if (m->policy_count > 0) {
        json_t *pols = json_array();
        for (size_t i = 0; pols != NULL && i < m->policy_count; i++) {
            const lt_model_policy *p = &m->policies[i];
            json_t *po = json_object();
            if (po != NULL) {
                set(b, po, "name", str(p->name));
                set(b, po, "properties", map_json(b, &p->properties));
                set(b, po, "type", str(p->type));
            }
            append(b, pols, po);
        }
        set(b, spec, "policies", pols);
    }
    set(b, root, "spec", spec);
    return root;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return lt_buf_append(data, buffer, size) == LT_OK ? 0 : -1;
}

lt_status lt_model_to_json(const lt_model *m, unsigned flags, lt_buf *out)
{
    jb b = { false };
    json_t *root = model_json(&b, m);
    if (root == NULL || b.failed) {
        json_decref(root);
        return LT_FAIL(LT_ERR_NOMEM, "building the canonical JSON");
    }
    size_t dump = (flags & LT_MODEL_JSON_PRETTY) ? JSON_INDENT(2) : JSON_COMPACT;
    size_t before = out->len;
    lt_status st = LT_OK;
    if (json_dump_callback(root, dump_cb, out, dump) != 0) {
        lt_buf_truncate(out, before);
        st = LT_FAIL(LT_ERR_TOO_BIG, "canonical JSON does not fit the buffer");
    }
    json_decref(root);
    return st;
}
