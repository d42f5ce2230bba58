/*
 * outbox.c - commands on their way to hosts: items queued per host and verb
 * during a pass, flushed as batches of at most max_batch items through the
 * sink, remembered as outstanding requests until the host answers (or the
 * command timeout passes), and the answers folded back in item by item.
 */
#include "sched_int.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_log.h"

static LT_NODISCARD lt_status out_queue(lt_sched *s, sched_host *h, lt_sched_verb v, void *item);

#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x
#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

/* One queued item: the protobuf-c message (fields borrowed from specs, except those listed in
 * owned) plus what the reply handler needs. Lives from out_queue to the end of
 * lt__sched_out_flush. */
typedef struct {
    union {
        Latticed__Host__V1__InstanceSpec start;
        Latticed__Host__V1__StopItem stop;
        Latticed__Host__V1__LinkSpec link;
        Latticed__Host__V1__UnlinkItem unlink;
    } m;
    char *owned[3];
    char digest[33];
    const char *app;
    const Wasmcloud__Runtime__V2__Workload *wl; /**< start on a v2 lattice: its template */
} out_item;

const char *lt_sched_verb_name(lt_sched_verb v)
{
    static const char *const names[] = { "start", "stop", "link", "unlink", "inventory" };

    return (unsigned)v < 5 ? names[v] : "?";
}

static void item_free(out_item *it)
{
    if (it == NULL)
        return;
    lt_free(it->owned[0]);
    lt_free(it->owned[1]);
    lt_free(it->owned[2]);
    lt_free(it);
}

static lt_status out_queue(lt_sched *s, sched_host *h, lt_sched_verb v, void *item)
{
    lt_status st = lt__sched_pvec_push(&h->out[v], item);

    if (st != LT_OK) {
        item_free(item);
        return st;
    }
    if (!h->queued) {
        st = lt__sched_pvec_push(&s->outq, h);
        if (st != LT_OK) {
            h->out[v].len--;
            item_free(item);
            return st;
        }
        h->queued = true;
    }
    return LT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Item builders (used by reconcile.c and links.c through these entry points)
 * ------------------------------------------------------------------------------------------- */

lt_status lt__sched_out_start(lt_sched *s, sched_host *h, const lt_sched_spec *spec,
                              const spec_comp *c, const char *id, uint32_t ordinal)
{
    static const Latticed__Host__V1__InstanceSpec init = LATTICED__HOST__V1__INSTANCE_SPEC__INIT;
    out_item *it = lt_calloc(1, sizeof(*it));
    Latticed__Host__V1__InstanceSpec *m;

    if (it == NULL || (it->owned[0] = lt_strdup(id)) == NULL) {
        lt_free(it);
        return LT_FAIL(LT_ERR_NOMEM, "start item");
    }
    m = &it->m.start;
    *m = init;
    m->instance_id = it->owned[0];
    m->app_name = spec->app;
    m->app_version = spec->version;
    m->component_name = c->name;
    m->component_id = c->id;
    m->image_ref = c->image;
    m->n_config = c->n_cfg;
    m->config = c->cfg_p;
    m->n_secrets = c->n_sec;
    m->secrets = c->sec_p;
    if (c->mem != 0 || c->cpu != 0)
        m->resources = (Latticed__Host__V1__ResourceRequests *)&c->res;
    m->ordinal = ordinal;
    m->n_annotations = c->n_ann;
    m->annotations = c->ann_p;
    m->spec_digest = (char *)c->digest;
    it->app = spec->app;
    it->wl = c->wl;
    return out_queue(s, h, LT_SCHED_START, it);
}

lt_status lt__sched_out_stop(lt_sched *s, sched_host *h, const char *id, const char *placement,
                             const char *reason)
{
    static const Latticed__Host__V1__StopItem init = LATTICED__HOST__V1__STOP_ITEM__INIT;
    out_item *it = lt_calloc(1, sizeof(*it));

    if (it == NULL || (it->owned[0] = lt_strdup(id)) == NULL ||
        (it->owned[1] = lt_strdup(reason)) == NULL ||
        (it->owned[2] = lt_strdup(placement != NULL ? placement : "")) == NULL) {
        item_free(it);
        return LT_FAIL(LT_ERR_NOMEM, "stop item");
    }
    it->m.stop = init;
    it->m.stop.instance_id = it->owned[0];
    it->m.stop.reason = it->owned[1];
    /* The incarnation the host reported: a late stop cannot kill a re-created one. */
    it->m.stop.placement = it->owned[2];
    return out_queue(s, h, LT_SCHED_STOP, it);
}

lt_status lt__sched_out_link(lt_sched *s, sched_host *h, const spec_link *l,
                             const char *source_instance, const char *target_instance,
                             const char *digest)
{
    static const Latticed__Host__V1__LinkSpec init = LATTICED__HOST__V1__LINK_SPEC__INIT;
    out_item *it = lt_calloc(1, sizeof(*it));
    Latticed__Host__V1__LinkSpec *m;

    if (it == NULL || (it->owned[0] = lt_strdup(source_instance)) == NULL ||
        (it->owned[1] = lt__sched_strdup0(target_instance)) == NULL) {
        item_free(it);
        return LT_FAIL(LT_ERR_NOMEM, "link item");
    }
    m = &it->m.link;
    *m = init;
    m->link_id = (char *)l->link_id;
    m->app_name = l->app;
    m->source_instance_id = it->owned[0];
    m->source_component_id = l->source_id;
    m->target_component_id = l->target_id;
    m->target_instance_id = it->owned[1];
    m->wit_namespace = l->ns;
    m->wit_package = l->pkg;
    m->n_wit_interfaces = l->n_ifaces;
    m->wit_interfaces = l->ifaces;
    m->name = l->name;
    m->n_source_config = l->n_scfg;
    m->source_config = l->scfg_p;
    m->n_target_config = l->n_tcfg;
    m->target_config = l->tcfg_p;
    m->local = target_instance != NULL && target_instance[0] != '\0';
    m->n_source_secrets = l->n_ssec;
    m->source_secrets = l->ssec_p;
    m->n_target_secrets = l->n_tsec;
    m->target_secrets = l->tsec_p;
    memcpy(it->digest, digest, 33);
    it->app = l->app;
    return out_queue(s, h, LT_SCHED_LINK, it);
}

lt_status lt__sched_out_unlink(lt_sched *s, sched_host *h, const char *link_id,
                               const char *source_instance)
{
    static const Latticed__Host__V1__UnlinkItem init = LATTICED__HOST__V1__UNLINK_ITEM__INIT;
    out_item *it = lt_calloc(1, sizeof(*it));

    if (it == NULL || (it->owned[0] = lt_strdup(link_id)) == NULL ||
        (it->owned[1] = lt_strdup(source_instance)) == NULL) {
        item_free(it);
        return LT_FAIL(LT_ERR_NOMEM, "unlink item");
    }
    it->m.unlink = init;
    it->m.unlink.link_id = it->owned[0];
    it->m.unlink.source_instance_id = it->owned[1];
    return out_queue(s, h, LT_SCHED_UNLINK, it);
}

/* ---------------------------------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------------------------------- */

static void req_free(sched_req *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++) {
        lt_free(r->items[i].id);
        lt_free(r->items[i].aux);
        lt_free(r->items[i].app);
    }
    lt_free(r->items);
    lt_free(r->host_id);
    lt_free(r);
}

