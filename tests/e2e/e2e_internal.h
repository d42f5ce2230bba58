/*
 * e2e_internal.h - the harness's private state, shared by e2e.c (processes,
 * observer, API) and e2e_chaos.c (fault bookkeeping, manifest applier,
 * invariant checks of the chaos suite). Not for tests.
 */
#ifndef LT_E2E_INTERNAL_H
#define LT_E2E_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nats/nats.h>

#include "e2e.h"
#include "lt_natcluster.h"
#include "lt_natsrv.h"

#define MAX_PROCS 32
#define MAX_HOSTS 128
#define MAX_LINKS 8192
#define FRESH_MS \
    1500 /* the observer ignores hosts silent for 3 heartbeats (of 500 ms, or of
                         * the host's own interval when longer: e2e_fresh) */
#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

typedef struct {
    pid_t pid;
    char name[64];
    char log[512];
    bool alive;
} e2e_proc;

/* What a heartbeat said about one instance (copied: no protobuf message is kept). */
typedef struct {
    char id[40], app[64], comp[64], version[64], image[160];
    int state;
} obs_inst;

typedef struct {
    char lattice[64];
    char id[128];
    bool seen;
    obs_inst *inst;
    size_t n_inst;
    char (*link_ids)[40];
    size_t n_link_ids;
    int64_t at;
    bool gone;
    uint64_t newest_epoch; /* the heartbeat's newest accepted epoch */
    uint32_t interval_ms;  /* the heartbeat's announced interval */
} obs_host;

typedef struct {
    char lattice[64];
    char host[128];
    char link_id[40];
    char source[40];
    char cfg[256];
} obs_link;

struct e2e {
    lt_natsrv *srv;
    char *dir;
    natsConnection *nc;
    e2e_proc procs[MAX_PROCS];
    size_t n_procs;
    natsSubscription *subs[8];
    size_t n_subs;
    pthread_mutex_t mu;
    obs_host hosts[MAX_HOSTS];
    size_t n_hosts;
    obs_link links[MAX_LINKS];
    size_t n_links;
    size_t starts[8];
    char start_lattice[8][64];
    size_t n_start_lattices;
    bool closing;
    lt_natcluster *cluster;  /* e2e_new_cluster: the nodes; srv is then NULL */
    char urls[256];          /* what clients connect to (one URL or the cluster's list) */
    struct e2e_chaos *chaos; /* e2e_chaos.c's bookkeeping, NULL until first needed */
};


/* Whether host h of lattice has a heartbeat younger than 3 of its intervals (>= FRESH_MS). */
bool e2e_fresh(const obs_host *h, const char *lattice);

/* The observer's message callback (e2e.c); e2e_chaos.c subscribes it to _INBOX.> too. */
void e2e_on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure);

/* e2e_chaos.c: the observer hands it what e2e.c does not handle itself (cp events, command
 * epochs, command replies on _INBOX); called with e->mu held. tok: the subject's tokens. */
void e2e_chaos_on_msg(e2e *e, char **tok, int n, natsMsg *msg);
/* e2e_chaos.c: free the bookkeeping (in e2e_free, after the observer stopped). */
void e2e_chaos_free(e2e *e);

#endif
