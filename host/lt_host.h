/*
 * lt_host.h - the reference thin host: one host that runs each instance as a
 * supervised child process, or N simulated hosts in one process for tests and
 * benchmarks. Both speak the native protocol of schemas/latticed/host/v1 over
 * one NATS connection (no JetStream). See docs/host.md.
 */
#ifndef LT_HOST_H
#define LT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_conn.h"

/** Parsed configuration of latticed-host (main.c fills it from its options). */
typedef struct {
    lt_conn_config conn;       /**< NATS connection (URL, creds, TLS) */
    const char *lattice;       /**< lattice name (a subject token) */
    const char *prefix;        /**< subject prefix, e.g. "lattice" */
    const char *host_id;       /**< NULL = generated; with simulate: unused */
    const char *name;          /**< friendly name; NULL = host id / hostname */
    int64_t heartbeat_ms;      /**< heartbeat interval */
    int64_t stop_grace_ms;     /**< SIGTERM -> SIGKILL grace (stop default, shutdown) */
    uint64_t memory;           /**< capacity: memory bytes */
    uint32_t slots;            /**< capacity: instance slots, 0 = unlimited */
    uint32_t cpu_millis;       /**< capacity: CPU millicores */
    const char *const *labels; /**< "KEY=VALUE" templates (see docs/host.md) */
    size_t nlabels;
    /* Child processes (real host). */
    const char *const *runners; /**< "PREFIX=COMMAND" */
    size_t nrunners;
    const char *default_runner; /**< command for refs no runner prefix matches */
    const char *file_root;      /**< file:// paths must lie under it (NULL = any) */
    bool no_file_refs;          /**< refuse file:// refs */
    const char *run_dir;        /**< parent of the host's run directory; NULL = $TMPDIR */
    uint32_t restart_limit;     /**< restarts of a crashed instance; 0 = never */
    int64_t restart_backoff_ms; /**< first restart delay, doubled each time */
    /* Simulator. */
    size_t simulate;           /**< 0 = real host; N = N simulated hosts */
    const char *id_prefix;     /**< simulated host ids: "<prefix>-00000"... */
    double fail_rate;          /**< fraction of starts refused (START_FAILED) */
    int64_t reply_delay_ms;    /**< delay before each reply */
    const char *refuse_image;  /**< starts whose image_ref contains it are refused */
    uint64_t seed;             /**< PRNG seed for fail_rate */
    int64_t crash_after_ms;    /**< RUNNING instances crash after this long; 0 = never */
    const char *crash_image;   /**< only those whose image_ref contains it (NULL = all) */
    const char *crash_message; /**< the crash's message (NULL = a default) */
    uint64_t crash_limit;      /**< crashes in all before they stop; 0 = no limit */
    int64_t stats_ms;          /**< log counters this often (0 = never) */
    bool instance_events;      /**< simulate: publish instance.* events (default true) */
    bool check_signatures;     /**< refuse commands not signed with leader_key */
    uint8_t leader_key[32];    /**< ed25519 public key of the leader (lt_nkey.h) */
    /* Simulator, wasmCloud v2 mode (--protocol wasmcloud-v2; docs/host.md). */
    bool wasmcloud_v2;              /**< speak the wasmCloud 2.x host wire, not the native one */
    const char *v2_host_prefix;     /**< requests on "<prefix>.<host id>.<command>" */
    const char *v2_operator_prefix; /**< heartbeats on "<prefix>.heartbeat.<host id>" */
    const char *environment;        /**< heartbeat environment; "" = none */
    const char *wasmcloud_version;  /**< reported version, e.g. "2.7.0" */
    const char *const *exports;     /**< "ns:pkg/if1,if2[@version]"; NULL = the default set */
    size_t nexports;                /**< entries of exports ("none" alone = no exports) */
    bool v2_never_reply;            /**< drop every workload.* request unanswered */
    bool v2_not_found_after_start;  /**< starts answer RUNNING but keep nothing */
} lt_host_config;

/**
 * Run one real host until SIGINT/SIGTERM. Returns the exit code: 0 after a
 * clean shutdown (host.stopping published, every child stopped), 1 on a
 * runtime failure, 2 for a bad configuration, 3 when NATS cannot be reached.
 */
int lt_host_run(const lt_host_config *cfg);

/** Run cfg->simulate simulated hosts until SIGINT/SIGTERM; exit codes as lt_host_run. */
int lt_host_sim_run(const lt_host_config *cfg);

/**
 * Like lt_host_sim_run, with hosts that speak the wasmCloud 2.x wire (cfg->wasmcloud_v2):
 * UUID ids, HostHeartbeat JSON on the operator prefix, workload.start/status/stop on the
 * host prefix (docs/host.md "wasmCloud v2 mode"). Exit codes as lt_host_run.
 */
int lt_host_sim_v2_run(const lt_host_config *cfg);

#endif
