/*
 * test_conn.c - lt_conn against real nats-servers: comma-separated URL lists
 * become a server list (a dead first server and two live ones both connect),
 * list validation and redaction, the PING interval that notices a frozen
 * server (SIGSTOP) in seconds, and the reconnect buffer that latticed turns
 * off (a publish while reconnecting fails instead of being replayed later); retiring a
 * subscription: destroyed after a flush while connected, parked without waiting while the
 * server is down and freed by a flush once it is back, parked once the connection is closed and
 * freed by lt_conn_parked_free.
 */
#include <check.h>
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_conn.h"
#include "lt_natsrv.h"
#include "lt_testutil.h"

/* ---- splitting and redaction ------------------------------------------------------------- */

START_TEST(test_conn_split_urls)
{
    char buf[512];
    const char *urls[4];
    size_t n = 9;

    ck_assert_int_eq(lt_conn_split_urls(" nats://127.0.0.1:1 , tls://h:2,h3:4222 ", buf,
                                        sizeof(buf), urls, 4, &n),
                     LT_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(urls[0], "nats://127.0.0.1:1");
    ck_assert_str_eq(urls[1], "tls://h:2");
    ck_assert_str_eq(urls[2], "h3:4222");
    ck_assert_int_eq(lt_conn_split_urls("nats://u:p@a:1,nats://a:1,nats://a:1", buf, sizeof(buf),
                                        urls, 4, &n),
                     LT_OK);
    ck_assert_uint_eq(n, 2); /* the repeated URL is kept once */
    ck_assert_int_eq(lt_conn_split_urls("nats://[::1]:4222", buf, sizeof(buf), urls, 4, &n), LT_OK);
    ck_assert_int_eq(lt_conn_split_urls("nats://a:1,,nats://b:2", buf, sizeof(buf), urls, 4, &n),
                     LT_ERR_INVALID);
    ck_assert_int_eq(lt_conn_split_urls("nats://a:1,", buf, sizeof(buf), urls, 4, &n),
                     LT_ERR_INVALID);
    ck_assert_int_eq(lt_conn_split_urls("nats://a b:1", buf, sizeof(buf), urls, 4, &n),
                     LT_ERR_INVALID);
    ck_assert_int_eq(lt_conn_split_urls("http://a:1", buf, sizeof(buf), urls, 4, &n),
                     LT_ERR_INVALID);
    ck_assert_int_eq(lt_conn_split_urls("nats://a:0", buf, sizeof(buf), urls, 4, &n),
                     LT_ERR_INVALID);
    ck_assert_int_eq(lt_conn_split_urls("nats://a:99999", buf, sizeof(buf), urls, 4, &n),
                     LT_ERR_INVALID);
    ck_assert_int_eq(lt_conn_split_urls("nats://", buf, sizeof(buf), urls, 4, &n), LT_ERR_INVALID);
    ck_assert_int_eq(lt_conn_split_urls("a:1,b:1,c:1,d:1,e:1", buf, sizeof(buf), urls, 4, &n),
                     LT_ERR_INVALID);
    ck_assert_int_eq(lt_conn_split_urls("nats://a:1", buf, 5, urls, 4, &n), LT_ERR_INVALID);
    /* The reason never shows a password. */
    ck_assert_int_eq(lt_conn_split_urls("nats://u:secret@a:x", buf, sizeof(buf), urls, 4, &n),
                     LT_ERR_INVALID);
    ck_assert_ptr_null(strstr(lt_error_message(), "secret"));
}
END_TEST

START_TEST(test_conn_redact_list)
{
    char out[256];

    lt_conn_redact_url("nats://u:pw@a:1,nats://b:2,tls://x@c:3", out, sizeof(out));
    ck_assert_str_eq(out, "nats://***@a:1,nats://b:2,tls://***@c:3");
    lt_conn_redact_url("nats://u:p@ss@a:1", out, sizeof(out));
    ck_assert_str_eq(out, "nats://***@a:1");
    lt_conn_redact_url(NULL, out, sizeof(out));
    ck_assert_str_eq(out, LT_CONN_DEFAULT_URL);
    lt_conn_redact_url("nats://u:pw@a:1,nats://b:2", out, 12);
    ck_assert_ptr_null(strstr(out, "pw"));
}
END_TEST

/* ---- connecting to lists ----------------------------------------------------------------- */

/* Connect with cfg and check a message goes round through the connection. */
static void assert_round_trip(const char *list, lt_conn_config cfg)
{
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;

    cfg.url = list;
    ck_assert_msg(lt_conn_connect(&nc, &cfg, NULL) == LT_OK, "connect %s: %s", list,
                  lt_error_message());
    ck_assert_int_eq(natsConnection_SubscribeSync(&sub, nc, "conn.test"), NATS_OK);
    ck_assert_int_eq(natsConnection_PublishString(nc, "conn.test", "hi"), NATS_OK);
    ck_assert_int_eq(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
}

START_TEST(test_conn_url_lists)
{
    lt_natsrv *a = NULL, *b = NULL;
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_conn_config cli = { .timeout_ms = 2000, .no_reconnect = true };
    lt_conn_config daemon = { .timeout_ms = 2000, .no_reconnect_buffer = true };
    char list[256];
    int dead;
    int i;

    ck_assert_int_eq(lt_natsrv_start(&a, &o), LT_OK);
    ck_assert_int_eq(lt_natsrv_start(&b, &o), LT_OK);
    ck_assert_int_eq(lt_natsrv_free_port(&dead), LT_OK);
    /* The first server is down (nothing listens on its port), the second is up. nats.c
     * shuffles the list, so try a few times to meet both orders. */
    snprintf(list, sizeof(list), "nats://127.0.0.1:%d,%s", dead, lt_natsrv_url(a));
    for (i = 0; i < 4; i++) {
        assert_round_trip(list, cli);
        assert_round_trip(list, daemon);
    }
    /* Two live servers, with blanks after the comma. */
    snprintf(list, sizeof(list), "%s, %s", lt_natsrv_url(a), lt_natsrv_url(b));
    assert_round_trip(list, cli);
    assert_round_trip(list, daemon);
    /* Nothing up: a clear failure naming the list. */
    snprintf(list, sizeof(list), "nats://127.0.0.1:%d", dead);
    {
        natsConnection *nc = NULL;

        cli.url = list;
        ck_assert_int_eq(lt_conn_connect(&nc, &cli, NULL), LT_ERR_TRANSPORT);
        ck_assert_ptr_nonnull(strstr(lt_error_message(), list));
    }
    ck_assert_int_eq(lt_natsrv_stop(a), LT_OK);
    ck_assert_int_eq(lt_natsrv_stop(b), LT_OK);
}
END_TEST

/* ---- a frozen server is noticed by PINGs ------------------------------------------------- */

static lt_test_conn_count events;

START_TEST(test_conn_ping_notices_frozen_server)
{
    lt_natsrv *srv = NULL;
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_conn_events ev = { .disconnected = lt_test_count_down,
                          .reconnected = lt_test_count_up,
                          .arg = &events };
    lt_conn_config cfg = { .timeout_ms = 1000, .ping_ms = 300, .no_reconnect_buffer = true };
    natsConnection *nc = NULL;
    int64_t t0;

    lt_test_conn_count_init(&events);
    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    cfg.url = lt_natsrv_url(srv);
    ck_assert_int_eq(lt_conn_connect(&nc, &cfg, &ev), LT_OK);
    /* A frozen server keeps the TCP connection open: only PINGs can tell. */
    ck_assert_int_eq(lt_natsrv_pause(srv), LT_OK);
    t0 = lt_test_now_ms();
    ck_assert_int_eq(lt_test_wait_until(lt_test_was_down, &events, 8000), LT_OK);
    fprintf(stderr, "frozen server noticed after %lld ms\n", (long long)(lt_test_now_ms() - t0));
    /* While reconnecting, publishes fail at once: nothing is queued to be replayed later. */
    ck_assert_int_ne(natsConnection_PublishString(nc, "conn.test", "late"), NATS_OK);
    ck_assert_int_eq(lt_natsrv_resume(srv), LT_OK);
    ck_assert_int_eq(lt_test_wait_until(lt_test_was_up, &events, 15000), LT_OK);
    ck_assert_int_eq(natsConnection_PublishString(nc, "conn.test", "back"), NATS_OK);
    natsConnection_Destroy(nc);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

/* ---- the reconnect buffer ----------------------------------------------------------------- */

/* Publish while the server is down, bring it back, count what a fresh subscriber gets. */
static int replayed_after_outage(bool no_buffer)
{
    lt_natsrv *srv = NULL;
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_conn_events ev = { .disconnected = lt_test_count_down,
                          .reconnected = lt_test_count_up,
                          .arg = &events };
    lt_conn_config cfg = { .timeout_ms = 1000, .no_reconnect_buffer = no_buffer };
    natsConnection *nc = NULL, *obs = NULL;
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;
    int got = 0, i;

    lt_test_conn_count_init(&events);
    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    cfg.url = lt_natsrv_url(srv);
    ck_assert_int_eq(lt_conn_connect(&nc, &cfg, &ev), LT_OK);
    ck_assert_int_eq(lt_natsrv_down(srv, true), LT_OK);
    ck_assert_int_eq(lt_test_wait_until(lt_test_was_down, &events, 10000), LT_OK);
    for (i = 0; i < 3; i++) {
        natsStatus s = natsConnection_PublishString(nc, "conn.cmd", "queued?");

        ck_assert_int_eq(s, no_buffer ? NATS_INSUFFICIENT_BUFFER : NATS_OK);
    }
    ck_assert_int_eq(lt_natsrv_up(srv), LT_OK);
    /* The observer subscribes before our connection is back (reconnect wait >= 1 s). */
    ck_assert_int_eq(natsConnection_ConnectTo(&obs, lt_natsrv_url(srv)), NATS_OK);
    ck_assert_int_eq(natsConnection_SubscribeSync(&sub, obs, "conn.>"), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(obs), NATS_OK);
    ck_assert_int_eq(lt_test_wait_until(lt_test_was_up, &events, 15000), LT_OK);
    ck_assert_int_eq(natsConnection_PublishString(nc, "conn.mark", "after"), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
    while (natsSubscription_NextMsg(&m, sub, 5000) == NATS_OK) {
        bool mark = strcmp(natsMsg_GetSubject(m), "conn.mark") == 0;

        natsMsg_Destroy(m);
        if (mark)
            break;
        got++;
    }
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(obs);
    natsConnection_Destroy(nc);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    return got;
}

START_TEST(test_conn_no_reconnect_buffer)
{
    ck_assert_int_eq(replayed_after_outage(false), 3); /* the default: replayed */
    ck_assert_int_eq(replayed_after_outage(true), 0);  /* latticed's: never sent */
}
END_TEST

/* ---- retiring subscriptions ---------------------------------------------------------------- */

static void on_any(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    (void)closure;
    natsMsg_Destroy(msg);
}

START_TEST(test_conn_sub_free_settles_or_parks)
{
    lt_natsrv *srv = NULL;
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_conn_events ev = { .disconnected = lt_test_count_down,
                          .reconnected = lt_test_count_up,
                          .arg = &events };
    lt_conn_config cfg = { .timeout_ms = 1000 };
    natsConnection *nc = NULL;
    natsSubscription *a = NULL, *b = NULL, *c = NULL;
    int64_t t0;

    lt_test_conn_count_init(&events);
    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    cfg.url = lt_natsrv_url(srv);
    ck_assert_int_eq(lt_conn_connect(&nc, &cfg, &ev), LT_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&a, nc, "retire.a", on_any, NULL), NATS_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&b, nc, "retire.b", on_any, NULL), NATS_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&c, nc, "retire.c", on_any, NULL), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
    /* Connected: flushed, then destroyed at once (a leak under the sanitizers otherwise). */
    lt_conn_sub_free(nc, a, LT_CONN_SETTLE_MS);
    ck_assert_uint_eq(lt_conn_parked_count(), 0);
    /* Down: no flush can be had; parked, without waiting for one. */
    ck_assert_int_eq(lt_natsrv_down(srv, true), LT_OK);
    ck_assert_int_eq(lt_test_wait_until(lt_test_was_down, &events, 10000), LT_OK);
    t0 = lt_test_now_ms();
    lt_conn_sub_free(nc, b, LT_CONN_SETTLE_MS);
    ck_assert_int_lt(lt_test_now_ms() - t0, LT_CONN_SETTLE_MS);
    ck_assert_uint_eq(lt_conn_parked_count(), 1);
    /* Back: a flush answered frees what the outage parked. */
    ck_assert_int_eq(lt_natsrv_up(srv), LT_OK);
    ck_assert_int_eq(lt_test_wait_until(lt_test_was_up, &events, 15000), LT_OK);
    lt_conn_parked_sweep(nc, LT_CONN_SETTLE_MS);
    ck_assert_uint_eq(lt_conn_parked_count(), 0);
    /* Closed is no proof (nats.c marks it closed before it joins the reader): parked, then freed
     * once natsConnection_Close has returned. */
    natsConnection_Close(nc);
    lt_conn_sub_free(nc, c, LT_CONN_SETTLE_MS);
    ck_assert_uint_eq(lt_conn_parked_count(), 1);
    lt_conn_parked_free();
    ck_assert_uint_eq(lt_conn_parked_count(), 0);
    natsConnection_Destroy(nc);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

static Suite *conn_suite(void)
{
    Suite *s = suite_create("conn");

    lt_test_tcase(s, "conn", 120,
                  (const TTest *const[]){ test_conn_split_urls, test_conn_redact_list,
                                          test_conn_url_lists, test_conn_ping_notices_frozen_server,
                                          test_conn_no_reconnect_buffer,
                                          test_conn_sub_free_settles_or_parks, NULL });
    return s;
}

int main(void)
{
    int rc = lt_test_run_suite(conn_suite());

    nats_Close();
    return rc;
}
