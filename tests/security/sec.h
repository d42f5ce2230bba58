/*
 * sec.h - harness of the security tests: a temp directory with certificates
 * made by the openssl CLI (a CA, a server certificate for 127.0.0.1/localhost,
 * a client certificate, and a second, untrusted CA), a real nats-server with
 * a given configuration, latticed / latticed-host processes started and
 * stopped by PID with their output in log files, and latticectl runs.
 * Binaries come from LATTICED_BIN, LATTICED_HOST_BIN, LATTICECTL_BIN.
 */
#ifndef SEC_H
#define SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lt_natsrv.h"
#include "lt_testutil.h"

#define SEC_MAX_PROCS 8

typedef struct {
    pid_t pid;
    bool alive;
    int exit_code; /**< once reaped: exit status, or 128 + signal */
    char log[512];
} sec_proc;

typedef struct {
    char *dir;      /**< temp directory (certs, logs, creds, manifests) */
    lt_natsrv *srv; /**< NULL until sec_server */
    sec_proc procs[SEC_MAX_PROCS];
    size_t n_procs;
} sec;

/** Temp dir; with certs, the openssl-made CA and certificates in it. Fails the test on error. */
void sec_init(sec *s, bool certs);
/** Stop every process still running, the server, remove the directory. */
void sec_cleanup(sec *s);

/** "<dir>/<name>" in a static ring of buffers (valid for the next 15 calls). */
const char *sec_path(const sec *s, const char *name);
/** Write text to <dir>/<name>; returns the path (sec_path). */
const char *sec_write(const sec *s, const char *name, const char *text);

/**
 * Start nats-server with config text (every "@DIR@" becomes the server's own dir,
 * "@SEC@" the harness dir). info_probe for TLS / operator mode.
 */
void sec_server(sec *s, const char *config, bool info_probe);
/** nats://127.0.0.1:<port>, optionally with "user:password@". Static buffer ring. */
const char *sec_url(const sec *s, const char *userpass);

/** Start a program (argv NULL-terminated, argv[0] the binary), output to <dir>/<name>.log. */
sec_proc *sec_spawn(sec *s, const char *name, const char *const *argv);
/** Wait up to timeout_ms for p to exit; true when it did (p->exit_code set). */
bool sec_wait_exit(sec_proc *p, int64_t timeout_ms);
/** SIGTERM (then SIGKILL after 15 s) and reap. Returns the exit code. */
int sec_stop(sec_proc *p);
/** The whole log of p (lt_free). */
char *sec_log(const sec_proc *p);

/**
 * latticed with fast test timings plus conn (NULL-terminated) options; log level debug.
 */
sec_proc *sec_latticed(sec *s, const char *const *conn);
/** latticed-host --simulate n, ids "<prefix>-0000i", lattice "default", plus conn options. */
sec_proc *sec_hosts(sec *s, const char *prefix, int n, const char *const *conn);

/**
 * Run latticectl with conn options then args (both NULL-terminated). res is filled (cleanup
 * with lt_test_cmd_result_cleanup); returns its exit code.
 */
int sec_ctl(sec *s, const char *const *conn, const char *const *args, lt_test_cmd_result *res);

/**
 * The full round trip: apply <dir>/app.yaml (app "secapp", 2 instances) with latticectl
 * (retried while latticed is not up yet), then wait until `latticectl status` says deployed.
 * Fails the test (with the logs) otherwise.
 */
void sec_apply_deployed(sec *s, const char *const *ctl_conn);

/** What sec_operator_config made that must stay secret. */
typedef struct {
    char user_seed[64], rogue_seed[64];
    char user_jwt_sig[100], rogue_jwt_sig[100]; /**< the JWTs' signature parts */
} sec_secrets;

/**
 * Operator mode made here: an operator, a system account and an account LATTICE (JetStream
 * on) with JWTs signed by their nkeys; writes <dir>/operator.jwt, <dir>/user.creds (a user of
 * LATTICE) and <dir>/rogue.creds (a user of an account the operator never signed). Returns the
 * server config (resolver MEMORY with preload; lt_free); out (may be NULL) gets the secrets.
 */
char *sec_operator_config(sec *s, sec_secrets *out);

/**
 * After sec_server with an operator config: log in once as user.creds and ask JetStream for the
 * account's info, so that nats-server loads account LATTICE (and enables its JetStream) before
 * the test starts several programs at once. nats-server 2.9.10 loads an account on its first
 * login; logins that arrive together each build it and enable its JetStream, and that step
 * (a write probe that removes <store>/<account>/streams) can remove the directory of a stream
 * another client is creating: "could not create storage directory", latticed never ready.
 */
void sec_operator_ready(sec *s);

/** Number of non-empty lines of text. */
size_t sec_lines(const char *text);

/** Print every process log and the server log (on failure). */
void sec_dump(const sec *s);

#endif
