/*
 * svc_driver.c - the native host driver: each batch the scheduler emits becomes
 * one request (StartRequest, StopRequest, LinkRequest, UnlinkRequest) with
 * the lattice's leader epoch, packed as protobuf and published to
 * `{prefix}.{lattice}.host.{host_id}.{verb}` with the reply subject
 * `{inbox}.{lattice index}.{request number}`, so nothing blocks: one shared
 * subscription on `{inbox}.>` decodes answers on its nats.c thread and posts
 * them to the loop. Requests that get no answer expire in the scheduler.
 */
#include "sched_svc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_nkey.h"
#include "lt_subject.h"
#include "lt_trace.h"
#include "lt_trace_otlp.h"

/* Where a command goes out: the bulk connection while it is connected (written with the rest
 * of the pass's requests, not one socket write each), else the main one; *inbox is the reply
 * inbox subscribed on the same connection. */
static natsConnection *out_conn(const lt_sched_svc *svc, const char **inbox)
{
    natsConnection *bulk = svc->cfg.bulk_nc;

    if (svc->bulk_reply_sub != NULL && natsConnection_Status(bulk) == NATS_CONN_STATUS_CONNECTED) {
        *inbox = svc->bulk_inbox;
        return bulk;
    }
    *inbox = svc->inbox;
    return svc->cfg.nc;
}

/* "{inbox}.{lattice index}.{request number}", ".i" appended for an inventory; false if it does
 * not fit (cannot happen: the inbox and the numbers are bounded). */
static bool reply_subject(char *out, size_t cap, const char *inbox, size_t idx, uint64_t no,
                          bool inv)
{
    return (size_t)snprintf(out, cap, "%s.%zu.%llu%s", inbox, idx, (unsigned long long)no,
                            inv ? ".i" : "") < cap;
}

/* The packed request in svc->pbuf on nc, with its signature header (--command-signing-seed)
 * and its traceparent (tp, NULL: none). Without either it goes header-less. */
static natsStatus publish(lt_sched_svc *svc, natsConnection *nc, const char *subj,
                          const char *reply, size_t len, const char *tp)
{
    char sig[LT_NKEY_SIG_TEXT + 1];
    natsMsg *msg = NULL;
    natsStatus s;

    if (svc->cfg.sign_seed == NULL && tp == NULL)
        return natsConnection_PublishRequest(nc, subj, reply, svc->pbuf, (int)len);
    if (svc->cfg.sign_seed != NULL &&
        lt_nkey_sign_command(svc->cfg.sign_seed, subj, svc->pbuf, len, sig) != LT_OK)
        return NATS_ERR;
    s = natsMsg_Create(&msg, subj, reply, (const char *)svc->pbuf, (int)len);
    if (s == NATS_OK && svc->cfg.sign_seed != NULL)
        s = natsMsgHeader_Set(msg, LT_NKEY_SIG_HEADER, sig);
    if (s == NATS_OK && tp != NULL)
        s = natsMsgHeader_Set(msg, LT_TRACE_HEADER, tp);
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(nc, msg);
    natsMsg_Destroy(msg);
    return s;
}

bool lt__sched_svc_command_span(svc_lattice *l, const char *app, const char *verb, const char *subj,
                                const char *host_id, char tp[LT_TRACE_PARENT_LEN + 1])
{
    const char *stored = lt__sched_svc_app_trace(l, app);
    lt_trace_ctx parent;
    lt_trace_span s = { 0 };

    if (stored == NULL || lt_trace_parse(stored, strlen(stored), &parent) != LT_OK)
        return false;
    lt_trace_child(&parent, &s.ctx);
    lt_trace_format(&s.ctx, tp);
    if (lt_trace_otlp_enabled()) {
        memcpy(s.parent_span_id, parent.span_id, sizeof(s.parent_span_id));
        snprintf(s.name, sizeof(s.name), "host %s", verb);
        s.kind = LT_TRACE_KIND_PRODUCER;
        s.start_ns = s.end_ns = lt_trace_now_ns();
        lt_trace_span_attr(&s, 0, "messaging.destination.name", subj);
        lt_trace_span_attr(&s, 1, "lattice", l->name);
        lt_trace_span_attr(&s, 2, "app", app);
        lt_trace_span_attr(&s, 3, "host_id", host_id);
        lt_trace_otlp_record(&s);
    }
    return true;
}

