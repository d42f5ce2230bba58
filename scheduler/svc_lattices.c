/*
 * svc_lattices.c - the scheduler service: lattices (one lt_sched each, created when a
 * host event or a stored app names them), the loop timer that ticks them, the
 * store watcher that turns deployed versions into lt_sched_deploy calls, and
 * the leader lease callbacks. Everything but the watcher and lease threads
 * runs on the loop; those threads only post.
 */
#include "sched_svc_int.h"
#include "sched_v2_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_subject.h"

static void svc_stale(void *arg, const char *host_id, uint64_t claimed);

#define TIMER_MS 10

/* ---------------------------------------------------------------------------------------------
 * Lattices
 * ------------------------------------------------------------------------------------------- */

static bool allowed(const lt_sched_svc *svc, const char *name)
{
    size_t i;

    if (!lt_subject_token_ok(name))
        return false;
    if (svc->n_allow == 0 || lt__sched_v2_lattice(svc, name))
        return true;
    for (i = 0; i < svc->n_allow; i++)
        if (strcmp(svc->allow[i], name) == 0)
            return true;
    return false;
}

svc_lattice *lt__sched_svc_lattice_at(lt_sched_svc *svc, size_t idx)
{
    return idx < svc->n_lats ? svc->lats[idx] : NULL;
}

static svc_lattice *lattice_get(lt_sched_svc *svc, const char *name, bool create, bool limited)
{
    lt_sched_config sc = svc->cfg.sched;
    lt_sched_sink sink = { .send = lt__sched_svc_send,
                           .status = lt__sched_svc_status,
                           .event = lt__sched_svc_event,
                           .stale = svc_stale };
    svc_lattice *l;
    size_t i;

    for (i = 0; i < svc->n_lats; i++)
        if (strcmp(svc->lats[i]->name, name) == 0)
            return svc->lats[i];
    if (!create || !allowed(svc, name))
        return NULL;
    if (limited && svc->n_lats >= svc->max_lattices) {
        if (!svc->max_warned)
            LT_WARN("sched", "lattice %s ignored: already serving --max-lattices %zu lattices",
                    name, svc->max_lattices);
        svc->max_warned = true;
        return NULL;
    }
    if (svc->n_lats == svc->cap_lats) {
        size_t ncap = svc->cap_lats ? svc->cap_lats * 2 : 8;
        svc_lattice **nl = lt_realloc(svc->lats, ncap * sizeof(*nl));

        if (nl == NULL)
            return NULL;
        svc->lats = nl;
        svc->cap_lats = ncap;
    }
    l = lt_calloc(1, sizeof(*l));
    if (l == NULL || (l->name = lt_strdup(name)) == NULL) {
        lt_free(l);
        return NULL;
    }
    l->svc = svc;
    l->idx = svc->n_lats;
    sink.arg = l;
    sc.lattice = name;
    if (lt__sched_v2_lattice(svc, name)) { /* docs/wasmcloud-v2.md */
        sc.wasmcloud_v2 = true;
        sink.send = lt__sched_v2_send;
        sc.inventory_ms = -1; /* v2 hosts list no workloads: the driver checks them itself */
        sc.default_interval_ms =
            (uint32_t)(svc->cfg.v2.heartbeat_ms > 0 ? svc->cfg.v2.heartbeat_ms : 15000);
        sc.host_timeout_ms = 0; /* 3 intervals: the probe finds a dead host much sooner */
    }
    if (lt_sched_new(&l->s, &sc, &sink, lt_loop_now_ms()) != LT_OK) {
        lt_free(l->name);
        lt_free(l);
        return NULL;
    }
    lt_sched_set_apps_loaded(l->s, svc->apps_loaded);
    lt_sched_set_connected(l->s, svc->connected, lt_loop_now_ms());
    if (svc->cfg.js == NULL)
        lt_sched_set_leader(l->s, true, 1, lt_loop_now_ms());
    svc->lats[svc->n_lats++] = l;
    if (svc->lease != NULL && lt__sched_lease_add(svc->lease, name, &l->lease_slot) != LT_OK)
        LT_WARN("sched", "lattice %s: %s", name, lt_error_message());
    LT_INFO("sched", "serving lattice %s", name);
    return l;
}

svc_lattice *lt__sched_svc_lattice_get(lt_sched_svc *svc, const char *name, bool create)
{
    return lattice_get(svc, name, create, true);
}

