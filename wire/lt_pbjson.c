/*
 * lt_pbjson.c - public entry points of the proto3 JSON codec, and what the
 * encoder and decoder share: the conversion context with its JSON path for
 * error messages, the depth limit, and descriptor helpers (JSON names, map
 * entry detection, presence flags, message allocation). The mapping itself
 * lives in lt_pbjson_enc.c / lt_pbjson_dec.c / lt_pbjson_wkt.c.
 */
#include "lt_pbjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "pbjson_int.h"

/* ---- context and path ---------------------------------------------------- */

static void ctx_init(lt__pbjson_ctx *c, unsigned flags)
{
    c->flags = flags;
    c->depth = 0;
    c->n_segs = 0;
}

static size_t push(lt__pbjson_ctx *c, int kind, const char *s, size_t index)
{
    size_t mark = c->n_segs;

    if (c->n_segs < PBJ_PATH_SEGS)
        c->segs[c->n_segs] = (lt__pbjson_seg){ kind, s, index };
    c->n_segs++;
    return mark;
}

size_t lt__pbjson_path_push_name(lt__pbjson_ctx *c, const char *name)
{
    return push(c, PBJ_SEG_NAME, name, 0);
}

size_t lt__pbjson_path_push_index(lt__pbjson_ctx *c, size_t i)
{
    return push(c, PBJ_SEG_INDEX, NULL, i);
}

size_t lt__pbjson_path_push_key(lt__pbjson_ctx *c, const char *key)
{
    return push(c, PBJ_SEG_KEY, key, 0);
}

void lt__pbjson_path_pop(lt__pbjson_ctx *c, size_t mark)
{
    if (mark < c->n_segs)
        c->n_segs = mark;
}

/* Append s, at most 40 bytes of it; inside ["..."] non-printable bytes and quotes show as '?'. */
static void append_segment_text(lt_buf *b, const char *s, bool quoted)
{
    size_t n = 0;

    for (; s[n] != '\0' && n < 40; n++) {
        unsigned char ch = (unsigned char)s[n];
        if (quoted && (ch < 0x20 || ch >= 0x7f || ch == '"'))
            ch = '?';
        LT_IGNORE(lt_buf_appendc(b, (char)ch));
    }
    if (s[n] != '\0')
        LT_IGNORE(lt_buf_appends(b, "..."));
}

/* The path as text: `a.b[2]["k"]`, "(root)" when empty; long paths keep their tail. */
static void format_path(const lt__pbjson_ctx *c, char *out, size_t cap)
{
    size_t n = c->n_segs < PBJ_PATH_SEGS ? c->n_segs : PBJ_PATH_SEGS;
    lt_buf b;

    lt_buf_init(&b, 16384);
    for (size_t i = 0; i < n; i++) {
        const lt__pbjson_seg *g = &c->segs[i];
        if (g->kind == PBJ_SEG_INDEX) {
            LT_IGNORE(lt_buf_appendf(&b, "[%zu]", g->index));
        } else if (g->kind == PBJ_SEG_KEY) {
            LT_IGNORE(lt_buf_appends(&b, "[\""));
            append_segment_text(&b, g->s, true);
            LT_IGNORE(lt_buf_appends(&b, "\"]"));
        } else {
            if (b.len > 0)
                LT_IGNORE(lt_buf_appendc(&b, '.'));
            append_segment_text(&b, g->s, false);
        }
    }
    if (b.len == 0)
        snprintf(out, cap, "(root)");
    else if (b.len < cap)
        snprintf(out, cap, "%s", b.ptr);
    else
        snprintf(out, cap, "...%s", b.ptr + b.len - (cap - 4));
    lt_buf_cleanup(&b);
}

