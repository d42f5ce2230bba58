/*
 * svc_drain.c - cordon, drain and uncordon over NATS, kept in JetStream KV.
 * A hosts request whose body names an action ({"action":"cordon"|"drain"|
 * "uncordon","host":ID}) is answered by the lattice's leader: it checks the
 * host, a thread of this file writes `{lattice}.{host}` in the bucket
 * `latticed_hosts` by compare-and-set, and the loop then applies the mode and
 * replies. Every replica watches the bucket (read whole at start, before
 * anything is placed), so the mode survives a leader failover and a restart; a
 * watch that breaks is replaced, and the new one reads every mode again.
 * Without JetStream (single-process tests) the mode is kept in memory only.
 */
#include "sched_svc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_store.h"
#include "lt_subject.h"
#include "lt_time.h"

#define DRAIN_BUCKET "latticed_hosts"
#define DRAIN_TRIES 8 /* compare-and-set attempts */
#define DRAIN_LOAD_WAIT_MS LT_STORE_WATCH_QUIET_MS
#define DRAIN_LOAD_TRIES 3       /* readings at start that may lack nats.c's end marker */
#define DRAIN_REWATCH_MIN_MS 200 /* a broken watch is replaced after this, then longer */
#define DRAIN_REWATCH_MAX_MS 5000

typedef struct drain_job {
    char lattice[LT_MAX_TOKEN + 1];
    char host[LT_MAX_HOST_ID + 1];
    lt_sched_host_mode mode;
    natsMsg *msg; /* the request, for its reply subject */
    struct drain_job *next;
} drain_job;

struct sched_drain {
    lt_sched_svc *svc;
    jsCtx *js;
    kvStore *kv;
    kvWatcher *w;   /* the watch thread's once it runs (load's before) */
    int rewatch_ms; /* the pause before the next new watch (watch thread) */
    bool w_marked;  /* d->w gave its end marker: what follows are changes (watch thread) */
    pthread_t wth, jth;
    bool wth_on, jth_on, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    drain_job *head, *tail;
};

/* A mode for the loop: from the watch (msg NULL) or after our own write (reply to msg). */
typedef struct {
    svc_item hdr; /* first */
    lt_sched_svc *svc;
    char lattice[LT_MAX_TOKEN + 1];
    char host[LT_MAX_HOST_ID + 1];
    lt_sched_host_mode mode;
    natsMsg *msg;
    char err[256]; /* the write failed: reply this */
} mode_item;

static const char *const actions[] = { "uncordon", "cordon", "drain" }; /* by mode */

static void reply_json(lt_sched_svc *svc, natsMsg *msg, const char *result, const char *host,
                       const char *scheduling, const char *message)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "result", result, "host", host, "scheduling",
                          scheduling, "message", message);
    char *txt = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    if (txt != NULL && natsMsg_GetReply(msg) != NULL)
        natsConnection_PublishString(svc->cfg.nc, natsMsg_GetReply(msg), txt);
    free(txt); /* jansson's allocator */
    json_decref(o);
}

static bool key_ok(const char *host)
{
    size_t n = strlen(host);

    if (n == 0 || n > LT_MAX_HOST_ID)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = host[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '='))
            return false;
    }
    return true;
}

/* Loop thread: apply, and answer the request that asked for it. */
static void apply_mode(lt_sched_svc *svc, const char *lattice, const char *host,
                       lt_sched_host_mode mode, natsMsg *msg)
{
    svc_lattice *l = lt__sched_svc_lattice_get(svc, lattice, true);
    char text[LT_MAX_HOST_ID + 128];
    bool changed = l != NULL && lt_sched_host_mode_get(l->s, host) != mode;

    if (l == NULL || lt_sched_set_host_mode(l->s, host, mode, lt_loop_now_ms()) != LT_OK) {
        if (msg != NULL)
            reply_json(svc, msg, "error", host, "", "the scheduler could not take the change");
        return;
    }
    l->kick = true;
    if (changed)
        LT_INFO("sched", "lattice %s: host %s is now %s", lattice, host,
                lt_sched_host_mode_word(mode));
    if (msg == NULL)
        return;
    snprintf(text, sizeof(text), "host %s %s", host,
             mode == LT_SCHED_HOST_READY      ? "uncordoned: eligible for placements again"
             : mode == LT_SCHED_HOST_CORDONED ? "cordoned: nothing new is placed there"
                                              : "draining: its instances move to other hosts");
    reply_json(svc, msg, "ok", host, lt_sched_host_scheduling(l->s, host), text);
}

