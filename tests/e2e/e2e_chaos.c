/*
 * e2e_chaos.c - the chaos suite's part of the harness (e2e.h, "Chaos suite"):
 * what the observer learns about faults (cp host.lost / instance.lost events,
 * the epoch of every command and whether the host accepted it, matched with
 * its reply on _INBOX), the manifest applier thread, and the invariant checks
 * run after each scenario (versions readable, desired counts, no duplicates).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <nats/nats.h>

#include "e2e_internal.h"
#include "latticed/cp/v1/events.pb-c.h"
#include "latticed/host/v1/command.pb-c.h"
#include "latticed/host/v1/types.pb-c.h"
#include "lt_testutil.h"

#define MAX_PENDING 4096
#define MAX_LOST 256
#define MAX_LAT 8
#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x

/* One command seen on lattice.{L}.host.{id}.{verb}, or its reply seen first. */
typedef struct {
    char reply[128];
    char lattice[64], host[128], verb[16];
    uint64_t epoch;
    bool stale, have_cmd, have_reply, used;
    int code;
} pending;

typedef struct {
    char lattice[64];
    uint64_t max_epoch;
    e2e_faults f;
} lat_stats;

struct e2e_chaos {
    pending pend[MAX_PENDING];
    size_t next;
    lat_stats lat[MAX_LAT];
    size_t n_lat;
    struct {
        char lattice[64], host[128], source[64];
    } lost[MAX_LOST];
    size_t n_lost;
    bool watching; /* e2e_watch_replies was called */
};

static struct e2e_chaos *chaos(e2e *e)
{
    if (e->chaos == NULL) {
        e->chaos = calloc(1, sizeof(*e->chaos));
        ck_assert_ptr_nonnull(e->chaos);
    }
    return e->chaos;
}

static lat_stats *stats(struct e2e_chaos *c, const char *lattice)
{
    size_t i;

    for (i = 0; i < c->n_lat; i++)
        if (strcmp(c->lat[i].lattice, lattice) == 0)
            return &c->lat[i];
    if (c->n_lat == MAX_LAT)
        return NULL;
    snprintf(c->lat[c->n_lat].lattice, 64, "%s", lattice);
    return &c->lat[c->n_lat++];
}

void e2e_chaos_free(e2e *e)
{
    if (e->chaos == NULL)
        return;
    free(e->chaos);
    e->chaos = NULL;
}

/* ---- observer side (called by e2e_on_msg with e->mu held) ---- */

/* Both halves (command and reply) known: judge it. */
static void settle(struct e2e_chaos *c, pending *p)
{
    lat_stats *ls = stats(c, p->lattice);
    bool accepted = p->code == RC(OK) || p->code == RC(ALREADY_DONE) || p->code == RC(NOT_FOUND);

    if (ls == NULL)
        return;
    ls->f.replies++;
    if (p->stale && accepted) {
        if (ls->f.stale_accepted++ == 0)
            snprintf(ls->f.first_violation, sizeof(ls->f.first_violation),
                     "%s to %s with epoch %llu accepted after epoch %llu was in use", p->verb,
                     p->host, (unsigned long long)p->epoch, (unsigned long long)ls->max_epoch);
    }
    p->used = false;
}

static pending *find_pending(struct e2e_chaos *c, const char *reply)
{
    size_t i;

    for (i = 0; i < MAX_PENDING; i++)
        if (c->pend[i].used && strcmp(c->pend[i].reply, reply) == 0)
            return &c->pend[i];
    return NULL;
}

static pending *new_pending(struct e2e_chaos *c, const char *reply)
{
    pending *p = &c->pend[c->next++ % MAX_PENDING]; /* the oldest is forgotten */

    memset(p, 0, sizeof(*p));
    snprintf(p->reply, sizeof(p->reply), "%s", reply);
    p->used = true;
    return p;
}

