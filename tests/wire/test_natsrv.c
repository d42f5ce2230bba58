/*
 * test_natsrv.c - tests of the launcher and the test helpers: core/lt_natsrv
 * (a real nats-server child: start, pub/sub, JetStream, restart on the same
 * store, pause, stop by PID, directory removal, binary lookup, own process
 * group) and lt_testutil (with core/lt_fs).
 */
#include <check.h>
#include <errno.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_natsrv.h"
#include "lt_testutil.h"

static bool path_exists(const char *p)
{
    struct stat sb;

    return lstat(p, &sb) == 0;
}

static bool pid_gone(pid_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

static natsConnection *connect_to(const lt_natsrv *srv)
{
    natsConnection *nc = NULL;
    natsOptions *o = NULL;

    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    ck_assert_int_eq(natsOptions_SetURL(o, lt_natsrv_url(srv)), NATS_OK);
    ck_assert_int_eq(natsOptions_SetMaxReconnect(o, -1), NATS_OK);
    ck_assert_int_eq(natsOptions_SetReconnectWait(o, 50), NATS_OK);
    ck_assert_int_eq(natsConnection_Connect(&nc, o), NATS_OK);
    natsOptions_Destroy(o);
    return nc;
}

START_TEST(test_start_pubsub_stop)
{
    lt_natsrv *srv = NULL;
    natsConnection *nc;
    natsSubscription *sub = NULL;
    natsMsg *msg = NULL;
    char *dir, *log;
    pid_t pid;

    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    pid = lt_natsrv_pid(srv);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(kill(pid, 0), 0);
    ck_assert_int_gt(lt_natsrv_port(srv), 0);
    ck_assert_ptr_nonnull(strstr(lt_natsrv_url(srv), "nats://127.0.0.1:"));
    ck_assert_int_eq(lt_natsrv_monitor_port(srv), 0);
    dir = lt_strdup(lt_natsrv_dir(srv));
    log = lt_strdup(lt_natsrv_log_path(srv));
    ck_assert(path_exists(dir));
    ck_assert(path_exists(log));

    nc = connect_to(srv);
    ck_assert_int_eq(natsConnection_SubscribeSync(&sub, nc, "t.hello"), NATS_OK);
    ck_assert_int_eq(natsConnection_PublishString(nc, "t.hello", "world"), NATS_OK);
    ck_assert_int_eq(natsSubscription_NextMsg(&msg, sub, 5000), NATS_OK);
    ck_assert_str_eq(natsMsg_GetData(msg), "world");
    natsMsg_Destroy(msg);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);

    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    ck_assert(pid_gone(pid));
    ck_assert(!path_exists(dir));
    lt_free(dir);
    lt_free(log);
}
END_TEST

/* Two servers at once get different ports and directories; a dead test's
 * directory is swept. */
