/*
 * plan_json.c - the reply of a plan (docs/api.md, "Plans"): the structural diff of the
 * deployed spec and the new one (per component and link), the commands of the shadow run
 * round by round and per host, the app's status at the end of the run and what could not be
 * placed, with the scheduler's reason. Every array is sorted: the same state, the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "plan_int.h"

#define REASON(x) LATTICED__CP__V1__APP_FAILURE_REASON__APP_FAILURE_REASON_##x

static const char *const verb_word[] = { "start", "stop", "link", "unlink" };

static const char *reason_word(int r)
{
    switch (r) {
    case REASON(SPREAD_CONFLICT):
        return "spread_conflict";
    case REASON(NO_HOSTS):
        return "no_hosts";
    case REASON(NO_ELIGIBLE_HOSTS):
        return "no_eligible_hosts";
    case REASON(INSUFFICIENT_CAPACITY):
        return "insufficient_capacity";
    case REASON(START_FAILED):
        return "start_failed";
    case REASON(LINK_FAILED):
        return "link_failed";
    default:
        return "pending";
    }
}

/* ---------------------------------------------------------------------------------------------
 * The diff
 * ------------------------------------------------------------------------------------------- */

static const spec_comp *comp_named(const lt_sched_spec *sp, const char *name)
{
    return sp != NULL ? lt__sched_spec_find(sp, name) : NULL;
}

static bool spreads_equal(const spec_comp *a, const spec_comp *b)
{
    size_t i;

    if (a->n_spreads != b->n_spreads)
        return false;
    for (i = 0; i < a->n_spreads; i++)
        if (!lt__sched_streq(a->spreads[i].name, b->spreads[i].name) ||
            a->spreads[i].weight != b->spreads[i].weight ||
            a->spreads[i].count != b->spreads[i].count ||
            !lt__sched_streq(a->spreads[i].selector, b->spreads[i].selector))
            return false;
    return true;
}

static bool config_equal(const spec_comp *a, const spec_comp *b)
{
    size_t i;

    if (a->n_cfg != b->n_cfg || a->n_sec != b->n_sec)
        return false;
    for (i = 0; i < a->n_cfg; i++)
        if (!lt__sched_streq(a->cfg[i].key, b->cfg[i].key) ||
            !lt__sched_streq(a->cfg[i].value, b->cfg[i].value))
            return false;
    return strcmp(a->digest, b->digest) == 0 || !lt__sched_streq(a->image, b->image) ||
           a->mem != b->mem || a->cpu != b->cpu;
}

