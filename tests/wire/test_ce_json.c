/*
 * test_ce_json.c - CloudEvents JSON event format (structured mode) of
 * wire/lt_ce: strict decoding and its errors, the encoder's round trip; and
 * user-supplied subject tokens (wire/lt_subject). ce-time is core/lt_time
 * (tests/core/test_time.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_ce.h"
#include "ce_testutil.h"
#include "lt_limits.h"
#include "lt_subject.h"
#include "lt_testutil.h"

static void expect_json_error(const char *json, lt_status want_st, const char *want)
{
    lt_ce ce;
    lt_status st;

    lt_ce_init(&ce);
    lt_error_clear();
    st = lt_ce_from_json(&ce, json, strlen(json));
    ck_assert_msg(st == want_st, "%s: status %s, want %s (%s)", json, lt_status_name(st),
                  lt_status_name(want_st), lt_error_message());
    ck_assert_msg(strstr(lt_error_message(), want) != NULL, "%s: error \"%s\" lacks \"%s\"", json,
                  lt_error_message(), want);
    ck_assert_ptr_null(ce.mem);
    lt_ce_cleanup(&ce);
}

/* ---- structured mode ---- */

START_TEST(test_structured_decode)
{
    static const char full[] =
        "{\"specversion\":\"1.0\",\"type\":\"t.v1\",\"source\":\"/h/1\",\"id\":\"A1\","
        "\"time\":\"2018-04-05T17:31:00Z\",\"subject\":null,\"comexampleextension1\":\"value\","
        "\"comexampleothervalue\":5,\"flag\":true,\"neg\":-2147483648,\"unset\":null,"
        "\"datacontenttype\":\"application/json\","
        "\"data\":{\"appinfoA\":\"abc\", \"appinfoB\":123, \"n\":[1,2,{\"x\":null}]}}";
    lt_ce ce;

    lt_ce_init(&ce);
    ck_assert_int_eq(lt_ce_from_json(&ce, full, strlen(full)), LT_OK);
    ck_assert(ce.structured);
    ck_assert_str_eq(ce.ev.type, "t.v1");
    ck_assert_str_eq(ce.ev.source, "/h/1");
    ck_assert_str_eq(ce.ev.id, "A1");
    ck_assert_ptr_null(ce.ev.subject);
    ck_assert_int_eq(ce.datatype, LT_CE_DATA_JSON);
    ck_assert_uint_eq(ce.ev.ext_count, 4);
    ck_assert_str_eq(ce.ev.ext[0].name, "comexampleextension1");
    ck_assert_str_eq(ce.ev.ext[1].value, "5");
    ck_assert_str_eq(ce.ev.ext[2].value, "true");
    ck_assert_str_eq(ce.ev.ext[3].value, "-2147483648");
    ck_assert_str_eq((const char *)ce.ev.data,
                     "{\"appinfoA\":\"abc\",\"appinfoB\":123,\"n\":[1,2,{\"x\":null}]}");

    /* data without datacontenttype: JSON, and the type becomes explicit. */
    {
        static const char s[] = "{\"specversion\":\"1.0\",\"type\":\"t\",\"source\":\"s\","
                                "\"id\":\"1\",\"data\":\"I'm just a string\"}";

        ck_assert_int_eq(lt_ce_from_json(&ce, s, strlen(s)), LT_OK);
        ck_assert_str_eq(ce.ev.datacontenttype, "application/json");
        ck_assert_str_eq((const char *)ce.ev.data, "\"I'm just a string\"");
    }
    /* data_base64 with protobuf; data null is the JSON text "null". */
    {
        static const char s[] = "{\"specversion\":\"1.0\",\"type\":\"t\",\"source\":\"s\","
                                "\"id\":\"1\",\"datacontenttype\":\"application/protobuf\","
                                "\"data_base64\":\"CgNhAGL/\"}";
        static const char n[] = "{\"specversion\":\"1.0\",\"type\":\"t\",\"source\":\"s\","
                                "\"id\":\"1\",\"data\":null}";

        ck_assert_int_eq(lt_ce_from_json(&ce, s, strlen(s)), LT_OK);
        ck_assert_int_eq(ce.datatype, LT_CE_DATA_PROTOBUF);
        ck_assert_uint_eq(ce.ev.data_len, 6);
        ck_assert_int_eq(memcmp(ce.ev.data,
                                "\x0a\x03"
                                "a\0b\xff",
                                6),
                         0);
        ck_assert_int_eq(lt_ce_from_json(&ce, n, strlen(n)), LT_OK);
        ck_assert_str_eq((const char *)ce.ev.data, "null");
        ck_assert(ce.has_data);
    }
    /* a non-JSON type with string data takes the string's bytes */
    {
        static const char s[] = "{\"specversion\":\"1.0\",\"type\":\"t\",\"source\":\"s\","
                                "\"id\":\"1\",\"datacontenttype\":\"application/protobuf\","
                                "\"data\":\"raw\"}";

        ck_assert_int_eq(lt_ce_from_json(&ce, s, strlen(s)), LT_OK);
        ck_assert_uint_eq(ce.ev.data_len, 3);
    }
    lt_ce_cleanup(&ce);
}
END_TEST

