/*
 * validate.c - every rule of wadm's validate_manifest (github.com/wasmCloud/wadm,
 * crates/wadm-types/src/validation.rs; docs/manifest.md lists them) with wadm's exact
 * message texts, run in wadm's order. Unlike wadm, every finding is reported,
 * each at the model element it concerns. Sets and lookups sort rather than
 * compare all pairs, so a manifest with many components stays cheap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "model_int.h"

/* ---- finding helpers ------------------------------------------------------------------------ */

/* A wadm finding at a model location plus a path suffix (".name", ".properties"). With a
 * suffix, line and column are those of the node the whole path names. */
static void diag_in(lt__model_ctx *cx, lt_model_level lvl, const lt_model_loc *loc,
                    const char *suffix, const char *fmt, ...) LT_PRINTF(5, 6);
static void diag_in(lt__model_ctx *cx, lt_model_level lvl, const lt_model_loc *loc,
                    const char *suffix, const char *fmt, ...)
{
    lt_buf_reset(&cx->path);
    if (lt_buf_appends(&cx->path, loc->path) != LT_OK ||
        (suffix != NULL && lt_buf_appends(&cx->path, suffix) != LT_OK))
        lt_buf_reset(&cx->path);
    /* with a suffix, the node the whole path names (else the element's own location) */
    const lt__model_node *n =
        suffix != NULL ? lt__model_node_at_path(cx->root, cx->path.ptr) : NULL;
    lt__model_node at = { .line = loc->line, .column = loc->column };
    if (n != NULL && n->line > 0)
        at = (lt__model_node){ .line = n->line, .column = n->column };
    va_list ap;
    va_start(ap, fmt);
    lt__model_vdiag(cx, lvl, LT__MODEL_CODE_WADM, &at, fmt, ap);
    va_end(ap);
    lt_buf_reset(&cx->path);
}

static const lt__model_node *component_node(const lt__model_node *root, size_t i)
{
    const lt__model_node *c = lt__model_node_get(lt__model_node_get(root, "spec"), "components");
    return c != NULL && c->kind == LT__NODE_SEQ && i < c->count ? c->items[i] : NULL;
}

static const lt__model_node *trait_node(const lt__model_node *root, size_t i, size_t j)
{
    const lt__model_node *t = lt__model_node_get(component_node(root, i), "traits");
    return t != NULL && t->kind == LT__NODE_SEQ && j < t->count ? t->items[j] : NULL;
}

static bool is_link(const lt_model_trait *t)
{
    return strcmp(t->type, "link") == 0;
}

static bool is_scaler(const lt_model_trait *t)
{
    return strcmp(t->type, "spreadscaler") == 0 || strcmp(t->type, "daemonscaler") == 0;
}

/* A sorted copy of the component names, for membership tests. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char **sorted_names(lt__model_ctx *cx, const lt_model *m)
{
    const char **names = lt_calloc(m->component_count + 1, sizeof(*names));
    if (names == NULL) {
        cx->nomem = true;
        return NULL;
    }
    for (size_t i = 0; i < m->component_count; i++)
        names[i] = m->components[i].name;
    qsort(names, m->component_count, sizeof(*names), cmp_str);
    return names;
}

static bool has_name(const char **names, size_t n, const char *name)
{
    return bsearch(&name, names, n, sizeof(*names), cmp_str) != NULL;
}

/* ---- rules 1-4: metadata -------------------------------------------------------------------- */

static int cmp_key_node(const void *a, const void *b)
{
    return strcmp((*(const lt__model_node *const *)a)->text,
                  (*(const lt__model_node *const *)b)->text);
}

/* The key nodes of a map sorted by text, to find a key's location in O(log n). */
static lt__model_node **sorted_keys(lt__model_ctx *cx, const lt__model_node *map)
{
    if (map == NULL || map->kind != LT__NODE_MAP || map->count == 0)
        return NULL;
    lt__model_node **keys = lt_calloc(map->count, sizeof(*keys));
    if (keys == NULL) {
        cx->nomem = true;
        return NULL;
    }
    memcpy(keys, map->keys, map->count * sizeof(*keys));
    qsort(keys, map->count, sizeof(*keys), cmp_key_node);
    return keys;
}

