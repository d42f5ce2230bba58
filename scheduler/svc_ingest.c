/*
 * svc_ingest.c - host events in: one subscription on `{prefix}.*.evt.>`; the
 * nats.c thread decodes the CloudEvent and its protobuf/JSON payload (so the
 * loop only applies it), then posts it; the loop hands it to the lattice's
 * scheduler. Also the `{prefix}.*.hosts` inventory request.
 *
 * Hosts publish on `{prefix}.{lattice}.evt.h.{host_id}.{type}`: NATS
 * permissions can then allow each host its own subjects only, and an event
 * whose ce-source is not the subject's host id is refused here. The older
 * `{prefix}.{lattice}.evt.{type}` (no host id) is still accepted from hosts
 * of earlier releases; deployments with permissions do not grant it.
 */
#include "sched_svc_int.h"

#include <string.h>

#include <jansson.h>

#include "lt_alloc.h"
#include "lt_ce.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_subject.h"

typedef enum {
    EV_HEARTBEAT = 0,
    EV_HOST_STARTED,
    EV_HOST_STOPPING,
    EV_INST_STARTED,
    EV_INSTS_STARTED,
    EV_INST_STOPPED,
    EV_INST_FAILED,
    EV_COUNT_
} ev_kind;

static const struct {
    const char *type; /* subject suffix */
    const char *cetype;
    const ProtobufCMessageDescriptor *desc;
} kinds[EV_COUNT_] = {
    { "host.heartbeat", "dev.latticed.host.heartbeat.v1",
      &latticed__host__v1__heartbeat__descriptor },
    { "host.started", "dev.latticed.host.started.v1",
      &latticed__host__v1__host_started__descriptor },
    { "host.stopping", "dev.latticed.host.stopping.v1",
      &latticed__host__v1__host_stopping__descriptor },
    { "instance.started", "dev.latticed.instance.started.v1",
      &latticed__host__v1__instance_started__descriptor },
    { "instances.started", "dev.latticed.instances.started.v1",
      &latticed__host__v1__instances_started__descriptor },
    { "instance.stopped", "dev.latticed.instance.stopped.v1",
      &latticed__host__v1__instance_stopped__descriptor },
    { "instance.failed", "dev.latticed.instance.failed.v1",
      &latticed__host__v1__instance_failed__descriptor },
};

/* Host events that arrive while more than LT__SCHED_SVC_PACKED_AFTER items wait in the inbox
 * are kept packed (their exact bytes) and unpacked on the loop when applied: decoded, an
 * instance event takes about four times its size (measured: 1.2 KB), and a loop that falls
 * behind a fleet's burst of events (86,000 at 200,000 instances) would hold them all decoded.
 * While the loop keeps up, the nats.c thread decodes, beside the loop. */

/* What an event says: decoded (m, in arena when in_arena), or its packed bytes still to be
 * unpacked (packed, owned). */
typedef struct {
    ProtobufCMessage *m;
    bool in_arena;
    sched_pb_arena arena;
    uint8_t *packed;
    size_t packed_len;
} ev_body;

typedef struct {
    svc_item hdr; /* first */
    lt_sched_svc *svc;
    ev_kind kind;
    const char *lattice, *host; /* in text */
    ev_body body;
    char text[]; /* "lattice\0host\0" */
} ev_item;

static void body_cleanup(ev_body *b)
{
    if (b->in_arena)
        lt__sched_pb_arena_release(&b->arena);
    else if (b->m != NULL)
        protobuf_c_message_free_unpacked(b->m, NULL);
    lt_free(b->packed);
    memset(b, 0, sizeof(*b));
}

static void ev_drop(svc_item *arg)
{
    ev_item *it = (ev_item *)arg;

    body_cleanup(&it->body);
    lt_free(it);
}

/* Unpack the len bytes at data into b's arena (fast_decode checked everything else). */
static bool body_unpack(ev_body *b, ev_kind k, const uint8_t *data, size_t len)
{
    lt__sched_pb_arena_init(&b->arena, len);
    b->m = protobuf_c_message_unpack(kinds[k].desc, &b->arena.alloc, len, data);
    if (b->m == NULL) {
        lt__sched_pb_arena_release(&b->arena);
        return false;
    }
    b->in_arena = true;
    return true;
}

