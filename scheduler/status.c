/*
 * status.c - what the scheduler reports: an app's status (wadm's words and
 * aggregation, one "scaler" entry per scaled component and per link, plus
 * latticed's counts per component) as a JSON document handed to the sink
 * when it changes, and the host inventory as JSON for `latticectl hosts`.
 */
#include "sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"

#define STATUS_MAX (4u << 20)

const char *lt_sched_state_word(lt_sched_state st)
{
    switch (st) {
    case LT_SCHED_DEPLOYED:
        return "deployed";
    case LT_SCHED_UNHEALTHY:
        return "unhealthy";
    case LT_SCHED_RECONCILING:
        return "reconciling";
    case LT_SCHED_WAITING:
        return "waiting";
    case LT_SCHED_UNDEPLOYED:
        return "undeployed";
    case LT_SCHED_FAILED:
        return "failed";
    }
    return "undeployed";
}

lt_sched_state lt_sched_state_add(lt_sched_state a, lt_sched_state b)
{
    /* The enum is ordered by wadm's precedence: the larger value wins. */
    return a > b ? a : b;
}

/* The JSON writers below append in plain sequences: b keeps its first error (lt_buf_status). */
static lt_status json_status(lt_buf *b, lt_sched_state st, const char *msg)
{
    LT_IGNORE(lt_buf_appendf(b, "{\"type\":\"%s\"", lt_sched_state_word(st)));
    if (msg != NULL && msg[0] != '\0') {
        LT_IGNORE(lt_buf_appends(b, ",\"message\":"));
        LT_IGNORE(lt_buf_json_str(b, msg));
    }
    return lt_buf_appendc(b, '}');
}

void lt__sched_status_free(sched_app *a)
{
    lt_free(a->message);
    a->message = NULL;
    lt_free(a->status_json);
    a->status_json = NULL;
    lt_free(a->cs);
    a->cs = NULL;
    a->n_cs = 0;
}

static bool listed(const sched_app *a, const spec_comp *c)
{
    return a->spec != NULL && c->scaler != SCALER_NONE && c->shared_app == NULL;
}

/* Aggregate the app's state and message from its components and links (wadm's rules). */
static void aggregate(sched_app *a, lt_sched_state *state, lt_buf *msg)
{
    size_t i, j;
    bool any = false;

    *state = a->state;
    if (a->state != LT_SCHED_DEPLOYED || a->spec == NULL || !a->deployed) {
        LT_IGNORE(lt_buf_appends(msg, a->message != NULL ? a->message : ""));
        return;
    }
    for (i = 0; i < a->spec->n_comps; i++) {
        const spec_comp *c = &a->spec->comps[i];
        const comp_rt *rt = lt_map_get(&a->rt, c->name);

        for (j = 0; j < c->n_links; j++) {
            const link_rt *l = lt_map_get(&a->lrt, c->links[j].link_id);

            if (l == NULL || l->pass != a->pass)
                continue;
            *state = any ? lt_sched_state_add(*state, l->state) : l->state;
            any = true;
            if (l->message != NULL && l->message[0] != '\0')
                LT_IGNORE(lt_buf_appendf(msg, "%s%s", msg->len > 0 ? ", " : "", l->message));
        }
        if (!listed(a, c) || rt == NULL)
            continue;
        *state = any ? lt_sched_state_add(*state, rt->state) : rt->state;
        any = true;
        if (c->role == V2_RIDER || c->role == V2_CAPABILITY)
            continue; /* v2: they repeat their lead's message */
        if (rt->message != NULL && rt->message[0] != '\0')
            LT_IGNORE(lt_buf_appendf(msg, "%s%s", msg->len > 0 ? ", " : "", rt->message));
    }
    if (!any)
        *state = LT_SCHED_UNDEPLOYED; /* wadm: the sum of no scalers is undeployed */
}

