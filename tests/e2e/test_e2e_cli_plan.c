/*
 * test_e2e_cli_plan.c - `latticectl plan`, `apply --dry-run` and `latticectl instances`
 * against real processes (nats-server, latticed, simulated and real latticed-hosts) and the
 * project's own manifests (tests/e2e/manifests/plan-*.yaml):
 *  - the plan of an upgrade (new image, unchanged component, new component) predicts what
 *    the scheduler then really does: after `apply` converges, the instances latticectl lists
 *    are exactly the deployed ones minus the planned stops plus the planned starts, each on
 *    the planned host; `apply --dry-run` prints the same bytes and stores nothing; planning
 *    the deployed manifest again shows no changes;
 *  - a spread that needs a label no host has: exit 1, the component and the reason;
 *  - `instances` after kill -9 of an instance process on a real host: its restart count and
 *    last error; after kill -9 of a simulated host: its instances listed on the others.
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
#define MAX_ROWS 64

typedef struct {
    char row[MAX_ROWS][128]; /* "id host" */
    size_t n;
} rows;

static int row_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void rows_add(rows *r, const char *id, const char *host)
{
    ck_assert_uint_lt(r->n, MAX_ROWS);
    snprintf(r->row[r->n++], sizeof(r->row[0]), "%s %s", id, host);
}

static bool rows_del(rows *r, const char *id, const char *host)
{
    char key[128];

    snprintf(key, sizeof(key), "%s %s", id, host);
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->row[i], key) == 0) {
            memmove(r->row[i], r->row[i + 1], (r->n - i - 1) * sizeof(r->row[0]));
            r->n--;
            return true;
        }
    return false;
}

static bool rows_equal(rows *a, rows *b)
{
    qsort(a->row, a->n, sizeof(a->row[0]), row_cmp);
    qsort(b->row, b->n, sizeof(b->row[0]), row_cmp);
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->row[i], b->row[i]) != 0)
            return false;
    return true;
}

/* Run latticectl args; *out (lt_free) its stdout, returns its exit code. */
static int ctl(e2e *e, const char *const *args, char **out, char **err)
{
    lt_test_cmd_result res;
    int code;

    e2e_ctl(e, L, &res, args);
    code = res.exit_code;
    if (out != NULL)
        *out = lt_strdup(res.out != NULL ? res.out : "");
    if (err != NULL)
        *err = lt_strdup(res.err != NULL ? res.err : "");
    lt_test_cmd_result_cleanup(&res);
    return code;
}

/* `latticectl instances app -o json`, parsed (NULL unless it exited 0 with JSON). */
static json_t *instances(e2e *e, const char *app)
{
    const char *args[] = { "instances", app, "-o", "json", NULL };
    char *out = NULL;
    json_t *doc = NULL;

    if (ctl(e, args, &out, NULL) == 0)
        doc = json_loads(out, 0, NULL);
    lt_free(out);
    return doc;
}

/* The running instances of app listed by latticectl, as "id host" rows. */
static void listed(e2e *e, const char *app, rows *r)
{
    json_t *doc = instances(e, app), *in;
    size_t i;

    r->n = 0;
    json_array_foreach (json_object_get(doc, "instances"), i, in)
        if (strcmp(json_string_value(json_object_get(in, "state")), "running") == 0)
            rows_add(r, json_string_value(json_object_get(in, "id")),
                     json_string_value(json_object_get(in, "host")));
    json_decref(doc);
}

typedef struct {
    const char *app;
    rows *want;
    rows got;
} listed_arg;

static bool listed_is(e2e *e, void *arg)
{
    listed_arg *a = arg;

    listed(e, a->app, &a->got);
    return rows_equal(&a->got, a->want);
}

