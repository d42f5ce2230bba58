/*
 * store_read_all.c - every current value of a KV bucket, read with a watcher until nats.c's
 * end-of-initial-values marker. A reading whose values go quiet without that marker (nats.c
 * derives it from pending counts that a write made while the watcher is created can upset:
 * LT_STORE_WATCH_QUIET_MS) is done again with a new watcher rather than taken as complete.
 */
#include <time.h>

#include "lt_conn.h"
#include "lt_log.h"
#include "store_int.h"

/* One reading: NATS_OK at the marker, NATS_TIMEOUT when the values went quiet without it. */
static natsStatus read_once(kvStore *kv, const lt_store_read_opts *o, int wait_ms,
                            lt_store_kv_entry_fn fn, void *arg, kvWatcher **w, size_t *n)
{
    kvWatchOptions wo;
    natsStatus s;

    *n = 0;
    kvWatchOptions_Init(&wo);
    wo.IgnoreDeletes = o->ignore_deletes;
    s = o->filter != NULL ? kvStore_Watch(w, kv, o->filter, &wo) : kvStore_WatchAll(w, kv, &wo);
    while (s == NATS_OK) {
        kvEntry *e = NULL;

        s = kvWatcher_Next(&e, *w, lt__store_wait_ms(wait_ms));
        if (s != NATS_OK || e == NULL)
            break;
        fn(e, arg);
        kvEntry_Destroy(e);
        (*n)++;
    }
    return s;
}

/* Whether a reading that ended with s is done again (within tries and deadlines): values that
 * went quiet without the marker, or a watcher JetStream did not create (w NULL) for a reason that
 * can pass: no answer, an error answer (a stream a cluster is still placing, e.g.), no
 * JetStream responder yet, or a stream not found yet. */
static bool read_again(natsStatus s, const kvWatcher *w)
{
    if (s == NATS_TIMEOUT)
        return true;
    return w == NULL && (s == NATS_ERR || s == NATS_NO_RESPONDERS || s == NATS_NOT_FOUND);
}

/* Pause before another watcher after one JetStream refused at once (try: 1, 2...): 250 ms,
 * 500 ms... within the thread's deadline. */
static void pause_before(int try)
{
    int64_t ms = lt__store_wait_ms(250 << (try < 6 ? try - 1 : 5));
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    if (ms > 0)
        nanosleep(&ts, NULL);
}

lt_status lt_store_kv_read_all(kvStore *kv, natsConnection *nc, const lt_store_read_opts *o,
                               lt_store_kv_entry_fn fn, void *arg, kvWatcher **keep, size_t *n)
{
    int tries = o->tries > 0 ? o->tries : 1;
    int wait_ms = o->wait_ms > 0 ? o->wait_ms : LT_STORE_WATCH_QUIET_MS;
    kvWatcher *w = NULL;
    natsStatus s = NATS_TIMEOUT;

    if (keep != NULL)
        *keep = NULL;
    for (int i = 0; i < tries && read_again(s, w); i++) {
        if (i > 0) {
            bool had = w != NULL, refused = !had && s != NATS_TIMEOUT;

            /* once nats.c's reader is done with it, within the thread's deadline */
            lt_conn_watcher_free(nc, w, lt__store_wait_ms(LT_CONN_SETTLE_MS));
            w = NULL;
            /* Within the thread's deadline: no reading after it, and none after a watcher that
             * could not be created (JetStream did not answer) unless a whole JetStream wait is
             * left, since creating one may take that long again. */
            if (lt__store_out_of_time() ||
                (!had && lt__store_wait_ms(LT__JS_WAIT_MS) < LT__JS_WAIT_MS))
                break;
            if (had)
                LT_WARN("store", "reading %s: no end marker after %zu value(s); reading again",
                        o->what, *n);
            else
                LT_WARN("store", "reading %s: no watcher: %s; trying again", o->what,
                        lt__store_nats_text(s));
            if (refused)
                pause_before(i);
            wait_ms *= 2; /* a server that is only slow gets longer each time */
            if (o->restart != NULL)
                o->restart(arg);
        }
        s = read_once(kv, o, wait_ms, fn, arg, &w, n);
    }
    if (s == NATS_OK && keep != NULL) {
        *keep = w; /* it goes on with every later change */
        w = NULL;
    }
    lt_conn_watcher_free(nc, w, lt__store_wait_ms(LT_CONN_SETTLE_MS));
    if (s != NATS_OK)
        return LT_FAIL(lt_conn_status(s), "reading %s: %s", o->what, lt__store_nats_text(s));
    return LT_OK;
}
