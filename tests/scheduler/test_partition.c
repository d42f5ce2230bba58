/*
 * test_partition.c - the partition guard against a fake fleet whose
 * heartbeats are staggered over the interval, as real hosts' are (issue 8):
 * a cut of our own link makes hosts cross their timeout one or two at a time,
 * which is still a partition; hosts going silent one by one over a short
 * window are one too; a host that dies alone is still evicted; hosts coming
 * back after a partition are not evicted on their way back; starts acked just
 * before a cut are not placed again elsewhere; the operator's --evict-silent
 * still overrides.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "lt_sched.h"
#include "tmodel.h"
#include "lt_testutil.h"

#define STEP 50 /* ms: fine enough for heartbeats staggered by 100 ms */

/* 10 hosts beating every 1000 ms, host i at offset i*100 ms; one instance on each (only
 * started and acknowledged, not yet seen in a heartbeat, when just_started). */
static fleet *ten_hosts(bool just_started)
{
    fleet *f = fleet_new("default", NULL); /* timeout: 3 intervals = 3000 ms */
    lt_model *m = tm_app("spread", "v1");
    lt_model_component *c = tm_comp(m, "echo", "ghcr.io/echo:1", false);
    char id[16];
    int i;

    ck_assert_ptr_nonnull(f);
    for (i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "h-%02d", i);
        fleet_host_add(f, id, "zone=a", 0, 0);
    }
    fleet_stagger(f, 1000);
    tm_scaler(c, false, 10);
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    tm_free(m);
    if (just_started) {
        for (i = 0; i < 10 && f->sent[LT_SCHED_START] < 10; i++)
            fleet_step(f, 1);
        ck_assert_uint_eq(f->sent[LT_SCHED_START], 10);
        return f;
    }
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, NULL, "spread", "echo"), 10);
    ck_assert_uint_eq(fleet_max_per_host(f, "spread", "echo"), 1);
    fleet_settle(f, 200);
    for (i = 0; i < 25; i++) /* every host has reported its instance in a heartbeat */
        fleet_step(f, 100);
    return f;
}

static fleet *ten_staggered(void)
{
    return ten_hosts(false);
}

static void run_ms(fleet *f, int64_t ms)
{
    int64_t end = f->now + ms;

    while (f->now < end)
        fleet_step(f, STEP);
}

static void set_up(fleet *f, size_t from, size_t to, bool up)
{
    size_t i;

    for (i = from; i < to; i++)
        f->hosts[i].up = up;
}

/* Our link cut: all 10 go silent at once, their last heartbeats 100 ms apart. */
START_TEST(test_partition_staggered_cut)
{
    fleet *f = ten_staggered();
    size_t starts = f->sent[LT_SCHED_START], stops = f->sent[LT_SCHED_STOP];

    set_up(f, 0, 10, false);
    run_ms(f, 8000); /* well past every host's timeout */
    ck_assert(lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 10);
    ck_assert_uint_eq(f->ev_host_lost, 0);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts);
    /* Back, staggered as before: nobody is evicted on the way back, nothing is moved. */
    set_up(f, 0, 10, true);
    run_ms(f, 8000);
    ck_assert(!lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 10);
    ck_assert_uint_eq(f->ev_host_lost, 0);
    ck_assert_uint_eq(f->ev_inst_lost, 0);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts);
    ck_assert_uint_eq(f->sent[LT_SCHED_STOP], stops);
    ck_assert_uint_eq(fleet_count(f, NULL, "spread", "echo"), 10);
    fleet_free(f);
}
END_TEST

/* A stalled proxy drops hosts one by one, 300 ms apart: 7 of 10 within the window. */
START_TEST(test_partition_rolling_silence)
{
    fleet *f = ten_staggered();
    size_t i, starts = f->sent[LT_SCHED_START];

    for (i = 0; i < 7; i++) {
        f->hosts[i].up = false;
        run_ms(f, 300);
    }
    run_ms(f, 6000);
    ck_assert(lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 10);
    ck_assert_uint_eq(f->ev_host_lost, 0);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts);
    fleet_free(f);
}
END_TEST

