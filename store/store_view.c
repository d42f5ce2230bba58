/*
 * store_view.c - keeps the in-memory view of the store: one thread per bucket
 * follows a KV watch of the whole bucket and applies every value (and delete
 * marker) to the view, newest revision per key wins, so writes this replica
 * applies at once (read-your-writes) and their later delivery do not fight.
 * A follower is usable once its initial values are all in and while its watch
 * and the connection are unbroken; after a break it restarts the watch and
 * drops what the new watch did not deliver (see docs/internals/store.md).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_log.h"
#include "lt_loop.h"
#include "store_view_int.h"

#define NEXT_TIMEOUT_MS LT_CONN_WATCH_POLL_MS /* how often a quiet follower looks around */
#define RETRY_PAUSE_MS 200                    /* between two watch starts */
#define BUCKET_CHECK_MS 2000 /* how often a follower checks that its bucket was not replaced */

/* ---- the tables ------------------------------------------------------------------------------ */

lt__store_vlattice *lt__store_view_lattice(lt__store_view *v, const char *lattice)
{
    return lt_map_get(&v->lattices, lattice);
}

static lt__store_vlattice *lattice_add(lt__store_view *v, const char *lattice)
{
    lt__store_vlattice *l = lt_map_get(&v->lattices, lattice);

    if (l != NULL)
        return l;
    if ((l = lt_calloc(1, sizeof(*l))) == NULL || (l->name = lt_strdup(lattice)) == NULL ||
        lt_map_add(&v->lattices, l->name, l) != LT_OK) {
        if (l != NULL)
            lt_free(l->name);
        lt_free(l);
        return NULL;
    }
    return l;
}

static void owners_remove(lt__store_vlattice *l, const lt_store_app *app)
{
    for (size_t i = 0; app != NULL && app->deployed_version != NULL && i < app->deployed_id_count;
         i++) {
        lt__store_vowners *o = lt_map_get(&l->owners, app->deployed_ids[i]);

        for (size_t k = 0; o != NULL && k < o->n; k++) {
            if (strcmp(o->apps[k], app->name) != 0)
                continue;
            lt_free(o->apps[k]);
            o->apps[k] = o->apps[--o->n];
            break;
        }
        if (o != NULL && o->n == 0) {
            lt_map_del(&l->owners, o->id);
            lt_free(o->apps);
            lt_free(o->id);
            lt_free(o);
        }
    }
}

static void owners_add(lt__store_vlattice *l, const lt_store_app *app)
{
    for (size_t i = 0; app != NULL && app->deployed_version != NULL && i < app->deployed_id_count;
         i++) {
        const char *id = app->deployed_ids[i];
        lt__store_vowners *o = lt_map_get(&l->owners, id);
        char *name = NULL;

        if (o == NULL) {
            if ((o = lt_calloc(1, sizeof(*o))) == NULL || (o->id = lt_strdup(id)) == NULL ||
                lt_map_add(&l->owners, o->id, o) != LT_OK)
                goto nomem;
        }
        if (o->n == o->cap) {
            size_t ncap = o->cap ? o->cap * 2 : 2;
            char **p = lt_realloc(o->apps, ncap * sizeof(*p));

            if (p == NULL)
                goto nomem;
            o->apps = p;
            o->cap = ncap;
        }
        if ((name = lt_strdup(app->name)) == NULL)
            goto nomem;
        o->apps[o->n++] = name;
        continue;
    nomem: /* the id map misses an owner: the deploy check may let a duplicate id through */
        LT_ERROR("store", "view: out of memory recording component id %s of %s", id, app->name);
        if (o != NULL && o->n == 0 && lt_map_get(&l->owners, id) != o) {
            lt_free(o->id);
            lt_free(o);
        }
    }
}

/* Apply an index (app owned; NULL: deleted) at rev; an older revision changes nothing, except
 * for the first value of a key in a generation started on a recreated bucket (reset). */
