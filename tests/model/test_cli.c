/*
 * test_cli.c - latticectl as a user runs it: --help and --version generated
 * from the command table, `validate` exit codes (0 valid, 1 invalid, 2 usage
 * or I/O), text findings with file:line:column, -o json, standard input and
 * the size limit; several documents, several -f and a directory. The
 * binary's path is the first argument.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_limits.h"
#include "lt_testutil.h"

static const char *latticectl;
static char *tmpdir;

static const char VALID[] =
    "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: ok}\nspec:\n"
    "  components:\n    - name: a\n      type: component\n      properties: {image: x}\n"
    "      traits:\n        - type: link\n          properties: {namespace: wasi, "
    "package: keyvalue, interfaces: [atomic], target: a}\n";

static const char INVALID[] =
    "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: bad}\nspec:\n"
    "  components:\n"
    "    - {name: a, type: component, properties: {image: x}}\n"
    "    - {name: a, type: component, properties: {image: y, imgae: z}}\n";

typedef struct {
    int code;
    char *out;
    char *err;
} run_result;

/* Run latticectl with args (NULL-terminated) and optional stdin. */
static run_result run(const char *stdin_data, size_t stdin_len, const char *const *args)
{
    const char *argv[16] = { latticectl };
    size_t n = 1;
    while (args[n - 1] != NULL && n < 15) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    lt_test_cmd cmd = {
        .argv = argv, .stdin_data = stdin_data, .stdin_len = stdin_len, .timeout_ms = 30000
    };
    lt_test_cmd_result res;
    ck_assert_int_eq(lt_test_run(&cmd, &res), LT_OK);
    ck_assert(!res.timed_out);
    run_result r = { res.exit_code, strdup(res.out), strdup(res.err) };
    lt_test_cmd_result_cleanup(&res);
    return r;
}

static void done(run_result *r)
{
    free(r->out);
    free(r->err);
}

static char *write_tmp(const char *name, const char *content)
{
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", tmpdir, name);
    ck_assert_int_eq(lt_test_write_file(path, content, strlen(content)), LT_OK);
    return path;
}

/* mkdir tmpdir/name; 0 or -1. */
static int mkdir_p_tmp(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return mkdir(path, 0700);
}

START_TEST(test_cli_help_and_version)
{
    run_result r = run(NULL, 0, (const char *[]){ "--version", NULL });
    ck_assert_int_eq(r.code, 0);
    ck_assert_str_eq(r.out, "latticectl " LT_VERSION "\n");
    done(&r);
    r = run(NULL, 0, (const char *[]){ "--help", NULL });
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Usage: latticectl"));
    ck_assert_ptr_nonnull(strstr(r.out, "  validate     check a manifest offline"));
    ck_assert_ptr_nonnull(strstr(r.out, "  help         show the help of a command"));
    done(&r);
    r = run(NULL, 0, (const char *[]){ "validate", "--help", NULL });
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Usage: latticectl validate -f FILE|DIR|-"));
    ck_assert_ptr_nonnull(strstr(r.out, "-f, --file FILE"));
    ck_assert_ptr_nonnull(strstr(r.out, "-o, --output table|json|yaml"));
    done(&r);
    r = run(NULL, 0, (const char *[]){ "help", "validate", NULL });
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "-f, --file FILE"));
    done(&r);
}
END_TEST