static void item_drop(svc_item *arg)
{
    mode_item *it = (mode_item *)arg;

    natsMsg_Destroy(it->msg);
    lt_free(it);
}

static void item_run(svc_item *arg)
{
    mode_item *it = (mode_item *)arg;

    if (it->err[0] != '\0')
        reply_json(it->svc, it->msg, "error", it->host, "", it->err);
    else
        apply_mode(it->svc, it->lattice, it->host, it->mode, it->msg);
    item_drop(arg);
}

/* "{lattice}.{host}" and its JSON value into an item; NULL when it is not ours. */
static mode_item *item_from(lt_sched_svc *svc, const char *key, const char *val, size_t len)
{
    const char *dot = strchr(key, '.');
    json_error_t err;
    json_t *doc;
    mode_item *it;
    lt_sched_host_mode mode = LT_SCHED_HOST_READY;

    if (dot == NULL || (size_t)(dot - key) > LT_MAX_TOKEN || strlen(dot + 1) > LT_MAX_HOST_ID ||
        dot[1] == '\0')
        return NULL;
    doc = val != NULL ? json_loadb(val, len, 0, &err) : NULL;
    if (val != NULL &&
        !lt_sched_host_mode_parse(json_string_value(json_object_get(doc, "state")), &mode)) {
        json_decref(doc);
        return NULL;
    }
    json_decref(doc);
    it = lt_calloc(1, sizeof(*it));
    if (it == NULL)
        return NULL;
    it->svc = svc;
    memcpy(it->lattice, key, (size_t)(dot - key));
    memcpy(it->host, dot + 1, strlen(dot + 1) + 1);
    it->mode = mode;
    it->hdr.run = item_run;
    it->hdr.drop = item_drop;
    return it;
}

static mode_item *item_from_entry(lt_sched_svc *svc, kvEntry *e)
{
    bool del = kvEntry_Operation(e) != kvOp_Put;

    return item_from(svc, kvEntry_Key(e), del ? NULL : kvEntry_ValueString(e),
                     del ? 0 : (size_t)kvEntry_ValueLen(e));
}

/* Watch thread: wait up to ms, a stop seen within LT_CONN_WATCH_POLL_MS. */
static void watch_pause(sched_drain *d, int ms)
{
    for (int waited = 0; waited < ms && !atomic_load(&d->svc->stopping);
         waited += LT_CONN_WATCH_POLL_MS)
        nats_Sleep(LT_CONN_WATCH_POLL_MS);
}

/* Watch thread: d->w replaced by a new watcher of every key, retried until it is had or the
 * service stops. Its first deliveries are every current value again, delete markers included
 * (last value per key), so whatever changed while no watch ran reaches the loop. */
