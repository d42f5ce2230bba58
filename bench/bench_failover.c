/*
 * bench_failover.c - failure reaction (issue 11), for native hosts and for the wasmCloud 2.x
 * simulator: (1) host loss: an app spread over the hosts of several simulator processes, one
 * process killed with -9, the time until as many instances as it ran are running on the others,
 * next to "host timeout + 1 s"; (2) leader failover: two latticed replicas, the leader killed
 * with -9, the time until the standby holds the lease and until an app deployed right after the
 * kill runs, next to "lease + 1 s". Running instances are counted from what the hosts say
 * (native: instance.started and instances.started events; 2.x simulator: its "start ...
 * RUNNING" stdout lines). Each fault runs on a fresh system; --phases combined runs the
 * failover right after the host loss.
 *   bench_failover [--protocol native|wasmcloud-v2|both] [--procs 3] [--hosts 2] [--instances 12]
 *                  [--heartbeat-ms H] [--host-timeout-ms T] [--lease-ms L]
 *                  [--phases separate|combined] [--json FILE] [--smoke] LATTICED LATTICED_HOST
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "latticed/host/v1/host.pb-c.h"
#include "lt_alloc.h"
#include "lt_fs.h"
#include "lt_natsrv.h"
#include "lt_subject.h"
#include "lt_bench.h"
#include "bench_build.h"

#define LATTICE "bench"
#define MAX_PROCS 8

typedef struct {
    bool v2;
    int procs, hosts, instances, hb_ms, timeout_ms, lease_ms;
    const char *latticed, *host_bin, *dir;
} params;

typedef struct {
    const char *protocol;
    int timeout_ms, lease_ms, lost; /* lost: instances the killed process ran */
    int64_t loss_ms, takeover_ms, placed_ms;
    bool ok;
} result;

static int failures;
static int run_no; /* names each fresh system's log files */

static bool fail(const char *proto, const char *what)
{
    failures++;
    fprintf(stderr, "bench_failover (%s): wrong result: %s\n", proto, what);
    return false;
}

/* ---- running instances per simulator process ------------------------------------------------ */

static atomic_int running[MAX_PROCS]; /* native: started - stopped/failed, by id prefix */
static pid_t sim_pid[MAX_PROCS];
static bool sim_dead[MAX_PROCS];
static char sim_log[MAX_PROCS][512];

/* Host ids are "p<k>-NNNNN": the process index k. */
static int proc_of(const char *host)
{
    return host[0] == 'p' && host[1] >= '0' && host[1] < '0' + MAX_PROCS ? host[1] - '0' : -1;
}

static void on_event(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    char lattice[LT_SUBJECT_TOKEN_BUF], host[LT_SUBJECT_HOST_BUF];
    const char *type = NULL;
    int k;

    (void)nc, (void)sub, (void)closure;
    if (lt_subject_host_event_parse(LT_SUBJECT_LATTICE_PREFIX, natsMsg_GetSubject(msg), lattice,
                                    host, &type) &&
        (k = proc_of(host)) >= 0) {
        if (strcmp(type, "instance.started") == 0) {
            atomic_fetch_add(&running[k], 1);
        } else if (strcmp(type, "instances.started") == 0) { /* one per start command */
            Latticed__Host__V1__InstancesStarted *b =
                latticed__host__v1__instances_started__unpack(NULL,
                                                              (size_t)natsMsg_GetDataLength(msg),
                                                              (const uint8_t *)natsMsg_GetData(
                                                                  msg));

            if (b != NULL)
                atomic_fetch_add(&running[k], (int)b->n_instances);
            latticed__host__v1__instances_started__free_unpacked(b, NULL);
        } else if (strcmp(type, "instance.stopped") == 0 || strcmp(type, "instance.failed") == 0) {
            atomic_fetch_sub(&running[k], 1);
        }
    }
    natsMsg_Destroy(msg);
}

/* Instances process k runs now: native from the events, 2.x from its stdout. */
static int running_in(const params *p, int k)
{
    static const char *const started[] = { "v2sim host", " start ", " RUNNING", NULL };
    static const char *const stopped[] = { "v2sim host", " stop ", " STOPPING", NULL };

    if (!p->v2)
        return atomic_load(&running[k]);
    return (int)lt_bench_count_lines(sim_log[k], started) -
           (int)lt_bench_count_lines(sim_log[k], stopped);
}

