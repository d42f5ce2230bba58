/*
 * test_perms.c - deploy/nats/permissions.conf on a real nats-server: latticed,
 * two real hosts (host-a, host-b) and latticectl each log in as their role and
 * an app is applied and deployed end to end; then, connected as host-a, every
 * way of speaking for someone else is refused by the server (host-b's events,
 * the old subject without host id, control-plane events, host-b's commands,
 * latticed's API, JetStream/KV), an event on host-a's own subject whose
 * ce-source names another host is refused by latticed, and an API client may
 * not publish host events or touch KV.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "latticed/host/v1/host.pb-c.h"
#include "lt_alloc.h"
#include "lt_ce.h"
#include "lt_config.h"
#include "sec.h"
#include "lt_testutil.h"

/* ---- a client that records the server's asynchronous errors -------------------------------- */

typedef struct {
    natsConnection *nc;
    pthread_mutex_t mu;
    char last_err[512];
    int n_err;
} client;

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    client *c = closure;
    const char *text = NULL;

    (void)sub;
    natsConnection_GetLastError(nc, &text);
    pthread_mutex_lock(&c->mu);
    snprintf(c->last_err, sizeof(c->last_err), "%s: %s", natsStatus_GetText(err),
             text != NULL ? text : "");
    c->n_err++;
    pthread_mutex_unlock(&c->mu);
}

static void client_open(client *c, const char *url)
{
    natsOptions *o = NULL;

    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    ck_assert_int_eq(natsOptions_SetURL(o, url), NATS_OK);
    ck_assert_int_eq(natsOptions_SetErrorHandler(o, on_error, c), NATS_OK);
    ck_assert_int_eq(natsOptions_SetAllowReconnect(o, false), NATS_OK);
    ck_assert_int_eq(natsConnection_Connect(&c->nc, o), NATS_OK);
    natsOptions_Destroy(o);
}

static void client_close(client *c)
{
    natsConnection_Destroy(c->nc);
    pthread_mutex_destroy(&c->mu);
}

