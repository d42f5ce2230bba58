/*
 * test_e2e_hosts.c - wadm's e2e_multiple_hosts scenarios against real
 * processes: 5 labelled hosts (2 us-brooks-east, 2 us-taylor-west, 1 moon),
 * each its own latticed-host process. simple.yaml (counts, link with its
 * config, undeploy leaves nothing), all_hosts + complex + lotta_components
 * deployed together (built as test_e2e_parallel, suite slow), and host_stop (stop the busiest east host: the 5
 * instances return on the other east host).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define L "default"

typedef struct {
    pid_t pid;
    const char *id;
} host_proc;

static host_proc hosts[5];

static void five_hosts(e2e *e)
{
    static const char *const names[5] = { "east-a", "east-b", "west-a", "west-b", "moon" };
    static const char *const regions[5] = { "region=us-brooks-east", "region=us-brooks-east",
                                            "region=us-taylor-west", "region=us-taylor-west",
                                            "region=moon" };
    static const char *ids[5] = { "east-a-00000", "east-b-00000", "west-a-00000",
                                  "west-b-00000", "moon-00000" };
    int i;

    for (i = 0; i < 5; i++) {
        const char *labels[] = { regions[i], NULL };

        hosts[i].pid = e2e_hosts(e, L, names[i], 1, labels, NULL);
        hosts[i].id = ids[i];
    }
}

static bool five_seen(e2e *e, void *arg)
{
    (void)arg;
    return e2e_host_count(e, L) == 5;
}

static e2e *setup(void)
{
    e2e *e = e2e_new();

    e2e_observe(e, L);
    five_hosts(e);
    e2e_latticed(e, NULL);
    ck_assert_msg(e2e_wait(e, five_seen, NULL, 20000), "5 hosts did not heartbeat");
    return e;
}

typedef struct {
    const char *app, *comp;
    size_t want;
} count_arg;

__attribute__((unused)) static bool count_is(e2e *e, void *arg)
{
    count_arg *c = arg;

    return e2e_count(e, L, c->app, c->comp, NULL, NULL) == c->want;
}

typedef struct {
    const char *cfg;
    size_t want;
} links_arg;

static bool links_are(e2e *e, void *arg)
{
    links_arg *a = arg;

    return e2e_links_with(e, L, a->cfg) == a->want;
}

static void deployed(e2e *e, const char *file, const char *app)
{
    char *r = e2e_put_deploy(e, L, e2e_corpus(file));

    ck_assert_str_eq(r, "acknowledged");
    free(r);
    (void)app;
}

static void wait_deployed(e2e *e, const char *app, int64_t ms)
{
    if (!e2e_wait_status(e, L, app, "deployed", ms)) {
        char *msg = NULL, *st = e2e_status(e, L, app, &msg);

        e2e_dump_logs(e);
        ck_abort_msg("%s is %s (%s), not deployed", app, st, msg);
    }
}

#ifndef E2E_PARALLEL
START_TEST(test_simple_then_undeploy)
{
    e2e *e = setup();
    json_t *r;
    count_arg none = { "hello-simple", NULL, 0 }, four = { "hello-simple", "hello", 4 },
              srv = { "hello-simple", "httpserver", 1 };

    deployed(e, "manifests/simple.yaml", "hello-simple");
    wait_deployed(e, "hello-simple", 30000);
    /* the observer learns from heartbeats, which may lag the status by an interval */
    ck_assert(e2e_wait(e, count_is, &four, 10000));
    ck_assert(e2e_wait(e, count_is, &srv, 10000));
    ck_assert_uint_le(e2e_max_per_host(e, L, "hello-simple", "hello"), 1);
    /* the link from the server to hello, with the server's config */
    {
        links_arg one = { "address=0.0.0.0:8080", 1 }; /* heartbeats may lag the acks */

        ck_assert(e2e_wait(e, links_are, &one, 15000));
    }
    r = e2e_api(e, L, "undeploy", "hello-simple", NULL, 0);
    ck_assert_str_eq(json_string_value(json_object_get(r, "result")), "acknowledged");
    json_decref(r);
    ck_assert(e2e_wait_status(e, L, "hello-simple", "undeployed", 20000));
    ck_assert(e2e_wait(e, count_is, &none, 20000));
    e2e_sleep_ms(1200); /* a fresh heartbeat cycle */
    ck_assert_uint_eq(e2e_count(e, L, "hello-simple", NULL, NULL, NULL), 0);
    ck_assert_uint_eq(e2e_link_count(e, L), 0);
    e2e_free(e);
}
END_TEST
#endif

