/*
 * svc_v2_reply.c - the wasmCloud 2.x driver's answers and clock: replies to the one
 * request in flight per host (or its timeout) update the host's workload table; the timer
 * probes hosts whose heartbeat is late, keeps a host that is busy starting alive for the
 * scheduler, polls every workload's status (heartbeats carry only counts), and on taking
 * the lead checks everything a standby only saw being asked for.
 *
 * Loss: a late heartbeat gets a probe on `{host prefix}.{id}.heartbeat`; no responders (the
 * host's subscription is gone) or no answer within the probe timeout makes the host gone
 * for the scheduler, which evicts it within the partition guard. Never while a start is in
 * flight on it: a start blocks a host's heartbeats for as long as its image pulls take.
 */
#include "sched_v2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_pbjson.h"

#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x
#define WS(x) WASMCLOUD__RUNTIME__V2__WORKLOAD_STATE__WORKLOAD_STATE_##x
#define SCAN_MS 100

typedef struct {
    svc_item hdr; /* first */
    sched_v2 *v;
    uint64_t no;
    bool no_responders;
    char *data;
    size_t len;
} reply_item;

static void reply_drop(svc_item *arg)
{
    reply_item *it = (reply_item *)arg;

    lt_free(it->data);
    lt_free(it);
}

static void set_failed(v2_wl *w, const char *why)
{
    w->state = IS(FAILED);
    lt__sched_set_str(&w->message, why);
}

/* The state a status or start answer reports for w. */
static void apply_state(sched_v2 *v, v2_host *h, v2_wl *w, bool start,
                        const Wasmcloud__Runtime__V2__WorkloadStatus *ws)
{
    const char *msg = ws != NULL && ws->message != NULL ? ws->message : "";
    char why[512];
    int st = ws != NULL ? (int)ws->workload_state : WS(UNSPECIFIED);

    switch (st) {
    case WS(RUNNING):
    case WS(COMPLETED):
        w->state = IS(RUNNING);
        w->started = true;
        lt__sched_set_str(&w->message, "");
        break;
    case WS(STARTING):
        w->state = IS(STARTING);
        break;
    case WS(STOPPING):
        if (start)
            set_failed(w, "the host stopped the workload while starting it");
        else if (w->state != IS(STOPPING))
            set_failed(w, "the host is stopping the workload");
        break;
    case WS(ERROR):
        if (start && strstr(msg, "already exists") != NULL) {
            w->started = false; /* ours from before (a lost reply, a failover): ask */
            lt__sched_v2_queue_status(v, h, w);
            break;
        }
        snprintf(why, sizeof(why), "%s: %s", start ? "start failed" : "workload failed", msg);
        set_failed(w, why);
        break;
    case WS(NOT_FOUND):
        if (w->started) {
            set_failed(w, "the host lost the workload after starting it (status NOT_FOUND, "
                          "wasmCloud issue #5280): started again after a backoff");
        } else if (w->state == IS(STOPPING) || !start) {
            lt__sched_v2_wl_drop(h, w, true); /* never ran there, or stopped: gone */
        } else {
            set_failed(w, "start answered NOT_FOUND");
        }
        break;
    default:
        snprintf(why, sizeof(why), "unexpected workload state %d: %s", st, msg);
        set_failed(w, why);
        break;
    }
}

/*
 * h did not answer its probe: the scheduler evicts it (within the partition guard). What was
 * queued for it is not sent; a start that waited for it failed (the scheduler re-places it).
 */
static void host_gone(sched_v2 *v, v2_host *h, int64_t now)
{
    for (size_t i = h->qhead; i < h->qlen; i++) {
        v2_wl *w = lt__sched_v2_op_entry(h, &h->queue[i]);

        if (w != NULL && h->queue[i].kind == V2_OP_START)
            set_failed(w, "the host was lost before the start was sent");
    }
    lt__sched_v2_host_cleanup_ops(v, h);
    h->gone = true;
    lt_sched_host_gone(h->lat->s, h->id, now);
    h->lat->kick = true;
}

