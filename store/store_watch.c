/*
 * store_watch.c - a thread that follows the app index keys of one lattice (or
 * all) with a KV watcher and hands each change to a callback. On a watcher
 * error it re-subscribes after a pause and delivers the current state again
 * (consumers are level-triggered, so repeats are harmless). A change the
 * callback refuses is re-read and delivered again after a backoff, unless a
 * newer change of the same app comes first. Live changes that arrive together
 * (a burst of deploys) are handed over as a batch, the deployed manifests they
 * name read side by side first: one KV round trip per batch rather than one
 * per app on the way to the scheduler. Initial values that go quiet without nats.c's
 * end marker are read again by a new watcher (LT_STORE_WATCH_QUIET_MS).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_log.h"
#include "store_int.h"
#include "lt_time.h"

#define NEXT_TIMEOUT_MS LT_CONN_WATCH_POLL_MS /* the longest a stop waits (lt_conn.h) */
#define RETRY_PAUSE_MS 1000
#define REDELIVER_FIRST_MS 250
#define BATCH_MAX 128      /* live changes handed over together */
#define READERS 4          /* threads reading one batch's manifests (the watcher's included) */
#define QUIET_MAX_MS 60000 /* the longest quiet spell of initial values a watcher is given */

/* An app whose change the callback refused: delivered again at due. */
typedef struct {
    char lattice[LT_STORE_MAX_NAME + 1];
    char name[LT_STORE_MAX_NAME + 1];
    int64_t due;   /* monotonic ms */
    int64_t pause; /* the pause before this attempt */
} redelivery;

struct lt_store_watch {
    lt_store *s;
    char filter[LT__KEY_MAX];
    lt_store_watch_fn fn;
    void *arg;
    pthread_t thread;
    atomic_bool stop;
    redelivery *redo; /* watcher thread only */
    size_t n_redo, cap_redo;
};

static long redo_find(const lt_store_watch *wa, const char *lattice, const char *name)
{
    for (size_t i = 0; i < wa->n_redo; i++)
        if (strcmp(wa->redo[i].lattice, lattice) == 0 && strcmp(wa->redo[i].name, name) == 0)
            return (long)i;
    return -1;
}

static void redo_forget(lt_store_watch *wa, const char *lattice, const char *name)
{
    long i = redo_find(wa, lattice, name);

    if (i >= 0)
        wa->redo[i] = wa->redo[--wa->n_redo];
}

/* Ask for lattice/name again after the next pause (doubling from the last one). */
static void redo_add(lt_store_watch *wa, const char *lattice, const char *name, int64_t last)
{
    int64_t pause = last <= 0 ? REDELIVER_FIRST_MS : last * 2;
    long i = redo_find(wa, lattice, name);

    if (pause > LT_STORE_WATCH_RETRY_MAX_MS)
        pause = LT_STORE_WATCH_RETRY_MAX_MS;
    if (i < 0) {
        if (wa->n_redo == wa->cap_redo) {
            size_t ncap = wa->cap_redo ? wa->cap_redo * 2 : 8;
            redelivery *p = lt_realloc(wa->redo, ncap * sizeof(*p));

            if (p == NULL) {
                LT_ERROR("store", "watch: out of memory: %s/%s will not be retried", lattice, name);
                return;
            }
            wa->redo = p;
            wa->cap_redo = ncap;
        }
        i = (long)wa->n_redo++;
        snprintf(wa->redo[i].lattice, sizeof(wa->redo[i].lattice), "%s", lattice);
        snprintf(wa->redo[i].name, sizeof(wa->redo[i].name), "%s", name);
    }
    wa->redo[i].pause = pause;
    wa->redo[i].due = lt_time_mono_ms() + pause;
}

