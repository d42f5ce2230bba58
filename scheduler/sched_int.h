/*
 * sched_int.h - internals shared by the scheduler's files: containers, the
 * compiled spec, the inventory (hosts, observed instances), in-flight work,
 * apps, and the lt_sched object itself. Not for use outside scheduler/.
 */
#ifndef LT_SCHED_INT_H
#define LT_SCHED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "latticed/cp/v1/events.pb-c.h"
#include "wasmcloud/runtime/v2/workload.pb-c.h"
#include "lt_buf.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_map.h"
#include "lt_rand.h"
#include "lt_sched.h"

/* Control-plane reasons (events.proto), short names. */
#define CP_LOST_HOST_LOST LATTICED__CP__V1__INSTANCE_LOST_REASON__INSTANCE_LOST_REASON_HOST_LOST
#define CP_LOST_HOST_STOPPING \
    LATTICED__CP__V1__INSTANCE_LOST_REASON__INSTANCE_LOST_REASON_HOST_STOPPING
#define CP_LOST_FAILED LATTICED__CP__V1__INSTANCE_LOST_REASON__INSTANCE_LOST_REASON_FAILED
#define CP_LOST_MISSING LATTICED__CP__V1__INSTANCE_LOST_REASON__INSTANCE_LOST_REASON_MISSING
#define CP_HOST_TIMEOUT LATTICED__CP__V1__HOST_LOST_REASON__HOST_LOST_REASON_HEARTBEAT_TIMEOUT
#define CP_HOST_STOPPED LATTICED__CP__V1__HOST_LOST_REASON__HOST_LOST_REASON_STOPPED

/** The common layout of every protobuf-c map<string,string> entry. */
typedef struct {
    ProtobufCMessage base;
    char *key;
    char *value;
} pb_kv_entry;

/* ---------------------------------------------------------------------------------------------
 * SHA-256 (sha256.c)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
} sched_sha;

void lt__sched_sha_init(sched_sha *s);
void lt__sched_sha_update(sched_sha *s, const void *data, size_t len);
/** Hash a string (NULL hashes as empty) followed by nothing: callers add separators. */
void lt__sched_sha_str(sched_sha *s, const char *str);
/** Finish and write the first ndigits (<= 64) lowercase hex digits plus a NUL to out. */
void lt__sched_sha_hex(sched_sha *s, char *out, size_t ndigits);

/* ---------------------------------------------------------------------------------------------
 * Containers (pvec.c)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    void **items;
    size_t len, cap;
} pvec;

LT_NODISCARD lt_status lt__sched_pvec_push(pvec *v, void *p);
void lt__sched_pvec_cleanup(pvec *v);

/* ---------------------------------------------------------------------------------------------
 * Sorted string maps (string_map.c)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    char *key;
    char *value;
} skv;

typedef struct {
    skv *items; /**< sorted by key (strcmp), keys unique */
    size_t count;
} skvs;

void lt__sched_skvs_cleanup(skvs *m);
/** Set key=value (copies), keeping the order; a later set of a key wins. */
LT_NODISCARD lt_status lt__sched_skvs_set(skvs *m, const char *key, const char *value);
bool lt__sched_skvs_equal(const skvs *a, const skvs *b);
/** Every requirement present in labels with an equal value (empty req: true). */
bool lt__sched_skvs_match(const skvs *labels, const skvs *req);
/** Hash m into h (key=value lines, then a record separator). */
void lt__sched_sha_skvs(sched_sha *h, const skvs *m);

/* ---------------------------------------------------------------------------------------------
 * Compiled spec (spec_compile.c; its parts in spec_spreads.c, spec_links.c, spec_config.c)
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    SCALER_NONE = 0,
    SCALER_SPREAD,
    SCALER_DAEMON
} scaler_kind;

typedef struct {
    char *name;
    skvs req;
    uint64_t weight;
    uint64_t count; /**< share of the instances (spreadscaler) */
    char *selector; /**< canonical form of req, key of the selector cache */
} spec_spread;

