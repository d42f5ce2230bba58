/*
 * test_e2e_faults.c - failures with real processes: a host killed with
 * kill -9 (declared lost after the heartbeat timeout, its instances replaced
 * on the others), a host that refuses every start (the app says failed with
 * the host's reason, and retries back off instead of hot-looping), and
 * latticed itself killed in the middle of a rolling upgrade (a new latticed
 * converges with no duplicates), and two replicas where only the leader acts
 * and the standby takes over when the leader is killed.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define L "default"

typedef struct {
    const char *app, *comp, *image;
    size_t want;
} want_arg;

static bool count_is(e2e *e, void *arg)
{
    want_arg *w = arg;

    if (w->image != NULL)
        return e2e_count_image(e, L, w->app, w->image) == w->want;
    return e2e_count(e, L, w->app, w->comp, NULL, NULL) == w->want;
}

static bool hosts_up(e2e *e, void *arg)
{
    const size_t *want = arg;

    return e2e_host_count(e, L) == *want;
}

static void deploy(e2e *e, const char *file)
{
    char *r = e2e_put_deploy(e, L, e2e_corpus(file));

    ck_assert_msg(strcmp(r, "acknowledged") == 0, "deploy %s: %s", file, r);
    free(r);
}

START_TEST(test_host_killed)
{
    e2e *e = e2e_new();
    pid_t pids[3];
    const char *ids[3] = { "k0-00000", "k1-00000", "k2-00000" };
    size_t three = 3, i, victim = 0, best = 0;
    want_arg hello = { "hello-simple", "hello", NULL, 4 }, srv = { "hello-simple", "httpserver",
                                                                   NULL, 1 };
    int64_t t0, took;

    e2e_observe(e, L);
    pids[0] = e2e_hosts(e, L, "k0", 1, NULL, NULL);
    pids[1] = e2e_hosts(e, L, "k1", 1, NULL, NULL);
    pids[2] = e2e_hosts(e, L, "k2", 1, NULL, NULL);
    e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, hosts_up, &three, 20000));
    deploy(e, "manifests/simple.yaml");
    ck_assert(e2e_wait_status(e, L, "hello-simple", "deployed", 30000));
    for (i = 0; i < 3; i++) {
        size_t n = e2e_count(e, L, "hello-simple", NULL, NULL, ids[i]);

        if (n > best) {
            best = n;
            victim = i;
        }
    }
    t0 = e2e_now_ms();
    e2e_kill(e, pids[victim], SIGKILL, true); /* no goodbye: only the timeout tells */
    e2e_sleep_ms(1600); /* until the observer, too, stops counting the dead host */
    ck_assert(e2e_wait(e, count_is, &hello, 20000));
    ck_assert(e2e_wait(e, count_is, &srv, 20000));
    took = e2e_now_ms() - t0;
    /* heartbeat 500 ms, host timeout 2.5 s; replacements follow at once */
    printf("host killed: replacements running %lld ms after kill -9 (timeout 2500 ms)\n",
           (long long)took);
    ck_assert_int_le(took, 2500 + 3000);
    ck_assert_uint_eq(e2e_count(e, L, "hello-simple", NULL, NULL, ids[victim]), 0);
    ck_assert(e2e_wait_status(e, L, "hello-simple", "deployed", 10000));
    e2e_free(e);
}
END_TEST

START_TEST(test_host_refuses_starts)
{
    e2e *e = e2e_new();
    const char *refuse[] = { "--refuse-image", "http-hello-world", NULL };
    size_t one = 1, at5, at15;
    char *msg = NULL, *st;

    e2e_observe(e, L);
    e2e_hosts(e, L, "nope", 1, NULL, refuse);
    e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, hosts_up, &one, 20000));
    deploy(e, "manifests/simple.yaml");
    ck_assert(e2e_wait_status(e, L, "hello-simple", "failed", 20000));
    st = e2e_status(e, L, "hello-simple", &msg);
    ck_assert_msg(strstr(msg, "simulated refusal") != NULL, "status %s: %s", st, msg);
    free(st);
    free(msg);
    e2e_sleep_ms(5000);
    at5 = e2e_starts_sent(e, L);
    e2e_sleep_ms(10000);
    at15 = e2e_starts_sent(e, L);
    printf("refused starts: %zu start items in the first 5 s, %zu in the next 10 s\n", at5,
           at15 - at5);
    /* 4 instances, exponential backoff from 1 s: a handful of rounds, never a hot loop */
    ck_assert_uint_le(at15 - at5, 4 * 6);
    ck_assert_uint_ge(at15, 4 * 2);
    /* the server (another image) runs */
    ck_assert_uint_eq(e2e_count(e, L, "hello-simple", "httpserver", NULL, NULL), 1);
    e2e_free(e);
}
END_TEST

