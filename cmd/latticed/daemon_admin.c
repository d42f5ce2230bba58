/*
 * daemon_admin.c - latticed's side of the admin listener (admin/): a loop
 * timer that beats every second and publishes a snapshot built from the
 * modules' stats accessors (each lattice's read once a tick): readiness and
 * the /metrics text; the redacted /debug/state JSON only when a request
 * waits for it. The HTTP threads read only what was published.
 */
#include "daemon.h"

#include <string.h>

#include "lt_admin.h"
#include "lt_alloc.h"
#include "lt_api.h"
#include "lt_config.h"
#include "lt_log.h"
#include "lt_sched_svc.h"

#define ADMIN_TICK_MS 1000
#define ADMIN_MAX_METRICS (16u << 20)
#define ADMIN_MAX_STATE (8u << 20)

/* One lattice's counts, read once per tick for every family that shows them. */
typedef struct {
    const char *name;
    lt_sched *s;
    size_t drv; /* 0 native, 1 wasmCloud 2.x */
    lt_sched_stats st;
} lat_stats;

struct lt_daemon_admin {
    lt_admin *http;
    natsConnection *nc;
    lt_api *api;
    lt_store *view; /* the API's store: the view's sync state */
    lt_sched_svc *svc;
    natsStatistics *nstats;
    lat_stats *lats; /* this tick's, n_lats of them (grows, never shrinks) */
    size_t n_lats, cap_lats;
};

typedef lt_admin_label label;

static void family(lt_buf *m, const char *name, const char *type, const char *help)
{
    lt_admin_prom_family(m, name, type, help);
}

static void one(lt_buf *m, const char *name, const char *type, const char *help, double v)
{
    family(m, name, type, help);
    lt_admin_prom_sample(m, name, NULL, 0, v);
}

static void api_metrics(lt_daemon_admin *d, lt_buf *m)
{
    static lt_api_stats st; /* loop thread only; large */

    lt_api_stats_get(d->api, &st);
    family(m, "latticed_api_requests_total", "counter",
           "API requests answered, by operation and the reply's result word");
    for (size_t o = 0; o < LT_API_STAT_OPS; o++)
        for (size_t r = 0; r < LT_API_STAT_RESULTS; r++) {
            label l[2] = { { "op", lt_api_stat_op_name(o) },
                           { "result", lt_api_stat_result_name(r) } };

            if (st.requests[o][r] != 0)
                lt_admin_prom_sample(m, "latticed_api_requests_total", l, 2,
                                     (double)st.requests[o][r]);
        }
    family(m, "latticed_api_request_duration_seconds", "histogram",
           "API request latency from receipt to the reply sent, by operation");
    for (size_t o = 0; o < LT_API_STAT_OPS; o++) {
        label l = { "op", lt_api_stat_op_name(o) };

        if (st.latency[o].count != 0)
            lt_admin_prom_hist(m, "latticed_api_request_duration_seconds", &l, 1, &st.latency[o]);
    }
}

/* Per-lattice gauges, one family at a time (Prometheus wants a family's samples together),
 * from the counts read once this tick. */
