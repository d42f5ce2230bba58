/*
 * test_daemon.c - latticed as a process: --help/--version/usage errors,
 * `--dev` coming up (nats-server child, JetStream assets, the local host
 * running the example app's instances as its children, "app hello ... is
 * deployed", which instances are stand-ins, the Try lines with latticectl's
 * full path) and going down cleanly on SIGTERM and SIGINT (exit 0; the
 * nats-server, the host and every instance process gone by PID; temp dir
 * removed), a
 * clear error when nats-server is missing or NATS unreachable, and
 * idempotent asset creation against an existing server.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "lt_natsrv.h"
#include "lt_testutil.h"

typedef struct {
    pid_t pid;
    int out_fd, err_fd;
    char out[16384], err[16384];
    size_t out_len, err_len;
} proc;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *bin(void)
{
    const char *b = getenv("LATTICED_BIN");

    ck_assert_msg(b != NULL, "LATTICED_BIN not set");
    return b;
}

static void spawn(proc *p, char *const argv[])
{
    int o[2], e[2];

    memset(p, 0, sizeof(*p));
    ck_assert_int_eq(pipe(o), 0);
    ck_assert_int_eq(pipe(e), 0);
    p->pid = fork();
    ck_assert_int_ge(p->pid, 0);
    if (p->pid == 0) {
        dup2(o[1], STDOUT_FILENO);
        dup2(e[1], STDERR_FILENO);
        close(o[0]);
        close(e[0]);
        execv(bin(), argv);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    p->out_fd = o[0];
    p->err_fd = e[0];
    fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
}

static void drain(proc *p, int timeout_ms)
{
    struct pollfd pf[2] = { { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 } };

    if (poll(pf, 2, timeout_ms) <= 0)
        return;
    if (pf[0].revents) {
        ssize_t n = read(p->out_fd, p->out + p->out_len, sizeof(p->out) - 1 - p->out_len);
        if (n > 0)
            p->out_len += (size_t)n;
    }
    if (pf[1].revents) {
        ssize_t n = read(p->err_fd, p->err + p->err_len, sizeof(p->err) - 1 - p->err_len);
        if (n > 0)
            p->err_len += (size_t)n;
    }
    p->out[p->out_len] = '\0';
    p->err[p->err_len] = '\0';
}

/* Read output until needle shows in stdout or stderr; false on timeout. */
static bool wait_for(proc *p, const char *needle, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    while (now_ms() < deadline) {
        drain(p, 50);
        if (strstr(p->out, needle) || strstr(p->err, needle))
            return true;
    }
    return false;
}

/* Wait for exit; returns the exit code, or -1 on timeout (then kills it). */
static int wait_exit(proc *p, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    struct timespec pause = { 0, 5 * 1000 * 1000 };
    int status;

    while (now_ms() < deadline) {
        drain(p, 20);
        nanosleep(&pause, NULL); /* at EOF poll returns at once */
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            for (int i = 0; i < 10; i++)
                drain(p, 10);
            close(p->out_fd);
            close(p->err_fd);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    close(p->out_fd);
    close(p->err_fd);
    return -1;
}

static int run(char *const argv[], proc *p)
{
    spawn(p, argv);
    return wait_exit(p, 10000);
}

START_TEST(test_daemon_help_version_usage)
{
    proc p;
    char *help[] = { "latticed", "--help", NULL };
    char *version[] = { "latticed", "-V", NULL };
    char *bogus[] = { "latticed", "--bogus", NULL };
    char *badstore[] = { "latticed", "--storage", "tape", NULL };

    ck_assert_int_eq(run(help, &p), 0);
    ck_assert_ptr_nonnull(strstr(p.out, "--nats-url URL"));
    ck_assert_ptr_nonnull(strstr(p.out, "LATTICED_NATS_CREDS"));
    ck_assert_ptr_nonnull(strstr(p.out, "--dev"));
    ck_assert_int_eq(run(version, &p), 0);
    ck_assert_ptr_nonnull(strstr(p.out, "latticed 0."));
    ck_assert_int_eq(run(bogus, &p), 2);
    ck_assert_ptr_nonnull(strstr(p.err, "unknown option '--bogus'"));
    ck_assert_int_eq(run(badstore, &p), 2);
    ck_assert_ptr_nonnull(strstr(p.err, "--storage must be file or memory"));
}
END_TEST

/* Parse "started nats-server pid N with JetStream in DIR" from the log. */
static void child_of(const proc *p, pid_t *pid, char *dir, size_t dirsize)
{
    const char *s = strstr(p->err, "started nats-server pid ");
    int n = 0;

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(sscanf(s, "started nats-server pid %d with JetStream in %n", &n, &(int){ 0 }),
                     1);
    *pid = n;
    s = strstr(s, " in ") + 4;
    snprintf(dir, dirsize, "%.*s", (int)strcspn(s, "\n"), s);
}

static void assert_bucket_exists(const char *url, const char *bucket)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    kvStore *kv = NULL;

    ck_assert_int_eq(natsConnection_ConnectTo(&nc, url), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    ck_assert_int_eq(js_KeyValue(&kv, js, bucket), NATS_OK);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

/* The number after `key` in text (e.g. "(pid "), or 0. */
static pid_t pid_after(const char *text, const char *key)
{
    const char *s = strstr(text, key);

    return s != NULL ? (pid_t)strtol(s + strlen(key), NULL, 10) : 0;
}

/* PIDs of the processes whose parent is parent (at most max), from /proc/PID/task/TID/children. */
static size_t children_of(pid_t parent, pid_t *out, size_t max)
{
    char path[512], buf[4096];
    DIR *d;
    struct dirent *de;
    size_t n = 0;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)parent);
    d = opendir(path);
    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        FILE *f;
        size_t len;
        char *p, *end;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)parent, de->d_name);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        for (p = buf; n < max; p = end) {
            long v = strtol(p, &end, 10);

            if (end == p)
                break;
            out[n++] = (pid_t)v;
        }
    }
    closedir(d);
    return n;
}