/* The batch's span (lt__sched_svc_command_span) for its first item's app: a batch of one verb to
 * one host rarely mixes apps. Stops and inventories name no app. */
static bool command_span(svc_lattice *l, const lt_sched_batch *b, const char *subj,
                         char tp[LT_TRACE_PARENT_LEN + 1])
{
    const char *app = NULL;

    if (b->verb == LT_SCHED_START && b->count > 0)
        app = b->starts[0]->app_name;
    else if (b->verb == LT_SCHED_LINK && b->count > 0)
        app = b->links[0]->app_name;
    return app != NULL &&
           lt__sched_svc_command_span(l, app, lt_sched_verb_name(b->verb), subj, b->host_id, tp);
}

size_t lt__sched_svc_request_bound(const lt_sched_batch *b, const char *lattice, const char *rid)
{
    if (b->items_bytes == 0)
        return 0;
    /* per item a tag and a length (1 + 10 at most); epoch, lattice and request id fields; 32
     * for the request's other scalars (StopRequest.grace_ms) */
    return b->items_bytes + b->count * 11 + (1 + 10) + (1 + 10 + strlen(lattice)) +
           (1 + 10 + strlen(rid)) + 32;
}

void lt__sched_svc_send(void *arg, const lt_sched_batch *b)
{
    svc_lattice *l = arg;
    lt_sched_svc *svc = l->svc;
    char subj[LT_MAX_SUBJECT], reply[256], rid[160], tp[LT_TRACE_PARENT_LEN + 1];
    uint64_t epoch = 0;
    ProtobufCMessage *m;
    Latticed__Host__V1__StartRequest sr = LATTICED__HOST__V1__START_REQUEST__INIT;
    Latticed__Host__V1__StopRequest tr = LATTICED__HOST__V1__STOP_REQUEST__INIT;
    Latticed__Host__V1__LinkRequest lr = LATTICED__HOST__V1__LINK_REQUEST__INIT;
    Latticed__Host__V1__UnlinkRequest ur = LATTICED__HOST__V1__UNLINK_REQUEST__INIT;
    Latticed__Host__V1__InventoryRequest ir = LATTICED__HOST__V1__INVENTORY_REQUEST__INIT;
    bool inv = b->verb == LT_SCHED_INVENTORY;
    const char *inbox;
    natsConnection *nc;
    size_t len;
    natsStatus s;

    /* Past the lease deadline nothing goes out, whatever the loop has not noticed yet: the
     * request expires in the scheduler and is sent again by a confirmed leader. */
    if (!lt__sched_svc_may_act(l))
        return;
    /* Never through a disconnected connection (issue 8): a command held in a buffer could
     * reach the host after the reconnect, when another replica may lead. The loop knows of
     * the disconnect (svc->connected), nats.c may know sooner. The request expires and is
     * retried after the reconnect with the then-current epoch. */
    if (!svc->connected || natsConnection_Status(svc->cfg.nc) != NATS_CONN_STATUS_CONNECTED) {
        svc->n_held += b->count > 0 ? b->count : 1; /* items, as lt_sched_svc_stats counts */
        LT_DEBUG("sched", "lattice %s: NATS disconnected: %s to host %s not sent (request %llu)",
                 l->name, lt_sched_verb_name(b->verb), b->host_id,
                 (unsigned long long)b->request_no);
        return;
    }
    nc = out_conn(svc, &inbox);
    lt_sched_leading(l->s, &epoch);
    snprintf(rid, sizeof(rid), "%s-%llu", svc->replica, (unsigned long long)b->request_no);
    switch (b->verb) {
    case LT_SCHED_START:
        sr.epoch = epoch, sr.lattice = l->name, sr.request_id = rid;
        sr.n_instances = b->count, sr.instances = b->starts;
        m = &sr.base;
        break;
    case LT_SCHED_STOP:
        tr.epoch = epoch, tr.lattice = l->name, tr.request_id = rid;
        tr.n_items = b->count, tr.items = b->stops;
        m = &tr.base;
        break;
    case LT_SCHED_LINK:
        lr.epoch = epoch, lr.lattice = l->name, lr.request_id = rid;
        lr.n_links = b->count, lr.links = b->links;
        m = &lr.base;
        break;
    case LT_SCHED_UNLINK:
        ur.epoch = epoch, ur.lattice = l->name, ur.request_id = rid;
        ur.n_items = b->count, ur.items = b->unlinks;
        m = &ur.base;
        break;
    default:
        ir.epoch = epoch, ir.lattice = l->name, ir.request_id = rid;
        m = &ir.base;
        break;
    }
    if ((b->host_id == NULL
             ? lt_subject_inventory(subj, sizeof(subj), svc->prefix, l->name)
             : lt_subject_host_command(subj, sizeof(subj), svc->prefix, l->name, b->host_id,
                                       lt_sched_verb_name(b->verb))) != LT_OK ||
        !reply_subject(reply, sizeof(reply), inbox, l->idx, b->request_no, inv))
        return; /* host ids are validated tokens: cannot happen; the request just expires */
    len = lt__sched_svc_request_bound(b, l->name, rid);
    if (len == 0)
        len = protobuf_c_message_get_packed_size(m);
    if (len > svc->pcap) {
        uint8_t *nb = lt_realloc(svc->pbuf, len);

        if (nb == NULL)
            return; /* it expires and is retried */
        svc->pbuf = nb;
        svc->pcap = len;
    }
    len = protobuf_c_message_pack(m, svc->pbuf);
    if (!command_span(l, b, subj, tp))
        tp[0] = '\0';
    s = publish(svc, nc, subj, reply, len, tp[0] != '\0' ? tp : NULL);
    if (s != NATS_OK && nc != svc->cfg.nc &&
        reply_subject(reply, sizeof(reply), svc->inbox, l->idx, b->request_no, inv))
        /* the bulk connection went down after out_conn looked: the main one, once */
        s = publish(svc, svc->cfg.nc, subj, reply, len, tp[0] != '\0' ? tp : NULL);
    svc->n_requests++;
    /* Counted in items, as failures are: a batch of n starts is n (an inventory is 1). The verbs
     * are the first kinds of lt_sched_svc_stats. */
    svc->cmd_sent[0][b->verb] += b->count > 0 ? b->count : 1;
    if (s != NATS_OK)
        svc->cmd_unsent[0][b->verb] += b->count > 0 ? b->count : 1;
    if (s != NATS_OK)
        LT_DEBUG("sched", "%s: not sent (%s); it will expire and be retried", subj,
                 natsStatus_GetText(s));
}

