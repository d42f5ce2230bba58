/*
 * sched.c - the lt_sched object: configuration defaults, leadership and
 * readiness, apps (desired specs, runtime state per component, the dirty
 * list), deploy/undeploy, exponential backoff with jitter, and the tick that
 * drives host checks, reconciliation and sending.
 */
#include "sched_int.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_loop.h"

#define HOST_CHECK_MS 250
/* Every status is written again this often while leading, changed or not: a write of a deposed
 * leader that was already under way when it stopped acting cannot hide the truth for longer. */
#define STATUS_REFRESH_MS 30000

uint64_t lt__sched_rand(lt_sched *s)
{
    return lt_rand_next(&s->rng); /* jitter only, not security */
}

static void cfg_defaults(lt_sched_config *c)
{
    if (c->default_interval_ms == 0)
        c->default_interval_ms = 5000;
    if (c->partition_share <= 0 || c->partition_share > 1)
        c->partition_share = 0.5;
    if (c->partition_min_hosts == 0)
        c->partition_min_hosts = 3;
    if (c->warmup_ms == 0)
        c->warmup_ms = (int64_t)c->default_interval_ms * 3 / 2;
    if (c->warmup_ms < 0)
        c->warmup_ms = 0;
    if (c->backoff_base_ms <= 0)
        c->backoff_base_ms = 1000;
    if (c->backoff_max_ms <= 0)
        c->backoff_max_ms = 60000;
    if (c->command_timeout_ms <= 0)
        c->command_timeout_ms = 5000;
    if (c->inventory_ms == 0)
        c->inventory_ms = c->command_timeout_ms;
    if (c->confirm_timeout_ms <= 0)
        c->confirm_timeout_ms = 3 * (int64_t)c->default_interval_ms;
    if (c->full_pass_ms <= 0)
        c->full_pass_ms = 5000;
    if (c->debounce_ms <= 0)
        c->debounce_ms = 20;
    if (c->burst_max_ms == 0)
        c->burst_max_ms = 200;
    if (c->max_batch == 0)
        c->max_batch = 256;
    if (c->seed == 0)
        c->seed = 0x9e3779b97f4a7c15ull;
}

