/*
 * lt_status.c - status texts and the thread-local error-origin slot.
 */
#include "lt_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_text[] = {
#define LT_STATUS_TEXT(name, text) [LT_##name] = text,
    LT_STATUS_MAP(LT_STATUS_TEXT)
#undef LT_STATUS_TEXT
};

static const char *const status_name[] = {
#define LT_STATUS_NAME(name, text) [LT_##name] = #name,
    LT_STATUS_MAP(LT_STATUS_NAME)
#undef LT_STATUS_NAME
};

_Static_assert(sizeof(status_text) / sizeof(status_text[0]) == LT_STATUS_COUNT_,
               "status table size");

const char *lt_status_str(lt_status st)
{
    if ((unsigned)st >= LT_STATUS_COUNT_)
        return "unknown status";
    return status_text[st];
}

const char *lt_status_name(lt_status st)
{
    if ((unsigned)st >= LT_STATUS_COUNT_)
        return "UNKNOWN";
    return status_name[st];
}

static _Thread_local char err_msg[512];
static _Thread_local char err_origin[256];

lt_status lt__core_error_set(lt_status st, const char *file, int line, const char *func,
                             const char *fmt, ...)
{
    char msg[sizeof(err_msg)];
    va_list ap;

    /* Formatted apart first: a message often wraps the previous one (lt_error_message() as an
     * argument), which vsnprintf into err_msg itself would overwrite while reading it. */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    memcpy(err_msg, msg, sizeof(err_msg));
    snprintf(err_origin, sizeof(err_origin), "%s:%d (%s)", file, line, func);
    return st;
}

const char *lt_error_message(void)
{
    return err_msg;
}

const char *lt_error_origin(void)
{
    return err_origin;
}

void lt_error_clear(void)
{
    err_msg[0] = '\0';
    err_origin[0] = '\0';
}
