/*
 * store_watch.c - a thread that follows the app index keys of one lattice (or
 * all) with a KV watcher and hands each change to a callback. On a watcher
 * error it re-subscribes after a pause and delivers the current state again
 * (consumers are level-triggered, so repeats are harmless).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "lt_alloc.h"
#include "lt_log.h"
#include "store_int.h"

#define NEXT_TIMEOUT_MS 1000
#define RETRY_PAUSE_MS 1000

struct lt_store_watch {
    lt_store *s;
    char filter[LT__KEY_MAX];
    lt_store_watch_fn fn;
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu; /* guards w against lt_store_watch_stop */
    kvWatcher *w;
    atomic_bool stop;
};

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
    strcpy(name, dot + 1); /* length checked above */
    return lt_store_name_is_valid(lattice) && lt_store_name_is_valid(name);
}

static void deliver(lt_store_watch *wa, kvEntry *e)
{
    char lattice[LT_STORE_MAX_NAME + 1], name[LT_STORE_MAX_NAME + 1];
    lt_store_app *app = NULL;
    kvOperation op = kvEntry_Operation(e);

    if (!split_key(kvEntry_Key(e), lattice, name))
        return;
    if (op == kvOp_Delete || op == kvOp_Purge) {
        wa->fn(LT_STORE_CHANGE_DELETE, lattice, name, NULL, wa->arg);
        return;
    }
    if (lt__index_decode(lattice, name, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &app) !=
        LT_OK) {
        LT_WARN("store", "watch: skipping unreadable index %s: %s", kvEntry_Key(e),
                lt_error_message());
        return;
    }
    app->revision = kvEntry_Revision(e);
    wa->fn(LT_STORE_CHANGE_PUT, lattice, name, app, wa->arg);
}

static void pause_ms(lt_store_watch *wa, int ms)
{
    struct timespec ts = { 0, 50 * 1000000L };

    for (int waited = 0; waited < ms && !atomic_load(&wa->stop); waited += 50)
        nanosleep(&ts, NULL);
}

/* Follow one watcher until it fails or we stop. */
static void follow(lt_store_watch *wa, kvWatcher *w)
{
    while (!atomic_load(&wa->stop)) {
        kvEntry *e = NULL;
        natsStatus ns = kvWatcher_Next(&e, w, NEXT_TIMEOUT_MS);

        if (atomic_load(&wa->stop)) {
            kvEntry_Destroy(e);
            return;
        }
        if (ns == NATS_TIMEOUT)
            continue;
        if (ns != NATS_OK) {
            LT_WARN("store", "watch %s: %s; re-subscribing", wa->filter, natsStatus_GetText(ns));
            return;
        }
        if (e == NULL) {
            wa->fn(LT_STORE_CHANGE_INITIAL_DONE, NULL, NULL, NULL, wa->arg);
            continue;
        }
        deliver(wa, e);
        kvEntry_Destroy(e);
    }
}

static void *watch_main(void *p)
{
    lt_store_watch *wa = p;

    while (!atomic_load(&wa->stop)) {
        kvWatcher *w = NULL;
        natsStatus ns;

        pthread_mutex_lock(&wa->mu);
        ns = atomic_load(&wa->stop) ? NATS_ILLEGAL_STATE
                                    : kvStore_Watch(&w, wa->s->manifests, wa->filter, NULL);
        wa->w = w;
        pthread_mutex_unlock(&wa->mu);
        if (ns != NATS_OK) {
            if (!atomic_load(&wa->stop))
                LT_WARN("store", "cannot watch %s: %s", wa->filter, natsStatus_GetText(ns));
            pause_ms(wa, RETRY_PAUSE_MS);
            continue;
        }
        follow(wa, w);
        pthread_mutex_lock(&wa->mu);
        wa->w = NULL;
        pthread_mutex_unlock(&wa->mu);
        kvWatcher_Destroy(w);
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
    pthread_mutex_init(&wa->mu, NULL);
    if (pthread_create(&wa->thread, NULL, watch_main, wa) != 0) {
        pthread_mutex_destroy(&wa->mu);
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
    atomic_store(&wa->stop, true);
    pthread_mutex_lock(&wa->mu);
    if (wa->w != NULL)
        kvWatcher_Stop(wa->w);
    pthread_mutex_unlock(&wa->mu);
    pthread_join(wa->thread, NULL);
    pthread_mutex_destroy(&wa->mu);
    lt_free(wa);
}