/* Lattices named by the store or the configuration are served whatever the limit: only names
 * that come from the bus (host events) count against --max-lattices. */
static svc_lattice *lattice_trusted(lt_sched_svc *svc, const char *name, bool create)
{
    return lattice_get(svc, name, create, false);
}

lt_sched *lt_sched_svc_lattice(lt_sched_svc *svc, const char *lattice)
{
    svc_lattice *l = lt__sched_svc_lattice_get(svc, lattice, false);

    return l != NULL ? l->s : NULL;
}

/* Once a second: throughput at debug level; and a warning (at most every 10 s) while host
 * events wait, in nats.c or in the inbox, for more than a few heartbeat rounds' worth. */
static void load_report(lt_sched_svc *svc, int64_t now)
{
    int pending_msgs = 0, pending_bytes = 0;
    uint64_t merged = 0;
    size_t waiting = 0;

    if (now - svc->load_last < 1000)
        return;
    lt__sched_svc_inbox_stats(svc, &waiting, &merged);
    if (svc->evt_sub != NULL)
        (void)natsSubscription_GetPending(svc->evt_sub, &pending_msgs, &pending_bytes);
    LT_DEBUG("sched",
             "%llu events/s, %llu replies/s, inbox %zu waiting (%llu heartbeats merged), "
             "%d events (%d bytes) not decoded yet",
             (unsigned long long)(svc->n_events - svc->load_events),
             (unsigned long long)(svc->n_replies - svc->load_replies), waiting,
             (unsigned long long)merged, pending_msgs, pending_bytes);
    if ((pending_bytes > (64 << 20) || waiting > 100000) && now - svc->load_warned >= 10000) {
        LT_WARN("sched",
                "falling behind the hosts: %d events (%d MiB) not decoded yet, %zu decoded "
                "items waiting for the loop",
                pending_msgs, pending_bytes >> 20, waiting);
        svc->load_warned = now;
    }
    svc->load_events = svc->n_events;
    svc->load_replies = svc->n_replies;
    svc->load_last = now;
}

static int64_t on_timer(lt_loop *loop, void *arg)
{
    lt_sched_svc *svc = arg;
    int64_t now = lt_loop_now_ms();
    size_t i;

    (void)loop;
    lt__sched_v2_tick(svc->v2, now);
    for (i = 0; i < svc->n_lats; i++) {
        svc_lattice *l = svc->lats[i];

        if (lt_sched_leading(l->s, NULL) && lt__sched_svc_may_act(l) == l->paused) {
            /* Past the deadline no renewal was confirmed: another replica may take the lease
             * at ttl. Nothing goes out (lt__sched_svc_may_act), whatever the lease thread is
             * blocked on; a confirmed renewal of the same term resumes, a lost lease deposes. */
            l->paused = !l->paused;
            if (l->paused)
                LT_WARN("sched", "lattice %s: lease renewal not confirmed in time: acting paused",
                        l->name);
            else
                LT_INFO("sched", "lattice %s: lease renewed: acting again", l->name);
            if (!l->paused)
                lt_sched_republish(l->s);
        }
        if (l->kick || now >= l->next_tick) {
            int64_t t0 = lt_hist_now_ns();
            int64_t d = lt_sched_tick(l->s, now);

            lt_hist_observe_ns(&svc->reconcile, lt_hist_now_ns() - t0);
            l->kick = false;
            l->next_tick = now + d;
        }
    }
    lt__sched_writer_handover(svc->writer);
    load_report(svc, now);
    return TIMER_MS;
}

/* ---------------------------------------------------------------------------------------------
 * Leadership (lease thread -> loop)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    lt_sched_svc *svc;
    char *lattice;
    bool leading;
    uint64_t epoch;
    int64_t until;
    char *host; /* quarantine: the host */
} lead_item;

static void lead_drop(void *arg)
{
    lead_item *it = arg;

    lt_free(it->lattice);
    lt_free(it->host);
    lt_free(it);
}

static void lead_apply(lt_loop *loop, void *arg)
{
    lead_item *it = arg;
    svc_lattice *l = lt__sched_svc_lattice_get(it->svc, it->lattice, false);
    int64_t now = lt_loop_now_ms();
    uint64_t cur = 0;

    (void)loop;
    if (l == NULL)
        goto out;
    if (it->host != NULL) {
        lt_sched_quarantine(l->s, it->host, it->epoch, now);
        goto out;
    }
    if (it->leading != lt_sched_leading(l->s, &cur) || (it->leading && cur != it->epoch)) {
        lt_sched_set_leader(l->s, it->leading, it->epoch, now);
        l->kick = true;
    }
out:
    lead_drop(it);
}

