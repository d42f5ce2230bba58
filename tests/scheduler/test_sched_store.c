/*
 * test_sched_store.c - the scheduler core when the store cannot say what is
 * desired: an app whose deployed manifest is unreadable keeps everything it
 * runs (no stop, no start, no unlink), reports "cannot read version V: why"
 * as reconciling, and converges normally once the manifest is read; only a
 * definite undeploy stops anything.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fleet.h"
#include "lt_sched.h"
#include "tmodel.h"
#include "lt_testutil.h"

static lt_model *hello(const char *version, unsigned n)
{
    lt_model *m = tm_app("hello", version);
    lt_model_component *c = tm_comp(m, "hello", "ghcr.io/hello:0.1.0", false);
    lt_model_component *srv = tm_comp(m, "httpserver", "ghcr.io/http-server:0.23.0", true);

    tm_scaler(c, false, n);
    tm_scaler(srv, false, 1);
    tm_link(srv, "hello", "wasi", "http", "incoming-handler", "address=0.0.0.0:8080");
    return m;
}

static void deploy(fleet *f, lt_model *m)
{
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    tm_free(m);
}

static size_t sent_total(const fleet *f)
{
    return f->sent[LT_SCHED_START] + f->sent[LT_SCHED_STOP] + f->sent[LT_SCHED_LINK] +
           f->sent[LT_SCHED_UNLINK];
}

/* A new scheduler (a restarted latticed) taking over f's hosts. */
static fleet *restart(fleet *f)
{
    fleet *g = fleet_new("default", NULL);

    for (size_t i = 0; i < f->n_hosts; i++) {
        g->hosts[i] = f->hosts[i];
        f->hosts[i].inst = NULL;
    }
    g->n_hosts = f->n_hosts;
    f->n_hosts = 0;
    fleet_free(f);
    lt_sched_set_apps_loaded(g->s, false);
    return g;
}

START_TEST(restart_with_unreadable_manifest_stops_nothing)
{
    fleet *f = fleet_new("default", NULL);
    size_t links;
    lt_sched_app_status st;

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    deploy(f, hello("v1", 5));
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello", "hello"), 5);
    links = fleet_links(f, NULL, NULL);
    ck_assert_uint_gt(links, 0);
    f = restart(f);
    fleet_step(f, 100);
    ck_assert_int_eq(lt_sched_unreadable(f->s, "hello", "v1", "timed out", f->now), LT_OK);
    lt_sched_set_apps_loaded(f->s, true);
    fleet_settle(f, 100);
    ck_assert_uint_eq(sent_total(f), 0); /* no stop, no start, no unlink */
    ck_assert_uint_eq(fleet_count(f, NULL, "hello", NULL), 6);
    ck_assert_uint_eq(fleet_links(f, NULL, NULL), links);
    ck_assert_int_eq(lt_sched_app_status_get(f->s, "hello", &st), LT_OK);
    ck_assert_int_eq(st.state, LT_SCHED_RECONCILING);
    ck_assert_str_eq(st.message, "cannot read version v1: timed out");
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "hello"), "cannot read version v1: timed out"));
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "hello"), "\"version\":\"v1\""));
    ck_assert_uint_eq(f->ev_undeployed, 0);
    /* still unreadable a long time later: still nothing touched */
    for (int i = 0; i < 50; i++)
        fleet_step(f, 1000);
    ck_assert_uint_eq(sent_total(f), 0);
    /* read at last: converges without churn */
    deploy(f, hello("v1", 5));
    fleet_settle(f, 100);
    ck_assert_uint_eq(f->sent[LT_SCHED_STOP], 0);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello", "hello"), 5);
    ck_assert_int_eq(fleet_state(f, "hello"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(unreadable_upgrade_keeps_running_version)
{
    fleet *f = fleet_new("default", NULL);

    fleet_host_add(f, "h1", "", 0, 0);
    deploy(f, hello("v1", 3));
    fleet_settle(f, 100);
    ck_assert_int_eq(lt_sched_unreadable(f->s, "hello", "v2", "no responders", f->now), LT_OK);
    {
        size_t before = sent_total(f);

        fleet_settle(f, 100);
        ck_assert_uint_eq(sent_total(f), before);
    }
    ck_assert_uint_eq(fleet_count_version(f, "hello", "hello", "v1"), 3);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "hello"), "cannot read version v2"));
    /* a definite undeploy does stop */
    ck_assert_int_eq(lt_sched_undeploy(f->s, "hello", false, f->now), LT_OK);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello", NULL), 0);
    fleet_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sched_store");

    lt_test_tcase(s, "unreadable", 0,
                  (const TTest *const[]){ restart_with_unreadable_manifest_stops_nothing,
                                          unreadable_upgrade_keeps_running_version, NULL });
    return lt_test_run_suite(s);
}
