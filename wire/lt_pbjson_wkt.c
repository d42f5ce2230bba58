/*
 * lt_pbjson_wkt.c - the well-known types' special JSON forms, found by
 * descriptor full name and read through their descriptors (no generated
 * code needed): Timestamp as RFC 3339 UTC, Duration as "<seconds>.<frac>s",
 * the nine wrappers as their bare value, Struct/Value/ListValue as arbitrary
 * JSON, FieldMask as comma-separated lowerCamelCase paths. Any is refused.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lt_limits.h"
#include "pbjson_int.h"
#include "lt_time.h"

#define TS_MIN_SECONDS LT_TIME_MIN_SEC /* 0001-01-01T00:00:00Z */
#define TS_MAX_SECONDS LT_TIME_MAX_SEC /* 9999-12-31T23:59:59Z */
#define DUR_MAX_SECONDS 315576000000LL /* +-10000 years */

static const struct {
    const char *name;
    lt__pbjson_wkt wkt;
} wkt_names[] = {
    { "Timestamp", PBJ_WKT_TIMESTAMP }, { "Duration", PBJ_WKT_DURATION },
    { "DoubleValue", PBJ_WKT_WRAPPER }, { "FloatValue", PBJ_WKT_WRAPPER },
    { "Int64Value", PBJ_WKT_WRAPPER },  { "UInt64Value", PBJ_WKT_WRAPPER },
    { "Int32Value", PBJ_WKT_WRAPPER },  { "UInt32Value", PBJ_WKT_WRAPPER },
    { "BoolValue", PBJ_WKT_WRAPPER },   { "StringValue", PBJ_WKT_WRAPPER },
    { "BytesValue", PBJ_WKT_WRAPPER },  { "Struct", PBJ_WKT_STRUCT },
    { "Value", PBJ_WKT_VALUE },         { "ListValue", PBJ_WKT_LIST },
    { "FieldMask", PBJ_WKT_FIELDMASK }, { "Any", PBJ_WKT_ANY },
};

lt__pbjson_wkt lt__pbjson_wkt_of(const ProtobufCMessageDescriptor *d)
{
    static const char prefix[] = "google.protobuf.";

    if (d->name == NULL || strncmp(d->name, prefix, sizeof(prefix) - 1) != 0)
        return PBJ_WKT_NONE;
    for (size_t i = 0; i < sizeof(wkt_names) / sizeof(wkt_names[0]); i++)
        if (strcmp(d->name + sizeof(prefix) - 1, wkt_names[i].name) == 0)
            return wkt_names[i].wkt;
    return PBJ_WKT_NONE;
}

static lt_status bad_descriptor(const lt__pbjson_ctx *c, const ProtobufCMessageDescriptor *d)
{
    return PBJ_FAIL(c, LT_ERR_INVALID, "descriptor of %s does not match the well-known type",
                    d->name);
}

static lt_status put(const lt__pbjson_ctx *c, json_t *v, json_t **out)
{
    *out = v;
    return v != NULL ? LT_OK : PBJ_FAIL(c, LT_ERR_NOMEM, "out of memory");
}

/* Seconds and nanos members of a Timestamp or Duration. */
static lt_status secs_nanos(const lt__pbjson_ctx *c, const ProtobufCMessage *m, int64_t **secs,
                            int32_t **nanos)
{
    const ProtobufCFieldDescriptor *fs =
        lt__pbjson_field(m->descriptor, "seconds", PROTOBUF_C_TYPE_INT64);
    const ProtobufCFieldDescriptor *fn =
        lt__pbjson_field(m->descriptor, "nanos", PROTOBUF_C_TYPE_INT32);

    if (fs == NULL || fn == NULL)
        return bad_descriptor(c, m->descriptor);
    *secs = PBJ_MEMBER(m, fs->offset);
    *nanos = PBJ_MEMBER(m, fn->offset);
    return LT_OK;
}

/* ".fff", ".ffffff" or ".fffffffff" for nanos in [0, 1e9), or "" when zero. */
static void format_fraction(int32_t nanos, char *buf, size_t cap)
{
    if (nanos == 0)
        buf[0] = '\0';
    else if (nanos % 1000000 == 0)
        snprintf(buf, cap, ".%03" PRId32, nanos / 1000000);
    else if (nanos % 1000 == 0)
        snprintf(buf, cap, ".%06" PRId32, nanos / 1000);
    else
        snprintf(buf, cap, ".%09" PRId32, nanos);
}

