/*
 * test_sched.c - the scheduler core against a fake fleet: wadm's spread
 * maths, ids, placement (spreads, labels, evenness, capacity, co-location),
 * links, status words, host loss and the partition guard, ownership,
 * shared apps, rolling upgrades, backoff and batching.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"
#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_sched.h"
#include "sched_int.h" /* lt__sched_check_consistent and the indexes it checks */
#include "tmodel.h"
#include "lt_testutil.h"

#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x

TCase *crash_tcase(void);    /* test_crash.c */
TCase *converge_tcase(void); /* test_converge.c */

/* wadm's simple.yaml: hello x4 (id http_hello_world), httpserver x1 linked to it. */
static lt_model *simple_app(const char *version, const char *addr)
{
    lt_model *m = tm_app("hello-simple", version);
    lt_model_component *hello = tm_comp(m, "hello", "ghcr.io/hello:0.1.0", false);
    lt_model_component *srv = tm_comp(m, "httpserver", "ghcr.io/http-server:0.23.0", true);

    tm_id(m, hello, "http_hello_world");
    tm_scaler(hello, false, 4);
    tm_id(m, srv, "http_server");
    tm_scaler(srv, false, 1);
    tm_link(srv, "hello", "wasi", "http", "incoming-handler", addr);
    return m;
}

static void five_hosts(fleet *f)
{
    fleet_host_add(f, "east-1", "region=us-brooks-east", 0, 0);
    fleet_host_add(f, "east-2", "region=us-brooks-east", 0, 0);
    fleet_host_add(f, "west-1", "region=us-taylor-west", 0, 0);
    fleet_host_add(f, "west-2", "region=us-taylor-west", 0, 0);
    fleet_host_add(f, "moon", "region=moon", 0, 0);
}

static void deploy(fleet *f, lt_model *m)
{
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    tm_free(m);
    FLEET_CHECK(f);
}

/* ---------------------------------------------------------------------------------------------
 * Pure pieces
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_spread_maths)
{
    uint64_t c[4];

    lt_sched_spread_counts(7, (uint64_t[]){ 30, 40 }, 2, c);
    ck_assert_uint_eq(c[0], 3);
    ck_assert_uint_eq(c[1], 4);
    lt_sched_spread_counts(7, (uint64_t[]){ 100, 100 }, 2, c);
    ck_assert_uint_eq(c[0], 4);
    ck_assert_uint_eq(c[1], 3);
    lt_sched_spread_counts(10, (uint64_t[]){ 100, 100 }, 2, c);
    ck_assert_uint_eq(c[0], 5);
    ck_assert_uint_eq(c[1], 5);
    lt_sched_spread_counts(103, (uint64_t[]){ 42, 3, 37, 384 }, 4, c);
    ck_assert_uint_eq(c[0], 10);
    ck_assert_uint_eq(c[1], 0);
    ck_assert_uint_eq(c[2], 8);
    ck_assert_uint_eq(c[3], 85);
    lt_sched_spread_counts(5, (uint64_t[]){ 40, 40, 20 }, 3, c);
    ck_assert_uint_eq(c[0], 2);
    ck_assert_uint_eq(c[1], 2);
    ck_assert_uint_eq(c[2], 1);
    lt_sched_spread_counts(5, (uint64_t[]){ 40, 40 }, 2, c);
    ck_assert_uint_eq(c[0], 3);
    ck_assert_uint_eq(c[1], 2);
    lt_sched_spread_counts(3, (uint64_t[]){ 0, 0 }, 2, c);
    ck_assert_uint_eq(c[0] + c[1], 3);
}
END_TEST

START_TEST(test_ids)
{
    char a[LT_SCHED_ID_LEN + 1], b[LT_SCHED_ID_LEN + 1], l[LT_SCHED_ID_LEN + 1];

    lt_sched_instance_id("default", "app", "v1", "hello", "0", a);
    lt_sched_instance_id("default", "app", "v1", "hello", "0", b);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(strlen(a), LT_SCHED_ID_LEN);
    ck_assert(strncmp(a, "i-", 2) == 0);
    lt_sched_instance_id("default", "app", "v2", "hello", "0", b);
    ck_assert_str_ne(a, b);
    /* SHA-256("default/app/v1/hello/0"), first 32 hex digits (checked with sha256sum). */
    ck_assert_str_eq(a, "i-6f802f369d35283fa59a573f86fa1c0d");
    lt_sched_link_id("default", "app", "src", "wasi", "http", "default", "tgt", l);
    ck_assert(strncmp(l, "l-", 2) == 0);
    ck_assert_uint_eq(strlen(l), LT_SCHED_ID_LEN);
    /* SHA-256("default/app/src/wasi:http/default/tgt"), first 32 hex digits. */
    ck_assert_str_eq(l, "l-85c4768e9693747f6085b38a16911d52");
}
END_TEST

START_TEST(test_state_words)
{
    ck_assert_str_eq(lt_sched_state_word(LT_SCHED_DEPLOYED), "deployed");
    ck_assert_str_eq(lt_sched_state_word(LT_SCHED_WAITING), "waiting");
    ck_assert_int_eq(lt_sched_state_add(LT_SCHED_DEPLOYED, LT_SCHED_RECONCILING),
                     LT_SCHED_RECONCILING);
    ck_assert_int_eq(lt_sched_state_add(LT_SCHED_FAILED, LT_SCHED_UNDEPLOYED), LT_SCHED_FAILED);
    ck_assert_int_eq(lt_sched_state_add(LT_SCHED_UNDEPLOYED, LT_SCHED_WAITING),
                     LT_SCHED_UNDEPLOYED);
    ck_assert_int_eq(lt_sched_state_add(LT_SCHED_UNHEALTHY, LT_SCHED_DEPLOYED), LT_SCHED_UNHEALTHY);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Deploy, links, undeploy
 * ------------------------------------------------------------------------------------------- */

/* What one host answer accepted goes out as one instances.placed event: 2 hosts, 6 instances,
 * 2 events of 3 items, each item naming what the host runs. */
START_TEST(test_placed_events_one_per_answer)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("batched", "v3");
    lt_model_component *c = tm_comp(m, "web", "ghcr.io/acme/web:2", false);

    tm_scaler(c, false, 6);
    fleet_host_add(f, "h-1", "zone=a", 0, 0);
    fleet_host_add(f, "h-2", "zone=b", 0, 0);
    fleet_settle(f, 5);
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "batched", "web"), 6);
    ck_assert_uint_eq(f->batches[LT_SCHED_START], 2);
    ck_assert_uint_eq(f->ev_placed, 6);
    ck_assert_uint_eq(f->ev_placed_events, 2);
    ck_assert_uint_eq(f->ev_placed_wrong, 0);
    fleet_free(f);
}
END_TEST

