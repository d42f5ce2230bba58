/*
 * lt_pbjson.h - one descriptor-driven codec between any protobuf-c message
 * and the proto3 canonical JSON mapping (https://protobuf.dev/programming-guides/json/),
 * built on jansson. It is what every JSON wire structure of latticed goes
 * through: wasmCloud v2 host payloads, native protocol bodies, API replies.
 *
 * Mapping summary. Output: lowerCamelCase keys (protobuf-c descriptors carry
 * no json_name, so the name is always derived from the proto name), enum
 * value names, 64-bit integers as strings, bytes as padded standard base64,
 * float/double NaN/Infinity/-Infinity as strings (negative zero as -0.0, which
 * jansson reads back as a double, where Go writes -0), numbers in their
 * shortest round-trip form, maps as objects with string keys, proto3
 * defaults omitted, set sub-messages always written (`{}` when empty).
 * Input: camelCase or snake_case keys, enum names or numbers, integers as
 * numbers or strings (exponents accepted when the value is integral), bytes
 * in standard or URL-safe base64 with or without padding, `null` meaning
 * "leave the default" for any field; unknown fields and enum names refused.
 * Well-known types: Timestamp (RFC 3339), Duration ("1.5s"), the nine
 * wrappers (bare value), Struct/Value/ListValue (any JSON), FieldMask
 * ("a.b,cD"), Empty ({}). Any is refused with LT_ERR_UNSUPPORTED.
 * WKTs and maps are recognised from the descriptors alone (full name
 * "google.protobuf.X"; map entries by protoc's "<Field>Entry" nested type
 * with fields key=1/value=2), so this module needs no generated code.
 *
 * Errors: every failure is recorded with LT_FAIL and a message naming the
 * JSON path, e.g. `workload.witWorld.components[0].poolSize: expected
 * integer, got string "x"` (map keys appear as `labels["k"]`, a failure at
 * the top level as `(root): ...`).
 *   LT_ERR_PARSE   - not JSON (syntax, truncation, invalid UTF-8, duplicate key)
 *   LT_ERR_INVALID - JSON that does not fit the message (wrong type, range,
 *                    unknown field or enum name, two oneof members, bad
 *                    base64/timestamp, invalid UTF-8 or NUL in a string), or
 *                    a NULL argument, or a message that cannot be encoded
 *   LT_ERR_TOO_BIG - input over LT_MAX_MESSAGE bytes or nested deeper than
 *                    LT_MAX_JSON_DEPTH (also enforced on output)
 *   LT_ERR_UNSUPPORTED - google.protobuf.Any
 *   LT_ERR_NOMEM   - out of memory
 *
 * Limitations: jansson keeps no number text, so an integer field takes a JSON
 * number written with a fraction or exponent (1e3, 5.0) only below 2^53 in
 * magnitude, where a double is exact; the same holds for every number of a
 * document that also holds an integer beyond int64 (jansson then reads all
 * numbers as doubles). Larger values must come as strings, the canonical
 * form of 64-bit types anyway.
 * Map integer keys must be canonical decimals ("7", not "07" or "+7").
 * Numbers are formatted in the C locale. Thread-safe: no global state.
 */
#ifndef LT_PBJSON_H
#define LT_PBJSON_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "lt_status.h"

enum {
    LT_PBJSON_IGNORE_UNKNOWN = 1u << 0, /**< decode: skip unknown fields and enum names */
    LT_PBJSON_EMIT_DEFAULTS = 1u << 1,  /**< encode: also emit zero/empty fields (unset
                                             sub-messages as null; never unset oneof
                                             members or an unset google.protobuf.Value) */
    LT_PBJSON_PRETTY = 1u << 2,         /**< encode: two-space indented output */
};

/**
 * Decode len bytes of JSON text into a new message of type desc. json need
 * not be NUL-terminated. On LT_OK *out receives the message, which the
 * caller frees with protobuf_c_message_free_unpacked(*out, NULL): all its
 * memory comes from plain malloc, as protobuf-c's default allocator expects.
 * On error *out is NULL. flags: LT_PBJSON_IGNORE_UNKNOWN.
 */
LT_NODISCARD lt_status lt_pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json,
                                        size_t len, unsigned flags, ProtobufCMessage **out);

/**
 * Like lt_pbjson_decode, from an already parsed jansson value (borrowed, not
 * modified). The depth limit applies; the size limit does not.
 */
LT_NODISCARD lt_status lt_pbjson_from_json(const ProtobufCMessageDescriptor *desc, const json_t *j,
                                           unsigned flags, ProtobufCMessage **out);

/**
 * Convert a message to a new jansson value (*out is a new reference: the
 * caller json_decref()s it). Usually an object; a top-level well-known type
 * gives its own JSON kind (a Timestamp gives a string). Floats are stored as
 * the double nearest to their shortest decimal form. flags:
 * LT_PBJSON_EMIT_DEFAULTS. On error *out is NULL.
 */
LT_NODISCARD lt_status lt_pbjson_to_json(const ProtobufCMessage *m, unsigned flags, json_t **out);

/**
 * Encode a message as JSON text. *out receives a NUL-terminated heap string
 * (free with lt_free) and *len its length (len may be NULL). Compact unless
 * LT_PBJSON_PRETTY; object keys in field-number order; numbers formatted as
 * Go's protojson does (shortest round-trip form). LT_ERR_TOO_BIG when the
 * text would exceed LT_MAX_MESSAGE bytes. On error *out is NULL.
 */
LT_NODISCARD lt_status lt_pbjson_encode(const ProtobufCMessage *m, unsigned flags, char **out,
                                        size_t *len);

#endif
