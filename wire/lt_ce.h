/*
 * lt_ce.h - CloudEvents 1.0 over NATS (the NATS protocol binding, v1.0.3).
 *
 * Out: binary content mode. Attributes become headers "ce-<name>" whose
 * values are percent-encoded as the binding says (space, '"', '%' and every
 * byte outside 0x21..0x7E); the data is the message body and its media type
 * goes both in "content-type" (what HTTP-style readers look at) and in
 * "ce-datacontenttype" (what the NATS binding says). Also the JSON event
 * format (structured mode) for printing and forwarding.
 *
 * In: binary mode, or structured mode when the content-type header is
 * application/cloudevents+json (or when a message without any header has a
 * JSON object body, as pre-2.2 servers deliver). Header names match
 * case-insensitively; quoted and percent-encoded values are decoded.
 * Decoding is strict: every input is untrusted. Data may only be
 * application/protobuf (also application/x-protobuf) or JSON (a media type
 * whose subtype is "json" or ends in "+json"); anything else is refused.
 *
 * Errors are recorded with LT_FAIL with a precise message, e.g.
 *   cloudevent: missing required attribute "ce-source"
 *   cloudevent: unsupported specversion "0.3" (want "1.0")
 */
#ifndef LT_CE_H
#define LT_CE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>
#include <protobuf-c/protobuf-c.h>

#include "lt_buf.h"
#include "lt_status.h"

#define LT_CE_SPECVERSION "1.0"
#define LT_CE_MAX_EXTENSIONS 16u /**< extension attributes per event */
#define LT_CE_MAX_NAME 20u       /**< bytes in an attribute name (spec: SHOULD NOT exceed 20) */
#define LT_CE_MAX_HEADERS 64u    /**< headers we look at in one message */
#define LT_CE_ID_LEN 36u         /**< a UUID in text form, without the NUL */

#define LT_CE_CT_PROTOBUF "application/protobuf"
#define LT_CE_CT_JSON "application/json"
#define LT_CE_CT_STRUCTURED "application/cloudevents+json"

/** How the data of an event is encoded, from its datacontenttype. */
typedef enum {
    LT_CE_DATA_NONE = 0, /**< no datacontenttype and no data */
    LT_CE_DATA_PROTOBUF, /**< application/protobuf, application/x-protobuf */
    LT_CE_DATA_JSON,     /**< subtype "json" or "...+json" */
} lt_ce_datatype;

/**
 * An extension attribute: name is 1..20 of [a-z0-9], not "data", and not a
 * proper prefix or extension of a core attribute name or of another
 * extension's name ("trace" with "traceparent"; "timestamp", as "time" is a
 * core name): nats.c 3.4 looks headers up by prefix and confuses such pairs.
 * value is a non-empty string.
 */
typedef struct {
    const char *name;
    const char *value;
} lt_ce_ext;

/**
 * An event as borrowed views (nothing owned). Used to build a message, and
 * as the read-only view of a decoded lt_ce. Strings are non-empty,
 * NUL-terminated UTF-8 without control characters, at most
 * LT_MAX_HEADER_VALUE bytes each (an empty value is refused both ways).
 */
typedef struct {
    const char *specversion;     /**< NULL means "1.0"; anything else must be "1.0" */
    const char *type;            /**< required, e.g. "dev.latticed.host.heartbeat.v1" */
    const char *source;          /**< required URI-reference (a host's id for host events) */
    const char *id;              /**< required on input; NULL on output: a random UUIDv4 */
    const char *time;            /**< RFC 3339; NULL on output: now, UTC */
    const char *subject;         /**< optional, non-empty when set */
    const char *datacontenttype; /**< required when data_len > 0; a supported media type */
    const char *dataschema;      /**< optional absolute URI */
    const void *data;            /**< the payload bytes (may be NULL when data_len is 0) */
    size_t data_len;             /**< at most LT_MAX_MESSAGE */
    const lt_ce_ext *ext;        /**< ext_count extensions (names unique, not core names) */
    size_t ext_count;            /**< at most LT_CE_MAX_EXTENSIONS */
} lt_ce_event;

/**
 * A decoded event that owns its memory (one allocation). Initialise with
 * lt_ce_init, fill with lt_ce_from_msg / lt_ce_from_json, release with
 * lt_ce_cleanup. ev's pointers stay valid until then; ev.id, ev.type,
 * ev.source and ev.specversion are never NULL after a successful decode.
 */
typedef struct {
    lt_ce_event ev;          /**< the attributes and data (views into mem) */
    lt_ce_datatype datatype; /**< classified ev.datacontenttype */
    bool structured;         /**< it arrived in structured mode */
    bool has_data;           /**< a payload was present (it may still be empty) */
    bool has_time;           /**< ev.time was set; then time_sec/time_nsec hold it */
    int64_t time_sec;        /**< Unix seconds (UTC) */
    int32_t time_nsec;       /**< 0..999999999 */
    lt_ce_ext ext[LT_CE_MAX_EXTENSIONS];
    char *mem;
} lt_ce;