/* Deploys that keep coming, each within the debounce of the one before (as a burst sent at once
 * reaches the scheduler through the API and the store's watch), are placed by one pass: every
 * host gets one start request with its share of all of them, not one per wave. */
static void burst(fleet *f, int64_t gap_ms, size_t *batches, size_t *placed)
{
    static const char *const names[4] = { "b-0", "b-1", "b-2", "b-3" };
    size_t i;

    for (i = 0; i < 4; i++) {
        lt_model *m = tm_app(names[i], "v1");

        tm_scaler(tm_comp(m, "web", "ghcr.io/acme/web:1", false), false, 4);
        deploy(f, m);
        fleet_step(f, gap_ms);
    }
    fleet_settle(f, 200);
    *batches = f->batches[LT_SCHED_START];
    *placed = f->sent[LT_SCHED_START];
}

START_TEST(test_deploy_burst_one_pass)
{
    lt_sched_config c = { .debounce_ms = 20 }, off = { .debounce_ms = 20, .burst_max_ms = -1 };
    fleet *f = fleet_new("default", &c), *g = fleet_new("default", &off);
    size_t batches = 0, placed = 0, i;

    for (i = 0; i < 4; i++) {
        char id[16];

        snprintf(id, sizeof(id), "h-%zu", i);
        fleet_host_add(f, id, "zone=a", 0, 0);
        fleet_host_add(g, id, "zone=a", 0, 0);
    }
    fleet_settle(f, 5);
    fleet_settle(g, 5);
    /* 15 ms apart: past the 20 ms debounce of the first before the last has come */
    burst(f, 15, &batches, &placed);
    ck_assert_uint_eq(placed, 16);
    ck_assert_uint_eq(batches, 4); /* one request per host */
    ck_assert_int_eq(fleet_state(f, "b-0"), LT_SCHED_DEPLOYED);
    ck_assert_int_eq(fleet_state(f, "b-3"), LT_SCHED_DEPLOYED);
    /* Without the wait (burst_max_ms < 0) the same burst goes out in waves. */
    burst(g, 15, &batches, &placed);
    ck_assert_uint_eq(placed, 16);
    ck_assert_uint_gt(batches, 4);
    fleet_free(f);
    fleet_free(g);
}
END_TEST

/* A burst that never pauses is placed once burst_max_ms has passed since its first deploy. */
START_TEST(test_deploy_burst_bounded)
{
    lt_sched_config c = { .debounce_ms = 20, .burst_max_ms = 50 };
    fleet *f = fleet_new("default", &c);
    int k;

    fleet_host_add(f, "h-0", "zone=a", 0, 0);
    fleet_settle(f, 5);
    for (k = 0; k < 10; k++) { /* one every 10 ms for 100 ms */
        char name[16];
        lt_model *m;

        snprintf(name, sizeof(name), "s-%d", k);
        m = tm_app(name, "v1");
        tm_scaler(tm_comp(m, "web", "ghcr.io/acme/web:1", false), false, 1);
        deploy(f, m);
        fleet_step(f, 10);
        if (k == 6) /* 70 ms in: the first ones went out at 50 ms */
            ck_assert_uint_ge(f->sent[LT_SCHED_START], 1);
    }
    fleet_settle(f, 200);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 10);
    fleet_free(f);
}
END_TEST

START_TEST(test_simple_deploy_and_undeploy)
{
    fleet *f = fleet_new("default", NULL);
    size_t local = 0;
    lt_sched_app_status st;

    five_hosts(f);
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", "hello"), 4);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", "httpserver"), 1);
    ck_assert_uint_eq(fleet_max_per_host(f, "hello-simple", "hello"), 1); /* never piled */
    ck_assert_uint_eq(fleet_links(f, "address=0.0.0.0:8080", &local), 1);
    ck_assert_uint_eq(local, 1); /* the server went next to a hello instance */
    ck_assert_int_eq(fleet_state(f, "hello-simple"), LT_SCHED_DEPLOYED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "hello-simple"), "\"type\":\"deployed\""));
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "hello-simple"), "\"kind\":\"LinkScaler\""));
    ck_assert_int_eq(lt_sched_app_status_get(f->s, "hello-simple", &st), LT_OK);
    ck_assert_uint_eq(st.component_count, 2);
    ck_assert_uint_eq(st.components[0].desired + st.components[1].desired, 5);
    ck_assert_uint_eq(st.components[0].running + st.components[1].running, 5);
    ck_assert_uint_eq(f->ev_app_deployed, 1);
    ck_assert_uint_eq(f->ev_placed, 5);
    ck_assert_uint_eq(f->ev_placed_wrong, 0);
    /* one instances.placed event per host answer, not one per instance */
    ck_assert_uint_le(f->ev_placed_events, 5);
    /* Steady state: nothing more is sent. */
    {
        size_t before = f->sent[0] + f->sent[1] + f->sent[2] + f->sent[3];

        fleet_settle(f, 30);
        ck_assert_uint_eq(f->sent[0] + f->sent[1] + f->sent[2] + f->sent[3], before);
    }
    ck_assert_int_eq(lt_sched_undeploy(f->s, "hello-simple", false, f->now), LT_OK);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", NULL), 0);
    ck_assert_uint_eq(fleet_links(f, NULL, NULL), 0);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "hello-simple"), "\"type\":\"undeployed\""));
    ck_assert_uint_eq(f->ev_undeployed, 1);
    fleet_free(f);
}
END_TEST

