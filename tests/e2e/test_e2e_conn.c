/*
 * test_e2e_conn.c - latticed when its own NATS link fails (issue 8), with a
 * real nats-server, latticed and simulated hosts:
 *  - partition: 10 hosts with staggered heartbeats, the server frozen
 *    (SIGSTOP) longer than the host timeout while latticed's PINGs are too
 *    slow to notice: the partition guard must evict nobody, and say so;
 *  - dead connection: the same freeze with the default PING interval is
 *    noticed as a disconnection within seconds, and nothing is evicted;
 *  - no replay: latticed's link cut by a TCP proxy while it retries a start
 *    that a host refuses: the commands it wanted to send during the cut never
 *    reach the host after the reconnect;
 *  - the bulk link: the start requests of a pass go out on latticed's second
 *    connection (latticed-bulk, written in batches), as nats-server counts it;
 *  - no responders: a start to a host that is gone (killed, not timed out yet)
 *    is refused by nats-server at once and placed elsewhere, long before the
 *    command timeout, whichever connection carried it.
 * Manifests: tests/e2e/manifests/.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nats/nats.h>

#include "lt_proxy.h"
#include "lt_alloc.h"
#include "e2e.h"
#include "latticed/host/v1/command.pb-c.h"
#include "lt_config.h"
#include "lt_natsrv.h"
#include "lt_testhttp.h"
#include "lt_testutil.h"

#define MAX_SEEN 4096

/* ---- a recorder of what latticed sends, subscribed on the server itself ------------------- */

typedef struct {
    int64_t at;
    char verb[8];
    unsigned long long no; /* request number: the request id's tail */
} seen_cmd;

typedef struct {
    natsConnection *nc;
    natsSubscription *cmd_sub, *evt_sub;
    pthread_mutex_t mu;
    seen_cmd cmds[MAX_SEEN];
    size_t n_cmds;
    size_t host_lost, instance_lost;
    size_t marks; /* our own markers seen (recorder_barrier), not recorded as commands */
    char lattice[64];
} recorder;

static unsigned long long rid_no(const char *rid)
{
    const char *dash = rid != NULL ? strrchr(rid, '-') : NULL;

    return dash != NULL ? strtoull(dash + 1, NULL, 10) : 0;
}

/* "lattice.{L}.host.{id}.{verb}" */
static void on_cmd(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    recorder *r = closure;
    const char *subj = natsMsg_GetSubject(msg), *verb = strrchr(subj, '.') + 1;
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(msg);
    size_t len = (size_t)natsMsg_GetDataLength(msg);
    unsigned long long no = 0;

    (void)nc;
    (void)sub;
    if (strcmp(verb, "marker") == 0) {
        pthread_mutex_lock(&r->mu);
        r->marks++;
        pthread_mutex_unlock(&r->mu);
        natsMsg_Destroy(msg);
        return;
    }
    /* Every request carries "<replica>-<request number>" as its request_id. */
#define RID_OF(type, fn)                                                                     \
    do {                                                                                     \
        Latticed__Host__V1__##type *m = latticed__host__v1__##fn##__unpack(NULL, len, data); \
        no = m != NULL ? rid_no(m->request_id) : 0;                                          \
        latticed__host__v1__##fn##__free_unpacked(m, NULL);                                  \
    } while (0)
    if (strcmp(verb, "start") == 0)
        RID_OF(StartRequest, start_request);
    else if (strcmp(verb, "stop") == 0)
        RID_OF(StopRequest, stop_request);
    else if (strcmp(verb, "link") == 0)
        RID_OF(LinkRequest, link_request);
    else if (strcmp(verb, "unlink") == 0)
        RID_OF(UnlinkRequest, unlink_request);
    else if (strcmp(verb, "inventory") == 0)
        RID_OF(InventoryRequest, inventory_request);
#undef RID_OF
    pthread_mutex_lock(&r->mu);
    if (r->n_cmds < MAX_SEEN) {
        seen_cmd *c = &r->cmds[r->n_cmds++];

        c->at = lt_test_now_ms();
        snprintf(c->verb, sizeof(c->verb), "%s", verb);
        c->no = no;
    }
    pthread_mutex_unlock(&r->mu);
    natsMsg_Destroy(msg);
}

