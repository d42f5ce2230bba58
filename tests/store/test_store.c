/*
 * test_store.c - lt_store against a real nats-server: idempotent assets,
 * index and manifest round trips, compare-and-set under concurrent writers
 * (nothing lost) and when retries run out (nothing overwritten), deletes of
 * one version and of an app (keys removed, re-creation after a delete),
 * lattice isolation, caps, the watcher, status values, ULIDs and times.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "lt_alloc.h"
#include "lt_natsrv.h"
#include "lt_shimctl.h"
#include "lt_store.h"
#include "lt_time.h"
#include "lt_testutil.h"

static lt_natsrv *srv;
static natsConnection *nc;
static jsCtx *js;
static lt_store *store;

static void setup(void)
{
    lt_store_config cfg = { .memory = true };

    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, lt_natsrv_url(srv)), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    ck_assert_int_eq(lt_store_ensure_assets(js, &cfg), LT_OK);
    cfg.nc = nc;
    ck_assert_int_eq(lt_store_open(&store, js, &cfg), LT_OK);
}

static void teardown(void)
{
    lt_store_close(store);
    store = NULL;
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    srv = NULL;
}

/* ---- update callbacks used by the tests ---- */

typedef struct {
    const char *version;
    bool deploy;
    lt_store *s; /* whose caps apply (NULL: the fixture's) */
} put_arg;

static lt_status cb_put(lt_store_app *app, const char *new_key, lt_store_decision *d, void *arg)
{
    put_arg *a = arg;
    lt_status st;

    *d = LT_STORE_WRITE;
    if (lt_store_app_find(app, a->version) >= 0)
        return LT_ERR_STATE;
    st = lt_store_app_add_version(app, a->version, new_key, lt_store_now_ms());
    if (st == LT_OK)
        st = lt_store_app_add_event(a->s ? a->s : store, app, LT_STORE_EV_PUT, a->version,
                                    lt_store_now_ms());
    if (st == LT_OK && a->deploy) {
        const char *ids[] = { "comp-a" };

        st = lt_store_app_set_deployed(app, a->version, ids, 1);
    }
    return st;
}

static lt_status put_version(lt_store *s, const char *lattice, const char *app, const char *v,
                             const char *json)
{
    put_arg a = { v, false, s };
    lt_store_manifest m = { json, strlen(json) };

    return lt_store_update(s, lattice, app, &m, cb_put, &a, NULL);
}

static lt_status cb_del_version(lt_store_app *app, const char *new_key, lt_store_decision *d,
                                void *arg)
{
    long i = lt_store_app_find(app, arg);

    (void)new_key;
    if (i < 0) {
        *d = LT_STORE_SKIP;
        return LT_OK;
    }
    lt_store_app_remove_version(app, (size_t)i);
    if (app->version_count == 0)
        app->deleted = true;
    *d = LT_STORE_WRITE;
    return LT_OK;
}

static lt_status cb_delete_all(lt_store_app *app, const char *new_key, lt_store_decision *d,
                               void *arg)
{
    (void)new_key;
    (void)arg;
    app->deleted = true;
    *d = LT_STORE_WRITE;
    return LT_OK;
}

/* Count live manifest keys of an app with a raw KV scan. */
static int manifest_keys(const char *lattice, const char *app)
{
    kvStore *kv = NULL;
    kvWatcher *w = NULL;
    kvWatchOptions wo;
    char filter[256];
    int n = 0;

    snprintf(filter, sizeof(filter), "manifest.%s.%s.*", lattice, app);
    ck_assert_int_eq(js_KeyValue(&kv, js, LT_STORE_MANIFEST_BUCKET), NATS_OK);
    kvWatchOptions_Init(&wo);
    wo.IgnoreDeletes = true;
    ck_assert_int_eq(kvStore_Watch(&w, kv, filter, &wo), NATS_OK);
    for (;;) {
        kvEntry *e = NULL;

        ck_assert_int_eq(kvWatcher_Next(&e, w, 5000), NATS_OK);
        if (e == NULL)
            break;
        n++;
        kvEntry_Destroy(e);
    }
    kvWatcher_Destroy(w);
    kvStore_Destroy(kv);
    return n;
}

START_TEST(assets_idempotent)
{
    lt_store_config cfg = { .memory = true };
    lt_store *other = NULL;

    ck_assert_int_eq(lt_store_ensure_assets(js, &cfg), LT_OK);
    cfg.nc = nc;
    ck_assert_int_eq(lt_store_open(&other, js, &cfg), LT_OK);
    lt_store_close(other);
    cfg.manifest_bucket = "missing_bucket";
    ck_assert_int_eq(lt_store_open(&other, js, &cfg), LT_ERR_NOT_FOUND);
    ck_assert_ptr_null(other);
}
END_TEST

