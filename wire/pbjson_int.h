/*
 * pbjson_int.h - internals shared by the lt_pbjson codec files: the
 * conversion context (flags, nesting depth and the JSON path used in error
 * messages), descriptor helpers, the well-known-type hooks, and the text
 * helpers (UTF-8, base64, number literals, Go-compatible number formatting).
 * Not part of the public API: include only from wire/lt_pbjson*.c (and
 * lt_ce_json.c, for the JSON depth scan).
 */
#ifndef LT_PBJSON_INT_H
#define LT_PBJSON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lt_buf.h"
#include "lt_pbjson.h"
#include "lt_status.h"

#define PBJ_PATH_SEGS 192u /* path segments kept (depth is limited to 64 anyway) */

/* One step of the JSON path: .name, [index] or ["key"]. Strings are borrowed
 * from the JSON being decoded or the encoder's stack, valid while pushed. */
typedef struct {
    enum {
        PBJ_SEG_NAME,
        PBJ_SEG_INDEX,
        PBJ_SEG_KEY
    } kind;
    const char *s;
    size_t index;
} lt__pbjson_seg;

/* One conversion in progress (decode or encode). */
typedef struct {
    unsigned flags;
    unsigned depth;                     /* JSON containers currently open */
    size_t n_segs;                      /* may exceed PBJ_PATH_SEGS; extra ones are not kept */
    lt__pbjson_seg segs[PBJ_PATH_SEGS]; /* e.g. workload . witWorld . components [0] */
} lt__pbjson_ctx;

/* Path segments. Each push returns a mark that lt__pbjson_path_pop restores. */
size_t lt__pbjson_path_push_name(lt__pbjson_ctx *c, const char *name);
size_t lt__pbjson_path_push_index(lt__pbjson_ctx *c, size_t i);
size_t lt__pbjson_path_push_key(lt__pbjson_ctx *c, const char *key);
void lt__pbjson_path_pop(lt__pbjson_ctx *c, size_t mark);

/* Record a failure as "<path>: <message>" and return st. */
lt_status lt__pbjson_fail(const lt__pbjson_ctx *c, lt_status st, const char *file, int line,
                          const char *func, const char *fmt, ...) LT_PRINTF(6, 7);
#define PBJ_FAIL(c, st, ...) lt__pbjson_fail((c), (st), __FILE__, __LINE__, __func__, __VA_ARGS__)

/* Open a JSON container (depth check, LT_ERR_TOO_BIG) / close it. */
LT_NODISCARD lt_status lt__pbjson_enter(lt__pbjson_ctx *c);
void lt__pbjson_leave(lt__pbjson_ctx *c);

/*
 * Message memory must be released by protobuf_c_message_free_unpacked(m,
 * NULL), i.e. by libc free(): so everything reachable from a decoded message
 * is allocated with libc malloc/calloc, deliberately not lt_malloc.
 */
#define PBJ_MEMBER(msg, off) ((void *)((char *)(msg) + (off)))
#define PBJ_CMEMBER(msg, off) ((const void *)((const char *)(msg) + (off)))

/* Descriptor helpers. */
bool lt__pbjson_is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f);
bool lt__pbjson_json_key_matches(const char *proto_name, const char *key);
/* lowerCamelCase JSON name of a proto name into buf (always NUL-terminated). */
void lt__pbjson_json_name(const char *proto_name, char *buf, size_t cap);
size_t lt__pbjson_elem_size(ProtobufCType t);
bool lt__pbjson_has_presence_flag(const ProtobufCFieldDescriptor *f); /* proto2 has_ member */
ProtobufCMessage *lt__pbjson_msg_new(const ProtobufCMessageDescriptor *d);
const ProtobufCFieldDescriptor *lt__pbjson_field(const ProtobufCMessageDescriptor *d,
                                                 const char *name, ProtobufCType type);
bool lt__pbjson_is_null_value_enum(const ProtobufCFieldDescriptor *f);
/* JSON null is a value (not "default") for google.protobuf.Value and NullValue. */
bool lt__pbjson_null_is_value(const ProtobufCFieldDescriptor *f);

