/*
 * bench_converge.c - the convergence target (docs/internals/scheduler.md, "Measured"): N simulated
 * hosts (latticed-host --simulate, in K processes with --sim-procs), A apps of I instances each
 * stored, then all deployed at once; the time from the first deploy until every app's status
 * says deployed, next to the floor: a bare nats.c client sending the same number of start items
 * in the same per-host batches (one request per host) to the same hosts and collecting every
 * reply. Also latticed's peak RSS and the simulators'. Run by hand from a release build:
 *   bench_converge LATTICED LATTICED_HOST [hosts=10000] [apps=1000] [instances=100]
 * With --protocol wasmcloud-v2 (issue 10): simulated wasmCloud 2.x hosts in environment
 * "bench" (latticed --wasmcloud-v2 bench), one workload.start per workload, at most one in
 * flight per host; the floor is a bare nats.c client sending as many workload.start requests,
 * one in flight per host, the next on each reply.
 *   bench_converge --protocol wasmcloud-v2 LATTICED LATTICED_HOST [hosts=1000] [apps=100]
 *   [instances=100]
 * The growth series (issue 11): --series 1000,3000,10000,30000 runs each size on a fresh system
 * with --per-host 10 instances per host in apps of --app-instances 100, --hosts-per-proc hosts
 * per simulator process at most, and fits converge ms and RSS to a line in instances.
 * --json FILE writes the results; --smoke runs tiny sizes in any build and fails (exit 1) when
 * an app is not deployed or the floor misses a reply.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include <nats/nats.h>

#include "latticed/host/v1/command.pb-c.h"
#include "lt_conn.h"
#include "lt_natsrv.h"
#include "lt_subject.h"
#include "lt_bench.h"
#include "bench_build.h"

/* ---- status tracking -------------------------------------------------------------------- */

static atomic_int deployed_count, acked_count;
static unsigned char *deployed_flags;
static int64_t *acked_at, *deployed_at;
static int n_apps;

static void on_status(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    const char *subj = natsMsg_GetSubject(msg), *app = strrchr(subj, '.');
    int idx = app != NULL && strncmp(app, ".app-", 5) == 0 ? atoi(app + 5) : -1;
    bool dep = strstr(natsMsg_GetData(msg), "{\"status\":{\"type\":\"deployed\"") != NULL;

    (void)nc, (void)sub, (void)closure;
    if (idx >= 0 && idx < n_apps && dep && !deployed_flags[idx]) {
        deployed_flags[idx] = 1;
        deployed_at[idx] = lt_bench_now_ms();
        atomic_fetch_add(&deployed_count, 1);
    }
    natsMsg_Destroy(msg);
}

static atomic_int replies;

/* "_INBOX.dep.<i>": the API acknowledged app i's deploy (stored). */
static void on_deploy_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    const char *dot = strrchr(natsMsg_GetSubject(msg), '.');
    int idx = dot != NULL ? atoi(dot + 1) : -1;

    (void)nc, (void)sub, (void)closure;
    if (idx >= 0 && idx < n_apps) {
        acked_at[idx] = lt_bench_now_ms();
        atomic_fetch_add(&acked_count, 1);
    }
    natsMsg_Destroy(msg);
}

static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc, (void)sub, (void)closure;
    atomic_fetch_add(&replies, 1);
    natsMsg_Destroy(msg);
}

/* ---- the floor: same starts, same batches, bare nats.c ---------------------------------- */

