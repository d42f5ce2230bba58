/*
 * test_ctl_wait_status.c - how latticectl's apply --wait / status --wait-for read a status
 * document (cmd/latticectl/wait_status.c), pure logic: the previous version's "deployed"
 * does not end a wait for the applied one, "failed" of the wanted version ends it, the
 * placeholder status never counts as deployed, the summary and pending texts, and the
 * --wait-timeout durations.
 */
#include <check.h>
#include <string.h>

#include <jansson.h>

#include "lt_testutil.h"
#include "wait_status.h"

/* A status document as latticed's scheduler writes it (scheduler/status.c). */
static json_t *status(const char *type, const char *msg, const char *version, int running,
                      int desired)
{
    json_t *st =
        json_pack("{s:{s:s},s:[],s:s,s:[],s:{s:s,s:s,s:s,s:b,s:i,s:i,s:i,s:i,s:["
                  "{s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:{s:s}}]}}",
                  "status", "type", type, "scalers", "version", "", "components", "latticed",
                  "lattice", "default", "app", "web", "version", version, "deployed", 1, "desired",
                  desired, "running", running, "failed", 0, "instances", running, "components",
                  "name", "api", "id", "web-api", "kind", "component", "image", "img:1", "desired",
                  desired, "running", running, "failed", 0, "status", "type", type);

    ck_assert_ptr_nonnull(st);
    if (msg != NULL)
        json_object_set_new(json_object_get(st, "status"), "message", json_string(msg));
    return st;
}

START_TEST(test_verdict)
{
    json_t *v1 = status("deployed", NULL, "v1", 2, 2),
           *v2r = status("reconciling", NULL, "v2", 1, 3),
           *v2 = status("deployed", NULL, "v2", 3, 3), *v2f = status("failed", "boom", "v2", 0, 3),
           *v1f = status("failed", "old", "v1", 0, 2), *und = status("undeployed", NULL, "", 0, 0),
           *stopping = status("undeployed", NULL, "v1", 2, 0);
    json_t *placeholder = json_loads("{\"status\":{\"type\":\"deployed\"},\"version\":\"\","
                                     "\"components\":[]}",
                                     0, NULL);

    /* apply --wait of v2 while v1 is deployed */
    ck_assert_int_eq(lctl_status_verdict(v1, "deployed", "v2"), LCTL_WAIT_PENDING);
    ck_assert_int_eq(lctl_status_verdict(v1f, "deployed", "v2"), LCTL_WAIT_PENDING);
    ck_assert_int_eq(lctl_status_verdict(v2r, "deployed", "v2"), LCTL_WAIT_PENDING);
    ck_assert_int_eq(lctl_status_verdict(v2, "deployed", "v2"), LCTL_WAIT_REACHED);
    ck_assert_int_eq(lctl_status_verdict(v2f, "deployed", "v2"), LCTL_WAIT_FAILED);
    /* status --wait-for deployed: any version */
    ck_assert_int_eq(lctl_status_verdict(v1, "deployed", NULL), LCTL_WAIT_REACHED);
    ck_assert_int_eq(lctl_status_verdict(und, "deployed", NULL), LCTL_WAIT_PENDING);
    ck_assert_int_eq(lctl_status_verdict(placeholder, "deployed", NULL), LCTL_WAIT_PENDING);
    /* --wait-for undeployed: failed is not the end of it */
    ck_assert_int_eq(lctl_status_verdict(und, "undeployed", NULL), LCTL_WAIT_REACHED);
    ck_assert_int_eq(lctl_status_verdict(v1f, "undeployed", NULL), LCTL_WAIT_PENDING);
    ck_assert_int_eq(lctl_status_verdict(v1, "undeployed", NULL), LCTL_WAIT_PENDING);
    /* undeployed while instances still run (the stops were just sent): not yet */
    ck_assert_int_eq(lctl_status_verdict(stopping, "undeployed", NULL), LCTL_WAIT_PENDING);
    json_decref(stopping);
    json_decref(v1), json_decref(v2r), json_decref(v2), json_decref(v2f), json_decref(v1f);
    json_decref(und), json_decref(placeholder);
}
END_TEST

START_TEST(test_summary_and_pending)
{
    json_t *st = status("reconciling", "scaling", "v2", 1, 3),
           *done = status("deployed", NULL, "v2", 3, 3);
    json_t *link = json_pack("{s:s,s:s,s:{s:s,s:s}}", "kind", "LinkScaler", "name", "api->kv",
                             "status", "type", "failed", "message", "no target");
    lt_buf b;

    lt_buf_init(&b, 1u << 16);
    lctl_status_summary(st, &b);
    ck_assert_str_eq(b.ptr, "reconciling: scaling (version v2, 1/3 running)");
    lt_buf_reset(&b);
    ck_assert_uint_eq(lctl_status_pending(st, &b, "; "), 1);
    ck_assert_str_eq(b.ptr, "api 1/3 reconciling");
    lt_buf_reset(&b);
    ck_assert_uint_eq(lctl_status_pending(done, &b, "; "), 0);
    ck_assert_str_eq(b.ptr, "");
    json_array_append_new(json_object_get(st, "scalers"), link);
    ck_assert_uint_eq(lctl_status_pending(st, &b, "; "), 2);
    ck_assert_str_eq(b.ptr, "api 1/3 reconciling; link api->kv failed: no target");
    lt_buf_cleanup(&b);
    json_decref(st);
    json_decref(done);
}
END_TEST

START_TEST(test_durations)
{
    ck_assert_int_eq(lctl_duration_ms("90s"), 90000);
    ck_assert_int_eq(lctl_duration_ms("5m"), 300000);
    ck_assert_int_eq(lctl_duration_ms("1h30m"), 5400000);
    ck_assert_int_eq(lctl_duration_ms("45"), 45000);
    ck_assert_int_eq(lctl_duration_ms("250ms"), 250);
    ck_assert_int_eq(lctl_duration_ms(""), -1);
    ck_assert_int_eq(lctl_duration_ms("x5"), -1);
    ck_assert_int_eq(lctl_duration_ms("5d"), -1);
    ck_assert_int_eq(lctl_duration_ms("-5s"), -1);
    ck_assert_int_eq(lctl_duration_ms("99999999999s"), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctl_wait_status");

    lt_test_tcase(s, "wait_status", 30,
                  (const TTest *const[]){ test_verdict, test_summary_and_pending, test_durations,
                                          NULL });
    return lt_test_run_suite(s);
}
