/*
 * lt_conn_retire.c - destroying subscriptions and KV watchers only once nats.c's reader is done
 * with them (lt_conn.h explains why: a use after free in nats.c 3.4).
 */
#include "lt_conn.h"

#include <pthread.h>

#include "lt_alloc.h"
#include "lt_log.h"

#define PARKED_MAX 4096u /**< beyond this, parked ones are kept (leaked), never destroyed early */

typedef struct {
    natsConnection *nc; /* borrowed: what it holds keeps a reference on it */
    natsSubscription *sub;
    kvWatcher *w;
} parked;

static pthread_mutex_t parked_mu = PTHREAD_MUTEX_INITIALIZER;
static parked *parked_list; /* reachable: what waits here is not a leak */
static size_t parked_n, parked_cap;

/* Whether nc's reader is done with every message it read before now: a flush answered within
 * timeout_ms. A closed connection is not proof: nats.c marks it closed before it joins the
 * reader (then lt_conn_parked_free, after natsConnection_Close returned, frees what waits). */
static bool settled(natsConnection *nc, int64_t timeout_ms)
{
    return nc != NULL && timeout_ms > 0 &&
           natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED &&
           natsConnection_FlushTimeout(nc, timeout_ms) == NATS_OK;
}

static void destroy(const parked *p)
{
    natsSubscription_Destroy(p->sub);
    kvWatcher_Destroy(p->w);
}

static void park(const parked *p)
{
    pthread_mutex_lock(&parked_mu);
    if (parked_n == parked_cap && parked_cap < PARKED_MAX) {
        size_t cap = parked_cap ? parked_cap * 2 : 16;
        parked *l = lt_realloc(parked_list, cap * sizeof(*l));

        if (l != NULL) {
            parked_list = l;
            parked_cap = cap;
        }
    }
    if (parked_n < parked_cap)
        parked_list[parked_n++] = *p;
    else
        LT_WARN("conn", "too many subscriptions waiting to be destroyed: one is kept");
    pthread_mutex_unlock(&parked_mu);
}

/* Destroy what was parked on nc before a flush on it that was answered (the caller's). */
static void sweep(natsConnection *nc)
{
    parked *mine = NULL;
    size_t n = 0, k = 0;

    pthread_mutex_lock(&parked_mu);
    for (size_t i = 0; i < parked_n; i++)
        n += parked_list[i].nc == nc;
    if (n > 0 && (mine = lt_malloc(n * sizeof(*mine))) != NULL) {
        size_t keep = 0;

        for (size_t i = 0; i < parked_n; i++) {
            if (parked_list[i].nc == nc)
                mine[k++] = parked_list[i];
            else
                parked_list[keep++] = parked_list[i];
        }
        parked_n = keep;
    }
    pthread_mutex_unlock(&parked_mu);
    for (size_t i = 0; i < k; i++)
        destroy(&mine[i]);
    lt_free(mine);
}

/* What is retired: destroyed when nc settled (ok), else parked. */
static void dispose(const parked *p, bool ok)
{
    if (ok)
        destroy(p);
    else
        park(p);
}

void lt_conn_subs_free(natsConnection *nc, natsSubscription *const *subs, size_t n,
                       int64_t timeout_ms)
{
    bool any = false, ok;

    for (size_t i = 0; i < n; i++) {
        if (subs[i] != NULL) {
            (void)natsSubscription_Unsubscribe(subs[i]); /* fails only when already closed */
            any = true;
        }
    }
    if (!any)
        return;
    ok = settled(nc, timeout_ms);
    for (size_t i = 0; i < n; i++)
        if (subs[i] != NULL)
            dispose(&(parked){ nc, subs[i], NULL }, ok);
    if (ok)
        sweep(nc);
}

void lt_conn_sub_free(natsConnection *nc, natsSubscription *sub, int64_t timeout_ms)
{
    lt_conn_subs_free(nc, &sub, 1, timeout_ms);
}

void lt_conn_watcher_free(natsConnection *nc, kvWatcher *w, int64_t timeout_ms)
{
    bool ok;

    if (w == NULL)
        return;
    (void)kvWatcher_Stop(w);
    ok = settled(nc, timeout_ms);
    dispose(&(parked){ nc, NULL, w }, ok);
    if (ok)
        sweep(nc);
}

void lt_conn_parked_sweep(natsConnection *nc, int64_t timeout_ms)
{
    bool any = false;

    pthread_mutex_lock(&parked_mu);
    for (size_t i = 0; i < parked_n && !any; i++)
        any = parked_list[i].nc == nc;
    pthread_mutex_unlock(&parked_mu);
    if (any && settled(nc, timeout_ms))
        sweep(nc);
}

size_t lt_conn_parked_count(void)
{
    size_t n;

    pthread_mutex_lock(&parked_mu);
    n = parked_n;
    pthread_mutex_unlock(&parked_mu);
    return n;
}

void lt_conn_parked_free(void)
{
    pthread_mutex_lock(&parked_mu);
    for (size_t i = 0; i < parked_n; i++)
        destroy(&parked_list[i]);
    lt_free(parked_list);
    parked_list = NULL;
    parked_n = parked_cap = 0;
    pthread_mutex_unlock(&parked_mu);
}