/* Hand one change to the callback; a refusal schedules a redelivery. */
static void hand(lt_store_watch *wa, lt_store_change_kind kind, const char *lattice,
                 const char *name, lt_store_app *app, int64_t last_pause)
{
    redo_forget(wa, lattice, name);
    if (wa->fn(kind, lattice, name, app, wa->arg) != LT_OK)
        redo_add(wa, lattice, name, last_pause);
}

/* Deliver what is due again, freshly read. */
static void redeliver_due(lt_store_watch *wa)
{
    int64_t now = lt_time_mono_ms();

    for (size_t i = 0; i < wa->n_redo && !atomic_load(&wa->stop);) {
        redelivery r = wa->redo[i];
        lt_store_app *app = NULL;
        lt_status st;

        if (r.due > now) {
            i++;
            continue;
        }
        st = lt_store_app_get_fresh(wa->s, r.lattice, r.name, &app); /* not a view behind us */
        if (st == LT_ERR_NOT_FOUND)
            hand(wa, LT_STORE_CHANGE_DELETE, r.lattice, r.name, NULL, r.pause);
        else if (st == LT_OK)
            hand(wa, LT_STORE_CHANGE_PUT, r.lattice, r.name, app, r.pause);
        else
            redo_add(wa, r.lattice, r.name, r.pause); /* cannot even read the index: later */
        i = 0;                                        /* the list changed under us */
        now = lt_time_mono_ms();
    }
}

/* How long kvWatcher_Next may wait: until the next redelivery at most. */
static int64_t next_wait(const lt_store_watch *wa)
{
    int64_t wait = NEXT_TIMEOUT_MS, now = lt_time_mono_ms();

    for (size_t i = 0; i < wa->n_redo; i++)
        if (wa->redo[i].due - now < wait)
            wait = wa->redo[i].due - now;
    return wait > 1 ? wait : 1;
}

/* "app.{lattice}.{name}" -> lattice and name in caller buffers; false if not an index key. */
static bool split_key(const char *key, char *lattice, char *name)
{
    const char *l, *dot;

    if (strncmp(key, "app.", 4) != 0)
        return false;
    l = key + 4;
    dot = strchr(l, '.');
    if (dot == NULL || (size_t)(dot - l) > LT_STORE_MAX_NAME || strlen(dot + 1) > LT_STORE_MAX_NAME)
        return false;
    memcpy(lattice, l, (size_t)(dot - l));
    lattice[dot - l] = '\0';
    memcpy(name, dot + 1, strlen(dot + 1) + 1); /* length checked above */
    return lt_store_name_is_valid(lattice) && lt_store_name_is_valid(name);
}

/* One change of a batch: what hand() gets. */
typedef struct {
    lt_store_change_kind kind;
    char lattice[LT_STORE_MAX_NAME + 1], name[LT_STORE_MAX_NAME + 1];
    lt_store_app *app;
} change;

/* e as a change; false for a key that is no index or an index that cannot be read. */
static bool change_of(kvEntry *e, change *c)
{
    kvOperation op = kvEntry_Operation(e);

    c->app = NULL;
    if (!split_key(kvEntry_Key(e), c->lattice, c->name))
        return false;
    if (op == kvOp_Delete || op == kvOp_Purge) {
        c->kind = LT_STORE_CHANGE_DELETE;
        return true;
    }
    if (lt__store_index_decode(c->lattice, c->name, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e),
                               &c->app) != LT_OK) {
        LT_WARN("store", "watch: skipping unreadable index %s: %s", kvEntry_Key(e),
                lt_error_message());
        return false;
    }
    c->app->revision = kvEntry_Revision(e);
    c->kind = LT_STORE_CHANGE_PUT;
    return true;
}

static void deliver(lt_store_watch *wa, kvEntry *e)
{
    change c;

    if (change_of(e, &c))
        hand(wa, c.kind, c.lattice, c.name, c.app, 0);
}

/* The deployed manifests of a batch, read by several threads. */
typedef struct {
    lt_store *s;
    change *c;
    size_t n;
    atomic_size_t next;
    const atomic_bool *stop; /* the watch's: stopping reads nothing more */
} read_ahead;