static void on_evt(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    recorder *r = closure;
    const char *subj = natsMsg_GetSubject(msg);

    (void)nc;
    (void)sub;
    pthread_mutex_lock(&r->mu);
    if (strstr(subj, ".evt.cp.host.lost") != NULL)
        r->host_lost++;
    if (strstr(subj, ".evt.cp.instance.lost") != NULL)
        r->instance_lost++;
    pthread_mutex_unlock(&r->mu);
    natsMsg_Destroy(msg);
}

static recorder *recorder_new(e2e *e, const char *lattice)
{
    recorder *r = calloc(1, sizeof(*r));
    char subj[256];

    ck_assert_ptr_nonnull(r);
    pthread_mutex_init(&r->mu, NULL);
    snprintf(r->lattice, sizeof(r->lattice), "%s", lattice);
    ck_assert_int_eq(natsConnection_ConnectTo(&r->nc, e2e_url(e)), NATS_OK);
    snprintf(subj, sizeof(subj), "lattice.%s.host.*.*", lattice);
    ck_assert_int_eq(natsConnection_Subscribe(&r->cmd_sub, r->nc, subj, on_cmd, r), NATS_OK);
    snprintf(subj, sizeof(subj), "lattice.%s.evt.cp.>", lattice);
    ck_assert_int_eq(natsConnection_Subscribe(&r->evt_sub, r->nc, subj, on_evt, r), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(r->nc), NATS_OK);
    return r;
}

