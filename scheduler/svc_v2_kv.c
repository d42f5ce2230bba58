/*
 * svc_v2_kv.c - the wasmCloud 2.x driver's memory across restarts. A v2 heartbeat carries
 * only counts and a v2 host has no list command, so a latticed that starts with no standby
 * that watched the leader would not know the workloads already running, and would start a
 * second copy of each on whatever host it picks. The leader therefore keeps the start
 * request of every workload it started in the KV bucket `latticed_v2_workloads`, key
 * `{lattice}.{host id}.{workload id}`, and deletes it once the workload is gone. A replica
 * reads the bucket at start, before it can lead, into the same tables the request watch fills
 * (svc_v2.c); its first term checks every entry with a status request.
 *
 * KV calls block: puts and deletes go through a thread of their own, in order, retried a few
 * times when JetStream fails (a lost write costs at most one duplicate after a restart).
 */
#include "sched_v2_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_pbjson.h"
#include "lt_store.h"

#define V2_BUCKET "latticed_v2_workloads"
#define V2_KV_MAX_PENDING 200000u /* queued writes; past it new ones are dropped (logged) */
#define V2_KV_TRIES 5
#define V2_KV_LOAD_WAIT_MS LT_STORE_WATCH_QUIET_MS
#define V2_KV_LOAD_TRIES 3 /* readings of the bucket at start that may lack the end marker */

typedef struct kv_op {
    char *key;
    char *val; /* NULL: delete */
    struct kv_op *next;
} kv_op;

struct v2_kv {
    jsCtx *js;
    kvStore *kv;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    kv_op *head, *tail;
    size_t n;
    bool stop, thread_on, warned;
};

static void op_free(kv_op *op)
{
    lt_free(op->key);
    lt_free(op->val);
    lt_free(op);
}

static void write_one(v2_kv *k, const kv_op *op)
{
    natsStatus s = NATS_OK;

    for (int i = 0; i < V2_KV_TRIES; i++) {
        s = op->val != NULL ? kvStore_PutString(NULL, k->kv, op->key, op->val)
                            : kvStore_Delete(k->kv, op->key);
        if (s == NATS_OK)
            return;
        nats_Sleep(100 << i);
    }
    LT_WARN("sched", "%s %s in %s failed: %s", op->val != NULL ? "writing" : "deleting", op->key,
            V2_BUCKET, natsStatus_GetText(s));
}

