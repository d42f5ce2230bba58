/*
 * daemon_sched.c - latticed's glue to the scheduler service: the daemon's
 * options become an lt_sched_svc_config (lattice list, heartbeat and host
 * timeouts, partition guard, lease), and NATS connection changes reach it on
 * the loop.
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_nkey.h"
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

/* --command-signing-seed FILE: the seed (never echoed) and a line naming the public key. */
static lt_status read_signing_seed(const char *path, uint8_t seed[32])
{
    char text[256] = "", pub[LT_NKEY_PUBLIC_TEXT + 1];
    uint8_t raw_pub[32];
    FILE *f = fopen(path, "r");
    size_t n;
    lt_status st;

    if (f == NULL)
        return LT_FAIL(LT_ERR_IO, "--command-signing-seed %s: %s", path, strerror(errno));
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    st = lt_nkey_parse_seed(text, seed);
    explicit_bzero(text, sizeof(text));
    if (st != LT_OK)
        return LT_FAIL(LT_ERR_INVALID, "--command-signing-seed %s: not an nkey seed", path);
    st = lt_nkey_public_of(seed, raw_pub, pub);
    if (st == LT_OK)
        LT_INFO("sched", "host commands are signed; hosts check them with --leader-key %s", pub);
    return st;
}

lt_status lt_daemon_sched_start(const lt_daemon_config *cfg, natsConnection *nc, jsCtx *js,
                                natsConnection *bulk_nc, lt_store *store, lt_loop *loop,
                                lt_sched_svc **out)
{
    const char *lattices[MAX_LATTICES], *v2_lattices[MAX_LATTICES];
    char *list = NULL, *v2_list = NULL;
    uint8_t seed[32];
    lt_sched_svc_config sc = { 0 };
    lt_status st;

    *out = NULL;
    if (cfg->command_signing_seed != NULL) {
        st = read_signing_seed(cfg->command_signing_seed, seed);
        if (st != LT_OK)
            return st;
        sc.sign_seed = seed;
    }
    if ((cfg->lattices != NULL && (list = lt_strdup(cfg->lattices)) == NULL) ||
        (cfg->wasmcloud_v2 != NULL && (v2_list = lt_strdup(cfg->wasmcloud_v2)) == NULL)) {
        lt_free(list);
        return LT_FAIL(LT_ERR_NOMEM, "lattice list");
    }
    sc.nc = nc;
    sc.js = js;
    sc.store = store;
    sc.bulk_nc = bulk_nc;
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
    sc.v2.lattices = v2_lattices;
    sc.v2.n_lattices = v2_list != NULL ? split_list(v2_list, v2_lattices) : 0;
    sc.v2.host_prefix = cfg->v2_host_prefix;
    sc.v2.operator_prefix = cfg->v2_operator_prefix;
    sc.v2.start_timeout_ms = cfg->v2_start_timeout_ms;
    sc.v2.status_timeout_ms = cfg->v2_status_timeout_ms;
    sc.v2.stop_timeout_ms = cfg->v2_stop_timeout_ms;
    sc.v2.probe_timeout_ms = cfg->v2_probe_timeout_ms;
    sc.v2.status_interval_ms = cfg->v2_status_interval_ms;
    sc.v2.heartbeat_ms = cfg->v2_heartbeat_ms;
    st = lt_sched_svc_start(out, &sc);
    explicit_bzero(seed, sizeof(seed));
    lt_free(list);
    lt_free(v2_list);
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