static void apply_index(lt__store_view *v, unsigned gen, bool reset, const char *lattice,
                        const char *name, lt_store_app *app, uint64_t rev)
{
    lt__store_vlattice *l = lattice_add(v, lattice);
    lt__store_vindex *e = l != NULL ? lt_map_get(&l->apps, name) : NULL;

    if (l != NULL && e == NULL) {
        if ((e = lt_calloc(1, sizeof(*e))) == NULL || (e->name = lt_strdup(name)) == NULL ||
            lt_map_add(&l->apps, e->name, e) != LT_OK) {
            if (e != NULL)
                lt_free(e->name);
            lt_free(e);
            e = NULL;
        }
    }
    if (e == NULL) {
        LT_ERROR("store", "view: out of memory keeping %s/%s", lattice, name);
        lt_store_app_free(app);
        return;
    }
    if (e->gen == gen || !reset) {
        if (e->rev != 0 && rev <= e->rev) {
            e->gen = gen;
            lt_store_app_free(app); /* already as new (our own write) or newer */
            return;
        }
    }
    e->gen = gen;
    owners_remove(l, e->app);
    lt_store_app_free(e->app);
    e->app = app;
    e->rev = rev;
    owners_add(l, app);
    l->changed = ++v->changes;
}

static void apply_status(lt__store_view *v, unsigned gen, bool reset, const char *lattice,
                         const char *name, char *json, size_t len, uint64_t rev)
{
    lt__store_vlattice *l = lattice_add(v, lattice);
    lt__store_vstatus *e = l != NULL ? lt_map_get(&l->statuses, name) : NULL;

    if (l != NULL && e == NULL) {
        if ((e = lt_calloc(1, sizeof(*e))) == NULL || (e->name = lt_strdup(name)) == NULL ||
            lt_map_add(&l->statuses, e->name, e) != LT_OK) {
            if (e != NULL)
                lt_free(e->name);
            lt_free(e);
            e = NULL;
        }
    }
    if (e == NULL) {
        LT_ERROR("store", "view: out of memory keeping the status of %s/%s", lattice, name);
        lt_free(json);
        return;
    }
    if ((e->gen == gen || !reset) && e->rev != 0 && rev <= e->rev) {
        e->gen = gen;
        lt_free(json);
        return;
    }
    e->gen = gen;
    lt_free(e->json);
    e->json = json;
    e->len = len;
    e->rev = rev;
    l->changed = ++v->changes;
}

static void manifest_free(lt__store_view *v, lt__store_vmanifest *m)
{
    v->manifest_bytes -= m->len;
    lt_free(m->key);
    lt_free(m->json);
    lt_free(m);
}

/* Keep a manifest ("{app}.{id}" in appid) within the budget, or forget it (json NULL). */
static void apply_manifest(lt__store_view *v, unsigned gen, const char *lattice, const char *appid,
                           const char *json, size_t len)
{
    lt__store_vlattice *l =
        json != NULL ? lattice_add(v, lattice) : lt__store_view_lattice(v, lattice);
    lt__store_vmanifest *m = l != NULL ? lt_map_get(&l->manifests, appid) : NULL;

    if (json == NULL) {
        if (m != NULL) {
            lt_map_del(&l->manifests, appid);
            manifest_free(v, m);
        }
        return;
    }
    if (m != NULL && m->len == len && memcmp(m->json, json, len) == 0) {
        m->gen = gen; /* the same value again */
        return;
    }
    if (m != NULL) { /* replaced (put --replace of an undeployed version, a restored bucket) */
        lt_map_del(&l->manifests, appid);
        manifest_free(v, m);
    }
    if (v->manifest_bytes + len > v->manifest_budget) {
        if (!v->over_budget_logged)
            LT_WARN("store", "view: manifests over %zu bytes, the rest are read from KV",
                    v->manifest_budget);
        v->over_budget_logged = true;
        return;
    }
    if (l == NULL || (m = lt_calloc(1, sizeof(*m))) == NULL)
        return; /* read from KV */
    m->key = lt_strdup(appid);
    m->json = lt_strndup(json, len);
    m->len = len;
    m->gen = gen;
    v->manifest_bytes += len;
    if (m->key == NULL || m->json == NULL || lt_map_add(&l->manifests, m->key, m) != LT_OK)
        manifest_free(v, m);
}