lt_status lt__pbjson_fail(const lt__pbjson_ctx *c, lt_status st, const char *file, int line,
                          const char *func, const char *fmt, ...)
{
    char msg[400], path[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    format_path(c, path, sizeof(path));
    return lt__core_error_set(st, file, line, func, "%s: %s", path, msg);
}

lt_status lt__pbjson_enter(lt__pbjson_ctx *c)
{
    if (c->depth >= LT_MAX_JSON_DEPTH)
        return PBJ_FAIL(c, LT_ERR_TOO_BIG, "nesting deeper than %u levels", LT_MAX_JSON_DEPTH);
    c->depth++;
    return LT_OK;
}

void lt__pbjson_leave(lt__pbjson_ctx *c)
{
    c->depth--;
}

/* ---- descriptor helpers -------------------------------------------------- */

void lt__pbjson_json_name(const char *proto_name, char *buf, size_t cap)
{
    size_t n = 0;
    bool upper = false;

    for (const char *p = proto_name; *p != '\0' && n + 1 < cap; p++) {
        if (*p == '_') {
            upper = true;
            continue;
        }
        buf[n++] = (upper && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        upper = false;
    }
    buf[n] = '\0';
}

/* True when key is proto_name itself or its lowerCamelCase JSON name. */
bool lt__pbjson_json_key_matches(const char *proto_name, const char *key)
{
    const char *p = proto_name;
    const char *k = key;
    bool upper = false;

    if (strcmp(proto_name, key) == 0)
        return true;
    for (; *p != '\0'; p++) {
        char want;
        if (*p == '_') {
            upper = true;
            continue;
        }
        want = (upper && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        upper = false;
        if (*k++ != want)
            return false;
    }
    return *k == '\0';
}

/* protoc names a map's entry type "<FieldInCamelCase>Entry", nested in the parent. */
static bool map_entry_name_matches(const char *field, const char *entry)
{
    bool upper = true;

    for (; *field != '\0'; field++) {
        char want;
        if (*field == '_') {
            upper = true;
            continue;
        }
        want = (upper && *field >= 'a' && *field <= 'z') ? (char)(*field - 'a' + 'A') : *field;
        upper = false;
        if (*entry++ != want)
            return false;
    }
    return strcmp(entry, "Entry") == 0;
}

bool lt__pbjson_is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f)
{
    const ProtobufCMessageDescriptor *e = f->descriptor;
    size_t plen;

    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE || !e)
        return false;
    if (e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 ||
        strcmp(e->fields[0].name, "key") != 0 || strcmp(e->fields[1].name, "value") != 0)
        return false;
    plen = strlen(parent->name);
    if (strncmp(e->name, parent->name, plen) != 0 || e->name[plen] != '.' ||
        strcmp(e->name + plen + 1, e->short_name) != 0)
        return false;
    return map_entry_name_matches(f->name, e->short_name);
}

size_t lt__pbjson_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4;
    }
}

bool lt__pbjson_has_presence_flag(const ProtobufCFieldDescriptor *f)
{
    return f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
           f->type != PROTOBUF_C_TYPE_MESSAGE && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
}

ProtobufCMessage *lt__pbjson_msg_new(const ProtobufCMessageDescriptor *d)
{
    /* libc, not lt_malloc: protobuf_c_message_free_unpacked(m, NULL) frees it. */
    ProtobufCMessage *m = calloc(1, d->sizeof_message ? d->sizeof_message : 1);

    if (m == NULL)
        return NULL;
    if (d->message_init != NULL)
        protobuf_c_message_init(d, m);
    else
        m->descriptor = d;
    return m;
}

const ProtobufCFieldDescriptor *lt__pbjson_field(const ProtobufCMessageDescriptor *d,
                                                 const char *name, ProtobufCType type)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);

    return (f != NULL && f->type == type) ? f : NULL;
}

bool lt__pbjson_is_null_value_enum(const ProtobufCFieldDescriptor *f)
{
    const ProtobufCEnumDescriptor *e = f->descriptor;

    return f->type == PROTOBUF_C_TYPE_ENUM && e != NULL &&
           strcmp(e->name, "google.protobuf.NullValue") == 0;
}

bool lt__pbjson_null_is_value(const ProtobufCFieldDescriptor *f)
{
    if (lt__pbjson_is_null_value_enum(f))
        return true;
    return f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor != NULL &&
           lt__pbjson_wkt_of(f->descriptor) == PBJ_WKT_VALUE;
}

/* ---- public API ----------------------------------------------------------- */

