/*
 * host_int.h - internals of the reference thin host (host/), shared by its
 * files and its unit tests: a string-keyed hash table, key/value lists,
 * instances and links, the per-host state with its epoch fence, the
 * protocol handlers (decode a command, apply it through a backend, encode
 * the reply), CloudEvents publishing, runner mapping and label templates.
 * Everything here runs on the loop thread only.
 */
#ifndef LT_HOST_INT_H
#define LT_HOST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nats/nats.h>
#include <protobuf-c/protobuf-c.h>

#include "latticed/host/v1/command.pb-c.h"
#include "latticed/host/v1/host.pb-c.h"
#include "latticed/host/v1/types.pb-c.h"
#include "lt_buf.h"
#include "lt_limits.h"
#include "lt_map.h"
#include "lt_status.h"

/* Short names for the generated protocol types. */
typedef Latticed__Host__V1__InstanceSpec hpb_spec;
typedef Latticed__Host__V1__Instance hpb_inst;
typedef Latticed__Host__V1__LinkSpec hpb_link;
typedef Latticed__Host__V1__ItemResult hpb_result;
#define HRC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x
#define HIS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

#define LT_HOST_MAX_ITEMS 10000u            /**< items in one command batch */
#define LT_HOST_MAX_ID 128u                 /**< bytes in an instance or link id */
#define LT_HOST_MAX_REQUEST_ID 256u         /**< bytes in a request_id */
#define LT_HOST_MAX_PLACEMENT 64u           /**< bytes in a placement (Instance, StopItem) */
#define LT_HOST_MAX_REF (LT_MAX_PATH + 16u) /**< bytes in an image_ref (file:// + a path) */

/** protobuf-c allocator routed through lt_malloc/lt_free. */
extern ProtobufCAllocator lt__host_pb_alloc;

/* ---- key/value lists and small parsers (util.c) --------------------------- */

typedef struct {
    char *key, *val;
} lt__host_kv;
typedef struct {
    lt__host_kv *v;
    size_t n, cap;
} lt__host_kvs;

/** Set key to val (replacing an existing key); both copied. LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__host_kvs_set(lt__host_kvs *l, const char *key, const char *val);
/** Value of key (borrowed) or NULL. */
const char *lt__host_kvs_get(const lt__host_kvs *l, const char *key);
void lt__host_kvs_cleanup(lt__host_kvs *l);

/**
 * True when s is a valid single subject token: 1..max bytes of printable
 * ASCII without '.', '*', '>' or whitespace.
 */
bool lt__host_token_ok(const char *s, size_t max);

/** True for a subject prefix: one or more valid tokens joined by '.'. */
bool lt__host_prefix_ok(const char *s);

/** True for an instance or link id: a token that is also a safe file name
 *  ([A-Za-z0-9._:-], not starting with '.'). */
bool lt__host_id_ok(const char *s);

/**
 * Parse a duration: an integer followed by ms, s or m (bare = seconds),
 * e.g. "250ms", "5s", "2m". LT_ERR_INVALID with a message naming what.
 */
LT_NODISCARD lt_status lt__host_parse_duration_ms(const char *what, const char *s, int64_t *out);

/** Parse a byte size: integer with optional K, M, G, T (x1000) or Ki, Mi,
 *  Gi, Ti (x1024) suffix, e.g. "512Mi". LT_ERR_INVALID. */
LT_NODISCARD lt_status lt__host_parse_size(const char *what, const char *s, uint64_t *out);

/**
 * Expand a label template for host number index with id host_id:
 * "{i}" -> index, "{i%M}" -> index mod M, "{i/M}" -> index / M,
 * "{id}" -> host_id, "{a|b|c}" -> the (index mod 3)th choice, "{{" / "}}" ->
 * literal braces. *out is a heap string (lt_free). LT_ERR_INVALID for an
 * unknown or unterminated placeholder.
 */
LT_NODISCARD lt_status lt__host_label_expand(const char *tmpl, size_t index, const char *host_id,
                                             char **out);

/** Split "k=v" (key a non-empty token without '=') and set it in l. */
LT_NODISCARD lt_status lt__host_label_add(lt__host_kvs *l, const char *kv, size_t index,
                                          const char *host_id);

/* ---- runner mapping (runner.c) -------------------------------------------- */

typedef struct {
    char *prefix;  /**< image_ref prefix, e.g. "ghcr.io/" */
    char *command; /**< /bin/sh -c command; $1 and $LATTICE_IMAGE_REF hold the ref */
} lt__host_runner;

typedef struct {
    lt__host_runner *v;
    size_t n, cap;
    char *default_cmd; /**< for refs no prefix matches; NULL = refuse them */
    char *file_root;   /**< file:// paths must lie under it; NULL = anywhere */
    bool no_file;      /**< refuse file:// refs */
} lt__host_runners;

