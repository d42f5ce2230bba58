/*
 * reconcile.c - one app's level-triggered pass: compare the desired instances
 * of every component (spread shares or one set per daemon host) with what the
 * app's hosts report plus the starts in flight, then stop the excess, place
 * the shortfall (placement: even over eligible hosts, capacity, co-location)
 * and replace outdated instances within the rollout bound. Cost is
 * proportional to the app's own instances plus the hosts its placement scans.
 */
#include "sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_log.h"

#define IS(st) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##st
#define REASON(x) LATTICED__CP__V1__APP_FAILURE_REASON__APP_FAILURE_REASON_##x

typedef struct {
    lt_sched *s;
    sched_app *a;
    const lt_sched_spec *spec;
    int64_t now;
    pvec *obs;       /* per component index: observed instances */
    pvec *starts;    /* per component index: starts in flight */
    uint32_t ord;    /* next ordinal to try for the component being placed */
    uint64_t cstamp; /* coloc_stamp of hosts running a link target */
    bool required;   /* co-location required */
    bool upgrading;  /* outdated instances still hold room: shortfalls are expected */
    bool any_host;   /* hosts that failed recently are fine too (no better one exists) */
} rec_ctx;

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------------- */

static bool going(const rec_ctx *x, const sched_obs *o)
{
    return o->stop_sent != 0 && x->now - o->stop_sent < 2 * x->s->cfg.command_timeout_ms;
}

static void stop_obs(rec_ctx *x, sched_obs *o, const char *reason)
{
    if (going(x, o) || !HOST_USABLE(o->host))
        return; /* already asked, or unreachable: it is dealt with when it returns */
    if (lt__sched_out_stop(x->s, o->host, o->id, o->placement, reason) == LT_OK)
        o->stop_sent = x->now;
}

static void touch(sched_host *h, uint64_t stamp)
{
    if (h->stamp != stamp) {
        h->stamp = stamp;
        h->cnt = 0;
        h->cnt_all = 0;
    }
}

/* Counts o on its host (for this stamp) and settles the observations the scalers do not count:
 * true when o is being stopped, or failed (then its message is kept in rt and it is stopped). */
static bool obs_settled(rec_ctx *x, sched_obs *o, uint64_t stamp, comp_rt *rt)
{
    touch(o->host, stamp);
    o->host->cnt_all++;
    if (going(x, o) || o->state == IS(STOPPING))
        return true;
    if (o->state == IS(FAILED)) {
        rt->failed++;
        if (rt->fail_msg == NULL && o->message[0] != '\0')
            lt__sched_set_str(&rt->fail_msg, o->message);
        stop_obs(x, o, "failed");
        return true;
    }
    return false;
}

static uint32_t cnt_of(const sched_host *h, uint64_t stamp)
{
    return h->stamp == stamp ? h->cnt : 0;
}

static int spread_of(const spec_comp *c, const sched_host *h)
{
    size_t i;

    if (h->mode == LT_SCHED_HOST_DRAINING)
        return -1; /* its instances move elsewhere, like those of a host no spread matches */
    for (i = 0; i < c->n_spreads; i++)
        if (lt__sched_skvs_match(&h->labels, &c->spreads[i].req))
            return (int)i;
    return -1;
}

static void rt_set(comp_rt *rt, lt_sched_state st, int reason, const char *msg)
{
    rt->state = st;
    rt->reason = reason;
    lt__sched_set_str(&rt->message, msg != NULL ? msg : "");
}

static bool avoided(const comp_rt *rt, const sched_host *h, int64_t now)
{
    size_t i;

    for (i = 0; i < rt->n_avoid; i++)
        if (rt->avoid[i].until > now && strcmp(rt->avoid[i].host_id, h->id) == 0)
            return true;
    return false;
}

static bool fits(const sched_host *h, const spec_comp *c)
{
    if (h->slots_total != 0 && (uint64_t)h->n_obs + h->pend_slots + 1 > h->slots_total)
        return false;
    if (c->mem != 0 && h->mem_total != 0 && h->obs_mem + h->pend_mem + c->mem > h->mem_total)
        return false;
    if (c->cpu != 0 && h->cpu_total != 0 && h->obs_cpu + h->pend_cpu + c->cpu > h->cpu_total)
        return false;
    return true;
}

/* Can a new instance of c go to h at all (ignoring evenness)? */
static bool can_take(const rec_ctx *x, const spec_comp *c, const comp_rt *rt, const sched_host *h,
                     uint64_t stamp)
{
    if (!HOST_USABLE(h) || h->stopping || !HOST_SCHEDULABLE(h))
        return false; /* cordoned or draining hosts get nothing new */
    if (c->capability && h->stamp == stamp && h->cnt_all > 0)
        return false; /* capabilities: one per host, like wadm's providers */
    if (x->required && h->coloc_stamp != x->cstamp)
        return false;
    if (!x->any_host && avoided(rt, h, x->now))
        return false;
    if (!lt__sched_v2_exports_ok(h, c))
        return false; /* v2: the host lacks an interface the workload needs */
    return fits(h, c);
}