typedef struct {
    char link_id[LT_SCHED_ID_LEN + 1];
    char *name, *ns, *pkg;
    char **ifaces;
    size_t n_ifaces;
    char *app;         /**< app that declares the link */
    char *source_app;  /**< app whose instances are the source (differs for shared sources) */
    char *source_comp; /**< component name in source_app */
    char *source_id;
    char *target_app;  /**< app whose instances serve the target */
    char *target_comp; /**< component name in target_app ("" when it resolves to none) */
    char *target_id;
    lt_model_colocate colocate;
    char digest[33]; /**< content of everything a host sees */
    /* Borrowed by LinkSpec items (protobuf-c wants arrays of pointers). */
    Latticed__Host__V1__LinkSpec__SourceConfigEntry *scfg, **scfg_p;
    size_t n_scfg;
    Latticed__Host__V1__LinkSpec__TargetConfigEntry *tcfg, **tcfg_p;
    size_t n_tcfg;
    Latticed__Host__V1__SecretRef *ssec, **ssec_p;
    size_t n_ssec;
    Latticed__Host__V1__SecretRef *tsec, **tsec_p;
    size_t n_tsec;
} spec_link;

/** A component's part in a wasmCloud v2 app (spec_v2.c); V2_NONE on native lattices. */
typedef enum {
    V2_NONE = 0,
    V2_LEAD,       /**< places its group's workload */
    V2_RIDER,      /**< runs inside its lead's workload: nothing placed, nothing stopped */
    V2_CAPABILITY, /**< a host interface of the groups linked to it: nothing placed */
} v2_role;

typedef struct {
    char *name;
    char *id;
    char *image; /**< NULL for a shared reference */
    bool capability;
    bool explicit_id;
    char *shared_app; /**< shared reference: app and component it points at */
    char *shared_comp;
    scaler_kind scaler;
    uint64_t instances;
    spec_spread *spreads;
    size_t n_spreads;
    uint64_t mem, cpu;
    char digest[33];
    char scaler_id[65];
    spec_link *links; /**< links declared on this component (it is their source) */
    size_t n_links;
    bool is_target; /**< some link of the app targets it (placed first) */
    /* Borrowed by InstanceSpec items. */
    Latticed__Host__V1__InstanceSpec__ConfigEntry *cfg, **cfg_p;
    size_t n_cfg;
    Latticed__Host__V1__InstanceSpec__AnnotationsEntry *ann, **ann_p;
    size_t n_ann;
    Latticed__Host__V1__SecretRef *sec, **sec_p;
    size_t n_sec;
    Latticed__Host__V1__ResourceRequests res;
    /* wasmCloud v2 (spec_v2.c) */
    v2_role role;
    size_t lead;                          /**< index of its group's lead (riders, leads) */
    Wasmcloud__Runtime__V2__Workload *wl; /**< lead: the workload template (owned) */
    char *wl_name;                        /**< lead: "{app}-{lead}" */
    char **exports;                       /**< lead: required "ns:pkg/iface", sorted, unique */
    size_t n_exports;
    size_t *users; /**< capability: the leads whose host interfaces it provides */
    size_t n_users;
} spec_comp;

struct lt_sched_spec {
    char *lattice, *app, *version, *description;
    bool shared;
    spec_comp *comps;
    size_t n_comps;
    size_t *order; /**< placement order of comps: link targets first */
    lt_model_rollout rollout;
    bool has_daemon; /**< some component runs on every eligible host */
    char digest[33]; /**< whole desired state (same version, same digest = no-op deploy) */
    bool v2;         /**< compiled for a wasmCloud v2 lattice (spec_v2.c) */
    char *v2_error;  /**< v2: why the app cannot run there (nothing is placed), or NULL */
};

