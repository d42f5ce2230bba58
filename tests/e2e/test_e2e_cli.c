/*
 * test_e2e_cli.c - latticectl's lattice commands and the real host, with real
 * processes (nats-server, latticed, latticed-host) and the project's own
 * manifests (tests/e2e/manifests/):
 *  - `latticectl hosts` (table and -o json): host ids, labels and state as
 *    latticed's scheduler sees them;
 *  - `latticectl hosts --evict-silent`: 3 of 4 hosts SIGSTOPped hold the
 *    partition guard (nothing evicted, hosts "unreachable"); the override
 *    declares them lost and their instances are placed on the one left;
 *  - `latticectl events` shows what a deploy did (instance.placed,
 *    app.deployed; json and table) and the hosts the override evicted;
 *  - a real (not simulated) latticed-host under latticed runs each instance
 *    as a child process with the instance's identity in its environment, and
 *    undeploy stops them all.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "e2e.h"
#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_testutil.h"

#define L "default"

/* `latticectl hosts -o json`, parsed; NULL (with the reason in *why when not NULL) unless it
 * exited 0 with JSON. */
static json_t *ctl_hosts_try(e2e *e, char *why, size_t whysize)
{
    const char *args[] = { "hosts", "-o", "json", NULL };
    lt_test_cmd_result res;
    json_t *doc = NULL;

    e2e_ctl(e, L, &res, args);
    if (res.exit_code == 0)
        doc = json_loads(res.out, 0, NULL);
    if (doc == NULL && why != NULL)
        snprintf(why, whysize, "exit %d: %s%s", res.exit_code, res.out, res.err);
    lt_test_cmd_result_cleanup(&res);
    return doc;
}

static json_t *ctl_hosts_json(e2e *e)
{
    char why[1024];
    json_t *doc = ctl_hosts_try(e, why, sizeof(why));

    ck_assert_msg(doc != NULL, "latticectl hosts -o json: %s", why);
    return doc;
}

/* The host of id in a hosts document, or NULL. */
static json_t *host_of(json_t *doc, const char *id)
{
    size_t i;
    json_t *h;

    json_array_foreach (json_object_get(doc, "hosts"), i, h)
        if (strcmp(json_string_value(json_object_get(h, "id")), id) == 0)
            return h;
    return NULL;
}

typedef struct {
    size_t total;       /* hosts latticed knows */
    size_t unreachable; /* of them, in state "unreachable" (0: don't care) */
} hosts_want;

static bool ctl_hosts_are(e2e *e, void *arg)
{
    const hosts_want *w = arg;
    json_t *doc = ctl_hosts_try(e, NULL, 0), *h;
    size_t i, unreachable = 0;
    bool ok;

    if (doc == NULL) /* latticed not leading yet */
        return false;
    json_array_foreach (json_object_get(doc, "hosts"), i, h)
        unreachable += strcmp(json_string_value(json_object_get(h, "state")), "unreachable") == 0;
    ok = (size_t)json_integer_value(json_object_get(doc, "total")) == w->total &&
         json_array_size(json_object_get(doc, "hosts")) == w->total &&
         (w->unreachable == 0 || unreachable == w->unreachable);
    json_decref(doc);
    return ok;
}

/* `latticectl events` with extra args (exit 0 asserted): its stdout (lt_free). */
static char *ctl_events(e2e *e, const char *output)
{
    const char *args[] = { "events", "-o", output, NULL };
    lt_test_cmd_result res;
    char *out;

    e2e_ctl(e, L, &res, args);
    ck_assert_msg(res.exit_code == 0, "latticectl events: exit %d: %s", res.exit_code, res.err);
    out = lt_strdup(res.out);
    lt_test_cmd_result_cleanup(&res);
    return out;
}

