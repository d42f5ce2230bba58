/*
 * lt_natsrv.h - the project's one nats-server launcher, for `latticed --dev`,
 * the tests and the benchmarks: a real nats-server started as a child process
 * (its own process group) on a free loopback port with JetStream in a fresh
 * temporary store, ready when lt_natsrv_start returns, stopped by its own PID,
 * its directory removed. It speaks the raw protocol for its readiness probe
 * and needs no nats.c, hence core/.
 * The child gets SIGKILL if the thread that started it dies (PR_SET_PDEATHSIG),
 * and servers a test forgot to stop are killed (and their directories removed)
 * when the process that started them exits normally.
 *
 * Temp directories are named lt-natsrv-<owner pid>-XXXXXX; those of dead owners
 * (a test killed by a failed assertion or a signal) are removed on the next start.
 *
 * Typical use:
 *     lt_natsrv *srv = NULL;
 *     ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
 *     natsConnection_ConnectTo(&nc, lt_natsrv_url(srv));
 *     ...
 *     ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
 */
#ifndef LT_NATSRV_H
#define LT_NATSRV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lt_status.h"

typedef struct lt_natsrv lt_natsrv;

/** Start options; a zeroed struct (or NULL) means JetStream on, free port, defaults. */
typedef struct {
    const char *binary;      /**< nats-server path; NULL = $LT_NATS_SERVER, else PATH, else
                                   the one found at configure time, else /usr/sbin etc. */
    bool no_jetstream;       /**< do not pass -js / -sd */
    bool no_js_probe;        /**< consider the server ready once it answers PING (e.g. JS
                                   disabled for the probe's account) */
    bool info_probe;         /**< ready once the server's INFO line (with our name) arrives:
                                   for TLS or operator-mode configs the raw probe cannot log
                                   into; the test then waits with its own client */
    bool monitor;            /**< also serve the HTTP monitor (-m) on a free loopback port */
    int port;                /**< client port; 0 picks a free one (and retries on a bind race) */
    const char *server_name; /**< -n; default a unique "lt-natsrv-<pid>-<n>" */
    const char *config_text; /**< written to <dir>/server.conf and passed with -c; every
                                   "@DIR@" in it is replaced by the server's temp directory */
    const char *config_file; /**< -c path, when config_text is NULL */
    const char *const *extra_args; /**< NULL-terminated extra command-line arguments */
    const char *probe_user; /**< credentials for the readiness probe, if the config needs any */
    const char *probe_password;
    int64_t start_timeout_ms; /**< per attempt; 0 means 20000 */
    int64_t stop_timeout_ms;  /**< SIGTERM grace before SIGKILL; 0 means 10000 */
} lt_natsrv_opts;

/**
 * CONSTRUCTOR. Start nats-server (opts.binary, see there) as
 * `nats-server -a 127.0.0.1 -p <port> -n <name> [-js -sd <dir>/js] [-m <port>] [-c <conf>]
 * <extra_args>`, stdout and stderr to <dir>/server.log, and wait until it answers on its
 * port and (with JetStream) a $JS.API.INFO request succeeds. opts may be NULL; it is copied.
 * On failure the tail of the server log is printed to stderr, nothing is left
 * running and the directory is removed.
 * Statuses: LT_ERR_UNSUPPORTED (no nats-server binary), LT_ERR_IO (fork, files),
 * LT_ERR_TIMEOUT (not ready in time), LT_ERR_STATE (server exited), LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_natsrv_start(lt_natsrv **new_srv, const lt_natsrv_opts *opts);

/**
 * DESTRUCTOR. SIGTERM to exactly the server's PID, wait up to stop_timeout_ms,
 * then SIGKILL; reap it; remove the temp directory recursively; free srv.
 * NULL-safe. LT_ERR_IO if the directory could not be removed completely
 * (srv is freed anyway).
 */
LT_NODISCARD lt_status lt_natsrv_stop(lt_natsrv *srv);

/** Client URL, "nats://127.0.0.1:<port>". Borrowed, valid until lt_natsrv_stop. */
const char *lt_natsrv_url(const lt_natsrv *srv);

/** Client port. */
int lt_natsrv_port(const lt_natsrv *srv);

/** HTTP monitor port, or 0 when opts.monitor was not set. */
int lt_natsrv_monitor_port(const lt_natsrv *srv);

/** PID of the running server, or 0 while it is down. */
pid_t lt_natsrv_pid(const lt_natsrv *srv);

/** The server's temp directory (holds js/, server.log, server.conf). Borrowed. */
const char *lt_natsrv_dir(const lt_natsrv *srv);

/** Path of the server log file. Borrowed. */
const char *lt_natsrv_log_path(const lt_natsrv *srv);

/**
 * Take the server down for an outage test, keeping port, name and store:
 * graceful (SIGTERM, then SIGKILL after the grace time) or hard (SIGKILL at
 * once, like a crash). LT_OK also when it was already down.
 */
LT_NODISCARD lt_status lt_natsrv_down(lt_natsrv *srv, bool hard);

/**
 * Start a server that is down again on the same port, name and store, and wait
 * until it is ready (retrying a few times if the port is briefly busy).
 * LT_ERR_STATE if it is running; otherwise as lt_natsrv_start.
 */
LT_NODISCARD lt_status lt_natsrv_up(lt_natsrv *srv);

/** lt_natsrv_down(srv, false) then lt_natsrv_up(srv). */
LT_NODISCARD lt_status lt_natsrv_restart(lt_natsrv *srv);

/**
 * Freeze (SIGSTOP) / thaw (SIGCONT) the server: connections stay open but
 * nothing is answered, as in a network stall. LT_ERR_STATE when it is down.
 */
LT_NODISCARD lt_status lt_natsrv_pause(lt_natsrv *srv);
LT_NODISCARD lt_status lt_natsrv_resume(lt_natsrv *srv);

/**
 * Wait until the running server answers a $JS.API.INFO request (for a clustered node: the
 * meta leader is elected and reachable through it), whatever opts.no_js_probe said.
 * LT_ERR_TIMEOUT after timeout_ms, LT_ERR_STATE if it is down or exited.
 */
LT_NODISCARD lt_status lt_natsrv_wait_js(lt_natsrv *srv, int64_t timeout_ms);

/**
 * Find a currently free TCP port on 127.0.0.1 (bind to port 0 and release it),
 * e.g. for cluster route ports in config_text. Another process may take it
 * before you do. LT_ERR_IO on socket failure.
 */
LT_NODISCARD lt_status lt_natsrv_free_port(int *out);

#endif
