/*
 * svc_v2_cmd.c - the wasmCloud 2.x driver's commands. The scheduler's START and STOP
 * batches are answered at once (accepted, or already done) and become a queue per host;
 * a v2 host handles one request at a time and blocks on a start while it pulls images, so
 * each host has at most one request in flight: workload.start (60 s), .status (5 s), .stop
 * (30 s), or a heartbeat probe (5 s). Outcomes reach the scheduler as the states of the
 * host's workloads in the next native heartbeat (svc_v2.c): a start that fails, times out
 * or is lost after starting (NOT_FOUND, wasmCloud issue #5280) shows FAILED with the
 * reason, and the scheduler replaces it with its exponential backoff.
 *
 * Only the leader sends, and only within its lease deadline (lt__sched_svc_may_act), as
 * for native hosts; a v2 host knows no epochs (docs/wasmcloud-v2.md, "Failover").
 */
#include "sched_v2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_pbjson.h"

#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x
#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x

size_t lt__sched_v2_stat_kind(v2_op_kind k)
{
    static const size_t kinds[] = { 0, 1, 5, 6 }; /* start, stop, status, probe */

    return kinds[k];
}

static const char *const op_cmd[] = { "workload.start", "workload.stop", "workload.status",
                                      "heartbeat" };

static int64_t op_timeout(const sched_v2 *v, v2_op_kind k)
{
    const lt_sched_v2_config *c = &v->svc->cfg.v2;
    int64_t t[] = { c->start_timeout_ms, c->stop_timeout_ms, c->status_timeout_ms,
                    c->probe_timeout_ms };
    int64_t d[] = { 60000, 30000, 5000, 5000 };

    return t[k] > 0 ? t[k] : d[k];
}

static void op_cleanup(v2_op *op)
{
    lt_free(op->wid);
    lt_free(op->body);
    op->wid = op->body = NULL;
}

v2_wl *lt__sched_v2_op_entry(v2_host *h, const v2_op *op)
{
    v2_wl *w = op->wid != NULL ? lt__sched_v2_wl(h, op->wid) : NULL;

    return w != NULL && w->gen == op->gen ? w : NULL;
}

/* op will not be sent (or answered): its entry no longer waits for it. Frees op. */
static void op_abandon(v2_host *h, v2_op *op)
{
    v2_wl *w = lt__sched_v2_op_entry(h, op);

    if (w != NULL && op->kind == V2_OP_STATUS)
        w->status_queued = false;
    else if (w != NULL)
        w->busy = false;
    op_cleanup(op);
}