START_TEST(test_redeploy_same_version_is_noop)
{
    fleet *f = fleet_new("default", NULL);
    size_t before;

    five_hosts(f);
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    /* The first deploy placed everything: 5 starts, no stop, deployed. */
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", "hello"), 4);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", "httpserver"), 1);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 5);
    ck_assert_uint_eq(f->sent[LT_SCHED_STOP], 0);
    ck_assert_int_eq(fleet_state(f, "hello-simple"), LT_SCHED_DEPLOYED);
    before = f->sent[LT_SCHED_START] + f->sent[LT_SCHED_STOP];
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 50);
    /* The same version again: nothing started or stopped, the same 5 instances, deployed. */
    ck_assert_uint_eq(f->sent[LT_SCHED_START] + f->sent[LT_SCHED_STOP], before);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", "hello"), 4);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", "httpserver"), 1);
    ck_assert_int_eq(fleet_state(f, "hello-simple"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

/* The consistency check itself: it notices each of the three indexes disagreeing. */
START_TEST(test_consistency_check_catches_corruption)
{
    fleet *f = fleet_new("default", NULL);
    sched_host *h;
    sched_app *a;
    sched_obs *o;

    five_hosts(f);
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    ck_assert_int_eq(lt__sched_check_consistent(f->s), LT_OK);
    a = lt_map_get(&f->s->apps, "hello-simple");
    ck_assert_ptr_nonnull(a);
    o = a->obs_head;
    ck_assert_ptr_nonnull(o);
    h = o->host;
    a = o->owner;
    ck_assert_ptr_nonnull(a);
    /* By host: one instance too many counted. */
    h->n_obs++;
    ck_assert_int_eq(lt__sched_check_consistent(f->s), LT_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), h->id));
    h->n_obs--;
    /* By id: the instance is no longer indexed. */
    ck_assert_ptr_eq(lt_map_del(&f->s->obs_by_id, o->id), o);
    ck_assert_int_eq(lt__sched_check_consistent(f->s), LT_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), "id index"));
    ck_assert_int_eq(lt_map_put(&f->s->obs_by_id, o->id, o), LT_OK);
    /* By app: the instance names no owner but stays in its app's list. */
    o->owner = NULL;
    ck_assert_int_eq(lt__sched_check_consistent(f->s), LT_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), a->name));
    o->owner = a;
    ck_assert_int_eq(lt__sched_check_consistent(f->s), LT_OK);
    fleet_free(f);
}
END_TEST

/* all_hosts / complex: weighted spreads over labels; ineligible hosts get nothing. */
START_TEST(test_weighted_spreads_and_ineligible_hosts)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("complex", "v1");
    lt_model_component *blob = tm_comp(m, "blobby", "ghcr.io/blobby:0.1", false);
    lt_model_component *fs = tm_comp(m, "fileserver", "ghcr.io/fs:0.1", true);

    five_hosts(f);
    tm_id(m, blob, "littleblobbytables");
    tm_scaler(blob, false, 5);
    tm_spread(blob, "east", 80, "region=us-brooks-east");
    tm_spread(blob, "west", 20, "region=us-taylor-west");
    tm_scaler(fs, false, 1);
    tm_spread(fs, "moon", 100, "region=moon");
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "complex", "blobby"), 5);
    ck_assert_uint_eq(fleet_count(f, "east-1", "complex", "blobby") +
                          fleet_count(f, "east-2", "complex", "blobby"),
                      4);
    ck_assert_uint_eq(fleet_count(f, "west-1", "complex", "blobby") +
                          fleet_count(f, "west-2", "complex", "blobby"),
                      1);
    ck_assert_uint_eq(fleet_count(f, "moon", "complex", "blobby"), 0);
    ck_assert_uint_eq(fleet_count(f, "east-1", "complex", "blobby"), 2); /* even in a spread */
    ck_assert_uint_eq(fleet_count(f, "moon", "complex", "fileserver"), 1);
    ck_assert_uint_eq(fleet_count(f, NULL, "complex", "fileserver"), 1);
    ck_assert_int_eq(fleet_state(f, "complex"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(test_overlapping_spreads_fail_without_loop)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("overlap", "v1");
    lt_model_component *c = tm_comp(m, "api", "ghcr.io/api:1", false);
    size_t starts;

    fleet_host_add(f, "h1", "region=east,cloud=aws", 0, 0);
    fleet_host_add(f, "h2", "region=west,cloud=gcp", 0, 0);
    tm_scaler(c, false, 4);
    tm_spread(c, "east", 50, "region=east");
    tm_spread(c, "aws", 50, "cloud=aws");
    deploy(f, m);
    fleet_settle(f, 50);
    starts = f->sent[LT_SCHED_START];
    ck_assert_uint_eq(starts, 0);
    ck_assert_int_eq(fleet_state(f, "overlap"), LT_SCHED_FAILED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "overlap"), "Spread requirement conflict"));
    fleet_settle(f, 50);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts);
    ck_assert_uint_eq(f->ev_app_failed, 1); /* reported once, not per pass */
    fleet_free(f);
}
END_TEST

START_TEST(test_no_hosts_waits_then_deploys)
{
    fleet *f = fleet_new("default", NULL);

    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 20);
    ck_assert_int_eq(fleet_state(f, "hello-simple"), LT_SCHED_WAITING);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "hello-simple"), "contains no hosts"));
    fleet_host_add(f, "h1", "", 0, 0);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", NULL), 5);
    ck_assert_int_eq(fleet_state(f, "hello-simple"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(test_no_eligible_hosts_fails)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("nowhere", "v1");
    lt_model_component *c = tm_comp(m, "api", "ghcr.io/api:1", false);

    fleet_host_add(f, "h1", "region=east", 0, 0);
    tm_scaler(c, false, 2);
    tm_spread(c, "mars", 100, "region=mars");
    deploy(f, m);
    fleet_settle(f, 30);
    ck_assert_int_eq(fleet_state(f, "nowhere"), LT_SCHED_FAILED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "nowhere"),
                                 "Could not satisfy spread mars for ghcr.io/api:1, 0 eligible "
                                 "hosts found."));
    fleet_free(f);
}
END_TEST

START_TEST(test_daemonscaler)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("daemons", "v1");
    lt_model_component *c = tm_comp(m, "agent", "ghcr.io/agent:1", false);
    lt_model_component *p = tm_comp(m, "proxy", "ghcr.io/proxy:1", true);

    five_hosts(f);
    tm_scaler(c, true, 2);
    tm_spread(c, "east", 100, "region=us-brooks-east");
    tm_scaler(p, true, 3); /* a capability runs once per host */
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, "east-1", "daemons", "agent"), 2);
    ck_assert_uint_eq(fleet_count(f, "east-2", "daemons", "agent"), 2);
    ck_assert_uint_eq(fleet_count(f, NULL, "daemons", "agent"), 4);
    ck_assert_uint_eq(fleet_count(f, NULL, "daemons", "proxy"), 5);
    ck_assert_uint_eq(fleet_max_per_host(f, "daemons", "proxy"), 1);
    fleet_host_add(f, "east-3", "region=us-brooks-east", 0, 0);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, "east-3", "daemons", "agent"), 2);
    ck_assert_uint_eq(fleet_count(f, "east-3", "daemons", "proxy"), 1);
    ck_assert_int_eq(fleet_state(f, "daemons"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Hosts lost, partitions
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_host_stop_rebalances)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("host-stop", "v1");
    lt_model_component *c = tm_comp(m, "hello", "ghcr.io/hello:0.1.0", false);
    const char *busiest;

    five_hosts(f);
    tm_scaler(c, false, 5);
    tm_spread(c, "eastcoast", 100, "region=us-brooks-east");
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "host-stop", "hello"), 5);
    busiest =
        fleet_count(f, "east-1", "host-stop", NULL) >= fleet_count(f, "east-2", "host-stop", NULL)
            ? "east-1"
            : "east-2";
    fleet_host_stop(f, busiest);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "host-stop", "hello"), 5);
    ck_assert_uint_eq(fleet_count(f, strcmp(busiest, "east-1") == 0 ? "east-2" : "east-1",
                                  "host-stop", "hello"),
                      5);
    ck_assert_uint_eq(f->ev_host_lost, 1);
    fleet_free(f);
}
END_TEST

