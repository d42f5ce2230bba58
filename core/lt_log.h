/*
 * lt_log.h - structured logging to stderr, as text or one JSON object per
 * line. Safe from any thread (each record is one write). Secrets must never
 * be passed to these functions: log references (file names), not values.
 */
#ifndef LT_LOG_H
#define LT_LOG_H

#include <stdbool.h>

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

#define LT_DEBUG(mod, ...) lt_log(LT_LOG_DEBUG, (mod), __VA_ARGS__)
#define LT_INFO(mod, ...) lt_log(LT_LOG_INFO, (mod), __VA_ARGS__)
#define LT_WARN(mod, ...) lt_log(LT_LOG_WARN, (mod), __VA_ARGS__)
#define LT_ERROR(mod, ...) lt_log(LT_LOG_ERROR, (mod), __VA_ARGS__)

#endif
