/*
 * e2e.h - end-to-end test harness: a real nats-server (lt_natsrv), latticed
 * and latticed-host processes started and killed by PID, the project's own
 * manifests (tests/e2e/manifests/: no e2e test reads wadm's corpus), the API
 * over NATS, and a passive observer that learns what every
 * host runs from its heartbeats (and which links and starts latticed sent by
 * listening to the command subjects, without answering). Binaries come from
 * the environment: LATTICED_BIN, LATTICED_HOST_BIN.
 */
#ifndef LT_E2E_H
#define LT_E2E_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "lt_natcluster.h"
#include "lt_testutil.h"

typedef struct e2e e2e;

/** nats-server up, observer connected. Fails the test on error. */
e2e *e2e_new(void);
/** e2e_new with nats-server options (e.g. config_text), copied. */
e2e *e2e_new_with(const lt_natsrv_opts *opts);
/** Kill every process started (SIGTERM, then SIGKILL), stop nats-server. */
void e2e_free(e2e *e);
const char *e2e_url(const e2e *e);
/** The test's temporary directory (logs; removed by e2e_free). */
const char *e2e_dir(const e2e *e);

/** latticed with fast test timings (heartbeat 500 ms), plus extra args (NULL-terminated). */
pid_t e2e_latticed(e2e *e, const char *const *extra);
/**
 * latticed-host --simulate n in lattice, ids "<prefix>-00000".., labels "k=v" (NULL-terminated,
 * may be NULL), extra args (NULL-terminated, may be NULL).
 */
pid_t e2e_hosts(e2e *e, const char *lattice, const char *prefix, int n, const char *const *labels,
                const char *const *extra);
/** Any process (argv[0] = the binary, NULL-terminated, at most 63 args) started and killed like
 * the others, stdout+stderr in its log (e2e_log_path); name names the log. */
pid_t e2e_spawn(e2e *e, const char *name, const char *const *argv);
/** Send sig to a process we started; with reap, wait for it to exit. */
void e2e_kill(e2e *e, pid_t pid, int sig, bool reap);
/** e2e_kill, returning the wait status when reaped (SIGKILL after 15 s), else -1. */
int e2e_kill_status(e2e *e, pid_t pid, int sig, bool reap);

/** Observe lattice (heartbeats, commands). */
void e2e_observe(e2e *e, const char *lattice);

/** Hosts with a fresh heartbeat in lattice. */
size_t e2e_host_count(e2e *e, const char *lattice);
/** Running/starting instances of app (comp, version, host: NULL = any) per fresh heartbeats. */
size_t e2e_count(e2e *e, const char *lattice, const char *app, const char *comp,
                 const char *version, const char *host);
/** Instances by image reference substring. */
size_t e2e_count_image(e2e *e, const char *lattice, const char *app, const char *image_sub);
/** Max over hosts of e2e_count(.., host). */
size_t e2e_max_per_host(e2e *e, const char *lattice, const char *app, const char *comp);
/** Host (of a fresh heartbeat) running the most instances of app whose id starts with prefix. */
const char *e2e_busiest(e2e *e, const char *lattice, const char *app, const char *host_prefix);
/** Link ids installed on fresh hosts of lattice (union of heartbeat link_ids). */
size_t e2e_link_count(e2e *e, const char *lattice);
/**
 * Links latticed installed and did not remove, whose source instance still runs, whose
 * source config contains "key=value" (cfg NULL = any).
 */
size_t e2e_links_with(e2e *e, const char *lattice, const char *cfg);
/** Start items latticed sent in lattice so far (all hosts). */
size_t e2e_starts_sent(e2e *e, const char *lattice);

/** Request `wadm.api.{lattice}.model.{op}[.{name}]`; the parsed reply (json_decref it). */
json_t *e2e_api(e2e *e, const char *lattice, const char *op, const char *name, const char *body,
                size_t len);