/** Compile m for lattice; v2: for a wasmCloud v2 lattice (groups, workload templates). */
LT_NODISCARD lt_status lt__sched_spec_compile(const lt_model *m, const char *lattice, bool v2,
                                              lt_sched_spec **new_spec);
/** The v2 part of compiling spec (spec_v2.c): groups, leads, riders, host interfaces, templates,
 * required exports, lead digests; drops every link (v2 hosts have no link API). */
LT_NODISCARD lt_status lt__sched_spec_v2(lt_sched_spec *spec);
/** Free what lt__sched_spec_v2 added to c. */
void lt__sched_spec_v2_free_comp(spec_comp *c);

const spec_comp *lt__sched_spec_find(const lt_sched_spec *spec, const char *name);

/** Shares of c->instances between the spreads of scaler sc (NULL: one default spread). */
LT_NODISCARD lt_status lt__sched_compile_spreads(const lt_model_scaler *sc, spec_comp *c);
/** Compile link trait ml of component src of m into l (all but l->link_id). */
LT_NODISCARD lt_status lt__sched_compile_link(const lt_model *m, const lt_model_component *src,
                                              const lt_model_link *ml, spec_link *l);
void lt__sched_free_link(spec_link *l);
/** Merge the managed configs' values into out (later configs win); external config names,
 * comma-separated, into ext (when not NULL). */
LT_NODISCARD lt_status lt__sched_merge_config(const lt_model_config *cfg, size_t n, skvs *out,
                                              lt_buf *ext);
/** Secret references of m's secrets sec[0..n) (backend from their policy), with the pointer
 * array protobuf-c wants; *nout of them built (free with lt__sched_free_secrets). */
LT_NODISCARD lt_status lt__sched_build_secrets(const lt_model *m, const lt_model_secret *sec,
                                               size_t n, Latticed__Host__V1__SecretRef **out,
                                               Latticed__Host__V1__SecretRef ***outp, size_t *nout);
void lt__sched_sha_secrets(sched_sha *h, const Latticed__Host__V1__SecretRef *sec, size_t n);
void lt__sched_free_secrets(Latticed__Host__V1__SecretRef *sec, size_t n);

/* Move a skvs into protobuf-c map entries (all entry types are {base, key, value}); init is
 * the entry type's initialiser object. Sets st on failure. */
#define LT__SCHED_BUILD_ENTRIES(kvs, init, arr, parr, nout, st) \
    do {                                                        \
        size_t i_;                                              \
        (nout) = 0;                                             \
        if ((st) != LT_OK || (kvs)->count == 0)                 \
            break;                                              \
        (arr) = lt_calloc((kvs)->count, sizeof(*(arr)));        \
        (parr) = lt_calloc((kvs)->count, sizeof(*(parr)));      \
        if ((arr) == NULL || (parr) == NULL) {                  \
            (st) = LT_FAIL(LT_ERR_NOMEM, "map entries");        \
            break;                                              \
        }                                                       \
        for (i_ = 0; i_ < (kvs)->count; i_++) {                 \
            (arr)[i_] = (init);                                 \
            (arr)[i_].key = (kvs)->items[i_].key;               \
            (arr)[i_].value = (kvs)->items[i_].value;           \
            (kvs)->items[i_].key = NULL; /* moved */            \
            (kvs)->items[i_].value = NULL;                      \
            (parr)[i_] = &(arr)[i_];                            \
            (nout) = i_ + 1;                                    \
        }                                                       \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * Inventory (inventory.c)
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    HOST_ALIVE = 0,
    HOST_UNREACHABLE
} host_state;

typedef struct sched_obs sched_obs;
typedef struct sched_host sched_host;

/** Can we place on, and send to, h? (alive, and not fenced off by an epoch it claims) */
#define HOST_USABLE(h) ((h)->state == HOST_ALIVE && !(h)->fenced)
typedef struct sched_app sched_app;

typedef struct {
    char *link_id;
    char digest[33]; /**< content digest the host acknowledged */
    int64_t at;      /**< when */
} acked_link;