static void post_lead(lt_sched_svc *svc, lead_item *it)
{
    if (lt_loop_post(svc->cfg.loop, lead_apply, it, lead_drop) != LT_OK)
        lead_drop(it);
}

static void on_lease(void *arg, const char *lattice, bool leading, uint64_t epoch, int64_t until)
{
    lt_sched_svc *svc = arg;
    lead_item *it = lt_calloc(1, sizeof(*it));

    if (it == NULL || (it->lattice = lt_strdup(lattice)) == NULL) {
        lt_free(it);
        return;
    }
    it->svc = svc;
    it->leading = leading;
    it->epoch = epoch;
    it->until = until;
    post_lead(svc, it);
}

static void on_quarantine(void *arg, const char *lattice, const char *host, uint64_t claimed)
{
    lt_sched_svc *svc = arg;
    lead_item *it = lt_calloc(1, sizeof(*it));

    if (it == NULL || (it->lattice = lt_strdup(lattice)) == NULL ||
        (it->host = lt_strdup(host)) == NULL) {
        if (it != NULL)
            lt_free(it->lattice);
        lt_free(it);
        return;
    }
    it->svc = svc;
    it->epoch = claimed;
    post_lead(svc, it);
}

bool lt__sched_svc_may_act(const svc_lattice *l)
{
    if (l->svc->lease == NULL)
        return true; /* no election: a single process leads every lattice */
    return lt_loop_now_ms() < lt__sched_lease_until(l->svc->lease, l->lease_slot);
}

/* svc_lattices.c: the sink's stale callback (a host refused our epoch) */
static void svc_stale(void *arg, const char *host_id, uint64_t claimed)
{
    svc_lattice *l = arg;

    if (l->svc->lease != NULL)
        lt__sched_lease_verify(l->svc->lease, l->name, host_id, claimed);
    else /* no election: epoch 1 is the only term there is */
        lt_sched_quarantine(l->s, host_id, claimed, lt_loop_now_ms());
}

/* ---------------------------------------------------------------------------------------------
 * Desired state (store watcher thread -> loop)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    lt_sched_svc *svc;
    char *lattice, *name;
    lt_model *model; /* NULL: undeploy (unless unreadable is set) */
    bool deleted;
    bool initial_done;
    char *version, *unreadable; /* the deployed version cannot be read: why */
    char *trace;                /* the deploy request's traceparent, NULL when none */
} app_item;

const char *lt__sched_svc_app_trace(const svc_lattice *l, const char *app)
{
    return app != NULL ? lt_sched_app_traceparent(l->s, app) : NULL;
}

/* The deploy's stored traceparent tp (NULL: none) normalised to version 00 into norm, its trace
 * id into tid; false when there is none or it is invalid (then the app's work is untraced). */
static bool trace_of(const char *tp, char norm[LT_TRACE_PARENT_LEN + 1], char tid[LT_TRACE_ID_HEX])
{
    lt_trace_ctx c;

    if (tp == NULL || lt_trace_parse(tp, strlen(tp), &c) != LT_OK)
        return false;
    lt_trace_format(&c, norm);
    lt_trace_id_hex(&c, tid);
    return true;
}

static void app_drop(void *arg)
{
    app_item *it = arg;

    lt_free(it->lattice);
    lt_free(it->name);
    lt_model_free(it->model);
    lt_free(it->version);
    lt_free(it->unreadable);
    lt_free(it->trace);
    lt_free(it);
}