/* Events (one JSON object a line) of type whose data mention `needle` (NULL = any). */
static size_t events_of(const char *lines, const char *type, const char *needle)
{
    char *copy = lt_strdup(lines), *save = NULL, *line;
    size_t n = 0;

    for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        json_t *ev = json_loads(line, 0, NULL), *data;
        char *text;

        ck_assert_msg(ev != NULL, "not a JSON event: %s", line);
        data = json_object_get(ev, "data");
        text = json_dumps(data, JSON_COMPACT);
        if (strcmp(json_string_value(json_object_get(ev, "type")), type) == 0 &&
            (needle == NULL || strstr(text, needle) != NULL))
            n++;
        free(text);
        json_decref(ev);
    }
    lt_free(copy);
    return n;
}

/* ---- latticectl hosts --------------------------------------------------------------------- */

START_TEST(test_ctl_hosts_table_and_json)
{
    e2e *e = e2e_new();
    const char *east[] = { "zone=east", "tier=gold", NULL }, *west[] = { "zone=west", NULL };
    const char *table[] = { "hosts", NULL };
    hosts_want two = { 2, 0 };
    lt_test_cmd_result res;
    json_t *doc, *h;
    char *line;

    e2e_hosts(e, L, "ha", 1, east, NULL);
    e2e_hosts(e, L, "hb", 1, west, NULL);
    e2e_latticed(e, NULL);
    ck_assert_msg(e2e_wait(e, ctl_hosts_are, &two, 20000), "latticed never listed 2 hosts");
    doc = ctl_hosts_json(e);
    h = host_of(doc, "ha-00000");
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(json_string_value(json_object_get(h, "state")), "alive");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(h, "labels"), "zone")),
                     "east");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(h, "labels"), "tier")),
                     "gold");
    h = host_of(doc, "hb-00000");
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(json_string_value(json_object_get(h, "state")), "alive");
    ck_assert_str_eq(json_string_value(json_object_get(h, "driver")), "native");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(h, "labels"), "zone")),
                     "west");
    ck_assert_ptr_null(json_object_get(json_object_get(h, "labels"), "tier"));
    ck_assert(!json_is_true(json_object_get(doc, "partitioned")));
    json_decref(doc);
    /* The table: a header, then one row per host with its state and labels. */
    e2e_ctl(e, L, &res, table);
    ck_assert_msg(res.exit_code == 0, "latticectl hosts: exit %d: %s", res.exit_code, res.err);
    ck_assert_msg(strncmp(res.out, "HOST", 4) == 0 && strstr(res.out, "STATE") != NULL &&
                      strstr(res.out, "DRIVER") != NULL && strstr(res.out, "LABELS") != NULL,
                  "no header: %s", res.out);
    line = strstr(res.out, "ha-00000");
    ck_assert_msg(line != NULL, "ha-00000 not listed: %s", res.out);
    line = lt_strndup(line, strcspn(line, "\n"));
    ck_assert_msg(strstr(line, " alive ") != NULL && strstr(line, " native ") != NULL &&
                      strstr(line, "zone=east") != NULL && strstr(line, "tier=gold") != NULL,
                  "row: %s", line);
    lt_free(line);
    line = strstr(res.out, "hb-00000");
    ck_assert_msg(line != NULL, "hb-00000 not listed: %s", res.out);
    line = lt_strndup(line, strcspn(line, "\n"));
    ck_assert_msg(strstr(line, " alive ") != NULL && strstr(line, "zone=west") != NULL &&
                      strstr(line, "zone=east") == NULL,
                  "row: %s", line);
    lt_free(line);
    ck_assert_ptr_null(strstr(res.out, "partition guard active"));
    lt_test_cmd_result_cleanup(&res);
    e2e_free(e);
}
END_TEST

/* ---- latticectl hosts --evict-silent, and events --------------------------------------------- */