static void lattice_metrics(lt_daemon_admin *d, lt_buf *m)
{
    static const struct {
        const char *name, *help;
    } fams[] = {
        { "latticed_hosts", "hosts known, by lattice, state (alive, unreachable) and driver" },
        { "latticed_apps_deployed", "apps deployed, by lattice" },
        { "latticed_instances_desired", "instances the deployed apps want, by lattice" },
        { "latticed_instances_running", "instances of the current versions running" },
        { "latticed_instances_failed", "failed instances and failed starts in backoff" },
        { "latticed_leader", "1 while this replica leads the lattice, else 0" },
        { "latticed_leader_epoch", "the leader term of this replica (0 when not leading)" },
        { "latticed_partitioned", "1 while the partition guard holds evictions back" },
    };

    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        family(m, fams[f].name, "gauge", fams[f].help);
        for (size_t i = 0; i < d->n_lats; i++) {
            const lat_stats *ls = &d->lats[i];
            label l[3] = { { "lattice", ls->name },
                           { "state", "alive" },
                           { "driver", lt_sched_driver_word(ls->s) } };
            double v[] = { 0,
                           (double)ls->st.apps_deployed,
                           (double)ls->st.desired,
                           (double)ls->st.running,
                           (double)ls->st.failed,
                           ls->st.leading,
                           (double)ls->st.epoch,
                           ls->st.partitioned };

            if (f == 0) {
                lt_admin_prom_sample(m, fams[f].name, l, 3, (double)ls->st.hosts_alive);
                l[1].value = "unreachable";
                lt_admin_prom_sample(m, fams[f].name, l, 3, (double)ls->st.hosts_unreachable);
                continue;
            }
            lt_admin_prom_sample(m, fams[f].name, l, 1, v[f]);
        }
    }
}

static void cmd_family(lt_buf *m, const char *name, const char *help,
                       const uint64_t (*counts)[LT_SCHED_SVC_CMD_KINDS])
{
    static const char *const drivers[2] = { "native", "wasmcloud-v2" };

    family(m, name, "counter", help);
    for (size_t d = 0; d < 2; d++)
        for (size_t k = 0; k < LT_SCHED_SVC_CMD_KINDS; k++) {
            label l[2] = { { "kind", lt_sched_svc_cmd_kind_name(k) }, { "driver", drivers[d] } };

            if (counts[d][k] != 0)
                lt_admin_prom_sample(m, name, l, 2, (double)counts[d][k]);
        }
}

static void cmd_metrics(lt_daemon_admin *d, lt_buf *m, const lt_sched_svc_stats *st)
{
    uint64_t failed[2][LT_SCHED_SVC_CMD_KINDS], retried[2][LT_SCHED_SVC_CMD_KINDS] = { { 0 } };

    /* the native driver's items fail in each lattice's scheduler, wasmCloud 2.x requests in the
     * service's driver; a 2.x scheduler's own refusals (e.g. a link) count for 2.x too */
    memcpy(failed, st->cmd_failed, sizeof(failed));
    for (size_t i = 0; i < d->n_lats; i++)
        for (size_t v = 0; v < LT_SCHED_INVENTORY; v++) { /* verbs are the first kinds */
            failed[d->lats[i].drv][v] += d->lats[i].st.cmd_failed[v];
            retried[d->lats[i].drv][v] += d->lats[i].st.cmd_retried[v];
        }
    cmd_family(m, "latticed_host_commands_total",
               "command items sent to hosts, by kind and driver: one per instance, stop, link or "
               "unlink (a native batch of n starts counts n), one per wasmCloud 2.x request",
               st->cmd_sent);
    cmd_family(m, "latticed_host_commands_unsent_total",
               "command items NATS refused to publish (they expire and are sent again), by kind "
               "and driver",
               st->cmd_unsent);
    cmd_family(m, "latticed_host_commands_failed_total",
               "command items a host answered with an error, or not at all in time, by kind and "
               "driver",
               (const uint64_t(*)[LT_SCHED_SVC_CMD_KINDS])failed);
    cmd_family(m, "latticed_host_commands_retried_total",
               "starts and links sent again after the component or link failed (its backoff "
               "over), by kind and driver",
               (const uint64_t(*)[LT_SCHED_SVC_CMD_KINDS])retried);
}

