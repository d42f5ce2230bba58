/*
 * lt_testutil.c - test helpers: polling waits and a command runner with
 * captured output and a timeout; temp dirs and whole-file I/O are core/lt_fs;
 * connection-event counters, /proc/PID/stat readers and the Check runner.
 */
#include "lt_testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_fs.h"
#include "lt_time.h"
#include "lt_buf.h"
#include "lt_limits.h"

extern char **environ;

#define DEFAULT_RUN_TIMEOUT_MS 30000
#define DEFAULT_MAX_OUTPUT (1u << 20)

int64_t lt_test_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lt_test_sleep_ms(int64_t ms)
{
    lt_time_sleep_ms(ms);
}

lt_status lt_test_wait_until(lt_test_pred pred, void *arg, int64_t timeout_ms)
{
    int64_t deadline = lt_test_now_ms() + timeout_ms;
    int64_t pause = 1;

    for (;;) {
        int64_t left;

        if (pred(arg))
            return LT_OK;
        left = deadline - lt_test_now_ms();
        if (left <= 0)
            break;
        lt_test_sleep_ms(pause < left ? pause : left);
        if (pause < 50)
            pause *= 2;
    }
    if (pred(arg))
        return LT_OK;
    return LT_FAIL(LT_ERR_TIMEOUT, "condition not met within %lld ms", (long long)timeout_ms);
}

lt_status lt_test_tmpdir(char **new_path, const char *prefix)
{
    return lt_fs_tmpdir(new_path, prefix != NULL ? prefix : "lt-test");
}

lt_status lt_test_rmtree(const char *path)
{
    return lt_fs_rmtree(path);
}

lt_status lt_test_read_file(const char *path, size_t max, char **new_data, size_t *out_len)
{
    return lt_fs_read_file(path, max, new_data, out_len);
}

lt_status lt_test_write_file(const char *path, const void *data, size_t len)
{
    return lt_fs_write_file(path, data, len);
}

void lt_test_close_fds_from(int lowfd)
{
    lt_fs_close_fds_from(lowfd);
}

/* Environment for the child: environ with cmd->env entries replacing or added. */
static lt_status build_env(const char *const *extra, char ***new_env)
{
    size_t n_base = 0, n_extra = 0, n = 0;
    char **env;

    *new_env = NULL;
    while (environ != NULL && environ[n_base] != NULL)
        n_base++;
    while (extra != NULL && extra[n_extra] != NULL)
        n_extra++;
    env = lt_calloc(n_base + n_extra + 1, sizeof(*env));
    if (env == NULL)
        return LT_ERR_NOMEM;
    for (size_t i = 0; i < n_base; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq != NULL ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;

        for (size_t j = 0; j < n_extra && !replaced; j++)
            replaced = strncmp(extra[j], environ[i], klen) == 0 && extra[j][klen] == '=';
        if (!replaced)
            env[n++] = environ[i];
    }
    for (size_t j = 0; j < n_extra; j++)
        env[n++] = (char *)extra[j]; /* execve takes char *const[]; never written */
    env[n] = NULL;
    *new_env = env;
    return LT_OK;
}

/* Append what fd has to b (dropping bytes past its limit). Returns false at EOF/error. */
static bool drain(int fd, lt_buf *b, bool *truncated)
{
    char chunk[8192];
    ssize_t n = read(fd, chunk, sizeof(chunk));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    if (lt_buf_append(b, chunk, (size_t)n) != LT_OK) {
        size_t room = b->max - b->len;

        lt_buf_truncate(b, b->len); /* clear the error: keep what fits */
        LT_IGNORE(lt_buf_append(b, chunk, room));
        *truncated = true;
    }
    return true;
}

/* In the child: set up stdio and exec; on failure report errno on status_fd. */
static void child_exec(const lt_test_cmd *cmd, char **env, const int fds[3], int status_fd)
{
    sigset_t none;
    int e;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0 || dup2(status_fd, 3) < 0)
        goto fail;
    lt_test_close_fds_from(4);
    if (fcntl(3, F_SETFD, FD_CLOEXEC) != 0)
        goto fail;
    if (cmd->cwd != NULL && chdir(cmd->cwd) != 0)
        goto fail;
    execvpe(cmd->argv[0], (char *const *)cmd->argv, env);
