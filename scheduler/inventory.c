/*
 * inventory.c - the host inventory: hosts by id with labels, capacity and
 * liveness; what each host runs (observed instances, indexed by id and by
 * owning app); host events folded in at a cost proportional to the host's
 * own instance list; lost-host detection with the partition guard; and the
 * label-selector cache placement uses; lt__sched_check_consistent checks that the indexes agree.
 */
#include "sched_int.h"

#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_log.h"

static void inv_host_remove(lt_sched *s, sched_host *h, int reason, int64_t now);

#define IS(st) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##st

/* ---------------------------------------------------------------------------------------------
 * Validation
 * ------------------------------------------------------------------------------------------- */

static bool valid_token(const char *t)
{
    size_t n = 0;

    if (t == NULL || t[0] == '\0')
        return false;
    for (; t[n] != '\0'; n++) {
        unsigned char c = (unsigned char)t[n];

        if (c == '.' || c == '*' || c == '>' || c <= ' ' || c == 0x7f)
            return false;
    }
    return n <= LT_MAX_HOST_ID;
}

static lt_status check_source(const lt_sched *s, const char *host_id, const char *msg_host,
                              const char *msg_lattice)
{
    if (!valid_token(host_id))
        return LT_FAIL(LT_ERR_INVALID, "invalid host id in event source");
    if (msg_host != NULL && msg_host[0] != '\0' && strcmp(msg_host, host_id) != 0)
        return LT_FAIL(LT_ERR_INVALID, "event of host %s claims host_id %s", host_id, msg_host);
    if (msg_lattice != NULL && msg_lattice[0] != '\0' && strcmp(msg_lattice, s->lattice) != 0)
        return LT_FAIL(LT_ERR_INVALID, "event of host %s is for lattice %s", host_id, msg_lattice);
    return LT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Hosts
 * ------------------------------------------------------------------------------------------- */

sched_host *lt__sched_inv_host(const lt_sched *s, const char *id)
{
    return lt_map_get(&s->hosts, id);
}

static void host_free(sched_host *h)
{
    size_t i, v;

    if (h == NULL)
        return;
    lt_free(h->id);
    lt_free(h->friendly);
    lt_free(h->version);
    lt__sched_skvs_cleanup(&h->labels);
    lt__sched_v2_host_free(h);
    for (i = 0; i < h->links.cap; i++)
        if (h->links.slots[i].key != NULL)
            lt_free(h->links.slots[i].val);
    lt_map_cleanup(&h->links);
    for (v = 0; v < 4; v++)
        lt__sched_pvec_cleanup(&h->out[v]); /* items are freed by lt__sched_out_discard before */
    lt_free(h);
}

static lt_status host_get(lt_sched *s, const char *id, int64_t now, sched_host **out)
{
    sched_host *h = lt__sched_inv_host(s, id);
    lt_status st;

    *out = h;
    if (h != NULL)
        return LT_OK;
    h = lt_calloc(1, sizeof(*h));
    if (h == NULL || (h->id = lt_strdup(id)) == NULL) {
        lt_free(h);
        return LT_FAIL(LT_ERR_NOMEM, "host");
    }
    h->joined = now;
    h->last_seen = now;
    h->idx = s->host_list.len;
    lt__sched_drain_host_init(s, h);
    st = lt__sched_pvec_push(&s->host_list, h);
    if (st == LT_OK) {
        st = lt_map_put(&s->hosts, h->id, h);
        if (st != LT_OK)
            s->host_list.len--;
    }
    if (st != LT_OK) {
        host_free(h);
        return st;
    }
    s->inv_gen++;
    s->hosts_changed = true; /* apps still short of instances may use it */
    *out = h;
    return LT_OK;
}

/* e: an array of any protobuf-c map<string,string> entries (they share pb_kv_entry's layout). */
static void set_labels(lt_sched *s, sched_host *h, void *const *ev, size_t n)
{
    pb_kv_entry *const *e = (pb_kv_entry *const *)ev;
    skvs nl = { 0 };
    size_t i;

    for (i = 0; i < n; i++)
        if (e[i] != NULL && e[i]->key != NULL &&
            lt__sched_skvs_set(&nl, e[i]->key, e[i]->value != NULL ? e[i]->value : "") != LT_OK) {
            lt__sched_skvs_cleanup(&nl);
            return; /* out of memory: keep the old labels */
        }
    if (lt__sched_skvs_equal(&nl, &h->labels)) {
        lt__sched_skvs_cleanup(&nl);
        return;
    }
    lt__sched_skvs_cleanup(&h->labels);
    h->labels = nl;
    s->inv_gen++;
    s->hosts_changed = true;
    {
        sched_obs *o; /* what runs here may no longer be eligible */

        for (o = h->obs_head; o != NULL; o = o->host_next)
            if (o->owner != NULL)
                lt__sched_mark_dirty(s, o->owner, h->last_seen);
    }
}

static void set_capacity(sched_host *h, const Latticed__Host__V1__Capacity *c)
{
    if (c == NULL)
        return;
    h->mem_total = c->memory_total_bytes;
    h->slots_total = c->instance_slots_total;
    h->cpu_total = c->cpu_millis_total;
}

static void set_alive(lt_sched *s, sched_host *h, int64_t now)
{
    h->last_seen = now;
    h->gone = false; /* heard again after lt_sched_host_gone */
    if (h->state != HOST_ALIVE) {
        h->state = HOST_ALIVE;
        s->inv_gen++;
        s->hosts_changed = true;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Observed instances
 * ------------------------------------------------------------------------------------------- */

sched_obs *lt__sched_inv_obs_on(const lt_sched *s, const char *id, const sched_host *h)
{
    sched_obs *o = lt_map_get(&s->obs_by_id, id);

    while (o != NULL && o->host != h)
        o = o->id_next;
    return o;
}

static const char *ann_get(Latticed__Host__V1__Instance__AnnotationsEntry **a, size_t n,
                           const char *key)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (a[i] != NULL && a[i]->key != NULL && strcmp(a[i]->key, key) == 0)
            return a[i]->value != NULL ? a[i]->value : "";
    return NULL;
}

void lt__sched_obs_unlink_app(lt_sched *s, sched_obs *o)
{
    sched_app *a = o->owner;

    (void)s;
    if (a == NULL)
        return;
    if (o->app_prev != NULL)
        o->app_prev->app_next = o->app_next;
    else
        a->obs_head = o->app_next;
    if (o->app_next != NULL)
        o->app_next->app_prev = o->app_prev;
    o->app_next = o->app_prev = NULL;
    o->owner = NULL;
    a->n_obs--;
}

/* ---- interned text: one copy per distinct value, counted (s->interned) ---- */

typedef struct {
    size_t refs;
    char text[];
} interned;

/* v's shared copy, one more user counted; NULL when out of memory. */
static const char *intern(lt_sched *s, const char *v)
{
    interned *e = lt_map_get(&s->interned, v);
    size_t n;

    if (e == NULL) {
        n = strlen(v);
        if ((e = lt_malloc(sizeof(*e) + n + 1)) == NULL)
            return NULL;
        e->refs = 0;
        memcpy(e->text, v, n + 1);
        if (lt_map_add(&s->interned, e->text, e) != LT_OK) {
            lt_free(e);
            return NULL;
        }
    }
    e->refs++;
    return e->text;
}

/* One user of p (a copy intern returned, or NULL) less; the last frees it. */
static void unintern(lt_sched *s, const char *p)
{
    interned *e = p != NULL ? lt_map_get(&s->interned, p) : NULL;

    if (e == NULL || --e->refs > 0)
        return;
    lt_map_del(&s->interned, e->text);
    lt_free(e);
}

/* *dst = src ("" for NULL) as interned text; true if it changed. *dst is NULL when out of
 * memory. */
static bool istr_set(lt_sched *s, const char **dst, const char *src)
{
    const char *v = src != NULL ? src : "", *n;

    if (*dst != NULL && strcmp(*dst, v) == 0)
        return false;
    n = intern(s, v);
    unintern(s, *dst);
    *dst = n;
    return true;
}

static void obs_free(lt_sched *s, sched_obs *o)
{
    size_t i;

    lt_free(o->id);
    unintern(s, o->app);
    unintern(s, o->version);
    unintern(s, o->comp);
    unintern(s, o->comp_id);
    unintern(s, o->image);
    unintern(s, o->digest);
    unintern(s, o->message);
    lt_free(o->placement);
    lt_free(o->last_error);
    for (i = 0; i < o->n_links; i++)
        lt_free(o->links[i].link_id);
    lt_free(o->links);
    lt_free(o);
}

/* A start in flight for id on h became visible: it no longer reserves capacity. */
static void start_seen(lt_sched *s, const char *id, const sched_host *h, int state)
{
    sched_start *st = lt_map_get(&s->starts_by_id, id);

    if (st == NULL || st->host != h)
        return;
    if (!st->acked && st->app != NULL) { /* the host's event beat its reply */
        const spec_comp *c =
            st->app->spec != NULL ? lt__sched_spec_find(st->app->spec, st->comp) : NULL;

        lt__sched_cp_instance_placed(s, st, c != NULL ? c->image : "");
    }
    if (state == IS(RUNNING) && st->app != NULL) {
        comp_rt *rt = lt__sched_comp_rt(st->app, st->comp);

        /* A start went through: backoff starts over; after a crash only once the component
         * stayed up (reconcile.c: finish_status), or a crash loop would never back off. */
        if (rt != NULL && rt->stable_at == 0)
            rt->failures = 0;
    }
    lt__sched_start_remove(s, st);
}

/* Remove o from everything and free it. reason: an InstanceLostReason, 0 for expected. */
static void obs_remove(lt_sched *s, sched_obs *o, int reason, const char *msg, int64_t now)
{
    sched_host *h = o->host;
    sched_obs *head;

    if (o->owner != NULL) {
        if (reason != 0 && o->stop_sent == 0)
            lt__sched_cp_instance_lost(s, o, reason, msg);
        lt__sched_mark_dirty(s, o->owner, now);
        lt__sched_obs_unlink_app(s, o);
    }
    if (o->host_prev != NULL)
        o->host_prev->host_next = o->host_next;
    else
        h->obs_head = o->host_next;
    if (o->host_next != NULL)
        o->host_next->host_prev = o->host_prev;
    h->n_obs--;
    h->obs_mem -= o->mem;
    h->obs_cpu -= o->cpu;
    head = lt_map_get(&s->obs_by_id, o->id);
    if (head == o) {
        if (o->id_next != NULL)
            LT_IGNORE(lt_map_put(&s->obs_by_id, o->id_next->id, o->id_next)); /* same slot */
        else
            lt_map_del(&s->obs_by_id, o->id);
    } else {
        while (head != NULL && head->id_next != o)
            head = head->id_next;
        if (head != NULL)
            head->id_next = o->id_next;
    }
    obs_free(s, o);
}

static bool str_set(char **dst, const char *src)
{
    const char *v = src != NULL ? src : "";

    if (*dst != NULL && strcmp(*dst, v) == 0)
        return false;
    lt__sched_set_str(dst, v);
    return true;
}

/*
 * A managed instance we knew as starting or running is now FAILED (a crash the host will
 * not restart): back off the component (one round per crash, the host's message kept for
 * status) and watch it: the backoff only resets once the replacement has run for as long
 * as the current (un-jittered) delay (reconcile.c), so a crash loop backs off
 * exponentially.
 */
static void obs_crashed(lt_sched *s, sched_obs *o, int64_t now)
{
    comp_rt *rt;

    if (o->owner == NULL || o->stop_sent != 0)
        return;                       /* not ours, or we asked it to go */
    lt__sched_trace_app(s, o->owner); /* while its deploy's work goes on */
    LT_INFO("sched", "lattice %s: instance %s of %s/%s crashed on host %s: %s", s->lattice, o->id,
            o->owner->name, o->comp, o->host->id, o->message);
    lt__sched_failure(s, o->owner, o->comp, o->host->id,
                      o->message[0] != '\0' ? o->message : "instance failed", now);
    lt__sched_trace_end(s);
    lt__sched_cp_instance_lost(s, o, CP_LOST_FAILED, o->message);
    rt = lt__sched_comp_rt(o->owner, o->comp);
    if (rt != NULL)
        rt->stable_at = INT64_MAX; /* the window starts when it runs again (reconcile.c) */
}

/* Fold one instance report into the host's set; mark its app dirty when anything changed. */
static lt_status obs_upsert(lt_sched *s, sched_host *h, const Latticed__Host__V1__Instance *in,
                            uint64_t stamp, int64_t now, sched_obs **out)
{
    sched_obs *o;
    const char *mb, *lat, *app;
    bool changed = false, managed, created = false, crashed = false;
    uint64_t mem = in->resources != NULL ? in->resources->memory_bytes : 0;
    uint64_t cpu = in->resources != NULL ? in->resources->cpu_millis : 0;
    lt_status st;

    if (out != NULL)
        *out = NULL;
    if (in->instance_id == NULL || in->instance_id[0] == '\0' ||
        strlen(in->instance_id) > LT_MAX_TOKEN)
        return LT_OK; /* unusable entry: ignore it */
    mb = ann_get(in->annotations, in->n_annotations, LT_SCHED_ANN_MANAGED_BY);
    lat = ann_get(in->annotations, in->n_annotations, LT_SCHED_ANN_LATTICE);
    app = ann_get(in->annotations, in->n_annotations, LT_SCHED_ANN_APP);
    managed = mb != NULL && strcmp(mb, LT_SCHED_MANAGER) == 0 && lat != NULL &&
              strcmp(lat, s->lattice) == 0 && app != NULL && app[0] != '\0';
    o = lt__sched_inv_obs_on(s, in->instance_id, h);
    if (o == NULL) {
        sched_obs *head;

        o = lt_calloc(1, sizeof(*o));
        if (o == NULL || (o->id = lt_strdup(in->instance_id)) == NULL) {
            lt_free(o);
            return LT_FAIL(LT_ERR_NOMEM, "instance");
        }
        o->host = h;
        head = lt_map_get(&s->obs_by_id, o->id);
        if (head != NULL) {
            o->id_next = head->id_next; /* keep the head: its key stays valid */
            head->id_next = o;
        } else if ((st = lt_map_put(&s->obs_by_id, o->id, o)) != LT_OK) {
            obs_free(s, o);
            return st;
        }
        o->host_next = h->obs_head;
        if (h->obs_head != NULL)
            h->obs_head->host_prev = o;
        h->obs_head = o;
        h->n_obs++;
        changed = true;
        created = true;
    }
    o->seen = stamp;
    changed |= istr_set(s, &o->app, managed ? app : in->app_name);
    changed |= istr_set(s, &o->version, in->app_version);
    changed |= istr_set(s, &o->comp, in->component_name);
    changed |= istr_set(s, &o->comp_id, in->component_id);
    changed |= istr_set(s, &o->image, in->image_ref);
    changed |= istr_set(s, &o->digest, in->spec_digest);
    changed |= istr_set(s, &o->message, in->message);
    changed |= str_set(&o->placement, in->placement);
    if (o->app == NULL || o->version == NULL || o->comp == NULL || o->comp_id == NULL ||
        o->image == NULL || o->digest == NULL || o->message == NULL || o->placement == NULL) {
        obs_remove(s, o, 0, NULL, now);
        return LT_FAIL(LT_ERR_NOMEM, "instance fields");
    }
    if ((int)in->state != o->state) {
        crashed = in->state == IS(FAILED) && !created;
        o->state = (int)in->state;
        changed = true;
    }
    o->restarts = in->restarts;
    if (in->started_at != NULL)
        o->started_s = in->started_at->seconds;
    if (in->message != NULL && in->message[0] != '\0')
        lt__sched_set_str(&o->last_error, in->message); /* kept after it runs again */
    h->obs_mem += mem - o->mem;
    h->obs_cpu += cpu - o->cpu;
    o->mem = mem;
    o->cpu = cpu;
    if (managed != o->managed ||
        (managed && (o->owner == NULL || strcmp(o->owner->name, app) != 0))) {
        lt__sched_obs_unlink_app(s, o);
        o->managed = managed;
        changed = true;
        if (managed) {
            sched_app *a = lt__sched_app_get(s, app, true);

            if (a != NULL) {
                o->owner = a;
                o->app_next = a->obs_head;
                if (a->obs_head != NULL)
                    a->obs_head->app_prev = o;
                a->obs_head = o;
                a->n_obs++;
            }
        }
    }
    start_seen(s, o->id, h, o->state);
    if (crashed)
        obs_crashed(s, o, now);
    if (changed && o->owner != NULL)
        lt__sched_mark_dirty(s, o->owner, now);
    if (out != NULL)
        *out = o;
    return LT_OK;
}

/* Nothing a restarted host process ran before survives. */
static void host_forget(lt_sched *s, sched_host *h, int64_t now)
{
    while (h->obs_head != NULL)
        obs_remove(s, h->obs_head, CP_LOST_MISSING, "host restarted", now);
    h->seq = 0;
    h->event_at = 0; /* what the old process said is no news of the new one */
}

/* A known start time (seconds, 0 = unknown) that differs from the last one: a new process. */
static void host_restarted(lt_sched *s, sched_host *h, int64_t started_s, int64_t now)
{
    if (started_s == 0 || h->started_s == started_s)
        return;
    if (h->started_s != 0)
        host_forget(s, h, now);
    h->started_s = started_s;
    if (h->fenced) { /* a new process has seen no epoch yet */
        h->fenced = h->quarantined = false;
        h->claimed_epoch = 0;
        s->inv_gen++;
    }
}

static void set_links(lt_sched *s, sched_host *h, char **ids, size_t n, int64_t now)
{
    lt_map nl;
    bool changed = false;
    size_t i;

    lt_map_init(&nl);
    for (i = 0; i < n; i++) {
        char *c;

        if (ids[i] == NULL || lt_map_get(&nl, ids[i]) != NULL)
            continue;
        c = lt_strdup(ids[i]);
        if (c == NULL || lt_map_put(&nl, c, c) != LT_OK) {
            lt_free(c);
            goto fail;
        }
        if (lt_map_get(&h->links, ids[i]) == NULL)
            changed = true;
    }
    changed |= nl.count != h->links.count;
    for (i = 0; i < h->links.cap; i++)
        if (h->links.slots[i].key != NULL)
            lt_free(h->links.slots[i].val);
    lt_map_cleanup(&h->links);
    h->links = nl;
    if (changed) {
        sched_obs *o;

        for (o = h->obs_head; o != NULL; o = o->host_next)
            if (o->owner != NULL)
                lt__sched_mark_dirty(s, o->owner, now);
    }
    return;
fail:
    for (i = 0; i < nl.cap; i++)
        if (nl.slots[i].key != NULL)
            lt_free(nl.slots[i].val);
    lt_map_cleanup(&nl);
}

/* ---------------------------------------------------------------------------------------------
 * Host events
 * ------------------------------------------------------------------------------------------- */

lt_status lt_sched_on_heartbeat(lt_sched *s, const char *host_id,
                                const Latticed__Host__V1__Heartbeat *hb, int64_t now)
{
    lt_status st = lt__sched_inv_heartbeat(s, host_id, hb, SCHED_UNASKED, now);

    lt__sched_cp_placed_flush(s); /* starts it showed before their reply came */
    return st;
}

/* An inventory answer (a snapshot taken when the host answered, which may be long before it
 * arrives) that may be older than what is known of h: an older process's, or one that left
 * out a heartbeat or an instance event already folded in. */
static bool answer_outdated(const sched_host *h, const Latticed__Host__V1__Heartbeat *hb,
                            int64_t asked_at)
{
    int64_t started_s = hb->started_at != NULL ? hb->started_at->seconds : 0;

    if (started_s != 0 && h->started_s != 0 && started_s < h->started_s)
        return true; /* the process before the one we know */
    if (started_s != 0 && started_s != h->started_s)
        return false; /* a newer process: what we know of the old one is older */
    return (hb->sequence != 0 && hb->sequence < h->seq) || h->event_at >= asked_at;
}

lt_status lt__sched_inv_heartbeat(lt_sched *s, const char *host_id,
                                  const Latticed__Host__V1__Heartbeat *hb, int64_t asked_at,
                                  int64_t now)
{
    sched_host *h;
    uint64_t stamp;
    bool is_new;
    size_t i;
    sched_obs *o, *next;
    lt_status st = check_source(s, host_id, hb->host_id, hb->lattice);

    if (st != LT_OK)
        return st;
    is_new = lt__sched_inv_host(s, host_id) == NULL;
    st = host_get(s, host_id, now, &h);
    if (st != LT_OK)
        return st;
    if (!is_new && asked_at != SCHED_UNASKED && answer_outdated(h, hb, asked_at)) {
        LT_DEBUG("sched",
                 "lattice %s: host %s: inventory answer older than what is known of "
                 "the host: not used",
                 s->lattice, h->id);
        return LT_OK;
    }
    host_restarted(s, h, hb->started_at != NULL ? hb->started_at->seconds : 0, now);
    if (!is_new && asked_at == SCHED_UNASKED && hb->sequence != 0 && hb->sequence <= h->seq)
        return LT_OK; /* reordered: an older heartbeat of the same process */
    if (hb->sequence > h->seq)
        h->seq = hb->sequence;
    lt__sched_set_str(&h->friendly, hb->friendly_name != NULL ? hb->friendly_name : "");
    lt__sched_set_str(&h->version, hb->version != NULL ? hb->version : "");
    h->interval_ms = hb->interval_ms;
    h->newest_epoch = hb->newest_epoch;
    set_labels(s, h, (void *const *)hb->labels, hb->n_labels);
    set_capacity(h, hb->capacity);
    lt__sched_v2_host_caps(s, h, hb);
    set_alive(s, h, now);
    stamp = ++s->stamp;
    for (i = 0; i < hb->n_instances; i++) {
        if (hb->instances[i] == NULL || hb->instances[i]->state == IS(STOPPED))
            continue;
        st = obs_upsert(s, h, hb->instances[i], stamp, now, NULL);
        if (st != LT_OK)
            return st;
    }
    for (o = h->obs_head; o != NULL; o = next) {
        next = o->host_next;
        if (o->seen != stamp)
            obs_remove(s, o, CP_LOST_MISSING, "no longer reported by its host", now);
    }
    set_links(s, h, hb->link_ids, hb->n_link_ids, now);
    if (is_new)
        lt__sched_cp_host_joined(s, h);
    lt__sched_fence_on_stale(s, h, h->newest_epoch, now); /* it will refuse us: find out why now */
    return LT_OK;
}

lt_status lt_sched_on_host_started(lt_sched *s, const char *host_id,
                                   const Latticed__Host__V1__HostStarted *m, int64_t now)
{
    sched_host *h;
    bool is_new;
    lt_status st = check_source(s, host_id, m->host_id, m->lattice);

    if (st != LT_OK)
        return st;
    is_new = lt__sched_inv_host(s, host_id) == NULL;
    st = host_get(s, host_id, now, &h);
    if (st != LT_OK)
        return st;
    if (!is_new)
        host_forget(s, h, now); /* host.started: a new process, whatever its start time */
    h->started_s = m->started_at != NULL ? m->started_at->seconds : 0;
    h->stopping = false;
    lt__sched_set_str(&h->friendly, m->friendly_name != NULL ? m->friendly_name : "");
    lt__sched_set_str(&h->version, m->version != NULL ? m->version : "");
    set_labels(s, h, (void *const *)m->labels, m->n_labels);
    set_capacity(h, m->capacity);
    set_alive(s, h, now);
    if (is_new)
        lt__sched_cp_host_joined(s, h);
    return LT_OK;
}

lt_status lt_sched_on_host_stopping(lt_sched *s, const char *host_id,
                                    const Latticed__Host__V1__HostStopping *m, int64_t now)
{
    sched_host *h;
    lt_status st = check_source(s, host_id, m->host_id, m->lattice);

    if (st != LT_OK)
        return st;
    h = lt__sched_inv_host(s, host_id);
    if (h != NULL)
        inv_host_remove(s, h, CP_HOST_STOPPED, now);
    return LT_OK;
}

/* One running instance of host_id, told by an event (no placed flush: the caller's). */
static lt_status instance_started(lt_sched *s, const char *host_id,
                                  const Latticed__Host__V1__InstanceStarted *m, int64_t now)
{
    sched_host *h;
    lt_status st = check_source(s, host_id, m->host_id, m->lattice);

    if (st != LT_OK)
        return st;
    h = lt__sched_inv_host(s, host_id);
    if (h == NULL || m->instance == NULL)
        return LT_OK; /* the next heartbeat introduces the host */
    h->last_seen = h->event_at = now;
    return obs_upsert(s, h, m->instance, 0, now, NULL);
}

lt_status lt_sched_on_instance_started(lt_sched *s, const char *host_id,
                                       const Latticed__Host__V1__InstanceStarted *m, int64_t now)
{
    lt_status st = instance_started(s, host_id, m, now);

    lt__sched_cp_placed_flush(s); /* a start it showed before its reply came */
    return st;
}

lt_status lt_sched_on_instances_started(lt_sched *s, const char *host_id,
                                        const Latticed__Host__V1__InstancesStarted *m, int64_t now)
{
    Latticed__Host__V1__InstanceStarted one = LATTICED__HOST__V1__INSTANCE_STARTED__INIT;
    lt_status st = LT_OK;

    one.host_id = m->host_id;
    one.lattice = m->lattice;
    for (size_t i = 0; i < m->n_instances; i++) {
        lt_status r;

        one.instance = m->instances[i];
        if ((r = instance_started(s, host_id, &one, now)) != LT_OK && st == LT_OK)
            st = r;
    }
    lt__sched_cp_placed_flush(s); /* the starts it showed before their replies came: one event */
    return st;
}

lt_status lt_sched_on_instance_stopped(lt_sched *s, const char *host_id,
                                       const Latticed__Host__V1__InstanceStopped *m, int64_t now)
{
    sched_host *h;
    sched_obs *o;
    lt_status st = check_source(s, host_id, m->host_id, m->lattice);

    if (st != LT_OK)
        return st;
    h = lt__sched_inv_host(s, host_id);
    if (h == NULL || m->instance == NULL || m->instance->instance_id == NULL)
        return LT_OK;
    h->last_seen = h->event_at = now;
    o = lt__sched_inv_obs_on(s, m->instance->instance_id, h);
    if (o != NULL)
        obs_remove(s, o, CP_LOST_MISSING, m->reason, now);
    return LT_OK;
}

lt_status lt_sched_on_instance_failed(lt_sched *s, const char *host_id,
                                      const Latticed__Host__V1__InstanceFailed *m, int64_t now)
{
    sched_host *h;
    sched_obs *o = NULL;
    bool known;
    lt_status st = check_source(s, host_id, m->host_id, m->lattice);

    if (st != LT_OK)
        return st;
    h = lt__sched_inv_host(s, host_id);
    if (h == NULL || m->instance == NULL)
        return LT_OK;
    h->last_seen = h->event_at = now;
    known = m->instance->instance_id != NULL &&
            lt__sched_inv_obs_on(s, m->instance->instance_id, h) != NULL;
    st = obs_upsert(s, h, m->instance, 0, now, &o);
    lt__sched_cp_placed_flush(s);
    if (o != NULL && m->message != NULL && m->message[0] != '\0')
        lt__sched_set_str(&o->last_error, m->message); /* latticectl instances */
    if (st != LT_OK || o == NULL || o->owner == NULL)
        return st;
    /* An instance seen before turning FAILED was counted by obs_upsert (a crash, whichever
     * of event and heartbeat told first); a new one is a start that failed. */
    if (!m->will_restart && !known) {
        lt__sched_trace_app(s, o->owner);
        lt__sched_failure(s, o->owner, o->comp, host_id,
                          m->message != NULL && m->message[0] != '\0' ? m->message : o->message,
                          now);
        lt__sched_trace_end(s);
        lt__sched_cp_instance_lost(s, o, CP_LOST_FAILED, m->message);
    }
    return LT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Loss and the partition guard
 * ------------------------------------------------------------------------------------------- */

/** Remove a host and everything observed on it (it is lost). */
static void inv_host_remove(lt_sched *s, sched_host *h, int reason, int64_t now)
{
    int lost = reason == CP_HOST_STOPPED ? CP_LOST_HOST_STOPPING : CP_LOST_HOST_LOST;
    sched_host *last;
    sched_app *a;
    size_t i;

    lt__sched_cp_host_lost(s, h, reason);
    LT_INFO("sched", "lattice %s: host %s lost (%s), %u instance(s)", s->lattice, h->id,
            reason == CP_HOST_STOPPED ? "stopped" : "heartbeat timeout", h->n_obs);
    while (h->obs_head != NULL)
        obs_remove(s, h->obs_head, lost, "host lost", now);
    /* Starts in flight to it will never be confirmed. */
    for (i = 0; i < s->apps.cap; i++) {
        sched_start *st, *nx;

        if (s->apps.slots[i].key == NULL)
            continue;
        a = s->apps.slots[i].val;
        for (st = a->starts; st != NULL; st = nx) {
            nx = st->next;
            if (st->host == h) {
                lt__sched_start_remove(s, st);
                lt__sched_mark_dirty(s, a, now);
            }
        }
    }
    for (i = 0; i < 4; i++)
        if (h->out[i].len > 0)
            lt__sched_out_discard(s); /* never happens outside a tick; be safe */
    last = s->host_list.items[s->host_list.len - 1];
    s->host_list.items[h->idx] = last;
    last->idx = h->idx;
    s->host_list.len--;
    lt_map_del(&s->hosts, h->id);
    host_free(h);
    s->inv_gen++;
    s->hosts_changed = true;
}

static int64_t host_interval(const lt_sched *s, const sched_host *h)
{
    return h->interval_ms != 0 ? h->interval_ms : s->cfg.default_interval_ms;
}

static int64_t host_timeout(const lt_sched *s, const sched_host *h)
{
    return s->cfg.host_timeout_ms > 0 ? s->cfg.host_timeout_ms : 3 * host_interval(s, h);
}

/*
 * The partition guard. Heartbeats are staggered over an interval, so when our own link is
 * cut the hosts cross their timeout one or two at a time: counting the hosts overdue in one
 * check misses it. Instead a host is "quiet" once it is late by half an interval (silent for
 * min(1.5 intervals, timeout / 2)): when the first host of a cut reaches its timeout, every
 * host cut with it is quiet already. The silent share is (quiet hosts + hosts evicted for
 * silence within the last two host timeouts) / (hosts + those evicted): while it exceeds
 * partition_share (and counts partition_min_hosts or more), nothing is evicted and the
 * overdue hosts are UNREACHABLE (no placements). Silence is counted from the end of the last
 * partition at the earliest, so hosts still coming back are not evicted right after it.
 */
static int64_t silence(const lt_sched *s, const sched_host *h, int64_t now)
{
    return now - (h->last_seen > s->grace_from ? h->last_seen : s->grace_from);
}

static bool overdue(const lt_sched *s, const sched_host *h, int64_t now)
{
    return h->gone || silence(s, h, now) > host_timeout(s, h);
}

static bool quiet(const lt_sched *s, const sched_host *h, int64_t now)
{
    int64_t iv = host_interval(s, h), after = iv + iv / 2, half = host_timeout(s, h) / 2;

    return h->gone || silence(s, h, now) > (after < half ? after : half);
}

/* Two host timeouts: a link that degrades drops hosts over about that long. */
static int64_t guard_window(const lt_sched *s)
{
    return 2 * (s->cfg.host_timeout_ms > 0 ? s->cfg.host_timeout_ms
                                           : 3 * (int64_t)s->cfg.default_interval_ms);
}

/* Evictions for silence within the window (older ones are forgotten). */
static size_t recent_losses(lt_sched *s, int64_t now)
{
    while (s->n_lost_at > 0) {
        size_t oldest = (s->lost_head + SCHED_LOST_RING - s->n_lost_at) % SCHED_LOST_RING;

        if (now - s->lost_at[oldest] <= guard_window(s))
            break;
        s->n_lost_at--;
    }
    return s->n_lost_at;
}

static void note_loss(lt_sched *s, int64_t now)
{
    s->lost_at[s->lost_head] = now;
    s->lost_head = (s->lost_head + 1) % SCHED_LOST_RING;
    if (s->n_lost_at < SCHED_LOST_RING)
        s->n_lost_at++;
}

static void partition_over(lt_sched *s, size_t still_silent, int64_t now)
{
    LT_WARN("sched", "lattice %s: partition over (%zu host(s) still silent get a fresh timeout)",
            s->lattice, still_silent);
    s->partitioned = false;
    s->grace_from = now;
}

void lt__sched_inv_check_hosts(lt_sched *s, int64_t now)
{
    size_t i, n_overdue = 0, n_quiet = 0, recent, total = s->host_list.len;
    pvec lost = { 0 };

    if (!s->connected || total == 0)
        return;
    for (i = 0; i < total; i++) {
        sched_host *h = s->host_list.items[i];

        n_overdue += overdue(s, h, now);
        n_quiet += quiet(s, h, now);
    }
    if (n_overdue == 0) {
        if (s->partitioned)
            partition_over(s, n_quiet, now);
        return;
    }
    recent = recent_losses(s, now);
    if (n_quiet + recent >= s->cfg.partition_min_hosts &&
        (double)(n_quiet + recent) > s->cfg.partition_share * (double)(total + recent)) {
        if (!s->partitioned)
            LT_WARN("sched",
                    "lattice %s: %zu of %zu hosts went silent within %lld ms (%zu "
                    "overdue): a partition, not host failures; evicting nothing until they "
                    "return (latticectl hosts --evict-silent overrides)",
                    s->lattice, n_quiet + recent, total + recent, (long long)guard_window(s),
                    n_overdue);
        s->partitioned = true;
        for (i = 0; i < total; i++) {
            sched_host *h = s->host_list.items[i];

            if (overdue(s, h, now) && h->state != HOST_UNREACHABLE) {
                h->state = HOST_UNREACHABLE;
                s->inv_gen++;
            }
        }
        return;
    }
    if (s->partitioned) {
        partition_over(s, n_quiet, now); /* the overdue hosts get a fresh timeout */
        return;
    }
    for (i = 0; i < total; i++) {
        sched_host *h = s->host_list.items[i];

        if (overdue(s, h, now) && lt__sched_pvec_push(&lost, h) != LT_OK)
            break;
    }
    for (i = 0; i < lost.len; i++) {
        note_loss(s, now);
        inv_host_remove(s, lost.items[i], CP_HOST_TIMEOUT, now);
    }
    lt__sched_pvec_cleanup(&lost);
}

void lt_sched_set_connected(lt_sched *s, bool connected, int64_t now)
{
    size_t i;

    if (connected && !s->connected) {
        /* Whatever we missed while away is not the hosts' fault: fresh timeouts. */
        for (i = 0; i < s->host_list.len; i++) {
            ((sched_host *)s->host_list.items[i])->last_seen = now;
            ((sched_host *)s->host_list.items[i])->gone = false; /* our link, maybe not theirs */
        }
    }
    s->connected = connected;
}

bool lt_sched_partitioned(const lt_sched *s)
{
    return s->partitioned || !s->connected;
}

size_t lt_sched_evict_silent(lt_sched *s, int64_t now)
{
    pvec lost = { 0 };
    size_t i, n;

    if (!s->connected)
        return 0;
    for (i = 0; i < s->host_list.len; i++) {
        sched_host *h = s->host_list.items[i];

        if ((h->gone || now - h->last_seen > host_timeout(s, h)) &&
            lt__sched_pvec_push(&lost, h) != LT_OK)
            break;
    }
    n = lost.len;
    if (n > 0)
        LT_WARN("sched", "lattice %s: operator evicts %zu silent host(s)", s->lattice, n);
    for (i = 0; i < lost.len; i++)
        inv_host_remove(s, lost.items[i], CP_HOST_TIMEOUT, now);
    lt__sched_pvec_cleanup(&lost);
    s->partitioned = false;
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * Selectors
 * ------------------------------------------------------------------------------------------- */

sched_sel *lt__sched_inv_selector(lt_sched *s, const char *key, const skvs *req)
{
    sched_sel *sel = lt_map_get(&s->sels, key);
    size_t i;

    if (sel == NULL) {
        sel = lt_calloc(1, sizeof(*sel));
        if (sel == NULL || (sel->key = lt_strdup(key)) == NULL) {
            lt_free(sel);
            return NULL;
        }
        for (i = 0; i < req->count; i++)
            if (lt__sched_skvs_set(&sel->req, req->items[i].key, req->items[i].value) != LT_OK)
                break;
        if (i < req->count || lt_map_put(&s->sels, sel->key, sel) != LT_OK) {
            lt__sched_skvs_cleanup(&sel->req);
            lt_free(sel->key);
            lt_free(sel);
            return NULL;
        }
    }
    if (sel->gen != s->inv_gen + 1) {
        sel->hosts.len = 0;
        for (i = 0; i < s->host_list.len; i++) {
            sched_host *h = s->host_list.items[i];

            if (HOST_USABLE(h) && !h->stopping && HOST_SCHEDULABLE(h) &&
                lt__sched_skvs_match(&h->labels, &sel->req) &&
                lt__sched_pvec_push(&sel->hosts, h) != LT_OK)
                return NULL;
        }
        sel->gen = s->inv_gen + 1;
    }
    return sel;
}

void lt__sched_inv_free_all(lt_sched *s)
{
    size_t i;

    for (i = 0; i < s->host_list.len; i++) {
        sched_host *h = s->host_list.items[i];

        while (h->obs_head != NULL) {
            sched_obs *o = h->obs_head;

            h->obs_head = o->host_next;
            obs_free(s, o);
        }
        host_free(h);
    }
    lt__sched_pvec_cleanup(&s->host_list);
    lt_map_cleanup(&s->hosts);
    lt_map_cleanup(&s->obs_by_id);
    lt_map_cleanup(&s->interned); /* empty: every instance gave its copies back */
    for (i = 0; i < s->sels.cap; i++) {
        sched_sel *sel = s->sels.slots[i].val;

        if (s->sels.slots[i].key == NULL)
            continue;
        lt__sched_skvs_cleanup(&sel->req);
        lt__sched_pvec_cleanup(&sel->hosts);
        lt_free(sel->key);
        lt_free(sel);
    }
    lt_map_cleanup(&s->sels);
}

/* ---------------------------------------------------------------------------------------------
 * Consistency check (tests)
 * ------------------------------------------------------------------------------------------- */

static int ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const void *const *)a, y = (uintptr_t) * (const void *const *)b;

    return x < y ? -1 : x > y;
}

static bool ptr_in(const void *const *sorted, size_t n, const void *p)
{
    return n > 0 && bsearch(&p, sorted, n, sizeof(*sorted), ptr_cmp) != NULL;
}

/* Hosts: the id map and the dense list hold the same hosts, each at its idx. Then every host's
 * instance list: back links, owner host, count and resource sums. Fills all (unsorted) with
 * every instance of every host list and *n_owned with those that have an owning app. */
static lt_status check_hosts(const lt_sched *s, const sched_obs **all, size_t cap, size_t *n_all,
                             size_t *n_owned)
{
    size_t i;

    *n_all = *n_owned = 0;
    if (s->hosts.count != s->host_list.len)
        return LT_FAIL(LT_ERR_STATE, "%zu hosts by id, %zu in the host list", s->hosts.count,
                       s->host_list.len);
    for (i = 0; i < s->host_list.len; i++) {
        const sched_host *h = s->host_list.items[i];
        const sched_obs *o, *prev = NULL;
        uint64_t mem = 0, cpu = 0;
        uint32_t n = 0;

        if (h->idx != i)
            return LT_FAIL(LT_ERR_STATE, "host %s at list position %zu says idx %zu", h->id, i,
                           h->idx);
        if (lt_map_get(&s->hosts, h->id) != h)
            return LT_FAIL(LT_ERR_STATE, "host %s of the list is not the one found by id", h->id);
        for (o = h->obs_head; o != NULL; prev = o, o = o->host_next) {
            if (o->host != h)
                return LT_FAIL(LT_ERR_STATE, "instance %s in host %s's list names host %s", o->id,
                               h->id, o->host != NULL ? o->host->id : "(none)");
            if (o->host_prev != prev)
                return LT_FAIL(LT_ERR_STATE, "instance %s on %s: broken back link", o->id, h->id);
            if (++n > h->n_obs || *n_all >= cap)
                return LT_FAIL(LT_ERR_STATE, "host %s lists more than its %u instances", h->id,
                               h->n_obs);
            all[(*n_all)++] = o;
            *n_owned += o->owner != NULL;
            mem += o->mem;
            cpu += o->cpu;
        }
        if (n != h->n_obs)
            return LT_FAIL(LT_ERR_STATE, "host %s lists %u instances, counts %u", h->id, n,
                           h->n_obs);
        if (mem != h->obs_mem || cpu != h->obs_cpu)
            return LT_FAIL(LT_ERR_STATE,
                           "host %s: memory/cpu of its instances %llu/%llu, sums %llu/%llu", h->id,
                           (unsigned long long)mem, (unsigned long long)cpu,
                           (unsigned long long)h->obs_mem, (unsigned long long)h->obs_cpu);
    }
    return LT_OK;
}

/* By id: every chain holds instances of its key's id on distinct known hosts, each in a host
 * list; the chains hold n_all instances in all. */
static lt_status check_ids(const lt_sched *s, const sched_obs **sorted, size_t n_all)
{
    size_t i, total = 0;

    for (i = 0; i < s->obs_by_id.cap; i++) {
        const char *key = s->obs_by_id.slots[i].key;
        const sched_obs *o, *p;

        if (key == NULL)
            continue;
        o = s->obs_by_id.slots[i].val;
        if (o == NULL || key != o->id)
            return LT_FAIL(LT_ERR_STATE, "id index key %s is not its first instance's id", key);
        for (; o != NULL; o = o->id_next) {
            if (++total > n_all)
                return LT_FAIL(LT_ERR_STATE,
                               "id index holds more than the %zu instances of the "
                               "host lists (at %s)",
                               n_all, key);
            if (strcmp(o->id, key) != 0)
                return LT_FAIL(LT_ERR_STATE, "instance %s chained under id %s", o->id, key);
            if (!ptr_in((const void *const *)sorted, n_all, o))
                return LT_FAIL(LT_ERR_STATE, "instance %s (id index) is in no host's list", o->id);
            for (p = s->obs_by_id.slots[i].val; p != o; p = p->id_next)
                if (p->host == o->host)
                    return LT_FAIL(LT_ERR_STATE, "instance %s twice on host %s", o->id,
                                   o->host->id);
        }
    }
    if (total != n_all)
        return LT_FAIL(LT_ERR_STATE, "id index holds %zu instances, the host lists %zu", total,
                       n_all);
    return LT_OK;
}

/* By app: every app's list holds its own instances (owner, back links, count), each in a host
 * list; the lists hold every owned instance. */
static lt_status check_apps(const lt_sched *s, const sched_obs **sorted, size_t n_all,
                            size_t n_owned)
{
    size_t i, total = 0;

    for (i = 0; i < s->apps.cap; i++) {
        const sched_app *a = s->apps.slots[i].val;
        const sched_obs *o, *prev = NULL;
        size_t n = 0;

        if (s->apps.slots[i].key == NULL)
            continue;
        for (o = a->obs_head; o != NULL; prev = o, o = o->app_next) {
            if (o->owner != a)
                return LT_FAIL(LT_ERR_STATE, "instance %s in app %s's list is owned by %s", o->id,
                               a->name, o->owner != NULL ? o->owner->name : "(none)");
            if (o->app_prev != prev)
                return LT_FAIL(LT_ERR_STATE, "instance %s of app %s: broken back link", o->id,
                               a->name);
            if (++n > a->n_obs || ++total > n_owned)
                return LT_FAIL(LT_ERR_STATE, "app %s lists more than its %zu instances", a->name,
                               a->n_obs);
            if (!ptr_in((const void *const *)sorted, n_all, o))
                return LT_FAIL(LT_ERR_STATE, "instance %s of app %s is in no host's list", o->id,
                               a->name);
        }
        if (n != a->n_obs)
            return LT_FAIL(LT_ERR_STATE, "app %s lists %zu instances, counts %zu", a->name, n,
                           a->n_obs);
    }
    if (total != n_owned)
        return LT_FAIL(LT_ERR_STATE, "app lists hold %zu instances, %zu have an owner", total,
                       n_owned);
    return LT_OK;
}

lt_status lt__sched_check_consistent(const lt_sched *s)
{
    const sched_obs **all = NULL;
    size_t i, cap = 0, n_all = 0, n_owned = 0;
    lt_status st;

    for (i = 0; i < s->host_list.len; i++)
        cap += ((const sched_host *)s->host_list.items[i])->n_obs;
    cap += s->obs_by_id.count + 1; /* room to notice a list longer than its count */
    all = lt_calloc(cap, sizeof(*all));
    if (all == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "consistency check");
    st = check_hosts(s, all, cap, &n_all, &n_owned);
    if (st != LT_OK)
        goto out;
    qsort(all, n_all, sizeof(*all), ptr_cmp);
    st = check_ids(s, all, n_all);
    if (st != LT_OK)
        goto out;
    st = check_apps(s, all, n_all, n_owned);
out:
    lt_free(all);
    return st;
}