struct sched_host {
    char *id;
    char *friendly, *version;
    skvs labels;
    uint64_t mem_total;
    uint32_t slots_total, cpu_total;
    int64_t last_seen, joined;
    /** When an instance event of this host was last folded in: an inventory answer to a
     * question asked before then may be older than that event (fence.c). */
    int64_t event_at;
    int64_t started_s; /**< host process start (seconds), tells restarts apart */
    uint32_t interval_ms;
    uint64_t seq, newest_epoch;
    host_state state;
    bool stopping;
    bool fenced;      /**< refused our epoch: nothing sent or placed here (fence.c) */
    bool quarantined; /**< ...and the lease owner confirmed the claim is bogus */
    uint64_t claimed_epoch;
    size_t idx; /**< position in lt_sched.host_list */
    /* observed instances */
    sched_obs *obs_head;
    uint32_t n_obs;
    uint64_t obs_mem, obs_cpu;
    /* placements sent and not yet observed here */
    uint32_t pend_slots;
    uint64_t pend_mem, pend_cpu;
    lt_map links; /**< link ids installed (key == val, owned) */
    /* outbox, one pvec of items per verb */
    pvec out[4];
    bool queued;
    /* per-pass scratch */
    uint64_t stamp;        /**< cnt/cnt_all are valid when stamp is the pass's */
    uint32_t cnt, cnt_all; /**< current / all instances of the component being placed */
    uint64_t coloc_stamp;  /**< host runs a link target of that component */
    uint64_t mark_stamp;   /**< conflict check / daemon dedupe */
    uint32_t mark;
    /* wasmCloud v2 (v2.c) */
    char **caps; /**< "ns:pkg/iface" of every capability interface it reports, sorted */
    size_t n_caps;
    char caps_digest[17];
    bool gone; /**< lt_sched_host_gone: silent past its timeout until it is heard again */
    lt_sched_host_mode mode; /**< cordoned/draining (drain.c): no placements here */
};

struct sched_obs {
    char *id;
    sched_host *host;
    /* interned (one counted copy per distinct text, shared by the instances: a fleet of 200,000
     * instances of a few apps holds a few hundred of them, not 1.4 million allocations) */
    const char *app, *version, *comp, *comp_id, *image, *digest, *message;
    char *placement; /**< the incarnation, as the host reports it ("" unknown) */
    int state;       /**< Latticed__Host__V1__InstanceState */
    bool managed;    /**< carries our owner annotations for this lattice */
    uint32_t restarts;
    int64_t started_s; /**< when it last entered RUNNING (host's clock, s; 0 = unknown) */
    char *last_error;  /**< last non-empty message the host reported for it, or NULL */
    uint64_t mem, cpu;
    int64_t stop_sent; /**< when a stop was sent, 0 = none */
    int64_t link_sent; /**< link/unlink request in flight since, 0 = none */
    uint64_t seen;     /**< heartbeat stamp */
    acked_link *links;
    size_t n_links;
    sched_obs *host_next, *host_prev;
    sched_obs *id_next; /**< same id on another host */
    sched_obs *app_next, *app_prev;
    sched_app *owner;
};

/* ---------------------------------------------------------------------------------------------
 * Apps and in-flight work
 * ------------------------------------------------------------------------------------------- */

typedef struct sched_start {
    char id[LT_SCHED_ID_LEN + 1];
    sched_host *host;
    sched_app *app;
    char *comp;
    char digest[33];
    int64_t sent;
    bool acked;
    bool running; /**< the host's reply said RUNNING: counts as running until the event or a
                       heartbeat shows the instance (or the confirmation times out) */
    uint64_t mem, cpu;
    struct sched_start *next, *prev; /* app list */
} sched_start;

typedef struct {
    char *host_id;
    int64_t until;
} avoid_host;

