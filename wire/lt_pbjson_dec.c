/*
 * lt_pbjson_dec.c - jansson value -> protobuf-c message under the proto3 JSON
 * mapping: field lookup by JSON or proto name, duplicate/oneof/unknown-field
 * checks, null as "default", and the accepted input spellings of every
 * scalar, enum, bytes, repeated field and map. The message under
 * construction is valid for protobuf_c_message_free_unpacked() at every
 * step, so any failure just frees the whole tree.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "lt_alloc.h"
#include "pbjson_int.h"

static lt_status nomem(const lt__pbjson_ctx *c)
{
    return PBJ_FAIL(c, LT_ERR_NOMEM, "out of memory");
}

/* ---- integers ---------------------------------------------------------------- */

#define EXACT_DOUBLE_LIMIT 9007199254740992.0 /* 2^53: integers below it are exact */

/* Sign and magnitude of an integral JSON number or numeric string; -1/-2/-3 as
 * lt__pbjson_parse_integer_literal, -4 for a JSON real too large to be exact. */
static int integer_of(const json_t *j, bool *neg, uint64_t *mag)
{
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        *neg = v < 0;
        *mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        return 0;
    }
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (!isfinite(d))
            return -1;
        if (d != floor(d))
            return -2;
        if (fabs(d) >= EXACT_DOUBLE_LIMIT)
            return -4; /* the literal may have had more digits than the double */
        *neg = d < 0;
        *mag = (uint64_t)fabs(d);
        return 0;
    }
    if (json_is_string(j))
        return lt__pbjson_parse_integer_literal(json_string_value(j), neg, mag);
    return -1;
}

/* Decode an integer in [-(neg_max), pos_max]; bits/is_signed only name the type. */
static lt_status dec_integer(const lt__pbjson_ctx *c, const json_t *j, const char *tname,
                             uint64_t neg_max, uint64_t pos_max, bool *neg, uint64_t *mag)
{
    char got[64];
    int r = integer_of(j, neg, mag);

    if (r == -1 || r == -2)
        return lt__wire_type_error(c, "integer", j);
    if (r == -4) {
        lt__pbjson_describe(j, got, sizeof(got));
        return PBJ_FAIL(c, LT_ERR_INVALID,
                        "%s cannot be read exactly as a JSON number; send %s as a string", got,
                        tname);
    }
    if (r == -3 || (*neg && *mag > neg_max) || (!*neg && *mag > pos_max)) {
        lt__pbjson_describe(j, got, sizeof(got));
        return PBJ_FAIL(c, LT_ERR_INVALID, "%s out of range for %s", got, tname);
    }
    return LT_OK;
}

static int64_t to_signed(bool neg, uint64_t mag)
{
    if (!neg)
        return (int64_t)mag;
    return mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
}

static lt_status dec_int_type(const lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *f,
                              const json_t *j, void *slot)
{
    bool neg;
    uint64_t mag;
    lt_status st;

    switch (f->type) {
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        st = dec_integer(c, j, "uint32", 0, UINT32_MAX, &neg, &mag);
        if (st == LT_OK)
            *(uint32_t *)slot = (uint32_t)mag;
        return st;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        st = dec_integer(c, j, "uint64", 0, UINT64_MAX, &neg, &mag);
        if (st == LT_OK)
            *(uint64_t *)slot = mag;
        return st;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        st = dec_integer(c, j, "int64", (uint64_t)INT64_MAX + 1, INT64_MAX, &neg, &mag);
        if (st == LT_OK)
            *(int64_t *)slot = to_signed(neg, mag);
        return st;
    default: /* int32, sint32, sfixed32 */
        st = dec_integer(c, j, "int32", (uint64_t)INT32_MAX + 1, INT32_MAX, &neg, &mag);
        if (st == LT_OK)
            *(int32_t *)slot = (int32_t)to_signed(neg, mag);
        return st;
    }
}

/* ---- floating point, bool, string, bytes, enum ------------------------------- */

static lt_status dec_floating(const lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *f,
                              const json_t *j, void *slot)
{
    bool is_float = f->type == PROTOBUF_C_TYPE_FLOAT;
    double d;

    if (json_is_number(j)) {
        d = json_number_value(j);
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (strcmp(s, "NaN") == 0)
            d = NAN;
        else if (strcmp(s, "Infinity") == 0)
            d = INFINITY;
        else if (strcmp(s, "-Infinity") == 0)
            d = -INFINITY;
        else if (lt__pbjson_number_literal_ok(s))
            d = strtod(s, NULL);
        else
            return lt__wire_type_error(c, "number", j);
        if (isinf(d) && strstr(s, "Infinity") == NULL)
            return PBJ_FAIL(c, LT_ERR_INVALID, "string \"%.40s\" out of range for %s", s,
                            is_float ? "float" : "double");
    } else {
        return lt__wire_type_error(c, "number", j);
    }
    if (is_float) {
        if (isfinite(d) && !lt__pbjson_double_fits_float(d)) {
            char got[64];
            lt__pbjson_describe(j, got, sizeof(got));
            return PBJ_FAIL(c, LT_ERR_INVALID, "%s out of range for float", got);
        }
        *(float *)slot = (float)d;
    } else {
        *(double *)slot = d;
    }
    return LT_OK;
}