static int64_t floor_run(natsConnection *nc, int hosts, int per_host, int per_proc)
{
    Latticed__Host__V1__StartRequest req = LATTICED__HOST__V1__START_REQUEST__INIT;
    Latticed__Host__V1__InstanceSpec *specs = calloc((size_t)per_host, sizeof(*specs));
    Latticed__Host__V1__InstanceSpec **sp = calloc((size_t)per_host, sizeof(*sp));
    Latticed__Host__V1__InstanceSpec__AnnotationsEntry ann[5], *annp[5];
    static const char *const ak[5] = { "latticed.dev/managed-by", "latticed.dev/lattice",
                                       "latticed.dev/app", "latticed.dev/version",
                                       "latticed.dev/kind" };
    static const char *const av[5] = { "latticed", "bench", "app-0000", "v1", "component" };
    char(*ids)[40] = calloc((size_t)per_host, 40);
    uint8_t *buf = malloc(1 << 20);
    natsSubscription *sub = NULL;
    char subj[LT_MAX_SUBJECT], reply[128], host[32];
    int64_t t0;
    int h, i;

    for (i = 0; i < 5; i++) {
        static const Latticed__Host__V1__InstanceSpec__AnnotationsEntry ai =
            LATTICED__HOST__V1__INSTANCE_SPEC__ANNOTATIONS_ENTRY__INIT;

        ann[i] = ai;
        ann[i].key = (char *)ak[i];
        ann[i].value = (char *)av[i];
        annp[i] = &ann[i];
    }
    natsConnection_Subscribe(&sub, nc, "_INBOX.floor.*", on_reply, NULL);
    natsSubscription_SetPendingLimits(sub, 1000000, 1024 * 1024 * 1024);
    natsConnection_Flush(nc);
    atomic_store(&replies, 0);
    t0 = lt_bench_now_ms();
    for (h = 0; h < hosts; h++) {
        size_t len;

        for (i = 0; i < per_host; i++) {
            static const Latticed__Host__V1__InstanceSpec si =
                LATTICED__HOST__V1__INSTANCE_SPEC__INIT;

            specs[i] = si;
            snprintf(ids[i], 40, "i-floor%08x%08x", h, i);
            specs[i].instance_id = ids[i];
            specs[i].app_name = "app-0000";
            specs[i].app_version = "v1";
            specs[i].component_name = "web";
            specs[i].component_id = "app_0000-web";
            specs[i].image_ref = "ghcr.io/acme/web:1.0.0";
            specs[i].ordinal = (uint32_t)i;
            specs[i].n_annotations = 5;
            specs[i].annotations = annp;
            specs[i].spec_digest = "0123456789abcdef0123456789abcdef";
            sp[i] = &specs[i];
        }
        req.epoch = UINT64_C(1) << 40; /* after latticed is gone: newer than any lease */
        req.lattice = "bench";
        req.request_id = "floor";
        req.n_instances = (size_t)per_host;
        req.instances = sp;
        len = latticed__host__v1__start_request__pack(&req, buf);
        snprintf(host, sizeof(host), "s%d-%05d", h / per_proc, h % per_proc);
        LT_IGNORE(lt_subject_host_command(subj, sizeof(subj), LT_SUBJECT_LATTICE_PREFIX, "bench",
                                          host, "start"));
        snprintf(reply, sizeof(reply), "_INBOX.floor.%d", h);
        natsConnection_PublishRequest(nc, subj, reply, buf, (int)len);
    }
    natsConnection_Flush(nc);
    while (atomic_load(&replies) < hosts && lt_bench_now_ms() - t0 < 60000) {
        struct timespec ts = { 0, 1000000 };

        nanosleep(&ts, NULL);
    }
    t0 = lt_bench_now_ms() - t0;
    lt_conn_sub_free(nc, sub, LT_CONN_SETTLE_MS); /* late replies may come: wire/lt_conn.h */
    free(specs);
    free(sp);
    free(ids);
    free(buf);
    return atomic_load(&replies) == hosts ? t0 : -1;
}

/* ---- the v2 floor: workload.start requests, one in flight per host ----------------------- */

#define V2_MAX_HOSTS 40000

static char (*v2_ids)[64];
static atomic_int n_v2_ids;
static int v2_per_host;
static atomic_int *v2_sent;

/* runtime.operator.heartbeat.<id>: remember each host id once. */
static void on_v2_heartbeat(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *cl)
{
    const char *id = strrchr(natsMsg_GetSubject(msg), '.') + 1;
    int n = atomic_load(&n_v2_ids), i;

    (void)nc, (void)sub, (void)cl;
    for (i = 0; i < n && strcmp(v2_ids[i], id) != 0; i++)
        ;
    if (i == n && n < V2_MAX_HOSTS) {
        snprintf(v2_ids[n], 64, "%s", id);
        atomic_store(&n_v2_ids, n + 1);
    }
    natsMsg_Destroy(msg);
}

static void v2_send(natsConnection *nc, int h)
{
    char subj[160], reply[64], body[768];
    int k = atomic_fetch_add(&v2_sent[h], 1);

    if (k >= v2_per_host)
        return;
    snprintf(body, sizeof(body),
             "{\"workload\":{\"namespace\":\"bench\",\"name\":\"app-0000-web\",\"annotations\":{"
             "\"latticed.dev/managed-by\":\"latticed\",\"latticed.dev/lattice\":\"bench\","
             "\"latticed.dev/app\":\"app-0000\",\"latticed.dev/version\":\"v1\","
             "\"latticed.dev/kind\":\"component\"},\"witWorld\":{\"components\":[{\"image\":"
             "\"ghcr.io/acme/web:1.0.0\",\"localResources\":{},\"name\":\"web\"}]}},"
             "\"workloadId\":\"i-f%07x%024x\"}",
             h, k);
    snprintf(subj, sizeof(subj), "runtime.host.%s.workload.start", v2_ids[h]);
    snprintf(reply, sizeof(reply), "_INBOX.floor2.%d", h);
    natsConnection_PublishRequestString(nc, subj, reply, body);
}

