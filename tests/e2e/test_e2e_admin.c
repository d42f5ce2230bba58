/*
 * test_e2e_admin.c - latticed's HTTP admin listener (--http-admin) against a
 * real nats-server, latticed and simulated hosts, scraped over loopback:
 *  - every endpoint answers (livez, readyz, metrics in text format 0.0.4,
 *    debug/state as JSON without the NATS URL), 404 and 405;
 *  - metrics move with what they count: hosts joining and dying change
 *    latticed_hosts, a put and a deploy raise the API counters and their
 *    latency histogram, the deployed app sets the instance gauges and the
 *    leader gauges, reconcile passes grow;
 *  - starts a host refuses count as failed commands and failed instances, and placing them
 *    again after the backoff as retried commands;
 *  - a standby replica is ready with latticed_leader 0 and takes over (1, a higher epoch)
 *    when the leader is killed (-9);
 *  - NATS killed (-9): /readyz turns 503 saying why while /livez stays 200,
 *    and both recover when NATS is back (with a reconnect counted);
 *  - commands count in items for both drivers: 5 instances are 5 starts, however batched;
 *  - commands held back while NATS is down count as held; a batch over the server's
 *    max_payload, refused by nats.c, as unsent (every item);
 *  - a malformed event on a host's event subject (a raw client) counts as invalid;
 *  - a compare-and-set conflict on an app's index (the fault shim holds latticed's write while
 *    the test rewrites the key) counts as a store retry;
 *  - a wasmCloud 2.x start the host answers with an error counts as a failed 2.x command, and
 *    its replacement after the backoff as retried;
 *  - a secret-looking config value of a deployed manifest is in the store but not in
 *    /debug/state;
 *  - a malformed --http-admin is exit 2; --dev prints its admin address.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <nats/nats.h>

#include "e2e.h"
#include "e2e_v2.h"
#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_fs.h"
#include "lt_natsrv.h"
#include "lt_shimctl.h"
#include "lt_testhttp.h"
#include "lt_testutil.h"

#define L "default"
#define WAIT_MS 30000

/* latticed with --http-admin 127.0.0.1:0 and more (NULL-terminated, may be NULL); the address
 * it logged into addr. */
static pid_t latticed_admin_with(e2e *e, const char *const *more, char *addr, size_t cap)
{
    const char *extra[32] = { "--http-admin", "127.0.0.1:0" };
    static const char needle[] = "admin listener on http://";
    pid_t pid;
    char *log = NULL;
    const char *p;
    size_t len = 0, n = 0, k = 2;

    for (size_t i = 0; more != NULL && more[i] != NULL && k < 31; i++)
        extra[k++] = more[i];
    extra[k] = NULL;
    pid = e2e_latticed(e, extra);
    ck_assert_msg(e2e_wait_log(e, pid, needle, WAIT_MS), "no admin listener line in the log");
    ck_assert_int_eq(lt_fs_read_file(e2e_log_path(e, pid), 1u << 24, &log, &len), LT_OK);
    p = strstr(log, needle);
    ck_assert_ptr_nonnull(p);
    p += sizeof(needle) - 1;
    while (p[n] != '\0' && p[n] != ' ' && p[n] != '\n' && n + 1 < cap)
        n++;
    memcpy(addr, p, n);
    addr[n] = '\0';
    lt_free(log);
    return pid;
}

static pid_t latticed_admin(e2e *e, char *addr, size_t cap)
{
    return latticed_admin_with(e, NULL, addr, cap);
}

/* GET path: the status, the body into *body (lt_free) when body is not NULL. */
static int get(const char *addr, const char *method, const char *path, char **body)
{
    lt_test_http_res r;
    int status;

    if (lt_test_http(addr, method, path, 10000, &r) != 0) {
        lt_test_http_cleanup(&r);
        if (body != NULL)
            *body = lt_strdup("");
        return 0;
    }
    status = r.status;
    if (body != NULL) {
        *body = r.body;
        r.body = NULL;
    }
    lt_test_http_cleanup(&r);
    return status;
}

