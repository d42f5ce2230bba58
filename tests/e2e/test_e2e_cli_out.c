/*
 * test_e2e_cli_out.c - latticectl's truthful output, several files and
 * safety (issue 12) against real processes (nats-server, latticed, simulated
 * latticed-host), with manifests the tests write:
 *  - status: version, running/desired per component, links; exit 1 with the
 *    reasons when the app failed; "application 'X' not found in lattice 'L'"
 *    with exit 1 for status/get/versions/history/deploy/undeploy/delete;
 *  - right after a deploy of a new version (host SIGSTOPped, so it cannot
 *    run yet) the status never says deployed, then says so for the new one;
 *  - get shows the deployed version (after a rollback, not the latest),
 *    -o yaml|json print only the manifest and apply takes it unchanged
 *    (nothing stored, nothing deployed); --latest, --full;
 *  - apply/validate of several -f, a directory and multi-document YAML: in
 *    order, one line per manifest, a failed one does not stop the others,
 *    exit 1 naming it; a missing file stops everything (exit 2); apply --wait
 *    follows each applied app until deployed;
 *  - delete needs --force for a deployed app, the deployed or the last
 *    version (exit 2 with the command); put --replace only while undeployed.
 */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "e2e.h"
#include "lt_alloc.h"
#include "lt_testutil.h"

#define L "default"

/* Run latticectl with the NULL-terminated arguments. */
static void ctl(e2e *e, lt_test_cmd_result *r, ...)
{
    const char *args[32];
    size_t n = 0;
    va_list ap;

    va_start(ap, r);
    for (const char *a = va_arg(ap, const char *); a != NULL && n < 31;
         a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    e2e_ctl(e, L, r, args);
}

#define CTL(e, r, ...) ctl((e), (r), __VA_ARGS__, (const char *)NULL)

/* An app: "web" (instances of image web:tag) behind a "front" capability linked to it. */
static char *app_yaml(const char *name, const char *version, const char *tag, const char *n)
{
    char *s = lt_malloc(2048);

    snprintf(s, 2048,
             "apiVersion: core.oam.dev/v1beta1\n"
             "kind: Application\n"
             "metadata:\n"
             "  name: %s\n"
             "  annotations:\n"
             "    version: %s\n"
             "spec:\n"
             "  components:\n"
             "    - name: web\n"
             "      type: component\n"
             "      properties:\n"
             "        image: ghcr.io/latticed-tests/%s:1\n"
             "      traits:\n"
             "        - type: spreadscaler\n"
             "          properties:\n"
             "            instances: %s\n"
             "    - name: front\n"
             "      type: capability\n"
             "      properties:\n"
             "        image: ghcr.io/latticed-tests/front:1\n"
             "      traits:\n"
             "        - type: link\n"
             "          properties:\n"
             "            namespace: wasi\n"
             "            package: http\n"
             "            interfaces: [incoming-handler]\n"
             "            target:\n"
             "              name: web\n",
             name, version, tag, n);
    return s;
}

typedef struct {
    char *dir;
    char path[4096];
} scratch;

/* Write text to dir/file; the path in s->path. */
static const char *put_file(scratch *s, const char *file, const char *text)
{
    snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, file);
    ck_assert_int_eq(lt_test_write_file(s->path, text, strlen(text)), LT_OK);
    return s->path;
}

static const char *put_app(scratch *s, const char *file, const char *name, const char *version,
                           const char *tag)
{
    char *m = app_yaml(name, version, tag, "2");
    const char *p = put_file(s, file, m);

    lt_free(m);
    return p;
}

static void scratch_new(scratch *s)
{
    ck_assert_int_eq(lt_test_tmpdir(&s->dir, "lctl-out"), LT_OK);
}

static void scratch_free(scratch *s)
{
    LT_IGNORE(lt_test_rmtree(s->dir));
    lt_free(s->dir);
}

static bool api_up(e2e *e, void *arg)
{
    lt_test_cmd_result r;
    bool ok;

    (void)arg;
    CTL(e, &r, "list", "--timeout", "2");
    ok = r.exit_code == 0;
    lt_test_cmd_result_cleanup(&r);
    return ok;
}