/** Runtime state of one component of an app, kept across versions (by name). */
typedef struct {
    char *name;
    uint32_t failures;
    int64_t retry_at;
    int64_t last_fail; /**< when the last failure was counted */
    int64_t stable_at; /**< after a crash: the backoff resets when the component has
                                  run without failing until then; INT64_MAX = crashed, not
                                  running again yet; 0 = no crash watched */
    char *fail_msg;    /**< last failure text from a host */
    avoid_host *avoid;
    size_t n_avoid;
    uint64_t conflict_gen; /**< inventory generation the conflict check ran at (+1) */
    char *conflict_msg;
    /* status of the last pass */
    uint32_t desired, running, failed;
    lt_sched_state state;
    char *message;
    int reason; /**< AppFailureReason when failed */
} comp_rt;

/** Failure state of one link (by link id) for status. */
typedef struct {
    char *link_id;
    uint32_t failures;
    int64_t retry_at;
    char *fail_msg;
    /* status of the last pass */
    char *label; /**< "{source_id} -({ns}:{pkg})-> {target_id}" */
    uint32_t want, done;
    lt_sched_state state;
    char *message;
    uint64_t pass; /**< stamp of the pass that computed it (stale entries hidden) */
} link_rt;

struct sched_app {
    char *name;
    lt_sched_spec *spec; /**< last deployed spec; kept while undeployed leftovers remain */
    bool deployed;
    bool deleted;
    char *prev_version; /**< version deployed before spec (for app.deployed) */
    uint64_t deploy_seq;
    sched_obs *obs_head;
    size_t n_obs;
    sched_start *starts;
    size_t n_starts;
    lt_map rt;  /**< component name -> comp_rt */
    lt_map lrt; /**< link id -> link_rt */
    bool dirty;
    sched_app *dirty_next;
    /* status */
    lt_sched_state state;
    char *message;
    char *status_json;
    lt_sched_component_status *cs;
    size_t n_cs;
    bool published; /**< status_json was handed to the sink */
    int announced;  /**< last state announced as a cp event (-1 none) */
    char *announced_msg;
    uint64_t checked_seq; /**< deploy_seq the cross-app check ran at (+1) */
    char *check_msg;      /**< its failure, NULL when fine */
    uint64_t pass;        /**< stamp of the last reconcile */
    int reason;           /**< AppFailureReason of a failed state */
    char *unreadable;     /**< "cannot read version V: why": hands off until deploy/undeploy */
    char *unreadable_version;
    /* the deploy's trace (lt_sched_app_trace_set), "" none: until the app is deployed */
    char traceparent[LT_SCHED_TRACEPARENT_MAX];
    char trace_id[LT_LOG_TRACE_ID_MAX];
};

typedef struct {
    char *key;
    skvs req;
    pvec hosts;
    uint64_t gen; /**< inventory generation the list was built at (+1) */
    size_t cursor;
} sched_sel;

typedef struct {
    char *id;        /**< instance id, or link id */
    char *aux;       /**< link/unlink: source instance id */
    char *app;       /**< link: declaring app (failures are its status) */
    char digest[33]; /**< link: content digest */
} req_item;

typedef struct sched_req {
    char key[24]; /**< request number as text (lt_map key) */
    uint64_t no;
    lt_sched_verb verb;
    char *host_id;
    int64_t sent;
    req_item *items;
    size_t n;
    struct sched_req *next, *prev;
} sched_req;

#define SCHED_LOST_RING 256 /**< evictions remembered by the partition guard's window */

#define SCHED_PLACED_MAX 256  /* items of one instances.placed event */
#define SCHED_PLACED_FIELDS 5 /* app, version, component, instance id, image (events.c) */
/* Bytes of their strings; more: sent sooner (an event stays under NATS's 1 MiB max_payload). */
#define SCHED_PLACED_TEXT_MAX (512u * 1024)