static lt_status json_scalers(const sched_app *a, lt_buf *b)
{
    size_t i, j, n = 0;

    if (a->spec == NULL || !a->deployed)
        return LT_OK;
    for (i = 0; i < a->spec->n_comps && lt_buf_status(b) == LT_OK; i++) {
        const spec_comp *c = &a->spec->comps[i];
        const comp_rt *rt = lt_map_get(&a->rt, c->name);

        if (listed(a, c) && rt != NULL) {
            LT_IGNORE(lt_buf_appendf(b, "%s{\"id\":\"%s\",\"kind\":\"%s\",\"name\":",
                                     n++ ? "," : "", c->scaler_id,
                                     c->scaler == SCALER_DAEMON ? "DaemonScaler" : "SpreadScaler"));
            LT_IGNORE(lt_buf_json_str(b, c->id));
            LT_IGNORE(lt_buf_appends(b, ",\"status\":"));
            LT_IGNORE(json_status(b, rt->state, rt->message));
            LT_IGNORE(lt_buf_appendc(b, '}'));
        }
        for (j = 0; j < c->n_links && lt_buf_status(b) == LT_OK; j++) {
            const link_rt *l = lt_map_get(&a->lrt, c->links[j].link_id);

            if (l == NULL || l->pass != a->pass)
                continue;
            LT_IGNORE(lt_buf_appendf(b, "%s{\"id\":\"%s\",\"kind\":\"LinkScaler\",\"name\":",
                                     n++ ? "," : "", l->link_id));
            LT_IGNORE(lt_buf_json_str(b, l->label));
            LT_IGNORE(lt_buf_appends(b, ",\"status\":"));
            LT_IGNORE(json_status(b, l->state, l->message));
            LT_IGNORE(lt_buf_appendc(b, '}'));
        }
    }
    return lt_buf_status(b);
}

/* Fill a->cs (the component statuses the query API returns) and write them as JSON. */
static lt_status components(sched_app *a, lt_buf *b, uint64_t tot[3])
{
    lt_sched_component_status *cs;
    size_t i, n = 0;

    lt_free(a->cs);
    a->cs = NULL;
    a->n_cs = 0;
    tot[0] = tot[1] = tot[2] = 0;
    if (a->spec == NULL || !a->deployed)
        return LT_OK;
    cs = lt_calloc(a->spec->n_comps + 1, sizeof(*cs));
    if (cs == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "component status");
    a->cs = cs;
    for (i = 0; i < a->spec->n_comps && lt_buf_status(b) == LT_OK; i++) {
        const spec_comp *c = &a->spec->comps[i];
        const comp_rt *rt = lt_map_get(&a->rt, c->name);

        if (!listed(a, c) || rt == NULL)
            continue;
        cs[n] = (lt_sched_component_status){ c->name,
                                             c->id,
                                             rt->desired,
                                             rt->running,
                                             rt->failed,
                                             rt->state,
                                             rt->message != NULL ? rt->message : "" };
        tot[0] += rt->desired;
        tot[1] += rt->running;
        tot[2] += rt->failed;
        LT_IGNORE(lt_buf_appends(b, n > 0 ? ",{\"name\":" : "{\"name\":"));
        LT_IGNORE(lt_buf_json_str(b, c->name));
        LT_IGNORE(lt_buf_appends(b, ",\"id\":"));
        LT_IGNORE(lt_buf_json_str(b, c->id));
        LT_IGNORE(lt_buf_appendf(b, ",\"kind\":\"%s\",\"image\":",
                                 c->capability ? "capability" : "component"));
        LT_IGNORE(lt_buf_json_str(b, c->image));
        LT_IGNORE(lt_buf_appendf(b, ",\"desired\":%u,\"running\":%u,\"failed\":%u,\"status\":",
                                 rt->desired, rt->running, rt->failed));
        LT_IGNORE(json_status(b, rt->state, rt->message));
        LT_IGNORE(lt_buf_appendc(b, '}'));
        n++;
    }
    a->n_cs = n;
    return lt_buf_status(b);
}

