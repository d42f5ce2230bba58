/*
 * test_e2e_apps.c - applications over their versions and across each other,
 * against real processes and the project's manifests (tests/e2e/manifests/).
 * Upgrades: roll v1 -> v2 -> v3 on one host (new images replace instances,
 * an unchanged component keeps its instances, removed components and their
 * links go, link config follows each version), and another application
 * claiming roll's explicit id is refused. Shared: applications marked
 * `experimental.wasmcloud.dev/shared` serve other applications' references
 * and links without extra instances; references to an application that does
 * not exist, to a component it does not have, or to an application that is
 * not shared fail to deploy. Lattices: two lattices never see each other.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define L "default"
#define T 20000 /* ms for what the hosts report to follow latticed's commands */

static e2e *one_lattice(const char *prefix, int hosts)
{
    e2e *e = e2e_new();

    e2e_observe(e, L);
    e2e_hosts(e, L, prefix, hosts, NULL, NULL);
    e2e_latticed(e, NULL);
    e2e_expect_hosts(e, L, (size_t)hosts, 20000);
    return e;
}

START_TEST(test_upgrades)
{
    e2e *e = one_lattice("up", 1);
    size_t starts;
    char *r;

    e2e_deploy_ok(e, L, "roll-v1.yaml");
    e2e_expect_status(e, L, "roll", "deployed", 60000);
    e2e_expect_image(e, L, "roll", "fetch:1.0", 5, T);
    e2e_expect_count(e, L, "roll", "hello", NULL, 3, T);
    e2e_expect_count(e, L, "roll", "counter", NULL, 3, T);
    e2e_expect_image(e, L, "roll", "edge:1.0", 1, T);
    e2e_expect_count(e, L, "roll", "kv", NULL, 1, T);
    e2e_expect_links(e, L, "listen=127.0.0.1:9500;", 1, T);
    e2e_expect_links(e, L, "listen=127.0.0.1:9501;", 1, T);
    ck_assert_uint_eq(e2e_starts_sent(e, L), 5 + 3 + 3 + 1 + 1);
    /* v2: fetch and edge replaced, echo new, counter and kv gone, hello untouched */
    starts = e2e_starts_sent(e, L);
    e2e_deploy_ok(e, L, "roll-v2.yaml");
    e2e_expect_status(e, L, "roll", "deployed", 60000);
    e2e_expect_image(e, L, "roll", "fetch:1.1", 5, T);
    e2e_expect_image(e, L, "roll", "fetch:1.0", 0, T);
    e2e_expect_count(e, L, "roll", "echo", NULL, 1, T);
    e2e_expect_count(e, L, "roll", "hello", NULL, 3, T);
    e2e_expect_count(e, L, "roll", "counter", NULL, 0, T);
    e2e_expect_count(e, L, "roll", "kv", NULL, 0, T);
    e2e_expect_image(e, L, "roll", "edge:1.1", 1, T);
    e2e_expect_image(e, L, "roll", "edge:1.0", 0, T);
    e2e_expect_links(e, L, "listen=127.0.0.1:9502;", 1, T);
    e2e_expect_links(e, L, "listen=127.0.0.1:9500;", 0, T);
    e2e_expect_links(e, L, "listen=127.0.0.1:9501;", 1, T);
    /* started: 5 fetch + 1 echo + 1 edge; hello's 3 were not restarted */
    ck_assert_uint_eq(e2e_starts_sent(e, L) - starts, 5 + 1 + 1);
    e2e_expect_inventory(e, L, NULL, 5 + 1 + 3 + 1, 10000);
    /* v3: edge gets config, its hello link goes back to :9500 */
    e2e_deploy_ok(e, L, "roll-v3.yaml");
    e2e_expect_status(e, L, "roll", "deployed", 60000);
    e2e_expect_links(e, L, "listen=127.0.0.1:9500;", 1, T);
    e2e_expect_links(e, L, "listen=127.0.0.1:9502;", 0, T);
    e2e_expect_links(e, L, "listen=127.0.0.1:9501;", 1, T);
    e2e_expect_image(e, L, "roll", "fetch:1.1", 5, T);
    e2e_expect_count(e, L, "roll", "echo", NULL, 1, T);
    e2e_expect_count(e, L, "roll", "hello", NULL, 3, T);
    e2e_expect_image(e, L, "roll", "edge:1.1", 1, T);
    /* another application claiming roll's explicit id roll_edge is refused */
    r = e2e_deploy_refused(e, L, "roll-thief.yaml");
    ck_assert_msg(strstr(r, "roll_edge") != NULL && strstr(r, "'roll'") != NULL, "%s", r);
    free(r);
    r = e2e_status(e, L, "roll-thief", NULL);
    ck_assert_str_eq(r, "undeployed");
    free(r);
    e2e_expect_image(e, L, "roll", "edge:1.1", 1, T);
    e2e_free(e);
}
END_TEST