size_t lt__wire_json_too_deep(const char *s, size_t len)
{
    size_t depth = 0;
    bool in_str = false;

    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > LT_MAX_JSON_DEPTH)
                return i;
        } else if ((ch == '}' || ch == ']') && depth > 0) {
            depth--;
        }
    }
    return len;
}

/* Reject nesting beyond the limit before jansson builds anything. */
static lt_status check_depth(const char *s, size_t len)
{
    size_t at = lt__wire_json_too_deep(s, len);

    if (at < len)
        return LT_FAIL(LT_ERR_TOO_BIG, "JSON nested deeper than %u levels at byte %zu",
                       LT_MAX_JSON_DEPTH, at);
    return LT_OK;
}

lt_status lt_pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                           unsigned flags, ProtobufCMessage **out)
{
    json_error_t err;
    json_t *j;
    lt_status st;

    if (out != NULL)
        *out = NULL;
    if (desc == NULL || json == NULL || out == NULL)
        return LT_FAIL(LT_ERR_INVALID, "lt_pbjson_decode: NULL argument");
    if (len > LT_MAX_MESSAGE)
        return LT_FAIL(LT_ERR_TOO_BIG, "JSON of %zu bytes exceeds the limit of %u", len,
                       LT_MAX_MESSAGE);
    st = check_depth(json, len);
    if (st != LT_OK)
        return st;
    j = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (j == NULL && strstr(err.text, "too big") != NULL) {
        /* Integers beyond int64 are still valid JSON numbers (a double
         * field may hold one): read all numbers as doubles; integer fields
         * then refuse what a double cannot represent exactly. */
        j = json_loadb(json, len,
                       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &err);
    }
    if (j == NULL)
        return LT_FAIL(LT_ERR_PARSE, "invalid JSON at line %d column %d: %s", err.line, err.column,
                       err.text);
    st = lt_pbjson_from_json(desc, j, flags, out);
    json_decref(j);
    return st;
}

lt_status lt_pbjson_from_json(const ProtobufCMessageDescriptor *desc, const json_t *j,
                              unsigned flags, ProtobufCMessage **out)
{
    ProtobufCMessage *m = NULL;
    lt__pbjson_ctx c;
    lt_status st;

    if (out != NULL)
        *out = NULL;
    if (desc == NULL || j == NULL || out == NULL ||
        desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return LT_FAIL(LT_ERR_INVALID, "lt_pbjson_from_json: NULL or bad argument");
    ctx_init(&c, flags);
    st = lt__pbjson_msg_from_json(&c, desc, j, &m);
    if (st != LT_OK) {
        protobuf_c_message_free_unpacked(m, NULL);
        return st;
    }
    *out = m;
    return LT_OK;
}

lt_status lt_pbjson_to_json(const ProtobufCMessage *m, unsigned flags, json_t **out)
{
    lt__pbjson_ctx c;

    if (out != NULL)
        *out = NULL;
    if (m == NULL || out == NULL || m->descriptor == NULL ||
        m->descriptor->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return LT_FAIL(LT_ERR_INVALID, "lt_pbjson_to_json: NULL or bad argument");
    ctx_init(&c, flags);
    return lt__pbjson_msg_to_json(&c, m, out);
}

lt_status lt_pbjson_encode(const ProtobufCMessage *m, unsigned flags, char **out, size_t *len)
{
    json_t *j = NULL;
    lt_buf b;
    lt_status st;

    if (out != NULL)
        *out = NULL;
    if (len != NULL)
        *len = 0;
    if (out == NULL)
        return LT_FAIL(LT_ERR_INVALID, "lt_pbjson_encode: NULL argument");
    st = lt_pbjson_to_json(m, flags, &j);
    if (st != LT_OK)
        return st;
    lt_buf_init(&b, LT_MAX_MESSAGE);
    st = lt__pbjson_dump(j, (flags & LT_PBJSON_PRETTY) != 0, &b);
    json_decref(j);
    if (st == LT_OK) {
        size_t n = b.len;
        *out = lt_buf_take(&b);
        if (*out == NULL)
            st = LT_FAIL(LT_ERR_NOMEM, "out of memory encoding JSON");
        else if (len != NULL)
            *len = n;
    }
    lt_buf_cleanup(&b);
    return st;
}
