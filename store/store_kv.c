/*
 * store_kv.c - the store's operations on top of the KV primitives
 * (store_prim.c): app indexes, the update loop with retry (and no deletion of
 * what an index may name after an ambiguous write), manifests and status
 * values.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_log.h"
#include "store_int.h"

/* ---- app index ------------------------------------------------------------------------------- */

/*
 * Read an index; *app is a new empty one (revision 0) when missing. *cas_rev for the write.
 * With *viewed true it may come from the view (which then sets *viewed, else clears it).
 */
static lt_status load_index(lt_store *s, const char *lattice, const char *name, lt_buf *key,
                            lt_store_app **app, uint64_t *cas_rev, bool *viewed)
{
    char *value = NULL;
    size_t len = 0;
    lt_status st;

    *app = NULL;
    if ((st = lt__store_key_index(lattice, name, key)) != LT_OK)
        return st;
    if (viewed != NULL && *viewed &&
        (*viewed = lt__store_view_index(s, lattice, name, app, cas_rev, &st)))
        return st == LT_ERR_NOT_FOUND ? lt__store_app_new(lattice, name, app) : st;
    if ((st = lt__store_kv_last(s, s->mbucket, key->ptr, &value, &len, cas_rev)) != LT_OK)
        return st;
    if (value == NULL)
        return lt__store_app_new(lattice, name, app);
    st = lt__store_index_decode(lattice, name, value, len, app);
    lt_free(value);
    if (st == LT_OK)
        (*app)->revision = *cas_rev;
    return st;
}

lt_status lt_store_app_get(lt_store *s, const char *lattice, const char *name, lt_store_app **out)
{
    uint64_t rev = 0;
    lt_status st;

    /* An app absent from the view is confirmed in KV (this replica's view may lag another's). */
    if (lt__store_view_index(s, lattice, name, out, &rev, &st) && st != LT_ERR_NOT_FOUND)
        return st;
    return lt_store_app_get_fresh(s, lattice, name, out);
}

lt_status lt_store_app_get_fresh(lt_store *s, const char *lattice, const char *name,
                                 lt_store_app **out)
{
    char kbuf[LT__KEY_MAX];
    lt_buf key;
    uint64_t rev = 0;
    lt_status st;

    lt_buf_init_on(&key, kbuf, sizeof(kbuf), LT__KEY_MAX);
    st = load_index(s, lattice, name, &key, out, &rev, NULL);
    lt_buf_cleanup(&key);
    if (st == LT_OK && (*out)->revision == 0) {
        lt_store_app_free(*out);
        *out = NULL;
        return LT_ERR_NOT_FOUND;
    }
    return st;
}

void lt_store_app_list_free(lt_store_app **apps, size_t count)
{
    for (size_t i = 0; apps != NULL && i < count; i++)
        lt_store_app_free(apps[i]);
    lt_free(apps);
}

lt_status lt_store_app_list(lt_store *s, const char *lattice, lt_store_app ***out, size_t *count)
{
    char fbuf[LT__KEY_MAX];
    lt_buf filter;
    lt__store_kv_item *items = NULL;
    lt_store_app **apps = NULL;
    size_t n = 0, made = 0, skip;
    lt_status st;

    *out = NULL;
    *count = 0;
    lt_buf_init_on(&filter, fbuf, sizeof(fbuf), LT__KEY_MAX);
    if (!lt_store_name_is_valid(lattice)) {
        st = LT_FAIL(LT_ERR_INVALID, "invalid lattice name");
        goto out;
    }
    if (lt__store_view_app_list(s, lattice, out, count, &st))
        goto out;
    if ((st = lt_buf_appendf(&filter, "app.%s.*", lattice)) != LT_OK)
        goto out;
    if ((st = lt__store_kv_scan(s, s->manifests, filter.ptr, &items, &n)) != LT_OK)
        goto out;
    skip = filter.len - 1; /* "app.{lattice}." */
    if (n > 0 && (apps = lt_calloc(n, sizeof(*apps))) == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = items[i].key + skip;

        st = lt__store_index_decode(lattice, name, items[i].value, items[i].len, &apps[made]);
        if (st == LT_ERR_PARSE) {
            LT_WARN("store", "skipping unreadable index %s: %s", items[i].key, lt_error_message());
            continue;
        }
        if (st != LT_OK)
            goto out;
        made++;
    }
    st = LT_OK;
    *out = apps;
    *count = made;
    apps = NULL;
out:
    lt_store_app_list_free(apps, made);
    lt__store_kv_items_free(items, n);
    lt_buf_cleanup(&filter);
    return st;
}