/* The instance.placed events of app at version, as "id host" rows (from `latticectl events`). */
static void placed_events(e2e *e, const char *app, const char *version, rows *r)
{
    const char *args[] = { "events", "-o", "json", NULL };
    char *out = NULL, *save = NULL, *line;

    r->n = 0;
    if (ctl(e, args, &out, NULL) != 0) {
        lt_free(out);
        return;
    }
    for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        json_t *ev = json_loads(line, 0, NULL), *d = json_object_get(ev, "data");
        const char *id = json_string_value(json_object_get(d, "instanceId")),
                   *host = json_string_value(json_object_get(d, "hostId"));

        if (id == NULL)
            id = json_string_value(json_object_get(d, "instance_id"));
        if (host == NULL)
            host = json_string_value(json_object_get(d, "host_id"));
        if (json_is_string(json_object_get(ev, "type")) &&
            strcmp(json_string_value(json_object_get(ev, "type")), "instance.placed") == 0 &&
            id != NULL && host != NULL &&
            strcmp(json_string_value(json_object_get(d, "app")), app) == 0 &&
            strcmp(json_string_value(json_object_get(d, "version")), version) == 0)
            rows_add(r, id, host);
        json_decref(ev);
    }
    lt_free(out);
}

typedef struct {
    rows *want;
    rows got;
} placed_arg;

static bool placed_are(e2e *e, void *arg)
{
    placed_arg *a = arg;

    placed_events(e, "planner", "v2", &a->got);
    return rows_equal(&a->got, a->want);
}

static bool leader_acts(e2e *e, void *arg)
{
    const char *args[] = { "hosts", "-o", "json", NULL };
    char *out = NULL;
    json_t *doc;
    bool ok = false;

    if (ctl(e, args, &out, NULL) == 0 && (doc = json_loads(out, 0, NULL)) != NULL) {
        ok = json_is_true(json_object_get(doc, "acting")) &&
             json_array_size(json_object_get(doc, "hosts")) == (size_t)(uintptr_t)arg;
        json_decref(doc);
    }
    lt_free(out);
    return ok;
}

static void start_cluster(e2e *e, size_t n_hosts_a)
{
    const char *za[] = { "zone=a", NULL }, *zb[] = { "zone=b", NULL };

    e2e_observe(e, L);
    e2e_latticed(e, NULL);
    e2e_hosts(e, L, "pa", (int)n_hosts_a, za, NULL);
    e2e_hosts(e, L, "pb", 2, zb, NULL);
    if (!e2e_wait(e, leader_acts, (void *)(uintptr_t)(n_hosts_a + 2), 30000)) {
        e2e_dump_logs(e);
        ck_abort_msg("latticed does not act on %zu hosts", n_hosts_a + 2);
    }
}