static void *read_ahead_main(void *p)
{
    read_ahead *ra = p;
    size_t i;

    while (!atomic_load(ra->stop) && (i = atomic_fetch_add(&ra->next, 1)) < ra->n) {
        lt_store_app *a = ra->c[i].app;
        char *json = NULL;
        size_t len = 0;

        if (a == NULL || a->deployed_version == NULL)
            continue;
        if (lt_store_manifest_get(ra->s, a, a->deployed_version, &json, &len) == LT_OK) {
            a->deployed_manifest = json; /* else the callback reads it and says why it cannot */
            a->deployed_manifest_len = len;
        }
    }
    return NULL;
}

static void read_batch(lt_store_watch *wa, change *c, size_t n)
{
    read_ahead ra = { .s = wa->s, .c = c, .n = n, .stop = &wa->stop };
    pthread_t th[READERS - 1];
    size_t want = 0, started = 0;

    for (size_t i = 0; i < n; i++)
        want += c[i].app != NULL && c[i].app->deployed_version != NULL;
    if (want < 2 || atomic_load(&wa->stop))
        return; /* one read: nothing to overlap */
    atomic_init(&ra.next, 0);
    while (started < READERS - 1 && started + 1 < want &&
           pthread_create(&th[started], NULL, read_ahead_main, &ra) == 0)
        started++;
    read_ahead_main(&ra);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
}

/* A live change e and whatever else has arrived (up to BATCH_MAX): manifests read, then handed
 * over in KV order. Returns the watcher's status when it failed while gathering. */
static natsStatus deliver_batch(lt_store_watch *wa, kvWatcher *w, kvEntry *e)
{
    change c[BATCH_MAX];
    size_t n = 0;
    natsStatus ns = NATS_OK;

    while (e != NULL) {
        if (change_of(e, &c[n]))
            n++;
        kvEntry_Destroy(e);
        e = NULL;
        if (n == BATCH_MAX || atomic_load(&wa->stop) || (ns = kvWatcher_Next(&e, w, 1)) != NATS_OK)
            break;
    }
    if (ns == NATS_TIMEOUT)
        ns = NATS_OK; /* nothing more waiting */
    read_batch(wa, c, n);
    for (size_t i = 0; i < n; i++) {
        if (atomic_load(&wa->stop))
            lt_store_app_free(c[i].app);
        else
            hand(wa, c[i].kind, c[i].lattice, c[i].name, c[i].app, 0);
    }
    return ns;
}

static void pause_ms(lt_store_watch *wa, int ms)
{
    struct timespec ts = { 0, 50 * 1000000L };

    for (int waited = 0; waited < ms && !atomic_load(&wa->stop); waited += 50)
        nanosleep(&ts, NULL);
}

/* Follow one watcher until it fails or we stop. *quiet_ms: how long its initial values may go
 * without a delivery and without the end marker before it is replaced; doubled for the next
 * watcher when it runs out (a server that is only slow gets more time each round, up to
 * QUIET_MAX_MS), back to LT_STORE_WATCH_QUIET_MS at the marker. */
