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
    natsSubscription *sub; /* one of the two */
    kvWatcher *w;
} parked;

static pthread_mutex_t parked_mu = PTHREAD_MUTEX_INITIALIZER;
static parked *parked_list; /* reachable: what waits here is not a leak */
static size_t parked_n, parked_cap;

/* Whether nc's reader is done with what it read before now: a flush answered in time. */
static bool settled(natsConnection *nc)
{
    if (nc == NULL)
        return false;
    if (natsConnection_IsClosed(nc))
        return true; /* its reader was joined */
    return natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED &&
           natsConnection_FlushTimeout(nc, LT_CONN_SETTLE_MS) == NATS_OK;
}

static void park(natsSubscription *sub, kvWatcher *w)
{
    pthread_mutex_lock(&parked_mu);
    if (parked_n == parked_cap && parked_cap < PARKED_MAX) {
        size_t cap = parked_cap ? parked_cap * 2 : 16;
        parked *p = lt_realloc(parked_list, cap * sizeof(*p));

        if (p != NULL) {
            parked_list = p;
            parked_cap = cap;
        }
    }
    if (parked_n < parked_cap)
        parked_list[parked_n++] = (parked){ sub, w };
    else
        LT_WARN("conn", "too many subscriptions waiting to be destroyed: one is kept");
    pthread_mutex_unlock(&parked_mu);
}

void lt_conn_sub_free(natsConnection *nc, natsSubscription *sub)
{
    if (sub == NULL)
        return;
    (void)natsSubscription_Unsubscribe(sub); /* fails only when already closed */
    if (settled(nc))
        natsSubscription_Destroy(sub);
    else
        park(sub, NULL);
}

void lt_conn_watcher_free(natsConnection *nc, kvWatcher *w)
{
    if (w == NULL)
        return;
    (void)kvWatcher_Stop(w);
    if (settled(nc))
        kvWatcher_Destroy(w);
    else
        park(NULL, w);
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
    for (size_t i = 0; i < parked_n; i++) {
        natsSubscription_Destroy(parked_list[i].sub);
        kvWatcher_Destroy(parked_list[i].w);
    }
    lt_free(parked_list);
    parked_list = NULL;
    parked_n = parked_cap = 0;
    pthread_mutex_unlock(&parked_mu);
}
