/*
 * svc_lease.c - one leader per lattice, elected through a JetStream KV key per
 * lattice updated by compare-and-set on its revision (nats-server 2.9 has no
 * per-key TTL). The value names the holder and the term's epoch:
 * {"holder":"<replica>","epoch":E,"ttl_ms":T}.
 *
 * - Terms. A follower that sees the same revision for longer than ttl (by its
 *   own monotonic clock, so clock skew does not matter) takes the key over
 *   with a CAS update. The new epoch is max(epoch in the value, revision,
 *   floor) + 1: it grows along the chain of successful writes, so every later
 *   term has a larger epoch, also after the bucket was lost (hosts tell the
 *   floor: see verify below).
 * - Renewals every ttl/4. A renewal counts from the moment it was SENT, and
 *   the loop is told "you may act until send time + 3/4 ttl": the loop keeps
 *   that deadline itself (svc_lattices.c), so a KV call that blocks here cannot make
 *   the leader act late. A renewal whose reply is lost is judged by reading
 *   the key back: our holder and epoch at a newer revision = it committed.
 * - Verify. A host that refuses our epoch makes the loop ask for a check: if
 *   the key is no longer ours, we step down; if it is, the host's epoch is
 *   either plausible (an older term we never saw, e.g. after the bucket was
 *   recreated: we raise our epoch above it with a CAS write) or not (a forged
 *   or corrupt epoch: the host is quarantined, we keep leading).
 *
 * KV calls block, with a short timeout of their own, on this module's thread:
 * held leases are renewed first in every round, so lattices that are merely
 * followed cannot delay them. Results reach the loop through callbacks that
 * must post.
 */
#include "sched_svc_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_loop.h"

/* Claimed epochs further than this above ours are not an older term: they are quarantined. */
#define EPOCH_PLAUSIBLE_GAP (UINT64_C(1) << 32)
#define HOLDER_MAX 128
#define LEASE_FOLLOW_MAX_MS 500 /* longest pause between a follower's reads of the lease key */

typedef struct {
    char *lattice;
    uint64_t my_rev;     /* revision of our last write while holding it, 0 = not holding */
    uint64_t epoch;      /* epoch of the current term (ours while holding) */
    int64_t unconfirmed; /* send time of the oldest renewal not known to have committed */
    uint64_t seen_rev;   /* follower: last revision seen */
    int64_t seen_since;  /* follower: when it was first seen */
    int64_t tried;       /* follower: when it last read the key (a failed read or takeover
                            waits a poll before the next try) */
    bool reported;       /* what the callback was last told */
    uint64_t reported_epoch;
    _Atomic int64_t until; /* leading: may act until then (lt_loop_now_ms); 0 = not leading.
                              Read by the loop without a queue in between. */
    _Atomic bool known;    /* the key was read (or won) once: who leads is known */
    /* a host refused our epoch (guarded by the lease mutex) */
    bool verify;
    uint64_t claimed;
    char claimed_by[LT_MAX_HOST_ID + 1];
} lease_slot;

struct sched_lease {
    jsCtx *js;
    kvStore *kv;
    char *replica;
    int64_t ttl_ms;
    sched_lease_fn fn;
    sched_quarantine_fn qfn;
    void *arg;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool kick; /* run a round at once (a lattice was added, a check asked) */
    lease_slot *slots;
    size_t n, cap;
};

static lt_status open_bucket(sched_lease *l, natsConnection *nc, const sched_lease_config *cfg)
{
    lt_store_settings want = { .replicas = cfg->replicas, .memory = cfg->memory, .history = 1 };
    jsCtx *setup = NULL;
    jsOptions jo;
    natsStatus s;
    lt_status st;

    /* Created, or made to match --replicas/--storage (refused with a message naming the flag
     * when JetStream cannot), with the default JetStream timeouts: a one-off at start-up. */
    s = natsConnection_JetStream(&setup, nc, NULL);
    if (s != NATS_OK)
        return LT_FAIL(lt_conn_status(s), "lease bucket %s: %s", cfg->bucket,
                       natsStatus_GetText(s));
    st = lt_store_bucket_ensure(setup, cfg->bucket, "latticed leader leases", &want, NULL);
    jsCtx_Destroy(setup);
    if (st != LT_OK)
        return st;
    /* Lease calls must fail fast: a renewal that would come back after the deadline is useless. */
    jsOptions_Init(&jo);
    jo.Wait = l->ttl_ms / 4 < 200 ? 200 : l->ttl_ms / 4 > 2000 ? 2000 : l->ttl_ms / 4;
    s = natsConnection_JetStream(&l->js, nc, &jo);
    if (s == NATS_OK)
        s = js_KeyValue(&l->kv, l->js, cfg->bucket);
    if (s != NATS_OK)
        return LT_FAIL(lt_conn_status(s), "lease bucket %s: %s", cfg->bucket,
                       natsStatus_GetText(s));
    return LT_OK;
}

