/*
 * lt_natsrv.c - start, probe, restart and stop a real nats-server child for
 * tests. Readiness is probed with the raw NATS protocol (CONNECT, PING, and a
 * $JS.API.INFO request), so this helper needs no nats.c state of its own.
 */
#include "lt_natsrv.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_config.h"
#include "lt_limits.h"
#include "lt_testutil.h"

#define DEFAULT_START_TIMEOUT_MS 20000
#define DEFAULT_STOP_TIMEOUT_MS  10000
#define PROBE_TIMEOUT_MS         1000
#define START_ATTEMPTS           5
#define LOG_TAIL_BYTES           4096

struct lt_natsrv {
    char *bin, *dir, *store, *log, *conf, *name;
    char **extra;              /* NULL-terminated copy of opts.extra_args */
    char *probe_user, *probe_pass;
    bool js, js_probe, info_probe, monitor, auto_port;
    int port, mport;
    int64_t start_timeout_ms, stop_timeout_ms;
    pid_t pid;                 /* 0 while down */
    bool paused;
    pid_t owner;               /* process that started it (for the exit sweep) */
    char url[48];
    struct lt_natsrv *next;    /* registry of live servers */
};

/* ---- registry: servers a test forgot to stop die with the process ---- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static lt_natsrv *reg_head;
static unsigned reg_counter;

static void reg_sweep_at_exit(void)
{
    pthread_mutex_lock(&reg_lock);
    for (lt_natsrv *s = reg_head; s != NULL; s = s->next) {
        if (s->owner != getpid())
            continue;   /* inherited across fork: not ours to kill */
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            s->pid = 0;
        }
        LT_IGNORE(lt_test_rmtree(s->dir));
    }
    pthread_mutex_unlock(&reg_lock);
}

/*
 * Directories of servers whose test died abnormally (a failed Check assertion
 * in fork mode ends the child with _exit, skipping atexit) are named
 * lt-natsrv-<owner pid>-XXXXXX: remove those whose owner no longer exists.
 */
static void sweep_stale_dirs(void)
{
    const char *base = getenv("TMPDIR");
    DIR *d;
    struct dirent *e;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    d = opendir(base);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char *end = NULL, path[LT_MAX_PATH];
        long pid;

        if (strncmp(e->d_name, "lt-natsrv-", 10) != 0)
            continue;
        errno = 0;
        pid = strtol(e->d_name + 10, &end, 10);
        if (errno != 0 || end == e->d_name + 10 || *end != '-' || pid <= 0 || pid == getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", base, e->d_name) < (int)sizeof(path))
            LT_IGNORE(lt_test_rmtree(path));
    }
    closedir(d);
}

static void reg_init(void)
{
    atexit(reg_sweep_at_exit);
}

static void reg_add(lt_natsrv *s)
{
    pthread_once(&reg_once, reg_init);
    pthread_mutex_lock(&reg_lock);
    s->next = reg_head;
    reg_head = s;
    pthread_mutex_unlock(&reg_lock);
}

static void reg_remove(lt_natsrv *s)
{
    pthread_mutex_lock(&reg_lock);
    for (lt_natsrv **pp = &reg_head; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&reg_lock);
}

/* ---- ports ---- */

lt_status lt_natsrv_free_port(int *out)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof(a);
    int fd;

    *out = 0;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return LT_FAIL(LT_ERR_IO, "socket: errno %d", errno);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        int e = errno;

        close(fd);
        return LT_FAIL(LT_ERR_IO, "bind 127.0.0.1:0: errno %d", e);
    }
    close(fd);
    *out = ntohs(a.sin_port);
    return LT_OK;
}

/* ---- readiness probe over the raw NATS protocol ---- */

typedef enum { PROBE_NOT_YET, PROBE_READY, PROBE_FATAL } probe_result;

typedef struct {
    int fd;
    char buf[8192];
    size_t len;
    int64_t deadline;
} probe_conn;

static bool probe_fill(probe_conn *c)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    int64_t left = c->deadline - lt_test_now_ms();
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

/* Append s as a JSON string body (quotes and backslashes escaped). */
static lt_status json_str(lt_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        lt_status st = (*s == '"' || *s == '\\') ? lt_buf_appendc(b, '\\') : LT_OK;

        if (st == LT_OK)
            st = lt_buf_appendc(b, *s);
        if (st != LT_OK)
            return st;
    }
    return LT_OK;
}