static void req_unlink(lt_sched *s, sched_req *r)
{
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        s->req_head = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    else
        s->req_tail = r->prev;
    lt_map_del(&s->reqs, r->key);
}

void lt__sched_req_free_all(lt_sched *s)
{
    while (s->req_head != NULL) {
        sched_req *r = s->req_head;

        req_unlink(s, r);
        req_free(r);
    }
    lt_map_cleanup(&s->reqs);
    s->inv_waiting = 0;
}

static const char *item_id(lt_sched_verb v, const out_item *it)
{
    switch (v) {
    case LT_SCHED_START:
        return it->m.start.instance_id;
    case LT_SCHED_STOP:
        return it->m.stop.instance_id;
    case LT_SCHED_LINK:
        return it->m.link.link_id;
    default:
        return it->m.unlink.link_id;
    }
}

static const char *item_aux(lt_sched_verb v, const out_item *it)
{
    if (v == LT_SCHED_LINK)
        return it->m.link.source_instance_id;
    if (v == LT_SCHED_UNLINK)
        return it->m.unlink.source_instance_id;
    return NULL;
}

/* Remember a request's items so the answer can be matched; NULL when out of memory. */
static sched_req *req_new(lt_sched *s, const char *host_id, lt_sched_verb v, out_item **items,
                          size_t n, int64_t now)
{
    sched_req *r = lt_calloc(1, sizeof(*r));
    size_t i;

    if (r == NULL)
        return NULL;
    r->no = s->next_req++;
    snprintf(r->key, sizeof(r->key), "%llu", (unsigned long long)r->no);
    r->verb = v;
    r->sent = now;
    r->host_id = lt_strdup(host_id);
    r->items = lt_calloc(n > 0 ? n : 1, sizeof(*r->items));
    if (r->host_id == NULL || r->items == NULL)
        goto fail;
    for (i = 0; i < n; i++) {
        const char *aux = item_aux(v, items[i]);

        r->n = i + 1;
        r->items[i].id = lt_strdup(item_id(v, items[i]));
        r->items[i].aux = aux != NULL ? lt_strdup(aux) : NULL;
        r->items[i].app = items[i]->app != NULL ? lt_strdup(items[i]->app) : NULL;
        memcpy(r->items[i].digest, items[i]->digest, sizeof(r->items[i].digest));
        if (r->items[i].id == NULL || (aux != NULL && r->items[i].aux == NULL) ||
            (items[i]->app != NULL && r->items[i].app == NULL))
            goto fail;
    }
    if (lt_map_put(&s->reqs, r->key, r) != LT_OK)
        goto fail;
    r->prev = s->req_tail;
    if (s->req_tail != NULL)
        s->req_tail->next = r;
    else
        s->req_head = r;
    s->req_tail = r;
    return r;
fail:
    req_free(r);
    return NULL;
}

