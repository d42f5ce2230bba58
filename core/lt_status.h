/*
 * lt_status.h - the one status enum every fallible latticed function returns,
 * plus the error-origin slot (LT_FAIL) that records where a failure started.
 * Foreign codes (natsStatus, errno, jansson/libyaml errors) are translated at
 * module boundaries and never leak upward.
 */
#ifndef LT_STATUS_H
#define LT_STATUS_H

#include <stddef.h>

#define LT_NODISCARD __attribute__((warn_unused_result))
#define LT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/** Discard a status on purpose (best-effort paths such as logging). */
#define LT_IGNORE(expr)                 \
    do {                                \
        lt_status lt_ignored_ = (expr); \
        (void)lt_ignored_;              \
    } while (0)

/* X-macro: name, text. Codes and texts cannot drift apart. */
#define LT_STATUS_MAP(X)                              \
    X(OK, "success")                                  \
    X(ERR_NOMEM, "out of memory")                     \
    X(ERR_INVALID, "invalid argument or input")       \
    X(ERR_NOT_FOUND, "not found")                     \
    X(ERR_CONFLICT, "conflicting update")             \
    X(ERR_TIMEOUT, "timed out")                       \
    X(ERR_IO, "input/output error")                   \
    X(ERR_PARSE, "parse error")                       \
    X(ERR_TRANSPORT, "NATS transport error")          \
    X(ERR_TOO_BIG, "size limit exceeded")             \
    X(ERR_UNSUPPORTED, "unsupported")                 \
    X(ERR_STATE, "operation not valid in this state") \
    X(ERR_CLOSED, "closed")                           \
    X(ERR_REFUSED, "refused")                         \
    X(ERR_AMBIGUOUS, "outcome unknown")

typedef enum {
#define LT_STATUS_ENUM(name, text) LT_##name,
    LT_STATUS_MAP(LT_STATUS_ENUM)
#undef LT_STATUS_ENUM
    LT_STATUS_COUNT_
} lt_status;

/** Human text of a status ("timed out"). Never NULL. */
const char *lt_status_str(lt_status st);

/** Symbolic name of a status ("ERR_TIMEOUT"). Never NULL. */
const char *lt_status_name(lt_status st);

/*
 * Error origin: a thread-local slot holding the message and location of the
 * most recent failure raised with LT_FAIL on this thread.
 */
lt_status lt__core_error_set(lt_status st, const char *file, int line, const char *func,
                             const char *fmt, ...) LT_PRINTF(5, 6);

/** Record a failure with a formatted message; evaluates to st. */
#define LT_FAIL(st, ...) lt__core_error_set((st), __FILE__, __LINE__, __func__, __VA_ARGS__)

/** Message of the last LT_FAIL on this thread ("" if none). Borrowed. */
const char *lt_error_message(void);

/** "file:line (func)" of the last LT_FAIL on this thread. Borrowed. */
const char *lt_error_origin(void);

/** Forget the last error on this thread. */
void lt_error_clear(void);

#endif
