/*
 * test_e2e_hosts.c - several labelled hosts against real processes: five
 * latticed-host processes (zone=harbor: harbor-a, harbor-b; zone=ridge:
 * ridge-a, ridge-b; zone=orbit: orbit), the project's manifests
 * (tests/e2e/manifests/). greet: counts, its link with config, undeploy
 * leaves nothing. zones + yard: spreadscaler weights and requirements, a
 * daemonscaler on every host and one on the ridge hosts only. dock: the
 * busier harbor host stops and its instances return on the other one.
 * Built again with -DE2E_PARALLEL as test_e2e_parallel (suite slow): greet,
 * zones, yard and crowd (9000 instances) deployed at once, every count
 * checked as in the separate scenarios.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define L "default"

static const char *const names[5] = { "harbor-a", "harbor-b", "ridge-a", "ridge-b", "orbit" };
static const char *const zones[5] = { "zone=harbor", "zone=harbor", "zone=ridge", "zone=ridge",
                                      "zone=orbit" };
static const char *const ids[5] = { "harbor-a-00000", "harbor-b-00000", "ridge-a-00000",
                                    "ridge-b-00000", "orbit-00000" };
static pid_t pids[5];

static e2e *setup(void)
{
    e2e *e = e2e_new();
    int i;

    e2e_observe(e, L);
    for (i = 0; i < 5; i++) {
        const char *labels[] = { zones[i], NULL };

        pids[i] = e2e_hosts(e, L, names[i], 1, labels, NULL);
    }
    e2e_latticed(e, NULL);
    e2e_expect_hosts(e, L, 5, 20000);
    return e;
}

/* Instances of app/comp on the hosts whose id starts with prefix ("harbor", "ridge"...). */
static size_t on(e2e *e, const char *app, const char *comp, const char *prefix)
{
    size_t n = 0;
    int i;

    for (i = 0; i < 5; i++)
        if (strncmp(ids[i], prefix, strlen(prefix)) == 0)
            n += e2e_count(e, L, app, comp, NULL, ids[i]);
    return n;
}

/* greet: 4 greeters (at most one a host), one front whose link carries its listen address. */
static void check_greet(e2e *e)
{
    e2e_expect_count(e, L, "greet", "greeter", NULL, 4, 15000);
    e2e_expect_count(e, L, "greet", "front", NULL, 1, 15000);
    ck_assert_uint_eq(e2e_max_per_host(e, L, "greet", "greeter"), 1);
    e2e_expect_links(e, L, "listen=127.0.0.1:9400;", 1, 15000);
}

/* zones: greeter 60/20/20 of 5 = 3 harbor, 1 ridge, 1 orbit; front 40/40/20 = one a host;
 * agent (daemonscaler, no spread) one on every host; watcher (daemonscaler, ridge) 2 on each
 * ridge host. */
static void check_zones(e2e *e)
{
    e2e_expect_count(e, L, "zones", "greeter", NULL, 5, 15000);
    e2e_expect_count(e, L, "zones", "front", NULL, 5, 15000);
    e2e_expect_count(e, L, "zones", "agent", NULL, 5, 15000);
    e2e_expect_count(e, L, "zones", "watcher", NULL, 4, 15000);
    ck_assert_uint_eq(on(e, "zones", "greeter", "harbor"), 3);
    ck_assert_uint_eq(on(e, "zones", "greeter", "ridge"), 1);
    ck_assert_uint_eq(on(e, "zones", "greeter", "orbit"), 1);
    ck_assert_uint_le(e2e_max_per_host(e, L, "zones", "greeter"), 2);
    ck_assert_uint_eq(e2e_max_per_host(e, L, "zones", "front"), 1);
    ck_assert_uint_eq(e2e_max_per_host(e, L, "zones", "agent"), 1);
    ck_assert_uint_eq(e2e_count(e, L, "zones", "watcher", NULL, "ridge-a-00000"), 2);
    ck_assert_uint_eq(e2e_count(e, L, "zones", "watcher", NULL, "ridge-b-00000"), 2);
}

/* yard: stacker 40/40 over harbor/ridge = 3 + 2 (none in orbit); gate 40/20 over
 * ridge/orbit = 2 + 1, each with a link carrying its listen address; store in orbit. */
static void check_yard(e2e *e)
{
    e2e_expect_count(e, L, "yard", "stacker", NULL, 5, 15000);
    e2e_expect_count(e, L, "yard", "gate", NULL, 3, 15000);
    e2e_expect_count(e, L, "yard", "store", NULL, 1, 15000);
    ck_assert_uint_eq(on(e, "yard", "stacker", "harbor"), 3);
    ck_assert_uint_eq(on(e, "yard", "stacker", "ridge"), 2);
    ck_assert_uint_eq(on(e, "yard", "stacker", "orbit"), 0);
    ck_assert_uint_eq(on(e, "yard", "gate", "ridge"), 2);
    ck_assert_uint_eq(on(e, "yard", "gate", "orbit"), 1);
    ck_assert_uint_eq(e2e_count(e, L, "yard", "store", NULL, "orbit-00000"), 1);
    e2e_expect_links(e, L, "listen=127.0.0.1:9401;", 3, 15000);
}