static void value_of(const sched_lease *l, bool release, uint64_t epoch, char *out, size_t n)
{
    snprintf(out, n, "{\"holder\":\"%s\",\"epoch\":%" PRIu64 ",\"ttl_ms\":%lld}",
             release ? "" : l->replica, epoch, (long long)l->ttl_ms);
}

/* The string after "key": in a lease value ("" when absent or unreadable). */
static void field_of(const char *v, int len, const char *key, char *out, size_t n)
{
    char pat[32];
    const char *p, *end = v + (len > 0 ? len : 0);
    size_t k = 0, pl = (size_t)snprintf(pat, sizeof(pat), "\"%s\":", key);

    out[0] = '\0';
    p = len > 0 ? memmem(v, (size_t)len, pat, pl) : NULL;
    if (p == NULL)
        return;
    p += pl;
    if (p < end && *p == '"')
        p++;
    for (; p < end && *p != '"' && *p != ',' && *p != '}' && k + 1 < n; p++)
        out[k++] = *p;
    out[k] = '\0';
}

typedef struct {
    char holder[HOLDER_MAX];
    uint64_t epoch, rev;
} lease_val;

static void parse_entry(kvEntry *e, lease_val *v)
{
    char num[32];

    field_of(kvEntry_Value(e), kvEntry_ValueLen(e), "holder", v->holder, sizeof(v->holder));
    field_of(kvEntry_Value(e), kvEntry_ValueLen(e), "epoch", num, sizeof(num));
    v->epoch = strtoull(num, NULL, 10);
    v->rev = kvEntry_Revision(e);
}

/* Read the key: NATS_OK with *v, NATS_NOT_FOUND, or a transport error. */
static natsStatus read_lease(sched_lease *l, const lease_slot *ls, lease_val *v)
{
    kvEntry *e = NULL;
    natsStatus s = kvStore_Get(&e, l->kv, ls->lattice);

    memset(v, 0, sizeof(*v));
    if (s == NATS_OK)
        parse_entry(e, v);
    kvEntry_Destroy(e);
    return s;
}

static void report(sched_lease *l, lease_slot *ls, bool leading, int64_t until)
{
    if (ls->reported != leading)
        LT_INFO("lease", "lattice %s: %s (epoch %" PRIu64 ")", ls->lattice,
                leading ? "this replica leads" : "this replica follows", ls->epoch);
    atomic_store(&ls->until, leading ? until : 0);
    if (ls->reported == leading && leading && ls->reported_epoch == ls->epoch)
        return; /* a renewal: the deadline above is all that changes */
    ls->reported = leading;
    ls->reported_epoch = ls->epoch;
    l->fn(l->arg, ls->lattice, leading, ls->epoch, until);
}

/* A follower takes over once it has seen the same revision for a whole ttl; it cannot have
 * seen a revision before we sent the write that made it. So acting until sent + 3/4 ttl stays
 * a quarter ttl clear of any takeover (for clock rates and commands in flight). */
static int64_t deadline(const sched_lease *l, int64_t sent)
{
    return sent + l->ttl_ms * 3 / 4;
}

static void won(sched_lease *l, lease_slot *ls, uint64_t rev, uint64_t epoch, int64_t sent)
{
    atomic_store(&ls->known, true);
    ls->my_rev = rev;
    ls->epoch = epoch;
    ls->unconfirmed = 0;
    report(l, ls, true, deadline(l, sent));
}

static void lost(sched_lease *l, lease_slot *ls, const lease_val *v, int64_t now)
{
    LT_WARN("lease", "lattice %s: lease taken by '%s' (epoch %" PRIu64 "): stepping down",
            ls->lattice, v->holder, v->epoch);
    ls->my_rev = 0;
    ls->seen_rev = v->rev;
    ls->seen_since = now;
    report(l, ls, false, 0);
}