/* Free what the map holds with fn after removing, from each lattice, entries of another gen. */
static void sweep(lt__store_view *v, const lt__store_follower *f)
{
    size_t li = 0;
    lt__store_vlattice *l;

    while ((l = lt_map_next(&v->lattices, &li)) != NULL) {
        for (size_t i = 0; i < l->apps.cap; i++) {
            lt__store_vindex *e = l->apps.slots[i].val;

            if (f->status || l->apps.slots[i].key == NULL || e->gen == f->gen)
                continue;
            lt_map_del(&l->apps, e->name);
            l->changed = ++v->changes;
            owners_remove(l, e->app);
            lt_store_app_free(e->app);
            lt_free(e->name);
            lt_free(e);
            i = (size_t)-1; /* slots moved: start over (rare: keys purged while away) */
        }
        for (size_t i = 0; i < l->manifests.cap; i++) {
            lt__store_vmanifest *m = l->manifests.slots[i].val;

            if (f->status || l->manifests.slots[i].key == NULL || m->gen == f->gen)
                continue;
            lt_map_del(&l->manifests, m->key);
            manifest_free(v, m);
            i = (size_t)-1;
        }
        for (size_t i = 0; i < l->statuses.cap; i++) {
            lt__store_vstatus *e = l->statuses.slots[i].val;

            if (!f->status || l->statuses.slots[i].key == NULL || e->gen == f->gen)
                continue;
            lt_map_del(&l->statuses, e->name);
            l->changed = ++v->changes;
            lt_free(e->json);
            lt_free(e->name);
            lt_free(e);
            i = (size_t)-1;
        }
    }
}

static void lattice_free(lt__store_view *v, lt__store_vlattice *l)
{
    void *p;
    size_t i = 0;

    while ((p = lt_map_next(&l->apps, &i)) != NULL) {
        lt__store_vindex *e = p;

        lt_store_app_free(e->app);
        lt_free(e->name);
        lt_free(e);
    }
    i = 0;
    while ((p = lt_map_next(&l->statuses, &i)) != NULL) {
        lt__store_vstatus *e = p;

        lt_free(e->json);
        lt_free(e->name);
        lt_free(e);
    }
    i = 0;
    while ((p = lt_map_next(&l->manifests, &i)) != NULL)
        manifest_free(v, p);
    i = 0;
    while ((p = lt_map_next(&l->owners, &i)) != NULL) {
        lt__store_vowners *o = p;

        for (size_t k = 0; k < o->n; k++)
            lt_free(o->apps[k]);
        lt_free(o->apps);
        lt_free(o->id);
        lt_free(o);
    }
    lt_map_cleanup(&l->apps);
    lt_map_cleanup(&l->statuses);
    lt_map_cleanup(&l->manifests);
    lt_map_cleanup(&l->owners);
    lt_free(l->name);
    lt_free(l);
}

/* ---- writes of this replica ------------------------------------------------------------------ */

void lt__store_view_put_index(lt_store *s, const char *lattice, const char *name,
                              const lt_store_app *app, uint64_t rev)
{
    lt__store_view *v = s->view;
    lt_store_app *copy = NULL;

    if (v == NULL || rev == 0)
        return;
    if (app != NULL && lt__store_app_dup(app, &copy) != LT_OK) {
        /* Cannot keep it: the view would be behind our own write until the watch brings it. */
        atomic_store(&v->fm.synced, false);
        return;
    }
    if (copy != NULL)
        copy->revision = rev;
    pthread_rwlock_wrlock(&v->lock);
    apply_index(v, v->fm.gen, false, lattice, name, copy, rev);
    pthread_rwlock_unlock(&v->lock);
}

void lt__store_view_put_status(lt_store *s, const char *lattice, const char *name, const char *json,
                               size_t len, uint64_t rev)
{
    lt__store_view *v = s->view;
    char *copy = NULL;

    if (v == NULL || rev == 0)
        return;
    if (json != NULL && (copy = lt_strndup(json, len)) == NULL) {
        atomic_store(&v->fs.synced, false);
        return;
    }
    pthread_rwlock_wrlock(&v->lock);
    apply_status(v, v->fs.gen, false, lattice, name, copy, len, rev);
    pthread_rwlock_unlock(&v->lock);
}

