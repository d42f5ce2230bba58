/*
 * test_e2e_apps.c - wadm's e2e_upgrades and e2e_shared scenarios against
 * real processes, plus latticed's own: two lattices that never see each
 * other. Upgrades: outdatedapp -> upgradedapp -> upgradedapp2 on one host
 * (image bumps replace instances, unchanged components keep theirs, removed
 * components go, link config follows each version). Shared: shared apps
 * serve consumers' links; the corpus's deploy-fails rows fail to deploy.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

typedef struct {
    const char *lattice, *app, *comp, *image;
    size_t want;
} want_arg;

static bool count_is(e2e *e, void *arg)
{
    want_arg *w = arg;

    if (w->image != NULL)
        return e2e_count_image(e, w->lattice, w->app, w->image) == w->want;
    return e2e_count(e, w->lattice, w->app, w->comp, NULL, NULL) == w->want;
}

static void expect(e2e *e, const char *lattice, const char *app, const char *comp,
                   const char *image, size_t want)
{
    want_arg w = { lattice, app, comp, image, want };

    if (!e2e_wait(e, count_is, &w, 20000)) {
        e2e_dump_logs(e);
        ck_abort_msg("%s/%s %s: %zu instances, want %zu", app, comp != NULL ? comp : "*",
                     image != NULL ? image : "",
                     image != NULL ? e2e_count_image(e, lattice, app, image)
                                   : e2e_count(e, lattice, app, comp, NULL, NULL), want);
    }
}

typedef struct {
    const char *lattice, *cfg;
    size_t want;
} links_arg;

static bool links_are(e2e *e, void *arg)
{
    links_arg *a = arg;

    return e2e_links_with(e, a->lattice, a->cfg) == a->want;
}

static void expect_links(e2e *e, const char *lattice, const char *cfg, size_t want)
{
    links_arg a = { lattice, cfg, want };

    ck_assert_msg(e2e_wait(e, links_are, &a, 20000), "%zu links with %s, want %zu",
                  e2e_links_with(e, lattice, cfg), cfg, want);
}

static void deploy_ok(e2e *e, const char *lattice, const char *file, const char *app)
{
    char *r = e2e_put_deploy(e, lattice, e2e_corpus(file));

    ck_assert_msg(strcmp(r, "acknowledged") == 0, "deploy %s: %s", file, r);
    free(r);
    if (!e2e_wait_status(e, lattice, app, "deployed", 60000)) {
        char *msg = NULL, *st = e2e_status(e, lattice, app, &msg);

        e2e_dump_logs(e);
        ck_abort_msg("%s is %s (%s), not deployed", app, st, msg);
    }
}

static bool hosts_up(e2e *e, void *arg)
{
    const size_t *want = arg;

    return e2e_host_count(e, "default") == *want;
}

START_TEST(test_upgrades)
{
    e2e *e = e2e_new();
    size_t one = 1;

    e2e_observe(e, "default");
    e2e_hosts(e, "default", "up", 1, NULL, NULL);
    e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, hosts_up, &one, 20000));
    deploy_ok(e, "default", "manifests/outdatedapp.yaml", "updateapp");
    expect(e, "default", "updateapp", NULL, "dog-fetcher-rust:0.1.0", 5);
    expect(e, "default", "updateapp", "hello-world", NULL, 3);
    expect(e, "default", "updateapp", "kvcounter", NULL, 3);
    expect(e, "default", "updateapp", NULL, "http-server:0.20.1", 1);
    expect(e, "default", "updateapp", "redis", NULL, 1);
    expect_links(e, "default", "address=0.0.0.0:8080", 1);
    expect_links(e, "default", "address=0.0.0.0:8081", 1);
    /* upgradedapp: image bumps, a new component, kvcounter and redis gone, link to 8082 */
    deploy_ok(e, "default", "manifests/upgradedapp.yaml", "updateapp");
    expect(e, "default", "updateapp", NULL, "dog-fetcher-rust:0.1.1", 5);
    expect(e, "default", "updateapp", NULL, "dog-fetcher-rust:0.1.0", 0);
    expect(e, "default", "updateapp", "echo-messaging", NULL, 1);
    expect(e, "default", "updateapp", "hello-world", NULL, 3);
    expect(e, "default", "updateapp", "kvcounter", NULL, 0);
    expect(e, "default", "updateapp", NULL, "http-server:0.23.0", 1);
    expect(e, "default", "updateapp", NULL, "http-server:0.20.1", 0);
    expect(e, "default", "updateapp", "redis", NULL, 0);
    expect_links(e, "default", "address=0.0.0.0:8082", 1);
    expect_links(e, "default", "address=0.0.0.0:8080", 0);
    expect_links(e, "default", "URL=redis", 0);
    /* upgradedapp2: the server gets config (replaced), the link goes back to 8080 */
    deploy_ok(e, "default", "manifests/upgradedapp2.yaml", "updateapp");
    expect(e, "default", "updateapp", NULL, "dog-fetcher-rust:0.1.1", 5);
    expect(e, "default", "updateapp", "echo-messaging", NULL, 1);
    expect(e, "default", "updateapp", "hello-world", NULL, 3);
    expect(e, "default", "updateapp", NULL, "http-server:0.23.0", 1);
    expect_links(e, "default", "address=0.0.0.0:8080", 1);
    expect_links(e, "default", "address=0.0.0.0:8082", 0);
    /* upgradedapp3 reuses http_server in another app: the deploy is refused */
    {
        char *r = e2e_put_deploy(e, "default", e2e_corpus("manifests/upgradedapp3.yaml"));

        ck_assert_msg(strstr(r, "error") == r && strstr(r, "http_server") != NULL, "%s", r);
        free(r);
    }
    e2e_free(e);
}
END_TEST

