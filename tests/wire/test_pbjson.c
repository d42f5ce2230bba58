/*
 * test_pbjson.c - Check tests of lt_pbjson on lttest.Kinds (every field kind):
 * exact canonical output of a fully populated message built in C, round
 * trips through JSON and binary, every accepted input spelling, defaults and
 * EMIT_DEFAULTS/PRETTY, the well-known types, proto2 presence, limits and
 * the API contract. Also the shared helpers and main() of the test binary;
 * bad inputs are in test_pbjson_bad.c, wasmCloud v2 and protoc interop in
 * test_pbjson_interop.c.
 */
#include "test_pbjson.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_limits.h"
#include "lt_testutil.h"

/* ---- shared helpers ------------------------------------------------------------ */

ProtobufCMessage *tp_decode(const ProtobufCMessageDescriptor *d, const char *json, unsigned flags)
{
    ProtobufCMessage *m = NULL;
    lt_status st = lt_pbjson_decode(d, json, strlen(json), flags, &m);

    ck_assert_msg(st == LT_OK, "decode of %s: %s: %s", json, lt_status_name(st),
                  lt_error_message());
    ck_assert_ptr_nonnull(m);
    return m;
}

char *tp_encode(const ProtobufCMessage *m, unsigned flags)
{
    char *s = NULL;
    size_t len = 0;
    lt_status st = lt_pbjson_encode(m, flags, &s, &len);

    ck_assert_msg(st == LT_OK, "encode: %s: %s", lt_status_name(st), lt_error_message());
    ck_assert_uint_eq(strlen(s), len);
    return s;
}

void tp_reencode(const ProtobufCMessageDescriptor *d, const char *json, unsigned flags,
                 const char *want)
{
    ProtobufCMessage *m = tp_decode(d, json, 0);
    char *s = tp_encode(m, flags);

    ck_assert_msg(strcmp(s, want) == 0, "input %s\n  encoded %s\n  wanted  %s", json, s, want);
    lt_free(s);
    protobuf_c_message_free_unpacked(m, NULL);
}

void tp_decode_fails(const ProtobufCMessageDescriptor *d, const char *json, unsigned flags,
                     lt_status st, const char *msg)
{
    ProtobufCMessage *m = (ProtobufCMessage *)&m;
    lt_status got;

    lt_error_clear();
    got = lt_pbjson_decode(d, json, strlen(json), flags, &m);
    ck_assert_msg(got == st, "input %s: status %s, wanted %s (%s)", json, lt_status_name(got),
                  lt_status_name(st), lt_error_message());
    ck_assert_msg(m == NULL, "input %s: *out not reset on failure", json);
    ck_assert_msg(strcmp(lt_error_message(), msg) == 0, "input %s\n  message %s\n  wanted  %s",
                  json, lt_error_message(), msg);
}