/* ---- the followers --------------------------------------------------------------------------- */

/* The connection's reconnect count, or UINT64_MAX while it is not connected. */
static uint64_t conn_epoch(natsConnection *nc)
{
    natsStatistics *stats = NULL;
    uint64_t reconnects = UINT64_MAX;

    if (nc == NULL)
        return 0;
    if (natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED ||
        natsStatistics_Create(&stats) != NATS_OK)
        return UINT64_MAX;
    if (natsConnection_GetStats(nc, stats) != NATS_OK ||
        natsStatistics_GetCounts(stats, NULL, NULL, NULL, NULL, &reconnects) != NATS_OK)
        reconnects = UINT64_MAX;
    natsStatistics_Destroy(stats);
    return reconnects;
}

bool lt__store_view_usable(lt__store_follower *f)
{
    return atomic_load(&f->synced) && conn_epoch(f->v->nc) == atomic_load(&f->epoch);
}

/* Split "a.b" (the first dot) into caller buffers of LT_STORE_MAX_NAME + 1; false if malformed. */
static bool split2(const char *s, char *a, char *b, size_t bcap)
{
    const char *dot = strchr(s, '.');

    if (dot == NULL || (size_t)(dot - s) > LT_STORE_MAX_NAME || strlen(dot + 1) >= bcap)
        return false;
    memcpy(a, s, (size_t)(dot - s));
    a[dot - s] = '\0';
    memcpy(b, dot + 1, strlen(dot + 1) + 1);
    return lt_store_name_is_valid(a);
}

static void apply_entry(lt__store_follower *f, kvEntry *e)
{
    char lattice[LT_STORE_MAX_NAME + 1], rest[LT__KEY_MAX];
    const char *key = kvEntry_Key(e);
    kvOperation op = kvEntry_Operation(e);
    bool del = op == kvOp_Delete || op == kvOp_Purge;
    uint64_t rev = kvEntry_Revision(e);
    size_t len = (size_t)kvEntry_ValueLen(e);
    lt__store_view *v = f->v;
    lt_store_app *app = NULL;
    char *json = NULL;
    lt_status st;

    if (f->status) {
        if (!split2(key, lattice, rest, LT_STORE_MAX_NAME + 1) || !lt_store_name_is_valid(rest))
            return;
        if (!del && (json = lt_strndup(kvEntry_Value(e), len)) == NULL)
            goto nomem;
        pthread_rwlock_wrlock(&v->lock);
        apply_status(v, f->gen, f->reset_gen == f->gen, lattice, rest, json, len, rev);
        pthread_rwlock_unlock(&v->lock);
    } else if (strncmp(key, "app.", 4) == 0) {
        if (!split2(key + 4, lattice, rest, LT_STORE_MAX_NAME + 1) || !lt_store_name_is_valid(rest))
            return;
        st = del ? LT_OK : lt__store_index_decode(lattice, rest, kvEntry_Value(e), len, &app);
        if (st == LT_ERR_PARSE) /* absent, as lt_store_app_list skips it (a get reads KV) */
            LT_WARN("store", "view: unreadable index %s: %s", key, lt_error_message());
        else if (st != LT_OK)
            goto nomem;
        if (app != NULL)
            app->revision = rev;
        pthread_rwlock_wrlock(&v->lock);
        apply_index(v, f->gen, f->reset_gen == f->gen, lattice, rest, app, rev);
        pthread_rwlock_unlock(&v->lock);
    } else if (strncmp(key, "manifest.", 9) == 0) {
        if (!split2(key + 9, lattice, rest, sizeof(rest)))
            return;
        pthread_rwlock_wrlock(&v->lock);
        apply_manifest(v, f->gen, lattice, rest, del ? NULL : kvEntry_Value(e), len);
        pthread_rwlock_unlock(&v->lock);
    }
    return;
nomem: /* the view would miss this value: stop using it until a fresh watch */
    LT_ERROR("store", "view: out of memory applying %s; resyncing", key);
    atomic_store(&f->synced, false);
}