START_TEST(test_plan_predicts_the_rollout)
{
    e2e *e = e2e_new();
    char *v2 = lt_strdup(e2e_manifest("plan-v2.yaml")); /* e2e_manifest: a static buffer */
    const char *plan[] = { "plan", "-f", v2, "-o", "json", NULL };
    const char *dry[] = { "apply", "--dry-run", "-f", v2, "-o", "json", NULL };
    const char *dry_eq[] = { "apply", "--dry-run=true", "-f", v2, "-o", "json", NULL };
    const char *table[] = { "plan", "-f", v2, NULL };
    const char *apply[] = { "apply", "-f", v2, NULL };
    rows *want = lt_calloc(1, sizeof(*want)), *starts_planned = lt_calloc(1, sizeof(*want));
    listed_arg *la = lt_calloc(1, sizeof(*la));
    placed_arg *pa = lt_calloc(1, sizeof(*pa));
    char *out = NULL, *out2 = NULL;
    json_t *p, *r, *op;
    size_t i, k, starts = 0;

    start_cluster(e, 2);
    e2e_deploy_ok(e, L, "plan-v1.yaml");
    e2e_expect_status(e, L, "planner", "deployed", 30000);
    e2e_expect_count(e, L, "planner", NULL, NULL, 6, 30000);
    listed(e, "planner", want);
    ck_assert_uint_eq(want->n, 6);
    /* The plan: json, and the same bytes from apply --dry-run. */
    ck_assert_int_eq(ctl(e, plan, &out, NULL), 0);
    ck_assert_int_eq(ctl(e, dry, &out2, NULL), 0);
    ck_assert_str_eq(out, out2);
    lt_free(out2);
    /* any spelling of the flag: --dry-run=true once applied for real (review) */
    ck_assert_int_eq(ctl(e, dry_eq, &out2, NULL), 0);
    ck_assert_str_eq(out, out2);
    p = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert(json_is_true(json_object_get(p, "placeable")));
    ck_assert_str_eq(json_string_value(json_object_get(p, "deployed_version")), "v1");
    ck_assert_msg(json_array_size(json_object_get(p, "rounds")) > 1, "not rolling: %s", out);
    json_array_foreach (json_object_get(p, "rounds"), i, r) {
        json_array_foreach (json_object_get(r, "stop"), k, op)
            ck_assert_msg(rows_del(want, json_string_value(json_object_get(op, "id")),
                                   json_string_value(json_object_get(op, "host"))),
                          "planned stop of %s is not running",
                          json_string_value(json_object_get(op, "id")));
        json_array_foreach (json_object_get(r, "start"), k, op) {
            rows_add(want, json_string_value(json_object_get(op, "id")),
                     json_string_value(json_object_get(op, "host")));
            rows_add(starts_planned, json_string_value(json_object_get(op, "id")),
                     json_string_value(json_object_get(op, "host")));
            starts++;
        }
    }
    ck_assert_uint_eq(starts, 5); /* 4 web replaced, 1 worker; cache left alone */
    ck_assert_uint_eq(want->n, 7);
    json_decref(p);
    lt_free(out);
    lt_free(out2);
    /* Nothing was stored: v1 still deployed, the same plan again. */
    ck_assert_int_eq(ctl(e, plan, &out, NULL), 0);
    p = json_loads(out, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(p, "deployed_version")), "v1");
    json_decref(p);
    lt_free(out);
    /* The table, for people. */
    ck_assert_int_eq(ctl(e, table, &out, NULL), 0);
    ck_assert_msg(strstr(out, "~ component web (changed: image)") != NULL &&
                      strstr(out, "+ component worker (added)") != NULL &&
                      strstr(out, "5 to start, 4 to stop") != NULL,
                  "plan table:\n%s", out);
    lt_free(out);
    /* Apply for real: what runs is what was planned. */
    ck_assert_int_eq(ctl(e, apply, NULL, NULL), 0);
    e2e_expect_status(e, L, "planner", "deployed", 60000);
    la->app = "planner";
    la->want = want;
    if (!e2e_wait(e, listed_is, la, 60000)) {
        for (i = 0; i < la->got.n; i++)
            fprintf(stderr, "got  %s\n", la->got.row[i]);
        for (i = 0; i < want->n; i++)
            fprintf(stderr, "want %s\n", want->row[i]);
        e2e_dump_logs(e);
        ck_abort_msg("the instances after the apply are not the planned ones");
    }
    /* ...and the scheduler's own account, its instance.placed events, says the same. */
    pa->want = starts_planned;
    if (!e2e_wait(e, placed_are, pa, 30000)) {
        for (i = 0; i < pa->got.n; i++)
            fprintf(stderr, "placed  %s\n", pa->got.row[i]);
        e2e_dump_logs(e);
        ck_abort_msg("the instance.placed events of v2 are not the planned starts");
    }
    /* Planning what is deployed: no changes, nothing to do. */
    ck_assert_int_eq(ctl(e, plan, &out, NULL), 0);
    p = json_loads(out, 0, NULL);
    ck_assert(json_is_true(json_object_get(p, "unchanged")));
    ck_assert_uint_eq(json_array_size(json_object_get(p, "rounds")), 0);
    json_decref(p);
    lt_free(out);
    ck_assert_int_eq(ctl(e, table, &out, NULL), 0);
    ck_assert_msg(strstr(out, "No changes") != NULL, "plan table:\n%s", out);
    lt_free(out);
    lt_free(want);
    lt_free(starts_planned);
    lt_free(la);
    lt_free(pa);
    lt_free(v2);
    e2e_free(e);
}
END_TEST