void lt__sched_v2_host_cleanup_ops(sched_v2 *v, v2_host *h)
{
    size_t i;

    for (i = h->qhead; i < h->qlen; i++)
        op_abandon(h, &h->queue[i]);
    lt_free(h->queue);
    h->queue = NULL;
    h->qhead = h->qlen = h->qcap = 0;
    if (h->cur_no != 0) {
        lt_map_del(&v->busy, h->cur_key);
        op_abandon(h, &h->cur);
        h->cur_no = 0;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Sending
 * ------------------------------------------------------------------------------------------- */

/* The request of op; a start or stop of a workload whose app's deploy kept a traceparent carries
 * a child span of it in a `traceparent` header (lt__sched_svc_command_span). */
static natsStatus publish_op(sched_v2 *v, v2_host *h, const v2_op *op, const char *subj,
                             const char *reply)
{
    char tp[LT_TRACE_PARENT_LEN + 1];
    v2_wl *w = op->wid != NULL ? lt__sched_v2_wl(h, op->wid) : NULL;
    natsMsg *m = NULL;
    natsStatus s;

    if (w == NULL || w->app == NULL || (op->kind != V2_OP_START && op->kind != V2_OP_STOP) ||
        !lt__sched_svc_command_span(h->lat, w->app, op_cmd[op->kind], subj, h->id, tp))
        return natsConnection_PublishRequest(v->svc->cfg.nc, subj, reply, op->body,
                                             (int)strlen(op->body));
    s = natsMsg_Create(&m, subj, reply, op->body, (int)strlen(op->body));
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, LT_TRACE_HEADER, tp);
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(v->svc->cfg.nc, m);
    natsMsg_Destroy(m);
    return s;
}

void lt__sched_v2_dispatch(sched_v2 *v, v2_host *h, int64_t now)
{
    char subj[LT_MAX_SUBJECT], reply[200];
    natsStatus s;

    while (h->cur_no == 0 && h->qhead < h->qlen) {
        v2_op op = h->queue[h->qhead++];

        if (h->qhead == h->qlen)
            h->qhead = h->qlen = 0;
        /* Nothing through a disconnected connection (it would reach the host after the
         * reconnect, maybe in another leader's term), nothing past the lease deadline, nothing
         * but probes to a host found gone: a confirmed leader sends it again if still wanted. */
        if (!lt__sched_svc_may_act(h->lat) || !v->svc->connected ||
            natsConnection_Status(v->svc->cfg.nc) != NATS_CONN_STATUS_CONNECTED ||
            (h->gone && op.kind != V2_OP_PROBE)) {
            if (lt__sched_svc_may_act(h->lat) && !h->gone) /* held back by the disconnect */
                v->svc->n_held++;
            op_abandon(h, &op);
            continue;
        }
        snprintf(subj, sizeof(subj), "%s.%s.%s", v->host_prefix, h->id, op_cmd[op.kind]);
        h->cur_no = ++v->next_no;
        snprintf(reply, sizeof(reply), "%s.%llu", v->inbox, (unsigned long long)h->cur_no);
        snprintf(h->cur_key, sizeof(h->cur_key), "%llu", (unsigned long long)h->cur_no);
        h->cur = op;
        h->cur_sent = now;
        h->cur_deadline = now + op_timeout(v, op.kind);
        if (lt_map_put(&v->busy, h->cur_key, h) != LT_OK) {
            op_abandon(h, &h->cur);
            h->cur_no = 0;
            continue;
        }
        if ((op.kind == V2_OP_START || op.kind == V2_OP_STOP) &&
            lt__sched_v2_announce(v, h->id, op_cmd[op.kind], op.body) != NATS_OK) {
            /* Standbys would not know of it: not sent now, asked again like any failure. */
            lt_map_del(&v->busy, h->cur_key);
            op_abandon(h, &h->cur);
            h->cur_no = 0;
            continue;
        }
        s = publish_op(v, h, &op, subj, reply);
        v->svc->n_requests++;
        v->svc->cmd_sent[1][lt__sched_v2_stat_kind(op.kind)]++;
        v->svc->cmd_unsent[1][lt__sched_v2_stat_kind(op.kind)] += s != NATS_OK;
        if (s != NATS_OK)
            LT_DEBUG("sched", "%s: not sent (%s): it times out", subj, natsStatus_GetText(s));
    }
}

bool lt__sched_v2_queue(sched_v2 *v, v2_host *h, v2_op_kind kind, const char *wid, char *body)
{
    v2_wl *w = wid != NULL ? lt__sched_v2_wl(h, wid) : NULL;
    v2_op op = { .kind = kind, .body = body, .gen = w != NULL ? w->gen : 0 };

    if (body == NULL || (wid != NULL && (op.wid = lt_strdup(wid)) == NULL) ||
        h->qlen - h->qhead >= V2_MAX_QUEUE) {
        op_cleanup(&op);
        return false;
    }
    if (h->qlen == h->qcap) {
        size_t ncap = h->qcap ? h->qcap * 2 : 8;
        v2_op *nq;

        if (h->qhead > 0) { /* room at the front: move down first */
            memmove(h->queue, h->queue + h->qhead, (h->qlen - h->qhead) * sizeof(*nq));
            h->qlen -= h->qhead;
            h->qhead = 0;
        } else if ((nq = lt_realloc(h->queue, ncap * sizeof(*nq))) != NULL) {
            h->queue = nq;
            h->qcap = ncap;
        } else {
            op_cleanup(&op);
            return false;
        }
    }
    if (kind == V2_OP_PROBE && h->qhead < h->qlen) { /* probes go first */
        memmove(h->queue + h->qhead + 1, h->queue + h->qhead, (h->qlen - h->qhead) * sizeof(op));
        h->queue[h->qhead] = op;
    } else {
        h->queue[h->qlen] = op;
    }
    h->qlen++;
    lt__sched_v2_dispatch(v, h, lt_loop_now_ms());
    return true;
}

static char *id_body(const char *wid)
{
    char *b = NULL;
    Wasmcloud__Runtime__V2__WorkloadStatusRequest r =
        WASMCLOUD__RUNTIME__V2__WORKLOAD_STATUS_REQUEST__INIT; /* same shape as a stop */

    r.workload_id = (char *)wid;
    if (lt_pbjson_encode(&r.base, 0, &b, NULL) != LT_OK)
        return NULL;
    return b;
}

void lt__sched_v2_queue_status(sched_v2 *v, v2_host *h, v2_wl *w)
{
    if (!w->status_queued)
        w->status_queued = lt__sched_v2_queue(v, h, V2_OP_STATUS, w->id, id_body(w->id));
}

/* ---------------------------------------------------------------------------------------------
 * The scheduler's batches
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    svc_item hdr; /* first */
    lt_sched_svc *svc;
    size_t idx;
    uint64_t no;
    char host[LT_MAX_HOST_ID + 1];
    size_t n;
    Latticed__Host__V1__ItemResult *res, **resp;
    char **ids, **msgs;
} ack_item;