static void recorder_free(recorder *r)
{
    /* Drained: no callback runs on r any more, and nats.c's reader is done with them
     * (a drain completes after a flush; wire/lt_conn.h). Close joins that reader anyway. */
    if (natsSubscription_Drain(r->cmd_sub) == NATS_OK)
        natsSubscription_WaitForDrainCompletion(r->cmd_sub, 10000);
    if (natsSubscription_Drain(r->evt_sub) == NATS_OK)
        natsSubscription_WaitForDrainCompletion(r->evt_sub, 10000);
    natsConnection_Close(r->nc);
    natsSubscription_Destroy(r->cmd_sub);
    natsSubscription_Destroy(r->evt_sub);
    natsConnection_Destroy(r->nc);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Commands of verb (NULL = any) that arrived at or after t. */
static size_t cmds_since(recorder *r, const char *verb, int64_t t)
{
    size_t i, n = 0;

    pthread_mutex_lock(&r->mu);
    for (i = 0; i < r->n_cmds; i++)
        if (r->cmds[i].at >= t && (verb == NULL || strcmp(r->cmds[i].verb, verb) == 0))
            n++;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static bool marked(void *arg)
{
    recorder *r = ((void **)arg)[0];
    const size_t *want = ((void **)arg)[1];
    size_t n;

    pthread_mutex_lock(&r->mu);
    n = r->marks;
    pthread_mutex_unlock(&r->mu);
    return n >= *want;
}

/* Everything the server had routed to the recorder before now has been recorded: a marker
 * published through the server on the recorder's subject comes back after it. */
static void recorder_barrier(recorder *r)
{
    char subj[256];
    size_t want;
    void *arg[2] = { r, &want };

    pthread_mutex_lock(&r->mu);
    want = r->marks + 1;
    pthread_mutex_unlock(&r->mu);
    snprintf(subj, sizeof(subj), "lattice.%s.host.recorder.marker", r->lattice);
    ck_assert_int_eq(natsConnection_PublishString(r->nc, subj, "mark"), NATS_OK);
    ck_assert_int_eq(lt_test_wait_until(marked, arg, 10000), LT_OK);
}

static size_t count_of(recorder *r, const size_t *field)
{
    size_t n;

    pthread_mutex_lock(&r->mu);
    n = *field;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- helpers ----------------------------------------------------------------------------- */

typedef struct {
    const char *lattice, *app;
    size_t want;
} count_wait;

static bool count_cond(e2e *e, void *arg)
{
    count_wait *w = arg;

    return e2e_count(e, w->lattice, w->app, NULL, NULL, NULL) == w->want;
}

/* latticed's `hosts` answer for the lattice lists n hosts, every one alive and heard within
 * the last 1.5 s: latticed's loop runs past the fault and has taken in fresh heartbeats. */
typedef struct {
    const char *lattice;
    size_t n;
} alive_wait;

static bool hosts_alive(e2e *e, void *arg)
{
    const alive_wait *w = arg;
    natsConnection *nc = NULL;
    natsMsg *m = NULL;
    json_t *doc = NULL, *h;
    char subj[256];
    size_t i, alive = 0;

    snprintf(subj, sizeof(subj), "lattice.%s.hosts", w->lattice);
    if (natsConnection_ConnectTo(&nc, e2e_url(e)) == NATS_OK &&
        natsConnection_RequestString(&m, nc, subj, "", 2000) == NATS_OK)
        doc = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    json_array_foreach (json_object_get(doc, "hosts"), i, h)
        alive += strcmp(json_string_value(json_object_get(h, "state")), "alive") == 0 &&
                 json_integer_value(json_object_get(h, "last_seen_ms")) < 1500;
    json_decref(doc);
    natsMsg_Destroy(m);
    natsConnection_Destroy(nc);
    return alive == w->n;
}

/* Deploy spread10 on 10 staggered hosts; returns latticed's pid. */
static pid_t ten_hosts_running(e2e *e, const char *lattice, const char *const *lat_extra)
{
    count_wait cw = { lattice, "spread10", 10 };
    pid_t lat;
    char *res;

    e2e_observe(e, lattice);
    e2e_hosts(e, lattice, "p", 10, NULL, NULL); /* 500 ms heartbeats, staggered by 50 ms */
    lat = e2e_latticed(e, lat_extra);
    res = e2e_put_deploy(e, lattice, e2e_manifest("spread10.yaml"));
    ck_assert_str_eq(res, "acknowledged");
    free(res);
    if (!e2e_wait(e, count_cond, &cw, 60000)) {
        e2e_dump_logs(e);
        ck_abort_msg("spread10 did not reach 10 instances");
    }
    return lat;
}

/* ---- partition guard: staggered silence is not 10 host failures -------------------------- */

START_TEST(test_conn_partition_staggered)
{
    /* PINGs every 60 s: latticed believes its connection is fine, only the guard can tell. */
    const char *extra[] = { "--nats-ping-ms", "60000", NULL };
    e2e *e = e2e_new();
    recorder *r;
    count_wait cw = { "part", "spread10", 10 };
    pid_t lat = ten_hosts_running(e, "part", extra);
    alive_wait aw = { "part", 10 };
    int64_t t_freeze;

    r = recorder_new(e, "part");
    ck_assert_msg(!e2e_log_has(e, lat, "partition"), "a partition before the fault");
    /* Freeze the server for 3 host timeouts (2.5 s each): every host goes silent, their
     * heartbeats staggered over 500 ms, so they cross the timeout one or two at a time. */
    t_freeze = lt_test_now_ms();
    ck_assert_int_eq(lt_natsrv_pause(e2e_natsrv(e)), LT_OK);
    e2e_sleep_ms(7500); /* the fault's length */
    ck_assert_int_eq(lt_natsrv_resume(e2e_natsrv(e)), LT_OK);
    /* What latticed did during the freeze is in its socket: it arrives now. Judged once
     * latticed has ended the partition on fresh heartbeats, answers with all 10 hosts alive,
     * and whatever it sent before that has reached the recorder. */
    ck_assert_msg(e2e_wait_log(e, lat, "partition over", 30000), "the partition never ended");
    ck_assert_msg(e2e_wait(e, hosts_alive, &aw, 30000), "latticed does not list 10 live hosts");
    recorder_barrier(r);
    if (count_of(r, &r->host_lost) != 0 || cmds_since(r, NULL, t_freeze) != 0)
        e2e_dump_logs(e);
    ck_assert_uint_eq(count_of(r, &r->host_lost), 0);
    ck_assert_uint_eq(count_of(r, &r->instance_lost), 0);
    ck_assert_uint_eq(cmds_since(r, "stop", t_freeze), 0);
    ck_assert_uint_eq(cmds_since(r, "start", t_freeze), 0); /* nothing replaced */
    ck_assert_msg(e2e_log_has(e, lat, "partition"), "the partition was not reported");
    ck_assert(e2e_wait(e, count_cond, &cw, 10000));
    recorder_free(r);
    e2e_free(e);
}
END_TEST

/* ---- a frozen server is noticed as a dead connection ------------------------------------- */

START_TEST(test_conn_frozen_server_noticed)
{
    e2e *e = e2e_new();
    recorder *r;
    pid_t lat = ten_hosts_running(e, "frz", NULL); /* default --nats-ping-ms 2000 */
    int64_t t0;
    bool noticed;

    r = recorder_new(e, "frz");
    ck_assert(!e2e_log_has(e, lat, "disconnected from NATS"));
    t0 = lt_test_now_ms();
    ck_assert_int_eq(lt_natsrv_pause(e2e_natsrv(e)), LT_OK);
    /* 2 unanswered PINGs 2 s apart: about 4-6 s; generous for loaded machines. */
    noticed = e2e_wait_log(e, lat, "disconnected from NATS", 20000);
    fprintf(stderr, "frozen server noticed by latticed: %s after %lld ms\n", noticed ? "yes" : "NO",
            (long long)(lt_test_now_ms() - t0));
    if (lt_test_now_ms() - t0 < 6000)
        e2e_sleep_ms(6000 - (lt_test_now_ms() - t0)); /* the fault: longer than 2 host timeouts */
    ck_assert_int_eq(lt_natsrv_resume(e2e_natsrv(e)), LT_OK);
    ck_assert(e2e_wait_log(e, lat, "reconnected to NATS", 30000));
    /* Judged once latticed answers with all 10 hosts alive on fresh heartbeats (its loop is
     * past the reconnect) and what it sent before that has reached the recorder. */
    ck_assert_msg(e2e_wait(e, hosts_alive, &(alive_wait){ "frz", 10 }, 30000),
                  "latticed does not list 10 live hosts");
    recorder_barrier(r);
    ck_assert_msg(noticed, "latticed did not notice the frozen server");
    ck_assert_uint_eq(count_of(r, &r->host_lost), 0);
    ck_assert_uint_eq(cmds_since(r, "stop", t0), 0);
    recorder_free(r);
    e2e_free(e);
}
END_TEST

/* ---- commands are never replayed after a cut --------------------------------------------- */

#define MAX_HELD 256

/* Request numbers latticed's log says it did not send ("... not sent (request N)"). */
static size_t held_back(e2e *e, pid_t pid, unsigned long long *out, size_t max)
{
    const char *key = "not sent (request ";
    char *text = NULL, *p;
    size_t n = 0;

    if (lt_test_read_file(e2e_log_path(e, pid), 64u << 20, &text, NULL) != LT_OK)
        return 0;
    for (p = strstr(text, key); p != NULL && n < max; p = strstr(p + 1, key))
        out[n++] = strtoull(p + strlen(key), NULL, 10);
    lt_free(text);
    return n;
}

static bool a_start_since(e2e *e, void *arg)
{
    recorder *r = ((void **)arg)[0];
    const int64_t *t = ((void **)arg)[1];

    (void)e;
    return cmds_since(r, "start", *t) > 0;
}

START_TEST(test_conn_no_replay_after_cut)
{
    const char *host_extra[] = { "--refuse-image", "refuse-me", "--reply-delay-ms", "600000",
                                 NULL };
    e2e *e = e2e_new();
    lt_proxy *px = NULL;
    char port[16];
    const char *lat_extra[9];
    recorder *r = recorder_new(e, "cut");
    int64_t t_cut, t_heal, t0 = 0;
    unsigned long long before = 0, first_after = 0, held_no[MAX_HELD];
    size_t held;
    void *arg[2];
    pid_t lat;
    size_t i;
    char *res;

    snprintf(port, sizeof(port), "%s", strrchr(e2e_url(e), ':') + 1);
    ck_assert_int_eq(lt_proxy_start(&px, atoi(port)), LT_OK);
    /* latticed through the proxy; a lease long enough to stay leader through the cut; a
     * refused start that is never answered: it expires after 1 s and is retried. */
    lat_extra[0] = "--nats-url";
    lat_extra[1] = lt_proxy_url(px);
    lat_extra[2] = "--lease-ttl-ms";
    lat_extra[3] = "60000";
    lat_extra[4] = "--command-timeout-ms";
    lat_extra[5] = "1000";
    lat_extra[6] = "--log-level";
    lat_extra[7] = "debug";
    lat_extra[8] = NULL;
    e2e_hosts(e, "cut", "c", 1, NULL, host_extra);
    lat = e2e_latticed(e, lat_extra);
    res = e2e_put_deploy(e, "cut", e2e_manifest("refused.yaml"));
    ck_assert_str_eq(res, "acknowledged");
    free(res);
    arg[0] = r;
    arg[1] = &t0;
    ck_assert_msg(e2e_wait(e, a_start_since, arg, 30000), "latticed sent no start");
    /* Cut latticed's link: it sees EOF at once. */
    ck_assert_int_eq(lt_proxy_set(px, LT_PROXY_CUT), LT_OK);
    t_cut = lt_test_now_ms();
    ck_assert(e2e_wait_log(e, lat, "disconnected from NATS", 10000));
    /* reached the scheduler service */
    ck_assert(e2e_wait_log(e, lat, "loop saw the NATS disconnect", 10000));
    /* What passed the proxy before the cut has reached the recorder. */
    recorder_barrier(r);
    pthread_mutex_lock(&r->mu);
    for (i = 0; i < r->n_cmds; i++)
        if (r->cmds[i].no > before)
            before = r->cmds[i].no;
    pthread_mutex_unlock(&r->mu);
    if (lt_test_now_ms() - t_cut < 8000)
        e2e_sleep_ms(8000 - (lt_test_now_ms() - t_cut)); /* the fault's length */
    t_heal = lt_test_now_ms();
    ck_assert_int_eq(lt_proxy_set(px, LT_PROXY_FORWARD), LT_OK);
    /* After the reconnect: the next start latticed sends. */
    arg[1] = &t_heal;
    ck_assert_msg(e2e_wait(e, a_start_since, arg, 45000), "no start after the reconnect");
    /* A replayed buffer would have come before that start, on the same connection. */
    recorder_barrier(r);
    pthread_mutex_lock(&r->mu);
    for (i = 0; i < r->n_cmds; i++)
        if (r->cmds[i].at >= t_heal && r->cmds[i].no != 0 &&
            (first_after == 0 || r->cmds[i].no < first_after))
            first_after = r->cmds[i].no;
    pthread_mutex_unlock(&r->mu);
    fprintf(stderr, "last request before the cut: %llu; lowest after the reconnect: %llu\n", before,
            first_after);
    ck_assert_uint_eq(cmds_since(r, NULL, t_cut + 500) - cmds_since(r, NULL, t_heal), 0);
    /* Requests created during the cut come right after `before`: a replayed buffer would
     * deliver before+1 after the reconnect. */
    ck_assert_msg(first_after > before + 1,
                  "request %llu, wanted during the cut, reached the host after it", before + 1);
    /* And precisely: the requests latticed held back never arrive. */
    held = held_back(e, lat, held_no, MAX_HELD);
    ck_assert_msg(held > 0, "latticed held back no command during the cut");
    pthread_mutex_lock(&r->mu);
    for (i = 0; i < r->n_cmds; i++)
        for (size_t k = 0; k < held; k++)
            ck_assert_msg(r->cmds[i].no != held_no[k],
                          "request %llu, held back during the cut, reached the host", held_no[k]);
    pthread_mutex_unlock(&r->mu);
    recorder_free(r);
    ck_assert_int_eq(lt_proxy_stop(px), LT_OK);
    e2e_free(e);
}
END_TEST

/* ---- the pass's commands go out on the bulk connection ------------------------------------ */

/* Messages nats-server received from the client connection named name (its /connz), or -1. */
static long long conn_in_msgs(e2e *e, const char *name)
{
    lt_test_http_res res = { 0 };
    char addr[32];
    json_t *doc, *c;
    long long n = -1;
    size_t i;

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", lt_natsrv_monitor_port(e2e_natsrv(e)));
    ck_assert_int_eq(lt_test_http(addr, "GET", "/connz?limit=1024", 5000, &res), 0);
    ck_assert_int_eq(res.status, 200);
    doc = json_loads(res.body, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    json_array_foreach (json_object_get(doc, "connections"), i, c) {
        const char *cn = json_string_value(json_object_get(c, "name"));

        if (cn != NULL && strcmp(cn, name) == 0)
            n = (long long)json_integer_value(json_object_get(c, "in_msgs"));
    }
    json_decref(doc);
    lt_test_http_cleanup(&res);
    return n;
}

START_TEST(test_conn_commands_on_bulk_link)
{
    lt_natsrv_opts o = { .monitor = true };
    e2e *e = e2e_new_with(&o);
    count_wait cw = { "bulk", "spread10", 10 };
    long long before, after;
    char *res;

    e2e_observe(e, "bulk");
    e2e_hosts(e, "bulk", "p", 10, NULL, NULL);
    e2e_latticed(e, NULL);
    e2e_expect_hosts(e, "bulk", 10, 30000);
    e2e_sleep_ms(500); /* host.joined events are out */
    before = conn_in_msgs(e, "latticed-bulk");
    ck_assert_int_ge(before, 0);
    res = e2e_put_deploy(e, "bulk", e2e_manifest("spread10.yaml"));
    ck_assert_str_eq(res, "acknowledged");
    free(res);
    ck_assert(e2e_wait(e, count_cond, &cw, 60000));
    ck_assert(e2e_wait_status(e, "bulk", "spread10", "deployed", 30000));
    e2e_sleep_ms(500);
    after = conn_in_msgs(e, "latticed-bulk");
    /* One instance per host: 10 start requests, and 10 instances.placed and an app.deployed
     * event for their answers. Events alone would be 11. */
    ck_assert_uint_eq(e2e_starts_sent(e, "bulk"), 10);
    ck_assert_msg(after - before >= 21, "latticed-bulk sent %lld messages, want >= 21",
                  after - before);
    e2e_free(e);
}
END_TEST

/* ---- a start to a gone host fails at once ("no responders") ------------------------------ */

START_TEST(test_conn_no_responders_fail_fast)
{
    /* Neither the host timeout nor the command timeout can explain a quick recovery. */
    const char *extra[] = {
        "--host-timeout-ms", "60000", "--command-timeout-ms", "30000", "--warmup-ms", "-1", NULL
    };
    /* Real hosts: each subscribes its own id (a simulator subscribes every id of the lattice,
     * so one that is gone would still have a listener). Instances run as `sleep`. Nothing else
     * may listen on host subjects either: no e2e_observe here. */
    e2e *e = e2e_new();
    /* the killed host's run directory goes with the test's */
    const char *runner[] = { "--default-runner", "exec sleep 600", "--run-dir", e2e_dir(e), NULL };
    pid_t gone;
    int64_t t0;

    e2e_real_host(e, "nr", "nr-live", runner);
    gone = e2e_real_host(e, "nr", "nr-gone", runner);
    e2e_latticed(e, extra);
    e2e_sleep_ms(3000); /* both heard (500 ms heartbeats), the term's inventory round over */
    e2e_kill(e, gone, SIGKILL, true); /* no instances yet; latticed still counts it for 60 s */
    t0 = lt_test_now_ms();
    e2e_deploy_ok(e, "nr", "real3.yaml");
    /* Deployed: 3 instances run, on the live host since the other is gone. */
    if (!e2e_wait_status(e, "nr", "real3", "deployed", 15000)) {
        e2e_dump_logs(e);
        ck_abort_msg("real3 not deployed within 15 s (the starts sent to the killed host "
                     "waited for the 30 s command timeout?)");
    }
    ck_assert_int_lt(lt_test_now_ms() - t0, 15000);
    e2e_free(e);
}
END_TEST

static Suite *conn_suite(void)
{
    Suite *s = suite_create("e2e_conn");

    lt_test_tcase(s, "conn", 240,
                  (const TTest *const[]){
                      test_conn_partition_staggered, test_conn_frozen_server_noticed,
                      test_conn_no_replay_after_cut, test_conn_commands_on_bulk_link,
                      test_conn_no_responders_fail_fast, NULL });
    return s;
}

int main(void)
{
    e2e_require_bins();
    return lt_test_run_suite(conn_suite());
}
