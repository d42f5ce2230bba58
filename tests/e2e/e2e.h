/*
 * e2e.h - end-to-end test harness: a real nats-server (lt_natsrv), latticed
 * and latticed-host processes started and killed by PID, wadm's corpus
 * manifests, the API over NATS, and a passive observer that learns what every
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

typedef struct e2e e2e;

/** Exit 77 (skip) unless the corpus and binaries are there. Call first in main. */
void e2e_require(void);

/** Path of a corpus file ("manifests/simple.yaml"), static buffer. */
const char *e2e_corpus(const char *rel);

/** nats-server up, observer connected. Fails the test on error. */
e2e *e2e_new(void);
/** Kill every process started (SIGTERM, then SIGKILL), stop nats-server. */
void e2e_free(e2e *e);
const char *e2e_url(const e2e *e);

/** latticed with fast test timings (heartbeat 500 ms), plus extra args (NULL-terminated). */
pid_t e2e_latticed(e2e *e, const char *const *extra);
/**
 * latticed-host --simulate n in lattice, ids "<prefix>-00000".., labels "k=v" (NULL-terminated,
 * may be NULL), extra args (NULL-terminated, may be NULL).
 */
pid_t e2e_hosts(e2e *e, const char *lattice, const char *prefix, int n,
                const char *const *labels, const char *const *extra);
/** Send sig to a process we started; with reap, wait for it to exit. */
void e2e_kill(e2e *e, pid_t pid, int sig, bool reap);

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

/** Print the tail of every process log (on failure). */
void e2e_dump_logs(e2e *e);

int64_t e2e_now_ms(void);
void e2e_sleep_ms(int64_t ms);

/* Fault injection and logs (issue 8, partition/connection tests). */
typedef struct lt_natsrv lt_natsrv;
/** The nats-server (pause/resume/down/up it with lt_natsrv_*). */
lt_natsrv *e2e_natsrv(e2e *e);
/** Path of the log file of a process we started (NULL if unknown). */
const char *e2e_log_path(e2e *e, pid_t pid);
/** Exit 77 (skip) unless the binaries are there (for tests that use no wadm corpus). */
void e2e_require_bins(void);

#endif