static bool links_equal(const spec_comp *a, const spec_comp *b)
{
    size_t i;

    if (a->n_links != b->n_links)
        return false;
    for (i = 0; i < a->n_links; i++)
        if (strcmp(a->links[i].link_id, b->links[i].link_id) != 0 ||
            strcmp(a->links[i].digest, b->links[i].digest) != 0)
            return false;
    return true;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The component names of both specs, sorted, unique (borrowed). */
static const char **comp_names(const lt_sched_spec *a, const lt_sched_spec *b, size_t *n)
{
    size_t na = a != NULL ? a->n_comps : 0, nb = b != NULL ? b->n_comps : 0, i, k = 0;
    const char **v = lt_calloc(na + nb + 1, sizeof(*v));

    *n = 0;
    if (v == NULL)
        return NULL;
    for (i = 0; i < na; i++)
        v[k++] = a->comps[i].name;
    for (i = 0; i < nb; i++)
        v[k++] = b->comps[i].name;
    qsort(v, k, sizeof(*v), str_cmp);
    for (i = 0; i < k; i++)
        if (*n == 0 || strcmp(v[*n - 1], v[i]) != 0)
            v[(*n)++] = v[i];
    return v;
}

static void comp_diff(const spec_comp *o, const spec_comp *c, lt_buf *out)
{
    const char *change = o == NULL ? "added" : c == NULL ? "removed" : "unchanged";
    bool f[6] = { false };
    static const char *const fname[6] = { "image",     "instances", "spreads",
                                          "resources", "config",    "links" };
    size_t i, nf = 0;

    if (o != NULL && c != NULL) {
        f[0] =
            !lt__sched_streq(o->image, c->image) || !lt__sched_streq(o->shared_app, c->shared_app);
        f[1] = o->scaler != c->scaler || o->instances != c->instances;
        f[2] = !spreads_equal(o, c);
        f[3] = o->mem != c->mem || o->cpu != c->cpu;
        f[4] = !config_equal(o, c);
        f[5] = !links_equal(o, c);
        for (i = 0; i < 6; i++)
            nf += f[i] ? 1 : 0;
        if (nf > 0)
            change = "changed";
    }
    LT_IGNORE(lt_buf_appends(out, "{\"name\":"));
    LT_IGNORE(lt_buf_json_str(out, c != NULL ? c->name : o->name));
    LT_IGNORE(lt_buf_appendf(out, ",\"change\":\"%s\",\"fields\":[", change));
    for (i = 0, nf = 0; i < 6; i++)
        if (f[i])
            LT_IGNORE(lt_buf_appendf(out, "%s\"%s\"", nf++ > 0 ? "," : "", fname[i]));
    LT_IGNORE(lt_buf_appends(out, "]}"));
}

typedef struct {
    const spec_link *l;
    const char *change;
} link_change;

static int link_cmp(const void *a, const void *b)
{
    const link_change *x = a, *y = b;
    int c = strcmp(x->l->source_id, y->l->source_id);

    if (c == 0)
        c = strcmp(x->l->link_id, y->l->link_id);
    return c;
}

static const spec_link *link_in(const lt_sched_spec *sp, const char *id)
{
    size_t i, j;

    for (i = 0; sp != NULL && i < sp->n_comps; i++)
        for (j = 0; j < sp->comps[i].n_links; j++)
            if (strcmp(sp->comps[i].links[j].link_id, id) == 0)
                return &sp->comps[i].links[j];
    return NULL;
}

static lt_status links_diff(const lt_sched_spec *old, const lt_sched_spec *nw, lt_buf *out)
{
    const lt_sched_spec *side[2] = { nw, old };
    link_change *v;
    size_t cap = 1, n = 0, s, i, j;

    for (s = 0; s < 2; s++)
        for (i = 0; side[s] != NULL && i < side[s]->n_comps; i++)
            cap += side[s]->comps[i].n_links;
    v = lt_calloc(cap, sizeof(*v));
    if (v == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "plan links");
    for (s = 0; s < 2; s++)
        for (i = 0; side[s] != NULL && i < side[s]->n_comps; i++)
            for (j = 0; j < side[s]->comps[i].n_links; j++) {
                const spec_link *l = &side[s]->comps[i].links[j];
                const spec_link *other = link_in(side[1 - s], l->link_id);

                if (s == 1 && other != NULL)
                    continue; /* listed from the new spec */
                v[n].l = l;
                v[n++].change = other == NULL ? (s == 0 ? "added" : "removed")
                                : strcmp(other->digest, l->digest) != 0 ? "changed"
                                                                        : "unchanged";
            }
    qsort(v, n, sizeof(*v), link_cmp);
    for (i = 0; i < n; i++) {
        LT_IGNORE(lt_buf_appends(out, i > 0 ? ",{\"id\":" : "{\"id\":"));
        LT_IGNORE(lt_buf_json_str(out, v[i].l->link_id));
        LT_IGNORE(lt_buf_appends(out, ",\"source\":"));
        LT_IGNORE(lt_buf_json_str(out, v[i].l->source_id));
        LT_IGNORE(lt_buf_appends(out, ",\"target\":"));
        LT_IGNORE(lt_buf_json_str(out, v[i].l->target_id));
        LT_IGNORE(
            lt_buf_appendf(out, ",\"interface\":\"%s:%s\",\"name\":", v[i].l->ns, v[i].l->pkg));
        LT_IGNORE(lt_buf_json_str(out, v[i].l->name));
        LT_IGNORE(lt_buf_appendf(out, ",\"change\":\"%s\"}", v[i].change));
    }
    lt_free(v);
    return LT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The commands
 * ------------------------------------------------------------------------------------------- */

static int op_cmp(const void *a, const void *b)
{
    const plan_op *x = *(const plan_op *const *)a, *y = *(const plan_op *const *)b;
    int c;

    if (x->round != y->round)
        return x->round < y->round ? -1 : 1;
    if (x->verb != y->verb)
        return x->verb < y->verb ? -1 : 1;
    if ((c = strcmp(x->comp, y->comp)) != 0 || (c = strcmp(x->host, y->host)) != 0)
        return c;
    return strcmp(x->id, y->id);
}

static void op_json(const plan_op *op, lt_buf *out)
{
    LT_IGNORE(lt_buf_appends(out, "{\"id\":"));
    LT_IGNORE(lt_buf_json_str(out, op->id));
    LT_IGNORE(lt_buf_appends(out, ",\"app\":"));
    LT_IGNORE(lt_buf_json_str(out, op->app));
    LT_IGNORE(lt_buf_appends(out, ",\"component\":"));
    LT_IGNORE(lt_buf_json_str(out, op->comp));
    LT_IGNORE(lt_buf_appends(out, ",\"version\":"));
    LT_IGNORE(lt_buf_json_str(out, op->version));
    LT_IGNORE(lt_buf_appends(out, ",\"host\":"));
    LT_IGNORE(lt_buf_json_str(out, op->host));
    if (op->detail != NULL) {
        LT_IGNORE(lt_buf_appends(out, ",\"link\":"));
        LT_IGNORE(lt_buf_json_str(out, op->detail));
    }
    LT_IGNORE(lt_buf_appendc(out, '}'));
}

/* "rounds":[{"round":n,"start":[..],"stop":[..],"link":[..],"unlink":[..]}..] */
static void rounds_json(plan_op **ops, size_t n, unsigned rounds, lt_buf *out)
{
    size_t i = 0, k;
    unsigned r;
    int v;

    LT_IGNORE(lt_buf_appends(out, ",\"rounds\":["));
    for (r = 1; r <= rounds; r++) {
        LT_IGNORE(lt_buf_appendf(out, "%s{\"round\":%u", r > 1 ? "," : "", r));
        for (v = 0; v < 4; v++) {
            LT_IGNORE(lt_buf_appendf(out, ",\"%s\":[", verb_word[v]));
            for (k = 0; i < n && ops[i]->round == r && (int)ops[i]->verb == v; i++, k++) {
                if (k > 0)
                    LT_IGNORE(lt_buf_appendc(out, ','));
                op_json(ops[i], out);
            }
            LT_IGNORE(lt_buf_appendc(out, ']'));
        }
        LT_IGNORE(lt_buf_appendc(out, '}'));
    }
    LT_IGNORE(lt_buf_appendc(out, ']'));
}

static int host_op_cmp(const void *a, const void *b)
{
    const plan_op *x = *(const plan_op *const *)a, *y = *(const plan_op *const *)b;

    return strcmp(x->host, y->host);
}

/* "hosts":[{"host","start","stop","link","unlink"}..] and "totals" (ops re-sorted by host). */
static void hosts_json(plan_op **ops, size_t n, lt_buf *out)
{
    size_t i = 0, tot[4] = { 0 };

    qsort(ops, n, sizeof(*ops), host_op_cmp);
    LT_IGNORE(lt_buf_appends(out, ",\"hosts\":["));
    while (i < n) {
        size_t c[4] = { 0 }, j = i;

        for (; j < n && strcmp(ops[j]->host, ops[i]->host) == 0; j++)
            c[ops[j]->verb]++;
        LT_IGNORE(lt_buf_appends(out, i > 0 ? ",{\"host\":" : "{\"host\":"));
        LT_IGNORE(lt_buf_json_str(out, ops[i]->host));
        LT_IGNORE(lt_buf_appendf(out, ",\"start\":%zu,\"stop\":%zu,\"link\":%zu,\"unlink\":%zu}",
                                 c[0], c[1], c[2], c[3]));
        for (int v = 0; v < 4; v++)
            tot[v] += c[v];
        i = j;
    }
    LT_IGNORE(
        lt_buf_appendf(out, "],\"totals\":{\"start\":%zu,\"stop\":%zu,\"link\":%zu,\"unlink\":%zu}",
                       tot[0], tot[1], tot[2], tot[3]));
}

/* ---------------------------------------------------------------------------------------------
 * Status at the end of the run, and what could not be placed
 * ------------------------------------------------------------------------------------------- */

static bool status_json(plan_ctx *x, const lt_sched_spec *nw, lt_buf *out)
{
    lt_sched_app_status st;
    sched_app *a = lt_map_get(&x->sh->apps, nw->app);
    bool placeable = true;
    size_t i, k = 0;

    if (lt_sched_app_status_get(x->sh, nw->app, &st) != LT_OK || a == NULL) {
        LT_IGNORE(lt_buf_appends(out, ",\"state\":\"undeployed\",\"message\":\"\","
                                      "\"components\":[],\"unplaced\":[]"));
        return false;
    }
    LT_IGNORE(lt_buf_appendf(out, ",\"state\":\"%s\",\"message\":", lt_sched_state_word(st.state)));
    LT_IGNORE(lt_buf_json_str(out, st.message));
    LT_IGNORE(lt_buf_appends(out, ",\"components\":["));
    for (i = 0; i < st.component_count; i++) {
        const lt_sched_component_status *c = &st.components[i];

        LT_IGNORE(lt_buf_appends(out, i > 0 ? ",{\"name\":" : "{\"name\":"));
        LT_IGNORE(lt_buf_json_str(out, c->name));
        LT_IGNORE(lt_buf_appendf(out, ",\"desired\":%u,\"running\":%u,\"state\":\"%s\"}",
                                 c->desired, c->running, lt_sched_state_word(c->state)));
    }
    LT_IGNORE(lt_buf_appends(out, "],\"unplaced\":["));
    for (i = 0; i < st.component_count; i++) {
        const lt_sched_component_status *c = &st.components[i];
        comp_rt *rt = lt__sched_comp_rt(a, c->name);

        if (c->state != LT_SCHED_FAILED && c->running >= c->desired)
            continue;
        placeable = false;
        LT_IGNORE(lt_buf_appends(out, k++ > 0 ? ",{\"component\":" : "{\"component\":"));
        LT_IGNORE(lt_buf_json_str(out, c->name));
        LT_IGNORE(
            lt_buf_appendf(out, ",\"desired\":%u,\"placed\":%u,\"reason\":\"%s\",\"message\":",
                           c->desired, c->running,
                           reason_word(rt != NULL && rt->reason != 0 ? rt->reason : a->reason)));
        LT_IGNORE(lt_buf_json_str(out, c->message[0] != '\0' ? c->message : st.message));
        LT_IGNORE(lt_buf_appendc(out, '}'));
    }
    for (i = 0; st.component_count == 0 && st.state != LT_SCHED_DEPLOYED && i < nw->n_comps; i++) {
        /* nothing was tried (no hosts, a failed cross-app check): every component waits */
        placeable = false;
        LT_IGNORE(lt_buf_appends(out, k++ > 0 ? ",{\"component\":" : "{\"component\":"));
        LT_IGNORE(lt_buf_json_str(out, nw->comps[i].name));
        LT_IGNORE(
            lt_buf_appendf(out, ",\"desired\":%llu,\"placed\":0,\"reason\":\"%s\",\"message\":",
                           (unsigned long long)nw->comps[i].instances, reason_word(a->reason)));
        LT_IGNORE(lt_buf_json_str(out, st.message));
        LT_IGNORE(lt_buf_appendc(out, '}'));
    }
    LT_IGNORE(lt_buf_appendc(out, ']'));
    return placeable && st.state == LT_SCHED_DEPLOYED;
}

lt_status lt__sched_plan_write(plan_ctx *x, const lt_sched_spec *old, const lt_sched_spec *nw,
                               int64_t now, lt_buf *out)
{
    const char **names = NULL;
    plan_op **ops = NULL;
    size_t n_names = 0, i;
    bool placeable, unchanged;
    lt_status st = LT_OK;

    (void)now;
    names = comp_names(old, nw, &n_names);
    ops = lt_calloc(x->ops.len + 1, sizeof(*ops));
    if (names == NULL || ops == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "plan reply");
        goto out;
    }
    unchanged = old != NULL && strcmp(old->version, nw->version) == 0 &&
                strcmp(old->digest, nw->digest) == 0;
    LT_IGNORE(lt_buf_appends(out, "{\"lattice\":"));
    LT_IGNORE(lt_buf_json_str(out, nw->lattice));
    LT_IGNORE(lt_buf_appends(out, ",\"app\":"));
    LT_IGNORE(lt_buf_json_str(out, nw->app));
    LT_IGNORE(lt_buf_appends(out, ",\"version\":"));
    LT_IGNORE(lt_buf_json_str(out, nw->version));
    LT_IGNORE(lt_buf_appends(out, ",\"deployed_version\":"));
    LT_IGNORE(lt_buf_json_str(out, old != NULL ? old->version : ""));
    LT_IGNORE(lt_buf_appendf(out, ",\"unchanged\":%s,\"diff\":{\"components\":[",
                             unchanged ? "true" : "false"));
    for (i = 0; i < n_names; i++) {
        if (i > 0)
            LT_IGNORE(lt_buf_appendc(out, ','));
        comp_diff(comp_named(old, names[i]), comp_named(nw, names[i]), out);
    }
    LT_IGNORE(lt_buf_appends(out, "],\"links\":["));
    if ((st = links_diff(old, nw, out)) != LT_OK)
        goto out;
    LT_IGNORE(lt_buf_appends(out, "]}"));
    for (i = 0; i < x->ops.len; i++)
        ops[i] = x->ops.items[i];
    qsort(ops, x->ops.len, sizeof(*ops), op_cmp);
    rounds_json(ops, x->ops.len, x->round, out);
    hosts_json(ops, x->ops.len, out);
    placeable = status_json(x, nw, out);
    LT_IGNORE(lt_buf_appendf(out, ",\"placeable\":%s,\"truncated\":%s}",
                             placeable && !x->truncated ? "true" : "false",
                             x->truncated ? "true" : "false"));
    st = lt_buf_status(out);
out:
    lt_free(names);
    lt_free(ops);
    return st;
}
