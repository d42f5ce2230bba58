/*
 * store_read_all.c - every current value of a KV bucket, read with a watcher until nats.c's
 * end-of-initial-values marker. A reading whose values go quiet without that marker (nats.c
 * derives it from pending counts that a write made while the watcher is created can upset:
 * LT_STORE_WATCH_QUIET_MS) is done again with a new watcher rather than taken as complete; so is
 * one that JetStream answered with an error (a stream a cluster is still placing, a consumer
 * lost to a leader change), after a pause.
 */
#include "lt_conn.h"
#include "lt_log.h"
#include "store_int.h"

#define REFUSED_PAUSE_MS 250 /**< before the reading after an error answer; doubles each time */

/* One reading: NATS_OK at the marker, NATS_TIMEOUT when the values went quiet without it, else
 * what creating or reading the watcher (*w: NULL when it was not created) failed with. */
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

/* Whether a reading that ended with s is done again (within tries and deadlines): no answer or
 * values gone quiet (timeout), an error answer (a JetStream API error: nats.c 3.4 gives
 * NATS_ERR for a stream not found, or one a cluster cannot serve yet), no JetStream responder
 * yet, or something not found. A closed connection, no memory or a bad argument is final. */
static bool read_again(natsStatus s)
{
    return s == NATS_TIMEOUT || s == NATS_ERR || s == NATS_NO_RESPONDERS || s == NATS_NOT_FOUND;
}

lt_status lt_store_kv_read_all(kvStore *kv, natsConnection *nc, const lt_store_read_opts *o,
                               lt_store_kv_entry_fn fn, void *arg, kvWatcher **keep, size_t *n)
{
    int tries = o->tries > 0 ? o->tries : 1;
    int wait_ms = o->wait_ms > 0 ? o->wait_ms : LT_STORE_WATCH_QUIET_MS;
    kvWatcher *w = NULL;
    natsStatus s = NATS_TIMEOUT;
    char before[LT__STORE_WHY_MAX], why[LT__STORE_WHY_MAX];
    lt_status st = LT_OK;

    if (keep != NULL)
        *keep = NULL;
    for (int i = 0; i < tries && read_again(s); i++) {
        if (i > 0) {
            bool had = w != NULL, quiet = had && s == NATS_TIMEOUT;
            int64_t pause =
                s == NATS_TIMEOUT ? 0 : (int64_t)REFUSED_PAUSE_MS << (i < 6 ? i - 1 : 5);

            /* once nats.c's reader is done with it, within the thread's deadline */
            lt_conn_watcher_free(nc, w, lt__store_wait_ms(LT_CONN_SETTLE_MS));
            w = NULL;
            /* Within the thread's deadline: no reading after it, and none after a watcher that
             * could not be created unless the pause and a whole JetStream wait are left, since
             * creating one may take that long again. */
            if (lt__store_out_of_time() ||
                (!had && lt__store_wait_ms(LT__JS_WAIT_MS + pause) < LT__JS_WAIT_MS + pause))
                break;
            if (quiet)
                LT_WARN("store", "reading %s: no end marker after %zu value(s); reading again",
                        o->what, *n);
            else
                LT_WARN("store", "reading %s: %s%s; trying again", o->what,
                        had ? "" : "no watcher: ", why);
            if (pause > 0)
                nats_Sleep(pause);
            if (quiet)
                wait_ms *= 2; /* a server that is only slow gets longer each time */
            if (o->restart != NULL)
                o->restart(arg);
        }
        lt__store_nats_last(before, sizeof(before));
        s = read_once(kv, o, wait_ms, fn, arg, &w, n);
        lt__store_nats_why(s, before, why, sizeof(why)); /* before any other nats.c call */
    }
    if (s == NATS_OK && keep != NULL) {
        *keep = w; /* it goes on with every later change */
        w = NULL;
    }
    if (s != NATS_OK)
        st = LT_FAIL(lt_conn_status(s), "reading %s: %s%s", o->what,
                     w == NULL && s != NATS_TIMEOUT ? "no watcher: " : "", why);
    lt_conn_watcher_free(nc, w, lt__store_wait_ms(LT_CONN_SETTLE_MS));
    return st;
}