/*
 * Tell the standbys that the start of wid on h was answered (whatever the answer), on
 * `latticed.v2.{host prefix}.{host}.workload.answered`: the entry they recorded from the
 * start's copy no longer means "the host may be pulling". Without it, a standby taking over
 * shortly after a host died kept that host alive as "busy starting" with its old workloads, and
 * stopped their replacements elsewhere as surplus.
 */
static void announce_answer(sched_v2 *v, const v2_host *h, const char *wid)
{
    if (lt__sched_v2_announce(v, h->id, "workload.answered", wid) != NATS_OK) {
        /* the standbys keep counting it as pulling until the start timeout: harmless */
    }
}

/* One answer (data NULL: timeout or no responders) to h's request in flight. */
static void answer(sched_v2 *v, v2_host *h, const char *data, size_t len, bool no_resp, int64_t now)
{
    v2_op op = h->cur;
    v2_wl *w = lt__sched_v2_op_entry(h, &op); /* NULL: gone, or re-created since */
    ProtobufCMessage *m = NULL;
    const ProtobufCMessageDescriptor *desc =
        op.kind == V2_OP_PROBE ? &wasmcloud__runtime__v2__host_heartbeat__descriptor
                               : &wasmcloud__runtime__v2__workload_start_response__descriptor;
    char why[256];
    int64_t sent = h->cur_sent, op_timeout_ms = now - sent;

    lt_map_del(&v->busy, h->cur_key);
    h->cur_no = 0;
    h->cur.wid = h->cur.body = NULL;
    if (w != NULL && op.kind == V2_OP_STATUS)
        w->status_queued = false;
    else if (w != NULL)
        w->busy = false;
    if (data != NULL && lt_pbjson_decode(desc, data, len, LT_PBJSON_IGNORE_UNKNOWN, &m) != LT_OK) {
        LT_DEBUG("sched", "v2 host %s: undecodable answer to %s: %s", h->id,
                 op.kind == V2_OP_PROBE ? "heartbeat" : op.wid, lt_error_message());
        data = NULL;
    }
    if (data == NULL) /* no answer in time, nobody listening, or nothing we can read */
        v->svc->cmd_failed[1][lt__sched_v2_stat_kind(op.kind)]++;
    if (op.kind == V2_OP_PROBE) {
        if (m != NULL) {
            lt__sched_v2_heard(v, h, (Wasmcloud__Runtime__V2__HostHeartbeat *)m, true, now);
            m = NULL;
        } else if (!v->svc->connected || sent <= v->last_connect) {
            LT_DEBUG("sched", "v2 host %s: probe lost to our own reconnect: asked again", h->id);
        } else if (!h->gone) {
            LT_INFO("sched", "lattice %s: wasmCloud host %s is lost: %s", h->lat->name, h->id,
                    no_resp ? "nobody listens on its subjects any more (heartbeat probe)"
                            : "no answer to the heartbeat probe");
            host_gone(v, h, now);
        }
        goto out;
    }
    if (w == NULL)
        goto out; /* forgotten meanwhile */
    if (op.kind != V2_OP_STOP &&
        (w->state == IS(STOPPING) || (op.kind == V2_OP_STATUS && w->busy))) {
        /* a stop (or a start) is on its way: its answer decides, not this one */
        Wasmcloud__Runtime__V2__WorkloadStartResponse *r = (void *)m;

        if (r != NULL && r->workload_status != NULL &&
            r->workload_status->workload_state == WS(RUNNING))
            w->started = true;
        goto out;
    }
    if (m != NULL) {
        /* start, status and stop responses all are {workloadStatus: ...} */
        Wasmcloud__Runtime__V2__WorkloadStartResponse *r = (void *)m;

        if (op.kind == V2_OP_STOP) {
            int st = r->workload_status != NULL ? (int)r->workload_status->workload_state : 0;

            if (st == WS(STOPPING) || st == WS(NOT_FOUND))
                lt__sched_v2_wl_drop(h, w, true);
            else
                set_failed(w, "the host refused to stop the workload");
        } else {
            apply_state(v, h, w, op.kind == V2_OP_START, r->workload_status);
        }
    } else if (op.kind == V2_OP_START) {
        snprintf(why, sizeof(why), "%s workload.start within %lld ms",
                 no_resp ? "the host is gone: no responders to" : "no answer to",
                 (long long)op_timeout_ms);
        set_failed(w, why);
    } else if (op.kind == V2_OP_STOP) {
        set_failed(w, no_resp ? "no responders to workload.stop (the host is gone)"
                              : "no answer to workload.stop in time");
    }
    /* an answer that failed the start or refused the stop counts as a failed command */
    if (m != NULL && (op.kind == V2_OP_START || op.kind == V2_OP_STOP) &&
        lt__sched_v2_op_entry(h, &op) == w && w->state == IS(FAILED))
        v->svc->cmd_failed[1][lt__sched_v2_stat_kind(op.kind)]++;
    /* a status without answer changes nothing: it is asked again */
    /* A start is settled once its entry left STARTING (RUNNING, FAILED, gone) or nothing
     * answered it; an answer that leaves it STARTING ("already exists", STARTING) is not: the
     * host may still be pulling. */
    if (op.kind == V2_OP_START && lt__sched_v2_op_entry(h, &op) == w &&
        (m == NULL || w->state != IS(STARTING))) {
        w->answered = true;
        announce_answer(v, h, op.wid);
    }
out:
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    lt_free(op.wid);
    lt_free(op.body);
    lt__sched_v2_feed(v, h, now);
    lt__sched_v2_dispatch(v, h, now);
}