static void ack_drop(svc_item *arg)
{
    ack_item *it = (ack_item *)arg;
    size_t i;

    for (i = 0; it->ids != NULL && i < it->n; i++) {
        lt_free(it->ids[i]);
        lt_free(it->msgs[i]);
    }
    lt_free(it->ids);
    lt_free(it->msgs);
    lt_free(it->res);
    lt_free(it->resp);
    lt_free(it);
}

static void ack_apply(svc_item *arg)
{
    ack_item *it = (ack_item *)arg;
    svc_lattice *l = lt__sched_svc_lattice_at(it->svc, it->idx);
    Latticed__Host__V1__CommandReply r = LATTICED__HOST__V1__COMMAND_REPLY__INIT;

    sched_v2 *v = it->svc->v2;
    v2_host *h = v != NULL ? lt_map_get(&v->hosts, it->host) : NULL;

    if (l != NULL) {
        r.code = RC(OK);
        r.n_results = it->n;
        r.results = it->resp;
        lt_sched_on_reply(l->s, it->no, &r, LT_OK, lt_loop_now_ms());
        l->kick = true;
    }
    if (h != NULL) /* what was queued shows as starting or stopping */
        lt__sched_v2_feed(v, h, lt_loop_now_ms());
    ack_drop(&it->hdr);
}

static const Wasmcloud__Runtime__V2__Workload no_workload = WASMCLOUD__RUNTIME__V2__WORKLOAD__INIT;

static int start_item(sched_v2 *v, v2_host *h, const Latticed__Host__V1__InstanceSpec *spec,
                      const Wasmcloud__Runtime__V2__Workload *tmpl, const char **msg)
{
    v2_wl *w = lt__sched_v2_wl(h, spec->instance_id);
    char *body = NULL;

    if (tmpl == NULL) {
        *msg = "no workload for this instance";
        return RC(INVALID);
    }
    if (w != NULL && (w->state == IS(STARTING) || w->state == IS(RUNNING))) {
        *msg = "already starting or running";
        return RC(ALREADY_DONE);
    }
    if (lt__sched_v2_start_json(tmpl, spec, h->ver, &body) != LT_OK) {
        *msg = lt_error_message();
        return RC(INTERNAL);
    }
    if (w == NULL)
        w = lt__sched_v2_record_start(h, spec->instance_id, &no_workload, lt_loop_now_ms());
    if (w == NULL) {
        lt_free(body);
        *msg = "too many workloads on this host";
        return RC(LIMIT_EXCEEDED);
    }
    /* the description comes from the spec (the template's annotations are empty) */
    lt__sched_set_str(&w->app, spec->app_name);
    lt__sched_set_str(&w->version, spec->app_version);
    lt__sched_set_str(&w->comp, spec->component_name);
    lt__sched_set_str(&w->comp_id, spec->component_id);
    lt__sched_set_str(&w->image, spec->image_ref);
    lt__sched_set_str(&w->digest, spec->spec_digest);
    lt__sched_set_str(&w->message, "");
    for (size_t i = 0; i < spec->n_annotations; i++)
        if (lt__sched_skvs_set(&w->ann, spec->annotations[i]->key, spec->annotations[i]->value) !=
            LT_OK)
            break;
    w->state = IS(STARTING);
    w->started = false;
    w->answered = false;
    w->gen = ++v->next_gen; /* answers to what was asked of an earlier one are not for it */
    w->status_queued = false;
    w->since = lt_loop_now_ms();
    lt__sched_v2_kv_write(v, h->lat->name, h->id, spec->instance_id, body); /* before sending */
    w->busy = lt__sched_v2_queue(v, h, V2_OP_START, spec->instance_id, body);
    if (!w->busy) {
        lt__sched_v2_wl_drop(h, w, true); /* send: we lead */
        *msg = "too many requests queued for this host";
        return RC(LIMIT_EXCEEDED);
    }
    *msg = "";
    return RC(OK);
}

