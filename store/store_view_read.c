/*
 * store_view_read.c - answers from the in-memory view (store_view_int.h): an
 * index, a lattice's indexes or statuses sorted by name, a status, a
 * manifest, the owner of a component id. Each answer is a copy made under the
 * read lock; a follower that is not usable (not synced, watch or connection
 * broken) answers nothing and the caller reads KV.
 */
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "store_view_int.h"

/* ---- copies ---------------------------------------------------------------------------------- */

static bool dup_opt(const char *src, char **dst)
{
    *dst = src != NULL ? lt_strdup(src) : NULL;
    return src == NULL || *dst != NULL;
}

lt_status lt__store_app_dup(const lt_store_app *a, lt_store_app **out)
{
    lt_store_app *c = lt_calloc(1, sizeof(*c));
    bool ok = c != NULL;

    *out = NULL;
    if (!ok)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    c->deployed_ms = a->deployed_ms;
    c->undeployed_ms = a->undeployed_ms;
    c->created_ms = a->created_ms;
    c->updated_ms = a->updated_ms;
    c->latest_shared = a->latest_shared;
    c->revision = a->revision;
    ok = dup_opt(a->lattice, &c->lattice) && dup_opt(a->name, &c->name) &&
         dup_opt(a->deployed_version, &c->deployed_version) &&
         dup_opt(a->deployed_trace, &c->deployed_trace) && dup_opt(a->description, &c->description);
    if (ok && a->version_count > 0) {
        ok = (c->versions = lt_calloc(a->version_count, sizeof(*c->versions))) != NULL;
        c->version_cap_ = ok ? a->version_count : 0;
        for (size_t i = 0; ok && i < a->version_count; i++) {
            c->version_count = i + 1;
            c->versions[i].put_ms = a->versions[i].put_ms;
            ok = dup_opt(a->versions[i].version, &c->versions[i].version) &&
                 dup_opt(a->versions[i].key, &c->versions[i].key);
        }
    }
    if (ok && a->deployed_id_count > 0) {
        ok = (c->deployed_ids = lt_calloc(a->deployed_id_count, sizeof(char *))) != NULL;
        for (size_t i = 0; ok && i < a->deployed_id_count; i++) {
            c->deployed_id_count = i + 1;
            ok = dup_opt(a->deployed_ids[i], &c->deployed_ids[i]);
        }
    }
    if (ok && a->history_count > 0) {
        ok = (c->history = lt_calloc(a->history_count, sizeof(*c->history))) != NULL;
        c->history_cap_ = ok ? a->history_count : 0;
        for (size_t i = 0; ok && i < a->history_count; i++) {
            c->history_count = i + 1;
            c->history[i].kind = a->history[i].kind;
            c->history[i].time_ms = a->history[i].time_ms;
            ok = dup_opt(a->history[i].version, &c->history[i].version);
        }
    }
    if (!ok) {
        lt_store_app_free(c);
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    }
    *out = c;
    return LT_OK;
}

/* ---- lookups --------------------------------------------------------------------------------- */

static void count(lt__store_view *v, bool answered)
{
    atomic_fetch_add(answered ? &v->view_reads : &v->kv_reads, 1);
}

bool lt__store_view_index(lt_store *s, const char *lattice, const char *name, lt_store_app **out,
                          uint64_t *rev, lt_status *st)
{
    lt__store_view *v = s->view;
    lt__store_vlattice *l;
    lt__store_vindex *e;

    *out = NULL;
    *rev = 0;
    if (v == NULL)
        return false;
    if (!lt__store_view_usable(&v->fm)) {
        count(v, false);
        return false;
    }
    pthread_rwlock_rdlock(&v->lock);
    l = lt__store_view_lattice(v, lattice);
    e = l != NULL ? lt_map_get(&l->apps, name) : NULL;
    if (e != NULL)
        *rev = e->rev;
    if (e != NULL && e->app != NULL)
        *st = lt__store_app_dup(e->app, out);
    else
        *st = LT_ERR_NOT_FOUND;
    pthread_rwlock_unlock(&v->lock);
    count(v, true);
    return true;
}

static int app_cmp(const void *a, const void *b)
{
    return strcmp((*(lt_store_app *const *)a)->name, (*(lt_store_app *const *)b)->name);
}