static const lt__model_node *find_key(lt__model_node **keys, size_t n, const char *key)
{
    if (keys == NULL)
        return NULL;
    lt__model_node probe = { .text = key };
    const lt__model_node *pp = &probe;
    lt__model_node **hit = bsearch(&pp, keys, n, sizeof(*keys), cmp_key_node);
    return hit != NULL ? *hit : NULL;
}

static void metadata_rules(lt__model_ctx *cx, const lt_model *m, const lt__model_node *root)
{
    const lt__model_node *meta = lt__model_node_get(root, "metadata");
    const lt__model_node *name = lt__model_node_get(meta, "name");
    lt_model_loc loc = { 0, 0, "metadata.name" };
    if (name != NULL && name->kind == LT__NODE_STR && !lt_model_name_is_valid(m->name)) {
        loc = (lt_model_loc){ name->line, name->column, "metadata.name" };
        diag_in(cx, LT_MODEL_ERROR, &loc, NULL,
                "manifest name [%s] is not allowed (should match regex [^[-\\w]+$])", m->name);
    }
    if (m->version != NULL && strcmp(m->version, "latest") == 0) {
        const lt__model_node *v =
            lt__model_node_get(lt__model_node_get(meta, "annotations"), "version");
        loc = (lt_model_loc){ v != NULL ? v->line : 0, v != NULL ? v->column : 0,
                              "metadata.annotations.version" };
        diag_in(cx, LT_MODEL_ERROR, &loc, NULL, "latest is not allowed in wadm");
    }
    const char *what[2] = { "labels", "annotations" };
    const lt_model_map *maps[2] = { &m->labels, &m->annotations };
    lt__model_node **keys[2] = { sorted_keys(cx, lt__model_node_get(meta, what[0])),
                                 sorted_keys(cx, lt__model_node_get(meta, what[1])) };
    for (size_t k = 0; k < 2; k++) {
        const lt__model_node *mn = lt__model_node_get(meta, what[k]);
        for (size_t i = 0; i < maps[k]->count; i++) {
            const lt_model_kv *kv = &maps[k]->items[i];
            if (lt_model_label_key_is_valid(kv->key))
                continue;
            lt_buf dbg;
            lt_buf_init(&dbg, LT__MESSAGE_MAX);
            if (lt__model_rust_debug_str(&dbg, kv->key) != LT_OK || lt_buf_appends(&dbg, ", ") ||
                lt__model_rust_debug_str(&dbg, kv->value) != LT_OK) {
                lt_buf_truncate(&dbg, dbg.len); /* keep what fitted, then mark the cut */
                LT_IGNORE(lt_buf_appends(&dbg, "..."));
            }
            const lt__model_node *kn = find_key(keys[k], mn != NULL ? mn->count : 0, kv->key);
            lt_buf path;
            lt_buf_init(&path, LT_MAX_PATH);
            LT_IGNORE(lt_buf_appendf(&path, "metadata.%s", what[k]));
            (void)lt__model_path_append_key(&path, kv->key);
            loc =
                (lt_model_loc){ kn != NULL ? kn->line : 0, kn != NULL ? kn->column : 0, path.ptr };
            diag_in(cx, LT_MODEL_ERROR, &loc, NULL, "Invalid OAM %s: (%s)",
                    k == 0 ? "label" : "annotation", dbg.ptr);
            lt_buf_cleanup(&path);
            lt_buf_cleanup(&dbg);
        }
    }
    lt_free(keys[0]);
    lt_free(keys[1]);
}

/* ---- rules 5-7: names, ids, link targets (wadm's core_validation) --------------------------- */