bool tp_json_same(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!tp_json_same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return false;
        json_object_foreach ((json_t *)a, k, v) {
            json_t *w = json_object_get(b, k);
            if (w == NULL || !tp_json_same(v, w))
                return false;
        }
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

json_t *tp_json(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

    ck_assert_msg(j != NULL, "bad test JSON %s: %s", text, err.text);
    return j;
}

/* ---- a fully populated Kinds, built in C ----------------------------------------- */

/* The canonical encoding of full_kinds(): every key in field-number order. */
static const char full_json[] =
    "{\"fInt32\":-5,\"fSint32\":-6,\"fSfixed32\":7,\"fUint32\":4294967295,\"fFixed32\":9,"
    "\"fInt64\":\"-9223372036854775808\",\"fSint64\":\"-11\",\"fSfixed64\":\"12\","
    "\"fUint64\":\"18446744073709551615\",\"fFixed64\":\"14\",\"fFloat\":3.2,\"fDouble\":-0.1,"
    "\"fBool\":true,\"fString\":\"h\xc3\xa9llo \\\"w\\\"\\n\\u0001\",\"fBytes\":\"AAH/\","
    "\"fEnum\":\"COLOR_RED\",\"fMsg\":{\"name\":\"a\",\"n\":1,\"child\":{\"name\":\"b\"}},"
    "\"rInt32\":[1,-2,3],\"rInt64\":[\"1\",\"-2\"],\"rUint64\":[\"3\"],\"rFloat\":[1.5,\"NaN\"],"
    "\"rDouble\":[\"Infinity\",\"-Infinity\",1e-7],\"rBool\":[true,false],"
    "\"rString\":[\"x\",\"\"],\"rBytes\":[\"\",\"QQ==\"],"
    "\"rEnum\":[\"COLOR_GREEN\",\"COLOR_NEGATIVE\",7],\"rMsg\":[{},{\"n\":2}],"
    "\"mStr\":{\"k\":\"v\",\"\":\"empty\"},\"mIntMsg\":{\"1\":{\"name\":\"one\"},\"-2\":{}},"
    "\"mBool\":{\"true\":\"t\",\"false\":\"f\"},"
    "\"mInt64Enum\":{\"9223372036854775807\":\"COLOR_RED\"},"
    "\"mU32Bytes\":{\"4294967295\":\"/w==\"},\"mS64Double\":{\"-1\":2.5},"
    "\"oString\":\"chosen\",\"ts\":\"1972-01-01T10:00:20.021Z\","
    "\"rTs\":[\"0001-01-01T00:00:00Z\",\"9999-12-31T23:59:59.999999999Z\"],"
    "\"dur\":\"-1.500s\",\"wInt32\":0,\"wUint32\":1,\"wInt64\":\"2\",\"wUint64\":\"3\","
    "\"wFloat\":1.25,\"wDouble\":\"NaN\",\"wBool\":false,\"wString\":\"\",\"wBytes\":\"AA==\","
    "\"st\":{\"a\":1,\"b\":[true,null,\"s\",{\"c\":{}}]},\"val\":[1,\"x\"],\"lst\":[null,{}],"
    "\"mask\":\"fInt32,fMsg.childName\",\"empty\":{},\"snakeCaseName2x\":\"s\"}";

typedef struct {
    Lttest__Kinds k;
    Lttest__Inner msg, child, rmsg[2], *rmsg_p[2], one, minus2;
    int32_t r_int32[3];
    int64_t r_int64[2];
    uint64_t r_uint64[1];
    float r_float[2];
    double r_double[3];
    protobuf_c_boolean r_bool[2];
    char *r_string[2];
    ProtobufCBinaryData r_bytes[2];
    Lttest__Color r_enum[3];
    Lttest__Kinds__MStrEntry ms[2], *ms_p[2];
    Lttest__Kinds__MIntMsgEntry mi[2], *mi_p[2];
    Lttest__Kinds__MBoolEntry mb[2], *mb_p[2];
    Lttest__Kinds__MInt64EnumEntry me, *me_p[1];
    Lttest__Kinds__MU32BytesEntry mu, *mu_p[1];
    Lttest__Kinds__MS64DoubleEntry md, *md_p[1];
    Google__Protobuf__Timestamp ts, rts[2], *rts_p[2];
    Google__Protobuf__Duration dur;
    Google__Protobuf__Int32Value wi32;
    Google__Protobuf__UInt32Value wu32;
    Google__Protobuf__Int64Value wi64;
    Google__Protobuf__UInt64Value wu64;
    Google__Protobuf__FloatValue wf;
    Google__Protobuf__DoubleValue wd;
    Google__Protobuf__BoolValue wb;
    Google__Protobuf__StringValue ws;
    Google__Protobuf__BytesValue wby;
    Google__Protobuf__Struct st, st_c, st_empty, st_empty2;
    Google__Protobuf__Struct__FieldsEntry fe[3], *fe_p[2], *fe_c_p[1];
    Google__Protobuf__Value v_a, v_b, items[4], *items_p[4], v_c, val, vitems[2], *vitems_p[2];
    Google__Protobuf__Value litems[2], *litems_p[2];
    Google__Protobuf__ListValue l_b, l_val, lst;
    Google__Protobuf__FieldMask mask;
    char *paths[2];
    Google__Protobuf__Empty empty;
} full_kinds;

static void init_value(Google__Protobuf__Value *v, Google__Protobuf__Value__KindCase kc)
{
    google__protobuf__value__init(v);
    v->kind_case = kc;
}

static void full_scalars(full_kinds *f)
{
    Lttest__Kinds *k = &f->k;

    k->f_int32 = -5;
    k->f_sint32 = -6;
    k->f_sfixed32 = 7;
    k->f_uint32 = UINT32_MAX;
    k->f_fixed32 = 9;
    k->f_int64 = INT64_MIN;
    k->f_sint64 = -11;
    k->f_sfixed64 = 12;
    k->f_uint64 = UINT64_MAX;
    k->f_fixed64 = 14;
    k->f_float = 3.2f;
    k->f_double = -0.1;
    k->f_bool = 1;
    k->f_string = "h\xc3\xa9llo \"w\"\n\x01";
    k->f_bytes = (ProtobufCBinaryData){ 3, (uint8_t *)"\x00\x01\xff" };
    k->f_enum = LTTEST__COLOR__COLOR_RED;
    lttest__inner__init(&f->msg);
    lttest__inner__init(&f->child);
    f->msg.name = "a";
    f->msg.n = 1;
    f->msg.child = &f->child;
    f->child.name = "b";
    k->f_msg = &f->msg;
    k->snake_case_name_2x = "s";
    k->choice_case = LTTEST__KINDS__CHOICE_O_STRING;
    k->o_string = "chosen";
}

static void full_repeated(full_kinds *f)
{
    Lttest__Kinds *k = &f->k;

    memcpy(f->r_int32, (int32_t[]){ 1, -2, 3 }, sizeof(f->r_int32));
    memcpy(f->r_int64, (int64_t[]){ 1, -2 }, sizeof(f->r_int64));
    f->r_uint64[0] = 3;
    f->r_float[0] = 1.5f;
    f->r_float[1] = NAN;
    f->r_double[0] = INFINITY;
    f->r_double[1] = -INFINITY;
    f->r_double[2] = 1e-7;
    f->r_bool[0] = 1;
    f->r_string[0] = "x";
    f->r_string[1] = "";
    f->r_bytes[1] = (ProtobufCBinaryData){ 1, (uint8_t *)"A" };
    f->r_enum[0] = LTTEST__COLOR__COLOR_GREEN;
    f->r_enum[1] = LTTEST__COLOR__COLOR_NEGATIVE;
    f->r_enum[2] = (Lttest__Color)7;
    for (int i = 0; i < 2; i++) {
        lttest__inner__init(&f->rmsg[i]);
        f->rmsg_p[i] = &f->rmsg[i];
    }
    f->rmsg[1].n = 2;
    k->n_r_int32 = 3, k->r_int32 = f->r_int32;
    k->n_r_int64 = 2, k->r_int64 = f->r_int64;
    k->n_r_uint64 = 1, k->r_uint64 = f->r_uint64;
    k->n_r_float = 2, k->r_float = f->r_float;
    k->n_r_double = 3, k->r_double = f->r_double;
    k->n_r_bool = 2, k->r_bool = f->r_bool;
    k->n_r_string = 2, k->r_string = f->r_string;
    k->n_r_bytes = 2, k->r_bytes = f->r_bytes;
    k->n_r_enum = 3, k->r_enum = f->r_enum;
    k->n_r_msg = 2, k->r_msg = f->rmsg_p;
}

static void full_maps(full_kinds *f)
{
    Lttest__Kinds *k = &f->k;

    for (int i = 0; i < 2; i++) {
        lttest__kinds__mstr_entry__init(&f->ms[i]);
        lttest__kinds__mint_msg_entry__init(&f->mi[i]);
        lttest__kinds__mbool_entry__init(&f->mb[i]);
        f->ms_p[i] = &f->ms[i];
        f->mi_p[i] = &f->mi[i];
        f->mb_p[i] = &f->mb[i];
    }
    f->ms[0].key = "k", f->ms[0].value = "v";
    f->ms[1].key = "", f->ms[1].value = "empty";
    lttest__inner__init(&f->one);
    lttest__inner__init(&f->minus2);
    f->one.name = "one";
    f->mi[0].key = 1, f->mi[0].value = &f->one;
    f->mi[1].key = -2, f->mi[1].value = &f->minus2;
    f->mb[0].key = 1, f->mb[0].value = "t";
    f->mb[1].key = 0, f->mb[1].value = "f";
    lttest__kinds__mint64_enum_entry__init(&f->me);
    f->me.key = INT64_MAX, f->me.value = LTTEST__COLOR__COLOR_RED, f->me_p[0] = &f->me;
    lttest__kinds__mu32_bytes_entry__init(&f->mu);
    f->mu.key = UINT32_MAX, f->mu.value = (ProtobufCBinaryData){ 1, (uint8_t *)"\xff" };
    f->mu_p[0] = &f->mu;
    lttest__kinds__ms64_double_entry__init(&f->md);
    f->md.key = -1, f->md.value = 2.5, f->md_p[0] = &f->md;
    k->n_m_str = 2, k->m_str = f->ms_p;
    k->n_m_int_msg = 2, k->m_int_msg = f->mi_p;
    k->n_m_bool = 2, k->m_bool = f->mb_p;
    k->n_m_int64_enum = 1, k->m_int64_enum = f->me_p;
    k->n_m_u32_bytes = 1, k->m_u32_bytes = f->mu_p;
    k->n_m_s64_double = 1, k->m_s64_double = f->md_p;
}

static void full_wkt_scalars(full_kinds *f)
{
    Lttest__Kinds *k = &f->k;

    google__protobuf__timestamp__init(&f->ts);
    f->ts.seconds = 63108020, f->ts.nanos = 21000000;
    for (int i = 0; i < 2; i++) {
        google__protobuf__timestamp__init(&f->rts[i]);
        f->rts_p[i] = &f->rts[i];
    }
    f->rts[0].seconds = -62135596800LL;
    f->rts[1].seconds = 253402300799LL, f->rts[1].nanos = 999999999;
    google__protobuf__duration__init(&f->dur);
    f->dur.seconds = -1, f->dur.nanos = -500000000;
    google__protobuf__int32_value__init(&f->wi32);
    google__protobuf__uint32_value__init(&f->wu32);
    google__protobuf__int64_value__init(&f->wi64);
    google__protobuf__uint64_value__init(&f->wu64);
    google__protobuf__float_value__init(&f->wf);
    google__protobuf__double_value__init(&f->wd);
    google__protobuf__bool_value__init(&f->wb);
    google__protobuf__string_value__init(&f->ws);
    google__protobuf__bytes_value__init(&f->wby);
    f->wu32.value = 1, f->wi64.value = 2, f->wu64.value = 3, f->wf.value = 1.25f;
    f->wd.value = NAN, f->wby.value = (ProtobufCBinaryData){ 1, (uint8_t *)"" };
    k->ts = &f->ts, k->n_r_ts = 2, k->r_ts = f->rts_p, k->dur = &f->dur;
    k->w_int32 = &f->wi32, k->w_uint32 = &f->wu32, k->w_int64 = &f->wi64;
    k->w_uint64 = &f->wu64, k->w_float = &f->wf, k->w_double = &f->wd;
    k->w_bool = &f->wb, k->w_string = &f->ws, k->w_bytes = &f->wby;
    google__protobuf__field_mask__init(&f->mask);
    f->paths[0] = "f_int32", f->paths[1] = "f_msg.child_name";
    f->mask.n_paths = 2, f->mask.paths = f->paths, k->mask = &f->mask;
    google__protobuf__empty__init(&f->empty);
    k->empty = &f->empty;
}

/* st = {"a":1,"b":[true,null,"s",{"c":{}}]}, val = [1,"x"], lst = [null,{}] */
static void full_struct(full_kinds *f)
{
    Lttest__Kinds *k = &f->k;
    Google__Protobuf__Struct *structs[] = { &f->st, &f->st_c, &f->st_empty, &f->st_empty2 };

    for (int i = 0; i < 4; i++)
        google__protobuf__struct__init(structs[i]);
    for (int i = 0; i < 3; i++)
        google__protobuf__struct__fields_entry__init(&f->fe[i]);
    init_value(&f->v_a, GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE);
    f->v_a.number_value = 1;
    init_value(&f->v_b, GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE);
    f->v_b.list_value = &f->l_b;
    f->fe[0].key = "a", f->fe[0].value = &f->v_a, f->fe_p[0] = &f->fe[0];
    f->fe[1].key = "b", f->fe[1].value = &f->v_b, f->fe_p[1] = &f->fe[1];
    f->st.n_fields = 2, f->st.fields = f->fe_p;
    init_value(&f->items[0], GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE);
    f->items[0].bool_value = 1;
    init_value(&f->items[1], GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
    init_value(&f->items[2], GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
    f->items[2].string_value = "s";
    init_value(&f->items[3], GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE);
    f->items[3].struct_value = &f->st_c;
    init_value(&f->v_c, GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE);
    f->v_c.struct_value = &f->st_empty;
    f->fe[2].key = "c", f->fe[2].value = &f->v_c, f->fe_c_p[0] = &f->fe[2];
    f->st_c.n_fields = 1, f->st_c.fields = f->fe_c_p;
    for (int i = 0; i < 4; i++)
        f->items_p[i] = &f->items[i];
    google__protobuf__list_value__init(&f->l_b);
    f->l_b.n_values = 4, f->l_b.values = f->items_p;
    init_value(&f->vitems[0], GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE);
    f->vitems[0].number_value = 1;
    init_value(&f->vitems[1], GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
    f->vitems[1].string_value = "x";
    f->vitems_p[0] = &f->vitems[0], f->vitems_p[1] = &f->vitems[1];
    google__protobuf__list_value__init(&f->l_val);
    f->l_val.n_values = 2, f->l_val.values = f->vitems_p;
    init_value(&f->val, GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE);
    f->val.list_value = &f->l_val;
    init_value(&f->litems[0], GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
    init_value(&f->litems[1], GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE);
    f->litems[1].struct_value = &f->st_empty2;
    f->litems_p[0] = &f->litems[0], f->litems_p[1] = &f->litems[1];
    google__protobuf__list_value__init(&f->lst);
    f->lst.n_values = 2, f->lst.values = f->litems_p;
    k->st = &f->st, k->val = &f->val, k->lst = &f->lst;
}

static full_kinds *full_kinds_new(void)
{
    full_kinds *f = calloc(1, sizeof(*f));

    ck_assert_ptr_nonnull(f);
    lttest__kinds__init(&f->k);
    full_scalars(f);
    full_repeated(f);
    full_maps(f);
    full_wkt_scalars(f);
    full_struct(f);
    return f;
}

/* Binary packing of a message, for exact comparisons. lt_free it. */
static uint8_t *packed(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *buf;

    *len = protobuf_c_message_get_packed_size(m);
    buf = lt_malloc(*len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(protobuf_c_message_pack(m, buf), *len);
    return buf;
}

static void assert_same_binary(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na, nb;
    uint8_t *pa = packed(a, &na), *pb = packed(b, &nb);

    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(pa, pb, na) == 0, "binary packings differ");
    lt_free(pa);
    lt_free(pb);
}

/* ---- canonical output and round trips --------------------------------------------- */

START_TEST(test_full_canonical_output)
{
    full_kinds *f = full_kinds_new();
    char *s = tp_encode(&f->k.base, 0);

    ck_assert_str_eq(s, full_json);
    lt_free(s);
    free(f);
}
END_TEST

START_TEST(test_full_round_trip)
{
    full_kinds *f = full_kinds_new();
    ProtobufCMessage *m = tp_decode(KINDS, full_json, 0);
    Lttest__Kinds *k = (Lttest__Kinds *)m;
    char *s = tp_encode(m, 0);

    ck_assert_str_eq(s, full_json);
    assert_same_binary(&f->k.base, m); /* JSON -> C equals the C original, bit for bit */
    ck_assert(isnan(k->r_float[1]) && isinf(k->r_double[1]) && k->r_double[1] < 0);
    ck_assert_int_eq(k->f_int64, INT64_MIN);
    ck_assert_uint_eq(k->f_uint64, UINT64_MAX);
    ck_assert_float_eq(k->f_float, 3.2f);
    ck_assert_str_eq(k->f_string, "h\xc3\xa9llo \"w\"\n\x01");
    ck_assert_uint_eq(k->f_bytes.len, 3);
    ck_assert_int_eq(memcmp(k->f_bytes.data, "\x00\x01\xff", 3), 0);
    ck_assert_int_eq(k->choice_case, LTTEST__KINDS__CHOICE_O_STRING);
    ck_assert_int_eq(k->ts->seconds, 63108020);
    ck_assert_int_eq(k->ts->nanos, 21000000);
    ck_assert_int_eq(k->m_int_msg[1]->key, -2);
    ck_assert_int_eq(k->m_bool[0]->key, 1);
    ck_assert_str_eq(k->mask->paths[1], "f_msg.child_name");
    lt_free(s);
    protobuf_c_message_free_unpacked(m, NULL);
    free(f);
}
END_TEST

/* Every field kind on its own: encode, decode, and the binary must match. */
START_TEST(test_each_kind_round_trip)
{
    static const char *const one[] = {
        "{\"fInt32\":-2147483648}",
        "{\"fSint32\":2147483647}",
        "{\"fSfixed32\":-1}",
        "{\"fUint32\":4294967295}",
        "{\"fFixed32\":1}",
        "{\"fInt64\":\"9223372036854775807\"}",
        "{\"fSint64\":\"-9223372036854775808\"}",
        "{\"fSfixed64\":\"-1\"}",
        "{\"fUint64\":\"1\"}",
        "{\"fFixed64\":\"18446744073709551615\"}",
        "{\"fFloat\":-3.4028235e+38}",
        "{\"fFloat\":1e-45}",
        "{\"fDouble\":5e-324}",
        "{\"fDouble\":1.7976931348623157e+308}",
        "{\"fDouble\":-0.0}",
        "{\"fBool\":true}",
        "{\"fString\":\"\xc3\xa9\\\\\"}",
        "{\"fBytes\":\"AAECAw==\"}",
        "{\"fEnum\":\"COLOR_NEGATIVE\"}",
        "{\"fEnum\":12345}",
        "{\"fMsg\":{}}",
        "{\"rMsg\":[{},{}]}",
        "{\"rEnum\":[\"COLOR_RED\"]}",
        "{\"mIntMsg\":{\"0\":{\"child\":{}}}}",
        "{\"mBool\":{\"false\":\"\"}}",
        "{\"mInt64Enum\":{\"-9223372036854775808\":\"COLOR_UNSPECIFIED\"}}",
        "{\"mU32Bytes\":{\"0\":\"\"}}",
        "{\"mS64Double\":{\"5\":\"-Infinity\"}}",
        "{\"oInt32\":0}",
        "{\"oMsg\":{}}",
        "{\"oEnum\":\"COLOR_UNSPECIFIED\"}",
        "{\"oString\":\"\"}",
        "{\"rTs\":[\"1970-01-01T00:00:00Z\"]}",
        "{\"dur\":\"0s\"}",
        "{\"wString\":\"x\"}",
        "{\"st\":{}}",
        "{\"val\":{}}",
        "{\"val\":\"NaN\"}",
        "{\"lst\":[]}",
        "{\"mask\":\"\"}",
        "{\"empty\":{}}",
        "{\"snakeCaseName2x\":\"x\"}",
    };

    for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
        ProtobufCMessage *m, *m2;
        char *s;
        m = tp_decode(KINDS, one[i], 0);
        s = tp_encode(m, 0);
        ck_assert_msg(strcmp(s, one[i]) == 0, "%s re-encoded as %s", one[i], s);
        m2 = tp_decode(KINDS, s, 0);
        assert_same_binary(m, m2);
        lt_free(s);
        protobuf_c_message_free_unpacked(m, NULL);
        protobuf_c_message_free_unpacked(m2, NULL);
    }
}
END_TEST

START_TEST(test_to_json_and_from_json)
{
    full_kinds *f = full_kinds_new();
    json_t *j = NULL, *want = tp_json(full_json);
    ProtobufCMessage *m = NULL;

    ck_assert_int_eq(lt_pbjson_to_json(&f->k.base, 0, &j), LT_OK);
    ck_assert(tp_json_same(j, want));
    ck_assert_int_eq(lt_pbjson_from_json(KINDS, j, 0, &m), LT_OK);
    assert_same_binary(&f->k.base, m);
    json_decref(j);
    json_decref(want);
    protobuf_c_message_free_unpacked(m, NULL);
    free(f);
}
END_TEST

/* ---- defaults and output flags ------------------------------------------------------ */

static const char all_defaults[] =
    "{\"fInt32\":0,\"fSint32\":0,\"fSfixed32\":0,\"fUint32\":0,\"fFixed32\":0,\"fInt64\":\"0\","
    "\"fSint64\":\"0\",\"fSfixed64\":\"0\",\"fUint64\":\"0\",\"fFixed64\":\"0\",\"fFloat\":0,"
    "\"fDouble\":0,\"fBool\":false,\"fString\":\"\",\"fBytes\":\"\",\"fEnum\":\"COLOR_"
    "UNSPECIFIED\","
    "\"fMsg\":null,\"rInt32\":[],\"rInt64\":[],\"rUint64\":[],\"rFloat\":[],\"rDouble\":[],"
    "\"rBool\":[],\"rString\":[],\"rBytes\":[],\"rEnum\":[],\"rMsg\":[],\"mStr\":{},"
    "\"mIntMsg\":{},\"mBool\":{},\"mInt64Enum\":{},\"mU32Bytes\":{},\"mS64Double\":{},"
    "\"ts\":null,\"rTs\":[],\"dur\":null,\"wInt32\":null,\"wUint32\":null,\"wInt64\":null,"
    "\"wUint64\":null,\"wFloat\":null,\"wDouble\":null,\"wBool\":null,\"wString\":null,"
    "\"wBytes\":null,\"st\":null,\"lst\":null,\"mask\":null,\"empty\":null,\"any\":null,"
    "\"nullEnum\":null,\"snakeCaseName2x\":\"\"}";

START_TEST(test_defaults)
{
    Lttest__Kinds k = LTTEST__KINDS__INIT;
    Lttest__Inner inner = LTTEST__INNER__INIT;
    char *s = tp_encode(&k.base, 0);
    ProtobufCMessage *m;

    ck_assert_str_eq(s, "{}"); /* every proto3 default is omitted */
    lt_free(s);
    s = tp_encode(&k.base, LT_PBJSON_EMIT_DEFAULTS);
    ck_assert_str_eq(s, all_defaults); /* no oneof member, no unset Value */
    m = tp_decode(KINDS, s, 0);
    assert_same_binary(&k.base, m);
    protobuf_c_message_free_unpacked(m, NULL);
    lt_free(s);
    k.f_msg = &inner; /* a set sub-message is emitted even when empty */
    s = tp_encode(&k.base, 0);
    ck_assert_str_eq(s, "{\"fMsg\":{}}");
    lt_free(s);
    k.f_float = -0.0f; /* -0 is not the default bit pattern: present */
    s = tp_encode(&k.base, 0);
    ck_assert_str_eq(s, "{\"fFloat\":-0.0,\"fMsg\":{}}");
    lt_free(s);
}
END_TEST

START_TEST(test_pretty)
{
    ProtobufCMessage *m =
        tp_decode(KINDS,
                  "{\"fInt32\":1,\"rInt32\":[1,2],\"fMsg\":{},\"mStr\":{\"a\":\"b\"},\"rMsg\":[]}",
                  0);
    char *s = tp_encode(m, LT_PBJSON_PRETTY);

    ck_assert_str_eq(s, "{\n"
                        "  \"fInt32\": 1,\n"
                        "  \"fMsg\": {},\n"
                        "  \"rInt32\": [\n"
                        "    1,\n"
                        "    2\n"
                        "  ],\n"
                        "  \"mStr\": {\n"
                        "    \"a\": \"b\"\n"
                        "  }\n"
                        "}");
    lt_free(s);
    protobuf_c_message_free_unpacked(m, NULL);
}
END_TEST

/* Numbers print as Go's protojson prints them: shortest round-trip digits. */
START_TEST(test_number_formatting)
{
    static const struct {
        double d;
        const char *want;
    } dbl[] = {
        { 0.1, "0.1" },
        { 1e21, "1e+21" },
        { 1e20, "100000000000000000000" },
        { 1e-7, "1e-7" },
        { 1e-6, "0.000001" },
        { 123.456, "123.456" },
        { -2.5e-10, "-2.5e-10" },
        { 5e-324, "5e-324" },
        { 1.7976931348623157e308, "1.7976931348623157e+308" },
        { 100, "100" },
        { 0.000123, "0.000123" },
    };
    static const struct {
        float f;
        const char *want;
    } flt[] = {
        { 3.2f, "3.2" },
        { 0.1f, "0.1" },
        { FLT_MAX, "3.4028235e+38" },
        { 1e-45f, "1e-45" },
        { 16777216.0f, "16777216" },
        { 1e21f, "1e+21" },
    };
    char want[128];

    for (size_t i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++) {
        Lttest__Kinds k = LTTEST__KINDS__INIT;
        char *s;
        k.f_double = dbl[i].d;
        s = tp_encode(&k.base, 0);
        snprintf(want, sizeof(want), "{\"fDouble\":%s}", dbl[i].want);
        ck_assert_str_eq(s, want);
        lt_free(s);
    }
    for (size_t i = 0; i < sizeof(flt) / sizeof(flt[0]); i++) {
        Lttest__Kinds k = LTTEST__KINDS__INIT;
        Lttest__Kinds *back;
        char *s;
        k.f_float = flt[i].f;
        s = tp_encode(&k.base, 0);
        snprintf(want, sizeof(want), "{\"fFloat\":%s}", flt[i].want);
        ck_assert_str_eq(s, want);
        back = (Lttest__Kinds *)tp_decode(KINDS, s, 0);
        ck_assert(back->f_float == flt[i].f);
        protobuf_c_message_free_unpacked(&back->base, NULL);
        lt_free(s);
    }
}
END_TEST

/* ---- accepted input spellings ----------------------------------------------------------- */

static const struct {
    const char *in, *out;
} spellings[] = {
    /* names: camelCase or the proto name */
    { "{\"f_int32\":1,\"snake_case_name_2x\":\"a\",\"o_int32\":2}",
      "{\"fInt32\":1,\"oInt32\":2,\"snakeCaseName2x\":\"a\"}" },
    /* 32-bit integers: numbers, integral reals and exponents, numeric strings */
    { "{\"fInt32\":\"12\",\"fSint32\":1e2,\"fUint32\":\"4.0e1\",\"fFixed32\":3.0}",
      "{\"fInt32\":12,\"fSint32\":100,\"fUint32\":40,\"fFixed32\":3}" },
    { "{\"fInt32\":\"-0\",\"fSfixed32\":-0,\"fUint32\":\"0e5\"}", "{}" },
    { "{\"fInt32\":\"-2147483648\",\"fUint32\":\"1.5e1\"}",
      "{\"fInt32\":-2147483648,\"fUint32\":15}" },
    /* 64-bit integers: strings or numbers */
    { "{\"fInt64\":-5,\"fUint64\":123,\"fSint64\":\"1e18\",\"fFixed64\":\"18446744073709551615\"}",
      "{\"fInt64\":\"-5\",\"fSint64\":\"1000000000000000000\",\"fUint64\":\"123\","
      "\"fFixed64\":\"18446744073709551615\"}" },
    { "{\"fInt64\":9223372036854775807,\"fSfixed64\":-9223372036854775808}",
      "{\"fInt64\":\"9223372036854775807\",\"fSfixed64\":\"-9223372036854775808\"}" },
    { "{\"fUint64\":\"184467440737095516150e-1\",\"fInt64\":\"0.00e3\"}",
      "{\"fUint64\":\"18446744073709551615\"}" },
    /* floating point: numbers, numeric strings, special strings */
    { "{\"fFloat\":\"1.5\",\"fDouble\":\"-1e-3\",\"rFloat\":[\"NaN\",\"Infinity\",\"-Infinity\",2]"
      "}",
      "{\"fFloat\":1.5,\"fDouble\":-0.001,\"rFloat\":[\"NaN\",\"Infinity\",\"-Infinity\",2]}" },
    { "{\"fDouble\":123456789012345678901234567890}", "{\"fDouble\":1.2345678901234568e+29}" },
    { "{\"fDouble\":-10000000000000000000,\"val\":-12345678901234567890}",
      "{\"fDouble\":-10000000000000000000,\"val\":-12345678901234567000}" },
    { "{\"fFloat\":3.40282356e38}", "{\"fFloat\":3.4028235e+38}" },
    /* enums: names or numbers, unknown numbers kept */
    { "{\"fEnum\":2,\"rEnum\":[-1,\"COLOR_RED\",99],\"oEnum\":1}",
      "{\"fEnum\":\"COLOR_GREEN\",\"rEnum\":[\"COLOR_NEGATIVE\",\"COLOR_RED\",99],\"oEnum\":"
      "\"COLOR_RED\"}" },
    { "{\"fEnum\":1.0}", "{\"fEnum\":\"COLOR_RED\"}" },
    /* bytes: standard or URL-safe, padded or not */
    { "{\"rBytes\":[\"-_8\",\"+/8=\",\"QQ\",\"QUI\",\"QUJD\",\"\",\"QQ==\",\"QR==\"]}",
      "{\"rBytes\":[\"+/8=\",\"+/8=\",\"QQ==\",\"QUI=\",\"QUJD\",\"\",\"QQ==\",\"QQ==\"]}" },
    /* null means default for every kind of field */
    { "{\"fInt32\":null,\"fInt64\":null,\"fFloat\":null,\"fBool\":null,\"fString\":null,"
      "\"fBytes\":null,\"fEnum\":null,\"fMsg\":null,\"rInt32\":null,\"rMsg\":null,\"mStr\":null,"
      "\"mIntMsg\":null,\"oString\":null,\"oInt32\":null,\"ts\":null,\"dur\":null,\"wInt32\":null,"
      "\"st\":null,\"lst\":null,\"mask\":null,\"empty\":null,\"any\":null,\"nullEnum\":null}",
      "{}" },
    /* null in a oneof does not count as its member */
    { "{\"oString\":null,\"oInt32\":3,\"oMsg\":null}", "{\"oInt32\":3}" },
    /* maps: keys of every type */
    { "{\"mBool\":{\"false\":\"f\",\"true\":\"t\"},\"mIntMsg\":{\"-7\":{\"n\":1},\"0\":{}},"
      "\"mInt64Enum\":{\"-9223372036854775808\":2},\"mU32Bytes\":{\"7\":\"QQ\"}}",
      "{\"mIntMsg\":{\"-7\":{\"n\":1},\"0\":{}},\"mBool\":{\"false\":\"f\",\"true\":\"t\"},"
      "\"mInt64Enum\":{\"-9223372036854775808\":\"COLOR_GREEN\"},\"mU32Bytes\":{\"7\":\"QQ==\"}}" },
    /* timestamps: any offset, lower-case t/z, 1-9 fraction digits */
    { "{\"rTs\":[\"1972-01-01T11:00:20.021+01:00\",\"1972-01-01t10:00:20.021z\","
      "\"1971-12-31T23:30:20.02100-10:30\",\"2000-02-29T00:00:00.1Z\","
      "\"2000-01-01T00:00:00.000001Z\",\"2000-01-01T00:00:00.123456789Z\","
      "\"0001-01-01T01:00:00+01:00\",\"9999-12-31T23:59:59-00:00\"]}",
      "{\"rTs\":[\"1972-01-01T10:00:20.021Z\",\"1972-01-01T10:00:20.021Z\","
      "\"1972-01-01T10:00:20.021Z\",\"2000-02-29T00:00:00.100Z\","
      "\"2000-01-01T00:00:00.000001Z\",\"2000-01-01T00:00:00.123456789Z\","
      "\"0001-01-01T00:00:00Z\",\"9999-12-31T23:59:59Z\"]}" },
    { "{\"ts\":\"1969-12-31T23:59:59.999Z\"}", "{\"ts\":\"1969-12-31T23:59:59.999Z\"}" },
    /* durations and wrappers */
    { "{\"dur\":\"-0.000000001s\"}", "{\"dur\":\"-0.000000001s\"}" },
    { "{\"dur\":\"1.5s\"}", "{\"dur\":\"1.500s\"}" },
    { "{\"dur\":\"-315576000000.999999999s\"}", "{\"dur\":\"-315576000000.999999999s\"}" },
    { "{\"dur\":\"0.000010s\"}", "{\"dur\":\"0.000010s\"}" },
    { "{\"wInt32\":\"5\",\"wUint64\":7,\"wBool\":false,\"wBytes\":\"\",\"wFloat\":\"NaN\"}",
      "{\"wInt32\":5,\"wUint64\":\"7\",\"wFloat\":\"NaN\",\"wBool\":false,\"wBytes\":\"\"}" },
    /* Struct, Value, ListValue: any JSON */
    { "{\"st\":{\"n\":null,\"x\":[1.5,{\"y\":false}],\"s\":\"t\"},\"val\":null,\"lst\":[[],{}]}",
      "{\"st\":{\"n\":null,\"x\":[1.5,{\"y\":false}],\"s\":\"t\"},\"val\":null,\"lst\":[[],{}]}" },
    { "{\"val\":{\"a\":{\"b\":[null]}}}", "{\"val\":{\"a\":{\"b\":[null]}}}" },
    { "{\"val\":12}", "{\"val\":12}" },
    { "{\"nullEnum\":-6}", "{\"nullEnum\":-6}" },
    { "{\"nullEnum\":\"NULL_VALUE\"}", "{}" },
    { "{\"val\":true}", "{\"val\":true}" },
    /* FieldMask: lowerCamelCase paths, converted to snake_case and back */
    { "{\"mask\":\"a,fooBar.bazQux,x1Y\"}", "{\"mask\":\"a,fooBar.bazQux,x1Y\"}" },
    /* whitespace and key order are free */
    { " { \"fInt32\" : 1 ,\n\t\"fBool\":true } ", "{\"fInt32\":1,\"fBool\":true}" },
};

START_TEST(test_spellings)
{
    tp_reencode(KINDS, spellings[_i].in, 0, spellings[_i].out);
}
END_TEST

START_TEST(test_spelling_values)
{
    Lttest__Kinds *k = (Lttest__Kinds *)
        tp_decode(KINDS, "{\"mask\":\"fooBar.bazQux\",\"dur\":\"-1.5s\",\"f_float\":\"-Infinity\"}",
                  0);

    ck_assert_str_eq(k->mask->paths[0], "foo_bar.baz_qux");
    ck_assert_int_eq(k->dur->seconds, -1);
    ck_assert_int_eq(k->dur->nanos, -500000000);
    ck_assert(isinf(k->f_float) && k->f_float < 0);
    protobuf_c_message_free_unpacked(&k->base, NULL);
}
END_TEST

START_TEST(test_ignore_unknown)
{
    static const char in[] =
        "{\"fInt32\":1,\"nope\":{\"deep\":[1,{\"x\":null}]},\"fEnum\":\"COLOR_NOPE\","
        "\"rEnum\":[\"COLOR_NOPE\",\"COLOR_RED\",\"COLOR_NOPE\"],\"oEnum\":\"COLOR_NOPE\","
        "\"mInt64Enum\":{\"1\":\"COLOR_NOPE\",\"2\":\"COLOR_GREEN\"},\"oInt32\":4}";
    ProtobufCMessage *m = tp_decode(KINDS, in, LT_PBJSON_IGNORE_UNKNOWN);
    Lttest__Kinds *k = (Lttest__Kinds *)m;
    char *s = tp_encode(m, 0);

    /* unknown fields skipped; unknown enum names leave the field, element or entry out */
    ck_assert_str_eq(s, "{\"fInt32\":1,\"rEnum\":[\"COLOR_RED\"],"
                        "\"mInt64Enum\":{\"2\":\"COLOR_GREEN\"},\"oInt32\":4}");
    ck_assert_uint_eq(k->n_r_enum, 1);
    lt_free(s);
    protobuf_c_message_free_unpacked(m, NULL);
}
END_TEST

/* ---- proto2: explicit presence, defaults, required ----------------------------------------- */

START_TEST(test_proto2)
{
    ProtobufCMessage *m = tp_decode(&lttest2__p2__descriptor, "{\"id\":\"x\"}", 0);
    Lttest2__P2 *p = (Lttest2__P2 *)m;
    char *s;

    ck_assert(!p->has_count && p->count == 7 && strcmp(p->label, "dflt") == 0);
    s = tp_encode(m, 0);
    ck_assert_str_eq(s, "{\"id\":\"x\"}");
    lt_free(s);
    s = tp_encode(m, LT_PBJSON_EMIT_DEFAULTS);
    ck_assert_str_eq(s, "{\"id\":\"x\",\"count\":null,\"label\":null,\"mode\":null,\"blob\":null,"
                        "\"next\":null,\"nums\":[]}");
    lt_free(s);
    protobuf_c_message_free_unpacked(m, NULL);
    /* explicitly set to the default value: present, so emitted */
    tp_reencode(&lttest2__p2__descriptor,
                "{\"id\":\"\",\"count\":7,\"label\":\"dflt2\",\"mode\":\"MODE_B\",\"blob\":\"\","
                "\"next\":{\"id\":\"n\"}}",
                0,
                "{\"id\":\"\",\"count\":7,\"label\":\"dflt2\",\"mode\":\"MODE_B\",\"blob\":\"\","
                "\"next\":{\"id\":\"n\"}}");
    m = tp_decode(&lttest2__p2__descriptor, "{\"id\":\"a\",\"count\":0}", 0);
    p = (Lttest2__P2 *)m;
    ck_assert(p->has_count && p->count == 0);
    protobuf_c_message_free_unpacked(m, NULL);
    tp_decode_fails(&lttest2__p2__descriptor, "{\"count\":1}", 0, LT_ERR_INVALID,
                    "(root): missing required field \"id\"");
    tp_decode_fails(&lttest2__p2__descriptor, "{\"id\":\"a\",\"next\":{}}", 0, LT_ERR_INVALID,
                    "next: missing required field \"id\"");
}
END_TEST

/* ---- well-known types at the top level ---------------------------------------------------- */

START_TEST(test_top_level_wkt)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Value v = GOOGLE__PROTOBUF__VALUE__INIT;
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    char *s = NULL;
    json_t *j = NULL;

    ts.seconds = 1, ts.nanos = 500000000;
    s = tp_encode(&ts.base, 0);
    ck_assert_str_eq(s, "\"1970-01-01T00:00:01.500Z\"");
    lt_free(s);
    tp_reencode(&google__protobuf__timestamp__descriptor, "\"2026-08-19T12:00:00.123456Z\"", 0,
                "\"2026-08-19T12:00:00.123456Z\"");
    tp_reencode(&google__protobuf__value__descriptor, "[1,\"a\",null,{\"b\":true}]", 0,
                "[1,\"a\",null,{\"b\":true}]");
    tp_reencode(&google__protobuf__struct__descriptor, "{\"k\":{}}", 0, "{\"k\":{}}");
    tp_reencode(&google__protobuf__int64_value__descriptor, "-3", 0, "\"-3\"");
    tp_reencode(&google__protobuf__empty__descriptor, "{}", 0, "{}");
    /* a Value with no kind, or NaN, has no JSON form */
    ck_assert_int_eq(lt_pbjson_encode(&v.base, 0, &s, NULL), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(), "(root): google.protobuf.Value has no kind set");
    v.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
    v.number_value = NAN;
    ck_assert_int_eq(lt_pbjson_to_json(&v.base, 0, &j), LT_ERR_INVALID);
    ck_assert_ptr_null(j);
    /* Any needs a type registry: refused both ways */
    ck_assert_int_eq(lt_pbjson_encode(&any.base, 0, &s, NULL), LT_ERR_UNSUPPORTED);
    ck_assert_ptr_null(s);
    tp_decode_fails(KINDS, "{\"any\":{\"@type\":\"x\"}}", 0, LT_ERR_UNSUPPORTED,
                    "any: google.protobuf.Any is not supported");
}
END_TEST

START_TEST(test_wkt_encode_range)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
    Google__Protobuf__FieldMask fm = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
    Lttest__Kinds k = LTTEST__KINDS__INIT;
    char *paths[] = { "fooBar" };
    char *s = NULL;

    ts.seconds = 253402300800LL;
    ck_assert_int_eq(lt_pbjson_encode(&ts.base, 0, &s, NULL), LT_ERR_INVALID);
    ck_assert_str_eq(
        lt_error_message(),
        "(root): timestamp seconds=253402300800 nanos=0 outside 0001-01-01..9999-12-31");
    ts.seconds = 0, ts.nanos = -1;
    k.ts = &ts;
    ck_assert_int_eq(lt_pbjson_encode(&k.base, 0, &s, NULL), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(),
                     "ts: timestamp seconds=0 nanos=-1 outside 0001-01-01..9999-12-31");
    d.seconds = 1, d.nanos = -1;
    ck_assert_int_eq(lt_pbjson_encode(&d.base, 0, &s, NULL), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(), "(root): duration seconds=1 nanos=-1 out of range");
    fm.n_paths = 1, fm.paths = paths;
    ck_assert_int_eq(lt_pbjson_encode(&fm.base, 0, &s, NULL), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(), "(root): field mask path has an upper-case letter");
    ck_assert_ptr_null(s);
}
END_TEST

/* ---- encoder errors on bad C data --------------------------------------------------------- */

START_TEST(test_encode_invalid_utf8)
{
    Lttest__Kinds k = LTTEST__KINDS__INIT;
    Lttest__Kinds__MStrEntry e = LTTEST__KINDS__MSTR_ENTRY__INIT, *ep = &e;
    char *rs[] = { "ok", "bad\xff" };
    char *s = NULL;

    k.n_r_string = 2, k.r_string = rs;
    ck_assert_int_eq(lt_pbjson_encode(&k.base, 0, &s, NULL), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(), "rString[1]: string is not valid UTF-8");
    k.n_r_string = 0;
    e.key = "\xc0\x80";
    k.n_m_str = 1, k.m_str = &ep;
    ck_assert_int_eq(lt_pbjson_encode(&k.base, 0, &s, NULL), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(), "mStr: map key is not valid UTF-8");
    e.key = "k", e.value = "\xed\xa0\x80"; /* an encoded surrogate */
    ck_assert_int_eq(lt_pbjson_encode(&k.base, 0, &s, NULL), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(), "mStr[\"k\"]: string is not valid UTF-8");
    ck_assert_ptr_null(s);
}
END_TEST

/* ---- limits ------------------------------------------------------------------------------- */

/* {"fMsg":{"child":{"child":...}}} with depth JSON objects in all. */
static char *nested_json(unsigned depth)
{
    lt_buf b;

    lt_buf_init(&b, 1u << 20);
    ck_assert_int_eq(lt_buf_appends(&b, "{\"fMsg\":"), LT_OK);
    for (unsigned i = 2; i < depth; i++)
        ck_assert_int_eq(lt_buf_appends(&b, "{\"child\":"), LT_OK);
    ck_assert_int_eq(lt_buf_appends(&b, "{\"n\":1}"), LT_OK);
    for (unsigned i = 1; i < depth; i++)
        ck_assert_int_eq(lt_buf_appendc(&b, '}'), LT_OK);
    return lt_buf_take(&b);
}

START_TEST(test_depth_limit)
{
    char *ok = nested_json(LT_MAX_JSON_DEPTH), *deep = nested_json(LT_MAX_JSON_DEPTH + 1);
    ProtobufCMessage *m = tp_decode(KINDS, ok, 0), *m2 = NULL;
    char *s = tp_encode(m, 0);
    json_t *j = tp_json(deep);

    ck_assert_str_eq(s, ok); /* the deepest accepted message encodes */
    tp_decode_fails(KINDS, deep, 0, LT_ERR_TOO_BIG,
                    "JSON nested deeper than 64 levels at byte 575");
    ck_assert_int_eq(lt_pbjson_from_json(KINDS, j, 0, &m2), LT_ERR_TOO_BIG);
    ck_assert_ptr_null(m2);
    ck_assert_msg(strstr(lt_error_message(), ".child: nesting deeper than 64 levels") != NULL, "%s",
                  lt_error_message());
    json_decref(j);
    /* one more level on the encoder side is refused too */
    {
        Lttest__Kinds *k = (Lttest__Kinds *)m;
        Lttest__Kinds outer = LTTEST__KINDS__INIT;
        Lttest__Inner top = LTTEST__INNER__INIT;
        top.child = k->f_msg;
        outer.f_msg = &top;
        lt_free(s);
        s = NULL;
        ck_assert_int_eq(lt_pbjson_encode(&outer.base, 0, &s, NULL), LT_ERR_TOO_BIG);
        ck_assert_ptr_null(s);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    lt_free(ok);
    lt_free(deep);
}
END_TEST

START_TEST(test_size_limit)
{
    size_t n = LT_MAX_MESSAGE + 1;
    char *big = lt_malloc(n);
    Lttest__Kinds k = LTTEST__KINDS__INIT;
    char *s = NULL;
    ProtobufCMessage *m = NULL;

    ck_assert_ptr_nonnull(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    ck_assert_int_eq(lt_pbjson_decode(KINDS, big, n, 0, &m), LT_ERR_TOO_BIG);
    ck_assert_str_eq(lt_error_message(), "JSON of 1048577 bytes exceeds the limit of 1048576");
    ck_assert_int_eq(lt_pbjson_decode(KINDS, big, n - 1, 0, &m), LT_ERR_PARSE);
    /* output is bounded the same way */
    memset(big, 'a', n - 1);
    big[n - 1] = '\0';
    k.f_string = big;
    ck_assert_int_eq(lt_pbjson_encode(&k.base, 0, &s, NULL), LT_ERR_TOO_BIG);
    ck_assert_ptr_null(s);
    lt_free(big);
}
END_TEST

START_TEST(test_api_contract)
{
    ProtobufCMessage *m = (ProtobufCMessage *)&m;
    json_t *j = (json_t *)&j;
    char *s = (char *)&s;
    size_t len = 99;
    Lttest__Kinds k = LTTEST__KINDS__INIT;

    ck_assert_int_eq(lt_pbjson_decode(NULL, "{}", 2, 0, &m), LT_ERR_INVALID);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(lt_pbjson_decode(KINDS, NULL, 0, 0, &m), LT_ERR_INVALID);
    ck_assert_int_eq(lt_pbjson_decode(KINDS, "{}", 2, 0, NULL), LT_ERR_INVALID);
    ck_assert_int_eq(lt_pbjson_from_json(KINDS, NULL, 0, &m), LT_ERR_INVALID);
    ck_assert_int_eq(lt_pbjson_to_json(NULL, 0, &j), LT_ERR_INVALID);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(lt_pbjson_encode(NULL, 0, &s, &len), LT_ERR_INVALID);
    ck_assert_ptr_null(s);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(lt_pbjson_encode(&k.base, 0, NULL, NULL), LT_ERR_INVALID);
    /* not NUL-terminated input: only len bytes are read */
    ck_assert_int_eq(lt_pbjson_decode(KINDS, "{\"fInt32\":5}garbage", 12, 0, &m), LT_OK);
    ck_assert_int_eq(((Lttest__Kinds *)m)->f_int32, 5);
    protobuf_c_message_free_unpacked(m, NULL);
    /* length out-parameter is optional */
    ck_assert_int_eq(lt_pbjson_encode(&k.base, 0, &s, NULL), LT_OK);
    ck_assert_str_eq(s, "{}");
    lt_free(s);
}
END_TEST

static void *failing_malloc(size_t n)
{
    (void)n;
    return NULL;
}

static void *failing_calloc(size_t n, size_t m)
{
    (void)n, (void)m;
    return NULL;
}

static void *failing_realloc(void *p, size_t n)
{
    (void)p, (void)n;
    return NULL;
}

/* lt_alloc failures (output buffer, base64 scratch) surface as LT_ERR_NOMEM. */
START_TEST(test_out_of_memory)
{
    static const lt_allocator failing = { failing_malloc, failing_calloc, failing_realloc, free };
    Lttest__Kinds k = LTTEST__KINDS__INIT;
    char *s = (char *)&s;
    json_t *j = NULL;
    lt_status st;

    k.f_int32 = 1;
    lt_alloc_set(&failing);
    st = lt_pbjson_encode(&k.base, 0, &s, NULL);
    lt_alloc_set(NULL);
    ck_assert_int_eq(st, LT_ERR_NOMEM);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(lt_error_message(), "out of memory writing JSON");
    k.f_bytes = (ProtobufCBinaryData){ 1, (uint8_t *)"x" };
    lt_alloc_set(&failing);
    st = lt_pbjson_to_json(&k.base, 0, &j);
    lt_alloc_set(NULL);
    ck_assert_int_eq(st, LT_ERR_NOMEM);
    ck_assert_ptr_null(j);
}
END_TEST

Suite *pbjson_core_suite(void)
{
    Suite *s = suite_create("pbjson");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_full_canonical_output);
    tcase_add_test(tc, test_full_round_trip);
    tcase_add_test(tc, test_each_kind_round_trip);
    tcase_add_test(tc, test_to_json_and_from_json);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_pretty);
    tcase_add_test(tc, test_number_formatting);
    tcase_add_loop_test(tc, test_spellings, 0, (int)(sizeof(spellings) / sizeof(spellings[0])));
    tcase_add_test(tc, test_spelling_values);
    tcase_add_test(tc, test_ignore_unknown);
    tcase_add_test(tc, test_proto2);
    tcase_add_test(tc, test_top_level_wkt);
    tcase_add_test(tc, test_wkt_encode_range);
    tcase_add_test(tc, test_encode_invalid_utf8);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_size_limit);
    tcase_add_test(tc, test_api_contract);
    tcase_add_test(tc, test_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return lt_test_run_suites(
        (Suite *const[]){ pbjson_core_suite(), pbjson_bad_suite(), pbjson_interop_suite(), NULL });
}