static void on_v2_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    const char *dot = strrchr(natsMsg_GetSubject(msg), '.');

    (void)sub, (void)closure;
    atomic_fetch_add(&replies, 1);
    if (dot != NULL)
        v2_send(nc, atoi(dot + 1));
    natsMsg_Destroy(msg);
}

static int64_t floor_v2(natsConnection *nc, int hosts, int per_host)
{
    natsSubscription *sub = NULL;
    int64_t t0;
    int h, want = hosts * per_host;

    v2_per_host = per_host;
    v2_sent = calloc((size_t)hosts, sizeof(*v2_sent));
    natsConnection_Subscribe(&sub, nc, "_INBOX.floor2.*", on_v2_reply, NULL);
    natsSubscription_SetPendingLimits(sub, 1000000, 1024 * 1024 * 1024);
    natsConnection_Flush(nc);
    atomic_store(&replies, 0);
    t0 = lt_bench_now_ms();
    for (h = 0; h < hosts; h++)
        v2_send(nc, h);
    natsConnection_Flush(nc);
    while (atomic_load(&replies) < want && lt_bench_now_ms() - t0 < 120000) {
        struct timespec ts = { 0, 1000000 };

        nanosleep(&ts, NULL);
    }
    t0 = lt_bench_now_ms() - t0;
    lt_conn_sub_free(nc, sub, LT_CONN_SETTLE_MS); /* late replies may come: wire/lt_conn.h */
    free(v2_sent);
    return atomic_load(&replies) == want ? t0 : -1;
}

#define MAX_PROCS 64

/* Whether hosts split into procs processes of ceil(hosts / procs) leaves none empty. */
static bool split_ok(int hosts, int procs)
{
    return procs > 0 && procs <= MAX_PROCS && (hosts + procs - 1) / procs * (procs - 1) < hosts;
}

/* ---- one measurement on a fresh system ------------------------------------------------------ */

typedef struct {
    bool v2, fast_v2;      /* fast_v2: 2.x heartbeats every second (--smoke) */
    const char *heartbeat; /* native hosts' heartbeat interval ("5s") */
    char interval_ms[16];  /* the same for latticed's --host-interval-ms */
    int hosts, apps, inst, procs;
    const char *latticed, *host_bin;
} conv_params;

typedef struct {
    int hosts, apps, instances, procs, seen, deployed, acked;
    int64_t conv_ms, floor_ms, last_ack_ms, p50_ms, p99_ms;
    long rss_kib, sim_rss_kib; /* latticed's peak; the largest simulator's peak */
    int ld_status;             /* latticed's wait status after SIGTERM (killed after 10 s) */
    /* CPU ms used while converging (latticed, nats-server, the simulators together) and while
     * the floor ran (nats-server, the simulators): where the two cores went */
    double cpu_ld, cpu_srv, cpu_sim, floor_cpu_srv, floor_cpu_sim;
} conv_result;

/* The processes of a run, for their CPU time. */
typedef struct {
    pid_t ld, srv;
    const pid_t *sim;
    int nsim;
} conv_procs;

/* CPU ms used so far: [0] latticed, [1] nats-server, [2] the simulators together. */
static void cpu_snap(const conv_procs *p, double out[3])
{
    int k;

    out[0] = p->ld > 0 ? lt_bench_cpu_ms(p->ld) : 0;
    out[1] = lt_bench_cpu_ms(p->srv);
    out[2] = 0;
    for (k = 0; k < p->nsim; k++)
        out[2] += lt_bench_cpu_ms(p->sim[k]);
}


static void reset_state(int apps)
{
    n_apps = apps;
    atomic_store(&deployed_count, 0);
    atomic_store(&acked_count, 0);
    atomic_store(&n_v2_ids, 0);
    free(deployed_flags);
    free(acked_at);
    free(deployed_at);
    deployed_flags = NULL;
    acked_at = deployed_at = NULL;
    if (apps == 0) /* the end */
        return;
    deployed_flags = calloc((size_t)apps, 1);
    acked_at = calloc((size_t)apps, sizeof(int64_t));
    deployed_at = calloc((size_t)apps, sizeof(int64_t));
}

