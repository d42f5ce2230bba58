/*
 * api_int.h - internals of the API module: the request parser that reads no
 * store (lt__api_parse, fuzzed by tests/fuzz/fuzz_api.c), the parsed request
 * handed to each handler, reply builders and the handlers themselves. Not a
 * public header.
 */
#ifndef LT_API_INT_H
#define LT_API_INT_H

#include <jansson.h>
#include <nats/nats.h>

#include "lt_api.h"
#include "lt_limits.h"
#include "lt_trace.h"

/** The operations of `{prefix}.{lattice}.model.{op}[.{name}]`. */
typedef enum {
    LT__OP_PUT,
    LT__OP_APPLY,
    LT__OP_LIST,
    LT__OP_LIST_BARE,
    LT__OP_GET,
    LT__OP_VERSIONS,
    LT__OP_DEL,
    LT__OP_DEPLOY,
    LT__OP_UNDEPLOY,
    LT__OP_ROLLBACK,
    LT__OP_STATUS,
    LT__OP_HISTORY,
    LT__OP_PLAN, /**< latticed extension: what applying would do (api_plan.c) */
} lt__api_op;

/** What a request's body says, parsed before the store is touched (lt__api_parse). */
typedef struct {
    char *version;   /**< get/del/deploy/rollback: the body's "version" (heap); NULL when absent */
    lt_model *model; /**< put/apply: the valid manifest, its version annotation set */
    char *canon;     /**< put/apply: model's canonical JSON (lt_free; apply may replace it) */
    size_t canon_len;
    bool assigned; /**< put/apply: the version is a ULID assigned here, not the sender's */
} lt__api_body;

/** Free what body holds and empty it. NULL-safe. */
void lt__api_body_cleanup(lt__api_body *body);

typedef struct {
    lt_store *store;          /**< NULL while parsing (lt__api_parse never touches the store) */
    const char *subject;      /**< full subject */
    const char *lattice;      /**< validated lattice token (in tok) */
    const char *name;         /**< object token (in tok), NULL when absent */
    const char *content_type; /**< NULL when absent */
    bool replace;             /**< put: `Latticed-Replace: true` (latticed extension) */
    bool if_undeployed;       /**< del: `Latticed-If-Undeployed: true` (latticed extension):
                                   refuse what would undeploy the app */
    const char *data;
    size_t len;
    size_t max_request;
    lt__api_op op;
    lt__api_body *body; /**< the parsed body; handlers may take what it holds */
    lt_buf *raw;        /**< the reply buffer: a handler may write its reply there itself and
                             return lt__api_raw_written() */
    struct lt__api_list_cache *list_cache; /**< the server's list cache; NULL: none */
    natsConnection *nc;       /**< the server's connection (model.plan asks the leader); NULL in
                                   lt_api_handle */
    const char *sched_prefix; /**< the scheduler's subject prefix (model.plan) */
    char traceparent[LT_TRACE_PARENT_LEN + 1]; /**< the request's span (W3C traceparent): a
                                                    deploy stores it in the index; "" if none */
    char tok[4][LT_MAX_TOKEN + 1];
} lt__api_req;

/**
 * Parse one request without touching the store (the part of lt_api_handle
 * that reads untrusted input): wadm's subject grammar under prefix (already
 * trimmed), then the body its operation takes (a `{"version"}` object for
 * get/del/deploy/rollback, a manifest for put/apply). r->subject,
 * content_type, data, len and max_request are the input; on success
 * r->op, lattice, name are set, *body is filled and *err_reply is NULL. A
 * request wadm refuses before reading the store gets its error reply in
 * *err_reply (caller json_decref) and an empty *body. LT_ERR_NOMEM when
 * neither could be built. The caller lt__api_body_cleanup()s body in every case.
 */
LT_NODISCARD lt_status lt__api_parse(const char *prefix, lt__api_req *r, lt__api_body *body,
                                     json_t **err_reply);

/* Handlers: each returns a new reply value (NULL only when out of memory). */
json_t *lt__api_put(const lt__api_req *r);
json_t *lt__api_apply(const lt__api_req *r);
json_t *lt__api_get(const lt__api_req *r);
json_t *lt__api_list(const lt__api_req *r, bool bare);
json_t *lt__api_versions(const lt__api_req *r);
json_t *lt__api_delete(const lt__api_req *r);
json_t *lt__api_deploy(const lt__api_req *r);
json_t *lt__api_undeploy(const lt__api_req *r);
json_t *lt__api_rollback(const lt__api_req *r);
json_t *lt__api_status(const lt__api_req *r);
json_t *lt__api_history(const lt__api_req *r);

/** What a handler returns when it wrote its reply to r->raw itself (not a reply value). */
json_t *lt__api_raw_written(void);

/* ---- the list (api_list.c) ----------------------------------------------------------------- */

#define LT__API_LIST_CACHE_BYTES (64u << 20) /**< summary texts kept per lattice */

typedef struct lt__api_list_cache lt__api_list_cache;

/** CONSTRUCTOR. An empty cache of app summaries for lists. NULL when out of memory. */
lt__api_list_cache *lt__api_list_cache_new(void);

/** DESTRUCTOR. No list may be running. NULL-safe. */
void lt__api_list_cache_free(lt__api_list_cache *c);

/** {"result":"error","message":<fmt>}. */
json_t *lt__api_err(const char *fmt, ...) LT_PRINTF(1, 2);

