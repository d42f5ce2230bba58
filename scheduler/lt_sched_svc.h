/*
 * lt_sched_svc.h - the scheduler wired to NATS on the daemon's loop: one
 * lt_sched per lattice (discovered from host events and stored apps, or a
 * configured list), host events ingested from `{prefix}.*.evt.>`, deployed
 * apps followed through the store's watcher, a leader per lattice elected by
 * a KV lease, commands sent by the native driver as batched requests carrying
 * the leader epoch, status written to KV and published on
 * `{status_prefix}.{lattice}.{app}`, control-plane events published on
 * `{prefix}.{lattice}.evt.cp.{type}`, and `{prefix}.{lattice}.hosts` answered
 * with the host inventory. nats.c callbacks only decode and post to the
 * loop; KV calls that block run on worker threads.
 */
#ifndef LT_SCHED_SVC_H
#define LT_SCHED_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <nats/nats.h>

#include "lt_hist.h"
#include "lt_loop.h"
#include "lt_model.h"
#include "lt_sched.h"
#include "lt_status.h"
#include "lt_store.h"
#include "lt_subject.h"

#define LT_SCHED_DEFAULT_PREFIX LT_SUBJECT_LATTICE_PREFIX
#define LT_SCHED_DEFAULT_STATUS_PREFIX LT_SUBJECT_STATUS_PREFIX
#define LT_SCHED_LEASE_BUCKET "latticed_leases"
#define LT_SCHED_DEFAULT_MAX_LATTICES 1000

/** The wasmCloud 2.x driver (docs/wasmcloud-v2.md); 0 and NULL mean the default given. */
typedef struct {
    const char *const *lattices; /**< lattices scheduled on wasmCloud 2.x hosts (the hosts
                                       whose heartbeat environment names them; "" = default) */
    size_t n_lattices;
    const char *host_prefix;     /**< NULL = "runtime.host" */
    const char *operator_prefix; /**< NULL = "runtime.operator" */
    int64_t start_timeout_ms;    /**< workload.start (image pulls happen inside); 0 = 60000 */
    int64_t status_timeout_ms;   /**< workload.status; 0 = 5000 */
    int64_t stop_timeout_ms;     /**< workload.stop; 0 = 30000 */
    int64_t probe_timeout_ms;    /**< the heartbeat probe of a late host; 0 = 5000 */
    int64_t status_interval_ms;  /**< every workload is checked this often; 0 = 30000 */
    int64_t heartbeat_ms;        /**< the hosts' heartbeat interval; 0 = 15000 */
} lt_sched_v2_config;

typedef struct {
    natsConnection *nc;          /**< required; outlives the service */
    jsCtx *js;                   /**< for the lease; NULL = no election: lead every lattice
                                       with epoch 1 (single process tests only) */
    lt_store *store;             /**< NULL = no store: no apps (hosts only) */
    natsConnection *bulk_nc;     /**< where control-plane events and native host commands
                                      are published while it is connected, NULL = nc: one
                                      without send-asap lets nats.c write a burst of them (a
                                      start request per host) in a few writes; replies still
                                      come back on nc */
    lt_loop *loop;               /**< required; the service lives on its thread */
    const char *prefix;          /**< NULL = LT_SCHED_DEFAULT_PREFIX */
    const char *status_prefix;   /**< NULL = LT_SCHED_DEFAULT_STATUS_PREFIX */
    const char *const *lattices; /**< lattices served; NULL/0 = every lattice seen */
    size_t n_lattices;
    const char *replica_id;   /**< unique per replica; NULL = "<hostname>-<pid>" */
    int64_t lease_ttl_ms;     /**< 0 = 6000 */
    size_t max_lattices;      /**< lattices discovered from host events served at most
                                       (names past it are ignored, with a warning; lattices of
                                       stored apps and configured ones are always served);
                                       0 = LT_SCHED_DEFAULT_MAX_LATTICES */
    const char *lease_bucket; /**< NULL = LT_SCHED_LEASE_BUCKET */
    int replicas;             /**< of the lease bucket; 0 = 1 */
    bool memory;              /**< lease bucket in memory */
    lt_sched_config sched;    /**< template for every lattice (lattice field ignored) */
    const uint8_t *sign_seed; /**< 32-byte ed25519 seed: sign every host command
                                       (lt_nkey.h); NULL = unsigned. Copied. */
    lt_sched_v2_config v2;    /**< lattices driven on wasmCloud 2.x hosts, and how */
} lt_sched_svc_config;

