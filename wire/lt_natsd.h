/*
 * lt_natsd.h - run a nats-server as a child process: find the binary, pick a
 * free loopback port, keep JetStream in a temporary directory, wait until it
 * serves, and stop exactly that PID again (SIGTERM, then SIGKILL), removing
 * the directory. Used by `latticed --dev` and by the test helpers.
 */
#ifndef LT_NATSD_H
#define LT_NATSD_H

#include <stdbool.h>
#include <sys/types.h>

#include "lt_status.h"

typedef struct lt_natsd lt_natsd;

typedef struct {
    const char *binary;      /**< nats-server path; NULL = $LT_NATS_SERVER, PATH, /usr/sbin */
    bool no_jetstream;       /**< start without -js */
    int port;                /**< 0 = pick a free loopback port */
    const char *config_file; /**< passed with -c (optional) */
    const char *store_dir;   /**< JetStream store; NULL = a new temp dir removed at stop */
    int ready_timeout_ms;    /**< how long to wait for the server; 0 = 10000 */
} lt_natsd_opts;

/**
 * CONSTRUCTOR. Start the server and wait until it accepts clients (and
 * JetStream answers when enabled). LT_ERR_NOT_FOUND: no nats-server binary;
 * LT_ERR_IO: it could not start or exited (lt_error_message() quotes the
 * tail of its log). The child gets SIGKILL if this process dies.
 */
LT_NODISCARD lt_status lt_natsd_start(lt_natsd **new_srv, const lt_natsd_opts *opts);

/**
 * DESTRUCTOR. SIGTERM the child, wait up to 5 s, then SIGKILL; remove the
 * temp directory if we created it. NULL-safe. Returns nothing: it always
 * reaps the child.
 */
void lt_natsd_stop(lt_natsd *srv);

/** Restart the same server (same port and store) after lt_natsd_kill. */
LT_NODISCARD lt_status lt_natsd_restart(lt_natsd *srv);

/** Send sig to the child and reap it if it exits (for outage tests). */
void lt_natsd_kill(lt_natsd *srv, int sig);

/** "nats://127.0.0.1:PORT". Borrowed, valid until stop. */
const char *lt_natsd_url(const lt_natsd *srv);
int lt_natsd_port(const lt_natsd *srv);
pid_t lt_natsd_pid(const lt_natsd *srv);
/** The temp directory (JetStream store and log). Borrowed. */
const char *lt_natsd_dir(const lt_natsd *srv);

/** Resolve the nats-server binary as lt_natsd_start would; NULL if none. Borrowed static. */
const char *lt_natsd_find_binary(const char *hint);

/** A free TCP port on 127.0.0.1 (bind to port 0 and read it back); 0 on failure. */
int lt_natsd_free_port(void);

/** Remove a directory tree (no symlinks followed). LT_ERR_IO on failure. */
lt_status lt_natsd_rmtree(const char *path);

#endif