lt_status lt_sched_new(lt_sched **new_s, const lt_sched_config *cfg, const lt_sched_sink *sink,
                       int64_t now)
{
    lt_sched *s;

    *new_s = NULL;
    if (cfg == NULL || cfg->lattice == NULL || cfg->lattice[0] == '\0')
        return LT_FAIL(LT_ERR_INVALID, "the scheduler needs a lattice");
    s = lt_calloc(1, sizeof(*s));
    if (s == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "scheduler");
    s->cfg = *cfg;
    cfg_defaults(&s->cfg);
    s->lattice = lt_strdup(cfg->lattice);
    if (s->lattice == NULL) {
        lt_free(s);
        return LT_FAIL(LT_ERR_NOMEM, "scheduler");
    }
    s->cfg.lattice = s->lattice;
    if (sink != NULL)
        s->sink = *sink;
    s->connected = true;
    s->apps_loaded = true;
    lt_rand_seed(&s->rng, s->cfg.seed);
    s->ready_at = now + s->cfg.warmup_ms; /* inventory first (see lt_sched_set_leader) */
    s->last_full = now;
    s->next_req = 1;
    lt_buf_init(&s->placed.text, SCHED_PLACED_TEXT_MAX);
    *new_s = s;
    return LT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Apps
 * ------------------------------------------------------------------------------------------- */

static void rt_free(comp_rt *rt)
{
    size_t i;

    lt_free(rt->name);
    lt_free(rt->fail_msg);
    lt_free(rt->conflict_msg);
    lt_free(rt->message);
    for (i = 0; i < rt->n_avoid; i++)
        lt_free(rt->avoid[i].host_id);
    lt_free(rt->avoid);
    lt_free(rt);
}

static void lrt_free(link_rt *l)
{
    lt_free(l->link_id);
    lt_free(l->fail_msg);
    lt_free(l->label);
    lt_free(l->message);
    lt_free(l);
}

sched_app *lt__sched_app_get(lt_sched *s, const char *name, bool create)
{
    sched_app *a = lt_map_get(&s->apps, name);

    if (a != NULL || !create)
        return a;
    a = lt_calloc(1, sizeof(*a));
    if (a == NULL || (a->name = lt_strdup(name)) == NULL) {
        lt_free(a);
        return NULL;
    }
    a->state = LT_SCHED_UNDEPLOYED;
    a->announced = -1;
    if (lt_map_put(&s->apps, a->name, a) != LT_OK) {
        lt_free(a->name);
        lt_free(a);
        return NULL;
    }
    return a;
}

static void app_free(lt_sched *s, sched_app *a)
{
    size_t i;

    while (a->starts != NULL)
        lt__sched_start_remove(s, a->starts);
    while (a->obs_head != NULL)
        lt__sched_obs_unlink_app(s, a->obs_head);
    for (i = 0; i < a->rt.cap; i++)
        if (a->rt.slots[i].key != NULL)
            rt_free(a->rt.slots[i].val);
    lt_map_cleanup(&a->rt);
    for (i = 0; i < a->lrt.cap; i++)
        if (a->lrt.slots[i].key != NULL)
            lrt_free(a->lrt.slots[i].val);
    lt_map_cleanup(&a->lrt);
    lt_sched_spec_free(a->spec);
    lt__sched_status_free(a);
    lt_free(a->prev_version);
    lt_free(a->announced_msg);
    lt_free(a->check_msg);
    lt_free(a->unreadable);
    lt_free(a->unreadable_version);
    lt_free(a->name);
    lt_free(a);
}

/* The app's desired state is known again: hands on. */
static void readable_again(sched_app *a)
{
    lt_free(a->unreadable);
    lt_free(a->unreadable_version);
    a->unreadable = a->unreadable_version = NULL;
}

void lt__sched_mark_dirty(lt_sched *s, sched_app *a, int64_t now)
{
    if (a == NULL || a->dirty)
        return;
    if (s->dirty_head == NULL)
        s->dirty_since = now;
    a->dirty = true;
    a->dirty_next = s->dirty_head;
    s->dirty_head = a;
}

void lt__sched_trace_app(lt_sched *s, const sched_app *a)
{
    if (a != NULL && a->trace_id[0] != '\0') {
        lt_log_trace_set(a->trace_id);
        s->traced = true;
    } else {
        lt__sched_trace_end(s);
    }
}

void lt__sched_trace_end(lt_sched *s)
{
    if (s->traced) {
        lt_log_trace_set(NULL);
        s->traced = false;
    }
}

void lt_sched_app_trace_set(lt_sched *s, const char *app, const char *traceparent,
                            const char *trace_id, int64_t now)
{
    sched_app *a = lt__sched_app_get(s, app, false);

    if (a == NULL)
        return;
    a->traceparent[0] = a->trace_id[0] = '\0';
    if (traceparent == NULL || trace_id == NULL || strlen(traceparent) >= sizeof(a->traceparent) ||
        strlen(trace_id) >= sizeof(a->trace_id))
        return;
    memcpy(a->traceparent, traceparent, strlen(traceparent) + 1);
    memcpy(a->trace_id, trace_id, strlen(trace_id) + 1);
    /* the next pass sees whether there is anything left to do (else the trace ends there) */
    lt__sched_mark_dirty(s, a, now);
}

const char *lt_sched_app_traceparent(const lt_sched *s, const char *app)
{
    const sched_app *a = lt_map_get(&s->apps, app);

    return a != NULL && a->traceparent[0] != '\0' ? a->traceparent : NULL;
}

/* The deploy's work for a is over once it is deployed: its trace ends (lt_sched_app_trace_set). */
static void trace_done(lt_sched *s, sched_app *a)
{
    if (a->trace_id[0] == '\0' || a->state != LT_SCHED_DEPLOYED || !a->deployed)
        return;
    LT_DEBUG("sched", "lattice %s: app %s version %s is deployed: the deploy's trace ends",
             s->lattice, a->name, a->spec != NULL ? a->spec->version : "");
    a->traceparent[0] = a->trace_id[0] = '\0';
}

/** Host changes: mark the apps that may place differently (not at rest, or with daemons). */
static void mark_unsettled(lt_sched *s, int64_t now)
{
    size_t i;

    for (i = 0; i < s->apps.cap; i++) {
        sched_app *a = s->apps.slots[i].val;

        if (s->apps.slots[i].key != NULL &&
            (a->state != LT_SCHED_DEPLOYED || (a->spec != NULL && a->spec->has_daemon)))
            lt__sched_mark_dirty(s, a, now);
    }
}

/* A deployment of app changed: it, the apps it shares with, and apps failing a cross-app check
 * (an id or a shared app may have been freed or provided) need a pass. */
static void mark_related(lt_sched *s, sched_app *a, const lt_sched_spec *old, int64_t now)
{
    const lt_sched_spec *specs[2] = { a->spec, old };
    size_t i, j, k;

    lt__sched_mark_dirty(s, a, now);
    for (i = 0; i < s->apps.cap; i++) {
        sched_app *b = s->apps.slots[i].val;
        bool rel = false;

        if (s->apps.slots[i].key == NULL || b == a)
            continue;
        rel = b->check_msg != NULL;
        for (j = 0; !rel && b->spec != NULL && j < b->spec->n_comps; j++)
            rel = b->spec->comps[j].shared_app != NULL &&
                  strcmp(b->spec->comps[j].shared_app, a->name) == 0;
        for (k = 0; !rel && k < 2; k++)
            for (j = 0; !rel && specs[k] != NULL && j < specs[k]->n_comps; j++)
                rel = specs[k]->comps[j].shared_app != NULL &&
                      strcmp(specs[k]->comps[j].shared_app, b->name) == 0;
        if (rel)
            lt__sched_mark_dirty(s, b, now);
    }
}

comp_rt *lt__sched_comp_rt(sched_app *a, const char *name)
{
    comp_rt *rt = lt_map_get(&a->rt, name);

    if (rt != NULL)
        return rt;
    rt = lt_calloc(1, sizeof(*rt));
    if (rt == NULL || (rt->name = lt_strdup(name)) == NULL ||
        lt_map_put(&a->rt, rt->name, rt) != LT_OK) {
        if (rt != NULL)
            lt_free(rt->name);
        lt_free(rt);
        return NULL;
    }
    return rt;
}

link_rt *lt__sched_link_rt(sched_app *a, const char *link_id, bool create)
{
    link_rt *l = lt_map_get(&a->lrt, link_id);

    if (l != NULL || !create)
        return l;
    l = lt_calloc(1, sizeof(*l));
    if (l == NULL || (l->link_id = lt_strdup(link_id)) == NULL ||
        lt_map_put(&a->lrt, l->link_id, l) != LT_OK) {
        if (l != NULL)
            lt_free(l->link_id);
        lt_free(l);
        return NULL;
    }
    return l;
}

void lt__sched_start_remove(lt_sched *s, sched_start *st)
{
    sched_app *a = st->app;

    if (st->prev != NULL)
        st->prev->next = st->next;
    else if (a != NULL)
        a->starts = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    if (a != NULL)
        a->n_starts--;
    if (lt_map_get(&s->starts_by_id, st->id) == st)
        lt_map_del(&s->starts_by_id, st->id);
    if (st->host != NULL) {
        st->host->pend_slots--;
        st->host->pend_mem -= st->mem;
        st->host->pend_cpu -= st->cpu;
    }
    lt_free(st->comp);
    lt_free(st);
}

static int64_t backoff_delay(lt_sched *s, uint32_t failures)
{
    int64_t d = s->cfg.backoff_base_ms;
    uint32_t i;
    uint64_t r;

    for (i = 1; i < failures && d < s->cfg.backoff_max_ms; i++)
        d *= 2;
    if (d > s->cfg.backoff_max_ms)
        d = s->cfg.backoff_max_ms;
    /* Jitter: 80%..120%, so failing apps do not retry in lock step. */
    r = lt__sched_rand(s) % 401;
    return d * (int64_t)(800 + r) / 1000;
}

void lt__sched_failure(lt_sched *s, sched_app *a, const char *comp, const char *host_id,
                       const char *msg, int64_t now)
{
    comp_rt *rt = lt__sched_comp_rt(a, comp);
    bool counted = false;
    int64_t d;
    size_t i;

    if (rt == NULL)
        return;
    /* Several instances failing in one round are one failure: the delay doubles per round. */
    if (rt->failures == 0 || now - rt->last_fail >= s->cfg.backoff_base_ms / 2) {
        rt->failures++;
        rt->last_fail = now;
        counted = true;
    }
    d = backoff_delay(s, rt->failures);
    if (now + d > rt->retry_at)
        rt->retry_at = now + d;
    if (s->wake_at == 0 || rt->retry_at < s->wake_at)
        s->wake_at = rt->retry_at;
    lt__sched_set_str(&rt->fail_msg, msg != NULL && msg[0] != '\0' ? msg : "start failed");
    if (counted) /* one line per round, not per instance */
        LT_INFO("sched",
                "lattice %s app %s component %s: failure %u on host %s (%s); retry in %lld ms",
                s->lattice, a->name, comp, rt->failures, host_id != NULL ? host_id : "?",
                rt->fail_msg != NULL ? rt->fail_msg : "", (long long)d);
    /* Keep away from that host for a while (other hosts may do better). */
    if (host_id != NULL) {
        for (i = 0; i < rt->n_avoid; i++)
            if (strcmp(rt->avoid[i].host_id, host_id) == 0)
                break;
        if (i == rt->n_avoid) {
            avoid_host *na = lt_realloc(rt->avoid, (rt->n_avoid + 1) * sizeof(*na));
            char *hid = lt_strdup(host_id);

            if (na != NULL)
                rt->avoid = na;
            if (na == NULL || hid == NULL) {
                lt_free(hid);
                goto out;
            }
            na[i].host_id = hid;
            rt->n_avoid++;
        }
        rt->avoid[i].until = now + 2 * d;
    }
out:
    lt__sched_mark_dirty(s, a, now);
}

/* ---------------------------------------------------------------------------------------------
 * Shared-link index: links other apps declare whose source is a shared app's component
 * ------------------------------------------------------------------------------------------- */

static void shared_index_clear(lt_sched *s)
{
    size_t i;

    for (i = 0; i < s->shared_links.cap; i++)
        if (s->shared_links.slots[i].key != NULL) {
            pvec *v = s->shared_links.slots[i].val;

            lt_free((char *)s->shared_links.slots[i].key);
            lt__sched_pvec_cleanup(v);
            lt_free(v);
        }
    lt_map_cleanup(&s->shared_links);
}

static void shared_index_rebuild(lt_sched *s)
{
    size_t i, c, l;
    lt_buf key;

    shared_index_clear(s);
    lt_buf_init(&key, 4096);
    for (i = 0; i < s->apps.cap; i++) {
        sched_app *a = s->apps.slots[i].val;

        if (s->apps.slots[i].key == NULL || !a->deployed || a->spec == NULL)
            continue;
        for (c = 0; c < a->spec->n_comps; c++)
            for (l = 0; l < a->spec->comps[c].n_links; l++) {
                spec_link *lk = &a->spec->comps[c].links[l];
                pvec *v;

                if (strcmp(lk->source_app, a->name) == 0)
                    continue;
                lt_buf_reset(&key);
                if (lt_buf_appendf(&key, "%s/%s", lk->source_app, lk->source_comp) != LT_OK)
                    continue;
                v = lt_map_get(&s->shared_links, key.ptr);
                if (v == NULL) {
                    char *k = lt_strdup(key.ptr);

                    v = lt_calloc(1, sizeof(*v));
                    if (k == NULL || v == NULL || lt_map_put(&s->shared_links, k, v) != LT_OK) {
                        lt_free(k);
                        lt_free(v);
                        continue;
                    }
                }
                LT_IGNORE(lt__sched_pvec_push(v, lk));
            }
    }
    lt_buf_cleanup(&key);
}

/* ---------------------------------------------------------------------------------------------
 * Desired state
 * ------------------------------------------------------------------------------------------- */

lt_status lt_sched_deploy(lt_sched *s, const lt_model *m, int64_t now)
{
    lt_sched_spec *spec = NULL, *old;
    sched_app *a;
    lt_status st;

    st = lt__sched_spec_compile(m, s->lattice, s->cfg.wasmcloud_v2, &spec);
    if (st != LT_OK)
        return st;
    a = lt__sched_app_get(s, spec->app, true);
    if (a == NULL) {
        lt_sched_spec_free(spec);
        return LT_FAIL(LT_ERR_NOMEM, "app");
    }
    if (a->unreadable != NULL) {
        readable_again(a);
        lt__sched_mark_dirty(s, a, now);
    }
    if (a->deployed && a->spec != NULL && strcmp(a->spec->version, spec->version) == 0 &&
        strcmp(a->spec->digest, spec->digest) == 0) {
        lt_sched_spec_free(spec); /* same version, same content: nothing changes */
        return LT_OK;
    }
    lt__sched_set_str(&a->prev_version, a->deployed && a->spec != NULL ? a->spec->version : "");
    old = a->spec;
    a->spec = spec;
    a->deployed = true;
    a->deleted = false;
    a->deploy_seq = ++s->deploy_seq;
    a->announced = -1;
    LT_INFO("sched", "lattice %s: app %s version %s deployed", s->lattice, a->name, spec->version);
    if (s->burst_since == 0)
        s->burst_since = now;
    s->burst_quiet_at = now + s->cfg.debounce_ms;
    shared_index_rebuild(s);
    mark_related(s, a, old, now);
    lt_sched_spec_free(old);
    return LT_OK;
}

lt_status lt_sched_undeploy(lt_sched *s, const char *app, bool deleted, int64_t now)
{
    sched_app *a = lt__sched_app_get(s, app, false);

    if (a == NULL)
        return LT_OK;
    readable_again(a);
    if (a->deployed)
        LT_INFO("sched", "lattice %s: app %s undeployed", s->lattice, app);
    a->deployed = false;
    a->deleted = deleted;
    a->announced = -1;
    s->deploy_seq++;
    shared_index_rebuild(s);
    mark_related(s, a, NULL, now);
    return LT_OK;
}

lt_status lt_sched_unreadable(lt_sched *s, const char *app, const char *version, const char *why,
                              int64_t now)
{
    sched_app *a = lt__sched_app_get(s, app, true);
    char msg[1024];

    if (a == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "app");
    snprintf(msg, sizeof(msg), "cannot read version %s: %s", version, why);
    if (a->unreadable == NULL)
        LT_WARN("sched", "lattice %s: app %s: %s; its instances are left alone", s->lattice, app,
                msg);
    lt__sched_set_str(&a->unreadable, msg);
    lt__sched_set_str(&a->unreadable_version, version);
    if (a->unreadable == NULL || a->unreadable_version == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "app");
    a->announced = -1;
    lt__sched_mark_dirty(s, a, now);
    return LT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Leadership and time
 * ------------------------------------------------------------------------------------------- */

void lt_sched_set_leader(lt_sched *s, bool leading, uint64_t epoch, int64_t now)
{
    bool new_term = leading && (!s->leading || epoch != s->epoch);

    if (new_term) {
        lt__sched_req_free_all(s); /* answers to an older epoch mean nothing now */
        /* Warm-up counts from when this scheduler began to listen: a standby that has been
         * following the hosts already knows what runs. */
        if (s->ready_at < now)
            s->ready_at = now;
        s->all_dirty = true;
        s->burst_since = 0;
        LT_INFO("sched", "lattice %s: leading with epoch %llu", s->lattice,
                (unsigned long long)epoch);
    } else if (!leading && s->leading) {
        LT_WARN("sched", "lattice %s: no longer leading (epoch %llu)", s->lattice,
                (unsigned long long)s->epoch);
    }
    s->leading = leading;
    if (leading)
        s->epoch = epoch;
    lt__sched_fence_lift(s, now);
    if (new_term) {
        lt_sched_republish(s); /* a status written by another leader meanwhile is stale */
        lt__sched_fence_begin(s, now);
    }
}

void lt_sched_republish(lt_sched *s)
{
    size_t i;

    for (i = 0; i < s->apps.cap; i++)
        if (s->apps.slots[i].key != NULL)
            ((sched_app *)s->apps.slots[i].val)->published = false;
    s->all_dirty = true;
}

bool lt_sched_leading(const lt_sched *s, uint64_t *epoch)
{
    if (epoch != NULL)
        *epoch = s->epoch;
    return s->leading;
}

void lt_sched_set_apps_loaded(lt_sched *s, bool loaded)
{
    s->apps_loaded = loaded;
    if (loaded)
        s->all_dirty = true;
}

size_t lt_sched_host_count(const lt_sched *s)
{
    return s->host_list.len;
}

static void mark_every_app(lt_sched *s, int64_t now)
{
    size_t i;

    for (i = 0; i < s->apps.cap; i++)
        if (s->apps.slots[i].key != NULL)
            lt__sched_mark_dirty(s, s->apps.slots[i].val, now);
}

/* Apps that are undeployed and have nothing left are forgotten once their final status is out. */
static void collect_apps(lt_sched *s)
{
    pvec dead = { 0 };
    size_t i;

    for (i = 0; i < s->apps.cap; i++) {
        sched_app *a = s->apps.slots[i].val;

        if (s->apps.slots[i].key != NULL && !a->deployed && a->unreadable == NULL && !a->dirty &&
            a->n_obs == 0 && a->n_starts == 0 && (a->published || !s->leading) &&
            a->state == LT_SCHED_UNDEPLOYED && lt__sched_pvec_push(&dead, a) != LT_OK)
            break;
    }
    for (i = 0; i < dead.len; i++) {
        sched_app *a = dead.items[i];

        lt_map_del(&s->apps, a->name);
        app_free(s, a);
    }
    if (dead.len > 0)
        shared_index_rebuild(s);
    lt__sched_pvec_cleanup(&dead);
}

/* Reconcile every dirty app, then send. The clock read is for the slow-pass log only. */
static void reconcile_dirty(lt_sched *s, int64_t now)
{
    int64_t t0 = lt_loop_now_ms();
    size_t napps = 0;
    sched_app *a;

    while ((a = s->dirty_head) != NULL) {
        s->dirty_head = a->dirty_next;
        a->dirty = false;
        lt__sched_trace_app(s, a); /* its lines carry its deploy's trace id */
        lt__sched_rec_app(s, a, now);
        lt__sched_status_update(s, a, now);
        trace_done(s, a);
        napps++;
    }
    lt__sched_trace_end(s);
    lt__sched_out_flush(s, now);
    if (lt_loop_now_ms() - t0 >= 100)
        LT_DEBUG("sched", "lattice %s: a pass over %zu app(s) took %lld ms", s->lattice, napps,
                 (long long)(lt_loop_now_ms() - t0));
}

/*
 * How long the pass still waits for a burst of deploys to end (0: not at all). Deploys sent
 * together reach the scheduler over tens of milliseconds (the API, the store's watch); placing
 * what has come after debounce_ms would send every host a request per wave, each wave with a
 * part of the apps. Waiting until no deploy came for debounce_ms (burst_max_ms at most) places
 * the burst in one pass: one request per host.
 */
static int64_t burst_wait(lt_sched *s, int64_t now)
{
    if (s->burst_since == 0)
        return 0;
    if (s->cfg.burst_max_ms > 0 && now < s->burst_quiet_at &&
        now - s->burst_since < s->cfg.burst_max_ms) {
        int64_t left = s->burst_since + s->cfg.burst_max_ms - now;

        return s->burst_quiet_at - now < left ? s->burst_quiet_at - now : left;
    }
    s->burst_since = 0; /* over: the next deploy starts another */
    return 0;
}

int64_t lt_sched_tick(lt_sched *s, int64_t now)
{
    int64_t next = s->cfg.full_pass_ms, wait;
    sched_app *a;

    lt__sched_cp_placed_flush(s); /* nothing waits past a tick (every entry point flushes) */
    if (s->gone_pending || now - s->last_host_check >= HOST_CHECK_MS) {
        s->gone_pending = false; /* lt_sched_host_gone: at once, not at the next check */
        s->last_host_check = now;
        lt__sched_inv_check_hosts(s, now);
    }
    lt__sched_req_expire(s, now);
    if (!s->leading) {
        /* Followers keep the inventory; the dirty list is the leader's business. */
        while ((a = s->dirty_head) != NULL) {
            s->dirty_head = a->dirty_next;
            a->dirty = false;
        }
        s->all_dirty = false;
        s->burst_since = 0; /* a burst seen while following is not this leader's to wait for */
        return HOST_CHECK_MS;
    }
    if (now < s->ready_at || !s->apps_loaded)
        return s->ready_at > now ? s->ready_at - now : HOST_CHECK_MS;
    if (now - s->last_republish >= STATUS_REFRESH_MS) {
        s->last_republish = now;
        lt_sched_republish(s);
    }
    if (!lt__sched_fence_ready(s, now))
        return HOST_CHECK_MS; /* the new term's inventory round is not over */
    if (s->all_dirty || now - s->last_full >= s->cfg.full_pass_ms ||
        (s->wake_at != 0 && now >= s->wake_at)) {
        if (now - s->last_full >= s->cfg.full_pass_ms || (s->wake_at != 0 && now >= s->wake_at))
            s->last_full = now;
        if (s->wake_at != 0 && now >= s->wake_at)
            s->wake_at = 0;
        s->all_dirty = false;
        mark_every_app(s, now);
    }
    if (s->hosts_changed) {
        s->hosts_changed = false;
        mark_unsettled(s, now);
    }
    if (s->dirty_head != NULL && now - s->dirty_since < s->cfg.debounce_ms)
        return s->cfg.debounce_ms - (now - s->dirty_since);
    if (s->dirty_head != NULL && (wait = burst_wait(s, now)) > 0)
        return wait;
    reconcile_dirty(s, now);
    collect_apps(s);
    next = s->cfg.full_pass_ms - (now - s->last_full);
    if (s->wake_at != 0 && s->wake_at - now < next)
        next = s->wake_at - now;
    if (next > HOST_CHECK_MS)
        next = HOST_CHECK_MS;
    return next > 0 ? next : 1;
}

void lt_sched_free(lt_sched *s)
{
    size_t i;

    if (s == NULL)
        return;
    lt__sched_out_discard(s);
    lt__sched_req_free_all(s);
    for (i = 0; i < s->apps.cap; i++)
        if (s->apps.slots[i].key != NULL)
            app_free(s, s->apps.slots[i].val);
    lt_map_cleanup(&s->apps);
    shared_index_clear(s);
    lt_map_cleanup(&s->starts_by_id);
    lt__sched_inv_free_all(s);
    lt__sched_drain_free_all(s);
    lt_map_cleanup(&s->reqs);
    lt__sched_pvec_cleanup(&s->outq);
    lt_buf_cleanup(&s->placed.text);
    lt_free(s->lattice);
    lt_free(s);
}