typedef struct {
    svc_item hdr; /* first */
    lt_sched_svc *svc;
    size_t idx;
    uint64_t no;
    Latticed__Host__V1__CommandReply *reply; /* NULL: transport failure; in arena */
    sched_pb_arena arena;
    Latticed__Host__V1__InventoryReply *inv; /* instead, for inventory requests */
    bool is_inv;
    lt_status transport;
} reply_item;

static void reply_drop(svc_item *arg)
{
    reply_item *it = (reply_item *)arg;

    lt__sched_pb_arena_release(&it->arena); /* it->reply */
    if (it->inv != NULL)
        latticed__host__v1__inventory_reply__free_unpacked(it->inv, NULL);
    lt_free(it);
}

static void reply_apply(svc_item *arg)
{
    reply_item *it = (reply_item *)arg;
    svc_lattice *l = lt__sched_svc_lattice_at(it->svc, it->idx);

    if (l != NULL && it->is_inv) {
        lt_sched_on_inventory(l->s, it->no, it->inv, it->transport, lt_loop_now_ms());
        l->kick = true;
    } else if (l != NULL) {
        lt_sched_on_reply(l->s, it->no, it->reply, it->transport, lt_loop_now_ms());
        it->svc->n_replies++;
        l->kick = true;
    }
    reply_drop(&it->hdr);
}

