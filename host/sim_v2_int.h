/*
 * sim_v2_int.h - internals of the simulator's wasmCloud v2 mode
 * (`latticed-host --simulate N --protocol wasmcloud-v2`, docs/host.md): the
 * simulated hosts and their shared context (sim_v2.c: NATS, per-host request
 * queues, heartbeat schedule) and the JSON payloads of package
 * wasmcloud.runtime.v2 as a real `wash host` writes and reads them
 * (sim_v2_wire.c: exports, heartbeats, strict request decoding, replies).
 */
#ifndef LT_SIM_V2_INT_H
#define LT_SIM_V2_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "host_int.h"
#include "lt_host.h"
#include "lt_loop.h"
#include "lt_map.h"
#include "lt_rand.h"
#include "wasmcloud/runtime/v2/host_heartbeat.pb-c.h"
#include "wasmcloud/runtime/v2/workload_service.pb-c.h"

typedef Wasmcloud__Runtime__V2__WitInterface lt__host_v2_wit;
typedef Wasmcloud__Runtime__V2__HostHeartbeat__LabelsEntry lt__host_v2_label;
#define V2WS(x) WASMCLOUD__RUNTIME__V2__WORKLOAD_STATE__WORKLOAD_STATE_##x

/** A version "MAJOR.MINOR.PATCH" as one comparable number. */
#define LT_HOST_V2_VERSION(maj, min, pat) ((uint32_t)(maj)*1000000u + (min)*1000u + (pat))

/** The commands a v2 host knows (subject minus prefix and host id). */
typedef enum {
    LT_HOST_V2_HEARTBEAT,
    LT_HOST_V2_START,
    LT_HOST_V2_STATUS,
    LT_HOST_V2_STOP,
} lt__host_v2_cmd;

/** A decoded request: one of the three, by cmd (heartbeat: none). */
typedef struct {
    lt__host_v2_cmd cmd;
    Wasmcloud__Runtime__V2__WorkloadStartRequest *start;
    Wasmcloud__Runtime__V2__WorkloadStatusRequest *status;
    Wasmcloud__Runtime__V2__WorkloadStopRequest *stop;
    const char *workload_id; /**< borrowed from the message ("" for heartbeat) */
} lt__host_v2_req;

/** A workload a simulated host keeps (in its map, keyed by id). */
typedef struct {
    char *id;
    char *name;
    int state; /**< V2WS(...) */
} lt__host_v2_wl;

/** A request waiting while its host is busy (arrival order). */
typedef struct lt__host_v2_sim lt__host_v2_sim;
typedef struct lt__host_v2_msg {
    struct lt__host_v2_msg *next;
    lt__host_v2_sim *sim;
    natsMsg *msg;
} lt__host_v2_msg;

/** One simulated v2 host. */
typedef struct {
    lt__host_v2_sim *sim;
    size_t index;
    char id[LT_UUID_LEN + 1];
    char friendly[64];
    lt__host_kvs labels_kv;    /**< hostgroup=default, then each --label */
    lt__host_v2_label *labels; /**< heartbeat entries over labels_kv */
    lt__host_v2_label **plabels;
    lt_map wls;                     /**< workload id -> lt__host_v2_wl */
    size_t running;                 /**< workloads in RUNNING */
    lt__host_v2_msg *qhead, *qtail; /**< requests waiting while busy */
    bool busy;                      /**< a start is "pulling" (--reply-delay-ms) */
    bool beat_owed;                 /**< a heartbeat fell due while busy */
    lt__host_v2_req pending;        /**< the start being pulled */
    natsMsg *pending_msg;           /**< its message (reply inbox) */
    natsSubscription *sub;          /**< "<host-prefix>.<id>.>", like a real host's */
} lt__host_v2_host;

/** What every simulated host shares. */
struct lt__host_v2_sim {
    const lt_host_config *cfg;
    lt_loop *loop;
    natsConnection *nc;
    lt__host_v2_host *hosts;
    size_t n;
    lt_map by_id;
    lt__host_v2_wit **exports; /**< the heartbeat's exports (shared by all hosts) */
    size_t nexports;
    uint32_t version; /**< cfg->wasmcloud_version, LT_HOST_V2_VERSION form */
    char hostname[256];
    int64_t started_sec; /**< process start (heartbeat startedAt) */
    int32_t started_nsec;
    lt_rand rng;
    int sigfd;
    int64_t t0;     /**< heartbeat schedule origin (monotonic ms) */
    uint64_t round; /**< heartbeat round of hosts[next] */
    size_t next;    /**< next host to heartbeat */
    uint64_t n_beats, n_requests, n_dropped, n_errors;
    int exit_code;
    size_t subs_armed;       /**< host subscriptions with on_sub_done set */
    atomic_size_t subs_done; /**< of those, how many nats.c's delivery is done with */
};

/* ---- sim_v2_wire.c ------------------------------------------------------------- */

/** Parse "MAJOR.MINOR.PATCH[-pre][+build]" into *out. LT_ERR_INVALID. */
LT_NODISCARD lt_status lt__host_v2_version(const char *s, uint32_t *out);

/**
 * Parse --export specs "ns:pkg/if1,if2[@version]" (NULL = the default set of a plain `wash
 * host`; the single spec "none" = no exports) into a new array of *n WitInterface messages.
 * LT_ERR_INVALID naming the bad spec, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt__host_v2_exports_parse(const char *const *specs, size_t nspecs,
                                                 lt__host_v2_wit ***out, size_t *n);
/** Free what lt__host_v2_exports_parse made. NULL-safe. */
void lt__host_v2_exports_free(lt__host_v2_wit **v, size_t n);

/** A random "adjective-noun-NNNN" into out (size >= 64). */
void lt__host_v2_friendly_name(lt_rand *r, char *out, size_t size);

/**
 * Decode the body of command as a host reporting version does: strict proto3 JSON, fields
 * newer than version refused, start needs a workload and a workload id. LT_ERR_INVALID (or
 * the codec's error) with the reason in lt_error_message() when a real host would answer
 * nothing. On LT_OK free *out with lt__host_v2_req_cleanup.
 */
LT_NODISCARD lt_status lt__host_v2_decode(const char *command, const char *body, size_t len,
                                          uint32_t version, lt__host_v2_req *out);
/** Free a decoded request. NULL-safe, idempotent. */
void lt__host_v2_req_cleanup(lt__host_v2_req *r);

/** The reply to cmd, pretty-printed JSON (*out: lt_free). LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__host_v2_reply_encode(lt__host_v2_cmd cmd, const char *id, int state,
                                                const char *message, char **out, size_t *len);

/** h's HostHeartbeat as JSON (compact or pretty) (*out: lt_free). */
LT_NODISCARD lt_status lt__host_v2_heartbeat_encode(lt__host_v2_host *h, bool pretty, char **out,
                                                    size_t *len);

/** "RUNNING" for V2WS(RUNNING) and so on (the enum name without its prefix). */
const char *lt__host_v2_state_name(int state);

#endif
