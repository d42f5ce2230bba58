/*
 * svc_writer.c - what the scheduler says goes out: an app's status is published
 * on `{status_prefix}.{lattice}.{app}` at once and written to the status KV
 * bucket by a writer thread (KV puts block; only the newest status of an app
 * is kept while it waits). A put that fails is retried with a bounded backoff
 * until it is written or a newer status of the same app replaces it; control-
 * plane events are CloudEvents published on `{prefix}.{lattice}.evt.cp.{type}`,
 * captured by the events stream.
 */
#include "sched_int.h"
#include "sched_svc_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lt_alloc.h"
#include "lt_ce.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_subject.h"
#include "lt_rand.h"
#include "lt_time.h"

typedef struct wentry {
    char *key; /* "lattice/app": the coalescing key */
    char *lattice, *app, *json;
    int64_t due;   /* monotonic ms before which it is not tried again; 0 = now */
    int64_t pause; /* the last backoff, 0 before the first failure */
    size_t slot;   /* the lattice's lease slot: written only while it may act */
    struct wentry *next;
} wentry;

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000 /* a status is retried at least this often while the KV fails */

/* A control-plane event on its way out: where it goes and the packed protobuf, in one
 * allocation; the subject and CloudEvent type are spelt out on the writer thread. */
typedef struct wevent {
    struct wevent *next;
    char lattice[LT_MAX_TOKEN + 1];
    char type[48];
    size_t len;
    uint8_t data[];
} wevent;

#define MAX_QUEUED_EVENTS 200000u /* beyond this, events are dropped (and counted) */

struct sched_writer {
    lt_store *store;
    sched_lease *lease;      /* NULL: no election, every status is written */
    natsConnection *nc;      /* the main connection */
    natsConnection *bulk_nc; /* where events go while it is connected (else nc) */
    char source[192];
    char prefix[LT_MAX_SUBJECT / 2]; /* of the event subjects */
    /* Events the loop emitted since its last hand-over (loop thread only, no lock): one lock and
     * one wake-up per batch (lt__sched_writer_handover), not per event. */
    wevent *lp_head, *lp_tail;
    size_t lp_n;
    wevent *ev_head, *ev_tail;
    size_t n_events;
    uint64_t dropped;
    lt_rand rng; /* event ids (writer thread only) */
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wentry *head, *tail;
    lt_map queued;    /* key -> wentry, for O(1) coalescing */
    uint64_t retried; /* failed puts, for the log */
};

static void wentry_free(wentry *e);

/* Unlink and return the first status entry that is due (all of them when stopping), and the
 * earliest due time of the others in *next_due (0 when none waits). Under w->mu. */
static wentry *take_due(sched_writer *w, int64_t now, int64_t *next_due)
{
    wentry *prev = NULL;

    *next_due = 0;
    for (wentry *e = w->head; e != NULL; prev = e, e = e->next) {
        if (!w->stop && e->due > now) {
            if (*next_due == 0 || e->due < *next_due)
                *next_due = e->due;
            continue;
        }
        if (prev != NULL)
            prev->next = e->next;
        else
            w->head = e->next;
        if (w->tail == e)
            w->tail = prev;
        e->next = NULL;
        lt_map_del(&w->queued, e->key);
        return e;
    }
    return NULL;
}

/* A put failed: queue it again after a backoff, unless a newer status of the app came. */
static void requeue(sched_writer *w, wentry *e)
{
    if (w->stop || lt_map_get(&w->queued, e->key) != NULL ||
        lt_map_put(&w->queued, e->key, e) != LT_OK) {
        wentry_free(e);
        return;
    }
    e->pause = e->pause == 0 ? RETRY_FIRST_MS : e->pause * 2;
    if (e->pause > RETRY_MAX_MS)
        e->pause = RETRY_MAX_MS;
    e->due = lt_time_mono_ms() + e->pause;
    if (w->tail != NULL)
        w->tail->next = e;
    else
        w->head = e;
    w->tail = e;
}