/** put the file, then deploy that version: "acknowledged" or the deploy's result/message. */
char *e2e_put_deploy(e2e *e, const char *lattice, const char *path);
/** The status word of app ("deployed"...) and, optionally, its message (caller frees both). */
char *e2e_status(e2e *e, const char *lattice, const char *app, char **message);
/** Poll until the status word of app is want (true) or timeout. */
bool e2e_wait_status(e2e *e, const char *lattice, const char *app, const char *want,
                     int64_t timeout_ms);

/** Poll cond until true or timeout (ms); returns the last value. */
typedef bool (*e2e_cond)(e2e *e, void *arg);
bool e2e_wait(e2e *e, e2e_cond cond, void *arg, int64_t timeout_ms);

/* ---------------------------------------------------------------------------------------------
 * Chaos suite (tests/chaos, docs/testing.md). The bookkeeping is in e2e_chaos.c.
 * ------------------------------------------------------------------------------------------- */

/** Like e2e_new, on a 3-node JetStream cluster; e2e_url is then the comma-separated list. */
e2e *e2e_new_cluster(void);
/** The cluster of e2e_new_cluster, else NULL. */
lt_natcluster *e2e_cluster(e2e *e);
/** latticed as e2e_latticed, connecting to url (e.g. a proxy's) instead of e2e_url. */
pid_t e2e_latticed_at(e2e *e, const char *url, const char *const *extra);
/** True while a process we started has not been reaped (and has not exited). */
bool e2e_alive(e2e *e, pid_t pid);
/** Replica id holding lattice's leader lease (KV latticed_leases), "" if none; and its epoch
 * (from the value, else the revision) in *epoch when not NULL. Static buffer. */
const char *e2e_leader(e2e *e, const char *lattice, uint64_t *epoch);

/** Also watch the replies to latticed's commands (subscribes _INBOX.>); for e2e_faults_get's
 * fencing counts. Call after e2e_observe. */
void e2e_watch_replies(e2e *e);

/** What the observer saw go wrong in a lattice since it started observing. */
typedef struct {
    size_t commands;            /**< start/stop/link/unlink requests seen */
    size_t replies;             /**< replies to them matched */
    size_t stale_sent;          /**< requests with an epoch older than one already sent */
    size_t stale_accepted;      /**< of those, accepted by a host: two leaders had commands
                                    accepted (fencing broken) */
    uint64_t newest_epoch;      /**< newest epoch in any command */
    size_t hosts_lost;          /**< cp host.lost events */
    size_t instances_lost_host; /**< cp instance.lost events with reason HOST_LOST */
    char first_violation[256];  /**< the first stale accepted command, described */
    char first_lost[256];       /**< the first host.lost: "<host> by <ce-source>" */
} e2e_faults;
void e2e_faults_get(e2e *e, const char *lattice, e2e_faults *out);
/** Whether a cp host.lost event named a host whose id starts with prefix. */
bool e2e_host_was_lost(e2e *e, const char *lattice, const char *prefix);
/** Instance ids running or starting on two fresh hosts at once (now). */
size_t e2e_duplicate_ids(e2e *e, const char *lattice);
/** Most instances of comp of one version of app running beyond that version's
 * e2e_replicas() (fresh hosts, now): a leader that started some again. */
size_t e2e_excess(e2e *e, const char *lattice, const char *app, const char *comp);
/** Oldest newest_epoch over the fresh hosts' heartbeats (0 if none). */
uint64_t e2e_hosts_min_epoch(e2e *e, const char *lattice);

/** The API request of e2e_api without assertions: NULL when no reply within timeout_ms. */
json_t *e2e_api_try(e2e *e, const char *lattice, const char *op, const char *name, const char *body,
                    size_t len, int timeout_ms);

/**
 * The manifest applier: a thread that, every period_ms, puts the template file with
 * "@VERSION@" replaced by "<prefix><k>" (k = 1, 2, ...) and "@N@" by e2e_replicas(version),
 * then deploys that version, and records every version whose put and deploy were both
 * acknowledged. API calls that get no answer (latticed down, partitioned) are not recorded.
 */
typedef struct e2e_applier e2e_applier;
e2e_applier *e2e_applier_start(e2e *e, const char *lattice, const char *template_path,
                               const char *prefix, int64_t period_ms);