START_TEST(test_silent_host_lost_after_timeout)
{
    fleet *f = fleet_new("default", NULL);
    fleet_host *dead;
    int i;

    five_hosts(f);
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    dead = fleet_find(f, "west-1");
    if (fleet_count(f, "west-1", "hello-simple", NULL) == 0)
        dead = fleet_find(f, "east-1");
    dead->up = false;        /* kill -9: no goodbye */
    for (i = 0; i < 25; i++) /* 2.5 s < 3 intervals: not yet lost */
        fleet_step(f, 100);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 5);
    fleet_settle(f, 100);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 4);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", "hello") -
                          fleet_count(f, dead->id, "hello-simple", "hello"),
                      4);
    ck_assert_int_eq(fleet_state(f, "hello-simple"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

/* The operator overrides the guard: silent hosts go, their instances move. */
START_TEST(test_partition_operator_evicts)
{
    fleet *f = fleet_new("default", NULL);
    size_t i, starts;

    five_hosts(f);
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    starts = f->sent[LT_SCHED_START];
    for (i = 0; i < 4; i++)
        f->hosts[i].up = false;
    for (i = 0; i < 60; i++)
        fleet_step(f, 100);
    ck_assert(lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 5);
    /* Not connected: nothing is known, nothing is evicted. */
    lt_sched_set_connected(f->s, false, f->now);
    ck_assert_uint_eq(lt_sched_evict_silent(f->s, f->now), 0);
    lt_sched_set_connected(f->s, true, f->now);
    for (i = 0; i < 60; i++)
        fleet_step(f, 100);
    ck_assert_uint_eq(lt_sched_evict_silent(f->s, f->now), 4);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 1);
    ck_assert(!lt_sched_partitioned(f->s));
    fleet_settle(f, 100);
    ck_assert_uint_gt(f->sent[LT_SCHED_START], starts);
    ck_assert_uint_eq(fleet_count(f, f->hosts[4].id, "hello-simple", "hello"), 4);
    fleet_free(f);
}
END_TEST

START_TEST(test_partition_guard)
{
    fleet *f = fleet_new("default", NULL);
    size_t i, starts;

    five_hosts(f);
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    starts = f->sent[LT_SCHED_START];
    for (i = 0; i < 4; i++)
        f->hosts[i].up = false; /* 4 of 5 silent at once */
    for (i = 0; i < 60; i++)
        fleet_step(f, 100);
    ck_assert(lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 5); /* nothing evicted */
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts);
    for (i = 0; i < 4; i++)
        f->hosts[i].up = true;
    fleet_settle(f, 100);
    ck_assert(!lt_sched_partitioned(f->s));
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts);
    ck_assert_int_eq(fleet_state(f, "hello-simple"), LT_SCHED_DEPLOYED);
    /* Our own connection down: no evictions either, and fresh timeouts when it is back. */
    lt_sched_set_connected(f->s, false, f->now);
    for (i = 0; i < 5; i++)
        f->hosts[i].up = false;
    for (i = 0; i < 60; i++)
        fleet_step(f, 100);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 5);
    lt_sched_set_connected(f->s, true, f->now);
    for (i = 0; i < 5; i++)
        f->hosts[i].up = true;
    fleet_settle(f, 100);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 5);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts);
    fleet_free(f);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Capacity
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_slots_and_memory)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("big", "v1");
    lt_model_component *c = tm_comp(m, "api", "ghcr.io/api:1", false);

    fleet_host_add(f, "small", "", 2, 0);
    fleet_host_add(f, "large", "", 0, 1000);
    tm_scaler(c, false, 6);
    tm_resources(c, 200, 0);
    deploy(f, m);
    fleet_settle(f, 100);
    /* small: 2 slots; large: 1000 bytes / 200 = 5: 6 fit in total. */
    ck_assert_uint_le(fleet_count(f, "small", "big", "api"), 2);
    ck_assert_uint_le(fleet_count(f, "large", "big", "api"), 5);
    ck_assert_uint_eq(fleet_count(f, NULL, "big", "api"), 6);
    ck_assert_int_eq(fleet_state(f, "big"), LT_SCHED_DEPLOYED);
    m = tm_app("big", "v2");
    c = tm_comp(m, "api", "ghcr.io/api:1", false);
    tm_scaler(c, false, 9);
    tm_resources(c, 200, 0);
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "big", "api"), 7);
    ck_assert_int_eq(fleet_state(f, "big"), LT_SCHED_FAILED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "big"), "not enough capacity"));
    fleet_free(f);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Ownership and cross-app rules
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_foreign_and_leftovers)
{
    fleet *f = fleet_new("default", NULL);

    five_hosts(f);
    fleet_foreign(f, "east-1", "foreign-1", "hello_simple-hello");
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "hello-simple", NULL), 5);
    /* The foreign instance is still there after deploy and undeploy. */
    ck_assert_int_eq(lt_sched_undeploy(f->s, "hello-simple", true, f->now), LT_OK);
    fleet_settle(f, 100);
    {
        fleet_host *h = fleet_find(f, "east-1");
        size_t i, found = 0;

        for (i = 0; i < h->n_inst; i++)
            found += strcmp(h->inst[i].id, "foreign-1") == 0;
        ck_assert_uint_eq(found, 1);
    }
    fleet_free(f);
}
END_TEST

