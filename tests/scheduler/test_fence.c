/*
 * test_fence.c - leadership safety of the scheduler core against the in-memory
 * fleet (whose hosts fence epochs like real ones): a host that refuses our
 * epoch is fenced off and reported, never deposing the scheduler or stalling
 * the lattice; a new term asks every host for its inventory before acting;
 * links installed by an earlier leader are recovered from the inventories, so
 * a link removed while nobody led is removed.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "lt_buf.h"
#include "lt_log.h"
#include "tmodel.h"
#include "lt_testutil.h"

static lt_model *spread_app(const char *version, uint64_t n)
{
    lt_model *m = tm_app("spread", version);

    tm_scaler(tm_comp(m, "api", "ghcr.io/api:1", false), false, n);
    return m;
}

static lt_model *linked_app(const char *version, bool with_link)
{
    lt_model *m = tm_app("linked", version);
    lt_model_component *api = tm_comp(m, "api", "ghcr.io/api:1", false);
    lt_model_component *kv = tm_comp(m, "cache", "ghcr.io/kv:1", true);

    tm_scaler(api, false, 2);
    tm_scaler(kv, false, 1);
    if (with_link)
        tm_link(api, "cache", "wasi", "keyvalue", "store", "bucket=b1");
    return m;
}

static void deploy(fleet *f, lt_model *m)
{
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    tm_free(m);
}

static bool hosts_json_has(fleet *f, const char *needle)
{
    lt_buf b;
    bool found;

    lt_buf_init(&b, 1 << 20);
    ck_assert_int_eq(lt_sched_hosts_json(f->s, f->now, &b), LT_OK);
    found = strstr(b.ptr, needle) != NULL;
    lt_buf_cleanup(&b);
    return found;
}

/* wadm-style freeze of issue 8: one host was sent a forged epoch 2^64-1 by someone. */
START_TEST(test_forged_epoch_quarantines_host_and_lattice_converges)
{
    fleet *f = fleet_new("default", NULL);
    fleet_host *bad;

    fleet_host_add(f, "h1", "", 0, 0);
    bad = fleet_host_add(f, "h2", "", 0, 0);
    fleet_host_add(f, "h3", "", 0, 0);
    bad->newest_epoch = UINT64_MAX;
    deploy(f, spread_app("v1", 6));
    fleet_settle(f, 200);
    /* Still leading; the bad host was reported to the lease owner, with its claim. */
    ck_assert(lt_sched_leading(f->s, NULL));
    ck_assert_uint_ge(f->stale_calls, 1);
    ck_assert_str_eq(f->stale_host, "h2");
    ck_assert_uint_eq(f->stale_claimed, UINT64_MAX);
    ck_assert(hosts_json_has(f, "\"state\":\"fenced\""));
    /* The lattice converged on the other hosts meanwhile. */
    ck_assert_uint_eq(fleet_count(f, NULL, "spread", "api"), 6);
    ck_assert_uint_eq(fleet_count(f, "h2", "spread", "api"), 0);
    ck_assert_int_eq(fleet_state(f, "spread"), LT_SCHED_DEPLOYED);
    /* The lease owner confirms the claim is bogus: quarantined, reported once. */
    lt_sched_quarantine(f->s, "h2", UINT64_MAX, f->now);
    lt_sched_quarantine(f->s, "h2", UINT64_MAX, f->now);
    ck_assert_uint_eq(f->ev_quarantined, 1);
    ck_assert(hosts_json_has(f, "\"state\":\"quarantined\""));
    ck_assert(hosts_json_has(f, "\"claimed_epoch\":18446744073709551615"));
    /* Scaling up places nothing on it. */
    deploy(f, spread_app("v2", 9));
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, NULL, "spread", "api"), 9);
    ck_assert_uint_eq(fleet_count(f, "h2", "spread", "api"), 0);
    ck_assert(lt_sched_leading(f->s, NULL));
    fleet_free(f);
}
END_TEST

