/*
 * bench_host_sim.c - scale benchmark of `latticed-host --simulate` (run with
 * `meson test --benchmark --suite host`, or directly with arguments
 * HOSTS PER_HOST INTERVAL_MS). Measures, against a real nats-server:
 *   - heartbeat encoding cost in-process (cached instance encodings vs not);
 *   - start-up: all host.started received;
 *   - HOSTS start requests of PER_HOST instances each (~1 KB), all replies;
 *   - steady state: heartbeats/s received, the simulator's CPU and RSS.
 * Prints one line per measurement; exits 1 if replies or heartbeats go missing.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "host_driver.h"
#include "host_int.h"
#include "lt_alloc.h"
#include "lt_natsrv.h"
#include "bench_build.h"
#include "lt_bench.h"

static atomic_ulong n_started, n_heartbeats, hb_bytes, n_replies, n_ok, n_inst_started;

static void on_event(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    const char *subj = natsMsg_GetSubject(m);
    size_t n = strlen(subj);

    (void)nc;
    (void)sub;
    (void)closure;
    if (n > 10 && strcmp(subj + n - 10, ".heartbeat") == 0) {
        atomic_fetch_add(&n_heartbeats, 1);
        atomic_fetch_add(&hb_bytes, (unsigned long)natsMsg_GetDataLength(m));
    } else if (n > 8 && strcmp(subj + n - 8, ".started") == 0 && strstr(subj, "host.started")) {
        atomic_fetch_add(&n_started, 1);
    } else if (strstr(subj, ".instance.started") != NULL) {
        atomic_fetch_add(&n_inst_started, 1);
    } else if (strstr(subj, ".instances.started") != NULL) { /* one per start command */
        Latticed__Host__V1__InstancesStarted *b =
            latticed__host__v1__instances_started__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                                          (const uint8_t *)natsMsg_GetData(m));

        if (b != NULL)
            atomic_fetch_add(&n_inst_started, (unsigned long)b->n_instances);
        latticed__host__v1__instances_started__free_unpacked(b, NULL);
    }
    natsMsg_Destroy(m);
}

static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    Latticed__Host__V1__CommandReply *r;

    (void)nc;
    (void)sub;
    (void)closure;
    r = latticed__host__v1__command_reply__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                                  (const uint8_t *)natsMsg_GetData(m));
    if (r != NULL) {
        size_t ok = 0;

        for (size_t i = 0; i < r->n_results; i++)
            ok += r->results[i]->code == HRC(OK);
        atomic_fetch_add(&n_ok, ok);
        latticed__host__v1__command_reply__free_unpacked(r, NULL);
    }
    atomic_fetch_add(&n_replies, 1);
    natsMsg_Destroy(m);
}

/* CPU seconds (user+system) and RSS KiB of pid, from /proc. */
static void proc_usage(pid_t pid, double *cpu_s, long *rss_kib)
{
    char path[64], buf[2048];
    double ms = lt_bench_cpu_ms(pid);
    FILE *f;

    *cpu_s = ms > 0 ? ms / 1000.0 : 0;
    *rss_kib = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    while (f != NULL && fgets(buf, sizeof(buf), f) != NULL) {
        if (strncmp(buf, "VmRSS:", 6) == 0)
            *rss_kib = atol(buf + 6);
    }
    if (f != NULL)
        fclose(f);
}

