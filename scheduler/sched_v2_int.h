/*
 * sched_v2_int.h - the wasmCloud 2.x driver (docs/wasmcloud-v2.md): the bridge between the
 * scheduler core, which speaks the native host protocol's messages, and `wash host`
 * processes, which speak `wasmcloud.runtime.v2` in proto3 JSON over request/reply.
 *
 * v2_wire.c holds the pure parts (versions and the fields each knows, the start request);
 * svc_v2.c the hosts (heartbeats in, a native heartbeat out to the core); svc_v2_watch.c the
 * watch on other replicas' requests; svc_v2_kv.c the bucket of started workloads;
 * svc_v2_cmd.c the commands (one request in flight per host) and svc_v2_reply.c their
 * answers, timeouts, status polling and liveness probes.
 */
#ifndef LT_SCHED_V2_INT_H
#define LT_SCHED_V2_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "latticed/host/v1/host.pb-c.h"
#include "lt_map.h"
#include "sched_int.h"
#include "sched_svc_int.h"
#include "wasmcloud/runtime/v2/host_heartbeat.pb-c.h"
#include "wasmcloud/runtime/v2/workload.pb-c.h"
#include "wasmcloud/runtime/v2/workload_service.pb-c.h"

/* Annotations latticed adds to every workload besides the instance's own owner annotations:
 * they let a standby replica that only saw the start request rebuild the instance. */
#define LT_SCHED_V2_ANN_COMPONENT "latticed.dev/component"
#define LT_SCHED_V2_ANN_COMPONENT_ID "latticed.dev/component-id"
#define LT_SCHED_V2_ANN_DIGEST "latticed.dev/spec-digest"

#define V2_MAX_WORKLOADS_PER_HOST 10000u /**< table entries per host we track */
#define V2_MAX_QUEUE 20000u              /**< requests waiting per host */
#define V2_LATE_MS \
    1000 /**< a heartbeat later than its interval by this is
                                              probed */

/* ---------------------------------------------------------------------------------------------
 * Pure parts (v2_wire.c)
 * ------------------------------------------------------------------------------------------- */

/** A host's reported version as a number major*10000 + minor*100 + patch (capped at 99);
 * unparsable or empty: 20000 (2.0.0, the oldest v2 host, which knows the fewest fields). */
uint32_t lt__sched_v2_version(const char *version);

/**
 * CONSTRUCTOR. The workload.start request for instance spec on a host of version ver
 * (lt__sched_v2_version): tmpl with the spec's annotations plus the three above, as proto3
 * JSON (heap string, lt_free) with no field the version does not know (LocalResources
 * allowedIpNameLookups needs 2.6, Component maxConcurrency and LocalResources
 * allowedHostLoopbackPorts need 2.7: they are left out for older hosts). tmpl is not
 * modified. LT_ERR_NOMEM, LT_ERR_TOO_BIG.
 */
LT_NODISCARD lt_status lt__sched_v2_start_json(const Wasmcloud__Runtime__V2__Workload *tmpl,
                                               const Latticed__Host__V1__InstanceSpec *spec,
                                               uint32_t ver, char **out);

/** The value of annotation key on w ("" when absent). */
const char *lt__sched_v2_ann(const Wasmcloud__Runtime__V2__Workload *w, const char *key);

/** The lattice a host with this heartbeat environment belongs to ("" and NULL: "default"). */
const char *lt__sched_v2_lattice_of(const char *environment);

/* ---------------------------------------------------------------------------------------------
 * The driver's state (loop thread)
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    V2_OP_START = 0,
    V2_OP_STOP,
    V2_OP_STATUS,
    V2_OP_PROBE,
} v2_op_kind;

/** A workload latticed started (or saw the leader start) on a host. */
typedef struct v2_wl {
    char *id; /* workload id = instance id */
    char *app, *version, *comp, *comp_id, *image, *digest;
    skvs ann;  /* its owner annotations */
    int state; /* Latticed__Host__V1__InstanceState */
    char *message;
    int64_t since;       /* when the start was sent or seen */
    int64_t next_status; /* when to check it again (0 = soon) */
    bool started;        /* the host said RUNNING once (NOT_FOUND after that = issue #5280) */
    bool answered;       /* its start was answered (a standby: the leader said so) */
    bool status_queued;  /* a status request is queued or in flight */
    bool busy;           /* a start or stop is queued or in flight */
    uint64_t gen;        /* incarnation: an answer for another one is not for this entry */
} v2_wl;