START_TEST(test_cli_usage_errors)
{
    const char *const *cases[] = {
        (const char *[]){ NULL },
        (const char *[]){ "frobnicate", NULL },
        (const char *[]){ "--frob", NULL },
        (const char *[]){ "validate", NULL },
        (const char *[]){ "validate", "-f", "/nonexistent/app.yaml", NULL },
        (const char *[]){ "validate", "-f", "x.yaml", "-o", "xml", NULL },
        (const char *[]){ "validate", "--bogus", NULL },
        (const char *[]){ "validate", "-f", NULL },
        (const char *[]){ "help", "frobnicate", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_result r = run(NULL, 0, cases[i]);
        ck_assert_msg(r.code == 2, "case %zu: exit %d", i, r.code);
        ck_assert_msg(r.err[0] != '\0', "case %zu: no message on stderr", i);
        done(&r);
    }
}
END_TEST

START_TEST(test_cli_validate_text)
{
    char *ok = write_tmp("ok.yaml", VALID);
    char *bad = write_tmp("bad.yaml", INVALID);
    run_result r = run(NULL, 0, (const char *[]){ "validate", "-f", ok, NULL });
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, ":11:73: warning: unrecognized interface "
                                        "[wasi:keyvalue/atomic]"));
    ck_assert_ptr_nonnull(strstr(r.out, "ok.yaml: valid (1 warning)"));
    done(&r);
    r = run(NULL, 0, (const char *[]){ "validate", bad, NULL }); /* positional file works too */
    ck_assert_int_eq(r.code, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "bad.yaml:7:14: error: Duplicate component name in "
                                        "manifest: a [spec.components[1].name]"));
    ck_assert_ptr_nonnull(strstr(r.out, "bad.yaml:7:57: error: unknown field `imgae`"));
    ck_assert_ptr_nonnull(strstr(r.out, "(did you mean 'image'?)"));
    ck_assert_ptr_nonnull(strstr(r.out, "bad.yaml: invalid: 2 errors, 0 warnings"));
    done(&r);
    /* standard input */
    r = run(INVALID, strlen(INVALID), (const char *[]){ "validate", "-f", "-", NULL });
    ck_assert_int_eq(r.code, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "<stdin>:7:14: error: Duplicate component name"));
    done(&r);
    free(ok);
    free(bad);
}
END_TEST

START_TEST(test_cli_validate_json)
{
    char *bad = write_tmp("bad.json",
                          "{\"apiVersion\":\"core.oam.dev/v1beta1\",\"kind\":\"Application\","
                          "\"metadata\":{\"name\":\"j\"},\"spec\":{\"components\":[{\"name\":"
                          "\"a\",\"type\":\"component\",\"properties\":{\"image\":\"x\"},"
                          "\"traits\":[{\"type\":\"spreadscaler\",\"properties\":{\"instances\":"
                          "\"3\"}}]}]}}");
    run_result r = run(NULL, 0, (const char *[]){ "validate", "-o", "json", "-f", bad, NULL });
    ck_assert_int_eq(r.code, 1);
    json_error_t err;
    json_t *doc = json_loads(r.out, 0, &err);
    ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
    ck_assert(json_is_false(json_object_get(doc, "valid")));
    json_t *errors = json_object_get(doc, "errors");
    ck_assert_uint_eq(json_array_size(errors), 2);
    json_t *e0 = json_array_get(errors, 0);
    ck_assert_str_eq(json_string_value(json_object_get(e0, "message")),
                     "Scaler trait deserialized as custom trait, ensure fields are correct: "
                     "{\"instances\":\"3\"}");
    ck_assert_str_eq(json_string_value(json_object_get(e0, "location")),
                     "spec.components[0].traits[0].properties");
    json_t *e1 = json_array_get(errors, 1);
    ck_assert_str_eq(json_string_value(json_object_get(e1, "location")),
                     "spec.components[0].traits[0].properties.instances");
    ck_assert(json_is_array(json_object_get(doc, "warnings")));
    json_decref(doc);
    done(&r);

    char *ok = write_tmp("ok2.yaml", VALID);
    r = run(NULL, 0, (const char *[]){ "validate", "-f", ok, "-o", "json", NULL });
    ck_assert_int_eq(r.code, 0);
    doc = json_loads(r.out, 0, &err);
    ck_assert_ptr_nonnull(doc);
    ck_assert(json_is_true(json_object_get(doc, "valid")));
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "errors")), 0);
    json_t *w = json_array_get(json_object_get(doc, "warnings"), 0);
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(w, "location")), "ok2.yaml:11:73"));
    ck_assert_int_eq(json_integer_value(json_object_get(w, "line")), 11);
    json_decref(doc);
    done(&r);
    free(bad);
    free(ok);
}
END_TEST

START_TEST(test_cli_validate_too_big)
{
    size_t len = LT_MAX_MANIFEST_BYTES + 100;
    char *big = malloc(len);
    memset(big, '#', len);
    big[len - 1] = '\n';
    run_result r = run(big, len, (const char *[]){ "validate", "-f", "-", NULL });
    ck_assert_int_eq(r.code, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "over the limit of 1048576 bytes"));
    done(&r);
    free(big);
}
END_TEST