/* In-process: cost of one heartbeat of a host with per_host instances. */
static void bench_encoding(size_t per_host)
{
    lt__host_state h;
    lt_buf b;
    int64_t t0;
    size_t rounds = 200000, bytes = 0;
    double cached, uncached;

    if (lt__host_state_init(&h, "sim-00001", "default", NULL, "0.1.0") != LT_OK)
        exit(1);
    h.mem_total = 1ull << 32;
    LT_IGNORE(lt__host_kvs_set(&h.labels, "zone", "east"));
    LT_IGNORE(lt__host_kvs_set(&h.labels, "rack", "r1"));
    for (size_t i = 0; i < per_host; i++) {
        Latticed__Host__V1__InstanceSpec s = LATTICED__HOST__V1__INSTANCE_SPEC__INIT;
        Latticed__Host__V1__InstanceSpec__AnnotationsEntry a[4], *ap[4];
        const char *keys[4] = { "latticed.dev/managed-by", "latticed.dev/lattice",
                                "latticed.dev/app", "latticed.dev/version" };
        const char *vals[4] = { "latticed", "default", "app-0042", "v1" };
        char id[64];
        lt__host_inst *inst;

        for (int k = 0; k < 4; k++) {
            latticed__host__v1__instance_spec__annotations_entry__init(&a[k]);
            a[k].key = (char *)keys[k];
            a[k].value = (char *)vals[k];
            ap[k] = &a[k];
        }
        snprintf(id, sizeof(id), "i-%032zx", i * 7919);
        s.instance_id = id;
        s.app_name = (char *)"app-0042";
        s.app_version = (char *)"v1";
        s.component_name = (char *)"api";
        s.component_id = (char *)"app-0042-api";
        s.image_ref = (char *)"ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0";
        s.spec_digest = (char *)"3f6c1a0f9e2b7d5c";
        s.n_annotations = 4;
        s.annotations = ap;
        if (lt__host_inst_new(&s, &inst) != LT_OK || lt_map_add(&h.insts, inst->id, inst) != LT_OK)
            exit(1);
        lt__host_set_state(&h, inst, HIS(RUNNING), NULL);
    }
    lt_buf_init(&b, LT_MAX_MESSAGE);
    t0 = drv_now_ms();
    for (size_t r = 0; r < rounds; r++) {
        lt_buf_reset(&b);
        h.sequence++;
        LT_IGNORE(lt__host_heartbeat_encode(&h, NULL, 0, &b));
        bytes = b.len;
    }
    cached = (double)(drv_now_ms() - t0) * 1000.0 / (double)rounds;
    rounds /= 10;
    t0 = drv_now_ms();
    for (size_t r = 0; r < rounds; r++) {
        size_t it = 0;
        lt__host_inst *inst;

        while ((inst = lt_map_next(&h.insts, &it)) != NULL) { /* drop every cache */
            lt_free(inst->enc);
            inst->enc = NULL;
        }
        lt_buf_reset(&b);
        LT_IGNORE(lt__host_heartbeat_encode(&h, NULL, 0, &b));
    }
    uncached = (double)(drv_now_ms() - t0) * 1000.0 / (double)rounds;
    printf("encode: heartbeat with %zu instances = %zu bytes; %.2f us cached, %.2f us "
           "re-encoding every instance\n",
           per_host, bytes, cached, uncached);
    lt_buf_cleanup(&b);
    lt__host_state_cleanup(&h);
}

static bool wait_for(atomic_ulong *v, unsigned long n, int64_t ms)
{
    int64_t end = drv_now_ms() + ms;

    while (atomic_load(v) < n) {
        if (drv_now_ms() > end)
            return false;
        usleep(2000);
    }
    return true;
}

/* Pack the start request for host k: per_host instances of ~100 bytes each. */
static size_t pack_start(size_t k, size_t per_host, uint8_t *buf)
{
    Latticed__Host__V1__StartRequest q = LATTICED__HOST__V1__START_REQUEST__INIT;
    Latticed__Host__V1__InstanceSpec specs[64], *ptrs[64];
    char ids[64][48];

    for (size_t i = 0; i < per_host; i++) {
        latticed__host__v1__instance_spec__init(&specs[i]);
        snprintf(ids[i], sizeof(ids[i]), "i-%016zx%016zx", k, i);
        specs[i].instance_id = ids[i];
        specs[i].app_name = (char *)"bench-app";
        specs[i].component_name = (char *)"api";
        specs[i].image_ref = (char *)"ghcr.io/acme/api:1.2.0";
        specs[i].spec_digest = (char *)"0123456789abcdef";
        ptrs[i] = &specs[i];
    }
    q.epoch = 1;
    q.lattice = (char *)"default";
    q.request_id = (char *)"bench";
    q.n_instances = per_host;
    q.instances = ptrs;
    return latticed__host__v1__start_request__pack(&q, buf);
}