static void follow(lt_store_watch *wa, kvWatcher *w, int *quiet_ms)
{
    bool live = false;                 /* past the initial values */
    int64_t quiet = lt_time_mono_ms(); /* the last delivery while not live */

    while (!atomic_load(&wa->stop)) {
        kvEntry *e = NULL;
        natsStatus ns = kvWatcher_Next(&e, w, next_wait(wa));

        if (atomic_load(&wa->stop)) {
            kvEntry_Destroy(e);
            return;
        }
        if (ns == NATS_TIMEOUT && !live && lt_time_mono_ms() - quiet >= *quiet_ms) {
            /* Not "done": the scheduler would stop the instances of every app not delivered
             * yet. A new watcher, created while nothing is written, gets its marker. */
            LT_WARN("store",
                    "watch %s: no end of its initial values after %d ms without a change; "
                    "watching again",
                    wa->filter, *quiet_ms);
            *quiet_ms = *quiet_ms < QUIET_MAX_MS / 2 ? 2 * *quiet_ms : QUIET_MAX_MS;
            return;
        }
        if (ns == NATS_TIMEOUT) {
            redeliver_due(wa);
            continue;
        }
        if (ns != NATS_OK) {
            LT_WARN("store", "watch %s: %s; re-subscribing", wa->filter, natsStatus_GetText(ns));
            return;
        }
        if (e == NULL) {
            LT_IGNORE(wa->fn(LT_STORE_CHANGE_INITIAL_DONE, NULL, NULL, NULL, wa->arg));
            live = true;
            *quiet_ms = LT_STORE_WATCH_QUIET_MS;
            continue;
        }
        if (live) {
            ns = deliver_batch(wa, w, e);
        } else {
            deliver(wa, e);
            kvEntry_Destroy(e);
            quiet = lt_time_mono_ms(); /* after fn: a slow callback is no quiet spell */
        }
        redeliver_due(wa);
        if (ns != NATS_OK) {
            if (!atomic_load(&wa->stop))
                LT_WARN("store", "watch %s: %s; re-subscribing", wa->filter,
                        natsStatus_GetText(ns));
            return;
        }
    }
}

static void *watch_main(void *p)
{
    lt_store_watch *wa = p;
    int quiet_ms = LT_STORE_WATCH_QUIET_MS;

    while (!atomic_load(&wa->stop)) {
        kvWatcher *w = NULL;
        natsStatus ns;

        ns = kvStore_Watch(&w, wa->s->manifests, wa->filter, NULL);
        if (ns == NATS_OK) /* what an earlier disconnection parked can go now (lt_conn.h) */
            lt_conn_parked_sweep(wa->s->nc, LT_CONN_SETTLE_MS);
        if (ns != NATS_OK) {
            if (!atomic_load(&wa->stop))
                LT_WARN("store", "cannot watch %s: %s", wa->filter, natsStatus_GetText(ns));
            pause_ms(wa, RETRY_PAUSE_MS);
            continue;
        }
        follow(wa, w, &quiet_ms);
        lt_conn_watcher_free(wa->s->nc, w,
                             LT_CONN_SETTLE_MS); /* once nats.c's reader is done with it */
        if (!atomic_load(&wa->stop))
            pause_ms(wa, RETRY_PAUSE_MS);
    }
    return NULL;
}

lt_status lt_store_watch_start(lt_store_watch **new_w, lt_store *s, const char *lattice,
                               lt_store_watch_fn fn, void *arg)
{
    lt_store_watch *wa;

    *new_w = NULL;
    if (lattice != NULL && !lt_store_name_is_valid(lattice))
        return LT_FAIL(LT_ERR_INVALID, "invalid lattice name");
    if ((wa = lt_calloc(1, sizeof(*wa))) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    wa->s = s;
    wa->fn = fn;
    wa->arg = arg;
    snprintf(wa->filter, sizeof(wa->filter), "app.%s.*", lattice != NULL ? lattice : "*");
    atomic_init(&wa->stop, false);
    if (pthread_create(&wa->thread, NULL, watch_main, wa) != 0) {
        lt_free(wa);
        return LT_FAIL(LT_ERR_NOMEM, "cannot start the watch thread");
    }
    *new_w = wa;
    return LT_OK;
}

void lt_store_watch_stop(lt_store_watch *wa)
{
    if (wa == NULL)
        return;
    atomic_store(&wa->stop, true); /* seen within NEXT_TIMEOUT_MS: the thread retires its watcher */
    pthread_join(wa->thread, NULL);
    lt_free(wa->redo);
    lt_free(wa);
}
