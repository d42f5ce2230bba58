/*
 * lt_proxy.h - a TCP proxy you can stop, for fault injection in tests: the
 * `lt_proxy` program (lt_proxy_main.c) started as a child process on a free
 * loopback port in front of a target port, switched between forward, cut and
 * stall by signals, each switch acknowledged by the proxy before the call
 * returns, and stopped by its own PID. The child gets SIGKILL if the thread
 * that started it dies (PR_SET_PDEATHSIG).
 *
 * Typical use: put it in front of nats-server and give one client its URL:
 *     lt_proxy *p = NULL;
 *     ck_assert_int_eq(lt_proxy_start(&p, lt_natsrv_port(srv)), LT_OK);
 *     ... client connects to lt_proxy_url(p) ...
 *     ck_assert_int_eq(lt_proxy_set(p, LT_PROXY_CUT), LT_OK);   // partition
 *     ck_assert_int_eq(lt_proxy_set(p, LT_PROXY_FORWARD), LT_OK); // heal
 *     ck_assert_int_eq(lt_proxy_stop(p), LT_OK);
 */
#ifndef LT_PROXY_H
#define LT_PROXY_H

#include <sys/types.h>

#include "lt_status.h"

typedef struct lt_proxy lt_proxy;

typedef enum {
    LT_PROXY_FORWARD, /**< relay bytes both ways, accept new connections */
    LT_PROXY_CUT,     /**< reset every connection, refuse new ones (port closed) */
    LT_PROXY_STALL,   /**< keep connections open, relay nothing, accept nothing (half-open) */
} lt_proxy_mode;

/**
 * CONSTRUCTOR. Start `lt_proxy 0 target_port` (the binary in env LT_PROXY_BIN, else the
 * one built next to this library) and wait until it listens. Starts in FORWARD.
 * Statuses: LT_ERR_UNSUPPORTED (no binary), LT_ERR_IO (fork, pipe), LT_ERR_TIMEOUT (no
 * "port" line within 10 s), LT_ERR_STATE (it exited), LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_proxy_start(lt_proxy **new_proxy, int target_port);

/**
 * Switch mode and wait (up to 10 s) for the proxy to confirm it; when this returns LT_OK,
 * the mode is in effect (after CUT, every connection has been reset).
 * LT_ERR_STATE if the proxy is gone, LT_ERR_TIMEOUT without confirmation.
 */
LT_NODISCARD lt_status lt_proxy_set(lt_proxy *p, lt_proxy_mode mode);

/** DESTRUCTOR. SIGTERM to exactly its PID, SIGKILL after 5 s, reap, free. NULL-safe. */
LT_NODISCARD lt_status lt_proxy_stop(lt_proxy *p);

/** Listening port on 127.0.0.1. */
int lt_proxy_port(const lt_proxy *p);

/** "nats://127.0.0.1:<port>". Borrowed, valid until lt_proxy_stop. */
const char *lt_proxy_url(const lt_proxy *p);

#endif
