/*
 * otlp_recv.h - a tiny OTLP/HTTP JSON receiver for the tests: an HTTP/1.1
 * server on a loopback port in the test process that answers every POST 200
 * and keeps the spans of the ExportTraceServiceRequests it was sent.
 */
#ifndef OTLP_RECV_H
#define OTLP_RECV_H

#include <jansson.h>
#include <stdbool.h>

typedef struct otlp_recv otlp_recv;

/** Listen on 127.0.0.1 (a free port); NULL on failure. */
otlp_recv *otlp_recv_start(void);

/** The endpoint URL to give the exporter (http://127.0.0.1:PORT/v1/traces); borrowed. */
const char *otlp_recv_url(const otlp_recv *r);

/**
 * A copy (json_decref) of the spans received so far, each span object with its
 * service.name added as "_service". Bodies that were not valid OTLP JSON count in *bad.
 */
json_t *otlp_recv_spans(otlp_recv *r, int *bad);

/** Stop the server and free it. NULL-safe. */
void otlp_recv_stop(otlp_recv *r);

#endif
