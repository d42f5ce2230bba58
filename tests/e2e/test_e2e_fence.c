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
 *   v2 removed while nobody led is removed from the hosts;
 * - a leader whose lease KV calls stall (the fault shim delays them) stops
 *   sending commands within 3/4 of the lease ttl, and the standby takes over.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "e2e.h"
#include "latticed/host/v1/command.pb-c.h"
#include "lt_config.h"
#include "lt_nkey.h"
#include "lt_shimctl.h"
#include "lt_testutil.h"

#include <pthread.h>

#define L "default"

static bool hosts_up(e2e *e, void *arg)
{
    const size_t *want = arg;

    return e2e_host_count(e, L) == *want;
}

/* A raw request on our own connection; the reply's bytes (free) or NULL after timeout_ms. */
static char *request_within(e2e *e, const char *subj, const void *data, size_t len, size_t *out_len,
                            int timeout_ms)
{
    natsConnection *nc = NULL;
    natsMsg *m = NULL;
    char *out = NULL;

    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    if (natsConnection_Request(&m, nc, subj, data, (int)len, timeout_ms) == NATS_OK) {
        *out_len = (size_t)natsMsg_GetDataLength(m);
        out = malloc(*out_len + 1);
        memcpy(out, natsMsg_GetData(m), *out_len);
        out[*out_len] = '\0';
    }
    natsMsg_Destroy(m);
    natsConnection_Destroy(nc);
    return out;
}

static char *request(e2e *e, const char *subj, const void *data, size_t len, size_t *out_len)
{
    return request_within(e, subj, data, len, out_len, 5000);
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

START_TEST(test_forged_epoch_does_not_freeze_the_lattice)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--replica-id", "replica-a", NULL };
    size_t three = 3, on_bad;
    char *hosts, *msg = NULL, *word;

    e2e_observe(e, L);
    e2e_hosts(e, L, "q0", 1, NULL, NULL);
    e2e_hosts(e, L, "q1", 1, NULL, NULL);
    e2e_hosts(e, L, "q2", 1, NULL, NULL);
    e2e_latticed(e, ra);
    ck_assert(e2e_wait(e, hosts_up, &three, 20000));
    e2e_deploy_ok(e, L, "fence-v1.yaml");
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 30000));
    ck_assert(
        e2e_wait_count(e, L, "fence", "api", NULL, 6, 10000)); /* heartbeats may lag the status */
    on_bad = e2e_count(e, L, "fence", "api", NULL, "q1-00000");
    /* Anyone on the bus raises one host's epoch to the maximum. */
    ck_assert_uint_eq(forge_epoch(e, "q1-00000", UINT64_MAX), UINT64_MAX);
    /* Scaling up must still happen, on the other hosts. */
    e2e_deploy_ok(e, L, "fence-v2.yaml");
    if (!e2e_wait_count(e, L, "fence", "api", NULL, 9, 30000) ||
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

/* The lease value of L (free), or NULL. */
static char *lease_value(e2e *e)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvEntry *en = NULL;
    char *v = NULL;

    if (natsConnection_ConnectTo(&nc, e2e_url(e)) == NATS_OK &&
        natsConnection_JetStream(&js, nc, NULL) == NATS_OK &&
        js_KeyValue(&kv, js, "latticed_leases") == NATS_OK && kvStore_Get(&en, kv, L) == NATS_OK)
        v = strdup(kvEntry_ValueString(en));
    kvEntry_Destroy(en);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return v;
}

