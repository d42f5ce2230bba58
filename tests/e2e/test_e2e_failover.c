/*
 * test_e2e_failover.c - leader failover with two latticed replicas, judged by
 * what the hosts were sent and accepted rather than by instance counts: while
 * replica-a leads, every command on lattice.L.host.*.* is replica-a's at its
 * epoch (a standby that sent anything, even at the same epoch, fails the
 * test); after kill -9 of replica-a and a host leaving, replica-b leads with
 * a newer epoch, every command sent or accepted from then on is its own at
 * that epoch, and every host's heartbeat reports that epoch. The sender is the
 * request id ("{replica}-{n}"); acceptance is the host's reply, seen on the
 * sender's _INBOX. Manifest: tests/e2e/manifests/fence-v1.yaml.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nats/nats.h>

#include "e2e.h"
#include "latticed/host/v1/command.pb-c.h"
#include "lt_config.h"
#include "lt_shimctl.h"
#include "lt_testutil.h"

#define L "default"

static pthread_mutex_t cmd_mu = PTHREAD_MUTEX_INITIALIZER;

static bool hosts_up(e2e *e, void *arg)
{
    return e2e_host_count(e, L) == *(const size_t *)arg;
}

/* ---- failover, judged by what the hosts were sent and accepted ------------------------------
 * Every command (start, stop, link, unlink, inventory) on lattice.L.host.*.* is recorded with
 * its sender (request ids are "{replica}-{n}"), its epoch and when it was seen; the host's
 * reply (on the sender's _INBOX) says whether it was accepted. */

#define LEDGER_MAX 4096
#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x

typedef struct {
    char reply[160], replica[32], verb[16];
    uint64_t epoch;
    int64_t at;
    bool replied, accepted;
} ledger_cmd;

static ledger_cmd ledger[LEDGER_MAX];
static size_t n_ledger;

/* request_id "replica-a-17" -> "replica-a" */
static void replica_of(const char *rid, char *out, size_t cap)
{
    const char *dash = rid != NULL ? strrchr(rid, '-') : NULL;

    snprintf(out, cap, "%.*s", dash != NULL ? (int)(dash - rid) : 0, rid != NULL ? rid : "");
}

static void on_ledger_cmd(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
    const char *subj = natsMsg_GetSubject(m), *verb = strrchr(subj, '.') + 1;
    const uint8_t *d = (const uint8_t *)natsMsg_GetData(m);
    size_t len = (size_t)natsMsg_GetDataLength(m);
    char rid[160] = "";
    uint64_t epoch = 0;
    bool known = true;

    (void)nc, (void)sub, (void)arg;
#define TAKE(type, fn)                                                                    \
    do {                                                                                  \
        Latticed__Host__V1__##type *r = latticed__host__v1__##fn##__unpack(NULL, len, d); \
        if (r != NULL) {                                                                  \
            epoch = r->epoch;                                                             \
            snprintf(rid, sizeof(rid), "%s", r->request_id != NULL ? r->request_id : ""); \
            latticed__host__v1__##fn##__free_unpacked(r, NULL);                           \
        }                                                                                 \
    } while (0)
    if (strcmp(verb, "start") == 0)
        TAKE(StartRequest, start_request);
    else if (strcmp(verb, "stop") == 0)
        TAKE(StopRequest, stop_request);
    else if (strcmp(verb, "link") == 0)
        TAKE(LinkRequest, link_request);
    else if (strcmp(verb, "unlink") == 0)
        TAKE(UnlinkRequest, unlink_request);
    else if (strcmp(verb, "inventory") == 0)
        TAKE(InventoryRequest, inventory_request);
    else
        known = false;
#undef TAKE
    pthread_mutex_lock(&cmd_mu);
    if (known && n_ledger < LEDGER_MAX) {
        ledger_cmd *c = &ledger[n_ledger++];

        memset(c, 0, sizeof(*c));
        snprintf(c->reply, sizeof(c->reply), "%s",
                 natsMsg_GetReply(m) != NULL ? natsMsg_GetReply(m) : "");
        replica_of(rid, c->replica, sizeof(c->replica));
        snprintf(c->verb, sizeof(c->verb), "%s", verb);
        c->epoch = epoch;
        c->at = e2e_now_ms();
    }
    pthread_mutex_unlock(&cmd_mu);
    natsMsg_Destroy(m);
}

