/*
 * svc_v2_watch.c - every replica watches `latticed.v2.{host prefix}.*.workload.{start,stop}`,
 * where the leader publishes a copy of each start and stop request just before sending it to
 * the host: a standby learns which workloads exist where (a v2 heartbeat carries only counts),
 * so after a failover it neither starts a second copy nor forgets one (docs/wasmcloud-v2.md,
 * "Failover"), and `...workload.answered` (body: the workload id) once a start was answered.
 * Not the hosts' own subjects: a subscriber there would hide "no responders"
 * from the leader when a host has died. Only start requests carrying latticed's owner
 * annotations for a lattice this replica serves are recorded: another scheduler's workloads
 * are none of our business. Our own copies (header Latticed-From: our inbox) are skipped.
 */
#include "sched_v2_int.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_pbjson.h"

/* The header naming the sender of a copy (its reply inbox): a replica skips its own. */
#define ANNOUNCE_FROM "Latticed-From"

typedef struct {
    svc_item hdr; /* first */
    sched_v2 *v;
    char host[LT_MAX_HOST_ID + 1];
    bool stop;
    bool answered; /* the leader's start of wid was answered */
    char *wid;
    Wasmcloud__Runtime__V2__WorkloadStartRequest *start;
} watch_item;

static void watch_drop(svc_item *arg)
{
    watch_item *it = (watch_item *)arg;

    if (it->start != NULL)
        protobuf_c_message_free_unpacked(&it->start->base, NULL);
    lt_free(it->wid);
    lt_free(it);
}

static void watch_apply(svc_item *arg)
{
    watch_item *it = (watch_item *)arg;
    v2_host *h = lt_map_get(&it->v->hosts, it->host);
    svc_lattice *l;
    v2_wl *w;

    if (it->answered) {
        w = h != NULL ? lt__sched_v2_wl(h, it->wid) : NULL;
        if (w != NULL)
            w->answered = true;
        goto out;
    }
    if (h == NULL && !it->stop) {
        /* A start to a host not heard yet (we started just now, or its heartbeat is late):
         * know the host from it; its first heartbeat brings the rest. */
        l = lt__sched_svc_lattice_get(it->v->svc,
                                      lt__sched_v2_ann(it->start->workload, LT_SCHED_ANN_LATTICE),
                                      false);
        h = l != NULL ? lt__sched_v2_host(it->v, it->host, l) : NULL;
    }
    if (h == NULL)
        goto out;
    if (it->stop) {
        w = lt__sched_v2_wl(h, it->wid);
        if (w != NULL && w->state != LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_STOPPING) {
            w->state = LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_STOPPING;
            w->since = lt_loop_now_ms(); /* a standby forgets it after a stop timeout */
            w->next_status = 0;
            lt__sched_v2_feed(it->v, h, lt_loop_now_ms());
        }
    } else if ((w = lt__sched_v2_wl(h, it->wid)) == NULL) {
        if (lt__sched_v2_record_start(h, it->wid, it->start->workload, lt_loop_now_ms()) != NULL)
            lt__sched_v2_feed(it->v, h, lt_loop_now_ms());
    } else if (w->answered) {
        /* started again on the same host: pulling again until the leader says answered */
        w->answered = false;
        w->started = false;
        w->state = LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_STARTING;
        w->since = lt_loop_now_ms();
        lt__sched_v2_feed(it->v, h, lt_loop_now_ms());
    }
out:
    watch_drop(&it->hdr);
}

/* Ours: latticed's owner annotations for a lattice this driver serves. */
static bool ours(const sched_v2 *v, const Wasmcloud__Runtime__V2__Workload *w)
{
    return w != NULL &&
           strcmp(lt__sched_v2_ann(w, LT_SCHED_ANN_MANAGED_BY), LT_SCHED_MANAGER) == 0 &&
           lt__sched_v2_lattice(v->svc, lt__sched_v2_ann(w, LT_SCHED_ANN_LATTICE));
}

/* nats.c thread: "latticed.v2.{host prefix}.{id}.workload.{start|stop}" from any replica but
 * us. */