static lt_status dec_string(const lt__pbjson_ctx *c, const json_t *j, char **slot)
{
    const char *s;
    size_t len;
    char *copy;

    if (!json_is_string(j))
        return lt__wire_type_error(c, "string", j);
    s = json_string_value(j);
    len = json_string_length(j);
    if (memchr(s, '\0', len) != NULL)
        return PBJ_FAIL(c, LT_ERR_INVALID, "string contains a NUL character");
    if (!lt__pbjson_utf8_valid(s, len))
        return PBJ_FAIL(c, LT_ERR_INVALID, "string is not valid UTF-8");
    copy = malloc(len + 1);
    if (copy == NULL)
        return nomem(c);
    memcpy(copy, s, len + 1);
    *slot = copy;
    return LT_OK;
}

static lt_status dec_bytes(const lt__pbjson_ctx *c, const json_t *j, ProtobufCBinaryData *slot)
{
    uint8_t *data;
    size_t len, bad;
    int r;

    if (!json_is_string(j))
        return lt__wire_type_error(c, "base64 string", j);
    r = lt__pbjson_base64_decode(json_string_value(j), json_string_length(j), &data, &len, &bad);
    if (r == -2)
        return nomem(c);
    if (r != 0)
        return PBJ_FAIL(c, LT_ERR_INVALID, "invalid base64 at offset %zu", bad);
    slot->data = data;
    slot->len = len;
    return LT_OK;
}

/* *set stays false when an unknown name is skipped under IGNORE_UNKNOWN. */
static lt_status dec_enum(const lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *f,
                          const json_t *j, int *slot, bool *set)
{
    const ProtobufCEnumDescriptor *e = f->descriptor;
    bool neg;
    uint64_t mag;

    if (json_is_null(j) && lt__pbjson_is_null_value_enum(f)) {
        *slot = 0;
    } else if (json_is_string(j)) {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value_by_name(e, json_string_value(j));
        if (ev == NULL) {
            if (c->flags & LT_PBJSON_IGNORE_UNKNOWN)
                return LT_OK;
            return PBJ_FAIL(c, LT_ERR_INVALID, "unknown value \"%.40s\" for enum %s",
                            json_string_value(j), e->name);
        }
        *slot = ev->value;
    } else if (json_is_number(j)) {
        lt_status st = dec_integer(c, j, "enum", (uint64_t)INT32_MAX + 1, INT32_MAX, &neg, &mag);
        if (st != LT_OK)
            return st;
        *slot = (int)to_signed(neg, mag);
    } else {
        return lt__wire_type_error(c, "enum name or number", j);
    }
    *set = true;
    return LT_OK;
}

/* Decode one element (a singular field, an array element, a map value) into slot. */
static lt_status dec_value(lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *f, const json_t *j,
                           void *slot, bool *set)
{
    *set = true;
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return dec_floating(c, f, j, slot);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(j))
            return lt__wire_type_error(c, "boolean", j);
        *(protobuf_c_boolean *)slot = json_is_true(j);
        return LT_OK;
    case PROTOBUF_C_TYPE_STRING:
        return dec_string(c, j, slot);
    case PROTOBUF_C_TYPE_BYTES:
        return dec_bytes(c, j, slot);
    case PROTOBUF_C_TYPE_ENUM:
        *set = false;
        return dec_enum(c, f, j, slot, set);
    case PROTOBUF_C_TYPE_MESSAGE:
        return lt__pbjson_msg_from_json(c, f->descriptor, j, slot);
    default:
        return dec_int_type(c, f, j, slot);
    }
}

/* ---- singular, repeated, map ---------------------------------------------------- */

static lt_status dec_singular(lt__pbjson_ctx *c, ProtobufCMessage *m,
                              const ProtobufCFieldDescriptor *f, const json_t *j, bool *set)
{
    void *slot = PBJ_MEMBER(m, f->offset);
    uint32_t *oneof_case = PBJ_MEMBER(m, f->quantifier_offset);
    lt_status st;

    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*oneof_case != 0 && *oneof_case != f->id) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(m->descriptor, *oneof_case);
            return PBJ_FAIL(c, LT_ERR_INVALID, "oneof already has member \"%s\" set",
                            other ? other->name : "?");
        }
        *oneof_case = f->id; /* before decoding: anything stored is then freed on error */
    }
    st = dec_value(c, f, j, slot, set);
    if (st == LT_OK && !*set && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        *oneof_case = 0;
    if (st == LT_OK && *set && lt__pbjson_has_presence_flag(f))
        *(protobuf_c_boolean *)PBJ_MEMBER(m, f->quantifier_offset) = 1;
    return st;
}