/* Well-known types. */
typedef enum {
    PBJ_WKT_NONE = 0,
    PBJ_WKT_TIMESTAMP,
    PBJ_WKT_DURATION,
    PBJ_WKT_WRAPPER,
    PBJ_WKT_STRUCT,
    PBJ_WKT_VALUE,
    PBJ_WKT_LIST,
    PBJ_WKT_FIELDMASK,
    PBJ_WKT_ANY,
} lt__pbjson_wkt;

lt__pbjson_wkt lt__pbjson_wkt_of(const ProtobufCMessageDescriptor *d);
LT_NODISCARD lt_status lt__pbjson_wkt_to_json(lt__pbjson_ctx *c, lt__pbjson_wkt w,
                                              const ProtobufCMessage *m, json_t **out);
LT_NODISCARD lt_status lt__pbjson_wkt_from_json(lt__pbjson_ctx *c, lt__pbjson_wkt w,
                                                ProtobufCMessage *m, const json_t *j);

/* Encoder (lt_pbjson_enc.c). */
LT_NODISCARD lt_status lt__pbjson_msg_to_json(lt__pbjson_ctx *c, const ProtobufCMessage *m,
                                              json_t **out);
/* JSON of one field's whole value (array for repeated, object for maps). */
LT_NODISCARD lt_status lt__pbjson_field_to_json(lt__pbjson_ctx *c, const ProtobufCMessage *m,
                                                const ProtobufCFieldDescriptor *f, json_t **out);

/* Decoder (lt_pbjson_dec.c). */
/* Allocate a message of type d into *slot (owned by the caller from then on) and fill it. */
LT_NODISCARD lt_status lt__pbjson_msg_from_json(lt__pbjson_ctx *c,
                                                const ProtobufCMessageDescriptor *d,
                                                const json_t *j, ProtobufCMessage **slot);
/* Decode the whole value of field f of m (array, map or singular; j not null
 * unless lt__pbjson_null_is_value(f)). *set is false when an unknown enum name was
 * skipped under LT_PBJSON_IGNORE_UNKNOWN. */
LT_NODISCARD lt_status lt__pbjson_field_from_json(lt__pbjson_ctx *c, ProtobufCMessage *m,
                                                  const ProtobufCFieldDescriptor *f,
                                                  const json_t *j, bool *set);

/* Text helpers (lt_pbjson_text.c). */
bool lt__pbjson_utf8_valid(const char *s, size_t len);
LT_NODISCARD lt_status lt__pbjson_base64_encode(const uint8_t *data, size_t len, json_t **out);
/* Decode standard or URL-safe base64, padded or not, into malloc'd memory
 * (NULL when empty): 0 ok, -1 invalid (*bad_at = offset), -2 out of memory. */
int lt__pbjson_base64_decode(const char *s, size_t len, uint8_t **data, size_t *out_len,
                             size_t *bad_at);
/* JSON number grammar (RFC 8259), whole string. */
bool lt__pbjson_number_literal_ok(const char *s);
/* Integral value of a JSON number literal: 0 ok, -1 not a number, -2 not
 * integral, -3 magnitude over UINT64_MAX. */
int lt__pbjson_parse_integer_literal(const char *s, bool *neg, uint64_t *mag);
/* True when d rounds to a finite float (the float range plus half an ulp). */
bool lt__pbjson_double_fits_float(double d);
/* The double nearest to the shortest decimal that reads back as f. */
double lt__pbjson_float_shortest(float f);
/* PBJ_FAIL with "expected <want>, got <description of j>" (LT_ERR_INVALID). */
LT_NODISCARD lt_status lt__wire_type_error(const lt__pbjson_ctx *c, const char *want,
                                           const json_t *j);
/* Offset of the first '{' or '[' of JSON text nested deeper than LT_MAX_JSON_DEPTH, or len when
 * none is (checked before jansson builds anything; its own limit is 2048). Only brackets outside
 * strings count; syntax is left to the parser. */
size_t lt__wire_json_too_deep(const char *s, size_t len);
/* Short description of a JSON value for messages: `string "x"`, `number 5`, `array`. */
void lt__pbjson_describe(const json_t *j, char *buf, size_t cap);
/* Serialize j as compact or pretty JSON text into b (bounded by b->max). */
LT_NODISCARD lt_status lt__pbjson_dump(const json_t *j, bool pretty, lt_buf *b);

#endif