static void start_sims(const conv_params *cp, const char *url, pid_t *sim)
{
    int k, per = (cp->hosts + cp->procs - 1) / cp->procs;

    for (k = 0; k < cp->procs; k++) {
        char nh[16], prefix[16], log[64];
        int n = k == cp->procs - 1 ? cp->hosts - per * k : per;

        snprintf(nh, sizeof(nh), "%d", n);
        snprintf(prefix, sizeof(prefix), "s%d", k);
        snprintf(log, sizeof(log), "/tmp/bench_sim-%d-%d.log", (int)getpid(), k);
        remove(log);
        if (cp->v2) {
            const char *a[] = { cp->host_bin,
                                "--nats-url",
                                url,
                                "--simulate",
                                nh,
                                "--protocol",
                                "wasmcloud-v2",
                                "--id-prefix",
                                prefix,
                                "--environment",
                                "bench",
                                "--log-level",
                                "warn",
                                "--heartbeat-interval",
                                cp->fast_v2 ? "1s" : "15s",
                                NULL };

            sim[k] = lt_bench_spawn(a, log);
        } else {
            const char *a[] = { cp->host_bin,
                                "--nats-url",
                                url,
                                "--lattice",
                                "bench",
                                "--simulate",
                                nh,
                                "--id-prefix",
                                prefix,
                                "--heartbeat-interval",
                                cp->heartbeat,
                                "--log-level",
                                "warn",
                                NULL };

            sim[k] = lt_bench_spawn(a, log);
        }
    }
}

/* Store every app (not measured), then deploy them all at once: until every status says
 * deployed. */
static void deploy_all(natsConnection *nc, const conv_params *cp, const conv_procs *pr,
                       conv_result *r)
{
    natsSubscription *dsub = NULL, *ssub = NULL;
    double c0[3], c1[3];
    pid_t perf = -1;
    char status[LT_MAX_SUBJECT];
    int64_t t0 = lt_bench_now_ms(), *lat;
    int i, n = 0;

    for (i = 0; i < cp->apps; i++) {
        char body[1024], name[16];

        snprintf(name, sizeof(name), "app-%04d", i);
        lt_bench_manifest(body, sizeof(body), name, "v1", cp->inst);
        if (!lt_bench_api(nc, "bench", "put", NULL, body, 10000, "created", NULL))
            fprintf(stderr, "put %s failed\n", name);
    }
    printf("stored %d apps in %lld ms\n", cp->apps, (long long)(lt_bench_now_ms() - t0));
    LT_IGNORE(lt_subject_app_status(status, sizeof(status), LT_SUBJECT_STATUS_PREFIX, "bench",
                                    LT_SUBJECT_ANY));
    natsConnection_Subscribe(&dsub, nc, "_INBOX.dep.*", on_deploy_reply, NULL);
    natsConnection_Subscribe(&ssub, nc, status, on_status, NULL);
    natsSubscription_SetPendingLimits(ssub, 1000000, 1024 * 1024 * 1024);
    natsSubscription_SetPendingLimits(dsub, 1000000, 1024 * 1024 * 1024);
    natsConnection_Flush(nc);
    if (getenv("LT_BENCH_PERF") != NULL && pr->ld > 0) {
        /* LT_BENCH_PERF=FILE: perf records latticed (DWARF stacks) from the first deploy until
         * every app is deployed */
        char pid[16];
        const char *a[] = {
            "/usr/bin/perf",         "record", "-F", "1000", "--call-graph", "dwarf,8192", "-o",
            getenv("LT_BENCH_PERF"), "-p",     pid,  NULL
        };

        snprintf(pid, sizeof(pid), "%d", (int)pr->ld);
        perf = lt_bench_spawn(a, "/tmp/bench_perf.log");
        lt_bench_sleep_ms(500); /* perf attaches */
    }
    cpu_snap(pr, c0);
    t0 = lt_bench_now_ms();
    for (i = 0; i < cp->apps; i++) {
        char subj[LT_MAX_SUBJECT], rep[64], name[16];

        snprintf(name, sizeof(name), "app-%04d", i);
        LT_IGNORE(
            lt_subject_api(subj, sizeof(subj), LT_SUBJECT_API_PREFIX, "bench", "deploy", name));
        snprintf(rep, sizeof(rep), "_INBOX.dep.%d", i);
        natsConnection_PublishRequestString(nc, subj, rep, "");
    }
    natsConnection_Flush(nc);
    while (atomic_load(&deployed_count) < cp->apps && lt_bench_now_ms() - t0 < 300000)
        lt_bench_sleep_ms(1);
    r->conv_ms = lt_bench_now_ms() - t0;
    cpu_snap(pr, c1);
    if (perf > 0) {
        kill(perf, SIGINT);
        waitpid(perf, NULL, 0);
    }
    r->cpu_ld = c1[0] - c0[0];
    r->cpu_srv = c1[1] - c0[1];
    r->cpu_sim = c1[2] - c0[2];
    r->deployed = atomic_load(&deployed_count);
    r->acked = atomic_load(&acked_count);
    lat = calloc((size_t)cp->apps, sizeof(int64_t));
    for (i = 0; lat != NULL && i < cp->apps; i++) {
        if (acked_at[i] - t0 > r->last_ack_ms)
            r->last_ack_ms = acked_at[i] - t0;
        if (acked_at[i] != 0 && deployed_at[i] != 0)
            lat[n++] = (deployed_at[i] - acked_at[i]) * 1000;
    }
    if (n > 0) {
        lt_bench_stats st;

        lt_bench_stats_of(lat, (size_t)n, &st);
        r->p50_ms = (int64_t)st.p50_ms;
        r->p99_ms = (int64_t)st.p99_ms;
    }
    free(lat);
    {
        natsSubscription *subs[] = { dsub, ssub }; /* latticed still runs: wire/lt_conn.h */

        lt_conn_subs_free(nc, subs, 2, LT_CONN_SETTLE_MS);
    }
}