static void ev_apply(svc_item *arg)
{
    ev_item *it = (ev_item *)arg;
    svc_lattice *l;
    int64_t now = lt_loop_now_ms();
    void *m;
    lt_status st = LT_OK;

    if (it->body.packed != NULL) { /* kept packed while the loop was behind */
        bool ok = body_unpack(&it->body, it->kind, it->body.packed, it->body.packed_len);

        lt_free(it->body.packed);
        it->body.packed = NULL;
        if (!ok) {
            LT_DEBUG("sched", "event %s from %s: undecodable", kinds[it->kind].type, it->host);
            atomic_fetch_add(&it->svc->n_undecodable, 1);
            goto out;
        }
    }
    if ((l = lt__sched_svc_lattice_get(it->svc, it->lattice, true)) == NULL)
        goto out; /* after the unpack: an undecodable event makes no lattice */
    m = it->body.m;
    switch (it->kind) {
    case EV_HEARTBEAT:
        st = lt_sched_on_heartbeat(l->s, it->host, m, now);
        break;
    case EV_HOST_STARTED:
        st = lt_sched_on_host_started(l->s, it->host, m, now);
        break;
    case EV_HOST_STOPPING:
        st = lt_sched_on_host_stopping(l->s, it->host, m, now);
        break;
    case EV_INST_STARTED:
        st = lt_sched_on_instance_started(l->s, it->host, m, now);
        break;
    case EV_INSTS_STARTED:
        st = lt_sched_on_instances_started(l->s, it->host, m, now);
        break;
    case EV_INST_STOPPED:
        st = lt_sched_on_instance_stopped(l->s, it->host, m, now);
        break;
    default:
        st = lt_sched_on_instance_failed(l->s, it->host, m, now);
        break;
    }
    /* counted per instance for a start command's batch, as when each had its own event */
    it->svc->n_events += it->kind == EV_INSTS_STARTED
                             ? ((const Latticed__Host__V1__InstancesStarted *)m)->n_instances
                             : 1;
    if (st != LT_OK) {
        it->svc->n_bad_events++;
        LT_DEBUG("sched", "event %s from %s refused: %s", kinds[it->kind].type, it->host,
                 lt_error_message());
    }
    l->kick = true;
out:
    ev_drop(&it->hdr);
}

/* A newer heartbeat of a host whose older one still waits: the waiting one takes its content
 * (the heartbeat is the host's whole state, so the older one says nothing the newer does not).
 * Keyed by host id: the same id in another lattice is another host. */
static bool ev_merge(svc_item *waiting_hdr, svc_item *newer_hdr)
{
    ev_item *w = (ev_item *)waiting_hdr, *n = (ev_item *)newer_hdr;
    ev_body older = w->body;

    if (w->kind != n->kind || strcmp(w->lattice, n->lattice) != 0)
        return false;
    w->body = n->body;
    w->body.arena.alloc.allocator_data = &w->body.arena;
    n->body = older;
    n->body.arena.alloc.allocator_data = &n->body.arena;
    return true;
}

/* A new item for an event of kind k from host in lattice (lengths checked by the caller). */
static ev_item *item_new(lt_sched_svc *svc, ev_kind k, const char *lattice, const char *host)
{
    size_t ln = strlen(lattice), hn = strlen(host);
    ev_item *it = lt_calloc(1, sizeof(*it) + ln + hn + 2);

    if (it == NULL)
        return NULL;
    memcpy(it->text, lattice, ln + 1);
    memcpy(it->text + ln + 1, host, hn + 1);
    it->lattice = it->text;
    it->host = it->text + ln + 1;
    it->svc = svc;
    it->kind = k;
    it->hdr.run = ev_apply;
    it->hdr.drop = ev_drop;
    return it;
}

/*
 * Fast path for what our own hosts send: binary mode, protobuf data, a plain host id as
 * ce-source. Three header lookups instead of the full CloudEvents decode (which is kept for
 * everything else: JSON data, structured mode, encoded values). NULL to fall back (or out of
 * memory). The payload is unpacked here, or only copied while the loop is behind.
 */
