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
 *  - a malformed --http-admin is exit 2; --dev prints its admin address.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "e2e.h"
#include "lt_alloc.h"
#include "lt_fs.h"
#include "lt_natsrv.h"
#include "lt_testhttp.h"
#include "lt_testutil.h"

#define L "default"
#define WAIT_MS 30000

/* latticed with --http-admin 127.0.0.1:0; the address it logged into addr. */
static pid_t latticed_admin(e2e *e, char *addr, size_t cap)
{
    const char *extra[] = { "--http-admin", "127.0.0.1:0", NULL };
    static const char needle[] = "admin listener on http://";
    pid_t pid = e2e_latticed(e, extra);
    char *log = NULL;
    const char *p;
    size_t len = 0, n = 0;

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
    expect_metric(e, addr, "latticed_host_commands_total{kind=\"start\",driver=\"native\"}", 1, 1);
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
    expect_metric(e, addr, "latticed_host_commands_retried_total{kind=\"start\",driver=\"native\"}",
                  1, 1);
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
                                                 test_admin_options, NULL });
}