static void watch_again(sched_drain *d)
{
    kvWatchOptions wo;
    natsStatus s;

    lt_conn_watcher_free(d->svc->cfg.nc, d->w, LT_CONN_SETTLE_MS); /* this thread reads it */
    d->w = NULL;
    d->w_marked = false; /* the next one first delivers every mode again */
    kvWatchOptions_Init(&wo);
    for (;;) {
        watch_pause(d, d->rewatch_ms);
        /* the next break waits longer, unless this watch delivers something first */
        d->rewatch_ms =
            d->rewatch_ms < DRAIN_REWATCH_MAX_MS / 2 ? 2 * d->rewatch_ms : DRAIN_REWATCH_MAX_MS;
        if (atomic_load(&d->svc->stopping))
            return;
        if ((s = kvStore_WatchAll(&d->w, d->kv, &wo)) == NATS_OK) {
            LT_INFO("sched", "host modes: watching %s again", DRAIN_BUCKET);
            /* what an earlier disconnection parked can go now (lt_conn.h) */
            lt_conn_parked_sweep(d->svc->cfg.nc, LT_CONN_SETTLE_MS);
            return;
        }
        d->w = NULL;
        LT_WARN("sched", "host modes: cannot watch %s: %s; trying again", DRAIN_BUCKET,
                natsStatus_GetText(s));
    }
}

/* Watch thread: every later change, to the loop. A broken watch (an error other than a timeout:
 * a message lost to a slow consumer, say) is replaced by a new one. */
static void *watch_main(void *arg)
{
    sched_drain *d = arg;

    while (d->w != NULL) {
        kvEntry *e = NULL;
        natsStatus s = kvWatcher_Next(&e, d->w, LT_CONN_WATCH_POLL_MS);
        mode_item *it;

        if (atomic_load(&d->svc->stopping)) { /* the watcher is retired by drain_stop */
            kvEntry_Destroy(e);
            break;
        }
        if (s == NATS_TIMEOUT)
            continue;
        if (s != NATS_OK) {
            LT_WARN("sched", "host modes: the watch of %s failed: %s; watching again", DRAIN_BUCKET,
                    natsStatus_GetText(s));
            watch_again(d);
            continue;
        }
        if (e == NULL) {
            d->w_marked = true;
            continue;
        }
        if (d->w_marked) /* a change after the marker: this watch works */
            d->rewatch_ms = DRAIN_REWATCH_MIN_MS;
        it = item_from_entry(d->svc, e);
        kvEntry_Destroy(e);
        if (it != NULL)
            lt__sched_svc_inbox_post(d->svc, &it->hdr);
    }
    return NULL;
}

/* Compare-and-set of one key: read its revision, create or update on it, again on a race. */
static lt_status cas_write(sched_drain *d, const drain_job *j)
{
    char key[LT_MAX_TOKEN + LT_MAX_HOST_ID + 2], now[LT_TIME_TEXT_MAX];
    json_t *o;
    char *val;
    natsStatus s = NATS_OK;
    int i;

    snprintf(key, sizeof(key), "%s.%s", j->lattice, j->host);
    lt_time_format_now(now);
    o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s}", "schema", 1, "lattice", j->lattice, "host", j->host,
                  "state", lt_sched_host_mode_word(j->mode), "updated_at", now, "replica",
                  d->svc->replica);
    val = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (val == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "host mode");
    for (i = 0; i < DRAIN_TRIES; i++) {
        kvEntry *e = NULL;
        uint64_t rev = 0;

        s = kvStore_Get(&e, d->kv, key);
        if (s == NATS_OK) {
            rev = kvEntry_Revision(e);
            kvEntry_Destroy(e);
            s = kvStore_UpdateString(NULL, d->kv, key, val, rev);
        } else if (s == NATS_NOT_FOUND) {
            s = kvStore_CreateString(NULL, d->kv, key, val);
        }
        if (s == NATS_OK)
            break;
        nats_Sleep(50 << (i < 4 ? i : 4)); /* another writer won: read again */
    }
    free(val);
    if (s != NATS_OK)
        return LT_FAIL(lt_conn_status(s), "writing %s in %s: %s", key, DRAIN_BUCKET,
                       natsStatus_GetText(s));
    return LT_OK;
}