static void missing_targets(lt__model_ctx *cx, const lt_model *m, const char **names)
{
    const lt_model_loc *first = NULL;
    const char **missing = NULL;
    size_t nmissing = 0, cap = 0;
    for (size_t i = 0; i < m->component_count; i++) {
        const lt_model_component *c = &m->components[i];
        for (size_t j = 0; j < c->trait_count; j++) {
            const lt_model_trait *t = &c->traits[j];
            if (t->shape != LT_MODEL_SHAPE_LINK ||
                has_name(names, m->component_count, t->link.target))
                continue;
            if (nmissing == cap) {
                cap = cap == 0 ? 8 : cap * 2;
                const char **p = lt_realloc(missing, cap * sizeof(*p));
                if (p == NULL) {
                    cx->nomem = true;
                    goto out;
                }
                missing = p;
            }
            missing[nmissing++] = t->link.target;
            if (first == NULL)
                first = &t->loc;
        }
    }
    if (nmissing == 0)
        goto out;
    qsort(missing, nmissing, sizeof(*missing), cmp_str);
    lt_buf list;
    lt_buf_init(&list, LT__MESSAGE_MAX);
    LT_IGNORE(lt_buf_appendc(&list, '['));
    for (size_t i = 0; i < nmissing; i++) {
        if (i > 0 && strcmp(missing[i], missing[i - 1]) == 0)
            continue; /* a set, as in wadm */
        if ((i > 0 && lt_buf_appends(&list, ", ") != LT_OK) ||
            lt__model_rust_debug_str(&list, missing[i]) != LT_OK)
            break;
    }
    LT_IGNORE(lt_buf_appendc(&list, ']'));
    diag_in(cx, LT_MODEL_ERROR, first, ".properties.target",
            "The following capability component(s) are missing from the manifest: %s", list.ptr);
    lt_buf_cleanup(&list);
out:
    lt_free(missing);
}

static void core_rules(lt__model_ctx *cx, const lt_model *m, const char **names)
{
    size_t n = m->component_count;
    const char **keys = lt_calloc(n + 1, sizeof(*keys));
    bool *dup_name = NULL, *dup_id = NULL;
    if (keys == NULL)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        keys[i] = m->components[i].name;
    dup_name = lt__model_dup_flags(keys, n);
    /* explicit ids only; components without one get a key no id can equal */
    for (size_t i = 0; i < n; i++)
        keys[i] = m->components[i].explicit_id;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (keys[i] != NULL)
            keys[k++] = keys[i];
    }
    dup_id = lt__model_dup_flags(keys, k);
    if (dup_name == NULL || dup_id == NULL)
        goto nomem;
    k = 0;
    for (size_t i = 0; i < n; i++) {
        const lt_model_component *c = &m->components[i];
        if (dup_name[i])
            diag_in(cx, LT_MODEL_ERROR, &c->loc, ".name",
                    "Duplicate component name in manifest: %s", c->name);
        if (c->explicit_id != NULL && dup_id[k++])
            diag_in(cx, LT_MODEL_ERROR, &c->loc, ".properties.id",
                    "Duplicate component identifier in manifest: %s", c->explicit_id);
    }
    missing_targets(cx, m, names);
    goto out;
nomem:
    cx->nomem = true;
out:
    lt_free(keys);
    lt_free(dup_name);
    lt_free(dup_id);
}

/* ---- rules 8, 9: interfaces and dangling links ---------------------------------------------- */

static void interface_rules(lt__model_ctx *cx, const lt_model *m)
{
    for (size_t i = 0; i < m->component_count; i++) {
        const lt_model_component *c = &m->components[i];
        for (size_t j = 0; j < c->trait_count; j++) {
            const lt_model_trait *t = &c->traits[j];
            if (!is_link(t) || t->shape != LT_MODEL_SHAPE_LINK)
                continue;
            for (size_t k = 0; k < t->link.interface_count; k++) {
                const lt_model_link *l = &t->link;
                if (!lt__model_interface_unrecognized(l->wit_namespace, l->wit_package,
                                                      l->interfaces[k]))
                    continue;
                char suffix[64];
                snprintf(suffix, sizeof(suffix), ".properties.interfaces[%zu]", k);
                diag_in(cx, LT_MODEL_WARNING, &t->loc, suffix, "unrecognized interface [%s:%s/%s]",
                        l->wit_namespace, l->wit_package, l->interfaces[k]);
            }
        }
    }
}

