/*
 * test_e2e_faults.c - failures with real processes and the project's
 * manifests (tests/e2e/manifests/): a host killed with kill -9 (declared
 * lost after the heartbeat timeout: latticed's inventory forgets it and
 * exactly its instances are started again on the others), a host that
 * refuses every start (the app says failed with the host's reason, and
 * retries back off instead of hot-looping), latticed itself killed once a
 * rolling upgrade has begun (a new latticed converges with no duplicates),
 * and two replicas where only the leader sends commands and the standby
 * takes over, with a newer epoch the hosts accept, when the leader is killed.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define L "default"

static const char *const ids3[3] = { "k0-00000", "k1-00000", "k2-00000" };

/* Three single-host processes k0, k1, k2 (pids into pids), observed. */
static e2e *three_hosts(pid_t pids[3])
{
    e2e *e = e2e_new();
    int i;

    e2e_observe(e, L);
    for (i = 0; i < 3; i++) {
        char prefix[8];

        snprintf(prefix, sizeof(prefix), "k%d", i);
        pids[i] = e2e_hosts(e, L, prefix, 1, NULL, NULL);
    }
    return e;
}

/* The host of ids3 the observer saw running most of greet. */
static size_t busiest(e2e *e, size_t counts[3])
{
    size_t i, victim = 0;

    for (i = 0; i < 3; i++) {
        counts[i] = e2e_count(e, L, "greet", NULL, NULL, ids3[i]);
        if (counts[i] > counts[victim])
            victim = i;
    }
    return victim;
}

typedef struct {
    size_t victim;
    size_t want;
} survivors_arg;

/* greet's instances on the hosts other than the victim (the victim's last heartbeat stays
 * fresh to the observer for a while: it is left out by name). */
static size_t on_survivors(e2e *e, size_t victim)
{
    size_t i, n = 0;

    for (i = 0; i < 3; i++)
        if (i != victim)
            n += e2e_count(e, L, "greet", NULL, NULL, ids3[i]);
    return n;
}

static bool survivors_run(e2e *e, void *arg)
{
    survivors_arg *s = arg;

    return on_survivors(e, s->victim) == s->want;
}

START_TEST(test_host_killed)
{
    pid_t pids[3];
    e2e *e = three_hosts(pids);
    size_t before[3], victim, i;
    survivors_arg all = { 0, 5 };
    int64_t t0, took;

    e2e_latticed(e, NULL);
    e2e_expect_hosts(e, L, 3, 20000);
    e2e_deploy_ok(e, L, "greet.yaml");
    e2e_expect_status(e, L, "greet", "deployed", 30000);
    e2e_expect_count(e, L, "greet", NULL, NULL, 5, 10000);
    victim = busiest(e, before);
    /* 5 instances over 3 hosts: the busiest host's own heartbeat listed at least 2 */
    ck_assert_uint_ge(before[victim], 2);
    e2e_expect_inventory(e, L, ids3[victim], (long)before[victim], 10000);
    t0 = e2e_now_ms();
    e2e_kill(e, pids[victim], SIGKILL, true); /* no goodbye: only the timeout tells */
    all.victim = victim;
    ck_assert_msg(e2e_wait(e, survivors_run, &all, 20000), "%zu instances on the survivors",
                  on_survivors(e, victim));
    took = e2e_now_ms() - t0;
    /* heartbeat 500 ms, host timeout 2.5 s; replacements follow at once */
    printf("host killed: replacements running %lld ms after kill -9 (timeout 2500 ms)\n",
           (long long)took);
    ck_assert_int_le(took, 2500 + 3000);
    /* latticed forgot the dead host; the survivors kept theirs and got exactly its share */
    e2e_expect_inventory(e, L, ids3[victim], -1, 10000);
    e2e_expect_inventory(e, L, NULL, 5, 10000);
    for (i = 0; i < 3; i++)
        if (i != victim)
            e2e_expect_inventory(e, L, ids3[i], (long)e2e_count(e, L, "greet", NULL, NULL, ids3[i]),
                                 10000);
    ck_assert_uint_eq(e2e_starts_sent(e, L), 5 + before[victim]);
    ck_assert_uint_eq(e2e_count(e, L, "greet", "greeter", NULL, NULL) -
                          e2e_count(e, L, "greet", "greeter", NULL, ids3[victim]),
                      4);
    e2e_expect_status(e, L, "greet", "deployed", 10000);
    e2e_free(e);
}
END_TEST

typedef struct {
    size_t at_least;
} starts_arg;

static bool starts_reach(e2e *e, void *arg)
{
    return e2e_starts_sent(e, L) >= ((starts_arg *)arg)->at_least;
}