/* nats.c thread: "{inbox}.{idx}.{no}" (either inbox) -> decode -> post. */
static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    lt_sched_svc *svc = closure;
    bool entered = false;
    const char *subj = natsMsg_GetSubject(msg), *p;
    size_t il = strlen(svc->inbox), bl = strlen(svc->bulk_inbox);
    reply_item *it = NULL;
    char *end;

    (void)nc;
    (void)sub;
    if (!(entered = lt__sched_svc_cb_enter(svc)))
        goto out;
    if (bl > 0 && strncmp(subj, svc->bulk_inbox, bl) == 0 && subj[bl] == '.')
        il = bl; /* sent on the bulk connection */
    else if (strncmp(subj, svc->inbox, il) != 0 || subj[il] != '.')
        goto out;
    it = lt_calloc(1, sizeof(*it));
    if (it == NULL)
        goto out;
    p = subj + il + 1;
    it->svc = svc;
    it->idx = (size_t)strtoull(p, &end, 10);
    if (*end != '.')
        goto out;
    it->no = strtoull(end + 1, &end, 10);
    it->is_inv = strcmp(end, ".i") == 0;
    if (*end != '\0' && !it->is_inv)
        goto out;
    if (natsMsg_IsNoResponders(msg)) {
        it->transport = LT_ERR_TRANSPORT; /* no such host listening */
    } else if (it->is_inv) {
        it->inv =
            latticed__host__v1__inventory_reply__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                                                        (const uint8_t *)natsMsg_GetData(msg));
        if (it->inv == NULL)
            it->transport = LT_ERR_PARSE;
    } else {
        lt__sched_pb_arena_init(&it->arena, (size_t)natsMsg_GetDataLength(msg));
        it->reply =
            latticed__host__v1__command_reply__unpack(&it->arena.alloc,
                                                      (size_t)natsMsg_GetDataLength(msg),
                                                      (const uint8_t *)natsMsg_GetData(msg));
        if (it->reply == NULL)
            it->transport = LT_ERR_PARSE;
    }
    it->hdr.run = reply_apply;
    it->hdr.drop = reply_drop;
    lt__sched_svc_inbox_post(svc, &it->hdr);
    it = NULL;
out:
    if (it != NULL)
        reply_drop(&it->hdr);
    natsMsg_Destroy(msg);
    if (entered)
        lt__sched_svc_cb_leave(svc); /* after the last use of it */
}

lt_status lt__sched_svc_inbox_subscribe(natsConnection *nc, char *inbox, size_t cap,
                                        const char *wildcard, natsMsgHandler cb, void *arg,
                                        natsSubscription **sub)
{
    char subj[200];
    natsInbox *in = NULL;
    natsStatus s = natsInbox_Create(&in);

    if (s != NATS_OK)
        return LT_FAIL(LT_ERR_TRANSPORT, "inbox: %s", natsStatus_GetText(s));
    snprintf(inbox, cap, "%s", (const char *)in);
    natsInbox_Destroy(in);
    snprintf(subj, sizeof(subj), "%s.%s", inbox, wildcard);
    s = natsConnection_Subscribe(sub, nc, subj, cb, arg);
    if (s == NATS_OK) /* answers come in bursts: never drop one as a slow consumer */
        s = natsSubscription_SetPendingLimits(*sub, 1000000, 1024 * 1024 * 1024);
    if (s != NATS_OK)
        return LT_FAIL(LT_ERR_TRANSPORT, "subscribe %s: %s", subj, natsStatus_GetText(s));
    return LT_OK;
}

lt_status lt__sched_svc_replies_start(lt_sched_svc *svc)
{
    lt_status st = lt__sched_svc_inbox_subscribe(svc->cfg.nc, svc->inbox, sizeof(svc->inbox), ">",
                                                 on_reply, svc, &svc->reply_sub);

    if (st == LT_OK && svc->cfg.bulk_nc != NULL && svc->cfg.bulk_nc != svc->cfg.nc)
        st = lt__sched_svc_inbox_subscribe(svc->cfg.bulk_nc, svc->bulk_inbox,
                                           sizeof(svc->bulk_inbox), ">", on_reply, svc,
                                           &svc->bulk_reply_sub);
    return st;
}
