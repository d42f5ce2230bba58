/*
 * lt_conn.h - one way to open a NATS connection for every latticed binary:
 * URL list (a server list for nats.c), credentials (creds file, JWT + seed files, nkey + seed
 * file),
 * TLS (CA, client cert/key) and reconnect-forever behaviour, plus the
 * translation of natsStatus into lt_status. Secrets are passed by file
 * reference only and never logged.
 */
#ifndef LT_CONN_H
#define LT_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <nats/nats.h>

#include "lt_status.h"

#define LT_CONN_DEFAULT_URL "nats://127.0.0.1:4222"
#define LT_CONN_MAX_SERVERS 32       /**< URLs in one comma-separated list */
#define LT_CONN_MAX_URL_LIST 4096    /**< bytes of a URL list */
#define LT_CONN_DEFAULT_PING_MS 2000 /**< PING every 2 s... */
#define LT_CONN_DEFAULT_PINGS_OUT 2  /**< ...and 2 unanswered mean the connection is dead */

typedef struct {
    const char *url;         /**< comma-separated server URLs; NULL = LT_CONN_DEFAULT_URL */
    const char *name;        /**< connection name shown by the server (optional) */
    const char *creds_file;  /**< chained JWT + seed file (.creds) */
    const char *jwt_file;    /**< user JWT file; needs seed_file */
    const char *nkey;        /**< user nkey public key (U...); needs seed_file, excludes JWT */
    const char *seed_file;   /**< user nkey seed file */
    const char *tls_ca;      /**< CA bundle; setting it requires TLS */
    const char *tls_cert;    /**< client certificate chain (needs tls_key) */
    const char *tls_key;     /**< client private key */
    int timeout_ms;          /**< connect timeout; 0 = 5000 */
    int ping_ms;             /**< PING interval; 0 = LT_CONN_DEFAULT_PING_MS */
    int max_pings_out;       /**< unanswered PINGs that close the connection; 0 = default 2 */
    int64_t connect_wait_ms; /**< no server answers at start: try again each second this
                                  long (0 = one attempt at each server) */
    bool (*keep_waiting)(void *arg); /**< optional: false stops that waiting at once */
    void *keep_waiting_arg;
    bool no_reconnect;        /**< CLI tools: fail instead of reconnecting forever */
    bool no_reconnect_buffer; /**< publishes fail while reconnecting instead of being queued
                                   and replayed after the reconnect (latticed's commands) */
    bool shared_delivery;     /**< subscriptions share nats.c's pool of delivery threads
                                   instead of a thread each (thousands of subscriptions: the
                                   simulated hosts of one process) */
    bool send_asap;           /**< write each message at once instead of letting nats.c's
                                   flusher batch writes, which delays every request and reply
                                   by about 1 ms (nats.c sleeps 1 ms before a flush) */
    int io_buf_size;          /**< bytes nats.c buffers before it writes; 0 = its 32 KiB */
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
 * CONSTRUCTOR. Connect to the first server of cfg->url that answers (a list
 * is tried in nats.c's shuffled order; with connect_wait_ms, again each second
 * until one answers, the time is up or keep_waiting says stop). events may be
 * NULL. On LT_OK *new_nc is owned by the caller (natsConnection_Destroy).
 * LT_ERR_TRANSPORT when no server answers,
 * LT_ERR_INVALID for a bad configuration or unreadable credentials; the
 * reason is in lt_error_message().
 */
LT_NODISCARD lt_status lt_conn_connect(natsConnection **new_nc, const lt_conn_config *cfg,
                                       const lt_conn_events *events);

/* ---- retiring subscriptions (lt_conn_retire.c) ----------------------------------------------
 * nats.c 3.4 (Debian 12's libnats; fixed upstream in v3.6.1, commit 0a7dd28b) matches an
 * incoming message to its subscription under a lock, then uses the subscription without one. A
 * subscription destroyed right after its unsubscribe can be freed under the connection's reader:
 * a crash or a hang (latticed at shutdown under load). The reader handles messages in order, so
 * once a flush's PONG is read no message read before it still points at the subscription:
 * retiring is unsubscribe, flush, destroy. When the flush cannot be had (not connected, no PONG
 * within LT_CONN_SETTLE_MS) the subscription is parked instead, and destroyed by
 * lt_conn_parked_free once the connections are closed (natsConnection_Close joins the reader).
 * Never call these from a callback that runs on a connection's reader thread. */

#define LT_CONN_SETTLE_MS 2000 /**< the usual longest wait for a flush when retiring */

/**
 * Unsubscribe the n subscriptions of subs (NULL entries skipped), all on nc, then destroy them
 * once nc's reader is done with them (one flush answered within timeout_ms), else park them
 * (above). A flush answered also frees what was parked on nc before. nc NULL: parked.
 */
void lt_conn_subs_free(natsConnection *nc, natsSubscription *const *subs, size_t n,
                       int64_t timeout_ms);

/** lt_conn_subs_free of one subscription. NULL-safe. */
void lt_conn_sub_free(natsConnection *nc, natsSubscription *sub, int64_t timeout_ms);

/* nats.c before 3.13 (Debian 12 has 3.4; upstream commit 1a99478a) drops the message
 * kvWatcher_Next has just taken, without destroying it, when the watcher was stopped meanwhile:
 * a leak each time a watcher is stopped from another thread while an update arrives. So a
 * watcher is only ever stopped by the thread that reads it: that thread waits at most
 * LT_CONN_WATCH_POLL_MS in each kvWatcher_Next, looks at its own stop flag in between, and
 * retires the watcher itself (lt_conn_watcher_free): a stop waits that long for a thread in
 * kvWatcher_Next (one in a JetStream request waits for the request's own timeout). */
#define LT_CONN_WATCH_POLL_MS 100

/** The same for a KV watcher (kvWatcher_Stop first); nc: the connection of its KV store, NULL
 * when unknown (parked). NULL-safe. */
void lt_conn_watcher_free(natsConnection *nc, kvWatcher *w, int64_t timeout_ms);

/** Free what was parked on nc, when a flush on it is answered within timeout_ms (after a
 * reconnect, say: what a disconnection parked need not wait for the shutdown). */
void lt_conn_parked_sweep(natsConnection *nc, int64_t timeout_ms);

/** Destroy what was parked. Call once every connection of the process is closed. Thread-safe. */
void lt_conn_parked_free(void);

/** How many subscriptions and watchers are parked now. Thread-safe. */
size_t lt_conn_parked_count(void);

/** Map a natsStatus to lt_status (NATS_TIMEOUT -> LT_ERR_TIMEOUT, ...). */
lt_status lt_conn_status(natsStatus s);

/**
 * Split a comma-separated URL list into its servers: blanks around each URL
 * are trimmed; an empty entry, a blank inside a URL, a scheme other than
 * nats:// or tls://, a missing host, a bad port or more than max URLs is
 * LT_ERR_INVALID naming the entry (without its password). buf (bufsize bytes)
 * receives the trimmed copies, urls[0..*n) point into it.
 */
LT_NODISCARD lt_status lt_conn_split_urls(const char *list, char *buf, size_t bufsize,
                                          const char **urls, size_t max, size_t *n);

/** A URL list with every user:password@ part replaced by ***@, for logs (truncated). */
void lt_conn_redact_url(const char *url, char *out, size_t outsize);

#endif
