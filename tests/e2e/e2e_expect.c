/*
 * e2e_expect.c - the scenario helpers of e2e.h that the end-to-end tests
 * share instead of each keeping a copy: the project's own manifests
 * (tests/e2e/manifests/), deploys that must be acknowledged, waits on
 * observed counts, links, hosts and statuses that fail the test (with the
 * process logs) when the deadline passes, latticed's host inventory, and the
 * Check runner every test's main calls.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_internal.h"
#include "lt_config.h"
#include "lt_testutil.h"

const char *e2e_manifest(const char *name)
{
    static char path[1024];

    snprintf(path, sizeof(path), "%s/tests/e2e/manifests/%s", LT_SOURCE_ROOT, name);
    return path;
}

void e2e_deploy_ok(e2e *e, const char *lattice, const char *name)
{
    char *r = e2e_put_deploy(e, lattice, e2e_manifest(name));

    ck_assert_msg(strcmp(r, "acknowledged") == 0, "deploy %s: %s", name, r);
    free(r);
}

char *e2e_deploy_refused(e2e *e, const char *lattice, const char *name)
{
    char *r = e2e_put_deploy(e, lattice, e2e_manifest(name));

    ck_assert_msg(strncmp(r, "error: ", 7) == 0, "%s was not refused: %s", name, r);
    return r;
}

void e2e_expect_status(e2e *e, const char *lattice, const char *app, const char *want,
                       int64_t timeout_ms)
{
    if (!e2e_wait_status(e, lattice, app, want, timeout_ms)) {
        char *msg = NULL, *st = e2e_status(e, lattice, app, &msg);

        e2e_dump_logs(e);
        e2e_diagnose(e, lattice, app);
        ck_abort_msg("%s is %s (%s), not %s", app, st, msg, want);
    }
}

typedef struct {
    const char *lattice, *app, *comp, *image, *host, *cfg;
    size_t want;
} expect_arg;

static size_t counted(e2e *e, const expect_arg *a)
{
    if (a->image != NULL)
        return e2e_count_image(e, a->lattice, a->app, a->image);
    return e2e_count(e, a->lattice, a->app, a->comp, NULL, a->host);
}

static bool count_is(e2e *e, void *arg)
{
    return counted(e, arg) == ((expect_arg *)arg)->want;
}

bool e2e_wait_count(e2e *e, const char *lattice, const char *app, const char *comp,
                    const char *host, size_t want, int64_t timeout_ms)
{
    expect_arg a = { lattice, app, comp, NULL, host, NULL, want };

    return e2e_wait(e, count_is, &a, timeout_ms);
}

typedef struct {
    const char *lattice;
    size_t hosts;
    int64_t since;
} heard_arg;

static bool all_heard(e2e *e, void *arg)
{
    const heard_arg *h = arg;

    return e2e_heard_since(e, h->lattice, h->since) >= h->hosts;
}

bool e2e_wait_heard(e2e *e, const char *lattice, size_t hosts, int64_t since_ms, int64_t timeout_ms)
{
    heard_arg h = { lattice, hosts, since_ms };

    return e2e_wait(e, all_heard, &h, timeout_ms);
}

void e2e_expect_count(e2e *e, const char *lattice, const char *app, const char *comp,
                      const char *host, size_t want, int64_t timeout_ms)
{
    expect_arg a = { lattice, app, comp, NULL, host, NULL, want };

    if (!e2e_wait_count(e, lattice, app, comp, host, want, timeout_ms)) {
        e2e_dump_logs(e);
        ck_abort_msg("%s/%s on %s: %zu instances, want %zu", app, comp != NULL ? comp : "*",
                     host != NULL ? host : "any host", counted(e, &a), want);
    }
}

void e2e_expect_image(e2e *e, const char *lattice, const char *app, const char *image_sub,
                      size_t want, int64_t timeout_ms)
{
    expect_arg a = { lattice, app, NULL, image_sub, NULL, NULL, want };

    if (!e2e_wait(e, count_is, &a, timeout_ms)) {
        e2e_dump_logs(e);
        ck_abort_msg("%s with image %s: %zu instances, want %zu", app, image_sub, counted(e, &a),
                     want);
    }
}

static bool links_are(e2e *e, void *arg)
{
    expect_arg *a = arg;

    return e2e_links_with(e, a->lattice, a->cfg) == a->want;
}

void e2e_expect_links(e2e *e, const char *lattice, const char *cfg, size_t want, int64_t timeout_ms)
{
    expect_arg a = { lattice, NULL, NULL, NULL, NULL, cfg, want };

    if (!e2e_wait(e, links_are, &a, timeout_ms)) {
        e2e_dump_logs(e);
        ck_abort_msg("%zu links with %s, want %zu", e2e_links_with(e, lattice, cfg), cfg, want);
    }
}

static bool hosts_are(e2e *e, void *arg)
{
    expect_arg *a = arg;

    return e2e_host_count(e, a->lattice) == a->want;
}

void e2e_expect_hosts(e2e *e, const char *lattice, size_t want, int64_t timeout_ms)
{
    expect_arg a = { lattice, NULL, NULL, NULL, NULL, NULL, want };

    if (!e2e_wait(e, hosts_are, &a, timeout_ms)) {
        e2e_dump_logs(e);
        ck_abort_msg("%zu hosts heartbeat in %s, want %zu", e2e_host_count(e, lattice), lattice,
                     want);
    }
}

long e2e_inventory_instances(e2e *e, const char *lattice, const char *host)
{
    char subj[256];
    natsMsg *reply = NULL;
    json_t *doc = NULL, *h;
    long n = -1;
    size_t i;
    int attempt;

    snprintf(subj, sizeof(subj), "lattice.%s.hosts", lattice);
    /* Only the leader answers; before latticed subscribed, the request has no responders at
     * once (a loaded machine starts it slowly): wait a little between attempts. */
    for (attempt = 0; attempt < 10 && reply == NULL; attempt++) {
        if (attempt > 0)
            e2e_sleep_ms(300);
        if (natsConnection_RequestString(&reply, e->nc, subj, "", 2000) != NATS_OK)
            reply = NULL;
    }
    if (reply == NULL)
        e2e_dump_logs(e);
    ck_assert_msg(reply != NULL, "no inventory reply on %s", subj);
    doc = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    natsMsg_Destroy(reply);
    ck_assert_msg(json_is_array(json_object_get(doc, "hosts")), "inventory of %s", lattice);
    json_array_foreach (json_object_get(doc, "hosts"), i, h) {
        const char *id = json_string_value(json_object_get(h, "id"));

        if (host != NULL && (id == NULL || strcmp(id, host) != 0))
            continue;
        n = (n < 0 ? 0 : n) + (long)json_integer_value(json_object_get(h, "instances"));
    }
    if (host == NULL && n < 0)
        n = 0;
    json_decref(doc);
    return n;
}