START_TEST(test_latticed_restarted_mid_rollout)
{
    e2e *e = e2e_new();
    size_t two = 2;
    pid_t ld;
    want_arg dog_new = { "updateapp", NULL, "dog-fetcher-rust:0.1.1", 5 };
    want_arg dog_all = { "updateapp", "dog-fetcher", NULL, 5 };
    want_arg hello = { "updateapp", "hello-world", NULL, 3 };
    want_arg echo = { "updateapp", "echo-messaging", NULL, 1 };
    want_arg kv = { "updateapp", "kvcounter", NULL, 0 };
    want_arg srv = { "updateapp", NULL, "http-server", 1 };

    e2e_observe(e, L);
    e2e_hosts(e, L, "r", 2, NULL, NULL);
    ld = e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, hosts_up, &two, 20000));
    deploy(e, "manifests/outdatedapp.yaml");
    ck_assert(e2e_wait_status(e, L, "updateapp", "deployed", 30000));
    deploy(e, "manifests/upgradedapp.yaml");
    e2e_sleep_ms(150); /* in the middle of the rollout */
    e2e_kill(e, ld, SIGKILL, true);
    e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, count_is, &dog_new, 40000));
    ck_assert(e2e_wait(e, count_is, &dog_all, 20000));
    ck_assert(e2e_wait(e, count_is, &hello, 20000));
    ck_assert(e2e_wait(e, count_is, &echo, 20000));
    ck_assert(e2e_wait(e, count_is, &kv, 20000));
    ck_assert(e2e_wait(e, count_is, &srv, 20000));
    ck_assert(e2e_wait_status(e, L, "updateapp", "deployed", 20000));
    /* stable: nothing extra appears afterwards */
    e2e_sleep_ms(2000);
    ck_assert_uint_eq(e2e_count(e, L, "updateapp", NULL, NULL, NULL), 5 + 1 + 3 + 1);
    e2e_free(e);
}
END_TEST

/* Two replicas: only the leader acts (no duplicates); kill -9 it and the standby takes over
 * after the lease ttl, with a newer epoch the hosts accept. */
START_TEST(test_two_replicas_failover)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--replica-id", "replica-a", NULL };
    const char *rb[] = { "--replica-id", "replica-b", NULL };
    pid_t hosts[3], a;
    size_t three = 3;
    want_arg hello = { "hello-simple", "hello", NULL, 4 }, srv = { "hello-simple", "httpserver",
                                                                   NULL, 1 };

    e2e_observe(e, L);
    hosts[0] = e2e_hosts(e, L, "f0", 1, NULL, NULL);
    hosts[1] = e2e_hosts(e, L, "f1", 1, NULL, NULL);
    hosts[2] = e2e_hosts(e, L, "f2", 1, NULL, NULL);
    a = e2e_latticed(e, ra);
    e2e_sleep_ms(1000); /* a takes the lease first */
    e2e_latticed(e, rb);
    ck_assert(e2e_wait(e, hosts_up, &three, 20000));
    deploy(e, "manifests/simple.yaml");
    ck_assert(e2e_wait_status(e, L, "hello-simple", "deployed", 30000));
    e2e_sleep_ms(2000);
    /* exactly what was asked: the standby did not act too */
    ck_assert_uint_eq(e2e_count(e, L, "hello-simple", "hello", NULL, NULL), 4);
    ck_assert_uint_eq(e2e_count(e, L, "hello-simple", "httpserver", NULL, NULL), 1);
    e2e_kill(e, a, SIGKILL, true);
    /* now a host leaves: only the new leader can put its instances back */
    {
        size_t i, best = 0, victim = 0;
        const char *ids[3] = { "f0-00000", "f1-00000", "f2-00000" };

        for (i = 0; i < 3; i++) {
            size_t n = e2e_count(e, L, "hello-simple", NULL, NULL, ids[i]);

            if (n > best) {
                best = n;
                victim = i;
            }
        }
        e2e_kill(e, hosts[victim], SIGTERM, true);
    }
    ck_assert(e2e_wait(e, count_is, &hello, 30000));
    ck_assert(e2e_wait(e, count_is, &srv, 30000));
    ck_assert(e2e_wait_status(e, L, "hello-simple", "deployed", 20000));
    e2e_free(e);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *t;
    SRunner *r;
    int failed;

    e2e_require();
    s = suite_create("e2e_faults");
    t = tcase_create("faults");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_host_killed);
    tcase_add_test(t, test_host_refuses_starts);
    tcase_add_test(t, test_latticed_restarted_mid_rollout);
    tcase_add_test(t, test_two_replicas_failover);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