/* The value of the sample whose series is exactly `series` in /metrics, -1 when absent. */
static double metric(const char *addr, const char *series)
{
    char *body = NULL, *p;
    double v = -1;
    size_t n = strlen(series);

    if (get(addr, "GET", "/metrics", &body) == 200)
        for (p = body; p != NULL && *p != '\0'; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
            if (strncmp(p, series, n) == 0 && p[n] == ' ') {
                v = strtod(p + n + 1, NULL);
                break;
            }
    lt_free(body);
    return v;
}

typedef struct {
    const char *addr, *series;
    double want;
    int cmp; /* 0: ==, 1: >=, -1: <= */
} metric_cond;

static bool metric_is(e2e *e, void *arg)
{
    metric_cond *c = arg;
    double v = metric(c->addr, c->series);

    (void)e;
    return c->cmp == 0 ? v == c->want : c->cmp > 0 ? v >= c->want : v >= 0 && v <= c->want;
}

static void expect_metric(e2e *e, const char *addr, const char *series, int cmp, double want)
{
    metric_cond c = { addr, series, want, cmp };

    if (!e2e_wait(e, metric_is, &c, WAIT_MS))
        e2e_dump_logs(e);
    ck_assert_msg(metric_is(e, &c), "%s is %g, want %s %g", series, metric(addr, series),
                  cmp == 0  ? "=="
                  : cmp > 0 ? ">="
                            : "<=",
                  want);
}

typedef struct {
    const char *addr, *path;
    int want;
} status_cond;

static bool status_is(e2e *e, void *arg)
{
    status_cond *c = arg;

    (void)e;
    return get(c->addr, "GET", c->path, NULL) == c->want;
}

static void expect_status(e2e *e, const char *addr, const char *path, int want)
{
    status_cond c = { addr, path, want };

    if (!e2e_wait(e, status_is, &c, WAIT_MS))
        e2e_dump_logs(e);
    ck_assert_int_eq(get(addr, "GET", path, NULL), want);
}

#define HOSTS_ALIVE "latticed_hosts{lattice=\"default\",state=\"alive\",driver=\"native\"}"
#define PUT_OK "latticed_api_requests_total{op=\"put\",result=\"created\"}"
#define PUT_COUNT "latticed_api_request_duration_seconds_count{op=\"put\"}"
#define DEPLOY_OK "latticed_api_requests_total{op=\"deploy\",result=\"acknowledged\"}"
#define START_SENT "latticed_host_commands_total{kind=\"start\",driver=\"native\"}"
#define START_FAILED "latticed_host_commands_failed_total{kind=\"start\",driver=\"native\"}"
#define START_RETRIED "latticed_host_commands_retried_total{kind=\"start\",driver=\"native\"}"
#define HELD "latticed_host_commands_held_total"
#define UNSENT "latticed_host_commands_unsent_total{kind=\"start\",driver=\"native\"}"
#define INVALID "latticed_host_events_invalid_total"
#define CAS_RETRIES "latticed_store_cas_retries_total"
#define V2 "driver=\"wasmcloud-v2\"}"

START_TEST(test_admin_endpoints)
{
    e2e *e = e2e_new();
    char addr[128], *body = NULL, *reply;
    pid_t hosts;
    json_t *doc;
    double passes;

    latticed_admin(e, addr, sizeof(addr));
    expect_status(e, addr, "/readyz", 200);
    ck_assert_int_eq(get(addr, "GET", "/livez", &body), 200);
    ck_assert_str_eq(body, "ok\n");
    lt_free(body);
    ck_assert_int_eq(get(addr, "GET", "/nope", NULL), 404);
    ck_assert_int_eq(get(addr, "POST", "/metrics", NULL), 405);
    ck_assert_int_eq(get(addr, "PUT", "/readyz", NULL), 405);
    ck_assert_int_eq(get(addr, "GET", "/metrics", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "# TYPE latticed_api_requests_total counter\n"));
    ck_assert_ptr_nonnull(strstr(body, "# TYPE latticed_reconcile_duration_seconds histogram\n"));
    ck_assert_ptr_nonnull(strstr(body, "latticed_nats_connected 1\n"));
    lt_free(body);
    ck_assert_double_eq(metric(addr, PUT_OK), -1); /* nothing put yet */

    /* hosts joining, then dying, move latticed_hosts */
    hosts = e2e_hosts(e, L, "adm", 3, NULL, NULL);
    expect_metric(e, addr, HOSTS_ALIVE, 0, 3);
    /* a put and a deploy count, with their latency */
    reply = e2e_put_deploy(e, L, e2e_manifest("greet.yaml"));
    ck_assert_str_eq(reply, "acknowledged");
    lt_free(reply);
    expect_metric(e, addr, PUT_OK, 0, 1);
    expect_metric(e, addr, PUT_COUNT, 0, 1);
    expect_metric(e, addr, DEPLOY_OK, 0, 1);
    /* the app: 4 greeters + 1 front wanted and running; this replica leads */
    expect_metric(e, addr, "latticed_instances_desired{lattice=\"default\"}", 0, 5);
    expect_metric(e, addr, "latticed_instances_running{lattice=\"default\"}", 0, 5);
    expect_metric(e, addr, "latticed_apps_deployed{lattice=\"default\"}", 0, 1);
    expect_metric(e, addr, "latticed_leader{lattice=\"default\"}", 0, 1);
    /* counted in items, as failures are: 5 instances started in at most 3 batches (hosts) */
    expect_metric(e, addr, START_SENT, 0, 5);
    expect_metric(e, addr, "latticed_leader_epoch{lattice=\"default\"}", 1, 1);
    passes = metric(addr, "latticed_reconcile_passes_total");
    ck_assert(passes > 0);
    expect_metric(e, addr, "latticed_reconcile_passes_total", 1, passes + 1);
    /* /debug/state: JSON, the lattice and its app, no NATS URL */
    ck_assert_int_eq(get(addr, "GET", "/debug/state", &body), 200);
    doc = json_loads(body, 0, NULL);
    ck_assert_msg(doc != NULL, "not JSON: %s", body);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(doc, "lattices"), 0),
                                         "name")),
                     L);
    ck_assert_ptr_nonnull(strstr(body, "\"name\":\"greet\""));
    ck_assert_ptr_null(strstr(body, e2e_url(e)));
    ck_assert_ptr_null(strstr(body, "nats://"));
    json_decref(doc);
    lt_free(body);
    /* the hosts die: none alive any more */
    e2e_kill(e, hosts, SIGKILL, true);
    expect_metric(e, addr, HOSTS_ALIVE, -1, 0);
    e2e_free(e);
}
END_TEST