/** Stop and join the thread (the record stays until e2e_applier_free). */
void e2e_applier_stop(e2e_applier *a);
void e2e_applier_free(e2e_applier *a);
/** Acknowledged versions so far, and the i-th of them (borrowed). */
size_t e2e_applier_acked(e2e_applier *a);
const char *e2e_applier_version(e2e_applier *a, size_t i);
/** When the newest acknowledged deploy was answered (e2e_now_ms), 0 if none. */
int64_t e2e_applier_last_ack_ms(e2e_applier *a);
/** Put+deploy rounds tried so far. */
size_t e2e_applier_tried(e2e_applier *a);
/** Most instance ids seen running on two hosts at once (e2e_duplicate_ids), and most workers
 * of one version beyond its desired count (e2e_excess), sampled after every round while the
 * applier ran. */
size_t e2e_applier_max_dups(e2e_applier *a);
size_t e2e_applier_max_excess(e2e_applier *a);
/** Desired instances of the chaos template's "worker" for a version "<prefix><k>": 2 + k % 4. */
int e2e_replicas(const char *version);

/** ck_assert that every version the applier had acknowledged is readable (`get` with
 * {"version"}) and is the manifest that was put. Retries a few times (a leader change). */
void e2e_check_versions(e2e *e, const char *lattice, e2e_applier *a);
/**
 * Wait until the app's deployed version runs exactly as the chaos template asks (worker
 * e2e_replicas(v) of v, gateway 1 of any version, nothing else), no instance id runs twice, and
 * status says deployed for that version; then again 2 s later (settled). Returns the ms from
 * since_ms to the first time it held (-1 on timeout, after printing what was seen); the
 * deployed version into version (cap 64) when not NULL.
 */
int64_t e2e_wait_converged(e2e *e, const char *lattice, const char *app, int64_t since_ms,
                           int64_t timeout_ms, char *version);

/** Print the tail of every process log (on failure). */
void e2e_dump_logs(e2e *e);

/** Assert ok, printing the processes' logs first when it fails. */
#define E2E_EXPECT(e, ok, ...)           \
    do {                                 \
        bool ok_ = (ok);                 \
        if (!ok_)                        \
            e2e_dump_logs(e);            \
        ck_assert_msg(ok_, __VA_ARGS__); \
    } while (0)
/** After a failed wait: what the store holds as app's status (read straight from KV, not through
 * latticed's API) and, where gdb is installed, the stacks of every thread of each live latticed:
 * enough to tell a status never written from one latticed's view missed, or a stuck thread. */
void e2e_diagnose(e2e *e, const char *lattice, const char *app);

int64_t e2e_now_ms(void);
void e2e_sleep_ms(int64_t ms);

/* Fault injection and logs (issue 8, partition/connection tests). */
typedef struct lt_natsrv lt_natsrv;
/** The nats-server (pause/resume/down/up it with lt_natsrv_*). */
lt_natsrv *e2e_natsrv(e2e *e);
/** Path of the log file of a process we started (NULL if unknown). */
const char *e2e_log_path(e2e *e, pid_t pid);
/** Exit 1 (a failure, never a skip) unless LATTICED_BIN and LATTICED_HOST_BIN are set. */
void e2e_require_bins(void);

/* ---------------------------------------------------------------------------------------------
 * Real hosts, latticectl and /proc (issue 9: untested paths, tests/e2e/test_e2e_cli.c). The
 * code is the last block of e2e.c.
 * ------------------------------------------------------------------------------------------- */

/** One real (not simulated) latticed-host in lattice with host id `id`, 500 ms heartbeats,
 * plus extra args (NULL-terminated, may be NULL), e.g. --default-runner. */
pid_t e2e_real_host(e2e *e, const char *lattice, const char *id, const char *const *extra);
/** PIDs of the live processes whose parent is `parent` (from /proc), at most max into out;
 * returns how many there are. */
size_t e2e_children(pid_t parent, pid_t *out, size_t max);
/** Whether process pid exists and is not a zombie. */
bool e2e_pid_running(pid_t pid);
/**
 * Run LATTICECTL_BIN with args (NULL-terminated) against this lattice's server
 * (LATTICE_NATS_URL, LATTICE_LATTICE=lattice); ck_asserts that it ran (not that it exited 0).
 * Release res with lt_test_cmd_result_cleanup.
 */
