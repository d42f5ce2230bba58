/*
 * e2e_v2.h - the harness of tests/e2e/test_e2e_v2.c (wasmCloud 2.x hosts, issue 10): v2
 * simulator processes (latticed-host --simulate N --protocol wasmcloud-v2) and what their stdout
 * says they run, and a passive subscriber to runtime.host.*.workload.* that records every
 * request latticed sends (never answers). One test at a time per process (static state).
 */
#ifndef LT_E2E_V2_H
#define LT_E2E_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "e2e.h"

/** One request seen on runtime.host.<host>.workload.<verb>, summarised. */
typedef struct {
    char verb[16], host[64], wid[80], lattice[64], app[64], version[64], kind[32];
    char comps[256];  /* "api{greeting=hello} store{}" */
    char ifaces[512]; /* "wasi:keyvalue/store,atomics{backend=nats,bucket=shop} ..." */
    bool managed;     /* latticed.dev/managed-by=latticed */
    int64_t at;
} e2e_v2_req;

/** Record every request on runtime.host.*.workload.* from now on (forgets earlier ones). */
void e2e_v2_watch(e2e *e);
void e2e_v2_unwatch(void);
/** The newest start request for workload id wid, copied into out; whether there is one. */
bool e2e_v2_start_of(const char *wid, e2e_v2_req *out);
/** Requests of verb ("start", "status", "stop") sent at or after since_ms to host, for workload
 * id wid, carrying annotation latticed.dev/lattice=lattice (each NULL = any). */
size_t e2e_v2_requests(const char *verb, const char *host, const char *wid, const char *lattice,
                       int64_t since_ms);

#define E2E_V2_MAX_RUN 512

typedef struct {
    char host[64], wid[80];
    pid_t pid;
} e2e_v2_run;

/* What the simulators printed: ready hosts, start lines (by state), stops, and the workloads
 * running now (a start RUNNING not stopped since), over the live simulators (or pid only). */
typedef struct {
    size_t ready, starts, starts_running, starts_error, stops, dropped;
    e2e_v2_run run[E2E_V2_MAX_RUN];
    size_t n_run;
    char hosts[64][64];
    size_t n_hosts;
} e2e_v2_fold;

/** Forget the simulators of an earlier test. */
void e2e_v2_reset(void);
/** latticed-host --nats-url .. --simulate n --protocol wasmcloud-v2 + extra (may be NULL). */
pid_t e2e_v2_sim(e2e *e, const char *name, int n, const char *const *extra);
/** kill -9 a simulator; its stdout no longer counts as running. */
void e2e_v2_kill(e2e *e, pid_t pid);
/** Fold the stdout of the live simulators (pid 0), or of simulator pid even if dead: ready
 * hosts, start lines by state, stops, and the workloads running (a start RUNNING not stopped
 * since). */
void e2e_v2_fold_sims(e2e *e, pid_t pid, e2e_v2_fold *f);
/** Workloads running (fold, pid 0 = live simulators) whose start request carried latticed's
 * annotations for app (NULL = any) and version (NULL = any). */
size_t e2e_v2_running(e2e *e, pid_t pid, const char *app, const char *version);
/** Hosts of live simulators running workload id wid. */
size_t e2e_v2_running_wid(e2e *e, const char *wid);
/** Pairs of hosts (live simulators) running the same workload id. */
size_t e2e_v2_duplicates(e2e *e);
/** Wait until e2e_v2_running(pid, app, version) == want, else dump the logs and fail. */
void e2e_v2_expect_running(e2e *e, pid_t pid, const char *app, const char *version, size_t want,
                           int64_t timeout_ms);
/** Wait until simulator pid printed n ready lines and latticed's inventory of lattice lists
 * every one of those hosts; f holds the fold (host ids in f->hosts). */
void e2e_v2_wait_ready(e2e *e, const char *lattice, pid_t pid, int n, e2e_v2_fold *f);
/** The whole wadm status reply of app as compact JSON text (caller frees). */
char *e2e_v2_status_text(e2e *e, const char *lattice, const char *app);
/** e2e_latticed with --wasmcloud-v2 lattices and more args (NULL-terminated, may be NULL). */
pid_t e2e_v2_latticed(e2e *e, const char *lattices, const char *const *more);

#endif