START_TEST(test_admin_nats_outage)
{
    e2e *e = e2e_new();
    char addr[128], *body = NULL;

    latticed_admin(e, addr, sizeof(addr));
    expect_status(e, addr, "/readyz", 200);
    ck_assert_double_eq(metric(addr, "latticed_nats_reconnects_total"), 0);
    ck_assert_int_eq(lt_natsrv_down(e2e_natsrv(e), true), LT_OK); /* kill -9 */
    expect_status(e, addr, "/readyz", 503);
    ck_assert_int_eq(get(addr, "GET", "/readyz", &body), 503);
    ck_assert_str_eq(body, "NATS is not connected\n");
    lt_free(body);
    ck_assert_int_eq(get(addr, "GET", "/livez", NULL), 200); /* the loop still turns */
    ck_assert_double_eq(metric(addr, "latticed_nats_connected"), 0);
    ck_assert_double_eq(metric(addr, "latticed_ready"), 0);
    ck_assert_int_eq(lt_natsrv_up(e2e_natsrv(e)), LT_OK);
    expect_status(e, addr, "/readyz", 200);
    expect_metric(e, addr, "latticed_nats_reconnects_total", 1, 1);
    ck_assert_double_eq(metric(addr, "latticed_nats_connected"), 1);
    e2e_free(e);
}
END_TEST

START_TEST(test_admin_standby)
{
    e2e *e = e2e_new();
    char a_addr[128], b_addr[128];
    pid_t a, hosts;
    double epoch;

    a = latticed_admin(e, a_addr, sizeof(a_addr));
    hosts = e2e_hosts(e, L, "sb", 2, NULL, NULL);
    expect_metric(e, a_addr, "latticed_leader{lattice=\"default\"}", 0, 1);
    /* a standby is ready (it read the lease: someone else leads) and says it does not lead */
    latticed_admin(e, b_addr, sizeof(b_addr));
    expect_status(e, b_addr, "/readyz", 200);
    expect_metric(e, b_addr, HOSTS_ALIVE, 0, 2);
    ck_assert_double_eq(metric(b_addr, "latticed_leader{lattice=\"default\"}"), 0);
    ck_assert_double_eq(metric(b_addr, "latticed_leader_epoch{lattice=\"default\"}"), 0);
    epoch = metric(a_addr, "latticed_leader_epoch{lattice=\"default\"}");
    ck_assert(epoch >= 1);
    /* the leader dies: the standby takes over with a higher epoch */
    e2e_kill(e, a, SIGKILL, true);
    expect_metric(e, b_addr, "latticed_leader{lattice=\"default\"}", 0, 1);
    expect_metric(e, b_addr, "latticed_leader_epoch{lattice=\"default\"}", 1, epoch + 1);
    e2e_kill(e, hosts, SIGTERM, true);
    e2e_free(e);
}
END_TEST

