/*
 * events.c - the control plane's own events (latticed/cp/v1/events.proto): host
 * joined/lost, instance placed/lost, app deployed/failed/undeployed, built as
 * protobuf-c messages on the stack and handed to the sink. Only a leader
 * reports, and app events are sent once per change of state or reason.
 * Placed instances go out together, one event per host answer (instances.placed).
 */
#include "sched_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "lt_alloc.h"

#define REASON(x) LATTICED__CP__V1__APP_FAILURE_REASON__APP_FAILURE_REASON_##x

/* protobuf-c fields are char * even where we only lend a constant. */
#define PB(x) ((char *)(x))

static bool reporting(const lt_sched *s)
{
    return s->leading && s->sink.event != NULL;
}

static Google__Protobuf__Timestamp wall_now(void)
{
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    t.seconds = ts.tv_sec;
    t.nanos = (int32_t)ts.tv_nsec;
    return t;
}

void lt__sched_cp_host_joined(lt_sched *s, const sched_host *h)
{
    Latticed__Cp__V1__HostJoined m = LATTICED__CP__V1__HOST_JOINED__INIT;
    Latticed__Cp__V1__HostJoined__LabelsEntry *e = NULL, **ep = NULL;
    Google__Protobuf__Timestamp t = wall_now();
    size_t i;

    if (!reporting(s))
        return;
    if (h->labels.count > 0) {
        e = lt_calloc(h->labels.count, sizeof(*e));
        ep = lt_calloc(h->labels.count, sizeof(*ep));
        if (e == NULL || ep == NULL)
            goto out;
        for (i = 0; i < h->labels.count; i++) {
            static const Latticed__Cp__V1__HostJoined__LabelsEntry init =
                LATTICED__CP__V1__HOST_JOINED__LABELS_ENTRY__INIT;

            e[i] = init;
            e[i].key = h->labels.items[i].key;
            e[i].value = h->labels.items[i].value;
            ep[i] = &e[i];
        }
    }
    m.lattice = s->lattice;
    m.host_id = h->id;
    m.friendly_name = PB(h->friendly != NULL ? h->friendly : "");
    m.version = PB(h->version != NULL ? h->version : "");
    m.n_labels = h->labels.count;
    m.labels = ep;
    m.driver = PB(s->cfg.wasmcloud_v2 ? "wasmcloud-v2" : "native");
    m.time = &t;
    m.epoch = s->epoch;
    s->sink.event(s->sink.arg, "host.joined", &m.base);
out:
    lt_free(e);
    lt_free(ep);
}

void lt__sched_cp_host_lost(lt_sched *s, const sched_host *h, int reason)
{
    Latticed__Cp__V1__HostLost m = LATTICED__CP__V1__HOST_LOST__INIT;
    Google__Protobuf__Timestamp t = wall_now(), seen = t;
    const sched_obs *o;
    char **ids = NULL;
    size_t n = 0;

    if (!reporting(s))
        return;
    if (h->n_obs > 0 && (ids = lt_calloc(h->n_obs, sizeof(*ids))) != NULL)
        for (o = h->obs_head; o != NULL && n < h->n_obs; o = o->host_next)
            ids[n++] = o->id;
    /* last_seen is monotonic; express it as wall time by its age. */
    {
        int64_t age_ms = s->last_host_check - h->last_seen;

        if (age_ms > 0) {
            int64_t ns = (int64_t)seen.nanos - (age_ms % 1000) * 1000000;

            seen.seconds -= age_ms / 1000;
            if (ns < 0) {
                ns += 1000000000;
                seen.seconds--;
            }
            seen.nanos = (int32_t)ns;
        }
    }
    m.lattice = s->lattice;
    m.host_id = h->id;
    m.reason = reason;
    m.last_seen = &seen;
    m.n_instance_ids = n;
    m.instance_ids = ids;
    m.time = &t;
    m.epoch = s->epoch;
    s->sink.event(s->sink.arg, "host.lost", &m.base);
    lt_free(ids);
}

void lt__sched_cp_instance_lost(lt_sched *s, const sched_obs *o, int reason, const char *msg)
{
    Latticed__Cp__V1__InstanceLost m = LATTICED__CP__V1__INSTANCE_LOST__INIT;
    Google__Protobuf__Timestamp t = wall_now();

    if (!reporting(s) || o->owner == NULL)
        return;
    m.lattice = s->lattice;
    m.app = o->owner->name;
    m.version = PB(o->version);
    m.component = PB(o->comp);
    m.instance_id = o->id;
    m.host_id = o->host->id;
    m.reason = reason;
    m.message = PB(msg != NULL ? msg : "");
    m.time = &t;
    m.epoch = s->epoch;
    s->sink.event(s->sink.arg, "instance.lost", &m.base);
}

void lt__sched_cp_instance_placed(lt_sched *s, const sched_start *st, const char *image)
{
    sched_placed *p = &s->placed;
    const char *f[SCHED_PLACED_FIELDS];
    size_t k, mark;
    int tries;

    if (!reporting(s) || st->app == NULL || st->host == NULL)
        return;
    f[0] = st->app->name;
    f[1] = st->app->spec != NULL ? st->app->spec->version : "";
    f[2] = st->comp;
    f[3] = st->id;
    f[4] = image != NULL ? image : "";
    if (p->n > 0 && (p->n == SCHED_PLACED_MAX || strcmp(p->host, st->host->id) != 0))
        lt__sched_cp_placed_flush(s);
    for (tries = 0; tries < 2; tries++) {
        if (p->n == 0)
            snprintf(p->host, sizeof(p->host), "%s", st->host->id);
        mark = p->text.len;
        for (k = 0; k < SCHED_PLACED_FIELDS; k++) {
            p->off[p->n][k] = p->text.len;
            if (lt_buf_append(&p->text, f[k], strlen(f[k]) + 1) != LT_OK)
                break;
        }
        if (k == SCHED_PLACED_FIELDS) {
            p->n++;
            return;
        }
        lt_buf_truncate(&p->text, mark); /* full (or no memory): send what waits, once more */
        if (p->n == 0)
            return; /* one item alone does not fit: it goes unreported */
        lt__sched_cp_placed_flush(s);
    }
}

