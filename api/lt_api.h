/*
 * lt_api.h - the wadm-compatible NATS API of latticed: request/reply on
 * `{prefix}.{lattice}.model.{op}[.{name}]` (queue group, so every replica
 * serves), wadm's JSON shapes, result words and error texts, plus
 * latticed's additions (model.apply, model.rollback, a real model.history).
 * Handlers only read and write the store (JetStream KV): they keep no
 * state of their own and run on a set of worker threads. Reference: docs/api.md.
 */
#ifndef LT_API_H
#define LT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <nats/nats.h>

#include "lt_buf.h"
#include "lt_hist.h"
#include "lt_model.h"
#include "lt_status.h"
#include "lt_store.h"
#include "lt_subject.h"

#define LT_API_DEFAULT_PREFIX LT_SUBJECT_API_PREFIX
#define LT_API_DEFAULT_QUEUE "latticed_api"
#define LT_API_MAX_REPLY (8u << 20)     /**< bytes of one reply we build (list of many apps) */
#define LT_API_DEFAULT_WORKERS 8u       /**< handler threads of lt_api_start */
#define LT_API_DEFAULT_TIMEOUT_MS 8000u /**< lt_api_config.timeout_ms: below latticectl's 10 s */
#define LT_API_MAX_WORKERS 64u          /**< most handler threads */
#define LT_API_QUEUE_PER_WORKER 1024u   /**< requests waiting per worker before intake blocks */
#define LT_API_QUEUE_BYTES_PER_WORKER (16u << 20) /**< or request bytes (the largest fits) */

typedef struct {
    const char *prefix; /**< subject prefix; NULL = LT_API_DEFAULT_PREFIX (dots/spaces trimmed) */
    const char *queue;  /**< queue group; NULL = LT_API_DEFAULT_QUEUE */
    size_t max_request; /**< bytes of a request body we accept; 0 = LT_MAX_MANIFEST_BYTES */
    unsigned workers;   /**< lt_api_start: handler threads; 0 = LT_API_DEFAULT_WORKERS */
    /** lt_api_start: the KV round trips of a request end this long after it arrived
     * (lt_store_deadline_set); 0 = LT_API_DEFAULT_TIMEOUT_MS */
    unsigned timeout_ms;
    const char *sched_prefix; /**< the scheduler's subject prefix, where model.plan asks the
                                   lattice's leader; NULL = LT_SUBJECT_LATTICE_PREFIX */
} lt_api_config;

typedef struct lt_api lt_api;

/**
 * CONSTRUCTOR. Queue-subscribe `{prefix}.>` on nc and serve requests with
 * store (both must outlive the server). Requests are parsed on the
 * subscription's nats.c thread and handled by cfg->workers threads: requests
 * naming the same app (lattice and app name; a put's name is the manifest's)
 * run one at a time in arrival order, others side by side. LT_ERR_INVALID
 * for an empty or malformed prefix or a worker count over
 * LT_API_MAX_WORKERS, LT_ERR_TRANSPORT, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_api_start(lt_api **new_api, natsConnection *nc, lt_store *store,
                                    const lt_api_config *cfg);

/**
 * DESTRUCTOR. Unsubscribe and wait until a request being handled has been
 * answered; no handler runs afterwards. NULL-safe.
 */
void lt_api_stop(lt_api *api);

/** One request, independent of the transport. */
typedef struct {
    const char *subject;      /**< full subject */
    const char *content_type; /**< Content-Type header value, or NULL */
    const char *data;         /**< body (need not be NUL-terminated) */
    size_t len;
    bool replace; /**< put: header `Latticed-Replace: true` (latticed extension, docs/api.md) */
} lt_api_request;

/**
 * Handle one request against store and append the JSON reply to reply (the
 * same bytes the server sends). Business errors are replies, not statuses:
 * LT_OK whenever a reply was written; LT_ERR_NOMEM / LT_ERR_TOO_BIG (reply
 * over its limit) otherwise. Thread-safe.
 */
LT_NODISCARD lt_status lt_api_handle(lt_store *store, const lt_api_config *cfg,
                                     const lt_api_request *req, lt_buf *reply);

/* ---------------------------------------------------------------------------------------------
 * Deploy checks: wadm's deploy rules (model/deploy_check.c, docs/api.md) answered from the
 * store, so that a deploy the scheduler would hold back is refused in the reply.
 * ------------------------------------------------------------------------------------------- */

/**
 * May m be deployed in lattice? lt_model_check_deploy with the store's answers: no explicit
 * component id of m is deployed by another app of the lattice, and every shared reference
 * (`application:`) names an app that is deployed, whose latest version is
 * shared and has a component of that name and kind. LT_OK when it may;
 * LT_ERR_REFUSED with wadm's message appended to msg when not; store
 * statuses (LT_ERR_TRANSPORT...) when the check could not be made.
 */
LT_NODISCARD lt_status lt_api_check_deploy(lt_store *store, const char *lattice, const lt_model *m,
                                           lt_buf *msg);

/**
 * The shared references of m that cannot be satisfied now, as wadm's
 * list text (`["a", "b"]`) appended to names; *count gets how many (0: all
 * fine, nothing appended). Store statuses on failure.
 */
LT_NODISCARD lt_status lt_api_shared_missing(lt_store *store, const char *lattice,
                                             const lt_model *m, lt_buf *names, size_t *count);

/**
 * Explicit component ids of m (borrowed pointers into m) in *ids (lt_free
 * the array), *count of them. LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_api_explicit_ids(const lt_model *m, const char ***ids, size_t *count);

/* ---------------------------------------------------------------------------------------------
 * Counters for the admin listener's /metrics (api_stats.c)
 * ------------------------------------------------------------------------------------------- */

#define LT_API_STAT_OPS 14     /**< the operations, then "invalid" (no route) */
#define LT_API_STAT_RESULTS 11 /**< the reply's "result" words, then "other" */

/** Requests answered so far by operation and result, and their latency by operation. */
typedef struct {
    uint64_t requests[LT_API_STAT_OPS][LT_API_STAT_RESULTS];
    lt_hist_snap latency[LT_API_STAT_OPS]; /**< receipt to reply sent */
} lt_api_stats;

/** The label word of operation i < LT_API_STAT_OPS ("put", "get", ... "invalid"). */
const char *lt_api_stat_op_name(size_t i);

/** The label word of result i < LT_API_STAT_RESULTS ("success", ... "error", "other"). */
const char *lt_api_stat_result_name(size_t i);

/** Copy api's counters (any thread; each counter is read atomically). */
void lt_api_stats_get(lt_api *api, lt_api_stats *out);

#endif