/* A lattice with one simulated host ("h-00000"), refusing images named refuse-me; latticed's
 * API answers. */
static e2e *cluster(pid_t *host)
{
    const char *refuse[] = { "--refuse-image", "refuse-me", NULL };
    e2e *e = e2e_new();
    pid_t h;

    e2e_observe(e, L);
    h = e2e_hosts(e, L, "h", 1, NULL, refuse);
    e2e_latticed(e, NULL);
    e2e_expect_hosts(e, L, 1, 20000);
    ck_assert_msg(e2e_wait(e, api_up, NULL, 30000), "latticed's API never answered");
    if (host != NULL)
        *host = h;
    return e;
}

typedef struct {
    const char *app, *first_line; /* `status APP` starts with first_line */
    int code;                     /* and exits with code */
    const char *const (*rows)[4]; /* NULL, or table rows (kind, 3 texts) up to a NULL kind */
    char last[4096];
} status_want;

static bool row_find(const char *out, const char *kind, const char *a, const char *b,
                     const char *c);

static bool status_is(e2e *e, void *arg)
{
    status_want *w = arg;
    lt_test_cmd_result r;
    bool ok;

    CTL(e, &r, "status", w->app);
    ok = r.exit_code == w->code && strncmp(r.out, w->first_line, strlen(w->first_line)) == 0;
    for (size_t i = 0; ok && w->rows != NULL && w->rows[i][0] != NULL; i++)
        ok = row_find(r.out, w->rows[i][0], w->rows[i][1], w->rows[i][2], w->rows[i][3]);
    if (w->rows != NULL)
        ok = ok && r.err[0] == '\0';
    snprintf(w->last, sizeof(w->last), "exit %d: %s%s", r.exit_code, r.out, r.err);
    lt_test_cmd_result_cleanup(&r);
    return ok;
}

/* Waits until `status app` starts with first_line, exits with code and, when rows is not NULL,
 * prints those table rows and nothing on stderr: a status may move on while the scheduler settles
 * (a late heartbeat on a loaded machine), so the whole table is polled for, not read once. */
static void expect_table(e2e *e, const char *app, const char *first_line, int code,
                         const char *const (*rows)[4])
{
    status_want w = { app, first_line, code, rows, "" };

    if (!e2e_wait(e, status_is, &w, 30000)) {
        e2e_dump_logs(e);
        ck_abort_msg("status %s never started with '%s' (exit %d, with the rows asked); last: %s",
                     app, first_line, code, w.last);
    }
}

static void expect_status(e2e *e, const char *app, const char *first_line, int code)
{
    expect_table(e, app, first_line, code, NULL);
}

static void expect_exit(lt_test_cmd_result *r, int code, const char *out, const char *err)
{
    ck_assert_msg(r->exit_code == code, "exit %d, not %d: %s%s", r->exit_code, code, r->out,
                  r->err);
    if (out != NULL)
        ck_assert_str_eq(r->out, out);
    if (err != NULL)
        ck_assert_str_eq(r->err, err);
    lt_test_cmd_result_cleanup(r);
}

/* The table row of out that starts with kind has the three texts in it. */
static bool row_find(const char *out, const char *kind, const char *a, const char *b, const char *c)
{
    char line[1024];
    const char *p = out;

    while (*p != '\0') {
        size_t n = strcspn(p, "\n");

        if (n >= sizeof(line))
            n = sizeof(line) - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        if (strncmp(line, kind, strlen(kind)) == 0 && strstr(line, a) != NULL &&
            strstr(line, b) != NULL && strstr(line, c) != NULL)
            return true;
        p += strcspn(p, "\n");
        if (*p == '\n')
            p++;
    }
    return false;
}

static void row_has(const char *out, const char *kind, const char *a, const char *b, const char *c)
{
    if (!row_find(out, kind, a, b, c))
        ck_abort_msg("no row %s| %s | %s | %s in:\n%s", kind, a, b, c, out);
}

#define NOT_FOUND(app) "latticectl: application '" app "' not found in lattice 'default'\n"