static void on_ledger_reply(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
    const uint8_t *d = (const uint8_t *)natsMsg_GetData(m);
    size_t len = (size_t)natsMsg_GetDataLength(m), i;

    (void)nc, (void)sub, (void)arg;
    pthread_mutex_lock(&cmd_mu);
    for (i = n_ledger; i-- > 0;) {
        ledger_cmd *c = &ledger[i];

        if (c->replied || strcmp(c->reply, natsMsg_GetSubject(m)) != 0)
            continue;
        c->replied = true;
        if (strcmp(c->verb, "inventory") == 0) {
            Latticed__Host__V1__InventoryReply *r =
                latticed__host__v1__inventory_reply__unpack(NULL, len, d);

            c->accepted = r != NULL && r->code == RC(OK); /* answered with its inventory */
            if (r != NULL)
                latticed__host__v1__inventory_reply__free_unpacked(r, NULL);
        } else {
            Latticed__Host__V1__CommandReply *r =
                latticed__host__v1__command_reply__unpack(NULL, len, d);

            c->accepted = r != NULL && (r->code == RC(OK) || r->code == RC(ALREADY_DONE) ||
                                        r->code == RC(NOT_FOUND));
            if (r != NULL)
                latticed__host__v1__command_reply__free_unpacked(r, NULL);
        }
        break;
    }
    pthread_mutex_unlock(&cmd_mu);
    natsMsg_Destroy(m);
}

typedef struct {
    size_t total, by_other; /* commands since `since`; of them not from `replica` */
    size_t wrong_epoch;     /* of replica's, with another epoch than `epoch` */
    size_t accepted_other;  /* accepted commands not from replica at `epoch` */
    char first_bad[256];
} ledger_sum;

/* Judge every command seen in [since, until) against "only `replica`, at `epoch`, acts". */
static void ledger_judge(const char *replica, uint64_t epoch, int64_t since, int64_t until,
                         ledger_sum *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&cmd_mu);
    for (i = 0; i < n_ledger; i++) {
        const ledger_cmd *c = &ledger[i];
        bool mine = strcmp(c->replica, replica) == 0, bad;

        if (c->at < since || c->at >= until)
            continue;
        out->total++;
        out->by_other += !mine;
        out->wrong_epoch += mine && c->epoch != epoch;
        out->accepted_other += c->accepted && (!mine || c->epoch != epoch);
        bad = !mine || c->epoch != epoch;
        if (bad && out->first_bad[0] == '\0')
            snprintf(out->first_bad, sizeof(out->first_bad), "%s from '%s' with epoch %llu (%s)",
                     c->verb, c->replica, (unsigned long long)c->epoch,
                     !c->replied   ? "no reply"
                     : c->accepted ? "accepted"
                                   : "refused");
    }
    pthread_mutex_unlock(&cmd_mu);
}

static bool leader_is(e2e *e, void *arg)
{
    return strcmp(e2e_leader(e, L, NULL), (const char *)arg) == 0;
}

static bool hosts_at_epoch(e2e *e, void *arg)
{
    return e2e_hosts_min_epoch(e, L) == *(const uint64_t *)arg;
}

/* Two replicas: while replica-a leads only it sends commands (replica-b, a standby, sends
 * none, not even an inventory request); after kill -9 of a and a host leaving, replica-b
 * leads with a newer epoch, every command sent or accepted from then on is its own at that
 * epoch, and every host's heartbeat reports that epoch. */
