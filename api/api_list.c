/*
 * api_list.c - model.get without a name (and the deprecated model.list): every app of a
 * lattice with its summary and detailed status. Building a summary means parsing the app's
 * status document and serialising the result, which made a list of 1,000 apps cost tens of
 * milliseconds. A server (lt_api_start) therefore keeps each app's summary as JSON text,
 * keyed by the index revision and a hash of the status document it was built from, and a
 * list is the concatenation of those texts: only apps that changed are built again. The
 * cache of a lattice holds exactly the apps of its last list (deleted apps drop out), is
 * taken out of the shared table while one list uses it (lists of one lattice run on one
 * worker anyway) and is bounded by LT__API_LIST_CACHE_BYTES.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_map.h"

#define STORAGE_ERROR "Internal storage error"
#define LIST_MESSAGE "Successfully fetched list of applications"

typedef struct {
    char *name; /* key */
    uint64_t revision, status_hash;
    char *text; /* the summary object as compact JSON */
    size_t len;
} summary_entry;

typedef struct {
    char *lattice; /* key */
    lt_map apps;   /* name -> summary_entry */
    size_t bytes;
} lattice_cache;

struct lt__api_list_cache {
    pthread_mutex_t mu;
    lt_map lattices; /* lattice -> lattice_cache; absent while a list uses it */
};

static void entry_free(summary_entry *e)
{
    if (e == NULL)
        return;
    lt_free(e->name);
    lt_free(e->text);
    lt_free(e);
}

static void lattice_cache_free(lattice_cache *c)
{
    size_t it = 0;
    summary_entry *e;

    if (c == NULL)
        return;
    while ((e = lt_map_next(&c->apps, &it)) != NULL)
        entry_free(e);
    lt_map_cleanup(&c->apps);
    lt_free(c->lattice);
    lt_free(c);
}

lt__api_list_cache *lt__api_list_cache_new(void)
{
    lt__api_list_cache *c = lt_calloc(1, sizeof(*c));

    if (c != NULL)
        pthread_mutex_init(&c->mu, NULL);
    return c;
}

void lt__api_list_cache_free(lt__api_list_cache *c)
{
    size_t it = 0;
    lattice_cache *l;

    if (c == NULL)
        return;
    while ((l = lt_map_next(&c->lattices, &it)) != NULL)
        lattice_cache_free(l);
    lt_map_cleanup(&c->lattices);
    pthread_mutex_destroy(&c->mu);
    lt_free(c);
}

/* Take the lattice's cache out of the table (a new empty one when there is none). */
static lattice_cache *cache_take(lt__api_list_cache *c, const char *lattice)
{
    lattice_cache *l;

    pthread_mutex_lock(&c->mu);
    l = lt_map_del(&c->lattices, lattice);
    pthread_mutex_unlock(&c->mu);
    if (l == NULL && (l = lt_calloc(1, sizeof(*l))) != NULL &&
        (l->lattice = lt_strdup(lattice)) == NULL) {
        lt_free(l);
        l = NULL;
    }
    return l;
}

/* Put it back; one that another list put back meanwhile is dropped. */
static void cache_give(lt__api_list_cache *c, lattice_cache *l)
{
    lattice_cache *old;

    if (l->apps.count == 0) { /* keep nothing for lattices without apps (any name may come) */
        lattice_cache_free(l);
        return;
    }
    pthread_mutex_lock(&c->mu);
    old = lt_map_del(&c->lattices, l->lattice);
    if (lt_map_put(&c->lattices, l->lattice, l) != LT_OK) {
        lattice_cache_free(l); /* out of memory: no cache for this lattice */
        l = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (old != NULL && old != l)
        lattice_cache_free(old);
}

static uint64_t text_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; s != NULL && *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return s == NULL ? 0 : h;
}

static json_t *summary(const lt__api_req *r, const lt_store_app *app, const char *status_json)
{
    const lt_store_version *latest = lt_store_app_latest(app);
    json_t *detailed = lt__api_app_status(r->store, r->lattice, app->name, app, status_json);
    json_t *info = json_object_get(detailed, "status"), *out;
    const char *type = json_string_value(json_object_get(info, "type"));
    const char *message = json_string_value(json_object_get(info, "message"));

    if (detailed == NULL)
        return NULL;
    if (type == NULL || strcmp(type, "waiting") == 0) /* deprecated field: wadm's back-compat */
        type = "undeployed";
    out = json_pack("{s:s, s:o, s:o, s:o, s:O, s:s, s:s}", "name", app->name, "version",
                    lt__api_str_or_null(latest != NULL ? latest->version : NULL), "description",
                    lt__api_str_or_null(app->description), "deployed_version",
                    lt__api_str_or_null(app->deployed_version), "detailed_status", detailed,
                    "status", type, "status_message", message != NULL ? message : "");
    json_decref(detailed);
    return out;
}