/* A fresh deterministic id for c (first unused ordinal); ordinal_text for daemons. */
static void next_id(rec_ctx *x, const spec_comp *c, const char *host_id, uint32_t *ord, char *id)
{
    char num[LT_MAX_HOST_ID + 16];

    for (;;) {
        if (host_id != NULL)
            snprintf(num, sizeof(num), "%s/%u", host_id, x->ord);
        else
            snprintf(num, sizeof(num), "%u", x->ord);
        lt_sched_instance_id(x->s->lattice, x->spec->app, x->spec->version, c->name, num, id);
        *ord = x->ord++;
        if (lt_map_get(&x->s->obs_by_id, id) == NULL && lt_map_get(&x->s->starts_by_id, id) == NULL)
            return;
    }
}

/* Place one instance of c on h: a start in flight plus a queued command. */
static bool place_on(rec_ctx *x, const spec_comp *c, sched_host *h, uint64_t stamp, bool daemon)
{
    sched_start *st = lt_calloc(1, sizeof(*st));
    uint32_t ord;

    if (st == NULL || (st->comp = lt_strdup(c->name)) == NULL) {
        lt_free(st);
        return false;
    }
    next_id(x, c, daemon ? h->id : NULL, &ord, st->id);
    st->host = h;
    st->app = x->a;
    memcpy(st->digest, c->digest, sizeof(st->digest));
    st->sent = x->now;
    st->mem = c->mem;
    st->cpu = c->cpu;
    if (lt_map_put(&x->s->starts_by_id, st->id, st) != LT_OK) {
        lt_free(st->comp);
        lt_free(st);
        return false;
    }
    st->next = x->a->starts;
    if (x->a->starts != NULL)
        x->a->starts->prev = st;
    x->a->starts = st;
    x->a->n_starts++;
    h->pend_slots++;
    h->pend_mem += c->mem;
    h->pend_cpu += c->cpu;
    touch(h, stamp);
    h->cnt++;
    h->cnt_all++;
    if (lt__sched_out_start(x->s, h, x->spec, c, st->id, ord) != LT_OK) {
        lt__sched_start_remove(x->s, st);
        return false;
    }
    {
        comp_rt *rt = lt__sched_comp_rt(x->a, c->name);

        if (rt != NULL && rt->failures > 0) /* placed again after a failed start or a crash */
            x->s->n_cmd_retried[LT_SCHED_START]++;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * Placement
 * ------------------------------------------------------------------------------------------- */

static void add_coloc_host(rec_ctx *x, pvec *out, sched_host *h)
{
    if (h == NULL || !HOST_USABLE(h) || h->coloc_stamp == x->cstamp)
        return;
    h->coloc_stamp = x->cstamp;
    LT_IGNORE(lt__sched_pvec_push(out, h));
}

/* Hosts that run (or are about to run) a link target of c; sets x->cstamp/x->required. */
static void coloc_hosts(rec_ctx *x, const spec_comp *c, pvec *out)
{
    size_t i, j;

    x->cstamp = ++x->s->stamp;
    x->required = false;
    for (i = 0; i < c->n_links; i++) {
        const spec_link *l = &c->links[i];

        if (l->colocate == LT_MODEL_COLOCATE_NONE || l->target_comp[0] == '\0')
            continue;
        x->required |= l->colocate == LT_MODEL_COLOCATE_REQUIRED;
        if (strcmp(l->target_app, x->spec->app) == 0) {
            const spec_comp *t = lt__sched_spec_find(x->spec, l->target_comp);
            size_t ti;

            if (t == NULL)
                continue;
            ti = (size_t)(t - x->spec->comps);
            for (j = 0; j < x->obs[ti].len; j++)
                add_coloc_host(x, out, ((sched_obs *)x->obs[ti].items[j])->host);
            (void)ti;
            {
                const sched_start *st;

                /* all starts, including those placed earlier in this pass */
                for (st = x->a->starts; st != NULL; st = st->next)
                    if (strcmp(st->comp, t->name) == 0)
                        add_coloc_host(x, out, st->host);
            }
        } else {
            sched_app *o = lt__sched_app_get(x->s, l->target_app, false);
            sched_obs *ob;

            for (ob = o != NULL ? o->obs_head : NULL; ob != NULL; ob = ob->app_next)
                if (strcmp(ob->comp, l->target_comp) == 0)
                    add_coloc_host(x, out, ob->host);
        }
    }
}

/*
 * Level filling over hosts L from start: a host with fewer instances of c always goes first,
 * so a spread never piles onto one host while another eligible host has fewer.
 */
static uint64_t fill(rec_ctx *x, const spec_comp *c, comp_rt *rt, const spec_spread *sp,
                     const pvec *L, size_t start, uint64_t k, uint64_t stamp, size_t *scanned)
{
    uint64_t placed = 0;
    uint32_t level = 0;
    size_t j, n = L->len;

    *scanned = 0;
    while (placed < k && n > 0) {
        uint32_t next = UINT32_MAX;
        bool progressed = false;

        for (j = 0; j < n && placed < k; j++) {
            sched_host *h = L->items[(start + j) % n];
            uint32_t cnt = cnt_of(h, stamp);

            if (j + 1 > *scanned)
                *scanned = j + 1;
            if (cnt > level) {
                if (cnt < next)
                    next = cnt;
                continue;
            }
            if (cnt < level || (sp != NULL && !lt__sched_skvs_match(&h->labels, &sp->req)) ||
                !can_take(x, c, rt, h, stamp))
                continue;
            if (!place_on(x, c, h, stamp, false))
                return placed;
            placed++;
            progressed = true;
        }
        if (!progressed && next == UINT32_MAX)
            break;
        level = progressed ? level + 1 : next;
    }
    return placed;
}

static uint64_t place_spread(rec_ctx *x, const spec_comp *c, comp_rt *rt, const spec_spread *sp,
                             uint64_t k, uint64_t stamp)
{
    sched_sel *sel;
    pvec co = { 0 };
    uint64_t placed = 0;
    size_t j, scanned = 0;
    char msg[512];

    if (k == 0)
        return 0;
    sel = lt__sched_inv_selector(x->s, sp->selector, &sp->req);
    if (sel == NULL)
        return 0;
    if (sel->hosts.len == 0) {
        snprintf(msg, sizeof(msg), "Could not satisfy spread %s for %s, 0 eligible hosts found.",
                 sp->name, c->image);
        rt_set(rt, LT_SCHED_FAILED, REASON(NO_ELIGIBLE_HOSTS), msg);
        return 0;
    }
    if (c->n_exports > 0 && lt__sched_v2_qualified(&sel->hosts, c, msg, sizeof(msg)) == 0) {
        rt_set(rt, LT_SCHED_FAILED, REASON(NO_ELIGIBLE_HOSTS), msg);
        return 0;
    }
    coloc_hosts(x, c, &co);
    if (x->required) {
        placed = fill(x, c, rt, sp, &co, 0, k, stamp, &scanned);
    } else {
        /* Preferred co-location: one each on the target's hosts first, then even filling. */
        for (j = 0; j < co.len && placed < k; j++) {
            sched_host *h = co.items[j];

            if (cnt_of(h, stamp) == 0 && lt__sched_skvs_match(&h->labels, &sp->req) &&
                can_take(x, c, rt, h, stamp) && place_on(x, c, h, stamp, false))
                placed++;
        }
        if (placed < k) {
            size_t start = sel->cursor % sel->hosts.len;

            placed += fill(x, c, rt, NULL, &sel->hosts, start, k - placed, stamp, &scanned);
            sel->cursor = (start + scanned) % sel->hosts.len;
        }
    }
    if (placed < k && rt->n_avoid > 0) {
        /* Only hosts that failed it recently are left: better them than nothing. */
        x->any_host = true;
        placed +=
            fill(x, c, rt, sp, x->required ? &co : &sel->hosts, 0, k - placed, stamp, &scanned);
        x->any_host = false;
    }
    lt__sched_pvec_cleanup(&co);
    if (placed < k && x->upgrading)
        return placed; /* room appears as outdated instances stop */
    if (placed < k) {
        if (c->capability)
            snprintf(msg, sizeof(msg),
                     "Could not satisfy spread %s for %s, %zu/%llu eligible hosts found.", sp->name,
                     c->image, sel->hosts.len, (unsigned long long)sp->count);
        else if (x->required)
            snprintf(msg, sizeof(msg),
                     "Could not satisfy spread %s for %s: no host with its "
                     "link target has room (%llu of %llu placed)",
                     sp->name, c->image, (unsigned long long)placed, (unsigned long long)k);
        else
            snprintf(msg, sizeof(msg),
                     "Could not satisfy spread %s for %s: not enough capacity "
                     "on %zu eligible host(s) (%llu of %llu placed)",
                     sp->name, c->image, sel->hosts.len, (unsigned long long)placed,
                     (unsigned long long)k);
        rt_set(rt, LT_SCHED_FAILED, REASON(INSUFFICIENT_CAPACITY), msg);
    }
    return placed;
}

/* ---------------------------------------------------------------------------------------------
 * Spread scaler
 * ------------------------------------------------------------------------------------------- */

/* Do two spreads of c claim one host? Cached per inventory generation. */
static bool conflict(rec_ctx *x, const spec_comp *c, comp_rt *rt)
{
    uint64_t stamp;
    size_t i, j;
    char msg[768];

    if (rt->conflict_gen == x->s->inv_gen + 1)
        return rt->conflict_msg != NULL;
    lt__sched_set_str(&rt->conflict_msg, NULL);
    stamp = ++x->s->stamp;
    for (i = 0; i < c->n_spreads && rt->conflict_msg == NULL; i++) {
        sched_sel *sel = lt__sched_inv_selector(x->s, c->spreads[i].selector, &c->spreads[i].req);

        for (j = 0; sel != NULL && j < sel->hosts.len; j++) {
            sched_host *h = sel->hosts.items[j];

            if (h->mark_stamp == stamp) {
                snprintf(msg, sizeof(msg),
                         "Spread requirement conflict: spreads %s and %s of %s both match host %s",
                         c->spreads[h->mark].name, c->spreads[i].name, c->name, h->id);
                rt->conflict_msg = lt_strdup(msg);
                break;
            }
            h->mark_stamp = stamp;
            h->mark = (uint32_t)i;
        }
    }
    rt->conflict_gen = x->s->inv_gen + 1;
    return rt->conflict_msg != NULL;
}

/* Scale-down victims: rank each instance within its host (running ones first, so the not yet
 * running get the higher ranks), then stop the highest ranks first. Taking the top of that
 * order drains the busiest hosts first and keeps a spread even. */
typedef struct {
    sched_obs *o;
    size_t rank;
} victim;

static int by_host(const void *pa, const void *pb)
{
    const sched_obs *a = ((const victim *)pa)->o, *b = ((const victim *)pb)->o;
    int c = strcmp(a->host->id, b->host->id);

    if (c != 0)
        return c;
    if ((a->state == IS(RUNNING)) != (b->state == IS(RUNNING)))
        return a->state == IS(RUNNING) ? -1 : 1;
    return strcmp(a->id, b->id);
}

static int by_rank(const void *pa, const void *pb)
{
    const victim *a = pa, *b = pb;

    if (a->rank != b->rank)
        return a->rank > b->rank ? -1 : 1;
    return strcmp(b->o->id, a->o->id);
}

static void scale_down(rec_ctx *x, pvec *cur, uint64_t excess, uint64_t *have, uint64_t *run)
{
    victim *v = lt_calloc(cur->len + 1, sizeof(*v));
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < cur->len; i++)
        v[i].o = cur->items[i];
    qsort(v, cur->len, sizeof(*v), by_host);
    for (i = 0; i < cur->len; i++)
        v[i].rank = i > 0 && v[i - 1].o->host == v[i].o->host ? v[i - 1].rank + 1 : 0;
    qsort(v, cur->len, sizeof(*v), by_rank);
    for (i = 0; i < cur->len && excess > 0; i++, excess--) {
        stop_obs(x, v[i].o, "scaled down");
        v[i].o->host->cnt--;
        (*have)--;
        if (v[i].o->state == IS(RUNNING))
            (*run)--;
    }
    lt_free(v);
}

typedef struct {
    uint64_t have, run;
    pvec cur;
} spread_tally;

/* Budget of new starts: bounded while outdated instances remain (a rolling upgrade). */
static uint64_t start_budget(rec_ctx *x, comp_rt *rt, size_t n_outdated, uint64_t pending,
                             uint64_t u, bool *backoff)
{
    uint64_t lim = u > 0 ? u : 1;

    *backoff = x->now < rt->retry_at;
    if (*backoff)
        return 0;
    if (n_outdated == 0)
        return UINT64_MAX;
    return pending < lim ? lim - pending : 0;
}

static void stop_outdated(rec_ctx *x, const spec_comp *c, pvec *outdated, uint64_t avail,
                          uint64_t T, uint64_t u)
{
    int64_t stoppable = (int64_t)avail - ((int64_t)T - (int64_t)u);
    size_t i;

    for (i = 0; i < outdated->len; i++) {
        sched_obs *o = outdated->items[i];
        bool misplaced = lt__sched_streq(o->digest, c->digest);

        if (o->state != IS(RUNNING)) {
            stop_obs(x, o, misplaced ? "host no longer eligible" : "replaced by a new spec");
        } else if (stoppable > 0) {
            stop_obs(x, o, misplaced ? "host no longer eligible" : "replaced by a new spec");
            stoppable--;
        }
    }
}

/* Ask for a pass at `at` (the earliest of what is asked). */
static void wake(lt_sched *s, int64_t at)
{
    if (s->wake_at == 0 || at < s->wake_at)
        s->wake_at = at;
}

/* How long a component replaced after its n-th failure must run to count as healthy. */
static int64_t crash_window(const lt_sched *s, uint32_t n)
{
    int64_t d = s->cfg.backoff_base_ms;

    for (uint32_t i = 1; i < n && d < s->cfg.backoff_max_ms; i++)
        d *= 2;
    return d < s->cfg.backoff_max_ms ? d : s->cfg.backoff_max_ms;
}

static void finish_status(rec_ctx *x, const spec_comp *c, comp_rt *rt, uint64_t deficit,
                          bool changing, bool backoff, size_t misplaced)
{
    char msg[512];

    if (backoff)
        wake(x->s, rt->retry_at); /* wake_at holds one time: whoever consumed it, ask again */
    if (rt->state == LT_SCHED_FAILED)
        return;
    if (backoff && deficit > 0) {
        rt_set(rt, LT_SCHED_FAILED, REASON(START_FAILED), rt->fail_msg);
        if (rt->failed == 0)
            rt->failed = 1;
    } else if (misplaced > 0) {
        rt_set(rt, LT_SCHED_RECONCILING, 0,
               "Found components running on ineligible hosts, removing them.");
    } else if (deficit > 0 || changing) {
        /* A retry under way keeps the reason of the failure it retries (a v2 start can take a
         * minute: the reason must not vanish meanwhile). */
        if (rt->failures > 0 && rt->fail_msg != NULL)
            snprintf(msg, sizeof(msg),
                     "Scaling %s: %u/%u running, retrying after %u failure(s): %s", c->name,
                     rt->running, rt->desired, rt->failures, rt->fail_msg);
        else
            snprintf(msg, sizeof(msg), "Scaling %s: %u/%u running", c->name, rt->running,
                     rt->desired);
        rt_set(rt, LT_SCHED_RECONCILING, 0, msg);
    } else if (rt->stable_at != 0 && x->now < rt->stable_at) {
        /* Replaced after a crash and running again: not deployed until it stayed up as long
         * as the current (un-jittered) backoff delay, from now on. */
        if (rt->stable_at == INT64_MAX)
            rt->stable_at = x->now + crash_window(x->s, rt->failures);
        snprintf(msg, sizeof(msg), "Restarted %s after %u failure(s): %s", c->name, rt->failures,
                 rt->fail_msg != NULL ? rt->fail_msg : "");
        rt_set(rt, LT_SCHED_RECONCILING, 0, msg);
        wake(x->s, rt->stable_at);
    } else {
        if (rt->stable_at != 0) { /* stayed up: the crash loop is over, backoff starts over */
            rt->stable_at = 0;
            rt->failures = 0;
        }
        rt_set(rt, LT_SCHED_DEPLOYED, 0, "");
    }
}

static void rec_spread(rec_ctx *x, size_t ci, const spec_comp *c, comp_rt *rt)
{
    size_t n = c->n_spreads, i, misplaced = 0;
    spread_tally *t = lt_calloc(n, sizeof(*t));
    pvec outdated = { 0 };
    uint64_t T = 0, u, stamp, pending = 0, avail = 0, budget, deficit = 0, out_run = 0;
    bool backoff, changing = false;

    if (t == NULL)
        return;
    for (i = 0; i < n; i++)
        T += c->spreads[i].count;
    rt->desired = (uint32_t)T;
    stamp = ++x->s->stamp;
    for (i = 0; i < x->obs[ci].len; i++) {
        sched_obs *o = x->obs[ci].items[i];
        int sp;

        if (obs_settled(x, o, stamp, rt))
            continue;
        sp = spread_of(c, o->host);
        if (sp >= 0 && lt__sched_streq(o->digest, c->digest)) {
            t[sp].have++;
            o->host->cnt++;
            if (o->state == IS(RUNNING))
                t[sp].run++;
            LT_IGNORE(lt__sched_pvec_push(&t[sp].cur, o));
        } else {
            misplaced += lt__sched_streq(o->digest, c->digest);
            out_run += o->state == IS(RUNNING);
            LT_IGNORE(lt__sched_pvec_push(&outdated, o));
        }
    }
    for (i = 0; i < x->starts[ci].len; i++) {
        sched_start *st = x->starts[ci].items[i];
        int sp;

        if (strcmp(st->digest, c->digest) != 0)
            continue;
        touch(st->host, stamp);
        st->host->cnt_all++;
        sp = spread_of(c, st->host);
        if (sp >= 0) {
            t[sp].have++;
            t[sp].run += st->running;
            st->host->cnt++;
        }
    }
    if (n > 1 && conflict(x, c, rt)) {
        for (i = 0; i < n; i++)
            rt->running += (uint32_t)t[i].run;
        rt_set(rt, LT_SCHED_FAILED, REASON(SPREAD_CONFLICT), rt->conflict_msg);
        goto out; /* no commands: never a reconcile loop (wadm#432) */
    }
    /* Scale down: the excess of each spread. */
    for (i = 0; i < n; i++) {
        uint64_t want = c->spreads[i].count;

        if (t[i].have <= want)
            continue;
        changing = true;
        scale_down(x, &t[i].cur, t[i].have - want, &t[i].have, &t[i].run);
    }
    u = lt_model_rollout_max_unavailable(&x->spec->rollout, T);
    for (i = 0; i < n; i++)
        pending += t[i].have - t[i].run;
    budget = start_budget(x, rt, outdated.len, pending, u, &backoff);
    x->upgrading = outdated.len > 0;
    /* Scale up: place each spread's shortfall. */
    for (i = 0; i < n; i++) {
        uint64_t need = c->spreads[i].count > t[i].have ? c->spreads[i].count - t[i].have : 0;
        uint64_t k = need < budget ? need : budget, placed;

        deficit += need;
        if (k == 0)
            continue;
        x->ord = 0;
        placed = place_spread(x, c, rt, &c->spreads[i], k, stamp);
        budget -= placed;
        t[i].have += placed;
    }
    for (i = 0; i < n; i++) {
        uint64_t run = t[i].run < c->spreads[i].count ? t[i].run : c->spreads[i].count;

        avail += run;
        rt->running += (uint32_t)t[i].run;
        changing |= t[i].have != t[i].run;
    }
    stop_outdated(x, c, &outdated, avail + out_run, T, u);
    changing |= outdated.len > 0;
    finish_status(x, c, rt, deficit, changing, backoff, misplaced);
out:
    for (i = 0; i < n; i++)
        lt__sched_pvec_cleanup(&t[i].cur);
    lt_free(t);
    lt__sched_pvec_cleanup(&outdated);
}

/* ---------------------------------------------------------------------------------------------
 * Daemon scaler: instances on every eligible host
 * ------------------------------------------------------------------------------------------- */

static bool daemon_eligible(const spec_comp *c, const sched_host *h)
{
    return spread_of(c, h) >= 0;
}

static void rec_daemon(rec_ctx *x, size_t ci, const spec_comp *c, comp_rt *rt)
{
    uint64_t want = c->instances == 0 ? 0 : c->capability ? 1 : c->instances;
    uint64_t T = 0, stamp, mstamp, pending = 0, run = 0, budget, deficit = 0, u, out_run = 0;
    pvec outdated = { 0 }, labelled = { 0 };
    size_t i, j, eligible = 0, misplaced = 0;
    bool backoff, changing = false, nofit = false;
    char msg[512];

    stamp = ++x->s->stamp;
    for (i = 0; i < x->obs[ci].len; i++) {
        sched_obs *o = x->obs[ci].items[i];

        if (obs_settled(x, o, stamp, rt))
            continue;
        if (daemon_eligible(c, o->host) && lt__sched_streq(o->digest, c->digest)) {
            o->host->cnt++;
            run += o->state == IS(RUNNING);
            pending += o->state != IS(RUNNING);
        } else {
            misplaced += lt__sched_streq(o->digest, c->digest);
            out_run += o->state == IS(RUNNING);
            LT_IGNORE(lt__sched_pvec_push(&outdated, o));
        }
    }
    for (i = 0; i < x->starts[ci].len; i++) {
        sched_start *st = x->starts[ci].items[i];

        if (strcmp(st->digest, c->digest) != 0)
            continue;
        touch(st->host, stamp);
        st->host->cnt_all++;
        if (daemon_eligible(c, st->host)) {
            st->host->cnt++;
            run += st->running;
            pending += !st->running;
        }
    }
    for (i = 0; i < c->n_spreads; i++) {
        sched_sel *sel = lt__sched_inv_selector(x->s, c->spreads[i].selector, &c->spreads[i].req);

        for (j = 0; sel != NULL && j < sel->hosts.len; j++) {
            if (!lt__sched_v2_exports_ok(sel->hosts.items[j], c)) {
                LT_IGNORE(lt__sched_pvec_push(&labelled, sel->hosts.items[j]));
                continue; /* v2: labels match, exports do not */
            }
            T += want, eligible++;
        }
    }
    u = lt_model_rollout_max_unavailable(&x->spec->rollout, T);
    budget = start_budget(x, rt, outdated.len, pending, u, &backoff);
    x->upgrading = outdated.len > 0;
    mstamp = ++x->s->stamp;
    T = 0;
    x->cstamp = 0;
    x->required = false;
    for (i = 0; i < c->n_spreads; i++) {
        sched_sel *sel = lt__sched_inv_selector(x->s, c->spreads[i].selector, &c->spreads[i].req);

        for (j = 0; sel != NULL && j < sel->hosts.len; j++) {
            sched_host *h = sel->hosts.items[j];
            uint32_t cnt;

            if (h->mark_stamp == mstamp || !lt__sched_v2_exports_ok(h, c))
                continue; /* in two spreads: one set is enough; v2: lacks an export */
            h->mark_stamp = mstamp;
            T += want;
            cnt = cnt_of(h, stamp);
            if (cnt < want) {
                deficit += want - cnt;
                x->ord = 0;
                while (cnt_of(h, stamp) < want && budget > 0) {
                    if (!can_take(x, c, rt, h, stamp) || !place_on(x, c, h, stamp, true)) {
                        nofit = true;
                        break;
                    }
                    budget--;
                }
            } else if (cnt > want) {
                size_t k;

                changing = true;
                for (k = 0; k < x->obs[ci].len && cnt_of(h, stamp) > want; k++) {
                    sched_obs *o = x->obs[ci].items[k];

                    if (o->host == h && !going(x, o) && lt__sched_streq(o->digest, c->digest) &&
                        o->state != IS(FAILED)) {
                        stop_obs(x, o, "scaled down");
                        h->cnt--;
                        run -= o->state == IS(RUNNING);
                    }
                }
            }
        }
    }
    for (i = 0; i < x->obs[ci].len; i++) {
        sched_host *h = ((sched_obs *)x->obs[ci].items[i])->host;

        if (h->mode == LT_SCHED_HOST_CORDONED && h->mark_stamp != mstamp && daemon_eligible(c, h) &&
            cnt_of(h, stamp) > 0) {
            h->mark_stamp = mstamp; /* cordoned: what runs there stays, and is still wanted */
            T += want;
        }
    }
    rt->desired = (uint32_t)T;
    rt->running = (uint32_t)run;
    if (want > 0 && eligible == 0 && T == 0 && labelled.len > 0) {
        LT_IGNORE(lt__sched_v2_qualified(&labelled, c, msg, sizeof(msg)));
        rt_set(rt, LT_SCHED_FAILED, REASON(NO_ELIGIBLE_HOSTS), msg);
    } else if (want > 0 && eligible == 0 && T == 0) {
        snprintf(msg, sizeof(msg),
                 "Could not satisfy daemonscaler %s for %s, 0 eligible hosts found.",
                 c->spreads[0].name, c->image);
        rt_set(rt, LT_SCHED_FAILED, REASON(NO_ELIGIBLE_HOSTS), msg);
    } else if (nofit && !backoff && !x->upgrading) {
        snprintf(msg, sizeof(msg),
                 "Could not satisfy daemonscaler for %s: not enough capacity on its eligible hosts",
                 c->image);
        rt_set(rt, LT_SCHED_FAILED, REASON(INSUFFICIENT_CAPACITY), msg);
    }
    stop_outdated(x, c, &outdated, (run < T ? run : T) + out_run, T, u);
    changing |= outdated.len > 0 || pending > 0;
    finish_status(x, c, rt, deficit, changing, backoff, misplaced);
    lt__sched_pvec_cleanup(&outdated);
    lt__sched_pvec_cleanup(&labelled);
}

/* ---------------------------------------------------------------------------------------------
 * The app
 * ------------------------------------------------------------------------------------------- */

/* Is component c of undeployed shared app a still used by a deployed app? */
static bool retained(lt_sched *s, const sched_app *a, const spec_comp *c)
{
    size_t i, j;

    if (a->spec == NULL || !a->spec->shared)
        return false;
    for (i = 0; i < s->apps.cap; i++) {
        const sched_app *b = s->apps.slots[i].val;

        if (s->apps.slots[i].key == NULL || b == a || !b->deployed || b->spec == NULL)
            continue;
        for (j = 0; j < b->spec->n_comps; j++)
            if (b->spec->comps[j].shared_app != NULL &&
                strcmp(b->spec->comps[j].shared_app, a->name) == 0 &&
                strcmp(b->spec->comps[j].shared_comp, c->name) == 0)
                return true;
    }
    return false;
}

/* wadm's deploy rules against the other deployed apps, rechecked when any deployment changes. */
static void cross_check(lt_sched *s, sched_app *a)
{
    const lt_sched_spec **others;
    size_t i, n = 0;
    lt_buf why;

    /* An app that passed keeps its ids and references (later deploys are the ones refused);
     * one that failed is checked again whenever any deployment changed. */
    if (a->check_msg == NULL && a->checked_seq == a->deploy_seq + 1)
        return;
    if (a->check_msg != NULL && a->checked_seq == s->deploy_seq + 1)
        return;
    a->checked_seq = a->check_msg == NULL ? a->deploy_seq + 1 : s->deploy_seq + 1;
    lt__sched_set_str(&a->check_msg, NULL);
    others = lt_calloc(s->apps.count + 1, sizeof(*others));
    if (others == NULL)
        return;
    for (i = 0; i < s->apps.cap; i++) {
        const sched_app *b = s->apps.slots[i].val;

        if (s->apps.slots[i].key != NULL && b != a && b->deployed && b->spec != NULL &&
            b->deploy_seq < a->deploy_seq)
            others[n++] = b->spec; /* first deployed keeps its ids */
        else if (s->apps.slots[i].key != NULL && b != a && b->deployed && b->spec != NULL &&
                 b->spec->shared)
            others[n++] = b->spec; /* shared apps resolve references whenever deployed */
    }
    lt_buf_init(&why, 4096);
    if (lt_sched_spec_check(a->spec, others, n, &why) != LT_OK)
        a->check_msg = lt_strdup(why.ptr[0] != '\0' ? why.ptr : "deploy check failed");
    lt_buf_cleanup(&why);
    lt_free(others);
}

static void expire_starts(lt_sched *s, sched_app *a, int64_t now)
{
    sched_start *st, *nx;

    for (st = a->starts; st != NULL; st = nx) {
        nx = st->next;
        if (st->acked && st->host != NULL && st->host->last_seen <= st->sent)
            continue; /* not heard from the host since (a partition?): its absence proves
                         nothing; if the host is lost, its starts go with it */
        if ((st->acked && now - st->sent > s->cfg.confirm_timeout_ms) ||
            (!st->acked && now - st->sent > 2 * s->cfg.command_timeout_ms)) {
            LT_INFO("sched", "lattice %s: start of %s on %s never showed up; retrying", s->lattice,
                    st->id, st->host != NULL ? st->host->id : "?");
            lt__sched_start_remove(s, st);
        }
    }
}

static void set_app(sched_app *a, lt_sched_state st, int reason, const char *msg)
{
    a->state = st;
    a->reason = reason;
    lt__sched_set_str(&a->message, msg != NULL ? msg : "");
}

void lt__sched_rec_app(lt_sched *s, sched_app *a, int64_t now)
{
    rec_ctx x = { .s = s, .a = a, .spec = a->spec, .now = now };
    size_t i, n;
    sched_obs *o;
    sched_start *st;
    char msg[256];

    a->pass = ++s->stamp;
    expire_starts(s, a, now);
    if (a->unreadable != NULL) {
        /* The desired state is unknown: only a definite answer may start or stop anything. */
        set_app(a, LT_SCHED_RECONCILING, 0, a->unreadable);
        return;
    }
    set_app(a, LT_SCHED_DEPLOYED, 0, "");
    if (a->spec == NULL) {
        for (o = a->obs_head; o != NULL; o = o->app_next)
            stop_obs(&x, o, "app undeployed");
        set_app(a, LT_SCHED_UNDEPLOYED, 0, "Manifest has been undeployed");
        return;
    }
    if (a->deployed) {
        cross_check(s, a);
        if (a->check_msg != NULL) {
            set_app(a, LT_SCHED_FAILED, REASON(START_FAILED), a->check_msg);
            return; /* nothing is touched for an app that may not run here */
        }
        if (a->spec->v2_error != NULL) {
            set_app(a, LT_SCHED_FAILED, REASON(START_FAILED), a->spec->v2_error);
            return; /* v2: cannot be one workload; nothing is touched */
        }
        if (s->host_list.len == 0) {
            snprintf(msg, sizeof(msg), "Lattice %s contains no hosts, deployment not started.",
                     s->lattice);
            set_app(a, LT_SCHED_WAITING, REASON(NO_HOSTS), msg);
            return; /* wadm#346: say so instead of a stale status */
        }
    }
    n = a->spec->n_comps;
    x.obs = lt_calloc(n + 1, sizeof(pvec));
    x.starts = lt_calloc(n + 1, sizeof(pvec));
    if (x.obs == NULL || x.starts == NULL)
        goto out;
    for (o = a->obs_head; o != NULL; o = o->app_next) {
        const spec_comp *c = lt__sched_spec_find(a->spec, o->comp);

        if (c == NULL)
            stop_obs(&x, o, "component removed from the app");
        else if (c->role == V2_RIDER) /* v2: the workload of an older grouping, replaced */
            LT_IGNORE(lt__sched_pvec_push(&x.obs[c->lead], o)); /* by its lead's (outdated) */
        else
            LT_IGNORE(lt__sched_pvec_push(&x.obs[c - a->spec->comps], o));
    }
    for (st = a->starts; st != NULL; st = st->next) {
        const spec_comp *c = lt__sched_spec_find(a->spec, st->comp);

        if (c != NULL)
            LT_IGNORE(lt__sched_pvec_push(&x.starts[c - a->spec->comps], st));
    }
    for (i = 0; i < n; i++) {
        size_t ci = a->spec->order[i];
        const spec_comp *c = &a->spec->comps[ci];
        comp_rt *rt = lt__sched_comp_rt(a, c->name);
        size_t k;

        if (rt == NULL)
            continue;
        rt->desired = rt->running = rt->failed = 0;
        rt_set(rt, LT_SCHED_DEPLOYED, 0, "");
        if (c->role == V2_RIDER || c->role == V2_CAPABILITY)
            continue; /* v2: runs inside its lead's workload, or is a host interface */
        if (c->scaler == SCALER_NONE || c->shared_app != NULL ||
            (!a->deployed && !retained(s, a, c))) {
            for (k = 0; k < x.obs[ci].len; k++)
                stop_obs(&x, x.obs[ci].items[k], a->deployed ? "not scaled" : "app undeployed");
            continue;
        }
        if (c->scaler == SCALER_DAEMON)
            rec_daemon(&x, ci, c, rt);
        else
            rec_spread(&x, ci, c, rt);
    }
    lt__sched_v2_status(a);
    if (!a->deployed)
        set_app(a, LT_SCHED_UNDEPLOYED, 0, "Manifest has been undeployed");
    if (!a->spec->v2)
        lt__sched_rec_links(s, a, now); /* v2 hosts have no link API */
out:
    for (i = 0; x.obs != NULL && i < n; i++)
        lt__sched_pvec_cleanup(&x.obs[i]);
    for (i = 0; x.starts != NULL && i < n; i++)
        lt__sched_pvec_cleanup(&x.starts[i]);
    lt_free(x.obs);
    lt_free(x.starts);
}
