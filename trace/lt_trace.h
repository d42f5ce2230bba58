/*
 * lt_trace.h - W3C Trace Context (https://www.w3.org/TR/trace-context/): the
 * `traceparent` header parsed and formatted, new traces and child spans. The
 * header travels on NATS messages: API requests, host commands, host events.
 */
#ifndef LT_TRACE_H
#define LT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_status.h"

/** The NATS header that carries the context (CloudEvents distributed-tracing extension). */
#define LT_TRACE_HEADER "traceparent"
/** Length of a version-00 traceparent: "00-" 32 hex "-" 16 hex "-" 2 hex. */
#define LT_TRACE_PARENT_LEN 55
/** Buffer sizes of the hex texts, NUL included. */
#define LT_TRACE_ID_HEX 33
#define LT_TRACE_SPAN_HEX 17

/** A span's context: the trace it belongs to, its own id and the trace flags. */
typedef struct {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t flags; /**< bit 0: sampled */
} lt_trace_ctx;

/**
 * Parse a traceparent value of len bytes (not NUL-terminated). Accepts version 00 of exactly
 * 55 bytes and, per the spec, a later version (not ff) of at least 55 bytes whose 56th byte is
 * '-' (the rest ignored). Lowercase hex only; an all-zero trace or parent id is invalid.
 * LT_ERR_INVALID (out untouched) for anything else.
 */
LT_NODISCARD lt_status lt_trace_parse(const char *s, size_t len, lt_trace_ctx *out);

/** Format c as a version-00 traceparent into out (LT_TRACE_PARENT_LEN + 1 bytes). */
void lt_trace_format(const lt_trace_ctx *c, char out[LT_TRACE_PARENT_LEN + 1]);

/** A new trace: random trace and span ids (never all zero), flags 01 (sampled). */
void lt_trace_new(lt_trace_ctx *out);

/** A child span of parent: the same trace id and flags, a new random span id. */
void lt_trace_child(const lt_trace_ctx *parent, lt_trace_ctx *out);

/** The trace id as 32 lowercase hex digits. */
void lt_trace_id_hex(const lt_trace_ctx *c, char out[LT_TRACE_ID_HEX]);

/** The span id as 16 lowercase hex digits. */
void lt_trace_span_hex(const lt_trace_ctx *c, char out[LT_TRACE_SPAN_HEX]);

#endif