static void sched_metrics(lt_daemon_admin *d, lt_buf *m, const lt_sched_svc_stats *ss)
{
    const lt_sched_svc_stats st = *ss;

    one(m, "latticed_reconcile_passes_total", "counter",
        "reconcile passes run (one lattice's scheduler tick)", (double)st.reconcile.count);
    family(m, "latticed_reconcile_duration_seconds", "histogram", "duration of one reconcile pass");
    lt_admin_prom_hist(m, "latticed_reconcile_duration_seconds", NULL, 0, &st.reconcile);
    one(m, "latticed_host_events_total", "counter", "host events ingested", (double)st.events);
    one(m, "latticed_host_events_invalid_total", "counter",
        "host events refused: undecodable, not from the host their subject names, or "
        "inconsistent with what the scheduler knows",
        (double)st.bad_events);
    one(m, "latticed_host_requests_total", "counter",
        "requests (command batches, inventory) sent to hosts", (double)st.requests);
    one(m, "latticed_host_replies_total", "counter", "replies of hosts received",
        (double)st.replies);
    cmd_metrics(d, m, ss);
    one(m, "latticed_host_commands_held_total", "counter",
        "command items not sent because NATS was disconnected (sent again later), both drivers",
        (double)st.held);
    one(m, "latticed_scheduler_inbox_items", "gauge",
        "decoded host events and replies waiting for the loop", (double)st.inbox_waiting);
}

static void nats_metrics(lt_daemon_admin *d, lt_buf *m, bool connected)
{
    uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0, reconnects = 0;

    if (d->nstats != NULL && natsConnection_GetStats(d->nc, d->nstats) == NATS_OK)
        (void)natsStatistics_GetCounts(d->nstats, &in_msgs, &in_bytes, &out_msgs, &out_bytes,
                                       &reconnects);
    one(m, "latticed_nats_connected", "gauge", "1 while the NATS connection is up", connected);
    one(m, "latticed_nats_reconnects_total", "counter", "reconnections to NATS",
        (double)reconnects);
    one(m, "latticed_nats_pending_bytes", "gauge", "bytes buffered for NATS, not yet written",
        (double)(natsConnection_Buffered(d->nc) > 0 ? natsConnection_Buffered(d->nc) : 0));
    one(m, "latticed_nats_in_messages_total", "counter", "messages received from NATS",
        (double)in_msgs);
    one(m, "latticed_nats_out_messages_total", "counter", "messages sent to NATS",
        (double)out_msgs);
}

static void store_metrics(lt_buf *m, const lt_store_view_stat *vs)
{
    label l = { "source", "memory" };

    one(m, "latticed_store_cas_retries_total", "counter",
        "store updates read and tried again after a compare-and-set conflict",
        (double)lt_store_cas_retries());
    one(m, "latticed_store_view_synced", "gauge",
        "1 when the API's in-memory view of the store is in sync", vs->indexes_synced);
    family(m, "latticed_store_view_reads_total", "counter",
           "index and status reads of the API, by where they were answered (memory, kv)");
    lt_admin_prom_sample(m, "latticed_store_view_reads_total", &l, 1, (double)vs->view_reads);
    l.value = "kv";
    lt_admin_prom_sample(m, "latticed_store_view_reads_total", &l, 1, (double)vs->kv_reads);
    one(m, "latticed_log_lines_dropped_total", "counter",
        "log lines dropped because the sink could not keep up", (double)lt_log_dropped());
}

/* One app of the /debug/state JSON: status counts only (no manifest, no config values). */
static void app_json(lt_buf *o, const lt_sched *s, const char *app)
{
    lt_sched_app_status as;

    LT_IGNORE(lt_buf_appends(o, "{\"name\":"));
    LT_IGNORE(lt_buf_json_str(o, app));
    if (lt_sched_app_status_get(s, app, &as) == LT_OK) {
        LT_IGNORE(
            lt_buf_appendf(o, ",\"state\":\"%s\",\"version\":", lt_sched_state_word(as.state)));
        LT_IGNORE(lt_buf_json_str(o, as.version));
        LT_IGNORE(lt_buf_appends(o, ",\"components\":["));
        for (size_t c = 0; c < as.component_count; c++) {
            const lt_sched_component_status *cs = &as.components[c];

            LT_IGNORE(lt_buf_appends(o, c ? ",{\"name\":" : "{\"name\":"));
            LT_IGNORE(lt_buf_json_str(o, cs->name));
            LT_IGNORE(
                lt_buf_appendf(o, ",\"desired\":%u,\"running\":%u,\"failed\":%u,\"state\":\"%s\"}",
                               cs->desired, cs->running, cs->failed,
                               lt_sched_state_word(cs->state)));
        }
        LT_IGNORE(lt_buf_appendc(o, ']'));
    }
    LT_IGNORE(lt_buf_appendc(o, '}'));
}