START_TEST(test_failover_commands_and_epochs)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--replica-id", "replica-a", NULL };
    const char *rb[] = { "--replica-id", "replica-b", NULL };
    natsConnection *nc = NULL;
    natsSubscription *cmds = NULL, *replies = NULL;
    size_t three = 3, two = 2, i, best = 0, victim = 0;
    const char *ids[3] = { "o0-00000", "o1-00000", "o2-00000" };
    uint64_t epoch_a = 0, epoch_b = 0;
    int64_t t_start, t_kill, t_end;
    ledger_sum sum;
    pid_t hosts[3], a, b;

    pthread_mutex_lock(&cmd_mu);
    n_ledger = 0;
    pthread_mutex_unlock(&cmd_mu);
    e2e_observe(e, L);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&cmds, nc, "lattice." L ".host.*.*", on_ledger_cmd,
                                              NULL),
                     NATS_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&replies, nc, "_INBOX.>", on_ledger_reply, NULL),
                     NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
    t_start = e2e_now_ms();
    hosts[0] = e2e_hosts(e, L, "o0", 1, NULL, NULL);
    hosts[1] = e2e_hosts(e, L, "o1", 1, NULL, NULL);
    hosts[2] = e2e_hosts(e, L, "o2", 1, NULL, NULL);
    a = e2e_latticed(e, ra);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-a", 20000), "replica-a never led");
    e2e_leader(e, L, &epoch_a);
    b = e2e_latticed(e, rb);
    ck_assert_msg(e2e_wait_log(e, b, "ready: NATS", 20000), "replica-b never got ready");
    ck_assert(e2e_wait(e, hosts_up, &three, 20000));
    e2e_deploy_ok(e, L, "fence-v1.yaml");
    ck_assert(e2e_wait_status(e, L, "fence", "deployed", 30000));
    ck_assert(e2e_wait_count(e, L, "fence", "api", NULL, 6, 10000));
    ck_assert(e2e_wait(e, hosts_at_epoch, &epoch_a, 10000));
    /* Only the leader acted. */
    t_kill = e2e_now_ms();
    ledger_judge("replica-a", epoch_a, t_start, t_kill, &sum);
    ck_assert_msg(sum.total > 0, "no command seen while replica-a led");
    ck_assert_msg(sum.by_other == 0 && sum.wrong_epoch == 0,
                  "%zu of %zu commands not from replica-a at epoch %llu, first: %s",
                  sum.by_other + sum.wrong_epoch, sum.total, (unsigned long long)epoch_a,
                  sum.first_bad);
    ck_assert_str_eq(e2e_leader(e, L, NULL), "replica-a");
    e2e_kill(e, a, SIGKILL, true);
    /* A host leaves: only a leader can put its instances back. */
    for (i = 0; i < 3; i++) {
        size_t n = e2e_count(e, L, "fence", NULL, NULL, ids[i]);

        if (n > best) {
            best = n;
            victim = i;
        }
    }
    e2e_kill(e, hosts[victim], SIGTERM, true);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-b", 20000), "replica-b never led");
    e2e_leader(e, L, &epoch_b);
    ck_assert_uint_gt(epoch_b, epoch_a);
    if (!e2e_wait(e, hosts_up, &two, 20000) ||
        !e2e_wait_count(e, L, "fence", "api", NULL, 6, 30000) ||
        !e2e_wait_count(e, L, "fence", "kv", NULL, 1, 30000) ||
        !e2e_wait_status(e, L, "fence", "deployed", 30000)) {
        e2e_dump_logs(e);
        ck_abort_msg("replica-b did not replace the instances: %zu api",
                     e2e_count(e, L, "fence", "api", NULL, NULL));
    }
    /* Both remaining hosts heard of epoch_b (replica-b asks each for its inventory first). */
    ck_assert_msg(e2e_wait(e, hosts_at_epoch, &epoch_b, 10000),
                  "hosts report epoch %llu, want %llu",
                  (unsigned long long)e2e_hosts_min_epoch(e, L), (unsigned long long)epoch_b);
    t_end = e2e_now_ms();
    ledger_judge("replica-b", epoch_b, t_kill, t_end, &sum);
    ck_assert_msg(sum.total - sum.by_other > 0, "replica-b sent nothing after the failover");
    ck_assert_msg(sum.by_other == 0 && sum.wrong_epoch == 0 && sum.accepted_other == 0,
                  "after the failover %zu of %zu commands not from replica-b at epoch %llu "
                  "(%zu accepted), first: %s",
                  sum.by_other + sum.wrong_epoch, sum.total, (unsigned long long)epoch_b,
                  sum.accepted_other, sum.first_bad);
    /* Drained (no callback left running), then closed before it is destroyed: a destroy of a
     * connection whose reader thread was still delivering the busy _INBOX.> crashed in nats.c
     * once under ASan. */
    if (natsSubscription_Drain(replies) == NATS_OK)
        natsSubscription_WaitForDrainCompletion(replies, 10000);
    if (natsSubscription_Drain(cmds) == NATS_OK)
        natsSubscription_WaitForDrainCompletion(cmds, 10000);
    natsSubscription_Destroy(replies);
    natsSubscription_Destroy(cmds);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    e2e_free(e);
}
END_TEST