/* latticed's hosts answer says "acting": it places a deploy at once. */
static bool acting(natsConnection *nc)
{
    natsMsg *r = NULL;
    char subj[LT_MAX_SUBJECT];
    bool yes;

    if (lt_subject_hosts(subj, sizeof(subj), LT_SUBJECT_LATTICE_PREFIX, "bench") != LT_OK ||
        natsConnection_RequestString(&r, nc, subj, "", 5000) != NATS_OK)
        return false;
    yes = strstr(natsMsg_GetData(r), "\"acting\":true") != NULL;
    natsMsg_Destroy(r);
    return yes;
}
static void converge_once(const conv_params *cp, conv_result *r)
{
    lt_natsrv *srv = NULL;
    lt_natsrv_opts no = { 0 };
    natsConnection *nc = NULL;
    natsSubscription *hbsub = NULL;
    pid_t sim[MAX_PROCS], ld;
    conv_procs pr = { 0 };
    double c0[3], c1[3];
    int64_t t0;
    int k;

    memset(r, 0, sizeof(*r));
    r->hosts = cp->hosts;
    r->apps = cp->apps;
    r->instances = cp->apps * cp->inst;
    r->procs = cp->procs;
    r->floor_ms = -1;
    reset_state(cp->apps);
    if (lt_natsrv_start(&srv, &no) != LT_OK) {
        fprintf(stderr, "nats-server did not start\n");
        return;
    }
    start_sims(cp, lt_natsrv_url(srv), sim);
    { /* no warm-up: the deploys are sent once latticed has heard every host */
        /* LT_BENCH_LD_LOG=debug: latticed's log level (its log: /tmp/bench_latticed-PID.log) */
        const char *level = getenv("LT_BENCH_LD_LOG") != NULL ? getenv("LT_BENCH_LD_LOG") : "warn";
        const char *a[24] = { cp->latticed,    "--nats-url",  lt_natsrv_url(srv),
                              "--lattice",     "bench",       "--host-interval-ms",
                              cp->interval_ms, "--warmup-ms", "-1",
                              "--log-level",   level,         "--storage",
                              "memory" };
        char log[64];
        int n = 13;

        if (cp->v2) {
            a[n++] = "--wasmcloud-v2";
            a[n++] = "bench";
        }
        if (cp->v2 && cp->fast_v2) { /* --smoke: hosts heard within a second */
            a[n++] = "--v2-heartbeat-ms";
            a[n++] = "1000";
        }
        a[n] = NULL;
        snprintf(log, sizeof(log), "/tmp/bench_latticed-%d.log", (int)getpid());
        remove(log);
        ld = lt_bench_spawn(a, log);
    }
    if (natsConnection_ConnectTo(&nc, lt_natsrv_url(srv)) != NATS_OK)
        goto out;
    if (cp->v2) /* the host ids, for the floor */
        natsConnection_Subscribe(&hbsub, nc, "runtime.operator.heartbeat.*", on_v2_heartbeat, NULL);
    for (t0 = lt_bench_now_ms(); lt_bench_now_ms() - t0 < 120000 && r->seen < cp->hosts;
         lt_bench_sleep_ms(200))
        r->seen = lt_bench_host_count(nc, "bench");
    printf("latticed sees %d of %d hosts (%d simulator processes) after %lld ms\n", r->seen,
           cp->hosts, cp->procs, (long long)(lt_bench_now_ms() - t0));
    /* A new leader places nothing until its term's inventory round is over (about a second,
     * docs/internals/scheduler.md): deploys sent before would measure the round. (A latticed
     * too old to say "acting" gets 5 s.) */
    for (t0 = lt_bench_now_ms(); !acting(nc) && lt_bench_now_ms() - t0 < 5000;)
        lt_bench_sleep_ms(50);
    pr.ld = ld;
    pr.srv = lt_natsrv_pid(srv);
    pr.sim = sim;
    pr.nsim = cp->procs;
    deploy_all(nc, cp, &pr, r);
    r->rss_kib = lt_bench_peak_rss_kib(ld);
    for (k = 0; k < cp->procs; k++)
        if (lt_bench_peak_rss_kib(sim[k]) > r->sim_rss_kib)
            r->sim_rss_kib = lt_bench_peak_rss_kib(sim[k]);
    printf("convergence: %d/%d apps (%d instances on %d hosts) deployed %lld ms after the first "
           "deploy; last deploy acknowledged at %lld ms; acknowledged -> deployed p50 %lld ms, "
           "p99 %lld ms; latticed peak RSS %.1f MiB, largest simulator %.1f MiB\n",
           r->deployed, cp->apps, r->instances, cp->hosts, (long long)r->conv_ms,
           (long long)r->last_ack_ms, (long long)r->p50_ms, (long long)r->p99_ms,
           (double)r->rss_kib / 1024.0, (double)r->sim_rss_kib / 1024.0);
    r->ld_status = lt_bench_stop(ld);
    if (r->ld_status != 0)
        fprintf(stderr, "latticed did not exit 0 on SIGTERM (wait status 0x%x)\n",
                (unsigned)r->ld_status);
    ld = -1;
    pr.ld = -1;
    lt_bench_sleep_ms(1000);
    cpu_snap(&pr, c0);
    if (cp->v2) {
        lt_conn_sub_free(nc, hbsub, LT_CONN_SETTLE_MS); /* hosts still beat: wire/lt_conn.h */
        hbsub = NULL;
        if (atomic_load(&n_v2_ids) < cp->hosts)
            printf("floor: heard %d of %d host ids\n", atomic_load(&n_v2_ids), cp->hosts);
        r->floor_ms = floor_v2(nc, atomic_load(&n_v2_ids), r->instances / cp->hosts);
        printf("floor: %d workload.start requests (%d per host, one in flight per host), every "
               "reply in %lld ms\n",
               r->instances, r->instances / cp->hosts, (long long)r->floor_ms);
    } else {
        r->floor_ms = floor_run(nc, cp->hosts, r->instances / cp->hosts,
                                (cp->hosts + cp->procs - 1) / cp->procs);
        printf("floor: %d start requests of %d items, every reply in %lld ms\n", cp->hosts,
               r->instances / cp->hosts, (long long)r->floor_ms);
    }
    cpu_snap(&pr, c1);
    r->floor_cpu_srv = c1[1] - c0[1];
    r->floor_cpu_sim = c1[2] - c0[2];
    printf("CPU ms while converging: latticed %.0f, nats-server %.0f, simulators %.0f; during "
           "the floor: nats-server %.0f, simulators %.0f\n",
           r->cpu_ld, r->cpu_srv, r->cpu_sim, r->floor_cpu_srv, r->floor_cpu_sim);
    if (r->floor_ms > 0)
        printf("ratio: %.2f x the floor\n", (double)r->conv_ms / (double)r->floor_ms);
out:
    lt_conn_sub_free(nc, hbsub, LT_CONN_SETTLE_MS);
    natsConnection_Destroy(nc);
    if (ld > 0)
        lt_bench_stop(ld);
    for (k = 0; k < cp->procs; k++)
        lt_bench_stop(sim[k]);
    LT_IGNORE(lt_natsrv_stop(srv));
}