static ev_item *fast_decode(lt_sched_svc *svc, natsMsg *msg, int k, const char *lattice)
{
    const char *type = NULL, *source = NULL, *ct = NULL, *spec = NULL;
    size_t n, len = (size_t)natsMsg_GetDataLength(msg);
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(msg);
    ev_item *it;

    if (natsMsgHeader_Get(msg, "ce-specversion", &spec) != NATS_OK ||
        natsMsgHeader_Get(msg, "ce-type", &type) != NATS_OK ||
        natsMsgHeader_Get(msg, "ce-source", &source) != NATS_OK || strcmp(spec, "1.0") != 0 ||
        strcmp(type, kinds[k].cetype) != 0)
        return NULL;
    if (natsMsgHeader_Get(msg, "content-type", &ct) != NATS_OK)
        ct = NULL; /* then a body that does not unpack may be another encoding (the full decode) */
    else if (strcmp(ct, "application/protobuf") != 0)
        return NULL;
    n = strlen(source);
    if (n == 0 || n > LT_MAX_HOST_ID || strpbrk(source, "%\" ") != NULL ||
        (it = item_new(svc, (ev_kind)k, lattice, source)) == NULL)
        return NULL;
    if (ct != NULL && len > 0 &&
        atomic_load_explicit(&svc->in_count, memory_order_relaxed) > LT__SCHED_SVC_PACKED_AFTER &&
        (it->body.packed = lt_malloc(len)) != NULL) {
        memcpy(it->body.packed, data, len);
        it->body.packed_len = len;
        atomic_fetch_add_explicit(&svc->n_kept_packed, 1, memory_order_relaxed);
        return it;
    }
    if (!body_unpack(&it->body, (ev_kind)k, data, len)) {
        ev_drop(&it->hdr);
        return NULL;
    }
    return it;
}

/* nats.c thread: decode, then post. Nothing here touches scheduler state. */
static void on_event(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    lt_sched_svc *svc = closure;
    bool entered = false;
    ev_item *it = NULL;
    char lattice[LT_SUBJECT_TOKEN_BUF], subj_host[LT_SUBJECT_HOST_BUF] = "";
    const char *rest;
    lt_ce ce;
    int k;

    (void)nc;
    (void)sub;
    lt_ce_init(&ce);
    if (!(entered = lt__sched_svc_cb_enter(svc)) ||
        !lt_subject_host_event_parse(svc->prefix, natsMsg_GetSubject(msg), lattice, subj_host,
                                     &rest))
        goto out;
    for (k = 0; k < EV_COUNT_; k++)
        if (strcmp(rest, kinds[k].type) == 0)
            break;
    if (k == EV_COUNT_) /* our own evt.cp.* and types we do not know */
        goto out;
    if ((it = fast_decode(svc, msg, k, lattice)) != NULL)
        goto post;
    if (lt_ce_from_msg(&ce, msg) != LT_OK || strcmp(ce.ev.type, kinds[k].cetype) != 0 ||
        strlen(ce.ev.source) > LT_MAX_HOST_ID ||
        (it = item_new(svc, (ev_kind)k, lattice, ce.ev.source)) == NULL ||
        lt_ce_unpack(&ce, kinds[k].desc, &it->body.m) != LT_OK) {
        LT_DEBUG("sched", "%s: undecodable event: %s", natsMsg_GetSubject(msg), lt_error_message());
        atomic_fetch_add(&svc->n_undecodable, 1);
        goto out;
    }
post:
    if (subj_host[0] != '\0' && strcmp(subj_host, it->host) != 0) {
        LT_DEBUG("sched", "%s: refused: ce-source '%s' is not the subject's host",
                 natsMsg_GetSubject(msg), it->host);
        atomic_fetch_add(&svc->n_undecodable, 1);
        goto out;
    }
    if (k == EV_HEARTBEAT)
        lt__sched_svc_inbox_post_latest(svc, &it->hdr, it->host, ev_merge);
    else
        lt__sched_svc_inbox_post(svc, &it->hdr);
    it = NULL;
out:
    if (it != NULL)
        ev_drop(&it->hdr);
    lt_ce_cleanup(&ce);
    natsMsg_Destroy(msg);
    if (entered)
        lt__sched_svc_cb_leave(svc); /* after the last use of it */
}

lt_status lt__sched_svc_ingest_start(lt_sched_svc *svc)
{
    char subj[LT_MAX_SUBJECT];
    natsStatus s;

    if (lt_subject_events(subj, sizeof(subj), svc->prefix, LT_SUBJECT_ANY) != LT_OK)
        return LT_FAIL(LT_ERR_TOO_BIG, "event subject too long");
    s = natsConnection_Subscribe(&svc->evt_sub, svc->cfg.nc, subj, on_event, svc);
    /* A fleet reports in bursts: room for several heartbeat rounds of 30,000 hosts before
     * nats.c drops any as a slow consumer (each host's next heartbeat says it all again), but
     * not gigabytes: decoding here is fast, and the inbox keeps one heartbeat per host. */
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(svc->evt_sub, 4000000, 512 * 1024 * 1024);
    if (s != NATS_OK)
        return LT_FAIL(LT_ERR_TRANSPORT, "subscribe %s: %s", subj, natsStatus_GetText(s));
    return LT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * `{prefix}.{lattice}.hosts`: the inventory, answered by the lattice's leader
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    lt_sched_svc *svc;
    natsMsg *msg;
} hosts_item;