/** How an image_ref is run. */
typedef struct {
    const char *path; /**< file://: the executable (borrowed from the ref), or the wasm runtime */
    const char *command;       /**< runner: shell command (borrowed from the table) */
    const char *wasm;          /**< a file:// .wasm component (borrowed from the ref): run as
                              `path verb wasm`, path being wasmtime; NULL otherwise */
    const char *verb;          /**< with wasm: "run", or "serve" for an HTTP component */
    char runtime[LT_MAX_PATH]; /**< where path points for a wasm component */
} lt__host_plan;

/** Add "PREFIX=COMMAND" (split at the first '='). LT_ERR_INVALID, LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__host_runners_add(lt__host_runners *r, const char *spec);
void lt__host_runners_cleanup(lt__host_runners *r);

/**
 * Decide how to run image_ref: "file:///abs/path" runs that file (it must
 * exist, be a regular file and executable, and lie under file_root when set);
 * "file:///abs/path.wasm" (a component, not executable itself) runs with the
 * first `wasmtime` on PATH, `wasmtime serve` when the component mentions
 * wasi:http/incoming-handler (an HTTP component), `wasmtime run` otherwise,
 * and without wasmtime the default command (a stand-in) or a refusal;
 * anything else the command of the longest matching prefix, else the default
 * command. Returns a ResultCode: OK with *plan filled, or UNSUPPORTED (no
 * runner for the ref), IMAGE_PULL_FAILED (missing or non-executable file),
 * INVALID (malformed file:// ref), with a one-line reason in msg.
 */
int lt__host_runner_resolve(const lt__host_runners *r, const char *image_ref, lt__host_plan *plan,
                            char *msg, size_t msgsize);

/* ---- instances and links (inst.c) ----------------------------------------- */

/** One instance on a host. Strings and arrays live in the same allocation. */
typedef struct lt__host_inst {
    char *id, *app_name, *app_version, *component_name, *component_id, *image_ref;
    char *spec_digest;
    char *secrets_json; /**< JSON array of secret references, or NULL */
    lt__host_kv *annotations, *config;
    size_t n_annotations, n_config;
    uint32_t ordinal, max_instances, cpu_millis;
    uint64_t mem_bytes;
    int state;             /**< Latticed__Host__V1__InstanceState */
    bool reserved;         /**< its resources are counted as reserved */
    int64_t started_at_ms; /**< wall clock when it last entered RUNNING; 0 unset */
    uint32_t restarts;
    char *message; /**< heap detail for FAILED, or NULL */
    uint8_t *enc;  /**< cached packed Instance, or NULL when stale */
    size_t enc_len;
    /* Supervision (real host only; zero in the simulator). */
    pid_t pid;             /**< running child (its process group), 0 none */
    int64_t kill_at_ms;    /**< while STOPPING: SIGKILL deadline (monotonic) */
    int64_t restart_at_ms; /**< monotonic time of a pending restart, 0 none */
    char *stop_reason;     /**< heap reason for instance.stopped, or NULL */
    int64_t crash_at_ms;   /**< simulator: monotonic time of its --crash-after-ms
                                      crash, 0 none */
    char placement[48];    /**< this incarnation: "{epoch}.{n}" (Instance.placement) */
} lt__host_inst;

/** A link installed on a host; packed LinkSpec kept for inventory. */
typedef struct {
    char *id, *source; /* link_id, source_instance_id (same allocation) */
    uint8_t *enc;
    size_t enc_len;
} lt__host_link;

/** CONSTRUCTOR. Copy what the host keeps of spec (state STARTING). */
LT_NODISCARD lt_status lt__host_inst_new(const hpb_spec *spec, lt__host_inst **new_inst);
/** DESTRUCTOR. NULL-safe; does not touch processes or timers. */
void lt__host_inst_free(lt__host_inst *inst);
/** Packed Instance message, cached until the instance changes. LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__host_inst_encoded(lt__host_inst *inst, const uint8_t **data,
                                             size_t *len);
/** Fill *pb (and scratch entries, nann >= n_annotations) with borrowed fields. */
void lt__host_inst_to_pb(const lt__host_inst *inst, hpb_inst *pb,
                         Latticed__Host__V1__Instance__AnnotationsEntry *ents,
                         Latticed__Host__V1__Instance__AnnotationsEntry **ptrs,
                         Google__Protobuf__Timestamp *ts, Latticed__Host__V1__ResourceRequests *rr);

/** CONSTRUCTOR. Pack spec into a new link record. */
LT_NODISCARD lt_status lt__host_link_new(const hpb_link *spec, lt__host_link **new_link);
void lt__host_link_free(lt__host_link *l);

/* ---- one host's state (state.c) ------------------------------------------- */

