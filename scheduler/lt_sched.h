/*
 * lt_sched.h - the scheduler/reconciler core of one lattice: host inventory
 * built from native host events, desired instances of every deployed app
 * (wadm's spread maths, daemons, links), placement against host capacity,
 * and the level-triggered diff that turns desired vs observed into batched
 * start/stop/link/unlink commands, with rollout bounds, backoff and status.
 *
 * The core is pure: no NATS, no threads, no clock of its own. Callers feed it
 * decoded messages and the monotonic time, and it answers through the sink
 * (command batches, status changes, control-plane events). It is owned by one
 * thread (the loop): no function here is thread-safe. docs/internals/scheduler.md
 * explains the design.
 */
#ifndef LT_SCHED_H
#define LT_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "latticed/host/v1/command.pb-c.h"
#include "latticed/host/v1/host.pb-c.h"
#include "latticed/host/v1/types.pb-c.h"
#include "lt_buf.h"
#include "lt_model.h"
#include "lt_status.h"
#include "wasmcloud/runtime/v2/workload.pb-c.h"

typedef struct lt_sched lt_sched;
typedef struct lt_sched_spec lt_sched_spec;

/* Owner annotations put on every instance latticed starts (types.proto). */
#define LT_SCHED_ANN_MANAGED_BY "latticed.dev/managed-by"
#define LT_SCHED_ANN_LATTICE "latticed.dev/lattice"
#define LT_SCHED_ANN_APP "latticed.dev/app"
#define LT_SCHED_ANN_VERSION "latticed.dev/version"
#define LT_SCHED_ANN_KIND "latticed.dev/kind" /**< "component" | "capability" */
#define LT_SCHED_ANN_EXTERNAL_CONFIG "latticed.dev/external-config" /**< names, comma-separated */
#define LT_SCHED_MANAGER "latticed"

#define LT_SCHED_ID_LEN 34 /**< "i-"/"l-" + 32 hex digits */

/* ---------------------------------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------------------------------- */

/** Zero-initialise and set what you need; 0 means the default given. */
typedef struct {
    const char *lattice;          /**< required: the lattice this scheduler owns (copied) */
    int64_t host_timeout_ms;      /**< lost after this silence; 0 = 3 x the host's interval */
    uint32_t default_interval_ms; /**< interval assumed for hosts that report none; 0 = 5000 */
    double partition_share;       /**< more than this share of hosts silent over the guard's
                                         window (late by half an interval, or evicted for
                                         silence in the last 2 timeouts) = a partition:
                                         nothing is evicted; 0 = 0.5 */
    uint32_t partition_min_hosts; /**< ...but only when at least this many are silent; 0 = 3 */
    int64_t inventory_ms;         /**< a new term asks every known host for its inventory and
                                         sends nothing until all answered or this long passed;
                                         0 = command_timeout_ms, -1 = no inventory round */
    int64_t warmup_ms;            /**< no commands until this long after start or after taking
                                         the lead (inventory first); 0 = 1.5 x default interval,
                                         < 0 = none */
    int64_t backoff_base_ms;      /**< first retry delay after a failure; 0 = 1000 */
    int64_t backoff_max_ms;       /**< cap of the exponential backoff; 0 = 60000 */
    int64_t command_timeout_ms;   /**< a request without reply has failed; 0 = 5000 */
    int64_t confirm_timeout_ms;   /**< an accepted start not yet seen in the host's inventory
                                         is retried after this; 0 = 3 x default interval */
    int64_t full_pass_ms;         /**< every app is reconciled at least this often; 0 = 5000 */
    int64_t debounce_ms;          /**< a dirty app waits this long for more events; 0 = 20 */
    int64_t burst_max_ms;         /**< while deploys keep coming (each within debounce_ms of
                                         the one before), the pass waits for the burst to end,
                                         this long at most after its first deploy, so one pass
                                         places it all; 0 = 200, < 0 = no waiting */
    size_t max_batch;             /**< items per host request; 0 = 256 */
    uint64_t seed;                /**< jitter PRNG seed; 0 = fixed default */
    bool wasmcloud_v2;            /**< this lattice's hosts are wasmCloud 2.x hosts
                                       (docs/wasmcloud-v2.md): linked components are placed as
                                       one workload, capability components become host
                                       interfaces, nothing is linked
                                       (docs/internals/scheduler.md, "wasmCloud v2 mode") */
} lt_sched_config;

