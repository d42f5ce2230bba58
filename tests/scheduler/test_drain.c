/*
 * test_drain.c - the scheduling eligibility of hosts in the scheduler core
 * (scheduler/drain.c): a cordoned host gets no new instances and keeps what
 * it runs; a draining one is emptied within the rollout bound, replacements
 * first; uncordon makes it eligible again; a mode set before the host joins
 * applies when it does; daemons; the hosts inventory's "scheduling" word.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fleet.h"
#include "lt_sched.h"
#include "tmodel.h"
#include "lt_testutil.h"

#define RUNNING LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_RUNNING

static void deploy_hello(fleet *f, const char *version, unsigned n, bool daemon)
{
    lt_model *m = tm_app("hello", version);
    lt_model_component *c = tm_comp(m, "hello", "ghcr.io/hello:0.1.0", false);

    tm_scaler(c, daemon, n);
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    tm_free(m);
}

static size_t running(const fleet *f)
{
    size_t n = 0;

    for (size_t i = 0; i < f->n_hosts; i++)
        for (size_t j = 0; j < f->hosts[i].n_inst; j++)
            n += strcmp(f->hosts[i].inst[j].app, "hello") == 0 &&
                 f->hosts[i].inst[j].state == RUNNING;
    return n;
}

static void set_mode(fleet *f, const char *host, lt_sched_host_mode m)
{
    ck_assert_int_eq(lt_sched_set_host_mode(f->s, host, m, f->now), LT_OK);
    FLEET_CHECK(f);
}

/* The "scheduling" word of host in the hosts inventory JSON. */
static bool hosts_json_says(const fleet *f, const char *host, const char *word)
{
    lt_buf b;
    char want[256];
    const char *p;
    bool yes;

    lt_buf_init(&b, 1 << 20);
    ck_assert_int_eq(lt_sched_hosts_json(f->s, f->now, &b), LT_OK);
    snprintf(want, sizeof(want), "{\"id\":\"%s\"", host);
    p = strstr(b.ptr, want);
    ck_assert_ptr_nonnull(p);
    snprintf(want, sizeof(want), "\"scheduling\":\"%s\"}", word);
    p = strstr(p, "\"scheduling\":");
    yes = p != NULL && strncmp(p, want, strlen(want)) == 0;
    lt_buf_cleanup(&b);
    return yes;
}

START_TEST(words_parse_back)
{
    lt_sched_host_mode m;

    for (int i = LT_SCHED_HOST_READY; i <= LT_SCHED_HOST_DRAINING; i++) {
        ck_assert(lt_sched_host_mode_parse(lt_sched_host_mode_word((lt_sched_host_mode)i), &m));
        ck_assert_int_eq(m, i);
    }
    ck_assert(!lt_sched_host_mode_parse("drained", &m)); /* shown, never set */
    ck_assert(!lt_sched_host_mode_parse(NULL, &m));
}
END_TEST

START_TEST(cordon_then_deploy_places_nothing_there)
{
    fleet *f = fleet_new("default", NULL);

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    fleet_host_add(f, "h3", "", 0, 0);
    set_mode(f, "h2", LT_SCHED_HOST_CORDONED);
    ck_assert(hosts_json_says(f, "h2", "cordoned"));
    ck_assert(hosts_json_says(f, "h1", "ready"));
    deploy_hello(f, "v1", 6, false);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h2", "hello", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 3);
    ck_assert_uint_eq(fleet_count(f, "h3", "hello", NULL), 3);
    ck_assert_int_eq(fleet_state(f, "hello"), LT_SCHED_DEPLOYED);
    /* every host cordoned: a deploy says why nothing can be placed */
    set_mode(f, "h1", LT_SCHED_HOST_CORDONED);
    set_mode(f, "h3", LT_SCHED_HOST_CORDONED);
    {
        lt_model *m = tm_app("other", "v1");

        tm_scaler(tm_comp(m, "other", "ghcr.io/other:0.1.0", false), false, 2);
        ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
        tm_free(m);
    }
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, NULL, "other", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello", NULL), 6); /* kept, not stopped */
    ck_assert_int_eq(fleet_state(f, "other"), LT_SCHED_FAILED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "other"), "0 eligible hosts"));
    fleet_free(f);
}
END_TEST

START_TEST(cordon_keeps_what_runs)
{
    fleet *f = fleet_new("default", NULL);

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    deploy_hello(f, "v1", 4, false);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 2);
    f->sent[LT_SCHED_STOP] = 0;
    set_mode(f, "h1", LT_SCHED_HOST_CORDONED);
    fleet_settle(f, 200);
    ck_assert_uint_eq(f->sent[LT_SCHED_STOP], 0);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 2);
    ck_assert_int_eq(fleet_state(f, "hello"), LT_SCHED_DEPLOYED);
    /* a scale-up goes to the other host only */
    deploy_hello(f, "v1", 6, false);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello", NULL), 6);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 2);
    ck_assert_uint_eq(fleet_count(f, "h2", "hello", NULL), 4);
    fleet_free(f);
}
END_TEST