#ifdef E2E_PARALLEL
START_TEST(test_all_hosts_complex_lotta_in_parallel)
{
    e2e *e = setup();
    size_t east, west, moon;

    deployed(e, "manifests/all_hosts.yaml", "hello-all-hosts");
    deployed(e, "manifests/complex.yaml", "complex");
    deployed(e, "manifests/lotta_components.yaml", "lotta-components");
    wait_deployed(e, "hello-all-hosts", 60000);
    wait_deployed(e, "complex", 60000);
    wait_deployed(e, "lotta-components", 90000);
    {
        /* the observer learns from heartbeats, which may lag the statuses by an interval */
        count_arg seen[] = { { "hello-all-hosts", "hello", 5 }, { "complex", "blobby", 5 },
                             { "complex", "httpserver", 3 }, { "complex", "fileserver", 1 },
                             { "lotta-components", "hello", 9001 } };

        for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
            ck_assert_msg(e2e_wait(e, count_is, &seen[i], 15000), "%s/%s: %zu seen, want %zu",
                          seen[i].app, seen[i].comp,
                          e2e_count(e, L, seen[i].app, seen[i].comp, NULL, NULL), seen[i].want);
    }
    /* all_hosts: 5 hello over east/west/moon 40/40/20, 5 servers (one per host) */
    ck_assert_uint_eq(e2e_count(e, L, "hello-all-hosts", "hello", NULL, NULL), 5);
    ck_assert_uint_eq(e2e_count(e, L, "hello-all-hosts", "httpserver", NULL, NULL), 5);
    ck_assert_uint_eq(e2e_max_per_host(e, L, "hello-all-hosts", "httpserver"), 1);
    ck_assert_uint_eq(e2e_count(e, L, "hello-all-hosts", "hello", NULL, "moon-00000"), 1);
    /* complex: 5 blobby on east/west only, 3 servers on west+moon, 1 fileserver on moon */
    east = e2e_count(e, L, "complex", "blobby", NULL, "east-a-00000") +
           e2e_count(e, L, "complex", "blobby", NULL, "east-b-00000");
    west = e2e_count(e, L, "complex", "blobby", NULL, "west-a-00000") +
           e2e_count(e, L, "complex", "blobby", NULL, "west-b-00000");
    moon = e2e_count(e, L, "complex", "blobby", NULL, "moon-00000");
    ck_assert_uint_eq(east + west, 5);
    ck_assert_uint_eq(east, 3);
    ck_assert_uint_eq(moon, 0);
    ck_assert_uint_eq(e2e_count(e, L, "complex", "httpserver", NULL, NULL), 3);
    ck_assert_uint_eq(e2e_count(e, L, "complex", "httpserver", NULL, "moon-00000"), 1);
    ck_assert_uint_eq(e2e_count(e, L, "complex", "fileserver", NULL, NULL), 1);
    ck_assert_uint_eq(e2e_count(e, L, "complex", "fileserver", NULL, "moon-00000"), 1);
    {
        links_arg three = { "address=0.0.0.0:8081", 3 }; /* heartbeats may lag the acks */

        if (!e2e_wait(e, links_are, &three, 15000)) {
            e2e_dump_logs(e);
            ck_abort_msg("%zu links with address=0.0.0.0:8081, want 3",
                         e2e_links_with(e, L, "address=0.0.0.0:8081"));
        }
    }
    /* lotta: 9001 instances, spread evenly over the 5 hosts */
    ck_assert_uint_eq(e2e_count(e, L, "lotta-components", "hello", NULL, NULL), 9001);
    ck_assert_uint_le(e2e_max_per_host(e, L, "lotta-components", "hello"), 1801);
    ck_assert_uint_eq(e2e_count(e, L, "lotta-components", "httpserver", NULL, NULL), 1);
    e2e_free(e);
}
END_TEST
#endif

#ifndef E2E_PARALLEL
START_TEST(test_host_stop)
{
    e2e *e = setup();
    count_arg five = { "host-stop", "hello", 5 };
    const char *busiest;
    char victim[128];
    int i;

    deployed(e, "manifests/host_stop.yaml", "host-stop");
    wait_deployed(e, "host-stop", 30000);
    /* the observer learns from heartbeats, up to one interval after latticed's replies */
    ck_assert(e2e_wait(e, count_is, &five, 10000));
    ck_assert_uint_eq(e2e_count(e, L, "host-stop", "hello", NULL, "west-a-00000") +
                      e2e_count(e, L, "host-stop", "hello", NULL, "west-b-00000") +
                      e2e_count(e, L, "host-stop", "hello", NULL, "moon-00000"), 0);
    busiest = e2e_busiest(e, L, "host-stop", "east-");
    snprintf(victim, sizeof(victim), "%s", busiest);
    ck_assert_uint_ge(e2e_count(e, L, "host-stop", "hello", NULL, victim), 3);
    for (i = 0; i < 5; i++)
        if (strcmp(hosts[i].id, victim) == 0)
            e2e_kill(e, hosts[i].pid, SIGTERM, true); /* host.stopping, then gone */
    ck_assert(e2e_wait(e, count_is, &five, 20000));
    ck_assert_uint_eq(e2e_count(e, L, "host-stop", "hello", NULL,
                                strcmp(victim, "east-a-00000") == 0 ? "east-b-00000"
                                                                    : "east-a-00000"), 5);
    wait_deployed(e, "host-stop", 10000);
    e2e_free(e);
}
END_TEST
#endif

int main(void)
{
    Suite *s;
    TCase *t;
    SRunner *r;
    int failed;

    e2e_require();
    s = suite_create("e2e_hosts");
    t = tcase_create("multiple_hosts");
    tcase_set_timeout(t, 300);
#ifdef E2E_PARALLEL
    tcase_add_test(t, test_all_hosts_complex_lotta_in_parallel);
#else
    tcase_add_test(t, test_simple_then_undeploy);
    tcase_add_test(t, test_host_stop);
#endif
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
