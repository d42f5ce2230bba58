/*
 * host_rt_int.h - runtime internals of latticed-host: the NATS side shared by the
 * real host and the simulator (lt__host_srv: connection, one wildcard
 * subscription whose callbacks only post to the loop, dispatch of commands to
 * a host's state, replies, heartbeats and events), the real host's child
 * supervision (child.c) and its runtime (host.c).
 */
#ifndef LT_HOST_RT_INT_H
#define LT_HOST_RT_INT_H

#include <signal.h>

#include "host_int.h"
#include "lt_host.h"
#include "lt_loop.h"
#include "lt_trace.h"

/** Find the state of the host with id (NULL: not ours, ignore the message). */
typedef lt__host_state *(*lt__host_lookup_fn)(void *ctx, const char *id);
/** The i-th host served (0, 1, ...), NULL past the last. */
typedef lt__host_state *(*lt__host_each_fn)(void *ctx, size_t i);

typedef struct lt__host_delayed lt__host_delayed;

/*
 * nats.c hands every destroyed natsMsg to its garbage-collector thread and
 * wakes it; one wake-up per event costs more than building the event. So
 * messages are destroyed in batches of up to LT_HOST_TRASH (and at least on
 * every lt__host_srv_idle).
 */
#define LT_HOST_TRASH 512
#define LT_HOST_EVENT_QUEUE (32u << 20) /**< bytes of deferred events before a forced flush */
#define LT_HOST_EVENT_DELAY_MS 250      /**< deferral after which events go out anyway */
#define LT_HOST_EVENT_SLICE 2000        /**< events published per lt__host_srv_idle */

typedef struct {
    const lt_host_config *cfg;
    lt_loop *loop;
    natsConnection *nc;
    natsSubscription *sub;
    natsSubscription *bsub;     /**< the lattice-wide inventory request (see bcast) */
    char cmds[LT_MAX_SUBJECT];  /**< subscribed commands: "{prefix}.{lattice}.host.{id}.*" */
    char bcast[LT_MAX_SUBJECT]; /**< "{prefix}.{lattice}.inventory": every host answers */
    lt__host_each_fn each;      /**< hosts served, for bcast (set after init; NULL = none) */
    lt__host_lookup_fn lookup;
    void *lookup_ctx;
    const lt__host_ops *ops;         /**< the runtime's operations */
    void (*on_reconnect)(void *ctx); /**< on the loop after a reconnect (may be NULL) */
    lt_buf out;                      /**< reply scratch */
    lt_buf ev;                       /**< event scratch */
    lt__host_delayed *delayed;       /**< replies waiting for --reply-delay-ms */
    lt_conn_events events;           /**< must outlive the connection */
    natsMsg *trash[LT_HOST_TRASH];   /**< published or handled messages to destroy in a batch */
    size_t ntrash;
    bool defer_events;      /**< queue instance events until no request waits (simulator) */
    lt_buf evq;             /**< queued events: records of (host, type, length, bytes) */
    size_t evq_head;        /**< offset of the oldest unpublished record in evq */
    uint64_t idle_requests; /**< n_requests at the previous lt__host_srv_idle */
    uint64_t n_requests, n_events, n_heartbeats, n_errors;
    uint64_t n_unsigned; /**< commands refused for a missing or wrong signature */
    char cur_trace[LT_TRACE_PARENT_LEN + 1]; /**< the traceparent of the command being handled
                                                  ("" none): the events it causes carry it */
} lt__host_srv;

/** Initialise srv (no I/O). */
void lt__host_srv_init(lt__host_srv *srv, const lt_host_config *cfg, lt_loop *loop,
                       lt__host_lookup_fn lookup, void *lookup_ctx, const lt__host_ops *ops);

/** Connect to NATS (cfg->conn). LT_ERR_TRANSPORT / LT_ERR_INVALID as lt_conn_connect. */
LT_NODISCARD lt_status lt__host_srv_connect(lt__host_srv *srv, const char *conn_name);

