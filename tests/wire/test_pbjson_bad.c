/*
 * test_pbjson_bad.c - every kind of bad input to lt_pbjson_decode, table
 * driven: wrong JSON types, integer and float overflow, bad base64, enum,
 * timestamp, duration and field-mask values, unknown and duplicate fields,
 * oneof conflicts, bad map keys, invalid UTF-8, nesting, truncated and
 * trailing text. Each must give the exact status and message (with path).
 */
#include "test_pbjson.h"

#include <string.h>

#include "lt_alloc.h"
#include "lt_buf.h"

#define INV LT_ERR_INVALID
#define PARSE LT_ERR_PARSE

static const struct {
    const char *json;
    lt_status st;
    const char *msg;
} bad[] = {
    /* integers */
    { "{\"fInt32\":\"x\"}", INV, "fInt32: expected integer, got string \"x\"" },
    { "{\"fInt32\":2147483648}", INV, "fInt32: number 2147483648 out of range for int32" },
    { "{\"fSint32\":-2147483649}", INV, "fSint32: number -2147483649 out of range for int32" },
    { "{\"fUint32\":-1}", INV, "fUint32: number -1 out of range for uint32" },
    { "{\"fFixed32\":\"4294967296\"}", INV,
      "fFixed32: string \"4294967296\" out of range for uint32" },
    { "{\"fInt64\":\"9223372036854775808\"}", INV,
      "fInt64: string \"9223372036854775808\" out of range for int64" },
    { "{\"fSfixed64\":\"-9223372036854775809\"}", INV,
      "fSfixed64: string \"-9223372036854775809\" out of range for int64" },
    { "{\"fUint64\":\"18446744073709551616\"}", INV,
      "fUint64: string \"18446744073709551616\" out of range for uint64" },
    { "{\"fUint64\":\"1e20\"}", INV, "fUint64: string \"1e20\" out of range for uint64" },
    { "{\"fUint64\":18446744073709551615}", INV,
      "fUint64: number 18446744073709552000 cannot be read exactly as a JSON number; send "
      "uint64 as a string" },
    { "{\"fInt64\":1e300}", INV,
      "fInt64: number 1e+300 cannot be read exactly as a JSON number; send int64 as a string" },
    { "{\"fInt64\":9007199254740993.0}", INV,
      "fInt64: number 9007199254740992 cannot be read exactly as a JSON number; send int64 "
      "as a string" },
    { "{\"fInt32\":1.5}", INV, "fInt32: expected integer, got number 1.5" },
    { "{\"fInt32\":\"1.5\"}", INV, "fInt32: expected integer, got string \"1.5\"" },
    { "{\"fInt32\":\"1e-1\"}", INV, "fInt32: expected integer, got string \"1e-1\"" },
    { "{\"fInt32\":\" 1\"}", INV, "fInt32: expected integer, got string \" 1\"" },
    { "{\"fInt32\":\"+1\"}", INV, "fInt32: expected integer, got string \"+1\"" },
    { "{\"fInt32\":\"0x10\"}", INV, "fInt32: expected integer, got string \"0x10\"" },
    { "{\"fInt32\":\"01\"}", INV, "fInt32: expected integer, got string \"01\"" },
    { "{\"fInt32\":\"\"}", INV, "fInt32: expected integer, got string \"\"" },
    { "{\"fInt32\":true}", INV, "fInt32: expected integer, got boolean true" },
    { "{\"fInt32\":[]}", INV, "fInt32: expected integer, got array" },
    { "{\"fInt32\":{}}", INV, "fInt32: expected integer, got object" },
    { "{\"fInt64\":\"NaN\"}", INV, "fInt64: expected integer, got string \"NaN\"" },
    /* floating point */
    { "{\"fFloat\":3.5e38}", INV, "fFloat: number 3.5e+38 out of range for float" },
    { "{\"fFloat\":\"-1e39\"}", INV, "fFloat: string \"-1e39\" out of range for float" },
    { "{\"fDouble\":\"1e400\"}", INV, "fDouble: string \"1e400\" out of range for double" },
    { "{\"fDouble\":\"nan\"}", INV, "fDouble: expected number, got string \"nan\"" },
    { "{\"fDouble\":\"-NaN\"}", INV, "fDouble: expected number, got string \"-NaN\"" },
    { "{\"fDouble\":\"1.\"}", INV, "fDouble: expected number, got string \"1.\"" },
    { "{\"fDouble\":\"inf\"}", INV, "fDouble: expected number, got string \"inf\"" },
    { "{\"fDouble\":false}", INV, "fDouble: expected number, got boolean false" },
    { "{\"fDouble\":1e400}", PARSE,
      "invalid JSON at line 1 column 16: real number overflow near '1e400'" },
    /* bool, string, bytes */
    { "{\"fBool\":\"true\"}", INV, "fBool: expected boolean, got string \"true\"" },
    { "{\"fBool\":1}", INV, "fBool: expected boolean, got number 1" },
    { "{\"fString\":1}", INV, "fString: expected string, got number 1" },
    { "{\"fString\":null,\"rString\":[\"a\",false]}", INV,
      "rString[1]: expected string, got boolean false" },
    { "{\"fString\":\"a\\u0000b\"}", PARSE,
      "invalid JSON at line 1 column 21: \\u0000 is not allowed without JSON_ALLOW_NUL near "
      "'\"a\\u0000b\"'" },
    { "{\"fString\":\"\xff\"}", PARSE,
      "invalid JSON at line 1 column 12: unable to decode byte 0xff near '\"'" },
    { "{\"fString\":\"\xed\xa0\x80\"}", PARSE,
      "invalid JSON at line 1 column 12: unable to decode byte 0xed near '\"'" },
    { "{\"fString\":\"\\ud800\"}", PARSE,
      "invalid JSON at line 1 column 19: invalid Unicode '\\uD800' near '\"\\ud800\"'" },
    { "{\"fBytes\":\"QQ=\"}", INV, "fBytes: invalid base64 at offset 2" },
    { "{\"fBytes\":\"Q\"}", INV, "fBytes: invalid base64 at offset 0" },
    { "{\"fBytes\":\"QUJDR\"}", INV, "fBytes: invalid base64 at offset 4" },
    { "{\"fBytes\":\"QQ=A\"}", INV, "fBytes: invalid base64 at offset 2" },
    { "{\"fBytes\":\"Q+_A\"}", INV, "fBytes: invalid base64 at offset 1" },
    { "{\"fBytes\":\"QQ QQ\"}", INV, "fBytes: invalid base64 at offset 2" },
    { "{\"fBytes\":\"====\"}", INV, "fBytes: invalid base64 at offset 0" },
    { "{\"fBytes\":5}", INV, "fBytes: expected base64 string, got number 5" },
    /* enums */
    { "{\"fEnum\":\"COLOR_BLUE\"}", INV,
      "fEnum: unknown value \"COLOR_BLUE\" for enum lttest.Color" },
    { "{\"fEnum\":\"color_red\"}", INV,
      "fEnum: unknown value \"color_red\" for enum lttest.Color" },
    { "{\"fEnum\":\"1\"}", INV, "fEnum: unknown value \"1\" for enum lttest.Color" },
    { "{\"rEnum\":[1,\"NO\"]}", INV, "rEnum[1]: unknown value \"NO\" for enum lttest.Color" },
    { "{\"fEnum\":2147483648}", INV, "fEnum: number 2147483648 out of range for enum" },
    { "{\"fEnum\":1.5}", INV, "fEnum: expected integer, got number 1.5" },
    { "{\"fEnum\":true}", INV, "fEnum: expected enum name or number, got boolean true" },
    /* messages, repeated */
    { "{\"fMsg\":[]}", INV, "fMsg: expected object, got array" },
    { "{\"fMsg\":\"{}\"}", INV, "fMsg: expected object, got string \"{}\"" },
    { "{\"fMsg\":{\"child\":{\"n\":\"q\"}}}", INV,
      "fMsg.child.n: expected integer, got string \"q\"" },
    { "{\"rInt32\":{}}", INV, "rInt32: expected array, got object" },
    { "{\"rInt32\":1}", INV, "rInt32: expected array, got number 1" },
    { "{\"rInt32\":[1,\"x\"]}", INV, "rInt32[1]: expected integer, got string \"x\"" },
    { "{\"rInt32\":[null]}", INV, "rInt32[0]: null is not allowed here" },
    { "{\"rMsg\":[{},null]}", INV, "rMsg[1]: null is not allowed here" },
    { "{\"rMsg\":[{},{\"n\":\"q\"}]}", INV, "rMsg[1].n: expected integer, got string \"q\"" },
    { "{\"rTs\":[\"1970-01-01T00:00:00Z\",5]}", INV,
      "rTs[1]: expected RFC 3339 timestamp string, got number 5" },
    /* maps */
    { "{\"mStr\":[]}", INV, "mStr: expected object, got array" },
    { "{\"mStr\":{\"a\":1}}", INV, "mStr[\"a\"]: expected string, got number 1" },
    { "{\"mStr\":{\"a\":null}}", INV, "mStr[\"a\"]: null is not allowed here" },
    { "{\"mStr\":{\"a\\\"b\\n\":1}}", INV, "mStr[\"a?b?\"]: expected string, got number 1" },
    { "{\"mBool\":{\"yes\":\"x\"}}", INV, "mBool[\"yes\"]: map key must be \"true\" or \"false\"" },
    { "{\"mBool\":{\"True\":\"x\"}}", INV,
      "mBool[\"True\"]: map key must be \"true\" or \"false\"" },
    { "{\"mIntMsg\":{\"01\":{}}}", INV, "mIntMsg[\"01\"]: map key is not a canonical integer" },
    { "{\"mIntMsg\":{\"+1\":{}}}", INV, "mIntMsg[\"+1\"]: map key is not a canonical integer" },
    { "{\"mIntMsg\":{\"-0\":{}}}", INV, "mIntMsg[\"-0\"]: map key is not a canonical integer" },
    { "{\"mIntMsg\":{\"\":{}}}", INV, "mIntMsg[\"\"]: map key is not a canonical integer" },
    { "{\"mIntMsg\":{\"1.0\":{}}}", INV, "mIntMsg[\"1.0\"]: map key is not a canonical integer" },
    { "{\"mIntMsg\":{\"2147483648\":{}}}", INV,
      "mIntMsg[\"2147483648\"]: string \"2147483648\" out of range for int32" },
    { "{\"mU32Bytes\":{\"-1\":\"\"}}", INV,
      "mU32Bytes[\"-1\"]: string \"-1\" out of range for uint32" },
    { "{\"mIntMsg\":{\"1\":{\"n\":\"x\"}}}", INV,
      "mIntMsg[\"1\"].n: expected integer, got string \"x\"" },
    { "{\"mIntMsg\":{\"1\":5}}", INV, "mIntMsg[\"1\"]: expected object, got number 5" },
    { "{\"mInt64Enum\":{\"1\":\"NOPE\"}}", INV,
      "mInt64Enum[\"1\"]: unknown value \"NOPE\" for enum lttest.Color" },
    /* oneof, duplicates, unknown fields */
    { "{\"oString\":\"a\",\"oInt32\":1}", INV,
      "oInt32: oneof already has member \"o_string\" set" },
    { "{\"oMsg\":{},\"o_enum\":1}", INV, "o_enum: oneof already has member \"o_msg\" set" },
    { "{\"oInt32\":0,\"oString\":\"\"}", INV, "oString: oneof already has member \"o_int32\" set" },
    { "{\"fInt32\":1,\"f_int32\":2}", INV, "f_int32: field \"f_int32\" given twice" },
    { "{\"fInt32\":null,\"f_int32\":2}", INV, "f_int32: field \"f_int32\" given twice" },
    { "{\"fInt32\":1,\"fInt32\":2}", PARSE,
      "invalid JSON at line 1 column 20: duplicate object key near '\"fInt32\"'" },
    { "{\"bogus\":1}", INV, "bogus: unknown field in lttest.Kinds" },
    { "{\"FInt32\":1}", INV, "FInt32: unknown field in lttest.Kinds" },
    { "{\"fint32\":1}", INV, "fint32: unknown field in lttest.Kinds" },
    { "{\"fMsg\":{\"child\":{\"x\":null}}}", INV, "fMsg.child.x: unknown field in lttest.Inner" },
    { "{\"rMsg\":[{\"bad_key\":1}]}", INV, "rMsg[0].bad_key: unknown field in lttest.Inner" },
    /* timestamps */
    { "{\"ts\":\"1972-01-01 10:00:20Z\"}", INV,
      "ts: invalid timestamp \"1972-01-01 10:00:20Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-1-01T10:00:20Z\"}", INV,
      "ts: invalid timestamp \"1972-1-01T10:00:20Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-13-01T00:00:00Z\"}", INV,
      "ts: invalid timestamp \"1972-13-01T00:00:00Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-02-30T00:00:00Z\"}", INV,
      "ts: invalid timestamp \"1972-02-30T00:00:00Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1971-02-29T00:00:00Z\"}", INV,
      "ts: invalid timestamp \"1971-02-29T00:00:00Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1900-02-29T00:00:00Z\"}", INV,
      "ts: invalid timestamp \"1900-02-29T00:00:00Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-01-01T24:00:00Z\"}", INV,
      "ts: invalid timestamp \"1972-01-01T24:00:00Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-01-01T10:60:00Z\"}", INV,
      "ts: invalid timestamp \"1972-01-01T10:60:00Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-06-30T23:59:60Z\"}", INV,
      "ts: invalid timestamp \"1972-06-30T23:59:60Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-01-01T10:00:00\"}", INV,
      "ts: invalid timestamp \"1972-01-01T10:00:00\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-01-01T10:00:00.Z\"}", INV,
      "ts: invalid timestamp \"1972-01-01T10:00:00.Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-01-01T10:00:00.1234567891Z\"}", INV,
      "ts: invalid timestamp \"1972-01-01T10:00:00.1234567891Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-01-01T10:00:00+1:00\"}", INV,
      "ts: invalid timestamp \"1972-01-01T10:00:00+1:00\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-01-01T10:00:00+01:60\"}", INV,
      "ts: invalid timestamp \"1972-01-01T10:00:00+01:60\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"1972-01-01T10:00:00Z \"}", INV,
      "ts: invalid timestamp \"1972-01-01T10:00:00Z \" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"0000-12-31T00:00:00Z\"}", INV,
      "ts: invalid timestamp \"0000-12-31T00:00:00Z\" (want RFC 3339, e.g. "
      "1972-01-01T10:00:20.021Z)" },
    { "{\"ts\":\"0001-01-01T00:00:00+00:01\"}", INV,
      "ts: timestamp \"0001-01-01T00:00:00+00:01\" outside 0001-01-01..9999-12-31 UTC" },
    { "{\"ts\":\"9999-12-31T23:59:59-00:01\"}", INV,
      "ts: timestamp \"9999-12-31T23:59:59-00:01\" outside 0001-01-01..9999-12-31 UTC" },
    { "{\"ts\":123}", INV, "ts: expected RFC 3339 timestamp string, got number 123" },
    { "{\"ts\":{\"seconds\":1}}", INV, "ts: expected RFC 3339 timestamp string, got object" },
    /* durations */
    { "{\"dur\":\"1\"}", INV, "dur: invalid duration \"1\" (want e.g. \"1.5s\")" },
    { "{\"dur\":\"1.s\"}", INV, "dur: invalid duration \"1.s\" (want e.g. \"1.5s\")" },
    { "{\"dur\":\"s\"}", INV, "dur: invalid duration \"s\" (want e.g. \"1.5s\")" },
    { "{\"dur\":\"+1s\"}", INV, "dur: invalid duration \"+1s\" (want e.g. \"1.5s\")" },
    { "{\"dur\":\"1e3s\"}", INV, "dur: invalid duration \"1e3s\" (want e.g. \"1.5s\")" },
    { "{\"dur\":\"1.0000000001s\"}", INV,
      "dur: invalid duration \"1.0000000001s\" (want e.g. \"1.5s\")" },
    { "{\"dur\":\"315576000001s\"}", INV, "dur: duration \"315576000001s\" out of range" },
    { "{\"dur\":\"99999999999999999999s\"}", INV,
      "dur: invalid duration \"99999999999999999999s\" (want e.g. \"1.5s\")" },
    { "{\"dur\":1}", INV, "dur: expected duration string like \"1.5s\", got number 1" },
    /* wrappers, Struct, ListValue, FieldMask */
    { "{\"wInt32\":\"x\"}", INV, "wInt32: expected integer, got string \"x\"" },
    { "{\"wInt32\":{\"value\":1}}", INV, "wInt32: expected integer, got object" },
    { "{\"wBool\":\"true\"}", INV, "wBool: expected boolean, got string \"true\"" },
    { "{\"wBytes\":\"*\"}", INV, "wBytes: invalid base64 at offset 0" },
    { "{\"st\":[]}", INV, "st: expected object, got array" },
    { "{\"st\":{\"a\":{\"b\":[1,{\"c\":\"\\ud83d\"}]}}}", PARSE,
      "invalid JSON at line 1 column 32: invalid Unicode '\\uD83D' near '\"\\ud83d\"'" },
    { "{\"lst\":{}}", INV, "lst: expected array, got object" },
    { "{\"mask\":\"a_b\"}", INV, "mask: invalid field mask path \"a_b\"" },
    { "{\"mask\":\"ok,x_y\"}", INV, "mask: invalid field mask path \"x_y\"" },
    { "{\"mask\":[\"a\"]}", INV, "mask: expected field mask string, got array" },
    { "{\"empty\":{\"x\":1}}", INV, "empty.x: unknown field in google.protobuf.Empty" },
    { "{\"empty\":[]}", INV, "empty: expected object, got array" },
    /* top level and text */
    { "[]", INV, "(root): expected object, got array" },
    { "\"x\"", INV, "(root): expected object, got string \"x\"" },
    { "null", INV, "(root): expected object, got null" },
    { "", PARSE, "invalid JSON at line 1 column 0: unexpected token near end of file" },
    { "{", PARSE, "invalid JSON at line 1 column 1: string or '}' expected near end of file" },
    { "{\"fInt32\":1", PARSE, "invalid JSON at line 1 column 11: '}' expected near end of file" },
    { "{\"fInt32\":", PARSE,
      "invalid JSON at line 1 column 10: unexpected token near end of file" },
    { "{\"fStr", PARSE, "invalid JSON at line 1 column 6: premature end of input near '\"fStr'" },
    { "{\"fInt32\":1}x", PARSE, "invalid JSON at line 1 column 13: end of file expected near 'x'" },
    { "{\"fInt32\":1}{}", PARSE,
      "invalid JSON at line 1 column 13: end of file expected near '{'" },
    { "{'fInt32':1}", PARSE, "invalid JSON at line 1 column 2: string or '}' expected near '''" },
    { "{\"fInt32\":01}", PARSE, "invalid JSON at line 1 column 11: invalid token near '0'" },
    { "{\"\xff\":1}", PARSE,
      "invalid JSON at line 1 column 2: unable to decode byte 0xff near '\"'" },
};