START_TEST(test_status_table_failed_and_not_found)
{
    static const char *const shop_rows[][4] = {
        { "component ", "web", "2/2", "deployed" },
        { "capability ", "front", "1/1", "deployed" },
        { "link ", "shop-front -(wasi:http)-> shop-web", " - ", "deployed" },
        { NULL, NULL, NULL, NULL },
    };
    e2e *e = cluster(NULL);
    scratch s;
    lt_test_cmd_result r;

    scratch_new(&s);
    CTL(e, &r, "apply", "-f", put_app(&s, "shop.yaml", "shop", "v1", "web"));
    expect_exit(&r, 0, "shop v1 deployed\n", "");
    expect_table(e, "shop", "shop v1: deployed\nKIND ", 0, shop_rows);
    /* failed: exit 1, the reason in the table and on stderr */
    CTL(e, &r, "apply", "-f", put_app(&s, "bad.yaml", "bad", "v1", "refuse-me"));
    expect_exit(&r, 0, "bad v1 deployed\n", "");
    expect_status(e, "bad", "bad v1: failed", 1);
    CTL(e, &r, "status", "bad");
    ck_assert_msg(strstr(r.err, "latticectl: application 'bad' failed: ") == r.err &&
                      strstr(r.err, "simulated refusal") != NULL,
                  "%s", r.err);
    row_has(r.out, "component ", "web", "0/2", "simulated refusal");
    expect_exit(&r, 1, NULL, NULL);
    CTL(e, &r, "status", "bad", "-o", "json"); /* the reply as it is, still exit 1 */
    ck_assert_msg(strstr(r.out, "\"type\":\"failed\"") != NULL, "%s", r.out);
    expect_exit(&r, 1, NULL, NULL);
    /* an app nobody stored: exit 1, one clear line (wadm's replies are unchanged) */
    CTL(e, &r, "status", "nosuch");
    expect_exit(&r, 1, "", NOT_FOUND("nosuch"));
    CTL(e, &r, "status", "nosuch", "-o", "json"); /* wadm's reply, unchanged */
    ck_assert_msg(strstr(r.out, "\"result\":\"ok\"") != NULL &&
                      strstr(r.out, "\"type\":\"undeployed\"") != NULL,
                  "%s", r.out);
    expect_exit(&r, 1, NULL, NOT_FOUND("nosuch"));
    CTL(e, &r, "get", "nosuch");
    expect_exit(&r, 1, "", NOT_FOUND("nosuch"));
    CTL(e, &r, "versions", "nosuch");
    expect_exit(&r, 1, "", NOT_FOUND("nosuch"));
    CTL(e, &r, "history", "nosuch");
    expect_exit(&r, 1, "", NOT_FOUND("nosuch"));
    CTL(e, &r, "deploy", "nosuch");
    expect_exit(&r, 1, "", NOT_FOUND("nosuch"));
    CTL(e, &r, "undeploy", "nosuch");
    expect_exit(&r, 1, "", NOT_FOUND("nosuch"));
    CTL(e, &r, "delete", "nosuch");
    expect_exit(&r, 1, "", NOT_FOUND("nosuch"));
    CTL(e, &r, "get", "shop", "--version", "v9");
    expect_exit(&r, 1, "",
                "latticectl: version 'v9' of application 'shop' not found in lattice 'default'\n");
    CTL(e, &r, "delete", "shop", "--version", "v9");
    expect_exit(&r, 1, "",
                "latticectl: version 'v9' of application 'shop' not found in lattice 'default'\n");
    scratch_free(&s);
    e2e_free(e);
}
END_TEST

/* A status reply (-o json) right after a deploy: the app is not deployed, and neither is any
 * scaler or component whose instances are not all running. */
