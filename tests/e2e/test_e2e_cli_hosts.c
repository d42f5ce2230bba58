/*
 * test_e2e_cli_hosts.c - `latticectl hosts cordon|drain|uncordon` and label
 * selectors with real processes (nats-server, latticed, simulated hosts) and
 * the project's own manifests (tests/e2e/manifests/):
 *  - cordon, then deploy: nothing lands on the cordoned host; drain (waits)
 *    empties a host while the app stays deployed with every instance
 *    running; uncordon; an unknown host is exit 1, a bad action exit 2;
 *  - the mode is kept in KV: it survives kill -9 of the leading replica (the
 *    standby takes over and still keeps the host empty) and a restart;
 *  - `hosts -l` (=, ==, !=, key, !key) and `list -l` on manifest labels;
 *    `-x` is the lattice's short option.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "e2e.h"
#include "lt_alloc.h"
#include "lt_testutil.h"

#define L "default"

/* latticectl args; asserts the exit code, returns stdout (lt_free). */
static char *ctl(e2e *e, int want_exit, const char *const *args)
{
    lt_test_cmd_result res;
    char *out;

    e2e_ctl(e, L, &res, args);
    if (res.exit_code != want_exit)
        e2e_dump_logs(e);
    ck_assert_msg(res.exit_code == want_exit, "latticectl %s %s: exit %d (want %d): %s%s", args[0],
                  args[1] != NULL ? args[1] : "", res.exit_code, want_exit, res.out, res.err);
    out = lt_strdup(want_exit == 0 ? res.out : res.err);
    lt_test_cmd_result_cleanup(&res);
    return out;
}

/* The "scheduling" word of host in `hosts -o json` ("" when not listed or no answer). */
static void scheduling_of(e2e *e, const char *host, char *out, size_t cap)
{
    const char *args[] = { "hosts", "-o", "json", NULL };
    lt_test_cmd_result res;
    json_t *doc, *h;
    size_t i;

    out[0] = '\0';
    e2e_ctl(e, L, &res, args);
    doc = res.exit_code == 0 ? json_loads(res.out, 0, NULL) : NULL;
    json_array_foreach (json_object_get(doc, "hosts"), i, h)
        if (strcmp(json_string_value(json_object_get(h, "id")), host) == 0)
            snprintf(out, cap, "%s", json_string_value(json_object_get(h, "scheduling")));
    json_decref(doc);
    lt_test_cmd_result_cleanup(&res);
}

typedef struct {
    const char *host, *word;
} sched_want;

static bool scheduling_is(e2e *e, void *arg)
{
    const sched_want *w = arg;
    char got[32];

    scheduling_of(e, w->host, got, sizeof(got));
    return strcmp(got, w->word) == 0;
}

static bool hosts_up(e2e *e, void *arg)
{
    return e2e_host_count(e, L) == *(const size_t *)arg;
}

/* latticed lists n hosts and acts (past its warm-up: a deploy is placed at once). */
static bool acting_with(e2e *e, void *arg)
{
    const char *args[] = { "hosts", "-o", "json", NULL };
    lt_test_cmd_result res;
    json_t *doc;
    bool ok;

    e2e_ctl(e, L, &res, args);
    doc = res.exit_code == 0 ? json_loads(res.out, 0, NULL) : NULL;
    ok = doc != NULL && json_is_true(json_object_get(doc, "acting")) &&
         json_array_size(json_object_get(doc, "hosts")) == *(const size_t *)arg;
    json_decref(doc);
    lt_test_cmd_result_cleanup(&res);
    return ok;
}

static bool leader_is(e2e *e, void *arg)
{
    return strcmp(e2e_leader(e, L, NULL), (const char *)arg) == 0;
}

/* ---- cordon, drain, uncordon ------------------------------------------------------------- */