/* A plausible claim (an older term we never saw): the epoch is raised, the host used again. */
START_TEST(test_raised_epoch_lifts_the_fence)
{
    fleet *f = fleet_new("default", NULL);
    fleet_host *h2;

    fleet_host_add(f, "h1", "", 0, 0);
    h2 = fleet_host_add(f, "h2", "", 0, 0);
    h2->newest_epoch = 40;
    deploy(f, spread_app("v1", 4));
    fleet_settle(f, 200);
    ck_assert_uint_eq(f->stale_claimed, 40);
    ck_assert_uint_eq(fleet_count(f, "h2", "spread", "api"), 0);
    lt_sched_set_leader(f->s, true, 41, f->now); /* what the lease owner does */
    ck_assert(!hosts_json_has(f, "\"state\":\"fenced\""));
    deploy(f, spread_app("v2", 8));
    fleet_settle(f, 300);
    ck_assert_uint_eq(fleet_count(f, NULL, "spread", "api"), 8);
    ck_assert_uint_eq(fleet_count(f, "h2", "spread", "api"), 4);
    fleet_free(f);
}
END_TEST

/* A new term sends nothing but inventory requests until every host has answered. */
START_TEST(test_new_term_asks_every_host_first)
{
    lt_sched_config c = { .inventory_ms = 5000 };
    fleet *f = fleet_new("default", &c);
    size_t starts, inv;

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    fleet_host_add(f, "h3", "", 0, 0);
    lt_sched_set_leader(f->s, false, 0, f->now);
    deploy(f, spread_app("v1", 3));
    fleet_step(f, 100);
    f->hold_replies = true;
    starts = f->sent[LT_SCHED_START];
    inv = f->batches[LT_SCHED_INVENTORY];
    lt_sched_set_leader(f->s, true, 2, f->now);
    ck_assert_uint_eq(f->batches[LT_SCHED_INVENTORY], inv + 4); /* 3 hosts + lattice-wide */
    for (int i = 0; i < 5; i++)
        fleet_step(f, 100);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts); /* nothing before the answers */
    f->hold_replies = false;
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, NULL, "spread", "api"), 3);
    /* The inventory requests carried the new epoch: the hosts now fence epoch 1 out. */
    ck_assert_uint_eq(fleet_find(f, "h1")->newest_epoch, 2);
    ck_assert_uint_eq(fleet_find(f, "h3")->newest_epoch, 2);
    fleet_free(f);
}
END_TEST

/* A host that never answers the inventory holds the term back only until the round's time. */
START_TEST(test_silent_host_does_not_block_the_round)
{
    lt_sched_config c = { .command_timeout_ms = 1000, .inventory_ms = 1000 };
    fleet *f = fleet_new("default", &c);

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    lt_sched_set_leader(f->s, false, 0, f->now);
    deploy(f, spread_app("v1", 2));
    fleet_find(f, "h2")->up = false;
    lt_sched_set_leader(f->s, true, 2, f->now);
    fleet_step(f, 500);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 0);
    fleet_step(f, 600); /* the round's time (the command timeout) is over */
    fleet_step(f, 100);
    ck_assert_uint_gt(f->sent[LT_SCHED_START], 0);
    ck_assert_uint_ge(fleet_count(f, "h1", "spread", "api"), 1);
    fleet_free(f);
}
END_TEST

/* Links installed by the previous leader, removed from the spec while nobody led. */
START_TEST(test_links_removed_during_failover_are_removed)
{
    fleet *f = fleet_new("default", NULL);
    fleet *g;
    size_t i;

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    deploy(f, linked_app("v1", true));
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_links(f, "bucket=b1", NULL), 2);
    /* The leader dies; a new process learns the hosts as a follower, sees v2 (no link). */
    g = fleet_new("default", NULL);
    lt_sched_set_leader(g->s, false, 0, g->now);
    for (i = 0; i < f->n_hosts; i++) {
        g->hosts[i] = f->hosts[i];
        f->hosts[i].inst = NULL;
    }
    g->n_hosts = f->n_hosts;
    f->n_hosts = 0;
    fleet_free(f);
    fleet_step(g, 100);
    deploy(g, linked_app("v2", false));
    fleet_step(g, 100);
    lt_sched_set_leader(g->s, true, 2, g->now);
    fleet_settle(g, 300);
    ck_assert_uint_gt(g->inventories, 0);
    ck_assert_uint_eq(fleet_count(g, NULL, "linked", "api"), 2);
    ck_assert_uint_eq(fleet_links(g, NULL, NULL), 0);
    fleet_free(g);
}
END_TEST

