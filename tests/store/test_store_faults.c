/*
 * test_store_faults.c - lt_store_update when the store's replies are lost,
 * against a real nats-server, with the fault shim preloaded into the writing
 * process (store_probe) only. Checked after each write, from a clean client:
 * every version the index names has a readable manifest, and what the writer
 * was told matches what the store holds.
 *   - reply of the index write lost, write applied -> success (read back);
 *   - index write unanswered and not applied -> sent again: success;
 *   - index write refused (no responders) -> error, and the new manifest key is removed;
 *   - reply lost, the reads fail: the same write sent again is answered as a
 *     duplicate (Nats-Msg-Id) -> success, no read needed;
 *   - outcome undecidable (every answer lost, reads fail) -> ERR_AMBIGUOUS, the
 *     new manifest is kept (the index names it);
 *   - same for a version delete: the removed manifest is deleted only once
 *     the index write is known to be applied.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "lt_alloc.h"
#include "lt_natsrv.h"
#include "lt_shimctl.h"
#include "lt_store.h"
#include "lt_testutil.h"

#define L "lat"
#define APP "app1"
#define INDEX_WRITE "js_PublishMsg:subj=$KV.latticed_manifests.app.*:mode=lost_reply:count=1"
/* every send of the index write applied and its answer lost: the sends again cannot tell */
#define INDEX_WRITES "js_PublishMsg:subj=$KV.latticed_manifests.app.*:mode=lost_reply"
#define INDEX_READS "js_GetLastMsg:subj=$KV.latticed_manifests.app.*:mode=fail:skip=1"

static lt_natsrv *srv;
static natsConnection *nc;
static jsCtx *js;
static lt_store *store;

static void setup(void)
{
    lt_store_config cfg = { .memory = true };

    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, lt_natsrv_url(srv)), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    ck_assert_int_eq(lt_store_ensure_assets(js, &cfg), LT_OK);
    cfg.nc = nc;
    ck_assert_int_eq(lt_store_open(&store, js, &cfg), LT_OK);
}

static void teardown(void)
{
    lt_store_close(store);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    store = NULL;
    srv = NULL;
}