#define REQ "\"specversion\":\"1.0\",\"type\":\"t\",\"source\":\"s\",\"id\":\"1\""

/* {REQ,"data":[[...]]} with depth nested arrays, into buf (size bytes). */
static void nest_data(char *buf, size_t size, int depth)
{
    int n = snprintf(buf, size, "{" REQ ",\"data\":");

    for (int i = 0; i < depth; i++)
        n += snprintf(buf + n, size - (size_t)n, "[");
    for (int i = 0; i < depth; i++)
        n += snprintf(buf + n, size - (size_t)n, "]");
    snprintf(buf + n, size - (size_t)n, "}");
    ck_assert_uint_lt((size_t)n + 1, size);
}

START_TEST(test_structured_errors)
{
    char *deep;

    expect_json_error("", LT_ERR_PARSE, "not JSON");
    expect_json_error("{\"specversion\":", LT_ERR_PARSE, "not JSON");
    expect_json_error("[1,2]", LT_ERR_PARSE, "not a JSON object");
    expect_json_error("{" REQ "} trailing", LT_ERR_PARSE, "not JSON");
    expect_json_error("{" REQ ",\"id\":\"2\"}", LT_ERR_PARSE, "duplicate");
    expect_json_error("{\"type\":\"t\",\"source\":\"s\",\"id\":\"1\"}", LT_ERR_INVALID,
                      "missing required attribute \"specversion\"");
    expect_json_error("{\"specversion\":\"1.0\",\"type\":\"t\",\"id\":\"1\"}", LT_ERR_INVALID,
                      "missing required attribute \"source\"");
    expect_json_error("{\"specversion\":\"1.0\",\"type\":\"t\",\"source\":null,\"id\":\"1\"}",
                      LT_ERR_INVALID, "missing required attribute \"source\"");
    expect_json_error("{\"specversion\":\"1.0\",\"type\":\"t\",\"source\":\"s\",\"id\":1}",
                      LT_ERR_INVALID, "attribute \"id\" must be a string");
    expect_json_error("{\"specversion\":\"0.3\",\"type\":\"t\",\"source\":\"s\",\"id\":\"1\"}",
                      LT_ERR_INVALID, "unsupported specversion \"0.3\"");
    expect_json_error("{" REQ ",\"time\":\"2024-01-01\"}", LT_ERR_INVALID,
                      "\"time\" is not an RFC 3339 timestamp");
    expect_json_error("{" REQ ",\"Foo\":\"x\"}", LT_ERR_INVALID, "invalid attribute name \"Foo\"");
    expect_json_error("{" REQ ",\"ext\":1.5}", LT_ERR_INVALID, "must be an integer");
    expect_json_error("{" REQ ",\"ext\":2147483648}", LT_ERR_INVALID, "32-bit integer range");
    expect_json_error("{" REQ ",\"ext\":{}}", LT_ERR_INVALID, "string, integer or boolean");
    expect_json_error("{" REQ ",\"data\":1,\"data_base64\":\"AA==\"}", LT_ERR_INVALID,
                      "both \"data\" and \"data_base64\"");
    expect_json_error("{" REQ ",\"datacontenttype\":\"application/protobuf\","
                      "\"data_base64\":\"AA=\"}",
                      LT_ERR_INVALID, "not valid base64");
    expect_json_error("{" REQ ",\"datacontenttype\":\"application/protobuf\","
                      "\"data_base64\":\"A===\"}",
                      LT_ERR_INVALID, "not valid base64");
    expect_json_error("{" REQ ",\"datacontenttype\":\"application/protobuf\","
                      "\"data_base64\":\"AB==\"}",
                      LT_ERR_INVALID, "not valid base64");
    expect_json_error("{" REQ ",\"data_base64\":\"AA==\"}", LT_ERR_INVALID,
                      "data without a content type");
    expect_json_error("{" REQ ",\"data_base64\":5}", LT_ERR_INVALID, "must be a string");
    expect_json_error("{" REQ ",\"datacontenttype\":\"application/protobuf\",\"data\":{}}",
                      LT_ERR_INVALID, "\"data\" must be a string");
    expect_json_error("{" REQ ",\"datacontenttype\":\"text/xml\",\"data\":\"<a/>\"}",
                      LT_ERR_UNSUPPORTED, "unsupported content type \"text/xml\"");
    expect_json_error("{" REQ ",\"subject\":\"a\\u0000b\"}", LT_ERR_PARSE, "not JSON");
    expect_json_error("{" REQ ",\"subject\":\"a\\u0007b\"}", LT_ERR_INVALID,
                      "forbidden character U+0007");
    expect_json_error("{" REQ ",\"subject\":\"\xff\"}", LT_ERR_PARSE, "not JSON");

    /* Nesting: 64 levels in data are fine, 65 are refused before parsing. */
    deep = lt_malloc(400);
    ck_assert_ptr_nonnull(deep);
    nest_data(deep, 400, 63);
    {
        lt_ce ce;

        lt_ce_init(&ce);
        ck_assert_int_eq(lt_ce_from_json(&ce, deep, strlen(deep)), LT_OK);
        lt_ce_cleanup(&ce);
    }
    nest_data(deep, 400, 64);
    expect_json_error(deep, LT_ERR_TOO_BIG, "nested deeper than 64");
    lt_free(deep);
}
END_TEST

