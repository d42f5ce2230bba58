/*
 * test_plan.c - lt_sched_plan_json and lt_sched_instances_json against a fake fleet:
 * the plan's predicted commands equal what the real scheduler then sends for the same
 * deploy (rolling upgrade included), an unplaceable spread is reported with its reason,
 * an unchanged manifest plans nothing, the real scheduler is left untouched, and the
 * instance view shows restarts and the last error of a crash.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_sched.h"
#include "lt_sched_plan.h"
#include "lt_testutil.h"
#include "tmodel.h"

#define MAX_SEEN 256

typedef struct {
    char items[MAX_SEEN][160]; /* "verb id host", sorted at the end */
    size_t n;
} seen_set;

static int str_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void seen_add(seen_set *s, const char *verb, const char *id, const char *host)
{
    ck_assert_uint_lt(s->n, MAX_SEEN);
    snprintf(s->items[s->n++], sizeof(s->items[0]), "%s %s %s", verb, id, host);
}

static void seen_sort(seen_set *s)
{
    qsort(s->items, s->n, sizeof(s->items[0]), str_cmp);
}

/* The fleet's hook: what the real scheduler sends (starts and stops). */
static void on_batch(void *arg, const lt_sched_batch *b)
{
    seen_set *s = arg;
    size_t i;

    for (i = 0; i < b->count; i++) {
        if (b->verb == LT_SCHED_START)
            seen_add(s, "start", b->starts[i]->instance_id, b->host_id);
        else if (b->verb == LT_SCHED_STOP)
            seen_add(s, "stop", b->stops[i]->instance_id, b->host_id);
    }
}

static lt_model *web_app(const char *version, const char *image, const char *req)
{
    lt_model *m = tm_app("web", version);
    lt_model_component *api = tm_comp(m, "api", image, false);
    lt_model_component *cache = tm_comp(m, "cache", "ghcr.io/cache:1", false);

    tm_scaler(api, false, 4);
    if (req != NULL)
        tm_spread(api, "where", 100, req);
    tm_scaler(cache, false, 2);
    return m;
}

static void four_hosts(fleet *f)
{
    fleet_host_add(f, "h-a", "zone=a", 0, 0);
    fleet_host_add(f, "h-b", "zone=a", 0, 0);
    fleet_host_add(f, "h-c", "zone=b", 0, 0);
    fleet_host_add(f, "h-d", "zone=b", 0, 0);
}

/* Plan m on f's scheduler; the parsed reply (caller json_decref). */
static json_t *plan(fleet *f, lt_model *m)
{
    lt_buf b;
    json_t *j;
    json_error_t err;

    lt_buf_init(&b, 4u << 20);
    ck_assert_int_eq(lt_sched_plan_json(f->s, m, f->now, &b), LT_OK);
    if (getenv("PLAN_DEBUG"))
        fprintf(stderr, "%.*s\n", (int)b.len, b.ptr);
    j = json_loadb(b.ptr, b.len, 0, &err);
    ck_assert_msg(j != NULL, "plan is not JSON: %s", err.text);
    lt_buf_cleanup(&b);
    FLEET_CHECK(f);
    return j;
}

/* Every start and stop of the plan's rounds into s. */
static void planned(json_t *p, seen_set *s)
{
    size_t i, k;
    json_t *r, *op;
    static const char *const verbs[] = { "start", "stop" };

    json_array_foreach (json_object_get(p, "rounds"), i, r)
        for (int v = 0; v < 2; v++)
            json_array_foreach (json_object_get(r, verbs[v]), k, op)
                seen_add(s, verbs[v], json_string_value(json_object_get(op, "id")),
                         json_string_value(json_object_get(op, "host")));
}

static size_t total(json_t *p, const char *verb)
{
    return (size_t)json_integer_value(json_object_get(json_object_get(p, "totals"), verb));
}

START_TEST(test_plan_predicts_first_deploy)
{
    fleet *f = fleet_new("default", NULL);
    seen_set *want = lt_calloc(1, sizeof(*want)), *got = lt_calloc(1, sizeof(*got));
    lt_model *m = web_app("v1", "ghcr.io/api:1", NULL);
    json_t *p;
    size_t i;

    four_hosts(f);
    fleet_settle(f, 20);
    p = plan(f, m);
    ck_assert(json_is_true(json_object_get(p, "placeable")));
    ck_assert_str_eq(json_string_value(json_object_get(p, "deployed_version")), "");
    ck_assert_uint_eq(total(p, "start"), 6);
    ck_assert_uint_eq(total(p, "stop"), 0);
    planned(p, want);
    /* The real scheduler was not touched: nothing was sent for the plan. */
    fleet_step(f, 100);
    ck_assert_uint_eq(f->sent[LT_SCHED_START], 0);
    f->on_batch = on_batch;
    f->on_batch_arg = got;
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    fleet_settle(f, 100);
    seen_sort(want);
    seen_sort(got);
    ck_assert_uint_eq(got->n, want->n);
    for (i = 0; i < got->n; i++)
        ck_assert_str_eq(got->items[i], want->items[i]);
    json_decref(p);
    tm_free(m);
    lt_free(want);
    lt_free(got);
    fleet_free(f);
}
END_TEST

