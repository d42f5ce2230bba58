/*
 * sched_svc_int.h - internals of the NATS-wired scheduler service shared by
 * svc_lattices.c (lattices, timer, store watch), svc_ingest.c (host events), svc_driver.c
 * (native commands and replies), svc_writer.c (status and events out) and
 * svc_lease.c (leader election).
 */
#ifndef LT_SCHED_SVC_INT_H
#define LT_SCHED_SVC_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "lt_buf.h"
#include "lt_map.h"
#include "lt_sched_svc.h"
#include "lt_trace.h"

/* ---------------------------------------------------------------------------------------------
 * Lease (svc_lease.c)
 * ------------------------------------------------------------------------------------------- */

typedef struct sched_lease sched_lease;

/**
 * Leadership of lattice: leading with epoch, allowed to act until `until` (lt_loop_now_ms
 * time; every renewal moves it), or following (until 0). Runs on the lease thread: post, do
 * not touch state.
 */
typedef void (*sched_lease_fn)(void *arg, const char *lattice, bool leading, uint64_t epoch,
                               int64_t until);
/** host_id claims epoch `claimed`, implausibly far above the term we still hold: quarantine. */
typedef void (*sched_quarantine_fn)(void *arg, const char *lattice, const char *host_id,
                                    uint64_t claimed);

typedef struct {
    const char *bucket;
    int replicas;
    bool memory;
    const char *replica;
    int64_t ttl_ms;
    size_t max_lattices; /**< 0 = LT_SCHED_DEFAULT_MAX_LATTICES */
    sched_lease_fn fn;
    sched_quarantine_fn qfn;
    void *arg;
} sched_lease_config;

/**
 * CONSTRUCTOR. Open (or create) the lease bucket through a JetStream context of its own on nc
 * (short timeouts) and start the lease thread. LT_ERR_TRANSPORT, LT_ERR_NOMEM, LT_ERR_IO.
 */
LT_NODISCARD lt_status lt__sched_lease_start(sched_lease **new_l, natsConnection *nc,
                                             const sched_lease_config *cfg);
/**
 * Thread-safe. Start competing for lattice's lease; *slot receives its slot (for
 * lt__sched_lease_until). LT_ERR_TOO_BIG past max_lattices.
 */
LT_NODISCARD lt_status lt__sched_lease_add(sched_lease *l, const char *lattice, size_t *slot);
/**
 * Thread-safe, lock-free. Until when the lattice in slot may act (lt_loop_now_ms time): the
 * newest confirmed renewal's send time + 3/4 ttl; 0 when not leading.
 */
int64_t lt__sched_lease_until(sched_lease *l, size_t slot);
/** Thread-safe, lock-free. Whether the lease of slot was read once (who leads, or nobody). */
bool lt__sched_lease_known(sched_lease *l, size_t slot);
/**
 * Thread-safe. host_id refused our epoch, claiming `claimed`: check the lease at once. Lost =
 * step down (fn); still ours = raise the epoch above a plausible claim (fn with the new epoch)
 * or quarantine the host (qfn).
 */
void lt__sched_lease_verify(sched_lease *l, const char *lattice, const char *host_id,
                            uint64_t claimed);
/** DESTRUCTOR. Stop the thread, release held leases. NULL-safe. */
void lt__sched_lease_stop(sched_lease *l);

/* ---------------------------------------------------------------------------------------------
 * Status writer (svc_writer.c): KV puts coalesced per app, on a thread
 * ------------------------------------------------------------------------------------------- */

typedef struct sched_writer sched_writer;

/**
 * store may be NULL (no status KV); bulk_nc publishes events as replica's CloudEvents, nc
 * while bulk_nc is not connected (bulk_nc may be NULL, or nc itself). Events that cannot be
 * published are counted as dropped. With lease (may be NULL), a status is written only while
 * its lattice's lease deadline has not passed (a deposed or paused leader's late write would
 * hide the new leader's status).
 */