static bool is_mine(const sched_lease *l, const lease_slot *ls, const lease_val *v)
{
    return strcmp(v->holder, l->replica) == 0 && v->epoch == ls->epoch;
}

/* Holding: renew; on an error, judge by reading back. */
static void renew(sched_lease *l, lease_slot *ls)
{
    char val[256];
    int64_t sent = lt_loop_now_ms();
    uint64_t rev = 0;
    lease_val v;
    natsStatus s;

    if (ls->unconfirmed == 0)
        ls->unconfirmed = sent;
    value_of(l, false, ls->epoch, val, sizeof(val));
    s = kvStore_UpdateString(&rev, l->kv, ls->lattice, val, ls->my_rev);
    if (s == NATS_OK) { /* so no earlier unconfirmed write committed: count from this one */
        ls->my_rev = rev;
        ls->unconfirmed = 0;
        report(l, ls, true, deadline(l, sent));
        return;
    }
    s = read_lease(l, ls, &v);
    if (s != NATS_OK && s != NATS_NOT_FOUND)
        return; /* cannot tell: the loop's deadline stops us acting, we keep trying */
    if (s == NATS_NOT_FOUND || !is_mine(l, ls, &v)) {
        lost(l, ls, &v, lt_loop_now_ms());
        return;
    }
    if (v.rev != ls->my_rev) {
        /* Our write committed, its reply was lost; it was sent at ls->unconfirmed at the
         * earliest, which is what the deadline counts from. */
        ls->my_rev = v.rev;
        report(l, ls, true, deadline(l, ls->unconfirmed));
        ls->unconfirmed = 0;
    }
}

/* Holding, and a host claims `claimed` > our epoch. False: could not tell, ask again. */
static bool verify(sched_lease *l, lease_slot *ls, uint64_t claimed, const char *host)
{
    char val[256];
    int64_t sent = lt_loop_now_ms();
    uint64_t rev = 0;
    lease_val v;
    natsStatus s = read_lease(l, ls, &v);

    if (s != NATS_OK && s != NATS_NOT_FOUND)
        return false;
    if (s == NATS_NOT_FOUND || !is_mine(l, ls, &v)) {
        lost(l, ls, &v, sent);
        return true;
    }
    if (claimed <= ls->epoch)
        return true; /* raised meanwhile */
    if (claimed - ls->epoch > EPOCH_PLAUSIBLE_GAP) {
        LT_WARN("lease",
                "lattice %s: host %s claims epoch %" PRIu64 ", far above ours (%" PRIu64
                ") which we still hold: quarantining the host",
                ls->lattice, host, claimed, ls->epoch);
        l->qfn(l->arg, ls->lattice, host, claimed);
        return true;
    }
    /* An older term we never saw (the bucket was recreated, a server lost its store): move
     * our epoch above it, by CAS so the term stays ours alone. */
    value_of(l, false, claimed + 1, val, sizeof(val));
    if (kvStore_UpdateString(&rev, l->kv, ls->lattice, val, v.rev) != NATS_OK)
        return false;
    LT_WARN("lease",
            "lattice %s: host %s had seen epoch %" PRIu64 ": raising ours from %" PRIu64
            " to %" PRIu64,
            ls->lattice, host, claimed, ls->epoch, claimed + 1);
    won(l, ls, rev, claimed + 1, sent);
    return true;
}

/* Not holding: watch the key, take it when free, ours from an earlier life, or silent. */
static void follow(sched_lease *l, lease_slot *ls)
{
    char val[256];
    int64_t now = lt_loop_now_ms();
    uint64_t rev = 0, epoch;
    lease_val v;
    natsStatus s;

    ls->tried = now;
    s = read_lease(l, ls, &v);
    if (s == NATS_NOT_FOUND) {
        epoch = 1;
        value_of(l, false, epoch, val, sizeof(val));
        if (kvStore_CreateString(&rev, l->kv, ls->lattice, val) == NATS_OK)
            won(l, ls, rev, epoch, now);
        return;
    }
    if (s != NATS_OK)
        return;
    atomic_store(&ls->known, true);
    if (v.rev != ls->seen_rev) {
        ls->seen_rev = v.rev;
        ls->seen_since = now;
    }
    if (v.holder[0] != '\0' && strcmp(v.holder, l->replica) != 0 &&
        now - ls->seen_since <= l->ttl_ms)
        return;
    epoch = v.epoch > v.rev ? v.epoch : v.rev;
    epoch++;
    value_of(l, false, epoch, val, sizeof(val));
    if (kvStore_UpdateString(&rev, l->kv, ls->lattice, val, v.rev) == NATS_OK)
        won(l, ls, rev, epoch, now);
}

