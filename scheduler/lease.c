/*
 * lease.c - one leader per lattice, elected through a JetStream KV key per
 * lattice updated by compare-and-set on its revision (nats-server 2.9 has no
 * per-key TTL). The holder renews every ttl/3; a follower that sees the same
 * revision for longer than ttl (by its own monotonic clock, so clock skew
 * does not matter) takes it over with a CAS update. The epoch of a term is the
 * revision that won it, so every later term has a larger epoch. A holder
 * that cannot renew for 2/3 of the ttl fences itself. All KV calls block, so
 * they run on this module's own thread; results are handed to a callback
 * that must post to the loop.
 */
#include "sched_svc_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_log.h"
#include "lt_loop.h"

typedef struct {
    char *lattice;
    uint64_t my_rev;      /* revision of our last write while holding it, 0 = not holding */
    uint64_t epoch;       /* revision that won the current term */
    int64_t last_renew;   /* monotonic ms of the last successful write */
    uint64_t seen_rev;    /* follower: last revision seen */
    int64_t seen_since;   /* follower: when it was first seen */
    bool reported;        /* what the callback was last told */
    bool fenced;
} lease_slot;

struct sched_lease {
    kvStore *kv;
    char *replica;
    int64_t ttl_ms;
    sched_lease_fn fn;
    void *arg;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool kick;            /* run a round at once (a lattice was added) */
    lease_slot *slots;
    size_t n, cap;
};

/* Open the lease bucket, created or made to match --replicas/--storage (lt_store_bucket_ensure). */
static lt_status open_bucket(kvStore **kv, jsCtx *js, const char *bucket, int replicas,
                             bool memory)
{
    lt_store_settings want = { .replicas = replicas, .memory = memory, .history = 1 };

    return lt_store_bucket_ensure(js, bucket, "latticed leader leases", &want, kv);
}

static void value_of(const sched_lease *l, bool release, char *out, size_t n)
{
    snprintf(out, n, "{\"holder\":\"%s\",\"ttl_ms\":%lld}", release ? "" : l->replica,
             (long long)l->ttl_ms);
}

/* The holder named in a lease value ("" when released or unreadable). */
static void holder_of(const char *v, int len, char *out, size_t n)
{
    const char *p, *end = v + len;
    size_t k = 0;

    out[0] = '\0';
    p = len > 0 ? memmem(v, (size_t)len, "\"holder\":\"", 10) : NULL;
    if (p == NULL)
        return;
    for (p += 10; p < end && *p != '"' && k + 1 < n; p++)
        out[k++] = *p;
    out[k] = '\0';
}

static void report(sched_lease *l, lease_slot *ls, bool leading)
{
    if (ls->reported == leading)
        return;
    ls->reported = leading;
    LT_INFO("lease", "lattice %s: %s (epoch %llu)", ls->lattice,
            leading ? "this replica leads" : "this replica follows",
            (unsigned long long)ls->epoch);
    l->fn(l->arg, ls->lattice, leading, ls->epoch);
}

static void won(sched_lease *l, lease_slot *ls, uint64_t rev, int64_t now)
{
    ls->my_rev = rev;
    ls->epoch = rev;
    ls->last_renew = now;
    ls->fenced = false;
    report(l, ls, true);
}