/* Retry rounds of the refused starts: when each began (a round is the starts sent within
 * 300 ms of each other), and the start items counted since recording began. */
typedef struct {
    size_t first, last, rounds;
    int64_t at[8];
} rounds_arg;

static bool four_rounds(e2e *e, void *arg)
{
    rounds_arg *r = arg;
    size_t n = e2e_starts_sent(e, L);
    int64_t now = e2e_now_ms();

    if (n != r->last) {
        if ((r->rounds == 0 || now - r->at[r->rounds - 1] > 300) && r->rounds < 8)
            r->at[r->rounds++] = now;
        r->last = n;
    }
    return r->rounds >= 4;
}

START_TEST(test_host_refuses_starts)
{
    e2e *e = e2e_new();
    const char *refuse[] = { "--refuse-image", "greeter", NULL };
    rounds_arg r;
    int64_t gap1, gap3;
    char *msg = NULL, *st;

    e2e_observe(e, L);
    e2e_hosts(e, L, "nope", 1, NULL, refuse);
    e2e_latticed(e, NULL);
    e2e_expect_hosts(e, L, 1, 20000);
    e2e_deploy_ok(e, L, "greet.yaml");
    e2e_expect_status(e, L, "greet", "failed", 20000);
    st = e2e_status(e, L, "greet", &msg);
    ck_assert_msg(strstr(msg, "simulated refusal") != NULL, "status %s: %s", st, msg);
    free(st);
    free(msg);
    /* the front (another image) runs */
    e2e_expect_count(e, L, "greet", "front", NULL, 1, 10000);
    /* the next four retry rounds: each tries the 4 greeters once, and the pauses between
     * them grow (backoff from 1 s, doubling, jitter 80..120%: the third pause is about 4
     * times the first); a hot loop would make rounds ms apart */
    memset(&r, 0, sizeof(r));
    r.first = r.last = e2e_starts_sent(e, L);
    ck_assert_msg(e2e_wait(e, four_rounds, &r, 60000), "%zu retry rounds seen", r.rounds);
    gap1 = r.at[1] - r.at[0];
    gap3 = r.at[3] - r.at[2];
    printf("refused starts: retry rounds %lld, %lld and %lld ms apart\n", (long long)gap1,
           (long long)(r.at[2] - r.at[1]), (long long)gap3);
    ck_assert_uint_eq(e2e_starts_sent(e, L) - r.first, 4 * 4);
    ck_assert_int_ge(gap1, 700);
    ck_assert_int_gt(gap3, 2 * gap1);
    ck_assert_uint_eq(e2e_count(e, L, "greet", "greeter", NULL, NULL), 0);
    ck_assert_uint_eq(e2e_count(e, L, "greet", "front", NULL, NULL), 1);
    e2e_free(e);
}
END_TEST

START_TEST(test_latticed_restarted_mid_rollout)
{
    e2e *e = e2e_new();
    starts_arg begun;
    pid_t ld;

    e2e_observe(e, L);
    e2e_hosts(e, L, "r", 2, NULL, NULL);
    ld = e2e_latticed(e, NULL);
    e2e_expect_hosts(e, L, 2, 20000);
    e2e_deploy_ok(e, L, "roll-v1.yaml");
    e2e_expect_status(e, L, "roll", "deployed", 30000);
    e2e_expect_count(e, L, "roll", NULL, NULL, 5 + 3 + 3 + 1 + 1, 10000);
    /* kill -9 latticed as soon as the hosts are sent the first start of v2 */
    begun.at_least = e2e_starts_sent(e, L) + 1;
    e2e_deploy_ok(e, L, "roll-v2.yaml");
    ck_assert(e2e_wait(e, starts_reach, &begun, 20000));
    e2e_kill(e, ld, SIGKILL, true);
    e2e_latticed(e, NULL);
    e2e_expect_image(e, L, "roll", "fetch:1.1", 5, 40000);
    e2e_expect_count(e, L, "roll", "fetch", NULL, 5, 20000);
    e2e_expect_count(e, L, "roll", "hello", NULL, 3, 20000);
    e2e_expect_count(e, L, "roll", "echo", NULL, 1, 20000);
    e2e_expect_count(e, L, "roll", "counter", NULL, 0, 20000);
    e2e_expect_count(e, L, "roll", "kv", NULL, 0, 20000);
    e2e_expect_image(e, L, "roll", "edge:1.1", 1, 20000);
    e2e_expect_status(e, L, "roll", "deployed", 20000);
    /* nothing twice: the hosts and the new latticed both count exactly v2's 10 */
    ck_assert_uint_eq(e2e_count(e, L, "roll", NULL, NULL, NULL), 5 + 1 + 3 + 1);
    ck_assert_uint_eq(e2e_duplicate_ids(e, L), 0);
    e2e_expect_inventory(e, L, NULL, 5 + 1 + 3 + 1, 10000);
    e2e_free(e);
}
END_TEST