/** Make ce empty (safe to clean up). */
void lt_ce_init(lt_ce *ce);

/** Free what ce owns and make it empty again. NULL-safe. */
void lt_ce_cleanup(lt_ce *ce);

/**
 * Check an event as lt_ce_to_msg would (id and time may be NULL). LT_OK, or
 * LT_ERR_INVALID / LT_ERR_TOO_BIG / LT_ERR_UNSUPPORTED (unknown media type)
 * with a message naming the attribute.
 */
LT_NODISCARD lt_status lt_ce_validate(const lt_ce_event *ev);

/**
 * Build a binary-mode message on subject (a publish subject: no wildcards)
 * from ev (validated first; id and time filled when NULL). The headers and
 * body are copies: ev may be released afterwards. *new_msg is destroyed by
 * the caller with natsMsg_Destroy (or handed to natsConnection_PublishMsg
 * and then destroyed). Opens the nats.c library (nats_Open) if no one has
 * yet, since a natsMsg cannot be destroyed without it. Statuses as
 * lt_ce_validate, plus LT_ERR_IO (no random source for the id),
 * LT_ERR_NOMEM, LT_ERR_TRANSPORT (nats.c failure).
 */
LT_NODISCARD lt_status lt_ce_to_msg(natsMsg **new_msg, const char *subject, const lt_ce_event *ev);

/**
 * Build a binary-mode message whose data is the protobuf-c message m, packed
 * (application/protobuf) or, with json, encoded with lt_pbjson_encode
 * (application/json). attrs gives the other attributes; its data,
 * data_len and datacontenttype are ignored. Statuses as lt_ce_to_msg, plus
 * those of lt_pbjson_encode.
 */
LT_NODISCARD lt_status lt_ce_to_msg_proto(natsMsg **new_msg, const char *subject,
                                          const lt_ce_event *attrs, const ProtobufCMessage *m,
                                          bool json);

/**
 * Decode a received message (binary or structured mode) into ce, which must
 * be initialised (anything it held is released first). msg is only read
 * (nats.c parses headers lazily, hence not const); it stays the caller's.
 * On error ce is left empty.
 *   LT_ERR_INVALID  - a missing/empty required attribute, bad name or value,
 *                     duplicate attribute, specversion not "1.0", bad time,
 *                     data without a content type, ...
 *   LT_ERR_UNSUPPORTED - a media type we do not decode (data or event format)
 *   LT_ERR_TOO_BIG  - a header value over LT_MAX_HEADER_VALUE (decoded), data
 *                     over LT_MAX_MESSAGE, more than LT_CE_MAX_EXTENSIONS
 *                     extensions or LT_CE_MAX_HEADERS headers
 *   LT_ERR_PARSE    - structured mode: not JSON, or not a JSON object
 *   LT_ERR_NOMEM
 */
LT_NODISCARD lt_status lt_ce_from_msg(lt_ce *ce, natsMsg *msg);

/**
 * Decode one event in the JSON event format (structured mode) from len
 * bytes (need not be NUL-terminated). Strict: duplicate keys, non-string core
 * attributes, fractional or out-of-range integer extensions, nesting deeper
 * than LT_MAX_JSON_DEPTH, both "data" and "data_base64" are refused. "data"
 * with a JSON datacontenttype (or none: then it is set to application/json)
 * becomes its compact JSON text; with another type it must be a string.
 * Statuses as lt_ce_from_msg.
 */
LT_NODISCARD lt_status lt_ce_from_json(lt_ce *ce, const void *json, size_t len);

/**
 * Encode ev in the JSON event format (compact, members in a fixed order):
 * JSON data is embedded as a JSON value (it must parse), other data goes in
 * "data_base64". id must be set; a NULL time is left out. *new_json is a
 * NUL-terminated heap string (free with lt_free); *out_len (optional) its
 * length.
 * Statuses as lt_ce_validate, plus LT_ERR_PARSE (JSON data that is not
 * JSON), LT_ERR_TOO_BIG (over LT_MAX_MESSAGE), LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_ce_to_json(char **new_json, size_t *out_len, const lt_ce_event *ev);

/**
 * Decode the event's data into a new protobuf-c message of type desc:
 * protobuf data with protobuf_c_message_unpack, JSON data with
 * lt_pbjson_decode (strict: unknown fields refused). *out is freed by the
 * caller with protobuf_c_message_free_unpacked(*out, NULL).
 * LT_ERR_INVALID (no data type, or protobuf that does not unpack, or JSON
 * that does not fit desc), LT_ERR_PARSE (not JSON), LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_ce_unpack(const lt_ce *ce, const ProtobufCMessageDescriptor *desc,
                                    ProtobufCMessage **out);

/**
 * Classify a media type ("application/json; charset=utf-8"): type/subtype
 * compared case-insensitively, parameters allowed. *out gets the kind.
 * LT_ERR_INVALID when it is not a media type, LT_ERR_UNSUPPORTED when it is
 * one we do not decode.
 */
LT_NODISCARD lt_status lt_ce_classify(const char *media_type, lt_ce_datatype *out);


#endif
