/*
 * lt_pbjson_enc.c - protobuf-c message -> jansson value under the proto3 JSON
 * mapping: which fields appear (proto3 implicit presence, proto2 has_ flags,
 * oneof cases, LT_PBJSON_EMIT_DEFAULTS), lowerCamelCase keys, and the JSON
 * form of every scalar, enum, bytes, repeated field and map. Well-known types
 * are handed to lt_pbjson_wkt.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "pbjson_int.h"

enum presence {
    SKIP,
    EMIT,
    EMIT_NULL
};

static lt_status put(const lt__pbjson_ctx *c, json_t *v, json_t **out)
{
    *out = v;
    return v != NULL ? LT_OK : PBJ_FAIL(c, LT_ERR_NOMEM, "out of memory");
}

static lt_status string_to_json(const lt__pbjson_ctx *c, const char *s, json_t **out)
{
    size_t len;

    if (s == NULL)
        s = "";
    len = strlen(s);
    if (!lt__pbjson_utf8_valid(s, len))
        return PBJ_FAIL(c, LT_ERR_INVALID, "string is not valid UTF-8");
    return put(c, json_stringn_nocheck(s, len), out);
}

static lt_status double_to_json(const lt__pbjson_ctx *c, double v, json_t **out)
{
    if (isnan(v))
        return put(c, json_string("NaN"), out);
    if (isinf(v))
        return put(c, json_string(v > 0 ? "Infinity" : "-Infinity"), out);
    return put(c, json_real(v), out);
}

static lt_status enum_to_json(const lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *f, int v,
                              json_t **out)
{
    const ProtobufCEnumValue *ev;

    if (lt__pbjson_is_null_value_enum(f) && v == 0) /* other numbers stay numbers, to read back */
        return put(c, json_null(), out);
    ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
    if (ev != NULL)
        return put(c, json_string(ev->name), out);
    return put(c, json_integer(v), out); /* unknown values stay numbers */
}

static lt_status int64_to_json(const lt__pbjson_ctx *c, bool is_signed, const void *slot,
                               json_t **out)
{
    char tmp[24];

    if (is_signed)
        snprintf(tmp, sizeof(tmp), "%" PRId64, *(const int64_t *)slot);
    else
        snprintf(tmp, sizeof(tmp), "%" PRIu64, *(const uint64_t *)slot);
    return put(c, json_string(tmp), out);
}

/* A NULL sub-message inside a map or array is written as its default instance. */
static lt_status message_to_json(lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *f,
                                 const ProtobufCMessage *sm, json_t **out)
{
    ProtobufCMessage *tmp;
    lt_status st;

    if (sm != NULL)
        return lt__pbjson_msg_to_json(c, sm, out);
    tmp = lt__pbjson_msg_new(f->descriptor);
    if (tmp == NULL)
        return put(c, NULL, out);
    st = lt__pbjson_msg_to_json(c, tmp, out);
    free(tmp); /* an initialised message owns no memory */
    return st;
}

/* JSON of one element stored at slot (a member or an array element). */
static lt_status value_to_json(lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *f,
                               const void *slot, json_t **out)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return put(c, json_integer(*(const int32_t *)slot), out);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return put(c, json_integer(*(const uint32_t *)slot), out);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return int64_to_json(c, true, slot, out);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return int64_to_json(c, false, slot, out);
    case PROTOBUF_C_TYPE_FLOAT:
        return double_to_json(c, lt__pbjson_float_shortest(*(const float *)slot), out);
    case PROTOBUF_C_TYPE_DOUBLE:
        return double_to_json(c, *(const double *)slot, out);
    case PROTOBUF_C_TYPE_BOOL:
        return put(c, json_boolean(*(const protobuf_c_boolean *)slot), out);
    case PROTOBUF_C_TYPE_ENUM:
        return enum_to_json(c, f, *(const int *)slot, out);
    case PROTOBUF_C_TYPE_STRING:
        return string_to_json(c, *(char *const *)slot, out);
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = slot;
        return lt__pbjson_base64_encode(bd->data, bd->data ? bd->len : 0, out);
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return message_to_json(c, f, *(ProtobufCMessage *const *)slot, out);
    }
    return PBJ_FAIL(c, LT_ERR_INVALID, "unsupported field type %d", (int)f->type);
}

