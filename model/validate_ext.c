/*
 * validate_ext.c - latticed's own rules, run after wadm's: the rollout policy
 * (decoded here into m->rollout), the resources trait's placement, and checks
 * for manifests wadm accepts but that would crash or silently mislead a
 * scheduler (all-zero spread weights, clashing computed ids...). Errors here
 * are only for what is new in latticed or would crash wadm; the rest warns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "model_int.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_CLASH_REPORTS 100u /* bounds the quadratic search for the first clash */

static const char *const ROLLOUT_FIELDS[] = { "maxUnavailable" };

static void diag_at(lt__model_ctx *cx, lt_model_level lvl, const lt_model_loc *loc, const char *fmt,
                    ...) LT_PRINTF(4, 5);
static void diag_at(lt__model_ctx *cx, lt_model_level lvl, const lt_model_loc *loc, const char *fmt,
                    ...)
{
    lt_buf_reset(&cx->path);
    if (lt_buf_appends(&cx->path, loc->path) != LT_OK)
        lt_buf_reset(&cx->path);
    /* the precise node the path names, else the element's own location */
    const lt__model_node *n = lt__model_node_at_path(cx->root, cx->path.ptr);
    lt__model_node at = { .line = loc->line, .column = loc->column };
    if (n != NULL && n->line > 0 && cx->path.len > 0)
        at = (lt__model_node){ .line = n->line, .column = n->column };
    va_list ap;
    va_start(ap, fmt);
    lt__model_vdiag(cx, lvl, LT__MODEL_CODE_LATTICED, &at, fmt, ap);
    va_end(ap);
    lt_buf_reset(&cx->path);
}

/* ---- rollout policy ------------------------------------------------------------------------- */

/* "N" (instances) or "N%" (0..100). */
static bool parse_max_unavailable(const char *s, lt_model_rollout *r)
{
    size_t len = strlen(s);
    bool percent = len > 0 && s[len - 1] == '%';
    size_t digits = percent ? len - 1 : len;
    if (digits == 0 || digits > 9)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < digits; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (percent && v > 100)
        return false;
    r->percent = percent;
    r->max_unavailable = v;
    return true;
}

static void rollout_policy(lt__model_ctx *cx, lt_model *m)
{
    const lt_model_policy *seen = NULL;
    for (size_t i = 0; i < m->policy_count; i++) {
        const lt_model_policy *p = &m->policies[i];
        if (strcmp(p->type, LT_MODEL_POLICY_ROLLOUT_TYPE) != 0)
            continue;
        if (seen != NULL) {
            diag_at(cx, LT_MODEL_ERROR, &p->loc,
                    "only one %s policy is allowed (policy '%s' is the first)",
                    LT_MODEL_POLICY_ROLLOUT_TYPE, seen->name);
            continue;
        }
        seen = p;
        for (size_t k = 0; k < p->properties.count; k++) {
            const char *key = p->properties.items[k].key;
            if (strcmp(key, ROLLOUT_FIELDS[0]) == 0)
                continue;
            const char *hint = lt__model_suggest(key, ROLLOUT_FIELDS, COUNT(ROLLOUT_FIELDS));
            diag_at(cx, LT_MODEL_ERROR, &p->loc,
                    "unknown field `%s` in %s policy '%s', expected `maxUnavailable`%s%s%s", key,
                    LT_MODEL_POLICY_ROLLOUT_TYPE, p->name, hint != NULL ? " (did you mean '" : "",
                    hint != NULL ? hint : "", hint != NULL ? "'?)" : "");
        }
        const char *v = lt_model_map_get(&p->properties, ROLLOUT_FIELDS[0]);
        lt_model_rollout r = { .set = true };
        if (v == NULL)
            diag_at(cx, LT_MODEL_ERROR, &p->loc, "%s policy '%s' is missing `maxUnavailable`",
                    LT_MODEL_POLICY_ROLLOUT_TYPE, p->name);
        else if (!parse_max_unavailable(v, &r))
            diag_at(cx, LT_MODEL_ERROR, &p->loc,
                    "invalid maxUnavailable \"%s\" in policy '%s': expected a number of "
                    "instances (\"1\") or a percentage from 0%% to 100%% (\"25%%\")",
                    v, p->name);
        else
            m->rollout = r;
    }
}

/* ---- per component -------------------------------------------------------------------------- */

static void scaler_rules(lt__model_ctx *cx, const lt_model_component *c, const lt_model_trait *t)
{
    const lt_model_scaler *s = &t->scaler;
    uint64_t total = 0;
    bool overflow = false;
    for (size_t k = 0; k < s->spread_count; k++) {
        uint64_t product;
        overflow = overflow || __builtin_add_overflow(total, s->spreads[k].weight, &total) ||
                   __builtin_mul_overflow(s->instances, s->spreads[k].weight, &product);
    }
    if (t->kind == LT_MODEL_TRAIT_SPREADSCALER && s->spread_count > 0 && total == 0)
        diag_at(cx, LT_MODEL_ERROR, &t->loc,
                "the spreads of component '%s' all have weight 0: instances cannot be divided",
                c->name);
    if (overflow)
        diag_at(cx, LT_MODEL_ERROR, &t->loc,
                "instances and spread weights of component '%s' are too large to compute with",
                c->name);
}