static void custom_link_target(lt__model_ctx *cx, const lt_model_trait *t,
                               const lt__model_node *props, const char **names, size_t n)
{
    const lt__model_node *target = lt__model_node_get(props, "target");
    if (target == NULL) {
        diag_in(cx, LT_MODEL_ERROR, &t->loc, ".properties",
                "custom link is missing 'target' property");
        return;
    }
    const lt__model_node *name = lt__model_node_get(target, "name");
    if (name == NULL || name->kind != LT__NODE_STR) {
        diag_in(cx, LT_MODEL_ERROR, &t->loc, ".properties.target",
                "custom link is missing 'target' name property");
        return;
    }
    if (!has_name(names, n, name->text))
        diag_in(cx, LT_MODEL_WARNING, &t->loc, ".properties.target",
                "custom link target [%s] is not a listed component", name->text);
}

static void dangling_rules(lt__model_ctx *cx, const lt_model *m, const lt__model_node *root,
                           const char **names)
{
    size_t n = m->component_count;
    for (size_t i = 0; i < n; i++) {
        const lt_model_component *c = &m->components[i];
        for (size_t j = 0; j < c->trait_count; j++) {
            const lt_model_trait *t = &c->traits[j];
            if (!is_link(t))
                continue;
            if (t->shape == LT_MODEL_SHAPE_CUSTOM) {
                custom_link_target(cx, t, lt__model_node_get(trait_node(root, i, j), "properties"),
                                   names, n);
            } else if (t->shape == LT_MODEL_SHAPE_LINK && !has_name(names, n, t->link.target)) {
                if (t->link.name_explicit)
                    diag_in(cx, LT_MODEL_WARNING, &t->loc, ".properties.target",
                            "link (name [%s]) target [%s] is not a listed component", t->link.name,
                            t->link.target);
                else
                    diag_in(cx, LT_MODEL_WARNING, &t->loc, ".properties.target",
                            "link (target [%s]) target [%s] is not a listed component",
                            t->link.target, t->link.target);
            }
        }
    }
}

/* ---- rule 10: secrets and policies ---------------------------------------------------------- */

/* Policies sorted by name, the last of equal names kept (wadm's HashMap keeps the last). */
typedef struct {
    const lt_model_policy **items;
    size_t count;
} policy_index;

static int cmp_policy(const void *a, const void *b)
{
    const lt_model_policy *x = *(const lt_model_policy *const *)a;
    const lt_model_policy *y = *(const lt_model_policy *const *)b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x < y ? -1 : x > y);
}

static policy_index index_policies(lt__model_ctx *cx, const lt_model *m)
{
    policy_index ix = { lt_calloc(m->policy_count + 1, sizeof(*ix.items)), 0 };
    if (ix.items == NULL) {
        cx->nomem = true;
        return ix;
    }
    for (size_t i = 0; i < m->policy_count; i++)
        ix.items[i] = &m->policies[i];
    qsort(ix.items, m->policy_count, sizeof(*ix.items), cmp_policy);
    for (size_t i = 0; i < m->policy_count; i++) {
        if (i + 1 < m->policy_count && strcmp(ix.items[i]->name, ix.items[i + 1]->name) == 0)
            continue; /* a later one of that name follows */
        ix.items[ix.count++] = ix.items[i];
    }
    return ix;
}