START_TEST(test_two_servers)
{
    lt_natsrv *a = NULL, *b = NULL;
    const char *tmp = getenv("TMPDIR");
    char stale[512];
    pid_t dead = fork();

    if (dead == 0)
        _exit(0);
    ck_assert_int_gt(dead, 0);
    ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
    ck_assert_int_lt(snprintf(stale, sizeof(stale), "%s/lt-natsrv-%ld-stale",
                              tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", (long)dead),
                     (int)sizeof(stale));
    ck_assert_int_eq(mkdir(stale, 0700), 0);
    ck_assert_int_eq(lt_natsrv_start(&a, NULL), LT_OK);
    ck_assert(!path_exists(stale));
    ck_assert_int_eq(lt_natsrv_start(&b, NULL), LT_OK);
    ck_assert_int_ne(lt_natsrv_port(a), lt_natsrv_port(b));
    ck_assert_str_ne(lt_natsrv_dir(a), lt_natsrv_dir(b));
    ck_assert_int_ne(lt_natsrv_pid(a), lt_natsrv_pid(b));
    ck_assert_int_eq(lt_natsrv_stop(a), LT_OK);
    ck_assert_int_eq(lt_natsrv_stop(b), LT_OK);
    ck_assert_int_eq(lt_natsrv_stop(NULL), LT_OK);
}
END_TEST

/* The JetStream store survives a restart on the same port; the client reconnects. */
START_TEST(test_restart_keeps_store)
{
    lt_natsrv *srv = NULL;
    natsConnection *nc;
    jsCtx *js = NULL;
    jsStreamConfig cfg;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    const char *subjects[] = { "orders.>" };
    int port;
    pid_t old_pid;

    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    port = lt_natsrv_port(srv);
    old_pid = lt_natsrv_pid(srv);
    nc = connect_to(srv);
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    jsStreamConfig_Init(&cfg);
    cfg.Name = "ORDERS";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    ck_assert_int_eq(js_AddStream(&si, js, &cfg, NULL, &jerr), NATS_OK);
    jsStreamInfo_Destroy(si);
    si = NULL;
    ck_assert_int_eq(js_Publish(NULL, js, "orders.1", "x", 1, NULL, &jerr), NATS_OK);

    ck_assert_int_eq(lt_natsrv_restart(srv), LT_OK);
    ck_assert(pid_gone(old_pid));
    ck_assert_int_gt(lt_natsrv_pid(srv), 0);
    ck_assert_int_eq(lt_natsrv_port(srv), port);

    /* The client reconnects by itself; the stream and its message are still there. */
    ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
    ck_assert_int_eq(js_GetStreamInfo(&si, js, "ORDERS", NULL, &jerr), NATS_OK);
    ck_assert_uint_eq(si->State.Msgs, 1);
    jsStreamInfo_Destroy(si);

    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

/* Hard down (crash), up again; pause makes requests time out, resume heals. */
START_TEST(test_down_up_pause)
{
    lt_natsrv *srv = NULL;
    natsConnection *nc;
    natsMsg *reply = NULL;
    pid_t pid;

    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    pid = lt_natsrv_pid(srv);
    ck_assert_int_eq(lt_natsrv_down(srv, true), LT_OK);
    ck_assert_int_eq(lt_natsrv_pid(srv), 0);
    ck_assert(pid_gone(pid));
    ck_assert_int_eq(lt_natsrv_down(srv, true), LT_OK); /* idempotent */
    ck_assert_int_eq(lt_natsrv_pause(srv), LT_ERR_STATE);
    ck_assert_int_eq(lt_natsrv_up(srv), LT_OK);
    ck_assert_int_eq(lt_natsrv_up(srv), LT_ERR_STATE); /* already running */

    nc = connect_to(srv);
    ck_assert_int_eq(lt_natsrv_pause(srv), LT_OK);
    ck_assert_int_eq(natsConnection_RequestString(&reply, nc, "$JS.API.INFO", "", 300),
                     NATS_TIMEOUT);
    ck_assert_int_eq(lt_natsrv_resume(srv), LT_OK);
    ck_assert_int_eq(natsConnection_RequestString(&reply, nc, "$JS.API.INFO", "", 5000), NATS_OK);
    ck_assert_ptr_nonnull(strstr(natsMsg_GetData(reply), "account_info_response"));
    natsMsg_Destroy(reply);
    natsConnection_Destroy(nc);

    /* Stopping a paused server still works. */
    ck_assert_int_eq(lt_natsrv_pause(srv), LT_OK);
    pid = lt_natsrv_pid(srv);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    ck_assert(pid_gone(pid));
}
END_TEST

/* Options: no JetStream, monitor port, config text with @DIR@, extra args. */
START_TEST(test_options)
{
    static const char *const extra[] = { "--max_traced_msg_len", "64", NULL };
    lt_natsrv_opts o = { .no_jetstream = true,
                         .monitor = true,
                         .config_text = "# written by test_options\nmax_payload: 4096\n"
                                        "pid_file: \"@DIR@/srv.pid\"\n",
                         .extra_args = extra };
    lt_natsrv *srv = NULL;
    natsConnection *nc;
    natsMsg *reply = NULL;
    char *path = NULL, *pidtxt = NULL;

    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    ck_assert_int_gt(lt_natsrv_monitor_port(srv), 0);
    nc = connect_to(srv);
    ck_assert_int_eq(natsConnection_GetMaxPayload(nc), 4096);
    /* No JetStream: the API has no responders. */
    ck_assert_int_eq(natsConnection_RequestString(&reply, nc, "$JS.API.INFO", "", 2000),
                     NATS_NO_RESPONDERS);
    natsConnection_Destroy(nc);
    /* @DIR@ was replaced: the pid file is in the server's directory. */
    path = lt_malloc(strlen(lt_natsrv_dir(srv)) + 16);
    ck_assert_ptr_nonnull(path);
    snprintf(path, strlen(lt_natsrv_dir(srv)) + 16, "%s/srv.pid", lt_natsrv_dir(srv));
    ck_assert_int_eq(lt_test_read_file(path, 64, &pidtxt, NULL), LT_OK);
    ck_assert_int_eq(atoi(pidtxt), lt_natsrv_pid(srv));
    lt_free(pidtxt);
    lt_free(path);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

/* The binary: an explicit path that is not there fails with nothing left behind; the server
 * runs in its own process group (a Ctrl-C at latticed --dev's terminal must not reach it). */
START_TEST(test_binary_and_group)
{
    lt_natsrv_opts bad = { .binary = "/nonexistent/nats-server" };
    lt_natsrv *srv = (lt_natsrv *)&bad; /* must be reset to NULL */

    ck_assert_int_eq(lt_natsrv_start(&srv, &bad), LT_ERR_UNSUPPORTED);
    ck_assert_ptr_null(srv);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), "/nonexistent/nats-server"));
    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    ck_assert_int_eq(getpgid(lt_natsrv_pid(srv)), lt_natsrv_pid(srv));
    ck_assert_int_ne(getpgid(lt_natsrv_pid(srv)), getpgrp());
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

/* A broken configuration fails fast, with nothing left behind. */
START_TEST(test_bad_config_fails)
{
    lt_natsrv_opts o = { .config_text = "this is { not a config", .start_timeout_ms = 5000 };
    lt_natsrv *srv = (lt_natsrv *)&o; /* must be reset to NULL */

    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_ERR_STATE);
    ck_assert_ptr_null(srv);
}
END_TEST