static int running_live(const params *p)
{
    int k, n = 0;

    for (k = 0; k < p->procs; k++)
        n += sim_dead[k] ? 0 : running_in(p, k);
    return n;
}

/* Wait up to timeout_ms until the live processes run want instances; the ms it took, or -1. */
static int64_t wait_running(const params *p, int want, int64_t since_us, int64_t timeout_ms)
{
    while (lt_bench_now_us() - since_us < timeout_ms * 1000) {
        if (running_live(p) >= want)
            return (lt_bench_now_us() - since_us) / 1000;
        lt_bench_sleep_ms(p->v2 ? 10 : 2);
    }
    return -1;
}

/* Wait up to timeout_ms until the live processes run exactly want instances for 500 ms. */
static bool settle(const params *p, int want, int64_t timeout_ms)
{
    int64_t t0 = lt_bench_now_ms(), since = -1;

    while (lt_bench_now_ms() - t0 < timeout_ms) {
        if (running_live(p) != want)
            since = -1;
        else if (since < 0)
            since = lt_bench_now_ms();
        else if (lt_bench_now_ms() - since >= 500)
            return true;
        lt_bench_sleep_ms(20);
    }
    fprintf(stderr, "bench_failover: %d instances running, %d asked for\n", running_live(p), want);
    return false;
}

/* ---- processes ------------------------------------------------------------------------------ */

static pid_t start_latticed(const params *p, const char *url, const char *id)
{
    char hb[16], to[16], lease[16], log[600];
    const char *a[40];
    int n = 0;

    snprintf(hb, sizeof(hb), "%d", p->hb_ms);
    snprintf(to, sizeof(to), "%d", p->timeout_ms);
    snprintf(lease, sizeof(lease), "%d", p->lease_ms);
    snprintf(log, sizeof(log), "%s/%d-%s-latticed-%s.log", p->dir, run_no, p->v2 ? "v2" : "native",
             id);
    a[n++] = p->latticed;
    a[n++] = "--nats-url";
    a[n++] = url;
    a[n++] = "--replica-id";
    a[n++] = id;
    a[n++] = "--lease-ttl-ms";
    a[n++] = lease;
    a[n++] = "--storage";
    a[n++] = "memory";
    if (p->v2) {
        a[n++] = "--wasmcloud-v2";
        a[n++] = LATTICE;
        a[n++] = "--v2-heartbeat-ms";
        a[n++] = hb;
    } else {
        a[n++] = "--lattice";
        a[n++] = LATTICE;
        a[n++] = "--host-interval-ms";
        a[n++] = hb;
        a[n++] = "--host-timeout-ms";
        a[n++] = to;
    }
    a[n] = NULL;
    return lt_bench_spawn(a, log);
}

static pid_t start_sim(const params *p, const char *url, int k)
{
    char num[16], prefix[16], hb[32];
    const char *a[32];
    int n = 0;

    snprintf(num, sizeof(num), "%d", p->hosts);
    snprintf(prefix, sizeof(prefix), "p%d", k);
    snprintf(hb, sizeof(hb), "%dms", p->hb_ms);
    snprintf(sim_log[k], sizeof(sim_log[k]), "%s/%d-%s-sim-%d.log", p->dir, run_no,
             p->v2 ? "v2" : "native", k);
    a[n++] = p->host_bin;
    a[n++] = "--nats-url";
    a[n++] = url;
    a[n++] = "--simulate";
    a[n++] = num;
    a[n++] = "--id-prefix";
    a[n++] = prefix;
    a[n++] = "--heartbeat-interval";
    a[n++] = hb;
    if (p->v2) {
        a[n++] = "--protocol";
        a[n++] = "wasmcloud-v2";
        a[n++] = "--environment";
        a[n++] = LATTICE;
    } else {
        a[n++] = "--lattice";
        a[n++] = LATTICE;
    }
    a[n] = NULL;
    sim_dead[k] = false;
    atomic_store(&running[k], 0);
    return lt_bench_spawn(a, sim_log[k]);
}