typedef struct v2_op {
    v2_op_kind kind;
    uint64_t gen; /* of the entry it was queued for */
    char *wid;    /* workload id (not for PROBE) */
    char *body;   /* the request's JSON */
} v2_op;

typedef struct v2_host {
    char *id;
    svc_lattice *lat;
    Wasmcloud__Runtime__V2__HostHeartbeat *hb; /* last heartbeat or probe answer (owned) */
    uint32_t ver;                              /* lt__sched_v2_version of hb->version */
    int64_t last_hb;                           /* when a heartbeat or probe answer arrived */
    int64_t last_refresh;                      /* kept alive for the core during a start */
    uint32_t interval_ms;                      /* --v2-heartbeat-ms */
    uint64_t seq;                              /* of the native heartbeats we feed */
    lt_map wls;                                /* id -> v2_wl */
    v2_op *queue;                              /* FIFO: queue[qhead..qlen) */
    size_t qhead, qlen, qcap;
    v2_op cur; /* in flight when cur_no != 0 */
    uint64_t cur_no;
    int64_t cur_sent, cur_deadline;
    char cur_key[24]; /* cur_no as text: key in sched_v2.busy */
    bool gone;        /* reported to the core as gone; a heartbeat revives it */
    bool leading;     /* its lattice was led by us at the last scan */
} v2_host;

typedef struct v2_kv v2_kv;

typedef struct sched_v2 {
    lt_sched_svc *svc;
    v2_kv *kv; /* the bucket of started workloads (svc_v2_kv.c); NULL without JetStream */
    char *host_prefix, *op_prefix;
    char *announce_prefix; /* "latticed.v2.{host prefix}": copies of our starts and stops */
    lt_map hosts;          /* id -> v2_host */
    natsSubscription *hb_sub, *watch_sub, *reply_sub;
    char inbox[128];
    uint64_t next_no;
    uint64_t next_gen;    /* incarnations of table entries */
    int64_t last_connect; /* when our NATS connection last came back */
    int64_t last_scan;
    lt_map busy; /* hosts with a request in flight, id -> v2_host (the same pointers) */
} sched_v2;

/* svc_v2.c */
/** Is lattice l scheduled with this driver? */
bool lt__sched_v2_lattice(const lt_sched_svc *svc, const char *name);
/** Subscribe (heartbeats, the request watch, replies). LT_ERR_TRANSPORT, LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__sched_v2_start(lt_sched_svc *svc);
/** Unsubscribe (before the service stops its threads). NULL-safe. */
void lt__sched_v2_unsubscribe(lt_sched_svc *svc);
/** Unsubscribe and free everything. NULL-safe; after the loop stopped. */
void lt__sched_v2_stop(lt_sched_svc *svc);
/** A heartbeat (or a probe's answer) of h: kept (hb is taken), fed to the core. */
void lt__sched_v2_heard(sched_v2 *v, v2_host *h, Wasmcloud__Runtime__V2__HostHeartbeat *hb,
                        bool probe, int64_t now);
/** Forget hosts silent for long (from the timer). */
void lt__sched_v2_forget(sched_v2 *v, int64_t now);
/** Feed h's current view to its lattice's scheduler as a native heartbeat, unless h's own
 * heartbeat is late or h is gone (a fed heartbeat keeps a host alive). */
void lt__sched_v2_feed(sched_v2 *v, v2_host *h, int64_t now);
/** Feed h's current view whatever its heartbeat (keeps it alive: a start in flight). */
void lt__sched_v2_push(v2_host *h, int64_t now);
/** The table entry for wid on h, or NULL. */
v2_wl *lt__sched_v2_wl(v2_host *h, const char *wid);
/** The entry for a start of wid on h (STARTING, described by the workload's annotations),
 * created when absent; NULL when the table is full or out of memory. */