static void expect_not_deployed(const char *out)
{
    json_t *j = json_loads(out, 0, NULL), *st, *x;
    size_t i;

    ck_assert_msg(j != NULL, "not JSON: %s", out);
    st = json_object_get(j, "status");
    ck_assert_msg(strcmp(json_string_value(json_object_get(json_object_get(st, "status"), "type")),
                         "deployed") != 0,
                  "deployed right after the deploy: %s", out);
    json_array_foreach (json_object_get(json_object_get(st, "latticed"), "components"), i, x) {
        bool said = strcmp(json_string_value(json_object_get(json_object_get(x, "status"), "type")),
                           "deployed") == 0;

        ck_assert_msg(!said || json_integer_value(json_object_get(x, "running")) ==
                                   json_integer_value(json_object_get(x, "desired")),
                      "a component says deployed right after the deploy: %s", out);
        ck_assert_msg(!said || strcmp(json_string_value(json_object_get(x, "name")), "web") != 0,
                      "web says deployed right after the deploy: %s", out);
    }
    json_array_foreach (json_object_get(st, "scalers"), i, x)
        ck_assert_msg(strstr(json_string_value(json_object_get(x, "name")), "-web") == NULL ||
                          strcmp(json_string_value(json_object_get(x, "kind")), "LinkScaler") ==
                              0 ||
                          strcmp(json_string_value(
                                     json_object_get(json_object_get(x, "status"), "type")),
                                 "deployed") != 0,
                      "web's scaler says deployed right after the deploy: %s", out);
    json_decref(j);
}

START_TEST(test_status_right_after_deploy)
{
    pid_t host;
    e2e *e = cluster(&host);
    scratch s;
    lt_test_cmd_result r;

    scratch_new(&s);
    CTL(e, &r, "apply", "-f", put_app(&s, "shop.yaml", "shop", "v1", "web"));
    expect_exit(&r, 0, NULL, "");
    expect_status(e, "shop", "shop v1: deployed\n", 0);
    /* the host cannot start v2 while stopped: until it does, nothing may claim deployed */
    e2e_kill(e, host, SIGSTOP, false);
    CTL(e, &r, "apply", "-f", put_app(&s, "shop2.yaml", "shop", "v2", "web2"));
    expect_exit(&r, 0, "shop v2 deployed\n", "");
    for (int i = 0; i < 5; i++) {
        CTL(e, &r, "status", "shop", "-o", "json");
        expect_not_deployed(r.out);
        expect_exit(&r, 0, NULL, NULL);
        CTL(e, &r, "status", "shop");
        ck_assert_msg(strncmp(r.out, "shop v2: ", 9) == 0 &&
                          strncmp(r.out, "shop v2: deployed", 17) != 0,
                      "%s", r.out);
        row_has(r.out, "component ", "web", "/2", "reconciling");
        lt_test_cmd_result_cleanup(&r);
    }
    e2e_kill(e, host, SIGCONT, false);
    expect_status(e, "shop", "shop v2: deployed\n", 0);
    scratch_free(&s);
    e2e_free(e);
}
END_TEST

/* The version annotation of a manifest printed as JSON. */
static char *json_version(const char *out)
{
    json_t *j = json_loads(out, 0, NULL);
    const char *v;
    char *copy;

    ck_assert_msg(j != NULL, "not JSON: %s", out);
    ck_assert_msg(json_object_get(j, "result") == NULL, "more than the manifest: %s", out);
    v = json_string_value(
        json_object_get(json_object_get(json_object_get(j, "metadata"), "annotations"), "version"));
    copy = lt_strdup(v != NULL ? v : "");
    json_decref(j);
    return copy;
}