static bool put_deploy(natsConnection *nc, const char *name, int instances)
{
    char body[1024];

    lt_bench_manifest(body, sizeof(body), name, "v1", instances);
    return lt_bench_api(nc, LATTICE, "put", NULL, body, 10000, "created", NULL) &&
           lt_bench_api(nc, LATTICE, "deploy", name, NULL, 10000, "acknowledged", NULL);
}

static bool deploy_retry(natsConnection *nc, const char *name, int64_t timeout_ms)
{
    int64_t t0 = lt_bench_now_ms();

    while (lt_bench_now_ms() - t0 < timeout_ms)
        if (lt_bench_api(nc, LATTICE, "deploy", name, NULL, 2000, "acknowledged", NULL))
            return true;
    return false;
}

/* Wait until the lease names want; the ms since since_us, or -1. */
static int64_t wait_leader(natsConnection *nc, const char *want, int64_t since_us,
                           int64_t timeout_ms)
{
    char holder[128];

    while (lt_bench_now_us() - since_us < timeout_ms * 1000) {
        lt_bench_leader(nc, LATTICE, holder, sizeof(holder));
        if (strcmp(holder, want) == 0)
            return (lt_bench_now_us() - since_us) / 1000;
        lt_bench_sleep_ms(5);
    }
    return -1;
}

/* ---- the phases: host loss, leader failover ---------------------------------------------- */

/* The app every phase starts from: instances spread over every host, exactly that many. */
static bool deploy_base(const params *p, natsConnection *nc, result *r)
{
    if (!put_deploy(nc, "baseapp", p->instances) ||
        wait_running(p, p->instances, lt_bench_now_us(), 60000) < 0)
        return fail(r->protocol, "the app was not deployed on every host");
    if (!settle(p, p->instances, 10000))
        return fail(r->protocol, "not exactly the instances asked for before the kill");
    return true;
}

static bool host_loss(const params *p, result *r)
{
    int64_t t0;
    int total = p->instances;

    r->lost = running_in(p, 0);
    if (r->lost <= 0)
        return fail(r->protocol, "the first simulator ran nothing");
    t0 = lt_bench_now_us();
    lt_bench_kill9(sim_pid[0]);
    sim_dead[0] = true;
    r->loss_ms = wait_running(p, total, t0, r->timeout_ms + 30000);
    if (r->loss_ms < 0)
        return fail(r->protocol, "the lost instances were not replaced");
    if (!settle(p, total, 15000))
        return fail(r->protocol, "not exactly the instances asked for after the replacement");
    return true;
}

static bool leader_failover(const params *p, natsConnection *nc, pid_t *ld, result *r)
{
    char holder[128];
    int64_t t0;

    lt_bench_leader(nc, LATTICE, holder, sizeof(holder));
    if (strcmp(holder, "replica-a") != 0)
        return fail(r->protocol, "replica-a does not lead");
    {
        char body[1024];

        lt_bench_manifest(body, sizeof(body), "afterapp", "v1", p->instances);
        if (!lt_bench_api(nc, LATTICE, "put", NULL, body, 10000, "created", NULL))
            return fail(r->protocol, "put afterapp");
    }
    t0 = lt_bench_now_us();
    lt_bench_kill9(ld[0]);
    ld[0] = -1;
    if (!deploy_retry(nc, "afterapp", 20000))
        return fail(r->protocol, "deploy after the kill not acknowledged");
    r->takeover_ms = wait_leader(nc, "replica-b", t0, r->lease_ms + 30000);
    if (r->takeover_ms < 0)
        return fail(r->protocol, "replica-b did not take the lease");
    r->placed_ms = wait_running(p, 2 * p->instances, t0, r->lease_ms + 60000);
    if (r->placed_ms < 0)
        return fail(r->protocol, "the app deployed after the kill was not placed");
    if (!settle(p, 2 * p->instances, 15000))
        return fail(r->protocol, "not exactly the instances asked for after the failover");
    return true;
}

/* One fresh system (nats-server, two replicas, the simulators, the base app), then the
 * phases asked for: host loss, leader failover, or both in a row (--combined). */
