/*
 * test_settings.c - settings enforced on existing assets, with a real
 * nats-server and real latticed processes: buckets created with file storage
 * refuse a latticed started with --storage memory (exit status non-zero, the
 * message names --storage and the migration), 3 replicas on a single server
 * are refused naming --replicas, and a history changed behind latticed's back
 * is put back. Each latticed runs to completion under lt_test_run.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "lt_natsrv.h"
#include "lt_testutil.h"

static lt_natsrv *srv;

static void setup(void)
{
    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
}

static void teardown(void)
{
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    srv = NULL;
}

/* Run latticed with extra args; when ready_then_stop, it must come up (then SIGKILL by the
 * timeout is avoided: it gets --help-like short life via a timeout) */
static void run_latticed(const char *const *extra, int64_t timeout_ms, lt_test_cmd_result *res)
{
    const char *argv[16];
    size_t n = 0;
    lt_test_cmd cmd = { 0 };

    argv[n++] = getenv("LATTICED_BIN");
    argv[n++] = "--nats-url";
    argv[n++] = lt_natsrv_url(srv);
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    cmd.argv = argv;
    cmd.timeout_ms = timeout_ms;
    ck_assert_int_eq(lt_test_run(&cmd, res), LT_OK);
}

/* Create the assets with file storage by running latticed once until it is ready. */
static void create_with_file_storage(void)
{
    lt_test_cmd_result res;

    run_latticed(NULL, 3000, &res); /* killed by the timeout once up */
    ck_assert_msg(strstr(res.err, "ready: NATS") != NULL, "%s", res.err);
    lt_test_cmd_result_cleanup(&res);
}

START_TEST(storage_mismatch_refused)
{
    const char *mem[] = { "--storage", "memory", NULL };
    lt_test_cmd_result res;

    create_with_file_storage();
    run_latticed(mem, 20000, &res);
    ck_assert_msg(!res.timed_out && res.exit_code != 0, "latticed started: %s", res.err);
    ck_assert_msg(strstr(res.err, "--storage memory") != NULL &&
                      strstr(res.err, "KV bucket latticed_manifests") != NULL &&
                      strstr(res.err, "nats stream rm KV_latticed_manifests") != NULL,
                  "message: %s", res.err);
    lt_test_cmd_result_cleanup(&res);
}
END_TEST

START_TEST(replicas_mismatch_refused_on_one_server)
{
    const char *r3[] = { "--replicas", "3", NULL };
    lt_test_cmd_result res;

    create_with_file_storage();
    run_latticed(r3, 20000, &res);
    ck_assert_msg(!res.timed_out && res.exit_code != 0, "latticed started: %s", res.err);
    ck_assert_msg(strstr(res.err, "--replicas 3") != NULL && strstr(res.err, "1 replica") != NULL &&
                      strstr(res.err, "nats stream edit") != NULL,
                  "message: %s", res.err);
    lt_test_cmd_result_cleanup(&res);
}
END_TEST

/* Every asset latticed uses is checked, the lease bucket too. */
START_TEST(lease_bucket_checked)
{
    const char *mem[] = { "--storage", "memory", NULL };
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvConfig kc;
    lt_test_cmd_result res;

    ck_assert_int_eq(natsConnection_ConnectTo(&nc, lt_natsrv_url(srv)), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    kvConfig_Init(&kc);
    kc.Bucket = "latticed_leases";
    kc.StorageType = js_FileStorage;
    ck_assert_int_eq(js_CreateKeyValue(&kv, js, &kc), NATS_OK);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    run_latticed(mem, 20000, &res);
    ck_assert_msg(!res.timed_out && res.exit_code != 0, "latticed started: %s", res.err);
    ck_assert_msg(strstr(res.err, "KV bucket latticed_leases") != NULL &&
                      strstr(res.err, "--storage memory") != NULL,
                  "message: %s", res.err);
    lt_test_cmd_result_cleanup(&res);
}
END_TEST

START_TEST(history_put_back)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL, *upd = NULL;
    jsStreamConfig sc;
    lt_test_cmd_result res;

    create_with_file_storage();
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, lt_natsrv_url(srv)), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    ck_assert_int_eq(js_GetStreamInfo(&si, js, "KV_latticed_status", NULL, NULL), NATS_OK);
    sc = *si->Config;
    sc.MaxMsgsPerSubject = 5;
    ck_assert_int_eq(js_UpdateStream(&upd, js, &sc, NULL, NULL), NATS_OK);
    jsStreamInfo_Destroy(upd);
    jsStreamInfo_Destroy(si);
    run_latticed(NULL, 3000, &res);
    ck_assert_msg(strstr(res.err, "ready: NATS") != NULL, "%s", res.err);
    lt_test_cmd_result_cleanup(&res);
    ck_assert_int_eq(js_GetStreamInfo(&si, js, "KV_latticed_status", NULL, NULL), NATS_OK);
    ck_assert_int_eq(si->Config->MaxMsgsPerSubject, 1);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("settings");
    TCase *tc;

    if (getenv("LATTICED_BIN") == NULL) {
        fprintf(stderr, "LATTICED_BIN is not set (meson test sets it)\n");
        return EXIT_FAILURE;
    }
    tc = lt_test_tcase(s, "existing assets", 120,
                       (const TTest *const[]){ storage_mismatch_refused,
                                               replicas_mismatch_refused_on_one_server,
                                               lease_bucket_checked, history_put_back, NULL });
    tcase_add_checked_fixture(tc, setup, teardown);
    return lt_test_run_suite(s);
}