START_TEST(test_shared_and_deploy_failures)
{
    e2e *e = e2e_new();
    size_t two = 2;
    static const char *const bad[] = { "manifests/shared/no_matching_app.yaml",
                                       "manifests/shared/no_matching_component.yaml",
                                       "manifests/shared/notshared_http_dev.yaml" };
    size_t i;

    e2e_observe(e, "default");
    e2e_hosts(e, "default", "sh", 2, NULL, NULL);
    e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, hosts_up, &two, 20000));
    deploy_ok(e, "default", "manifests/shared/shared_http.yaml", "shared-http");
    expect(e, "default", "shared-http", "httpclient", NULL, 1);
    expect(e, "default", "shared-http", "httpserver", NULL, 1);
    deploy_ok(e, "default", "manifests/shared/shared_http_dev.yaml", "shared-http-dev");
    expect(e, "default", "shared-http-dev", "hello", NULL, 12);
    /* the consumer's links: from the shared server to hello, from hello to the shared client */
    expect_links(e, "default", "address=0.0.0.0:8080", 1);
    ck_assert_uint_eq(e2e_count(e, "default", "shared-http-dev", "httpserver", NULL, NULL), 0);
    deploy_ok(e, "default", "manifests/shared/shared_component.yaml", "shared-component");
    deploy_ok(e, "default", "manifests/shared/shared_component_dev.yaml",
              "shared-component-dev");
    expect(e, "default", "shared-component", "link-to-meee", NULL, 1);
    /* EXPECTED.tsv deploy-fails rows (notshared_http.yaml is put first: valid but not shared) */
    {
        char *r = e2e_put_deploy(e, "default", e2e_corpus("manifests/shared/notshared_http.yaml"));

        free(r);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *r = e2e_put_deploy(e, "default", e2e_corpus(bad[i]));

        ck_assert_msg(strncmp(r, "error", 5) == 0, "%s deployed: %s", bad[i], r);
        free(r);
    }
    e2e_free(e);
}
END_TEST

static bool two_lattices_up(e2e *e, void *arg)
{
    (void)arg;
    return e2e_host_count(e, "red") == 2 && e2e_host_count(e, "blue") == 2;
}

START_TEST(test_two_lattices_isolated)
{
    e2e *e = e2e_new();

    e2e_observe(e, "red");
    e2e_observe(e, "blue");
    e2e_hosts(e, "red", "red", 2, NULL, NULL);
    e2e_hosts(e, "blue", "blue", 2, NULL, NULL);
    e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, two_lattices_up, NULL, 20000));
    deploy_ok(e, "red", "manifests/simple.yaml", "hello-simple");
    expect(e, "red", "hello-simple", "hello", NULL, 4);
    e2e_sleep_ms(1500);
    /* blue knows nothing of red's app, and red's instances stay on red's hosts */
    ck_assert_uint_eq(e2e_count(e, "blue", NULL, NULL, NULL, NULL), 0);
    ck_assert_uint_eq(e2e_starts_sent(e, "blue"), 0);
    {
        char *st = e2e_status(e, "blue", "hello-simple", NULL);

        ck_assert_str_eq(st, "undeployed");
        free(st);
    }
    /* the same app (same explicit ids) deploys in blue too: lattices are separate tenants */
    deploy_ok(e, "blue", "manifests/simple.yaml", "hello-simple");
    expect(e, "blue", "hello-simple", "hello", NULL, 4);
    expect(e, "red", "hello-simple", "hello", NULL, 4);
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
    s = suite_create("e2e_apps");
    t = tcase_create("apps");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_upgrades);
    tcase_add_test(t, test_shared_and_deploy_failures);
    tcase_add_test(t, test_two_lattices_isolated);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