/* ---------------------------------------------------------------------------------------------
 * Output: the sink
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    LT_SCHED_START = 0,
    LT_SCHED_STOP,
    LT_SCHED_LINK,
    LT_SCHED_UNLINK,
    LT_SCHED_INVENTORY, /**< InventoryRequest of everything (count 0); answered by
                             lt_sched_on_inventory */
} lt_sched_verb;

/** Subject token of a verb ("start", "stop", "link", "unlink", "inventory"). */
const char *lt_sched_verb_name(lt_sched_verb v);

/**
 * One request's worth of items for one host. Everything is borrowed and valid only during
 * the sink's send call: the driver copies or packs it (wrapping the items into the verb's
 * request message with epoch, lattice and request id) before returning.
 */
typedef struct {
    lt_sched_verb verb;
    const char *host_id; /**< NULL: every host of the lattice (LT_SCHED_INVENTORY only) */
    uint64_t request_no; /**< give it back to lt_sched_on_reply with the host's answer */
    size_t count;
    /** The items' packed sizes added up (0 for an inventory): with count, a bound on the
     * request's size that spares the driver a sizing pass over every item. */
    size_t items_bytes;
    Latticed__Host__V1__InstanceSpec **starts; /**< verb START */
    Latticed__Host__V1__StopItem **stops;      /**< verb STOP */
    Latticed__Host__V1__LinkSpec **links;      /**< verb LINK */
    Latticed__Host__V1__UnlinkItem **unlinks;  /**< verb UNLINK */
    /** Verb START on a wasmcloud_v2 scheduler: workloads[i] is the workload template of
     * starts[i] (annotations empty: the driver fills them from the InstanceSpec). NULL on
     * native schedulers and for other verbs. */
    const Wasmcloud__Runtime__V2__Workload *const *workloads;
} lt_sched_batch;

/** Status words, wadm's StatusType. */
typedef enum {
    LT_SCHED_DEPLOYED = 0,
    LT_SCHED_UNHEALTHY,
    LT_SCHED_RECONCILING,
    LT_SCHED_WAITING,
    LT_SCHED_UNDEPLOYED,
    LT_SCHED_FAILED,
} lt_sched_state;

/** wadm's word for a state ("deployed", "reconciling", ...). */
const char *lt_sched_state_word(lt_sched_state st);

/**
 * wadm's aggregation: equal states stay, otherwise the more severe wins
 * (failed > undeployed > waiting > reconciling > unhealthy > deployed).
 */
lt_sched_state lt_sched_state_add(lt_sched_state a, lt_sched_state b);

typedef struct {
    void *arg;
    /** Send one batch (see lt_sched_batch). Must not call back into the scheduler. */
    void (*send)(void *arg, const lt_sched_batch *b);
    /**
     * The status of app changed; json is the full status document (docs/internals/scheduler.md,
     * "Status"), state its word. Borrowed for the call. Only called while leading.
     */
    void (*status)(void *arg, const char *app, lt_sched_state state, const char *json);
    /**
     * A control-plane event: type is the subject suffix ("host.lost"), msg one message of
     * latticed/cp/v1/events.proto. Borrowed for the call. Only called while leading.
     */
    void (*event)(void *arg, const char *type, const ProtobufCMessage *msg);
    /**
     * host_id refused our epoch (or reports a newer one), claiming `claimed`. The host gets
     * nothing more until the owner of the lease checks who is wrong: it then either raises
     * the epoch (lt_sched_set_leader), steps down, or calls lt_sched_quarantine. Optional;
     * only called while leading, once per host and claimed value.
     */
    void (*stale)(void *arg, const char *host_id, uint64_t claimed);
} lt_sched_sink;

/* ---------------------------------------------------------------------------------------------
 * Life cycle and leadership
 * ------------------------------------------------------------------------------------------- */