/* An epoch from a term we never saw (as after the lease bucket was lost): overtaken, not fatal. */
START_TEST(test_plausible_epoch_is_overtaken)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--replica-id", "replica-a", NULL };
    size_t three = 3;
    char *v, *hosts;

    e2e_observe(e, L);
    e2e_hosts(e, L, "p0", 1, NULL, NULL);
    e2e_hosts(e, L, "p1", 1, NULL, NULL);
    e2e_hosts(e, L, "p2", 1, NULL, NULL);
    e2e_latticed(e, ra);
    ck_assert(e2e_wait(e, hosts_up, &three, 20000));
    e2e_deploy_ok(e, L, "fence-v1.yaml");
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 30000));
    ck_assert_uint_eq(forge_epoch(e, "p1-00000", 5000), 5000);
    e2e_deploy_ok(e, L, "fence-v2.yaml");
    /* Converged, and the host that saw 5000 is usable again: our epoch went above it. */
    ck_assert(e2e_wait_count(e, L, "fence", "api", NULL, 9, 30000));
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 30000));
    hosts = hosts_json(e);
    ck_assert_ptr_nonnull(hosts);
    ck_assert_msg(strstr(hosts, "fenced") == NULL && strstr(hosts, "quarantined") == NULL &&
                      strstr(hosts, "\"newest_epoch\":5001") != NULL,
                  "hosts: %s", hosts);
    free(hosts);
    v = lease_value(e);
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(strstr(v, "\"holder\":\"replica-a\"") != NULL &&
                      strstr(v, "\"epoch\":5001") != NULL,
                  "lease value %s", v);
    free(v);
    e2e_free(e);
}
END_TEST

/* Lattices of names[4] whose `hosts` answer lists their one host; served[i] says which. */
static size_t lattices_served(e2e *e, const char *const *names, bool *served, int timeout_ms)
{
    size_t i, n = 0, len;
    char subj[64], *rep;

    for (i = 0; i < 4; i++) {
        snprintf(subj, sizeof(subj), "lattice.%s.hosts", names[i]);
        len = 0;
        rep = request_within(e, subj, "", 0, &len, timeout_ms);
        served[i] = rep != NULL && strstr(rep, "\"total\":1") != NULL;
        n += served[i];
        free(rep);
    }
    return n;
}

/* --max-lattices: names from the bus past the limit are ignored, the ones served keep working,
 * and a lattice an operator deploys to is served whatever the flood. */
START_TEST(test_max_lattices)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--max-lattices", "2", NULL };
    const char *names[4] = { "m0", "m1", "m2", "m3" };
    bool served[4];
    size_t i, n = 0;
    int64_t deadline;
    pid_t ld;
    char *r = NULL;

    for (i = 0; i < 4; i++) {
        char prefix[8];

        snprintf(prefix, sizeof(prefix), "h%zu", i);
        e2e_hosts(e, names[i], prefix, 1, NULL, NULL);
    }
    ld = e2e_latticed(e, ra);
    /* Two lattices served: the limit is reached, so no other one can be served any more;
     * and latticed has refused one (it heard a third lattice's heartbeat). */
    ck_assert_msg(e2e_wait_log(e, ld, "ignored: already serving --max-lattices 2 lattices", 20000),
                  "no lattice was ignored");
    for (deadline = e2e_now_ms() + 20000; n != 2 && e2e_now_ms() < deadline;)
        n = lattices_served(e, names, served, 1000);
    ck_assert_uint_eq(n, 2);
    /* Still exactly those two, asked with a generous timeout. */
    ck_assert_uint_eq(lattices_served(e, names, served, 5000), 2);
    for (i = 0; i < 4 && r == NULL; i++) { /* one of the lattices left out */
        if (served[i])
            continue;
        r = e2e_put_deploy(e, names[i], e2e_manifest("fence-v1.yaml"));
        ck_assert_str_eq(r, "acknowledged");
        ck_assert(e2e_wait_status(e, names[i], "fence", "deployed", 30000));
    }
    ck_assert_ptr_nonnull(r);
    free(r);
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
    e2e_deploy_ok(e, L, "fence-v1.yaml");
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 40000));
    starts = e2e_starts_sent(e, L);
    ck_assert_uint_eq(starts, 7); /* 6 api + 1 kv, nothing twice */
    /* A standby that has heard no heartbeat yet; the leader dies; v2 drops the link. */
    e2e_latticed(e, rb);
    e2e_kill(e, a, SIGKILL, true);
    e2e_deploy_ok(e, L, "fence-v2.yaml");
    t0 = e2e_now_ms();
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 40000));
    /* Every host has heartbeated (every 8 s) since: replica-b has heard them all, and a
     * leader that guessed instead of asking would have started what it had not seen by now. */
    ck_assert(e2e_wait_heard(e, L, 3, t0, 30000));
    ck_assert_uint_eq(e2e_starts_sent(e, L), starts + 3); /* just the 3 more api instances */
    links = e2e_links_with(e, L, "bucket=fence-b1");
    ck_assert_msg(links == 0, "%zu links of v1 still installed", links);
    e2e_free(e);
}
END_TEST

