/*
 * lt_log.c - text or JSON log lines on stderr that never block the caller: a
 * record is copied into a bounded ring and a writer thread drains it to the
 * fd; when the sink cannot keep up (a full pipe nobody reads) the record is
 * dropped and counted, and the writer reports the count once it catches up.
 */
#include "lt_log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lt_buf.h"
#include "lt_time.h"

#define RING_SIZE (256u * 1024u) /* bytes of records waiting for the sink */
#define FLUSH_STALL_MS 500       /* lt_log_flush gives up after this long without progress */

static lt_log_level min_level = LT_LOG_INFO;
static bool json_mode;
static _Thread_local char cur_trace[LT_LOG_TRACE_ID_MAX];

static const char *const level_name[] = { "debug", "info", "warn", "error", "off" };

/* The ring: producers append at (tail + used) under mu; the writer owns [tail, tail + n)
 * while it writes without the lock, then advances tail. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t data;    /* records arrived */
    pthread_cond_t drained; /* the writer made progress */
    pthread_once_t once;
    bool started;
    pid_t owner; /* the process that started the writer; a forked child writes directly */
    size_t tail, used;
    uint64_t dropped, unreported;
    char buf[RING_SIZE];
} ring = { .mu = PTHREAD_MUTEX_INITIALIZER,
           .data = PTHREAD_COND_INITIALIZER,
           .drained = PTHREAD_COND_INITIALIZER,
           .once = PTHREAD_ONCE_INIT };

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

void lt_log_trace_set(const char *trace_id)
{
    if (trace_id == NULL) {
        cur_trace[0] = '\0';
        return;
    }
    snprintf(cur_trace, sizeof(cur_trace), "%s", trace_id);
}

const char *lt_log_trace_get(void)
{
    return cur_trace;
}

/* Write all of p to stderr (blocking: only the writer thread and forked children do). */
static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere left to report it */
        p += w;
        n -= (size_t)w;
    }
}

/* Copy n bytes into the ring at its head; mu held, room checked. */
static void ring_put(const char *p, size_t n)
{
    size_t head = (ring.tail + ring.used) % RING_SIZE;
    size_t first = RING_SIZE - head < n ? RING_SIZE - head : n;

    memcpy(ring.buf + head, p, first);
    memcpy(ring.buf, p + first, n - first);
    ring.used += n;
}

/* Queue the "lines dropped" report once there is room for it; mu held. */
static void report_dropped(void)
{
    char msg[160];
    char ts[LT_TIME_TEXT_MAX];
    int n;

    lt_time_format_now(ts);
    if (json_mode)
        n = snprintf(msg, sizeof(msg),
                     "{\"ts\":\"%s\",\"level\":\"warn\",\"module\":\"log\",\"msg\":\"%llu log "
                     "lines dropped: stderr could not keep up\"}\n",
                     ts, (unsigned long long)ring.unreported);
    else
        n = snprintf(msg, sizeof(msg),
                     "%s warn  log: %llu log lines dropped: stderr could not keep up\n", ts,
                     (unsigned long long)ring.unreported);
    if (n > 0 && (size_t)n < sizeof(msg) && RING_SIZE - ring.used >= (size_t)n) {
        ring_put(msg, (size_t)n);
        ring.unreported = 0;
    }
}

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&ring.mu);
    for (;;) {
        size_t n;

        while (ring.used == 0)
            pthread_cond_wait(&ring.data, &ring.mu);
        n = RING_SIZE - ring.tail < ring.used ? RING_SIZE - ring.tail : ring.used;
        pthread_mutex_unlock(&ring.mu);
        write_all(ring.buf + ring.tail, n);
        pthread_mutex_lock(&ring.mu);
        ring.tail = (ring.tail + n) % RING_SIZE;
        ring.used -= n;
        if (ring.unreported > 0 && ring.used < RING_SIZE / 2)
            report_dropped();
        pthread_cond_broadcast(&ring.drained);
    }
    return NULL;
}

static void flush_at_exit(void)
{
    lt_log_flush();
}

/* Start the writer with every signal blocked (signals belong to the loop's thread). */
static void start_writer(void)
{
    sigset_t all, old;
    pthread_attr_t attr;
    pthread_t t;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, writer_main, NULL) == 0) {
        ring.owner = getpid();
        ring.started = true;
        atexit(flush_at_exit);
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Hand one whole record to the sink: queued, or dropped and counted when the ring is full. */
static void emit(const char *p, size_t n)
{
    pthread_once(&ring.once, start_writer);
    if (!ring.started || ring.owner != getpid()) {
        write_all(p, n); /* no writer (a forked child, or pthread_create failed) */
        return;
    }
    pthread_mutex_lock(&ring.mu);
    if (RING_SIZE - ring.used < n) {
        ring.dropped++;
        ring.unreported++;
    } else {
        ring_put(p, n);
        pthread_cond_signal(&ring.data);
    }
    pthread_mutex_unlock(&ring.mu);
}

uint64_t lt_log_dropped(void)
{
    uint64_t n;

    pthread_mutex_lock(&ring.mu);
    n = ring.dropped;
    pthread_mutex_unlock(&ring.mu);
    return n;
}

void lt_log_flush(void)
{
    if (!ring.started || ring.owner != getpid())
        return;
    pthread_mutex_lock(&ring.mu);
    while (ring.used > 0) {
        size_t before = ring.used;
        struct timespec dl;

        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += (long)FLUSH_STALL_MS * 1000000L;
        dl.tv_sec += dl.tv_nsec / 1000000000L;
        dl.tv_nsec %= 1000000000L;
        while (ring.used == before) {
            if (pthread_cond_timedwait(&ring.drained, &ring.mu, &dl) == ETIMEDOUT)
                goto out; /* the sink is stuck: give up rather than hang */
        }
    }
out:
    pthread_mutex_unlock(&ring.mu);
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
        if (cur_trace[0] != '\0') {
            LT_IGNORE(lt_buf_appends(&line, "\",\"trace_id\":\""));
            append_escaped(&line, cur_trace, true);
        }
        LT_IGNORE(lt_buf_appends(&line, "\"}\n"));
    } else {
        LT_IGNORE(lt_buf_appendf(&line, "%s %-5s %s: ", ts, level_name[lvl], module));
        append_escaped(&line, msg.ptr, false);
        if (cur_trace[0] != '\0') {
            LT_IGNORE(lt_buf_appends(&line, " trace_id="));
            append_escaped(&line, cur_trace, false);
        }
        LT_IGNORE(lt_buf_appendc(&line, '\n'));
    }
    /* One record per emit keeps lines whole across threads. */
    emit(line.ptr, line.len);
    lt_buf_cleanup(&line);
    lt_buf_cleanup(&msg);
}