/** instance.placed items waiting to go out as one instances.placed event (events.c). */
typedef struct {
    char host[LT_MAX_HOST_ID + 1]; /**< of every waiting item */
    size_t n;
    lt_buf text;                                       /**< the items' strings, NUL-terminated */
    size_t off[SCHED_PLACED_MAX][SCHED_PLACED_FIELDS]; /**< where each string starts in text */
} sched_placed;

struct lt_sched {
    lt_sched_config cfg;
    char *lattice;
    lt_sched_sink sink;
    /* inventory */
    lt_map hosts;        /**< id -> sched_host */
    pvec host_list;      /**< dense, for iteration */
    uint64_t inv_gen;    /**< bumps when hosts join, leave, relabel or change state */
    lt_map obs_by_id;    /**< instance id -> first sched_obs with that id */
    lt_map interned;     /**< text many instances share -> its one counted copy (inventory.c) */
    lt_map starts_by_id; /**< instance id -> sched_start */
    lt_map sels;         /**< selector key -> sched_sel */
    /* apps */
    lt_map apps; /**< name -> sched_app */
    sched_app *dirty_head;
    int64_t dirty_since;
    int64_t burst_since, burst_quiet_at; /**< a burst of deploys: its first, when it is over if
                                            no other deploy comes (sched.c: burst_wait) */
    lt_map shared_links; /**< "app/comp" -> pvec of spec_link* declared by other apps */
    uint64_t deploy_seq;
    /* requests */
    lt_map reqs;
    sched_req *req_head, *req_tail;
    uint64_t next_req;
    size_t inv_waiting;  /**< inventory requests of this term not yet answered */
    int64_t inv_until;   /**< the inventory round ends at the latest then */
    int64_t bcast_until; /**< ...and not before then (hosts we do not know answer) */
    /* state */
    bool leading, connected, apps_loaded, partitioned;
    bool traced; /**< this scheduler set the thread's log trace id (lt__sched_trace_app) */
    uint64_t epoch;
    int64_t ready_at, last_full, disconnected_at;
    uint64_t stamp;
    lt_rand rng; /**< jitter, seeded with cfg.seed (deterministic) */
    pvec outq;   /**< hosts with queued items */
    bool all_dirty;
    bool hosts_changed; /**< hosts joined/left/relabelled: apps not at rest re-place */
    int64_t wake_at;    /**< earliest backoff expiry (0 = none) */
    int64_t last_host_check;
    int64_t last_republish; /**< every status is written again now and then (sched.c) */
    /* partition guard (inventory.c) */
    int64_t grace_from;               /**< silence is counted from here at the earliest (a partition
                                  ended: every host got a fresh timeout) */
    int64_t lost_at[SCHED_LOST_RING]; /**< times of recent heartbeat-timeout evictions */
    size_t lost_head, n_lost_at;
    bool gone_pending; /**< lt_sched_host_gone was called: check the hosts at the next tick */
    lt_map host_modes; /**< host id -> sched_mode: what the operator asked (drain.c) */
    uint64_t n_cmd_failed[LT_SCHED_INVENTORY];  /**< items failed by verb (stats.c) */
    uint64_t n_cmd_retried[LT_SCHED_INVENTORY]; /**< starts/links sent again after a failure */
    sched_placed placed;                        /**< events.c */
};

/* inventory.c */
sched_host *lt__sched_inv_host(const lt_sched *s, const char *id);
/** The observed instance id on host h, or NULL. */
sched_obs *lt__sched_inv_obs_on(const lt_sched *s, const char *id, const sched_host *h);
/** Hosts eligible for req (alive and not stopping), cached per inventory generation. */
sched_sel *lt__sched_inv_selector(lt_sched *s, const char *key, const skvs *req);
/** Declare silent hosts lost, within the partition guard. */
void lt__sched_inv_check_hosts(lt_sched *s, int64_t now);
void lt__sched_inv_free_all(lt_sched *s);
void lt__sched_obs_unlink_app(lt_sched *s, sched_obs *o);
/**
 * Check that the inventory's indexes agree (for tests and fuzzers; O(n log n) in the
 * instances): hosts by id and the host list; each host's instance list (links, owner host,
 * count, memory/cpu sums); the instance id index (chains of one id, distinct hosts, every entry
 * in a host list and every listed instance indexed); each app's instance list (owner, links,
 * count) against the instances that name an owner. LT_OK, or LT_ERR_STATE with the first
 * disagreement as the error message (LT_ERR_NOMEM if the check cannot allocate).
 */
