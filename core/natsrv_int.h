/*
 * natsrv_int.h - internals of the nats-server launcher shared by its three
 * files: lt_natsrv.c (public API, set-up, start with retries), lt_natsrv_proc.c
 * (binary lookup, ports, spawn/terminate, the registry of live servers) and
 * lt_natsrv_probe.c (the raw-protocol readiness probe and the server log).
 */
#ifndef LT_NATSRV_INT_H
#define LT_NATSRV_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lt_natsrv.h"

#define LT__NATSRV_PROBE_TIMEOUT_MS 1000
#define LT__NATSRV_LOG_TAIL_BYTES 4096

struct lt_natsrv {
    char *bin, *dir, *store, *log, *conf, *name;
    char **extra; /* NULL-terminated copy of opts.extra_args */
    char *probe_user, *probe_pass;
    bool js, js_probe, info_probe, monitor, auto_port;
    int port, mport;
    int64_t start_timeout_ms, stop_timeout_ms;
    pid_t pid; /* 0 while down */
    bool paused;
    pid_t owner; /* process that started it (for the exit sweep) */
    char url[48];
    struct lt_natsrv *next; /* registry of live servers */
};

typedef enum {
    LT__NATSRV_NOT_YET,
    LT__NATSRV_READY,
    LT__NATSRV_FATAL
} lt__core_natsrv_probe_result;

/* lt_natsrv_proc.c */
/** The nats-server binary: hint, $LT_NATS_SERVER, PATH, the configure-time path, /usr/sbin...
 *  NULL when none is executable. Borrowed (thread-local or static). */
const char *lt__core_natsrv_find_binary(const char *hint);
void lt__core_natsrv_reg_add(lt_natsrv *s);
void lt__core_natsrv_reg_remove(lt_natsrv *s);
unsigned lt__core_natsrv_next_serial(void);
void lt__core_natsrv_sweep_stale_dirs(void);
LT_NODISCARD lt_status lt__core_natsrv_spawn(lt_natsrv *s);
/** Signal (SIGKILL when hard, else SIGTERM), wait stop_timeout_ms, then SIGKILL; reaps. */
LT_NODISCARD lt_status lt__core_natsrv_terminate(lt_natsrv *s, bool hard);

/* lt_natsrv_probe.c */
/** One readiness probe: the server's INFO (with our name), CONNECT/PING, and $JS.API.INFO. */
lt__core_natsrv_probe_result lt__core_natsrv_probe(const lt_natsrv *s);
off_t lt__core_natsrv_log_size(const lt_natsrv *s);
/** The log written since offset from (at most the last max bytes), heap; NULL if unreadable. */
char *lt__core_natsrv_log_since(const lt_natsrv *s, off_t from, size_t max);
void lt__core_natsrv_log_marker(const lt_natsrv *s, const char *what);
void lt__core_natsrv_print_log_tail(const lt_natsrv *s, off_t from, const char *why);

#endif