/* Several documents: split at `---` lines (with a comment too), `...` ends one, blank and
 * comment-only documents skipped, each keeps its file's line numbers; several -f and a
 * directory (its .yaml, .yml and .json files only, in name order). */
START_TEST(test_cli_validate_documents)
{
    char text[4096];
    snprintf(text, sizeof(text), "--- # first\n%s...\n---\n# only a comment\n---\n%s", VALID,
             INVALID);
    /* VALID's warning is on its line 11 (12 after the first `---`); INVALID's errors on its
     * line 7, which comes after VALID and 5 marker or comment lines: 23 */
    run_result r = run(text, strlen(text), (const char *[]){ "validate", "-f", "-", NULL });
    ck_assert_int_eq(r.code, 1);
    ck_assert_msg(strstr(r.out, "<stdin>#1:12:73: warning: ") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "<stdin>#1: valid (1 warning)\n") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "<stdin>#2:23:") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "<stdin>#2: invalid: ") != NULL, "%s", r.out);
    done(&r);
    ck_assert_int_eq(mkdir_p_tmp("docs"), 0);
    free(write_tmp("docs/b.yml", INVALID));
    free(write_tmp("docs/a.yaml", VALID));
    free(write_tmp("docs/c.txt", "not: a manifest\n"));
    char *one = write_tmp("one.yaml", VALID);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/docs", tmpdir);
    r = run(NULL, 0, (const char *[]){ "validate", "-f", one, "-f", dir, "-o", "json", NULL });
    ck_assert_int_eq(r.code, 1);
    json_t *doc = json_loads(r.out, 0, NULL);
    ck_assert_msg(json_array_size(doc) == 3, "%s", r.out);
    ck_assert(strstr(json_string_value(json_object_get(json_array_get(doc, 1), "source")),
                     "docs/a.yaml") != NULL);
    ck_assert(json_is_false(json_object_get(json_array_get(doc, 2), "valid")));
    json_decref(doc);
    done(&r);
    /* a document that starts on its marker line (`--- {...}`), and one after %YAML/%TAG
     * directives: two valid manifests, no document of directives alone (review) */
    {
        static const char flow[] =
            "--- {apiVersion: core.oam.dev/v1beta1, kind: Application, metadata: {name: f},"
            " spec: {components: [{name: a, type: component, properties: {image: x}}]}}\n"
            "%YAML 1.2\n%TAG !e! tag:example.com,2000:\n---\n"
            "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: g}\n"
            "spec:\n  components:\n    - {name: a, type: component, properties: {image: x}}\n";

        r = run(flow, strlen(flow), (const char *[]){ "validate", "-f", "-", NULL });
        ck_assert_msg(r.code == 0, "exit %d: %s%s", r.code, r.out, r.err);
        ck_assert_msg(strstr(r.out, "<stdin>#1: valid") != NULL &&
                          strstr(r.out, "<stdin>#2: valid") != NULL &&
                          strstr(r.out, "<stdin>#3") == NULL,
                      "%s", r.out);
        done(&r);
    }
    /* nothing to check is a usage error */
    r = run("# nothing\n---\n", 14, (const char *[]){ "validate", "-", NULL });
    ck_assert_int_eq(r.code, 2);
    ck_assert_str_eq(r.err, "latticectl validate: <stdin> holds no manifest\n");
    done(&r);
    free(one);
}
END_TEST

int main(int argc, char **argv)
{
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: test_cli PATH-TO-LATTICECTL\n");
        return 2;
    }
    latticectl = argv[1];
    if (lt_test_tmpdir(&tmpdir, "lt-cli") != LT_OK)
        return 2;
    Suite *s = suite_create("latticectl");
    lt_test_tcase(s, "cli", 60,
                  (const TTest *const[]){ test_cli_help_and_version, test_cli_usage_errors,
                                          test_cli_validate_text, test_cli_validate_json,
                                          test_cli_validate_too_big, test_cli_validate_documents,
                                          NULL });
    rc = lt_test_run_suite(s);
    LT_IGNORE(lt_test_rmtree(tmpdir));
    lt_free(tmpdir);
    return rc;
}