START_TEST(test_ctl_evict_silent_and_events)
{
    e2e *e = e2e_new();
    const char *evict[] = { "hosts", "--evict-silent", NULL }, *table[] = { "hosts", NULL };
    const char *ids[4] = { "v0-00000", "v1-00000", "v2-00000", "v3-00000" };
    hosts_want four = { 4, 0 }, held = { 4, 3 }, one = { 1, 0 };
    lt_test_cmd_result res;
    pid_t pids[4];
    char *ev, prefix[8];
    size_t i, starts, on_v0_before;

    e2e_observe(e, L);
    for (i = 0; i < 4; i++) {
        snprintf(prefix, sizeof(prefix), "v%zu", i);
        pids[i] = e2e_hosts(e, L, prefix, 1, NULL, NULL);
    }
    e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, ctl_hosts_are, &four, 20000));
    e2e_deploy_ok(e, L, "spread10.yaml");
    ck_assert(e2e_wait_status(e, L, "spread10", "deployed", 30000));
    ck_assert(e2e_wait_count(e, L, "spread10", NULL, NULL, 10, 20000));
    /* What the deploy did, as `latticectl events` tells it. */
    ev = ctl_events(e, "json");
    /* (host.joined is sent for hosts heard after latticed won its lease: not checked) */
    ck_assert_msg(events_of(ev, "instance.placed", "spread10") == 10, "placed: %.1500s", ev);
    ck_assert_msg(events_of(ev, "app.deployed", "spread10") == 1, "deployed: %.1500s", ev);
    ck_assert_msg(events_of(ev, "host.lost", NULL) == 0, "lost: %.1500s", ev);
    lt_free(ev);
    ev = ctl_events(e, "table");
    ck_assert_msg(strstr(ev, "app.deployed") != NULL && strstr(ev, "spread10") != NULL &&
                      strstr(ev, "instance.placed") != NULL,
                  "events table: %.1500s", ev);
    lt_free(ev);
    /* 3 of 4 hosts fall silent at once: the partition guard keeps them, unreachable. */
    starts = e2e_starts_sent(e, L);
    on_v0_before = e2e_count(e, L, "spread10", NULL, NULL, "v0-00000");
    ck_assert_uint_lt(on_v0_before, 10);
    for (i = 1; i < 4; i++)
        e2e_kill(e, pids[i], SIGSTOP, false);
    if (!e2e_wait(e, ctl_hosts_are, &held, 30000)) {
        e2e_dump_logs(e);
        ck_abort_msg("the 3 silent hosts never showed as unreachable");
    }
    e2e_ctl(e, L, &res, table);
    ck_assert_msg(strstr(res.out, "partition guard active") != NULL &&
                      strstr(res.out, "unreachable") != NULL,
                  "hosts: %s", res.out);
    lt_test_cmd_result_cleanup(&res);
    /* latticed has judged them (unreachable, not lost): nothing was evicted or replaced. */
    ev = ctl_events(e, "json");
    ck_assert_msg(events_of(ev, "host.lost", NULL) == 0, "evicted despite the guard: %.1500s", ev);
    lt_free(ev);
    ck_assert_uint_eq(e2e_starts_sent(e, L), starts);
    ck_assert_uint_eq(e2e_count(e, L, "spread10", NULL, NULL, "v0-00000"), on_v0_before);
    /* The operator overrides: the silent ones are lost, their instances move to v0. */
    e2e_ctl(e, L, &res, evict);
    ck_assert_msg(res.exit_code == 0, "--evict-silent: exit %d: %s", res.exit_code, res.err);
    lt_test_cmd_result_cleanup(&res);
    if (!e2e_wait_count(e, L, "spread10", NULL, "v0-00000", 10, 30000) ||
        !e2e_wait(e, ctl_hosts_are, &one, 20000)) {
        e2e_dump_logs(e);
        ck_abort_msg("after --evict-silent: %zu instances on v0-00000",
                     e2e_count(e, L, "spread10", NULL, NULL, "v0-00000"));
    }
    ev = ctl_events(e, "json");
    for (i = 1; i < 4; i++)
        ck_assert_msg(events_of(ev, "host.lost", ids[i]) == 1, "host.lost %s: %.1500s", ids[i], ev);
    ck_assert_msg(events_of(ev, "host.lost", ids[0]) == 0, "the live host was lost: %.1500s", ev);
    lt_free(ev);
    e2e_free(e);
}
END_TEST