START_TEST(test_plan_shows_what_cannot_be_placed)
{
    e2e *e = e2e_new();
    char *mars = lt_strdup(e2e_manifest("plan-mars.yaml")); /* a static buffer */
    const char *json[] = { "plan", "-f", mars, "-o", "json", NULL };
    const char *table[] = { "plan", "-f", mars, NULL };
    char *out = NULL;
    json_t *p, *u;

    start_cluster(e, 1);
    ck_assert_int_eq(ctl(e, json, &out, NULL), 1);
    p = json_loads(out, 0, NULL);
    ck_assert_msg(p != NULL, "plan -o json: %s", out);
    ck_assert(json_is_false(json_object_get(p, "placeable")));
    ck_assert_uint_eq(json_array_size(json_object_get(p, "unplaced")), 1);
    u = json_array_get(json_object_get(p, "unplaced"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(u, "component")), "lander");
    ck_assert_str_eq(json_string_value(json_object_get(u, "reason")), "no_eligible_hosts");
    ck_assert_uint_eq(json_integer_value(json_object_get(json_object_get(p, "totals"), "start")),
                      1); /* the rover still goes */
    json_decref(p);
    lt_free(out);
    ck_assert_int_eq(ctl(e, table, &out, NULL), 1);
    ck_assert_msg(strstr(out, "Cannot be placed:") != NULL &&
                      strstr(out, "lander: 0 of 2 placed (no_eligible_hosts)") != NULL,
                  "plan table:\n%s", out);
    lt_free(out);
    /* --dry-run stores nothing: nothing to --wait for. */
    {
        const char *both[] = { "apply", "--dry-run", "--wait", "-f", mars, NULL };
        char *err = NULL;

        ck_assert_int_eq(ctl(e, both, NULL, &err), 2);
        ck_assert_msg(strstr(err, "nothing to --wait") != NULL, "apply --dry-run --wait: %s", err);
        lt_free(err);
    }
    /* Nothing was deployed. */
    ck_assert_uint_eq(e2e_count(e, L, "mars", NULL, NULL, NULL), 0);
    lt_free(mars);
    e2e_free(e);
}
END_TEST

/* Write text into dir/name; the path in out. */
static void write_manifest(const char *dir, const char *name, const char *text, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", dir, name);
    ck_assert_int_eq(lt_test_write_file(out, text, strlen(text)), LT_OK);
}

/* The plan runs apply's own checks (model.plan through the API, review of issue 12): a stored
 * version with other content is refused as apply refuses it; a manifest without a version is
 * planned as apply would store it (a new version), not refused. */