sched_req *lt__sched_out_req_new(lt_sched *s, const char *host_id, lt_sched_verb v, int64_t now)
{
    return req_new(s, host_id, v, NULL, 0, now);
}

static void send_chunk(lt_sched *s, sched_host *h, lt_sched_verb v, out_item **items, size_t n,
                       size_t bytes, int64_t now)
{
    void **msgs = lt_calloc(n, sizeof(*msgs));
    const Wasmcloud__Runtime__V2__Workload **wls = NULL;
    lt_sched_batch b = { 0 };
    sched_req *r;
    size_t i;

    if (msgs != NULL && v == LT_SCHED_START && s->cfg.wasmcloud_v2 &&
        (wls = lt_calloc(n, sizeof(*wls))) == NULL) {
        lt_free(msgs);
        return;
    }
    if (msgs == NULL)
        return; /* the next pass sends them again */
    r = req_new(s, h->id, v, items, n, now);
    if (r == NULL) {
        lt_free(wls);
        lt_free(msgs);
        return;
    }
    for (i = 0; i < n; i++) {
        msgs[i] = &items[i]->m;
        if (wls != NULL)
            wls[i] = items[i]->wl;
    }
    b.verb = v;
    b.host_id = h->id;
    b.request_no = r->no;
    b.count = n;
    b.items_bytes = bytes;
    switch (v) {
    case LT_SCHED_START:
        b.starts = (Latticed__Host__V1__InstanceSpec **)msgs;
        b.workloads = wls; /* NULL on native lattices */
        break;
    case LT_SCHED_STOP:
        b.stops = (Latticed__Host__V1__StopItem **)msgs;
        break;
    case LT_SCHED_LINK:
        b.links = (Latticed__Host__V1__LinkSpec **)msgs;
        break;
    default:
        b.unlinks = (Latticed__Host__V1__UnlinkItem **)msgs;
        break;
    }
    if (s->sink.send != NULL)
        s->sink.send(s->sink.arg, &b);
    lt_free(wls);
    lt_free(msgs);
}

/* Items of the next request: at most max_batch, and about BATCH_BYTES packed; *bytes gets
 * their packed sizes added up (lt_sched_batch.items_bytes). */
#define BATCH_BYTES (512u * 1024u)

static size_t chunk_len(const lt_sched *s, out_item **items, size_t avail, size_t *bytes)
{
    size_t n, sum = 0;

    for (n = 0; n < avail && n < s->cfg.max_batch; n++) {
        size_t one = protobuf_c_message_get_packed_size((const ProtobufCMessage *)&items[n]->m);

        if (sum + one + 8 * (n + 1) > BATCH_BYTES && n > 0)
            break;
        sum += one;
    }
    *bytes = sum;
    return n;
}

void lt__sched_out_flush(lt_sched *s, int64_t now)
{
    size_t i, v, k;

    for (i = 0; i < s->outq.len; i++) {
        sched_host *h = s->outq.items[i];

        /* stop before start, so capacity frees up first on the host */
        static const lt_sched_verb order[4] = { LT_SCHED_UNLINK, LT_SCHED_STOP, LT_SCHED_START,
                                                LT_SCHED_LINK };
        for (v = 0; v < 4; v++) {
            pvec *q = &h->out[order[v]];

            for (k = 0; k < q->len;) {
                size_t bytes, n = chunk_len(s, (out_item **)&q->items[k], q->len - k, &bytes);

                send_chunk(s, h, order[v], (out_item **)&q->items[k], n, bytes, now);
                k += n;
            }
            for (k = 0; k < q->len; k++)
                item_free(q->items[k]);
            q->len = 0;
        }
        h->queued = false;
    }
    s->outq.len = 0;
}

