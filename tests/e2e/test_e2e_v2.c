/*
 * test_e2e_v2.c - lattices of wasmCloud 2.x hosts (issue 10, docs/wasmcloud-v2.md) against a
 * real nats-server, real latticed (--wasmcloud-v2) and v2 simulator processes (latticed-host
 * --simulate N --protocol wasmcloud-v2), with the project's manifests (manifests/v2-*.yaml).
 * What the hosts run is judged by the simulators' own stdout, what latticed asked for by a
 * passive subscriber to runtime.host.*.workload.* (e2e_v2.h).
 * - lifecycle: linked components form one workload per lead instance with the capability links
 *   as host interfaces carrying their config; scale up, down, upgrade (new ids, old stopped),
 *   undeploy (all stopped); a foreign workload survives all of it; `latticectl hosts` says
 *   driver wasmcloud-v2.
 * - exports: hosts whose exports do not cover the host interfaces get nothing, status says why.
 * - kill: kill -9 of a host at the default 15 s heartbeat: replaced within 25 s.
 * - unresponsive: a host that never replies, a host answering NOT_FOUND: not deployed, a
 *   reason in the status, few start attempts over 10 s (backoff).
 * - environments: two v2 lattices map to two environments; a host of another gets nothing.
 * - failover: kill -9 of the leader replica: no new start, no duplicate; the new leader
 *   replaces a lost host's workloads exactly once.
 */
#include <check.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nats/nats.h>

#include "e2e_v2.h"
#include "lt_shimctl.h"
#include "lt_testutil.h"

#define L "default"
#define T 30000 /* ms for the hosts to follow latticed */
/* latticed's and the simulator's timings for fast tests (the kill test keeps the defaults) */
#define FAST_V2 "--v2-heartbeat-ms", "1000", "--v2-status-interval-ms", "1000"
#define SIM_FAST "--heartbeat-interval", "1s"
#define FOREIGN "foreign-0001"

