/*
 * daemon_sched.c - latticed's glue to the scheduler service: the daemon's
 * options become an lt_sched_svc_config (lattice list, heartbeat and host
 * timeouts, partition guard, lease), and NATS connection changes reach it on
 * the loop.
 */
#include "daemon.h"

#include <string.h>

#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_sched_svc.h"

#define MAX_LATTICES 64

static lt_sched_svc *running; /* loop thread only */

/* Split "a,b,c" into at most MAX_LATTICES tokens in buf (modified copy). */
static size_t split_list(char *buf, const char **out)
{
    size_t n = 0;
    char *p = buf;

    while (p != NULL && *p != '\0' && n < MAX_LATTICES) {
        char *comma = strchr(p, ',');

        if (comma != NULL)
            *comma = '\0';
        while (*p == ' ')
            p++;
        if (*p != '\0')
            out[n++] = p;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return n;
}

lt_status lt_daemon_sched_start(const lt_daemon_config *cfg, natsConnection *nc, jsCtx *js,
                                lt_store *store, lt_loop *loop, lt_sched_svc **out)
{
    const char *lattices[MAX_LATTICES];
    char *list = NULL;
    lt_sched_svc_config sc = { 0 };
    lt_status st;

    *out = NULL;
    if (cfg->lattices != NULL && (list = lt_strdup(cfg->lattices)) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "lattice list");
    sc.nc = nc;
    sc.js = js;
    sc.store = store;
    sc.loop = loop;
    sc.prefix = cfg->lattice_prefix;
    sc.lattices = lattices;
    sc.n_lattices = list != NULL ? split_list(list, lattices) : 0;
    sc.replica_id = cfg->replica_id;
    sc.lease_ttl_ms = cfg->lease_ttl_ms;
    sc.max_lattices = (size_t)cfg->max_lattices;
    sc.replicas = (int)cfg->replicas;
    sc.memory = cfg->storage != NULL && strcmp(cfg->storage, "memory") == 0;
    sc.sched.default_interval_ms = (uint32_t)cfg->host_interval_ms;
    sc.sched.host_timeout_ms = cfg->host_timeout_ms;
    sc.sched.partition_share = (double)cfg->partition_percent / 100.0;
    sc.sched.command_timeout_ms = cfg->command_timeout_ms;
    sc.sched.warmup_ms = cfg->warmup_ms;
    if (cfg->dev && cfg->warmup_ms == 0)
        sc.sched.warmup_ms = 1500; /* the --dev host heartbeats every second */
    st = lt_sched_svc_start(out, &sc);
    lt_free(list);
    running = *out;
    return st;
}

void lt_daemon_sched_stop(lt_sched_svc *svc)
{
    running = NULL;
    lt_sched_svc_stop(svc);
}

void lt_daemon_sched_connection(bool up)
{
    if (running != NULL)
        lt_sched_svc_connection(running, up);
}