/* ---- Timestamp ---------------------------------------------------------------- */

static lt_status timestamp_to_json(const lt__pbjson_ctx *c, const ProtobufCMessage *m, json_t **out)
{
    int64_t *secs = NULL;
    int32_t *nanos = NULL;
    char buf[LT_TIME_TEXT_MAX];
    lt_status st = secs_nanos(c, m, &secs, &nanos);

    if (st != LT_OK)
        return st;
    if (lt_time_format(*secs, *nanos, LT_TIME_FRAC_AUTO, buf) == 0)
        return PBJ_FAIL(c, LT_ERR_INVALID,
                        "timestamp seconds=%" PRId64 " nanos=%" PRId32
                        " outside 0001-01-01..9999-12-31",
                        *secs, *nanos);
    return put(c, json_string(buf), out);
}

static lt_status timestamp_from_json(const lt__pbjson_ctx *c, ProtobufCMessage *m, const json_t *j)
{
    const char *text;
    int64_t *secs = NULL, t;
    int32_t *nanos = NULL, ns;
    lt_status st;

    if (!json_is_string(j))
        return lt__wire_type_error(c, "RFC 3339 timestamp string", j);
    st = secs_nanos(c, m, &secs, &nanos);
    if (st != LT_OK)
        return st;
    text = json_string_value(j);
    if (lt_time_parse(text, 0, &t, &ns) != LT_OK)
        return PBJ_FAIL(
            c, LT_ERR_INVALID,
            "invalid timestamp \"%.40s\" (want RFC 3339, e.g. 1972-01-01T10:00:20.021Z)", text);
    if (t < TS_MIN_SECONDS || t > TS_MAX_SECONDS)
        return PBJ_FAIL(c, LT_ERR_INVALID, "timestamp \"%.40s\" outside 0001-01-01..9999-12-31 UTC",
                        text);
    *secs = t;
    *nanos = ns;
    return LT_OK;
}

/* ---- Duration ----------------------------------------------------------------- */

static lt_status duration_to_json(const lt__pbjson_ctx *c, const ProtobufCMessage *m, json_t **out)
{
    int64_t *secs = NULL;
    int32_t *nanos = NULL;
    char frac[16], buf[64];
    lt_status st = secs_nanos(c, m, &secs, &nanos);

    if (st != LT_OK)
        return st;
    if (*secs < -DUR_MAX_SECONDS || *secs > DUR_MAX_SECONDS || *nanos < -999999999 ||
        *nanos > 999999999 || (*secs > 0 && *nanos < 0) || (*secs < 0 && *nanos > 0))
        return PBJ_FAIL(c, LT_ERR_INVALID,
                        "duration seconds=%" PRId64 " nanos=%" PRId32 " out of range", *secs,
                        *nanos);
    format_fraction(*nanos < 0 ? -*nanos : *nanos, frac, sizeof(frac));
    snprintf(buf, sizeof(buf), "%s%" PRId64 "%ss", (*secs < 0 || *nanos < 0) ? "-" : "",
             *secs < 0 ? -*secs : *secs, frac);
    return put(c, json_string(buf), out);
}

static lt_status duration_from_json(const lt__pbjson_ctx *c, ProtobufCMessage *m, const json_t *j)
{
    const char *s, *text;
    int64_t *secs = NULL, v = 0;
    int32_t *nanos = NULL, ns;
    bool neg;
    int n = 0;
    lt_status st;

    if (!json_is_string(j))
        return lt__wire_type_error(c, "duration string like \"1.5s\"", j);
    st = secs_nanos(c, m, &secs, &nanos);
    if (st != LT_OK)
        return st;
    s = text = json_string_value(j);
    neg = *s == '-';
    s += neg;
    for (; *s >= '0' && *s <= '9' && n < 13; s++, n++)
        v = v * 10 + (*s - '0');
    if (n == 0 || (*s >= '0' && *s <= '9') || !lt_time_take_fraction(&s, &ns) ||
        strcmp(s, "s") != 0)
        return PBJ_FAIL(c, LT_ERR_INVALID, "invalid duration \"%.40s\" (want e.g. \"1.5s\")", text);
    if (v > DUR_MAX_SECONDS)
        return PBJ_FAIL(c, LT_ERR_INVALID, "duration \"%.40s\" out of range", text);
    *secs = neg ? -v : v;
    *nanos = neg ? -ns : ns;
    return LT_OK;
}