START_TEST(test_json_encode_roundtrip)
{
    static const unsigned char bin[] = { 0, 1, 2, 0xfe, 0xff };
    static const char jdata[] = "{\"a\": [1, \"x\"], \"b\": null}";
    lt_ce_event ev = sample_event(bin, sizeof(bin), "application/protobuf");
    char *json = NULL;
    size_t len = 0;
    lt_ce ce;

    lt_ce_init(&ce);
    ck_assert_int_eq(lt_ce_to_json(&json, &len, &ev), LT_OK);
    ck_assert_uint_eq(strlen(json), len);
    ck_assert_ptr_nonnull(strstr(json, "\"data_base64\":\"AAEC/v8=\""));
    ck_assert_ptr_nonnull(strstr(json, "\"specversion\":\"1.0\""));
    ck_assert_int_eq(lt_ce_from_json(&ce, json, len), LT_OK);
    assert_same_event(&ce, &ev);
    lt_free(json);

    ev = sample_event(jdata, strlen(jdata), "application/json");
    ck_assert_int_eq(lt_ce_to_json(&json, NULL, &ev), LT_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"data\":{\"a\":[1,\"x\"],\"b\":null}"));
    ck_assert_int_eq(lt_ce_from_json(&ce, json, strlen(json)), LT_OK);
    ck_assert_str_eq((const char *)ce.ev.data, "{\"a\":[1,\"x\"],\"b\":null}");
    lt_free(json);

    ev.data = "{not json";
    ev.data_len = 9;
    ck_assert_int_eq(lt_ce_to_json(&json, NULL, &ev), LT_ERR_PARSE);
    ck_assert_ptr_null(json);
    ev.id = NULL;
    ck_assert_int_eq(lt_ce_to_json(&json, NULL, &ev), LT_ERR_INVALID);
    lt_ce_cleanup(&ce);
}
END_TEST

