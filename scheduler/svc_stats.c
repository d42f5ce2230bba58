/*
 * svc_stats.c - the scheduler service's counters for the admin listener, and
 * the walk over the lattices it serves (loop thread).
 */
#include <stdatomic.h>
#include <string.h>

#include "sched_svc_int.h"

void lt_sched_svc_stats_get(lt_sched_svc *svc, lt_sched_svc_stats *out)
{
    uint64_t merged;

    *out = (lt_sched_svc_stats){
        .events = svc->n_events,
        .bad_events = svc->n_bad_events + atomic_load(&svc->n_undecodable),
        .requests = svc->n_requests,
        .replies = svc->n_replies,
        .held = svc->n_held,
        .connected = svc->connected,
        .apps_loaded = svc->apps_loaded,
    };
    lt__sched_svc_inbox_stats(svc, &out->inbox_waiting, &merged);
    for (size_t i = 0; i < svc->n_lats && svc->lease != NULL; i++)
        out->lease_unknown += !lt__sched_lease_known(svc->lease, svc->lats[i]->lease_slot);
    lt_hist_read(&svc->reconcile, &out->reconcile);
    memcpy(out->cmd_sent, svc->cmd_sent, sizeof(out->cmd_sent));
    memcpy(out->cmd_unsent, svc->cmd_unsent, sizeof(out->cmd_unsent));
    memcpy(out->cmd_failed, svc->cmd_failed, sizeof(out->cmd_failed));
}

const char *lt_sched_svc_cmd_kind_name(size_t kind)
{
    static const char *const names[LT_SCHED_SVC_CMD_KINDS] = {
        "start", "stop", "link", "unlink", "inventory", "status", "probe",
    };

    return kind < LT_SCHED_SVC_CMD_KINDS ? names[kind] : "";
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