static void on_watch(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    sched_v2 *v = closure;
    bool entered = false;
    const char *subj = natsMsg_GetSubject(msg), *reply = natsMsg_GetReply(msg), *p, *dot;
    const char *from = NULL;
    size_t pl = strlen(v->announce_prefix), il = strlen(v->inbox);
    watch_item *it = NULL;
    ProtobufCMessage *m = NULL;

    (void)nc;
    (void)sub;
    if (!(entered = lt__sched_svc_cb_enter(v->svc)) || strncmp(subj, v->announce_prefix, pl) != 0 ||
        subj[pl] != '.')
        goto out;
    (void)reply;
    (void)il;
    if (natsMsgHeader_Get(msg, ANNOUNCE_FROM, &from) == NATS_OK && from != NULL &&
        strcmp(from, v->inbox) == 0)
        goto out; /* our own copy: the sender recorded it already */
    p = subj + pl + 1;
    dot = strchr(p, '.');
    if (dot == NULL || (size_t)(dot - p) > LT_MAX_HOST_ID)
        goto out;
    it = lt_calloc(1, sizeof(*it));
    if (it == NULL)
        goto out;
    memcpy(it->host, p, (size_t)(dot - p));
    it->host[dot - p] = '\0';
    it->v = v;
    if (strcmp(dot + 1, "workload.start") == 0) {
        if (lt_pbjson_decode(&wasmcloud__runtime__v2__workload_start_request__descriptor,
                             natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
                             LT_PBJSON_IGNORE_UNKNOWN, &m) != LT_OK)
            goto out;
        it->start = (Wasmcloud__Runtime__V2__WorkloadStartRequest *)m;
        m = NULL;
        if (!ours(v, it->start->workload) || it->start->workload_id == NULL ||
            it->start->workload_id[0] == '\0' ||
            (it->wid = lt_strdup(it->start->workload_id)) == NULL)
            goto out; /* another scheduler's workload: none of our business */
    } else if (strcmp(dot + 1, "workload.stop") == 0) {
        Wasmcloud__Runtime__V2__WorkloadStopRequest *r;

        if (lt_pbjson_decode(&wasmcloud__runtime__v2__workload_stop_request__descriptor,
                             natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
                             LT_PBJSON_IGNORE_UNKNOWN, &m) != LT_OK)
            goto out;
        r = (Wasmcloud__Runtime__V2__WorkloadStopRequest *)m;
        it->stop = true;
        if (r->workload_id == NULL || (it->wid = lt_strdup(r->workload_id)) == NULL)
            goto out;
    } else if (strcmp(dot + 1, "workload.answered") == 0) {
        it->answered = true;
        if ((it->wid = lt_strndup(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg))) ==
                NULL ||
            it->wid[0] == '\0')
            goto out;
    } else {
        goto out;
    }
    it->hdr.run = watch_apply;
    it->hdr.drop = watch_drop;
    lt__sched_svc_inbox_post(v->svc, &it->hdr);
    it = NULL;
out:
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    if (it != NULL)
        watch_drop(&it->hdr);
    natsMsg_Destroy(msg);
    if (entered)
        lt__sched_svc_cb_leave(v->svc); /* after the last use of it */
}


natsStatus lt__sched_v2_announce(sched_v2 *v, const char *host, const char *what, const char *body)
{
    char subj[LT_MAX_SUBJECT];
    natsMsg *m = NULL;
    natsStatus s;

    snprintf(subj, sizeof(subj), "%s.%s.%s", v->announce_prefix, host, what);
    s = natsMsg_Create(&m, subj, NULL, body, (int)strlen(body));
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, ANNOUNCE_FROM, v->inbox);
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(v->svc->cfg.nc, m);
    if (s != NATS_OK)
        LT_DEBUG("sched", "%s: not sent (%s)", subj, natsStatus_GetText(s));
    natsMsg_Destroy(m);
    return s;
}

lt_status lt__sched_v2_watch_start(sched_v2 *v)
{
    char subj[LT_MAX_SUBJECT];

    snprintf(subj, sizeof(subj), "%s.*.workload.*", v->announce_prefix);
    return lt__sched_v2_subscribe(v, &v->watch_sub, subj, on_watch);
}
