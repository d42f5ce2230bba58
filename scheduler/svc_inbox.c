/*
 * svc_inbox.c - the scheduler service's inbox: items decoded on nats.c threads
 * wait here and reach the loop in batches, one lt_loop_post per batch.
 *
 * What may wait is bounded by what the loop asked for (replies, instance
 * events of the starts it sent) plus one heartbeat per host: a host's newer
 * heartbeat takes the place of the one still waiting (lt__sched_svc_inbox_post_latest).
 * Without that, a loop that falls behind a large fleet turns every heartbeat
 * period into more memory and falls further behind.
 */
#include "sched_svc_int.h"

#include <time.h>

#include "lt_log.h"

/* More keys than this and the map is rebuilt from empty at the next drain. */
#define LATEST_KEYS_MAX 100000u

static void drain(lt_loop *loop, void *arg)
{
    lt_sched_svc *svc = arg;
    svc_item *it, *next;

    pthread_mutex_lock(&svc->inbox_mu);
    it = svc->in_head;
    svc->in_head = svc->in_tail = NULL;
    svc->drain_posted = false;
    svc->in_count = 0;
    if (svc->in_latest.count > 0) /* what it names is taken now */
        lt_map_cleanup(&svc->in_latest);
    pthread_mutex_unlock(&svc->inbox_mu);
    for (; it != NULL; it = next) {
        next = it->next;
        if (lt_loop_stopping(loop))
            it->drop(it); /* shutting down: a long batch must not hold the exit */
        else
            it->run(it);
    }
    lt__sched_writer_handover(svc->writer);
}

/* inbox_mu held: append it; true if the caller must post a drain. */
static bool append(lt_sched_svc *svc, svc_item *it)
{
    it->next = NULL;
    if (svc->in_tail != NULL)
        svc->in_tail->next = it;
    else
        svc->in_head = it;
    svc->in_tail = it;
    svc->in_count++;
    if (svc->drain_posted)
        return false;
    svc->drain_posted = true;
    return true;
}

static void post_drain(lt_sched_svc *svc)
{
    if (lt_loop_post(svc->cfg.loop, drain, svc, NULL) != LT_OK) {
        pthread_mutex_lock(&svc->inbox_mu);
        svc->drain_posted = false; /* the loop is closing: lt_sched_svc_stop frees the items */
        pthread_mutex_unlock(&svc->inbox_mu);
    }
}

void lt__sched_svc_inbox_post(lt_sched_svc *svc, svc_item *it)
{
    bool post;

    pthread_mutex_lock(&svc->inbox_mu);
    if (atomic_load(&svc->stopping)) {
        pthread_mutex_unlock(&svc->inbox_mu);
        it->drop(it);
        return;
    }
    post = append(svc, it);
    pthread_mutex_unlock(&svc->inbox_mu);
    if (post)
        post_drain(svc);
}

void lt__sched_svc_inbox_post_latest(lt_sched_svc *svc, svc_item *it, const char *key,
                                     lt__sched_svc_merge_fn merge)
{
    svc_item *waiting;
    bool post = false;

    pthread_mutex_lock(&svc->inbox_mu);
    if (atomic_load(&svc->stopping)) {
        pthread_mutex_unlock(&svc->inbox_mu);
        it->drop(it);
        return;
    }
    waiting = lt_map_get(&svc->in_latest, key);
    if (waiting != NULL && merge(waiting, it)) { /* it now holds the older content */
        svc->n_merged++;
    } else {
        post = append(svc, it);
        if (waiting == NULL && svc->in_latest.count < LATEST_KEYS_MAX &&
            lt_map_put(&svc->in_latest, key, it) != LT_OK)
            LT_DEBUG("sched", "inbox: no memory to index %s: kept unmerged", key);
        it = NULL;
    }
    pthread_mutex_unlock(&svc->inbox_mu);
    if (it != NULL)
        it->drop(it);
    if (post)
        post_drain(svc);
}

void lt__sched_svc_inbox_stats(lt_sched_svc *svc, size_t *waiting, uint64_t *merged)
{
    pthread_mutex_lock(&svc->inbox_mu);
    *waiting = svc->in_count;
    *merged = svc->n_merged;
    pthread_mutex_unlock(&svc->inbox_mu);
}

bool lt__sched_svc_cb_enter(lt_sched_svc *svc)
{
    atomic_fetch_add(&svc->cb_active, 1); /* seq_cst: stop sees this, or we see stopping */
    if (!atomic_load(&svc->stopping))
        return true;
    atomic_fetch_sub(&svc->cb_active, 1);
    return false;
}

void lt__sched_svc_cb_leave(lt_sched_svc *svc)
{
    atomic_fetch_sub(&svc->cb_active, 1);
}

void lt__sched_svc_inbox_cleanup(lt_sched_svc *svc)
{
    struct timespec ms = { 0, 1000000L };

    /* Callbacks that began before stopping was set may still post: let them finish. */
    while (atomic_load(&svc->cb_active) > 0)
        nanosleep(&ms, NULL);
    pthread_mutex_lock(&svc->inbox_mu); /* subscriptions are gone: nobody adds any more */
    while (svc->in_head != NULL) {
        svc_item *it = svc->in_head;

        svc->in_head = it->next;
        it->drop(it);
    }
    svc->in_tail = NULL;
    svc->in_count = 0;
    lt_map_cleanup(&svc->in_latest);
    pthread_mutex_unlock(&svc->inbox_mu);
    pthread_mutex_destroy(&svc->inbox_mu);
}