void e2e_ctl(e2e *e, const char *lattice, lt_test_cmd_result *res, const char *const *args);
/** Hosts of lattice (observed) whose latest heartbeat arrived at or after since_ms (e2e_now_ms):
 * a positive event to wait for before checking that something did not happen. */
size_t e2e_heard_since(e2e *e, const char *lattice, int64_t since_ms);

/* ---------------------------------------------------------------------------------------------
 * Scenario helpers (e2e_expect.c): what the e2e tests share instead of each keeping a copy.
 * The expect functions wait up to timeout_ms, then print the process logs and fail the test.
 * ------------------------------------------------------------------------------------------- */

#include <check.h>

/** Path of tests/e2e/manifests/<name> in the source tree, static buffer. */
const char *e2e_manifest(const char *name);
/** Put and deploy manifests/<name>; fails the test unless the deploy is acknowledged. */
void e2e_deploy_ok(e2e *e, const char *lattice, const char *name);
/** Put and deploy manifests/<name>; fails the test unless the deploy answers an error; that
 * answer ("error: <message>", caller frees). */
char *e2e_deploy_refused(e2e *e, const char *lattice, const char *name);
/** Wait until app's status word is want ("deployed", "failed"...). */
void e2e_expect_status(e2e *e, const char *lattice, const char *app, const char *want,
                       int64_t timeout_ms);
/** Wait up to timeout_ms until e2e_count(lattice, app, comp, any version, host) == want;
 * whether it did (does not fail). */
bool e2e_wait_count(e2e *e, const char *lattice, const char *app, const char *comp,
                    const char *host, size_t want, int64_t timeout_ms);
/** Wait up to timeout_ms until e2e_heard_since(lattice, since_ms) >= hosts; whether it did. */
bool e2e_wait_heard(e2e *e, const char *lattice, size_t hosts, int64_t since_ms,
                    int64_t timeout_ms);
/** Wait until e2e_count(lattice, app, comp, any version, host) == want. */
void e2e_expect_count(e2e *e, const char *lattice, const char *app, const char *comp,
                      const char *host, size_t want, int64_t timeout_ms);
/** Wait until e2e_count_image(lattice, app, image_sub) == want. */
void e2e_expect_image(e2e *e, const char *lattice, const char *app, const char *image_sub,
                      size_t want, int64_t timeout_ms);
/** Wait until e2e_links_with(lattice, cfg) == want. */
void e2e_expect_links(e2e *e, const char *lattice, const char *cfg, size_t want,
                      int64_t timeout_ms);
/** Wait until e2e_host_count(lattice) == want. */
void e2e_expect_hosts(e2e *e, const char *lattice, size_t want, int64_t timeout_ms);
/**
 * Instances latticed's scheduler counts on host in its inventory (`lattice.{L}.hosts`, what
 * `latticectl hosts` shows; the leader answers), summed over all hosts when host is NULL;
 * -1 when host is not in the inventory.
 */
long e2e_inventory_instances(e2e *e, const char *lattice, const char *host);
/** Wait until e2e_inventory_instances(lattice, host) == want (-1: latticed forgot the host). */
void e2e_expect_inventory(e2e *e, const char *lattice, const char *host, long want,
                          int64_t timeout_ms);
/** Whether the log of process pid (one we started) contains needle. */
bool e2e_log_has(e2e *e, pid_t pid, const char *needle);
/** Wait up to timeout_ms until e2e_log_has(pid, needle); whether it did (does not fail). */
bool e2e_wait_log(e2e *e, pid_t pid, const char *needle, int64_t timeout_ms);
/** A test executable's main: e2e_require_bins, then each test of the NULL-terminated list in
 * its own test case (named as the test: CK_RUN_CASE=name runs one) with timeout_s;
 * EXIT_SUCCESS when none failed. */
int e2e_run_suite(const char *name, int timeout_s, const TTest *const *tests);

#endif