/* ---- update loop ----------------------------------------------------------------------------- */

/* kvStore_Delete of key in bucket that also tells the delete marker's revision (for the view)
 * and waits no longer than the thread's deadline allows. A delete is always sent, even past
 * the deadline (then its answer is hardly waited for): it only ever removes what nothing names,
 * and skipping it would leave that behind for good. */
static natsStatus delete_marker(lt_store *s, const char *bucket, const char *key, uint64_t *rev)
{
    char subj[2 * LT__KEY_MAX];
    natsMsg *msg = NULL;
    jsPubAck *pa = NULL;
    jsPubOptions po;
    natsStatus ns;

    *rev = 0;
    jsPubOptions_Init(&po);
    po.MaxWait = lt__store_wait_ms(LT__JS_WAIT_MS);
    snprintf(subj, sizeof(subj), "$KV.%s.%s", bucket, key);
    ns = natsMsg_Create(&msg, subj, NULL, NULL, 0);
    if (ns == NATS_OK)
        ns = natsMsgHeader_Set(msg, "KV-Operation", "DEL");
    if (ns == NATS_OK)
        ns = js_PublishMsg(&pa, s->js, msg, &po, NULL);
    if (ns == NATS_OK)
        *rev = pa->Sequence;
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(msg);
    return ns;
}

static void delete_manifest(lt_store *s, const char *lattice, const char *name, const char *id)
{
    char kbuf[LT__KEY_MAX];
    lt_buf key;

    uint64_t rev = 0;
    natsStatus ns;

    lt_buf_init_on(&key, kbuf, sizeof(kbuf), LT__KEY_MAX);
    if (lt__store_key_manifest(lattice, name, id, &key) == LT_OK &&
        (ns = delete_marker(s, s->mbucket, key.ptr, &rev)) != NATS_OK)
        LT_WARN("store", "cannot delete %s (left as garbage unless it went through): %s", key.ptr,
                natsStatus_GetText(ns));
    lt_buf_cleanup(&key);
}

static bool has_key(const lt_store_app *app, const char *id)
{
    for (size_t i = 0; app != NULL && i < app->version_count; i++)
        if (strcmp(app->versions[i].key, id) == 0)
            return true;
    return false;
}

/* Keys ids an index refers to (copies), to find what an update removed. */
static char **key_ids(const lt_store_app *app, size_t *n)
{
    char **ids = lt_calloc(app->version_count + 1, sizeof(*ids));

    *n = 0;
    if (ids == NULL)
        return NULL;
    for (size_t i = 0; i < app->version_count; i++) {
        if ((ids[i] = lt_strdup(app->versions[i].key)) == NULL)
            break;
        *n = i + 1;
    }
    return ids;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        lt_free(v[i]);
    lt_free(v);
}

/* Write manifest m under the new id: waiting for the answer (p NULL), or only sending it
 * (lt__store_kv_cas_send into p, on the view's connection). */
static lt_status manifest_write(lt_store *s, const char *lattice, const char *name,
                                const lt_store_manifest *m, const char *id, lt__store_pending *p)
{
    char kbuf[LT__KEY_MAX];
    lt_buf key;
    lt_status st;

    lt_buf_init_on(&key, kbuf, sizeof(kbuf), LT__KEY_MAX);
    st = lt__store_key_manifest(lattice, name, id, &key);
    if (st == LT_OK && p != NULL)
        st = lt__store_kv_cas_send(s, lt__store_view_conn(s), s->mbucket, key.ptr, m->json, m->len,
                                   0, p);
    else if (st == LT_OK)
        st = lt__store_kv_cas(s, s->mbucket, key.ptr, m->json, m->len, false, 0, NULL);
    lt_buf_cleanup(&key);
    return st;
}