START_TEST(test_cordon_drain_uncordon)
{
    e2e *e = e2e_new();
    const char *cordon1[] = { "hosts", "cordon", "c1-00000", NULL };
    const char *uncordon1[] = { "hosts", "uncordon", "c1-00000", NULL };
    const char *drain0[] = { "hosts", "drain", "c0-00000", "--wait-timeout", "120", NULL };
    const char *uncordon0[] = { "hosts", "uncordon", "c0-00000", "-o", "json", NULL };
    const char *nosuch[] = { "hosts", "cordon", "nosuch-host", NULL };
    const char *badact[] = { "hosts", "reboot", "c0-00000", NULL };
    const char *nohost[] = { "hosts", "drain", NULL };
    const char *table[] = { "hosts", NULL };
    sched_want w;
    size_t three = 3;
    char *out, word[32];

    e2e_observe(e, L);
    e2e_hosts(e, L, "c0", 1, NULL, NULL);
    e2e_hosts(e, L, "c1", 1, NULL, NULL);
    e2e_hosts(e, L, "c2", 1, NULL, NULL);
    e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, hosts_up, &three, 20000));
    ck_assert_msg(e2e_wait(e, acting_with, &three, 30000), "latticed never acted");
    /* cordon, then deploy: nothing on the cordoned host */
    out = ctl(e, 0, cordon1);
    ck_assert_msg(strstr(out, "cordoned") != NULL, "cordon said: %s", out);
    lt_free(out);
    scheduling_of(e, "c1-00000", word, sizeof(word));
    ck_assert_str_eq(word, "cordoned");
    out = ctl(e, 0, table);
    ck_assert_msg(strstr(out, "SCHEDULING") != NULL && strstr(out, " cordoned ") != NULL,
                  "table: %s", out);
    lt_free(out);
    e2e_deploy_ok(e, L, "spread10.yaml");
    ck_assert(e2e_wait_count(e, L, "spread10", NULL, NULL, 10, 30000));
    ck_assert(e2e_wait_status(e, L, "spread10", "deployed", 30000));
    ck_assert_uint_eq(e2e_count(e, L, "spread10", NULL, NULL, "c1-00000"), 0);
    ck_assert_uint_eq(e2e_count(e, L, "spread10", NULL, NULL, "c0-00000"), 5);
    /* uncordon: eligible again (nothing moves by itself) */
    out = ctl(e, 0, uncordon1);
    lt_free(out);
    scheduling_of(e, "c1-00000", word, sizeof(word));
    ck_assert_str_eq(word, "ready");
    /* drain waits until the host is empty; the app stays deployed, all 10 running */
    out = ctl(e, 0, drain0);
    ck_assert_msg(strstr(out, "drained") != NULL, "drain said: %s", out);
    lt_free(out);
    ck_assert(e2e_wait_count(e, L, "spread10", NULL, "c0-00000", 0, 10000)); /* heartbeats */
    ck_assert(e2e_wait_count(e, L, "spread10", NULL, NULL, 10, 30000));
    ck_assert(e2e_wait_status(e, L, "spread10", "deployed", 30000));
    ck_assert_uint_eq(e2e_count(e, L, "spread10", NULL, NULL, "c0-00000"), 0);
    scheduling_of(e, "c0-00000", word, sizeof(word));
    ck_assert_str_eq(word, "drained");
    out = ctl(e, 0, uncordon0); /* -o json: the exact reply */
    ck_assert_msg(strstr(out, "\"result\":\"ok\"") != NULL && strstr(out, "\"ready\"") != NULL,
                  "uncordon -o json: %s", out);
    lt_free(out);
    w = (sched_want){ "c0-00000", "ready" };
    ck_assert(e2e_wait(e, scheduling_is, &w, 10000));
    /* mistakes */
    out = ctl(e, 1, nosuch);
    ck_assert_msg(strstr(out, "latticectl: host nosuch-host not found") != NULL, "%s", out);
    lt_free(out);
    lt_free(ctl(e, 2, badact));
    lt_free(ctl(e, 2, nohost));
    e2e_free(e);
}
END_TEST

/* ---- the mode survives a failover and a restart ------------------------------------------ */