static const lt_model_policy *find_policy(const policy_index *ix, const char *name)
{
    size_t lo = 0, hi = ix->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ix->items[mid]->name, name);
        if (c == 0)
            return ix->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void check_secrets(lt__model_ctx *cx, const policy_index *ix, const lt_model_secret *s,
                          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const lt_model_policy *p = find_policy(ix, s[i].policy);
        if (p == NULL)
            diag_in(cx, LT_MODEL_ERROR, &s[i].loc, ".properties.policy",
                    "secret '%s' is mapped to unknown policy '%s'", s[i].name, s[i].policy);
        else if (strcmp(p->type, LT_MODEL_SECRET_POLICY_TYPE) != 0)
            diag_in(cx, LT_MODEL_ERROR, &s[i].loc, ".properties.policy",
                    "secret '%s' is mapped to policy '%s' which is not a secret policy. "
                    "Expected type '%s'",
                    s[i].name, s[i].policy, LT_MODEL_SECRET_POLICY_TYPE);
        else if (lt_model_map_get(&p->properties, "backend") == NULL)
            diag_in(cx, LT_MODEL_ERROR, &s[i].loc, ".properties.policy",
                    "secret '%s' is mapped to policy '%s' which does not include a 'backend' "
                    "property",
                    s[i].name, s[i].policy);
    }
}

static void policy_rules(lt__model_ctx *cx, const lt_model *m)
{
    policy_index ix = index_policies(cx, m);
    if (ix.items == NULL)
        return;
    for (size_t i = 0; i < m->component_count; i++) {
        const lt_model_component *c = &m->components[i];
        for (size_t j = 0; j < c->trait_count; j++) {
            const lt_model_link *l = &c->traits[j].link;
            if (c->traits[j].shape != LT_MODEL_SHAPE_LINK)
                continue;
            check_secrets(cx, &ix, l->target_secrets, l->target_secret_count);
            check_secrets(cx, &ix, l->source_secrets, l->source_secret_count);
        }
        check_secrets(cx, &ix, c->secrets, c->secret_count);
    }
    lt_free(ix.items);
}

/* ---- rules 11, 12: custom traits, component properties -------------------------------------- */

static void custom_trait_rules(lt__model_ctx *cx, const lt_model *m, const lt__model_node *root)
{
    for (size_t i = 0; i < m->component_count; i++) {
        const lt_model_component *c = &m->components[i];
        for (size_t j = 0; j < c->trait_count; j++) {
            const lt_model_trait *t = &c->traits[j];
            const char *json = t->properties_json != NULL ? t->properties_json : "null";
            /* latticed: a link typed trait read as a scaler panics wadm; same message */
            if (is_link(t) && t->shape != LT_MODEL_SHAPE_LINK)
                diag_in(cx, LT_MODEL_ERROR, &t->loc, ".properties",
                        "Link trait deserialized as custom trait, ensure fields are correct: %s",
                        json);
            else if (is_scaler(t) && t->shape == LT_MODEL_SHAPE_CUSTOM)
                diag_in(cx, LT_MODEL_ERROR, &t->loc, ".properties",
                        "Scaler trait deserialized as custom trait, ensure fields are correct: %s",
                        json);
            else
                continue;
            /* then the precise reasons, each at its own field */
            lt__model_explain_trait(cx, lt__model_node_get(trait_node(root, i, j), "properties"),
                                    t);
        }
    }
}

static void property_rules(lt__model_ctx *cx, const lt_model *m)
{
    for (size_t i = 0; i < m->component_count; i++) {
        const lt_model_component *c = &m->components[i];
        bool has_scaler = false;
        for (size_t j = 0; j < c->trait_count; j++)
            has_scaler = has_scaler || is_scaler(&c->traits[j]);
        if (c->image != NULL && c->shared_app != NULL)
            diag_in(cx, LT_MODEL_ERROR, &c->loc, ".properties",
                    "Component cannot have both 'image' and 'application' properties");
        else if (c->image == NULL && c->shared_app == NULL)
            diag_in(cx, LT_MODEL_ERROR, &c->loc, ".properties",
                    "Component must have either 'image' or 'application' property");
        else if (c->image == NULL && c->config_count > 0)
            diag_in(cx, LT_MODEL_ERROR, &c->loc, ".properties.config",
                    "Shared component '%s' cannot specify additional 'config'", c->shared_app);
        else if (c->image == NULL && c->secret_count > 0)
            diag_in(cx, LT_MODEL_ERROR, &c->loc, ".properties.secrets",
                    "Shared component '%s' cannot specify additional 'secrets'", c->shared_app);
        else if (c->image == NULL && has_scaler)
            diag_in(cx, LT_MODEL_ERROR, &c->loc, ".traits",
                    "Shared component '%s' cannot include a scaler trait", c->shared_app);
    }
}