#ifndef E2E_PARALLEL
static bool no_links(e2e *e, void *arg)
{
    (void)arg;
    return e2e_link_count(e, L) == 0;
}

START_TEST(test_greet_then_undeploy)
{
    e2e *e = setup();
    json_t *r;

    e2e_deploy_ok(e, L, "greet.yaml");
    e2e_expect_status(e, L, "greet", "deployed", 30000);
    check_greet(e);
    r = e2e_api(e, L, "undeploy", "greet", NULL, 0);
    ck_assert_str_eq(json_string_value(json_object_get(r, "result")), "acknowledged");
    json_decref(r);
    e2e_expect_status(e, L, "greet", "undeployed", 20000);
    e2e_expect_count(e, L, "greet", NULL, NULL, 0, 20000);
    /* the hosts' own heartbeats list no link any more */
    ck_assert_msg(e2e_wait(e, no_links, NULL, 10000), "%zu links left", e2e_link_count(e, L));
    e2e_expect_inventory(e, L, NULL, 0, 10000);
    e2e_free(e);
}
END_TEST

START_TEST(test_spreads_and_daemons)
{
    e2e *e = setup();

    e2e_deploy_ok(e, L, "zones.yaml");
    e2e_deploy_ok(e, L, "yard.yaml");
    e2e_expect_status(e, L, "zones", "deployed", 30000);
    e2e_expect_status(e, L, "yard", "deployed", 30000);
    check_zones(e);
    check_yard(e);
    e2e_free(e);
}
END_TEST

START_TEST(test_host_stop)
{
    e2e *e = setup();
    const char *other;
    char victim[128];
    int i;

    e2e_deploy_ok(e, L, "dock.yaml");
    e2e_expect_status(e, L, "dock", "deployed", 30000);
    e2e_expect_count(e, L, "dock", "loader", NULL, 5, 10000);
    ck_assert_uint_eq(on(e, "dock", NULL, "harbor"), 5);
    snprintf(victim, sizeof(victim), "%s", e2e_busiest(e, L, "dock", "harbor-"));
    ck_assert_uint_ge(e2e_count(e, L, "dock", "loader", NULL, victim), 3);
    other = strcmp(victim, ids[0]) == 0 ? ids[1] : ids[0];
    for (i = 0; i < 5; i++)
        if (strcmp(ids[i], victim) == 0)
            e2e_kill(e, pids[i], SIGTERM, true); /* host.stopping, then gone */
    /* latticed forgets the stopped host, and all five run on the other harbor host */
    e2e_expect_inventory(e, L, victim, -1, 10000);
    e2e_expect_count(e, L, "dock", "loader", other, 5, 20000);
    ck_assert_uint_eq(on(e, "dock", NULL, "ridge") + on(e, "dock", NULL, "orbit"), 0);
    e2e_expect_inventory(e, L, other, 5, 10000);
    e2e_expect_status(e, L, "dock", "deployed", 10000);
    e2e_free(e);
}
END_TEST
#endif

#ifdef E2E_PARALLEL
START_TEST(test_four_apps_in_parallel)
{
    e2e *e = setup();
    int64_t t0 = e2e_now_ms();

    e2e_deploy_ok(e, L, "greet.yaml");
    e2e_deploy_ok(e, L, "zones.yaml");
    e2e_deploy_ok(e, L, "yard.yaml");
    e2e_deploy_ok(e, L, "crowd.yaml");
    e2e_expect_status(e, L, "greet", "deployed", 60000);
    e2e_expect_status(e, L, "zones", "deployed", 60000);
    e2e_expect_status(e, L, "yard", "deployed", 60000);
    e2e_expect_status(e, L, "crowd", "deployed", 120000);
    /* crowd: 9000 members spread evenly over the five hosts, one front with its link */
    e2e_expect_count(e, L, "crowd", "member", NULL, 9000, 30000);
    printf("parallel: crowd's 9000 members observed running after %lld ms\n",
           (long long)(e2e_now_ms() - t0));
    ck_assert_uint_eq(e2e_max_per_host(e, L, "crowd", "member"), 1800);
    e2e_expect_count(e, L, "crowd", "front", NULL, 1, 15000);
    e2e_expect_links(e, L, "listen=127.0.0.1:9402;", 1, 15000);
    check_greet(e);
    check_zones(e);
    check_yard(e);
    /* latticed's own count agrees: crowd 9000 + 1, greet 4 + 1, zones 5 + 5 + 5 + 4, yard
     * 5 + 3 + 1 */
    e2e_expect_inventory(e, L, NULL, 9001 + 5 + 19 + 9, 10000);
    e2e_free(e);
}
END_TEST
#endif

int main(void)
{
#ifdef E2E_PARALLEL
    const TTest *const tests[] = { test_four_apps_in_parallel, NULL };

    return e2e_run_suite("e2e_parallel", 240, tests);
#else
    const TTest *const tests[] = { test_greet_then_undeploy, test_spreads_and_daemons,
                                   test_host_stop, NULL };

    return e2e_run_suite("e2e_hosts", 120, tests);
#endif
}