/* ---- subject tokens ---- */

START_TEST(test_subject_tokens)
{
    static const struct {
        const char *tok;
        lt_status st;
    } cases[] = {
        { "default", LT_OK },
        { "NBCD2345", LT_OK },
        { "my-app_v2", LT_OK },
        { "a", LT_OK },
        { "$JS", LT_OK },
        { "", LT_ERR_INVALID },
        { "a.b", LT_ERR_INVALID },
        { ".", LT_ERR_INVALID },
        { "*", LT_ERR_INVALID },
        { "a*", LT_ERR_INVALID },
        { ">", LT_ERR_INVALID },
        { "a>", LT_ERR_INVALID },
        { "a b", LT_ERR_INVALID },
        { "a\tb", LT_ERR_INVALID },
        { "a\nb", LT_ERR_INVALID },
        { "a\rb", LT_ERR_INVALID },
        { "\x01", LT_ERR_INVALID },
        { "a\x7f", LT_ERR_INVALID },
        { "caf\xc3\xa9", LT_ERR_INVALID },
    };
    char tok[LT_MAX_TOKEN + 2];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(lt_subject_check_token("app name", cases[i].tok) == cases[i].st, "token %zu",
                      i);
        ck_assert(lt_subject_token_ok(cases[i].tok) == (cases[i].st == LT_OK));
    }
    ck_assert_int_eq(lt_subject_check_token("lattice", NULL), LT_ERR_INVALID);
    ck_assert(!lt_subject_token_ok(NULL));
    ck_assert_int_eq(lt_subject_check_token("host id", "x.y"), LT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), "host id must not contain '.'"));
    memset(tok, 'a', LT_MAX_TOKEN);
    tok[LT_MAX_TOKEN] = '\0';
    ck_assert_int_eq(lt_subject_check_token("t", tok), LT_OK);
    tok[LT_MAX_TOKEN] = 'a';
    tok[LT_MAX_TOKEN + 1] = '\0';
    ck_assert_int_eq(lt_subject_check_token("t", tok), LT_ERR_TOO_BIG);
    ck_assert(!lt_subject_token_ok(tok));

    /* whole subjects */
    ck_assert_int_eq(lt_subject_check("a.b.c", false), LT_OK);
    ck_assert_int_eq(lt_subject_check("a.*.c", true), LT_OK);
    ck_assert_int_eq(lt_subject_check("a.>", true), LT_OK);
    ck_assert_int_eq(lt_subject_check("a.*.c", false), LT_ERR_INVALID);
    ck_assert_int_eq(lt_subject_check("a.>.c", true), LT_ERR_INVALID);
    ck_assert_int_eq(lt_subject_check("a.b*", true), LT_ERR_INVALID);
    ck_assert_int_eq(lt_subject_check("a..b", false), LT_ERR_INVALID);
    ck_assert_int_eq(lt_subject_check(".a", false), LT_ERR_INVALID);
    ck_assert_int_eq(lt_subject_check("a.", false), LT_ERR_INVALID);
    ck_assert_int_eq(lt_subject_check("a b", false), LT_ERR_INVALID);
    ck_assert_int_eq(lt_subject_check("", false), LT_ERR_INVALID);
}
END_TEST

static Suite *ce_json_suite(void)
{
    Suite *s = suite_create("ce_json");

    lt_test_tcase(s, "structured", 0,
                  (const TTest *const[]){ test_structured_decode, test_structured_errors,
                                          test_json_encode_roundtrip, NULL });
    lt_test_tcase(s, "time", 0, (const TTest *const[]){ NULL });
    lt_test_tcase(s, "subject", 0, (const TTest *const[]){ test_subject_tokens, NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(ce_json_suite());
}