static lt_status build(lt_sched *s, sched_app *a, lt_sched_state state, const char *msg, lt_buf *b)
{
    uint64_t tot[3];
    lt_buf comps;
    lt_status st;

    lt_buf_init(&comps, STATUS_MAX);
    LT_IGNORE(lt_buf_appends(b, "{\"status\":"));
    LT_IGNORE(json_status(b, state, msg));
    LT_IGNORE(lt_buf_appends(b, ",\"scalers\":["));
    LT_IGNORE(json_scalers(a, b));
    LT_IGNORE(lt_buf_appends(b, "],\"version\":\"\",\"components\":[],\"latticed\":{\"lattice\":"));
    LT_IGNORE(lt_buf_json_str(b, s->lattice));
    LT_IGNORE(lt_buf_appends(b, ",\"app\":"));
    LT_IGNORE(lt_buf_json_str(b, a->name));
    LT_IGNORE(lt_buf_appends(b, ",\"version\":"));
    LT_IGNORE(lt_buf_json_str(b, a->unreadable_version != NULL    ? a->unreadable_version
                                 : a->deployed && a->spec != NULL ? a->spec->version
                                                                  : ""));
    /* the components are written (and a->cs filled) only while b is still whole */
    st = lt_buf_status(b);
    if (st == LT_OK)
        st = components(a, &comps, tot);
    if (st == LT_OK)
        st = lt_buf_appendf(b,
                            ",\"deployed\":%s,\"desired\":%llu,\"running\":%llu,"
                            "\"failed\":%llu,\"instances\":%zu,\"components\":[%s]}}",
                            a->deployed ? "true" : "false", (unsigned long long)tot[0],
                            (unsigned long long)tot[1], (unsigned long long)tot[2], a->n_obs,
                            comps.ptr);
    lt_buf_cleanup(&comps);
    return st;
}

void lt__sched_status_update(lt_sched *s, sched_app *a, int64_t now)
{
    lt_sched_state state;
    lt_buf msg, b;

    (void)now;
    lt_buf_init(&msg, 64 * 1024);
    lt_buf_init(&b, STATUS_MAX);
    aggregate(a, &state, &msg);
    if (build(s, a, state, msg.ptr, &b) == LT_OK &&
        (a->status_json == NULL || strcmp(a->status_json, b.ptr) != 0 || !a->published)) {
        char *json = lt_buf_take(&b);

        if (json != NULL) {
            lt_free(a->status_json);
            a->status_json = json;
            a->published = false;
            if (s->leading && s->sink.status != NULL) {
                s->sink.status(s->sink.arg, a->name, state, json);
                a->published = true;
            }
        }
    }
    a->state = state;
    lt__sched_set_str(&a->message, msg.ptr);
    lt__sched_cp_app_state(s, a);
    lt_buf_cleanup(&msg);
    lt_buf_cleanup(&b);
}

/* ---------------------------------------------------------------------------------------------
 * Queries
 * ------------------------------------------------------------------------------------------- */

lt_status lt_sched_app_status_get(const lt_sched *s, const char *app, lt_sched_app_status *out)
{
    const sched_app *a = lt_map_get(&s->apps, app);

    memset(out, 0, sizeof(*out));
    if (a == NULL)
        return LT_ERR_NOT_FOUND;
    out->state = a->state;
    out->message = a->message != NULL ? a->message : "";
    out->version = a->deployed && a->spec != NULL ? a->spec->version : "";
    out->component_count = a->n_cs;
    out->components = a->cs;
    return LT_OK;
}

static int host_cmp(const void *pa, const void *pb)
{
    return strcmp((*(sched_host *const *)pa)->id, (*(sched_host *const *)pb)->id);
}