/* Statuses are written again now and then, and at once on a new term: a stale write of a
 * deposed leader cannot stay. */
START_TEST(test_statuses_are_republished)
{
    fleet *f = fleet_new("default", NULL);
    size_t before;

    fleet_host_add(f, "h1", "", 0, 0);
    deploy(f, spread_app("v1", 2));
    fleet_settle(f, 200);
    before = f->statuses;
    fleet_step(f, 1000);
    ck_assert_uint_eq(f->statuses, before); /* nothing changed, nothing written */
    for (int i = 0; i < 31; i++)
        fleet_step(f, 1000);
    ck_assert_uint_gt(f->statuses, before);
    before = f->statuses;
    lt_sched_set_leader(f->s, true, 2, f->now);
    fleet_settle(f, 50);
    ck_assert_uint_gt(f->statuses, before);
    fleet_free(f);
}
END_TEST

/* The request number of the first inventory request after *arg was set to 0: a new term's
 * lattice-wide one, sent before those to each known host (the fleet hands it on per host). */
static void note_bcast(void *arg, const lt_sched_batch *b)
{
    if (b->verb == LT_SCHED_INVENTORY && *(uint64_t *)arg == 0)
        *(uint64_t *)arg = b->request_no;
}

/* A host answers the lattice-wide inventory request late (its replies are slow: `latticed-host
 * --reply-delay-ms`), with what it ran when it was asked. Its heartbeats came in meanwhile:
 * the answer must not take back the instances they reported. Before, the answer was folded in
 * as the host's freshest view: both instances were lost, and started again elsewhere. */
static void late_answer(bool after_event)
{
    lt_sched_config c = { .command_timeout_ms = 60000 };
    fleet *f = fleet_new("default", &c);
    Latticed__Host__V1__InventoryReply ir = LATTICED__HOST__V1__INVENTORY_REPLY__INIT;
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    Google__Protobuf__Timestamp started = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Latticed__Host__V1__InstanceStopped ev = LATTICED__HOST__V1__INSTANCE_STOPPED__INIT;
    Latticed__Host__V1__Instance gone = LATTICED__HOST__V1__INSTANCE__INIT;
    lt_sched_app_status st;
    uint64_t bcast = 0;
    size_t starts;

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    lt_sched_set_leader(f->s, false, 0, f->now);
    fleet_step(f, 100);
    f->on_batch = note_bcast;
    f->on_batch_arg = &bcast;
    lt_sched_set_leader(f->s, true, 2, f->now); /* a new term: the inventory round */
    fleet_settle(f, 50);
    ck_assert_uint_ne(bcast, 0);
    deploy(f, spread_app("v1", 2));
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, NULL, "spread", "api"), 2);
    starts = f->sent[LT_SCHED_START];
    /* h1's late answer to the round's lattice-wide request: no instances yet (the fleet's
     * hosts start at 1700000000 + their index: the same process) */
    started.seconds = 1700000000;
    hb.host_id = (char *)"h1";
    hb.lattice = (char *)"";
    hb.started_at = &started;
    hb.sequence = 1;
    if (after_event) {
        /* as recent as the last heartbeat, but an instance event of h1 came after the
         * request: the sequence cannot tell, the event's time can */
        hb.sequence = fleet_find(f, "h1")->seq;
        gone.instance_id = (char *)"i-stopped-meanwhile";
        ev.host_id = (char *)"h1";
        ev.lattice = (char *)"";
        ev.instance = &gone;
        ck_assert_int_eq(lt_sched_on_instance_stopped(f->s, "h1", &ev, f->now), LT_OK);
    }
    hb.interval_ms = 1000;
    hb.newest_epoch = 2;
    ir.host_id = (char *)"h1";
    ir.code = LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_OK;
    ir.newest_epoch = 2;
    ir.heartbeat = &hb;
    lt_sched_on_inventory(f->s, bcast, &ir, LT_OK, f->now);
    /* the hosts fall silent (no heartbeat puts things right), the scheduler runs a pass */
    fleet_find(f, "h1")->up = false;
    fleet_find(f, "h2")->up = false;
    fleet_step(f, 50);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts);
    ck_assert_int_eq(lt_sched_app_status_get(f->s, "spread", &st), LT_OK);
    ck_assert_uint_eq(st.component_count, 1);
    ck_assert_uint_eq(st.components[0].running, 2);
    fleet_find(f, "h1")->up = true;
    fleet_find(f, "h2")->up = true;
    fleet_free(f);
}