LT_NODISCARD lt_status lt__sched_writer_start(sched_writer **new_w, lt_store *store,
                                              natsConnection *nc, natsConnection *bulk_nc,
                                              const char *prefix, const char *replica,
                                              sched_lease *lease);
/**
 * Loop thread. Hand the control-plane events the loop emitted since the last call to the
 * writer thread: one lock and one wake-up per loop turn, not per event (the service calls it
 * after each inbox drain and timer tick; lt__sched_writer_stop calls it too). NULL-safe.
 */
void lt__sched_writer_handover(sched_writer *w);
/** Write what is queued (bounded wait), stop the thread. NULL-safe. */
void lt__sched_writer_stop(sched_writer *w);

/* ---------------------------------------------------------------------------------------------
 * Unpacking into an arena (pb_arena.c)
 * ------------------------------------------------------------------------------------------- */

typedef struct sched_pb_chunk sched_pb_chunk;

/** A protobuf-c allocator handing out memory from chunks freed all at once. Not thread-safe:
 * one message, one thread at a time. */
typedef struct {
    ProtobufCAllocator alloc; /**< pass &arena.alloc to protobuf_c_message_unpack */
    sched_pb_chunk *head;
    size_t next_cap;
} sched_pb_arena;

/** Make a an empty arena sized for a message of packed_len bytes (nothing allocated yet). */
void lt__sched_pb_arena_init(sched_pb_arena *a, size_t packed_len);
/** Free everything unpacked into a (never protobuf_c_message_free_unpacked). NULL-safe. */
void lt__sched_pb_arena_release(sched_pb_arena *a);

/* ---------------------------------------------------------------------------------------------
 * The service
 * ------------------------------------------------------------------------------------------- */

/* ---------------------------------------------------------------------------------------------
 * The inbox: items decoded on nats.c threads wait here and reach the loop in batches (one
 * lt_loop_post per batch, not per message: at 100,000 messages a second that matters)
 * ------------------------------------------------------------------------------------------- */

/** Host events arriving while more than this many items wait are kept packed (svc_ingest.c). */
#define LT__SCHED_SVC_PACKED_AFTER 1024u

typedef struct svc_item {
    struct svc_item *next;
    void (*run)(struct svc_item *it);  /**< on the loop; frees the item */
    void (*drop)(struct svc_item *it); /**< frees an item that will never run */
} svc_item;

typedef struct svc_lattice {
    struct lt_sched_svc *svc;
    char *name;
    size_t idx; /**< position in svc->lats (stable: lattices are never removed) */
    lt_sched *s;
    int64_t next_tick;
    bool kick;         /**< an event arrived: tick soon */
    size_t lease_slot; /**< for lt__sched_lease_until */
    bool paused;       /**< leading, but past the lease deadline: nothing goes out */
} svc_lattice;