void lt__sched_cp_placed_flush(lt_sched *s)
{
    static const Latticed__Cp__V1__InstancePlaced init = LATTICED__CP__V1__INSTANCE_PLACED__INIT;
    Latticed__Cp__V1__InstancesPlaced m = LATTICED__CP__V1__INSTANCES_PLACED__INIT;
    Latticed__Cp__V1__InstancePlaced items[SCHED_PLACED_MAX], *ip[SCHED_PLACED_MAX];
    Google__Protobuf__Timestamp t = wall_now();
    sched_placed *p = &s->placed;
    size_t i;

    if (p->n == 0)
        return;
    if (reporting(s)) { /* a leader that stepped down since says nothing */
        for (i = 0; i < p->n; i++) {
            const char *b = p->text.ptr;

            items[i] = init;
            items[i].app = PB(b + p->off[i][0]);
            items[i].version = PB(b + p->off[i][1]);
            items[i].component = PB(b + p->off[i][2]);
            items[i].instance_id = PB(b + p->off[i][3]);
            items[i].image_ref = PB(b + p->off[i][4]);
            ip[i] = &items[i];
        }
        m.lattice = s->lattice;
        m.host_id = p->host;
        m.n_instances = p->n;
        m.instances = ip;
        m.time = &t;
        m.epoch = s->epoch;
        s->sink.event(s->sink.arg, "instances.placed", &m.base);
    }
    p->n = 0;
    lt_buf_reset(&p->text);
}

/* Announce an app's state when it changes: deployed once per version, failed once per reason,
 * undeployed once everything is gone. */
void lt__sched_cp_app_state(lt_sched *s, sched_app *a)
{
    Google__Protobuf__Timestamp t = wall_now();
    const char *version = a->spec != NULL ? a->spec->version : "";

    if (!reporting(s))
        return;
    if (a->state == LT_SCHED_DEPLOYED && a->deployed && a->announced != LT_SCHED_DEPLOYED) {
        Latticed__Cp__V1__AppDeployed m = LATTICED__CP__V1__APP_DEPLOYED__INIT;

        m.lattice = s->lattice;
        m.app = a->name;
        m.version = PB(version);
        m.previous_version = PB(a->prev_version != NULL ? a->prev_version : "");
        m.instances = (uint32_t)a->n_obs;
        m.time = &t;
        m.epoch = s->epoch;
        s->sink.event(s->sink.arg, "app.deployed", &m.base);
        a->announced = LT_SCHED_DEPLOYED;
    } else if (a->state == LT_SCHED_FAILED && a->deployed &&
               (a->announced != LT_SCHED_FAILED ||
                !lt__sched_streq(a->announced_msg, a->message))) {
        Latticed__Cp__V1__AppFailed m = LATTICED__CP__V1__APP_FAILED__INIT;
        int reason = a->reason;
        size_t i;

        /* The app-level reason, else the first failed component's. */
        for (i = 0; reason == 0 && a->spec != NULL && i < a->spec->n_comps; i++) {
            const comp_rt *rt = lt_map_get(&a->rt, a->spec->comps[i].name);

            if (rt != NULL && rt->state == LT_SCHED_FAILED)
                reason = rt->reason;
        }
        m.lattice = s->lattice;
        m.app = a->name;
        m.version = PB(version);
        m.reason = reason != 0 ? reason : REASON(LINK_FAILED);
        m.message = PB(a->message != NULL ? a->message : "");
        m.time = &t;
        m.epoch = s->epoch;
        s->sink.event(s->sink.arg, "app.failed", &m.base);
        a->announced = LT_SCHED_FAILED;
        lt__sched_set_str(&a->announced_msg, a->message);
    } else if (!a->deployed && a->unreadable == NULL && a->n_obs == 0 && a->n_starts == 0 &&
               a->announced != LT_SCHED_UNDEPLOYED && a->spec != NULL) {
        Latticed__Cp__V1__AppUndeployed m = LATTICED__CP__V1__APP_UNDEPLOYED__INIT;

        m.lattice = s->lattice;
        m.app = a->name;
        m.version = PB(version);
        m.deleted = a->deleted;
        m.time = &t;
        m.epoch = s->epoch;
        s->sink.event(s->sink.arg, "app.undeployed", &m.base);
        a->announced = LT_SCHED_UNDEPLOYED;
    } else if (a->state != LT_SCHED_FAILED && a->state != LT_SCHED_DEPLOYED &&
               a->announced == LT_SCHED_FAILED) {
        a->announced = -1; /* recovering: the next failure is news again */
    }
}

void lt__sched_cp_host_quarantined(lt_sched *s, const sched_host *h)
{
    Latticed__Cp__V1__HostQuarantined m = LATTICED__CP__V1__HOST_QUARANTINED__INIT;
    Google__Protobuf__Timestamp t = wall_now();

    if (!reporting(s))
        return;
    m.lattice = s->lattice;
    m.host_id = h->id;
    m.claimed_epoch = h->claimed_epoch;
    m.time = &t;
    m.epoch = s->epoch;
    s->sink.event(s->sink.arg, "host.quarantined", &m.base);
}
