/*
 * lt_trace_otlp.h - finished spans exported over OTLP/HTTP with the JSON
 * encoding (POST {endpoint} of an ExportTraceServiceRequest), batched on the
 * exporter's own thread through a bounded queue: recording a span never
 * blocks; when the queue is full the span is dropped and counted. One
 * exporter per process; recording is a no-op while none runs.
 */
#ifndef LT_TRACE_OTLP_H
#define LT_TRACE_OTLP_H

#include <stdbool.h>
#include <stdint.h>

#include "lt_status.h"
#include "lt_trace.h"

/** OTLP span kinds (opentelemetry.proto.trace.v1.Span.SpanKind). */
typedef enum {
    LT_TRACE_KIND_INTERNAL = 1,
    LT_TRACE_KIND_SERVER = 2,
    LT_TRACE_KIND_CLIENT = 3,
    LT_TRACE_KIND_PRODUCER = 4,
    LT_TRACE_KIND_CONSUMER = 5,
} lt_trace_kind;

/** OTLP span status codes (opentelemetry.proto.trace.v1.Status.StatusCode). */
typedef enum {
    LT_TRACE_STATUS_UNSET = 0, /**< the default: the operation was not marked either way */
    LT_TRACE_STATUS_OK = 1,    /**< explicitly marked successful */
    LT_TRACE_STATUS_ERROR = 2,
} lt_trace_status;

#define LT_TRACE_MAX_ATTRS 4

/** A finished span: copied by lt_trace_otlp_record, so all of it may live on the stack. */
typedef struct {
    lt_trace_ctx ctx;
    uint8_t parent_span_id[8]; /**< all zero: a root span */
    char name[64];
    lt_trace_kind kind;
    uint64_t start_ns, end_ns; /**< Unix epoch nanoseconds (lt_trace_now_ns) */
    lt_trace_status status;    /**< zero-initialised: UNSET */
    struct {
        char key[32];
        char value[160];
    } attrs[LT_TRACE_MAX_ATTRS]; /**< used up to the first empty key */
} lt_trace_span;

/** Wall-clock time in Unix epoch nanoseconds. */
uint64_t lt_trace_now_ns(void);

/**
 * Set attribute i of s (0 <= i < LT_TRACE_MAX_ATTRS); key and value are copied, truncated to
 * their fields at a UTF-8 character boundary (never inside a multi-byte sequence); a byte that
 * is not valid UTF-8 becomes '?'. NULL is "".
 */
void lt_trace_span_attr(lt_trace_span *s, int i, const char *key, const char *value);

/** Set the name of s: copied and truncated like lt_trace_span_attr's values. */
void lt_trace_span_name(lt_trace_span *s, const char *name);

/**
 * Start the process's exporter: spans go to endpoint (an OTLP/HTTP traces URL, e.g.
 * http://127.0.0.1:4318/v1/traces) with resource attribute service.name = service. Batches of
 * up to 256 spans leave at most 200 ms after their first span. LT_ERR_INVALID when one runs
 * already or the endpoint is not http(s)://; LT_ERR_NOMEM / LT_ERR_IO when it cannot start.
 */
LT_NODISCARD lt_status lt_trace_otlp_start(const char *endpoint, const char *service);

/**
 * Stop the exporter: send what is queued (each POST 2 s at most; once the endpoint has failed,
 * what is left is dropped), join its thread.
 */
void lt_trace_otlp_stop(void);

/** True while an exporter runs (callers may skip building spans otherwise). */
bool lt_trace_otlp_enabled(void);

/**
 * Queue a finished span for export: never blocks; dropped and counted when the queue is full.
 * A span whose context is not sampled (flags bit 0 clear, e.g. a traceparent ending in -00) is
 * not exported (its context still propagates: that is the callers'). A span is made
 * well-formed on the way: no end time (0) is now, a start time of 0 or after the end is the
 * end.
 */
void lt_trace_otlp_record(const lt_trace_span *s);

/** Spans dropped because the queue was full, and batches the endpoint did not accept. */
uint64_t lt_trace_otlp_dropped(void);
uint64_t lt_trace_otlp_failed(void);

#endif