static void run(const params *p, result *r, bool loss, bool failover)
{
    lt_natsrv *srv = NULL;
    lt_natsrv_opts no = { 0 };
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    pid_t ld[2] = { -1, -1 };
    char subj[LT_MAX_SUBJECT];
    int k, before = failures;

    run_no++;
    if (lt_natsrv_start(&srv, &no) != LT_OK) {
        (void)fail(r->protocol, "nats-server did not start");
        return;
    }
    if (natsConnection_ConnectTo(&nc, lt_natsrv_url(srv)) != NATS_OK ||
        lt_subject_events(subj, sizeof(subj), LT_SUBJECT_LATTICE_PREFIX, LATTICE) != LT_OK ||
        natsConnection_Subscribe(&sub, nc, subj, on_event, NULL) != NATS_OK ||
        natsSubscription_SetPendingLimits(sub, -1, -1) != NATS_OK ||
        natsConnection_Flush(nc) != NATS_OK) {
        (void)fail(r->protocol, "NATS setup");
        goto out;
    }
    ld[0] = start_latticed(p, lt_natsrv_url(srv), "replica-a");
    if (!lt_bench_wait_api(nc, LATTICE, 30000) ||
        wait_leader(nc, "replica-a", lt_bench_now_us(), 30000) < 0) {
        (void)fail(r->protocol, "replica-a did not start leading");
        goto out;
    }
    ld[1] = start_latticed(p, lt_natsrv_url(srv), "replica-b");
    for (k = 0; k < p->procs; k++)
        sim_pid[k] = start_sim(p, lt_natsrv_url(srv), k);
    {
        int64_t t0 = lt_bench_now_ms();

        while (lt_bench_host_count(nc, LATTICE) < p->procs * p->hosts &&
               lt_bench_now_ms() - t0 < 60000)
            lt_bench_sleep_ms(50);
    }
    if (lt_bench_host_count(nc, LATTICE) != p->procs * p->hosts) {
        (void)fail(r->protocol, "latticed does not see every host");
        goto out;
    }
    if (deploy_base(p, nc, r) && (!loss || host_loss(p, r)) && failover)
        (void)leader_failover(p, nc, ld, r);
    if (ld[1] > 0 && !lt_bench_alive(ld[1]))
        (void)fail(r->protocol, "replica-b exited");
out:
    r->ok = r->ok && failures == before;
    for (k = 0; k < p->procs; k++)
        if (!sim_dead[k])
            lt_bench_stop(sim_pid[k]);
    for (k = 0; k < 2; k++)
        if (ld[k] > 0)
            lt_bench_stop(ld[k]);
    /* their last events may still be read: close (joins nats.c's reader) first, lt_conn.h */
    natsConnection_Close(nc);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    LT_IGNORE(lt_natsrv_stop(srv));
}

static void print_result(const result *r)
{
    printf("\n%s hosts                        measured     target\n", r->protocol);
    printf("host loss (kill -9, %d instances) %7lld ms   <= timeout %d ms + 1 s: %s\n", r->lost,
           (long long)r->loss_ms, r->timeout_ms,
           r->loss_ms >= 0 && r->loss_ms <= r->timeout_ms + 1000 ? "met" : "NOT met");
    printf("leader failover (lease taken)    %7lld ms   <= lease %d ms + 1 s: %s\n",
           (long long)r->takeover_ms, r->lease_ms,
           r->takeover_ms >= 0 && r->takeover_ms <= r->lease_ms + 1000 ? "met" : "NOT met");
    printf("deploy sent after the kill runs  %7lld ms\n", (long long)r->placed_ms);
}