static int stop_item(sched_v2 *v, v2_host *h, const char *wid, const char **msg)
{
    v2_wl *w = lt__sched_v2_wl(h, wid);

    *msg = "";
    if (w == NULL)
        return RC(ALREADY_DONE);
    if (w->state != IS(STOPPING) || !w->busy) {
        w->state = IS(STOPPING);
        w->busy = lt__sched_v2_queue(v, h, V2_OP_STOP, wid, id_body(wid));
    }
    return RC(OK);
}

void lt__sched_v2_send(void *arg, const lt_sched_batch *b)
{
    svc_lattice *l = arg;
    sched_v2 *v = l->svc->v2;
    v2_host *h = v != NULL && b->host_id != NULL ? lt_map_get(&v->hosts, b->host_id) : NULL;
    ack_item *it = NULL;
    size_t i;

    if (h != NULL && h->lat == l && lt__sched_svc_may_act(l) && !l->svc->connected)
        l->svc->n_held += b->count; /* never queued while NATS is down */
    if (h == NULL || h->lat != l || !lt__sched_svc_may_act(l) || !l->svc->connected)
        return; /* the request expires in the scheduler and is retried */
    it = lt_calloc(1, sizeof(*it));
    if (it == NULL || (it->res = lt_calloc(b->count + 1, sizeof(*it->res))) == NULL ||
        (it->resp = lt_calloc(b->count + 1, sizeof(*it->resp))) == NULL ||
        (it->ids = lt_calloc(b->count + 1, sizeof(*it->ids))) == NULL ||
        (it->msgs = lt_calloc(b->count + 1, sizeof(*it->msgs))) == NULL)
        goto fail;
    it->svc = l->svc;
    it->idx = l->idx;
    it->no = b->request_no;
    snprintf(it->host, sizeof(it->host), "%s", h->id);
    for (i = 0; i < b->count; i++) {
        Latticed__Host__V1__ItemResult *r = &it->res[i];
        const char *id = "", *msg = "unsupported";
        int code = RC(UNSUPPORTED); /* links: v2 hosts link inside a workload only */

        *r = (Latticed__Host__V1__ItemResult)LATTICED__HOST__V1__ITEM_RESULT__INIT;
        if (b->verb == LT_SCHED_START) {
            id = b->starts[i]->instance_id;
            code =
                start_item(v, h, b->starts[i], b->workloads != NULL ? b->workloads[i] : NULL, &msg);
        } else if (b->verb == LT_SCHED_STOP) {
            id = b->stops[i]->instance_id;
            code = stop_item(v, h, id, &msg);
        }
        it->n = i + 1;
        if ((it->ids[i] = lt_strdup(id)) == NULL || (it->msgs[i] = lt_strdup(msg)) == NULL)
            goto fail;
        r->id = it->ids[i];
        r->code = code;
        r->message = it->msgs[i];
        it->resp[i] = r;
    }
    it->hdr.run = ack_apply; /* never call back into the scheduler from its send */
    it->hdr.drop = ack_drop;
    lt__sched_svc_inbox_post(l->svc, &it->hdr);
    return;
fail:
    if (it != NULL)
        ack_drop(&it->hdr);
}
