/*
 * test_e2e_timeout.c - the API answers write requests within --api-timeout-ms
 * however long JetStream stays silent (issue 11: "a put during an outage has no
 * overall deadline"). Real processes: a 3-node nats-server cluster, latticed
 * with R3 buckets, connected to node 0 only, and the API asked through node 0. Two
 * nodes are then frozen with SIGSTOP: core NATS on node 0 still carries the
 * requests, but no R3 write is ever answered (nor a read whose stream leader is
 * frozen), so each KV round trip waits its whole timeout and every lost reply is
 * sent again in vain (without the deadline a put took about two minutes). The
 * answers must come in time and say the outcome is unknown or that nothing was
 * changed; once the nodes resume, a version the index names can be read, and a
 * new put succeeds.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nats/nats.h>

#include "e2e.h"
#include "lt_natcluster.h"
#include "lt_testutil.h"

#define L "default"
#define APP "roll"
#define API_TIMEOUT_MS 2000
#define SLACK_MS 3000 /* scheduling on a loaded machine, sanitizers */

/* One API request on nc (node 0 only): the reply's JSON, NULL when none came within wait_ms;
 * *took_ms the time to the answer. */
static json_t *ask(natsConnection *nc, const char *op, const char *name, const char *body,
                   int64_t wait_ms, int64_t *took_ms)
{
    char subj[256];
    natsMsg *reply = NULL;
    json_t *j = NULL;
    int64_t t0 = e2e_now_ms();

    if (name != NULL)
        snprintf(subj, sizeof(subj), "wadm.api.%s.model.%s.%s", L, op, name);
    else
        snprintf(subj, sizeof(subj), "wadm.api.%s.model.%s", L, op);
    if (natsConnection_Request(&reply, nc, subj, body, (int)strlen(body), wait_ms) == NATS_OK)
        j = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    if (took_ms != NULL)
        *took_ms = e2e_now_ms() - t0;
    natsMsg_Destroy(reply);
    return j;
}

static char *manifest(const char *file)
{
    char *data = NULL;
    size_t len = 0;

    ck_assert_int_eq(lt_test_read_file(e2e_manifest(file), 1u << 20, &data, &len), LT_OK);
    return data;
}

static const char *result_of(const json_t *j)
{
    const char *r = json_string_value(json_object_get(j, "result"));

    return r != NULL ? r : "";
}

static const char *message_of(const json_t *j)
{
    const char *m = json_string_value(json_object_get(j, "message"));

    return m != NULL ? m : "";
}

/* An error that says what became of the change: its outcome is unknown (a write went out
 * unanswered), or nothing was changed (the deadline passed on a read, before any write; which
 * of the two depends on where the streams' leaders are and whether this replica's view already
 * decides the change). */
static bool says_unknown_or_unchanged(const json_t *j)
{
    return strstr(message_of(j), "unknown") != NULL ||
           strstr(message_of(j), "nothing was changed") != NULL;
}

/* Put file until the API stores it (latticed may still be starting, or the cluster electing
 * leaders again): false after timeout_ms. */
static bool put_until_stored(natsConnection *nc, const char *file, int64_t timeout_ms)
{
    char *body = manifest(file);
    int64_t deadline = e2e_now_ms() + timeout_ms;
    bool ok = false;

    while (!ok && e2e_now_ms() < deadline) {
        json_t *j = ask(nc, "put", NULL, body, 10000, NULL);
        const char *r = result_of(j);

        ok = strcmp(r, "created") == 0 || strcmp(r, "newversion") == 0;
        json_decref(j);
        if (!ok)
            e2e_sleep_ms(300);
    }
    free(body);
    return ok;
}

static void set_frozen(e2e *e, bool frozen)
{
    for (int i = 1; i < LT_NATCLUSTER_NODES; i++)
        ck_assert_int_eq(kill(lt_natsrv_pid(lt_natcluster_node(e2e_cluster(e), i)),
                              frozen ? SIGSTOP : SIGCONT),
                         0);
}

/* Every version `versions` lists can be read back (an index never names a missing manifest). */
static void versions_readable(natsConnection *nc)
{
    json_t *j = ask(nc, "versions", APP, "", 10000, NULL);
    json_t *vs = json_object_get(j, "versions"), *v;
    size_t i;

    ck_assert_msg(json_is_array(vs), "versions: %s", message_of(j));
    json_array_foreach (vs, i, v) {
        const char *ver = json_string_value(json_object_get(v, "version"));
        char body[128];
        json_t *g;

        ck_assert_ptr_nonnull(ver);
        snprintf(body, sizeof(body), "{\"version\":\"%s\"}", ver);
        g = ask(nc, "get", APP, body, 10000, NULL);
        ck_assert_msg(strcmp(result_of(g), "success") == 0, "get %s: %s", ver, message_of(g));
        json_decref(g);
    }
    json_decref(j);
}

START_TEST(writes_answer_within_the_api_timeout)
{
    e2e *e = e2e_new_cluster();
    const char *node0 = lt_natsrv_url(lt_natcluster_node(e2e_cluster(e), 0));
    const char *extra[] = { "--replicas", "3", "--api-timeout-ms", "2000", NULL };
    natsConnection *nc = NULL;
    char *body;
    int64_t took = 0;
    json_t *j;

    ck_assert_int_eq(natsConnection_ConnectTo(&nc, node0), NATS_OK);
    e2e_latticed_at(e, node0, extra);
    ck_assert_msg(put_until_stored(nc, "roll-v1.yaml", 60000), "v1 was never stored");

    set_frozen(e, true);
    body = manifest("roll-v2.yaml");
    j = ask(nc, "put", NULL, body, 60000, &took);
    free(body);
    E2E_EXPECT(e, j != NULL, "no answer to the put in 60 s");
    E2E_EXPECT(e, took <= API_TIMEOUT_MS + SLACK_MS, "the put answered after %lld ms",
               (long long)took);
    printf("put while JetStream is silent: %lld ms: %s %s\n", (long long)took, result_of(j),
           message_of(j));
    E2E_EXPECT(e, strcmp(result_of(j), "error") == 0 && says_unknown_or_unchanged(j),
               "put while JetStream is silent: %s %s", result_of(j), message_of(j));
    json_decref(j);

    j = ask(nc, "deploy", APP, "{\"version\":\"v1\"}", 60000, &took);
    E2E_EXPECT(e, j != NULL, "no answer to the deploy in 60 s");
    E2E_EXPECT(e, took <= API_TIMEOUT_MS + SLACK_MS, "the deploy answered after %lld ms",
               (long long)took);
    printf("deploy while JetStream is silent: %lld ms: %s %s\n", (long long)took, result_of(j),
           message_of(j));
    E2E_EXPECT(e, strcmp(result_of(j), "error") == 0 && says_unknown_or_unchanged(j),
               "deploy while JetStream is silent: %s %s", result_of(j), message_of(j));
    json_decref(j);

    set_frozen(e, false);
    E2E_EXPECT(e, put_until_stored(nc, "roll-v3.yaml", 60000),
               "no put succeeded after the nodes resumed");
    versions_readable(nc);
    natsConnection_Destroy(nc);
    e2e_free(e);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = { writes_answer_within_the_api_timeout, NULL };

    return e2e_run_suite("e2e_timeout", 240, tests);
}