START_TEST(drain_moves_within_the_rollout_bound)
{
    fleet *f = fleet_new("default", NULL);
    size_t min_run = SIZE_MAX;

    for (int i = 1; i <= 4; i++) {
        char id[8];

        snprintf(id, sizeof(id), "h%d", i);
        fleet_host_add(f, id, "", 0, 0);
    }
    deploy_hello(f, "v1", 8, false); /* no rollout policy: 25% = 2 may be unavailable */
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 2);
    set_mode(f, "h1", LT_SCHED_HOST_DRAINING);
    ck_assert(hosts_json_says(f, "h1", "draining"));
    for (int i = 0; i < 200; i++) {
        fleet_step(f, 100);
        if (running(f) < min_run)
            min_run = running(f);
        ck_assert_uint_le(fleet_count(f, NULL, "hello", NULL), 8 + 2);
    }
    ck_assert_uint_ge(min_run, 8 - 2);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 0);
    ck_assert_uint_eq(running(f), 8);
    ck_assert_int_eq(fleet_state(f, "hello"), LT_SCHED_DEPLOYED);
    ck_assert(hosts_json_says(f, "h1", "drained"));
    /* uncordon: eligible again, the next placement may use it */
    set_mode(f, "h1", LT_SCHED_HOST_READY);
    ck_assert(hosts_json_says(f, "h1", "ready"));
    deploy_hello(f, "v1", 12, false);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 3);
    fleet_free(f);
}
END_TEST

START_TEST(drain_replaces_before_stopping)
{
    fleet *f = fleet_new("default", NULL);

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    deploy_hello(f, "v1", 2, false); /* 25% of 2: at least 1 may be unavailable */
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 1);
    set_mode(f, "h1", LT_SCHED_HOST_DRAINING);
    for (int i = 0; i < 100; i++) {
        fleet_step(f, 100);
        ck_assert_uint_ge(running(f), 1);
    }
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, "h2", "hello", NULL), 2);
    fleet_free(f);
}
END_TEST

START_TEST(mode_set_before_the_host_joins)
{
    fleet *f = fleet_new("default", NULL);

    set_mode(f, "h2", LT_SCHED_HOST_CORDONED);
    ck_assert(!lt_sched_host_known(f->s, "h2"));
    ck_assert_int_eq(lt_sched_host_mode_get(f->s, "h2"), LT_SCHED_HOST_CORDONED);
    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    ck_assert(lt_sched_host_known(f->s, "h2"));
    deploy_hello(f, "v1", 4, false);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h2", "hello", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 4);
    ck_assert_int_eq(lt_sched_set_host_mode(f->s, "", LT_SCHED_HOST_CORDONED, f->now),
                     LT_ERR_INVALID);
    fleet_free(f);
}
END_TEST

START_TEST(daemons_stay_on_cordoned_and_leave_draining_hosts)
{
    fleet *f = fleet_new("default", NULL);
    lt_sched_app_status st;

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    fleet_host_add(f, "h3", "", 0, 0);
    deploy_hello(f, "v1", 1, true);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello", NULL), 3);
    set_mode(f, "h1", LT_SCHED_HOST_CORDONED);
    set_mode(f, "h2", LT_SCHED_HOST_DRAINING);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 1);
    ck_assert_uint_eq(fleet_count(f, "h2", "hello", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, "h3", "hello", NULL), 1);
    ck_assert_int_eq(lt_sched_app_status_get(f->s, "hello", &st), LT_OK);
    ck_assert_int_eq(st.state, LT_SCHED_DEPLOYED);
    ck_assert_uint_eq(st.components[0].desired, 2);
    ck_assert_uint_eq(st.components[0].running, 2);
    fleet_free(f);
}
END_TEST

/* wasmCloud v2 lattices share the placement: the same cordon and drain. */
START_TEST(v2_lattices_cordon_and_drain_too)
{
    lt_sched_config cfg = { .wasmcloud_v2 = true };
    fleet *f = fleet_new("default", &cfg);

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    fleet_host_add(f, "h3", "", 0, 0);
    set_mode(f, "h1", LT_SCHED_HOST_CORDONED);
    deploy_hello(f, "v1", 4, false);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello", NULL), 4);
    set_mode(f, "h2", LT_SCHED_HOST_DRAINING);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h1", "hello", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, "h2", "hello", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, "h3", "hello", NULL), 4);
    ck_assert_int_eq(fleet_state(f, "hello"), LT_SCHED_DEPLOYED);
    ck_assert(hosts_json_says(f, "h2", "drained"));
    fleet_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sched_drain");

    lt_test_tcase(s, "drain", 0,
                  (const TTest *const[]){
                      words_parse_back, cordon_then_deploy_places_nothing_there,
                      cordon_keeps_what_runs, drain_moves_within_the_rollout_bound,
                      drain_replaces_before_stopping, mode_set_before_the_host_joins,
                      daemons_stay_on_cordoned_and_leave_draining_hosts,
                      v2_lattices_cordon_and_drain_too, NULL });
    return lt_test_run_suite(s);
}