/* ---- the table, the fit, the JSON ---------------------------------------------------------- */

/* Least squares y = a + b x over n points; r2 the coefficient of determination. */
static void fit(const double *x, const double *y, int n, double *a, double *b, double *r2)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0, ss_res = 0, ss_tot = 0;
    int i;

    for (i = 0; i < n; i++) {
        mx += x[i] / n;
        my += y[i] / n;
    }
    for (i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    *b = sxx > 0 ? sxy / sxx : 0;
    *a = my - *b * mx;
    for (i = 0; i < n; i++) {
        double e = y[i] - (*a + *b * x[i]);

        ss_res += e * e;
        ss_tot += (y[i] - my) * (y[i] - my);
    }
    *r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
}

static void print_table(const conv_result *r, int n, FILE *jf, bool v2)
{
    double x[16] = { 0 }, yc[16] = { 0 }, yr[16] = { 0 }, a, b, r2, ar, br, r2r;
    int i;

    printf("\n%-8s %6s %10s %10s %10s %7s %9s %8s %12s\n", "hosts", "procs", "instances",
           "converge", "floor", "ratio", "RSS MiB", "sim MiB", "us/instance");
    for (i = 0; i < n && i < 16; i++) {
        x[i] = r[i].instances;
        yc[i] = (double)r[i].conv_ms;
        yr[i] = (double)r[i].rss_kib / 1024.0;
        printf("%-8d %6d %10d %7lld ms %7lld ms %6.2fx %9.1f %8.1f %12.1f\n", r[i].hosts,
               r[i].procs, r[i].instances, (long long)r[i].conv_ms, (long long)r[i].floor_ms,
               r[i].floor_ms > 0 ? (double)r[i].conv_ms / (double)r[i].floor_ms : 0.0, yr[i],
               (double)r[i].sim_rss_kib / 1024.0, 1000.0 * yc[i] / x[i]);
    }
    fit(x, yc, i, &a, &b, &r2);
    fit(x, yr, i, &ar, &br, &r2r);
    if (n > 1)
        printf("least squares: converge ms = %.1f + %.4f x instances (R^2 %.4f); "
               "RSS MiB = %.1f + %.5f x instances (R^2 %.4f)\n",
               a, b, r2, ar, br, r2r);
    if (jf == NULL)
        return;
    fprintf(jf, "{\"benchmark\":\"converge\",\"protocol\":\"%s\",\"build\":\"%s\",\"runs\":[",
            v2 ? "wasmcloud-v2" : "native", LT_BENCH_BUILDTYPE);
    for (i = 0; i < n; i++)
        fprintf(
            jf,
            "%s{\"hosts\":%d,\"sim_procs\":%d,\"apps\":%d,\"instances\":%d,\"hosts_seen\":%d,"
            "\"deployed\":%d,\"converge_ms\":%lld,\"last_ack_ms\":%lld,\"floor_ms\":%lld,"
            "\"latticed_peak_rss_kib\":%ld,\"sim_peak_rss_kib\":%ld,\"latticed_wait_status\":%d,"
            "\"cpu_ms\":{\"latticed\":%.0f,\"nats_server\":%.0f,\"simulators\":%.0f,"
            "\"floor_nats_server\":%.0f,\"floor_simulators\":%.0f}}",
            i > 0 ? "," : "", r[i].hosts, r[i].procs, r[i].apps, r[i].instances, r[i].seen,
            r[i].deployed, (long long)r[i].conv_ms, (long long)r[i].last_ack_ms,
            (long long)r[i].floor_ms, r[i].rss_kib, r[i].sim_rss_kib, r[i].ld_status, r[i].cpu_ld,
            r[i].cpu_srv, r[i].cpu_sim, r[i].floor_cpu_srv, r[i].floor_cpu_sim);
    fprintf(jf,
            "],\"fit\":{\"converge_ms_intercept\":%.3f,\"converge_ms_per_instance\":%.6f,"
            "\"converge_r2\":%.5f,\"rss_mib_intercept\":%.3f,\"rss_mib_per_instance\":%.7f,"
            "\"rss_r2\":%.5f}}\n",
            a, b, r2, ar, br, r2r);
}