void lt__sched_out_discard(lt_sched *s)
{
    size_t i, v, k;

    for (i = 0; i < s->outq.len; i++) {
        sched_host *h = s->outq.items[i];

        for (v = 0; v < 4; v++) {
            for (k = 0; k < h->out[v].len; k++)
                item_free(h->out[v].items[k]);
            h->out[v].len = 0;
        }
        h->queued = false;
    }
    s->outq.len = 0;
}

/* ---------------------------------------------------------------------------------------------
 * Answers
 * ------------------------------------------------------------------------------------------- */

void lt__sched_out_acked_set(sched_obs *o, const char *link_id, const char *digest, int64_t now)
{
    acked_link *na;
    size_t i;

    for (i = 0; i < o->n_links; i++)
        if (strcmp(o->links[i].link_id, link_id) == 0) {
            memcpy(o->links[i].digest, digest, 33);
            o->links[i].at = now;
            return;
        }
    na = lt_realloc(o->links, (o->n_links + 1) * sizeof(*na));
    if (na == NULL)
        return;
    o->links = na;
    na[o->n_links].link_id = lt_strdup(link_id);
    if (na[o->n_links].link_id == NULL)
        return;
    memcpy(na[o->n_links].digest, digest, 33);
    na[o->n_links].at = now;
    o->n_links++;
}

static void acked_del(sched_obs *o, const char *link_id)
{
    size_t i;

    for (i = 0; i < o->n_links; i++)
        if (strcmp(o->links[i].link_id, link_id) == 0) {
            lt_free(o->links[i].link_id);
            o->links[i] = o->links[--o->n_links];
            return;
        }
}

/* A link of app a (declared there) failed on host host_id: back off, keep why for its status. */
static void link_failed(lt_sched *s, sched_app *a, const req_item *it, const char *host_id,
                        const char *msg, int64_t now)
{
    link_rt *l = a != NULL ? lt__sched_link_rt(a, it->id, true) : NULL;
    int64_t d = s->cfg.backoff_base_ms;
    uint32_t i;

    if (l == NULL)
        return;
    l->failures++;
    for (i = 1; i < l->failures && d < s->cfg.backoff_max_ms; i++)
        d *= 2;
    if (d > s->cfg.backoff_max_ms)
        d = s->cfg.backoff_max_ms;
    d = d * (int64_t)(800 + lt__sched_rand(s) % 401) / 1000;
    LT_INFO("sched", "lattice %s app %s: link %s failed on host %s (%s); retry in %lld ms",
            s->lattice, a->name, it->id, host_id, msg, (long long)d);
    l->retry_at = now + d;
    if (s->wake_at == 0 || l->retry_at < s->wake_at)
        s->wake_at = l->retry_at;
    lt__sched_set_str(&l->fail_msg, msg);
    lt__sched_mark_dirty(s, a, now);
}