static void round_one(sched_lease *l, lease_slot *ls)
{
    char val[256], holder[128];
    int64_t now = lt_loop_now_ms();
    kvEntry *e = NULL;
    uint64_t rev = 0;
    natsStatus s;

    value_of(l, false, val, sizeof(val));
    if (ls->my_rev != 0) {
        s = kvStore_UpdateString(&rev, l->kv, ls->lattice, val, ls->my_rev);
        if (s == NATS_OK) {
            ls->my_rev = rev;
            ls->last_renew = now;
            if (ls->fenced) {
                ls->fenced = false;
                report(l, ls, true);
            }
            return;
        }
        /* Lost to someone else, or just cannot reach JetStream? */
        if (kvStore_Get(&e, l->kv, ls->lattice) == NATS_OK) {
            holder_of(kvEntry_Value(e), kvEntry_ValueLen(e), holder, sizeof(holder));
            if (kvEntry_Revision(e) != ls->my_rev && strcmp(holder, l->replica) != 0) {
                ls->my_rev = 0;
                ls->seen_rev = kvEntry_Revision(e);
                ls->seen_since = now;
                report(l, ls, false);
            }
            kvEntry_Destroy(e);
            return;
        }
        if (now - ls->last_renew > l->ttl_ms * 2 / 3 && !ls->fenced) {
            ls->fenced = true; /* we may have lost it without knowing: stop acting */
            report(l, ls, false);
        }
        return;
    }
    s = kvStore_Get(&e, l->kv, ls->lattice);
    if (s == NATS_NOT_FOUND) {
        if (kvStore_CreateString(&rev, l->kv, ls->lattice, val) == NATS_OK)
            won(l, ls, rev, now);
        return;
    }
    if (s != NATS_OK)
        return;
    rev = kvEntry_Revision(e);
    holder_of(kvEntry_Value(e), kvEntry_ValueLen(e), holder, sizeof(holder));
    kvEntry_Destroy(e);
    if (rev != ls->seen_rev) {
        ls->seen_rev = rev;
        ls->seen_since = now;
    }
    /* Free (released), ours from an earlier life, or silent for a whole ttl: take it. */
    if (holder[0] == '\0' || strcmp(holder, l->replica) == 0 || now - ls->seen_since > l->ttl_ms) {
        uint64_t nrev = 0;

        if (kvStore_UpdateString(&nrev, l->kv, ls->lattice, val, rev) == NATS_OK)
            won(l, ls, nrev, now);
    }
}

static void *lease_main(void *arg)
{
    sched_lease *l = arg;
    size_t i;

    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts;
        int64_t period = l->ttl_ms / 3 > 0 ? l->ttl_ms / 3 : 1;

        l->kick = false;
        for (i = 0; i < l->n && !l->stop; i++) {
            lease_slot *ls = &l->slots[i];

            /* The slot array may grow meanwhile: work on the slot unlocked, by index. */
            pthread_mutex_unlock(&l->mu);
            round_one(l, ls);
            pthread_mutex_lock(&l->mu);
        }
        if (l->stop || l->kick)
            continue;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += period / 1000;
        ts.tv_nsec += (long)(period % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

lt_status sched_lease_start(sched_lease **new_l, jsCtx *js, const sched_lease_config *cfg)
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
    l->arg = cfg->arg;
    l->replica = lt_strdup(cfg->replica);
    if (l->replica == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "lease");
        goto fail;
    }
    st = open_bucket(&l->kv, js, cfg->bucket, cfg->replicas, cfg->memory);
    if (st != LT_OK)
        goto fail;
    /* Slots are added before or while running; a fixed array keeps slot pointers stable. */
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
    sched_lease_stop(l);
    return st;
}

lt_status sched_lease_add(sched_lease *l, const char *lattice)
{
    lt_status st = LT_OK;
    size_t i;

    pthread_mutex_lock(&l->mu);
    for (i = 0; i < l->n; i++)
        if (strcmp(l->slots[i].lattice, lattice) == 0)
            goto out;
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
    l->n++;
    l->kick = true;
    pthread_cond_signal(&l->cv);
out:
    pthread_mutex_unlock(&l->mu);
    return st;
}

void sched_lease_stop(sched_lease *l)
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
    /* Hand leadership over at once instead of making a standby wait a ttl. */
    value_of(l, true, val, sizeof(val));
    for (i = 0; i < l->n; i++) {
        uint64_t rev;

        if (l->slots[i].my_rev != 0 && l->kv != NULL &&
            kvStore_UpdateString(&rev, l->kv, l->slots[i].lattice, val, l->slots[i].my_rev) ==
                NATS_OK)
            LT_INFO("lease", "lattice %s: lease released", l->slots[i].lattice);
        lt_free(l->slots[i].lattice);
    }
    lt_free(l->slots);
    if (l->kv != NULL)
        kvStore_Destroy(l->kv);
    lt_free(l->replica);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    lt_free(l);
}