START_TEST(test_unknown_app_leftovers_are_cleaned)
{
    fleet *f = fleet_new("default", NULL);
    fleet *g;
    size_t i;

    five_hosts(f);
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    /* A new scheduler (restart) that does not know the app: until the store is read it touches
     * nothing, then it removes what no deployed app wants. */
    g = fleet_new("default", NULL);
    for (i = 0; i < f->n_hosts; i++) {
        g->hosts[i] = f->hosts[i];
        f->hosts[i].inst = NULL;
    }
    g->n_hosts = f->n_hosts;
    lt_sched_set_apps_loaded(g->s, false);
    fleet_settle(g, 30);
    ck_assert_uint_eq(fleet_count(g, NULL, "hello-simple", NULL), 5);
    lt_sched_set_apps_loaded(g->s, true);
    fleet_settle(g, 100);
    ck_assert_uint_eq(fleet_count(g, NULL, "hello-simple", NULL), 0);
    f->n_hosts = 0;
    fleet_free(f);
    fleet_free(g);
}
END_TEST

START_TEST(test_same_image_two_apps)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *a = tm_app("app-a", "v1");
    lt_model *b;

    five_hosts(f);
    tm_scaler(tm_comp(a, "web", "ghcr.io/web:1", false), false, 2);
    deploy(f, a);
    b = tm_app("app-b", "v1");
    tm_scaler(tm_comp(b, "web", "ghcr.io/web:1", false), false, 3);
    deploy(f, b);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "app-a", "web"), 2);
    ck_assert_uint_eq(fleet_count(f, NULL, "app-b", "web"), 3);
    ck_assert_int_eq(lt_sched_undeploy(f->s, "app-a", false, f->now), LT_OK);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "app-a", "web"), 0);
    ck_assert_uint_eq(fleet_count(f, NULL, "app-b", "web"), 3);
    fleet_free(f);
}
END_TEST

START_TEST(test_explicit_id_conflict)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m;
    lt_model_component *c;

    five_hosts(f);
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    m = tm_app("dontupdateapp", "v1");
    c = tm_comp(m, "httpserver", "ghcr.io/http-server:0.23.0", true);
    tm_id(m, c, "http_server");
    tm_scaler(c, false, 1);
    deploy(f, m);
    fleet_settle(f, 50);
    ck_assert_uint_eq(fleet_count(f, NULL, "dontupdateapp", NULL), 0);
    ck_assert_int_eq(fleet_state(f, "dontupdateapp"), LT_SCHED_FAILED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "dontupdateapp"),
                                 "Component identifier 'http_server' is already deployed in a "
                                 "different application 'hello-simple'."));
    ck_assert_int_eq(fleet_state(f, "hello-simple"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

static lt_model *shared_http(void)
{
    lt_model *m = tm_app("shared-http", "v1");

    tm_shared(m);
    tm_scaler(tm_comp(m, "httpserver", "ghcr.io/http-server:0.23.0", true), false, 1);
    return m;
}

static lt_model *shared_http_dev(void)
{
    lt_model *m = tm_app("shared-http-dev", "v1");
    lt_model_component *hello = tm_comp(m, "hello", "ghcr.io/hello:0.1.0", false);
    lt_model_component *srv = tm_comp(m, "httpserver", NULL, true);

    tm_scaler(hello, false, 3);
    tm_ref(srv, "shared-http", "httpserver");
    tm_link(srv, "hello", "wasi", "http", "incoming-handler", "address=0.0.0.0:8080");
    return m;
}

START_TEST(test_shared_apps)
{
    fleet *f = fleet_new("default", NULL);

    five_hosts(f);
    /* The consumer before the shared app: it fails to deploy, with wadm's message. */
    deploy(f, shared_http_dev());
    fleet_settle(f, 30);
    ck_assert_int_eq(fleet_state(f, "shared-http-dev"), LT_SCHED_FAILED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "shared-http-dev"),
                                 "Application contains shared components that are not deployed "
                                 "in other applications: [\\\"httpserver\\\"]"));
    ck_assert_uint_eq(fleet_count(f, NULL, "shared-http-dev", NULL), 0);
    deploy(f, shared_http());
    fleet_settle(f, 100);
    ck_assert_int_eq(fleet_state(f, "shared-http-dev"), LT_SCHED_DEPLOYED);
    ck_assert_uint_eq(fleet_count(f, NULL, "shared-http", "httpserver"), 1);
    ck_assert_uint_eq(fleet_count(f, NULL, "shared-http-dev", "hello"), 3);
    /* The consumer's link sits on the shared app's instance. */
    ck_assert_uint_eq(fleet_links(f, "address=0.0.0.0:8080", NULL), 1);
    /* Undeploying the shared app keeps what the consumer uses (#217)... */
    ck_assert_int_eq(lt_sched_undeploy(f->s, "shared-http", false, f->now), LT_OK);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "shared-http", "httpserver"), 1);
    ck_assert_uint_eq(fleet_links(f, "address=0.0.0.0:8080", NULL), 1);
    /* ...until the consumer goes too; its link goes with it. */
    ck_assert_int_eq(lt_sched_undeploy(f->s, "shared-http-dev", false, f->now), LT_OK);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, NULL, NULL), 0);
    ck_assert_uint_eq(fleet_links(f, NULL, NULL), 0);
    fleet_free(f);
}
END_TEST

