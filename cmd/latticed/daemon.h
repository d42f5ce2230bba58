/*
 * daemon.h - the latticed process: configuration, start-up (NATS, JetStream
 * assets, the loop), the --dev embedded nats-server, and clean shutdown on
 * SIGINT/SIGTERM.
 */
#ifndef LT_DAEMON_H
#define LT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "lt_conn.h"
#include "lt_status.h"

typedef struct {
    bool help, version, dev;
    const char *config_file;
    const char *nats_url, *nats_creds, *nats_jwt, *nats_nkey, *nats_seed;
    const char *nats_tls_ca, *nats_tls_cert, *nats_tls_key;
    int64_t nats_ping_ms;         /**< NATS PING interval (2 unanswered = dead connection) */
    int64_t nats_connect_wait_ms; /**< start-up: wait this long for a NATS server */
    const char *nats_server_bin;  /**< --dev: nats-server binary */
    const char *api_prefix;
    int64_t api_workers;
    int64_t api_timeout_ms; /**< the store work of one API request ends this long after it came */
    const char *storage;    /**< "file" or "memory" */
    int64_t replicas;
    int64_t events_max_bytes;
    const char *log_level, *log_format;
    const char *http_admin;    /**< admin listener host:port; NULL = none (--dev: 127.0.0.1:0) */
    const char *otlp_endpoint; /* OTLP/HTTP traces URL; NULL: no span export */
    /* scheduler (daemon_sched.c) */
    const char *lattices;             /**< comma-separated lattices served; NULL = every one seen */
    const char *lattice_prefix;       /**< subject prefix of host events and commands */
    const char *replica_id;           /**< unique per replica; NULL = hostname-pid */
    int64_t host_interval_ms;         /**< heartbeat interval assumed for hosts that report none */
    int64_t host_timeout_ms;          /**< a silent host is lost after this; 0 = 3 intervals */
    int64_t partition_percent;        /**< more hosts than this silent at once: evict nothing */
    int64_t lease_ttl_ms;             /**< leader lease */
    int64_t command_timeout_ms;       /**< a host request without answer has failed */
    int64_t warmup_ms;                /**< listen this long before acting; 0 = 1.5 intervals */
    int64_t max_lattices;             /**< lattices served at most */
    const char *command_signing_seed; /**< nkey seed file: sign host commands; NULL = no */
    /* wasmCloud 2.x hosts (docs/wasmcloud-v2.md) */
    const char *wasmcloud_v2; /**< comma-separated lattices on wasmCloud 2.x hosts */
    const char *v2_host_prefix, *v2_operator_prefix;
    int64_t v2_start_timeout_ms, v2_status_timeout_ms, v2_stop_timeout_ms, v2_probe_timeout_ms;
    int64_t v2_status_interval_ms, v2_heartbeat_ms;
    /* --dev extras (dev.c) */
    const char *dev_host_bin; /**< latticed-host binary; NULL = next to latticed, PATH */
    const char *dev_example;  /**< manifest applied at start; NULL = docs/examples/hello.yaml,
                                      "none" = nothing */
} lt_daemon_config;

/**
 * Run latticed until SIGINT/SIGTERM. Returns the process exit code: 0 after
 * a clean shutdown, 1 on a runtime failure, 3 when NATS (or, with --dev,
 * nats-server) cannot be reached or started. Errors are logged as one line.
 */
int lt_daemon_run(const lt_daemon_config *cfg);

/* daemon_sched.c: the scheduler service with the daemon's options. */
#include <nats/nats.h>

#include "lt_loop.h"
#include "lt_store.h"

typedef struct lt_sched_svc lt_sched_svc;

/** Start the scheduler service on loop (see lt_sched_svc_start); control-plane events and host
 * commands go out on bulk_nc (NULL: nc). */
LT_NODISCARD lt_status lt_daemon_sched_start(const lt_daemon_config *cfg, natsConnection *nc,
                                             jsCtx *js, natsConnection *bulk_nc, lt_store *store,
                                             lt_loop *loop, lt_sched_svc **out);
/** Stop it (after the loop ended). NULL-safe. */
void lt_daemon_sched_stop(lt_sched_svc *svc);
/** The NATS connection went down/up (loop thread). */
void lt_daemon_sched_connection(bool up);

/* dev.c: what --dev adds. */
#include <sys/types.h>

/** Start the local host child on url (*out = its pid). LT_ERR_IO. */
LT_NODISCARD lt_status lt_dev_host_start(const lt_daemon_config *cfg, const char *url, pid_t *out);
/** SIGTERM it, wait (10 s, then SIGKILL). 0 is ignored. */
void lt_dev_host_stop(pid_t pid);
/** Apply the example manifest through the API; app receives its name ("" when none). */
LT_NODISCARD lt_status lt_dev_apply_example(const lt_daemon_config *cfg, lt_store *store, char *app,
                                            size_t appsize);
/** Print app's status on stdout once it is deployed (loop timer). */
LT_NODISCARD lt_status lt_dev_watch_app(lt_loop *loop, lt_sched_svc *svc, const char *app);

/* daemon_admin.c: the HTTP admin listener fed from the loop. */
typedef struct lt_daemon_admin lt_daemon_admin;
typedef struct lt_api lt_api;

/**
 * Listen on addr (see lt_admin_start) and publish a snapshot of nc, api, view (the API's
 * store) and svc every second from a loop timer. LT_ERR_INVALID, LT_ERR_IO, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_daemon_admin_start(const char *addr, lt_loop *loop, natsConnection *nc,
                                             lt_api *api, lt_store *view, lt_sched_svc *svc,
                                             lt_daemon_admin **out);
/** The address listened on (borrowed). */
const char *lt_daemon_admin_addr(const lt_daemon_admin *d);
/** Stop the listener (after the loop ended). NULL-safe. */
void lt_daemon_admin_stop(lt_daemon_admin *d);

#endif