static int errors(client *c, char *last, size_t cap)
{
    int n;

    pthread_mutex_lock(&c->mu);
    n = c->n_err;
    if (last != NULL)
        snprintf(last, cap, "%s", c->last_err);
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Wait until the server reported one more error than before, naming what (a subject). */
static void expect_violation(client *c, int before, const char *what)
{
    int64_t deadline = lt_test_now_ms() + 10000;
    char last[512];

    ck_assert_int_eq(natsConnection_Flush(c->nc), NATS_OK);
    while (errors(c, last, sizeof(last)) == before && lt_test_now_ms() < deadline)
        lt_test_sleep_ms(10);
    ck_assert_msg(errors(c, last, sizeof(last)) > before, "no permission violation for %s", what);
    ck_assert_msg(strstr(last, "Permissions Violation") != NULL && strstr(last, what) != NULL,
                  "want a permissions violation naming %s, got: %s", what, last);
}

static void pub_refused(client *c, const char *subject)
{
    int before = errors(c, NULL, 0);

    ck_assert_int_eq(natsConnection_PublishString(c->nc, subject, "x"), NATS_OK);
    expect_violation(c, before, subject);
}

static void sub_refused(client *c, const char *subject)
{
    int before = errors(c, NULL, 0);
    natsSubscription *sub = NULL;

    ck_assert_int_eq(natsConnection_SubscribeSync(&sub, c->nc, subject), NATS_OK);
    expect_violation(c, before, subject);
    natsSubscription_Destroy(sub);
}

/* A well-formed heartbeat CloudEvent of host `source` on subject. */
static void publish_heartbeat(client *c, const char *subject, const char *source)
{
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    lt_ce_event attrs = { .type = "dev.latticed.host.heartbeat.v1", .source = source };
    natsMsg *m = NULL;

    hb.host_id = (char *)source;
    hb.lattice = (char *)"default";
    hb.version = (char *)"0.1.0";
    hb.sequence = 1;
    hb.interval_ms = 500;
    ck_assert_int_eq(lt_ce_to_msg_proto(&m, subject, &attrs, &hb.base, false), LT_OK);
    ck_assert_int_eq(natsConnection_PublishMsg(c->nc, m), NATS_OK);
    natsMsg_Destroy(m);
}

/* ---- the deploy config on a real server ------------------------------------------------------ */

static char *deploy_config(void)
{
    char *text = NULL, *out, *p;
    const char *from = "/var/lib/nats/jetstream";
    size_t len = 0;

    ck_assert_int_eq(lt_test_read_file(LT_SOURCE_ROOT "/deploy/nats/permissions.conf", 1 << 20,
                                       &text, &len),
                     LT_OK);
    p = strstr(text, from);
    ck_assert_ptr_nonnull(p);
    out = lt_malloc(len + 64);
    ck_assert_ptr_nonnull(out);
    snprintf(out, len + 64, "%.*s@DIR@/js%s", (int)(p - text), text, p + strlen(from));
    p = strstr(out, "listen: 127.0.0.1:4222"); /* the harness picks a free port */
    ck_assert_ptr_nonnull(p);
    p[0] = '#';
    lt_free(text);
    return out;
}

static bool log_has(const sec_proc *p, const char *text)
{
    char *log = sec_log(p);
    bool yes = strstr(log, text) != NULL;

    lt_free(log);
    return yes;
}

START_TEST(deploy_permissions)
{
    char *conf = deploy_config();
    lt_natsrv_opts o = { .no_jetstream = true, /* the config enables it */
                         .probe_user = "latticed",
                         .probe_password = "CHANGE-ME-latticed" };
    const char *ctl[3];
    lt_test_cmd_result r;
    sec_proc *d, *ha, *hb;
    client a, api;
    sec s;

    sec_init(&s, false);
    o.config_text = conf;
    ck_assert_int_eq(lt_natsrv_start(&s.srv, &o), LT_OK);
    lt_free(conf);
    {
        const char *const dconn[] = { "--nats-url", sec_url(&s, "latticed:CHANGE-ME-latticed"),
                                      NULL };
        const char *const aconn[] = { "--nats-url",
                                      sec_url(&s, "host-a:CHANGE-ME-host-a"),
                                      "--host-id",
                                      "host-a",
                                      "--default-runner",
                                      "sleep 600",
                                      "--heartbeat-interval",
                                      "500ms",
                                      NULL };
        const char *const bconn[] = { "--nats-url",
                                      sec_url(&s, "host-b:CHANGE-ME-host-b"),
                                      "--host-id",
                                      "host-b",
                                      "--default-runner",
                                      "sleep 600",
                                      "--heartbeat-interval",
                                      "500ms",
                                      NULL };
        const char *argv[16];
        size_t i;

        d = sec_latticed(&s, dconn);
        argv[0] = getenv("LATTICED_HOST_BIN");
        for (i = 0; aconn[i] != NULL; i++)
            argv[i + 1] = aconn[i];
        argv[i + 1] = NULL;
        ha = sec_spawn(&s, "host-a", argv);
        for (i = 0; bconn[i] != NULL; i++)
            argv[i + 1] = bconn[i];
        argv[i + 1] = NULL;
        hb = sec_spawn(&s, "host-b", argv);
    }
    ctl[0] = "--nats-url";
    ctl[1] = sec_url(&s, "api:CHANGE-ME-api");
    ctl[2] = NULL;

    /* latticed, hosts and the API client work end to end with their permissions */
    sec_apply_deployed(&s, ctl);
    {
        const char *const hosts[] = { "hosts", "-o", "json", NULL };
        const char *const events[] = { "events", NULL };

        ck_assert_int_eq(sec_ctl(&s, ctl, hosts, &r), 0);
        ck_assert_msg(strstr(r.out, "\"host-a\"") && strstr(r.out, "\"host-b\""), "%s", r.out);
        lt_test_cmd_result_cleanup(&r);
        ck_assert_int_eq(sec_ctl(&s, ctl, events, &r), 0);
        ck_assert_msg(strstr(r.out, "app.deployed") != NULL, "events: %s%s", r.out, r.err);
        lt_test_cmd_result_cleanup(&r);
    }

    /* host-a cannot speak for host-b or latticed, take host-b's commands, or use JetStream */
    client_open(&a, sec_url(&s, "host-a:CHANGE-ME-host-a"));
    pub_refused(&a, "lattice.default.evt.h.host-b.host.heartbeat");
    pub_refused(&a, "lattice.default.evt.h.host-b.instance.stopped");
    pub_refused(&a, "lattice.default.evt.host.heartbeat"); /* the old form, without host id */
    pub_refused(&a, "lattice.default.evt.cp.app.deployed");
    pub_refused(&a, "lattice.default.host.host-b.stop");
    pub_refused(&a, "wadm.api.default.model.list");
    pub_refused(&a, "wadm.status.default.secapp");
    pub_refused(&a, "$KV.latticed_manifests.app.default.secapp");
    pub_refused(&a, "$JS.API.STREAM.INFO.KV_latticed_manifests");
    pub_refused(&a, "_INBOX.forged.reply"); /* no answer to a request it did not receive */
    sub_refused(&a, "lattice.default.host.host-b.>");
    sub_refused(&a, "lattice.default.host.*.start");
    sub_refused(&a, "lattice.default.evt.>");
    sub_refused(&a, "_INBOX.>");
    {
        /* its own subject is fine; but an event there naming another host is refused */
        int before = errors(&a, NULL, 0);

        publish_heartbeat(&a, "lattice.default.evt.h.host-a.host.heartbeat", "host-z");
        ck_assert_int_eq(natsConnection_Flush(a.nc), NATS_OK);
        ck_assert_int_eq(errors(&a, NULL, 0), before);
    }
    {
        int64_t deadline = lt_test_now_ms() + 10000;
        const char *want = "ce-source 'host-z' is not the subject's host";
        const char *const hosts[] = { "hosts", "-o", "json", NULL };

        while (!log_has(d, want) && lt_test_now_ms() < deadline)
            lt_test_sleep_ms(50);
        ck_assert_msg(log_has(d, want), "latticed did not refuse the forged ce-source");
        ck_assert_int_eq(sec_ctl(&s, ctl, hosts, &r), 0);
        ck_assert_msg(strstr(r.out, "host-z") == NULL, "forged host listed: %s", r.out);
        lt_test_cmd_result_cleanup(&r);
    }
    client_close(&a);

    /* an API client cannot publish host events, command hosts or touch KV */
    client_open(&api, sec_url(&s, "api:CHANGE-ME-api"));
    pub_refused(&api, "lattice.default.evt.h.host-a.host.heartbeat");
    pub_refused(&api, "lattice.default.evt.cp.app.deployed");
    pub_refused(&api, "lattice.default.host.host-a.stop");
    pub_refused(&api, "$KV.latticed_manifests.app.default.secapp");
    pub_refused(&api, "$JS.API.STREAM.DELETE.KV_latticed_manifests");
    sub_refused(&api, "lattice.default.host.host-a.>");
    client_close(&api);

    /* the app still runs on both hosts after all that, and everyone stops cleanly */
    {
        const char *const status[] = { "status", "secapp", "-o", "json", NULL };

        ck_assert_int_eq(sec_ctl(&s, ctl, status, &r), 0);
        ck_assert_msg(strstr(r.out, "\"type\":\"deployed\"") != NULL, "%s", r.out);
        lt_test_cmd_result_cleanup(&r);
    }
    ck_assert_int_eq(sec_stop(ha), 0);
    ck_assert_int_eq(sec_stop(hb), 0);
    ck_assert_int_eq(sec_stop(d), 0);
    ck_assert_msg(!log_has(d, "Permissions Violation") && !log_has(ha, "Permissions Violation"),
                  "a daemon hit its own permissions");
    sec_cleanup(&s);
    nats_Close();
}
END_TEST

int main(void)
{
    Suite *su = suite_create("security_perms");

    lt_test_tcase(su, "perms", 240, (const TTest *const[]){ deploy_permissions, NULL });
    return lt_test_run_suite(su);
}