static void lattice_json(lt_buf *o, const lat_stats *ls)
{
    const lt_sched *s = ls->s;
    const lt_sched_stats st = ls->st;
    size_t it = 0;
    const char *app;
    bool first = true;

    LT_IGNORE(lt_buf_appends(o, "{\"name\":"));
    LT_IGNORE(lt_buf_json_str(o, ls->name));
    LT_IGNORE(lt_buf_appendf(o,
                             ",\"driver\":\"%s\",\"leading\":%s,\"epoch\":%llu,"
                             "\"partitioned\":%s,\"hosts_alive\":%zu,\"hosts_unreachable\":%zu,"
                             "\"apps\":[",
                             lt_sched_driver_word(s), st.leading ? "true" : "false",
                             (unsigned long long)st.epoch, st.partitioned ? "true" : "false",
                             st.hosts_alive, st.hosts_unreachable));
    while ((app = lt_sched_app_next(s, &it)) != NULL) {
        if (!first)
            LT_IGNORE(lt_buf_appendc(o, ','));
        first = false;
        app_json(o, s, app);
    }
    LT_IGNORE(lt_buf_appends(o, "]}"));
}

static void state_json(lt_daemon_admin *d, lt_buf *o, bool connected, const char *reason,
                       const lt_store_view_stat *vs, const lt_sched_svc_stats *sst)
{
    const lt_sched_svc_stats ss = *sst;
    size_t mark;
    bool truncated = false;

    LT_IGNORE(lt_buf_appendf(o, "{\"version\":\"%s\",\"ready\":%s,\"reason\":", LT_VERSION,
                             reason == NULL ? "true" : "false"));
    LT_IGNORE(lt_buf_json_str(o, reason != NULL ? reason : ""));
    LT_IGNORE(lt_buf_appendf(o,
                             ",\"nats\":{\"connected\":%s},\"store\":{\"view_synced\":%s,"
                             "\"statuses_synced\":%s,\"apps\":%zu},\"scheduler\":{"
                             "\"apps_loaded\":%s,\"inbox_items\":%zu},\"lattices\":[",
                             connected ? "true" : "false", vs->indexes_synced ? "true" : "false",
                             vs->statuses_synced ? "true" : "false", vs->apps,
                             ss.apps_loaded ? "true" : "false", ss.inbox_waiting));
    for (size_t i = 0; i < d->n_lats; i++) {
        mark = o->len;
        LT_IGNORE(lt_buf_appends(o, i ? "," : ""));
        lattice_json(o, &d->lats[i]);
        if (lt_buf_status(o) != LT_OK || o->len + 64 > o->max) {
            lt_buf_truncate(o, mark);
            truncated = true;
            break;
        }
    }
    LT_IGNORE(lt_buf_appendf(o, "],\"truncated\":%s}", truncated ? "true" : "false"));
}

/* Every lattice's counts into d->lats, once per tick. False when out of memory. */
static bool read_lattices(lt_daemon_admin *d)
{
    size_t n = lt_sched_svc_lattice_count(d->svc);

    if (n > d->cap_lats) {
        lat_stats *nl = lt_realloc(d->lats, n * sizeof(*nl));

        if (nl == NULL)
            return false;
        d->lats = nl;
        d->cap_lats = n;
    }
    for (size_t i = 0; i < n; i++) {
        lat_stats *ls = &d->lats[i];

        ls->s = lt_sched_svc_lattice_nth(d->svc, i, &ls->name);
        ls->drv = strcmp(lt_sched_driver_word(ls->s), "native") != 0;
        lt_sched_stats_get(ls->s, &ls->st);
    }
    d->n_lats = n;
    return true;
}

