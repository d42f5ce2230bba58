/*
 * svc_v2.c - the wasmCloud 2.x driver's hosts: bare HostHeartbeats on
 * `{operator prefix}.heartbeat.{id}` (proto3 JSON, decoded leniently) make the inventory of
 * the lattice named by their `environment`; the driver's table of the workloads latticed
 * started on each host supplies what a v2 heartbeat lacks (it carries only counts), and the
 * two together reach the lattice's scheduler as one native heartbeat.
 * What other replicas asked of the hosts comes from svc_v2_watch.c, what earlier terms
 * started from svc_v2_kv.c.
 */
#include "sched_v2_int.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_pbjson.h"
#include "lt_subject.h"

#define HOST_FORGET_MS (10 * 60 * 1000) /* a silent host's table is kept this long */

bool lt__sched_v2_lattice(const lt_sched_svc *svc, const char *name)
{
    size_t i;

    for (i = 0; i < svc->n_v2; i++)
        if (strcmp(svc->v2_lats[i], name) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------------------------- */

static void wl_free(v2_wl *w)
{
    if (w == NULL)
        return;
    lt_free(w->id);
    lt_free(w->app);
    lt_free(w->version);
    lt_free(w->comp);
    lt_free(w->comp_id);
    lt_free(w->image);
    lt_free(w->digest);
    lt_free(w->message);
    lt__sched_skvs_cleanup(&w->ann);
    lt_free(w);
}

v2_wl *lt__sched_v2_wl(v2_host *h, const char *wid)
{
    return lt_map_get(&h->wls, wid);
}

void lt__sched_v2_wl_drop(v2_host *h, v2_wl *w, bool leading)
{
    if (leading) /* gone: forget it across restarts too */
        lt__sched_v2_kv_write(h->lat->svc->v2, h->lat->name, h->id, w->id, NULL);
    lt_map_del(&h->wls, w->id);
    wl_free(w);
}

static bool dup_or_empty(char **dst, const char *src)
{
    *dst = lt_strdup(src != NULL ? src : "");
    return *dst != NULL;
}

v2_wl *lt__sched_v2_record_start(v2_host *h, const char *wid,
                                 const Wasmcloud__Runtime__V2__Workload *w, int64_t now)
{
    v2_wl *e = lt__sched_v2_wl(h, wid);
    const char *image = "";
    lt_status st = LT_OK;
    size_t i;

    if (e != NULL)
        return e;
    if (h->wls.count >= V2_MAX_WORKLOADS_PER_HOST) {
        LT_WARN("sched", "v2 host %s: more than %u workloads: %s not tracked", h->id,
                V2_MAX_WORKLOADS_PER_HOST, wid);
        return NULL;
    }
    if (w->wit_world != NULL && w->wit_world->n_components > 0 &&
        w->wit_world->components[0]->image != NULL)
        image = w->wit_world->components[0]->image;
    e = lt_calloc(1, sizeof(*e));
    if (e == NULL || !dup_or_empty(&e->id, wid) ||
        !dup_or_empty(&e->app, lt__sched_v2_ann(w, LT_SCHED_ANN_APP)) ||
        !dup_or_empty(&e->version, lt__sched_v2_ann(w, LT_SCHED_ANN_VERSION)) ||
        !dup_or_empty(&e->comp, lt__sched_v2_ann(w, LT_SCHED_V2_ANN_COMPONENT)) ||
        !dup_or_empty(&e->comp_id, lt__sched_v2_ann(w, LT_SCHED_V2_ANN_COMPONENT_ID)) ||
        !dup_or_empty(&e->image, image) ||
        !dup_or_empty(&e->digest, lt__sched_v2_ann(w, LT_SCHED_V2_ANN_DIGEST)) ||
        !dup_or_empty(&e->message, ""))
        goto fail;
    for (i = 0; i < w->n_annotations && st == LT_OK; i++)
        if (w->annotations[i] != NULL &&
            strncmp(w->annotations[i]->key, "latticed.dev/", strlen("latticed.dev/")) == 0)
            st = lt__sched_skvs_set(&e->ann, w->annotations[i]->key, w->annotations[i]->value);
    if (st != LT_OK)
        goto fail;
    e->state = LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_STARTING;
    e->since = now;
    e->gen = ++h->lat->svc->v2->next_gen;
    if (lt_map_add(&h->wls, e->id, e) != LT_OK)
        goto fail;
    return e;
fail:
    wl_free(e);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * The native heartbeat the scheduler gets
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    Latticed__Host__V1__Heartbeat hb;
    Latticed__Host__V1__Capacity cap;
    Latticed__Host__V1__Heartbeat__LabelsEntry *lab, **labp;
    Latticed__Host__V1__WitCapability *caps, **capp;
    Latticed__Host__V1__Instance *inst, **instp;
    Latticed__Host__V1__Instance__AnnotationsEntry *ann, **annp;
} feed_buf;

static void feed_cleanup(feed_buf *f)
{
    lt_free(f->lab);
    lt_free(f->labp);
    lt_free(f->caps);
    lt_free(f->capp);
    lt_free(f->inst);
    lt_free(f->instp);
    lt_free(f->ann);
    lt_free(f->annp);
}

static lt_status feed_build(v2_host *h, const char *lattice, feed_buf *f)
{
    const Wasmcloud__Runtime__V2__HostHeartbeat *v = h->hb;
    size_t i, n = h->wls.count, nann = 0, iter = 0, k = 0;
    v2_wl *w;

    f->hb = (Latticed__Host__V1__Heartbeat)LATTICED__HOST__V1__HEARTBEAT__INIT;
    f->cap = (Latticed__Host__V1__Capacity)LATTICED__HOST__V1__CAPACITY__INIT;
    f->hb.host_id = h->id;
    f->hb.lattice = (char *)lattice;
    f->hb.friendly_name = v->friendly_name;
    f->hb.version = v->version;
    f->hb.started_at = v->started_at;
    f->hb.sequence = ++h->seq;
    f->hb.interval_ms = h->interval_ms;
    f->cap.memory_total_bytes = v->system_memory_total;
    f->cap.memory_free_bytes = v->system_memory_free;
    f->cap.cpu_usage_percent = v->system_cpu_usage;
    f->hb.capacity = &f->cap;
    while ((w = lt_map_next(&h->wls, &iter)) != NULL)
        nann += w->ann.count;
    f->lab = lt_calloc(v->n_labels + 1, sizeof(*f->lab));
    f->labp = lt_calloc(v->n_labels + 1, sizeof(*f->labp));
    f->caps = lt_calloc(v->n_exports + 1, sizeof(*f->caps));
    f->capp = lt_calloc(v->n_exports + 1, sizeof(*f->capp));
    f->inst = lt_calloc(n + 1, sizeof(*f->inst));
    f->instp = lt_calloc(n + 1, sizeof(*f->instp));
    f->ann = lt_calloc(nann + 1, sizeof(*f->ann));
    f->annp = lt_calloc(nann + 1, sizeof(*f->annp));
    if (f->lab == NULL || f->labp == NULL || f->caps == NULL || f->capp == NULL ||
        f->inst == NULL || f->instp == NULL || f->ann == NULL || f->annp == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "v2 heartbeat");
    for (i = 0; i < v->n_labels; i++) {
        f->lab[i] = (Latticed__Host__V1__Heartbeat__LabelsEntry)
            LATTICED__HOST__V1__HEARTBEAT__LABELS_ENTRY__INIT;
        f->lab[i].key = v->labels[i]->key;
        f->lab[i].value = v->labels[i]->value;
        f->labp[i] = &f->lab[i];
    }
    f->hb.n_labels = v->n_labels;
    f->hb.labels = f->labp;
    for (i = 0; i < v->n_exports; i++) {
        f->caps[i] = (Latticed__Host__V1__WitCapability)LATTICED__HOST__V1__WIT_CAPABILITY__INIT;
        f->caps[i].namespace_ = v->exports[i]->namespace_;
        f->caps[i].package = v->exports[i]->package;
        f->caps[i].version = v->exports[i]->version;
        f->caps[i].n_interfaces = v->exports[i]->n_interfaces;
        f->caps[i].interfaces = v->exports[i]->interfaces;
        f->capp[i] = &f->caps[i];
    }
    f->hb.n_capabilities = v->n_exports;
    f->hb.capabilities = f->capp;
    iter = 0;
    nann = 0;
    while ((w = lt_map_next(&h->wls, &iter)) != NULL) {
        Latticed__Host__V1__Instance *in = &f->inst[k];

        *in = (Latticed__Host__V1__Instance)LATTICED__HOST__V1__INSTANCE__INIT;
        in->instance_id = w->id;
        in->state = w->state;
        in->app_name = w->app;
        in->app_version = w->version;
        in->component_name = w->comp;
        in->component_id = w->comp_id;
        in->image_ref = w->image;
        in->spec_digest = w->digest;
        in->message = w->message;
        in->annotations = &f->annp[nann];
        for (i = 0; i < w->ann.count; i++, nann++) {
            f->ann[nann] = (Latticed__Host__V1__Instance__AnnotationsEntry)
                LATTICED__HOST__V1__INSTANCE__ANNOTATIONS_ENTRY__INIT;
            f->ann[nann].key = w->ann.items[i].key;
            f->ann[nann].value = w->ann.items[i].value;
            f->annp[nann] = &f->ann[nann];
        }
        in->n_annotations = w->ann.count;
        f->instp[k++] = in;
    }
    f->hb.n_instances = k;
    f->hb.instances = f->instp;
    return LT_OK;
}

void lt__sched_v2_feed(sched_v2 *v, v2_host *h, int64_t now)
{
    (void)v;
    /* A heartbeat is what keeps a host alive for the scheduler: a table change of a host
     * whose own heartbeat is late waits for it (or for lt__sched_v2_push, the keep-alive of
     * a host busy starting), or it would revive a host the scheduler declared lost. */
    if (h->hb == NULL || h->gone || now - h->last_hb > (int64_t)h->interval_ms + V2_LATE_MS)
        return;
    lt__sched_v2_push(h, now);
}

void lt__sched_v2_push(v2_host *h, int64_t now)
{
    feed_buf f = { 0 };
    lt_status st;

    st = feed_build(h, h->lat->name, &f);
    if (st == LT_OK)
        st = lt_sched_on_heartbeat(h->lat->s, h->id, &f.hb, now);
    if (st != LT_OK)
        LT_DEBUG("sched", "v2 host %s: heartbeat refused: %s", h->id, lt_error_message());
    h->lat->kick = true;
    feed_cleanup(&f);
}

/* ---------------------------------------------------------------------------------------------
 * Heartbeats in
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    svc_item hdr; /* first */
    sched_v2 *v;
    char lattice[LT_MAX_TOKEN + 1];
    char host[LT_MAX_HOST_ID + 1]; /* the key while it waits (stays when hb moves) */
    Wasmcloud__Runtime__V2__HostHeartbeat *hb;
} hb_item;

static void hb_drop(svc_item *arg)
{
    hb_item *it = (hb_item *)arg;

    if (it->hb != NULL)
        protobuf_c_message_free_unpacked(&it->hb->base, NULL);
    lt_free(it);
}

static void host_free(v2_host *h)
{
    size_t iter = 0;
    v2_wl *w;

    while ((w = lt_map_next(&h->wls, &iter)) != NULL)
        wl_free(w);
    lt_map_cleanup(&h->wls);
    if (h->hb != NULL)
        protobuf_c_message_free_unpacked(&h->hb->base, NULL);
    lt_free(h->id);
    lt_free(h);
}

v2_host *lt__sched_v2_host(sched_v2 *v, const char *id, svc_lattice *l)
{
    v2_host *h = lt_map_get(&v->hosts, id);

    if (h != NULL)
        return h;
    h = lt_calloc(1, sizeof(*h));
    if (h == NULL || (h->id = lt_strdup(id)) == NULL || lt_map_add(&v->hosts, h->id, h) != LT_OK) {
        if (h != NULL)
            lt_free(h->id);
        lt_free(h);
        return NULL;
    }
    h->lat = l;
    h->interval_ms =
        (uint32_t)(v->svc->cfg.v2.heartbeat_ms > 0 ? v->svc->cfg.v2.heartbeat_ms : 15000);
    h->last_hb = lt_loop_now_ms(); /* known since now (forgotten after long silence) */
    return h;
}

/* A heartbeat (published, or the answer to a probe). */
void lt__sched_v2_heard(sched_v2 *v, v2_host *h, Wasmcloud__Runtime__V2__HostHeartbeat *hb,
                        bool probe, int64_t now)
{
    (void)probe; /* both say the host lives; the interval stays the configured one (a gap
                  * measured next to a long start, or to a stall of ours, is no interval) */
    if (h->hb != NULL)
        protobuf_c_message_free_unpacked(&h->hb->base, NULL);
    h->hb = hb;
    h->ver = lt__sched_v2_version(hb->version);
    h->last_hb = now;
    h->gone = false;
    lt__sched_v2_feed(v, h, now);
}

static void hb_apply(svc_item *arg)
{
    hb_item *it = (hb_item *)arg;
    lt_sched_svc *svc = it->v->svc;
    svc_lattice *l = lt__sched_svc_lattice_get(svc, it->lattice, false);
    v2_host *h = l != NULL ? lt__sched_v2_host(it->v, it->hb->id, l) : NULL;

    if (h != NULL && h->lat == l) {
        if (h->hb == NULL)
            LT_INFO("sched", "lattice %s: wasmCloud host %s joined", l->name, h->id);
        lt__sched_v2_heard(it->v, h, it->hb, false, lt_loop_now_ms());
        it->hb = NULL; /* kept */
        svc->n_events++;
    }
    hb_drop(&it->hdr);
}

/* A newer heartbeat of a host whose older one still waits: the waiting one takes it. */
static bool hb_merge(svc_item *waiting_hdr, svc_item *newer_hdr)
{
    hb_item *w = (hb_item *)waiting_hdr, *n = (hb_item *)newer_hdr;
    Wasmcloud__Runtime__V2__HostHeartbeat *hb = w->hb;

    if (strcmp(w->lattice, n->lattice) != 0)
        return false;
    w->hb = n->hb;
    n->hb = hb;
    return true;
}

/* nats.c thread: decode, check, post. */
static void on_heartbeat(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    sched_v2 *v = closure;
    bool entered = false;
    const char *subj = natsMsg_GetSubject(msg), *id = strrchr(subj, '.');
    ProtobufCMessage *m = NULL;
    hb_item *it = NULL;
    const char *lat;

    (void)nc;
    (void)sub;
    if (!(entered = lt__sched_svc_cb_enter(v->svc)) || id == NULL)
        goto out;
    id++;
    if (lt_pbjson_decode(&wasmcloud__runtime__v2__host_heartbeat__descriptor, natsMsg_GetData(msg),
                         (size_t)natsMsg_GetDataLength(msg), LT_PBJSON_IGNORE_UNKNOWN,
                         &m) != LT_OK) {
        LT_DEBUG("sched", "%s: undecodable heartbeat: %s", subj, lt_error_message());
        goto out;
    }
    it = lt_calloc(1, sizeof(*it));
    if (it == NULL)
        goto out;
    it->hb = (Wasmcloud__Runtime__V2__HostHeartbeat *)m;
    m = NULL;
    lat = lt__sched_v2_lattice_of(it->hb->environment);
    if (it->hb->id == NULL || strcmp(it->hb->id, id) != 0 || strlen(id) > LT_MAX_HOST_ID ||
        !lt_subject_token_ok(id) || strlen(lat) > LT_MAX_TOKEN ||
        !lt__sched_v2_lattice(v->svc, lat))
        goto out; /* another id than the subject's, or a lattice we do not drive */
    memcpy(it->lattice, lat, strlen(lat) + 1);
    it->v = v;
    it->hdr.run = hb_apply;
    it->hdr.drop = hb_drop;
    memcpy(it->host, id, strlen(id) + 1);
    lt__sched_svc_inbox_post_latest(v->svc, &it->hdr, it->host, hb_merge);
    it = NULL;
out:
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    if (it != NULL)
        hb_drop(&it->hdr);
    natsMsg_Destroy(msg);
    if (entered)
        lt__sched_svc_cb_leave(v->svc); /* after the last use of it */
}

/* ---------------------------------------------------------------------------------------------
 * Start and stop
 * ------------------------------------------------------------------------------------------- */

/*
 * Hosts the scheduler evicted and that stayed silent for long are forgotten (with their
 * tables): from the timer. Never while our own link is down or was down lately, nor while the
 * partition guard holds (silence we cannot trust: wasmCloud PR #5502), nor while the
 * scheduler still knows the host.
 */
void lt__sched_v2_forget(sched_v2 *v, int64_t now)
{
    size_t iter = 0;
    v2_host *h;

    if (!v->svc->connected)
        return;
    while ((h = lt_map_next(&v->hosts, &iter)) != NULL) {
        int64_t keep = 20 * (int64_t)h->interval_ms, since = h->last_hb;

        if (keep < HOST_FORGET_MS)
            keep = HOST_FORGET_MS;
        if (v->last_connect > since)
            since = v->last_connect;
        if (h->cur_no == 0 && now - since > keep && !lt_sched_partitioned(h->lat->s) &&
            lt__sched_inv_host(h->lat->s, h->id) == NULL) {
            size_t wi = 0;
            v2_wl *w;

            while (lt_sched_leading(h->lat->s, NULL) && (w = lt_map_next(&h->wls, &wi)) != NULL)
                lt__sched_v2_kv_write(v, h->lat->name, h->id, w->id, NULL);
            LT_INFO("sched", "lattice %s: wasmCloud host %s forgotten after %lld s of silence",
                    h->lat->name, h->id, (long long)((now - h->last_hb) / 1000));
            lt_map_del(&v->hosts, h->id);
            lt__sched_v2_host_cleanup_ops(v, h);
            host_free(h);
            iter = 0; /* the map moved */
        }
    }
}

lt_status lt__sched_v2_subscribe(sched_v2 *v, natsSubscription **sub, const char *subj,
                                 natsMsgHandler cb)
{
    natsStatus s = natsConnection_Subscribe(sub, v->svc->cfg.nc, subj, cb, v);

    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(*sub, 1000000, 1024 * 1024 * 1024);
    if (s != NATS_OK)
        return LT_FAIL(LT_ERR_TRANSPORT, "subscribe %s: %s", subj, natsStatus_GetText(s));
    return LT_OK;
}

lt_status lt__sched_v2_start(lt_sched_svc *svc)
{
    const lt_sched_v2_config *c = &svc->cfg.v2;
    char subj[LT_MAX_SUBJECT];
    sched_v2 *v;
    lt_status st;

    if (svc->n_v2 == 0)
        return LT_OK;
    v = lt_calloc(1, sizeof(*v));
    if (v == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "v2 driver");
    svc->v2 = v;
    v->svc = svc;
    v->host_prefix = lt_strdup(c->host_prefix != NULL ? c->host_prefix : "runtime.host");
    v->op_prefix = lt_strdup(c->operator_prefix != NULL ? c->operator_prefix : "runtime.operator");
    if (v->host_prefix != NULL) {
        size_t n = sizeof(LT__SCHED_V2_ANNOUNCE) + 1 + strlen(v->host_prefix);

        if ((v->announce_prefix = lt_malloc(n)) != NULL)
            snprintf(v->announce_prefix, n, LT__SCHED_V2_ANNOUNCE ".%s", v->host_prefix);
    }
    if (v->host_prefix == NULL || v->op_prefix == NULL || v->announce_prefix == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "v2 driver");
    if (lt_subject_check(v->host_prefix, false) != LT_OK ||
        lt_subject_check(v->op_prefix, false) != LT_OK)
        return LT_FAIL(LT_ERR_INVALID, "bad wasmCloud subject prefix: %s", lt_error_message());
    /* The watch before the bucket is read: a start the leader sends meanwhile is in one or
     * the other (its bucket write is asynchronous); recording one twice is harmless. */
    st = lt__sched_v2_replies_start(v);
    if (st == LT_OK)
        st = lt__sched_v2_watch_start(v);
    if (st == LT_OK)
        st = lt__sched_v2_kv_start(v); /* what earlier terms started, before anything new */
    if (st != LT_OK)
        return st;
    snprintf(subj, sizeof(subj), "%s.heartbeat.*", v->op_prefix);
    st = lt__sched_v2_subscribe(v, &v->hb_sub, subj, on_heartbeat);
    if (st != LT_OK)
        return st;
    LT_INFO("sched", "wasmCloud 2.x hosts: heartbeats on %s.heartbeat.*, commands on %s.{id}",
            v->op_prefix, v->host_prefix);
    return LT_OK;
}

void lt__sched_v2_connection(sched_v2 *v, bool up, int64_t now)
{
    size_t iter = 0;
    v2_host *h;

    if (v == NULL || !up)
        return;
    /* As the scheduler does: silence seen while our link was down proves nothing. */
    v->last_connect = now;
    while ((h = lt_map_next(&v->hosts, &iter)) != NULL) {
        h->gone = false;
        if (h->last_hb < now)
            h->last_hb = now;
    }
}

void lt__sched_v2_unsubscribe(lt_sched_svc *svc)
{
    sched_v2 *v = svc->v2;

    if (v == NULL)
        return;
    if (v->hb_sub != NULL)
        natsSubscription_Unsubscribe(v->hb_sub);
    if (v->watch_sub != NULL)
        natsSubscription_Unsubscribe(v->watch_sub);
    if (v->reply_sub != NULL)
        natsSubscription_Unsubscribe(v->reply_sub);
}

void lt__sched_v2_stop(lt_sched_svc *svc)
{
    sched_v2 *v = svc->v2;
    size_t iter = 0;
    v2_host *h;

    if (v == NULL)
        return;
    lt__sched_v2_unsubscribe(svc);
    lt__sched_v2_kv_stop(v);
    {
        natsSubscription *subs[] = { v->hb_sub, v->watch_sub, v->reply_sub };

        lt_conn_subs_free(svc->cfg.nc, subs, 3, LT_CONN_SETTLE_MS);
    }
    v->hb_sub = v->watch_sub = v->reply_sub = NULL;
    while ((h = lt_map_next(&v->hosts, &iter)) != NULL) {
        lt__sched_v2_host_cleanup_ops(v, h);
        host_free(h);
    }
    lt_map_cleanup(&v->hosts);
    lt_map_cleanup(&v->busy);
    lt_free(v->host_prefix);
    lt_free(v->announce_prefix);
    lt_free(v->op_prefix);
    lt_free(v);
    svc->v2 = NULL;
}