typedef struct {
    const char *lattice, *host;
    long want;
} inventory_arg;

static bool inventory_is(e2e *e, void *arg)
{
    inventory_arg *a = arg;

    return e2e_inventory_instances(e, a->lattice, a->host) == a->want;
}

void e2e_expect_inventory(e2e *e, const char *lattice, const char *host, long want,
                          int64_t timeout_ms)
{
    inventory_arg a = { lattice, host, want };

    if (!e2e_wait(e, inventory_is, &a, timeout_ms)) {
        e2e_dump_logs(e);
        ck_abort_msg("latticed's inventory: %ld instances on %s, want %ld",
                     e2e_inventory_instances(e, lattice, host), host != NULL ? host : "all hosts",
                     want);
    }
}

bool e2e_log_has(e2e *e, pid_t pid, const char *needle)
{
    const char *path = e2e_log_path(e, pid);
    char *data = NULL;
    size_t len = 0;
    bool has;

    if (path == NULL || lt_test_read_file(path, 64u << 20, &data, &len) != LT_OK)
        return false;
    has = strstr(data, needle) != NULL;
    free(data);
    return has;
}

typedef struct {
    pid_t pid;
    const char *needle;
} log_arg;

static bool log_says(e2e *e, void *arg)
{
    const log_arg *w = arg;

    return e2e_log_has(e, w->pid, w->needle);
}

bool e2e_wait_log(e2e *e, pid_t pid, const char *needle, int64_t timeout_ms)
{
    log_arg w = { pid, needle };

    return e2e_wait(e, log_says, &w, timeout_ms);
}

int e2e_run_suite(const char *name, int timeout_s, const TTest *const *tests)
{
    Suite *s;

    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines survive a failed check */
    e2e_require_bins();
    s = suite_create(name);
    for (size_t i = 0; tests[i] != NULL; i++) {
        const TTest *const one[] = { tests[i], NULL };

        lt_test_tcase(s, tests[i]->name, timeout_s, one);
    }
    return lt_test_run_suite(s); /* CK_VERBOSITY; CK_RUN_CASE=<test name>: one test */
}