/* Whether haystack contains needle, ignoring case. */
static bool has_ci(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    for (const char *p = haystack; *p != '\0'; p++) {
        size_t i = 0;

        while (i < n && p[i] != '\0' &&
               tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* A request of our own to a v2 host (another scheduler); the reply's workloadState. */
static char *ask_host(e2e *e, const char *host, const char *verb, const char *body)
{
    natsConnection *nc = NULL;
    natsMsg *reply = NULL;
    char subj[256], *state = NULL;

    snprintf(subj, sizeof(subj), "runtime.host.%s.workload.%s", host, verb);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    if (natsConnection_RequestString(&reply, nc, subj, body, 15000) == NATS_OK) {
        json_t *doc =
            json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
        const char *st = json_string_value(
            json_object_get(json_object_get(doc, "workloadStatus"), "workloadState"));

        state = strdup(st != NULL ? st : "(none)");
        json_decref(doc);
        natsMsg_Destroy(reply);
    }
    natsConnection_Destroy(nc);
    return state != NULL ? state : strdup("(no reply)");
}

static void foreign_start(e2e *e, const char *host)
{
    char *st = ask_host(e, host, "start",
                        "{\"workload\":{\"namespace\":\"elsewhere\",\"name\":\"theirs\","
                        "\"annotations\":{\"example.com/owner\":\"another-scheduler\"},"
                        "\"witWorld\":{\"components\":[{\"image\":\"ghcr.io/other/theirs:1\","
                        "\"localResources\":{},\"name\":\"theirs\"}]}},"
                        "\"workloadId\":\"" FOREIGN "\"}");

    ck_assert_msg(strcmp(st, "WORKLOAD_STATE_RUNNING") == 0, "foreign start: %s", st);
    free(st);
}

/* The foreign workload still runs on host: the host says so and no stop was ever sent for it. */
static void foreign_alive(e2e *e, const char *host, const char *when)
{
    char *st = ask_host(e, host, "status", "{\"workloadId\":\"" FOREIGN "\"}");

    ck_assert_msg(strcmp(st, "WORKLOAD_STATE_RUNNING") == 0, "foreign workload %s: %s", when, st);
    free(st);
    ck_assert_uint_eq(e2e_v2_running_wid(e, FOREIGN), 1);
    ck_assert_uint_eq(e2e_v2_requests("stop", NULL, FOREIGN, NULL, 0), 0);
}

/* Every running shop workload: a deterministic id, our annotations, api and store inside (api
 * with its config), the capability links as host interfaces with their config, no capability
 * and no component-to-component interface as such. Returns how many; their ids in ids. */
static size_t check_shop(e2e *e, const char *lattice, char (*ids)[80], size_t max)
{
    e2e_v2_fold f;
    size_t n = 0;

    e2e_v2_fold_sims(e, 0, &f);
    for (size_t i = 0; i < f.n_run; i++) {
        e2e_v2_req r;
        size_t hex = 0;

        if (!e2e_v2_start_of(f.run[i].wid, &r) || strcmp(r.app, "shop") != 0)
            continue;
        while (isxdigit((unsigned char)r.wid[2 + hex]))
            hex++;
        ck_assert_msg(strncmp(r.wid, "i-", 2) == 0 && hex == 32 && r.wid[34] == '\0', "id %s",
                      r.wid);
        ck_assert_msg(r.managed && strcmp(r.lattice, lattice) == 0 && r.version[0] != '\0' &&
                          r.kind[0] != '\0',
                      "annotations of %s: lattice '%s' version '%s' kind '%s'", r.wid, r.lattice,
                      r.version, r.kind);
        ck_assert_msg(strstr(r.comps, "api{") != NULL && strstr(r.comps, "store{") != NULL &&
                          strstr(r.comps, "greeting=hello") != NULL &&
                          strchr(r.comps, ' ') == strrchr(r.comps, ' '),
                      "components of %s: %s", r.wid, r.comps);
        ck_assert_msg(strstr(r.ifaces, "wasi:keyvalue/") != NULL &&
                          strstr(r.ifaces, "store") != NULL &&
                          strstr(r.ifaces, "atomics") != NULL &&
                          strstr(r.ifaces, "bucket=shop") != NULL &&
                          strstr(r.ifaces, "backend=nats") != NULL &&
                          strstr(r.ifaces, "wasi:http/incoming-handler") != NULL &&
                          strstr(r.ifaces, "host=shop.localhost") != NULL &&
                          strstr(r.ifaces, "acme:") == NULL,
                      "host interfaces of %s: %s", r.wid, r.ifaces);
        if (n < max)
            snprintf(ids[n], 80, "%s", r.wid);
        n++;
    }
    return n;
}

START_TEST(test_lifecycle)
{
    e2e *e = e2e_new();
    const char *sx[] = { SIM_FAST, NULL }, *fast[] = { FAST_V2, NULL };
    const char *table[] = { "hosts", NULL }, *events[] = { "events", "-o", "json", NULL };
    char old[8][80], now[8][80];
    lt_test_cmd_result res;
    e2e_v2_fold f;
    size_t n_old, n_now;
    pid_t hs;

    e2e_v2_reset();
    e2e_v2_watch(e);
    hs = e2e_v2_sim(e, "lc", 2, sx);
    e2e_v2_latticed(e, L, fast);
    e2e_v2_wait_ready(e, L, hs, 2, &f);
    foreign_start(e, f.hosts[0]);
    /* deploy: one workload per api instance, store riding in it */
    e2e_deploy_ok(e, L, "v2-shop-v1.yaml");
    e2e_v2_expect_running(e, 0, "shop", "v1", 3, T);
    e2e_expect_status(e, L, "shop", "deployed", T);
    ck_assert_uint_eq(check_shop(e, L, old, 8), 3);
    ck_assert_uint_eq(e2e_v2_duplicates(e), 0);
    foreign_alive(e, f.hosts[0], "after deploy");
    /* scale up to 5, down to 2 */
    e2e_deploy_ok(e, L, "v2-shop-v2.yaml");
    e2e_v2_expect_running(e, 0, "shop", NULL, 5, T);
    e2e_expect_status(e, L, "shop", "deployed", T);
    ck_assert_uint_eq(check_shop(e, L, now, 8), 5);
    e2e_deploy_ok(e, L, "v2-shop-v3.yaml");
    e2e_v2_expect_running(e, 0, "shop", NULL, 2, T);
    e2e_expect_status(e, L, "shop", "deployed", T);
    ck_assert_uint_gt(e2e_v2_requests("stop", NULL, NULL, NULL, 0), 0);
    foreign_alive(e, f.hosts[0], "after scale down");
    /* upgrade: new workload ids, the old ones stopped */
    n_old = check_shop(e, L, old, 8);
    ck_assert_uint_eq(n_old, 2);
    e2e_deploy_ok(e, L, "v2-shop-v4.yaml");
    e2e_v2_expect_running(e, 0, "shop", "v4", 2, T);
    e2e_v2_expect_running(e, 0, "shop", NULL, 2, T);
    e2e_expect_status(e, L, "shop", "deployed", T);
    n_now = check_shop(e, L, now, 8);
    ck_assert_uint_eq(n_now, 2);
    for (size_t i = 0; i < n_old; i++) {
        ck_assert_uint_eq(e2e_v2_running_wid(e, old[i]), 0);
        for (size_t j = 0; j < n_now; j++)
            ck_assert_str_ne(old[i], now[j]);
    }
    /* undeploy: every workload stopped, the foreign one untouched */
    json_decref(e2e_api(e, L, "undeploy", "shop", NULL, 0));
    e2e_v2_expect_running(e, 0, NULL, NULL, 0, T);
    e2e_expect_status(e, L, "shop", "undeployed", T);
    foreign_alive(e, f.hosts[0], "after undeploy");
    /* the control plane's host.joined events name the driver too */
    e2e_ctl(e, L, &res, events);
    ck_assert_msg(res.exit_code == 0, "events: %d %s", res.exit_code, res.err);
    for (size_t i = 0; i < 2; i++) {
        size_t joined = 0;

        for (const char *line = res.out; *line != '\0'; line += strcspn(line, "\n") + 1) {
            char one[1024];

            snprintf(one, sizeof(one), "%.*s", (int)strcspn(line, "\n"), line);
            if (strstr(one, "host.joined") == NULL || strstr(one, f.hosts[i]) == NULL)
                continue;
            joined++;
            ck_assert_msg(strstr(one, "\"driver\":\"wasmcloud-v2\"") != NULL, "%s", one);
            if (line[strcspn(line, "\n")] == '\0')
                break;
        }
        ck_assert_msg(joined == 1, "%zu host.joined events for %s", joined, f.hosts[i]);
    }
    lt_test_cmd_result_cleanup(&res);
    /* latticectl hosts: both hosts, driver wasmcloud-v2 */
    e2e_ctl(e, L, &res, table);
    ck_assert_msg(res.exit_code == 0 && strstr(res.out, "DRIVER") != NULL, "hosts: %d %s%s",
                  res.exit_code, res.out, res.err);
    for (size_t i = 0; i < 2; i++) {
        const char *line = strstr(res.out, f.hosts[i]);
        size_t len = line != NULL ? strcspn(line, "\n") : 0;

        ck_assert_msg(line != NULL && strstr(line, "wasmcloud-v2") != NULL &&
                          (size_t)(strstr(line, "wasmcloud-v2") - line) < len,
                      "host %s in: %s", f.hosts[i], res.out);
    }
    lt_test_cmd_result_cleanup(&res);
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

/* Hosts with no exports, and one exporting wasi:keyvalue/store but not atomics, get nothing;
 * the status says why; a host with the default exports then gets all of it. */
START_TEST(test_exports)
{
    e2e *e = e2e_new();
    const char *none[] = { SIM_FAST, "--export", "none", NULL };
    const char *part[] = { SIM_FAST, "--export", "wasi:keyvalue/store", NULL };
    const char *full[] = { SIM_FAST, NULL }, *fast[] = { FAST_V2, NULL };
    e2e_v2_fold f;
    char *st = NULL, *word = NULL;
    pid_t nx, px, ok;
    int64_t deadline;

    e2e_v2_reset();
    e2e_v2_watch(e);
    nx = e2e_v2_sim(e, "nx", 2, none);
    px = e2e_v2_sim(e, "px", 1, part);
    e2e_v2_latticed(e, L, fast);
    e2e_v2_wait_ready(e, L, nx, 2, &f);
    e2e_v2_wait_ready(e, L, px, 1, &f);
    e2e_deploy_ok(e, L, "v2-shop-v1.yaml");
    for (deadline = e2e_now_ms() + T;; e2e_sleep_ms(300)) {
        free(st);
        free(word);
        st = e2e_v2_status_text(e, L, "shop");
        word = e2e_status(e, L, "shop", NULL);
        if (has_ci(st, "export") || e2e_now_ms() > deadline)
            break;
    }
    ck_assert_msg(has_ci(st, "export") && strcmp(word, "deployed") != 0, "status: %s", st);
    printf("exports: status %s: %s\n", word, st);
    free(st);
    free(word);
    ck_assert_uint_eq(e2e_v2_requests("start", NULL, NULL, NULL, 0), 0);
    /* a host that exports what shop needs gets all three workloads */
    ok = e2e_v2_sim(e, "ok", 1, full);
    e2e_v2_wait_ready(e, L, ok, 1, &f);
    e2e_v2_expect_running(e, ok, "shop", "v1", 3, T);
    e2e_expect_status(e, L, "shop", "deployed", T);
    e2e_v2_fold_sims(e, nx, &f);
    ck_assert_uint_eq(f.starts, 0);
    e2e_v2_fold_sims(e, px, &f);
    ck_assert_uint_eq(f.starts, 0);
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

typedef struct {
    size_t want;
    int64_t at; /* when it first held */
} all_back;

static bool shop_back(e2e *e, void *arg)
{
    all_back *a = arg;

    if (e2e_v2_running(e, 0, "shop", NULL) != a->want)
        return false;
    a->at = e2e_now_ms();
    return true;
}

/* kill -9 of a host, default 15 s heartbeats on both sides: its workloads start on the other
 * host within 25 s (the 3-heartbeat timeout alone would take 45 s). */
START_TEST(test_kill_default_heartbeat)
{
    e2e *e = e2e_new();
    e2e_v2_fold f;
    pid_t ka, kb, victim, other;
    all_back back = { 3, 0 };
    size_t on_a, lost;
    int64_t t_kill;

    e2e_v2_reset();
    e2e_v2_watch(e);
    ka = e2e_v2_sim(e, "ka", 1, NULL);
    kb = e2e_v2_sim(e, "kb", 1, NULL);
    e2e_v2_latticed(e, L, NULL);
    e2e_v2_wait_ready(e, L, ka, 1, &f);
    e2e_v2_wait_ready(e, L, kb, 1, &f);
    e2e_deploy_ok(e, L, "v2-shop-v1.yaml");
    e2e_v2_expect_running(e, 0, "shop", "v1", 3, 60000);
    e2e_expect_status(e, L, "shop", "deployed", T);
    on_a = e2e_v2_running(e, ka, "shop", NULL);
    victim = on_a >= 2 ? ka : kb;
    other = victim == ka ? kb : ka;
    lost = e2e_v2_running(e, victim, "shop", NULL);
    ck_assert_uint_ge(lost, 1);
    e2e_v2_fold_sims(e, other, &f);
    t_kill = e2e_now_ms();
    e2e_v2_kill(e, victim);
    if (!e2e_wait(e, shop_back, &back, 60000)) {
        e2e_dump_logs(e);
        ck_abort_msg("after kill -9 of a host: %zu of 3 shop workloads running",
                     e2e_v2_running(e, 0, "shop", NULL));
    }
    printf("kill: %zu workloads replaced %lld ms after kill -9\n", lost,
           (long long)(back.at - t_kill));
    ck_assert_msg(back.at - t_kill <= 25000, "replaced after %lld ms (target 25 s)",
                  (long long)(back.at - t_kill));
    ck_assert_uint_eq(e2e_v2_running(e, other, "shop", NULL), 3);
    e2e_expect_status(e, L, "shop", "deployed", T);
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

/* Starts sent to host in the 10 s from its first start. */
static size_t starts_in_10s(const char *host)
{
    int64_t first = 0, deadline = e2e_now_ms() + T;

    while (e2e_v2_requests("start", host, NULL, NULL, 0) == 0 && e2e_now_ms() < deadline)
        e2e_sleep_ms(100);
    ck_assert_msg(e2e_v2_requests("start", host, NULL, NULL, 0) > 0, "no start sent to %s", host);
    first = e2e_now_ms() - 200;
    e2e_sleep_ms(10000); /* a window to count in, not a condition */
    return e2e_v2_requests("start", host, NULL, NULL, first);
}

/* A host that never replies and a host that answers NOT_FOUND after a start: not deployed, a
 * reason in the status, a handful of start attempts over 10 s, not a loop. */
START_TEST(test_unresponsive_hosts)
{
    e2e *e = e2e_new();
    const char *mute[] = { SIM_FAST, "--environment", "mute", "--v2-never-reply", NULL };
    const char *lost[] = { SIM_FAST, "--environment", "lost", "--v2-not-found-after-start", NULL };
    const char *fast[] = { FAST_V2, "--v2-start-timeout-ms", "1000", NULL };
    e2e_v2_fold fm, fl;
    size_t n_mute, n_lost;
    char *st, *word;
    pid_t pm, pl;

    e2e_v2_reset();
    e2e_v2_watch(e);
    pm = e2e_v2_sim(e, "mute", 1, mute);
    pl = e2e_v2_sim(e, "lost", 1, lost);
    e2e_v2_latticed(e, "mute,lost", fast);
    e2e_v2_wait_ready(e, "mute", pm, 1, &fm);
    e2e_v2_wait_ready(e, "lost", pl, 1, &fl);
    e2e_deploy_ok(e, "mute", "v2-solo.yaml");
    e2e_deploy_ok(e, "lost", "v2-solo.yaml");
    n_lost = starts_in_10s(fl.hosts[0]); /* both counted over the same 10 s */
    n_mute = e2e_v2_requests("start", fm.hosts[0], NULL, NULL, e2e_now_ms() - 10200);
    printf("unresponsive: %zu starts to the silent host, %zu to the NOT_FOUND host in 10 s\n",
           n_mute, n_lost);
    ck_assert_msg(n_mute >= 1 && n_mute <= 5, "%zu starts to a host that never replies", n_mute);
    ck_assert_msg(n_lost >= 2 && n_lost <= 6, "%zu starts to a host answering NOT_FOUND", n_lost);
    st = e2e_v2_status_text(e, "lost", "solo");
    word = e2e_status(e, "lost", "solo", NULL);
    printf("NOT_FOUND: %s\n", st);
    ck_assert_msg(strcmp(word, "deployed") != 0 && strcmp(word, "undeployed") != 0 &&
                      (has_ci(st, "not_found") || has_ci(st, "not found")),
                  "status of solo on a NOT_FOUND host: %s", st);
    free(st);
    free(word);
    /* the silent host: the reason shows once the first start timed out, and stays while the
     * retry waits behind the stop that holds the host (up to the stop timeout) */
    for (int64_t t0 = e2e_now_ms(), deadline = t0 + 15000;; e2e_sleep_ms(500)) {
        bool why;

        st = e2e_v2_status_text(e, "mute", "solo");
        word = e2e_status(e, "mute", "solo", NULL);
        why = has_ci(st, "no answer") || has_ci(st, "timeout") || has_ci(st, "timed out");
        ck_assert_msg(strcmp(word, "deployed") != 0 && strcmp(word, "undeployed") != 0,
                      "status of solo on a silent host: %s", st);
        if (why || e2e_now_ms() > deadline) {
            printf("never replies (after %lld ms): %s\n", (long long)(e2e_now_ms() - t0), st);
            ck_assert_msg(why, "no reason in the status of solo on a silent host: %s", st);
            free(st);
            free(word);
            break;
        }
        free(st);
        free(word);
    }
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

/* Two v2 lattices, two environments: each lattice's workloads go to its own hosts only; a host
 * of the empty environment (lattice default, not a v2 lattice here) gets nothing. */
START_TEST(test_two_environments)
{
    e2e *e = e2e_new();
    const char *ea[] = { SIM_FAST, "--environment", "a", NULL };
    const char *eb[] = { SIM_FAST, "--environment", "b", NULL };
    const char *en[] = { SIM_FAST, NULL }, *fast[] = { FAST_V2, NULL };
    e2e_v2_fold fa, fb, fn;
    char *st;
    pid_t pa, pb, pn;

    e2e_v2_reset();
    e2e_v2_watch(e);
    pa = e2e_v2_sim(e, "ea", 2, ea);
    pb = e2e_v2_sim(e, "eb", 2, eb);
    pn = e2e_v2_sim(e, "en", 1, en);
    e2e_v2_latticed(e, "a,b", fast);
    e2e_v2_wait_ready(e, "a", pa, 2, &fa);
    e2e_v2_wait_ready(e, "b", pb, 2, &fb);
    e2e_deploy_ok(e, "a", "v2-shop-v1.yaml");
    e2e_v2_expect_running(e, pa, "shop", "v1", 3, T);
    e2e_expect_status(e, "a", "shop", "deployed", T);
    st = e2e_status(e, "b", "shop", NULL);
    ck_assert_str_eq(st, "undeployed");
    free(st);
    e2e_deploy_ok(e, "b", "v2-solo.yaml");
    e2e_v2_expect_running(e, pb, "solo", "v1", 1, T);
    e2e_expect_status(e, "b", "solo", "deployed", T);
    ck_assert_uint_eq(check_shop(e, "a", NULL, 0), 3);
    ck_assert_uint_eq(e2e_v2_running(e, pb, "shop", NULL), 0);
    ck_assert_uint_eq(e2e_v2_running(e, pa, "solo", NULL), 0);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(e2e_v2_requests("start", fa.hosts[i], NULL, NULL, 0),
                          e2e_v2_requests("start", fa.hosts[i], NULL, "a", 0));
        ck_assert_uint_eq(e2e_v2_requests("start", fb.hosts[i], NULL, NULL, 0),
                          e2e_v2_requests("start", fb.hosts[i], NULL, "b", 0));
    }
    e2e_v2_fold_sims(e, pn, &fn);
    ck_assert_uint_eq(fn.starts, 0);
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

static bool leader_is(e2e *e, void *arg)
{
    return strcmp(e2e_leader(e, L, NULL), (const char *)arg) == 0;
}

typedef struct {
    int64_t since;
    size_t want;
} status_arg;

static bool statuses_since(e2e *e, void *arg)
{
    const status_arg *a = arg;

    (void)e;
    return e2e_v2_requests("status", NULL, NULL, NULL, a->since) >= a->want;
}

static size_t start_lines(e2e *e, pid_t pid)
{
    e2e_v2_fold f;

    e2e_v2_fold_sims(e, pid, &f);
    return f.starts;
}

/* Two replicas, three v2 hosts: kill -9 of the leader changes nothing on the hosts (no start,
 * no duplicate); the new leader then replaces a lost host's workloads with exactly as many
 * starts as it had. */
START_TEST(test_failover)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--wasmcloud-v2", L, FAST_V2, "--replica-id", "replica-a", NULL };
    const char *rb[] = { "--wasmcloud-v2", L, FAST_V2, "--replica-id", "replica-b", NULL };
    const char *sx[] = { SIM_FAST, NULL };
    pid_t hs[3], a, b, victim = 0;
    size_t starts_before = 0, starts_after = 0, lost = 0;
    status_arg sa;
    e2e_v2_fold f;

    e2e_v2_reset();
    e2e_v2_watch(e);
    for (int i = 0; i < 3; i++) {
        char name[8];

        snprintf(name, sizeof(name), "fo%d", i);
        hs[i] = e2e_v2_sim(e, name, 1, sx);
    }
    a = e2e_latticed(e, ra);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-a", 20000), "replica-a never led");
    b = e2e_latticed(e, rb);
    ck_assert_msg(e2e_wait_log(e, b, "ready: NATS", 20000), "replica-b never got ready");
    for (int i = 0; i < 3; i++)
        e2e_v2_wait_ready(e, L, hs[i], 1, &f);
    e2e_deploy_ok(e, L, "v2-shop-v2.yaml"); /* 5 workloads */
    e2e_v2_expect_running(e, 0, "shop", NULL, 5, T);
    e2e_expect_status(e, L, "shop", "deployed", T);
    for (int i = 0; i < 3; i++)
        starts_before += start_lines(e, hs[i]);
    e2e_kill(e, a, SIGKILL, true);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-b", 20000), "replica-b never led");
    /* replica-b checked the workloads it knows (status requests), then settled */
    sa.since = e2e_now_ms();
    sa.want = 5;
    ck_assert_msg(e2e_wait(e, statuses_since, &sa, T), "replica-b sent %zu status requests",
                  e2e_v2_requests("status", NULL, NULL, NULL, sa.since));
    e2e_expect_status(e, L, "shop", "deployed", T);
    for (int i = 0; i < 3; i++)
        starts_after += start_lines(e, hs[i]);
    ck_assert_msg(starts_after == starts_before, "%zu start requests after the failover",
                  starts_after - starts_before);
    ck_assert_uint_eq(e2e_v2_duplicates(e), 0);
    ck_assert_uint_eq(e2e_v2_running(e, 0, "shop", NULL), 5);
    /* a host dies: replica-b replaces its workloads, once */
    for (int i = 0; i < 3; i++)
        if (e2e_v2_running(e, hs[i], "shop", NULL) > lost) {
            lost = e2e_v2_running(e, hs[i], "shop", NULL);
            victim = hs[i];
        }
    starts_before = 0;
    for (int i = 0; i < 3; i++)
        starts_before += hs[i] != victim ? start_lines(e, hs[i]) : 0;
    e2e_v2_kill(e, victim);
    e2e_v2_expect_running(e, 0, "shop", NULL, 5, T);
    e2e_expect_status(e, L, "shop", "deployed", T);
    starts_after = 0;
    for (int i = 0; i < 3; i++)
        starts_after += hs[i] != victim ? start_lines(e, hs[i]) : 0;
    ck_assert_msg(starts_after - starts_before == lost, "%zu starts to replace %zu workloads",
                  starts_after - starts_before, lost);
    ck_assert_uint_eq(e2e_v2_duplicates(e), 0);
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

/* A host busy with a start (pulling images for 6 s) publishes no heartbeat and answers nothing
 * else meanwhile: it is not lost (1 s heartbeats: 3 of them would be the timeout, 2 s the
 * probe), nothing is started twice or stopped, and the workload runs there. */
START_TEST(test_busy_pull_is_not_lost)
{
    e2e *e = e2e_new();
    e2e_v2_fold f;
    const char *slow[] = { SIM_FAST, "--reply-delay-ms", "6000", NULL },
               *fast[] = { FAST_V2, NULL };
    pid_t pa, ld;

    e2e_v2_reset();
    e2e_v2_watch(e);
    pa = e2e_v2_sim(e, "pull", 1, slow);
    ld = e2e_v2_latticed(e, L, fast);
    e2e_v2_wait_ready(e, L, pa, 1, &f);
    e2e_deploy_ok(e, L, "v2-solo.yaml");
    e2e_v2_expect_running(e, pa, "solo", "v1", 1, 60000);
    e2e_expect_status(e, L, "solo", "deployed", T);
    /* latticed logs "host <id> lost (<reason>)" for every host it evicts */
    ck_assert_msg(!e2e_log_has(e, ld, " lost ("), "a host busy starting was declared lost");
    ck_assert_uint_eq(e2e_v2_requests("start", NULL, NULL, NULL, 0), 1);
    ck_assert_uint_eq(e2e_v2_requests("stop", NULL, NULL, NULL, 0), 0);
    ck_assert_uint_eq(e2e_v2_running(e, pa, "solo", NULL), 1);
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

#define NO_END_MARKER_RULE \
    "natsSubscription_NextMsg:subj=$KV.latticed_v2_workloads.*:count=1:mode=fail:err=timeout"

/* One latticed, no standby, is killed and started again while the workloads run: it reads
 * what it started from its bucket (again when a reading ends without nats.c's end marker),
 * checks each with a status request and starts nothing (a v2 heartbeat carries only counts:
 * without the bucket every workload got a second copy). */
START_TEST(test_restart_remembers)
{
    e2e *e = e2e_new();
    const char *sx[] = { SIM_FAST, NULL }, *fast[] = { FAST_V2, NULL };
    size_t starts_before;
    status_arg sa;
    e2e_v2_fold f;
    pid_t hs, ld;

    e2e_v2_reset();
    e2e_v2_watch(e);
    hs = e2e_v2_sim(e, "rs", 4, sx);
    ld = e2e_v2_latticed(e, L, fast);
    e2e_v2_wait_ready(e, L, hs, 4, &f);
    e2e_deploy_ok(e, L, "v2-shop-v2.yaml"); /* 5 workloads */
    e2e_v2_expect_running(e, 0, "shop", NULL, 5, T);
    e2e_expect_status(e, L, "shop", "deployed", T);
    starts_before = e2e_v2_requests("start", NULL, NULL, NULL, 0);
    e2e_kill(e, ld, SIGKILL, true);
    /* Its first reading of the bucket lacks nats.c's end marker (the shim loses the first
     * entry): the start failed ("reading latticed_v2_workloads: Timeout"); it reads again with
     * a new watcher. */
    ck_assert_int_eq(lt_shim_set(NO_END_MARKER_RULE, NULL), LT_OK);
    ld = e2e_v2_latticed(e, L, fast);
    lt_shim_unset();
    ck_assert_msg(e2e_wait_log(e, ld, "5 wasmCloud workloads started earlier", T),
                  "the restarted latticed did not read the 5 workloads back");
    ck_assert(e2e_log_has(e, ld, "reading latticed_v2_workloads: no end marker"));
    sa.since = e2e_now_ms();
    sa.want = 5;
    ck_assert_msg(e2e_wait(e, statuses_since, &sa, T),
                  "the restarted latticed sent %zu status "
                  "requests",
                  e2e_v2_requests("status", NULL, NULL, NULL, sa.since));
    e2e_expect_status(e, L, "shop", "deployed", T);
    ck_assert_msg(e2e_v2_requests("start", NULL, NULL, NULL, 0) == starts_before,
                  "%zu start requests after the restart",
                  e2e_v2_requests("start", NULL, NULL, NULL, 0) - starts_before);
    ck_assert_uint_eq(e2e_v2_duplicates(e), 0);
    ck_assert_uint_eq(e2e_v2_running(e, 0, "shop", NULL), 5);
    /* and what it stops is forgotten: after an undeploy a third start reads nothing back */
    json_decref(e2e_api(e, L, "undeploy", "shop", NULL, 0));
    e2e_v2_expect_running(e, 0, "shop", NULL, 0, T);
    e2e_kill(e, ld, SIGKILL, true);
    ld = e2e_v2_latticed(e, L, fast);
    ck_assert_msg(e2e_wait_log(e, ld, "ready: NATS", T), "latticed never got ready");
    ck_assert_msg(!e2e_log_has(e, ld, "started earlier read from"),
                  "stopped workloads were read back");
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

static bool a_start_was_sent(e2e *e, void *arg)
{
    (void)e;
    (void)arg;
    return e2e_v2_requests("start", NULL, NULL, NULL, 0) > 0;
}

/* The leader is killed while its start is in flight on a host that pulls for 8 s (no
 * heartbeats meanwhile): the new leader neither declares that host lost nor starts the
 * workload anywhere else; it runs once, where it was started. */
START_TEST(test_failover_mid_start)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--wasmcloud-v2", L, FAST_V2, "--replica-id", "replica-a", NULL };
    const char *rb[] = { "--wasmcloud-v2", L, FAST_V2, "--replica-id", "replica-b", NULL };
    const char *slow[] = { SIM_FAST, "--reply-delay-ms", "8000", NULL };
    const char *quick[] = { SIM_FAST, "--export", "none", NULL };
    e2e_v2_fold f;
    pid_t hp, hq, a, b;

    e2e_v2_reset();
    e2e_v2_watch(e);
    hp = e2e_v2_sim(e, "mid", 1, slow);
    hq = e2e_v2_sim(e, "spare", 1, quick); /* alive, but without the exports: gets nothing */
    a = e2e_latticed(e, ra);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-a", 20000), "replica-a never led");
    b = e2e_latticed(e, rb);
    ck_assert_msg(e2e_wait_log(e, b, "ready: NATS", 20000), "replica-b never got ready");
    e2e_v2_wait_ready(e, L, hp, 1, &f);
    e2e_v2_wait_ready(e, L, hq, 1, &f);
    e2e_deploy_ok(e, L, "v2-solo.yaml");
    ck_assert_msg(e2e_wait(e, a_start_was_sent, NULL, T), "no start sent");
    e2e_kill(e, a, SIGKILL, true);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-b", 20000), "replica-b never led");
    e2e_v2_expect_running(e, hp, "solo", "v1", 1, 60000);
    e2e_expect_status(e, L, "solo", "deployed", T);
    ck_assert_msg(!e2e_log_has(e, b, " lost ("), "the new leader declared the pulling host lost");
    ck_assert_uint_eq(e2e_v2_requests("start", NULL, NULL, NULL, 0), 1);
    ck_assert_uint_eq(e2e_v2_duplicates(e), 0);
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

/* An undeploy while the start is still pulling, and the same version deployed again at once
 * (same workload id): the workload ends up running once, known to latticed (a second undeploy
 * stops it). Answers carry the incarnation of the entry they were asked for, so the first
 * start's late answer cannot settle the second. */
START_TEST(test_stop_during_start)
{
    e2e *e = e2e_new();
    const char *slow[] = { SIM_FAST, "--reply-delay-ms", "3000", NULL },
               *fast[] = { FAST_V2, NULL };
    e2e_v2_fold f;
    pid_t hp;

    e2e_v2_reset();
    e2e_v2_watch(e);
    hp = e2e_v2_sim(e, "sds", 1, slow);
    e2e_v2_latticed(e, L, fast);
    e2e_v2_wait_ready(e, L, hp, 1, &f);
    e2e_deploy_ok(e, L, "v2-solo.yaml");
    ck_assert_msg(e2e_wait(e, a_start_was_sent, NULL, T), "no start sent");
    json_decref(e2e_api(e, L, "undeploy", "solo", NULL, 0));
    json_decref(e2e_api(e, L, "deploy", "solo", NULL, 0));
    e2e_v2_expect_running(e, hp, "solo", "v1", 1, 60000);
    e2e_expect_status(e, L, "solo", "deployed", T);
    json_decref(e2e_api(e, L, "undeploy", "solo", NULL, 0));
    e2e_v2_expect_running(e, hp, "solo", NULL, 0, T);
    e2e_expect_status(e, L, "solo", "undeployed", T);
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

/* A simulator process of two hosts is killed just before latticed sends them starts, while a
 * standby replica runs: the starts get "no responders" (the standby watches copies on
 * latticed.v2.>, not the hosts' subjects, which hid that answer and kept the dead hosts "busy
 * starting" for the 60 s start timeout), the hosts are found lost, and every workload runs on
 * the live host well within that timeout. No request watch here: it would hide the answer. */
START_TEST(test_dies_before_start_with_standby)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--wasmcloud-v2", L,   "--v2-heartbeat-ms", "3000", "--replica-id",
                         "replica-a",      NULL };
    const char *rb[] = { "--wasmcloud-v2", L,   "--v2-heartbeat-ms", "3000", "--replica-id",
                         "replica-b",      NULL };
    const char *sx[] = { "--heartbeat-interval", "3s", NULL };
    int64_t at = 0;
    e2e_v2_fold f;
    pid_t dead, live, a, b;
    int64_t t_kill;

    e2e_v2_reset();
    dead = e2e_v2_sim(e, "dd", 2, sx);
    live = e2e_v2_sim(e, "dl", 1, sx);
    a = e2e_latticed(e, ra);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-a", 20000), "replica-a never led");
    b = e2e_latticed(e, rb);
    ck_assert_msg(e2e_wait_log(e, b, "ready: NATS", 20000), "replica-b never got ready");
    (void)a;
    e2e_v2_wait_ready(e, L, dead, 2, &f);
    e2e_v2_wait_ready(e, L, live, 1, &f);
    e2e_v2_kill(e, dead);
    t_kill = e2e_now_ms();
    /* 3 s heartbeats: latticed still counts the dead hosts alive for about 4 s */
    e2e_deploy_ok(e, L, "v2-shop-v2.yaml"); /* 5 workloads over the 3 hosts */
    for (int64_t end = t_kill + 45000; e2e_now_ms() < end; e2e_sleep_ms(100)) {
        e2e_v2_fold_sims(e, live, &f); /* what the live host runs (no request watch here) */
        if (f.n_run == 5) {
            at = e2e_now_ms();
            break;
        }
    }
    if (at == 0) {
        e2e_dump_logs(e);
        ck_abort_msg("%zu of 5 shop workloads running on the live host 45 s after the kill",
                     f.n_run);
    }
    printf("dies before start: all 5 running %lld ms after kill -9\n", (long long)(at - t_kill));
    ck_assert_msg(at - t_kill <= 25000, "all running only after %lld ms", (long long)(at - t_kill));
    e2e_expect_status(e, L, "shop", "deployed", T);
    e2e_free(e);
}
END_TEST

/* Stops the live simulators printed (all of them, or pid's). */
static size_t stop_lines(e2e *e, pid_t pid)
{
    e2e_v2_fold f;

    e2e_v2_fold_sims(e, pid, &f);
    return f.stops;
}

/* A host dies, the leader replaces its workloads, and is killed right after: the standby that
 * takes over stops nothing and the 5 workloads keep running. It used to count the dead host's
 * workloads as still starting (it had seen their starts, not their answers), kept the host
 * alive for the start timeout and stopped live workloads as surplus. */
START_TEST(test_failover_after_host_loss)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--wasmcloud-v2", L, FAST_V2, "--replica-id", "replica-a", NULL };
    const char *rb[] = { "--wasmcloud-v2", L, FAST_V2, "--replica-id", "replica-b", NULL };
    const char *sx[] = { SIM_FAST, NULL };
    pid_t hs[3], a, b, victim = 0;
    size_t most = 0;
    e2e_v2_fold f;
    int64_t until;

    e2e_v2_reset();
    e2e_v2_watch(e); /* attributes workloads to apps; no start goes to a dead host here */
    for (int i = 0; i < 3; i++) {
        char name[8];

        snprintf(name, sizeof(name), "hl%d", i);
        hs[i] = e2e_v2_sim(e, name, 1, sx);
    }
    a = e2e_latticed(e, ra);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-a", 20000), "replica-a never led");
    b = e2e_latticed(e, rb);
    ck_assert_msg(e2e_wait_log(e, b, "ready: NATS", 20000), "replica-b never got ready");
    for (int i = 0; i < 3; i++)
        e2e_v2_wait_ready(e, L, hs[i], 1, &f);
    e2e_deploy_ok(e, L, "v2-shop-v2.yaml"); /* 5 workloads */
    e2e_v2_expect_running(e, 0, "shop", NULL, 5, T);
    for (int i = 0; i < 3; i++)
        if (e2e_v2_running(e, hs[i], "shop", NULL) > most) {
            most = e2e_v2_running(e, hs[i], "shop", NULL);
            victim = hs[i];
        }
    e2e_v2_kill(e, victim);
    e2e_v2_expect_running(e, 0, "shop", NULL, 5, T); /* replaced by replica-a */
    e2e_kill(e, a, SIGKILL, true);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-b", 20000), "replica-b never led");
    /* 10 s of replica-b's term: nothing stopped, all 5 running, no duplicate */
    for (until = e2e_now_ms() + 10000; e2e_now_ms() < until; e2e_sleep_ms(200)) {
        size_t stops = 0;

        for (int i = 0; i < 3; i++)
            stops += hs[i] != victim ? stop_lines(e, hs[i]) : 0;
        if (stops != 0 || e2e_v2_running(e, 0, "shop", NULL) != 5) {
            e2e_dump_logs(e);
            ck_abort_msg("after the failover: %zu stops, %zu of 5 running", stops,
                         e2e_v2_running(e, 0, "shop", NULL));
        }
    }
    ck_assert_uint_eq(e2e_v2_duplicates(e), 0);
    e2e_expect_status(e, L, "shop", "deployed", T);
    e2e_v2_unwatch();
    e2e_free(e);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = { test_lifecycle,
                                   test_exports,
                                   test_kill_default_heartbeat,
                                   test_unresponsive_hosts,
                                   test_two_environments,
                                   test_failover,
                                   test_busy_pull_is_not_lost,
                                   test_restart_remembers,
                                   test_failover_mid_start,
                                   test_stop_during_start,
                                   test_dies_before_start_with_standby,
                                   test_failover_after_host_loss,
                                   NULL };

    return e2e_run_suite("e2e_v2", 180, tests);
}