static void reply_apply(svc_item *arg)
{
    reply_item *it = (reply_item *)arg;
    char key[24];
    v2_host *h;

    snprintf(key, sizeof(key), "%llu", (unsigned long long)it->no);
    h = lt_map_get(&it->v->busy, key);
    if (h != NULL && h->cur_no == it->no) {
        answer(it->v, h, it->no_responders ? NULL : it->data, it->len, it->no_responders,
               lt_loop_now_ms());
        it->v->svc->n_replies++;
    }
    reply_drop(&it->hdr);
}

/* nats.c thread: "{inbox}.{no}" */
static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    sched_v2 *v = closure;
    bool entered = false;
    const char *subj = natsMsg_GetSubject(msg);
    size_t il = strlen(v->inbox);
    reply_item *it = NULL;
    char *end;

    (void)nc;
    (void)sub;
    if (!(entered = lt__sched_svc_cb_enter(v->svc)) || strncmp(subj, v->inbox, il) != 0 ||
        subj[il] != '.')
        goto out;
    it = lt_calloc(1, sizeof(*it));
    if (it == NULL)
        goto out;
    it->v = v;
    it->no = strtoull(subj + il + 1, &end, 10);
    if (*end != '\0' || it->no == 0)
        goto out;
    it->no_responders = natsMsg_IsNoResponders(msg);
    it->len = (size_t)natsMsg_GetDataLength(msg);
    if ((it->data = lt_malloc(it->len + 1)) == NULL)
        goto out;
    memcpy(it->data, natsMsg_GetData(msg), it->len);
    it->data[it->len] = '\0';
    it->hdr.run = reply_apply;
    it->hdr.drop = reply_drop;
    lt__sched_svc_inbox_post(v->svc, &it->hdr);
    it = NULL;
out:
    if (it != NULL)
        reply_drop(&it->hdr);
    natsMsg_Destroy(msg);
    if (entered)
        lt__sched_svc_cb_leave(v->svc); /* after the last use of it */
}

lt_status lt__sched_v2_replies_start(sched_v2 *v)
{
    return lt__sched_svc_inbox_subscribe(v->svc->cfg.nc, v->inbox, sizeof(v->inbox), "*", on_reply,
                                         v, &v->reply_sub);
}

/* ---------------------------------------------------------------------------------------------
 * The clock
 * ------------------------------------------------------------------------------------------- */

/*
 * A standby sees the leader's stops but not their answers: an entry stays STOPPING until a
 * stop timeout (and a status timeout) has passed, then it counts as stopped. Otherwise a
 * standby's tables would only grow; a stop that failed is sent again by the leader, and a new
 * leader's status checks find a workload that is still there on the hosts it knows.
 */