typedef struct lt__host_state {
    char *id, *lattice, *friendly_name, *version;
    lt__host_kvs labels;
    uint64_t mem_total;    /**< bytes; capacity reported and enforced */
    uint32_t slots_total;  /**< 0 = unlimited */
    uint32_t cpu_total;    /**< millicores */
    bool measure;          /**< report measured free memory and CPU (real host) */
    int64_t started_at_ms; /**< wall clock */
    uint32_t interval_ms;  /**< heartbeat interval */
    uint64_t newest_epoch; /**< epoch fence */
    uint64_t sequence;     /**< heartbeats sent */
    uint64_t starts;       /**< instances created: the n of their placements */
    lt_map insts;          /**< id -> lt__host_inst */
    lt_map links;          /**< id -> lt__host_link */
    uint64_t mem_reserved;
    uint32_t cpu_reserved;
    bool shutting_down;
    size_t index;    /**< number of a simulated host, 0 for a real one */
    lt_buf *started; /**< while a start command is applied: its InstancesStarted (command.c) */
    size_t n_started, started_head; /**< instances in *started; bytes before the first */
} lt__host_state;

/** Initialise h; id, lattice, name, version copied. LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__host_state_init(lt__host_state *h, const char *id, const char *lattice,
                                           const char *name, const char *version);
/** Free instances, links and strings (no processes are touched). NULL-safe. */
void lt__host_state_cleanup(lt__host_state *h);

/**
 * Epoch fence: ResultCode OK when epoch >= newest (and record it as the
 * newest), STALE_EPOCH when older, INVALID for 0. Call it only for a
 * request already found well formed and for h's lattice (lt__host_head_ok,
 * lt__host_item_ok): whatever is fenced here may raise the epoch.
 */
int lt__host_fence(lt__host_state *h, uint64_t epoch);

/** Change inst's state (and message, copied; NULL clears), keeping the
 *  reservation counters and the encoding cache right. */
void lt__host_set_state(lt__host_state *h, lt__host_inst *inst, int state, const char *message);
/** Remove inst from the table, release its reservation, free it; with
 *  drop_links also remove the links whose source it is (a stop; a
 *  replacement keeps them). */
void lt__host_remove(lt__host_state *h, lt__host_inst *inst, bool drop_links);
/** Remove every link whose source instance is source. */
void lt__host_drop_links(lt__host_state *h, const char *source);
/** Slots used: every listed instance (none is STOPPED while listed). */
uint32_t lt__host_slots_used(const lt__host_state *h);

/**
 * Encode a Heartbeat of h into out (appended). ids/nids filter the instances
 * (NULL = all). The instance list is appended from each instance's cached
 * encoding, so a heartbeat costs little more than copying bytes.
 */
LT_NODISCARD lt_status lt__host_heartbeat_encode(lt__host_state *h, char *const *ids, size_t nids,
                                                 lt_buf *out);
/** Encode HostStarted of h into out. */
LT_NODISCARD lt_status lt__host_started_encode(lt__host_state *h, lt_buf *out);
/** Encode HostStopping of h (reason, deadline wall ms) into out. */
LT_NODISCARD lt_status lt__host_stopping_encode(lt__host_state *h, const char *reason,
                                                int64_t deadline_ms, lt_buf *out);

/** Append m packed to out. LT_ERR_TOO_BIG over out's limit. */
LT_NODISCARD lt_status lt__host_pack(const ProtobufCMessage *m, lt_buf *out);
/** Append protobuf field `field` (length-delimited) holding data. */
LT_NODISCARD lt_status lt__host_put_field(lt_buf *out, uint32_t field, const void *data,
                                          size_t len);
/** Append varint field `field` = v (nothing when v is 0, as proto3 does). */
LT_NODISCARD lt_status lt__host_put_uint(lt_buf *out, uint32_t field, uint64_t v);
/** Append string field `field` = s (nothing when s is empty, as proto3 does). */
LT_NODISCARD lt_status lt__host_put_str(lt_buf *out, uint32_t field, const char *s);
/** Wall clock milliseconds. */
int64_t lt__host_wall_ms(void);

/* ---- protocol (command.c) ----------------------------------------------------- */

#define LT_HOST_STARTED_BATCH_MAX (256u << 10) /**< bytes of one instances.started event */

typedef enum {
    LT_HOST_START,
    LT_HOST_STOP,
    LT_HOST_LINK,
    LT_HOST_UNLINK,
    LT_HOST_INVENTORY,
} lt__host_verb;

/** Parse a verb token; false when unknown. */
bool lt__host_verb_parse(const char *s, size_t len, lt__host_verb *out);

/* ---- well-formed requests (valid.c) ------------------------------------------ */