struct lt_sched_svc {
    lt_sched_svc_config cfg;
    char *prefix, *status_prefix, *replica;
    char **allow; /**< copied cfg->lattices */
    size_t n_allow;
    svc_lattice **lats;
    size_t n_lats, cap_lats;
    char **v2_lats; /**< copied cfg->v2.lattices */
    size_t n_v2;
    struct sched_v2 *v2; /**< the wasmCloud 2.x driver (sched_v2_int.h), NULL without */
    bool apps_loaded;    /**< the store's initial state was read */
    size_t max_lattices;
    bool max_warned;
    bool connected;
    uint64_t timer_id;
    bool timer_on;
    natsSubscription *evt_sub, *reply_sub, *hosts_sub;
    natsSubscription *query_sub[2]; /**< plan, instances (svc_plan.c) */
    char inbox[128];                /**< "_INBOX.<nuid>": replies to our commands */
    /** Commands sent on cfg.bulk_nc name an inbox subscribed there (bulk_inbox, "" without a
     * bulk connection): nats-server answers "no responders" only to the connection that holds
     * the reply subscription, and a reply cannot outrun the subscription's interest. */
    char bulk_inbox[128];
    natsSubscription *bulk_reply_sub;
    sched_lease *lease;
    lt_store_watch *watch;
    sched_writer *writer;
    struct sched_drain *drain; /**< cordon/drain modes in KV (svc_drain.c), NULL without JS */
    uint8_t *pbuf;             /**< scratch for packing requests */
    uint8_t sign_seed[32];     /**< copy of cfg->sign_seed (cfg.sign_seed points here) */
    size_t pcap;
    atomic_bool stopping;
    atomic_int cb_active;     /**< nats.c callbacks of the service running now */
    atomic_int plans_waiting; /**< plan requests posted to the loop, not yet done (svc_plan.c) */
    pthread_mutex_t inbox_mu;
    svc_item *in_head, *in_tail;
    atomic_size_t in_count; /**< items waiting (changed under inbox_mu; svc_ingest.c reads it
                             * without, as a hint) */
    lt_map in_latest;       /**< key -> waiting item that a newer one replaces (svc_inbox.c) */
    bool drain_posted;
    uint64_t n_merged; /**< items merged into a waiting one (inbox_mu) */
    /* counters (loop thread) */
    uint64_t n_events, n_bad_events, n_requests, n_replies;
    uint64_t n_held;                    /**< command items not sent: NATS was disconnected */
    int64_t load_last, load_warned;     /**< load_report (svc_lattices.c) */
    uint64_t load_events, load_replies; /**< counters at load_last */
    lt_hist reconcile;                  /**< lt_sched_tick durations (svc_stats.c) */
    uint64_t cmd_sent[2][LT_SCHED_SVC_CMD_KINDS], cmd_unsent[2][LT_SCHED_SVC_CMD_KINDS];
    /** wasmCloud 2.x requests answered with an error or not at all (svc_v2_reply.c); the
     * native driver's failed items are counted by each lattice's scheduler (lt_sched_stats) */
    uint64_t cmd_failed[2][LT_SCHED_SVC_CMD_KINDS];
    /** host events dropped before the loop: undecodable, or ce-source not the subject's host
     * (nats.c thread) */
    _Atomic uint64_t n_undecodable;
    /** host events kept packed in the inbox while it was long, unpacked on the loop
     * (svc_ingest.c; nats.c thread) */
    _Atomic uint64_t n_kept_packed;
};

/** The lattice's state, created on first use when allowed (loop thread). NULL if refused. */
svc_lattice *lt__sched_svc_lattice_get(lt_sched_svc *svc, const char *name, bool create);

/** The W3C traceparent stored with app's deployed version (the deploy request's span), NULL
 * when none or once the app was deployed (lt_sched_app_trace_set); borrowed until the next call
 * into the lattice's scheduler. On the loop. */
const char *lt__sched_svc_app_trace(const svc_lattice *l, const char *app);

/**
 * A host command's span (svc_driver.c): when app's deploy kept a traceparent, a child span of it
 * goes into tp (sent as the command's `traceparent` header) and, while an exporter runs, is
 * exported as a PRODUCER span "host <verb>". False (tp untouched) when app has none.
 */
bool lt__sched_svc_command_span(svc_lattice *l, const char *app, const char *verb, const char *subj,
                                const char *host_id, char tp[LT_TRACE_PARENT_LEN + 1]);
svc_lattice *lt__sched_svc_lattice_at(lt_sched_svc *svc, size_t idx);

/* svc_inbox.c */
/** Thread-safe: queue it for the loop (dropped at once when stopping). */
void lt__sched_svc_inbox_post(lt_sched_svc *svc, svc_item *it);

/**
 * Moves newer's content into waiting and the older content into newer, and returns true; or
 * returns false (nothing moved) when they are not the same thing after all (inbox_mu held).
 */
typedef bool (*lt__sched_svc_merge_fn)(svc_item *waiting, svc_item *newer);

/**
 * Thread-safe: like lt__sched_svc_inbox_post, but when an item posted with the same key is
 * still waiting and merge(waiting, it) takes it's content, it (now holding the older content)
 * is dropped. For snapshots where only the latest counts (a host's heartbeat): what waits
 * stays bounded by the number of keys. key is borrowed from it and must stay valid while it
 * waits; a merge must not change it.
 */
