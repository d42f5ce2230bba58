/*
 * test_natcluster.c - the 3-node JetStream cluster helper (lt_natcluster.h):
 * an R3 KV bucket is created through the URL list; the node leading its stream
 * is killed with SIGKILL, the bucket stays readable and writable (after the
 * leader election) through the others; the node comes back on the same store
 * and the cluster, then all PIDs are gone at stop.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "lt_natcluster.h"
#include "lt_testutil.h"

static natsStatus put_retry(kvStore *kv, const char *key, const char *val, int64_t timeout_ms)
{
    int64_t deadline = lt_test_now_ms() + timeout_ms;
    natsStatus s;

    do {
        uint64_t rev = 0;

        s = kvStore_PutString(&rev, kv, key, val);
        if (s == NATS_OK)
            return s;
        lt_test_sleep_ms(200);
    } while (lt_test_now_ms() < deadline);
    return s;
}

START_TEST(test_cluster_loses_and_regains_a_node)
{
    lt_natcluster *c = NULL;
    natsConnection *nc = NULL;
    natsOptions *o = NULL;
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvConfig kc;
    kvEntry *e = NULL;
    pid_t pids[LT_NATCLUSTER_NODES];
    int leader = -1, i;
    char *urls;

    ck_assert_int_eq(lt_natcluster_start(&c), LT_OK);
    urls = strdup(lt_natcluster_urls(c));
    ck_assert_ptr_nonnull(strchr(strchr(urls, ',') + 1, ','));
    for (i = 0; i < LT_NATCLUSTER_NODES; i++) {
        pids[i] = lt_natsrv_pid(lt_natcluster_node(c, i));
        ck_assert_int_gt(pids[i], 0);
    }
    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    {
        const char *servers[LT_NATCLUSTER_NODES];

        for (i = 0; i < LT_NATCLUSTER_NODES; i++)
            servers[i] = lt_natsrv_url(lt_natcluster_node(c, i));
        ck_assert_int_eq(natsOptions_SetServers(o, servers, LT_NATCLUSTER_NODES), NATS_OK);
    }
    natsOptions_SetMaxReconnect(o, -1);
    natsOptions_SetReconnectWait(o, 100);
    ck_assert_int_eq(natsConnection_Connect(&nc, o), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    kvConfig_Init(&kc);
    kc.Bucket = "chaos";
    kc.Replicas = 3;
    ck_assert_int_eq(js_CreateKeyValue(&kv, js, &kc), NATS_OK);
    ck_assert_int_eq(put_retry(kv, "k", "v1", 10000), NATS_OK);
    ck_assert_int_eq(lt_natcluster_stream_leader(c, "KV_chaos", &leader), LT_OK);
    ck_assert_int_ge(leader, 0);

    ck_assert_int_eq(lt_natcluster_down(c, leader, true), LT_OK);
    ck_assert_int_eq(lt_natsrv_pid(lt_natcluster_node(c, leader)), 0);
    ck_assert_int_eq(put_retry(kv, "k", "v2", 30000), NATS_OK);
    ck_assert_int_eq(kvStore_Get(&e, kv, "k"), NATS_OK);
    ck_assert_str_eq(kvEntry_ValueString(e), "v2");
    kvEntry_Destroy(e);

    ck_assert_int_eq(lt_natcluster_up(c, leader), LT_OK);
    ck_assert_int_gt(lt_natsrv_pid(lt_natcluster_node(c, leader)), 0);
    ck_assert_int_eq(put_retry(kv, "k", "v3", 30000), NATS_OK);

    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    for (i = 0; i < LT_NATCLUSTER_NODES; i++)
        pids[i] = lt_natsrv_pid(lt_natcluster_node(c, i));
    ck_assert_int_eq(lt_natcluster_stop(c), LT_OK);
    for (i = 0; i < LT_NATCLUSTER_NODES; i++)
        ck_assert(kill(pids[i], 0) != 0 && errno == ESRCH);
    free(urls);
}
END_TEST

int main(void)
{
    int rc;
    Suite *su = suite_create("chaos_natcluster");

    lt_test_tcase(su, "cluster", 150,
                  (const TTest *const[]){ test_cluster_loses_and_regains_a_node, NULL });
    rc = lt_test_run_suite(su);
    nats_Close();
    return rc;
}