static void app_apply(lt_loop *loop, void *arg)
{
    app_item *it = arg;
    lt_sched_svc *svc = it->svc;
    int64_t now = lt_loop_now_ms();
    char tp[LT_TRACE_PARENT_LEN + 1], tid[LT_TRACE_ID_HEX];
    bool traced = it->model != NULL && trace_of(it->trace, tp, tid);
    size_t i;

    (void)loop;
    if (it->initial_done) {
        svc->apps_loaded = true;
        for (i = 0; i < svc->n_lats; i++)
            lt_sched_set_apps_loaded(svc->lats[i]->s, true);
        LT_INFO("sched", "stored apps loaded");
    } else {
        svc_lattice *l =
            lattice_trusted(svc, it->lattice, it->model != NULL || it->unreadable != NULL);
        lt_status st = LT_OK;

        if (traced) /* the deploy's lines (deployed, or why not) carry its trace id */
            lt_log_trace_set(tid);
        if (l != NULL && it->unreadable != NULL)
            st = lt_sched_unreadable(l->s, it->name, it->version, it->unreadable, now);
        else if (l != NULL && it->model != NULL)
            st = lt_sched_deploy(l->s, it->model, now);
        else if (l != NULL)
            st = lt_sched_undeploy(l->s, it->name, it->deleted, now);
        if (l != NULL)
            lt_sched_app_trace_set(l->s, it->name, traced ? tp : NULL, traced ? tid : NULL, now);
        if (st != LT_OK)
            LT_WARN("sched", "lattice %s app %s: %s", it->lattice, it->name, lt_error_message());
        if (traced)
            lt_log_trace_set(NULL);
        if (l != NULL)
            l->kick = true;
    }
    app_drop(it);
}

static void post_app(lt_sched_svc *svc, app_item *it)
{
    if (lt_loop_post(svc->cfg.loop, app_apply, it, app_drop) != LT_OK)
        app_drop(it);
}

/*
 * Runs on the watcher thread: reading and parsing the manifest here keeps the loop free. A
 * deployed manifest that cannot be read is no "undeploy": the scheduler is told to leave the
 * app alone, and the change is refused so that the watcher reads it again after a backoff.
 */
static lt_status on_store_change(lt_store_change_kind kind, const char *lattice, const char *name,
                                 lt_store_app *app, void *arg)
{
    lt_sched_svc *svc = arg;
    app_item *it = lt_calloc(1, sizeof(*it));
    char *json = NULL;
    size_t len = 0;
    lt_status ret = LT_OK;

    if (it == NULL) {
        ret = LT_ERR_NOMEM;
        goto out;
    }
    it->svc = svc;
    if (kind == LT_STORE_CHANGE_INITIAL_DONE) {
        it->initial_done = true;
        post_app(svc, it);
        goto out;
    }
    it->lattice = lt_strdup(lattice);
    it->name = lt_strdup(name);
    if (it->lattice == NULL || it->name == NULL || !allowed(svc, lattice)) {
        ret = it->lattice == NULL || it->name == NULL ? LT_ERR_NOMEM : LT_OK;
        app_drop(it);
        goto out;
    }
    it->deleted = kind == LT_STORE_CHANGE_DELETE;
    if (app != NULL && app->deployed_version != NULL) {
        lt_model_report *rep = NULL;
        lt_status st = LT_OK;

        if (app->deployed_manifest != NULL) { /* read ahead with the rest of its batch */
            json = app->deployed_manifest;
            len = app->deployed_manifest_len;
            app->deployed_manifest = NULL;
        } else {
            st = lt_store_manifest_get(svc->cfg.store, app, app->deployed_version, &json, &len);
        }

        if (st == LT_OK)
            st = lt_model_parse(json, len, NULL, &it->model, &rep);
        if (st != LT_OK) {
            const char *why = rep != NULL && lt_model_report_first_error(rep) != NULL
                                  ? lt_model_report_first_error(rep)
                                  : lt_error_message();

            LT_WARN("sched", "lattice %s app %s: deployed version %s unreadable: %s (retrying)",
                    lattice, name, app->deployed_version, why);
            it->version = lt_strdup(app->deployed_version);
            it->unreadable = lt_strdup(why[0] != '\0' ? why : lt_status_str(st));
            lt_model_report_free(rep);
            lt_model_free(it->model);
            it->model = NULL;
            if (it->version == NULL || it->unreadable == NULL) {
                app_drop(it);
                ret = LT_ERR_NOMEM;
                goto out;
            }
            post_app(svc, it);
            ret = st; /* read it again later */
            goto out;
        }
        lt_model_report_free(rep);
        if (app->deployed_trace != NULL && (it->trace = lt_strdup(app->deployed_trace)) == NULL) {
            app_drop(it);
            ret = LT_ERR_NOMEM;
            goto out;
        }
    }
    post_app(svc, it);
out:
    lt_free(json);
    lt_store_app_free(app);
    return ret;
}

void lt_sched_svc_connection(lt_sched_svc *svc, bool up)
{
    int64_t now = lt_loop_now_ms();
    size_t i;

    svc->connected = up;
    for (i = 0; i < svc->n_lats; i++)
        lt_sched_set_connected(svc->lats[i]->s, up, now);
    lt__sched_v2_connection(svc->v2, up, now);
}