static void pause_ms(lt__store_view *v, int ms)
{
    struct timespec ts = { 0, 20 * 1000000L };

    for (int waited = 0; waited < ms && !atomic_load(&v->stop); waited += 20)
        nanosleep(&ts, NULL);
}

/* The creation time (ns) of the bucket's stream; 0 when it cannot be read (or is gone). */
static int64_t bucket_created(lt__store_follower *f, jsCtx *js)
{
    char name[LT_STORE_MAX_NAME + 8];
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    int64_t created = 0;

    if (js == NULL)
        return 0;
    snprintf(name, sizeof(name), "KV_%s", kvStore_Bucket(f->kv));
    if (js_GetStreamInfo(&si, js, name, NULL, &jerr) == NATS_OK && si != NULL)
        created = si->Created;
    jsStreamInfo_Destroy(si);
    return created;
}

/* Was the bucket deleted and created again since the watch started (a restore from a backup)?
 * A watch on the old stream sees nothing of the new one, whose revisions start over. A bucket
 * that cannot be read now (gone, or the request failed) tells nothing yet. */
static bool bucket_replaced(lt__store_follower *f, jsCtx *js)
{
    int64_t now = bucket_created(f, js);

    if (now == 0 || now == f->created)
        return false;
    LT_WARN("store", "view: bucket %s was recreated; reading KV until the view is reloaded",
            kvStore_Bucket(f->kv));
    return true;
}

/* Follow one watch until it breaks, the connection reconnects, the bucket is replaced, or we
 * stop. */
static void follow(lt__store_follower *f, kvWatcher *w, uint64_t epoch, jsCtx *js)
{
    lt__store_view *v = f->v;
    int64_t next_check = lt_loop_now_ms() + BUCKET_CHECK_MS;

    while (!atomic_load(&v->stop)) {
        kvEntry *e = NULL;
        natsStatus ns = kvWatcher_Next(&e, w, NEXT_TIMEOUT_MS);

        if (lt_loop_now_ms() >= next_check) {
            next_check = lt_loop_now_ms() + BUCKET_CHECK_MS;
            if (bucket_replaced(f, js)) {
                atomic_store(&f->synced, false);
                f->replaced = true;
                kvEntry_Destroy(e);
                return;
            }
        }

        if (conn_epoch(v->nc) != epoch) { /* a reconnect may have lost deliveries: start over */
            atomic_store(&f->synced, false);
            kvEntry_Destroy(e);
            return;
        }
        if (ns == NATS_TIMEOUT)
            continue;
        if (ns != NATS_OK) {
            atomic_store(&f->synced, false);
            if (!atomic_load(&v->stop))
                LT_WARN("store", "view: watch of %s: %s; restarting",
                        f->status ? "statuses" : "indexes", natsStatus_GetText(ns));
            return;
        }
        while (e != NULL && atomic_load(&v->hold) && !atomic_load(&v->stop))
            pause_ms(v, 5);
        if (e != NULL) {
            apply_entry(f, e);
            kvEntry_Destroy(e);
            continue;
        }
        pthread_rwlock_wrlock(&v->lock); /* every current value is in: drop what is gone */
        sweep(v, f);
        pthread_rwlock_unlock(&v->lock);
        atomic_store(&f->synced, true);
        LT_DEBUG("store", "view: %s synced", f->status ? "statuses" : "indexes");
    }
}