START_TEST(test_admin_failures)
{
    const char *refuse[] = { "--refuse-image", "greeter", NULL };
    e2e *e = e2e_new();
    char addr[128], *reply;

    latticed_admin(e, addr, sizeof(addr));
    e2e_hosts(e, L, "rf", 2, NULL, refuse);
    expect_metric(e, addr, HOSTS_ALIVE, 0, 2);
    ck_assert_double_eq(
        metric(addr, "latticed_host_commands_failed_total{kind=\"start\",driver=\"native\"}"), -1);
    reply = e2e_put_deploy(e, L, e2e_manifest("greet.yaml"));
    ck_assert_str_eq(reply, "acknowledged");
    lt_free(reply);
    /* every greeter start is refused: failed commands and failed instances show it */
    expect_metric(e, addr, "latticed_host_commands_failed_total{kind=\"start\",driver=\"native\"}",
                  1, 1);
    expect_metric(e, addr, "latticed_instances_failed{lattice=\"default\"}", 1, 1);
    expect_metric(e, addr, "latticed_instances_running{lattice=\"default\"}", 0, 1); /* front */
    /* once its backoff is over the refused component is placed again: a retried start */
    expect_metric(e, addr, START_RETRIED, 1, 1);
    /* one unit: no more items failed than were sent */
    ck_assert(metric(addr, START_FAILED) <= metric(addr, START_SENT));
    e2e_free(e);
}
END_TEST

/* Commands due while NATS is down are held, not buffered: latticed leads for a long lease (so it
 * may still act) and a refused component keeps coming back from its backoff. */
START_TEST(test_admin_held)
{
    const char *refuse[] = { "--refuse-image", "greeter", NULL };
    const char *lease[] = { "--lease-ttl-ms", "60000", NULL };
    e2e *e = e2e_new();
    char addr[128], *reply;

    latticed_admin_with(e, lease, addr, sizeof(addr));
    e2e_hosts(e, L, "hd", 1, NULL, refuse);
    expect_metric(e, addr, HOSTS_ALIVE, 0, 1);
    ck_assert_double_eq(metric(addr, HELD), 0);
    reply = e2e_put_deploy(e, L, e2e_manifest("greet.yaml"));
    ck_assert_str_eq(reply, "acknowledged");
    lt_free(reply);
    expect_metric(e, addr, START_FAILED, 1, 1);
    ck_assert_double_eq(metric(addr, HELD), 0);
    ck_assert_int_eq(lt_natsrv_down(e2e_natsrv(e), true), LT_OK); /* kill -9 */
    expect_metric(e, addr, HELD, 1, 1); /* the next retry of the greeters */
    ck_assert_int_eq(lt_natsrv_up(e2e_natsrv(e)), LT_OK);
    expect_status(e, addr, "/readyz", 200);
    e2e_free(e);
}
END_TEST

/* A raw client's connection to the test's NATS server. */
static natsConnection *raw_client(e2e *e)
{
    natsConnection *nc = NULL;

    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    return nc;
}

