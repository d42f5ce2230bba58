/*
 * test_converge.c - the fast path of convergence (issue 11) against the fake
 * fleet: a start the host answers with RUNNING counts as running at once (the
 * reference host replies only once each item runs, command.proto), so an app
 * is deployed on the replies, not one heartbeat or instance event later; a
 * reply that does not say RUNNING still waits for the host's inventory; and a
 * start answered RUNNING that never shows in the host's heartbeats is given up
 * after the confirmation timeout and placed again, as before. The hosts answer
 * says "acting" once a deploy would be placed at once.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "lt_buf.h"
#include "lt_sched.h"
#include "tmodel.h"

#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

static bool acting(fleet *f)
{
    lt_buf b;
    bool yes;

    lt_buf_init(&b, 64 * 1024);
    ck_assert_int_eq(lt_sched_hosts_json(f->s, f->now, &b), LT_OK);
    yes = strstr(b.ptr, "\"acting\":true") != NULL;
    ck_assert(yes || strstr(b.ptr, "\"acting\":false") != NULL);
    lt_buf_cleanup(&b);
    return yes;
}

/* The hosts answer says when a deploy would be placed at once (bench_converge waits for it). */
START_TEST(test_hosts_say_acting)
{
    lt_sched_config cfg = { .warmup_ms = 3000 };
    fleet *f = fleet_new("default", &cfg);

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_step(f, 10);
    ck_assert(!acting(f)); /* warming up */
    for (int i = 0; i < 30; i++)
        fleet_step(f, 100);
    ck_assert(acting(f));
    lt_sched_set_leader(f->s, false, 1, f->now);
    ck_assert(!acting(f)); /* a follower places nothing */
    lt_sched_set_leader(f->s, true, 2, f->now);
    fleet_step(f, 10);
    ck_assert(acting(f)); /* the fleet's inventory round takes one step */
    fleet_free(f);
}
END_TEST

TCase *converge_tcase(void);

/* One host beating once a second; the app deployed just after a heartbeat, so the next one is
 * a second away. */
static fleet *one_host_deployed(int reply_state)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("web", "v1");

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_stagger(f, 1000);
    fleet_step(f, 10); /* h1 beats now, next at +1000 */
    f->reply_state = reply_state;
    tm_scaler(tm_comp(m, "api", "ghcr.io/api:1", false), false, 4);
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    tm_free(m);
    return f;
}

START_TEST(test_running_reply_deploys)
{
    fleet *f = one_host_deployed(IS(RUNNING));
    int i;

    for (i = 0; i < 5; i++) /* 50 ms: no heartbeat, the instance events are not delivered */
        fleet_step(f, 10);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 4);
    ck_assert_int_eq(fleet_state(f, "web"), LT_SCHED_DEPLOYED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "web"), "\"running\":4"));
    for (i = 0; i < 150; i++) /* the heartbeats list them: nothing more to do */
        fleet_step(f, 20);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 4);
    ck_assert_int_eq(fleet_state(f, "web"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(test_other_reply_waits_for_inventory)
{
    fleet *f = one_host_deployed(IS(STARTING));
    int i;

    for (i = 0; i < 5; i++)
        fleet_step(f, 10);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 4);
    ck_assert_int_eq(fleet_state(f, "web"), LT_SCHED_RECONCILING);
    for (i = 0; i < 60; i++) /* past the next heartbeat */
        fleet_step(f, 20);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 4);
    ck_assert_int_eq(fleet_state(f, "web"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(test_running_reply_still_confirmed)
{
    fleet *f = one_host_deployed(IS(RUNNING));
    int i;

    for (i = 0; i < 5; i++)
        fleet_step(f, 10);
    ck_assert_int_eq(fleet_state(f, "web"), LT_SCHED_DEPLOYED);
    f->hosts[0].n_inst = 0; /* the host lost them before its next heartbeat */
    for (i = 0; i < 300 && f->sent[LT_SCHED_START] == 4; i++)
        fleet_step(f, 20);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 8); /* placed again after the confirmation */
    for (i = 0; i < 10; i++)
        fleet_step(f, 10);
    ck_assert_int_eq(fleet_state(f, "web"), LT_SCHED_DEPLOYED);
    ck_assert_uint_eq(fleet_count(f, "h1", "web", "api"), 4);
    fleet_free(f);
}
END_TEST

TCase *converge_tcase(void)
{
    TCase *t = tcase_create("converge");

    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_running_reply_deploys);
    tcase_add_test(t, test_other_reply_waits_for_inventory);
    tcase_add_test(t, test_running_reply_still_confirmed);
    tcase_add_test(t, test_hosts_say_acting);
    return t;
}