/**
 * CONSTRUCTOR. Create the scheduler of cfg->lattice. now is the monotonic time in ms (warm-up
 * counts from it). sink may be NULL (nothing is sent). LT_ERR_INVALID without a lattice,
 * LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_sched_new(lt_sched **new_s, const lt_sched_config *cfg,
                                    const lt_sched_sink *sink, int64_t now);

/** DESTRUCTOR. NULL-safe. Outstanding requests are forgotten. */
void lt_sched_free(lt_sched *s);

/**
 * Lead (epoch > 0) or follow. A follower keeps its inventory and specs up to date but sends
 * nothing and publishes nothing. Nothing is sent before the warm-up (see config), counted from
 * lt_sched_new, has passed, so a fresh process learns what runs before it acts, while a
 * standby that has been following takes over at once. Outstanding requests of an older epoch
 * are forgotten.
 */
void lt_sched_set_leader(lt_sched *s, bool leading, uint64_t epoch, int64_t now);

/**
 * Publish every app's status again at the next pass, changed or not (what was published while
 * acting was paused did not go out).
 */
void lt_sched_republish(lt_sched *s);

/** True while leading; *epoch (optional) receives the epoch. */
bool lt_sched_leading(const lt_sched *s, uint64_t *epoch);

/**
 * The process's own NATS connection is down (false) or back (true). While down nothing is
 * evicted; when it comes back every host gets a fresh timeout.
 */
void lt_sched_set_connected(lt_sched *s, bool connected, int64_t now);

/**
 * Mark the set of deployed apps as complete (e.g. after the store was read once). Until then
 * instances of apps the scheduler does not know are left alone.
 */
void lt_sched_set_apps_loaded(lt_sched *s, bool loaded);

/* ---------------------------------------------------------------------------------------------
 * Input: host events. host_id is the CloudEvent source; messages of another lattice, with an
 * invalid host id or a host_id field that contradicts the source are refused (LT_ERR_INVALID).
 * ------------------------------------------------------------------------------------------- */

LT_NODISCARD lt_status lt_sched_on_heartbeat(lt_sched *s, const char *host_id,
                                             const Latticed__Host__V1__Heartbeat *hb, int64_t now);
LT_NODISCARD lt_status lt_sched_on_host_started(lt_sched *s, const char *host_id,
                                                const Latticed__Host__V1__HostStarted *m,
                                                int64_t now);
LT_NODISCARD lt_status lt_sched_on_host_stopping(lt_sched *s, const char *host_id,
                                                 const Latticed__Host__V1__HostStopping *m,
                                                 int64_t now);
LT_NODISCARD lt_status lt_sched_on_instance_started(lt_sched *s, const char *host_id,
                                                    const Latticed__Host__V1__InstanceStarted *m,
                                                    int64_t now);
/** A start command's running instances in one event: each taken as its own instance.started;
 *  the first refusal is returned, the other instances are still taken. */
LT_NODISCARD lt_status lt_sched_on_instances_started(lt_sched *s, const char *host_id,
                                                     const Latticed__Host__V1__InstancesStarted *m,
                                                     int64_t now);
LT_NODISCARD lt_status lt_sched_on_instance_stopped(lt_sched *s, const char *host_id,
                                                    const Latticed__Host__V1__InstanceStopped *m,
                                                    int64_t now);
LT_NODISCARD lt_status lt_sched_on_instance_failed(lt_sched *s, const char *host_id,
                                                   const Latticed__Host__V1__InstanceFailed *m,
                                                   int64_t now);

/**
 * The answer to a batch: reply is the decoded CommandReply, or NULL when the request failed
 * in transport (transport says why: LT_ERR_TIMEOUT, LT_ERR_TRANSPORT...). Unknown request
 * numbers are ignored. A STALE_EPOCH answer does not depose: the host is fenced off (nothing
 * more is sent to it or placed on it) and reported to the sink's stale callback.
 */
void lt_sched_on_reply(lt_sched *s, uint64_t request_no,
                       const Latticed__Host__V1__CommandReply *reply, lt_status transport,
                       int64_t now);

/**
 * The answer to an LT_SCHED_INVENTORY batch (NULL reply: transport failure, like
 * lt_sched_on_reply). The heartbeat in it is folded in as the freshest view of the host
 * (unless it may be older than what is known of the host: a newer heartbeat, an instance
 * event since the request was sent, an older process; then it is not used), and the links it lists
 * become known as installed, so links nobody wants any more are removed.
 */