START_TEST(test_admin_invalid_events)
{
    e2e *e = e2e_new();
    char addr[128];
    natsConnection *nc;
    natsMsg *m = NULL;
    double before;

    latticed_admin(e, addr, sizeof(addr));
    e2e_hosts(e, L, "iv", 1, NULL, NULL);
    expect_metric(e, addr, HOSTS_ALIVE, 0, 1);
    before = metric(addr, INVALID);
    ck_assert(before >= 0);
    nc = raw_client(e);
    /* not a CloudEvent at all, on a heartbeat subject */
    ck_assert_int_eq(natsConnection_PublishString(nc, "lattice." L ".evt.h.iv-bogus.host.heartbeat",
                                                  "this is not a heartbeat"),
                     NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
    expect_metric(e, addr, INVALID, 1, before + 1);
    /* a CloudEvent whose data is not the heartbeat it says it is */
    ck_assert_int_eq(natsMsg_Create(&m, "lattice." L ".evt.h.iv-bogus.host.heartbeat", NULL,
                                    "\xff\xff\xff\xff", 4),
                     NATS_OK);
    natsMsgHeader_Set(m, "ce-specversion", "1.0");
    natsMsgHeader_Set(m, "ce-type", "dev.latticed.host.heartbeat.v1");
    natsMsgHeader_Set(m, "ce-source", "iv-bogus");
    natsMsgHeader_Set(m, "ce-id", "1");
    natsMsgHeader_Set(m, "content-type", "application/protobuf");
    ck_assert_int_eq(natsConnection_PublishMsg(nc, m), NATS_OK);
    natsMsg_Destroy(m);
    ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
    expect_metric(e, addr, INVALID, 1, before + 2);
    /* the real host is still fine */
    expect_metric(e, addr, HOSTS_ALIVE, 0, 1);
    natsConnection_Destroy(nc);
    e2e_free(e);
}
END_TEST

typedef struct {
    const char *path;
} file_cond;

static bool file_exists(e2e *e, void *arg)
{
    (void)e;
    return access(((file_cond *)arg)->path, F_OK) == 0;
}

/* The fault shim holds latticed's write of greet's index for 3 s (once, while armed); meanwhile
 * the test writes the same key (its value unchanged): latticed's compare-and-set conflicts, it
 * reads again and retries, and the put still succeeds. */
START_TEST(test_admin_cas_retry)
{
    e2e *e = e2e_new();
    char addr[128], rules[1024], arm[300], fired[300], *dir = NULL, *data = NULL, *v2, *p;
    natsConnection *nc;
    natsSubscription *sub = NULL;
    natsMsg *reply = NULL;
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvEntry *en = NULL;
    uint64_t rev = 0;
    size_t len = 0;
    file_cond fc = { fired };
    double before;
    char *r;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-admin-cas"), LT_OK);
    snprintf(arm, sizeof(arm), "%s/arm", dir);
    snprintf(fired, sizeof(fired), "%s/fired", dir);
    snprintf(rules, sizeof(rules),
             "js_PublishMsg:subj=$KV.latticed_manifests.app." L
             ".greet:mode=delay=3000:count=1:onfile=%s:touch=%s",
             arm, fired);
    ck_assert_int_eq(lt_shim_set(rules, NULL), LT_OK);
    latticed_admin(e, addr, sizeof(addr));
    lt_shim_unset();
    expect_status(e, addr, "/readyz", 200);
    r = e2e_put_deploy(e, L, e2e_manifest("greet.yaml"));
    ck_assert_str_eq(r, "acknowledged");
    lt_free(r);
    before = metric(addr, CAS_RETRIES);
    ck_assert(before >= 0);
    /* put v2 of greet, not waiting for the answer */
    ck_assert_int_eq(lt_fs_read_file(e2e_manifest("greet.yaml"), 1u << 20, &data, &len), LT_OK);
    v2 = lt_strdup(data);
    p = strstr(v2, "version: v1");
    ck_assert_ptr_nonnull(p);
    p[sizeof("version: v") - 1] = '2';
    ck_assert_int_eq(lt_fs_write_file(arm, "", 0), LT_OK);
    nc = raw_client(e);
    ck_assert_int_eq(natsConnection_SubscribeSync(&sub, nc, "admin-test.cas.reply"), NATS_OK);
    ck_assert_int_eq(natsConnection_PublishRequest(nc, "wadm.api." L ".model.put",
                                                   "admin-test.cas.reply", v2, (int)strlen(v2)),
                     NATS_OK);
    /* latticed's write is held now: rewrite the key under it */
    ck_assert_msg(e2e_wait(e, file_exists, &fc, WAIT_MS), "the shim never held the index write");
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    ck_assert_int_eq(js_KeyValue(&kv, js, "latticed_manifests"), NATS_OK);
    ck_assert_int_eq(kvStore_Get(&en, kv, "app." L ".greet"), NATS_OK);
    ck_assert_int_eq(kvStore_Put(&rev, kv, "app." L ".greet", kvEntry_Value(en),
                                 kvEntry_ValueLen(en)),
                     NATS_OK);
    kvEntry_Destroy(en);
    /* the put still succeeds, after one retry */
    ck_assert_int_eq(natsSubscription_NextMsg(&reply, sub, 20000), NATS_OK);
    ck_assert_msg(strstr(natsMsg_GetData(reply), "\"error\"") == NULL, "put v2: %.*s",
                  natsMsg_GetDataLength(reply), natsMsg_GetData(reply));
    natsMsg_Destroy(reply);
    expect_metric(e, addr, CAS_RETRIES, 1, before + 1);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    lt_free(v2);
    lt_free(data);
    lt_free(dir);
    e2e_free(e);
}
END_TEST

/* A wasmCloud 2.x host that refuses the image: the start it answers with an error counts as a
 * failed 2.x command (sent, failed and retried in the same unit as native ones). */
START_TEST(test_admin_v2_failures)
{
    const char *sim[] = { "--heartbeat-interval", "1s", "--refuse-image", "worker", NULL };
    const char *more[] = {
        "--wasmcloud-v2", L, "--v2-heartbeat-ms", "1000", "--v2-status-interval-ms", "1000", NULL
    };
    e2e *e = e2e_new();
    char addr[128];
    e2e_v2_fold f;
    pid_t hs;

    e2e_v2_reset();
    hs = e2e_v2_sim(e, "v2f", 1, sim);
    latticed_admin_with(e, more, addr, sizeof(addr));
    e2e_v2_wait_ready(e, L, hs, 1, &f);
    ck_assert_double_eq(metric(addr, "latticed_host_commands_failed_total{kind=\"start\"," V2), -1);
    e2e_deploy_ok(e, L, "v2-solo.yaml");
    expect_metric(e, addr, "latticed_host_commands_total{kind=\"start\"," V2, 1, 1);
    expect_metric(e, addr, "latticed_host_commands_failed_total{kind=\"start\"," V2, 1, 1);
    expect_metric(e, addr, "latticed_host_commands_retried_total{kind=\"start\"," V2, 1, 1);
    ck_assert(metric(addr, "latticed_host_commands_failed_total{kind=\"start\"," V2) <=
              metric(addr, "latticed_host_commands_total{kind=\"start\"," V2));
    /* none of it shows as native */
    ck_assert_double_eq(metric(addr, START_FAILED), -1);
    e2e_free(e);
}
END_TEST

#define SECRET "lt-admin-secret-7f3a9c1e"

/* A manifest with a secret-looking config value: the store has it (the API's get returns it),
 * /debug/state shows the app but never the value. */
START_TEST(test_admin_redacted)
{
    e2e *e = e2e_new();
    char addr[128], *dir = NULL, *data = NULL, *body = NULL, *r, path[300], *text;
    size_t len = 0;
    lt_buf b;
    json_t *got;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-admin-red"), LT_OK);
    ck_assert_int_eq(lt_fs_read_file(e2e_manifest("greet.yaml"), 1u << 20, &data, &len), LT_OK);
    lt_buf_init(&b, 1u << 20);
    /* the link's source config carries a token next to the listen address */
    r = strstr(data, "listen: 127.0.0.1:9400");
    ck_assert_ptr_nonnull(r);
    r += strlen("listen: 127.0.0.1:9400");
    ck_assert_int_eq(lt_buf_append(&b, data, (size_t)(r - data)), LT_OK);
    ck_assert_int_eq(lt_buf_appends(&b, "\n                    token: " SECRET), LT_OK);
    ck_assert_int_eq(lt_buf_appends(&b, r), LT_OK);
    snprintf(path, sizeof(path), "%s/greet-secret.yaml", dir);
    ck_assert_int_eq(lt_fs_write_file(path, b.ptr, b.len), LT_OK);
    latticed_admin(e, addr, sizeof(addr));
    e2e_hosts(e, L, "rd", 2, NULL, NULL);
    expect_metric(e, addr, HOSTS_ALIVE, 0, 2);
    r = e2e_put_deploy(e, L, path);
    ck_assert_str_eq(r, "acknowledged");
    lt_free(r);
    expect_metric(e, addr, "latticed_instances_running{lattice=\"default\"}", 0, 5);
    got = e2e_api(e, L, "get", "greet", NULL, 0);
    text = json_dumps(got, JSON_COMPACT);
    ck_assert_msg(strstr(text, SECRET) != NULL, "the secret is not in the stored manifest: %s",
                  text);
    free(text);
    json_decref(got);
    ck_assert_int_eq(get(addr, "GET", "/debug/state", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"name\":\"greet\""));
    ck_assert_msg(strstr(body, SECRET) == NULL, "/debug/state shows the secret: %s", body);
    ck_assert_ptr_null(strstr(body, "token"));
    lt_free(body);
    lt_buf_cleanup(&b);
    lt_free(data);
    lt_free(dir);
    e2e_free(e);
}
END_TEST

/* A start batch over the server's max_payload: NATS refuses to publish it, every item counts
 * as sent and unsent (the batch expires and is sent again, refused again). */
START_TEST(test_admin_unsent)
{
    static const char wide[] = "apiVersion: core.oam.dev/v1beta1\n"
                               "kind: Application\n"
                               "metadata:\n"
                               "  name: wide\n"
                               "  annotations:\n"
                               "    version: v1\n"
                               "spec:\n"
                               "  components:\n"
                               "    - name: w\n"
                               "      type: component\n"
                               "      properties:\n"
                               "        image: ghcr.io/latticed-tests/wide:1\n"
                               "      traits:\n"
                               "        - type: spreadscaler\n"
                               "          properties:\n"
                               "            instances: 60\n";
    lt_natsrv_opts no = { .config_text = "max_payload: 8192\n" };
    e2e *e = e2e_new_with(&no);
    char addr[128], path[300], *dir = NULL, *r;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-admin-wide"), LT_OK);
    snprintf(path, sizeof(path), "%s/wide.yaml", dir);
    ck_assert_int_eq(lt_fs_write_file(path, wide, strlen(wide)), LT_OK);
    latticed_admin(e, addr, sizeof(addr));
    e2e_hosts(e, L, "ws", 1, NULL, NULL);
    expect_metric(e, addr, HOSTS_ALIVE, 0, 1);
    ck_assert_double_eq(metric(addr, UNSENT), -1);
    r = e2e_put_deploy(e, L, path);
    ck_assert_str_eq(r, "acknowledged");
    lt_free(r);
    /* 60 starts for one host: one batch of 60 items, ~15 KB, refused by nats.c */
    expect_metric(e, addr, UNSENT, 1, 60);
    ck_assert(metric(addr, START_SENT) >= metric(addr, UNSENT));
    ck_assert_double_eq(metric(addr, "latticed_instances_running{lattice=\"default\"}"), 0);
    lt_free(dir);
    e2e_free(e);
}
END_TEST

START_TEST(test_admin_options)
{
    const char *bad[] = { getenv("LATTICED_BIN"), "--http-admin", "localhost", NULL };
    const char *dev[] = { getenv("LATTICED_BIN"), "--dev", "--dev-example", "none", NULL };
    lt_test_cmd cmd = { .argv = bad, .timeout_ms = 30000 };
    lt_test_cmd_result res;
    e2e *e = e2e_new();
    pid_t pid;
    char *log = NULL, addr[128];
    const char *p;
    size_t len = 0, n = 0;

    ck_assert_int_eq(lt_test_run(&cmd, &res), LT_OK);
    ck_assert_int_eq(res.exit_code, 2);
    ck_assert_ptr_nonnull(strstr(res.err, "--http-admin"));
    lt_test_cmd_result_cleanup(&res);
    /* --dev: on by default, its address printed next to the NATS URL */
    pid = e2e_spawn(e, "dev", dev);
    ck_assert(e2e_wait_log(e, pid, "Health and metrics: http://", WAIT_MS));
    ck_assert_int_eq(lt_fs_read_file(e2e_log_path(e, pid), 1u << 24, &log, &len), LT_OK);
    p = strstr(log, "Health and metrics: http://") + strlen("Health and metrics: http://");
    while (p[n] != '/' && p[n] != '\0' && n + 1 < sizeof(addr))
        n++;
    memcpy(addr, p, n);
    addr[n] = '\0';
    lt_free(log);
    ck_assert_msg(strncmp(addr, "127.0.0.1:", 10) == 0, "dev admin address %s", addr);
    expect_status(e, addr, "/readyz", 200);
    e2e_kill(e, pid, SIGTERM, true);
    e2e_free(e);
}
END_TEST

int main(void)
{
    return e2e_run_suite("e2e_admin", 300,
                         (const TTest *const[]){ test_admin_endpoints, test_admin_nats_outage,
                                                 test_admin_standby, test_admin_failures,
                                                 test_admin_held, test_admin_unsent,
                                                 test_admin_invalid_events, test_admin_cas_retry,
                                                 test_admin_v2_failures, test_admin_redacted,
                                                 test_admin_options, NULL });
}
