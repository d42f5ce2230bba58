/*
 * lt_admin.h - latticed's HTTP admin listener (libmicrohttpd on its own
 * thread): /livez, /readyz, /metrics (Prometheus text format 0.0.4) and
 * /debug/state. The daemon's loop beats and publishes snapshots; the HTTP
 * threads only read them, so nothing but /debug/state (built by the loop on
 * request) waits on the loop. Also the
 * Prometheus text writer the snapshots are built with. See docs/operations.md.
 */
#ifndef LT_ADMIN_H
#define LT_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_buf.h"
#include "lt_hist.h"
#include "lt_status.h"

/* ---------------------------------------------------------------------------------------------
 * Prometheus text format 0.0.4 (admin_prom.c)
 * ------------------------------------------------------------------------------------------- */

/** One label: name (a valid label name, not escaped) and value (escaped when written). */
typedef struct {
    const char *name;
    const char *value;
} lt_admin_label;

/**
 * Append the `# HELP` and `# TYPE` lines of family name; type is "counter",
 * "gauge" or "histogram". help is escaped (backslash, newline). Errors stick
 * in out (lt_buf_status).
 */
void lt_admin_prom_family(lt_buf *out, const char *name, const char *type, const char *help);

/**
 * Append one sample `name{labels} value`. Label values are escaped (backslash,
 * double quote, newline); NaN and infinities are written as Prometheus spells
 * them. n may be 0 (labels may then be NULL).
 */
void lt_admin_prom_sample(lt_buf *out, const char *name, const lt_admin_label *labels, size_t n,
                          double value);

/**
 * Append histogram name's samples: `name_bucket{labels,le="b"}` for every
 * bound (cumulative) and `le="+Inf"`, then `name_sum` and `name_count`.
 */
void lt_admin_prom_hist(lt_buf *out, const char *name, const lt_admin_label *labels, size_t n,
                        const lt_hist_snap *h);

/* ---------------------------------------------------------------------------------------------
 * The listener (admin_http.c)
 * ------------------------------------------------------------------------------------------- */

typedef struct lt_admin lt_admin;

#define LT_ADMIN_STALE_MS 5000 /**< /livez fails when the loop's last beat is older */

/**
 * CONSTRUCTOR. Listen on addr ("host:port", ":port" for every address,
 * "[v6]:port"; port 0 picks a free one, see lt_admin_addr) and serve on
 * libmicrohttpd's own thread. Until the first lt_admin_publish /readyz says
 * "starting" and /livez counts from now. stale_ms 0 = LT_ADMIN_STALE_MS.
 * LT_ERR_INVALID for a malformed addr, LT_ERR_IO when it cannot listen,
 * LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_admin_start(lt_admin **new_a, const char *addr, int64_t stale_ms);

/** DESTRUCTOR. Stop the thread (requests in flight are answered) and free. NULL-safe. */
void lt_admin_stop(lt_admin *a);

/** "host:port" actually listened on (borrowed, lives as long as a). */
const char *lt_admin_addr(const lt_admin *a);

/** The loop turned: /livez is fine for stale_ms from now. Thread-safe, lock-free. */
void lt_admin_beat(lt_admin *a);

/**
 * Publish a new snapshot: ready (and, when not, reason: one short line) and
 * the /metrics text, moved out of metrics (left empty, reusable). Thread-safe;
 * holds a lock only to swap a pointer: responses still sending the previous
 * text keep it (reference counted) and the last one frees it.
 */
void lt_admin_publish(lt_admin *a, bool ready, const char *reason, lt_buf *metrics);

/**
 * Whether a /debug/state request waits for a state (lt_admin_publish_state).
 * The state is built only then: a handler asks and waits up to
 * LT_ADMIN_STATE_WAIT_MS on its own thread, else answers 503. Thread-safe,
 * lock-free.
 */
bool lt_admin_state_wanted(lt_admin *a);

#define LT_ADMIN_STATE_WAIT_MS 3000 /**< /debug/state waits this long for the loop */

/**
 * Publish the /debug/state JSON (moved out of state, left empty) and answer
 * the requests waiting for it. Thread-safe.
 */
void lt_admin_publish_state(lt_admin *a, lt_buf *state);

/**
 * Split addr into host (empty for ":port") and port, as lt_admin_start reads
 * it. LT_ERR_INVALID for a missing or bad port or an unclosed '['.
 */
LT_NODISCARD lt_status lt_admin_parse_addr(const char *addr, char *host, size_t hostsize,
                                           unsigned *port);

#endif