START_TEST(put_get_roundtrip)
{
    lt_store_app *app = NULL;
    char *json = NULL;
    size_t len = 0;

    ck_assert_int_eq(lt_store_app_get(store, "default", "hello", &app), LT_ERR_NOT_FOUND);
    ck_assert_ptr_null(app);
    ck_assert_int_eq(put_version(store, "default", "hello", "v1", "{\"a\":1}"), LT_OK);
    ck_assert_int_eq(put_version(store, "default", "hello", "v2", "{\"a\":2}"), LT_OK);
    ck_assert_int_eq(put_version(store, "default", "hello", "v1", "{\"a\":3}"), LT_ERR_STATE);
    ck_assert_int_eq(lt_store_app_get(store, "default", "hello", &app), LT_OK);
    ck_assert_uint_eq(app->version_count, 2);
    ck_assert_str_eq(app->versions[0].version, "v1");
    ck_assert_str_eq(app->versions[1].version, "v2");
    ck_assert_str_eq(lt_store_app_latest(app)->version, "v2");
    ck_assert_ptr_null(app->deployed_version);
    ck_assert_uint_gt(app->revision, 0);
    ck_assert_uint_eq(app->history_count, 2);
    ck_assert_str_eq(lt_store_event_name(app->history[0].kind), "put");
    ck_assert_int_gt(app->created_ms, 0);
    ck_assert_int_eq(lt_store_manifest_get(store, app, NULL, &json, &len), LT_OK);
    ck_assert_str_eq(json, "{\"a\":2}");
    ck_assert_uint_eq(len, 7);
    lt_free(json);
    ck_assert_int_eq(lt_store_manifest_get(store, app, "v1", &json, NULL), LT_OK);
    ck_assert_str_eq(json, "{\"a\":1}");
    lt_free(json);
    ck_assert_int_eq(lt_store_manifest_get(store, app, "v9", &json, NULL), LT_ERR_NOT_FOUND);
    lt_store_app_free(app);
    /* the refused duplicate left no orphan manifest behind */
    ck_assert_int_eq(manifest_keys("default", "hello"), 2);
}
END_TEST

START_TEST(deployed_version_read_back)
{
    put_arg a = { "v1", true, NULL };
    lt_store_manifest m = { "{\"d\":1}", 7 };
    lt_store_app *app = NULL;
    char *json = NULL;

    ck_assert_int_eq(lt_store_update(store, "default", "dep", &m, cb_put, &a, &app), LT_OK);
    ck_assert_str_eq(app->deployed_version, "v1");
    lt_store_app_free(app);
    ck_assert_int_eq(lt_store_app_get(store, "default", "dep", &app), LT_OK);
    ck_assert_str_eq(app->deployed_version, "v1");
    ck_assert_int_eq(lt_store_manifest_get(store, app, app->deployed_version, &json, NULL), LT_OK);
    ck_assert_str_eq(json, "{\"d\":1}");
    ck_assert_uint_eq(app->deployed_id_count, 1);
    ck_assert_str_eq(app->deployed_ids[0], "comp-a");
    lt_free(json);
    lt_store_app_free(app);
}
END_TEST

START_TEST(delete_version_and_app)
{
    lt_store_app *app = NULL;

    ck_assert_int_eq(put_version(store, "default", "gone", "v1", "{}"), LT_OK);
    ck_assert_int_eq(put_version(store, "default", "gone", "v2", "{}"), LT_OK);
    ck_assert_int_eq(manifest_keys("default", "gone"), 2);
    ck_assert_int_eq(lt_store_update(store, "default", "gone", NULL, cb_del_version, "v1", &app),
                     LT_OK);
    ck_assert_uint_eq(app->version_count, 1);
    lt_store_app_free(app);
    ck_assert_int_eq(manifest_keys("default", "gone"), 1);
    /* deleting a missing version is a skip */
    ck_assert_int_eq(lt_store_update(store, "default", "gone", NULL, cb_del_version, "v7", NULL),
                     LT_OK);
    ck_assert_int_eq(lt_store_update(store, "default", "gone", NULL, cb_delete_all, NULL, &app),
                     LT_OK);
    ck_assert_ptr_null(app);
    ck_assert_int_eq(manifest_keys("default", "gone"), 0);
    ck_assert_int_eq(lt_store_app_get(store, "default", "gone", &app), LT_ERR_NOT_FOUND);
    /* deleting it again changes nothing; re-creating after the delete marker works */
    ck_assert_int_eq(lt_store_update(store, "default", "gone", NULL, cb_delete_all, NULL, NULL),
                     LT_OK);
    ck_assert_int_eq(put_version(store, "default", "gone", "v1", "{\"again\":true}"), LT_OK);
    ck_assert_int_eq(lt_store_app_get(store, "default", "gone", &app), LT_OK);
    ck_assert_uint_eq(app->version_count, 1);
    ck_assert_uint_eq(app->history_count, 1);
    lt_store_app_free(app);
}
END_TEST