static void forget_stopped(sched_v2 *v, v2_host *h, int64_t now)
{
    const lt_sched_v2_config *c = &v->svc->cfg.v2;
    int64_t after = (c->stop_timeout_ms > 0 ? c->stop_timeout_ms : 30000) +
                    (c->status_timeout_ms > 0 ? c->status_timeout_ms : 5000);
    size_t iter = 0;
    bool dropped = false;
    v2_wl *w;

    while ((w = lt_map_next(&h->wls, &iter)) != NULL)
        if (w->state == IS(STOPPING) && now - w->since > after) {
            lt__sched_v2_wl_drop(h, w, false); /* a standby: the bucket is the leader's */
            dropped = true;
            iter = 0; /* the map moved */
        }
    if (dropped)
        lt__sched_v2_feed(v, h, now);
}

/*
 * Is a start in flight on h? Ours, or one a replica before us sent that no answer settled yet
 * (a STARTING entry younger than the start timeout: after a failover the new leader cannot
 * know whether the host is still pulling its images).
 */
static bool starting(const sched_v2 *v, const v2_host *h, int64_t now)
{
    int64_t within = v->svc->cfg.v2.start_timeout_ms > 0 ? v->svc->cfg.v2.start_timeout_ms : 60000;
    size_t iter = 0;
    const v2_wl *w;

    if (h->cur_no != 0 && h->cur.kind == V2_OP_START)
        return true;
    while ((w = lt_map_next(&h->wls, &iter)) != NULL)
        if (w->state == IS(STARTING) && !w->started && !w->answered && !w->busy &&
            now - w->since < within)
            return true;
    return false;
}

static void scan_host(sched_v2 *v, v2_host *h, int64_t now)
{
    bool lead = lt_sched_leading(h->lat->s, NULL) && lt__sched_svc_may_act(h->lat);
    int64_t every =
        v->svc->cfg.v2.status_interval_ms > 0 ? v->svc->cfg.v2.status_interval_ms : 30000;
    size_t iter = 0;
    v2_wl *w;

    if (lead != h->leading) {
        h->leading = lead;
        if (!lead) {
            lt__sched_v2_host_cleanup_ops(v, h); /* a standby sends nothing */
            return;
        }
        while ((w = lt_map_next(&h->wls, &iter)) != NULL)
            w->next_status = 0; /* a new term checks what the old one left */
        iter = 0;
    }
    if (!lt_sched_leading(h->lat->s, NULL)) {
        forget_stopped(v, h, now);
        return;
    }
    if (!lead || h->hb == NULL)
        return;
    if (now - h->last_hb > (int64_t)h->interval_ms + V2_LATE_MS) {
        if (starting(v, h, now)) {
            /* busy pulling: no heartbeats, and no probe would be answered before the start;
             * the host is not lost while a start is in flight */
            if (!h->gone && now - h->last_refresh >= (int64_t)h->interval_ms) {
                h->last_refresh = now;
                lt__sched_v2_push(h, now);
            }
        } else if (!h->gone && (h->cur_no == 0 || h->cur.kind != V2_OP_PROBE) &&
                   !(h->qhead < h->qlen && h->queue[h->qhead].kind == V2_OP_PROBE)) {
            lt__sched_v2_queue(v, h, V2_OP_PROBE, NULL, lt_strdup("{}"));
        }
    }
    if (h->gone)
        return;
    while ((w = lt_map_next(&h->wls, &iter)) != NULL) {
        if (w->busy || w->status_queued || w->next_status > now)
            continue; /* a start or stop on its way tells more than a status */
        w->next_status = now + every;
        lt__sched_v2_queue_status(v, h, w);
    }
}

void lt__sched_v2_tick(sched_v2 *v, int64_t now)
{
    size_t iter = 0;
    v2_host *h;

    if (v == NULL)
        return;
    while ((h = lt_map_next(&v->busy, &iter)) != NULL)
        if (now >= h->cur_deadline) {
            answer(v, h, NULL, 0, false, now);
            iter = 0; /* the map changed */
        }
    if (now - v->last_scan < SCAN_MS)
        return;
    v->last_scan = now;
    iter = 0;
    while ((h = lt_map_next(&v->hosts, &iter)) != NULL)
        scan_host(v, h, now);
    lt__sched_v2_forget(v, now);
}