v2_wl *lt__sched_v2_record_start(v2_host *h, const char *wid,
                                 const Wasmcloud__Runtime__V2__Workload *w, int64_t now);
/** Remove w from h's table and free it; leading: also from the bucket (svc_v2_kv.c). Never
 * asks the scheduler (callable from its sink). */
void lt__sched_v2_wl_drop(v2_host *h, v2_wl *w, bool leading);
/** Our NATS connection came back (up): silence before now proves nothing. */
void lt__sched_v2_connection(sched_v2 *v, bool up, int64_t now);

/** The host id of lattice l, created (no heartbeat yet) when unknown; NULL: out of memory. */
v2_host *lt__sched_v2_host(sched_v2 *v, const char *id, svc_lattice *l);

/** Subscribe cb(v) to subj with high pending limits. LT_ERR_TRANSPORT. */
LT_NODISCARD lt_status lt__sched_v2_subscribe(sched_v2 *v, natsSubscription **sub, const char *subj,
                                              natsMsgHandler cb);

/* svc_v2_watch.c */
/** The prefix of the copies of our requests other replicas watch (before the host id). */
#define LT__SCHED_V2_ANNOUNCE "latticed.v2"

/**
 * Publish a copy for the standbys on `latticed.v2.{host prefix}.{host}.{what}` (what:
 * "workload.start", "workload.stop" or "workload.answered"), without a reply subject (a copy
 * nobody receives must not answer "no responders" to our request), marked with our inbox so
 * that our own watch skips it. The nats.c status.
 */
natsStatus lt__sched_v2_announce(sched_v2 *v, const char *host, const char *what, const char *body);

/** Subscribe the watch on other replicas' start and stop requests. LT_ERR_TRANSPORT. */
LT_NODISCARD lt_status lt__sched_v2_watch_start(sched_v2 *v);

/* svc_v2_kv.c */
/** Open (or create) the bucket and read it into the tables, start the writer thread. No-op
 * without JetStream. LT_ERR_TRANSPORT, LT_ERR_REFUSED (settings), LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__sched_v2_kv_start(sched_v2 *v);
/** Queue: the start request val of workload wid on host is stored (val NULL: deleted). Any
 * thread; no-op without the bucket. */
void lt__sched_v2_kv_write(sched_v2 *v, const char *lattice, const char *host, const char *wid,
                           const char *val);
/** Write what is queued, stop the thread, close. NULL-safe (v->kv). */
void lt__sched_v2_kv_stop(sched_v2 *v);

/* svc_v2_cmd.c */
/** The lt_sched sink's send for v2 lattices (arg: the svc_lattice). */
void lt__sched_v2_send(void *arg, const lt_sched_batch *b);
/** Queue a request (takes body and a copy of wid); sends at once when h is idle. False
 * (body freed) when body is NULL, the queue is full or memory is short. */
bool lt__sched_v2_queue(sched_v2 *v, v2_host *h, v2_op_kind kind, const char *wid, char *body);
/** The entry op was queued for, or NULL when it is gone or was re-created since. */
v2_wl *lt__sched_v2_op_entry(v2_host *h, const v2_op *op);
/** Queue a status request for w unless one is queued. */
void lt__sched_v2_queue_status(sched_v2 *v, v2_host *h, v2_wl *w);
/** Send h's next request when none is in flight (and we may act). */
void lt__sched_v2_dispatch(sched_v2 *v, v2_host *h, int64_t now);
/** The kind an op of kind k counts as in lt_sched_svc_stats (start, stop, status, probe). */
size_t lt__sched_v2_stat_kind(v2_op_kind k);
/** Timeouts, probes of late hosts, status polling: from the service's timer. */
void lt__sched_v2_tick(sched_v2 *v, int64_t now);
/** Subscribe the replies inbox. */
LT_NODISCARD lt_status lt__sched_v2_replies_start(sched_v2 *v);
/** Forget h's queue and request in flight. */
void lt__sched_v2_host_cleanup_ops(sched_v2 *v, v2_host *h);

#endif