/* A new manifest's write that failed (st) before any index named it. */
static lt_status manifest_failed(lt_store *s, const char *lattice, const char *name, const char *id,
                                 lt_status st)
{
    if (st != LT_ERR_AMBIGUOUS)
        return st;
    delete_manifest(s, lattice, name, id); /* no index names it yet: removing it is safe */
    return LT_FAIL(LT_ERR_TIMEOUT, "cannot store the manifest of %s/%s: the store did not answer",
                   lattice, name);
}

/*
 * The answer to the manifest's write sent by manifest_write, after the index's update ended with
 * st; named: the index names the manifest (st LT_OK and the id in it), or may (st
 * LT_ERR_AMBIGUOUS). Returns the update's outcome (with st's message): st, unless an index that
 * names or may name the manifest has none stored. Then it is written once more, waiting (an index
 * must never name a missing manifest); when that fails too the outcome is LT_ERR_AMBIGUOUS, so
 * that the caller deletes nothing (either write may have landed).
 */
static lt_status manifest_settle(lt_store *s, const char *lattice, const char *name,
                                 const lt_store_manifest *m, const char *id, lt__store_pending *p,
                                 lt_status st, bool named)
{
    char why[512];
    lt_status mst;

    snprintf(why, sizeof(why), "%s", lt_error_message()); /* the wait may overwrite it */
    if ((mst = lt__store_kv_cas_wait(p, NULL)) == LT_OK || !named)
        goto keep; /* not named: the caller removes the manifest, stored or not */
    /* Write it again, waiting. A conflict there means the first write was applied after all
     * (nothing else writes this new id). */
    LT_WARN("store", "%s/%s: writing manifest %s again after: %s", lattice, name, id,
            lt_error_message());
    mst = manifest_write(s, lattice, name, m, id, NULL);
    if (mst == LT_OK || mst == LT_ERR_CONFLICT)
        goto keep;
    return LT_FAIL(LT_ERR_AMBIGUOUS,
                   "the new version may be recorded without its manifest: %s; if `latticectl "
                   "get %s --version V` fails for it, delete that version and put it again",
                   lt_error_message(), name);
keep:
    return st == LT_OK ? st : LT_FAIL(st, "%s", why);
}

/*
 * One attempt: LT_ERR_CONFLICT asks for another. *written is the index written (or read).
 * With use_view the index comes from the view when it can answer; only a successful
 * compare-and-set confirms it, so any other decision on it asks for an attempt on KV.
 */
