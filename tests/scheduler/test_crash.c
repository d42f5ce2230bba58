/*
 * test_crash.c - instances that crash after they started (issue 8, item 8),
 * against the fake fleet: a crashed instance is replaced once and counted, a
 * crash loop backs off exponentially and reports `failed` with the host's own
 * message, never `deployed` while it loops, and once the instances stay up
 * the backoff resets and the status goes back to `deployed`. Both ways a host
 * tells: an instance.failed event, or only heartbeats (events lost or off).
 * And stops carry the placement the host reported, so a late one cannot kill
 * an instance re-created under the same id.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "lt_sched.h"
#include "tmodel.h"

#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

TCase *crash_tcase(void);

static void deploy_one(fleet *f, const char *app, const char *image, uint64_t n)
{
    lt_model *m = tm_app(app, "v1");

    tm_scaler(tm_comp(m, "api", image, false), false, n);
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    tm_free(m);
}

static size_t count_state(const fleet *f, const char *app, int state)
{
    size_t n = 0;

    for (size_t i = 0; i < f->n_hosts; i++)
        for (size_t j = 0; j < f->hosts[i].n_inst; j++)
            n += strcmp(f->hosts[i].inst[j].app, app) == 0 && f->hosts[i].inst[j].state == state;
    return n;
}

/* One crash: reported failed with the host's message while the replacement waits for its
 * backoff, replaced exactly once (one start, the failed one stopped), deployed again. */