START_TEST(test_get_deployed_round_trip)
{
    e2e *e = cluster(NULL);
    scratch s;
    lt_test_cmd_result r;
    char *v, yaml_path[4096], json_path[4096];

    scratch_new(&s);
    CTL(e, &r, "apply", "-f", put_app(&s, "v1.yaml", "shop", "v1", "web"));
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "apply", "-f", put_app(&s, "v2.yaml", "shop", "v2", "web2"));
    expect_exit(&r, 0, "shop v2 deployed\n", "");
    CTL(e, &r, "rollback", "shop", "--to", "v1");
    expect_exit(&r, 0, NULL, "");
    /* get shows the deployed v1, not the latest v2; only the manifest */
    CTL(e, &r, "get", "shop", "-o", "yaml");
    ck_assert_msg(strncmp(r.out, "apiVersion: core.oam.dev/v1beta1\n", 33) == 0 &&
                      strstr(r.out, "version: v1\n") != NULL && strstr(r.out, "web:1") != NULL &&
                      strstr(r.out, "result:") == NULL,
                  "%s", r.out);
    put_file(&s, "got.yaml", r.out);
    snprintf(yaml_path, sizeof(yaml_path), "%s", s.path);
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "get", "shop", "-o", "json", "--manifest-only"); /* the default, spelt out */
    v = json_version(r.out);
    ck_assert_str_eq(v, "v1");
    lt_free(v);
    put_file(&s, "got.json", r.out);
    snprintf(json_path, sizeof(json_path), "%s", s.path);
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "get", "shop", "-o", "json", "--manifest-only", "--full");
    expect_exit(&r, 2, "", "latticectl get: give --manifest-only or --full, not both\n");
    /* apply takes both unchanged: nothing stored, nothing deployed */
    CTL(e, &r, "apply", "-f", yaml_path);
    expect_exit(&r, 0, "shop v1 unchanged\n", "");
    CTL(e, &r, "apply", "-f", json_path);
    expect_exit(&r, 0, "shop v1 unchanged\n", "");
    CTL(e, &r, "versions", "shop");
    expect_exit(&r, 0, "VERSION  DEPLOYED\nv1       *\nv2\n", "");
    /* --latest, --version, --full */
    CTL(e, &r, "get", "shop", "--latest", "-o", "json");
    v = json_version(r.out);
    ck_assert_str_eq(v, "v2");
    lt_free(v);
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "get", "shop", "--version", "v2", "-o", "json");
    v = json_version(r.out);
    ck_assert_str_eq(v, "v2");
    lt_free(v);
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "get", "shop", "--full", "-o", "json");
    ck_assert_msg(strstr(r.out, "\"result\":\"success\"") != NULL &&
                      strstr(r.out, "Successfully fetched application shop v1") != NULL,
                  "%s", r.out);
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "get", "shop", "--latest", "--version", "v1");
    expect_exit(&r, 2, "", NULL);
    /* nothing deployed: the latest */
    CTL(e, &r, "undeploy", "shop");
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "get", "shop", "-o", "json", "--manifest-only"); /* the default, spelt out */
    v = json_version(r.out);
    ck_assert_str_eq(v, "v2");
    lt_free(v);
    expect_exit(&r, 0, NULL, "");
    scratch_free(&s);
    e2e_free(e);
}
END_TEST