static lt_status update_once(lt_store *s, const char *lattice, const char *name, const char *new_id,
                             bool *use_view, lt_store_update_fn fn, void *arg,
                             lt_store_app **written, char ***removed, size_t *nremoved)
{
    bool viewed = *use_view;
    char kbuf[LT__KEY_MAX];
    lt_buf key;
    lt_store_app *app = NULL;
    lt_store_decision decision = LT_STORE_WRITE;
    char *json = NULL, **before = NULL;
    size_t len = 0, nbefore = 0, old_count;
    uint64_t rev = 0, new_rev = 0;
    lt_status st;

    lt_buf_init_on(&key, kbuf, sizeof(kbuf), LT__KEY_MAX);
    st = load_index(s, lattice, name, &key, &app, &rev, &viewed);
    *use_view = viewed; /* tells the caller whether this attempt was decided on the view */
    if (st != LT_OK)
        goto out;
    if ((before = key_ids(app, &nbefore)) == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
        goto out;
    }
    old_count = app->version_count;
    if ((st = fn(app, new_id, &decision, arg)) != LT_OK)
        goto out;
    if (viewed && (decision == LT_STORE_SKIP || (app->deleted && !app->revision))) {
        st = LT_ERR_CONFLICT; /* nothing for a compare-and-set to confirm: decide on KV */
        goto out;
    }
    if (decision == LT_STORE_SKIP || (app->deleted && app->revision == 0)) {
        if (app->deleted)
            app->deleted = false;
        goto done;
    }
    if (!app->deleted && app->version_count > old_count &&
        app->version_count > (s->max_versions ? s->max_versions : LT_STORE_MAX_VERSIONS)) {
        st = LT_FAIL(LT_ERR_TOO_BIG,
                     "Application %s already has %zu versions, the most latticed keeps; delete "
                     "old versions first",
                     name, old_count);
        goto out;
    }
    app->updated_ms = lt_store_now_ms();
    if (app->created_ms == 0)
        app->created_ms = app->updated_ms;
    if (!app->deleted && (st = lt__store_index_encode(app, &json, &len)) != LT_OK)
        goto out;
    viewed = false; /* from here the compare-and-set judges the view's revision */
    st = lt__store_kv_cas(s, s->mbucket, key.ptr, json, len, app->deleted, rev, &new_rev);
    if (st != LT_OK)
        goto out;
    app->revision = app->deleted ? 0 : new_rev;
    lt__store_view_put_index(s, lattice, name, app->deleted ? NULL : app, new_rev);
done:
    /* What the update dropped: every id before that the result no longer names. */
    for (size_t i = 0; i < nbefore; i++) {
        if (!app->deleted && has_key(app, before[i])) {
            lt_free(before[i]);
            before[i] = NULL;
            continue;
        }
        char *id = before[i];

        before[i] = NULL;
        before[(*nremoved)++] = id;
    }
    *removed = before;
    before = NULL;
    *written = app;
    app = NULL;
out:
    /* A refusal decided on the view (fn's, the version cap, the index size) may be the view's
     * lag: decide again on KV. */
    if (viewed && st != LT_OK && st != LT_ERR_NOMEM)
        st = LT_ERR_CONFLICT;
    free_strv(before, nbefore);
    lt_free(json);
    lt_store_app_free(app);
    lt_buf_cleanup(&key);
    return st;
}

/* Compare-and-set conflicts that made lt_store_update read and try again (the process's). */
static _Atomic uint64_t cas_retries;

uint64_t lt_store_cas_retries(void)
{
    return atomic_load_explicit(&cas_retries, memory_order_relaxed);
}

