/*
 * lt_log.c - text or JSON log lines on stderr.
 */
#include "lt_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lt_buf.h"
#include "lt_time.h"

static lt_log_level min_level = LT_LOG_INFO;
static bool json_mode;

static const char *const level_name[] = { "debug", "info", "warn", "error", "off" };

void lt_log_configure(lt_log_level min, bool json)
{
    min_level = min;
    json_mode = json;
}

lt_status lt_log_level_parse(const char *s, lt_log_level *out)
{
    for (int i = 0; i <= (int)LT_LOG_OFF; i++) {
        if (strcmp(s, level_name[i]) == 0) {
            *out = (lt_log_level)i;
            return LT_OK;
        }
    }
    if (strcmp(s, "warning") == 0) {
        *out = LT_LOG_WARN;
        return LT_OK;
    }
    return LT_ERR_INVALID;
}

bool lt_log_enabled(lt_log_level lvl)
{
    return lvl >= min_level && lvl < LT_LOG_OFF;
}

/* Append s escaped for a JSON string (json) or with newlines made visible. Over the record
 * limit the rest is dropped and b's error cleared, so the line still ends. */
static void append_escaped(lt_buf *b, const char *s, bool json)
{
    if (json) {
        LT_IGNORE(lt_buf_json_escape(b, s, strlen(s)));
        lt_buf_truncate(b, b->len);
        return;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        lt_status st = LT_OK;

        if (c == '\n')
            st = lt_buf_appends(b, "\\n");
        else if (c == '\r')
            st = lt_buf_appends(b, "\\r");
        else if (c < 0x20)
            st = lt_buf_appendf(b, "\\u%04x", c);
        else
            st = lt_buf_appendc(b, (char)c);
        if (st != LT_OK) {
            lt_buf_truncate(b, b->len);
            return;
        }
    }
}

void lt_log(lt_log_level lvl, const char *module, const char *fmt, ...)
{
    char stackmem[1024], msgmem[768], ts[LT_TIME_TEXT_MAX];
    lt_buf line, msg;
    va_list ap;

    if (!lt_log_enabled(lvl))
        return;
    lt_buf_init_on(&msg, msgmem, sizeof(msgmem), 16384);
    va_start(ap, fmt);
    LT_IGNORE(lt_buf_vappendf(&msg, fmt, ap));
    va_end(ap);

    lt_time_format_now(ts);

    lt_buf_init_on(&line, stackmem, sizeof(stackmem), 32768);
    if (json_mode) {
        LT_IGNORE(lt_buf_appendf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"module\":\"", ts,
                                 level_name[lvl]));
        append_escaped(&line, module, true);
        LT_IGNORE(lt_buf_appends(&line, "\",\"msg\":\""));
        append_escaped(&line, msg.ptr, true);
        LT_IGNORE(lt_buf_appends(&line, "\"}\n"));
    } else {
        LT_IGNORE(lt_buf_appendf(&line, "%s %-5s %s: ", ts, level_name[lvl], module));
        append_escaped(&line, msg.ptr, false);
        LT_IGNORE(lt_buf_appendc(&line, '\n'));
    }
    /* One write per record keeps lines whole across threads. */
    if (write(STDERR_FILENO, line.ptr, line.len) < 0) {
        /* nowhere left to report it */
    }
    lt_buf_cleanup(&line);
    lt_buf_cleanup(&msg);
}
