/*
 * lt_natsrv_proc.c - the nats-server child as a process: finding the binary,
 * free loopback ports, spawn (own process group, SIGKILL when the starting
 * thread dies) and terminate by PID, and the registry that kills servers a
 * caller forgot to stop when the process exits and sweeps the temp
 * directories of owners that died.
 */
#include "natsrv_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_fs.h"
#include "lt_limits.h"
#include "lt_loop.h"
#include "lt_time.h"

static bool is_exec(const char *p)
{
    return p != NULL && p[0] != '\0' && access(p, X_OK) == 0;
}

const char *lt__core_natsrv_find_binary(const char *hint)
{
    static _Thread_local char found[LT_MAX_PATH];
    const char *env = getenv("LT_NATS_SERVER");
    const char *path = getenv("PATH");
    const char *fixed[] = { LT_NATS_SERVER, "/usr/sbin/nats-server", "/usr/local/sbin/nats-server",
                            "/usr/local/bin/nats-server" };

    if (hint != NULL && hint[0] != '\0')
        return is_exec(hint) ? hint : NULL;
    if (env != NULL && env[0] != '\0')
        return is_exec(env) ? env : NULL;
    while (path != NULL && *path != '\0') {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);

        if (len > 0 &&
            (size_t)snprintf(found, sizeof(found), "%.*s/nats-server", (int)len, path) <
                sizeof(found) &&
            is_exec(found))
            return found;
        path = colon ? colon + 1 : NULL;
    }
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (is_exec(fixed[i]))
            return fixed[i];
    }
    return NULL;
}

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
            continue; /* inherited across fork: not ours to kill */
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            s->pid = 0;
        }
        LT_IGNORE(lt_fs_rmtree(s->dir));
    }
    pthread_mutex_unlock(&reg_lock);
}

/*
 * Directories of servers whose test died abnormally (a failed Check assertion
 * in fork mode ends the child with _exit, skipping atexit) are named
 * lt-natsrv-<owner pid>-XXXXXX: remove those whose owner no longer exists.
 */
void lt__core_natsrv_sweep_stale_dirs(void)
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
            LT_IGNORE(lt_fs_rmtree(path));
    }
    closedir(d);
}

unsigned lt__core_natsrv_next_serial(void)
{
    unsigned n;

    pthread_mutex_lock(&reg_lock);
    n = ++reg_counter;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

static void reg_init(void)
{
    atexit(reg_sweep_at_exit);
}

void lt__core_natsrv_reg_add(lt_natsrv *s)
{
    pthread_once(&reg_once, reg_init);
    pthread_mutex_lock(&reg_lock);
    s->next = reg_head;
    reg_head = s;
    pthread_mutex_unlock(&reg_lock);
}

void lt__core_natsrv_reg_remove(lt_natsrv *s)
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

/* ---- process control ---- */

static lt_status build_argv(const lt_natsrv *s, char **argv, size_t cap, char *pbuf, char *mbuf)
{
    size_t n = 0;

    snprintf(pbuf, 16, "%d", s->port);
    snprintf(mbuf, 16, "%d", s->mport);
#define ARG(x)                                                                \
    do {                                                                      \
        if (n + 1 >= cap)                                                     \
            return LT_FAIL(LT_ERR_TOO_BIG, "too many nats-server arguments"); \
        argv[n++] = (char *)(x);                                              \
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

lt_status lt__core_natsrv_spawn(lt_natsrv *s)
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
        setpgid(0, 0); /* a Ctrl-C at the terminal reaches its parent, not the server */
        lt_fs_close_fds_from(3);
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
lt_status lt__core_natsrv_terminate(lt_natsrv *s, bool hard)
{
    int64_t deadline = lt_loop_now_ms() + s->stop_timeout_ms;
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
        if (lt_loop_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        lt_time_sleep_ms(5);
    }
    s->pid = 0;
    s->paused = false;
    return LT_OK;
}
