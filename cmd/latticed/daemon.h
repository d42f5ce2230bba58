/*
 * daemon.h - the latticed process: configuration, start-up (NATS, JetStream
 * assets, the loop), the --dev embedded nats-server, and clean shutdown on
 * SIGINT/SIGTERM.
 */
#ifndef LT_DAEMON_H
#define LT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "lt_conn.h"
#include "lt_status.h"

typedef struct {
    bool help, version, dev;
    const char *config_file;
    const char *nats_url, *nats_creds, *nats_jwt, *nats_nkey, *nats_seed;
    const char *nats_tls_ca, *nats_tls_cert, *nats_tls_key;
    const char *nats_server_bin; /**< --dev: nats-server binary */
    const char *api_prefix;
    const char *storage;         /**< "file" or "memory" */
    int64_t replicas;
    int64_t events_max_bytes;
    const char *log_level, *log_format;
} lt_daemon_config;

/**
 * Run latticed until SIGINT/SIGTERM. Returns the process exit code: 0 after
 * a clean shutdown, 1 on a runtime failure, 3 when NATS (or, with --dev,
 * nats-server) cannot be reached or started. Errors are logged as one line.
 */
int lt_daemon_run(const lt_daemon_config *cfg);

#endif