fail:
    e = errno;
    if (write(3, &e, sizeof(e)) < 0)
        e = 0;
    _exit(127);
}

/* errno the child reported before exec, or 0 when exec succeeded (EOF). */
static int exec_errno(int status_fd)
{
    int e = 0;
    ssize_t n;

    do {
        n = read(status_fd, &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(e) ? e : 0;
}

/* Poll the three pipes until both outputs end or the deadline passes. */
static void pump(const lt_test_cmd *cmd, int *in_fd, int *out_fd, int *err_fd,
                 lt_test_cmd_result *res, lt_buf *out, lt_buf *err, int64_t deadline)
{
    size_t in_off = 0;

    while (*out_fd >= 0 || *err_fd >= 0) {
        struct pollfd p[3];
        nfds_t np = 0;
        int64_t left = deadline - lt_test_now_ms();

        if (left <= 0) {
            res->timed_out = true;
            return;
        }
        if (*in_fd >= 0 && in_off >= cmd->stdin_len) {
            close(*in_fd);
            *in_fd = -1;
        }
        if (*in_fd >= 0)
            p[np++] = (struct pollfd){ .fd = *in_fd, .events = POLLOUT };
        if (*out_fd >= 0)
            p[np++] = (struct pollfd){ .fd = *out_fd, .events = POLLIN };
        if (*err_fd >= 0)
            p[np++] = (struct pollfd){ .fd = *err_fd, .events = POLLIN };
        if (poll(p, np, (int)(left > 100 ? 100 : left)) < 0 && errno != EINTR)
            return;
        for (nfds_t i = 0; i < np; i++) {
            if (p[i].revents == 0)
                continue;
            if (p[i].fd == *in_fd) {
                ssize_t n = send(*in_fd, (const char *)cmd->stdin_data + in_off,
                                 cmd->stdin_len - in_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0)
                    in_off += (size_t)n;
                else if (n < 0 && errno != EAGAIN && errno != EINTR)
                    in_off = cmd->stdin_len; /* reader gone: stop feeding */
            } else if (p[i].fd == *out_fd) {
                if (!drain(*out_fd, out, &res->truncated)) {
                    close(*out_fd);
                    *out_fd = -1;
                }
            } else if (p[i].fd == *err_fd) {
                if (!drain(*err_fd, err, &res->truncated)) {
                    close(*err_fd);
                    *err_fd = -1;
                }
            }
        }
    }
}

/* Reap pid, killing it at the deadline. */
static void reap(pid_t pid, lt_test_cmd_result *res, int64_t deadline)
{
    int wst = 0;

    for (;;) {
        pid_t r = waitpid(pid, &wst, res->timed_out ? 0 : WNOHANG);

        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return;
        if (!res->timed_out && lt_test_now_ms() >= deadline) {
            res->timed_out = true;
            kill(pid, SIGKILL);
            continue;
        }
        if (res->timed_out)
            continue;
        lt_test_sleep_ms(2);
    }
    if (WIFEXITED(wst)) {
        res->exit_code = WEXITSTATUS(wst);
    } else if (WIFSIGNALED(wst)) {
        res->exit_code = -1;
        res->term_signal = WTERMSIG(wst);
    }
}

lt_status lt_test_run(const lt_test_cmd *cmd, lt_test_cmd_result *res)
{
    int sv[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 }, ps[2] = { -1, -1 };
    char **env = NULL;
    lt_buf out, err;
    size_t max;
    int64_t deadline;
    lt_status st = LT_OK;
    pid_t pid;

    memset(res, 0, sizeof(*res));
    if (cmd == NULL || cmd->argv == NULL || cmd->argv[0] == NULL)
        return LT_FAIL(LT_ERR_INVALID, "lt_test_run: empty argv");
    max = cmd->max_output != 0 ? cmd->max_output : DEFAULT_MAX_OUTPUT;
    lt_buf_init(&out, max);
    lt_buf_init(&err, max);
    deadline = lt_test_now_ms() + (cmd->timeout_ms > 0 ? cmd->timeout_ms : DEFAULT_RUN_TIMEOUT_MS);
    st = build_env(cmd->env, &env);
    if (st != LT_OK)
        goto out;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 || pipe2(po, O_CLOEXEC) != 0 ||
        pipe2(pe, O_CLOEXEC) != 0 || pipe2(ps, O_CLOEXEC) != 0) {
        st = LT_FAIL(LT_ERR_IO, "lt_test_run: pipe: errno %d", errno);
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        st = LT_FAIL(LT_ERR_IO, "lt_test_run: fork: errno %d", errno);
        goto out;
    }
    if (pid == 0) {
        const int fds[3] = { sv[1], po[1], pe[1] };

        child_exec(cmd, env, fds, ps[1]);
    }
    close(sv[1]);
    close(po[1]);
    close(pe[1]);
    close(ps[1]);
    sv[1] = po[1] = pe[1] = ps[1] = -1;
    res->exec_errno = exec_errno(ps[0]);
    if (cmd->stdin_data == NULL || cmd->stdin_len == 0)
        shutdown(sv[0], SHUT_WR);
    pump(cmd, &sv[0], &po[0], &pe[0], res, &out, &err, deadline);
    if (res->timed_out)
        kill(pid, SIGKILL);
    reap(pid, res, deadline);
    if (res->exec_errno != 0) { /* exit status of a failed exec is 127, always */
        res->exit_code = 127;
        res->term_signal = 0;
    }
    res->out_len = out.len;
    res->err_len = err.len;
    res->out = lt_buf_take(&out);
    res->err = lt_buf_take(&err);
    if (res->out == NULL || res->err == NULL) {
        lt_test_cmd_result_cleanup(res);
        st = LT_ERR_NOMEM;
    }
out:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
        if (ps[i] >= 0)
            close(ps[i]);
    }
    lt_free(env);
    lt_buf_cleanup(&out);
    lt_buf_cleanup(&err);
    return st;
}