static lt_status array_to_json(lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *f, size_t n,
                               const char *arr, json_t **out)
{
    size_t esz = lt__pbjson_elem_size(f->type);
    json_t *a = NULL;
    lt_status st = lt__pbjson_enter(c);

    if (st != LT_OK)
        return st;
    a = json_array();
    if (a == NULL)
        st = put(c, NULL, out);
    for (size_t i = 0; i < n && st == LT_OK; i++) {
        size_t mark = lt__pbjson_path_push_index(c, i);
        json_t *v = NULL;
        st = value_to_json(c, f, arr + i * esz, &v);
        if (st == LT_OK && json_array_append_new(a, v) != 0)
            st = put(c, NULL, out);
        lt__pbjson_path_pop(c, mark);
    }
    lt__pbjson_leave(c);
    if (st != LT_OK) {
        json_decref(a);
        return st;
    }
    *out = a;
    return LT_OK;
}

/* JSON object key of a map entry: the key field's value as a string. */
static lt_status map_key_string(const lt__pbjson_ctx *c, const ProtobufCFieldDescriptor *kf,
                                const void *slot, char *tmp, size_t cap, const char **key)
{
    *key = tmp;
    switch (kf->type) {
    case PROTOBUF_C_TYPE_STRING:
        *key = *(char *const *)slot ? *(char *const *)slot : "";
        if (!lt__pbjson_utf8_valid(*key, strlen(*key)))
            return PBJ_FAIL(c, LT_ERR_INVALID, "map key is not valid UTF-8");
        return LT_OK;
    case PROTOBUF_C_TYPE_BOOL:
        *key = *(const protobuf_c_boolean *)slot ? "true" : "false";
        return LT_OK;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(tmp, cap, "%" PRId32, *(const int32_t *)slot);
        return LT_OK;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(tmp, cap, "%" PRIu32, *(const uint32_t *)slot);
        return LT_OK;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(tmp, cap, "%" PRId64, *(const int64_t *)slot);
        return LT_OK;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(tmp, cap, "%" PRIu64, *(const uint64_t *)slot);
        return LT_OK;
    default:
        return PBJ_FAIL(c, LT_ERR_INVALID, "unsupported map key type %d", (int)kf->type);
    }
}

static lt_status map_entry_to_json(lt__pbjson_ctx *c, const ProtobufCMessage *e, json_t *obj)
{
    const ProtobufCFieldDescriptor *kf = &e->descriptor->fields[0];
    const ProtobufCFieldDescriptor *vf = &e->descriptor->fields[1];
    const char *key;
    char tmp[24];
    json_t *v = NULL;
    size_t mark;
    lt_status st = map_key_string(c, kf, PBJ_CMEMBER(e, kf->offset), tmp, sizeof(tmp), &key);

    if (st != LT_OK)
        return st;
    mark = lt__pbjson_path_push_key(c, key);
    st = value_to_json(c, vf, PBJ_CMEMBER(e, vf->offset), &v);
    if (st == LT_OK && json_object_setn_new_nocheck(obj, key, strlen(key), v) != 0)
        st = put(c, NULL, &v);
    lt__pbjson_path_pop(c, mark);
    return st;
}

static lt_status map_to_json(lt__pbjson_ctx *c, size_t n, ProtobufCMessage *const *entries,
                             json_t **out)
{
    json_t *obj = NULL;
    lt_status st = lt__pbjson_enter(c);

    if (st != LT_OK)
        return st;
    obj = json_object();
    if (obj == NULL)
        st = put(c, NULL, out);
    for (size_t i = 0; i < n && st == LT_OK; i++)
        if (entries[i] != NULL) /* later duplicates win, as in the binary format */
            st = map_entry_to_json(c, entries[i], obj);
    lt__pbjson_leave(c);
    if (st != LT_OK) {
        json_decref(obj);
        return st;
    }
    *out = obj;
    return LT_OK;
}