/* ---------------------------------------------------------------------------------------------
 * Start and stop
 * ------------------------------------------------------------------------------------------- */

static lt_status copy_config(lt_sched_svc *svc, const lt_sched_svc_config *cfg)
{
    char host[64] = "latticed", rid[128];
    size_t i;

    svc->cfg = *cfg;
    if (cfg->sign_seed != NULL) {
        memcpy(svc->sign_seed, cfg->sign_seed, sizeof(svc->sign_seed));
        svc->cfg.sign_seed = svc->sign_seed;
    }
    svc->prefix = lt_strdup(cfg->prefix != NULL ? cfg->prefix : LT_SCHED_DEFAULT_PREFIX);
    svc->status_prefix =
        lt_strdup(cfg->status_prefix != NULL ? cfg->status_prefix : LT_SCHED_DEFAULT_STATUS_PREFIX);
    if (cfg->replica_id == NULL) {
        if (gethostname(host, sizeof(host)) != 0)
            snprintf(host, sizeof(host), "latticed");
        host[sizeof(host) - 1] = '\0';
        snprintf(rid, sizeof(rid), "%s-%d", host, (int)getpid());
    }
    svc->replica = lt_strdup(cfg->replica_id != NULL ? cfg->replica_id : rid);
    if (svc->prefix == NULL || svc->status_prefix == NULL || svc->replica == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "scheduler service");
    if (lt_subject_check(svc->prefix, false) != LT_OK ||
        lt_subject_check(svc->status_prefix, false) != LT_OK)
        return LT_FAIL(LT_ERR_INVALID, "bad subject prefix: %s", lt_error_message());
    if (cfg->n_lattices > 0) {
        svc->allow = lt_calloc(cfg->n_lattices, sizeof(char *));
        if (svc->allow == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "lattice list");
        for (i = 0; i < cfg->n_lattices; i++) {
            if (lt_subject_check_token("lattice", cfg->lattices[i]) != LT_OK)
                return LT_ERR_INVALID;
            svc->allow[i] = lt_strdup(cfg->lattices[i]);
            if (svc->allow[i] == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "lattice list");
            svc->n_allow = i + 1;
        }
    }
    svc->cfg.prefix = svc->prefix;
    svc->cfg.status_prefix = svc->status_prefix;
    svc->cfg.replica_id = svc->replica;
    svc->cfg.lattices = NULL;
    svc->cfg.n_lattices = 0;
    if (cfg->v2.n_lattices > 0) {
        svc->v2_lats = lt_calloc(cfg->v2.n_lattices, sizeof(char *));
        if (svc->v2_lats == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "lattice list");
        for (i = 0; i < cfg->v2.n_lattices; i++) {
            if (lt_subject_check_token("lattice", cfg->v2.lattices[i]) != LT_OK)
                return LT_ERR_INVALID;
            svc->v2_lats[i] = lt_strdup(cfg->v2.lattices[i]);
            if (svc->v2_lats[i] == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "lattice list");
            svc->n_v2 = i + 1;
        }
    }
    svc->cfg.v2.lattices = NULL;
    svc->cfg.v2.n_lattices = 0;
    return LT_OK;
}