/* One host dies (kill -9): that is individual, it is evicted and its instance moves. */
START_TEST(test_partition_single_host_evicted)
{
    fleet *f = ten_staggered();

    f->hosts[3].up = false;
    run_ms(f, 1900); /* < timeout, whatever its place in the round */
    ck_assert_uint_eq(lt_sched_host_count(f->s), 10);
    run_ms(f, 3000);
    ck_assert(!lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 9);
    ck_assert_uint_eq(f->ev_host_lost, 1);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, NULL, "spread", "echo") -
                          fleet_count(f, f->hosts[3].id, "spread", "echo"),
                      10);
    /* Two more die apart from each other later: still individual (3 of 10 in the window). */
    f->hosts[5].up = false;
    run_ms(f, 1500);
    f->hosts[8].up = false;
    run_ms(f, 6000);
    ck_assert(!lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 7);
    ck_assert_uint_eq(f->ev_host_lost, 3);
    fleet_free(f);
}
END_TEST

/* Hosts dying one batch after the other within the window add up: more than half held. */
START_TEST(test_partition_window_counts_evicted)
{
    fleet *f = ten_staggered();

    /* 3 die together: 30% is individual, evicted. */
    set_up(f, 0, 3, false);
    run_ms(f, 3300);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 7);
    ck_assert_uint_eq(f->ev_host_lost, 3);
    /* 3 more right after: 3 of the 7 left is under half, but 6 of 10 went silent within the
     * window (two host timeouts): held. */
    set_up(f, 3, 6, false);
    run_ms(f, 3300);
    ck_assert(lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 7);
    ck_assert_uint_eq(f->ev_host_lost, 3);
    /* The operator override still evicts them. */
    ck_assert_uint_eq(lt_sched_evict_silent(f->s, f->now), 3);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 4);
    ck_assert(!lt_sched_partitioned(f->s));
    fleet_free(f);
}
END_TEST

/* A partition that heals while one host really died: that host goes after a fresh timeout. */
START_TEST(test_partition_heals_then_dead_host_goes)
{
    fleet *f = ten_staggered();

    set_up(f, 0, 10, false);
    run_ms(f, 6000);
    ck_assert(lt_sched_partitioned(f->s));
    set_up(f, 1, 10, true); /* h-00 never comes back */
    run_ms(f, 1500);
    ck_assert(!lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 10); /* not at once: a fresh timeout */
    run_ms(f, 3000);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 9);
    ck_assert_uint_eq(f->ev_host_lost, 1);
    fleet_free(f);
}
END_TEST

/* Starts acknowledged just before the cut cannot be confirmed by heartbeats that do not come:
 * they are not given up and placed again on the hosts that still answer. */
START_TEST(test_partition_acked_starts_kept)
{
    fleet *f = ten_hosts(true);

    set_up(f, 0, 7, false);
    run_ms(f, 8000); /* past the confirmation timeout (3 intervals) */
    ck_assert(lt_sched_partitioned(f->s));
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 10);
    set_up(f, 0, 7, true);
    run_ms(f, 5000);
    ck_assert(!lt_sched_partitioned(f->s));
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 10);
    ck_assert_uint_eq(f->sent[LT_SCHED_STOP], 0);
    ck_assert_uint_eq(fleet_count(f, NULL, "spread", "echo"), 10);
    fleet_free(f);
}
END_TEST

static Suite *partition_suite(void)
{
    Suite *s = suite_create("partition");

    lt_test_tcase(s, "guard", 0,
                  (const TTest *const[]){
                      test_partition_staggered_cut, test_partition_rolling_silence,
                      test_partition_single_host_evicted, test_partition_window_counts_evicted,
                      test_partition_heals_then_dead_host_goes, test_partition_acked_starts_kept,
                      NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(partition_suite());
}