#define LT__API_STORAGE_ERROR "Internal storage error" /**< wadm's text for any store failure */
#define LT__API_STORE_ERROR_MAX 1024                   /**< lt__api_store_error's buffer */

/**
 * The message for a request whose store call failed with st (lt_error_message() still holds its
 * detail), written into buf (cap bytes; LT__API_STORE_ERROR_MAX holds every one): the detail
 * itself when the outcome is unknown (LT_ERR_AMBIGUOUS); wadm's "Internal storage error"
 * followed by the cause and the detail when the store did not answer in time (LT_ERR_TIMEOUT)
 * or could not be reached (LT_ERR_TRANSPORT, LT_ERR_CLOSED), with "nothing was changed" for a
 * write, which the store guarantees for those; the bare wadm text for anything else. Returns buf.
 */
const char *lt__api_store_error(lt_status st, bool write, char *buf, size_t cap);

/** A string value that may be NULL (-> null). */
json_t *lt__api_str_or_null(const char *s);

/**
 * Parse a manifest request body the way wadm's put does (content type, then
 * sniffing). On success *m is the valid model with its version annotation
 * set (a ULID assigned when none: *assigned true) and *canon its canonical
 * JSON (lt_free). On failure *m is NULL and *err_reply gets wadm's error reply.
 */
void lt__api_parse_manifest(const lt__api_req *r, lt_model **m, char **canon, size_t *canon_len,
                            bool *assigned, json_t **err_reply);

/**
 * The index of app r->name: from the store's view, but from KV when version (a version the
 * request names; NULL or "latest": none) is not in the view's copy, since this replica's view
 * may lag a put another replica answered. Store statuses (LT_ERR_NOT_FOUND...).
 */
LT_NODISCARD lt_status lt__api_app_get(const lt__api_req *r, const char *version,
                                       lt_store_app **app);

/** Canonical JSON of version v (NULL: latest) parsed into a model (JSON). */
LT_NODISCARD lt_status lt__api_load_model(lt_store *s, const lt_store_app *app, const char *v,
                                          lt_model **m, char **json, size_t *len);

/** Status object of an app as model.status returns it (stored, or wadm's defaults). */
json_t *lt__api_app_status(lt_store *s, const char *lattice, const char *name,
                           const lt_store_app *app, const char *stored_json);

/** {"result","message","name","version"} (DeployModelResponse). */
json_t *lt__api_deploy_reply(const char *result, const char *message, const char *name,
                             const char *version);

/* ---- the workers (api_pool.c) -------------------------------------------------------------- */

typedef struct lt__api_pool lt__api_pool;

/** Run one job on a worker thread; the job is the callee's from then on. */
typedef void (*lt__api_pool_run_fn)(void *job, void *arg);

/**
 * CONSTRUCTOR. Start workers threads (1..LT_API_MAX_WORKERS), each with a FIFO
 * of at most queue jobs and queue_bytes bytes (counted until a job's run
 * returns), that pass each job to run(job, arg). LT_ERR_INVALID, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt__api_pool_new(lt__api_pool **new_pool, size_t workers, size_t queue,
                                        size_t queue_bytes, lt__api_pool_run_fn run, void *arg);

/** The worker for key (a, b) (either may be NULL): always the same one for the same key. */
size_t lt__api_pool_pick(const lt__api_pool *pool, const char *a, const char *b);

/**
 * Queue job, which holds bytes of memory, on worker which (from
 * lt__api_pool_pick). Jobs of one worker run one at a time in push order.
 * Blocks while that worker's queue is full: queue jobs, or bytes that would go
 * past queue_bytes (a job of any size gets in when nothing else is held).
 */
void lt__api_pool_push(lt__api_pool *pool, size_t which, void *job, size_t bytes);

/**
 * DESTRUCTOR. Let every worker run what is queued, then join them. Nothing
 * may push any more. NULL-safe.
 */
void lt__api_pool_free(lt__api_pool *pool);

/* ---- model.plan (api_plan.c) and what it shares with apply (api_apply.c) ---------------- */

/**
 * apply's decision without writing anything: compare the request's manifest m with what is
 * stored. *put says whether apply would store a new version; an unchanged manifest without a
 * version gets the stored version, a changed one without a version a new ULID (*canon is then
 * replaced). Returns apply's error reply (e.g. "Manifest version V already exists"), or NULL.
 */
json_t *lt__api_apply_decide(const lt__api_req *r, lt_model *m, bool had_version, char **canon,
                             size_t *canon_len, bool *put);

/** model.plan (latticed extension, docs/api.md): apply's checks, then the leader's plan. */
json_t *lt__api_plan(const lt__api_req *r);

/* api_stats.c: the counters behind lt_api_stats_get */
typedef struct {
    _Atomic uint64_t requests[LT_API_STAT_OPS][LT_API_STAT_RESULTS];
    lt_hist latency[LT_API_STAT_OPS];
} lt__api_stats;

/**
 * Count one answered request: r's operation (r->lattice NULL: no route, "invalid"), the
 * result word at the start of the reply text, the time since t0_ns (lt_hist_now_ns).
 */
void lt__api_stats_note(lt__api_stats *st, const lt__api_req *r, const char *reply, size_t len,
                        int64_t t0_ns);

/** Copy st into out. */
void lt__api_stats_read(lt__api_stats *st, lt_api_stats *out);

#endif