void lt_sched_on_inventory(lt_sched *s, uint64_t request_no,
                           const Latticed__Host__V1__InventoryReply *reply, lt_status transport,
                           int64_t now);

/**
 * The lease owner checked: host_id's claimed epoch is not a real term (we still hold the
 * lease). The host stays fenced off: no placements, no commands; its instances keep counting
 * while reported. Shown as "quarantined" in the hosts inventory, with a host.quarantined
 * control-plane event. Lifted when the epoch rises above the claim or the host restarts.
 */
void lt_sched_quarantine(lt_sched *s, const char *host_id, uint64_t claimed, int64_t now);

/**
 * host_id did not answer a liveness probe (or nobody is subscribed to its subjects any more):
 * it counts as silent past its timeout from now on, so the next lt_sched_tick (which then
 * checks the hosts at once) declares it lost, within the partition guard and never while our
 * own connection is down (lt_sched_set_connected; reconnecting forgives it). Unknown ids are
 * ignored. A later heartbeat revives it as usual.
 */
void lt_sched_host_gone(lt_sched *s, const char *host_id, int64_t now);

/* ---------------------------------------------------------------------------------------------
 * Input: desired state
 * ------------------------------------------------------------------------------------------- */

/**
 * Deploy m (a validated manifest; its version annotation names the version) as the app's
 * desired state, replacing any deployed version (a rolling upgrade). The scheduler keeps
 * what it needs: m may be freed afterwards. Deploying the version already deployed with
 * equal content is a no-op. Cross-app problems (a component id another app uses, a shared
 * reference that does not resolve) do not fail this call: the app reports them as status
 * `failed` and nothing is started for it. LT_ERR_INVALID for a model the scheduler cannot
 * use, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_sched_deploy(lt_sched *s, const lt_model *m, int64_t now);

/**
 * Undeploy app: every instance and link latticed started for it is removed (instances that a
 * deployed app still uses through a shared reference stay until no one uses them).
 * deleted says the app is also gone from the store (reported in app.undeployed). Unknown
 * apps are fine (LT_OK): their leftover instances are cleaned up all the same.
 */
LT_NODISCARD lt_status lt_sched_undeploy(lt_sched *s, const char *app, bool deleted, int64_t now);

/**
 * The deployed version of app is known but its manifest cannot be read (yet). The app stays
 * known and everything it runs is left alone: no start, no stop, no link change, no leftover
 * cleanup, until lt_sched_deploy or lt_sched_undeploy says what is wanted. Its status is
 * `reconciling` with the message "cannot read version {version}: {why}" and its version.
 * Only a definite undeploy stops anything. LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_sched_unreadable(lt_sched *s, const char *app, const char *version,
                                           const char *why, int64_t now);

/* ---------------------------------------------------------------------------------------------
 * Time
 * ------------------------------------------------------------------------------------------- */

/**
 * Do what is due at now: declare silent hosts lost (within the partition guard), expire
 * requests and unconfirmed starts, reconcile dirty apps (all apps every full_pass_ms), send
 * the resulting batches and publish changed statuses. Returns the delay in ms until the
 * next call is useful (always > 0, at most full_pass_ms).
 */
int64_t lt_sched_tick(lt_sched *s, int64_t now);

/* ---------------------------------------------------------------------------------------------
 * Queries (loop thread)
 * ------------------------------------------------------------------------------------------- */

/** Hosts known (alive or unreachable). */
size_t lt_sched_host_count(const lt_sched *s);

/** True while the partition guard holds evictions back. */
bool lt_sched_partitioned(const lt_sched *s);

/**
 * The operator's override of the partition guard: declare every host that
 * is silent past its timeout lost now, even while the guard holds, so their
 * instances are replaced on the hosts that remain. Returns how many hosts
 * were evicted (0 when our own NATS connection is down: then nothing is
 * known about the hosts).
 */
size_t lt_sched_evict_silent(lt_sched *s, int64_t now);