static lt_status probe_connect_line(const lt_natsrv *s, lt_buf *b)
{
    lt_status st = lt_buf_appends(b, "CONNECT {\"verbose\":false,\"pedantic\":false,"
                                     "\"headers\":true,\"no_responders\":true,"
                                     "\"lang\":\"C\",\"name\":\"lt_natsrv-probe\",\"protocol\":1");

    if (st == LT_OK && s->probe_user != NULL) {
        st = lt_buf_appends(b, ",\"user\":\"");
        if (st == LT_OK)
            st = json_str(b, s->probe_user);
        if (st == LT_OK)
            st = lt_buf_appends(b, "\",\"pass\":\"");
        if (st == LT_OK)
            st = json_str(b, s->probe_pass != NULL ? s->probe_pass : "");
        if (st == LT_OK)
            st = lt_buf_appendc(b, '"');
    }
    if (st == LT_OK)
        st = lt_buf_appends(b, "}\r\nPING\r\n");
    return st;
}

/* Read until PONG, answering server PINGs. */
static probe_result probe_until_pong(probe_conn *c, char *line, size_t cap)
{
    for (;;) {
        if (!probe_line(c, line, cap))
            return PROBE_NOT_YET;
        if (strcmp(line, "PONG") == 0)
            return PROBE_READY;
        if (strcmp(line, "PING") == 0 && !probe_send(c->fd, "PONG\r\n", 6))
            return PROBE_NOT_YET;
        if (strncmp(line, "-ERR", 4) == 0)
            return strstr(line, "uthoriz") != NULL ? PROBE_FATAL : PROBE_NOT_YET;
    }
}

/* Ask $JS.API.INFO; ready when an account info without "error" comes back. */
static probe_result probe_js(probe_conn *c, char *line, size_t cap)
{
    static const char req[] = "SUB _INBOX.ltprobe 1\r\n"
                              "PUB $JS.API.INFO _INBOX.ltprobe 0\r\n\r\n";
    char payload[4096];
    const char *last;
    long total;

    if (!probe_send(c->fd, req, sizeof(req) - 1))
        return PROBE_NOT_YET;
    for (;;) {
        if (!probe_line(c, line, cap))
            return PROBE_NOT_YET;
        if (strcmp(line, "PING") == 0 && !probe_send(c->fd, "PONG\r\n", 6))
            return PROBE_NOT_YET;
        if (strncmp(line, "MSG ", 4) == 0 || strncmp(line, "HMSG ", 5) == 0)
            break;
        if (strncmp(line, "-ERR", 4) == 0)
            return PROBE_NOT_YET;
    }
    last = strrchr(line, ' ');
    total = last != NULL ? strtol(last + 1, NULL, 10) : -1;
    if (total < 0 || !probe_bytes(c, (size_t)total + 2, payload, sizeof(payload)))
        return PROBE_NOT_YET;
    if (line[0] == 'H')          /* 503 no responders: JetStream not up yet */
        return PROBE_NOT_YET;
    if (strstr(payload, "account_info_response") == NULL || strstr(payload, "\"error\"") != NULL)
        return PROBE_NOT_YET;
    return PROBE_READY;
}

static probe_result probe(const lt_natsrv *s)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    probe_conn *c = NULL;
    char line[4096], want[160];
    lt_buf cmd;
    probe_result r = PROBE_NOT_YET;

    lt_buf_init(&cmd, 4096);
    c = lt_calloc(1, sizeof(*c));
    if (c == NULL)
        goto out;
    c->fd = -1;
    c->deadline = lt_test_now_ms() + PROBE_TIMEOUT_MS;
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
        r = PROBE_READY;
        goto out;
    }
    if (probe_connect_line(s, &cmd) != LT_OK || !probe_send(c->fd, cmd.ptr, cmd.len))
        goto out;
    r = probe_until_pong(c, line, sizeof(line));
    if (r == PROBE_READY && s->js && s->js_probe)
        r = probe_js(c, line, sizeof(line));
out:
    if (c != NULL && c->fd >= 0)
        close(c->fd);
    lt_free(c);
    lt_buf_cleanup(&cmd);
    return r;
}

/* ---- log file ---- */

static off_t log_size(const lt_natsrv *s)
{
    struct stat sb;

    return stat(s->log, &sb) == 0 ? sb.st_size : 0;
}

