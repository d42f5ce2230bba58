/*
 * test_e2e_fence.c - leadership safety with real processes (nats-server,
 * latticed replicas, latticed-host simulators) and the project's own
 * manifests (tests/e2e/manifests/fence-*.yaml):
 *
 * - one forged message (an inventory request with epoch 2^64-1 sent straight
 *   to a host) must not freeze the lattice: the leader checks its lease,
 *   keeps leading, quarantines that host and converges on the others;
 * - a new leader asks the hosts for their inventory before acting: with hosts
 *   that heartbeat only every 8 s, a standby that never heard of them takes
 *   over after kill -9 of the leader and starts nothing twice; the link that
 *   v2 removed while nobody led is removed from the hosts.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "e2e.h"
#include "latticed/host/v1/command.pb-c.h"
#include "lt_config.h"

#define L "default"

static const char *manifest(const char *name)
{
    static char path[1024];

    snprintf(path, sizeof(path), "%s/tests/e2e/manifests/%s", LT_SOURCE_ROOT, name);
    return path;
}

static void deploy(e2e *e, const char *file)
{
    char *r = e2e_put_deploy(e, L, manifest(file));

    ck_assert_msg(strcmp(r, "acknowledged") == 0, "deploy %s: %s", file, r);
    free(r);
}

static bool hosts_up(e2e *e, void *arg)
{
    const size_t *want = arg;

    return e2e_host_count(e, L) == *want;
}

/* A raw request on our own connection; the reply's bytes (free) or NULL. */
static char *request(e2e *e, const char *subj, const void *data, size_t len, size_t *out_len)
{
    natsConnection *nc = NULL;
    natsMsg *m = NULL;
    char *out = NULL;

    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    if (natsConnection_Request(&m, nc, subj, data, (int)len, 5000) == NATS_OK) {
        *out_len = (size_t)natsMsg_GetDataLength(m);
        out = malloc(*out_len + 1);
        memcpy(out, natsMsg_GetData(m), *out_len);
        out[*out_len] = '\0';
    }
    natsMsg_Destroy(m);
    natsConnection_Destroy(nc);
    return out;
}

/* Send host_id a well-formed inventory request carrying `epoch`, as anyone on the bus could. */
static uint64_t forge_epoch(e2e *e, const char *host_id, uint64_t epoch)
{
    Latticed__Host__V1__InventoryRequest q = LATTICED__HOST__V1__INVENTORY_REQUEST__INIT;
    Latticed__Host__V1__InventoryReply *r;
    uint8_t buf[256];
    char subj[256], *rep;
    size_t len, rlen = 0;
    uint64_t newest;

    q.epoch = epoch;
    q.lattice = (char *)L;
    q.request_id = (char *)"forged-1";
    len = latticed__host__v1__inventory_request__pack(&q, buf);
    snprintf(subj, sizeof(subj), "lattice.%s.host.%s.inventory", L, host_id);
    rep = request(e, subj, buf, len, &rlen);
    ck_assert_msg(rep != NULL, "no answer from %s", host_id);
    r = latticed__host__v1__inventory_reply__unpack(NULL, rlen, (const uint8_t *)rep);
    ck_assert_ptr_nonnull(r);
    newest = r->newest_epoch;
    latticed__host__v1__inventory_reply__free_unpacked(r, NULL);
    free(rep);
    return newest;
}

/* The leader's `hosts` answer (free). */
static char *hosts_json(e2e *e)
{
    size_t len = 0;
    char subj[128];

    snprintf(subj, sizeof(subj), "lattice.%s.hosts", L);
    return request(e, subj, "", 0, &len);
}

typedef struct {
    const char *comp;
    size_t want;
    const char *host; /* NULL = all */
} count_arg;

static bool count_is(e2e *e, void *arg)
{
    count_arg *c = arg;

    return e2e_count(e, L, "fence", c->comp, NULL, c->host) == c->want;
}