/* Signed commands: hosts with --leader-key take the leader's signed commands and refuse an
 * unsigned one, whose epoch then changes nothing. */
START_TEST(test_signed_commands)
{
    e2e *e = e2e_new();
    uint8_t seed[32], pub[32];
    char seed_text[LT_NKEY_SEED_TEXT + 1], pub_text[LT_NKEY_PUBLIC_TEXT + 1], path[256];
    const char *ra[] = { "--command-signing-seed", path, NULL };
    const char *hx[] = { "--leader-key", pub_text, NULL };
    size_t two = 2;
    FILE *f = fopen("/dev/urandom", "rb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(seed, 1, sizeof(seed), f), sizeof(seed));
    fclose(f);
    lt_nkey_seed_text(seed, seed_text);
    ck_assert_int_eq(lt_nkey_public_of(seed, pub, pub_text), LT_OK);
    snprintf(path, sizeof(path), "/tmp/lt-e2e-seed-%d", (int)getpid());
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", seed_text);
    fclose(f);
    e2e_observe(e, L);
    e2e_hosts(e, L, "g0", 1, NULL, hx);
    e2e_hosts(e, L, "g1", 1, NULL, hx);
    e2e_latticed(e, ra);
    ck_assert(e2e_wait(e, hosts_up, &two, 20000));
    e2e_deploy_ok(e, L, "fence-v1.yaml");
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 30000));
    /* The forged, unsigned epoch raise is refused: the host's epoch does not move. */
    ck_assert_uint_ne(forge_epoch(e, "g1-00000", UINT64_MAX), UINT64_MAX);
    e2e_deploy_ok(e, L, "fence-v2.yaml");
    ck_assert(e2e_wait_count(e, L, "fence", "api", NULL, 9, 30000));
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 30000));
    remove(path);
    e2e_free(e);
}
END_TEST

/* ---- who sent which command when: request ids are "{replica}-{n}" ---------------------- */

static pthread_mutex_t cmd_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_cmd_a; /* newest command of replica-a seen (ms) */
static size_t cmds_b;      /* commands of replica-b seen */

/* Field 3 (request_id) of a request message, every verb's, without knowing the verb. */
static bool request_id(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t i = 0;

    while (i < n) {
        uint64_t key = 0, len = 0;
        int shift = 0;

        while (i < n && shift < 64) {
            key |= (uint64_t)(p[i] & 0x7f) << shift;
            shift += 7;
            if ((p[i++] & 0x80) == 0)
                break;
        }
        if ((key & 7) == 0) { /* varint */
            while (i < n && (p[i++] & 0x80) != 0)
                ;
            continue;
        }
        if ((key & 7) != 2)
            return false;
        shift = 0;
        while (i < n && shift < 64) {
            len |= (uint64_t)(p[i] & 0x7f) << shift;
            shift += 7;
            if ((p[i++] & 0x80) == 0)
                break;
        }
        if (len > n - i)
            return false;
        if (key >> 3 == 3) {
            snprintf(out, cap, "%.*s", (int)len, (const char *)p + i);
            return true;
        }
        i += (size_t)len;
    }
    return false;
}

static void on_cmd(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
    char rid[160];
    const char *subj = natsMsg_GetSubject(m);
    size_t sl = strlen(subj);

    (void)nc, (void)sub, (void)arg;
    if (sl < 10 || strcmp(subj + sl - 10, ".inventory") == 0 ||
        !request_id((const uint8_t *)natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), rid,
                    sizeof(rid))) {
        natsMsg_Destroy(m);
        return;
    }
    pthread_mutex_lock(&cmd_mu);
    if (strncmp(rid, "replica-a-", 10) == 0)
        last_cmd_a = e2e_now_ms();
    else if (strncmp(rid, "replica-b-", 10) == 0)
        cmds_b++;
    pthread_mutex_unlock(&cmd_mu);
    natsMsg_Destroy(m);
}

