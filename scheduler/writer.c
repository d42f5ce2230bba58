/*
 * writer.c - what the scheduler says goes out: an app's status is published
 * on `{status_prefix}.{lattice}.{app}` at once and written to the status KV
 * bucket by a writer thread (KV puts block; only the newest status of an app
 * is kept while it waits); control-plane events are CloudEvents published on
 * `{prefix}.{lattice}.evt.cp.{type}`, captured by the events stream.
 */
#include "sched_svc_int.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_ce.h"
#include "lt_limits.h"
#include "lt_log.h"

typedef struct wentry {
    char *lattice, *app, *json;
    struct wentry *next;
} wentry;

struct sched_writer {
    lt_store *store;
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wentry *head, *tail;
};

static void wentry_free(wentry *e)
{
    if (e == NULL)
        return;
    lt_free(e->lattice);
    lt_free(e->app);
    lt_free(e->json);
    lt_free(e);
}

static void *writer_main(void *arg)
{
    sched_writer *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        wentry *e;
        lt_status st;

        while (w->head == NULL && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->head == NULL)
            break; /* stopping with nothing left */
        e = w->head;
        w->head = e->next;
        if (w->head == NULL)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        st = lt_store_status_put(w->store, e->lattice, e->app, e->json, strlen(e->json));
        if (st != LT_OK)
            LT_WARN("sched", "status of %s/%s not stored: %s", e->lattice, e->app,
                    lt_error_message());
        wentry_free(e);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

lt_status sched_writer_start(sched_writer **new_w, lt_store *store)
{
    sched_writer *w = lt_calloc(1, sizeof(*w));

    *new_w = NULL;
    if (w == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "status writer");
    w->store = store;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        sched_writer_stop(w);
        return LT_FAIL(LT_ERR_IO, "cannot start the status writer");
    }
    w->started = true;
    *new_w = w;
    return LT_OK;
}

void sched_writer_put(sched_writer *w, const char *lattice, const char *app, const char *json)
{
    wentry *e;
    char *copy = lt_strdup(json);

    if (copy == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    for (e = w->head; e != NULL; e = e->next)
        if (strcmp(e->app, app) == 0 && strcmp(e->lattice, lattice) == 0) {
            lt_free(e->json); /* only the newest matters */
            e->json = copy;
            goto out;
        }
    e = lt_calloc(1, sizeof(*e));
    if (e == NULL || (e->lattice = lt_strdup(lattice)) == NULL ||
        (e->app = lt_strdup(app)) == NULL) {
        wentry_free(e);
        lt_free(copy);
        goto out;
    }
    e->json = copy;
    if (w->tail != NULL)
        w->tail->next = e;
    else
        w->head = e;
    w->tail = e;
    pthread_cond_signal(&w->cv);
out:
    pthread_mutex_unlock(&w->mu);
}

void sched_writer_stop(sched_writer *w)
{
    if (w == NULL)
        return;
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
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    lt_free(w);
}

/* ---------------------------------------------------------------------------------------------
 * Sink callbacks (loop thread)
 * ------------------------------------------------------------------------------------------- */

void svc_status(void *arg, const char *app, lt_sched_state state, const char *json)
{
    svc_lattice *l = arg;
    lt_sched_svc *svc = l->svc;
    char subj[LT_MAX_SUBJECT];

    (void)state;
    if ((size_t)snprintf(subj, sizeof(subj), "%s.%s.%s", svc->status_prefix, l->name, app) <
        sizeof(subj))
        natsConnection_Publish(svc->cfg.nc, subj, json, (int)strlen(json));
    if (svc->writer != NULL)
        sched_writer_put(svc->writer, l->name, app, json);
}

void svc_event(void *arg, const char *type, const ProtobufCMessage *msg)
{
    svc_lattice *l = arg;
    lt_sched_svc *svc = l->svc;
    char subj[LT_MAX_SUBJECT], cetype[128], source[256];
    lt_ce_event ev = { 0 };
    natsMsg *m = NULL;

    if ((size_t)snprintf(subj, sizeof(subj), "%s.%s.evt.cp.%s", svc->prefix, l->name, type) >=
        sizeof(subj))
        return;
    snprintf(cetype, sizeof(cetype), "dev.latticed.cp.%s.v1", type);
    snprintf(source, sizeof(source), "latticed/%s", svc->replica);
    ev.type = cetype;
    ev.source = source;
    if (lt_ce_to_msg_proto(&m, subj, &ev, msg, false) != LT_OK) {
        LT_DEBUG("sched", "event %s not sent: %s", type, lt_error_message());
        return;
    }
    natsConnection_PublishMsg(svc->cfg.nc, m);
    natsMsg_Destroy(m);
}