/* The log written since offset from (at most the last max bytes). */
static char *log_since(const lt_natsrv *s, off_t from, size_t max)
{
    char *all = NULL, *tail;
    size_t len = 0, start;

    if (lt_test_read_file(s->log, 64u << 20, &all, &len) != LT_OK)
        return NULL;
    start = (size_t)from <= len ? (size_t)from : 0;
    if (len - start > max)
        start = len - max;
    tail = lt_strdup(all + start);
    lt_free(all);
    return tail;
}

static void log_marker(const lt_natsrv *s, const char *what)
{
    char line[256];
    int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int n;

    if (fd < 0)
        return;
    n = snprintf(line, sizeof(line), "---- lt_natsrv: %s %s on 127.0.0.1:%d ----\n",
                 what, s->name, s->port);
    if (n > 0 && write(fd, line, (size_t)n) < 0)
        n = 0;
    close(fd);
}

static void print_log_tail(const lt_natsrv *s, off_t from, const char *why)
{
    char *tail = log_since(s, from, LOG_TAIL_BYTES);

    fprintf(stderr, "lt_natsrv: %s (port %d, log %s); last server output:\n%s\n", why,
            s->port, s->log, tail != NULL ? tail : "(unreadable)");
    lt_free(tail);
}

/* ---- process control ---- */

static lt_status build_argv(const lt_natsrv *s, char **argv, size_t cap, char *pbuf, char *mbuf)
{
    size_t n = 0;

    snprintf(pbuf, 16, "%d", s->port);
    snprintf(mbuf, 16, "%d", s->mport);
#define ARG(x)                                          \
    do {                                                \
        if (n + 1 >= cap)                               \
            return LT_FAIL(LT_ERR_TOO_BIG, "too many nats-server arguments"); \
        argv[n++] = (char *)(x);                        \
    } while (0)
    ARG(s->bin);
    ARG("-a");
    ARG("127.0.0.1");
    ARG("-p");
    ARG(pbuf);
    ARG("-n");
    ARG(s->name);
    if (s->js) {
        ARG("-js");
        ARG("-sd");
        ARG(s->store);
    }
    if (s->monitor) {
        ARG("-m");
        ARG(mbuf);
    }
    if (s->conf != NULL) {
        ARG("-c");
        ARG(s->conf);
    }
    for (size_t i = 0; s->extra != NULL && s->extra[i] != NULL; i++)
        ARG(s->extra[i]);
#undef ARG
    argv[n] = NULL;
    return LT_OK;
}