static bool b_acted(e2e *e, void *arg)
{
    size_t n;

    (void)e, (void)arg;
    pthread_mutex_lock(&cmd_mu);
    n = cmds_b;
    pthread_mutex_unlock(&cmd_mu);
    return n > 0;
}

/* The lease key of L names replica-b. */
static bool b_holds_lease(e2e *e, void *arg)
{
    char *v = lease_value(e);
    bool yes = v != NULL && strstr(v, "\"holder\":\"replica-b\"") != NULL;

    (void)arg;
    free(v);
    return yes;
}

START_TEST(test_stalled_lease_stops_acting_in_time)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--replica-id", "replica-a", NULL };
    const char *rb[] = { "--replica-id", "replica-b", NULL };
    char stall[512], rules[1024];
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    size_t three = 3;
    int64_t t0, last;
    pid_t b;
    FILE *f;

    snprintf(stall, sizeof(stall), "%s/lt-e2e-stall-%d", "/tmp", (int)getpid());
    remove(stall);
    /* replica-a's lease calls block for 8 s each while the file exists (its KV stalls; core NATS,
     * the store and the hosts are fine). */
    snprintf(rules, sizeof(rules), "kvStore_*:subj=$KV.latticed_leases.*:mode=delay=8000:onfile=%s",
             stall);
    e2e_observe(e, L);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&sub, nc, "lattice." L ".host.*.*", on_cmd, NULL),
                     NATS_OK);
    e2e_hosts(e, L, "t0", 1, NULL, NULL);
    e2e_hosts(e, L, "t1", 1, NULL, NULL);
    e2e_hosts(e, L, "t2", 1, NULL, NULL);
    ck_assert_int_eq(lt_shim_set(rules, NULL), LT_OK);
    e2e_latticed(e, ra);
    lt_shim_unset();
    ck_assert(e2e_wait(e, hosts_up, &three, 20000));
    e2e_deploy_ok(e, L, "fence-v1.yaml");
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 30000));
    b = e2e_latticed(e, rb);
    /* The standby is up and has heard every host since. */
    ck_assert(e2e_wait_log(e, b, "ready: NATS", 20000));
    ck_assert(e2e_wait_heard(e, L, 3, e2e_now_ms(), 20000));
    f = fopen(stall, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    t0 = e2e_now_ms();
    ck_assert(e2e_wait(e, b_holds_lease, NULL, 20000));
    /* Only now a change: replica-a learns it from the store (not stalled); it must not act. */
    e2e_deploy_ok(e, L, "fence-v2.yaml");
    if (!e2e_wait(e, b_acted, NULL, 30000) ||
        !e2e_wait_count(e, L, "fence", "api", NULL, 9, 30000)) {
        e2e_dump_logs(e);
        ck_abort_msg("the standby did not take over: %zu api instances",
                     e2e_count(e, L, "fence", "api", NULL, NULL));
    }
    pthread_mutex_lock(&cmd_mu);
    last = last_cmd_a;
    pthread_mutex_unlock(&cmd_mu);
    /* ttl 2000 ms: replica-a may act until its last renewal was sent + 1500 ms. */
    ck_assert_msg(last - t0 <= 1500 + 250,
                  "replica-a still sent a command %lld ms after its lease KV stalled",
                  (long long)(last - t0));
    remove(stall);
    natsSubscription_Unsubscribe(sub);
    natsConnection_Close(nc); /* joins nats.c's reader before the destroy (wire/lt_conn.h) */
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    e2e_free(e);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = { test_forged_epoch_does_not_freeze_the_lattice,
                                   test_plausible_epoch_is_overtaken,
                                   test_max_lattices,
                                   test_new_leader_asks_before_acting,
                                   test_stalled_lease_stops_acting_in_time,
                                   test_signed_commands,
                                   NULL };

    return e2e_run_suite("fence", 240, tests);
}