START_TEST(test_spec_check)
{
    lt_model *a = shared_http(), *b = shared_http_dev();
    lt_sched_spec *sa = NULL, *sb = NULL;
    const lt_sched_spec *others[1];
    lt_buf why;

    ck_assert_int_eq(lt_sched_spec_compile(a, "default", &sa), LT_OK);
    ck_assert_int_eq(lt_sched_spec_compile(b, "default", &sb), LT_OK);
    lt_buf_init(&why, 4096);
    ck_assert_int_eq(lt_sched_spec_check(sb, NULL, 0, &why), LT_ERR_CONFLICT);
    ck_assert_str_eq(why.ptr, "Application contains shared components that are not deployed in "
                              "other applications: [\"httpserver\"]");
    lt_buf_reset(&why);
    others[0] = sa;
    ck_assert_int_eq(lt_sched_spec_check(sb, others, 1, &why), LT_OK);
    lt_buf_cleanup(&why);
    lt_sched_spec_free(sa);
    lt_sched_spec_free(sb);
    tm_free(a);
    tm_free(b);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Upgrades, config, backoff
 * ------------------------------------------------------------------------------------------- */

static lt_model *two_comp_app(const char *version, const char *api_image, const char *cfg)
{
    lt_model *m = tm_app("roll", version);
    lt_model_component *api = tm_comp(m, "api", api_image, false);
    lt_model_component *db = tm_comp(m, "cache", "ghcr.io/cache:1", false);

    tm_scaler(api, false, 8);
    if (cfg != NULL)
        tm_config(api, "settings", "mode", cfg);
    tm_scaler(db, false, 2);
    tm_link(api, "cache", "wasi", "keyvalue", "store", "bucket=b1");
    return m;
}

START_TEST(test_rolling_upgrade_bounded)
{
    fleet *f = fleet_new("default", NULL);
    size_t i, cache_before, min_avail = 100, steps = 0;
    char cache_ids[2][40];

    five_hosts(f);
    deploy(f, two_comp_app("v1", "ghcr.io/api:1", NULL));
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "roll", "api"), 8);
    cache_before = f->sent[LT_SCHED_START];
    {
        size_t k = 0, h, j;

        for (h = 0; h < f->n_hosts; h++)
            for (j = 0; j < f->hosts[h].n_inst; j++)
                if (strcmp(f->hosts[h].inst[j].comp, "cache") == 0 && k < 2)
                    snprintf(cache_ids[k++], 40, "%s", f->hosts[h].inst[j].id);
    }
    deploy(f, two_comp_app("v2", "ghcr.io/api:2", NULL));
    f->answer_late = true;
    for (i = 0; i < 300; i++) {
        size_t avail = fleet_count(f, NULL, "roll", "api");

        if (avail < min_avail)
            min_avail = avail;
        fleet_step(f, 100);
        steps++;
        if (fleet_count_version(f, "roll", "api", "v2") == 8 &&
            fleet_count(f, NULL, "roll", "api") == 8)
            break;
    }
    ck_assert_uint_eq(fleet_count_version(f, "roll", "api", "v2"), 8);
    ck_assert_uint_eq(fleet_count(f, NULL, "roll", "api"), 8);
    /* 25% of 8: never fewer than 6 api instances up. */
    ck_assert_uint_ge(min_avail, 6);
    /* The cache's spec did not change: same instances (still version v1), no restarts. */
    ck_assert_uint_eq(fleet_count_version(f, "roll", "cache", "v1"), 2);
    {
        size_t h, j, same = 0;

        for (h = 0; h < f->n_hosts; h++)
            for (j = 0; j < f->hosts[h].n_inst; j++)
                same += strcmp(f->hosts[h].inst[j].id, cache_ids[0]) == 0 ||
                        strcmp(f->hosts[h].inst[j].id, cache_ids[1]) == 0;
        ck_assert_uint_eq(same, 2);
    }
    (void)cache_before;
    fleet_settle(f, 100);
    ck_assert_int_eq(fleet_state(f, "roll"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(test_config_and_link_value_changes)
{
    fleet *f = fleet_new("default", NULL);
    size_t starts;

    five_hosts(f);
    deploy(f, simple_app("v1", "address=0.0.0.0:8080"));
    fleet_settle(f, 100);
    starts = f->sent[LT_SCHED_START];
    /* #159: only the link's config value changes: the link is updated in place. */
    deploy(f, simple_app("v2", "address=0.0.0.0:8082"));
    fleet_settle(f, 100);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts);
    ck_assert_uint_eq(fleet_links(f, "address=0.0.0.0:8082", NULL), 1);
    ck_assert_uint_eq(fleet_links(f, "address=0.0.0.0:8080", NULL), 0);
    /* A component config value change replaces its instances. */
    deploy(f, two_comp_app("v1", "ghcr.io/api:1", "fast"));
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "roll", "api"), 8);
    starts = f->sent[LT_SCHED_START];
    deploy(f, two_comp_app("v2", "ghcr.io/api:1", "slow"));
    fleet_settle(f, 200);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], starts + 8);
    {
        size_t h, j, slow = 0;

        for (h = 0; h < f->n_hosts; h++)
            for (j = 0; j < f->hosts[h].n_inst; j++)
                slow += strstr(f->hosts[h].inst[j].cfg, "mode=slow") != NULL;
        ck_assert_uint_eq(slow, 8);
    }
    fleet_free(f);
}
END_TEST