/* ---- FieldMask ---------------------------------------------------------------- */

static const ProtobufCFieldDescriptor *mask_paths(const ProtobufCMessageDescriptor *d)
{
    const ProtobufCFieldDescriptor *f = lt__pbjson_field(d, "paths", PROTOBUF_C_TYPE_STRING);

    return (f != NULL && f->label == PROTOBUF_C_LABEL_REPEATED) ? f : NULL;
}

/* snake_case path -> lowerCamelCase; false when it would not convert back. */
static lt_status append_camel_path(const lt__pbjson_ctx *c, const char *p, lt_buf *b)
{
    lt_status st = LT_OK;

    for (; *p != '\0' && st == LT_OK; p++) {
        if (*p >= 'A' && *p <= 'Z')
            return PBJ_FAIL(c, LT_ERR_INVALID, "field mask path has an upper-case letter");
        if (*p == '_') {
            if (p[1] < 'a' || p[1] > 'z')
                return PBJ_FAIL(c, LT_ERR_INVALID, "field mask path cannot be camel-cased");
            st = lt_buf_appendc(b, (char)(*++p - 'a' + 'A'));
        } else {
            st = lt_buf_appendc(b, *p);
        }
    }
    return st;
}

static lt_status fieldmask_to_json(const lt__pbjson_ctx *c, const ProtobufCMessage *m, json_t **out)
{
    const ProtobufCFieldDescriptor *f = mask_paths(m->descriptor);
    size_t n;
    char *const *paths;
    lt_buf b;
    lt_status st = LT_OK;

    if (f == NULL)
        return bad_descriptor(c, m->descriptor);
    n = *(const size_t *)PBJ_CMEMBER(m, f->quantifier_offset);
    paths = *(char *const *const *)PBJ_CMEMBER(m, f->offset);
    lt_buf_init(&b, LT_MAX_MESSAGE);
    for (size_t i = 0; i < n && st == LT_OK; i++) {
        if (i > 0)
            st = lt_buf_appendc(&b, ',');
        if (st == LT_OK)
            st = append_camel_path(c, paths[i] ? paths[i] : "", &b);
    }
    if (st == LT_OK)
        st = put(c, json_stringn(b.ptr, b.len), out);
    else if (st == LT_ERR_TOO_BIG)
        st = PBJ_FAIL(c, st, "field mask too long");
    lt_buf_cleanup(&b);
    return st;
}