START_TEST(test_bad_input)
{
    tp_decode_fails(KINDS, bad[_i].json, 0, bad[_i].st, bad[_i].msg);
}
END_TEST

/* Type errors and conflicts are still errors when unknown fields are ignored. */
START_TEST(test_bad_input_ignore_unknown)
{
    tp_decode_fails(KINDS, "{\"bogus\":1,\"fInt32\":\"x\"}", LT_PBJSON_IGNORE_UNKNOWN, INV,
                    "fInt32: expected integer, got string \"x\"");
    tp_decode_fails(KINDS, "{\"oString\":\"a\",\"oInt32\":1}", LT_PBJSON_IGNORE_UNKNOWN, INV,
                    "oInt32: oneof already has member \"o_string\" set");
    tp_decode_fails(KINDS, "{\"fEnum\":1.5}", LT_PBJSON_IGNORE_UNKNOWN, INV,
                    "fEnum: expected integer, got number 1.5");
}
END_TEST

/* Brackets inside strings do not count as nesting; real nesting does, in any container. */
START_TEST(test_nesting_text)
{
    lt_buf b;
    char *s;
    ProtobufCMessage *m;

    lt_buf_init(&b, 4096);
    ck_assert_int_eq(lt_buf_appends(&b, "{\"fString\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                                        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{\"}"),
                     LT_OK);
    m = tp_decode(KINDS, b.ptr, 0);
    protobuf_c_message_free_unpacked(m, NULL);
    lt_buf_reset(&b);
    ck_assert_int_eq(lt_buf_appends(&b, "{\"st\":{\"a\":"), LT_OK);
    for (int i = 0; i < 63; i++)
        ck_assert_int_eq(lt_buf_appendc(&b, '['), LT_OK);
    for (int i = 0; i < 63; i++)
        ck_assert_int_eq(lt_buf_appendc(&b, ']'), LT_OK);
    ck_assert_int_eq(lt_buf_appends(&b, "}}"), LT_OK);
    s = lt_buf_take(&b);
    tp_decode_fails(KINDS, s, 0, LT_ERR_TOO_BIG, "JSON nested deeper than 64 levels at byte 73");
    s[strlen("{\"st\":{\"a\":")] = ' '; /* one level less: 64 in all */
    s[strlen(s) - 3] = ' ';
    m = tp_decode(KINDS, s, 0);
    protobuf_c_message_free_unpacked(m, NULL);
    lt_free(s);
    lt_buf_cleanup(&b);
}
END_TEST

Suite *pbjson_bad_suite(void)
{
    Suite *s = suite_create("pbjson_bad");
    TCase *tc = tcase_create("bad");

    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof(bad) / sizeof(bad[0])));
    tcase_add_test(tc, test_bad_input_ignore_unknown);
    tcase_add_test(tc, test_nesting_text);
    suite_add_tcase(s, tc);
    return s;
}