START_TEST(test_refused_starts_back_off)
{
    lt_sched_config cfg = { .backoff_base_ms = 500, .backoff_max_ms = 8000 };
    fleet *f = fleet_new("default", &cfg);
    lt_model *m = tm_app("broken", "v1");
    int i;

    fleet_host_add(f, "h1", "", 0, 0);
    f->hosts[0].refuse_code = RC(IMAGE_PULL_FAILED);
    snprintf(f->hosts[0].refuse_msg, sizeof(f->hosts[0].refuse_msg),
             "registry said 401 for ghcr.io/private:1");
    tm_scaler(tm_comp(m, "api", "ghcr.io/private:1", false), false, 1);
    deploy(f, m);
    for (i = 0; i < 600; i++) /* 60 s */
        fleet_step(f, 100);
    /* Exponential: 0.5, 1, 2, 4, 8, 8, ... s (+-20%): about 10 attempts, not 600. */
    ck_assert_uint_ge(f->sent[LT_SCHED_START], 5);
    ck_assert_uint_le(f->sent[LT_SCHED_START], 14);
    ck_assert_int_eq(fleet_state(f, "broken"), LT_SCHED_FAILED);
    ck_assert_ptr_nonnull(strstr(fleet_status(f, "broken"), "registry said 401"));
    /* The host recovers: the next attempt succeeds. */
    f->hosts[0].refuse_code = 0;
    for (i = 0; i < 150; i++) /* longer than the longest backoff */
        fleet_step(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "broken", "api"), 1);
    ck_assert_int_eq(fleet_state(f, "broken"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

#define T_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define T_TP "00-" T_ID "-00f067aa0ba902b7-01"

/* The line of log that contains needle, into out; false when there is none. */
static bool log_line(const char *log, const char *needle, char *out, size_t cap)
{
    const char *p = strstr(log, needle), *b, *e;

    if (p == NULL)
        return false;
    for (b = p; b > log && b[-1] != '\n'; b--) {
    }
    e = strchr(p, '\n');
    snprintf(out, cap, "%.*s", (int)(e != NULL ? e - b : (ptrdiff_t)strlen(b)), b);
    return true;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);

    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* Issue 13, "Traces": the scheduler's log records about the work a traced deploy caused carry
 * its trace id: here the failures of the app's refused starts, answered in the same batches as
 * those of an untraced app, whose records carry none. The trace ends when the app is deployed
 * (a later crash is no part of it), and nothing is left on the thread's log context. */
START_TEST(test_deploy_trace_on_log_lines)
{
    lt_sched_config cfg = { .backoff_base_ms = 500, .backoff_max_ms = 2000 };
    lt_model *m = tm_app("traced", "v1"), *other;
    char path[] = "/tmp/lt-sched-trace-XXXXXX", line[1024];
    char *log = NULL;
    size_t len = 0;
    int fd = mkstemp(path), i;
    fleet *f;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0); /* the log writes to stderr */
    lt_log_configure(LT_LOG_DEBUG, false);
    f = fleet_new("default", &cfg);
    fleet_host_add(f, "h1", "", 0, 0);
    f->hosts[0].refuse_code = RC(IMAGE_PULL_FAILED);
    snprintf(f->hosts[0].refuse_msg, sizeof(f->hosts[0].refuse_msg), "pull refused");
    tm_scaler(tm_comp(m, "api", "ghcr.io/traced:1", false), false, 1);
    deploy(f, m);
    lt_sched_app_trace_set(f->s, "traced", T_TP, T_ID, f->now);
    ck_assert_str_eq(lt_sched_app_traceparent(f->s, "traced"), T_TP);
    other = tm_app("plain", "v1"); /* one model at a time (tmodel.c) */
    tm_scaler(tm_comp(other, "web", "ghcr.io/plain:1", false), false, 1);
    deploy(f, other);
    for (i = 0; i < 30; i++)
        fleet_step(f, 100);
    ck_assert_str_eq(lt_log_trace_get(), ""); /* reset after the app's work */
    ck_assert_int_eq(fleet_state(f, "traced"), LT_SCHED_FAILED);
    ck_assert_str_eq(lt_sched_app_traceparent(f->s, "traced"), T_TP); /* still its work */
    f->hosts[0].refuse_code = 0;
    for (i = 0; i < 50; i++)
        fleet_step(f, 100);
    ck_assert_int_eq(fleet_state(f, "traced"), LT_SCHED_DEPLOYED);
    ck_assert_ptr_null(lt_sched_app_traceparent(f->s, "traced")); /* the trace ended */
    ck_assert_uint_eq(fleet_fail(f, NULL, "traced", NULL, 1, "boom", true), 1);
    for (i = 0; i < 5; i++)
        fleet_step(f, 100);
    ck_assert_str_eq(lt_log_trace_get(), "");
    fleet_free(f);
    lt_log_flush();
    ck_assert_int_eq(lt_test_read_file(path, 1u << 22, &log, &len), LT_OK);
    unlink(path);
    close(fd);
    ck_assert_msg(log_line(log, "app traced component api: failure 1 on host h1", line,
                           sizeof(line)),
                  "no failure line in:\n%s", log);
    ck_assert_msg(ends_with(line, " trace_id=" T_ID), "%s", line);
    ck_assert(log_line(log, "app traced component api: failure 2 on host h1", line, sizeof(line)));
    ck_assert_msg(ends_with(line, " trace_id=" T_ID), "%s", line);
    ck_assert(log_line(log, "app plain component web: failure 1 on host h1", line, sizeof(line)));
    ck_assert_msg(strstr(line, "trace_id=") == NULL, "%s", line);
    ck_assert(log_line(log, "app traced version v1 is deployed: the deploy's trace ends", line,
                       sizeof(line)));
    ck_assert_msg(ends_with(line, " trace_id=" T_ID), "%s", line);
    ck_assert(log_line(log, "of traced/api crashed on host h1", line, sizeof(line)));
    ck_assert_msg(strstr(line, "trace_id=") == NULL, "%s", line);
    lt_free(log);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Scale and restarts
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_lotta_components_batched)
{
    lt_sched_config cfg = { .max_batch = 500 };
    fleet *f = fleet_new("default", &cfg);
    lt_model *m = tm_app("lotta-components", "v1");
    lt_model_component *hello = tm_comp(m, "hello", "ghcr.io/hello:0.1.0", false);
    lt_model_component *srv = tm_comp(m, "httpserver", "ghcr.io/http-server:0.23.0", true);

    five_hosts(f);
    tm_scaler(hello, false, 9001);
    tm_scaler(srv, false, 1);
    tm_link(srv, "hello", "wasi", "http", "incoming-handler", "address=0.0.0.0:8080");
    deploy(f, m);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, NULL, "lotta-components", "hello"), 9001);
    ck_assert_uint_le(fleet_max_per_host(f, "lotta-components", "hello"), 1801);
    ck_assert_uint_le(f->max_batch_seen, 500);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 9002); /* each start sent once */
    ck_assert_int_eq(fleet_state(f, "lotta-components"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(test_scale_down_even)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("scale", "v1");

    five_hosts(f);
    tm_scaler(tm_comp(m, "api", "ghcr.io/api:1", false), false, 10);
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_max_per_host(f, "scale", "api"), 2);
    m = tm_app("scale", "v2");
    tm_scaler(tm_comp(m, "api", "ghcr.io/api:1", false), false, 5);
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "scale", "api"), 5);
    ck_assert_uint_eq(fleet_max_per_host(f, "scale", "api"), 1);
    fleet_free(f);
}
END_TEST

START_TEST(test_restart_mid_rollout_converges)
{
    fleet *f = fleet_new("default", NULL);
    fleet *g;
    size_t i;

    five_hosts(f);
    deploy(f, two_comp_app("v1", "ghcr.io/api:1", NULL));
    fleet_settle(f, 100);
    deploy(f, two_comp_app("v2", "ghcr.io/api:2", NULL));
    fleet_step(f, 100);
    fleet_step(f, 100);
    /* latticed dies here; a new one starts from the hosts' reports and the store. */
    g = fleet_new("default", NULL);
    for (i = 0; i < f->n_hosts; i++) {
        g->hosts[i] = f->hosts[i];
        f->hosts[i].inst = NULL;
    }
    g->n_hosts = f->n_hosts;
    f->n_hosts = 0;
    fleet_free(f);
    lt_sched_set_apps_loaded(g->s, false);
    fleet_step(g, 100);
    deploy(g, two_comp_app("v2", "ghcr.io/api:2", NULL));
    lt_sched_set_apps_loaded(g->s, true);
    fleet_settle(g, 300);
    ck_assert_uint_eq(fleet_count(g, NULL, "roll", "api"), 8);
    ck_assert_uint_eq(fleet_count_version(g, "roll", "api", "v2"), 8);
    ck_assert_uint_eq(fleet_count(g, NULL, "roll", "cache"), 2);
    ck_assert_int_eq(fleet_state(g, "roll"), LT_SCHED_DEPLOYED);
    fleet_free(g);
}
END_TEST