START_TEST(test_plan_predicts_rolling_upgrade)
{
    fleet *f = fleet_new("default", NULL);
    seen_set *want = lt_calloc(1, sizeof(*want)), *got = lt_calloc(1, sizeof(*got));
    lt_model *v1 = web_app("v1", "ghcr.io/api:1", NULL);
    lt_model *v2 = web_app("v2", "ghcr.io/api:2", NULL);
    json_t *p, *c;
    size_t i;

    four_hosts(f);
    ck_assert_int_eq(lt_sched_deploy(f->s, v1, f->now), LT_OK);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "web", NULL), 6);
    p = plan(f, v2);
    ck_assert(json_is_true(json_object_get(p, "placeable")));
    ck_assert_str_eq(json_string_value(json_object_get(p, "deployed_version")), "v1");
    /* api's image changed: replaced; cache did not: left alone. */
    c = json_array_get(json_object_get(json_object_get(p, "diff"), "components"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "api");
    ck_assert_str_eq(json_string_value(json_object_get(c, "change")), "changed");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "fields"), 0)), "image");
    c = json_array_get(json_object_get(json_object_get(p, "diff"), "components"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(c, "change")), "unchanged");
    ck_assert_uint_eq(total(p, "start"), 4);
    ck_assert_uint_eq(total(p, "stop"), 4);
    /* The rollout bound: more than one round. */
    ck_assert_uint_gt(json_array_size(json_object_get(p, "rounds")), 1);
    planned(p, want);
    f->on_batch = on_batch;
    f->on_batch_arg = got;
    ck_assert_int_eq(lt_sched_deploy(f->s, v2, f->now), LT_OK);
    fleet_settle(f, 200);
    ck_assert_uint_eq(fleet_count_version(f, "web", "api", "v2"), 4);
    seen_sort(want);
    seen_sort(got);
    ck_assert_uint_eq(got->n, want->n);
    for (i = 0; i < got->n; i++)
        ck_assert_str_eq(got->items[i], want->items[i]);
    json_decref(p);
    /* Now deployed: the same manifest again plans nothing. */
    p = plan(f, v2);
    ck_assert(json_is_true(json_object_get(p, "unchanged")));
    ck_assert(json_is_true(json_object_get(p, "placeable")));
    ck_assert_uint_eq(total(p, "start") + total(p, "stop") + total(p, "link"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(p, "rounds")), 0);
    json_decref(p);
    tm_free(v1);
    tm_free(v2);
    lt_free(want);
    lt_free(got);
    fleet_free(f);
}
END_TEST

START_TEST(test_plan_unplaceable_spread)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = web_app("v1", "ghcr.io/api:1", "zone=mars");
    json_t *p, *u;

    four_hosts(f);
    fleet_settle(f, 20);
    p = plan(f, m);
    ck_assert(json_is_false(json_object_get(p, "placeable")));
    ck_assert_uint_eq(json_array_size(json_object_get(p, "unplaced")), 1);
    u = json_array_get(json_object_get(p, "unplaced"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(u, "component")), "api");
    ck_assert_str_eq(json_string_value(json_object_get(u, "reason")), "no_eligible_hosts");
    ck_assert_uint_eq(json_integer_value(json_object_get(u, "placed")), 0);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(u, "message")), "0 eligible"));
    ck_assert_uint_eq(total(p, "start"), 2); /* the cache still goes */
    json_decref(p);
    tm_free(m);
    fleet_free(f);
}
END_TEST

/* Links whose target runs on the same host: the plan knows them as installed. */
START_TEST(test_plan_links_unchanged)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = tm_app("linked", "v1");
    lt_model_component *hello = tm_comp(m, "hello", "ghcr.io/hello:1", false);
    lt_model_component *srv = tm_comp(m, "srv", "ghcr.io/srv:1", true);
    json_t *p;

    tm_scaler(hello, false, 6);
    tm_scaler(srv, false, 2);
    tm_link(srv, "hello", "wasi", "http", "incoming-handler", "port=8080");
    fleet_host_add(f, "h-a", "", 0, 0);
    fleet_host_add(f, "h-b", "", 0, 0);
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_links(f, NULL, NULL), 2);
    p = plan(f, m);
    ck_assert(json_is_true(json_object_get(p, "unchanged")));
    ck_assert_uint_eq(total(p, "start") + total(p, "stop") + total(p, "link") + total(p, "unlink"),
                      0);
    json_decref(p);
    tm_free(m);
    fleet_free(f);
}
END_TEST