/* A standby whose lease reads fail (the fault shim, armed once the leader is killed) keeps
 * trying at its poll (ttl/8 = 250 ms here), not in a busy loop: its takeover time lay in the
 * past and every failed read went straight round again. */
START_TEST(test_follower_paces_failed_reads)
{
    e2e *e = e2e_new();
    const char *ra[] = { "--replica-id", "replica-a", "--lattice", L, NULL };
    const char *rb[] = { "--replica-id", "replica-b", "--lattice", L, NULL };
    char *dir = NULL, arm[600], log[600], rules[1400];
    size_t fired;
    pid_t a, b;
    FILE *f;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-e2e-pace"), LT_OK);
    snprintf(arm, sizeof(arm), "%s/arm", dir);
    snprintf(log, sizeof(log), "%s/shim.log", dir);
    free(dir);
    snprintf(rules, sizeof(rules), "kvStore_Get:subj=$KV.latticed_leases.*:mode=fail:onfile=%s",
             arm);
    a = e2e_latticed(e, ra);
    ck_assert_msg(e2e_wait(e, leader_is, (void *)"replica-a", 20000), "replica-a never led");
    ck_assert_int_eq(lt_shim_set(rules, log), LT_OK);
    b = e2e_latticed(e, rb);
    lt_shim_unset();
    ck_assert_msg(e2e_wait_log(e, b, "ready: NATS", 20000), "replica-b never got ready");
    e2e_sleep_ms(1000); /* replica-b has read the lease a few times: it follows replica-a */
    ck_assert_ptr_nonnull(f = fopen(arm, "w"));
    fclose(f);
    e2e_kill(e, a, SIGKILL, true);
    e2e_sleep_ms(5000); /* a window to count in, not a condition */
    fired = lt_shim_fired(log, "kvStore_Get");
    printf("failed lease reads in 5 s: %zu\n", fired);
    ck_assert_uint_ge(fired, 5);
    ck_assert_msg(fired <= 60, "%zu lease reads in 5 s: a busy loop", fired);
    ck_assert(e2e_alive(e, b));
    e2e_free(e);
}
END_TEST

static bool file_exists(e2e *e, void *path)
{
    (void)e;
    return access(path, F_OK) == 0;
}

/* latticed stops while a host event's nats.c callback is still running (held for 2 s by the
 * fault shim inside its first header read): the scheduler service waits for it before freeing
 * what the callback posts into. Before, the late post touched the freed service: a
 * heap-use-after-free under ASan, a crash at exit (SIGSEGV) in a 10,000-host benchmark. */
START_TEST(test_stop_while_event_callback_runs)
{
    e2e *e = e2e_new();
    const char *args[] = { "--lattice", L, NULL };
    char *dir = NULL, flag[600], log[600], rules[1400];
    pid_t ld;
    int status;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-e2e-cbstop"), LT_OK);
    snprintf(flag, sizeof(flag), "%s/in-callback", dir);
    snprintf(log, sizeof(log), "%s/shim.log", dir);
    free(dir);
    snprintf(rules, sizeof(rules),
             "natsMsgHeader_Get:subj=lattice.%s.evt.h.*.host.heartbeat:mode=delay=2000:count=1:"
             "touch=%s",
             L, flag);
    ck_assert_int_eq(lt_shim_set(rules, log), LT_OK);
    ld = e2e_latticed(e, args);
    lt_shim_unset();
    ck_assert_msg(e2e_wait_log(e, ld, "ready: NATS", 20000), "latticed never got ready");
    e2e_hosts(e, L, "cb", 1, NULL, NULL);
    ck_assert_msg(e2e_wait(e, file_exists, flag, 20000), "no heartbeat reached the callback");
    status = e2e_kill_status(e, ld, SIGTERM, true);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        e2e_dump_logs(e);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "latticed's exit after SIGTERM: wait status 0x%x", (unsigned)status);
    e2e_free(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("failover");

    e2e_require_bins();
    lt_test_tcase(s, "failover", 180,
                  (const TTest *const[]){ test_failover_commands_and_epochs,
                                          test_follower_paces_failed_reads,
                                          test_stop_while_event_callback_runs, NULL });
    return lt_test_run_suite(s);
}