typedef struct lt_sched_svc lt_sched_svc;

/**
 * CONSTRUCTOR. Subscribe, start the lease and store watcher threads and the
 * loop timer. Call on the loop thread (or before it runs). LT_ERR_INVALID for
 * a bad prefix or lattice name, LT_ERR_TRANSPORT, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_sched_svc_start(lt_sched_svc **new_svc, const lt_sched_svc_config *cfg);

/**
 * DESTRUCTOR. Unsubscribe, stop the threads (releasing held leases so a
 * standby takes over at once), flush pending status writes, free the
 * schedulers. Call after the loop has stopped running (items it still holds
 * for the service are dropped without touching it). NULL-safe.
 */
void lt_sched_svc_stop(lt_sched_svc *svc);

/** The NATS connection went down (false) or came back (true). Loop thread. */
void lt_sched_svc_connection(lt_sched_svc *svc, bool up);

/** The scheduler of lattice, or NULL (borrowed; loop thread only). */
lt_sched *lt_sched_svc_lattice(lt_sched_svc *svc, const char *lattice);

#define LT_SCHED_SVC_CMD_KINDS 7 /**< kinds of host requests counted (lt_sched_svc_stats) */

/** Counters of the service for the admin listener (svc_stats.c). */
typedef struct {
    uint64_t events;     /**< host events ingested */
    uint64_t bad_events; /**< host events undecodable, from another host than the subject's, or
                              refused by the scheduler */
    uint64_t requests, replies; /**< host requests (command batches) sent / answered */
    uint64_t held;              /**< command items not sent because NATS was disconnected */
    size_t inbox_waiting;       /**< decoded items waiting for the loop */
    bool connected;             /**< NATS up, as the service last heard */
    bool apps_loaded;           /**< the store's apps were read */
    size_t lease_unknown;       /**< lattices whose lease was never read yet (0 without
                                      election) */
    lt_hist_snap reconcile;     /**< duration of the reconcile passes (lt_sched_tick) */
    /** Command items sent to hosts by driver (0 native, 1 wasmCloud 2.x) and kind
     * (lt_sched_svc_cmd_kind_name): one per instance, stop, link or unlink of a native batch (an
     * inventory request is one), one per wasmCloud 2.x request (each names one workload). Of
     * those, the ones nats.c refused to publish (they expire and are sent again). */
    uint64_t cmd_sent[2][LT_SCHED_SVC_CMD_KINDS], cmd_unsent[2][LT_SCHED_SVC_CMD_KINDS];
    /** wasmCloud 2.x requests answered with an error or not at all in time, by kind (row 1;
     * row 0 stays 0: the native driver's failed items are in each lattice's lt_sched_stats). */
    uint64_t cmd_failed[2][LT_SCHED_SVC_CMD_KINDS];
} lt_sched_svc_stats;

/** "start", "stop", "link", "unlink", "inventory", "status", "probe"; "" past the end. */
const char *lt_sched_svc_cmd_kind_name(size_t kind);

/** Fill *out. Loop thread. */
void lt_sched_svc_stats_get(lt_sched_svc *svc, lt_sched_svc_stats *out);

/** Lattices served so far (they are never removed). Loop thread. */
size_t lt_sched_svc_lattice_count(const lt_sched_svc *svc);

/** The scheduler of the i-th lattice and its name (borrowed; loop thread), NULL past the end. */
lt_sched *lt_sched_svc_lattice_nth(lt_sched_svc *svc, size_t i, const char **name);

#endif