/* A process of ours that exits with its parent may be a zombie for a moment: wait for it. */
static bool gone_within(pid_t pid, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    struct timespec pause = { 0, 20 * 1000 * 1000 };

    while (lt_test_pid_running(pid)) {
        if (now_ms() > deadline)
            return false;
        nanosleep(&pause, NULL);
    }
    return true;
}

static void dev_up_down(int sig)
{
    char *argv[] = { "latticed", "--dev", NULL };
    char url[128], dir[1024], ctl[1024];
    const char *u, *line;
    struct stat sb;
    pid_t child, host, inst[16];
    size_t n_inst, i;
    proc p;

    spawn(&p, argv);
    ck_assert_msg(wait_for(&p, "export LATTICE_NATS_URL=", 15000), "not up: %s", p.err);
    ck_assert_msg(wait_for(&p, "Press Ctrl-C", 2000), "no hint: %s", p.out);
    u = strstr(p.out, "LATTICE_NATS_URL=") + strlen("LATTICE_NATS_URL=");
    snprintf(url, sizeof(url), "%.*s", (int)strcspn(u, "\n"), u);
    ck_assert_ptr_nonnull(strstr(url, "nats://127.0.0.1:"));
    child_of(&p, &child, dir, sizeof(dir));
    ck_assert_int_eq(kill(child, 0), 0);
    ck_assert_int_eq(stat(dir, &sb), 0);
    assert_bucket_exists(url, "latticed_manifests");
    assert_bucket_exists(url, "latticed_status");
    /* The example app comes up on the local host, which runs its instances as children. */
    ck_assert_msg(wait_for(&p, " is deployed:", 60000), "the example never deployed: %s%s", p.out,
                  p.err);
    line = strstr(p.out, "app hello ");
    ck_assert_msg(line != NULL && line < strstr(p.out, " is deployed:"), "%s", p.out);
    ck_assert_msg(wait_for(&p, "2/2 running", 2000), "%s", p.out);
    /* It says plainly that the OCI images run as stand-ins, and gives latticectl's full path. */
    ck_assert_msg(wait_for(&p, "events\n", 2000), "no Try lines: %s", p.out);
    ck_assert_msg(strstr(p.out, "Note: http-component, httpserver run as stand-ins") != NULL, "%s",
                  p.out);
    line = strstr(p.out, "Try:\n  ");
    ck_assert_msg(line != NULL, "%s", p.out);
    line += strlen("Try:\n  ");
    snprintf(ctl, sizeof(ctl), "%.*s", (int)strcspn(line, " "), line);
    ck_assert_msg(ctl[0] == '/' && access(ctl, X_OK) == 0 && strlen(ctl) > 11 &&
                      strcmp(ctl + strlen(ctl) - 11, "/latticectl") == 0,
                  "not latticectl's full path: '%s'", ctl);
    ck_assert_msg(strncmp(line + strlen(ctl), " -s nats://127.0.0.1:", 21) == 0, "%s", line);
    line = strstr(p.err, "started local host ");
    ck_assert_msg(line != NULL, "no local host: %s", p.err);
    host = pid_after(line, "(pid ");
    ck_assert_msg(host > 0 && lt_test_pid_running(host), "local host %d not running", (int)host);
    n_inst = children_of(host, inst, 16);
    ck_assert_msg(n_inst >= 2,
                  "the local host runs %zu instance processes, want the 2 "
                  "http-component ones at least",
                  n_inst);

    ck_assert_int_eq(kill(p.pid, sig), 0);
    ck_assert_int_eq(wait_exit(&p, 15000), 0);
    ck_assert_msg(kill(child, 0) != 0 && errno == ESRCH, "nats-server %d left running", (int)child);
    ck_assert_msg(gone_within(host, 2000), "local host %d left running", (int)host);
    for (i = 0; i < n_inst && i < 16; i++)
        ck_assert_msg(gone_within(inst[i], 2000), "instance process %d left running", (int)inst[i]);
    ck_assert_msg(stat(dir, &sb) != 0, "temp dir %s left behind", dir);
    ck_assert_ptr_nonnull(strstr(p.err, "shutting down"));
}

