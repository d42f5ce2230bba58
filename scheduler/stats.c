/*
 * stats.c - counts of one lattice's scheduler for the admin listener: hosts by
 * state, apps, instances desired/running/failed from the last statuses, the
 * leadership. Read-only walks over the inventory and the apps (loop thread).
 */
#include "sched_int.h"

void lt_sched_stats_get(const lt_sched *s, lt_sched_stats *out)
{
    const sched_app *a;
    size_t it = 0;

    *out = (lt_sched_stats){ .leading = s->leading, .partitioned = s->partitioned };
    out->epoch = s->leading ? s->epoch : 0;
    for (size_t v = 0; v < LT_SCHED_INVENTORY; v++)
        out->cmd_failed[v] = s->n_cmd_failed[v], out->cmd_retried[v] = s->n_cmd_retried[v];
    for (size_t i = 0; i < s->host_list.len; i++) {
        const sched_host *h = s->host_list.items[i];

        if (h->state == HOST_ALIVE)
            out->hosts_alive++;
        else
            out->hosts_unreachable++;
    }
    while ((a = lt_map_next(&s->apps, &it)) != NULL) {
        out->apps++;
        if (!a->deployed)
            continue;
        out->apps_deployed++;
        for (size_t c = 0; c < a->n_cs; c++) {
            out->desired += a->cs[c].desired;
            out->running += a->cs[c].running;
            out->failed += a->cs[c].failed;
        }
    }
}

const char *lt_sched_driver_word(const lt_sched *s)
{
    return s->cfg.wasmcloud_v2 ? "wasmcloud-v2" : "native";
}

const char *lt_sched_app_next(const lt_sched *s, size_t *iter)
{
    const sched_app *a = lt_map_next(&s->apps, iter);

    return a != NULL ? a->name : NULL;
}