bool lt__store_view_app_list(lt_store *s, const char *lattice, lt_store_app ***out, size_t *n,
                             lt_status *st)
{
    lt__store_view *v = s->view;
    lt__store_vlattice *l;
    lt_store_app **apps = NULL;
    size_t made = 0, i = 0;
    lt__store_vindex *e;

    *out = NULL;
    *n = 0;
    if (v == NULL)
        return false;
    if (!lt__store_view_usable(&v->fm)) {
        count(v, false);
        return false;
    }
    *st = LT_OK;
    pthread_rwlock_rdlock(&v->lock);
    l = lt__store_view_lattice(v, lattice);
    if (l != NULL && l->apps.count > 0 && (apps = lt_calloc(l->apps.count, sizeof(*apps))) == NULL)
        *st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
    while (*st == LT_OK && l != NULL && (e = lt_map_next(&l->apps, &i)) != NULL)
        if (e->app != NULL && (*st = lt__store_app_dup(e->app, &apps[made])) == LT_OK)
            made++;
    pthread_rwlock_unlock(&v->lock);
    count(v, true);
    if (*st != LT_OK) {
        lt_store_app_list_free(apps, made);
        return true;
    }
    if (made > 1)
        qsort(apps, made, sizeof(*apps), app_cmp);
    if (made == 0) {
        lt_free(apps);
        apps = NULL;
    }
    *out = apps;
    *n = made;
    return true;
}

static int rev_cmp(const void *a, const void *b)
{
    return strcmp(((const lt_store_app_rev *)a)->name, ((const lt_store_app_rev *)b)->name);
}

void lt_store_app_revs_free(lt_store_app_rev *revs, size_t count)
{
    for (size_t i = 0; revs != NULL && i < count; i++)
        lt_free(revs[i].name);
    lt_free(revs);
}

lt_status lt_store_app_revs_mark(lt_store *s, const char *lattice, uint64_t *mark)
{
    lt__store_view *v = s->view;
    lt__store_vlattice *l;

    *mark = 0;
    if (v == NULL || !lt__store_view_usable(&v->fm) || !lt__store_view_usable(&v->fs))
        return LT_ERR_STATE;
    pthread_rwlock_rdlock(&v->lock);
    l = lt__store_view_lattice(v, lattice);
    *mark = l != NULL ? l->changed : 0;
    pthread_rwlock_unlock(&v->lock);
    return LT_OK;
}

lt_status lt_store_app_revs(lt_store *s, const char *lattice, lt_store_app_rev **out, size_t *count)
{
    lt__store_view *v = s->view;
    lt__store_vlattice *l;
    lt_store_app_rev *revs = NULL;
    size_t made = 0, i = 0;
    lt__store_vindex *e;
    lt_status st = LT_OK;

    *out = NULL;
    *count = 0;
    if (v == NULL || !lt__store_view_usable(&v->fm) || !lt__store_view_usable(&v->fs))
        return LT_ERR_STATE;
    pthread_rwlock_rdlock(&v->lock);
    l = lt__store_view_lattice(v, lattice);
    if (l != NULL && l->apps.count > 0 && (revs = lt_calloc(l->apps.count, sizeof(*revs))) == NULL)
        st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
    while (st == LT_OK && l != NULL && (e = lt_map_next(&l->apps, &i)) != NULL) {
        const lt__store_vstatus *vs;

        if (e->app == NULL)
            continue; /* a delete marker */
        vs = lt_map_get(&l->statuses, e->name);
        revs[made] = (lt_store_app_rev){ lt_strdup(e->name), e->rev,
                                         vs != NULL && vs->json != NULL ? vs->rev : 0,
                                         (uint64_t)v->fm.reset_gen << 32 | v->fs.reset_gen };
        if (revs[made++].name == NULL)
            st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
    }
    pthread_rwlock_unlock(&v->lock);
    if (st != LT_OK) {
        lt_store_app_revs_free(revs, made);
        return st;
    }
    if (made > 1)
        qsort(revs, made, sizeof(*revs), rev_cmp);
    *out = revs;
    *count = made;
    return LT_OK;
}

bool lt__store_view_manifest(lt_store *s, const char *lattice, const char *name, const char *id,
                             char **json, size_t *len)
{
    char key[LT__KEY_MAX];
    lt__store_view *v = s->view;
    lt__store_vlattice *l;
    lt__store_vmanifest *m;
    int k;

    *json = NULL;
    if (v == NULL)
        return false;
    k = snprintf(key, sizeof(key), "%s.%s", name, id);
    if (k < 0 || (size_t)k >= sizeof(key))
        return false;
    pthread_rwlock_rdlock(&v->lock); /* immutable keys: a hit is right even if not synced */
    l = lt__store_view_lattice(v, lattice);
    m = l != NULL ? lt_map_get(&l->manifests, key) : NULL;
    if (m != NULL && (*json = lt_strndup(m->json, m->len)) != NULL && len != NULL)
        *len = m->len;
    pthread_rwlock_unlock(&v->lock);
    atomic_fetch_add(*json != NULL ? &v->manifest_hits : &v->manifest_misses, 1);
    return *json != NULL;
}