START_TEST(test_daemon_dev_sigterm)
{
    dev_up_down(SIGTERM);
}
END_TEST

START_TEST(test_daemon_dev_sigint)
{
    dev_up_down(SIGINT);
}
END_TEST

START_TEST(test_daemon_dev_missing_nats_server)
{
    char *argv[] = { "latticed", "--dev", "--nats-server-bin", "/nonexistent/nats-server", NULL };
    proc p;
    int code = run(argv, &p);
    char *nl;

    ck_assert_int_eq(code, 3);
    ck_assert_ptr_nonnull(strstr(p.err, "nats-server not found at /nonexistent/nats-server"));
    /* One line: the error and nothing else. */
    nl = strchr(p.err, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_str_eq(nl + 1, "");
}
END_TEST

START_TEST(test_daemon_unreachable_nats)
{
    char url[64];
    char *argv[] = { "latticed", "--nats-url", url, NULL };
    proc p;
    int port = 0;

    ck_assert_int_eq(lt_natsrv_free_port(&port), LT_OK);
    snprintf(url, sizeof(url), "nats://127.0.0.1:%d", port);
    ck_assert_int_eq(run(argv, &p), 3);
    ck_assert_ptr_nonnull(strstr(p.err, "cannot connect to NATS at nats://127.0.0.1:"));
}
END_TEST

START_TEST(test_daemon_assets_idempotent)
{
    lt_natsrv *srv = NULL;
    char url[128];
    char *argv[] = { "latticed", "--nats-url", url, "--storage", "memory", NULL };
    proc p;

    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    snprintf(url, sizeof(url), "%s", lt_natsrv_url(srv));
    for (int round = 0; round < 2; round++) {
        spawn(&p, argv);
        ck_assert_msg(wait_for(&p, "ready: NATS", 10000), "round %d: %s", round, p.err);
        if (round == 0)
            ck_assert_ptr_nonnull(strstr(p.err, "created KV bucket latticed_manifests"));
        else
            ck_assert_ptr_null(strstr(p.err, "created KV bucket"));
        kill(p.pid, SIGTERM);
        ck_assert_int_eq(wait_exit(&p, 10000), 0);
    }
    assert_bucket_exists(url, "latticed_manifests");
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

static Suite *daemon_suite(void)
{
    Suite *s = suite_create("daemon");

    lt_test_tcase(s, "daemon", 60,
                  (const TTest *const[]){
                      test_daemon_help_version_usage, test_daemon_dev_sigterm,
                      test_daemon_dev_sigint, test_daemon_dev_missing_nats_server,
                      test_daemon_unreachable_nats, test_daemon_assets_idempotent, NULL });
    return s;
}

int main(void)
{
    int rc = lt_test_run_suite(daemon_suite());

    nats_Close();
    return rc;
}
