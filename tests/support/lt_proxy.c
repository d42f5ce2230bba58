/*
 * lt_proxy.c - controller of the lt_proxy program (lt_proxy.h): fork/exec with
 * its stdout on a pipe, signals to switch mode, and the proxy's own "port N" /
 * "mode X" lines read back as acknowledgements.
 */
#include "lt_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_testutil.h"

#define ACK_TIMEOUT_MS 10000

struct lt_proxy {
    pid_t pid;
    int out; /* read end of the proxy's stdout */
    int port;
    char url[48];
    char line[256]; /* partial line read so far */
    size_t len;
};

/* Next line from the proxy into p->line (NUL-terminated, no newline). */
static lt_status read_line(lt_proxy *p, int64_t timeout_ms)
{
    int64_t deadline = lt_test_now_ms() + timeout_ms;

    p->len = 0;
    for (;;) {
        struct pollfd pfd = { .fd = p->out, .events = POLLIN };
        int64_t left = deadline - lt_test_now_ms();
        char c;
        ssize_t n;

        if (left <= 0)
            return LT_FAIL(LT_ERR_TIMEOUT, "lt_proxy %ld: no answer", (long)p->pid);
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        n = read(p->out, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return LT_FAIL(LT_ERR_STATE, "lt_proxy %ld exited", (long)p->pid);
        if (c == '\n') {
            p->line[p->len] = '\0';
            return LT_OK;
        }
        if (p->len + 1 < sizeof(p->line))
            p->line[p->len++] = c;
    }
}

static const char *proxy_bin(void)
{
    const char *bin = getenv("LT_PROXY_BIN");

    return bin != NULL && bin[0] != '\0' ? bin : LT_PROXY_BIN;
}

lt_status lt_proxy_start(lt_proxy **new_proxy, int target_port)
{
    const char *bin = proxy_bin();
    char tport[16];
    int fds[2] = { -1, -1 };
    pid_t parent = getpid();
    lt_proxy *p = NULL;
    lt_status st = LT_OK;

    *new_proxy = NULL;
    if (access(bin, X_OK) != 0)
        return LT_FAIL(LT_ERR_UNSUPPORTED, "lt_proxy binary not found (\"%s\")", bin);
    p = lt_calloc(1, sizeof(*p));
    if (p == NULL)
        return LT_ERR_NOMEM;
    p->out = -1;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        st = LT_FAIL(LT_ERR_IO, "pipe: errno %d", errno);
        goto out;
    }
    snprintf(tport, sizeof(tport), "%d", target_port);
    p->pid = fork();
    if (p->pid < 0) {
        st = LT_FAIL(LT_ERR_IO, "fork: errno %d", errno);
        goto out;
    }
    if (p->pid == 0) {
        char zero[] = "0", *argv[] = { (char *)bin, zero, tport, NULL };

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        if (dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(126);
        lt_test_close_fds_from(3);
        execv(bin, argv);
        _exit(127);
    }
    close(fds[1]);
    fds[1] = -1;
    p->out = fds[0];
    fds[0] = -1;
    st = read_line(p, ACK_TIMEOUT_MS);
    if (st == LT_OK && sscanf(p->line, "port %d", &p->port) != 1)
        st = LT_FAIL(LT_ERR_STATE, "lt_proxy said \"%s\"", p->line);
    if (st != LT_OK)
        goto out;
    snprintf(p->url, sizeof(p->url), "nats://127.0.0.1:%d", p->port);
    *new_proxy = p;
    p = NULL;
out:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (p != NULL)
        LT_IGNORE(lt_proxy_stop(p));
    return st;
}

lt_status lt_proxy_set(lt_proxy *p, lt_proxy_mode mode)
{
    static const char *const words[] = { "mode forward", "mode cut", "mode stall" };
    static const int sigs[] = { SIGHUP, SIGUSR1, SIGUSR2 };
    lt_status st;

    if (p->pid <= 0 || kill(p->pid, sigs[mode]) != 0)
        return LT_FAIL(LT_ERR_STATE, "lt_proxy is not running");
    st = read_line(p, ACK_TIMEOUT_MS);
    if (st == LT_OK && strcmp(p->line, words[mode]) != 0)
        st = LT_FAIL(LT_ERR_STATE, "lt_proxy said \"%s\", expected \"%s\"", p->line, words[mode]);
    return st;
}

lt_status lt_proxy_stop(lt_proxy *p)
{
    int64_t deadline;

    if (p == NULL)
        return LT_OK;
    if (p->pid > 0) {
        deadline = lt_test_now_ms() + 5000;
        kill(p->pid, SIGTERM);
        for (;;) {
            pid_t r = waitpid(p->pid, NULL, WNOHANG);

            if (r == p->pid || (r < 0 && errno == ECHILD))
                break;
            if (lt_test_now_ms() >= deadline) {
                kill(p->pid, SIGKILL);
                while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
                    ;
                break;
            }
            lt_test_sleep_ms(5);
        }
    }
    if (p->out >= 0)
        close(p->out);
    lt_free(p);
    return LT_OK;
}

int lt_proxy_port(const lt_proxy *p)
{
    return p->port;
}

const char *lt_proxy_url(const lt_proxy *p)
{
    return p->url;
}