/* A fixed port that is taken by another server: start fails, not hangs. */
START_TEST(test_fixed_port_busy)
{
    lt_natsrv *a = NULL, *b = NULL;
    lt_natsrv_opts o = { .start_timeout_ms = 3000 };

    ck_assert_int_eq(lt_natsrv_start(&a, NULL), LT_OK);
    o.port = lt_natsrv_port(a);
    ck_assert_int_ne(lt_natsrv_start(&b, &o), LT_OK);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(lt_natsrv_stop(a), LT_OK);
}
END_TEST

/* ---- lt_testutil ---- */

static int counter;

static bool count_to_three(void *arg)
{
    (void)arg;
    return ++counter >= 3;
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

START_TEST(test_wait_until)
{
    int64_t t0;

    counter = 0;
    ck_assert_int_eq(lt_test_wait_until(count_to_three, NULL, 5000), LT_OK);
    ck_assert_int_eq(counter, 3);
    t0 = lt_test_now_ms();
    ck_assert_int_eq(lt_test_wait_until(never, NULL, 100), LT_ERR_TIMEOUT);
    ck_assert_int_ge(lt_test_now_ms() - t0, 100);
}
END_TEST

START_TEST(test_tmpdir_files_rmtree)
{
    char *dir = NULL, *data = NULL, path[512], sub[512];
    size_t len = 0;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-tu"), LT_OK);
    ck_assert(path_exists(dir));
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/a.txt", dir), (int)sizeof(path));
    ck_assert_int_eq(lt_test_write_file(path, "hello\n", 6), LT_OK);
    ck_assert_int_eq(lt_test_read_file(path, 100, &data, &len), LT_OK);
    ck_assert_uint_eq(len, 6);
    ck_assert_str_eq(data, "hello\n");
    lt_free(data);
    ck_assert_int_eq(lt_test_read_file(path, 3, &data, &len), LT_ERR_TOO_BIG);
    ck_assert_ptr_null(data);
    ck_assert_int_lt(snprintf(sub, sizeof(sub), "%s/d1", dir), (int)sizeof(sub));
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_lt(snprintf(sub, sizeof(sub), "%s/d1/d2", dir), (int)sizeof(sub));
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/d1/d2/f", dir), (int)sizeof(path));
    ck_assert_int_eq(lt_test_write_file(path, "x", 1), LT_OK);
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/d1/link", dir), (int)sizeof(path));
    ck_assert_int_eq(symlink("/", path), 0); /* must not be followed */
    ck_assert_int_eq(lt_test_rmtree(dir), LT_OK);
    ck_assert(!path_exists(dir));
    ck_assert(path_exists("/tmp"));
    ck_assert_int_eq(lt_test_rmtree(dir), LT_OK); /* missing is fine */
    ck_assert_int_eq(lt_test_read_file(dir, 10, &data, NULL), LT_ERR_NOT_FOUND);
    lt_free(dir);
}
END_TEST

START_TEST(test_run_command)
{
    static const char *const echo[] = { "sh", "-c", "printf out; printf err >&2; exit 3", NULL };
    static const char *const cat[] = { "cat", NULL };
    static const char *const envp[] = { "LT_TU_X=42", NULL };
    static const char *const show[] = { "sh", "-c", "printf %s \"$LT_TU_X\"; pwd", NULL };
    static const char *const slow[] = { "sleep", "10", NULL };
    static const char *const nope[] = { "/nonexistent/lt-no-such-binary", NULL };
    static const char *const big[] = { "head", "-c", "100000", "/dev/zero", NULL };
    lt_test_cmd c = { .argv = echo };
    lt_test_cmd_result r;
    int64_t t0;

    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert_int_eq(r.exit_code, 3);
    ck_assert_str_eq(r.out, "out");
    ck_assert_str_eq(r.err, "err");
    ck_assert(!r.timed_out);
    lt_test_cmd_result_cleanup(&r);

    c = (lt_test_cmd){ .argv = cat, .stdin_data = "piped", .stdin_len = 5 };
    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(r.out, "piped");
    lt_test_cmd_result_cleanup(&r);

    c = (lt_test_cmd){ .argv = show, .env = envp, .cwd = "/" };
    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert_str_eq(r.out, "42/\n");
    lt_test_cmd_result_cleanup(&r);

    t0 = lt_test_now_ms();
    c = (lt_test_cmd){ .argv = slow, .timeout_ms = 200 };
    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert(r.timed_out);
    ck_assert_int_eq(r.term_signal, SIGKILL);
    ck_assert_int_lt(lt_test_now_ms() - t0, 5000);
    lt_test_cmd_result_cleanup(&r);

    c = (lt_test_cmd){ .argv = nope };
    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert_int_eq(r.exit_code, 127);
    ck_assert_int_eq(r.exec_errno, ENOENT);
    lt_test_cmd_result_cleanup(&r);

    c = (lt_test_cmd){ .argv = big, .max_output = 1000 };
    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert(r.truncated);
    ck_assert_uint_eq(r.out_len, 1000);
    ck_assert_int_eq(r.exit_code, 0);
    lt_test_cmd_result_cleanup(&r);
    lt_test_cmd_result_cleanup(NULL);

    c = (lt_test_cmd){ 0 };
    ck_assert_int_eq(lt_test_run(&c, &r), LT_ERR_INVALID);
}
END_TEST

static Suite *natsrv_suite(void)
{
    Suite *s = suite_create("natsrv");

    lt_test_tcase(s, "server", 60,
                  (const TTest *const[]){ test_start_pubsub_stop, test_two_servers,
                                          test_binary_and_group, test_restart_keeps_store,
                                          test_down_up_pause, test_options, test_bad_config_fails,
                                          test_fixed_port_busy, NULL });
    lt_test_tcase(s, "testutil", 0,
                  (const TTest *const[]){ test_wait_until, test_tmpdir_files_rmtree,
                                          test_run_command, NULL });
    return s;
}

int main(void)
{
    int rc = lt_test_run_suite(natsrv_suite());

    nats_Close();
    return rc;
}