LT_NODISCARD lt_status lt__sched_check_consistent(const lt_sched *s);

/** lt__sched_inv_heartbeat's asked_at for a heartbeat the host sent of its own accord. */
#define SCHED_UNASKED (-1)

/**
 * Fold in a host's heartbeat. asked_at SCHED_UNASKED: a heartbeat the host sent; one whose
 * sequence is not newer than the last one's is dropped (reordered). Else hb answers a question
 * asked at asked_at (an inventory request, plan.c's copy; hb->sequence is the host's last
 * heartbeat's): it is the freshest view of the host unless it may be older than what is known,
 * and then nothing of it is used: a newer heartbeat of the host was folded in (sequence), an
 * instance event of it since asked_at, or it comes from an older process of the host (start
 * time). A host answering late would otherwise take back the instances it reported meanwhile.
 */
LT_NODISCARD lt_status lt__sched_inv_heartbeat(lt_sched *s, const char *host_id,
                                               const Latticed__Host__V1__Heartbeat *hb,
                                               int64_t asked_at, int64_t now);

/* drain.c */
/** A host joined: give it the mode stored for its id. */
void lt__sched_drain_host_init(const lt_sched *s, sched_host *h);
/** May new instances go to h (not cordoned, not draining)? */
#define HOST_SCHEDULABLE(h) ((h)->mode == LT_SCHED_HOST_READY)
/** Free the stored modes. */
void lt__sched_drain_free_all(lt_sched *s);

/* v2.c */
/** Take the capabilities of a heartbeat into h (a change re-places what waits for hosts). */
void lt__sched_v2_host_caps(lt_sched *s, sched_host *h, const Latticed__Host__V1__Heartbeat *hb);
/** Does h export everything c needs (always true when c needs nothing)? */
bool lt__sched_v2_exports_ok(const sched_host *h, const spec_comp *c);
/**
 * How many of hosts export everything c needs; when none does, msg (n bytes) says what is
 * missing: "no host exports wasi:keyvalue/store (needed by app-lead)".
 */
size_t lt__sched_v2_qualified(const pvec *hosts, const spec_comp *c, char *msg, size_t n);
void lt__sched_v2_host_free(sched_host *h);
/** v2 status of riders and capability components, after their leads' pass (reconcile.c). */
void lt__sched_v2_status(sched_app *a);

/* outbox.c */
/** Register a request of verb v to host_id (items filled by the caller); NULL on no memory. */
sched_req *lt__sched_out_req_new(lt_sched *s, const char *host_id, lt_sched_verb v, int64_t now);
/** Remember that o's host acknowledged link_id with digest (33 bytes; all zero = content
 * unknown). */
void lt__sched_out_acked_set(sched_obs *o, const char *link_id, const char *digest, int64_t now);

/* fence.c */
/** A new term: ask every known host for its inventory (with the new epoch, which fences the
 * old leader out of each host before we act). */
void lt__sched_fence_begin(lt_sched *s, int64_t now);
/** The inventory round is over (all answered or timed out). */
bool lt__sched_fence_ready(const lt_sched *s, int64_t now);
/** h refused our epoch or reports a newer one: fence it off and ask the sink to check. */
void lt__sched_fence_on_stale(lt_sched *s, sched_host *h, uint64_t claimed, int64_t now);
/** The epoch rose (or we follow): lift fences whose claim is now below it. */
void lt__sched_fence_lift(lt_sched *s, int64_t now);
/** A STALE_EPOCH answer to request r of h: drop its items for retry, fence h. */
void lt__sched_fence_refused(lt_sched *s, const sched_req *r, sched_host *h, uint64_t claimed,
                             int64_t now);