static void round_one(sched_lease *l, size_t i, bool holding_pass)
{
    lease_slot *ls;
    bool check;
    uint64_t claimed;
    char host[LT_MAX_HOST_ID + 1];

    /* The slot array never moves (fixed capacity); only this thread writes a slot's lease
     * fields, so they are read unlocked here. */
    ls = &l->slots[i];
    if ((ls->my_rev != 0) != holding_pass)
        return;
    pthread_mutex_lock(&l->mu);
    check = ls->verify && holding_pass; /* a follower has nothing to check */
    claimed = ls->claimed;
    memcpy(host, ls->claimed_by, sizeof(host));
    if (check)
        ls->verify = false;
    pthread_mutex_unlock(&l->mu);
    if (ls->my_rev != 0) {
        renew(l, ls);
        if (check && ls->my_rev != 0 && !verify(l, ls, claimed, host)) {
            pthread_mutex_lock(&l->mu); /* KV did not answer: check again next round */
            if (!ls->verify || claimed > ls->claimed) {
                ls->claimed = claimed;
                memcpy(ls->claimed_by, host, sizeof(ls->claimed_by));
            }
            ls->verify = true;
            pthread_mutex_unlock(&l->mu);
        }
    } else {
        follow(l, ls);
    }
}

/*
 * When a follower next has something to do: its next poll, or the moment the lease it watches
 * runs out (seen unchanged for ttl), whichever comes first. A poll every ttl/4 alone let a
 * standby notice a dead leader up to ttl/4 late, then take over up to ttl/4 after that.
 */
static int64_t follow_due(const sched_lease *l, size_t n, int64_t next_poll, int64_t period)
{
    int64_t due = next_poll;

    for (size_t i = 0; i < n; i++) {
        const lease_slot *ls = &l->slots[i];
        int64_t at = ls->seen_since + l->ttl_ms + 1;

        /* never sooner than a poll after the last try: when KV fails, the due time stays in
         * the past and the thread would spin */
        if (at < ls->tried + period)
            at = ls->tried + period;
        if (ls->my_rev == 0 && ls->seen_rev != 0 && at < due)
            due = at;
    }
    return due;
}

static void *lease_main(void *arg)
{
    sched_lease *l = arg;
    /* Held leases are renewed every ttl/4. Followers read the key more often (ttl/8, at most
     * LEASE_FOLLOW_MAX_MS), so that a renewal is seen soon after it was written and a dead
     * leader is replaced within about ttl + that poll of its last renewal. */
    int64_t hold_period = l->ttl_ms / 4 > 0 ? l->ttl_ms / 4 : 1;
    int64_t follow_period = l->ttl_ms / 8 > 0 ? l->ttl_ms / 8 : 1;
    int64_t next_hold = 0, next_follow = 0;
    size_t i, n;

    if (follow_period > LEASE_FOLLOW_MAX_MS)
        follow_period = LEASE_FOLLOW_MAX_MS;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts;
        int64_t now = lt_loop_now_ms(), wake;
        bool kick = l->kick;

        l->kick = false;
        n = l->n;
        pthread_mutex_unlock(&l->mu);
        /* Held leases first: a stall on lattices we only follow must not delay them. Rounds
         * are due from the previous round's START (not its end): a slow round must not push
         * the next renewal past the deadline. */
        if (kick || now >= next_hold) {
            next_hold = now + hold_period;
            for (i = 0; i < n; i++)
                round_one(l, i, true);
        }
        if (kick || now >= follow_due(l, n, next_follow, follow_period)) {
            next_follow = now + follow_period;
            for (i = 0; i < n; i++)
                round_one(l, i, false);
        }
        pthread_mutex_lock(&l->mu);
        if (l->stop || l->kick)
            continue;
        wake = follow_due(l, n, next_follow, follow_period);
        if (next_hold < wake)
            wake = next_hold;
        wake -= lt_loop_now_ms();
        if (wake <= 0)
            continue;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wake / 1000;
        ts.tv_nsec += (long)(wake % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

lt_status lt__sched_lease_start(sched_lease **new_l, natsConnection *nc,
                                const sched_lease_config *cfg)
{
    sched_lease *l = lt_calloc(1, sizeof(*l));
    lt_status st;

    *new_l = NULL;
    if (l == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "lease");
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->ttl_ms = cfg->ttl_ms > 0 ? cfg->ttl_ms : 6000;
    l->fn = cfg->fn;
    l->qfn = cfg->qfn;
    l->arg = cfg->arg;
    l->replica = lt_strdup(cfg->replica);
    if (l->replica == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "lease");
        goto fail;
    }
    st = open_bucket(l, nc, cfg);
    if (st != LT_OK)
        goto fail;
    /* Slots are added before or while running; a fixed array keeps slot pointers stable. */
    /* Room for the lattices discovered from events (max_lattices) and those named by stored
     * apps or the configuration, which are served whatever the limit. */
    l->cap = 2 * (cfg->max_lattices > 0 ? cfg->max_lattices : LT_SCHED_DEFAULT_MAX_LATTICES);
    if (l->cap < 4096)
        l->cap = 4096;
    l->slots = lt_calloc(l->cap, sizeof(*l->slots));
    if (l->slots == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "lease slots");
        goto fail;
    }
    if (pthread_create(&l->thread, NULL, lease_main, l) != 0) {
        st = LT_FAIL(LT_ERR_IO, "cannot start the lease thread");
        goto fail;
    }
    l->started = true;
    *new_l = l;
    return LT_OK;
fail:
    lt__sched_lease_stop(l);
    return st;
}