static uint64_t command_epoch(const char *verb, natsMsg *msg)
{
    size_t len = (size_t)natsMsg_GetDataLength(msg);
    const uint8_t *d = (const uint8_t *)natsMsg_GetData(msg);
    uint64_t ep = 0;

#define EPOCH_OF(type, fn)                                                                \
    do {                                                                                  \
        Latticed__Host__V1__##type *m = latticed__host__v1__##fn##__unpack(NULL, len, d); \
        if (m != NULL) {                                                                  \
            ep = m->epoch;                                                                \
            latticed__host__v1__##fn##__free_unpacked(m, NULL);                           \
        }                                                                                 \
    } while (0)
    if (strcmp(verb, "start") == 0)
        EPOCH_OF(StartRequest, start_request);
    else if (strcmp(verb, "stop") == 0)
        EPOCH_OF(StopRequest, stop_request);
    else if (strcmp(verb, "link") == 0)
        EPOCH_OF(LinkRequest, link_request);
    else if (strcmp(verb, "unlink") == 0)
        EPOCH_OF(UnlinkRequest, unlink_request);
    else if (strcmp(verb, "inventory") == 0)
        EPOCH_OF(InventoryRequest, inventory_request);
#undef EPOCH_OF
    return ep;
}

static void on_command(struct e2e_chaos *c, const char *lattice, const char *host, const char *verb,
                       natsMsg *msg)
{
    lat_stats *ls = stats(c, lattice);
    uint64_t ep = command_epoch(verb, msg);
    const char *reply = natsMsg_GetReply(msg);
    bool tracked = strcmp(verb, "inventory") != 0;
    pending *p;

    if (ls == NULL || ep == 0)
        return;
    if (tracked)
        ls->f.commands++;
    if (ep < ls->max_epoch && tracked)
        ls->f.stale_sent++;
    if (reply != NULL && tracked) {
        p = find_pending(c, reply);
        if (p == NULL)
            p = new_pending(c, reply);
        snprintf(p->lattice, sizeof(p->lattice), "%s", lattice);
        snprintf(p->host, sizeof(p->host), "%s", host);
        snprintf(p->verb, sizeof(p->verb), "%s", verb);
        p->epoch = ep;
        p->stale = ep < ls->max_epoch;
        p->have_cmd = true;
        if (p->have_reply)
            settle(c, p);
    }
    if (ep > ls->max_epoch)
        ls->max_epoch = ep;
    ls->f.newest_epoch = ls->max_epoch;
}

static void on_reply(struct e2e_chaos *c, natsMsg *msg)
{
    Latticed__Host__V1__CommandReply *r =
        latticed__host__v1__command_reply__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                                                  (const uint8_t *)natsMsg_GetData(msg));
    pending *p;

    if (r == NULL)
        return;
    if (r->host_id != NULL && r->host_id[0] != '\0') {
        p = find_pending(c, natsMsg_GetSubject(msg));
        if (p == NULL)
            p = new_pending(c, natsMsg_GetSubject(msg));
        p->code = r->code;
        p->have_reply = true;
        if (p->have_cmd)
            settle(c, p);
    }
    latticed__host__v1__command_reply__free_unpacked(r, NULL);
}

static void on_cp_event(struct e2e_chaos *c, const char *lattice, const char *type, natsMsg *msg)
{
    size_t len = (size_t)natsMsg_GetDataLength(msg);
    const uint8_t *d = (const uint8_t *)natsMsg_GetData(msg);
    lat_stats *ls = stats(c, lattice);

    if (ls == NULL)
        return;
    if (strcmp(type, "host.lost") == 0) {
        Latticed__Cp__V1__HostLost *m = latticed__cp__v1__host_lost__unpack(NULL, len, d);

        const char *src = NULL;

        ls->f.hosts_lost++;
        if (m != NULL && c->n_lost < MAX_LOST) {
            if (natsMsgHeader_Get(msg, "ce-source", &src) != NATS_OK)
                src = "?";
            snprintf(c->lost[c->n_lost].lattice, 64, "%s", lattice);
            snprintf(c->lost[c->n_lost].host, 128, "%s", m->host_id);
            snprintf(c->lost[c->n_lost].source, 64, "%s", src);
            if (ls->f.hosts_lost == 1)
                snprintf(ls->f.first_lost, sizeof(ls->f.first_lost), "%s by %s", m->host_id, src);
            c->n_lost++;
        }
        if (m != NULL)
            latticed__cp__v1__host_lost__free_unpacked(m, NULL);
    } else if (strcmp(type, "instance.lost") == 0) {
        Latticed__Cp__V1__InstanceLost *m = latticed__cp__v1__instance_lost__unpack(NULL, len, d);

        if (m != NULL &&
            m->reason == LATTICED__CP__V1__INSTANCE_LOST_REASON__INSTANCE_LOST_REASON_HOST_LOST)
            ls->f.instances_lost_host++;
        if (m != NULL)
            latticed__cp__v1__instance_lost__free_unpacked(m, NULL);
    }
}

