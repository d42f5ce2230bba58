/*
 * test_model_hostile.c - hostile input: size, depth and node limits, YAML
 * alias bombs and recursive aliases, invalid UTF-8, NUL characters, duplicate
 * keys, several documents, unknown tags, empty documents, a flood of findings,
 * and every allocation failing in turn (no crash, no leak).
 */
#include <stdio.h>
#include <stdlib.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "model_test.h"

#define HDR "apiVersion: core.oam.dev/v1beta1\nkind: Application\n"

static const char SMALL[] =
    HDR "metadata: {name: small}\nspec:\n  components:\n"
        "    - name: c\n      type: component\n      properties: {image: x}\n"
        "      traits: [{type: spreadscaler, properties: {instances: 1, spread: [{name: a, "
        "requirements: {k: v}}]}}]\n"
        "    - name: p\n      type: capability\n      properties: {image: y, config: [{name: q, "
        "properties: {a: b}}]}\n"
        "      traits: [{type: link, properties: {namespace: wasi, package: http, "
        "interfaces: [incoming-handler], target: {name: c}}}]\n";

/* A refused parse whose first finding has this code and contains this text. */
static void expect_refused(const char *text, size_t len, lt_model_format fmt, const char *code,
                           const char *substr)
{
    lt_model_parse_opts o = { .format = fmt };
    mt_result res = mt_parse_opts(text, len, &o);
    if (res.r->count == 0 || strstr(res.r->items[0].message, substr) == NULL)
        mt_dump(res.r);
    ck_assert_int_ne(res.st, LT_OK);
    ck_assert_uint_gt(res.r->count, 0);
    ck_assert_str_eq(res.r->items[0].code, code);
    ck_assert_ptr_nonnull(strstr(res.r->items[0].message, substr));
    mt_done(&res);
}

static void refused(const char *text, lt_model_format fmt, const char *code, const char *substr)
{
    expect_refused(text, strlen(text), fmt, code, substr);
}

START_TEST(test_hostile_size_limit)
{
    size_t len = LT_MAX_MANIFEST_BYTES + 1;
    char *big = malloc(len);
    ck_assert_ptr_nonnull(big);
    memset(big, ' ', len);
    lt_model_parse_opts o = { 0 };
    mt_result res = mt_parse_opts(big, len, &o);
    ck_assert_int_eq(res.st, LT_ERR_TOO_BIG);
    mt_expect(&res, LT_MODEL_ERROR, "manifest is 1048577 bytes, over the limit of 1048576 bytes", 0,
              0);
    mt_done(&res);
    free(big);
    /* configurable */
    o.max_bytes = 64;
    res = mt_parse_opts(SMALL, strlen(SMALL), &o);
    ck_assert_int_eq(res.st, LT_ERR_TOO_BIG);
    mt_done(&res);
    o.max_bytes = strlen(SMALL);
    res = mt_parse_opts(SMALL, strlen(SMALL), &o);
    ck_assert_int_eq(res.st, LT_OK);
    mt_done(&res);
}
END_TEST

static char *nested(size_t depth, const char *open, const char *close)
{
    size_t lo = strlen(open), lc = strlen(close);
    size_t cap = depth * (lo + lc) + 16;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "{\"a\":");
    for (size_t i = 0; i < depth; i++, n += lo)
        memcpy(s + n, open, lo);
    for (size_t i = 0; i < depth; i++, n += lc)
        memcpy(s + n, close, lc);
    s[n++] = '}';
    s[n] = '\0';
    return s;
}

START_TEST(test_hostile_depth)
{
    char *deep = nested(100, "[", "]");
    refused(deep, LT_MODEL_FORMAT_JSON, "limit", "nests deeper than 64 levels");
    refused(deep, LT_MODEL_FORMAT_YAML, "limit", "nests deeper than 64 levels");
    free(deep);
    deep = nested(5000, "{\"b\":", "}");
    refused(deep, LT_MODEL_FORMAT_JSON, "syntax", "maximum parsing depth"); /* jansson's own */
    refused(deep, LT_MODEL_FORMAT_YAML, "limit", "nests deeper");
    free(deep);
    /* configurable */
    lt_model_parse_opts o = { .max_depth = 3 };
    mt_result res = mt_parse_opts(SMALL, strlen(SMALL), &o);
    ck_assert_int_eq(res.st, LT_ERR_INVALID);
    ck_assert_str_eq(res.r->items[0].code, "limit");
    mt_done(&res);
}
END_TEST

START_TEST(test_hostile_node_count)
{
    size_t n = 300000;
    size_t cap = 2 * n + 16;
    char *s = malloc(cap);
    size_t k = (size_t)snprintf(s, cap, "{\"a\":[");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(s + k, cap - k, "%s1", i ? "," : "");
    snprintf(s + k, cap - k, "]}");
    refused(s, LT_MODEL_FORMAT_JSON, "limit", "more than 200000 nodes");
    refused(s, LT_MODEL_FORMAT_YAML, "limit", "more than 200000 nodes");
    free(s);
    lt_model_parse_opts o = { .max_nodes = 10 };
    mt_result res = mt_parse_opts(SMALL, strlen(SMALL), &o);
    ck_assert_int_eq(res.st, LT_ERR_INVALID);
    mt_done(&res);
}
END_TEST