START_TEST(test_late_inventory_answer_is_not_newer_than_heartbeats)
{
    late_answer(false); /* its sequence is older than the heartbeats folded in */
}
END_TEST

START_TEST(test_late_inventory_answer_is_not_newer_than_events)
{
    late_answer(true);
}
END_TEST

/* An answer nothing newer was heard of since it was asked for is the host's freshest view: an
 * instance only it lists is known from then on (the other half of the test above). */
START_TEST(test_timely_inventory_answer_is_used)
{
    lt_sched_config c = { .command_timeout_ms = 60000, .inventory_ms = 5000 };
    fleet *f = fleet_new("default", &c);
    Latticed__Host__V1__InventoryReply ir = LATTICED__HOST__V1__INVENTORY_REPLY__INIT;
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    Latticed__Host__V1__Instance in = LATTICED__HOST__V1__INSTANCE__INIT, *inp = &in;
    Google__Protobuf__Timestamp started = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    uint64_t bcast = 0;

    fleet_host_add(f, "h1", "", 0, 0);
    lt_sched_set_leader(f->s, false, 0, f->now);
    fleet_step(f, 100);
    fleet_find(f, "h1")->up = false; /* no heartbeat, no answer from the fleet */
    f->on_batch = note_bcast;
    f->on_batch_arg = &bcast;
    lt_sched_set_leader(f->s, true, 2, f->now);
    fleet_step(f, 10);
    ck_assert_uint_ne(bcast, 0);
    ck_assert(hosts_json_has(f, "\"instances\":0,"));
    started.seconds = 1700000000;
    in.instance_id = (char *)"i-only-in-the-answer";
    in.component_id = (char *)"other";
    in.state = LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_RUNNING;
    hb.host_id = (char *)"h1";
    hb.lattice = (char *)"";
    hb.started_at = &started;
    hb.sequence = fleet_find(f, "h1")->seq; /* its last heartbeat's */
    hb.interval_ms = 1000;
    hb.newest_epoch = 2;
    hb.n_instances = 1;
    hb.instances = &inp;
    ir.host_id = (char *)"h1";
    ir.code = LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_OK;
    ir.newest_epoch = 2;
    ir.heartbeat = &hb;
    lt_sched_on_inventory(f->s, bcast, &ir, LT_OK, f->now);
    ck_assert(hosts_json_has(f, "\"instances\":1,"));
    fleet_find(f, "h1")->up = true;
    fleet_free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fence");

    lt_test_tcase(s, "core", 60,
                  (const TTest *const[]){
                      test_forged_epoch_quarantines_host_and_lattice_converges,
                      test_raised_epoch_lifts_the_fence, test_new_term_asks_every_host_first,
                      test_silent_host_does_not_block_the_round,
                      test_links_removed_during_failover_are_removed, test_statuses_are_republished,
                      test_late_inventory_answer_is_not_newer_than_heartbeats,
                      test_late_inventory_answer_is_not_newer_than_events,
                      test_timely_inventory_answer_is_used, NULL });
    return s;
}

int main(void)
{
    lt_log_configure(LT_LOG_WARN, false);
    return lt_test_run_suite(suite());
}