/* ---- rules 13, 14: duplicate links and link config names ------------------------------------ */

static void duplicate_link_rules(lt__model_ctx *cx, const lt_model *m)
{
    for (size_t i = 0; i < m->component_count; i++) {
        const lt_model_component *c = &m->components[i];
        size_t n = 0;
        for (size_t j = 0; j < c->trait_count; j++) {
            if (is_link(&c->traits[j]) && c->traits[j].shape == LT_MODEL_SHAPE_LINK)
                n += c->traits[j].link.interface_count;
        }
        if (n < 2)
            continue;
        char **keys = lt_calloc(n, sizeof(*keys));
        const lt_model_trait **owner = lt_calloc(n, sizeof(*owner));
        size_t *iface = lt_calloc(n, sizeof(*iface));
        bool *dup = NULL;
        size_t k = 0;
        for (size_t j = 0; keys != NULL && owner != NULL && iface != NULL && j < c->trait_count;
             j++) {
            const lt_model_trait *t = &c->traits[j];
            if (!is_link(t) || t->shape != LT_MODEL_SHAPE_LINK)
                continue;
            for (size_t f = 0; f < t->link.interface_count; f++, k++) {
                lt_buf key;
                lt_buf_init(&key, LT__JSON_TEXT_MAX);
                if (lt_buf_appendf(&key, "%s\x1f%s\x1f%s\x1f%s", t->link.name,
                                   t->link.wit_namespace, t->link.wit_package,
                                   t->link.interfaces[f]) == LT_OK)
                    keys[k] = lt_buf_take(&key);
                lt_buf_cleanup(&key);
                owner[k] = t;
                iface[k] = f;
            }
        }
        bool complete = k == n;
        for (size_t q = 0; complete && q < n; q++)
            complete = keys[q] != NULL;
        if (complete)
            dup = lt__model_dup_flags((const char *const *)keys, n);
        if (dup == NULL)
            cx->nomem = true;
        for (size_t q = 0; dup != NULL && q < n; q++) {
            if (!dup[q])
                continue;
            const lt_model_link *l = &owner[q]->link;
            diag_in(cx, LT_MODEL_ERROR, &owner[q]->loc, ".properties",
                    "Duplicate link found inside component '%s': %s (%s:%s/%s)", c->name, l->name,
                    l->wit_namespace, l->wit_package, l->interfaces[iface[q]]);
        }
        for (size_t q = 0; keys != NULL && q < n; q++)
            lt_free(keys[q]);
        lt_free(keys);
        lt_free(owner);
        lt_free(iface);
        lt_free(dup);
    }
}