typedef struct {
    const char *replica;
} leader_arg;

static bool leads(e2e *e, void *arg)
{
    return strcmp(e2e_leader(e, L, NULL), ((leader_arg *)arg)->replica) == 0;
}

typedef struct {
    pid_t pid;
} ready_arg;

/* The replica serves the lattice with its stored apps loaded: it would act on a deploy. */
static bool replica_ready(e2e *e, void *arg)
{
    pid_t pid = ((ready_arg *)arg)->pid;

    return e2e_log_has(e, pid, "stored apps loaded") && e2e_log_has(e, pid, "serving lattice " L);
}

static bool hosts_at_epoch(e2e *e, void *arg)
{
    return e2e_hosts_min_epoch(e, L) >= *(uint64_t *)arg;
}

/* Two replicas: only the leader sends commands (every command the hosts got carries its
 * epoch, and no instance is started twice); kill -9 it and the standby takes over after
 * the lease ttl, with a newer epoch the hosts accept. */
START_TEST(test_two_replicas_failover)
{
    const char *ra[] = { "--replica-id", "replica-a", NULL };
    const char *rb[] = { "--replica-id", "replica-b", NULL };
    pid_t pids[3], a;
    e2e *e = three_hosts(pids);
    leader_arg first = { "replica-a" }, second = { "replica-b" };
    ready_arg standby;
    size_t before[3], victim;
    uint64_t epoch_a = 0, epoch_b = 0;
    survivors_arg all = { 0, 5 };
    e2e_faults f;

    e2e_watch_replies(e);
    a = e2e_latticed(e, ra);
    ck_assert_msg(e2e_wait(e, leads, &first, 20000), "replica-a does not lead: '%s'",
                  e2e_leader(e, L, NULL));
    standby.pid = e2e_latticed(e, rb);
    e2e_expect_hosts(e, L, 3, 20000);
    ck_assert_msg(e2e_wait(e, replica_ready, &standby, 20000), "replica-b is not up");
    e2e_deploy_ok(e, L, "greet.yaml");
    e2e_expect_status(e, L, "greet", "deployed", 30000);
    e2e_expect_count(e, L, "greet", NULL, NULL, 5, 10000);
    /* only a acted: five starts, all commands of a's epoch, which every host accepted */
    ck_assert_str_eq(e2e_leader(e, L, &epoch_a), "replica-a");
    ck_assert_msg(e2e_wait(e, hosts_at_epoch, &epoch_a, 10000), "hosts at epoch %llu, a's %llu",
                  (unsigned long long)e2e_hosts_min_epoch(e, L), (unsigned long long)epoch_a);
    e2e_faults_get(e, L, &f);
    ck_assert_uint_eq(e2e_starts_sent(e, L), 5);
    ck_assert_uint_gt(f.commands, 0);
    ck_assert_uint_eq(f.newest_epoch, epoch_a);
    ck_assert_uint_eq(f.stale_sent, 0);
    e2e_kill(e, a, SIGKILL, true);
    ck_assert_msg(e2e_wait(e, leads, &second, 20000), "replica-b does not lead: '%s'",
                  e2e_leader(e, L, NULL));
    /* now a host leaves: only the new leader can put its instances back */
    victim = busiest(e, before);
    e2e_kill(e, pids[victim], SIGTERM, true);
    all.victim = victim;
    ck_assert_msg(e2e_wait(e, survivors_run, &all, 30000), "%zu instances on the survivors",
                  on_survivors(e, victim));
    e2e_expect_status(e, L, "greet", "deployed", 20000);
    ck_assert_str_eq(e2e_leader(e, L, &epoch_b), "replica-b");
    ck_assert_uint_gt(epoch_b, epoch_a);
    ck_assert(e2e_wait(e, hosts_at_epoch, &epoch_b, 10000));
    e2e_faults_get(e, L, &f);
    ck_assert_uint_eq(f.newest_epoch, epoch_b);
    ck_assert_uint_eq(f.stale_accepted, 0);
    ck_assert_msg(f.stale_sent == 0, "%zu commands with an older epoch sent", f.stale_sent);
    /* b started exactly the stopped host's instances again */
    ck_assert_uint_eq(e2e_starts_sent(e, L), 5 + before[victim]);
    e2e_free(e);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = { test_host_killed, test_host_refuses_starts,
                                   test_latticed_restarted_mid_rollout, test_two_replicas_failover,
                                   NULL };

    return e2e_run_suite("e2e_faults", 120, tests);
}