int main(int argc, char **argv)
{
    size_t hosts = argc > 1 ? (size_t)atol(argv[1]) : 10000;
    size_t per_host = argc > 2 ? (size_t)atol(argv[2]) : 10;
    long interval = argc > 3 ? atol(argv[3]) : 5000;
    const char *bin = getenv("LATTICED_HOST_BIN");
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_natsrv *srv = NULL;
    natsConnection *nc = NULL;
    natsSubscription *evs = NULL, *reps = NULL;
    char nhosts[32], iv[32], subj[128], inbox[64], *args[16];
    static uint8_t buf[64 * 1024];
    double cpu0, cpu1;
    long rss;
    int64_t t0, t;
    unsigned long hb0;
    pid_t pid;
    int rc = 0;

    if (lt_bench_require_release("bench_host_sim") != 0)
        return 2;

    if (bin == NULL || per_host > 64) {
        fprintf(stderr, "usage: LATTICED_HOST_BIN=... %s [HOSTS [PER_HOST<=64 [INTERVAL_MS]]]\n",
                argv[0]);
        return 2;
    }
    bench_encoding(per_host);
    if (lt_natsrv_start(&srv, &o) != LT_OK)
        return 1;
    natsConnection_ConnectTo(&nc, lt_natsrv_url(srv));
    natsConnection_Subscribe(&evs, nc, "lattice.default.evt.h.>", on_event, NULL);
    natsSubscription_SetPendingLimits(evs, -1, -1);
    natsConnection_Subscribe(&reps, nc, "_INBOX.bench.*", on_reply, NULL);
    natsSubscription_SetPendingLimits(reps, -1, -1);
    natsConnection_Flush(nc);
    snprintf(nhosts, sizeof(nhosts), "--simulate=%zu", hosts);
    snprintf(iv, sizeof(iv), "--heartbeat-interval=%ldms", interval);
    args[0] = (char *)"latticed-host";
    args[1] = (char *)"--nats-url";
    args[2] = (char *)lt_natsrv_url(srv);
    args[3] = nhosts;
    args[4] = iv;
    args[5] = (char *)"--label=zone={east|west|moon}";
    args[6] = (char *)"--label=rack=r{i%8}";
    args[7] = (char *)"--log-level=warn";
    args[8] = getenv("BENCH_NO_EVENTS") != NULL ? (char *)"--no-instance-events" : NULL;
    args[9] = NULL;
    t0 = drv_now_ms();
    pid = drv_spawn(bin, args, "/dev/stderr");
    if (!wait_for(&n_started, hosts, 60000)) {
        fprintf(stderr, "only %lu of %zu host.started\n", atomic_load(&n_started), hosts);
        rc = 1;
        goto out;
    }
    printf("startup: %zu simulated hosts announced in %lld ms\n", hosts,
           (long long)(drv_now_ms() - t0));

    proc_usage(pid, &cpu0, &rss);
    t0 = drv_now_ms();
    for (size_t k = 0; k < hosts; k++) {
        size_t len = pack_start(k, per_host, buf);

        snprintf(subj, sizeof(subj), "lattice.default.host.sim-%05zu.start", k);
        snprintf(inbox, sizeof(inbox), "_INBOX.bench.%zu", k);
        natsConnection_PublishRequest(nc, subj, inbox, buf, (int)len);
    }
    natsConnection_Flush(nc);
    if (!wait_for(&n_replies, hosts, 60000)) {
        fprintf(stderr, "only %lu of %zu replies\n", atomic_load(&n_replies), hosts);
        rc = 1;
    }
    t = drv_now_ms() - t0;
    proc_usage(pid, &cpu1, &rss);
    printf("starts: %zu requests x %zu instances (%zu bytes each): all replies in %lld ms, "
           "%lu instances OK; simulator CPU %.0f ms, RSS %ld KiB\n",
           hosts, per_host, pack_start(0, per_host, buf), (long long)t, atomic_load(&n_ok),
           (cpu1 - cpu0) * 1000.0, rss);
    if (getenv("BENCH_NO_EVENTS") == NULL) {
        if (!wait_for(&n_inst_started, atomic_load(&n_ok), 60000))
            rc = 1;
        t = drv_now_ms() - t0;
        proc_usage(pid, &cpu1, &rss);
        printf("events: %lu instances reported started received %lld ms after the first request; "
               "simulator CPU %.0f ms in all\n",
               atomic_load(&n_inst_started), (long long)t, (cpu1 - cpu0) * 1000.0);
    }

    if (getenv("BENCH_NO_STEADY") != NULL)
        goto out;
    /* Steady state: let one interval pass, then measure two intervals. */
    usleep((useconds_t)interval * 1000);
    hb0 = atomic_load(&n_heartbeats);
    unsigned long bytes0 = atomic_load(&hb_bytes);
    proc_usage(pid, &cpu0, &rss);
    t0 = drv_now_ms();
    usleep((useconds_t)interval * 2000);
    t = drv_now_ms() - t0;
    proc_usage(pid, &cpu1, &rss);
    {
        double rate = (double)(atomic_load(&n_heartbeats) - hb0) * 1000.0 / (double)t;
        double want = (double)hosts * 1000.0 / (double)interval;
        double avg = (double)(atomic_load(&hb_bytes) - bytes0) /
                     (double)(atomic_load(&n_heartbeats) - hb0 + 1);

        printf("steady: %.0f heartbeats/s received (schedule %.0f/s), %.0f bytes each; "
               "simulator CPU %.1f%% of one core; RSS %ld KiB\n",
               rate, want, avg, (cpu1 - cpu0) * 100.0 * 1000.0 / (double)t, rss);
        if (rate < want * 0.9)
            rc = 1;
    }
out:
    drv_stop(pid, SIGTERM, 30000);
    /* its last events may still be read: close (joins nats.c's reader) first, wire/lt_conn.h */
    natsConnection_Close(nc);
    natsSubscription_Destroy(evs);
    natsSubscription_Destroy(reps);
    natsConnection_Destroy(nc);
    LT_IGNORE(lt_natsrv_stop(srv));
    nats_Close();
    return rc;
}
