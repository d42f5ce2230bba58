/*
 * store_index.c - the per-app index: lifetime and editing helpers of
 * lt_store_app and its JSON form (see docs/internals/store.md for the
 * fields). Times are RFC 3339 strings in JSON, Unix ms in C.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_time.h"
#include "store_int.h"

static const char *const event_names[] = { "put", "deploy", "undeploy", "delete" };

const char *lt_store_event_name(lt_store_event_kind k)
{
    return (unsigned)k < sizeof(event_names) / sizeof(event_names[0]) ? event_names[k] : "?";
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lt_free(ids[i]);
    lt_free(ids);
}

void lt_store_app_free(lt_store_app *app)
{
    if (app == NULL)
        return;
    for (size_t i = 0; i < app->version_count; i++) {
        lt_free(app->versions[i].version);
        lt_free(app->versions[i].key);
    }
    lt_free(app->versions);
    for (size_t i = 0; i < app->history_count; i++)
        lt_free(app->history[i].version);
    lt_free(app->history);
    free_ids(app->deployed_ids, app->deployed_id_count);
    lt_free(app->lattice);
    lt_free(app->name);
    lt_free(app->deployed_version);
    lt_free(app->deployed_trace);
    lt_free(app->deployed_manifest);
    lt_free(app->description);
    lt_free(app);
}

lt_status lt__store_app_new(const char *lattice, const char *name, lt_store_app **out)
{
    lt_store_app *app = lt_calloc(1, sizeof(*app));

    *out = NULL;
    if (app == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    app->lattice = lt_strdup(lattice);
    app->name = lt_strdup(name);
    if (app->lattice == NULL || app->name == NULL) {
        lt_store_app_free(app);
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    }
    *out = app;
    return LT_OK;
}

long lt_store_app_find(const lt_store_app *app, const char *v)
{
    if (app == NULL || v == NULL)
        return -1;
    for (size_t i = 0; i < app->version_count; i++)
        if (strcmp(app->versions[i].version, v) == 0)
            return (long)i;
    return -1;
}

const lt_store_version *lt_store_app_latest(const lt_store_app *app)
{
    return app != NULL && app->version_count > 0 ? &app->versions[app->version_count - 1] : NULL;
}

/* Grow an array of elem-sized items so one more fits. */
static lt_status grow(void **arr, size_t *cap, size_t count, size_t elem)
{
    size_t ncap;
    void *p;

    if (count < *cap)
        return LT_OK;
    ncap = *cap ? *cap * 2 : 8;
    p = lt_realloc(*arr, ncap * elem);
    if (p == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    *arr = p;
    *cap = ncap;
    return LT_OK;
}

/* Append a version entry taking no ownership (copies). */
static lt_status add_version(lt_store_app *app, const char *v, const char *key, int64_t put_ms)
{
    lt_store_version *e;
    void *arr = app->versions;
    lt_status st = grow(&arr, &app->version_cap_, app->version_count, sizeof(*e));

    app->versions = arr;
    if (st != LT_OK)
        return st;
    e = &app->versions[app->version_count];
    e->version = lt_strdup(v);
    e->key = lt_strdup(key);
    e->put_ms = put_ms;
    if (e->version == NULL || e->key == NULL) {
        lt_free(e->version);
        lt_free(e->key);
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    }
    app->version_count++;
    return LT_OK;
}

lt_status lt_store_app_add_version(lt_store_app *app, const char *v, const char *key,
                                   int64_t put_ms)
{
    return add_version(app, v, key, put_ms);
}

void lt_store_app_remove_version(lt_store_app *app, size_t i)
{
    if (app == NULL || i >= app->version_count)
        return;
    lt_free(app->versions[i].version);
    lt_free(app->versions[i].key);
    memmove(&app->versions[i], &app->versions[i + 1],
            (app->version_count - i - 1) * sizeof(app->versions[0]));
    app->version_count--;
}

static lt_status push_event(lt_store_app *app, unsigned cap, lt_store_event_kind k,
                            const char *version, int64_t time_ms)
{
    char *v = NULL;
    void *arr;
    lt_status st;

    if (version != NULL && (v = lt_strdup(version)) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    if (cap == 0)
        cap = LT_STORE_MAX_HISTORY;
    while (app->history_count >= cap) { /* drop the oldest */
        lt_free(app->history[0].version);
        memmove(&app->history[0], &app->history[1],
                (app->history_count - 1) * sizeof(app->history[0]));
        app->history_count--;
    }
    arr = app->history;
    st = grow(&arr, &app->history_cap_, app->history_count, sizeof(app->history[0]));
    app->history = arr;
    if (st != LT_OK) {
        lt_free(v);
        return st;
    }
    app->history[app->history_count++] = (lt_store_event){ k, v, time_ms };
    return LT_OK;
}

lt_status lt_store_app_add_event(const lt_store *s, lt_store_app *app, lt_store_event_kind k,
                                 const char *version, int64_t time_ms)
{
    return push_event(app, s != NULL ? s->max_history : 0, k, version, time_ms);
}

lt_status lt_store_app_set_deployed(lt_store_app *app, const char *version, const char *const *ids,
                                    size_t id_count)
{
    char *v = NULL;
    char **nids = NULL;

    if (version != NULL) {
        v = lt_strdup(version);
        nids = id_count > 0 ? lt_calloc(id_count, sizeof(*nids)) : NULL;
        if (v == NULL || (id_count > 0 && nids == NULL))
            goto nomem;
        for (size_t i = 0; i < id_count; i++)
            if ((nids[i] = lt_strdup(ids[i])) == NULL)
                goto nomem;
    } else {
        id_count = 0;
    }
    lt_free(app->deployed_version);
    lt_free(app->deployed_trace); /* the deployer sets its own afterwards */
    app->deployed_trace = NULL;
    free_ids(app->deployed_ids, app->deployed_id_count);
    app->deployed_version = v;
    app->deployed_ids = nids;
    app->deployed_id_count = id_count;
    return LT_OK;
nomem:
    lt_free(v);
    free_ids(nids, id_count);
    return LT_FAIL(LT_ERR_NOMEM, "out of memory");
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static json_t *time_json(int64_t ms)
{
    char t[LT_TIME_TEXT_MAX];

    if (ms == 0)
        return json_null();
    lt_time_format_ms(ms, t);
    return json_string(t);
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static int64_t time_of(json_t *o, const char *key)
{
    int64_t ms = 0;
    const char *t = json_string_value(json_object_get(o, key));

    if (t == NULL || lt_time_parse_ms(t, LT_TIME_UTC_ONLY, &ms) != LT_OK)
        return 0;
    return ms;
}

static lt_status dup_opt(json_t *o, const char *key, char **out)
{
    const char *v = json_string_value(json_object_get(o, key));

    *out = NULL;
    if (v != NULL && (*out = lt_strdup(v)) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    return LT_OK;
}

static lt_status decode_lists(lt_store_app *app, json_t *root)
{
    json_t *arr, *it;
    size_t i;
    lt_status st;

    arr = json_object_get(root, "versions");
    json_array_foreach (arr, i, it) {
        const char *v = json_string_value(json_object_get(it, "version"));
        const char *k = json_string_value(json_object_get(it, "key"));

        if (v == NULL || k == NULL)
            return LT_FAIL(LT_ERR_PARSE, "index version entry %zu incomplete", i);
        if ((st = add_version(app, v, k, time_of(it, "put_at"))) != LT_OK)
            return st;
    }
    arr = json_object_get(root, "history");
    json_array_foreach (arr, i, it) {
        const char *ev = json_string_value(json_object_get(it, "event"));
        unsigned k;

        for (k = 0; k < 4; k++)
            if (ev != NULL && strcmp(ev, event_names[k]) == 0)
                break;
        if (k == 4)
            continue; /* an event kind from a newer latticed: skip */
        st = push_event(app, (unsigned)json_array_size(arr) + 1, (lt_store_event_kind)k,
                        json_string_value(json_object_get(it, "version")), time_of(it, "time"));
        if (st != LT_OK)
            return st;
    }
    arr = json_object_get(root, "deployed_ids");
    if (json_array_size(arr) > 0) {
        app->deployed_ids = lt_calloc(json_array_size(arr), sizeof(char *));
        if (app->deployed_ids == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "out of memory");
        json_array_foreach (arr, i, it) {
            const char *id = json_string_value(it);

            if (id == NULL)
                continue;
            if ((app->deployed_ids[app->deployed_id_count] = lt_strdup(id)) == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "out of memory");
            app->deployed_id_count++;
        }
    }
    return LT_OK;
}

lt_status lt__store_index_decode(const char *lattice, const char *name, const char *json,
                                 size_t len, lt_store_app **out)
{
    lt_store_app *app = NULL;
    json_error_t jerr;
    json_t *root = NULL;
    lt_status st;

    *out = NULL;
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        st = LT_FAIL(LT_ERR_PARSE, "index of %s/%s is not a JSON object: %s", lattice, name,
                     root == NULL ? jerr.text : "wrong type");
        goto out;
    }
    if ((st = lt__store_app_new(lattice, name, &app)) != LT_OK)
        goto out;
    if ((st = dup_opt(root, "deployed_version", &app->deployed_version)) != LT_OK ||
        (st = dup_opt(root, "description", &app->description)) != LT_OK ||
        (st = dup_opt(root, "deployed_traceparent", &app->deployed_trace)) != LT_OK ||
        (st = decode_lists(app, root)) != LT_OK)
        goto out;
    app->latest_shared = json_is_true(json_object_get(root, "shared"));
    app->deployed_ms = time_of(root, "deployed_at");
    app->undeployed_ms = time_of(root, "undeployed_at");
    app->created_ms = time_of(root, "created_at");
    app->updated_ms = time_of(root, "updated_at");
    *out = app;
    app = NULL;
out:
    json_decref(root);
    lt_store_app_free(app);
    return st;
}

/* Build the JSON tree; NULL when out of memory (jansson's set_new ignores NULL values safely). */
static json_t *encode_tree(const lt_store_app *app)
{
    json_t *root = json_object(), *vers = json_array(), *hist = json_array(), *ids = json_array();
    int bad = root == NULL || vers == NULL || hist == NULL || ids == NULL;

    for (size_t i = 0; !bad && i < app->version_count; i++)
        bad |= json_array_append_new(vers, json_pack("{s:s, s:s, s:o}", "version",
                                                     app->versions[i].version, "key",
                                                     app->versions[i].key, "put_at",
                                                     time_json(app->versions[i].put_ms)));
    for (size_t i = 0; !bad && i < app->history_count; i++)
        bad |=
            json_array_append_new(hist, json_pack("{s:s, s:o, s:o}", "event",
                                                  lt_store_event_name(app->history[i].kind),
                                                  "version", str_or_null(app->history[i].version),
                                                  "time", time_json(app->history[i].time_ms)));
    for (size_t i = 0; !bad && i < app->deployed_id_count; i++)
        bad |= json_array_append_new(ids, json_string(app->deployed_ids[i]));
    if (!bad)
        bad |= json_object_set_new(root, "schema", json_integer(1)) |
               json_object_set_new(root, "lattice", json_string(app->lattice)) |
               json_object_set_new(root, "name", json_string(app->name)) |
               json_object_set_new(root, "versions", vers) |
               json_object_set_new(root, "deployed_version", str_or_null(app->deployed_version)) |
               json_object_set_new(root, "deployed_at", time_json(app->deployed_ms)) |
               json_object_set_new(root, "undeployed_at", time_json(app->undeployed_ms)) |
               json_object_set_new(root, "description", str_or_null(app->description)) |
               json_object_set_new(root, "shared", json_boolean(app->latest_shared)) |
               json_object_set_new(root, "deployed_ids", ids) |
               json_object_set_new(root, "history", hist) |
               json_object_set_new(root, "created_at", time_json(app->created_ms)) |
               json_object_set_new(root, "updated_at", time_json(app->updated_ms));
    else {
        json_decref(vers);
        json_decref(hist);
        json_decref(ids);
    }
    if (!bad && app->deployed_trace != NULL) /* only when set: indexes stay as they were */
        bad |= json_object_set_new(root, "deployed_traceparent", json_string(app->deployed_trace));
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

lt_status lt__store_index_encode(const lt_store_app *app, char **out, size_t *len)
{
    json_t *root = encode_tree(app);
    char *text;
    size_t n;

    *out = NULL;
    if (root == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory encoding the index");
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (text == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory encoding the index");
    n = strlen(text);
    if (n > LT_STORE_MAX_INDEX_BYTES) {
        free(text); /* jansson's allocator */
        return LT_FAIL(LT_ERR_TOO_BIG, "index of %s would be %zu bytes (limit %u)", app->name, n,
                       LT_STORE_MAX_INDEX_BYTES);
    }
    *out = lt_strndup(text, n);
    free(text);
    if (*out == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    *len = n;
    return LT_OK;
}