bool lt__sched_lease_known(sched_lease *l, size_t slot)
{
    return atomic_load(&l->slots[slot].known); /* the array never moves (as until) */
}

lt_status lt__sched_lease_add(sched_lease *l, const char *lattice, size_t *slot)
{
    lt_status st = LT_OK;
    size_t i;

    pthread_mutex_lock(&l->mu);
    for (i = 0; i < l->n; i++)
        if (strcmp(l->slots[i].lattice, lattice) == 0) {
            *slot = i;
            goto out;
        }
    if (l->n == l->cap) {
        st = LT_FAIL(LT_ERR_TOO_BIG, "more than %zu lattices", l->cap);
        goto out;
    }
    memset(&l->slots[l->n], 0, sizeof(l->slots[l->n]));
    l->slots[l->n].lattice = lt_strdup(lattice);
    if (l->slots[l->n].lattice == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "lease slot");
        goto out;
    }
    *slot = l->n++;
    l->kick = true;
    pthread_cond_signal(&l->cv);
out:
    pthread_mutex_unlock(&l->mu);
    return st;
}

int64_t lt__sched_lease_until(sched_lease *l, size_t slot)
{
    return slot < l->cap ? atomic_load(&l->slots[slot].until) : 0;
}

void lt__sched_lease_verify(sched_lease *l, const char *lattice, const char *host_id,
                            uint64_t claimed)
{
    size_t i;

    pthread_mutex_lock(&l->mu);
    for (i = 0; i < l->n; i++) {
        lease_slot *ls = &l->slots[i];

        if (strcmp(ls->lattice, lattice) != 0)
            continue;
        if (!ls->verify || claimed > ls->claimed) {
            ls->claimed = claimed;
            snprintf(ls->claimed_by, sizeof(ls->claimed_by), "%s", host_id);
        }
        ls->verify = true;
        l->kick = true;
        pthread_cond_signal(&l->cv);
        break;
    }
    pthread_mutex_unlock(&l->mu);
}

void lt__sched_lease_stop(sched_lease *l)
{
    char val[256];
    size_t i;

    if (l == NULL)
        return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    /* Hand leadership over at once instead of making a standby wait a ttl. The epoch stays in
     * the value, so the next term's epoch is still larger. */
    for (i = 0; i < l->n; i++) {
        uint64_t rev;

        value_of(l, true, l->slots[i].epoch, val, sizeof(val));
        if (l->slots[i].my_rev != 0 && l->kv != NULL &&
            kvStore_UpdateString(&rev, l->kv, l->slots[i].lattice, val, l->slots[i].my_rev) ==
                NATS_OK)
            LT_INFO("lease", "lattice %s: lease released", l->slots[i].lattice);
        lt_free(l->slots[i].lattice);
    }
    lt_free(l->slots);
    if (l->kv != NULL)
        kvStore_Destroy(l->kv);
    if (l->js != NULL)
        jsCtx_Destroy(l->js);
    lt_free(l->replica);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    lt_free(l);
}
