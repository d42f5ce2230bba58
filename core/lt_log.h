/*
 * lt_log.h - structured logging to stderr, as text or one JSON object per
 * line. Safe from any thread and never blocking: records go through a bounded
 * ring drained by a writer thread; when stderr cannot keep up they are dropped
 * and counted (lt_log_dropped). Secrets must never be passed to these
 * functions: log references (file names), not values.
 */
#ifndef LT_LOG_H
#define LT_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "lt_status.h"

typedef enum {
    LT_LOG_DEBUG = 0,
    LT_LOG_INFO,
    LT_LOG_WARN,
    LT_LOG_ERROR,
    LT_LOG_OFF,
} lt_log_level;

/** Set the minimum level and the format (json=true for JSON lines). */
void lt_log_configure(lt_log_level min, bool json);

/** Parse "debug|info|warn|error|off"; LT_ERR_INVALID for anything else. */
LT_NODISCARD lt_status lt_log_level_parse(const char *s, lt_log_level *out);

/** True when records at this level are written. */
bool lt_log_enabled(lt_log_level lvl);

/**
 * Write one record: module is a short component name ("dev", "api"), fmt the
 * message. Newlines in the message are escaped so a record stays one line.
 */
void lt_log(lt_log_level lvl, const char *module, const char *fmt, ...) LT_PRINTF(3, 4);

/** Size of a trace id buffer: 32 lowercase hex digits and the NUL. */
#define LT_LOG_TRACE_ID_MAX 33

/**
 * Set the calling thread's current trace id (copied; NULL or "" clears it). While set, every
 * record this thread writes carries it: ` trace_id=<id>` at the end of a text line, a
 * "trace_id" field in JSON.
 */
void lt_log_trace_set(const char *trace_id);

/** The calling thread's current trace id ("" when none); borrowed, valid until the next set. */
const char *lt_log_trace_get(void);

/**
 * Records dropped since the process started because the ring was full (stderr slower than the
 * records came). The writer also logs the count ("N log lines dropped") once it catches up.
 */
uint64_t lt_log_dropped(void);

/**
 * Wait until the queued records are written, giving up when the writer makes no progress for
 * half a second (a sink nobody reads). Runs at exit; call before _exit or exec if needed.
 */
void lt_log_flush(void);

#define LT_DEBUG(mod, ...) lt_log(LT_LOG_DEBUG, (mod), __VA_ARGS__)
#define LT_INFO(mod, ...) lt_log(LT_LOG_INFO, (mod), __VA_ARGS__)
#define LT_WARN(mod, ...) lt_log(LT_LOG_WARN, (mod), __VA_ARGS__)
#define LT_ERROR(mod, ...) lt_log(LT_LOG_ERROR, (mod), __VA_ARGS__)

#endif