static lt_status spawn(lt_natsrv *s)
{
    char *argv[64];
    char pbuf[16], mbuf[16];
    pid_t parent = getpid(), pid;
    int logfd, nullfd;
    lt_status st = build_argv(s, argv, sizeof(argv) / sizeof(argv[0]), pbuf, mbuf);

    if (st != LT_OK)
        return st;
    logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (logfd < 0 || nullfd < 0) {
        st = LT_FAIL(LT_ERR_IO, "open %s: errno %d", s->log, errno);
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        st = LT_FAIL(LT_ERR_IO, "fork: errno %d", errno);
        goto out;
    }
    if (pid == 0) {
        sigset_t none;

        /* Only async-signal-safe calls between fork and exec. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
            _exit(126);
        lt_test_close_fds_from(3);
        execv(argv[0], argv);
        _exit(127);
    }
    s->pid = pid;
    s->paused = false;
out:
    if (logfd >= 0)
        close(logfd);
    if (nullfd >= 0)
        close(nullfd);
    return st;
}

/* Signal, wait up to grace_ms, escalate to SIGKILL; always reaps. */
static lt_status terminate(lt_natsrv *s, bool hard)
{
    int64_t deadline = lt_test_now_ms() + s->stop_timeout_ms;
    pid_t pid = s->pid;

    if (pid <= 0)
        return LT_OK;
    kill(pid, hard ? SIGKILL : SIGTERM);
    if (s->paused)
        kill(pid, SIGCONT);
    for (;;) {
        pid_t r = waitpid(pid, NULL, WNOHANG);

        if (r == pid || (r < 0 && errno == ECHILD))
            break;
        if (lt_test_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        lt_test_sleep_ms(5);
    }
    s->pid = 0;
    s->paused = false;
    return LT_OK;
}

/* Wait for readiness; *exited tells that the child died meanwhile. */
static lt_status wait_ready(lt_natsrv *s, bool *exited)
{
    int64_t deadline = lt_test_now_ms() + s->start_timeout_ms;

    *exited = false;
    for (;;) {
        int wst = 0;
        pid_t r = waitpid(s->pid, &wst, WNOHANG);

        if (r == s->pid) {
            s->pid = 0;
            *exited = true;
            return LT_FAIL(LT_ERR_STATE, "nats-server exited during start-up (status 0x%x)", wst);
        }
        switch (probe(s)) {
        case PROBE_READY:
            return LT_OK;
        case PROBE_FATAL:
            return LT_FAIL(LT_ERR_REFUSED, "nats-server refused the readiness probe "
                           "(credentials?)");
        case PROBE_NOT_YET:
            break;
        }
        if (lt_test_now_ms() >= deadline)
            return LT_FAIL(LT_ERR_TIMEOUT, "nats-server not ready within %lld ms",
                           (long long)s->start_timeout_ms);
        lt_test_sleep_ms(20);
    }
}

static lt_status pick_ports(lt_natsrv *s)
{
    lt_status st = lt_natsrv_free_port(&s->port);

    if (st == LT_OK && s->monitor)
        st = lt_natsrv_free_port(&s->mport);
    if (st == LT_OK)
        snprintf(s->url, sizeof(s->url), "nats://127.0.0.1:%d", s->port);
    return st;
}

/* Spawn and wait, retrying when the port turned out to be taken. */
static lt_status launch(lt_natsrv *s, const char *what)
{
    lt_status st = LT_ERR_STATE;

    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        off_t from;
        bool exited = false, busy;
        char *since;

        if (s->auto_port && attempt > 0) {
            st = pick_ports(s);
            if (st != LT_OK)
                return st;
        }
        from = log_size(s);
        log_marker(s, what);
        st = spawn(s);
        if (st != LT_OK)
            return st;
        st = wait_ready(s, &exited);
        if (st == LT_OK)
            return LT_OK;
        if (!exited) {
            print_log_tail(s, from, lt_error_message());
            LT_IGNORE(terminate(s, true));
            return st;
        }
        since = log_since(s, from, 64u << 10);
        busy = since != NULL && strstr(since, "address already in use") != NULL;
        lt_free(since);
        if (!busy) {
            print_log_tail(s, from, "nats-server exited during start-up");
            return st;
        }
        lt_test_sleep_ms(s->auto_port ? 0 : 200);   /* fixed port: wait for it to free up */
    }
    return LT_FAIL(LT_ERR_STATE, "nats-server: port busy after %d attempts", START_ATTEMPTS);
}

/* ---- set-up of the struct ---- */

static char *dup_opt(const char *s, bool *oom)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = lt_strdup(s);
    if (d == NULL)
        *oom = true;
    return d;
}

static char *path_in(const char *dir, const char *name, bool *oom)
{
    lt_buf b;
    char *p;

    lt_buf_init(&b, LT_MAX_PATH);
    if (lt_buf_appendf(&b, "%s/%s", dir, name) != LT_OK) {
        lt_buf_cleanup(&b);
        *oom = true;
        return NULL;
    }
    p = lt_buf_take(&b);
    lt_buf_cleanup(&b);
    if (p == NULL)
        *oom = true;
    return p;
}

/* config_text with every "@DIR@" replaced, written to <dir>/server.conf. */
static lt_status write_config(lt_natsrv *s, const char *text, bool *oom)
{
    lt_buf b;
    lt_status st = LT_OK;
    const char *p = text, *hit;

    s->conf = path_in(s->dir, "server.conf", oom);
    if (s->conf == NULL)
        return LT_ERR_NOMEM;
    lt_buf_init(&b, 1u << 20);
    while (st == LT_OK && (hit = strstr(p, "@DIR@")) != NULL) {
        st = lt_buf_append(&b, p, (size_t)(hit - p));
        if (st == LT_OK)
            st = lt_buf_appends(&b, s->dir);
        p = hit + 5;
    }
    if (st == LT_OK)
        st = lt_buf_appends(&b, p);
    if (st == LT_OK)
        st = lt_test_write_file(s->conf, b.ptr, b.len);
    lt_buf_cleanup(&b);
    return st;
}

static lt_status copy_opts(lt_natsrv *s, const lt_natsrv_opts *o)
{
    bool oom = false;
    size_t n = 0;

    s->js = !o->no_jetstream;
    s->js_probe = !o->no_js_probe;
    s->info_probe = o->info_probe;
    s->monitor = o->monitor;
    s->start_timeout_ms = o->start_timeout_ms > 0 ? o->start_timeout_ms : DEFAULT_START_TIMEOUT_MS;
    s->stop_timeout_ms = o->stop_timeout_ms > 0 ? o->stop_timeout_ms : DEFAULT_STOP_TIMEOUT_MS;
    s->probe_user = dup_opt(o->probe_user, &oom);
    s->probe_pass = dup_opt(o->probe_password, &oom);
    while (o->extra_args != NULL && o->extra_args[n] != NULL)
        n++;
    if (n > 0) {
        s->extra = lt_calloc(n + 1, sizeof(char *));
        if (s->extra == NULL)
            return LT_ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            s->extra[i] = dup_opt(o->extra_args[i], &oom);
    }
    s->store = path_in(s->dir, "js", &oom);
    s->log = path_in(s->dir, "server.log", &oom);
    if (o->config_text != NULL) {
        lt_status st = write_config(s, o->config_text, &oom);

        if (st != LT_OK)
            return st;
    } else {
        s->conf = dup_opt(o->config_file, &oom);
    }
    return oom ? LT_ERR_NOMEM : LT_OK;
}

static lt_status set_name(lt_natsrv *s, const char *given)
{
    char name[64];
    unsigned n;

    if (given != NULL) {
        s->name = lt_strdup(given);
        return s->name != NULL ? LT_OK : LT_ERR_NOMEM;
    }
    pthread_mutex_lock(&reg_lock);
    n = ++reg_counter;
    pthread_mutex_unlock(&reg_lock);
    snprintf(name, sizeof(name), "lt-natsrv-%ld-%u", (long)getpid(), n);
    s->name = lt_strdup(name);
    return s->name != NULL ? LT_OK : LT_ERR_NOMEM;
}

static void srv_free(lt_natsrv *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; s->extra != NULL && s->extra[i] != NULL; i++)
        lt_free(s->extra[i]);
    lt_free(s->extra);
    lt_free(s->bin);
    lt_free(s->dir);
    lt_free(s->store);
    lt_free(s->log);
    lt_free(s->conf);
    lt_free(s->name);
    lt_free(s->probe_user);
    lt_free(s->probe_pass);
    lt_free(s);
}