void lt__sched_svc_inbox_post_latest(lt_sched_svc *svc, svc_item *it, const char *key,
                                     lt__sched_svc_merge_fn merge);

/**
 * A nats.c callback of the service begins: false (it must not touch svc) once the service is
 * stopping. After true, call lt__sched_svc_cb_leave after its last use of svc:
 * lt_sched_svc_stop waits for every callback that began to leave before it frees anything
 * (unsubscribing does not wait for a callback already running).
 */
bool lt__sched_svc_cb_enter(lt_sched_svc *svc);
void lt__sched_svc_cb_leave(lt_sched_svc *svc);

/** Thread-safe: how many items wait, and how many were merged into a waiting one so far. */
void lt__sched_svc_inbox_stats(lt_sched_svc *svc, size_t *waiting, uint64_t *merged);

/** Drop every waiting item and destroy the lock (stop, after the subscriptions are gone). */
void lt__sched_svc_inbox_cleanup(lt_sched_svc *svc);

/* svc_ingest.c */
LT_NODISCARD lt_status lt__sched_svc_ingest_start(lt_sched_svc *svc);
LT_NODISCARD lt_status lt__sched_svc_hosts_start(lt_sched_svc *svc);

/* svc_plan.c: the plan and instances queries (latticectl plan, instances) */
LT_NODISCARD lt_status lt__sched_svc_plan_start(lt_sched_svc *svc);
void lt__sched_svc_plan_stop(lt_sched_svc *svc);
/* svc_drain.c: cordon, drain, uncordon (hosts requests with an action), kept in KV */
typedef struct sched_drain sched_drain;
/** Read the stored modes, start the bucket's watch and writer threads (no-op without JS). */
LT_NODISCARD lt_status lt__sched_svc_drain_start(lt_sched_svc *svc);
/** Stop the threads, free. NULL-safe (svc->drain). */
void lt__sched_svc_drain_stop(lt_sched_svc *svc);
/**
 * Does the hosts request msg ask for an action? Then host (cap bytes, "" when none) and *mode
 * are set; an unknown action sets *mode to -1.
 */
bool lt__sched_svc_drain_action(natsMsg *msg, char *host, size_t cap, lt_sched_host_mode *mode);
/** Loop thread, leader of lattice (l: NULL when unknown): check, store, apply, reply. Takes
 * msg. */
void lt__sched_svc_drain_request(lt_sched_svc *svc, const char *lattice, svc_lattice *l,
                                 natsMsg *msg, const char *host, lt_sched_host_mode mode);

/* svc_driver.c: the lt_sched sink's send, and replies */
void lt__sched_svc_send(void *arg, const lt_sched_batch *b);
/**
 * A bound on the packed size of b's request with this lattice name and request id: the driver
 * packs into a buffer of this size without a sizing pass over the items. 0 when b carries no
 * items_bytes (an inventory): the caller sizes the request itself.
 */
size_t lt__sched_svc_request_bound(const lt_sched_batch *b, const char *lattice, const char *rid);
LT_NODISCARD lt_status lt__sched_svc_replies_start(lt_sched_svc *svc);
/**
 * Subscribe cb(arg) on nc to "{a new inbox}.{wildcard}"; the inbox is written to inbox (cap
 * bytes). Pending limits are high: answers come in bursts. LT_ERR_TRANSPORT.
 */
LT_NODISCARD lt_status lt__sched_svc_inbox_subscribe(natsConnection *nc, char *inbox, size_t cap,
                                                     const char *wildcard, natsMsgHandler cb,
                                                     void *arg, natsSubscription **sub);

/* svc_writer.c: the sink's status and event callbacks */
void lt__sched_svc_status(void *arg, const char *app, lt_sched_state state, const char *json);
void lt__sched_svc_event(void *arg, const char *type, const ProtobufCMessage *msg);
/** May lattice l act now (lead, and within the lease deadline)? Any thread. */
bool lt__sched_svc_may_act(const svc_lattice *l);

#endif