/* The summary text of app: from old (moved into now) when still valid, else built. */
static summary_entry *summary_of(const lt__api_req *r, lattice_cache *old, lattice_cache *now,
                                 const lt_store_app *app, const char *status)
{
    uint64_t sh = text_hash(status);
    summary_entry *e = old != NULL ? lt_map_del(&old->apps, app->name) : NULL;
    json_t *s;
    char *text;

    if (e != NULL && (e->revision != app->revision || app->revision == 0 || e->status_hash != sh)) {
        entry_free(e);
        e = NULL;
    }
    if (e == NULL) {
        if ((e = lt_calloc(1, sizeof(*e))) == NULL || (e->name = lt_strdup(app->name)) == NULL ||
            (s = summary(r, app, status)) == NULL) {
            entry_free(e);
            return NULL;
        }
        text = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(s);
        e->text = text != NULL ? lt_strdup(text) : NULL; /* ours: lt_free'd */
        free(text);
        if (e->text == NULL) {
            entry_free(e);
            return NULL;
        }
        e->len = strlen(e->text);
        e->revision = app->revision;
        e->status_hash = sh;
    }
    if (now != NULL && now->bytes + e->len <= LT__API_LIST_CACHE_BYTES &&
        lt_map_put(&now->apps, e->name, e) == LT_OK)
        now->bytes += e->len;
    else
        e->name[0] = '\0'; /* not kept: the caller frees it after use */
    return e;
}

json_t *lt__api_list(const lt__api_req *r, bool bare)
{
    lt_store_app **apps = NULL;
    lt_store_status_entry *sts = NULL;
    size_t n = 0, ns = 0, j = 0;
    lattice_cache *old = NULL, *now = NULL;
    json_t *reply = NULL;
    lt_status st = LT_OK;

    if (lt_store_app_list(r->store, r->lattice, &apps, &n) != LT_OK ||
        lt_store_status_list(r->store, r->lattice, &sts, &ns) != LT_OK) {
        LT_WARN("api", "list %s: %s", r->lattice, lt_error_message());
        reply = lt__api_err(STORAGE_ERROR);
        goto out;
    }
    if (r->list_cache != NULL && (old = cache_take(r->list_cache, r->lattice)) != NULL &&
        (now = lt_calloc(1, sizeof(*now))) != NULL &&
        (now->lattice = lt_strdup(r->lattice)) == NULL) {
        lt_free(now);
        now = NULL;
    }
    st = lt_buf_appends(r->raw, bare ? "["
                                     : "{\"result\":\"success\",\"message\":\"" LIST_MESSAGE
                                       "\",\"models\":[");
    for (size_t i = 0; i < n && st == LT_OK; i++) { /* both sorted by name: merge */
        const char *status = NULL;
        summary_entry *e;

        while (j < ns && strcmp(sts[j].name, apps[i]->name) < 0)
            j++;
        if (j < ns && strcmp(sts[j].name, apps[i]->name) == 0)
            status = sts[j].json;
        if ((e = summary_of(r, old, now, apps[i], status)) == NULL) {
            st = LT_ERR_NOMEM;
            break;
        }
        if (i > 0)
            st = lt_buf_appendc(r->raw, ',');
        if (st == LT_OK)
            st = lt_buf_append(r->raw, e->text, e->len);
        if (e->name[0] == '\0')
            entry_free(e);
    }
    if (st == LT_OK)
        st = lt_buf_appends(r->raw, bare ? "]" : "]}");
    if (st != LT_OK) {
        lt_buf_reset(r->raw);
        reply = st == LT_ERR_NOMEM
                    ? NULL
                    : lt__api_err("The list of applications is over %zu bytes", r->raw->max);
        goto out;
    }
    reply = lt__api_raw_written();
out:
    lattice_cache_free(old); /* what the list did not use: apps gone since */
    if (now != NULL)
        cache_give(r->list_cache, now);
    lt_store_app_list_free(apps, n);
    lt_store_status_list_free(sts, ns);
    return reply;
}