/* Job thread: write, then hand the mode and the reply to the loop. */
static void *job_main(void *arg)
{
    sched_drain *d = arg;

    pthread_mutex_lock(&d->mu);
    for (;;) {
        drain_job *j;
        mode_item *it;

        while (d->head == NULL && !d->stop)
            pthread_cond_wait(&d->cv, &d->mu);
        if (d->head == NULL)
            break;
        j = d->head;
        d->head = j->next;
        if (d->head == NULL)
            d->tail = NULL;
        pthread_mutex_unlock(&d->mu);
        it = lt_calloc(1, sizeof(*it));
        if (it != NULL) {
            it->svc = d->svc;
            memcpy(it->lattice, j->lattice, sizeof(it->lattice));
            memcpy(it->host, j->host, sizeof(it->host));
            it->mode = j->mode;
            it->msg = j->msg;
            j->msg = NULL;
            it->hdr.run = item_run;
            it->hdr.drop = item_drop;
            if (cas_write(d, j) != LT_OK)
                snprintf(it->err, sizeof(it->err), "not stored: %s (try again)",
                         lt_error_message());
            lt__sched_svc_inbox_post(d->svc, &it->hdr);
        }
        natsMsg_Destroy(j->msg);
        lt_free(j);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

bool lt__sched_svc_drain_action(natsMsg *msg, char *host, size_t cap, lt_sched_host_mode *mode)
{
    json_error_t err;
    json_t *body;
    const char *a, *h;
    bool yes = false;

    if (natsMsg_GetDataLength(msg) <= 0 || natsMsg_GetDataLength(msg) > 4096)
        return false;
    body = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 0, &err);
    a = json_string_value(json_object_get(body, "action"));
    h = json_string_value(json_object_get(body, "host"));
    host[0] = '\0';
    if (h != NULL && strlen(h) < cap)
        memcpy(host, h, strlen(h) + 1);
    *mode = LT_SCHED_HOST_READY;
    for (size_t i = 0; a != NULL && i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(a, actions[i]) == 0) {
            *mode = (lt_sched_host_mode)i;
            yes = true;
        }
    if (a != NULL && !yes) { /* an action we do not know: say so rather than list the hosts */
        *mode = (lt_sched_host_mode)-1;
        yes = true;
    }
    json_decref(body);
    return yes;
}

void lt__sched_svc_drain_request(lt_sched_svc *svc, const char *lattice, svc_lattice *l,
                                 natsMsg *msg, const char *host, lt_sched_host_mode mode)
{
    sched_drain *d = svc->drain;
    char text[LT_MAX_HOST_ID + LT_MAX_TOKEN + 128];
    drain_job *j;

    if ((int)mode < 0) {
        reply_json(svc, msg, "error", host, "",
                   "unknown action (latticed takes cordon, drain and uncordon)");
        goto out;
    }
    if (!key_ok(host)) {
        reply_json(svc, msg, "error", host, "", "a host id is needed ([A-Za-z0-9_=.-])");
        goto out;
    }
    if (l == NULL || (!lt_sched_host_known(l->s, host) &&
                      lt_sched_host_mode_get(l->s, host) == LT_SCHED_HOST_READY)) {
        snprintf(text, sizeof(text),
                 "host %s not found in lattice %s (latticectl hosts lists the hosts)", host,
                 lattice);
        reply_json(svc, msg, "error", host, "", text);
        goto out;
    }
    if (d == NULL) { /* no JetStream: memory only */
        apply_mode(svc, lattice, host, mode, msg);
        goto out;
    }
    j = lt_calloc(1, sizeof(*j));
    if (j == NULL) {
        reply_json(svc, msg, "error", host, "", "out of memory");
        goto out;
    }
    snprintf(j->lattice, sizeof(j->lattice), "%s", lattice);
    snprintf(j->host, sizeof(j->host), "%s", host);
    j->mode = mode;
    j->msg = msg;
    msg = NULL;
    pthread_mutex_lock(&d->mu);
    if (d->tail != NULL)
        d->tail->next = j;
    else
        d->head = j;
    d->tail = j;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
out:
    natsMsg_Destroy(msg);
}

/* lt_store_kv_read_all: one stored mode, applied (a repeat changes nothing). */
static void load_one(kvEntry *e, void *arg)
{
    sched_drain *d = arg;
    mode_item *it = item_from_entry(d->svc, e);

    if (it != NULL) {
        apply_mode(d->svc, it->lattice, it->host, it->mode, NULL);
        item_drop(&it->hdr);
    }
}

/* Every stored mode, applied before the scheduler runs (loop thread, or before it runs); the
 * watcher that read them goes on to the watch thread (d->w). */
static lt_status load(sched_drain *d)
{
    lt_store_read_opts o = { .what = DRAIN_BUCKET,
                             .wait_ms = DRAIN_LOAD_WAIT_MS,
                             .tries = DRAIN_LOAD_TRIES };
    size_t n = 0;
    lt_status st = lt_store_kv_read_all(d->kv, d->svc->cfg.nc, &o, load_one, d, &d->w, &n);

    d->w_marked = true; /* lt_store_kv_read_all ended at its marker */
    if (st == LT_OK && n > 0)
        LT_INFO("sched", "%zu host mode entries read from %s", n, DRAIN_BUCKET);
    return st;
}

lt_status lt__sched_svc_drain_start(lt_sched_svc *svc)
{
    lt_store_settings want = { .replicas = svc->cfg.replicas,
                               .memory = svc->cfg.memory,
                               .history = 5 };
    sched_drain *d;
    natsStatus s;
    lt_status st;

    if (svc->cfg.js == NULL)
        return LT_OK;
    d = lt_calloc(1, sizeof(*d));
    if (d == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "host modes");
    d->svc = svc;
    d->rewatch_ms = DRAIN_REWATCH_MIN_MS;
    svc->drain = d;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    s = natsConnection_JetStream(&d->js, svc->cfg.nc, NULL);
    if (s != NATS_OK)
        return LT_FAIL(lt_conn_status(s), "%s: %s", DRAIN_BUCKET, natsStatus_GetText(s));
    st = lt_store_bucket_ensure(d->js, DRAIN_BUCKET,
                                "latticed: cordoned and draining hosts (latticectl hosts cordon)",
                                &want, &d->kv);
    if (st == LT_OK)
        st = load(d);
    if (st != LT_OK)
        return st;
    if (pthread_create(&d->wth, NULL, watch_main, d) != 0)
        return LT_FAIL(LT_ERR_NOMEM, "%s: no thread", DRAIN_BUCKET);
    d->wth_on = true;
    if (pthread_create(&d->jth, NULL, job_main, d) != 0)
        return LT_FAIL(LT_ERR_NOMEM, "%s: no thread", DRAIN_BUCKET);
    d->jth_on = true;
    return LT_OK;
}

void lt__sched_svc_drain_stop(lt_sched_svc *svc)
{
    sched_drain *d = svc->drain;

    if (d == NULL)
        return;
    /* It sees svc->stopping within LT_CONN_WATCH_POLL_MS (lt_conn.h), unless it is replacing a
     * broken watch: retiring that one and asking for a new one wait for the server (at most
     * LT_CONN_SETTLE_MS and the JetStream timeout). */
    if (d->wth_on)
        pthread_join(d->wth, NULL);
    pthread_mutex_lock(&d->mu);
    d->stop = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (d->jth_on)
        pthread_join(d->jth, NULL); /* what is queued is written first */
    while (d->head != NULL) {
        drain_job *j = d->head;

        d->head = j->next;
        natsMsg_Destroy(j->msg);
        lt_free(j);
    }
    lt_conn_watcher_free(svc->cfg.nc, d->w,
                         LT_CONN_SETTLE_MS); /* once nats.c's reader is done with it */
    if (d->kv != NULL)
        kvStore_Destroy(d->kv);
    jsCtx_Destroy(d->js);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    lt_free(d);
    svc->drain = NULL;
}