/* Run store_probe (with the shim when rules is not NULL); its output line (lt_free). */
static char *probe(const char *rules, const char *op, const char *version)
{
    char json[256];
    const char *argv[] = {
        getenv("LT_STORE_PROBE"), lt_natsrv_url(srv), op, L, APP, version, json, NULL
    };
    lt_shim_env env;
    lt_test_cmd cmd = { 0 };
    lt_test_cmd_result res;
    char *out;

    snprintf(json, sizeof(json), "{\"name\":\"%s\",\"version\":\"%s\"}", APP, version);
    lt_shim_env_init(&env, rules, NULL);
    cmd.argv = argv;
    cmd.env = rules ? env.env : NULL;
    cmd.timeout_ms = 60000;
    ck_assert_int_eq(lt_test_run(&cmd, &res), LT_OK);
    if (res.exit_code != 0)
        fprintf(stderr, "store_probe: %s\n", res.err);
    ck_assert_int_eq(res.exit_code, 0);
    out = res.out;
    res.out = NULL;
    lt_test_cmd_result_cleanup(&res);
    return out;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Every version the index names is readable; returns the number of versions. */
static size_t check_readable(const char *deployed)
{
    lt_store_app *app = NULL;
    size_t n;

    ck_assert_int_eq(lt_store_app_get(store, L, APP, &app), LT_OK);
    for (size_t i = 0; i < app->version_count; i++) {
        char *json = NULL;

        ck_assert_msg(lt_store_manifest_get(store, app, app->versions[i].version, &json, NULL) ==
                          LT_OK,
                      "version %s is named by the index but unreadable", app->versions[i].version);
        ck_assert_ptr_nonnull(strstr(json, app->versions[i].version));
        lt_free(json);
    }
    if (deployed != NULL)
        ck_assert_str_eq(app->deployed_version, deployed);
    n = app->version_count;
    lt_store_app_free(app);
    return n;
}

/* Live manifest keys of the app (a raw scan: garbage counts too). */
static int manifest_keys(void)
{
    kvStore *kv = NULL;
    kvWatcher *w = NULL;
    kvWatchOptions wo;
    int n = 0;

    ck_assert_int_eq(js_KeyValue(&kv, js, LT_STORE_MANIFEST_BUCKET), NATS_OK);
    kvWatchOptions_Init(&wo);
    wo.IgnoreDeletes = true;
    ck_assert_int_eq(kvStore_Watch(&w, kv, "manifest." L "." APP ".*", &wo), NATS_OK);
    for (;;) {
        kvEntry *e = NULL;

        ck_assert_int_eq(kvWatcher_Next(&e, w, 5000), NATS_OK);
        if (e == NULL)
            break;
        n++;
        kvEntry_Destroy(e);
    }
    kvWatcher_Destroy(w);
    kvStore_Destroy(kv);
    return n;
}

static void put_v1(void)
{
    char *out = probe(NULL, "put", "v1");

    ck_assert_msg(starts(out, "OK"), "%s", out);
    lt_free(out);
}

/* The reply is lost and the key cannot be read back: the same write again is deduplicated by
 * JetStream (its Nats-Msg-Id is the first one's), and that answer says it was applied. */
START_TEST(lost_reply_sent_again_is_a_duplicate)
{
    char *out;

    put_v1();
    out = probe(INDEX_WRITE ";" INDEX_READS, "put", "v2");
    ck_assert_msg(starts(out, "OK"), "%s", out);
    lt_free(out);
    ck_assert_uint_eq(check_readable("v2"), 2);
    ck_assert_int_eq(manifest_keys(), 2);
}
END_TEST

START_TEST(lost_reply_applied_is_success)
{
    char *out;

    put_v1();
    out = probe(INDEX_WRITE, "put", "v2");
    ck_assert_msg(starts(out, "OK"), "lost reply of an applied write: %s", out);
    lt_free(out);
    ck_assert_uint_eq(check_readable("v2"), 2);
    ck_assert_int_eq(manifest_keys(), 2);
}
END_TEST

/* No answer, and the write never landed: the same write is sent again (a read-back could not
 * tell "not applied" from "not applied yet" in a cluster) and lands. */
START_TEST(unanswered_write_is_sent_again)
{
    char *out;

    put_v1();
    out = probe("js_PublishMsg:subj=$KV.latticed_manifests.app.*:mode=fail:count=1", "put", "v2");
    ck_assert_msg(starts(out, "OK"), "%s", out);
    lt_free(out);
    ck_assert_uint_eq(check_readable("v2"), 2);
    ck_assert_int_eq(manifest_keys(), 2);
}
END_TEST

/* A write JetStream refuses outright did not land: an error, and the new manifest goes. */
START_TEST(refused_write_is_error_and_cleans_up)
{
    char *out;

    put_v1();
    out = probe("js_PublishMsg:subj=$KV.latticed_manifests.app.*:mode=fail:err=noresp:count=1",
                "put", "v2");
    ck_assert_msg(starts(out, "ERR_") && !starts(out, "ERR_AMBIGUOUS"), "%s", out);
    lt_free(out);
    ck_assert_uint_eq(check_readable("v1"), 1);
    ck_assert_int_eq(manifest_keys(), 1); /* v2's manifest removed: nothing names it */
}
END_TEST

START_TEST(undecidable_keeps_manifest)
{
    char *out;

    put_v1();
    out = probe(INDEX_WRITES ";" INDEX_READS, "put", "v2");
    ck_assert_msg(starts(out, "ERR_AMBIGUOUS") && strstr(out, "unknown") != NULL, "%s", out);
    lt_free(out);
    ck_assert_uint_eq(check_readable("v2"), 2); /* it was applied: v2 must be readable */
}
END_TEST

START_TEST(delete_waits_for_a_definite_outcome)
{
    char *out;

    put_v1();
    out = probe(NULL, "put", "v2");
    lt_free(out);
    out = probe(INDEX_WRITES ";" INDEX_READS, "delete", "v1");
    ck_assert_msg(starts(out, "ERR_AMBIGUOUS"), "%s", out);
    lt_free(out);
    ck_assert_uint_eq(check_readable("v2"), 1);
    ck_assert_int_eq(manifest_keys(), 2); /* v1's kept: the writer could not know */
    out = probe(INDEX_WRITE, "delete", "v2");
    ck_assert_msg(starts(out, "OK"), "%s", out);
    lt_free(out);
    ck_assert_int_eq(manifest_keys(), 1); /* applied: v2's manifest deleted */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_faults");
    TCase *tc;

    if (getenv("LT_STORE_PROBE") == NULL) {
        fprintf(stderr, "LT_STORE_PROBE is not set (meson test sets it)\n");
        return EXIT_FAILURE;
    }
    tc = lt_test_tcase(s, "lost replies", 120,
                       (const TTest *const[]){
                           lost_reply_applied_is_success, lost_reply_sent_again_is_a_duplicate,
                           unanswered_write_is_sent_again, refused_write_is_error_and_cleans_up,
                           undecidable_keeps_manifest, delete_waits_for_a_definite_outcome, NULL });
    tcase_add_checked_fixture(tc, setup, teardown);
    return lt_test_run_suite(s);
}