/* Loop timer: beat, then build and publish the snapshot; the /debug/state JSON only when a
 * request waits for it. */
static int64_t on_tick(lt_loop *loop, void *arg)
{
    lt_daemon_admin *d = arg;
    lt_store_view_stat vs;
    lt_sched_svc_stats ss;
    lt_buf m, o;
    bool connected = natsConnection_Status(d->nc) == NATS_CONN_STATUS_CONNECTED;
    const char *reason = NULL;

    (void)loop;
    lt_admin_beat(d->http);
    lt_store_view_stats(d->view, &vs);
    lt_sched_svc_stats_get(d->svc, &ss);
    if (!read_lattices(d))
        d->n_lats = 0; /* this tick shows no lattice rather than a stale list */
    if (!connected)
        reason = "NATS is not connected";
    else if (!vs.indexes_synced || !vs.statuses_synced)
        reason = "the store's view is not in sync yet";
    else if (!ss.apps_loaded)
        reason = "the scheduler has not read the stored apps yet";
    else if (ss.lease_unknown > 0)
        reason = "the leader lease of a lattice was not read yet";
    lt_buf_init(&m, ADMIN_MAX_METRICS);
    family(&m, "latticed_build_info", "gauge", "always 1, labelled with latticed's version");
    lt_admin_prom_sample(&m, "latticed_build_info", &(label){ "version", LT_VERSION }, 1, 1);
    one(&m, "latticed_ready", "gauge", "1 when /readyz answers 200", reason == NULL);
    api_metrics(d, &m);
    lattice_metrics(d, &m);
    sched_metrics(d, &m, &ss);
    nats_metrics(d, &m, connected);
    store_metrics(&m, &vs);
    if (lt_buf_status(&m) != LT_OK)
        LT_WARN("admin", "the /metrics snapshot is over its size limit");
    lt_admin_publish(d->http, reason == NULL, reason, &m);
    lt_buf_cleanup(&m);
    if (lt_admin_state_wanted(d->http)) {
        lt_buf_init(&o, ADMIN_MAX_STATE);
        state_json(d, &o, connected, reason, &vs, &ss);
        if (lt_buf_status(&o) != LT_OK)
            LT_WARN("admin", "the /debug/state snapshot is over its size limit");
        lt_admin_publish_state(d->http, &o);
        lt_buf_cleanup(&o);
    }
    return ADMIN_TICK_MS;
}

lt_status lt_daemon_admin_start(const char *addr, lt_loop *loop, natsConnection *nc, lt_api *api,
                                lt_store *view, lt_sched_svc *svc, lt_daemon_admin **out)
{
    lt_daemon_admin *d = NULL;
    lt_status st;

    *out = NULL;
    if ((d = lt_calloc(1, sizeof(*d))) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    *d = (lt_daemon_admin){ .nc = nc, .api = api, .view = view, .svc = svc };
    if (natsStatistics_Create(&d->nstats) != NATS_OK)
        d->nstats = NULL; /* counts then read 0 */
    if ((st = lt_admin_start(&d->http, addr, 0)) != LT_OK)
        goto out;
    on_tick(loop, d); /* the first snapshot now */
    if ((st = lt_loop_timer_add(loop, ADMIN_TICK_MS, on_tick, d, NULL)) != LT_OK)
        goto out;
    LT_INFO("admin", "admin listener on http://%s (/livez /readyz /metrics /debug/state)",
            lt_admin_addr(d->http));
    *out = d;
    d = NULL;
out:
    lt_daemon_admin_stop(d);
    return st;
}

const char *lt_daemon_admin_addr(const lt_daemon_admin *d)
{
    return lt_admin_addr(d->http);
}

void lt_daemon_admin_stop(lt_daemon_admin *d)
{
    if (d == NULL)
        return;
    lt_admin_stop(d->http);
    natsStatistics_Destroy(d->nstats);
    lt_free(d->lats);
    lt_free(d);
}