START_TEST(test_several_files)
{
    e2e *e = cluster(NULL);
    scratch s;
    lt_test_cmd_result r;
    char *alpha = app_yaml("alpha", "v1", "web", "1");
    char *beta = app_yaml("beta", "v1", "web", "many"); /* invalid: not a number */
    char multi[8192], dir[4096], delta[4096], want[8192];
    json_t *j;

    scratch_new(&s);
    snprintf(dir, sizeof(dir), "%s/apps", s.dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(multi, sizeof(multi), "# two apps\n---\n%s---\n# nothing here\n---\n%s", alpha, beta);
    put_file(&s, "apps/01-multi.yaml", multi);
    put_file(&s, "apps/02-gamma.json",
             "{\"apiVersion\":\"core.oam.dev/v1beta1\",\"kind\":\"Application\","
             "\"metadata\":{\"name\":\"gamma\",\"annotations\":{\"version\":\"v1\"}},"
             "\"spec\":{\"components\":[{\"name\":\"web\",\"type\":\"component\","
             "\"properties\":{\"image\":\"ghcr.io/latticed-tests/web:1\"},\"traits\":[{\"type\":"
             "\"spreadscaler\",\"properties\":{\"instances\":1}}]}]}}");
    put_file(&s, "apps/notes.txt", "not a manifest");
    snprintf(delta, sizeof(delta), "%s", put_app(&s, "delta.yaml", "delta", "v1", "web"));
    /* in order; the invalid one does not stop the others; exit 1 naming it */
    CTL(e, &r, "apply", "-f", dir, "-f", delta);
    ck_assert_str_eq(r.out, "alpha v1 deployed\ngamma v1 deployed\ndelta v1 deployed\n");
    snprintf(want, sizeof(want), "latticectl apply: 1 of 4 manifests failed: %s/01-multi.yaml#2\n",
             dir);
    ck_assert_msg(strstr(r.err, want) != NULL && strstr(r.err, "01-multi.yaml#2: ") != NULL, "%s",
                  r.err);
    expect_exit(&r, 1, NULL, NULL);
    CTL(e, &r, "versions", "beta");
    expect_exit(&r, 1, "", NOT_FOUND("beta"));
    CTL(e, &r, "versions", "gamma");
    expect_exit(&r, 0, "VERSION  DEPLOYED\nv1       *\n", "");
    /* again, with the multi-document file as a file: every app unchanged */
    snprintf(want, sizeof(want), "%s/01-multi.yaml", dir);
    CTL(e, &r, "apply", "-f", want, "-f", delta, "-f", dir);
    ck_assert_str_eq(r.out, "alpha v1 unchanged\ndelta v1 unchanged\nalpha v1 unchanged\n"
                            "gamma v1 unchanged\n");
    expect_exit(&r, 1, NULL, NULL);
    /* apply --wait of several: each applied app is followed until deployed */
    {
        char *e1 = app_yaml("eps", "v1", "web", "3"), *z1 = app_yaml("zeta", "v1", "web", "2");
        char both[8192];

        snprintf(both, sizeof(both), "%s---\n%s", e1, z1);
        CTL(e, &r, "apply", "--wait", "-f", put_file(&s, "both.yaml", both));
        ck_assert_msg(strncmp(r.out, "eps v1 deployed\nzeta v1 deployed\n", 32) == 0 &&
                          strstr(r.out, " eps deployed (version v1") != NULL &&
                          strstr(r.out, " zeta deployed (version v1") >
                              strstr(r.out, " eps deployed (version v1"),
                      "%s", r.out);
        expect_exit(&r, 0, NULL, NULL);
        CTL(e, &r, "status", "eps");
        ck_assert_msg(strncmp(r.out, "eps v1: deployed\n", 17) == 0, "%s", r.out);
        expect_exit(&r, 0, NULL, "");
        CTL(e, &r, "status", "zeta");
        ck_assert_msg(strncmp(r.out, "zeta v1: deployed\n", 18) == 0, "%s", r.out);
        expect_exit(&r, 0, NULL, "");
        lt_free(e1);
        lt_free(z1);
    }
    /* put the same way: one line per manifest */
    CTL(e, &r, "put", "-f", delta);
    expect_exit(&r, 1, "", NULL); /* v1 exists */
    /* a file that cannot be read stops everything before anything is sent */
    CTL(e, &r, "apply", "-f", delta, "-f", "/nonexistent/x.yaml");
    expect_exit(&r, 2, "", NULL);
    /* validate: the same inputs, every manifest checked; -o json|yaml|table|text */
    CTL(e, &r, "validate", "-f", dir, "-o", "json");
    j = json_loads(r.out, 0, NULL);
    ck_assert_msg(json_array_size(j) == 3, "%s", r.out);
    ck_assert(json_is_true(json_object_get(json_array_get(j, 0), "valid")));
    ck_assert(json_is_false(json_object_get(json_array_get(j, 1), "valid")));
    ck_assert(json_is_true(json_object_get(json_array_get(j, 2), "valid")));
    ck_assert_msg(strstr(json_string_value(json_object_get(json_array_get(j, 1), "source")),
                         "01-multi.yaml#2") != NULL,
                  "%s", r.out);
    json_decref(j);
    expect_exit(&r, 1, NULL, NULL);
    CTL(e, &r, "validate", "-f", delta, "-o", "yaml");
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "validate", "-f", delta, "-o", "yaml");
    ck_assert_msg(strncmp(r.out, "valid: true\n", 12) == 0, "%s", r.out);
    lt_test_cmd_result_cleanup(&r);
    CTL(e, &r, "validate", "-f", dir, "-o", "text");
    ck_assert_msg(strstr(r.out, "01-multi.yaml#2: invalid: ") != NULL &&
                      strstr(r.out, "02-gamma.json: valid") != NULL,
                  "%s", r.out);
    expect_exit(&r, 1, NULL, NULL);
    CTL(e, &r, "validate", "-f", delta, "-o", "xml");
    expect_exit(&r, 2, "", NULL);
    lt_free(alpha);
    lt_free(beta);
    scratch_free(&s);
    e2e_free(e);
}
END_TEST