lt_status lt_natsrv_start(lt_natsrv **new_srv, const lt_natsrv_opts *opts)
{
    static const lt_natsrv_opts defaults;
    const char *bin = getenv("LT_NATS_SERVER");
    lt_natsrv *s = NULL;
    char prefix[48];
    lt_status st = LT_OK;

    *new_srv = NULL;
    if (opts == NULL)
        opts = &defaults;
    if (bin == NULL || bin[0] == '\0')
        bin = LT_NATS_SERVER;
    if (bin[0] == '\0' || access(bin, X_OK) != 0)
        return LT_FAIL(LT_ERR_UNSUPPORTED, "nats-server not found (\"%s\"); install the "
                       "nats-server package or set LT_NATS_SERVER", bin);
    s = lt_calloc(1, sizeof(*s));
    if (s == NULL)
        return LT_ERR_NOMEM;
    s->owner = getpid();
    s->bin = lt_strdup(bin);
    if (s->bin == NULL) {
        st = LT_ERR_NOMEM;
        goto out;
    }
    sweep_stale_dirs();
    snprintf(prefix, sizeof(prefix), "lt-natsrv-%ld", (long)s->owner);
    st = lt_test_tmpdir(&s->dir, prefix);
    if (st != LT_OK)
        goto out;
    st = copy_opts(s, opts);
    if (st == LT_OK)
        st = set_name(s, opts->server_name);
    if (st != LT_OK)
        goto out;
    s->auto_port = opts->port == 0;
    if (s->auto_port) {
        st = pick_ports(s);
    } else {
        s->port = opts->port;
        if (s->monitor)
            st = lt_natsrv_free_port(&s->mport);
        snprintf(s->url, sizeof(s->url), "nats://127.0.0.1:%d", s->port);
    }
    if (st != LT_OK)
        goto out;
    reg_add(s);
    st = launch(s, "start");
    if (st != LT_OK) {
        reg_remove(s);
        goto out;
    }
    *new_srv = s;
    s = NULL;
out:
    if (s != NULL) {
        LT_IGNORE(terminate(s, true));
        LT_IGNORE(lt_test_rmtree(s->dir));
        srv_free(s);
    }
    return st;
}