START_TEST(test_plan_checks_like_apply)
{
    e2e *e = e2e_new();
    char *v1 = NULL, *dir = NULL, *other, *bare, *at, p_other[600], p_bare[600];
    const char *put[] = { "put", "-f", NULL, NULL };
    const char *plan_other[] = { "plan", "-f", p_other, NULL };
    const char *apply_other[] = { "apply", "-f", p_other, NULL };
    const char *plan_bare[] = { "plan", "-f", p_bare, "-o", "json", NULL };
    char *out = NULL, *err = NULL;
    size_t len = 0;
    json_t *p;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-e2e-plancheck"), LT_OK);
    ck_assert_int_eq(lt_test_read_file(e2e_manifest("plan-v1.yaml"), 1 << 20, &v1, &len), LT_OK);
    /* v1 with another image for web, same version annotation */
    other = lt_strdup(v1);
    at = strstr(other, "web:1");
    ck_assert_ptr_nonnull(at);
    at[4] = '9';
    write_manifest(dir, "other.yaml", other, p_other, sizeof(p_other));
    /* v1 without its version annotation */
    bare = lt_strdup(v1);
    at = strstr(bare, "    version: v1\n");
    ck_assert_ptr_nonnull(at);
    memmove(at, at + strlen("    version: v1\n"), strlen(at + strlen("    version: v1\n")) + 1);
    at = strstr(bare, "  annotations:\n");
    ck_assert_ptr_nonnull(at);
    memmove(at, at + strlen("  annotations:\n"), strlen(at + strlen("  annotations:\n")) + 1);
    write_manifest(dir, "bare.yaml", bare, p_bare, sizeof(p_bare));

    start_cluster(e, 1);
    put[2] = e2e_manifest("plan-v1.yaml");
    ck_assert_int_eq(ctl(e, put, NULL, NULL), 0); /* stored, not deployed */
    {
        const char *inst[] = { "instances", "planner", NULL };

        ck_assert_int_eq(ctl(e, inst, &out, &err), 0); /* exists: no instances, not "not found" */
        ck_assert_msg(strstr(err, "planner is not deployed: no instances") != NULL, "%s", err);
        lt_free(out), lt_free(err);
    }
    ck_assert_int_eq(ctl(e, plan_other, &out, &err), 1);
    ck_assert_msg(strstr(err, "Manifest version v1 already exists") != NULL, "plan: %s%s", out,
                  err);
    lt_free(out), lt_free(err);
    ck_assert_int_eq(ctl(e, apply_other, &out, &err), 1); /* and apply agrees */
    ck_assert_msg(strstr(out, "already exists") != NULL || strstr(err, "already exists") != NULL,
                  "apply: %s%s", out, err);
    lt_free(out), lt_free(err);
    ck_assert_int_eq(ctl(e, plan_bare, &out, NULL), 0);
    p = json_loads(out, 0, NULL);
    ck_assert_msg(p != NULL, "plan -o json: %s", out);
    ck_assert_str_eq(json_string_value(json_object_get(p, "result")), "success");
    ck_assert(json_is_true(json_object_get(p, "placeable")));
    /* the version apply would give it: the stored one when unchanged, else a new ULID */
    ck_assert_ptr_nonnull(json_string_value(json_object_get(p, "version")));
    ck_assert_msg(json_is_true(json_object_get(p, "stores_version")) ==
                      (strcmp(json_string_value(json_object_get(p, "version")), "v1") != 0),
                  "plan: ...%s", out + (strlen(out) > 300 ? strlen(out) - 300 : 0));
    json_decref(p);
    lt_free(out);
    ck_assert_uint_eq(e2e_count(e, L, "planner", NULL, NULL, NULL), 0); /* nothing deployed */
    lt_free(v1), lt_free(other), lt_free(bare), free(dir);
    e2e_free(e);
}
END_TEST

typedef struct {
    const char *app, *host;
    size_t n; /* rows wanted (0: any) */
    bool crashed;
} inst_want;

/* instances of app: n rows, all running; with crashed, one has restarts >= 1 and a last error
 * saying signal 9; with host, every row is on host. */
static bool instances_are(e2e *e, void *arg)
{
    const inst_want *w = arg;
    json_t *doc = instances(e, w->app), *in;
    size_t i, crashed = 0, n = 0;
    bool ok = doc != NULL;

    json_array_foreach (json_object_get(doc, "instances"), i, in) {
        n++;
        ok &= strcmp(json_string_value(json_object_get(in, "state")), "running") == 0;
        if (w->host != NULL)
            ok &= strcmp(json_string_value(json_object_get(in, "host")), w->host) == 0;
        crashed += json_integer_value(json_object_get(in, "restarts")) >= 1 &&
                   strstr(json_string_value(json_object_get(in, "last_error")), "signal 9") != NULL;
    }
    json_decref(doc);
    return ok && (w->n == 0 || n == w->n) && crashed == (w->crashed ? 1u : 0u);
}