/* Wait for work: a signal, or the next retry's due time. Under w->mu. */
static void wait_work(sched_writer *w, int64_t next_due)
{
    struct timespec ts;
    int64_t ms;

    if (next_due == 0) {
        pthread_cond_wait(&w->cv, &w->mu);
        return;
    }
    ms = next_due - lt_time_mono_ms();
    if (ms <= 0)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void wentry_free(wentry *e)
{
    if (e == NULL)
        return;
    lt_free(e->key);
    lt_free(e->lattice);
    lt_free(e->app);
    lt_free(e->json);
    lt_free(e);
}

/*
 * Writer thread: wrap the event as a CloudEvent in binary mode and publish it. Our own
 * attribute values are known to be plain (no percent-encoding needed), so the headers are set
 * directly: at 10,000 instances.placed events per convergence this is the cheap path.
 */
static void publish_event(sched_writer *w, wevent *ev)
{
    char id[LT_UUID_LEN + 1], when[LT_TIME_TEXT_MAX], subj[LT_MAX_SUBJECT], cetype[96];
    natsMsg *m = NULL;
    natsStatus s;

    if (lt_subject_cp_event(subj, sizeof(subj), w->prefix, ev->lattice, ev->type) != LT_OK) {
        lt_free(ev);
        return;
    }
    snprintf(cetype, sizeof(cetype), "dev.latticed.cp.%s.v1", ev->type);
    lt_rand_uuid_from(&w->rng, id); /* seeded from the kernel: unique, not secret */
    lt_time_format_now(when);
    s = natsMsg_Create(&m, subj, NULL, (const char *)ev->data, (int)ev->len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "ce-specversion", LT_CE_SPECVERSION);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "ce-type", cetype);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "ce-source", w->source);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "ce-id", id);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "ce-time", when);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "content-type", LT_CE_CT_PROTOBUF);
    if (s == NATS_OK) {
        /* the events connection while it is up, else the main one (up or not: then nothing
         * goes out, and the event counts as dropped) */
        natsConnection *nc =
            natsConnection_Status(w->bulk_nc) == NATS_CONN_STATUS_CONNECTED ? w->bulk_nc : w->nc;

        s = natsConnection_PublishMsg(nc, m);
    }
    if (s != NATS_OK) {
        pthread_mutex_lock(&w->mu);
        w->dropped++;
        pthread_mutex_unlock(&w->mu);
    }
    natsMsg_Destroy(m);
    lt_free(ev);
}

static void *writer_main(void *arg)
{
    sched_writer *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        wentry *e;
        int64_t next_due = 0;
        lt_status st;

        while (w->head == NULL && w->ev_head == NULL && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->ev_head != NULL) { /* every queued event, then the statuses */
            wevent *ev = w->ev_head, *next;

            w->ev_head = w->ev_tail = NULL;
            w->n_events = 0;
            pthread_mutex_unlock(&w->mu);
            for (; ev != NULL; ev = next) {
                next = ev->next;
                publish_event(w, ev);
            }
            pthread_mutex_lock(&w->mu);
            continue;
        }
        if (w->head == NULL)
            break; /* stopping with nothing left */
        if ((e = take_due(w, lt_time_mono_ms(), &next_due)) == NULL) {
            wait_work(w, next_due); /* only retries wait, none is due */
            continue;
        }
        pthread_mutex_unlock(&w->mu);
        if (w->lease != NULL && lt_loop_now_ms() >= lt__sched_lease_until(w->lease, e->slot)) {
            /* Not (or no longer) the leader: a late write could hide the new leader's status.
             * Whoever leads next publishes every status again. */
            LT_DEBUG("sched", "status of %s/%s dropped: not leading", e->lattice, e->app);
            wentry_free(e);
            pthread_mutex_lock(&w->mu);
            continue;
        }
        st = w->store != NULL
                 ? lt_store_status_put(w->store, e->lattice, e->app, e->json, strlen(e->json))
                 : LT_OK;
        if (st != LT_OK && st != LT_ERR_TOO_BIG && st != LT_ERR_INVALID) {
            if (e->pause == 0)
                LT_WARN("sched", "status of %s/%s not stored (retrying): %s", e->lattice, e->app,
                        lt_error_message());
            pthread_mutex_lock(&w->mu);
            w->retried++;
            requeue(w, e);
            continue;
        }
        if (st != LT_OK)
            LT_WARN("sched", "status of %s/%s not stored: %s", e->lattice, e->app,
                    lt_error_message());
        else if (e->pause != 0)
            LT_INFO("sched", "status of %s/%s stored after retries", e->lattice, e->app);
        wentry_free(e);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

lt_status lt__sched_writer_start(sched_writer **new_w, lt_store *store, natsConnection *nc,
                                 natsConnection *bulk_nc, const char *prefix, const char *replica,
                                 sched_lease *lease)
{
    sched_writer *w = lt_calloc(1, sizeof(*w));

    *new_w = NULL;
    if (w == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "status writer");
    w->store = store;
    w->lease = lease;
    w->nc = nc;
    w->bulk_nc = bulk_nc != NULL ? bulk_nc : nc;
    snprintf(w->source, sizeof(w->source), "latticed/%s", replica);
    if ((size_t)snprintf(w->prefix, sizeof(w->prefix), "%s", prefix) >= sizeof(w->prefix)) {
        lt_free(w);
        return LT_FAIL(LT_ERR_TOO_BIG, "event subject prefix too long");
    }
    lt_rand_seed_random(&w->rng);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        lt__sched_writer_stop(w);
        return LT_FAIL(LT_ERR_IO, "cannot start the status writer");
    }
    w->started = true;
    *new_w = w;
    return LT_OK;
}

