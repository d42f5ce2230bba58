/*
 * test_urls.c - comma-separated NATS URL lists in all three programs, with
 * real processes: latticed, two simulated latticed-host hosts and latticectl
 * each get the same list, and `latticectl hosts` must show both hosts (so
 * every program connected and they reach each other). Lists: a dead server
 * first (a free port with nothing listening) then a live one; and two live
 * servers of a 2-node JetStream cluster. And latticed --nats-connect-wait-ms:
 * started before its server, it waits for it (and stops at once on SIGTERM).
 */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_natsrv.h"
#include "lt_testutil.h"

static const char *env_bin(const char *name)
{
    const char *b = getenv(name);

    ck_assert_msg(b != NULL, "%s not set", name);
    return b;
}

/* Start argv with stdout/stderr to log; dies with us. */
static pid_t start(const char *log, const char *const *argv)
{
    pid_t parent = getpid(), pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        lt_test_close_fds_from(3);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void stop(pid_t pid)
{
    int64_t deadline = lt_test_now_ms() + 10000;

    kill(pid, SIGTERM);
    while (waitpid(pid, NULL, WNOHANG) == 0) {
        if (lt_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return;
        }
        lt_test_sleep_ms(20);
    }
}

static void dump(const char *what, const char *path)
{
    char *text = NULL;

    if (lt_test_read_file(path, 1 << 20, &text, NULL) == LT_OK) {
        size_t len = strlen(text);

        fprintf(stderr, "----- %s -----\n%s\n", what, len > 4000 ? text + len - 4000 : text);
        lt_free(text);
    }
}

typedef struct {
    const char *list;
    char last_err[512];
} hosts_probe;

/* latticectl -s LIST hosts -o json lists both simulated hosts. */
static bool both_hosts_listed(void *arg)
{
    hosts_probe *p = arg;
    const char *argv[] = { env_bin("LATTICECTL_BIN"),
                           "hosts",
                           "-s",
                           p->list,
                           "-x",
                           "urls",
                           "-o",
                           "json",
                           "-t",
                           "3",
                           NULL };
    lt_test_cmd cmd = { .argv = argv, .timeout_ms = 15000 };
    lt_test_cmd_result res;
    json_t *j = NULL;
    bool ok = false;

    if (lt_test_run(&cmd, &res) != LT_OK)
        return false;
    snprintf(p->last_err, sizeof(p->last_err), "exit %d: %s", res.exit_code, res.err);
    if (res.exit_code == 0 && (j = json_loads(res.out, 0, NULL)) != NULL)
        ok = json_array_size(json_object_get(j, "hosts")) == 2;
    json_decref(j);
    lt_test_cmd_result_cleanup(&res);
    return ok;
}

static void all_programs_with(const char *list)
{
    char *dir = NULL, llog[512], hlog[512];
    const char *lat[] = { env_bin("LATTICED_BIN"), "-s",  list,          "--storage", "memory",
                          "--host-interval-ms",    "500", "--warmup-ms", "500",       NULL };
    const char *host[] = { env_bin("LATTICED_HOST_BIN"),
                           "-s",
                           list,
                           "--lattice",
                           "urls",
                           "--simulate",
                           "2",
                           "--id-prefix",
                           "u",
                           "--heartbeat-interval",
                           "500ms",
                           NULL };
    hosts_probe probe = { .list = list };
    pid_t lp, hp;
    lt_status st;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-urls"), LT_OK);
    snprintf(llog, sizeof(llog), "%s/latticed.log", dir);
    snprintf(hlog, sizeof(hlog), "%s/host.log", dir);
    lp = start(llog, lat);
    hp = start(hlog, host);
    st = lt_test_wait_until(both_hosts_listed, &probe, 45000);
    if (st != LT_OK) {
        fprintf(stderr, "list %s; latticectl: %s\n", list, probe.last_err);
        dump("latticed", llog);
        dump("latticed-host", hlog);
    }
    stop(hp);
    stop(lp);
    ck_assert_int_eq(lt_test_rmtree(dir), LT_OK);
    lt_free(dir);
    ck_assert_msg(st == LT_OK, "the programs did not work with %s", list);
}

START_TEST(test_urls_dead_first)
{
    lt_natsrv *srv = NULL;
    char list[256];
    int dead;

    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    ck_assert_int_eq(lt_natsrv_free_port(&dead), LT_OK);
    snprintf(list, sizeof(list), "nats://127.0.0.1:%d,%s", dead, lt_natsrv_url(srv));
    all_programs_with(list);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

START_TEST(test_urls_two_live_servers)
{
    lt_natsrv *a = NULL, *b = NULL;
    char conf_a[512], conf_b[512], list[256];
    int ra, rb;
    lt_natsrv_opts oa = { .config_text = conf_a, .no_js_probe = true };
    lt_natsrv_opts ob = { .config_text = conf_b };

    ck_assert_int_eq(lt_natsrv_free_port(&ra), LT_OK);
    do
        ck_assert_int_eq(lt_natsrv_free_port(&rb), LT_OK);
    while (rb == ra);
    /* A 2-node JetStream cluster: the meta group needs both, so only b waits for it. */
    snprintf(conf_a, sizeof(conf_a),
             "cluster { name: urls, listen: 127.0.0.1:%d, routes: [nats-route://127.0.0.1:%d] }\n",
             ra, rb);
    snprintf(conf_b, sizeof(conf_b),
             "cluster { name: urls, listen: 127.0.0.1:%d, routes: [nats-route://127.0.0.1:%d] }\n",
             rb, ra);
    ck_assert_int_eq(lt_natsrv_start(&a, &oa), LT_OK);
    ck_assert_int_eq(lt_natsrv_start(&b, &ob), LT_OK);
    snprintf(list, sizeof(list), "%s,%s", lt_natsrv_url(a), lt_natsrv_url(b));
    all_programs_with(list);
    ck_assert_int_eq(lt_natsrv_stop(b), LT_OK);
    ck_assert_int_eq(lt_natsrv_stop(a), LT_OK);
}
END_TEST

typedef struct {
    const char *path, *needle;
} log_probe;

static bool log_has(void *arg)
{
    log_probe *p = arg;
    char *text = NULL;
    bool found;

    if (lt_test_read_file(p->path, 16u << 20, &text, NULL) != LT_OK)
        return false;
    found = strstr(text, p->needle) != NULL;
    lt_free(text);
    return found;
}

/* Exit code of pid within timeout_ms, or -1 (then it is killed). */
static int exit_code_within(pid_t pid, int64_t timeout_ms)
{
    int64_t deadline = lt_test_now_ms() + timeout_ms;
    int status;

    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (lt_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return -1;
        }
        lt_test_sleep_ms(20);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* --nats-connect-wait-ms: latticed started before its only server waits for it. */
START_TEST(test_urls_wait_for_server)
{
    lt_natsrv *srv = NULL;
    lt_natsrv_opts o = { 0 };
    char *dir = NULL, llog[512], url[64];
    const char *lat[] = { env_bin("LATTICED_BIN"),  "-s",    url, "--storage", "memory",
                          "--nats-connect-wait-ms", "60000", NULL };
    log_probe waiting = { llog, "no NATS server answers" }, ready = { llog, " ready: NATS " };
    pid_t lp;

    ck_assert_int_eq(lt_natsrv_free_port(&o.port), LT_OK);
    snprintf(url, sizeof(url), "nats://127.0.0.1:%d", o.port);
    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-urls"), LT_OK);
    snprintf(llog, sizeof(llog), "%s/latticed.log", dir);
    lp = start(llog, lat);
    ck_assert_int_eq(lt_test_wait_until(log_has, &waiting, 15000), LT_OK);
    ck_assert_int_eq(kill(lp, 0), 0); /* still there, waiting */
    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    if (lt_test_wait_until(log_has, &ready, 30000) != LT_OK)
        dump("latticed", llog);
    ck_assert(log_has(&ready));
    /* It serves: latticectl gets an answer (no hosts in lattice urls). */
    {
        const char *argv[] = {
            env_bin("LATTICECTL_BIN"), "hosts", "-s", url, "-x", "urls", "-o", "json", NULL
        };
        lt_test_cmd cmd = { .argv = argv, .timeout_ms = 20000 };
        lt_test_cmd_result res;

        ck_assert_int_eq(lt_test_run(&cmd, &res), LT_OK);
        ck_assert_msg(res.exit_code == 0, "latticectl: %s", res.err);
        lt_test_cmd_result_cleanup(&res);
    }
    stop(lp);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    ck_assert_int_eq(lt_test_rmtree(dir), LT_OK);
    lt_free(dir);
}
END_TEST

/* SIGTERM while waiting for NATS ends latticed at once, cleanly. */
START_TEST(test_urls_wait_stopped)
{
    char *dir = NULL, llog[512], url[64];
    const char *lat[] = { env_bin("LATTICED_BIN"),  "-s",    url,
                          "--nats-connect-wait-ms", "60000", NULL };
    log_probe waiting = { llog, "no NATS server answers" };
    int port;
    pid_t lp;

    ck_assert_int_eq(lt_natsrv_free_port(&port), LT_OK);
    snprintf(url, sizeof(url), "nats://127.0.0.1:%d", port);
    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-urls"), LT_OK);
    snprintf(llog, sizeof(llog), "%s/latticed.log", dir);
    lp = start(llog, lat);
    ck_assert_int_eq(lt_test_wait_until(log_has, &waiting, 15000), LT_OK);
    kill(lp, SIGTERM);
    ck_assert_int_eq(exit_code_within(lp, 5000), 0);
    ck_assert_int_eq(lt_test_rmtree(dir), LT_OK);
    lt_free(dir);
}
END_TEST

static Suite *urls_suite(void)
{
    Suite *s = suite_create("urls");

    lt_test_tcase(s, "urls", 150,
                  (const TTest *const[]){ test_urls_dead_first, test_urls_two_live_servers,
                                          test_urls_wait_for_server, test_urls_wait_stopped,
                                          NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(urls_suite());
}