START_TEST(test_cordon_survives_failover_and_restart)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--replica-id", "replica-a", NULL };
    const char *rb[] = { "--replica-id", "replica-b", NULL };
    const char *rc[] = { "--replica-id", "replica-c", NULL };
    const char *cordon[] = { "hosts", "cordon", "f1-00000", NULL };
    const char *drain[] = { "hosts", "drain", "f2-00000", "--detach", NULL };
    sched_want cordoned = { "f1-00000", "cordoned" }, drained = { "f2-00000", "drained" };
    size_t three = 3;
    pid_t a, b;

    e2e_observe(e, L);
    e2e_hosts(e, L, "f0", 1, NULL, NULL);
    e2e_hosts(e, L, "f1", 1, NULL, NULL);
    e2e_hosts(e, L, "f2", 1, NULL, NULL);
    a = e2e_latticed(e, ra);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-a", 20000), "replica-a never led");
    b = e2e_latticed(e, rb);
    ck_assert(e2e_wait(e, hosts_up, &three, 20000));
    ck_assert_msg(e2e_wait(e, acting_with, &three, 30000), "latticed never acted");
    lt_free(ctl(e, 0, cordon));
    lt_free(ctl(e, 0, drain));
    /* the leader dies: the standby leads, and knows both modes from KV */
    e2e_kill(e, a, SIGKILL, true);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-b", 30000), "replica-b never led");
    ck_assert_msg(e2e_wait(e, acting_with, &three, 30000), "replica-b never acted");
    ck_assert(e2e_wait(e, scheduling_is, &cordoned, 10000));
    ck_assert(e2e_wait(e, scheduling_is, &drained, 10000));
    e2e_deploy_ok(e, L, "spread10.yaml");
    ck_assert(e2e_wait_count(e, L, "spread10", NULL, NULL, 10, 30000));
    ck_assert(e2e_wait_status(e, L, "spread10", "deployed", 30000));
    ck_assert_uint_eq(e2e_count(e, L, "spread10", NULL, NULL, "f1-00000"), 0);
    ck_assert_uint_eq(e2e_count(e, L, "spread10", NULL, NULL, "f2-00000"), 0);
    ck_assert_uint_eq(e2e_count(e, L, "spread10", NULL, NULL, "f0-00000"), 10);
    /* a restart of the whole control plane: a fresh replica reads the modes back */
    e2e_kill(e, b, SIGTERM, true);
    e2e_latticed(e, rc);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-c", 30000), "replica-c never led");
    ck_assert_msg(e2e_wait(e, acting_with, &three, 30000), "replica-c never acted");
    ck_assert(e2e_wait(e, scheduling_is, &cordoned, 10000));
    ck_assert(e2e_wait(e, scheduling_is, &drained, 10000));
    e2e_deploy_ok(e, L, "sel-blue.yaml");
    ck_assert(e2e_wait_status(e, L, "sel-blue", "deployed", 30000));
    ck_assert(e2e_wait_count(e, L, "sel-blue", NULL, "f0-00000", 1, 10000));
    ck_assert_uint_eq(e2e_count(e, L, "sel-blue", NULL, NULL, NULL), 1);
    ck_assert_uint_eq(e2e_count(e, L, "spread10", NULL, NULL, "f0-00000"), 10);
    e2e_free(e);
}
END_TEST

/* ---- label selectors --------------------------------------------------------------------- */

/* `hosts -l sel -o json` (via -x LATTICE): the listed host ids, comma-joined, sorted. */
static void hosts_selected(e2e *e, const char *sel, char *out, size_t cap)
{
    const char *args[] = { "hosts", "-x", L, "-l", sel, "-o", "json", NULL };
    char *txt = ctl(e, 0, args);
    json_t *doc = json_loads(txt, 0, NULL), *h;
    size_t i, off = 0;

    ck_assert_msg(doc != NULL, "not JSON: %s", txt);
    out[0] = '\0';
    json_array_foreach (json_object_get(doc, "hosts"), i, h)
        off += (size_t)snprintf(out + off, cap - off, "%s%s", off ? "," : "",
                                json_string_value(json_object_get(h, "id")));
    json_decref(doc);
    lt_free(txt);
}