static void refused_reference(e2e *e, const char *file, const char *app)
{
    char *r = e2e_deploy_refused(e, L, file), *st;

    ck_assert_msg(strstr(r, "shared components that are not deployed") != NULL &&
                      strstr(r, "in-ref") != NULL,
                  "%s: %s", file, r);
    free(r);
    st = e2e_status(e, L, app, NULL);
    ck_assert_str_eq(st, "undeployed");
    free(st);
}

START_TEST(test_shared_and_deploy_failures)
{
    e2e *e = one_lattice("sh", 2);

    /* depot's two shared capabilities serve depot-user's references and links */
    e2e_deploy_ok(e, L, "depot.yaml");
    e2e_expect_status(e, L, "depot", "deployed", 60000);
    e2e_deploy_ok(e, L, "depot-user.yaml");
    e2e_expect_status(e, L, "depot-user", "deployed", 60000);
    e2e_expect_count(e, L, "depot-user", "worker", NULL, 8, T);
    e2e_expect_links(e, L, "listen=127.0.0.1:9600;", 1, T);
    /* the references start nothing: depot's one inbound and one outbound serve them */
    ck_assert_uint_eq(e2e_count(e, L, "depot-user", NULL, NULL, NULL), 8);
    ck_assert_uint_eq(e2e_count(e, L, "depot", "inbound", NULL, NULL), 1);
    ck_assert_uint_eq(e2e_count(e, L, "depot", "outbound", NULL, NULL), 1);
    /* a shared component linked both ways, and a capability of the user linked to it */
    e2e_deploy_ok(e, L, "widget.yaml");
    e2e_expect_status(e, L, "widget", "deployed", 60000);
    e2e_deploy_ok(e, L, "widget-user.yaml");
    e2e_expect_status(e, L, "widget-user", "deployed", 60000);
    e2e_expect_count(e, L, "widget-user", "caller", NULL, 6, T);
    e2e_expect_count(e, L, "widget-user", "front", NULL, 1, T);
    e2e_expect_links(e, L, "listen=127.0.0.1:9601;", 1, T);
    ck_assert_uint_eq(e2e_count(e, L, "widget", "gizmo", NULL, NULL), 1);
    ck_assert_uint_eq(e2e_count(e, L, "widget-user", NULL, NULL, NULL), 6 + 1);
    /* references that cannot be served: no such app, no such component, not shared */
    e2e_deploy_ok(e, L, "private-depot.yaml");
    e2e_expect_status(e, L, "private-depot", "deployed", 60000);
    refused_reference(e, "ghost-app-user.yaml", "ghost-app-user");
    refused_reference(e, "ghost-comp-user.yaml", "ghost-comp-user");
    refused_reference(e, "private-user.yaml", "private-user");
    e2e_expect_inventory(e, L, NULL, 2 + 8 + 1 + 6 + 1 + 1, 10000);
    e2e_free(e);
}
END_TEST

START_TEST(test_two_lattices_isolated)
{
    e2e *e = e2e_new();
    char *st;

    e2e_observe(e, "red");
    e2e_observe(e, "blue");
    e2e_hosts(e, "red", "red", 2, NULL, NULL);
    e2e_hosts(e, "blue", "blue", 2, NULL, NULL);
    e2e_latticed(e, NULL);
    e2e_expect_hosts(e, "red", 2, 20000);
    e2e_expect_hosts(e, "blue", 2, 20000);
    e2e_deploy_ok(e, "red", "greet.yaml");
    e2e_expect_status(e, "red", "greet", "deployed", 60000);
    e2e_expect_count(e, "red", "greet", "greeter", NULL, 4, T);
    /* blue knows nothing of red's app */
    st = e2e_status(e, "blue", "greet", NULL);
    ck_assert_str_eq(st, "undeployed");
    free(st);
    ck_assert_uint_eq(e2e_starts_sent(e, "blue"), 0);
    ck_assert_uint_eq(e2e_count(e, "blue", NULL, NULL, NULL, NULL), 0);
    /* the same app (same explicit ids) deploys in blue too: lattices are separate tenants */
    e2e_deploy_ok(e, "blue", "greet.yaml");
    e2e_expect_status(e, "blue", "greet", "deployed", 60000);
    e2e_expect_count(e, "blue", "greet", "greeter", NULL, 4, T);
    e2e_expect_count(e, "blue", "greet", "front", NULL, 1, T);
    e2e_expect_count(e, "red", "greet", NULL, NULL, 5, T);
    /* each lattice got its own five starts: nothing of red's went to blue or back */
    ck_assert_uint_eq(e2e_starts_sent(e, "red"), 5);
    ck_assert_uint_eq(e2e_starts_sent(e, "blue"), 5);
    e2e_expect_inventory(e, "red", NULL, 5, 10000);
    e2e_expect_inventory(e, "blue", NULL, 5, 10000);
    e2e_free(e);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = { test_upgrades, test_shared_and_deploy_failures,
                                   test_two_lattices_isolated, NULL };

    return e2e_run_suite("e2e_apps", 120, tests);
}