lt_status lt_store_update(lt_store *s, const char *lattice, const char *name,
                          const lt_store_manifest *manifest, lt_store_update_fn fn, void *arg,
                          lt_store_app **out)
{
    char id[LT_STORE_ULID_LEN + 1] = "";
    lt__store_pending pending = { 0 };
    lt_store_app *app = NULL;
    char **removed = NULL;
    size_t nremoved = 0;
    unsigned tries = s->cas_retries ? s->cas_retries : LT_STORE_CAS_RETRIES;
    lt_status st = LT_ERR_CONFLICT;

    if (out != NULL)
        *out = NULL;
    if (!lt_store_name_is_valid(lattice) || !lt_store_name_is_valid(name))
        return LT_FAIL(LT_ERR_INVALID, "invalid lattice or application name");
    if (lt__store_out_of_time()) /* waited too long to begin: nothing is sent */
        return LT_FAIL(LT_ERR_TIMEOUT, "%s/%s: no time left to change it", lattice, name);
    /* With a view (the API's store) the manifest's write is not waited for before the index's:
     * both go out on one connection to one stream, so the manifest lands first, and one round
     * trip serves both (manifest_settle). Without one, the manifest is written first. */
    if (manifest != NULL) {
        lt_store_ulid(id);
        st = manifest_write(s, lattice, name, manifest, id,
                            lt__store_view_conn(s) != NULL ? &pending : NULL);
        if (st != LT_OK)
            return manifest_failed(s, lattice, name, id, st);
    }
    /* The first attempt may be decided on the view; then it does not count against tries
     * (after a conflict the view may be behind: every retry reads KV). */
    for (unsigned i = 0, limit = tries; i < limit; i++) {
        bool viewed = i == 0;

        st = update_once(s, lattice, name, id[0] ? id : NULL, &viewed, fn, arg, &app, &removed,
                         &nremoved);
        if (viewed)
            limit++;
        if (st != LT_ERR_CONFLICT || lt__store_out_of_time())
            break;
        atomic_fetch_add_explicit(&cas_retries, 1, memory_order_relaxed);
        LT_DEBUG("store", "conflict updating %s/%s, attempt %u", lattice, name, i + 1);
    }
    if (st == LT_ERR_CONFLICT)
        st = lt__store_out_of_time()
                 ? LT_FAIL(LT_ERR_TIMEOUT, "%s/%s kept changing: out of time", lattice, name)
                 : LT_FAIL(LT_ERR_CONFLICT, "%s/%s kept changing: gave up after %u attempts",
                           lattice, name, tries);
    if (pending.sent)
        st = manifest_settle(s, lattice, name, manifest, id, &pending, st,
                             st == LT_ERR_AMBIGUOUS ||
                                 (st == LT_OK && !app->deleted && has_key(app, id)));
    if (st == LT_ERR_AMBIGUOUS) {
        /* The index may name the new manifest and may no longer name removed ones: keep all. */
        st = LT_FAIL(LT_ERR_AMBIGUOUS,
                     "The outcome of this change to application %s is "
                     "unknown: the store did not confirm it (%s). Nothing was rolled back; "
                     "check with `latticectl versions %s` before retrying",
                     name, lt_error_message(), name);
        LT_WARN("store", "%s/%s: %s", lattice, name, lt_error_message());
        goto out;
    }
    if (st == LT_OK) {
        if (app->deleted)
            LT_IGNORE(lt_store_status_delete(s, lattice, name));
        for (size_t i = 0; i < nremoved; i++)
            delete_manifest(s, lattice, name, removed[i]);
    }
    /* Only after a definite outcome: not written at all, or written without it. */
    if (id[0] && (st != LT_OK || app->deleted || !has_key(app, id)))
        delete_manifest(s, lattice, name, id); /* stored for nothing */
    if (st == LT_OK && out != NULL && !app->deleted) {
        *out = app;
        app = NULL;
    }
out:
    free_strv(removed, nremoved);
    lt_store_app_free(app);
    return st;
}

/* ---- manifests ------------------------------------------------------------------------------- */

lt_status lt_store_manifest_get(lt_store *s, const lt_store_app *app, const char *v,
                                char **new_json, size_t *len)
{
    char kbuf[LT__KEY_MAX];
    lt_buf key;
    const lt_store_version *ver;
    long i;
    uint64_t rev;
    lt_status st;

    *new_json = NULL;
    if (v == NULL) {
        ver = lt_store_app_latest(app);
    } else {
        i = lt_store_app_find(app, v);
        ver = i >= 0 ? &app->versions[i] : NULL;
    }
    if (ver == NULL)
        return LT_ERR_NOT_FOUND;
    if (lt__store_view_manifest(s, app->lattice, app->name, ver->key, new_json, len))
        return LT_OK;
    lt_buf_init_on(&key, kbuf, sizeof(kbuf), LT__KEY_MAX);
    st = lt__store_key_manifest(app->lattice, app->name, ver->key, &key);
    if (st == LT_OK)
        st = lt__store_kv_last(s, s->mbucket, key.ptr, new_json, len, &rev);
    if (st == LT_OK && *new_json == NULL)
        st = LT_FAIL(LT_ERR_NOT_FOUND, "manifest %s is missing", key.ptr);
    lt_buf_cleanup(&key);
    return st;
}

/* ---- status ---------------------------------------------------------------------------------- */