static void *follower_main(void *p)
{
    lt__store_follower *f = p;
    lt__store_view *v = f->v;
    jsCtx *js = NULL;

    if (v->nc != NULL && natsConnection_JetStream(&js, v->nc, NULL) != NATS_OK)
        js = NULL; /* no check for a replaced bucket */
    while (!atomic_load(&v->stop)) {
        kvWatcher *w = NULL;
        uint64_t epoch = conn_epoch(v->nc);
        natsStatus ns = NATS_CONNECTION_CLOSED;

        if (epoch != UINT64_MAX) {
            int64_t created = bucket_created(f, js);

            pthread_rwlock_wrlock(&v->lock);
            f->gen++;
            if (f->replaced || (f->created != 0 && created != f->created))
                f->reset_gen = f->gen;
            f->replaced = false;
            f->created = created;
            pthread_rwlock_unlock(&v->lock);
            atomic_store(&f->epoch, epoch);
            ns = atomic_load(&v->stop) ? NATS_ILLEGAL_STATE : kvStore_WatchAll(&w, f->kv, NULL);
            if (ns == NATS_OK) /* what an earlier disconnection parked can go now (lt_conn.h) */
                lt_conn_parked_sweep(v->nc, LT_CONN_SETTLE_MS);
        }
        if (ns == NATS_OK)
            follow(f, w, epoch, js);
        atomic_store(&f->synced, false);
        lt_conn_watcher_free(
            v->nc, w, LT_CONN_SETTLE_MS); /* once nats.c's reader is done with it (lt_conn.h) */
        if (!atomic_load(&v->stop))
            pause_ms(v, RETRY_PAUSE_MS);
    }
    jsCtx_Destroy(js);
    return NULL;
}

void lt__store_view_hold(lt_store *s, bool on)
{
    if (s->view != NULL)
        atomic_store(&s->view->hold, on);
}

/* v->stop is set: the follower sees it within NEXT_TIMEOUT_MS and retires its watcher itself
 * (never stopped from here: LT_CONN_WATCH_POLL_MS in lt_conn.h). */
static void follower_stop(lt__store_follower *f)
{
    if (!f->started)
        return;
    pthread_join(f->thread, NULL);
    f->started = false;
}

void lt__store_view_free(lt__store_view *v)
{
    void *l;
    size_t i = 0;

    if (v == NULL)
        return;
    atomic_store(&v->stop, true);
    follower_stop(&v->fm);
    follower_stop(&v->fs);
    while ((l = lt_map_next(&v->lattices, &i)) != NULL)
        lattice_free(v, l);
    lt_map_cleanup(&v->lattices);
    pthread_rwlock_destroy(&v->lock);
    lt_free(v);
}

static lt_status follower_start(lt__store_view *v, lt__store_follower *f, kvStore *kv, bool status)
{
    f->v = v;
    f->kv = kv;
    f->status = status;
    if (pthread_create(&f->thread, NULL, follower_main, f) != 0)
        return LT_FAIL(LT_ERR_NOMEM, "cannot start the view's watch thread");
    f->started = true;
    return LT_OK;
}

lt_status lt_store_view_start(lt_store *s, natsConnection *nc)
{
    lt__store_view *v;
    lt_status st;

    if (s->view != NULL)
        return LT_FAIL(LT_ERR_STATE, "the view is already started");
    if ((v = lt_calloc(1, sizeof(*v))) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    pthread_rwlock_init(&v->lock, NULL);
    v->nc = nc;
    v->manifest_budget = s->view_manifest_bytes;
    if ((st = follower_start(v, &v->fm, s->manifests, false)) != LT_OK ||
        (st = follower_start(v, &v->fs, s->status, true)) != LT_OK) {
        lt__store_view_free(v);
        return st;
    }
    s->view = v;
    return LT_OK;
}

void lt_store_view_stats(lt_store *s, lt_store_view_stat *out)
{
    lt__store_view *v = s->view;
    size_t i = 0;
    lt__store_vlattice *l;

    memset(out, 0, sizeof(*out));
    if (v == NULL)
        return;
    out->indexes_synced = lt__store_view_usable(&v->fm);
    out->statuses_synced = lt__store_view_usable(&v->fs);
    out->view_reads = atomic_load(&v->view_reads);
    out->kv_reads = atomic_load(&v->kv_reads);
    out->manifest_hits = atomic_load(&v->manifest_hits);
    out->manifest_misses = atomic_load(&v->manifest_misses);
    pthread_rwlock_rdlock(&v->lock);
    while ((l = lt_map_next(&v->lattices, &i)) != NULL) {
        out->apps += l->apps.count;
        out->statuses += l->statuses.count;
        out->manifests += l->manifests.count;
    }
    out->manifest_bytes = v->manifest_bytes;
    pthread_rwlock_unlock(&v->lock);
}

natsConnection *lt__store_view_conn(const lt_store *s)
{
    return s->view != NULL ? s->view->nc : NULL;
}