void e2e_chaos_on_msg(e2e *e, char **tok, int n, natsMsg *msg)
{
    struct e2e_chaos *c = chaos(e);
    char type[128];

    if (n == 5 && strcmp(tok[0], "lattice") == 0 && strcmp(tok[2], "host") == 0) {
        on_command(c, tok[1], tok[3], tok[4], msg);
    } else if (n == 6 && strcmp(tok[0], "lattice") == 0 && strcmp(tok[2], "evt") == 0 &&
               strcmp(tok[3], "cp") == 0) {
        snprintf(type, sizeof(type), "%s.%s", tok[4], tok[5]);
        on_cp_event(c, tok[1], type, msg);
    } else if (n >= 2 && strcmp(tok[0], "_INBOX") == 0) {
        on_reply(c, msg);
    }
}

/* ---- queries ---- */

void e2e_watch_replies(e2e *e)
{
    struct e2e_chaos *c;

    pthread_mutex_lock(&e->mu);
    c = chaos(e);
    pthread_mutex_unlock(&e->mu);
    ck_assert(!c->watching);
    c->watching = true;
    /* one of the observer's subscriptions: e2e_free drains it before freeing anything */
    ck_assert_uint_lt(e->n_subs, 8);
    ck_assert_int_eq(natsConnection_Subscribe(&e->subs[e->n_subs], e->nc, "_INBOX.>", e2e_on_msg,
                                              e),
                     NATS_OK);
    natsSubscription_SetPendingLimits(e->subs[e->n_subs], 1000000, 1024 * 1024 * 1024);
    e->n_subs++;
    ck_assert_int_eq(natsConnection_Flush(e->nc), NATS_OK);
}

void e2e_faults_get(e2e *e, const char *lattice, e2e_faults *out)
{
    lat_stats *ls;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&e->mu);
    ls = stats(chaos(e), lattice);
    if (ls != NULL)
        *out = ls->f;
    pthread_mutex_unlock(&e->mu);
}

bool e2e_host_was_lost(e2e *e, const char *lattice, const char *prefix)
{
    struct e2e_chaos *c;
    bool hit = false;
    size_t i;

    pthread_mutex_lock(&e->mu);
    c = chaos(e);
    for (i = 0; i < c->n_lost && !hit; i++)
        hit = strcmp(c->lost[i].lattice, lattice) == 0 &&
              strncmp(c->lost[i].host, prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&e->mu);
    return hit;
}

static bool fresh_host(const obs_host *h, const char *lattice)
{
    return e2e_fresh(h, lattice);
}

static bool running(const obs_inst *in)
{
    return in->state == IS(RUNNING) || in->state == IS(STARTING);
}

size_t e2e_duplicate_ids(e2e *e, const char *lattice)
{
    size_t i, j, k, l, dups = 0;

    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_hosts; i++) {
        const obs_host *a = &e->hosts[i];

        if (!fresh_host(a, lattice))
            continue;
        for (j = 0; j < a->n_inst; j++) {
            if (!running(&a->inst[j]))
                continue;
            for (k = i + 1; k < e->n_hosts; k++) {
                const obs_host *b = &e->hosts[k];

                if (!fresh_host(b, lattice))
                    continue;
                for (l = 0; l < b->n_inst; l++)
                    dups += running(&b->inst[l]) && strcmp(a->inst[j].id, b->inst[l].id) == 0;
            }
        }
    }
    pthread_mutex_unlock(&e->mu);
    return dups;
}