int main(int argc, char **argv)
{
    static const char *const opts[] = { "--protocol",  "--procs",        "--hosts",
                                        "--instances", "--heartbeat-ms", "--host-timeout-ms",
                                        "--lease-ms",  "--phases",       NULL };
    const char *vals[] = { "both", "3", "2", "12", NULL, NULL, NULL, "separate" };
    lt_bench_cli cli;
    params p;
    result res[2];
    int n_res = 0, i;
    char *dir = NULL;
    FILE *jf;

    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows in a log file */
    if (!lt_bench_parse(argc, argv, opts, vals, &cli) || cli.n_args != 2 || atoi(vals[1]) < 2 ||
        atoi(vals[1]) > MAX_PROCS) {
        fprintf(stderr, "usage: bench_failover [--protocol native|wasmcloud-v2|both] [--procs "
                        "2..8] [--hosts N] [--instances N] [--heartbeat-ms H] "
                        "[--host-timeout-ms T] [--lease-ms L] [--phases separate|combined] "
                        "[--json FILE] [--smoke] LATTICED "
                        "LATTICED_HOST\n");
        return 2;
    }
    if (!cli.smoke && lt_bench_require_release("bench_failover") != 0)
        return 2;
    if (lt_fs_tmpdir(&dir, "bench_failover") != LT_OK)
        return 1;
    for (i = 0; i < 2; i++) {
        memset(&p, 0, sizeof(p));
        p.v2 = i == 1;
        if (strcmp(vals[0], "both") != 0 && strcmp(vals[0], p.v2 ? "wasmcloud-v2" : "native") != 0)
            continue;
        p.procs = atoi(vals[1]);
        p.hosts = atoi(vals[2]);
        p.instances = atoi(vals[3]);
        /* the defaults: latticed's and the hosts' (smoke: short, robust under sanitizers) */
        p.hb_ms = vals[4] != NULL ? atoi(vals[4])
                  : cli.smoke     ? (p.v2 ? 1000 : 500)
                                  : (p.v2 ? 15000 : 5000);
        p.timeout_ms = vals[5] != NULL ? atoi(vals[5]) : cli.smoke ? 2500 : 3 * p.hb_ms;
        p.lease_ms = vals[6] != NULL ? atoi(vals[6]) : cli.smoke ? 2000 : 6000;
        p.latticed = cli.args[0];
        p.host_bin = cli.args[1];
        p.dir = dir;
        memset(&res[n_res], 0, sizeof(res[n_res]));
        res[n_res].protocol = p.v2 ? "wasmcloud-v2" : "native";
        res[n_res].timeout_ms = p.v2 ? p.hb_ms + 1000 : p.timeout_ms; /* late 1 s, then probed */
        res[n_res].lease_ms = p.lease_ms;
        res[n_res].loss_ms = res[n_res].takeover_ms = res[n_res].placed_ms = -1;
        res[n_res].ok = true;
        if (strcmp(vals[7], "combined") != 0) { /* each fault on a fresh system */
            run(&p, &res[n_res], true, false);
            run(&p, &res[n_res], false, true);
        } else {
            run(&p, &res[n_res], true, true);
        }
        print_result(&res[n_res++]);
    }
    jf = lt_bench_json_open(&cli);
    if (jf != NULL) {
        fprintf(jf, "{\"benchmark\":\"failover\",\"build\":\"%s\",\"failures\":%d,\"results\":[",
                LT_BENCH_BUILDTYPE, failures);
        for (i = 0; i < n_res; i++)
            fprintf(jf,
                    "%s{\"protocol\":\"%s\",\"instances_lost\":%d,\"host_timeout_ms\":%d,"
                    "\"host_loss_ms\":%lld,\"lease_ms\":%d,\"takeover_ms\":%lld,"
                    "\"deploy_after_kill_placed_ms\":%lld}",
                    i > 0 ? "," : "", res[i].protocol, res[i].lost, res[i].timeout_ms,
                    (long long)res[i].loss_ms, res[i].lease_ms, (long long)res[i].takeover_ms,
                    (long long)res[i].placed_ms);
        fprintf(jf, "]}\n");
        fclose(jf);
    }
    if (n_res == 0)
        (void)fail(vals[0], "no such protocol");
    if (failures == 0)
        LT_IGNORE(lt_fs_rmtree(dir));
    else
        fprintf(stderr, "bench_failover: logs in %s\n", dir);
    printf("\n%s: %d wrong results\n", failures == 0 ? "OK" : "FAILED", failures);
    lt_free(dir);
    nats_Close();
    return failures == 0 && (cli.json == NULL || jf != NULL) ? 0 : 1;
}