static lt_status null_element(const lt__pbjson_ctx *c)
{
    return PBJ_FAIL(c, LT_ERR_INVALID, "null is not allowed here");
}

static lt_status fill_array(lt__pbjson_ctx *c, ProtobufCMessage *m,
                            const ProtobufCFieldDescriptor *f, const json_t *j)
{
    size_t n = json_array_size(j), esz = lt__pbjson_elem_size(f->type);
    size_t *count = PBJ_MEMBER(m, f->quantifier_offset);
    char *arr = calloc(n, esz);
    lt_status st = LT_OK;

    if (arr == NULL)
        return nomem(c);
    *(void **)PBJ_MEMBER(m, f->offset) = arr;
    for (size_t i = 0; i < n && st == LT_OK; i++) {
        const json_t *el = json_array_get(j, i);
        size_t mark = lt__pbjson_path_push_index(c, i);
        bool set = false;
        if (json_is_null(el) && !lt__pbjson_null_is_value(f)) {
            st = null_element(c);
        } else {
            (*count)++; /* counted first: a partly built element is freed on error */
            st = dec_value(c, f, el, arr + (*count - 1) * esz, &set);
            if (st == LT_OK && !set)
                (*count)--;
        }
        lt__pbjson_path_pop(c, mark);
    }
    return st;
}

static lt_status dec_array(lt__pbjson_ctx *c, ProtobufCMessage *m,
                           const ProtobufCFieldDescriptor *f, const json_t *j)
{
    lt_status st;

    if (!json_is_array(j))
        return lt__wire_type_error(c, "array", j);
    st = lt__pbjson_enter(c);
    if (st != LT_OK)
        return st;
    if (json_array_size(j) > 0)
        st = fill_array(c, m, f, j);
    lt__pbjson_leave(c);
    return st;
}

/* Map keys are JSON strings: convert to the key field's type, canonical decimals only. */
static lt_status dec_map_key(lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *kf, const char *key,
                             void *slot)
{
    json_t *tmp;
    bool set;
    lt_status st;

    if (kf->type == PROTOBUF_C_TYPE_BOOL) {
        if (strcmp(key, "true") != 0 && strcmp(key, "false") != 0)
            return PBJ_FAIL(c, LT_ERR_INVALID, "map key must be \"true\" or \"false\"");
        *(protobuf_c_boolean *)slot = key[0] == 't';
        return LT_OK;
    }
    if (kf->type != PROTOBUF_C_TYPE_STRING) {
        const char *d = key[0] == '-' ? key + 1 : key;
        if (d[0] == '\0' || (d[0] == '0' && (d[1] != '\0' || key != d)) ||
            strspn(d, "0123456789") != strlen(d))
            return PBJ_FAIL(c, LT_ERR_INVALID, "map key is not a canonical integer");
    }
    tmp = json_string(key);
    if (tmp == NULL)
        return PBJ_FAIL(c, LT_ERR_INVALID, "map key is not valid UTF-8");
    st = dec_value(c, kf, tmp, slot, &set);
    json_decref(tmp);
    return st;
}

static lt_status dec_map_entry(lt__pbjson_ctx *c, const ProtobufCMessageDescriptor *ed,
                               const char *key, const json_t *val, ProtobufCMessage **slot,
                               bool *set)
{
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    ProtobufCMessage *e = lt__pbjson_msg_new(ed);
    lt_status st;

    *slot = e;
    if (e == NULL)
        return nomem(c);
    st = dec_map_key(c, kf, key, PBJ_MEMBER(e, kf->offset));
    if (st == LT_OK && lt__pbjson_has_presence_flag(kf))
        *(protobuf_c_boolean *)PBJ_MEMBER(e, kf->quantifier_offset) = 1;
    if (st == LT_OK && json_is_null(val) && !lt__pbjson_null_is_value(vf))
        return null_element(c);
    if (st == LT_OK)
        st = dec_singular(c, e, vf, val, set);
    return st;
}

static lt_status fill_map(lt__pbjson_ctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                          const json_t *j)
{
    size_t *count = PBJ_MEMBER(m, f->quantifier_offset);
    ProtobufCMessage **arr = calloc(json_object_size(j), sizeof(*arr));
    lt_status st = LT_OK;
    const char *key;
    json_t *val;

    if (arr == NULL)
        return nomem(c);
    *(void **)PBJ_MEMBER(m, f->offset) = arr;
    json_object_foreach ((json_t *)j, key, val) {
        size_t mark = lt__pbjson_path_push_key(c, key);
        bool set = false;
        (*count)++;
        st = dec_map_entry(c, f->descriptor, key, val, &arr[*count - 1], &set);
        if (st == LT_OK && !set) { /* unknown enum name skipped: drop the entry */
            (*count)--;
            protobuf_c_message_free_unpacked(arr[*count], NULL);
            arr[*count] = NULL;
        }
        lt__pbjson_path_pop(c, mark);
        if (st != LT_OK)
            break;
    }
    return st;
}