size_t e2e_excess(e2e *e, const char *lattice, const char *app, const char *comp)
{
    char seen[64][64];
    size_t n_seen = 0, i, j, k, worst = 0;

    /* the versions running now (bounded: a rollout has few at once) */
    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_hosts; i++) {
        const obs_host *h = &e->hosts[i];

        if (!fresh_host(h, lattice))
            continue;
        for (j = 0; j < h->n_inst; j++) {
            const obs_inst *in = &h->inst[j];

            if (!running(in) || strcmp(in->app, app) != 0 || strcmp(in->comp, comp) != 0)
                continue;
            for (k = 0; k < n_seen && strcmp(seen[k], in->version) != 0; k++)
                ;
            if (k == n_seen && n_seen < 64)
                snprintf(seen[n_seen++], 64, "%s", in->version);
        }
    }
    pthread_mutex_unlock(&e->mu);
    for (k = 0; k < n_seen; k++) {
        size_t c = e2e_count(e, lattice, app, comp, seen[k], NULL), want;

        want = (size_t)e2e_replicas(seen[k]);
        if (c > want && c - want > worst)
            worst = c - want;
    }
    return worst;
}

uint64_t e2e_hosts_min_epoch(e2e *e, const char *lattice)
{
    uint64_t min = 0;
    size_t i;

    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_hosts; i++)
        if (fresh_host(&e->hosts[i], lattice) && (min == 0 || e->hosts[i].newest_epoch < min))
            min = e->hosts[i].newest_epoch;
    pthread_mutex_unlock(&e->mu);
    return min;
}

bool e2e_alive(e2e *e, pid_t pid)
{
    size_t i;

    for (i = 0; i < e->n_procs; i++) {
        if (e->procs[i].pid != pid || !e->procs[i].alive)
            continue;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            e->procs[i].alive = false;
            return false;
        }
        return true;
    }
    return false;
}

const char *e2e_leader(e2e *e, const char *lattice, uint64_t *epoch)
{
    static char holder[128];
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvEntry *ent = NULL;
    const char *v, *hit;

    holder[0] = '\0';
    if (epoch != NULL)
        *epoch = 0;
    if (natsConnection_JetStream(&js, e->nc, NULL) == NATS_OK &&
        js_KeyValue(&kv, js, "latticed_leases") == NATS_OK &&
        kvStore_Get(&ent, kv, lattice) == NATS_OK) {
        v = kvEntry_ValueString(ent);
        hit = v != NULL ? strstr(v, "\"holder\":\"") : NULL;
        if (hit != NULL)
            sscanf(hit + 10, "%127[^\"]", holder);
        if (epoch != NULL) { /* the epoch in the value, else (older format) the revision */
            hit = v != NULL ? strstr(v, "\"epoch\":") : NULL;
            *epoch = hit != NULL ? strtoull(hit + 8, NULL, 10) : kvEntry_Revision(ent);
        }
    }
    kvEntry_Destroy(ent);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    return holder;
}

json_t *e2e_api_try(e2e *e, const char *lattice, const char *op, const char *name, const char *body,
                    size_t len, int timeout_ms)
{
    char subj[512];
    natsMsg *reply = NULL;
    json_t *j;

    if (name != NULL)
        snprintf(subj, sizeof(subj), "wadm.api.%s.model.%s.%s", lattice, op, name);
    else
        snprintf(subj, sizeof(subj), "wadm.api.%s.model.%s", lattice, op);
    if (natsConnection_Request(&reply, e->nc, subj, body != NULL ? body : "", (int)len,
                               timeout_ms) != NATS_OK)
        return NULL;
    j = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    natsMsg_Destroy(reply);
    return j;
}