lt_status lt__pbjson_field_to_json(lt__pbjson_ctx *c, const ProtobufCMessage *m,
                                   const ProtobufCFieldDescriptor *f, json_t **out)
{
    const void *slot = PBJ_CMEMBER(m, f->offset);

    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *)PBJ_CMEMBER(m, f->quantifier_offset);
        const void *arr = *(void *const *)slot;
        if (arr == NULL)
            n = 0;
        if (lt__pbjson_is_map(m->descriptor, f))
            return map_to_json(c, n, arr, out);
        return array_to_json(c, f, n, arr, out);
    }
    return value_to_json(c, f, slot, out);
}

/* proto3 implicit presence: a scalar is present unless zero (-0.0 is present). */
static bool is_zero(const ProtobufCFieldDescriptor *f, const void *slot)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const uint64_t *)slot == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)slot == 0;
    case PROTOBUF_C_TYPE_STRING:
        return *(char *const *)slot == NULL || **(char *const *)slot == '\0';
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)slot)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(void *const *)slot == NULL;
    default:
        return *(const uint32_t *)slot == 0;
    }
}

static enum presence presence(const lt__pbjson_ctx *c, const ProtobufCMessage *m,
                              const ProtobufCFieldDescriptor *f)
{
    const void *slot = PBJ_CMEMBER(m, f->offset);
    const void *q = PBJ_CMEMBER(m, f->quantifier_offset);
    enum presence unset = (c->flags & LT_PBJSON_EMIT_DEFAULTS) ? EMIT_NULL : SKIP;
    bool pointer = f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING;

    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)q != f->id || (pointer && *(void *const *)slot == NULL))
            return SKIP; /* unset oneof members never appear */
        return EMIT;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return (*(const size_t *)q > 0 || unset == EMIT_NULL) ? EMIT : SKIP;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (*(void *const *)slot != NULL)
            return EMIT;
        /* an unset google.protobuf.Value stays out: null would read back as a set one */
        return lt__pbjson_null_is_value(f) ? SKIP : unset;
    }
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return EMIT;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        bool has = lt__pbjson_has_presence_flag(f)
                       ? *(const protobuf_c_boolean *)q != 0
                       : (*(void *const *)slot != NULL && *(void *const *)slot != f->default_value);
        return has ? EMIT : unset;
    }
    return (!is_zero(f, slot) || unset == EMIT_NULL) ? EMIT : SKIP;
}

static lt_status add_field(lt__pbjson_ctx *c, const ProtobufCMessage *m,
                           const ProtobufCFieldDescriptor *f, enum presence p, json_t *obj)
{
    size_t len = strlen(f->name);
    char small[128];
    char *name = len < sizeof(small) ? small : lt_malloc(len + 1);
    json_t *v = NULL;
    size_t mark;
    lt_status st = LT_OK;

    if (name == NULL)
        return put(c, NULL, &v);
    lt__pbjson_json_name(f->name, name, len + 1);
    mark = lt__pbjson_path_push_name(c, name);
    if (p == EMIT_NULL)
        st = put(c, json_null(), &v);
    else
        st = lt__pbjson_field_to_json(c, m, f, &v);
    if (st == LT_OK && json_object_set_new_nocheck(obj, name, v) != 0)
        st = put(c, NULL, &v);
    lt__pbjson_path_pop(c, mark);
    if (name != small)
        lt_free(name);
    return st;
}

lt_status lt__pbjson_msg_to_json(lt__pbjson_ctx *c, const ProtobufCMessage *m, json_t **out)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    lt__pbjson_wkt w = lt__pbjson_wkt_of(d);
    json_t *obj = NULL;
    lt_status st;

    *out = NULL;
    if (w != PBJ_WKT_NONE)
        return lt__pbjson_wkt_to_json(c, w, m, out);
    st = lt__pbjson_enter(c);
    if (st != LT_OK)
        return st;
    obj = json_object();
    if (obj == NULL)
        st = put(c, NULL, out);
    for (unsigned i = 0; i < d->n_fields && st == LT_OK; i++) {
        enum presence p = presence(c, m, &d->fields[i]);
        if (p != SKIP)
            st = add_field(c, m, &d->fields[i], p, obj);
    }
    lt__pbjson_leave(c);
    if (st != LT_OK) {
        json_decref(obj);
        return st;
    }
    *out = obj;
    return LT_OK;
}