START_TEST(test_forged_epoch_does_not_freeze_the_lattice)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--replica-id", "replica-a", NULL };
    size_t three = 3, on_bad;
    count_arg nine = { "api", 9, NULL };
    char *hosts, *msg = NULL, *word;

    e2e_observe(e, L);
    e2e_hosts(e, L, "q0", 1, NULL, NULL);
    e2e_hosts(e, L, "q1", 1, NULL, NULL);
    e2e_hosts(e, L, "q2", 1, NULL, NULL);
    e2e_latticed(e, ra);
    ck_assert(e2e_wait(e, hosts_up, &three, 20000));
    deploy(e, "fence-v1.yaml");
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 30000));
    on_bad = e2e_count(e, L, "fence", "api", NULL, "q1-00000");
    /* Anyone on the bus raises one host's epoch to the maximum. */
    ck_assert_uint_eq(forge_epoch(e, "q1-00000", UINT64_MAX), UINT64_MAX);
    /* Scaling up must still happen, on the other hosts. */
    deploy(e, "fence-v2.yaml");
    if (!e2e_wait(e, count_is, &nine, 30000) ||
        !e2e_wait_status(e, L, "fence", "deployed", 30000)) {
        word = e2e_status(e, L, "fence", &msg);
        e2e_dump_logs(e);
        ck_abort_msg("fence is %s (%s) with %zu api instances, want deployed with 9", word,
                     msg != NULL ? msg : "", e2e_count(e, L, "fence", "api", NULL, NULL));
    }
    ck_assert_uint_eq(e2e_count(e, L, "fence", "api", NULL, "q1-00000"), on_bad);
    hosts = hosts_json(e);
    ck_assert_ptr_nonnull(hosts);
    ck_assert_msg(strstr(hosts, "\"quarantined\"") != NULL, "hosts: %s", hosts);
    ck_assert_msg(strstr(hosts, "\"claimed_epoch\":18446744073709551615") != NULL, "hosts: %s",
                  hosts);
    free(hosts);
    e2e_free(e);
}
END_TEST

START_TEST(test_new_leader_asks_before_acting)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--replica-id", "replica-a", "--host-timeout-ms", "60000", NULL };
    const char *rb[] = { "--replica-id", "replica-b", "--host-timeout-ms", "60000", NULL };
    const char *slow[] = { "--heartbeat-interval", "8s", NULL };
    size_t starts, links;
    pid_t a;
    int64_t t0;

    e2e_observe(e, L);
    e2e_hosts(e, L, "s0", 1, NULL, slow);
    e2e_hosts(e, L, "s1", 1, NULL, slow);
    e2e_hosts(e, L, "s2", 1, NULL, slow);
    a = e2e_latticed(e, ra);
    deploy(e, "fence-v1.yaml");
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 40000));
    starts = e2e_starts_sent(e, L);
    ck_assert_uint_eq(starts, 7); /* 6 api + 1 kv, nothing twice */
    /* A standby that has heard no heartbeat yet; the leader dies; v2 drops the link. */
    e2e_latticed(e, rb);
    e2e_kill(e, a, SIGKILL, true);
    deploy(e, "fence-v2.yaml");
    t0 = e2e_now_ms();
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 40000));
    /* Long enough for every host to heartbeat again (8 s): a guessing leader would have
     * started what it did not see yet. */
    while (e2e_now_ms() - t0 < 10000)
        e2e_sleep_ms(250);
    ck_assert_uint_eq(e2e_starts_sent(e, L), starts + 3); /* just the 3 more api instances */
    links = e2e_links_with(e, L, "bucket=fence-b1");
    ck_assert_msg(links == 0, "%zu links of v1 still installed", links);
    e2e_free(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fence");
    TCase *t = tcase_create("leadership");
    SRunner *r;
    int failed;

    if (getenv("LATTICED_BIN") == NULL || getenv("LATTICED_HOST_BIN") == NULL) {
        printf("LATTICED_BIN and LATTICED_HOST_BIN must name the binaries\n");
        return 1;
    }
    tcase_set_timeout(t, 240);
    tcase_add_test(t, test_forged_epoch_does_not_freeze_the_lattice);
    tcase_add_test(t, test_new_leader_asks_before_acting);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
