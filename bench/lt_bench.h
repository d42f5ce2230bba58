/*
 * lt_bench.h - what the benchmarks of bench/ share: child processes (spawned with their output
 * in a log file, stopped or killed by PID), the wall clock, percentiles, requests to latticed's
 * wadm API with the result word checked, a latticed's view of its hosts, and the command line
 * flags every benchmark takes (--smoke, --json FILE). Not a library of latticed: only bench/.
 */
#ifndef LT_BENCH_H
#define LT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <nats/nats.h>

/** Microseconds of CLOCK_MONOTONIC. */
int64_t lt_bench_now_us(void);
/** Milliseconds of CLOCK_MONOTONIC. */
int64_t lt_bench_now_ms(void);
/** Sleep ms milliseconds. */
void lt_bench_sleep_ms(int64_t ms);

/**
 * Fork and exec argv (argv[0] a path), stdout and stderr appended to log (NULL: inherited), the
 * child killed when the benchmark dies (PR_SET_PDEATHSIG). Returns the pid, or -1.
 */
pid_t lt_bench_spawn(const char *const *argv, const char *log);
/** SIGTERM pid, wait up to 10 s, then (its threads' stacks printed by gdb, when installed)
 * SIGKILL; reap it. Returns the wait status. */
int lt_bench_stop(pid_t pid);
/** kill -9 pid and reap it. */
void lt_bench_kill9(pid_t pid);
/** Whether pid has not exited (reaps it if it has). */
bool lt_bench_alive(pid_t pid);
/** Peak resident set (VmHWM) of pid in KiB, -1 when unknown. */
long lt_bench_peak_rss_kib(pid_t pid);

/** CPU time (user + system, every thread) process pid has used so far, in ms (the kernel counts
 * in clock ticks, 10 ms here); -1 when it cannot be read. */
double lt_bench_cpu_ms(pid_t pid);
/** Count lines of file path containing every one of the NULL-terminated words. */
size_t lt_bench_count_lines(const char *path, const char *const *words);

/** Latency sample statistics in milliseconds (samples in microseconds, sorted in place). */
typedef struct {
    size_t n;
    double p50_ms, p99_ms, mean_ms, max_ms;
} lt_bench_stats;

/** Sort v[0..n) and fill out. n may be 0 (all zero). */
void lt_bench_stats_of(int64_t *v, size_t n, lt_bench_stats *out);

/**
 * Send a wadm API request {api_prefix}.{lattice}.model.{op}[.{name}] with body (may be NULL) and
 * wait up to timeout_ms. *reply_out (may be NULL) receives the reply, to natsMsg_Destroy. Returns
 * true when a reply came and its "result" is want (want NULL: any reply).
 */
bool lt_bench_api(natsConnection *nc, const char *lattice, const char *op, const char *name,
                  const char *body, int timeout_ms, const char *want, natsMsg **reply_out);

/**
 * The round trip of the last lt_bench_api call in microseconds: request sent to reply
 * received, without checking the reply (parsing a list of 1,000 apps takes milliseconds of
 * the client's own time). Not thread-safe: for sequential measurements.
 */
int64_t lt_bench_api_rtt_us(void);

/** latticed's count of the hosts of lattice (its hosts request), -1 without an answer. */
int lt_bench_host_count(natsConnection *nc, const char *lattice);
/** Wait up to timeout_ms until the lattice API answers a list request. */
bool lt_bench_wait_api(natsConnection *nc, const char *lattice, int64_t timeout_ms);
/** The holder of lattice's leader lease (KV latticed_leases), "" when none; out has cap bytes. */
void lt_bench_leader(natsConnection *nc, const char *lattice, char *out, size_t cap);

/** A wadm manifest of app name, version (NULL: none), one component with instances. */
void lt_bench_manifest(char *out, size_t cap, const char *name, const char *version, int instances);

/** The flags every benchmark takes; the positional arguments are left in args[0..n_args). */
typedef struct {
    bool smoke;           /**< --smoke: small sizes, any build type, fail on a wrong result */
    const char *json;     /**< --json FILE: write the results there */
    const char *args[16]; /**< the positional arguments, in order */
    int n_args;
} lt_bench_cli;

/**
 * Parse argv: --smoke, --json FILE, and each "--name value" pair the caller names in
 * opts (NULL-terminated, "--apps" ...) stored in vals[i] (left alone when absent). Returns
 * false (after a message) on an unknown flag or a missing value.
 */
bool lt_bench_parse(int argc, char **argv, const char *const *opts, const char **vals,
                    lt_bench_cli *cli);

/** Open the --json file (or NULL when none was asked). Prints why when it cannot. */
FILE *lt_bench_json_open(const lt_bench_cli *cli);

#endif