START_TEST(test_hosts_json)
{
    fleet *f = fleet_new("default", NULL);
    lt_buf b;

    five_hosts(f);
    lt_buf_init(&b, 1 << 20);
    ck_assert_int_eq(lt_sched_hosts_json(f->s, f->now, &b), LT_OK);
    ck_assert_ptr_nonnull(strstr(b.ptr, "\"id\":\"east-1\""));
    ck_assert_ptr_nonnull(strstr(b.ptr, "\"region\":\"moon\""));
    ck_assert_ptr_nonnull(strstr(b.ptr, "\"state\":\"alive\""));
    lt_buf_cleanup(&b);
    fleet_free(f);
}
END_TEST

START_TEST(test_relabel_moves_instances)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("east-only", "v1");
    lt_model_component *c = tm_comp(m, "api", "ghcr.io/api:1", false);

    fleet_host_add(f, "h1", "zone=east", 0, 0);
    fleet_host_add(f, "h2", "zone=west", 0, 0);
    tm_scaler(c, false, 2);
    tm_spread(c, "east", 100, "zone=east");
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, "h1", "east-only", "api"), 2);
    /* the hosts swap zones: the instances follow the label, not the host */
    snprintf(f->hosts[0].labels, sizeof(f->hosts[0].labels), "zone=west");
    snprintf(f->hosts[1].labels, sizeof(f->hosts[1].labels), "zone=east");
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count(f, "h2", "east-only", "api"), 2);
    ck_assert_uint_eq(fleet_count(f, "h1", "east-only", "api"), 0);
    ck_assert_int_eq(fleet_state(f, "east-only"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(test_capability_upgrade_on_one_host)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("prov", "v1");
    size_t i, max_seen = 0;

    fleet_host_add(f, "only", "", 0, 0);
    tm_scaler(tm_comp(m, "server", "ghcr.io/http-server:0.20.1", true), false, 1);
    deploy(f, m);
    fleet_settle(f, 100);
    m = tm_app("prov", "v2");
    tm_scaler(tm_comp(m, "server", "ghcr.io/http-server:0.23.0", true), false, 1);
    deploy(f, m);
    for (i = 0; i < 100; i++) {
        size_t n = fleet_count(f, "only", "prov", "server");

        if (n > max_seen)
            max_seen = n;
        fleet_step(f, 100);
    }
    /* one per host even while upgrading: the old one goes first, then the new one starts */
    ck_assert_uint_eq(max_seen, 1);
    ck_assert_uint_eq(fleet_count_version(f, "prov", "server", "v2"), 1);
    ck_assert_int_eq(fleet_state(f, "prov"), LT_SCHED_DEPLOYED);
    ck_assert_uint_eq(f->ev_app_failed, 0); /* never reported failed on the way */
    fleet_free(f);
}
END_TEST

START_TEST(test_colocation_required)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("pair", "v1");
    lt_model_component *db = tm_comp(m, "db", "ghcr.io/db:1", false);
    lt_model_component *api = tm_comp(m, "api", "ghcr.io/api:1", false);
    lt_model_link *l;
    size_t i, local = 0;

    for (i = 0; i < 6; i++) {
        char id[16];

        snprintf(id, sizeof(id), "h%zu", i);
        fleet_host_add(f, id, "", 0, 0);
    }
    tm_scaler(db, false, 2);
    tm_scaler(api, false, 4);
    l = tm_link(api, "db", "wasi", "keyvalue", "store", NULL);
    tm_link_colocate(l, LT_MODEL_COLOCATE_REQUIRED);
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "pair", "api"), 4);
    for (i = 0; i < 6; i++)
        if (fleet_count(f, f->hosts[i].id, "pair", "api") > 0)
            ck_assert_uint_gt(fleet_count(f, f->hosts[i].id, "pair", "db"), 0);
    ck_assert_uint_eq(fleet_links(f, NULL, &local), 4);
    ck_assert_uint_eq(local, 4); /* every call stays on its host */
    fleet_free(f);
}
END_TEST

START_TEST(test_hosts_json_truncates)
{
    fleet *f = fleet_new("default", NULL);
    lt_buf b;

    five_hosts(f);
    lt_buf_init(&b, 700); /* room for about two hosts */
    ck_assert_int_eq(lt_sched_hosts_json(f->s, f->now, &b), LT_OK);
    ck_assert_ptr_nonnull(strstr(b.ptr, "\"total\":5"));
    ck_assert_ptr_nonnull(strstr(b.ptr, "\"truncated\":true"));
    lt_buf_cleanup(&b);
    fleet_free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("scheduler");

    lt_test_tcase(s, "core", 120,
                  (const TTest *const[]){ test_spread_maths,
                                          test_ids,
                                          test_state_words,
                                          test_simple_deploy_and_undeploy,
                                          test_placed_events_one_per_answer,
                                          test_deploy_burst_one_pass,
                                          test_deploy_burst_bounded,
                                          test_redeploy_same_version_is_noop,
                                          test_consistency_check_catches_corruption,
                                          test_weighted_spreads_and_ineligible_hosts,
                                          test_overlapping_spreads_fail_without_loop,
                                          test_no_hosts_waits_then_deploys,
                                          test_no_eligible_hosts_fails,
                                          test_daemonscaler,
                                          test_host_stop_rebalances,
                                          test_silent_host_lost_after_timeout,
                                          test_partition_guard,
                                          test_partition_operator_evicts,
                                          test_slots_and_memory,
                                          test_foreign_and_leftovers,
                                          test_unknown_app_leftovers_are_cleaned,
                                          test_same_image_two_apps,
                                          test_explicit_id_conflict,
                                          test_shared_apps,
                                          test_spec_check,
                                          test_rolling_upgrade_bounded,
                                          test_config_and_link_value_changes,
                                          test_refused_starts_back_off,
                                          test_deploy_trace_on_log_lines,
                                          test_lotta_components_batched,
                                          test_scale_down_even,
                                          test_restart_mid_rollout_converges,
                                          test_hosts_json,
                                          test_relabel_moves_instances,
                                          test_capability_upgrade_on_one_host,
                                          test_colocation_required,
                                          test_hosts_json_truncates,
                                          NULL });
    suite_add_tcase(s, crash_tcase());
    suite_add_tcase(s, converge_tcase());
    return s;
}

int main(void)
{
    return lt_test_run_suite(suite());
}