lt_status lt_sched_svc_start(lt_sched_svc **new_svc, const lt_sched_svc_config *cfg)
{
    lt_sched_svc *svc;
    lt_status st;
    size_t i;

    *new_svc = NULL;
    if (cfg == NULL || cfg->nc == NULL || cfg->loop == NULL)
        return LT_FAIL(LT_ERR_INVALID, "the scheduler service needs a connection and a loop");
    svc = lt_calloc(1, sizeof(*svc));
    if (svc == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "scheduler service");
    pthread_mutex_init(&svc->inbox_mu, NULL);
    svc->connected = true;
    svc->apps_loaded = cfg->store == NULL;
    svc->max_lattices = cfg->max_lattices > 0 ? cfg->max_lattices : LT_SCHED_DEFAULT_MAX_LATTICES;
    st = copy_config(svc, cfg);
    if (st != LT_OK)
        goto fail;
    if (cfg->js != NULL) {
        sched_lease_config lc = {
            .bucket = cfg->lease_bucket != NULL ? cfg->lease_bucket : LT_SCHED_LEASE_BUCKET,
            .replicas = cfg->replicas,
            .memory = cfg->memory,
            .replica = svc->replica,
            .ttl_ms = cfg->lease_ttl_ms,
            .max_lattices = svc->max_lattices,
            .fn = on_lease,
            .qfn = on_quarantine,
            .arg = svc,
        };

        st = lt__sched_lease_start(&svc->lease, cfg->nc, &lc);
        if (st != LT_OK)
            goto fail;
    }
    /* Configured lattices exist from the start (their apps say "waiting" without hosts). */
    for (i = 0; i < svc->n_allow + svc->n_v2; i++) {
        const char *name = i < svc->n_allow ? svc->allow[i] : svc->v2_lats[i - svc->n_allow];

        if (lattice_trusted(svc, name, true) == NULL) {
            st = LT_FAIL(LT_ERR_NOMEM, "lattice %s", name);
            goto fail;
        }
    }
    st = lt__sched_v2_start(svc);
    if (st == LT_OK)
        st = lt__sched_svc_replies_start(svc);
    if (st == LT_OK)
        st = lt__sched_svc_ingest_start(svc);
    if (st == LT_OK)
        st = lt__sched_svc_drain_start(svc); /* stored modes before anything is placed */
    if (st == LT_OK)
        st = lt__sched_svc_hosts_start(svc);
    if (st == LT_OK)
        st = lt__sched_svc_plan_start(svc);
    if (st == LT_OK)
        st = lt__sched_writer_start(&svc->writer, cfg->store, cfg->nc, cfg->bulk_nc, svc->prefix,
                                    svc->replica, svc->lease);
    if (st == LT_OK && cfg->store != NULL)
        st = lt_store_watch_start(&svc->watch, cfg->store, NULL, on_store_change, svc);
    if (st != LT_OK)
        goto fail;
    st = lt_loop_timer_add(cfg->loop, TIMER_MS, on_timer, svc, &svc->timer_id);
    if (st != LT_OK)
        goto fail;
    svc->timer_on = true;
    LT_INFO("sched",
            "scheduler up: replica %s, events on %s.*.evt.>, commands on "
            "%s.{lattice}.host.{id}.{verb}",
            svc->replica, svc->prefix, svc->prefix);
    *new_svc = svc;
    return LT_OK;
fail:
    lt_sched_svc_stop(svc);
    return st;
}

void lt_sched_svc_stop(lt_sched_svc *svc)
{
    size_t i;

    if (svc == NULL)
        return;
    atomic_store(&svc->stopping, true);
    if (svc->timer_on)
        LT_IGNORE(lt_loop_timer_cancel(svc->cfg.loop, svc->timer_id));
    lt_store_watch_stop(svc->watch);
    /* unsubscribed, then destroyed once nats.c's reader is done with them (lt_conn.h) */
    {
        natsSubscription *subs[] = { svc->evt_sub, svc->reply_sub, svc->hosts_sub };

        lt_conn_subs_free(svc->cfg.nc, subs, 3, LT_CONN_SETTLE_MS);
        lt_conn_sub_free(svc->cfg.bulk_nc, svc->bulk_reply_sub, LT_CONN_SETTLE_MS);
    }
    svc->evt_sub = svc->reply_sub = svc->hosts_sub = svc->bulk_reply_sub = NULL;
    lt__sched_v2_unsubscribe(svc);
    lt__sched_svc_plan_stop(svc);
    lt__sched_svc_drain_stop(svc);      /* before the inbox is emptied: its threads post there */
    lt__sched_writer_stop(svc->writer); /* it reads the lease's deadlines: stop it first */
    lt__sched_lease_stop(svc->lease);
    lt__sched_svc_inbox_cleanup(svc);
    lt__sched_v2_stop(svc);
    for (i = 0; i < svc->n_v2; i++)
        lt_free(svc->v2_lats[i]);
    lt_free(svc->v2_lats);
    for (i = 0; i < svc->n_lats; i++) {
        lt_sched_free(svc->lats[i]->s);
        lt_free(svc->lats[i]->name);
        lt_free(svc->lats[i]);
    }
    lt_free(svc->lats);
    for (i = 0; i < svc->n_allow; i++)
        lt_free(svc->allow[i]);
    lt_free(svc->allow);
    lt_free(svc->pbuf);
    explicit_bzero(svc->sign_seed, sizeof(svc->sign_seed)); /* a secret: do not leave it */
    lt_free(svc->prefix);
    lt_free(svc->status_prefix);
    lt_free(svc->replica);
    lt_free(svc);
}