/* sched.c */
sched_app *lt__sched_app_get(lt_sched *s, const char *name, bool create);
void lt__sched_mark_dirty(lt_sched *s, sched_app *a, int64_t now);
comp_rt *lt__sched_comp_rt(sched_app *a, const char *name);
link_rt *lt__sched_link_rt(sched_app *a, const char *link_id, bool create);
void lt__sched_start_remove(lt_sched *s, sched_start *st);
void lt__sched_failure(lt_sched *s, sched_app *a, const char *comp, const char *host_id,
                       const char *msg, int64_t now);
uint64_t lt__sched_rand(lt_sched *s);
/** The thread's log records carry a's deploy trace id from now on (none: cleared): call it
 * when work on one app starts, and lt__sched_trace_end when it is over. Cheap: no allocation. */
void lt__sched_trace_app(lt_sched *s, const sched_app *a);
/** Clear the thread's log trace id if lt__sched_trace_app set it (else leave it alone). */
void lt__sched_trace_end(lt_sched *s);

/* outbox.c */
LT_NODISCARD lt_status lt__sched_out_start(lt_sched *s, sched_host *h, const lt_sched_spec *spec,
                                           const spec_comp *c, const char *id, uint32_t ordinal);
LT_NODISCARD lt_status lt__sched_out_stop(lt_sched *s, sched_host *h, const char *id,
                                          const char *placement, const char *reason);
LT_NODISCARD lt_status lt__sched_out_link(lt_sched *s, sched_host *h, const spec_link *l,
                                          const char *source_instance, const char *target_instance,
                                          const char *digest);
LT_NODISCARD lt_status lt__sched_out_unlink(lt_sched *s, sched_host *h, const char *link_id,
                                            const char *source_instance);
void lt__sched_out_flush(lt_sched *s, int64_t now);
void lt__sched_out_discard(lt_sched *s);
void lt__sched_req_expire(lt_sched *s, int64_t now);
void lt__sched_req_free_all(lt_sched *s);

/* reconcile.c, links.c, status.c, events.c */
void lt__sched_rec_app(lt_sched *s, sched_app *a, int64_t now);
void lt__sched_rec_links(lt_sched *s, sched_app *a, int64_t now);
void lt__sched_status_update(lt_sched *s, sched_app *a, int64_t now);
void lt__sched_status_free(sched_app *a);

void lt__sched_cp_host_joined(lt_sched *s, const sched_host *h);
void lt__sched_cp_host_lost(lt_sched *s, const sched_host *h, int reason);
void lt__sched_cp_host_quarantined(lt_sched *s, const sched_host *h);
void lt__sched_cp_instance_lost(lt_sched *s, const sched_obs *o, int reason, const char *msg);
/**
 * st's host accepted it: an item of the instances.placed event of that host, sent by
 * lt__sched_cp_placed_flush (at once when the item is for another host than the waiting ones,
 * or when SCHED_PLACED_MAX wait).
 */
void lt__sched_cp_instance_placed(lt_sched *s, const sched_start *st, const char *image);
/** Send the waiting instances.placed items as one event (nothing when none wait). Called at
 * the end of every entry point that can place (lt_sched_on_reply, ...) and by lt_sched_tick. */
void lt__sched_cp_placed_flush(lt_sched *s);
void lt__sched_cp_app_state(lt_sched *s, sched_app *a);

/** Strings helpers. */
char *lt__sched_strdup0(const char *s);              /**< lt_strdup that maps NULL to "" */
bool lt__sched_streq(const char *a, const char *b);  /**< NULL-safe, NULL == "" */
void lt__sched_set_str(char **dst, const char *src); /**< replace with a copy (NULL keeps NULL) */

#endif
