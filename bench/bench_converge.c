/*
 * bench_converge.c - the convergence target (docs/internals/scheduler.md, "Measured"): N simulated
 * hosts (latticed-host --simulate), A apps of I instances each stored, then
 * all deployed at once; the time from the first deploy until every app's
 * status says deployed, next to the floor: a bare nats.c client sending the
 * same number of start items in the same per-host batches (one request per
 * host) to the same hosts and collecting every reply. Also latticed's peak
 * RSS. Not a test; run by hand:
 *   bench_converge LATTICED LATTICED_HOST [hosts=10000] [apps=1000] [instances=100]
 * With --protocol wasmcloud-v2 first (issue 10): simulated wasmCloud 2.x hosts in environment
 * "bench" (latticed --wasmcloud-v2 bench), one workload.start per workload, at most one in
 * flight per host; the floor is a bare nats.c client sending as many workload.start requests,
 * one in flight per host, the next on each reply.
 *   bench_converge --protocol wasmcloud-v2 LATTICED LATTICED_HOST [hosts=1000] [apps=100]
 *   [instances=100]
 */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "latticed/host/v1/command.pb-c.h"
#include "lt_natsrv.h"
#include "lt_subject.h"
#include "bench_build.h"

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t spawn(char **argv, const char *log)
{
    pid_t pid = fork();

    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void stop(pid_t pid)
{
    int st;

    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
}

static long peak_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kib;
}

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
        deployed_at[idx] = now_ms();
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
        acked_at[idx] = now_ms();
        atomic_fetch_add(&acked_count, 1);
    }
    natsMsg_Destroy(msg);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc, (void)sub, (void)closure;
    atomic_fetch_add(&replies, 1);
    natsMsg_Destroy(msg);
}

static int host_count(natsConnection *nc)
{
    natsMsg *r = NULL;
    const char *p;
    int n = 0;
    char subj[LT_MAX_SUBJECT];

    if (lt_subject_hosts(subj, sizeof(subj), LT_SUBJECT_LATTICE_PREFIX, "bench") != LT_OK ||
        natsConnection_RequestString(&r, nc, subj, "", 5000) != NATS_OK)
        return -1;
    p = strstr(natsMsg_GetData(r), "\"total\":");
    n = p != NULL ? atoi(p + 8) : -1;
    natsMsg_Destroy(r);
    return n;
}

/* ---- the floor: same starts, same batches, bare nats.c ---------------------------------- */

static int64_t floor_run(natsConnection *nc, int hosts, int per_host)
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
    char subj[128], reply[128];
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
    t0 = now_ms();
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
        snprintf(subj, sizeof(subj), "lattice.bench.host.sim-%05d.start", h);
        snprintf(reply, sizeof(reply), "_INBOX.floor.%d", h);
        natsConnection_PublishRequest(nc, subj, reply, buf, (int)len);
    }
    natsConnection_Flush(nc);
    while (atomic_load(&replies) < hosts && now_ms() - t0 < 60000) {
        struct timespec ts = { 0, 1000000 };

        nanosleep(&ts, NULL);
    }
    t0 = now_ms() - t0;
    natsSubscription_Destroy(sub);
    free(specs);
    free(sp);
    free(ids);
    free(buf);
    return atomic_load(&replies) == hosts ? t0 : -1;
}

/* ---- the v2 floor: workload.start requests, one in flight per host ----------------------- */

#define V2_MAX_HOSTS 20000

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
    t0 = now_ms();
    for (h = 0; h < hosts; h++)
        v2_send(nc, h);
    natsConnection_Flush(nc);
    while (atomic_load(&replies) < want && now_ms() - t0 < 120000) {
        struct timespec ts = { 0, 1000000 };

        nanosleep(&ts, NULL);
    }
    t0 = now_ms() - t0;
    natsSubscription_Destroy(sub);
    free(v2_sent);
    return atomic_load(&replies) == want ? t0 : -1;
}