/**
 * Append the host inventory as JSON to out:
 * {"lattice":..,"partitioned":bool,"total":n,"hosts":[{"id","friendly_name","version",
 *  "labels":{..},"capacity":{...},"instances":n,"last_seen_ms":age,
 *  "state":"alive"|"unreachable","driver":"native"|"wasmcloud-v2",
 *  "scheduling":"ready"|"cordoned"|"draining"|"drained"}..],"truncated":bool}
 * sorted by host id; when out's limit would be exceeded the list stops early and "truncated"
 * says so (a fleet of 10,000 hosts is more than one NATS message).
 */
LT_NODISCARD lt_status lt_sched_hosts_json(const lt_sched *s, int64_t now, lt_buf *out);

/* ---------------------------------------------------------------------------------------------
 * Scheduling eligibility of hosts (drain.c): cordon, drain, uncordon
 * ------------------------------------------------------------------------------------------- */

/** What the operator asked of a host (kept by host id, known or not, until set back). */
typedef enum {
    LT_SCHED_HOST_READY = 0, /**< placements allowed */
    LT_SCHED_HOST_CORDONED,  /**< nothing new placed there; what runs stays */
    LT_SCHED_HOST_DRAINING,  /**< cordoned, and its instances are moved off within the app's
                                  rollout bound (replacements first, like an upgrade) */
} lt_sched_host_mode;

/** "ready", "cordoned", "draining". */
const char *lt_sched_host_mode_word(lt_sched_host_mode m);

/** Parse a word of lt_sched_host_mode_word; false when it is none. */
bool lt_sched_host_mode_parse(const char *word, lt_sched_host_mode *out);

/**
 * Set host_id's mode (the host need not be known yet: it gets the mode when it joins).
 * Every app is reconciled again at the next tick. LT_ERR_INVALID for a bad host id,
 * LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_sched_set_host_mode(lt_sched *s, const char *host_id,
                                              lt_sched_host_mode m, int64_t now);

/** host_id's mode (LT_SCHED_HOST_READY when never set). */
lt_sched_host_mode lt_sched_host_mode_get(const lt_sched *s, const char *host_id);

/** Is host_id in the inventory (alive or unreachable)? */
bool lt_sched_host_known(const lt_sched *s, const char *host_id);

/**
 * The scheduling word of host_id as `hosts` shows it: "ready", "cordoned", "draining", or
 * "drained" (draining and none of latticed's instances left on it, none starting).
 */
const char *lt_sched_host_scheduling(const lt_sched *s, const char *host_id);

/** Per-component counts of an app's current status (for tests and the CLI). */
typedef struct {
    const char *name; /**< component name */
    const char *id;   /**< component id */
    uint32_t desired; /**< instances wanted */
    uint32_t running; /**< current-spec instances in state RUNNING */
    uint32_t failed;  /**< failed instances and failed starts in backoff */
    lt_sched_state state;
    const char *message; /**< "" when none */
} lt_sched_component_status;

typedef struct {
    lt_sched_state state;
    const char *message; /**< "" when none */
    const char *version; /**< deployed version, "" when undeployed */
    size_t component_count;
    const lt_sched_component_status *components;
} lt_sched_app_status;

/** Room for a stored traceparent (a version-00 W3C traceparent is 55 characters). */
#define LT_SCHED_TRACEPARENT_MAX 64

/**
 * The trace of the deploy of app's current version: traceparent (the deploy request's span,
 * a version-00 W3C traceparent, at most LT_SCHED_TRACEPARENT_MAX - 1 bytes, kept for the
 * caller: lt_sched_app_traceparent) and trace_id (its 32 lowercase hex digits). While the
 * deploy's work goes on, the scheduler's log records about the app (its reconcile passes, the
 * answers to its commands, its failures and crashes) carry trace_id (lt_log_trace_set, reset
 * afterwards). The trace ends, and both are forgotten, when the app is next seen deployed (its
 * status `deployed`): what the scheduler does for the app later (a crash replaced, a host
 * lost) is no part of that deploy. NULL (either) forgets it; an unknown app is ignored; a
 * traceparent too long is ignored. Call after lt_sched_deploy.
 */
void lt_sched_app_trace_set(lt_sched *s, const char *app, const char *traceparent,
                            const char *trace_id, int64_t now);

/** app's deploy traceparent (lt_sched_app_trace_set) until its trace ended; NULL when none.
 * Borrowed until the next call into the scheduler. */