/* ---- the real host under latticed ---------------------------------------------------------- */

/* Whether /proc/pid/environ holds the entry "kv" exactly. */
static bool environ_has(pid_t pid, const char *kv)
{
    char path[64], *data = NULL;
    size_t len = 0, off;
    bool found = false;

    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    if (lt_test_read_file(path, 1u << 20, &data, &len) != LT_OK)
        return false;
    for (off = 0; off < len && !found; off += strlen(data + off) + 1)
        found = strcmp(data + off, kv) == 0;
    lt_free(data);
    return found;
}

typedef struct {
    pid_t host;
    size_t want;
} children_arg;

static bool children_are(e2e *e, void *arg)
{
    const children_arg *c = arg;
    pid_t pids[16];

    (void)e;
    return e2e_children(c->host, pids, 16) == c->want;
}

START_TEST(test_real_host_runs_and_stops_children)
{
    e2e *e = e2e_new();
    const char *runner[] = { "--default-runner", "exec sleep 600", NULL };
    const char *undeploy[] = { "undeploy", "real3", NULL };
    children_arg kids = { 0, 3 }, no_kids = { 0, 0 };
    lt_test_cmd_result res;
    pid_t host, pids[16];
    size_t n, i;

    e2e_observe(e, L);
    host = e2e_real_host(e, L, "real-1", runner);
    kids.host = no_kids.host = host;
    e2e_latticed(e, NULL);
    ck_assert_uint_eq(e2e_children(host, pids, 16), 0);
    e2e_deploy_ok(e, L, "real3.yaml");
    if (!e2e_wait_status(e, L, "real3", "deployed", 30000) ||
        !e2e_wait_count(e, L, "real3", NULL, "real-1", 3, 20000) ||
        !e2e_wait(e, children_are, &kids, 20000)) {
        e2e_dump_logs(e);
        ck_abort_msg("real3 not running as 3 children: %zu in heartbeats, %zu children",
                     e2e_count(e, L, "real3", NULL, NULL, NULL), e2e_children(host, pids, 16));
    }
    n = e2e_children(host, pids, 16);
    ck_assert_uint_eq(n, 3);
    for (i = 0; i < n; i++) {
        ck_assert_msg(environ_has(pids[i], "LATTICE_APP_NAME=real3") &&
                          environ_has(pids[i], "LATTICE_COMPONENT_NAME=worker") &&
                          environ_has(pids[i], "LATTICE_HOST_ID=real-1"),
                      "child %d is not an instance of real3 on real-1", (int)pids[i]);
    }
    e2e_ctl(e, L, &res, undeploy);
    ck_assert_msg(res.exit_code == 0, "undeploy: exit %d: %s", res.exit_code, res.err);
    lt_test_cmd_result_cleanup(&res);
    if (!e2e_wait(e, children_are, &no_kids, 30000) ||
        !e2e_wait_count(e, L, "real3", NULL, NULL, 0, 20000)) {
        e2e_dump_logs(e);
        ck_abort_msg("after undeploy: %zu children, %zu in heartbeats",
                     e2e_children(host, pids, 16), e2e_count(e, L, "real3", NULL, NULL, NULL));
    }
    for (i = 0; i < n; i++)
        ck_assert_msg(!e2e_pid_running(pids[i]), "instance process %d still runs", (int)pids[i]);
    ck_assert(e2e_alive(e, host)); /* the host itself stays */
    e2e_free(e);
}
END_TEST

int main(void)
{
    Suite *s;

    e2e_require_bins();
    s = suite_create("e2e_cli");
    lt_test_tcase(s, "cli", 150,
                  (const TTest *const[]){ test_ctl_hosts_table_and_json,
                                          test_ctl_evict_silent_and_events,
                                          test_real_host_runs_and_stops_children, NULL });
    return lt_test_run_suite(s);
}