START_TEST(test_hostile_alias_bomb)
{
    const char *bomb =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    refused(bomb, LT_MODEL_FORMAT_YAML, "limit", "YAML aliases expanded");
    refused("a: &x [1, *x]\n", LT_MODEL_FORMAT_YAML, "syntax", "recursive YAML alias *x");
    refused("a: *nowhere\n", LT_MODEL_FORMAT_YAML, "syntax", "unknown YAML alias *nowhere");
    /* plain aliases are fine: the anchored subtree is shared */
    mt_result res = mt_parse(HDR "metadata: {name: al}\nspec:\n  components:\n"
                                 "    - name: a\n      type: component\n"
                                 "      properties: &p {image: x}\n"
                                 "      traits: &t [{type: spreadscaler, properties: "
                                 "{instances: 2}}]\n"
                                 "    - name: b\n      type: component\n"
                                 "      properties: *p\n      traits: *t\n",
                             LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    ck_assert_str_eq(res.m->components[1].image, "x");
    ck_assert_uint_eq(res.m->components[1].traits[0].scaler.instances, 2);
    mt_done(&res);
}
END_TEST

/* Few nodes, but aliases of a long string expand the stored form past twice the limit. */
START_TEST(test_hostile_alias_expansion_size)
{
    size_t n = 100000, cap = n + 4096;
    char *s = malloc(cap);
    size_t k = (size_t)snprintf(s, cap,
                                HDR "metadata:\n  name: exp\n  annotations:\n"
                                    "    a0: &big ");
    memset(s + k, 'x', n);
    k += n;
    for (int i = 1; i < 30; i++)
        k += (size_t)snprintf(s + k, cap - k, "\n    a%d: *big", i);
    snprintf(s + k, cap - k, "\nspec: {components: []}\n");
    refused(s, LT_MODEL_FORMAT_YAML, "limit", "manifest expands (YAML aliases) to more than");
    free(s);
}
END_TEST

START_TEST(test_hostile_encoding)
{
    refused(HDR "metadata: {name: \"a\xc3\x28\"}\n", LT_MODEL_FORMAT_YAML, "syntax", "UTF-8");
    refused("{\"a\":\"\xff\"}", LT_MODEL_FORMAT_JSON, "syntax", "JSON syntax error");
    refused(HDR "metadata: {name: \"a\\0b\"}\n", LT_MODEL_FORMAT_YAML, "syntax",
            "must not contain NUL");
    refused("{\"a\":\"x\\u0000y\"}", LT_MODEL_FORMAT_JSON, "syntax", "JSON syntax error");
    expect_refused("name: a\0b\n", 10, LT_MODEL_FORMAT_YAML, "syntax", "invalid text");
    /* UTF-8 with a byte order mark is fine */
    char *bom = malloc(strlen(SMALL) + 4);
    memcpy(bom, "\xEF\xBB\xBF", 3);
    memcpy(bom + 3, SMALL, strlen(SMALL) + 1);
    mt_result res = mt_parse(bom, LT_MODEL_FORMAT_AUTO);
    ck_assert_int_eq(res.st, LT_OK);
    mt_done(&res);
    free(bom);
}
END_TEST

START_TEST(test_hostile_structure)
{
    refused(HDR "metadata: {name: a}\nmetadata: {name: b}\n", LT_MODEL_FORMAT_YAML, "syntax",
            "duplicate key `metadata` (first at line 3, column 1)");
    refused("{\"a\":1,\"a\":2}", LT_MODEL_FORMAT_JSON, "syntax", "duplicate object key");
    refused("a: 1\n---\nb: 2\n", LT_MODEL_FORMAT_YAML, "syntax", "single YAML document");
    refused("a: !!binary aGk=\n", LT_MODEL_FORMAT_YAML, "syntax", "unsupported YAML tag");
    refused("a: !local 1\n", LT_MODEL_FORMAT_YAML, "syntax", "unsupported YAML tag");
    refused("a: !!int nope\n", LT_MODEL_FORMAT_YAML, "syntax", "unsupported YAML tag");
    refused("? [a]\n: b\n", LT_MODEL_FORMAT_YAML, "syntax", "mapping keys must be scalars");
    refused("", LT_MODEL_FORMAT_YAML, "schema", "the manifest is empty");
    refused("   \n# only a comment\n", LT_MODEL_FORMAT_AUTO, "schema", "the manifest is empty");
    refused("---\n", LT_MODEL_FORMAT_YAML, "schema", "the manifest is empty");
    refused("- a\n- b\n", LT_MODEL_FORMAT_YAML, "schema",
            "invalid type: sequence, expected a manifest");
    refused("a: [1, 2\n", LT_MODEL_FORMAT_YAML, "syntax", "YAML syntax error");
    refused("{", LT_MODEL_FORMAT_AUTO, "syntax", "YAML syntax error");
    refused("", LT_MODEL_FORMAT_JSON, "syntax", "JSON syntax error");
    /* strings where wadm wants strings; explicit !!str makes a number a string */
    refused(HDR "metadata: {name: 123}\nspec: {components: []}\n", LT_MODEL_FORMAT_YAML, "schema",
            "invalid type: integer `123`, expected a string");
    mt_result res =
        mt_parse(HDR "metadata: {name: !!str 123}\nspec: {components: []}\n", LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    ck_assert_str_eq(res.m->name, "123");
    mt_done(&res);
}
END_TEST

START_TEST(test_hostile_findings_flood)
{
    size_t n = 5000;
    size_t cap = n * 16 + 256;
    char *s = malloc(cap);
    size_t k = (size_t)snprintf(s, cap, HDR "spec: {components: []}\nmetadata:\n  name: f\n");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(s + k, cap - k, "  x%zu: 1\n", i);
    mt_result res = mt_parse(s, LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK); /* unknown metadata keys only warn */
    ck_assert_uint_eq(res.r->warning_count, n);
    ck_assert_uint_le(res.r->count, 1001);
    mt_expect(&res, LT_MODEL_WARNING, "too many findings: 4000 more not shown", 0, 0);
    mt_done(&res);
    free(s);
}
END_TEST

START_TEST(test_hostile_big_values)
{
    size_t n = 900000;
    size_t cap = n + 512;
    char *s = malloc(cap);
    size_t k = (size_t)snprintf(s, cap,
                                HDR "metadata: {name: big}\nspec:\n  components:\n"
                                    "    - {name: c, type: component, properties: {image: ");
    memset(s + k, 'x', n);
    k += n;
    snprintf(s + k, cap - k, "}}\n");
    mt_result res = mt_parse(s, LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    ck_assert_uint_eq(strlen(res.m->components[0].image), n);
    mt_done(&res);
    free(s);
}
END_TEST

/* ---- allocation failures -------------------------------------------------------------------- */

static long fail_at; /* fail the Nth allocation (1-based); 0: never */
static long calls;
static long live;

static void *t_malloc(size_t n)
{
    if (fail_at > 0 && ++calls == fail_at)
        return NULL;
    void *p = malloc(n);
    live += p != NULL;
    return p;
}

static void *t_calloc(size_t n, size_t size)
{
    if (fail_at > 0 && ++calls == fail_at)
        return NULL;
    void *p = calloc(n, size);
    live += p != NULL;
    return p;
}

static void *t_realloc(void *p, size_t n)
{
    if (fail_at > 0 && ++calls == fail_at)
        return NULL;
    void *q = realloc(p, n);
    live += p == NULL && q != NULL;
    return q;
}

static void t_free(void *p)
{
    live -= p != NULL;
    free(p);
}

static const lt_allocator counting = { t_malloc, t_calloc, t_realloc, t_free };

static void torture(const char *text, lt_model_format fmt)
{
    bool done = false;
    for (long n = 1; !done && n < 5000; n++) {
        fail_at = n;
        calls = 0;
        live = 0;
        lt_alloc_set(&counting);
        lt_model *m = NULL;
        lt_model_report *r = NULL;
        lt_model_parse_opts o = { .format = fmt };
        lt_status st = lt_model_parse(text, strlen(text), &o, &m, &r);
        done = calls < n; /* no allocation failed: the parse ran to the end */
        ck_assert(st == LT_OK || st == LT_ERR_NOMEM || st == LT_ERR_INVALID);
        ck_assert(st != LT_OK || m != NULL);
        lt_model_free(m);
        lt_model_report_free(r);
        lt_alloc_set(NULL);
        ck_assert_msg(live == 0, "%ld allocations leaked when allocation %ld failed", live, n);
        if (done)
            ck_assert_int_eq(st, LT_OK);
    }
    ck_assert(done);
}

START_TEST(test_hostile_allocation_failures)
{
    torture(SMALL, LT_MODEL_FORMAT_YAML);
    mt_result res = mt_parse(SMALL, LT_MODEL_FORMAT_YAML);
    lt_buf b;
    lt_buf_init(&b, 1 << 16);
    ck_assert_int_eq(lt_model_to_json(res.m, 0, &b), LT_OK);
    torture(b.ptr, LT_MODEL_FORMAT_JSON);
    lt_buf_cleanup(&b);
    mt_done(&res);
}
END_TEST

Suite *model_hostile_suite(void)
{
    Suite *s = suite_create("model_hostile");
    TCase *tc = tcase_create("hostile");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_hostile_size_limit);
    tcase_add_test(tc, test_hostile_depth);
    tcase_add_test(tc, test_hostile_node_count);
    tcase_add_test(tc, test_hostile_alias_bomb);
    tcase_add_test(tc, test_hostile_alias_expansion_size);
    tcase_add_test(tc, test_hostile_encoding);
    tcase_add_test(tc, test_hostile_structure);
    tcase_add_test(tc, test_hostile_findings_flood);
    tcase_add_test(tc, test_hostile_big_values);
    tcase_add_test(tc, test_hostile_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}
