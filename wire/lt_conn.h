/*
 * lt_conn.h - one way to open a NATS connection for every latticed binary:
 * URL list, credentials (creds file, JWT + seed files, nkey + seed file),
 * TLS (CA, client cert/key) and reconnect-forever behaviour, plus the
 * translation of natsStatus into lt_status. Secrets are passed by file
 * reference only and never logged.
 */
#ifndef LT_CONN_H
#define LT_CONN_H

#include <stdbool.h>
#include <nats/nats.h>

#include "lt_status.h"

#define LT_CONN_DEFAULT_URL "nats://127.0.0.1:4222"

typedef struct {
    const char *url;        /**< comma-separated server URLs; NULL = LT_CONN_DEFAULT_URL */
    const char *name;       /**< connection name shown by the server (optional) */
    const char *creds_file; /**< chained JWT + seed file (.creds) */
    const char *jwt_file;   /**< user JWT file; needs seed_file */
    const char *nkey;       /**< user nkey public key (U...); needs seed_file, excludes JWT */
    const char *seed_file;  /**< user nkey seed file */
    const char *tls_ca;     /**< CA bundle; setting it requires TLS */
    const char *tls_cert;   /**< client certificate chain (needs tls_key) */
    const char *tls_key;    /**< client private key */
    int timeout_ms;         /**< connect timeout; 0 = 5000 */
    bool no_reconnect;      /**< CLI tools: fail instead of reconnecting forever */
} lt_conn_config;

/** Events of the connection, called on a nats.c thread: post, don't touch state. */
typedef struct {
    void (*disconnected)(void *arg);
    void (*reconnected)(void *arg);
    void (*closed)(void *arg);
    void *arg;
} lt_conn_events;

/**
 * Check a configuration for contradictions (JWT without seed, creds with
 * JWT, cert without key...). LT_ERR_INVALID with a one-line reason.
 */
LT_NODISCARD lt_status lt_conn_config_check(const lt_conn_config *cfg);

/**
 * CONSTRUCTOR. Connect. events may be NULL. On LT_OK *new_nc is owned by the
 * caller (natsConnection_Destroy). LT_ERR_TRANSPORT when no server answers,
 * LT_ERR_INVALID for a bad configuration or unreadable credentials; the
 * reason is in lt_error_message().
 */
LT_NODISCARD lt_status lt_conn_connect(natsConnection **new_nc, const lt_conn_config *cfg,
                                       const lt_conn_events *events);

/** Map a natsStatus to lt_status (NATS_TIMEOUT -> LT_ERR_TIMEOUT, ...). */
lt_status lt_conn_status(natsStatus s);

/** The first URL of a list with any user:password@ part removed, for logs. */
void lt_conn_redact_url(const char *url, char *out, size_t outsize);

#endif