static lt_status host_json(const lt_sched *s, const sched_host *h, const char *driver, int64_t now,
                           lt_buf *b)
{
    size_t i;

    LT_IGNORE(lt_buf_appends(b, "{\"id\":"));
    LT_IGNORE(lt_buf_json_str(b, h->id));
    LT_IGNORE(lt_buf_appends(b, ",\"friendly_name\":"));
    LT_IGNORE(lt_buf_json_str(b, h->friendly));
    LT_IGNORE(lt_buf_appends(b, ",\"version\":"));
    LT_IGNORE(lt_buf_json_str(b, h->version));
    LT_IGNORE(lt_buf_appends(b, ",\"labels\":{"));
    for (i = 0; i < h->labels.count; i++) {
        if (i > 0)
            LT_IGNORE(lt_buf_appendc(b, ','));
        LT_IGNORE(lt_buf_json_str(b, h->labels.items[i].key));
        LT_IGNORE(lt_buf_appendc(b, ':'));
        LT_IGNORE(lt_buf_json_str(b, h->labels.items[i].value));
    }
    return lt_buf_appendf(b,
                          "},\"capacity\":{\"memory_total_bytes\":%llu,"
                          "\"memory_reserved_bytes\":%llu,\"instance_slots_total\":%u,"
                          "\"cpu_millis_total\":%u},\"instances\":%u,\"links\":%zu,"
                          "\"last_seen_ms\":%lld,\"interval_ms\":%u,\"state\":\"%s\","
                          "\"newest_epoch\":%llu,\"claimed_epoch\":%llu,\"driver\":\"%s\","
                          "\"scheduling\":\"%s\"}",
                          (unsigned long long)h->mem_total, (unsigned long long)h->obs_mem,
                          h->slots_total, h->cpu_total, h->n_obs, h->links.count,
                          (long long)(now - h->last_seen), h->interval_ms,
                          h->state != HOST_ALIVE ? "unreachable"
                          : h->quarantined       ? "quarantined"
                          : h->fenced            ? "fenced"
                                                 : "alive",
                          (unsigned long long)h->newest_epoch, (unsigned long long)h->claimed_epoch,
                          driver, lt_sched_host_scheduling(s, h->id));
}

lt_status lt_sched_hosts_json(const lt_sched *s, int64_t now, lt_buf *out)
{
    sched_host **sorted = NULL;
    lt_status st;
    size_t i, n = s->host_list.len;

    if (n > 0) {
        sorted = lt_malloc(n * sizeof(*sorted));
        if (sorted == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "host list");
        memcpy(sorted, s->host_list.items, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), host_cmp);
    }
    LT_IGNORE(lt_buf_appends(out, "{\"lattice\":"));
    LT_IGNORE(lt_buf_json_str(out, s->lattice));
    /* acting: leading and past the warm-up, the stored apps and the new term's inventory round,
     * so a deploy is placed at once (benchmarks wait for it; a deploy before is only queued) */
    st = lt_buf_appendf(out, ",\"partitioned\":%s,\"acting\":%s,\"total\":%zu,\"hosts\":[",
                        lt_sched_partitioned(s) ? "true" : "false",
                        s->leading && now >= s->ready_at && s->apps_loaded &&
                                lt__sched_fence_ready(s, now)
                            ? "true"
                            : "false",
                        n);
    for (i = 0; i < n && st == LT_OK; i++) {
        size_t mark = out->len;

        if (i > 0)
            LT_IGNORE(lt_buf_appendc(out, ','));
        st = host_json(s, sorted[i], s->cfg.wasmcloud_v2 ? "wasmcloud-v2" : "native", now, out);
        if (st == LT_ERR_TOO_BIG || out->len + 64 > out->max) {
            /* a huge fleet: say how many are left out instead of failing */
            lt_buf_truncate(out, mark);
            st = LT_OK;
            break;
        }
    }
    if (st == LT_OK)
        st = lt_buf_appendf(out, "],\"truncated\":%s}", i < n ? "true" : "false");
    lt_free(sorted);
    return st;
}
