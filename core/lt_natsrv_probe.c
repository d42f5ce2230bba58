/*
 * lt_natsrv_probe.c - is the nats-server child ready? Probed with the raw NATS
 * protocol (INFO with our server name, CONNECT, PING, and a $JS.API.INFO
 * request), so the launcher needs no nats.c; and the server log (a marker per
 * start, the tail printed when a start fails).
 */
#include "natsrv_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_fs.h"
#include "lt_loop.h"

typedef struct {
    int fd;
    char buf[8192];
    size_t len;
    int64_t deadline;
} probe_conn;

static bool probe_fill(probe_conn *c)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    int64_t left = c->deadline - lt_loop_now_ms();
    ssize_t n;

    if (left <= 0 || c->len >= sizeof(c->buf))
        return false;
    if (poll(&p, 1, (int)left) <= 0)
        return false;
    n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (n <= 0)
        return false;
    c->len += (size_t)n;
    return true;
}

/* Next CRLF-terminated line into line (NUL-terminated, CRLF removed). */
static bool probe_line(probe_conn *c, char *line, size_t cap)
{
    for (;;) {
        char *crlf = c->len > 1 ? memmem(c->buf, c->len, "\r\n", 2) : NULL;

        if (crlf != NULL) {
            size_t n = (size_t)(crlf - c->buf);

            if (n >= cap)
                return false;
            memcpy(line, c->buf, n);
            line[n] = '\0';
            memmove(c->buf, crlf + 2, c->len - n - 2);
            c->len -= n + 2;
            return true;
        }
        if (!probe_fill(c))
            return false;
    }
}

/* Read exactly n bytes (a payload plus its CRLF) into dst (NUL-terminated). */
static bool probe_bytes(probe_conn *c, size_t n, char *dst, size_t cap)
{
    if (n >= cap || n > sizeof(c->buf))
        return false;
    while (c->len < n) {
        if (!probe_fill(c))
            return false;
    }
    memcpy(dst, c->buf, n);
    dst[n] = '\0';
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    return true;
}

static bool probe_send(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        s += n;
        len -= (size_t)n;
    }
    return true;
}

static lt_status probe_connect_line(const lt_natsrv *s, lt_buf *b)
{
    LT_IGNORE(lt_buf_appends(b, "CONNECT {\"verbose\":false,\"pedantic\":false,"
                                "\"headers\":true,\"no_responders\":true,"
                                "\"lang\":\"C\",\"name\":\"lt_natsrv-probe\",\"protocol\":1"));
    if (s->probe_user != NULL) {
        LT_IGNORE(lt_buf_appends(b, ",\"user\":"));
        LT_IGNORE(lt_buf_json_str(b, s->probe_user));
        LT_IGNORE(lt_buf_appends(b, ",\"pass\":"));
        LT_IGNORE(lt_buf_json_str(b, s->probe_pass));
    }
    return lt_buf_appends(b, "}\r\nPING\r\n");
}

/* Read until PONG, answering server PINGs. */
static lt__core_natsrv_probe_result probe_until_pong(probe_conn *c, char *line, size_t cap)
{
    for (;;) {
        if (!probe_line(c, line, cap))
            return LT__NATSRV_NOT_YET;
        if (strcmp(line, "PONG") == 0)
            return LT__NATSRV_READY;
        if (strcmp(line, "PING") == 0 && !probe_send(c->fd, "PONG\r\n", 6))
            return LT__NATSRV_NOT_YET;
        if (strncmp(line, "-ERR", 4) == 0)
            return strstr(line, "uthoriz") != NULL ? LT__NATSRV_FATAL : LT__NATSRV_NOT_YET;
    }
}