static lt_status dec_map(lt__pbjson_ctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                         const json_t *j)
{
    lt_status st;

    if (!json_is_object(j))
        return lt__wire_type_error(c, "object", j);
    st = lt__pbjson_enter(c);
    if (st != LT_OK)
        return st;
    if (json_object_size(j) > 0)
        st = fill_map(c, m, f, j);
    lt__pbjson_leave(c);
    return st;
}

lt_status lt__pbjson_field_from_json(lt__pbjson_ctx *c, ProtobufCMessage *m,
                                     const ProtobufCFieldDescriptor *f, const json_t *j, bool *set)
{
    *set = true;
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return dec_singular(c, m, f, j, set);
    if (lt__pbjson_is_map(m->descriptor, f))
        return dec_map(c, m, f, j);
    return dec_array(c, m, f, j);
}

/* ---- messages ------------------------------------------------------------------- */

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
                                                  const char *key, unsigned *index)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (lt__pbjson_json_key_matches(d->fields[i].name, key)) {
            *index = i;
            return &d->fields[i];
        }
    }
    return NULL;
}

static lt_status check_required(const lt__pbjson_ctx *c, const ProtobufCMessageDescriptor *d,
                                const unsigned char *seen)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && !(seen[i / 8] & (1u << (i % 8))))
            return PBJ_FAIL(c, LT_ERR_INVALID, "missing required field \"%s\"", d->fields[i].name);
    return LT_OK;
}

static lt_status dec_member(lt__pbjson_ctx *c, ProtobufCMessage *m, const char *key,
                            const json_t *val, unsigned char *seen)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const ProtobufCFieldDescriptor *f;
    unsigned idx = 0;
    bool set;

    f = find_field(d, key, &idx);
    if (f == NULL) {
        if (c->flags & LT_PBJSON_IGNORE_UNKNOWN)
            return LT_OK;
        return PBJ_FAIL(c, LT_ERR_INVALID, "unknown field in %s", d->name);
    }
    if (seen[idx / 8] & (1u << (idx % 8)))
        return PBJ_FAIL(c, LT_ERR_INVALID, "field \"%s\" given twice", f->name);
    seen[idx / 8] |= (unsigned char)(1u << (idx % 8));
    if (json_is_null(val) && !lt__pbjson_null_is_value(f))
        return LT_OK; /* null: keep the default */
    return lt__pbjson_field_from_json(c, m, f, val, &set);
}

static lt_status dec_members(lt__pbjson_ctx *c, ProtobufCMessage *m, const json_t *j,
                             unsigned char *seen)
{
    const char *key;
    json_t *val;
    lt_status st = LT_OK;

    json_object_foreach ((json_t *)j, key, val) {
        size_t mark = lt__pbjson_path_push_name(c, key);
        st = dec_member(c, m, key, val, seen);
        lt__pbjson_path_pop(c, mark);
        if (st != LT_OK)
            return st;
    }
    return check_required(c, m->descriptor, seen);
}

static lt_status dec_object(lt__pbjson_ctx *c, ProtobufCMessage *m, const json_t *j)
{
    unsigned n_fields = m->descriptor->n_fields;
    unsigned char small[32] = { 0 };
    unsigned char *seen = small;
    lt_status st;

    if (!json_is_object(j))
        return lt__wire_type_error(c, "object", j);
    if (n_fields > 8 * sizeof(small)) {
        seen = lt_calloc(n_fields / 8 + 1, 1);
        if (seen == NULL)
            return nomem(c);
    }
    st = lt__pbjson_enter(c);
    if (st == LT_OK) {
        st = dec_members(c, m, j, seen);
        lt__pbjson_leave(c);
    }
    if (seen != small)
        lt_free(seen);
    return st;
}

lt_status lt__pbjson_msg_from_json(lt__pbjson_ctx *c, const ProtobufCMessageDescriptor *d,
                                   const json_t *j, ProtobufCMessage **slot)
{
    ProtobufCMessage *m = lt__pbjson_msg_new(d);
    lt__pbjson_wkt w;

    *slot = m;
    if (m == NULL)
        return nomem(c);
    w = lt__pbjson_wkt_of(d);
    if (w != PBJ_WKT_NONE)
        return lt__pbjson_wkt_from_json(c, w, m, j);
    return dec_object(c, m, j);
}