static void crash_once(bool event)
{
    lt_sched_config cfg = { .backoff_base_ms = 500, .backoff_max_ms = 8000 };
    fleet *f = fleet_new("default", &cfg);
    const char *why = "exited with code 3 (restart limit reached)";
    int i;

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    fleet_host_add(f, "h3", "", 0, 0);
    deploy_one(f, "crashy", "ghcr.io/acme/api:1", 3);
    fleet_settle(f, 100);
    ck_assert_uint_eq(count_state(f, "crashy", IS(RUNNING)), 3);
    ck_assert_int_eq(fleet_state(f, "crashy"), LT_SCHED_DEPLOYED);
    ck_assert_uint_eq(f->started, 3);
    ck_assert_uint_eq(fleet_fail(f, "h2", "crashy", "api", 1, why, event), 1);
    fleet_step(f, 100); /* the heartbeat that tells (without the event) */
    fleet_step(f, 100); /* its pass, after the debounce */
    /* Within the first backoff (>= 400 ms): failed, with the host's words, not replaced yet. */
    ck_assert_int_eq(fleet_state(f, "crashy"), LT_SCHED_FAILED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "crashy"), "\"type\":\"failed\""));
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "crashy"), why));
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "crashy"), "\"failed\":1"));
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 3);
    ck_assert_uint_eq(f->ev_inst_lost, 1);
    for (i = 0; i < 40; i++) { /* 4 s: the backoff, the replacement, the stability window */
        fleet_step(f, 100);
        ck_assert_uint_le(count_state(f, "crashy", IS(RUNNING)), 3); /* never one too many */
    }
    ck_assert_uint_eq(count_state(f, "crashy", IS(RUNNING)), 3);
    ck_assert_uint_eq(count_state(f, "crashy", IS(FAILED)), 0);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 4); /* replaced once, not double-started */
    ck_assert_uint_eq(f->started, 4);
    ck_assert_uint_eq(f->sent[LT_SCHED_STOP], 1); /* the failed one */
    ck_assert_uint_eq(f->ev_inst_lost, 1);
    ck_assert_int_eq(fleet_state(f, "crashy"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}

START_TEST(test_crash_replaced_once_event)
{
    crash_once(true);
}
END_TEST

START_TEST(test_crash_replaced_once_heartbeat_only)
{
    crash_once(false);
}
END_TEST

/* Crashing 300 ms after every start: 0.5, 1, 2, 4, 8, 8... s (+-20%) between starts. */
static void crash_loop(bool event)
{
    lt_sched_config cfg = { .backoff_base_ms = 500, .backoff_max_ms = 8000 };
    fleet *f = fleet_new("default", &cfg);
    const char *why = "exited with code 1: panic in handler";
    size_t deployed_in_loop = 0, failed_steps = 0, steps = 0, before;
    int i, first = -1;

    fleet_host_add(f, "h1", "", 0, 0);
    f->crash_after_ms = 300;
    f->crash_events = event;
    snprintf(f->crash_image, sizeof(f->crash_image), "crashy");
    snprintf(f->crash_msg, sizeof(f->crash_msg), "%s", why);
    deploy_one(f, "loop", "ghcr.io/acme/crashy:1", 1);
    for (i = 0; i < 600; i++) { /* 60 s */
        fleet_step(f, 100);
        if (first < 0 && f->crashes > 0)
            first = i;
        if (first < 0 || i < first + 2) /* the heartbeat that tells, then its pass */
            continue;
        steps++;
        if (fleet_state(f, "loop") == LT_SCHED_DEPLOYED)
            deployed_in_loop++;
        if (fleet_state(f, "loop") == LT_SCHED_FAILED) {
            failed_steps++;
            ck_assert_ptr_nonnull(strstr(fleet_status(f, "loop"), why));
        }
    }
    /* Exponential: about 10 starts in 60 s, not one per 0.8 s (75). */
    ck_assert_uint_ge(f->started, 6);
    ck_assert_uint_le(f->started, 14);
    ck_assert_uint_eq(f->started, f->sent[LT_SCHED_START]);
    ck_assert_uint_ge(f->crashes, f->started - 1);
    ck_assert_uint_eq(deployed_in_loop, 0);
    ck_assert_uint_ge(failed_steps * 10, steps * 7); /* mostly waiting: failed */
    /* It stops crashing: once it stayed up as long as the last delay, deployed. */
    f->crash_limit = f->crashes;
    for (i = 0; i < 300 && fleet_state(f, "loop") != LT_SCHED_DEPLOYED; i++)
        fleet_step(f, 100);
    ck_assert_int_eq(fleet_state(f, "loop"), LT_SCHED_DEPLOYED);
    ck_assert_uint_eq(count_state(f, "loop", IS(RUNNING)), 1);
    /* The backoff was reset: the next crash is retried after the first delay (<= 0.6 s). */
    before = f->started;
    ck_assert_uint_eq(fleet_fail(f, NULL, "loop", "api", 1, why, event), 1);
    for (i = 0; i < 12 && f->started == before; i++)
        fleet_step(f, 100);
    ck_assert_uint_eq(f->started, before + 1);
    fleet_free(f);
}

START_TEST(test_crash_loop_backs_off_event)
{
    crash_loop(true);
}
END_TEST

START_TEST(test_crash_loop_backs_off_heartbeat_only)
{
    crash_loop(false);
}
END_TEST

/* Stops name the incarnation the host reported (StopItem.placement), also after the same
 * deterministic id was re-created under a new placement. */
START_TEST(test_stops_carry_placement)
{
    lt_sched_config cfg = { .backoff_base_ms = 500, .backoff_max_ms = 8000 };
    fleet *f = fleet_new("default", &cfg);
    char id[40], p1[48];
    int i;

    fleet_host_add(f, "h1", "", 0, 0);
    deploy_one(f, "placed", "ghcr.io/acme/api:1", 1);
    fleet_settle(f, 100);
    ck_assert_uint_eq(f->hosts[0].n_inst, 1);
    snprintf(id, sizeof(id), "%s", f->hosts[0].inst[0].id);
    snprintf(p1, sizeof(p1), "%s", f->hosts[0].inst[0].placement);
    ck_assert_str_eq(p1, "1.1");
    ck_assert_uint_eq(fleet_fail(f, NULL, "placed", "api", 1, "exited with code 1", true), 1);
    fleet_step(f, 100);
    ck_assert_uint_eq(f->sent[LT_SCHED_STOP], 1);
    ck_assert_str_eq(f->last_stop_placement, p1);
    for (i = 0; i < 30; i++)
        fleet_step(f, 100);
    /* Replaced under the same id (the failed one is gone), as a new incarnation. */
    ck_assert_uint_eq(f->hosts[0].n_inst, 1);
    ck_assert_str_eq(f->hosts[0].inst[0].id, id);
    ck_assert_str_eq(f->hosts[0].inst[0].placement, "1.2");
    ck_assert_uint_eq(fleet_fail(f, NULL, "placed", "api", 1, "exited with code 1", true), 1);
    fleet_step(f, 100);
    ck_assert_uint_eq(f->sent[LT_SCHED_STOP], 2);
    ck_assert_str_eq(f->last_stop_placement, "1.2");
    ck_assert_uint_eq(f->stops_left_alone, 0);
    fleet_free(f);
}
END_TEST

TCase *crash_tcase(void)
{
    TCase *t = tcase_create("crash");

    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_crash_replaced_once_event);
    tcase_add_test(t, test_crash_replaced_once_heartbeat_only);
    tcase_add_test(t, test_crash_loop_backs_off_event);
    tcase_add_test(t, test_crash_loop_backs_off_heartbeat_only);
    tcase_add_test(t, test_stops_carry_placement);
    return t;
}