/* Ask $JS.API.INFO; ready when an account info without "error" comes back. */
static lt__core_natsrv_probe_result probe_js(probe_conn *c, char *line, size_t cap)
{
    static const char req[] = "SUB _INBOX.ltprobe 1\r\n"
                              "PUB $JS.API.INFO _INBOX.ltprobe 0\r\n\r\n";
    char payload[4096];
    const char *last;
    long total;

    if (!probe_send(c->fd, req, sizeof(req) - 1))
        return LT__NATSRV_NOT_YET;
    for (;;) {
        if (!probe_line(c, line, cap))
            return LT__NATSRV_NOT_YET;
        if (strcmp(line, "PING") == 0 && !probe_send(c->fd, "PONG\r\n", 6))
            return LT__NATSRV_NOT_YET;
        if (strncmp(line, "MSG ", 4) == 0 || strncmp(line, "HMSG ", 5) == 0)
            break;
        if (strncmp(line, "-ERR", 4) == 0)
            return LT__NATSRV_NOT_YET;
    }
    last = strrchr(line, ' ');
    total = last != NULL ? strtol(last + 1, NULL, 10) : -1;
    if (total < 0 || !probe_bytes(c, (size_t)total + 2, payload, sizeof(payload)))
        return LT__NATSRV_NOT_YET;
    if (line[0] == 'H') /* 503 no responders: JetStream not up yet */
        return LT__NATSRV_NOT_YET;
    if (strstr(payload, "account_info_response") == NULL || strstr(payload, "\"error\"") != NULL)
        return LT__NATSRV_NOT_YET;
    return LT__NATSRV_READY;
}

lt__core_natsrv_probe_result lt__core_natsrv_probe(const lt_natsrv *s)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    probe_conn *c = NULL;
    char line[4096], want[160];
    lt_buf cmd;
    lt__core_natsrv_probe_result r = LT__NATSRV_NOT_YET;

    lt_buf_init(&cmd, 4096);
    c = lt_calloc(1, sizeof(*c));
    if (c == NULL)
        goto out;
    c->fd = -1;
    c->deadline = lt_loop_now_ms() + LT__NATSRV_PROBE_TIMEOUT_MS;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        goto out;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)s->port);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        goto out;
    if (!probe_line(c, line, sizeof(line)) || strncmp(line, "INFO ", 5) != 0)
        goto out;
    /* Someone else's server on our port (we lost a bind race) is not ours. */
    snprintf(want, sizeof(want), "\"server_name\":\"%s\"", s->name);
    if (strstr(line, want) == NULL)
        goto out;
    if (s->info_probe) { /* TLS or operator mode: the caller checks with its own client */
        r = LT__NATSRV_READY;
        goto out;
    }
    if (probe_connect_line(s, &cmd) != LT_OK || !probe_send(c->fd, cmd.ptr, cmd.len))
        goto out;
    r = probe_until_pong(c, line, sizeof(line));
    if (r == LT__NATSRV_READY && s->js && s->js_probe)
        r = probe_js(c, line, sizeof(line));
out:
    if (c != NULL && c->fd >= 0)
        close(c->fd);
    lt_free(c);
    lt_buf_cleanup(&cmd);
    return r;
}

/* ---- log file ---- */

off_t lt__core_natsrv_log_size(const lt_natsrv *s)
{
    struct stat sb;

    return stat(s->log, &sb) == 0 ? sb.st_size : 0;
}

/* The log written since offset from (at most the last max bytes). */
char *lt__core_natsrv_log_since(const lt_natsrv *s, off_t from, size_t max)
{
    char *all = NULL, *tail;
    size_t len = 0, start;

    if (lt_fs_read_file(s->log, 64u << 20, &all, &len) != LT_OK)
        return NULL;
    start = (size_t)from <= len ? (size_t)from : 0;
    if (len - start > max)
        start = len - max;
    tail = lt_strdup(all + start);
    lt_free(all);
    return tail;
}

void lt__core_natsrv_log_marker(const lt_natsrv *s, const char *what)
{
    char line[256];
    int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int n;

    if (fd < 0)
        return;
    n = snprintf(line, sizeof(line), "---- lt_natsrv: %s %s on 127.0.0.1:%d ----\n", what, s->name,
                 s->port);
    if (n > 0 && write(fd, line, (size_t)n) < 0)
        n = 0;
    close(fd);
}

void lt__core_natsrv_print_log_tail(const lt_natsrv *s, off_t from, const char *why)
{
    char *tail = lt__core_natsrv_log_since(s, from, LT__NATSRV_LOG_TAIL_BYTES);

    fprintf(stderr, "lt_natsrv: %s (port %d, log %s); last server output:\n%s\n", why, s->port,
            s->log, tail != NULL ? tail : "(unreadable)");
    lt_free(tail);
}