/**
 * The head of a request for verb is well formed: request_id is 1..
 * LT_HOST_MAX_REQUEST_ID printable ASCII bytes, and a start, stop, link or
 * unlink has at least one item (an inventory without ids asks for all).
 * Else false with the reason in why[n].
 */
bool lt__host_head_ok(lt__host_verb verb, const char *request_id, size_t nitems, char *why,
                      size_t n);

/**
 * Item i of the decoded request m (verb's message) is well formed: its ids
 * are valid ids (lt__host_id_ok; an unlink's source may be empty), a start
 * spec has a non-empty image_ref (<= LT_HOST_MAX_REF bytes) and spec_digest
 * (<= LT_HOST_MAX_ID), a stop's placement is empty or printable ASCII of at
 * most LT_HOST_MAX_PLACEMENT bytes. Else false with the reason in why[n].
 */
bool lt__host_item_ok(lt__host_verb verb, const ProtobufCMessage *m, size_t i, char *why, size_t n);

/** What the protocol asks of a runtime (real child processes or simulation). */
typedef struct {
    /**
     * Run inst (state STARTING, listed, resources reserved). Return a
     * ResultCode: OK after setting the state (RUNNING, or STARTING when it
     * will report later); on a failure code, msg holds the reason and the
     * caller marks the instance FAILED.
     */
    int (*start)(void *ctx, lt__host_state *h, lt__host_inst *inst, char *msg, size_t msgsize);
    /**
     * Stop inst. Return true when it is gone now; false when the runtime will
     * call lt__host_stopped() later (state is then STOPPING).
     */
    bool (*stop)(void *ctx, lt__host_state *h, lt__host_inst *inst, uint32_t grace_ms);
    /** Drop inst's runtime silently (it is being replaced or restarted). */
    void (*discard)(void *ctx, lt__host_state *h, lt__host_inst *inst);
    /** The links whose source is inst changed (may be NULL). */
    void (*links_changed)(void *ctx, lt__host_state *h, lt__host_inst *inst);
    /** Publish event type ("instance.started") with the packed payload. */
    void (*emit)(void *ctx, lt__host_state *h, const char *type, const void *data, size_t len);
    void *ctx;
} lt__host_ops;

/**
 * Handle one request body for verb on host h and append the reply to out
 * (CommandReply or InventoryReply; JSON when json, else protobuf). Every
 * input is untrusted: a malformed body gets an INVALID reply, never a crash.
 * Returns LT_OK when out holds a reply; LT_ERR_NOMEM / LT_ERR_TOO_BIG when
 * no reply could be built.
 */
LT_NODISCARD lt_status lt__host_handle(lt__host_state *h, const lt__host_ops *ops,
                                       lt__host_verb verb, const void *body, size_t len, bool json,
                                       lt_buf *out);

/**
 * Handle one request for host h whose verb is the subject's last token (verb,
 * untrusted, NUL-terminated): an unknown verb gets a protobuf CommandReply
 * INVALID naming it, any other lt__host_handle(). *json says whether the body
 * is JSON on entry and whether the reply appended to out is JSON on return.
 * Statuses as lt__host_handle.
 */
LT_NODISCARD lt_status lt__host_request(lt__host_state *h, const lt__host_ops *ops,
                                        const char *verb, const void *body, size_t len, bool *json,
                                        lt_buf *out);

/** The runtime's report that a STOPPING instance is gone: emit
 *  instance.stopped and remove it. */
void lt__host_stopped(lt__host_state *h, const lt__host_ops *ops, lt__host_inst *inst);

/** Emit an instance event: "instance.started", "instance.stopped" (reason)
 *  or "instance.failed" (code, message, will_restart). While a start command is applied
 *  (h->started set) an "instance.started" joins the command's one "instances.started". */
void lt__host_emit_instance(lt__host_state *h, const lt__host_ops *ops, const char *type,
                            lt__host_inst *inst, int code, const char *text, bool will_restart);

/* ---- CloudEvents (ce.c) ------------------------------------------------------ */

/**
 * CONSTRUCTOR. Build a binary-mode CloudEvent message: subject
 * "{prefix}.{lattice}.evt.h.{host_id}.{type}", ce-type "dev.latticed.{type}.v1",
 * ce-source host_id, a fresh ce-id, ce-time now, content-type
 * application/protobuf, data as body. The caller publishes and destroys it.
 * LT_ERR_TOO_BIG (subject), LT_ERR_NOMEM / LT_ERR_TRANSPORT (nats.c).
 */
LT_NODISCARD lt_status lt__host_ce_msg(natsMsg **new_msg, const char *prefix, const char *lattice,
                                       const char *type, const char *host_id, const void *data,
                                       size_t len);

/** Write a random (v4) UUID, 36 chars + NUL, into out[37]. Thread-unsafe PRNG. */
void lt__host_uuid(char out[37]);

#endif