int main(int argc, char **argv)
{
    static const char *const opts[] = { "--protocol",       "--sim-procs",
                                        "--series",         "--per-host",
                                        "--app-instances",  "--hosts-per-proc",
                                        "--heartbeat-secs", NULL };
    const char *vals[] = { "native", NULL, NULL, "10", "100", "10000", "5" };
    conv_params cp;
    conv_result res[16];
    lt_bench_cli cli;
    int n = 0, i, wrong = 0;
    FILE *jf;

    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows in a log file */
    if (!lt_bench_parse(argc, argv, opts, vals, &cli) || cli.n_args < 2 ||
        (strcmp(vals[0], "native") != 0 && strcmp(vals[0], "wasmcloud-v2") != 0)) {
        fprintf(stderr, "usage: bench_converge [--protocol native|wasmcloud-v2] [--sim-procs K] "
                        "[--series H1,H2,.. [--per-host 10] [--app-instances 100] "
                        "[--hosts-per-proc 10000]] [--heartbeat-secs 5] [--json FILE] [--smoke] "
                        "LATTICED "
                        "LATTICED_HOST [hosts] [apps] [inst]\n");
        return 2;
    }
    if (cli.smoke) { /* tiny, any build type: every app deployed, every floor reply */
        if (vals[2] == NULL)
            vals[2] = "12,24";
        vals[3] = "10";
        vals[4] = "10";
        if (vals[1] == NULL)
            vals[1] = "2";
    } else if (lt_bench_require_release("bench_converge") != 0) {
        return 2;
    }
    memset(&cp, 0, sizeof(cp));
    cp.v2 = strcmp(vals[0], "wasmcloud-v2") == 0;
    cp.fast_v2 = cli.smoke;
    {
        static char hb[16];
        int secs = atoi(vals[6]);

        if (secs <= 0 || secs > 3600) {
            fprintf(stderr, "bench_converge: --heartbeat-secs must be 1..3600\n");
            return 2;
        }
        snprintf(hb, sizeof(hb), "%ds", secs);
        snprintf(cp.interval_ms, sizeof(cp.interval_ms), "%d", secs * 1000);
        cp.heartbeat = hb;
    }
    cp.latticed = cli.args[0];
    cp.host_bin = cli.args[1];
    v2_ids = calloc(V2_MAX_HOSTS, sizeof(*v2_ids));
    if (vals[2] != NULL) {
        char *list = strdup(vals[2]), *tok, *save = NULL;

        for (tok = strtok_r(list, ",", &save); tok != NULL && n < 16;
             tok = strtok_r(NULL, ",", &save)) {
            cp.hosts = atoi(tok);
            cp.inst = atoi(vals[4]);
            cp.apps = cp.hosts * atoi(vals[3]) / cp.inst;
            cp.procs =
                vals[1] != NULL ? atoi(vals[1]) : (cp.hosts + atoi(vals[5]) - 1) / atoi(vals[5]);
            if (cp.hosts <= 0 || cp.apps <= 0 || !split_ok(cp.hosts, cp.procs) ||
                cp.hosts > V2_MAX_HOSTS) {
                fprintf(stderr, "bench_converge: bad size %s\n", tok);
                return 2;
            }
            printf("\n== %d hosts, %d apps of %d instances, %d simulator processes ==\n", cp.hosts,
                   cp.apps, cp.inst, cp.procs);
            converge_once(&cp, &res[n++]);
        }
        free(list);
    } else {
        cp.hosts = cli.n_args > 2 ? atoi(cli.args[2]) : cp.v2 ? 1000 : 10000;
        cp.apps = cli.n_args > 3 ? atoi(cli.args[3]) : cp.v2 ? 100 : 1000;
        cp.inst = cli.n_args > 4 ? atoi(cli.args[4]) : 100;
        cp.procs = vals[1] != NULL ? atoi(vals[1]) : 1;
        if (cp.hosts <= 0 || cp.apps <= 0 || !split_ok(cp.hosts, cp.procs) ||
            cp.hosts > V2_MAX_HOSTS) {
            fprintf(stderr, "bench_converge: bad sizes\n");
            return 2;
        }
        converge_once(&cp, &res[n++]);
    }
    for (i = 0; i < n; i++) {
        if (res[i].seen != res[i].hosts || res[i].deployed != res[i].apps ||
            res[i].acked != res[i].apps || res[i].floor_ms < 0 || res[i].ld_status != 0) {
            fprintf(stderr,
                    "bench_converge: wrong result at %d hosts: %d hosts seen, %d/%d apps "
                    "acknowledged, %d deployed, floor %lld ms, latticed's exit 0x%x\n",
                    res[i].hosts, res[i].seen, res[i].acked, res[i].apps, res[i].deployed,
                    (long long)res[i].floor_ms, (unsigned)res[i].ld_status);
            wrong++;
        }
    }
    jf = lt_bench_json_open(&cli);
    print_table(res, n, jf, cp.v2);
    if (jf != NULL)
        fclose(jf);
    printf("\n%s: %d wrong results\n", wrong == 0 ? "OK" : "FAILED", wrong);
    free(v2_ids);
    reset_state(0);
    nats_Close();
    return wrong == 0 && (cli.json == NULL || jf != NULL) ? 0 : 1;
}