/* A cordoned host gets nothing in the plan either. */
START_TEST(test_plan_skips_cordoned_host)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = web_app("v1", "ghcr.io/api:1", NULL);
    json_t *p, *h;
    size_t i;

    four_hosts(f);
    fleet_settle(f, 20);
    ck_assert_int_eq(lt_sched_set_host_mode(f->s, "h-a", LT_SCHED_HOST_CORDONED, f->now), LT_OK);
    p = plan(f, m);
    ck_assert(json_is_true(json_object_get(p, "placeable")));
    ck_assert_uint_eq(total(p, "start"), 6);
    ck_assert_uint_eq(json_array_size(json_object_get(p, "hosts")), 3);
    json_array_foreach (json_object_get(p, "hosts"), i, h)
        ck_assert_str_ne(json_string_value(json_object_get(h, "host")), "h-a");
    json_decref(p);
    tm_free(m);
    fleet_free(f);
}
END_TEST

START_TEST(test_plan_no_hosts)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = web_app("v1", "ghcr.io/api:1", NULL);
    json_t *p, *u;

    p = plan(f, m);
    ck_assert(json_is_false(json_object_get(p, "placeable")));
    ck_assert_uint_eq(json_array_size(json_object_get(p, "unplaced")), 2);
    {
        /* without a version there are no instance ids to predict */
        lt_model *nov = tm_app("web", NULL);
        lt_buf b;

        tm_scaler(tm_comp(nov, "api", "ghcr.io/api:1", false), false, 1);
        lt_buf_init(&b, 1u << 20);
        ck_assert_int_eq(lt_sched_plan_json(f->s, nov, f->now, &b), LT_ERR_INVALID);
        ck_assert_uint_eq(b.len, 0);
        lt_buf_cleanup(&b);
        tm_free(nov);
    }
    u = json_array_get(json_object_get(p, "unplaced"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(u, "reason")), "no_hosts");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(u, "message")), "no hosts"));
    json_decref(p);
    tm_free(m);
    fleet_free(f);
}
END_TEST

START_TEST(test_plan_same_bytes)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = web_app("v1", "ghcr.io/api:1", NULL);
    lt_buf a, b;

    four_hosts(f);
    fleet_settle(f, 20);
    lt_buf_init(&a, 1u << 20);
    lt_buf_init(&b, 1u << 20);
    ck_assert_int_eq(lt_sched_plan_json(f->s, m, f->now, &a), LT_OK);
    ck_assert_int_eq(lt_sched_plan_json(f->s, m, f->now, &b), LT_OK);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert(memcmp(a.ptr, b.ptr, a.len) == 0);
    lt_buf_cleanup(&a);
    lt_buf_cleanup(&b);
    tm_free(m);
    fleet_free(f);
}
END_TEST

START_TEST(test_instances_show_crash)
{
    fleet *f = fleet_new("default", NULL);
    lt_model *m = web_app("v1", "ghcr.io/api:1", NULL);
    lt_buf b;
    json_t *j, *in;
    size_t i, failed = 0;

    four_hosts(f);
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_fail(f, NULL, "web", "cache", 1, "killed by signal 9", true), 1);
    fleet_step(f, 10);
    lt_buf_init(&b, 1u << 20);
    ck_assert_int_eq(lt_sched_instances_json(f->s, "web", &b), LT_OK);
    j = json_loadb(b.ptr, b.len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert(json_is_true(json_object_get(j, "found")));
    ck_assert_uint_ge(json_array_size(json_object_get(j, "instances")), 6);
    json_array_foreach (json_object_get(j, "instances"), i, in) {
        const char *le = json_string_value(json_object_get(in, "last_error"));

        ck_assert_ptr_nonnull(json_string_value(json_object_get(in, "host")));
        if (strstr(le, "signal 9") != NULL) {
            failed++;
            ck_assert_str_eq(json_string_value(json_object_get(in, "component")), "cache");
        }
    }
    ck_assert_uint_eq(failed, 1);
    /* Sorted by component: api rows first. */
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(j, "instances"), 0),
                                         "component")),
                     "api");
    json_decref(j);
    lt_buf_reset(&b);
    ck_assert_int_eq(lt_sched_instances_json(f->s, "nosuch", &b), LT_OK);
    ck_assert_ptr_nonnull(strstr(b.ptr, "\"found\":false"));
    lt_buf_cleanup(&b);
    tm_free(m);
    fleet_free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("plan");

    lt_test_tcase(s, "plan", 120,
                  (const TTest *const[]){ test_plan_predicts_first_deploy,
                                          test_plan_predicts_rolling_upgrade,
                                          test_plan_unplaceable_spread, test_plan_links_unchanged,
                                          test_plan_skips_cordoned_host, test_plan_no_hosts,
                                          test_plan_same_bytes, test_instances_show_crash, NULL });
    return s;
}

int main(void)
{
    lt_log_configure(LT_LOG_WARN, false);
    return lt_test_run_suite(suite());
}