/** Thread-safe. Queue json as the status of lattice/app (replacing a queued older one). */
static void writer_put(sched_writer *w, const char *lattice, const char *app, const char *json,
                       size_t slot)
{
    char key[2 * LT_MAX_TOKEN + 8];
    wentry *e;
    char *copy = lt_strdup(json);

    if (copy == NULL)
        return;
    snprintf(key, sizeof(key), "%s/%s", lattice, app);
    pthread_mutex_lock(&w->mu);
    e = lt_map_get(&w->queued, key);
    if (e != NULL) {
        lt_free(e->json); /* only the newest matters (a retry keeps its backoff) */
        e->json = copy;
        e->slot = slot;
        goto out;
    }
    e = lt_calloc(1, sizeof(*e));
    if (e == NULL || (e->lattice = lt_strdup(lattice)) == NULL ||
        (e->app = lt_strdup(app)) == NULL || (e->key = lt_strdup(key)) == NULL ||
        lt_map_put(&w->queued, e->key, e) != LT_OK) {
        wentry_free(e);
        lt_free(copy);
        goto out;
    }
    e->json = copy;
    e->slot = slot;
    if (w->tail != NULL)
        w->tail->next = e;
    else
        w->head = e;
    w->tail = e;
    pthread_cond_signal(&w->cv);
out:
    pthread_mutex_unlock(&w->mu);
}

void lt__sched_writer_stop(sched_writer *w)
{
    if (w == NULL)
        return;
    lt__sched_writer_handover(w); /* what the loop emitted last goes out too */
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true; /* the thread drains what is queued, then leaves */
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    while (w->head != NULL) {
        wentry *e = w->head;

        w->head = e->next;
        wentry_free(e);
    }
    while (w->ev_head != NULL) {
        wevent *ev = w->ev_head;

        w->ev_head = ev->next;
        lt_free(ev);
    }
    if (w->dropped > 0)
        LT_WARN("sched", "%llu control-plane events were dropped (queue full, or not sent)",
                (unsigned long long)w->dropped);
    lt_map_cleanup(&w->queued);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    lt_free(w);
}

/* ---------------------------------------------------------------------------------------------
 * Sink callbacks (loop thread)
 * ------------------------------------------------------------------------------------------- */

void lt__sched_svc_status(void *arg, const char *app, lt_sched_state state, const char *json)
{
    svc_lattice *l = arg;
    lt_sched_svc *svc = l->svc;
    char subj[LT_MAX_SUBJECT];

    (void)state;
    if (!lt__sched_svc_may_act(l))
        return; /* paused: published again when acting resumes (lt_sched_republish) */
    if (lt_subject_app_status(subj, sizeof(subj), svc->status_prefix, l->name, app) == LT_OK)
        natsConnection_Publish(svc->cfg.nc, subj, json, (int)strlen(json));
    if (svc->writer != NULL)
        writer_put(svc->writer, l->name, app, json, l->lease_slot);
}

/** Loop thread. Queue a control-plane event (packed now, handed to the writer thread with the
 * others of this loop turn by lt__sched_writer_handover). */
static void writer_event(sched_writer *w, const char *lattice, const char *type,
                         const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg), tl = strlen(type), ll = strlen(lattice);
    wevent *ev;

    if (tl >= sizeof(ev->type) || ll >= sizeof(ev->lattice) ||
        (ev = lt_malloc(sizeof(*ev) + len + 1)) == NULL)
        return;
    ev->next = NULL;
    memcpy(ev->lattice, lattice, ll + 1);
    memcpy(ev->type, type, tl + 1);
    ev->len = protobuf_c_message_pack(msg, ev->data);
    if (w->lp_tail != NULL)
        w->lp_tail->next = ev;
    else
        w->lp_head = ev;
    w->lp_tail = ev;
    w->lp_n++;
}

void lt__sched_writer_handover(sched_writer *w)
{
    wevent *keep, *drop = NULL;
    size_t room;

    if (w == NULL || w->lp_head == NULL)
        return;
    keep = w->lp_head;
    pthread_mutex_lock(&w->mu);
    room = w->n_events < MAX_QUEUED_EVENTS ? MAX_QUEUED_EVENTS - w->n_events : 0;
    if (w->lp_n > room) { /* beyond the bound: the newest are dropped (and counted) */
        wevent *last = NULL;

        w->dropped += w->lp_n - room;
        if (room == 0) {
            drop = keep;
            keep = NULL;
        } else {
            last = keep;
            for (size_t i = 1; i < room; i++)
                last = last->next;
            drop = last->next;
            last->next = NULL;
            w->lp_tail = last;
        }
        w->lp_n = room;
    }
    if (keep != NULL) {
        if (w->ev_tail != NULL)
            w->ev_tail->next = keep;
        else
            w->ev_head = keep;
        w->ev_tail = w->lp_tail;
        w->n_events += w->lp_n;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    w->lp_head = w->lp_tail = NULL;
    w->lp_n = 0;
    while (drop != NULL) {
        wevent *next = drop->next;

        lt_free(drop);
        drop = next;
    }
}

/* Loop thread: only packing here; the CloudEvent wrapping and publishing run on the writer. */
void lt__sched_svc_event(void *arg, const char *type, const ProtobufCMessage *msg)
{
    svc_lattice *l = arg;
    lt_sched_svc *svc = l->svc;

    if (!lt__sched_svc_may_act(l))
        return; /* not the leader right now: it reports nothing */
    if (svc->writer != NULL)
        writer_event(svc->writer, l->name, type, msg);
}