/**
 * Subscribe to "{prefix}.{lattice}.host.{id}.*" (id "*" for every host, the
 * simulator's one subscription). Messages are posted to the loop and handed
 * to the state lt__host_srv.lookup finds. Also to "{prefix}.{lattice}.inventory",
 * the lattice-wide InventoryRequest a new leader sends to find hosts it has
 * not heard of yet: every host (lt__host_srv.each) answers it like its own.
 */
LT_NODISCARD lt_status lt__host_srv_subscribe(lt__host_srv *srv, const char *id);

/** Publish event type with the packed payload as host h (ops.emit of both runtimes). */
void lt__host_srv_emit(lt__host_srv *srv, lt__host_state *h, const char *type, const void *data,
                       size_t len);

/** Send one heartbeat of h (sequence + 1). */
void lt__host_srv_heartbeat(lt__host_srv *srv, lt__host_state *h);

/** Send host.started of h. */
void lt__host_srv_started(lt__host_srv *srv, lt__host_state *h);

/** Send host.stopping of h. */
void lt__host_srv_stopping(lt__host_srv *srv, lt__host_state *h, const char *reason,
                           int64_t deadline_wall_ms);

/**
 * Destroy the batched messages and, with defer_events, publish up to
 * LT_HOST_EVENT_SLICE queued instance events when no request came since the
 * previous call or the oldest waited LT_HOST_EVENT_DELAY_MS. The runtime
 * calls it from its periodic timer (every 10 ms in the simulator). So the
 * replies to a burst of requests go out before the burst's events: in nats.c
 * an event with its CloudEvents headers costs several times a reply.
 */
void lt__host_srv_idle(lt__host_srv *srv);

/** Publish every queued event now. */
void lt__host_srv_drain(lt__host_srv *srv);

/** Flush what was published (up to timeout_ms). */
void lt__host_srv_flush(lt__host_srv *srv, int timeout_ms);

/** Unsubscribe, close and destroy the connection, drop delayed replies. NULL-safe. */
void lt__host_srv_cleanup(lt__host_srv *srv);

/**
 * Block SIGINT, SIGTERM (and SIGCHLD when chld) in this thread, before any
 * other thread exists so every thread inherits the mask, ignore SIGPIPE, and
 * return a signalfd for them in *fd. LT_ERR_IO.
 */
LT_NODISCARD lt_status lt__host_signals(bool chld, int *fd);

/* ---- real host: child supervision (child.c) ----------------------------------- */

typedef struct {
    pid_t pid;
    int64_t kill_at_ms;
} lt__host_orphan;

typedef struct {
    const lt_host_config *cfg;
    lt_loop *loop;
    lt__host_srv srv;
    lt__host_state h;
    lt__host_ops ops;
    lt__host_runners runners;
    char *run_dir;            /**< our run directory (links files), removed at exit */
    lt__host_orphan *orphans; /**< replaced processes still being stopped */
    size_t norphans, cap_orphans;
    int sigfd;
    bool stopping;             /**< shutdown begun */
    int64_t shutdown_deadline; /**< monotonic ms */
    int exit_code;
} lt__host_rt;

/** Fill rt->ops with the child-process runtime. */
void lt__host_child_ops(lt__host_rt *rt);

/** Reap exited children and report them (on SIGCHLD). */
void lt__host_child_reap(lt__host_rt *rt);

/** Periodic supervision: SIGKILL after grace, due restarts. */
void lt__host_child_tick(lt__host_rt *rt);

/** Number of live processes (instances and orphans). */
size_t lt__host_child_count(const lt__host_rt *rt);

/** Shutdown: SIGTERM every child (deadline rt->shutdown_deadline). */
void lt__host_child_stop_all(lt__host_rt *rt);

/** Last resort at exit: SIGKILL and reap every remaining child. */
void lt__host_child_kill_all(lt__host_rt *rt);

#endif
