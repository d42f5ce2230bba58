/*
 * svc_stats.c - the scheduler service's counters for the admin listener, and
 * the walk over the lattices it serves (loop thread).
 */
#include "sched_svc_int.h"

void lt_sched_svc_stats_get(lt_sched_svc *svc, lt_sched_svc_stats *out)
{
    uint64_t merged;

    *out = (lt_sched_svc_stats){
        .events = svc->n_events,
        .bad_events = svc->n_bad_events,
        .requests = svc->n_requests,
        .replies = svc->n_replies,
        .held = svc->n_held,
        .connected = svc->connected,
        .apps_loaded = svc->apps_loaded,
    };
    lt__sched_svc_inbox_stats(svc, &out->inbox_waiting, &merged);
    lt_hist_read(&svc->reconcile, &out->reconcile);
}

size_t lt_sched_svc_lattice_count(const lt_sched_svc *svc)
{
    return svc->n_lats;
}

lt_sched *lt_sched_svc_lattice_nth(lt_sched_svc *svc, size_t i, const char **name)
{
    if (i >= svc->n_lats)
        return NULL;
    *name = svc->lats[i]->name;
    return svc->lats[i]->s;
}