START_TEST(test_delete_force_and_put_replace)
{
    e2e *e = cluster(NULL);
    scratch s;
    lt_test_cmd_result r;
    char *v;

    scratch_new(&s);
    CTL(e, &r, "apply", "-f", put_app(&s, "v1.yaml", "shop", "v1", "web"));
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "put", "-f", put_app(&s, "v2.yaml", "shop", "v2", "web2"));
    expect_exit(&r, 0, "shop v2 stored\n", "");
    /* the deployed app, the deployed version: refused with the command to use */
    CTL(e, &r, "delete", "shop");
    expect_exit(&r, 2, "",
                "latticectl: application 'shop' (version v1) is deployed: deleting it undeploys "
                "it; to delete it anyway: latticectl delete shop --force\n");
    CTL(e, &r, "delete", "shop", "--version", "v1");
    expect_exit(&r, 2, "",
                "latticectl: version v1 of application 'shop' is the deployed version: deleting "
                "it undeploys the application; to delete it anyway: latticectl delete shop "
                "--version v1 --force\n");
    CTL(e, &r, "versions", "shop");
    expect_exit(&r, 0, "VERSION  DEPLOYED\nv1       *\nv2\n", "");
    /* put --replace: new content for v2 while it is not deployed */
    CTL(e, &r, "put", "--replace", "-f", put_app(&s, "v2b.yaml", "shop", "v2", "web3"));
    expect_exit(&r, 0, "shop v2 replaced\n", "");
    CTL(e, &r, "get", "shop", "--version", "v2", "-o", "yaml");
    ck_assert_msg(strstr(r.out, "web3:1") != NULL, "%s", r.out);
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "put", "-f", s.path); /* without --replace: wadm's answer */
    ck_assert_msg(strstr(r.err, ": Manifest version v2 already exists\n") != NULL, "%s", r.err);
    expect_exit(&r, 1, "", NULL);
    CTL(e, &r, "put", "--replace", "-f", put_app(&s, "v1b.yaml", "shop", "v1", "web4"));
    ck_assert_msg(strstr(r.err, "Manifest version v1 of shop is deployed: it cannot be replaced") !=
                      NULL,
                  "%s", r.err);
    expect_exit(&r, 1, "", NULL);
    CTL(e, &r, "get", "shop", "-o", "json", "--manifest-only"); /* the default, spelt out */
    v = json_version(r.out);
    ck_assert_str_eq(v, "v1");
    lt_free(v);
    ck_assert_msg(strstr(r.out, "web:1") != NULL, "%s", r.out);
    expect_exit(&r, 0, NULL, "");
    /* neither deployed nor the last: no --force needed */
    CTL(e, &r, "delete", "shop", "--version", "v2");
    expect_exit(&r, 0, "Successfully deleted version v2 of application shop\n", "");
    /* the last version, undeployed: still needs --force */
    CTL(e, &r, "undeploy", "shop");
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "delete", "shop", "--version", "v1");
    expect_exit(&r, 2, "",
                "latticectl: version v1 of application 'shop' is the last version: deleting it "
                "deletes the application; to delete it anyway: latticectl delete shop --version "
                "v1 --force\n");
    CTL(e, &r, "delete", "shop", "--version", "v1", "--force");
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "versions", "shop");
    expect_exit(&r, 1, "", NOT_FOUND("shop"));
    /* a whole app that is not deployed: deleted without --force */
    CTL(e, &r, "put", "-f", put_app(&s, "o.yaml", "other", "v1", "web"));
    expect_exit(&r, 0, NULL, "");
    CTL(e, &r, "delete", "other");
    expect_exit(&r, 0, "Successfully deleted application other\n", "");
    scratch_free(&s);
    e2e_free(e);
}
END_TEST

int main(void)
{
    return e2e_run_suite("e2e_cli_out", 240,
                         (const TTest *const[]){ test_status_table_failed_and_not_found,
                                                 test_status_right_after_deploy,
                                                 test_get_deployed_round_trip, test_several_files,
                                                 test_delete_force_and_put_replace, NULL });
}