START_TEST(test_instances_after_kill)
{
    e2e *e = e2e_new();
    const char *runner[] = { "--default-runner", "exec sleep 600", NULL };
    const char *table[] = { "instances", "sleeper", NULL };
    const char *wide[] = { "instances", "sleeper", "-o", "wide", NULL };
    const char *nosuch[] = { "instances", "nosuch", NULL };
    inst_want w = { "sleeper", "real-1", 2, false };
    char *out = NULL, *err = NULL;
    pid_t host, pids[8];

    e2e_observe(e, L);
    host = e2e_real_host(e, L, "real-1", runner);
    e2e_latticed(e, NULL);
    e2e_deploy_ok(e, L, "plan-real.yaml");
    e2e_expect_status(e, L, "sleeper", "deployed", 30000);
    if (!e2e_wait(e, instances_are, &w, 30000)) {
        e2e_dump_logs(e);
        ck_abort_msg("sleeper: not 2 running instances on real-1");
    }
    ck_assert_uint_eq(e2e_children(host, pids, 8), 2);
    ck_assert_int_eq(kill(pids[0], SIGKILL), 0); /* an instance: the host's child process */
    w.crashed = true;
    if (!e2e_wait(e, instances_are, &w, 30000)) {
        e2e_dump_logs(e);
        ck_abort_msg("sleeper: the killed instance does not show its restart and error");
    }
    ck_assert_int_eq(ctl(e, table, &out, NULL), 0);
    ck_assert_msg(strstr(out, "RESTARTS") != NULL && strstr(out, "LAST ERROR") != NULL &&
                      strstr(out, "killed by signal 9") != NULL && strstr(out, "real-1") != NULL,
                  "instances table:\n%s", out);
    lt_free(out);
    ck_assert_int_eq(ctl(e, wide, &out, NULL), 0);
    ck_assert_msg(strstr(out, "COMPONENT ID") != NULL && strstr(out, "CURRENT") != NULL,
                  "instances -o wide:\n%s", out);
    lt_free(out);
    ck_assert_int_eq(ctl(e, nosuch, &out, &err), 1);
    ck_assert_msg(strstr(err, "not found") != NULL, "instances nosuch: %s", err);
    lt_free(out);
    lt_free(err);
    e2e_free(e);
}
END_TEST

START_TEST(test_instances_after_host_kill)
{
    e2e *e = e2e_new();
    const char *za[] = { "zone=a", NULL };
    inst_want w = { "mars", NULL, 1, false };
    const char *apply[] = { "apply", "-f", e2e_manifest("plan-mars.yaml"), NULL };
    json_t *doc;
    const char *first;
    char keep[64];
    pid_t h1, h2;

    e2e_observe(e, L);
    e2e_latticed(e, NULL);
    h1 = e2e_hosts(e, L, "ka", 1, za, NULL);
    h2 = e2e_hosts(e, L, "kb", 1, za, NULL);
    if (!e2e_wait(e, leader_acts, (void *)(uintptr_t)2, 30000)) {
        e2e_dump_logs(e);
        ck_abort_msg("latticed does not act on 2 hosts");
    }
    ck_assert_int_eq(ctl(e, apply, NULL, NULL), 0);
    if (!e2e_wait(e, instances_are, &w, 30000)) { /* the rover; the lander cannot go */
        e2e_dump_logs(e);
        ck_abort_msg("mars: no running rover");
    }
    doc = instances(e, "mars");
    first = json_string_value(
        json_object_get(json_array_get(json_object_get(doc, "instances"), 0), "host"));
    ck_assert_ptr_nonnull(first);
    /* Kill the rover's host: the rover is listed on the other one. */
    snprintf(keep, sizeof(keep), "%s", strncmp(first, "ka", 2) == 0 ? "kb-00000" : "ka-00000");
    e2e_kill(e, strncmp(first, "ka", 2) == 0 ? h1 : h2, SIGKILL, true);
    json_decref(doc);
    w.host = keep;
    if (!e2e_wait(e, instances_are, &w, 60000)) {
        e2e_dump_logs(e);
        ck_abort_msg("mars: the rover is not listed on %s after its host was killed", keep);
    }
    e2e_free(e);
}
END_TEST

int main(void)
{
    return e2e_run_suite("e2e_cli_plan", 240,
                         (const TTest *const[]){
                             test_plan_predicts_the_rollout, test_plan_shows_what_cannot_be_placed,
                             test_plan_checks_like_apply, test_instances_after_kill,
                             test_instances_after_host_kill, NULL });
}