bool lt__store_view_status_get(lt_store *s, const char *lattice, const char *name, char **json,
                               size_t *len, lt_status *st)
{
    lt__store_view *v = s->view;
    lt__store_vlattice *l;
    lt__store_vstatus *e;

    *json = NULL;
    if (v == NULL)
        return false;
    if (!lt__store_view_usable(&v->fs)) {
        count(v, false);
        return false;
    }
    /* Absent is answered too: statuses are the scheduler's, seen here through the watch like
     * any other value (and status_list answers the same). */
    *st = LT_ERR_NOT_FOUND;
    pthread_rwlock_rdlock(&v->lock);
    l = lt__store_view_lattice(v, lattice);
    e = l != NULL ? lt_map_get(&l->statuses, name) : NULL;
    if (e != NULL && e->json != NULL) {
        *json = lt_strndup(e->json, e->len);
        *st = *json != NULL ? LT_OK : LT_FAIL(LT_ERR_NOMEM, "out of memory");
        if (len != NULL)
            *len = e->len;
    }
    pthread_rwlock_unlock(&v->lock);
    count(v, true);
    return true;
}

static int status_cmp(const void *a, const void *b)
{
    return strcmp(((const lt_store_status_entry *)a)->name,
                  ((const lt_store_status_entry *)b)->name);
}

bool lt__store_view_status_list(lt_store *s, const char *lattice, lt_store_status_entry **out,
                                size_t *n, lt_status *st)
{
    lt__store_view *v = s->view;
    lt__store_vlattice *l;
    lt_store_status_entry *sts = NULL;
    size_t made = 0, i = 0;
    lt__store_vstatus *e;

    *out = NULL;
    *n = 0;
    if (v == NULL)
        return false;
    if (!lt__store_view_usable(&v->fs)) {
        count(v, false);
        return false;
    }
    *st = LT_OK;
    pthread_rwlock_rdlock(&v->lock);
    l = lt__store_view_lattice(v, lattice);
    if (l != NULL && l->statuses.count > 0 &&
        (sts = lt_calloc(l->statuses.count, sizeof(*sts))) == NULL)
        *st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
    while (*st == LT_OK && l != NULL && (e = lt_map_next(&l->statuses, &i)) != NULL) {
        if (e->json == NULL)
            continue;
        sts[made].name = lt_strdup(e->name);
        sts[made].json = lt_strndup(e->json, e->len);
        made++;
        if (sts[made - 1].name == NULL || sts[made - 1].json == NULL)
            *st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
    }
    pthread_rwlock_unlock(&v->lock);
    count(v, true);
    if (*st != LT_OK) {
        lt_store_status_list_free(sts, made);
        return true;
    }
    if (made > 1)
        qsort(sts, made, sizeof(*sts), status_cmp);
    if (made == 0) {
        lt_free(sts);
        sts = NULL;
    }
    *out = sts;
    *n = made;
    return true;
}

lt_status lt_store_id_owner(lt_store *s, const char *lattice, const char *id, const char *except,
                            char owner[LT_STORE_MAX_NAME + 1], bool *found)
{
    lt__store_view *v = s->view;
    lt__store_vlattice *l;
    lt__store_vowners *o;
    const char *best = NULL;

    *found = false;
    owner[0] = '\0';
    if (v == NULL || !lt__store_view_usable(&v->fm))
        return LT_ERR_STATE;
    pthread_rwlock_rdlock(&v->lock);
    l = lt__store_view_lattice(v, lattice);
    o = l != NULL && id != NULL ? lt_map_get(&l->owners, id) : NULL;
    for (size_t k = 0; o != NULL && k < o->n; k++) /* the first by name, as a sorted list gives */
        if ((except == NULL || strcmp(o->apps[k], except) != 0) &&
            (best == NULL || strcmp(o->apps[k], best) < 0))
            best = o->apps[k];
    if (best != NULL) {
        snprintf(owner, LT_STORE_MAX_NAME + 1, "%s", best);
        *found = true;
    }
    pthread_rwlock_unlock(&v->lock);
    count(v, true);
    return LT_OK;
}