lt_status lt_store_status_put(lt_store *s, const char *lattice, const char *name, const char *json,
                              size_t len)
{
    char kbuf[LT__KEY_MAX];
    lt_buf key;
    uint64_t rev = 0;
    natsStatus ns;
    lt_status st;

    if (len > LT_STORE_MAX_VALUE_BYTES)
        return LT_FAIL(LT_ERR_TOO_BIG, "status of %s is %zu bytes (limit %u)", name, len,
                       LT_STORE_MAX_VALUE_BYTES);
    lt_buf_init_on(&key, kbuf, sizeof(kbuf), LT__KEY_MAX);
    st = lt__store_key_status(lattice, name, &key);
    if (st == LT_OK && (ns = kvStore_Put(&rev, s->status, key.ptr, json, (int)len)) != NATS_OK)
        st = lt__store_nats_fail(ns, 0, "cannot write status", key.ptr);
    if (st == LT_OK)
        lt__store_view_put_status(s, lattice, name, json, len, rev);
    lt_buf_cleanup(&key);
    return st;
}

lt_status lt_store_status_get(lt_store *s, const char *lattice, const char *name, char **new_json,
                              size_t *len)
{
    char kbuf[LT__KEY_MAX];
    lt_buf key;
    uint64_t rev;
    lt_status st;

    *new_json = NULL;
    if (lt__store_view_status_get(s, lattice, name, new_json, len, &st))
        return st;
    lt_buf_init_on(&key, kbuf, sizeof(kbuf), LT__KEY_MAX);
    st = lt__store_key_status(lattice, name, &key);
    if (st == LT_OK)
        st = lt__store_kv_last(s, s->sbucket, key.ptr, new_json, len, &rev);
    if (st == LT_OK && *new_json == NULL)
        st = LT_ERR_NOT_FOUND;
    lt_buf_cleanup(&key);
    return st;
}

lt_status lt_store_status_delete(lt_store *s, const char *lattice, const char *name)
{
    char kbuf[LT__KEY_MAX];
    lt_buf key;
    uint64_t rev = 0;
    natsStatus ns;
    lt_status st;

    lt_buf_init_on(&key, kbuf, sizeof(kbuf), LT__KEY_MAX);
    st = lt__store_key_status(lattice, name, &key);
    if (st == LT_OK && (ns = delete_marker(s, s->sbucket, key.ptr, &rev)) != NATS_OK)
        st = lt__store_nats_fail(ns, 0, "cannot delete status", key.ptr);
    if (st == LT_OK)
        lt__store_view_put_status(s, lattice, name, NULL, 0, rev);
    lt_buf_cleanup(&key);
    return st;
}

void lt_store_status_list_free(lt_store_status_entry *e, size_t count)
{
    for (size_t i = 0; e != NULL && i < count; i++) {
        lt_free(e[i].name);
        lt_free(e[i].json);
    }
    lt_free(e);
}

lt_status lt_store_status_list(lt_store *s, const char *lattice, lt_store_status_entry **out,
                               size_t *count)
{
    char fbuf[LT__KEY_MAX];
    lt_buf filter;
    lt__store_kv_item *items = NULL;
    lt_store_status_entry *e = NULL;
    size_t n = 0;
    lt_status st;

    *out = NULL;
    *count = 0;
    lt_buf_init_on(&filter, fbuf, sizeof(fbuf), LT__KEY_MAX);
    if (!lt_store_name_is_valid(lattice)) {
        st = LT_FAIL(LT_ERR_INVALID, "invalid lattice name");
        goto out;
    }
    if (lt__store_view_status_list(s, lattice, out, count, &st))
        goto out;
    if ((st = lt_buf_appendf(&filter, "%s.*", lattice)) != LT_OK ||
        (st = lt__store_kv_scan(s, s->status, filter.ptr, &items, &n)) != LT_OK)
        goto out;
    if (n > 0 && (e = lt_calloc(n, sizeof(*e))) == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) { /* move the strings over */
        e[i].name = lt_strdup(items[i].key + filter.len - 1);
        e[i].json = items[i].value;
        items[i].value = NULL;
        if (e[i].name == NULL) {
            lt_store_status_list_free(e, n);
            e = NULL;
            st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    *out = e;
    *count = n;
out:
    lt__store_kv_items_free(items, n);
    lt_buf_cleanup(&filter);
    return st;
}