/* lowerCamelCase path [s, e) -> malloc'd snake_case, NULL on '_' (not round-trippable). */
static char *snake_path(const char *s, const char *e)
{
    char *out = malloc((size_t)(e - s) * 2 + 1), *o = out;

    if (out == NULL)
        return NULL;
    for (; s < e; s++) {
        if (*s == '_') {
            free(out);
            return NULL;
        }
        if (*s >= 'A' && *s <= 'Z') {
            *o++ = '_';
            *o++ = (char)(*s - 'A' + 'a');
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static lt_status fieldmask_from_json(const lt__pbjson_ctx *c, ProtobufCMessage *m, const json_t *j)
{
    const ProtobufCFieldDescriptor *f = mask_paths(m->descriptor);
    const char *s, *e;
    size_t n = 1, *count;
    char **arr;

    if (f == NULL)
        return bad_descriptor(c, m->descriptor);
    if (!json_is_string(j))
        return lt__wire_type_error(c, "field mask string", j);
    s = json_string_value(j);
    if (*s == '\0')
        return LT_OK;
    for (e = s; *e != '\0'; e++)
        n += *e == ',';
    arr = calloc(n, sizeof(*arr));
    if (arr == NULL)
        return PBJ_FAIL(c, LT_ERR_NOMEM, "out of memory");
    *(char ***)PBJ_MEMBER(m, f->offset) = arr;
    count = PBJ_MEMBER(m, f->quantifier_offset);
    for (*count = 0; *count < n; s = e + 1) {
        e = strchr(s, ',');
        if (e == NULL)
            e = s + strlen(s);
        arr[*count] = snake_path(s, e);
        if (arr[*count] == NULL)
            return PBJ_FAIL(c, LT_ERR_INVALID, "invalid field mask path \"%.*s\"",
                            (int)(e - s > 40 ? 40 : e - s), s);
        (*count)++;
    }
    return LT_OK;
}

/* ---- Value, Struct, ListValue, wrappers -------------------------------------------- */

/* The oneof member of google.protobuf.Value that a JSON value of this type sets. */
static const char *value_member_for(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_NULL:
        return "null_value";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool_value";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number_value";
    case JSON_STRING:
        return "string_value";
    case JSON_OBJECT:
        return "struct_value";
    default:
        return "list_value";
    }
}

static lt_status value_to_json(lt__pbjson_ctx *c, const ProtobufCMessage *m, json_t **out)
{
    const ProtobufCFieldDescriptor *nf =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "number_value");
    const ProtobufCFieldDescriptor *f;
    uint32_t kind;

    if (nf == NULL || !(nf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return bad_descriptor(c, m->descriptor);
    kind = *(const uint32_t *)PBJ_CMEMBER(m, nf->quantifier_offset);
    f = protobuf_c_message_descriptor_get_field(m->descriptor, kind);
    if (f == NULL)
        return PBJ_FAIL(c, LT_ERR_INVALID, "google.protobuf.Value has no kind set");
    if (f == nf && !isfinite(*(const double *)PBJ_CMEMBER(m, nf->offset)))
        return PBJ_FAIL(c, LT_ERR_INVALID, "google.protobuf.Value cannot hold NaN or Infinity");
    return lt__pbjson_field_to_json(c, m, f, out);
}

static lt_status value_from_json(lt__pbjson_ctx *c, ProtobufCMessage *m, const json_t *j)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, value_member_for(j));
    bool set;

    if (f == NULL || !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return bad_descriptor(c, m->descriptor);
    return lt__pbjson_field_from_json(c, m, f, j, &set);
}

/* The single field a wrapper, Struct or ListValue is a JSON view of. */
static const ProtobufCFieldDescriptor *inner_field(lt__pbjson_wkt w,
                                                   const ProtobufCMessageDescriptor *d)
{
    const char *name = w == PBJ_WKT_STRUCT ? "fields" : w == PBJ_WKT_LIST ? "values" : "value";
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);

    if (f == NULL || (w == PBJ_WKT_WRAPPER) == (f->label == PROTOBUF_C_LABEL_REPEATED))
        return NULL;
    if (w == PBJ_WKT_STRUCT && !lt__pbjson_is_map(d, f))
        return NULL;
    return f;
}

lt_status lt__pbjson_wkt_to_json(lt__pbjson_ctx *c, lt__pbjson_wkt w, const ProtobufCMessage *m,
                                 json_t **out)
{
    const ProtobufCFieldDescriptor *f;

    switch (w) {
    case PBJ_WKT_TIMESTAMP:
        return timestamp_to_json(c, m, out);
    case PBJ_WKT_DURATION:
        return duration_to_json(c, m, out);
    case PBJ_WKT_FIELDMASK:
        return fieldmask_to_json(c, m, out);
    case PBJ_WKT_VALUE:
        return value_to_json(c, m, out);
    case PBJ_WKT_ANY:
        return PBJ_FAIL(c, LT_ERR_UNSUPPORTED, "google.protobuf.Any is not supported");
    default:
        break;
    }
    f = inner_field(w, m->descriptor);
    if (f == NULL)
        return bad_descriptor(c, m->descriptor);
    return lt__pbjson_field_to_json(c, m, f, out);
}

lt_status lt__pbjson_wkt_from_json(lt__pbjson_ctx *c, lt__pbjson_wkt w, ProtobufCMessage *m,
                                   const json_t *j)
{
    const ProtobufCFieldDescriptor *f;
    bool set;

    switch (w) {
    case PBJ_WKT_TIMESTAMP:
        return timestamp_from_json(c, m, j);
    case PBJ_WKT_DURATION:
        return duration_from_json(c, m, j);
    case PBJ_WKT_FIELDMASK:
        return fieldmask_from_json(c, m, j);
    case PBJ_WKT_VALUE:
        return value_from_json(c, m, j);
    case PBJ_WKT_ANY:
        return PBJ_FAIL(c, LT_ERR_UNSUPPORTED, "google.protobuf.Any is not supported");
    default:
        break;
    }
    f = inner_field(w, m->descriptor);
    if (f == NULL)
        return bad_descriptor(c, m->descriptor);
    return lt__pbjson_field_from_json(c, m, f, j, &set);
}