const char *lt_sched_app_traceparent(const lt_sched *s, const char *app);

/**
 * The last computed status of app (borrowed until the next tick/deploy/undeploy), or
 * LT_ERR_NOT_FOUND when the scheduler has never heard of it.
 */
LT_NODISCARD lt_status lt_sched_app_status_get(const lt_sched *s, const char *app,
                                               lt_sched_app_status *out);


/* ---------------------------------------------------------------------------------------------
 * Compiled specs and the deploy check (pure)
 * ------------------------------------------------------------------------------------------- */

/**
 * CONSTRUCTOR. Compile a validated manifest into the scheduler's desired-state form for
 * lattice. LT_ERR_INVALID (with a message) for a model without name, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_sched_spec_compile(const lt_model *m, const char *lattice,
                                             lt_sched_spec **new_spec);

/** DESTRUCTOR. NULL-safe. */
void lt_sched_spec_free(lt_sched_spec *spec);

/**
 * May spec be deployed next to the deployed specs of the other apps of its lattice (others
 * must not include spec's own app)? lt_model_check_deploy (model/deploy_check.c, which the
 * API also runs against the store) answered from these specs: an explicit component id
 * another app uses (`Component identifier '{id}' is already deployed in a different
 * application '{app}'.`), and shared references that name no deployed shared app with that
 * component (`Application contains shared components that are not deployed in other
 * applications: ["name", ...]`). LT_OK, or LT_ERR_CONFLICT with the message appended to why.
 */
LT_NODISCARD lt_status lt_sched_spec_check(const lt_sched_spec *spec,
                                           const lt_sched_spec *const *others, size_t n_others,
                                           lt_buf *why);

/**
 * wadm's spread maths: split instances over n spreads of the given weights (floor of the
 * weighted share, remainders one by one to the highest weights, ties in order).
 * counts[i] receives the count of spread i (input order). Weights summing to 0 share
 * evenly.
 */
void lt_sched_spread_counts(uint64_t instances, const uint64_t *weights, size_t n,
                            uint64_t *counts);

/**
 * The deterministic instance id of types.proto: "i-" + 32 hex digits of
 * SHA-256(lattice "/" app "/" version "/" component "/" ordinal). out must hold
 * LT_SCHED_ID_LEN + 1 bytes. ordinal is a decimal number, or for daemon instances
 * "{host_id}/{n}".
 */
void lt_sched_instance_id(const char *lattice, const char *app, const char *version,
                          const char *component, const char *ordinal, char *out);

/** The deterministic link id of types.proto ("l-" + 32 hex digits). */
void lt_sched_link_id(const char *lattice, const char *app, const char *source_id, const char *ns,
                      const char *pkg, const char *name, const char *target_id, char *out);

/* ---------------------------------------------------------------------------------------------
 * Counts for the admin listener's /metrics and /debug/state (stats.c; loop thread)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    size_t hosts_alive, hosts_unreachable; /**< the inventory by state */
    size_t apps, apps_deployed;            /**< known / deployed now */
    uint64_t desired, running, failed;     /**< instances of deployed apps (their last status) */
    bool leading, partitioned;
    uint64_t epoch; /**< of the term when leading, else 0 */
    /** Command items that failed (the host answered an error, or nothing in time), by verb
     * (START..UNLINK). For wasmCloud 2.x lattices only what the driver refused at once (e.g. a
     * link); what their hosts fail is in lt_sched_svc_stats.cmd_failed. */
    uint64_t cmd_failed[LT_SCHED_INVENTORY];
    /** Starts and links sent again after the component or link failed (backoff over). */
    uint64_t cmd_retried[LT_SCHED_INVENTORY];
} lt_sched_stats;

/** Fill *out from s's inventory and last computed statuses. */
void lt_sched_stats_get(const lt_sched *s, lt_sched_stats *out);

/** "native" or "wasmcloud-v2": the driver of s's hosts. */
const char *lt_sched_driver_word(const lt_sched *s);

/**
 * Iterate the apps s knows: start with *iter = 0; the next app's name (borrowed until s
 * changes), NULL at the end.
 */
const char *lt_sched_app_next(const lt_sched *s, size_t *iter);

#endif