int main(int argc, char **argv)
{
    bool v2 =
        argc > 2 && strcmp(argv[1], "--protocol") == 0 && strcmp(argv[2], "wasmcloud-v2") == 0;
    int hosts, apps, inst;
    char nh[16], url[128];
    lt_natsrv *srv = NULL;
    lt_natsrv_opts no = { 0 };
    natsConnection *nc = NULL;
    natsSubscription *ssub = NULL, *hbsub = NULL;
    pid_t sim, ld;
    int64_t ld_started;
    int64_t t0, conv, fl;
    long rss;
    int i, seen = 0;

    if (lt_bench_require_release("bench_converge") != 0)
        return 2;
    if (v2) { /* drop "--protocol wasmcloud-v2": the positional arguments follow */
        argv += 2;
        argc -= 2;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: bench_converge [--protocol wasmcloud-v2] LATTICED LATTICED_HOST "
                        "[hosts] [apps] [inst]\n");
        return 2;
    }
    hosts = argc > 3 ? atoi(argv[3]) : v2 ? 1000 : 10000;
    apps = argc > 4 ? atoi(argv[4]) : v2 ? 100 : 1000;
    inst = argc > 5 ? atoi(argv[5]) : 100;
    n_apps = apps;
    deployed_flags = calloc((size_t)apps, 1);
    acked_at = calloc((size_t)apps, sizeof(int64_t));
    deployed_at = calloc((size_t)apps, sizeof(int64_t));
    if (lt_natsrv_start(&srv, &no) != LT_OK) {
        fprintf(stderr, "nats-server did not start\n");
        return 1;
    }
    snprintf(url, sizeof(url), "%s", lt_natsrv_url(srv));
    snprintf(nh, sizeof(nh), "%d", hosts);
    if (v2) {
        char *a[] = { argv[2],        "--nats-url",    url,     "--simulate",  nh,     "--protocol",
                      "wasmcloud-v2", "--environment", "bench", "--log-level", "warn", NULL };

        sim = spawn(a, "/tmp/bench_sim.log");
    } else {
        char *a[] = { argv[2], "--nats-url",           url,  "--lattice",   "bench", "--simulate",
                      nh,      "--heartbeat-interval", "2s", "--log-level", "warn",  NULL };

        sim = spawn(a, "/tmp/bench_sim.log");
    }
    {
        char *a[] = { argv[1],  "--nats-url",
                      url,      "--lattice",
                      "bench",  "--host-interval-ms",
                      "2000",   "--warmup-ms",
                      "2500",   "--log-level",
                      "warn",   "--storage",
                      "memory", v2 ? "--wasmcloud-v2" : NULL,
                      "bench",  NULL };

        ld = spawn(a, "/tmp/bench_latticed.log");
        ld_started = now_ms();
    }
    if (natsConnection_ConnectTo(&nc, url) != NATS_OK)
        return 1;
    if (v2) { /* the host ids, for the floor */
        v2_ids = calloc(V2_MAX_HOSTS, sizeof(*v2_ids));
        natsConnection_Subscribe(&hbsub, nc, "runtime.operator.heartbeat.*", on_v2_heartbeat, NULL);
    }
    for (t0 = now_ms(); now_ms() - t0 < 60000 && seen < hosts; sleep(1))
        seen = host_count(nc);
    printf("latticed sees %d of %d hosts after %lld ms\n", seen, hosts, (long long)(now_ms() - t0));
    /* Store every app (not measured). */
    t0 = now_ms();
    for (i = 0; i < apps; i++) {
        char body[1024], subj[128];
        natsMsg *r = NULL;

        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"core.oam.dev/v1beta1\",\"kind\":\"Application\","
                 "\"metadata\":{\"name\":\"app-%04d\",\"annotations\":{\"version\":\"v1\"}},"
                 "\"spec\":{\"components\":[{\"name\":\"web\",\"type\":\"component\","
                 "\"properties\":{\"image\":\"ghcr.io/acme/web:1.0.0\"},\"traits\":[{\"type\":"
                 "\"spreadscaler\",\"properties\":{\"instances\":%d}}]}]}}",
                 i, inst);
        LT_IGNORE(lt_subject_api(subj, sizeof(subj), LT_SUBJECT_API_PREFIX, "bench", "put", NULL));
        if (natsConnection_RequestString(&r, nc, subj, body, 10000) != NATS_OK) {
            fprintf(stderr, "put app-%04d failed\n", i);
            return 1;
        }
        natsMsg_Destroy(r);
    }
    printf("stored %d apps in %lld ms\n", apps, (long long)(now_ms() - t0));
    /* latticed places nothing during its warm-up (--warmup-ms 2500 below, from its start):
     * deploying before it ends would measure the rest of the warm-up, not the convergence. */
    while (now_ms() - ld_started < 2500 + 250) {
        struct timespec ts = { 0, 10000000 };

        nanosleep(&ts, NULL);
    }
    {
        natsSubscription *dsub = NULL;

        natsConnection_Subscribe(&dsub, nc, "_INBOX.dep.*", on_deploy_reply, NULL);
    }
    {
        char status[LT_MAX_SUBJECT];

        LT_IGNORE(lt_subject_app_status(status, sizeof(status), LT_SUBJECT_STATUS_PREFIX, "bench",
                                        LT_SUBJECT_ANY));
        natsConnection_Subscribe(&ssub, nc, status, on_status, NULL);
    }
    natsSubscription_SetPendingLimits(ssub, 1000000, 1024 * 1024 * 1024);
    natsConnection_Flush(nc);
    /* Deploy them all at once; measure until every status says deployed. */
    t0 = now_ms();
    for (i = 0; i < apps; i++) {
        char subj[128], rep[64], name[16];

        snprintf(name, sizeof(name), "app-%04d", i);
        LT_IGNORE(
            lt_subject_api(subj, sizeof(subj), LT_SUBJECT_API_PREFIX, "bench", "deploy", name));
        snprintf(rep, sizeof(rep), "_INBOX.dep.%d", i);
        natsConnection_PublishRequestString(nc, subj, rep, "");
    }
    natsConnection_Flush(nc);
    while (atomic_load(&deployed_count) < apps && now_ms() - t0 < 120000) {
        struct timespec ts = { 0, 1000000 };

        nanosleep(&ts, NULL);
    }
    conv = now_ms() - t0;
    rss = peak_rss_kib(ld);
    printf("convergence: %d/%d apps (%d instances on %d hosts) deployed %lld ms after the "
           "first deploy; latticed peak RSS %.1f MiB\n",
           atomic_load(&deployed_count), apps, apps * inst, hosts, (long long)conv,
           (double)rss / 1024.0);
    {
        int64_t *lat = calloc((size_t)apps, sizeof(int64_t)), last_ack = 0;
        int n = 0;

        for (i = 0; i < apps; i++) {
            if (acked_at[i] > last_ack)
                last_ack = acked_at[i];
            if (acked_at[i] != 0 && deployed_at[i] != 0)
                lat[n++] = deployed_at[i] - acked_at[i];
        }
        qsort(lat, (size_t)n, sizeof(*lat), cmp64);
        if (n > 0)
            printf("API: last deploy acknowledged %lld ms after the first was sent; per app, "
                   "acknowledged -> deployed: p50 %lld ms, p99 %lld ms, max %lld ms\n",
                   (long long)(last_ack - t0), (long long)lat[n / 2], (long long)lat[n * 99 / 100],
                   (long long)lat[n - 1]);
        free(lat);
    }
    stop(ld);
    sleep(1);
    if (v2) {
        natsSubscription_Destroy(hbsub);
        if (atomic_load(&n_v2_ids) < hosts)
            printf("floor: heard %d of %d host ids\n", atomic_load(&n_v2_ids), hosts);
        fl = floor_v2(nc, atomic_load(&n_v2_ids), apps * inst / hosts);
        printf("floor: %d workload.start requests (%d per host, one in flight per host), every "
               "reply in %lld ms\n",
               apps * inst, apps * inst / hosts, (long long)fl);
    } else {
        fl = floor_run(nc, hosts, apps * inst / hosts);
        printf("floor: %d start requests of %d items, every reply in %lld ms\n", hosts,
               apps * inst / hosts, (long long)fl);
    }
    if (fl > 0)
        printf("ratio: %.2f x the floor\n", (double)conv / (double)fl);
    natsSubscription_Destroy(ssub);
    natsConnection_Destroy(nc);
    stop(sim);
    LT_IGNORE(lt_natsrv_stop(srv));
    return 0;
}