static void link_config_rules(lt__model_ctx *cx, const lt_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->component_count; i++) {
        const lt_model_component *c = &m->components[i];
        for (size_t j = 0; j < c->trait_count; j++) {
            const lt_model_link *l = &c->traits[j].link;
            if (is_link(&c->traits[j]) && c->traits[j].shape == LT_MODEL_SHAPE_LINK)
                n += l->target_config_count + l->source_config_count;
        }
    }
    const char **names = lt_calloc(n + 1, sizeof(*names));
    const lt_model_config **cfgs = lt_calloc(n + 1, sizeof(*cfgs));
    bool *dup = NULL;
    if (names == NULL || cfgs == NULL)
        goto nomem;
    size_t k = 0;
    for (size_t i = 0; i < m->component_count; i++) {
        const lt_model_component *c = &m->components[i];
        for (size_t j = 0; j < c->trait_count; j++) {
            const lt_model_link *l = &c->traits[j].link;
            if (!is_link(&c->traits[j]) || c->traits[j].shape != LT_MODEL_SHAPE_LINK)
                continue;
            /* only wadm-managed configs (with properties) must be unique */
            for (size_t q = 0; q < l->target_config_count; q++) {
                if (l->target_config[q].has_properties)
                    cfgs[k] = &l->target_config[q], names[k++] = l->target_config[q].name;
            }
            for (size_t q = 0; q < l->source_config_count; q++) {
                if (l->source_config[q].has_properties)
                    cfgs[k] = &l->source_config[q], names[k++] = l->source_config[q].name;
            }
        }
    }
    dup = lt__model_dup_flags(names, k);
    if (dup == NULL)
        goto nomem;
    for (size_t q = 0; q < k; q++) {
        if (dup[q])
            diag_in(cx, LT_MODEL_ERROR, &cfgs[q]->loc, ".name",
                    "Duplicate link config name found: '%s'", names[q]);
    }
    goto out;
nomem:
    cx->nomem = true;
out:
    lt_free(names);
    lt_free(cfgs);
    lt_free(dup);
}

/* ---- rule 15: deprecated link keys, read from the raw document ------------------------------ */

static void raw_document_rules(lt__model_ctx *cx, const lt__model_node *root)
{
    const lt__model_node *comps =
        lt__model_node_get(lt__model_node_get(root, "spec"), "components");
    for (size_t i = 0; comps != NULL && comps->kind == LT__NODE_SEQ && i < comps->count; i++) {
        const lt__model_node *traits = lt__model_node_get(comps->items[i], "traits");
        for (size_t j = 0; traits != NULL && traits->kind == LT__NODE_SEQ && j < traits->count;
             j++) {
            const lt__model_node *t = traits->items[j];
            const lt__model_node *type = lt__model_node_get(t, "type");
            if (type != NULL && (type->kind != LT__NODE_STR || strcmp(type->text, "link") != 0))
                continue;
            const lt__model_node *props = lt__model_node_get(t, "properties");
            char path[128];
            const lt__model_node *sc = lt__model_node_key_node(props, "source_config");
            const lt__model_node *tc = lt__model_node_key_node(props, "target_config");
            lt_model_loc loc = { 0, 0, path };
            if (sc != NULL) {
                snprintf(path, sizeof(path),
                         "spec.components[%zu].traits[%zu].properties.source_config", i, j);
                loc = (lt_model_loc){ sc->line, sc->column, path };
                diag_in(cx, LT_MODEL_WARNING, &loc, NULL,
                        "one of the components' link trait contains a source_config key, please "
                        "use source:config: rather");
            }
            if (tc != NULL) {
                snprintf(path, sizeof(path),
                         "spec.components[%zu].traits[%zu].properties.target_config", i, j);
                loc = (lt_model_loc){ tc->line, tc->column, path };
                diag_in(cx, LT_MODEL_WARNING, &loc, NULL,
                        "one of the components' link trait contains a target_config key, please "
                        "use target:config: rather");
            }
        }
    }
}

void lt__model_validate_wadm(lt__model_ctx *cx, const lt_model *m, const lt__model_node *root)
{
    const char **names = sorted_names(cx, m);
    if (names == NULL)
        return;
    metadata_rules(cx, m, root);
    core_rules(cx, m, names);
    interface_rules(cx, m);
    dangling_rules(cx, m, root, names);
    policy_rules(cx, m);
    custom_trait_rules(cx, m, root);
    property_rules(cx, m);
    duplicate_link_rules(cx, m);
    link_config_rules(cx, m);
    raw_document_rules(cx, root);
    lt_free(names);
}