lt_status lt_natsrv_stop(lt_natsrv *srv)
{
    lt_status st;

    if (srv == NULL)
        return LT_OK;
    reg_remove(srv);
    LT_IGNORE(terminate(srv, false));
    st = lt_test_rmtree(srv->dir);
    srv_free(srv);
    return st;
}

const char *lt_natsrv_url(const lt_natsrv *srv)
{
    return srv->url;
}

int lt_natsrv_port(const lt_natsrv *srv)
{
    return srv->port;
}

int lt_natsrv_monitor_port(const lt_natsrv *srv)
{
    return srv->monitor ? srv->mport : 0;
}

pid_t lt_natsrv_pid(const lt_natsrv *srv)
{
    return srv->pid;
}

const char *lt_natsrv_dir(const lt_natsrv *srv)
{
    return srv->dir;
}

const char *lt_natsrv_log_path(const lt_natsrv *srv)
{
    return srv->log;
}

lt_status lt_natsrv_down(lt_natsrv *srv, bool hard)
{
    return terminate(srv, hard);
}

lt_status lt_natsrv_up(lt_natsrv *srv)
{
    bool auto_port = srv->auto_port;
    lt_status st;

    if (srv->pid > 0)
        return LT_FAIL(LT_ERR_STATE, "nats-server %s is already running", srv->name);
    srv->auto_port = false;   /* clients expect the same URL */
    st = launch(srv, "restart");
    srv->auto_port = auto_port;
    return st;
}

lt_status lt_natsrv_restart(lt_natsrv *srv)
{
    lt_status st = lt_natsrv_down(srv, false);

    if (st == LT_OK)
        st = lt_natsrv_up(srv);
    return st;
}

lt_status lt_natsrv_wait_js(lt_natsrv *srv, int64_t timeout_ms)
{
    int64_t deadline = lt_test_now_ms() + timeout_ms;
    bool js_probe = srv->js_probe, js = srv->js;
    probe_result r = PROBE_NOT_YET;

    srv->js_probe = srv->js = true;
    while (srv->pid > 0 && lt_test_now_ms() < deadline) {
        if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid) {
            srv->pid = 0;
            break;
        }
        r = probe(srv);
        if (r != PROBE_NOT_YET)
            break;
        lt_test_sleep_ms(50);
    }
    srv->js_probe = js_probe;
    srv->js = js;
    if (r == PROBE_READY)
        return LT_OK;
    if (srv->pid <= 0)
        return LT_FAIL(LT_ERR_STATE, "nats-server %s is down", srv->name);
    return LT_FAIL(LT_ERR_TIMEOUT, "nats-server %s: JetStream not available within %lld ms",
                   srv->name, (long long)timeout_ms);
}

/* True when every thread of pid is in the stopped state ('T' in /proc). */
static bool all_threads_stopped(void *arg)
{
    pid_t pid = *(const pid_t *)arg;
    char path[64];
    DIR *d;
    struct dirent *e;
    bool stopped = true;

    snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
    d = opendir(path);
    if (d == NULL)
        return false;
    while (stopped && (e = readdir(d)) != NULL) {
        char stat_path[400], *text = NULL, *paren;

        if (e->d_name[0] == '.')
            continue;
        snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, e->d_name);
        if (lt_test_read_file(stat_path, 4096, &text, NULL) != LT_OK)
            continue;   /* thread gone meanwhile */
        paren = strrchr(text, ')');
        stopped = paren != NULL && paren[1] == ' ' && paren[2] == 'T';
        lt_free(text);
    }
    closedir(d);
    return stopped;
}

lt_status lt_natsrv_pause(lt_natsrv *srv)
{
    if (srv->pid <= 0)
        return LT_FAIL(LT_ERR_STATE, "nats-server %s is down", srv->name);
    if (kill(srv->pid, SIGSTOP) != 0)
        return LT_FAIL(LT_ERR_IO, "SIGSTOP %ld: errno %d", (long)srv->pid, errno);
    srv->paused = true;
    /* kill() returns before every thread has stopped: wait for the group stop. */
    return lt_test_wait_until(all_threads_stopped, &srv->pid, 5000);
}

lt_status lt_natsrv_resume(lt_natsrv *srv)
{
    if (srv->pid <= 0)
        return LT_FAIL(LT_ERR_STATE, "nats-server %s is down", srv->name);
    if (kill(srv->pid, SIGCONT) != 0)
        return LT_FAIL(LT_ERR_IO, "SIGCONT %ld: errno %d", (long)srv->pid, errno);
    srv->paused = false;
    return LT_OK;
}