/* `list -l sel -o json`: the app names, comma-joined in reply order. */
static void apps_selected(e2e *e, const char *sel, char *out, size_t cap)
{
    const char *args[] = { "list", "-l", sel, "-o", "json", NULL };
    char *txt = ctl(e, 0, args);
    json_t *doc = json_loads(txt, 0, NULL), *m, *models;
    size_t i, off = 0;

    ck_assert_msg(doc != NULL, "not JSON: %s", txt);
    models = json_is_array(doc) ? doc : json_object_get(doc, "models");
    out[0] = '\0';
    json_array_foreach (models, i, m)
        off += (size_t)snprintf(out + off, cap - off, "%s%s", off ? "," : "",
                                json_string_value(json_object_get(m, "name")));
    json_decref(doc);
    lt_free(txt);
}

START_TEST(test_selectors)
{
    e2e *e = e2e_new();
    const char *east[] = { "zone=east", "tier=gold", NULL }, *west[] = { "zone=west", NULL };
    const char *bad[] = { "hosts", "-l", "=east", NULL };
    const char *table[] = { "list", "-l", "team=red", NULL };
    size_t two = 2;
    char got[256], *out;

    e2e_hosts(e, L, "se", 1, east, NULL);
    e2e_hosts(e, L, "sw", 1, west, NULL);
    e2e_latticed(e, NULL);
    ck_assert_msg(e2e_wait(e, acting_with, &two, 30000), "latticed never acted");
    hosts_selected(e, "zone=east", got, sizeof(got));
    ck_assert_str_eq(got, "se-00000");
    hosts_selected(e, "zone==west", got, sizeof(got));
    ck_assert_str_eq(got, "sw-00000");
    hosts_selected(e, "zone!=east", got, sizeof(got));
    ck_assert_str_eq(got, "sw-00000");
    hosts_selected(e, "tier", got, sizeof(got));
    ck_assert_str_eq(got, "se-00000");
    hosts_selected(e, "!tier", got, sizeof(got));
    ck_assert_str_eq(got, "sw-00000");
    hosts_selected(e, "zone=east,tier=gold", got, sizeof(got));
    ck_assert_str_eq(got, "se-00000");
    hosts_selected(e, "zone=east,tier=silver", got, sizeof(got));
    ck_assert_str_eq(got, "");
    out = ctl(e, 2, bad);
    ck_assert_msg(strstr(out, "bad label selector") != NULL, "%s", out);
    lt_free(out);
    /* list -l on manifest labels */
    e2e_deploy_ok(e, L, "sel-blue.yaml");
    e2e_deploy_ok(e, L, "sel-red.yaml");
    e2e_deploy_ok(e, L, "spread10.yaml"); /* no labels */
    apps_selected(e, "team=blue", got, sizeof(got));
    ck_assert_str_eq(got, "sel-blue");
    apps_selected(e, "team!=blue", got, sizeof(got));
    ck_assert_msg(strstr(got, "sel-red") != NULL && strstr(got, "spread10") != NULL &&
                      strstr(got, "sel-blue") == NULL,
                  "team!=blue: %s", got);
    apps_selected(e, "team", got, sizeof(got));
    ck_assert_msg(strstr(got, "sel-red") != NULL && strstr(got, "sel-blue") != NULL &&
                      strstr(got, "spread10") == NULL,
                  "team: %s", got);
    apps_selected(e, "team=blue,tier=gold", got, sizeof(got));
    ck_assert_str_eq(got, "sel-blue");
    out = ctl(e, 0, table);
    ck_assert_msg(strstr(out, "sel-red") != NULL && strstr(out, "sel-blue") == NULL,
                  "list -l table: %s", out);
    lt_free(out);
    e2e_free(e);
}
END_TEST

int main(void)
{
    return e2e_run_suite("e2e_cli_hosts", 240,
                         (const TTest *const[]){ test_cordon_drain_uncordon,
                                                 test_cordon_survives_failover_and_restart,
                                                 test_selectors, NULL });
}
