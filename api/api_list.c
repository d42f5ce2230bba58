/*
 * api_list.c - model.get without a name (and the deprecated model.list): every app of a
 * lattice with its summary and detailed status. Building a summary means parsing the app's
 * status document and serialising the result, which made a list of 1,000 apps cost tens of
 * milliseconds. A server (lt_api_start) therefore keeps each app's summary as JSON text,
 * keyed by what it was built from: the revisions of the app's index and status and the view's
 * bucket epoch (lt_store_app_revs, so unchanged apps are not even copied), or without a synced
 * view the index revision and a hash of the status document. A list is the concatenation of
 * those texts: only apps that changed are built again. The
 * cache of a lattice holds exactly the apps of its last list (deleted apps drop out), is
 * taken out of the shared table while one list uses it (lists of one lattice run on one
 * worker anyway) and is bounded by LT__API_LIST_CACHE_BYTES. It also keeps the last list's
 * models joined into one text, with the view's mark of the lattice it was listed at
 * (lt_store_app_revs_mark): a list that finds the mark unchanged (the common case, a client
 * polling) copies that text and lists nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_map.h"

#define LIST_MESSAGE "Successfully fetched list of applications"

typedef struct {
    char *name;                    /* key */
    uint64_t revision, status_key; /* the index's revision; the status's revision or hash */
    bool by_rev;                   /* status_key is a revision (from the view), not a hash */
    uint64_t epoch;                /* by_rev: lt_store_app_rev.epoch */
    char *text;                    /* the summary object as compact JSON */
    size_t len;
} summary_entry;

