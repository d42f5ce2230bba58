/*
 * test_conn_secret.c - lt_conn_connect with a password in the URL, against a
 * real nats-server that requires it (issue 9): a URL list whose first server
 * is dead connects with the credentials of the live one, and the connection
 * survives a restart of the server (disconnect and reconnect logged); a wrong
 * password and a server that never answers (with connect_wait_ms) fail with a
 * one-line reason. Everything lt_log printed meanwhile (stderr, captured in a
 * file) and every lt_error_message() shows the URLs redacted ("***@") and
 * never the password; the positive checks make sure the capture works.
 */
#include <check.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_log.h"
#include "lt_natsrv.h"
#include "lt_testutil.h"

#define USER "ltuser"
#define PW "S3cret-LEAK-pw-7731"
#define WRONG "Wr0ng-LEAK-pw-5512"

static lt_test_conn_count events;

/* The error message must show the redacted URL and no password. */
static void assert_clean_error(const char *want)
{
    const char *msg = lt_error_message();

    ck_assert_msg(strstr(msg, PW) == NULL && strstr(msg, WRONG) == NULL &&
                      strstr(msg, USER) == NULL,
                  "a secret in the error: %s", msg);
    ck_assert_msg(strstr(msg, want) != NULL, "error without '%s': %s", want, msg);
}

START_TEST(test_conn_password_never_shown)
{
    lt_natsrv *srv = NULL;
    lt_natsrv_opts o = {
        .no_jetstream = true,
        .config_text = "authorization { users: [ { user: " USER ", password: \"" PW "\" } ] }\n",
        .probe_user = USER,
        .probe_password = PW,
    };
    lt_conn_events ev = { .disconnected = lt_test_count_down,
                          .reconnected = lt_test_count_up,
                          .arg = &events };
    lt_conn_config cfg = { .timeout_ms = 2000, .ping_ms = 500, .no_reconnect_buffer = true };
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;
    char list[512], bad[256], dead_url[256], logpath[512], *dir = NULL, *text = NULL, port[16];
    int dead, saved, fd;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-conn-secret"), LT_OK);
    snprintf(logpath, sizeof(logpath), "%s/stderr.log", dir);
    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    ck_assert_int_eq(lt_natsrv_free_port(&dead), LT_OK);
    snprintf(port, sizeof(port), ":%d", lt_natsrv_port(srv));
    /* Everything lt_log writes from here on goes to the file. */
    lt_log_configure(LT_LOG_DEBUG, false);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    close(fd);

    /* A list: the dead server first, then the live one, both with the credentials. */
    snprintf(list, sizeof(list),
             "nats://" USER ":" PW "@127.0.0.1:%d,nats://" USER ":" PW "@127.0.0.1:%d", dead,
             lt_natsrv_port(srv));
    cfg.url = list;
    ck_assert_msg(lt_conn_connect(&nc, &cfg, &ev) == LT_OK, "connect: %s", lt_error_message());
    ck_assert_int_eq(natsConnection_SubscribeSync(&sub, nc, "secret.test"), NATS_OK);
    ck_assert_int_eq(natsConnection_PublishString(nc, "secret.test", "hi"), NATS_OK);
    ck_assert_int_eq(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK);
    natsMsg_Destroy(m);
    /* The server restarts on its port: disconnected, then reconnected with the password. */
    ck_assert_int_eq(lt_natsrv_down(srv, true), LT_OK);
    ck_assert_int_eq(lt_test_wait_until(lt_test_was_down, &events, 10000), LT_OK);
    ck_assert_int_eq(lt_natsrv_up(srv), LT_OK);
    ck_assert_int_eq(lt_test_wait_until(lt_test_was_up, &events, 20000), LT_OK);
    ck_assert_int_eq(natsConnection_PublishString(nc, "secret.test", "back"), NATS_OK);
    ck_assert_int_eq(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    nc = NULL;

    /* A wrong password: refused, and the reason does not repeat it. */
    snprintf(bad, sizeof(bad), "nats://" USER ":" WRONG "@127.0.0.1:%d", lt_natsrv_port(srv));
    cfg.url = bad;
    ck_assert_int_ne(lt_conn_connect(&nc, &cfg, NULL), LT_OK);
    assert_clean_error(port);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), "***@127.0.0.1"));

    /* Nobody answers, for 1.5 s of retries: the warning and the error name the URL redacted. */
    snprintf(dead_url, sizeof(dead_url), "nats://" USER ":" PW "@127.0.0.1:%d", dead);
    cfg.url = dead_url;
    cfg.connect_wait_ms = 1500;
    ck_assert_int_eq(lt_conn_connect(&nc, &cfg, NULL), LT_ERR_TRANSPORT);
    assert_clean_error("***@127.0.0.1");

    fflush(stderr);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    ck_assert_int_eq(lt_test_read_file(logpath, 1u << 20, &text, NULL), LT_OK);
    /* The capture worked: the reconnect and the wait were logged, the URL redacted... */
    ck_assert_msg(strstr(text, "disconnected from NATS") != NULL &&
                      strstr(text, "reconnected to NATS") != NULL,
                  "log: %.2000s", text);
    ck_assert_msg(strstr(text, "no NATS server answers at nats://***@127.0.0.1:") != NULL,
                  "log: %.2000s", text);
    /* ...and no password ever. */
    ck_assert_msg(strstr(text, PW) == NULL, "the password is in the log: %.2000s", text);
    ck_assert_msg(strstr(text, WRONG) == NULL, "the wrong password is in the log: %.2000s", text);
    lt_free(text);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    LT_IGNORE(lt_test_rmtree(dir));
    lt_free(dir);
}
END_TEST

int main(void)
{
    int rc;
    Suite *s = suite_create("conn_secret");

    lt_test_tcase(s, "conn_secret", 90,
                  (const TTest *const[]){ test_conn_password_never_shown, NULL });
    rc = lt_test_run_suite(s);
    nats_Close();
    return rc;
}