static void *kv_main(void *arg)
{
    v2_kv *k = arg;

    pthread_mutex_lock(&k->mu);
    for (;;) {
        kv_op *op;

        while (k->head == NULL && !k->stop)
            pthread_cond_wait(&k->cv, &k->mu);
        if (k->head == NULL)
            break; /* stopping, and everything queued was written */
        op = k->head;
        k->head = op->next;
        if (k->head == NULL)
            k->tail = NULL;
        k->n--;
        pthread_mutex_unlock(&k->mu);
        write_one(k, op);
        op_free(op);
        pthread_mutex_lock(&k->mu);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

void lt__sched_v2_kv_write(sched_v2 *v, const char *lattice, const char *host, const char *wid,
                           const char *val)
{
    v2_kv *k = v->kv;
    char key[LT_MAX_SUBJECT];
    kv_op *op;

    if (k == NULL ||
        (size_t)snprintf(key, sizeof(key), "%s.%s.%s", lattice, host, wid) >= sizeof(key))
        return;
    op = lt_calloc(1, sizeof(*op));
    if (op == NULL || (op->key = lt_strdup(key)) == NULL ||
        (val != NULL && (op->val = lt_strdup(val)) == NULL)) {
        if (op != NULL)
            op_free(op);
        return;
    }
    pthread_mutex_lock(&k->mu);
    if (k->n >= V2_KV_MAX_PENDING) {
        if (!k->warned)
            LT_WARN("sched", "%s: more than %u writes waiting: dropping (JetStream too slow?)",
                    V2_BUCKET, V2_KV_MAX_PENDING);
        k->warned = true;
        pthread_mutex_unlock(&k->mu);
        op_free(op);
        return;
    }
    if (k->tail != NULL)
        k->tail->next = op;
    else
        k->head = op;
    k->tail = op;
    k->n++;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

/* One stored start request back into the tables: "{lattice}.{host}.{wid}". */
static void load_one(sched_v2 *v, const char *key, const char *val, size_t len, int64_t now)
{
    char lattice[LT_MAX_TOKEN + 1], host[LT_MAX_HOST_ID + 1];
    const char *d1 = strchr(key, '.'), *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
    ProtobufCMessage *m = NULL;
    Wasmcloud__Runtime__V2__WorkloadStartRequest *r;
    svc_lattice *l;
    v2_host *h;

    if (d2 == NULL || (size_t)(d1 - key) > LT_MAX_TOKEN || (size_t)(d2 - d1 - 1) > LT_MAX_HOST_ID ||
        strchr(d2 + 1, '.') != NULL)
        return;
    memcpy(lattice, key, (size_t)(d1 - key));
    lattice[d1 - key] = '\0';
    memcpy(host, d1 + 1, (size_t)(d2 - d1 - 1));
    host[d2 - d1 - 1] = '\0';
    l = lt__sched_v2_lattice(v->svc, lattice) ? lt__sched_svc_lattice_get(v->svc, lattice, false)
                                              : NULL;
    if (l == NULL || lt_pbjson_decode(&wasmcloud__runtime__v2__workload_start_request__descriptor,
                                      val, len, LT_PBJSON_IGNORE_UNKNOWN, &m) != LT_OK)
        return;
    r = (Wasmcloud__Runtime__V2__WorkloadStartRequest *)m;
    h = lt__sched_v2_host(v, host, l);
    if (h != NULL && h->lat == l && r->workload != NULL && r->workload_id != NULL &&
        strcmp(r->workload_id, d2 + 1) == 0)
        LT_IGNORE(lt__sched_v2_record_start(h, r->workload_id, r->workload, now) == NULL);
    protobuf_c_message_free_unpacked(m, NULL);
}

typedef struct {
    sched_v2 *v;
    int64_t now;
} load_arg;

/* lt_store_kv_read_all: one stored start into the tables (a repeat finds it there). */
static void load_entry(kvEntry *e, void *arg)
{
    load_arg *a = arg;

    load_one(a->v, kvEntry_Key(e), kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), a->now);
}

/* Every stored start, before this replica can lead. A reading without nats.c's end marker is
 * done again (an entry missed would be started a second time), a few times. */
static lt_status load(sched_v2 *v, int64_t now)
{
    lt_store_read_opts o = { .what = V2_BUCKET,
                             .ignore_deletes = true,
                             .wait_ms = V2_KV_LOAD_WAIT_MS,
                             .tries = V2_KV_LOAD_TRIES };
    load_arg a = { v, now };
    size_t n = 0;
    lt_status st = lt_store_kv_read_all(v->kv->kv, v->svc->cfg.nc, &o, load_entry, &a, NULL, &n);

    if (st == LT_OK && n > 0)
        LT_INFO("sched", "%zu wasmCloud workloads started earlier read from %s", n, V2_BUCKET);
    return st;
}

lt_status lt__sched_v2_kv_start(sched_v2 *v)
{
    lt_sched_svc *svc = v->svc;
    lt_store_settings want = { .replicas = svc->cfg.replicas,
                               .memory = svc->cfg.memory,
                               .history = 1 };
    v2_kv *k;
    natsStatus s;
    lt_status st;

    if (svc->cfg.js == NULL)
        return LT_OK; /* no JetStream (single-process tests): no memory across restarts */
    k = lt_calloc(1, sizeof(*k));
    if (k == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "v2 driver");
    v->kv = k;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    s = natsConnection_JetStream(&k->js, svc->cfg.nc, NULL);
    if (s != NATS_OK)
        return LT_FAIL(lt_conn_status(s), "%s: %s", V2_BUCKET, natsStatus_GetText(s));
    st =
        lt_store_bucket_ensure(k->js, V2_BUCKET,
                               "latticed: workloads started on wasmCloud 2.x hosts", &want, &k->kv);
    if (st != LT_OK)
        return st;
    st = load(v, lt_loop_now_ms());
    if (st != LT_OK)
        return st;
    if (pthread_create(&k->th, NULL, kv_main, k) != 0)
        return LT_FAIL(LT_ERR_NOMEM, "%s: no thread", V2_BUCKET);
    k->thread_on = true;
    return LT_OK;
}

void lt__sched_v2_kv_stop(sched_v2 *v)
{
    v2_kv *k = v->kv;

    if (k == NULL)
        return;
    if (k->thread_on) {
        pthread_mutex_lock(&k->mu);
        k->stop = true;
        pthread_cond_signal(&k->cv);
        pthread_mutex_unlock(&k->mu);
        pthread_join(k->th, NULL); /* what is queued is written first */
    }
    while (k->head != NULL) {
        kv_op *op = k->head;

        k->head = op->next;
        op_free(op);
    }
    if (k->kv != NULL)
        kvStore_Destroy(k->kv);
    jsCtx_Destroy(k->js);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    lt_free(k);
    v->kv = NULL;
}
