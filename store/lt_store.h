/*
 * lt_store.h - the JetStream assets latticed keeps its state in, created
 * idempotently at start-up: KV buckets for manifests (every version of every
 * app, per lattice) and app status, and a size-bounded stream for the control
 * plane's own CloudEvents. Replica count and storage type are configurable
 * (1 replica for --dev, 3 in a cluster).
 */
#ifndef LT_STORE_H
#define LT_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <nats/nats.h>

#include "lt_status.h"

#define LT_STORE_MANIFEST_BUCKET "latticed_manifests"
#define LT_STORE_STATUS_BUCKET   "latticed_status"
#define LT_STORE_EVENTS_STREAM   "latticed_events"

typedef struct {
    const char *manifest_bucket; /**< NULL = LT_STORE_MANIFEST_BUCKET */
    const char *status_bucket;   /**< NULL = LT_STORE_STATUS_BUCKET */
    const char *events_stream;   /**< NULL = LT_STORE_EVENTS_STREAM */
    const char *events_subjects; /**< subjects of the events stream; NULL = "lattice.*.evt.cp.>" */
    int replicas;                /**< 1..5; 0 = 1 */
    bool memory;                 /**< memory storage instead of file */
    int64_t events_max_bytes;    /**< bound of the events stream; 0 = 64 MiB */
} lt_store_config;

/**
 * Create every bucket and stream that does not exist yet; existing ones are
 * kept (a changed events bound is applied). Safe to call from several
 * replicas at once. LT_ERR_TRANSPORT with a reason naming the asset when
 * JetStream refuses (e.g. JetStream not enabled).
 */
LT_NODISCARD lt_status lt_store_ensure_assets(jsCtx *js, const lt_store_config *cfg);

#endif