typedef struct {
    char *lattice; /* key */
    lt_map apps;   /* name -> summary_entry */
    size_t bytes;
    char *joined; /* the last list's models, comma-separated (NULL: not kept); in bytes */
    size_t joined_len;
    uint64_t mark; /* the view's mark of the lattice when joined was listed */
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
    lt_free(c->joined);
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

/* A new entry with the summary of app (its status document status, NULL for none). */
static summary_entry *entry_new(const lt__api_req *r, const lt_store_app *app, const char *status)
{
    summary_entry *e;
    json_t *s;
    char *text;

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
    return e;
}

/* Keep e in now when the budget allows; else mark it for the caller to free after use. */
static summary_entry *entry_keep(lattice_cache *now, summary_entry *e)
{
    if (now != NULL && now->bytes + e->len <= LT__API_LIST_CACHE_BYTES &&
        lt_map_put(&now->apps, e->name, e) == LT_OK)
        now->bytes += e->len;
    else
        e->name[0] = '\0'; /* not kept: the caller frees it after use */
    return e;
}

/* The entry of name in old (moved out of it) when it was built from these revisions. */
static summary_entry *entry_valid(lattice_cache *old, const char *name, uint64_t revision,
                                  uint64_t status_key, bool by_rev, uint64_t epoch)
{
    summary_entry *e = old != NULL ? lt_map_del(&old->apps, name) : NULL;

    if (e != NULL && (e->revision != revision || revision == 0 || e->status_key != status_key ||
                      e->by_rev != by_rev || e->epoch != epoch)) {
        entry_free(e);
        e = NULL;
    }
    return e;
}

/* The summary text of app: from old (moved into now) when still valid, else built. */
static summary_entry *summary_of(const lt__api_req *r, lattice_cache *old, lattice_cache *now,
                                 const lt_store_app *app, const char *status)
{
    uint64_t sh = text_hash(status);
    summary_entry *e = entry_valid(old, app->name, app->revision, sh, false, 0);

    if (e == NULL && (e = entry_new(r, app, status)) != NULL) {
        e->revision = app->revision;
        e->status_key = sh;
    }
    return e != NULL ? entry_keep(now, e) : NULL;
}

/*
 * The summary text of the app at a from the view: an app whose index and status revisions are
 * those the cached text was built from costs a map lookup; only the others are read (and
 * copied) and built. The text is keyed by the revisions listed, which are never newer than
 * what is read after them: at worst it is built again on the next list. NULL with *st LT_OK
 * when the app was deleted meanwhile.
 */
static summary_entry *summary_at(const lt__api_req *r, lattice_cache *old, lattice_cache *now,
                                 const lt_store_app_rev *a, lt_status *st)
{
    summary_entry *e = entry_valid(old, a->name, a->index_rev, a->status_rev, true, a->epoch);
    lt_store_app *app = NULL;
    char *status = NULL;

    *st = LT_OK;
    if (e != NULL)
        return entry_keep(now, e);
    if ((*st = lt_store_app_get(r->store, r->lattice, a->name, &app)) == LT_ERR_NOT_FOUND) {
        *st = LT_OK;
        return NULL;
    }
    if (*st == LT_OK && a->status_rev != 0 &&
        (*st = lt_store_status_get(r->store, r->lattice, a->name, &status, NULL)) ==
            LT_ERR_NOT_FOUND)
        *st = LT_OK;
    if (*st == LT_OK && (e = entry_new(r, app, status)) == NULL)
        *st = LT_ERR_NOMEM;
    if (e != NULL) {
        e->revision = a->index_rev;
        e->status_key = a->status_rev;
        e->by_rev = true;
        e->epoch = a->epoch;
        e = entry_keep(now, e);
    }
    lt_free(status);
    lt_store_app_free(app);
    return e;
}

/* Append e's text to the list in raw (a comma before all but the first); free e if the cache
 * did not keep it. */
static lt_status append_entry(lt_buf *raw, summary_entry *e, bool *first)
{
    lt_status st = *first ? LT_OK : lt_buf_appendc(raw, ',');

    *first = false;
    if (st == LT_OK)
        st = lt_buf_append(raw, e->text, e->len);
    if (e->name[0] == '\0')
        entry_free(e);
    return st;
}

/* The models of the list into r->raw, from the view's revisions (revs) listed at mark (0:
 * none). When every app's summary went into now, now keeps them joined (the text appended
 * after r->raw's first from bytes) with the mark, for the next list. */
static lt_status list_from_revs(const lt__api_req *r, lattice_cache *old, lattice_cache *now,
                                const lt_store_app_rev *revs, size_t n, uint64_t mark)
{
    size_t from = r->raw->len, kept = 0;
    lt_status st = LT_OK;
    bool first = true;

    for (size_t i = 0; i < n && st == LT_OK; i++) {
        summary_entry *e = summary_at(r, old, now, &revs[i], &st);

        if (e != NULL) { /* else deleted meanwhile, or st says why not */
            kept += e->name[0] != '\0';
            st = append_entry(r->raw, e, &first);
        }
    }
    if (st == LT_OK && mark != 0 && now != NULL && kept == now->apps.count && kept == n &&
        now->bytes + (r->raw->len - from) <= LT__API_LIST_CACHE_BYTES &&
        (now->joined = lt_malloc(r->raw->len - from + 1)) != NULL) {
        now->joined_len = r->raw->len - from;
        memcpy(now->joined, r->raw->ptr + from, now->joined_len);
        now->joined[now->joined_len] = '\0';
        now->bytes += now->joined_len;
        now->mark = mark;
    }
    return st;
}

/* The models of the list into r->raw, from copies of every index and status (no view). */
static lt_status list_from_copies(const lt__api_req *r, lattice_cache *old, lattice_cache *now,
                                  lt_store_app **apps, size_t n, const lt_store_status_entry *sts,
                                  size_t ns)
{
    lt_status st = LT_OK;
    size_t j = 0;
    bool first = true;

    for (size_t i = 0; i < n && st == LT_OK; i++) { /* both sorted by name: merge */
        const char *status = NULL;
        summary_entry *e;

        while (j < ns && strcmp(sts[j].name, apps[i]->name) < 0)
            j++;
        if (j < ns && strcmp(sts[j].name, apps[i]->name) == 0)
            status = sts[j].json;
        if ((e = summary_of(r, old, now, apps[i], status)) == NULL)
            return LT_ERR_NOMEM;
        st = append_entry(r->raw, e, &first);
    }
    return st;
}

json_t *lt__api_list(const lt__api_req *r, bool bare)
{
    char why[LT__API_STORE_ERROR_MAX];
    lt_store_app **apps = NULL;
    lt_store_status_entry *sts = NULL;
    lt_store_app_rev *revs = NULL;
    size_t n = 0, ns = 0, nrevs = 0;
    lattice_cache *old = NULL, *now = NULL;
    json_t *reply = NULL;
    lt_status st = LT_OK;
    uint64_t mark = 0;
    bool same;

    if (r->list_cache != NULL && lt_store_app_revs_mark(r->store, r->lattice, &mark) != LT_OK)
        mark = 0; /* the view is not usable: no list is served again */
    if (r->list_cache != NULL)
        old = cache_take(r->list_cache, r->lattice);
    same = mark != 0 && old != NULL && old->joined != NULL && old->mark == mark;
    /* From the view when it is synced, else from copies of what KV holds. */
    if (!same && (st = lt_store_app_revs(r->store, r->lattice, &revs, &nrevs)) == LT_ERR_STATE &&
        (lt_store_app_list(r->store, r->lattice, &apps, &n) != LT_OK ||
         lt_store_status_list(r->store, r->lattice, &sts, &ns) != LT_OK))
        st = LT_ERR_TRANSPORT;
    else if (st == LT_ERR_STATE)
        st = LT_OK;
    if (st != LT_OK) {
        LT_WARN("api", "list %s: %s", r->lattice, lt_error_message());
        reply = lt__api_err("%s", lt__api_store_error(st, false, why, sizeof(why)));
        now = old; /* kept for the next list */
        old = NULL;
        goto out;
    }
    if (old != NULL && !same && (now = lt_calloc(1, sizeof(*now))) != NULL &&
        (now->lattice = lt_strdup(r->lattice)) == NULL) {
        lt_free(now);
        now = NULL;
    }
    st = lt_buf_appends(r->raw, bare ? "["
                                     : "{\"result\":\"success\",\"message\":\"" LIST_MESSAGE
                                       "\",\"models\":[");
    if (st == LT_OK && same) {
        st = lt_buf_append(r->raw, old->joined, old->joined_len); /* nothing changed */
        now = old;                                                /* given back as it is */
        old = NULL;
    } else if (st == LT_OK) {
        st = revs != NULL || apps == NULL ? list_from_revs(r, old, now, revs, nrevs, mark)
                                          : list_from_copies(r, old, now, apps, n, sts, ns);
    }
    if (st == LT_OK)
        st = lt_buf_appends(r->raw, bare ? "]" : "]}");
    if (st != LT_OK) {
        lt_buf_reset(r->raw);
        if (st == LT_ERR_TOO_BIG)
            reply = lt__api_err("The list of applications is over %zu bytes", r->raw->max);
        else if (st != LT_ERR_NOMEM) {
            LT_WARN("api", "list %s: %s", r->lattice, lt_error_message());
            reply = lt__api_err("%s", lt__api_store_error(st, false, why, sizeof(why)));
        }
        goto out;
    }
    reply = lt__api_raw_written();
out:
    lattice_cache_free(old); /* what the list did not use: apps gone since */
    if (now != NULL)
        cache_give(r->list_cache, now);
    lt_store_app_list_free(apps, n);
    lt_store_status_list_free(sts, ns);
    lt_store_app_revs_free(revs, nrevs);
    return reply;
}