static void item_answer(lt_sched *s, const sched_req *r, sched_host *h, const req_item *it,
                        int code, int state, const char *msg, int64_t now)
{
    bool ok = code == RC(OK) || code == RC(ALREADY_DONE);
    sched_start *st;
    sched_obs *o;
    sched_app *a;

    switch (r->verb) {
    case LT_SCHED_START:
        st = lt_map_get(&s->starts_by_id, it->id);
        if (st == NULL || h == NULL || st->host != h)
            return;
        lt__sched_trace_app(s, st->app);
        if (ok) {
            const spec_comp *c =
                st->app->spec != NULL ? lt__sched_spec_find(st->app->spec, st->comp) : NULL;

            if (!st->acked)
                lt__sched_cp_instance_placed(s, st, c != NULL ? c->image : "");
            st->acked = true;
            st->sent = now; /* the confirmation clock starts now */
            /* The host replies once the instance runs (command.proto): the app need not wait
             * for the instance.started event to count it. */
            if (state == IS(RUNNING) && !st->running) {
                st->running = true;
                lt__sched_mark_dirty(s, st->app, now);
            }
        } else {
            char *comp = lt_strdup(st->comp);

            a = st->app;
            lt__sched_start_remove(s, st);
            if (comp != NULL)
                lt__sched_failure(s, a, comp, r->host_id, msg, now);
            lt_free(comp);
        }
        return;
    case LT_SCHED_STOP:
        o = h != NULL ? lt__sched_inv_obs_on(s, it->id, h) : NULL;
        if (o == NULL)
            return;
        lt__sched_trace_app(s, o->owner);
        if (!ok)
            LT_WARN("sched", "lattice %s: host %s could not stop %s: %s", s->lattice, h->id, it->id,
                    msg);
        if (o->owner != NULL)
            lt__sched_mark_dirty(s, o->owner, now);
        return;
    case LT_SCHED_INVENTORY:
        return;
    case LT_SCHED_LINK:
    case LT_SCHED_UNLINK:
        o = h != NULL && it->aux != NULL ? lt__sched_inv_obs_on(s, it->aux, h) : NULL;
        a = it->app != NULL ? lt__sched_app_get(s, it->app, false) : NULL; /* link: declaring */
        lt__sched_trace_app(s, a != NULL ? a : o != NULL ? o->owner : NULL);
        if (o != NULL) {
            o->link_sent = 0;
            if (ok && r->verb == LT_SCHED_LINK)
                lt__sched_out_acked_set(o, it->id, it->digest, now);
            else if (ok)
                acked_del(o, it->id);
            if (o->owner != NULL)
                lt__sched_mark_dirty(s, o->owner, now);
        }
        if (!ok && r->verb == LT_SCHED_LINK)
            link_failed(s, a, it, r->host_id, msg, now);
        else if (ok && r->verb == LT_SCHED_LINK && a != NULL) {
            link_rt *l = lt__sched_link_rt(a, it->id, false);

            if (l != NULL) {
                l->failures = 0;
                l->retry_at = 0;
            }
            if (a != NULL)
                lt__sched_mark_dirty(s, a, now);
        }
        return;
    }
}

void lt_sched_on_reply(lt_sched *s, uint64_t request_no,
                       const Latticed__Host__V1__CommandReply *reply, lt_status transport,
                       int64_t now)
{
    char key[24], tmsg[256];
    sched_req *r;
    sched_host *h;
    size_t i;

    snprintf(key, sizeof(key), "%llu", (unsigned long long)request_no);
    r = lt_map_get(&s->reqs, key);
    if (r == NULL)
        return;
    req_unlink(s, r);
    h = lt__sched_inv_host(s, r->host_id);
    if (r->verb == LT_SCHED_INVENTORY) { /* answered (lt_sched_on_inventory) or expired */
        if (s->inv_waiting > 0 && r->host_id[0] != '\0')
            s->inv_waiting--;
        req_free(r);
        return;
    }
    if (reply != NULL && reply->code == RC(STALE_EPOCH)) {
        LT_WARN("sched", "lattice %s: host %s refused epoch %llu (it has seen %llu)", s->lattice,
                r->host_id, (unsigned long long)s->epoch, (unsigned long long)reply->newest_epoch);
        lt__sched_fence_refused(s, r, h, reply->newest_epoch, now);
        req_free(r);
        return;
    }
    snprintf(tmsg, sizeof(tmsg), "host %s did not answer %s: %s", r->host_id,
             lt_sched_verb_name(r->verb),
             lt_status_str(transport != LT_OK ? transport : LT_ERR_TIMEOUT));
    for (i = 0; i < r->n; i++) {
        int code, state = 0;
        const char *msg;

        if (reply == NULL) {
            code = RC(UNSPECIFIED);
            msg = tmsg;
        } else if (reply->code != RC(OK)) {
            code = reply->code;
            msg = reply->message;
        } else if (i < reply->n_results && reply->results[i] != NULL) {
            code = reply->results[i]->code;
            state = (int)reply->results[i]->state;
            msg = reply->results[i]->message;
        } else {
            code = RC(INTERNAL);
            msg = "the host's reply has no result for this item";
        }
        if (code != RC(OK) && code != RC(ALREADY_DONE))
            s->n_cmd_failed[r->verb]++; /* not INVENTORY: returned above */
        item_answer(s, r, h, &r->items[i], code, state, msg != NULL ? msg : "", now);
        lt__sched_trace_end(s); /* item_answer's lines carried the trace of the item's app */
    }
    lt__sched_cp_placed_flush(s); /* what this answer accepted: one event */
    req_free(r);
}

void lt__sched_req_expire(lt_sched *s, int64_t now)
{
    while (s->req_head != NULL && now - s->req_head->sent >= s->cfg.command_timeout_ms)
        lt_sched_on_reply(s, s->req_head->no, NULL, LT_ERR_TIMEOUT, now);
}