static void hosts_drop(void *arg)
{
    hosts_item *it = arg;

    natsMsg_Destroy(it->msg);
    lt_free(it);
}

/* A hosts request whose body is {"evict_silent": true}: the operator overrides
 * the partition guard (latticectl hosts --evict-silent). */
static bool wants_eviction(natsMsg *msg)
{
    json_error_t err;
    json_t *body;
    bool yes;

    if (natsMsg_GetDataLength(msg) <= 0 || natsMsg_GetDataLength(msg) > 4096)
        return false;
    body = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 0, &err);
    yes = json_is_object(body) && json_is_true(json_object_get(body, "evict_silent"));
    json_decref(body);
    return yes;
}

static void hosts_apply(lt_loop *loop, void *arg)
{
    hosts_item *it = arg;
    char lattice[LT_SUBJECT_TOKEN_BUF];
    const char *rest, *reply = natsMsg_GetReply(it->msg);
    char host[LT_MAX_HOST_ID + 1];
    lt_sched_host_mode mode;
    svc_lattice *l;
    lt_buf b;

    (void)loop;
    lt_buf_init(&b, 1000u * 1024u); /* one NATS message (default max_payload 1 MiB) */
    if (reply == NULL || !lt_subject_split_lattice(it->svc->prefix, natsMsg_GetSubject(it->msg),
                                                   lattice, sizeof(lattice), &rest))
        goto out;
    l = lt__sched_svc_lattice_get(it->svc, lattice, false);
    if (l != NULL && !lt_sched_leading(l->s, NULL))
        goto out; /* the leader answers */
    if (lt__sched_svc_drain_action(it->msg, host, sizeof(host), &mode)) {
        lt__sched_svc_drain_request(it->svc, lattice, l, it->msg, host, mode); /* svc_drain.c */
        it->msg = NULL;
        goto out;
    }
    if (l != NULL) {
        if (wants_eviction(it->msg))
            (void)lt_sched_evict_silent(l->s, lt_loop_now_ms());
        if (lt_sched_hosts_json(l->s, lt_loop_now_ms(), &b) != LT_OK)
            goto out;
    } else if (lt_buf_appendf(&b,
                              "{\"lattice\":\"%s\",\"partitioned\":false,\"acting\":false,"
                              "\"total\":0,\"hosts\":[],\"truncated\":false}",
                              lattice) != LT_OK) {
        goto out;
    }
    natsConnection_Publish(it->svc->cfg.nc, reply, b.ptr, (int)b.len);
out:
    lt_buf_cleanup(&b);
    hosts_drop(it);
}

static void on_hosts(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    lt_sched_svc *svc = closure;
    hosts_item *it = lt_calloc(1, sizeof(*it));

    (void)nc;
    (void)sub;
    if (it == NULL || !lt__sched_svc_cb_enter(svc)) {
        lt_free(it);
        natsMsg_Destroy(msg);
        return;
    }
    it->svc = svc;
    it->msg = msg;
    if (lt_loop_post(svc->cfg.loop, hosts_apply, it, hosts_drop) != LT_OK)
        hosts_drop(it);
    lt__sched_svc_cb_leave(svc);
}

lt_status lt__sched_svc_hosts_start(lt_sched_svc *svc)
{
    char subj[LT_MAX_SUBJECT];
    natsStatus s;

    if (lt_subject_hosts(subj, sizeof(subj), svc->prefix, LT_SUBJECT_ANY) != LT_OK)
        return LT_FAIL(LT_ERR_TOO_BIG, "hosts subject too long");
    s = natsConnection_Subscribe(&svc->hosts_sub, svc->cfg.nc, subj, on_hosts, svc);
    if (s != NATS_OK)
        return LT_FAIL(LT_ERR_TRANSPORT, "subscribe %s: %s", subj, natsStatus_GetText(s));
    return LT_OK;
}