START_TEST(list_sorted_and_isolated)
{
    lt_store_app **apps = NULL;
    size_t n = 0;

    ck_assert_int_eq(lt_store_app_list(store, "empty", &apps, &n), LT_OK);
    ck_assert_uint_eq(n, 0);
    lt_store_app_list_free(apps, n);
    ck_assert_int_eq(put_version(store, "l1", "zeta", "v1", "{}"), LT_OK);
    ck_assert_int_eq(put_version(store, "l1", "alpha", "v1", "{}"), LT_OK);
    ck_assert_int_eq(put_version(store, "l1", "mid", "v1", "{}"), LT_OK);
    ck_assert_int_eq(put_version(store, "l2", "other", "v1", "{}"), LT_OK);
    ck_assert_int_eq(lt_store_app_list(store, "l1", &apps, &n), LT_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(apps[0]->name, "alpha");
    ck_assert_str_eq(apps[1]->name, "mid");
    ck_assert_str_eq(apps[2]->name, "zeta");
    ck_assert_str_eq(apps[2]->lattice, "l1");
    lt_store_app_list_free(apps, n);
    ck_assert_int_eq(lt_store_app_list(store, "l2", &apps, &n), LT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(apps[0]->name, "other");
    lt_store_app_list_free(apps, n);
    ck_assert_int_eq(lt_store_app_list(store, "bad.lattice", &apps, &n), LT_ERR_INVALID);
}
END_TEST

/* ---- concurrency ---- */

typedef struct {
    const char *prefix;
    int count;
    lt_status st;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    natsConnection *c = NULL;
    jsCtx *j = NULL;
    lt_store *s = NULL;
    lt_store_config cfg = { .memory = true, .cas_retries = 1000 };

    w->st = LT_OK;
    if (natsConnection_ConnectTo(&c, lt_natsrv_url(srv)) != NATS_OK ||
        natsConnection_JetStream(&j, c, NULL) != NATS_OK ||
        (cfg.nc = c, lt_store_open(&s, j, &cfg)) != LT_OK)
        w->st = LT_ERR_TRANSPORT;
    for (int i = 0; w->st == LT_OK && i < w->count; i++) {
        char v[32];

        snprintf(v, sizeof(v), "%s-%d", w->prefix, i);
        w->st = put_version(s, "default", "race", v, "{}");
    }
    lt_store_close(s);
    jsCtx_Destroy(j);
    natsConnection_Destroy(c);
    return NULL;
}

START_TEST(concurrent_writers_lose_nothing)
{
    writer_arg a = { "a", 25, LT_OK }, b = { "b", 25, LT_OK };
    pthread_t ta, tb;
    lt_store_app *app = NULL;

    pthread_create(&ta, NULL, writer, &a);
    pthread_create(&tb, NULL, writer, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(a.st, LT_OK);
    ck_assert_int_eq(b.st, LT_OK);
    ck_assert_int_eq(lt_store_app_get(store, "default", "race", &app), LT_OK);
    ck_assert_uint_eq(app->version_count, 50);
    for (int i = 0; i < 25; i++) {
        char v[32];

        snprintf(v, sizeof(v), "a-%d", i);
        ck_assert_int_ge(lt_store_app_find(app, v), 0);
        snprintf(v, sizeof(v), "b-%d", i);
        ck_assert_int_ge(lt_store_app_find(app, v), 0);
    }
    lt_store_app_free(app);
    ck_assert_int_eq(manifest_keys("default", "race"), 50);
}
END_TEST

/* A callback that changes the index behind the update's back every time. */
static lt_status cb_sabotage(lt_store_app *app, const char *new_key, lt_store_decision *d,
                             void *arg)
{
    static int n;
    char v[32];

    (void)app;
    (void)new_key;
    (void)arg;
    snprintf(v, sizeof(v), "sneaky-%d", n++);
    ck_assert_int_eq(put_version(store, "default", "contended", v, "{}"), LT_OK);
    *d = LT_STORE_WRITE;
    return LT_OK;
}

START_TEST(conflict_exhausted_overwrites_nothing)
{
    lt_store_config cfg = { .memory = true, .cas_retries = 3 };
    lt_store *few = NULL;
    lt_store_manifest m = { "{}", 2 };
    lt_store_app *app = NULL;

    cfg.nc = nc;
    ck_assert_int_eq(lt_store_open(&few, js, &cfg), LT_OK);
    ck_assert_int_eq(put_version(store, "default", "contended", "v0", "{}"), LT_OK);
    ck_assert_int_eq(lt_store_update(few, "default", "contended", &m, cb_sabotage, NULL, NULL),
                     LT_ERR_CONFLICT);
    lt_store_close(few);
    ck_assert_int_eq(lt_store_app_get(store, "default", "contended", &app), LT_OK);
    ck_assert_uint_eq(app->version_count, 4); /* v0 + the three sneaky writes, all kept */
    lt_store_app_free(app);
    ck_assert_int_eq(manifest_keys("default", "contended"), 4); /* our manifest was removed */
}
END_TEST

START_TEST(caps)
{
    lt_store_config cfg = { .memory = true, .max_versions = 3, .max_history = 2 };
    lt_store *small = NULL;
    lt_store_app *app = NULL;
    lt_store_manifest m = { "{}", 2 };
    put_arg a = { "v4", false, NULL };
    char *big;

    cfg.nc = nc;
    ck_assert_int_eq(lt_store_open(&small, js, &cfg), LT_OK);
    for (int i = 1; i <= 3; i++) {
        char v[8];

        snprintf(v, sizeof(v), "v%d", i);
        ck_assert_int_eq(put_version(small, "default", "capped", v, "{}"), LT_OK);
    }
    ck_assert_int_eq(lt_store_update(small, "default", "capped", &m, cb_put, &a, NULL),
                     LT_ERR_TOO_BIG);
    ck_assert_int_eq(lt_store_app_get(small, "default", "capped", &app), LT_OK);
    ck_assert_uint_eq(app->version_count, 3);
    ck_assert_uint_eq(app->history_count, 2); /* oldest event dropped */
    ck_assert_str_eq(app->history[0].version, "v2");
    lt_store_app_free(app);
    ck_assert_int_eq(manifest_keys("default", "capped"), 3);
    lt_store_close(small);
    /* a value over the limit is refused before anything is written */
    big = lt_calloc(1, LT_STORE_MAX_VALUE_BYTES + 2);
    memset(big, ' ', LT_STORE_MAX_VALUE_BYTES + 1);
    ck_assert_int_eq(put_version(store, "default", "huge", "v1", big), LT_ERR_TOO_BIG);
    ck_assert_int_eq(lt_store_status_put(store, "default", "huge", big, strlen(big)),
                     LT_ERR_TOO_BIG);
    lt_free(big);
    ck_assert_int_eq(lt_store_app_get(store, "default", "huge", &app), LT_ERR_NOT_FOUND);
}
END_TEST

/* ---- watch ---- */

typedef struct {
    pthread_mutex_t mu;
    int puts, deletes, initial;
    int refuse; /* refuse this many puts (asking for a redelivery) */
    char last[64];
    char last_deployed[64];
} watch_log;

static lt_status on_change(lt_store_change_kind kind, const char *lattice, const char *name,
                           lt_store_app *app, void *arg)
{
    watch_log *l = arg;

    pthread_mutex_lock(&l->mu);
    if (kind == LT_STORE_CHANGE_PUT && l->refuse > 0) {
        l->refuse--;
        pthread_mutex_unlock(&l->mu);
        lt_store_app_free(app);
        return LT_ERR_TIMEOUT;
    }
    if (kind == LT_STORE_CHANGE_INITIAL_DONE) {
        l->initial++;
    } else {
        snprintf(l->last, sizeof(l->last), "%s/%s", lattice, name);
        if (kind == LT_STORE_CHANGE_PUT) {
            l->puts++;
            snprintf(l->last_deployed, sizeof(l->last_deployed), "%s",
                     app->deployed_version ? app->deployed_version : "-");
        } else {
            l->deletes++;
        }
    }
    pthread_mutex_unlock(&l->mu);
    lt_store_app_free(app);
    return LT_OK;
}

static bool wait_for(watch_log *l, int puts, int deletes, int initial)
{
    for (int i = 0; i < 500; i++) {
        bool ok;

        pthread_mutex_lock(&l->mu);
        ok = l->puts >= puts && l->deletes >= deletes && l->initial >= initial;
        pthread_mutex_unlock(&l->mu);
        if (ok)
            return true;
        nats_Sleep(10);
    }
    return false;
}

START_TEST(watch_changes)
{
    watch_log l = { .mu = PTHREAD_MUTEX_INITIALIZER };
    lt_store_watch *w = NULL, *all = NULL;
    put_arg a = { "v2", true, NULL };
    lt_store_manifest m = { "{}", 2 };

    ck_assert_int_eq(put_version(store, "wl", "pre", "v1", "{}"), LT_OK);
    ck_assert_int_eq(put_version(store, "other", "x", "v1", "{}"), LT_OK);
    ck_assert_int_eq(lt_store_watch_start(&w, store, "wl", on_change, &l), LT_OK);
    ck_assert(wait_for(&l, 1, 0, 1));
    ck_assert_str_eq(l.last, "wl/pre");
    ck_assert_int_eq(lt_store_update(store, "wl", "pre", &m, cb_put, &a, NULL), LT_OK);
    ck_assert(wait_for(&l, 2, 0, 1));
    ck_assert_str_eq(l.last_deployed, "v2");
    ck_assert_int_eq(put_version(store, "other", "y", "v1", "{}"), LT_OK); /* not ours */
    ck_assert_int_eq(lt_store_update(store, "wl", "pre", NULL, cb_delete_all, NULL, NULL), LT_OK);
    ck_assert(wait_for(&l, 2, 1, 1));
    ck_assert_int_eq(l.puts, 2);
    ck_assert_str_eq(l.last, "wl/pre");
    lt_store_watch_stop(w);
    /* all lattices: "other" has two apps, "wl" none left */
    memset(&l.last, 0, sizeof(l.last));
    l.puts = l.deletes = l.initial = 0;
    ck_assert_int_eq(lt_store_watch_start(&all, store, NULL, on_change, &l), LT_OK);
    ck_assert(wait_for(&l, 2, 0, 1));
    lt_store_watch_stop(all);
    ck_assert_int_eq(l.puts, 2);
}
END_TEST

/* A refused change is read again and redelivered until taken. */
START_TEST(watch_redelivers_refused)
{
    watch_log l = { .mu = PTHREAD_MUTEX_INITIALIZER, .refuse = 3 };
    lt_store_watch *w = NULL;
    put_arg a = { "v2", true, NULL };
    lt_store_manifest m = { "{}", 2 };

    ck_assert_int_eq(put_version(store, "rl", "app", "v1", "{}"), LT_OK);
    ck_assert_int_eq(lt_store_watch_start(&w, store, "rl", on_change, &l), LT_OK);
    ck_assert(wait_for(&l, 0, 0, 1));
    ck_assert_int_eq(lt_store_update(store, "rl", "app", &m, cb_put, &a, NULL), LT_OK);
    /* 3 refusals: 250 + 500 + 1000 ms of backoff, then taken with the newest index */
    for (int i = 0; i < 100 && !wait_for(&l, 1, 0, 1); i++)
        ;
    ck_assert_int_eq(l.puts, 1);
    ck_assert_int_eq(l.refuse, 0);
    ck_assert_str_eq(l.last_deployed, "v2");
    lt_store_watch_stop(w);
}
END_TEST

/* A burst of live deploys: the watcher hands them over with their manifests read ahead, each
 * the manifest of the version deployed. The first change holds the watcher until the rest are
 * written, so that they arrive together. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool release;
    int live, read_ahead, wrong;
} burst_log;

static lt_status on_burst(lt_store_change_kind kind, const char *lattice, const char *name,
                          lt_store_app *app, void *arg)
{
    burst_log *b = arg;
    char want[64];

    (void)lattice;
    pthread_mutex_lock(&b->mu);
    if (kind == LT_STORE_CHANGE_PUT && app->deployed_version != NULL) {
        if (b->live++ == 0)
            while (!b->release)
                pthread_cond_wait(&b->cv, &b->mu);
        snprintf(want, sizeof(want), "{\"app\":\"%s\"}", name);
        if (app->deployed_manifest != NULL) {
            b->read_ahead++;
            b->wrong += app->deployed_manifest_len != strlen(want) ||
                        memcmp(app->deployed_manifest, want, strlen(want)) != 0;
        }
    }
    pthread_mutex_unlock(&b->mu);
    lt_store_app_free(app);
    return LT_OK;
}

START_TEST(watch_reads_burst_ahead)
{
    burst_log b = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
    lt_store_watch *w = NULL;
    put_arg a = { "v1", true, NULL };
    int done = 0;

    ck_assert_int_eq(lt_store_watch_start(&w, store, "bu", on_burst, &b), LT_OK);
    nats_Sleep(200); /* past the (empty) initial values */
    for (int i = 0; i < 11; i++) {
        char name[16], json[64];
        lt_store_manifest m;

        snprintf(name, sizeof(name), "a%02d", i);
        snprintf(json, sizeof(json), "{\"app\":\"%s\"}", name);
        m = (lt_store_manifest){ json, strlen(json) };
        ck_assert_int_eq(lt_store_update(store, "bu", name, &m, cb_put, &a, NULL), LT_OK);
    }
    pthread_mutex_lock(&b.mu);
    b.release = true;
    pthread_cond_broadcast(&b.cv);
    pthread_mutex_unlock(&b.mu);
    for (int i = 0; i < 500 && done < 11; i++) {
        nats_Sleep(10);
        pthread_mutex_lock(&b.mu);
        done = b.live;
        pthread_mutex_unlock(&b.mu);
    }
    lt_store_watch_stop(w);
    ck_assert_int_eq(b.live, 11);
    ck_assert_int_ge(b.read_ahead, 2); /* the 10 written while the first was held: one batch */
    ck_assert_int_eq(b.wrong, 0);
}
END_TEST

/* ---- status ---- */

START_TEST(status_values)
{
    char *json = NULL;
    lt_store_status_entry *e = NULL;
    size_t n = 0;

    ck_assert_int_eq(lt_store_status_get(store, "default", "app1", &json, NULL), LT_ERR_NOT_FOUND);
    ck_assert_int_eq(lt_store_status_put(store, "default", "app2", "{\"s\":2}", 7), LT_OK);
    ck_assert_int_eq(lt_store_status_put(store, "default", "app1", "{\"s\":0}", 7), LT_OK);
    ck_assert_int_eq(lt_store_status_put(store, "default", "app1", "{\"s\":1}", 7), LT_OK);
    ck_assert_int_eq(lt_store_status_put(store, "elsewhere", "app3", "{}", 2), LT_OK);
    ck_assert_int_eq(lt_store_status_get(store, "default", "app1", &json, NULL), LT_OK);
    ck_assert_str_eq(json, "{\"s\":1}");
    lt_free(json);
    ck_assert_int_eq(lt_store_status_list(store, "default", &e, &n), LT_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(e[0].name, "app1");
    ck_assert_str_eq(e[1].name, "app2");
    ck_assert_str_eq(e[1].json, "{\"s\":2}");
    lt_store_status_list_free(e, n);
    ck_assert_int_eq(lt_store_status_delete(store, "default", "app1"), LT_OK);
    ck_assert_int_eq(lt_store_status_get(store, "default", "app1", &json, NULL), LT_ERR_NOT_FOUND);
    ck_assert_int_eq(lt_store_status_put(store, "default", "bad.name", "{}", 2), LT_ERR_INVALID);
}
END_TEST

/* ---- stopping a watch while it takes an update ---- */

#define SHIM_CHILD "LT_STORE_SHIM_CHILD" /* set: this process is the shimmed child */

/* The child's part: once the watch has its initial values the shim is armed (its onfile) and
 * holds the next index update the watch takes for 600 ms; the watch stops meanwhile. A watcher
 * stopped from another thread made nats.c 3.4's kvWatcher_Next drop that message without
 * destroying it; the watch thread must see it through. */
static void stop_under_a_held_update(void)
{
    watch_log l = { .mu = PTHREAD_MUTEX_INITIALIZER };
    lt_store_watch *w = NULL;

    ck_assert_int_eq(lt_store_watch_start(&w, store, "hl", on_change, &l), LT_OK);
    ck_assert(wait_for(&l, 0, 0, 1));
    ck_assert_int_eq(lt_shim_arm(), LT_OK);
    ck_assert_int_eq(put_version(store, "hl", "app", "v1", "{}"), LT_OK);
    ck_assert(lt_shim_wait_fired("natsSubscription_NextMsg", 1, 5000));
    lt_store_watch_stop(w); /* while the update is held */
    ck_assert_msg(lt_shim_fired(getenv("LT_SHIM_LOG"), "natsMsg_Destroy") == 1,
                  "the held update was never destroyed: the watch's stop leaked it");
}

START_TEST(watch_stop_while_an_update_is_held)
{
    char rule[256];

    if (getenv(SHIM_CHILD) != NULL) {
        stop_under_a_held_update();
        return;
    }
    lt_shim_rule_hold(rule, sizeof(rule), "$KV.latticed_manifests.app.hl.*", 600);
    lt_shim_expect_child(SHIM_CHILD, "stop", rule, "natsMsg_Destroy", 1);
}
END_TEST

/* ---- the end of the initial values without nats.c's marker ---- */

#define QUIET_CHILD "LT_STORE_QUIET_CHILD" /* set: this process is the shimmed child */

/* The child's part: two apps are stored before the watch starts; the shim loses the second one
 * on its way to the watcher (as if it never came), so the consumer's pending count never drops
 * to 0 and nats.c never sends its end-of-initial-values marker. That is what happens when keys
 * are written while a watch is created (e2e_fence once waited 30 s for a deploy: the scheduler
 * never had its apps "loaded"). After LT_STORE_WATCH_QUIET_MS without a delivery the watch must
 * start over with a new watcher, whose initial values are whole: app-b, then INITIAL_DONE once,
 * then live changes. */
static void initial_done_after_a_quiet_spell(void)
{
    watch_log l = { .mu = PTHREAD_MUTEX_INITIALIZER };
    lt_store_watch *w = NULL;
    int64_t t0, deadline;
    int initial = 0;

    ck_assert_int_eq(put_version(store, "ql", "app-a", "v1", "{}"), LT_OK);
    ck_assert_int_eq(put_version(store, "ql", "app-b", "v1", "{}"), LT_OK);
    ck_assert_int_eq(lt_shim_arm(), LT_OK);
    t0 = lt_test_now_ms();
    deadline = t0 + LT_STORE_WATCH_QUIET_MS + 10000;
    ck_assert_int_eq(lt_store_watch_start(&w, store, "ql", on_change, &l), LT_OK);
    while (initial == 0 && lt_test_now_ms() < deadline) {
        nats_Sleep(50);
        pthread_mutex_lock(&l.mu);
        initial = l.initial;
        pthread_mutex_unlock(&l.mu);
    }
    ck_assert_msg(initial == 1, "no end of the initial values: the watch waits for ever");
    ck_assert_int_ge(lt_test_now_ms() - t0, LT_STORE_WATCH_QUIET_MS - 100);
    ck_assert_uint_eq(lt_shim_fired(getenv("LT_SHIM_LOG"), "natsSubscription_NextMsg"), 1);
    pthread_mutex_lock(&l.mu);
    ck_assert_int_eq(l.puts, 3); /* app-a; then app-a and app-b from the new watcher */
    ck_assert_str_eq(l.last, "ql/app-b");
    pthread_mutex_unlock(&l.mu);
    ck_assert_int_eq(put_version(store, "ql", "app-c", "v1", "{}"), LT_OK);
    ck_assert(wait_for(&l, 4, 0, 1));
    pthread_mutex_lock(&l.mu);
    ck_assert_int_eq(l.initial, 1);
    ck_assert_str_eq(l.last, "ql/app-c");
    pthread_mutex_unlock(&l.mu);
    lt_store_watch_stop(w);
}

LT_SHIM_TEST(watch_initial_done_without_the_marker, initial_done_after_a_quiet_spell(), QUIET_CHILD,
             "quiet",
             "natsSubscription_NextMsg:subj=$KV.latticed_manifests.app.ql.*:skip=1:"
             "count=1:mode=fail:err=timeout",
             "natsSubscription_NextMsg", 1)

/* ---- a list read from KV without nats.c's marker ---- */

#define SCAN_CHILD "LT_STORE_SCAN_CHILD" /* set: this process is the shimmed child */
#define SCAN_DEADLINE_CHILD "LT_STORE_SCAN_DEADLINE_CHILD"
#define SCAN_WATCH_CHILD "LT_STORE_SCAN_WATCH_CHILD"
#define SCAN_WATCH_LATE_CHILD "LT_STORE_SCAN_WATCH_LATE_CHILD"
#define SCAN_WATCH_ERR_CHILD "LT_STORE_SCAN_WATCH_ERR_CHILD"
#define SCAN_ERR_CHILD "LT_STORE_SCAN_ERR_CHILD"

/* The child's part: without a view, a list reads KV with a watcher until nats.c's end marker
 * (store_prim.c). The shim makes the first reading fail (shimmed: the function it wraps): the
 * second app lost on its way, so the marker never comes, or the watcher not created. The list
 * used to fail (after 10 s, or at once on the shim's timeout); it must read again and give each
 * app once, after pause_ms at least. */
static void list_both_apps(const char *shimmed, int64_t pause_ms)
{
    lt_store_app **apps = NULL;
    size_t n = 0;
    int64_t t0;

    ck_assert_int_eq(put_version(store, "sl", "app-a", "v1", "{}"), LT_OK);
    ck_assert_int_eq(put_version(store, "sl", "app-b", "v1", "{}"), LT_OK);
    ck_assert_int_eq(lt_shim_arm(), LT_OK);
    t0 = lt_test_now_ms();
    ck_assert_msg(lt_store_app_list(store, "sl", &apps, &n) == LT_OK, "list failed: %s",
                  lt_error_message());
    ck_assert_int_ge(lt_test_now_ms() - t0, pause_ms); /* after an error answer: a pause */
    ck_assert_uint_eq(lt_shim_fired(getenv("LT_SHIM_LOG"), shimmed), 1);
    ck_assert_uint_eq(n, 2); /* the first reading's app-a is not listed twice */
    ck_assert_str_eq(apps[0]->name, "app-a");
    ck_assert_str_eq(apps[1]->name, "app-b");
    lt_store_app_list_free(apps, n);
}

/* The same within an API request's deadline of 3 s (less than a JetStream wait): the server
 * answered, so the list reads again all the same, and answers in time. */
static void list_without_the_marker_in_time(void)
{
    lt_store_app **apps = NULL;
    size_t n = 0;
    int64_t t0;

    ck_assert_int_eq(put_version(store, "sl", "app-a", "v1", "{}"), LT_OK);
    ck_assert_int_eq(put_version(store, "sl", "app-b", "v1", "{}"), LT_OK);
    ck_assert_int_eq(lt_shim_arm(), LT_OK);
    t0 = lt_test_now_ms();
    lt_store_deadline_set(lt_time_mono_ns() + 3000 * INT64_C(1000000));
    ck_assert_msg(lt_store_app_list(store, "sl", &apps, &n) == LT_OK, "list failed: %s",
                  lt_error_message());
    lt_store_deadline_set(0);
    ck_assert_int_lt(lt_test_now_ms() - t0, 3000);
    ck_assert_uint_eq(n, 2);
    lt_store_app_list_free(apps, n);
}

/* The same with 3 s left of an API request's deadline: creating a watcher may take a whole
 * JetStream wait (5 s) again, so the list answers the timeout at once rather than after the
 * client gave up. The shim would refuse a second watcher too: it must not be asked for one. */
static void list_without_a_watcher_late(void)
{
    lt_store_app **apps = NULL;
    size_t n = 0;
    int64_t t0;
    lt_status st;

    ck_assert_int_eq(put_version(store, "sl", "app-a", "v1", "{}"), LT_OK);
    ck_assert_int_eq(lt_shim_arm(), LT_OK);
    t0 = lt_test_now_ms();
    lt_store_deadline_set(lt_time_mono_ns() + 3000 * INT64_C(1000000));
    st = lt_store_app_list(store, "sl", &apps, &n);
    lt_store_deadline_set(0);
    ck_assert_int_eq(st, LT_ERR_TIMEOUT);
    ck_assert_int_lt(lt_test_now_ms() - t0, 1000);
    ck_assert_ptr_null(apps);
}

LT_SHIM_TEST(list_tries_another_watcher, list_both_apps("kvStore_Watch", 0), SCAN_WATCH_CHILD,
             "scan_watch",
             "kvStore_Watch:subj=$KV.latticed_manifests.app.sl.*:count=1:mode=fail:"
             "err=timeout",
             "kvStore_Watch", 1)

/* JetStream answers the first watcher's creation with an error (a stream a cluster is still
 * placing: latticed's start-up read of a bucket it had just created failed so in `urls`, a
 * 2-node cluster, under CI's load): the list asks again, after a pause, and lists both apps. */
LT_SHIM_TEST(list_tries_another_watcher_after_an_error, list_both_apps("kvStore_Watch", 250),
             SCAN_WATCH_ERR_CHILD, "scan_watch_err",
             "kvStore_Watch:subj=$KV.latticed_manifests.app.sl.*:count=1:mode=fail:"
             "err=err",
             "kvStore_Watch", 1)

LT_SHIM_TEST(list_tries_no_watcher_it_cannot_wait_for, list_without_a_watcher_late(),
             SCAN_WATCH_LATE_CHILD, "scan_watch_late",
             "kvStore_Watch:subj=$KV.latticed_manifests.app.sl.*:count=2:mode=fail:"
             "err=timeout",
             "kvStore_Watch", 1)

LT_SHIM_TEST(list_reads_again_without_the_marker, list_both_apps("natsSubscription_NextMsg", 0),
             SCAN_CHILD, "scan",
             "natsSubscription_NextMsg:subj=$KV.latticed_manifests.app.sl.*:skip=1:"
             "count=1:mode=fail:err=timeout",
             "natsSubscription_NextMsg", 1)

/* The watcher exists but its reading ends with an error answer (a status message where a
 * value was due, as after a leader change): the list reads again with a new one, after a
 * pause, instead of failing ("reading app.sl.*: Error"). */
LT_SHIM_TEST(list_reads_again_after_an_error, list_both_apps("natsSubscription_NextMsg", 250),
             SCAN_ERR_CHILD, "scan_err",
             "natsSubscription_NextMsg:subj=$KV.latticed_manifests.app.sl.*:skip=1:"
             "count=1:mode=fail:err=err",
             "natsSubscription_NextMsg", 1)

LT_SHIM_TEST(list_reads_again_within_a_deadline, list_without_the_marker_in_time(),
             SCAN_DEADLINE_CHILD, "scan_deadline",
             "natsSubscription_NextMsg:subj=$KV.latticed_manifests.app.sl.*:skip=1:"
             "count=1:mode=fail:err=timeout",
             "natsSubscription_NextMsg", 1)

/* ---- helpers (no server needed) ---- */

START_TEST(ulid_and_time)
{
    char a[LT_STORE_ULID_LEN + 1], b[LT_STORE_ULID_LEN + 1], t[40];
    int64_t ms = 0;

    lt_store_ulid(a);
    for (int i = 0; i < 1000; i++) {
        lt_store_ulid(b);
        ck_assert_uint_eq(strlen(b), 26);
        ck_assert_int_lt(strcmp(a, b), 0); /* strictly increasing, also within one ms */
        ck_assert_uint_eq(strspn(b, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 26);
        memcpy(a, b, sizeof(a));
    }
    ck_assert(a[0] >= '0' && a[0] <= '7'); /* 128 bits: first character holds 3 bits */
    /* store times (history, index) are core/lt_time's ms form, UTC only */
    lt_time_format_ms(1714564800123LL, t);
    ck_assert_str_eq(t, "2024-05-01T12:00:00.123Z");
    ck_assert_int_eq(lt_time_parse_ms(t, LT_TIME_UTC_ONLY, &ms), LT_OK);
    ck_assert_int_eq(ms, 1714564800123LL);
    ck_assert_int_eq(lt_time_parse_ms("2024-05-01T12:00:00Z", LT_TIME_UTC_ONLY, &ms), LT_OK);
    ck_assert_int_eq(ms, 1714564800000LL);
    ck_assert_int_eq(lt_time_parse_ms("yesterday", LT_TIME_UTC_ONLY, &ms), LT_ERR_INVALID);
    ck_assert_int_eq(lt_time_parse_ms("2024-05-01T12:00:00+02:00", LT_TIME_UTC_ONLY, &ms),
                     LT_ERR_INVALID);
    ck_assert(lt_store_name_is_valid("hello-world_1"));
    ck_assert(!lt_store_name_is_valid("a.b"));
    ck_assert(!lt_store_name_is_valid("a*"));
    ck_assert(!lt_store_name_is_valid(""));
    ck_assert(!lt_store_name_is_valid(NULL));
}
END_TEST

int main(void)
{
    int rc;
    Suite *s = suite_create("store");
    TCase *nats;

    nats = lt_test_tcase(s, "nats", 60,
                         (const TTest *const[]){
                             assets_idempotent, put_get_roundtrip, deployed_version_read_back,
                             delete_version_and_app, list_sorted_and_isolated,
                             concurrent_writers_lose_nothing, conflict_exhausted_overwrites_nothing,
                             caps, watch_changes, watch_redelivers_refused, watch_reads_burst_ahead,
                             status_values, NULL });
    tcase_add_checked_fixture(nats, setup, teardown);
    nats = lt_test_tcase(s, "stop", 60,
                         (const TTest *const[]){ watch_stop_while_an_update_is_held, NULL });
    tcase_add_checked_fixture(nats, setup, teardown);
    nats = lt_test_tcase(s, "quiet", 60,
                         (const TTest *const[]){ watch_initial_done_without_the_marker, NULL });
    tcase_add_checked_fixture(nats, setup, teardown);
    nats = lt_test_tcase(s, "scan", 60,
                         (const TTest *const[]){ list_reads_again_without_the_marker, NULL });
    tcase_add_checked_fixture(nats, setup, teardown);
    nats = lt_test_tcase(s, "scan_deadline", 60,
                         (const TTest *const[]){ list_reads_again_within_a_deadline, NULL });
    tcase_add_checked_fixture(nats, setup, teardown);
    nats = lt_test_tcase(s, "scan_watch", 60,
                         (const TTest *const[]){ list_tries_another_watcher, NULL });
    tcase_add_checked_fixture(nats, setup, teardown);
    nats = lt_test_tcase(s, "scan_err", 60,
                         (const TTest *const[]){ list_reads_again_after_an_error, NULL });
    tcase_add_checked_fixture(nats, setup, teardown);
    nats = lt_test_tcase(s, "scan_watch_err", 60,
                         (const TTest *const[]){ list_tries_another_watcher_after_an_error, NULL });
    tcase_add_checked_fixture(nats, setup, teardown);
    nats = lt_test_tcase(s, "scan_watch_late", 60,
                         (const TTest *const[]){ list_tries_no_watcher_it_cannot_wait_for, NULL });
    tcase_add_checked_fixture(nats, setup, teardown);
    lt_test_tcase(s, "pure", 0, (const TTest *const[]){ ulid_and_time, NULL });
    rc = lt_test_run_suite(s);
    nats_Close();
    return rc;
}