void lt_test_cmd_result_cleanup(lt_test_cmd_result *res)
{
    if (res == NULL)
        return;
    lt_free(res->out);
    lt_free(res->err);
    memset(res, 0, sizeof(*res));
}

void lt_test_conn_count_init(lt_test_conn_count *count)
{
    atomic_init(&count->down, 0);
    atomic_init(&count->up, 0);
}

void lt_test_count_down(void *count)
{
    atomic_fetch_add(&((lt_test_conn_count *)count)->down, 1);
}

void lt_test_count_up(void *count)
{
    atomic_fetch_add(&((lt_test_conn_count *)count)->up, 1);
}

bool lt_test_was_down(void *count)
{
    return atomic_load(&((lt_test_conn_count *)count)->down) > 0;
}

bool lt_test_was_up(void *count)
{
    return atomic_load(&((lt_test_conn_count *)count)->up) > 0;
}

bool lt_test_proc_stat(pid_t pid, pid_t *ppid, char *state)
{
    char path[64], buf[512], *close_paren;
    FILE *f;
    size_t n;
    int pp = 0;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    close_paren = strrchr(buf, ')');
    if (close_paren == NULL || sscanf(close_paren + 1, " %c %d", state, &pp) != 2)
        return false;
    *ppid = pp;
    return true;
}

bool lt_test_pid_running(pid_t pid)
{
    pid_t pp;
    char state;

    return lt_test_proc_stat(pid, &pp, &state) && state != 'Z' && state != 'X';
}

TCase *lt_test_tcase(Suite *s, const char *name, int timeout_s, const TTest *const *tests)
{
    TCase *tc = tcase_create(name);

    if (timeout_s > 0)
        tcase_set_timeout(tc, timeout_s);
    for (size_t i = 0; tests[i] != NULL; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return tc;
}

int lt_test_run_suites(Suite *const *suites)
{
    SRunner *sr = srunner_create(suites[0]);
    int failed;

    for (size_t i = 1; suites[i] != NULL; i++)
        srunner_add_suite(sr, suites[i]);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int lt_test_run_suite(Suite *s)
{
    Suite *const suites[] = { s, NULL };

    return lt_test_run_suites(suites);
}
