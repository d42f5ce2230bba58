/*
 * test_ctl_jsonpath.c - latticectl's `-o jsonpath=EXPR` evaluator (cmd/latticectl/jsonpath.c),
 * pure logic: the kubectl subset people use (keys, indexes, [*], range/end, literals, quoted
 * keys), what a missing key prints (nothing), and the templates it refuses with a reason.
 */
#include <check.h>
#include <string.h>

#include <jansson.h>

#include "jsonpath.h"
#include "lt_testutil.h"

static const char *doc_text =
    "{\"result\":\"success\",\"models\":["
    "{\"name\":\"greet\",\"version\":\"v1\",\"deployed_version\":\"v1\",\"n\":3,"
    "\"detailed_status\":{\"type\":\"deployed\"}},"
    "{\"name\":\"zones\",\"version\":\"v2\",\"deployed_version\":null,\"n\":0.5,"
    "\"detailed_status\":{\"type\":\"undeployed\"}}],"
    "\"a.b\":{\"c\":true},\"empty\":[]}";

/* The template evaluated on doc_text, in a static buffer; "ERR: reason" when it does not
 * compile. */
static const char *eval(const char *tmpl)
{
    static char out[4096];
    json_t *doc = json_loads(doc_text, 0, NULL);
    lctl_jsonpath *jp = NULL;
    lt_buf b;

    ck_assert_ptr_nonnull(doc);
    lt_buf_init(&b, 1u << 20);
    if (lctl_jsonpath_compile(tmpl, &jp) != LT_OK) {
        snprintf(out, sizeof(out), "ERR: %s", lt_error_message());
    } else {
        ck_assert_int_eq(lctl_jsonpath_eval(jp, doc, &b), LT_OK);
        snprintf(out, sizeof(out), "%s", b.ptr);
    }
    lctl_jsonpath_free(jp);
    lt_buf_cleanup(&b);
    json_decref(doc);
    return out;
}

START_TEST(test_paths)
{
    ck_assert_str_eq(eval("{.result}"), "success");
    ck_assert_str_eq(eval("{$.result}"), "success");
    ck_assert_str_eq(eval("{.models[0].name}"), "greet");
    ck_assert_str_eq(eval("{.models[1].detailed_status.type}"), "undeployed");
    ck_assert_str_eq(eval("{.models[-1].name}"), "zones");
    ck_assert_str_eq(eval("{.models[*].name}"), "greet zones");
    ck_assert_str_eq(eval("{.models[*].detailed_status.type}"), "deployed undeployed");
    ck_assert_str_eq(eval("{['a.b'].c}"), "true");
    ck_assert_str_eq(eval("{.a\\.b}"), ""); /* no escaping of dots: a missing key */
    /* non-strings print as compact JSON */
    ck_assert_str_eq(eval("{.models[0].n} {.models[1].n} {.models[1].deployed_version}"),
                     "3 0.5 null");
    ck_assert_str_eq(eval("{.models[0].detailed_status}"), "{\"type\":\"deployed\"}");
    ck_assert_str_eq(eval("{.empty}"), "[]");
}
END_TEST

START_TEST(test_missing_prints_nothing)
{
    ck_assert_str_eq(eval("{.nope}"), "");
    ck_assert_str_eq(eval("[{.models[7].name}]"), "[]");
    ck_assert_str_eq(eval("{.result.x}"), "");    /* a key of a string */
    ck_assert_str_eq(eval("{.models.name}"), ""); /* a key of an array */
    ck_assert_str_eq(eval("{.empty[*].x}"), "");
}
END_TEST

START_TEST(test_text_and_range)
{
    ck_assert_str_eq(eval("app={.models[0].name}!"), "app=greet!");
    ck_assert_str_eq(eval("{range .models[*]}{.name}{\"\\t\"}{.version}{\"\\n\"}{end}"),
                     "greet\tv1\nzones\tv2\n");
    ck_assert_str_eq(eval("{range .models[*]}[{.name}]{end}{.result}"), "[greet][zones]success");
    /* $ inside a range is still the whole document; nested ranges */
    ck_assert_str_eq(eval("{range .models[*]}{$.result} {end}"), "success success ");
    ck_assert_str_eq(eval("{range .models[*]}{range .detailed_status.*}<{.}>{end}{end}"),
                     "<deployed><undeployed>");
    ck_assert_str_eq(eval("{range .empty[*]}x{end}done"), "done");
    ck_assert_str_eq(eval("{'}'}{\"{\"}"), "}{"); /* braces inside quoted literals */
    ck_assert_str_eq(eval("{ .result }"), "success");
}
END_TEST

START_TEST(test_refused)
{
    ck_assert_ptr_nonnull(strstr(eval("{.result"), "ERR: unclosed {"));
    ck_assert_ptr_nonnull(strstr(eval("{}"), "ERR: empty {}"));
    ck_assert_ptr_nonnull(strstr(eval("{range .models[*]}{.name}"), "without {end}"));
    ck_assert_ptr_nonnull(strstr(eval("{.name}{end}"), "{end} without {range}"));
    ck_assert_ptr_nonnull(strstr(eval("{result}"), "is not a path"));
    ck_assert_ptr_nonnull(strstr(eval("{..name}"), "recursive descent"));
    ck_assert_ptr_nonnull(strstr(eval("{.models[?(@.n>1)]}"), "unsupported [?"));
    ck_assert_ptr_nonnull(strstr(eval("{.models[1x]}"), "bad index"));
    ck_assert_ptr_nonnull(strstr(eval("{\"abc}"), "unclosed {"));
    ck_assert_ptr_nonnull(strstr(eval("{\"abc\" x}"), "text after the string"));
    ck_assert_ptr_nonnull(strstr(eval("{.a b}"), "unexpected"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctl_jsonpath");

    lt_test_tcase(s, "jsonpath", 30,
                  (const TTest *const[]){ test_paths, test_missing_prints_nothing,
                                          test_text_and_range, test_refused, NULL });
    return lt_test_run_suite(s);
}