static void component_rules(lt__model_ctx *cx, const lt_model *m, const lt_model_component *c)
{
    size_t scalers = 0, resources = 0;
    for (size_t j = 0; j < c->trait_count; j++) {
        const lt_model_trait *t = &c->traits[j];
        if (t->kind == LT_MODEL_TRAIT_SPREADSCALER || t->kind == LT_MODEL_TRAIT_DAEMONSCALER) {
            scaler_rules(cx, c, t);
            if (++scalers == 2)
                diag_at(cx, LT_MODEL_WARNING, &t->loc,
                        "component '%s' has more than one scaler trait: each runs its own "
                        "instances",
                        c->name);
        } else if (t->kind == LT_MODEL_TRAIT_RESOURCES) {
            if (++resources == 2)
                diag_at(cx, LT_MODEL_ERROR, &t->loc, "component '%s' has more than one %s trait",
                        c->name, LT_MODEL_TRAIT_RESOURCES_TYPE);
            if (c->image == NULL && c->shared_app != NULL)
                diag_at(cx, LT_MODEL_ERROR, &t->loc,
                        "Shared component '%s' cannot specify resources: the shared "
                        "application sets them",
                        c->shared_app);
        } else if (t->kind == LT_MODEL_TRAIT_LINK && c->kind == LT_MODEL_CAPABILITY) {
            const lt_model_component *target = lt_model_find_component(m, t->link.target);
            if (target != NULL && target->kind == LT_MODEL_CAPABILITY)
                diag_at(cx, LT_MODEL_WARNING, &t->loc,
                        "link from capability '%s' to capability '%s' is ignored: a capability "
                        "links only to components",
                        c->name, target->name);
        }
    }
}

/* Two components that end up with the same id would fight over the same instances. */
static void id_clash_rules(lt__model_ctx *cx, const lt_model *m)
{
    size_t n = m->component_count;
    const char **ids = lt_calloc(n + 1, sizeof(*ids));
    bool *dup = NULL;
    if (ids == NULL)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        ids[i] = m->components[i].id != NULL ? m->components[i].id : "";
    dup = lt__model_dup_flags(ids, n);
    if (dup == NULL)
        goto nomem;
    size_t reported = 0;
    for (size_t i = 0; i < n && reported < MAX_CLASH_REPORTS; i++) {
        const lt_model_component *c = &m->components[i];
        /* wadm reports equal explicit ids (rule 6) and equal names (rule 5) itself */
        if (!dup[i] || c->explicit_id != NULL)
            continue;
        reported++;
        for (size_t k = 0; k < i; k++) {
            if (strcmp(ids[k], ids[i]) == 0 && strcmp(m->components[k].name, c->name) != 0) {
                diag_at(cx, LT_MODEL_WARNING, &c->loc,
                        "components '%s' and '%s' get the same id '%s'; give one an explicit `id`",
                        m->components[k].name, c->name, ids[i]);
                break;
            }
        }
    }
    goto out;
nomem:
    cx->nomem = true;
out:
    lt_free(ids);
    lt_free(dup);
}

static void policy_name_rules(lt__model_ctx *cx, const lt_model *m)
{
    const char **names = lt_calloc(m->policy_count + 1, sizeof(*names));
    bool *dup = NULL;
    if (names != NULL) {
        for (size_t i = 0; i < m->policy_count; i++)
            names[i] = m->policies[i].name;
        dup = lt__model_dup_flags(names, m->policy_count);
    }
    if (dup == NULL)
        cx->nomem = true;
    for (size_t i = 0; dup != NULL && i < m->policy_count; i++) {
        if (dup[i])
            diag_at(cx, LT_MODEL_WARNING, &m->policies[i].loc,
                    "duplicate policy name '%s': the last one is used", names[i]);
    }
    lt_free(names);
    lt_free(dup);
}

void lt__model_validate_latticed(lt__model_ctx *cx, lt_model *m)
{
    lt_model_loc top = { 0, 0, "" };
    if (m->api_version[0] != '\0' && strcmp(m->api_version, LT_MODEL_OAM_VERSION) != 0) {
        top.path = "apiVersion";
        diag_at(cx, LT_MODEL_WARNING, &top, "apiVersion '%s' is not '%s'", m->api_version,
                LT_MODEL_OAM_VERSION);
    }
    if (m->kind[0] != '\0' && strcmp(m->kind, LT_MODEL_APP_KIND) != 0) {
        top.path = "kind";
        diag_at(cx, LT_MODEL_WARNING, &top, "kind '%s' is not '%s'", m->kind, LT_MODEL_APP_KIND);
    }
    rollout_policy(cx, m);
    policy_name_rules(cx, m);
    for (size_t i = 0; i < m->component_count; i++)
        component_rules(cx, m, &m->components[i]);
    id_clash_rules(cx, m);
}
