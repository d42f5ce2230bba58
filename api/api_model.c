/*
 * api_model.c - the manifest handlers of the API: put, get (one app or the
 * list, also the deprecated bare-array model.list), versions and del, plus
 * the request parsing they share (content type, sniffing, wadm's order of
 * put errors, the version annotation a put assigns).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_int.h"
#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_log.h"

#define NAME_INVALID                                                                   \
    "Manifest name %.*s contains invalid characters. Manifest names can only contain " \
    "alphanumeric characters, dashes, and underscores."

/* ---- manifest parsing ---------------------------------------------------------------------- */

/* Map a Content-Type value to a format; false when unsupported. Parameters (";...") ignored. */
static bool format_of(const char *ct, lt_model_format *fmt)
{
    static const char *const yaml[] = { "application/yaml", "application/x-yaml", "text/yaml",
                                        "text/x-yaml" };
    size_t n = strcspn(ct, ";");

    while (n > 0 && isspace((unsigned char)ct[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*ct))
        ct++, n--;
    if (n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0) {
        *fmt = LT_MODEL_FORMAT_JSON;
        return true;
    }
    for (size_t i = 0; i < sizeof(yaml) / sizeof(yaml[0]); i++)
        if (n == strlen(yaml[i]) && strncasecmp(ct, yaml[i], n) == 0) {
            *fmt = LT_MODEL_FORMAT_YAML;
            return true;
        }
    return false;
}

static bool is_parse_code(const char *code)
{
    return strcmp(code, "syntax") == 0 || strcmp(code, "limit") == 0 || strcmp(code, "schema") == 0;
}

/* wadm's put error for an invalid manifest, in wadm's order of checks. */
static json_t *invalid_reply(const lt_model_report *rep)
{
    const lt_model_diag *first = NULL, *name = NULL;

    for (size_t i = 0; rep != NULL && i < rep->count; i++) {
        const lt_model_diag *d = &rep->items[i];

        if (d->level != LT_MODEL_ERROR)
            continue;
        if (is_parse_code(d->code)) {
            if (d->line > 0)
                return lt__api_err("Unable to parse manifest: %s at line %u column %u", d->message,
                                   (unsigned)d->line, (unsigned)d->column);
            return lt__api_err("Unable to parse manifest: %s", d->message);
        }
        if (strcmp(d->message, "latest is not allowed in wadm") == 0)
            return lt__api_err(
                "invalid manifest version, errors: \"latest is not allowed in wadm\"");
        if (first == NULL)
            first = d;
        if (name == NULL && strcmp(d->path, "metadata.name") == 0)
            name = d;
    }
    if (name != NULL) {
        const char *a = strstr(name->message, "manifest name [");
        const char *b = strstr(name->message, "] is not allowed");

        if (a != NULL && b != NULL && b >= a + 15)
            return lt__api_err(NAME_INVALID, (int)(b - (a + 15)), a + 15);
    }
    if (first != NULL)
        return lt__api_err("%s", first->message);
    return lt__api_err("Unable to parse manifest: invalid manifest");
}

void lt__api_parse_manifest(const lt__api_req *r, lt_model **m, char **canon, size_t *canon_len,
                            bool *assigned, json_t **err_reply)
{
    lt_model_parse_opts opts = { .format = LT_MODEL_FORMAT_AUTO, .source_name = "manifest" };
    lt_model_report *rep = NULL;
    lt_buf out;
    char ulid[LT_STORE_ULID_LEN + 1];
    lt_status st;

    *m = NULL;
    *canon = NULL;
    *assigned = false;
    *err_reply = NULL;
    lt_buf_init(&out, LT_STORE_MAX_VALUE_BYTES);
    if (r->len > r->max_request) {
        *err_reply =
            lt__api_err("Unable to parse manifest: the request is %zu bytes, more than the "
                        "%zu allowed",
                        r->len, r->max_request);
        goto out;
    }
    if (r->content_type != NULL && !format_of(r->content_type, &opts.format)) {
        *err_reply = lt__api_err("Unable to parse manifest: Unsupported content type %.200s given. "
                                 "Wadm supports YAML and JSON",
                                 r->content_type);
        goto out;
    }
    opts.max_bytes = r->max_request;
    st = lt_model_parse(r->data, r->len, &opts, m, &rep);
    if (st == LT_ERR_NOMEM) {
        *err_reply = lt__api_err("Internal error: out of memory");
        goto out;
    }
    if (st != LT_OK) {
        *err_reply = invalid_reply(rep);
        goto out;
    }
    if (!lt_store_name_is_valid((*m)->name)) { /* e.g. longer than latticed keeps */
        *err_reply = lt__api_err(NAME_INVALID " At most %u characters.", (int)strlen((*m)->name),
                                 (*m)->name, LT_STORE_MAX_NAME);
        goto out;
    }
    if ((*m)->version == NULL) { /* wadm assigns a ULID */
        lt_store_ulid(ulid);
        *assigned = true;
        if (lt_model_set_annotation(*m, LT_MODEL_ANN_VERSION, ulid) != LT_OK) {
            *err_reply = lt__api_err("Internal error: out of memory");
            goto out;
        }
    }
    if (strlen((*m)->version) > LT_STORE_MAX_VERSION) {
        *err_reply =
            lt__api_err("Manifest version is longer than %u characters", LT_STORE_MAX_VERSION);
        goto out;
    }
    st = lt_model_to_json(*m, 0, &out);
    if (st != LT_OK) {
        *err_reply = lt__api_err("Unable to store manifest: its canonical form is over %u bytes",
                                 LT_STORE_MAX_VALUE_BYTES);
        goto out;
    }
    *canon_len = out.len;
    if ((*canon = lt_buf_take(&out)) == NULL)
        *err_reply = lt__api_err("Internal error: out of memory");
out:
    if (*err_reply != NULL) {
        lt_model_free(*m);
        *m = NULL;
    }
    lt_model_report_free(rep);
    lt_buf_cleanup(&out);
}

/** Description and shared flag of a canonical manifest JSON (for indexes). */
static void manifest_meta(const char *json, size_t len, char **description, bool *shared)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *ann = json_object_get(json_object_get(root, "metadata"), "annotations");
    const char *d = json_string_value(json_object_get(ann, LT_MODEL_ANN_DESCRIPTION));
    const char *sh = json_string_value(json_object_get(ann, LT_MODEL_ANN_SHARED));

    *description = d != NULL ? lt_strdup(d) : NULL;
    *shared = sh != NULL && strcasecmp(sh, "true") == 0;
    json_decref(root);
}

lt_status lt__api_load_model(lt_store *s, const lt_store_app *app, const char *v, lt_model **m,
                             char **json, size_t *len)
{
    lt_model_parse_opts opts = { .format = LT_MODEL_FORMAT_JSON, .source_name = "stored" };
    char *text = NULL;
    size_t n = 0;
    lt_status st;

    *m = NULL;
    st = lt_store_manifest_get(s, app, v, &text, &n);
    if (st == LT_OK) {
        opts.max_bytes = n + 1;
        st = lt_model_parse(text, n, &opts, m, NULL);
        if (st != LT_OK && st != LT_ERR_NOMEM)
            st = LT_FAIL(LT_ERR_PARSE, "stored manifest %s/%s %s does not parse", app->lattice,
                         app->name, v != NULL ? v : "(latest)");
    }
    if (st == LT_OK && json != NULL) {
        *json = text;
        text = NULL;
        if (len != NULL)
            *len = n;
    }
    lt_free(text);
    return st;
}

/* ---- put ----------------------------------------------------------------------------------- */

typedef struct {
    lt_store *store;
    const lt_model *m;
    char *description;
    bool shared;
    bool replace;  /* Latticed-Replace: an existing, undeployed version gets the new content */
    bool exists;   /* the version was already stored */
    bool deployed; /* replace: that version is the deployed one */
    bool replaced; /* replace: done */
    size_t total;  /* versions after the put */
} put_ctx;

/* put --replace of stored version i: the new manifest key, the old one is deleted after the
 * write (lt_store_update); refused while i is deployed. */
static lt_status replace_version(put_ctx *c, lt_store_app *app, long i, const char *new_key,
                                 int64_t now)
{
    lt_store_version *v = &app->versions[i];
    char *key;
    lt_status st;

    c->deployed = app->deployed_version != NULL && strcmp(app->deployed_version, v->version) == 0;
    if (c->deployed)
        return LT_ERR_STATE;
    if ((key = lt_strdup(new_key)) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    lt_free(v->key);
    v->key = key;
    v->put_ms = now;
    if ((st = lt_store_app_add_event(c->store, app, LT_STORE_EV_PUT, v->version, now)) != LT_OK)
        return st;
    c->replaced = true;
    return LT_OK;
}

static lt_status put_cb(lt_store_app *app, const char *new_key, lt_store_decision *d, void *arg)
{
    put_ctx *c = arg;
    int64_t now = lt_store_now_ms();
    long i = lt_store_app_find(app, c->m->version);
    lt_status st;

    c->exists = i >= 0;
    c->deployed = c->replaced = false;
    if (c->exists && !c->replace)
        return LT_ERR_STATE;
    if (c->exists) {
        if ((st = replace_version(c, app, i, new_key, now)) != LT_OK)
            return st;
        c->total = app->version_count;
        *d = LT_STORE_WRITE;
        if ((size_t)i + 1 < app->version_count)
            return LT_OK; /* not the latest: the app's description stays */
    } else if ((st = lt_store_app_add_version(app, c->m->version, new_key, now)) != LT_OK ||
               (st = lt_store_app_add_event(c->store, app, LT_STORE_EV_PUT, c->m->version, now)) !=
                   LT_OK) {
        return st;
    }
    lt_free(app->description);
    app->description = c->m->description != NULL ? lt_strdup(c->m->description) : NULL;
    if (c->m->description != NULL && app->description == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    app->latest_shared = c->m->shared;
    c->total = app->version_count;
    *d = LT_STORE_WRITE;
    return LT_OK;
}

json_t *lt__api_put(const lt__api_req *r)
{
    char why[LT__API_STORE_ERROR_MAX];
    const lt_model *m = r->body->model; /* parsed by lt__api_parse */
    size_t missing = 0;
    json_t *reply = NULL;
    put_ctx c = { .store = r->store, .m = m, .replace = r->replace && !r->body->assigned };
    lt_store_manifest sm = { r->body->canon, r->body->canon_len };
    lt_buf names, msg;
    lt_status st;

    lt_buf_init(&names, 64 * 1024);
    lt_buf_init(&msg, 128 * 1024);
    if (r->replace && r->body->assigned) { /* nothing to replace: it would store a new ULID */
        reply = lt__api_err("Replacing a version needs the manifest's version annotation "
                            "(metadata.annotations.version): %s has none",
                            m->name);
        goto out;
    }
    st = lt_store_update(r->store, r->lattice, m->name, &sm, put_cb, &c, NULL);
    if (st == LT_ERR_STATE && c.deployed) {
        reply = lt__api_err("Manifest version %s of %s is deployed: it cannot be replaced; put "
                            "a new version, or undeploy it first",
                            m->version, m->name);
        goto out;
    }
    if (st == LT_ERR_STATE && c.exists) {
        reply = lt__api_err("Manifest version %s already exists", m->version);
        goto out;
    }
    if (st == LT_ERR_TOO_BIG) {
        reply = lt__api_err("%s", lt_error_message());
        goto out;
    }
    if (st != LT_OK) {
        LT_WARN("api", "put %s/%s: %s", r->lattice, m->name, lt_error_message());
        reply = lt__api_err("%s", lt__api_store_error(st, true, why, sizeof(why)));
        goto out;
    }
    if (lt_api_shared_missing(r->store, r->lattice, m, &names, &missing) != LT_OK)
        missing = 0;
    if (lt_buf_appendf(&msg, "Successfully %s manifest %s %s", c.replaced ? "replaced" : "put",
                       m->name, m->version) != LT_OK ||
        (missing > 0 && lt_buf_appendf(&msg, ", but some shared components are not deployed: %s",
                                       names.ptr) != LT_OK))
        LT_IGNORE(lt_buf_appends(&msg, ""));
    reply = json_pack("{s:s, s:I, s:s, s:s, s:s}", "result",
                      c.replaced     ? "replaced"
                      : c.total == 1 ? "created"
                                     : "newversion",
                      "total_versions", (json_int_t)c.total, "current_version", m->version,
                      "message", msg.ptr, "name", m->name);
out:
    lt_free(c.description);
    lt_buf_cleanup(&names);
    lt_buf_cleanup(&msg);
    return reply;
}

/* ---- get / list / versions ----------------------------------------------------------------- */

static json_t *notfound(const char *fmt, ...) LT_PRINTF(1, 2);
static json_t *notfound(const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return json_pack("{s:s, s:s}", "result", "notfound", "message", msg);
}

#define APP_NOT_FOUND "Application with the name %s not found"

/* Read the app named in the request; *reply set to notfound/error when it cannot be had. */
lt_status lt__api_app_get(const lt__api_req *r, const char *version, lt_store_app **app)
{
    lt_status st = lt_store_app_get(r->store, r->lattice, r->name, app);

    if (st == LT_OK && version != NULL && strcmp(version, "latest") != 0 &&
        lt_store_app_find(*app, version) < 0) {
        /* this replica's view may not have seen a put another replica answered: ask KV */
        lt_store_app_free(*app);
        *app = NULL;
        st = lt_store_app_get_fresh(r->store, r->lattice, r->name, app);
    }
    return st;
}

static lt_store_app *load_app(const lt__api_req *r, json_t **reply)
{
    char why[LT__API_STORE_ERROR_MAX];
    lt_store_app *app = NULL;
    lt_status st;

    *reply = NULL;
    st = lt_store_name_is_valid(r->name) ? lt__api_app_get(r, r->body->version, &app)
                                         : LT_ERR_NOT_FOUND;
    if (st == LT_ERR_NOT_FOUND)
        *reply = notfound(APP_NOT_FOUND, r->name);
    else if (st != LT_OK) {
        LT_WARN("api", "read %s/%s: %s", r->lattice, r->name, lt_error_message());
        *reply = lt__api_err("%s", lt__api_store_error(st, false, why, sizeof(why)));
    }
    return app;
}

json_t *lt__api_get(const lt__api_req *r)
{
    char why[LT__API_STORE_ERROR_MAX];
    const char *version = r->body->version; /* parsed by lt__api_parse */
    char *json = NULL;
    lt_store_app *app = NULL;
    json_t *reply = NULL, *manifest;
    char msg[512];
    size_t len = 0;
    lt_status st = LT_OK;

    if ((app = load_app(r, &reply)) == NULL)
        goto out;
    if (version != NULL && lt_store_app_find(app, version) < 0) {
        snprintf(msg, sizeof(msg), "Application %s with version %s doesn't exist", r->name,
                 version);
        reply = json_pack("{s:s, s:s}", "result", "notfound", "message", msg);
        goto out;
    }
    if ((st = lt_store_manifest_get(r->store, app, version, &json, &len)) != LT_OK ||
        (manifest = json_loadb(json, len, 0, NULL)) == NULL) {
        LT_WARN("api", "get %s/%s: %s", r->lattice, r->name, lt_error_message());
        reply = lt__api_err("%s", lt__api_store_error(st, false, why, sizeof(why)));
        goto out;
    }
    if (version != NULL)
        snprintf(msg, sizeof(msg), "Successfully fetched application %s %s", r->name, version);
    else
        snprintf(msg, sizeof(msg), "Successfully fetched application %s", r->name);
    reply = json_pack("{s:s, s:s, s:o}", "result", "success", "message", msg, "manifest", manifest);
out:
    lt_free(json);
    lt_store_app_free(app);
    return reply;
}

json_t *lt__api_versions(const lt__api_req *r)
{
    lt_store_app *app;
    json_t *reply = NULL, *list;
    char msg[512];

    if ((app = load_app(r, &reply)) == NULL) {
        if (reply != NULL &&
            strcmp(json_string_value(json_object_get(reply, "result")), "notfound") == 0)
            json_object_set_new(reply, "versions", json_array());
        return reply;
    }
    if ((list = json_array()) == NULL)
        goto out;
    for (size_t i = 0; i < app->version_count; i++) {
        const char *v = app->versions[i].version;
        bool dep = app->deployed_version != NULL && strcmp(app->deployed_version, v) == 0;

        if (json_array_append_new(list, json_pack("{s:s, s:b}", "version", v, "deployed", dep))) {
            json_decref(list);
            goto out;
        }
    }
    snprintf(msg, sizeof(msg), "Successfully fetched versions for application %s", r->name);
    reply = json_pack("{s:s, s:s, s:o}", "result", "success", "message", msg, "versions", list);
out:
    lt_store_app_free(app);
    return reply;
}

/* ---- del ----------------------------------------------------------------------------------- */

typedef enum {
    DEL_NOAPP,
    DEL_NOVERSION,
    DEL_ALL,
    DEL_LAST,
    DEL_ONE,
    DEL_WOULD_UNDEPLOY /* Latticed-If-Undeployed, and it is deployed (now) */
} del_outcome;

typedef struct {
    lt_store *store;
    const char *version; /* NULL: every version */
    bool if_undeployed;  /* refuse what would undeploy it */
    del_outcome outcome;
    bool undeploy;
} del_ctx;

/* The latest version changed: refresh the description and shared flag from its manifest. */
static lt_status refresh_latest_meta(lt_store *s, lt_store_app *app)
{
    char *json = NULL, *desc = NULL;
    size_t len = 0;
    bool shared = false;
    lt_status st = lt_store_manifest_get(s, app, NULL, &json, &len);

    if (st != LT_OK)
        return st;
    manifest_meta(json, len, &desc, &shared);
    lt_free(json);
    lt_free(app->description);
    app->description = desc;
    app->latest_shared = shared;
    return LT_OK;
}

static lt_status del_cb(lt_store_app *app, const char *new_key, lt_store_decision *d, void *arg)
{
    del_ctx *c = arg;
    int64_t now = lt_store_now_ms();
    long i;
    bool was_deployed, was_latest;
    lt_status st = LT_OK;

    (void)new_key;
    c->undeploy = false;
    *d = LT_STORE_SKIP;
    if (app->revision == 0) {
        c->outcome = DEL_NOAPP;
        return LT_OK;
    }
    if (c->if_undeployed && app->deployed_version != NULL &&
        (c->version == NULL || strcmp(app->deployed_version, c->version) == 0)) {
        c->outcome = DEL_WOULD_UNDEPLOY; /* deployed since the client looked */
        return LT_OK;
    }
    if (c->version == NULL) {
        c->outcome = DEL_ALL;
        c->undeploy = true;
        app->deleted = true;
        *d = LT_STORE_WRITE;
        return LT_OK;
    }
    if ((i = lt_store_app_find(app, c->version)) < 0) {
        c->outcome = DEL_NOVERSION;
        return LT_OK;
    }
    *d = LT_STORE_WRITE;
    was_deployed = app->deployed_version != NULL && strcmp(app->deployed_version, c->version) == 0;
    was_latest = (size_t)i == app->version_count - 1;
    lt_store_app_remove_version(app, (size_t)i);
    if (app->version_count == 0) {
        c->outcome = DEL_LAST;
        c->undeploy = true;
        app->deleted = true;
        return LT_OK;
    }
    c->outcome = DEL_ONE;
    c->undeploy = was_deployed;
    if (was_deployed) {
        if ((st = lt_store_app_set_deployed(app, NULL, NULL, 0)) != LT_OK ||
            (st = lt_store_app_add_event(c->store, app, LT_STORE_EV_UNDEPLOY, c->version, now)))
            return st;
        app->undeployed_ms = now;
    }
    if ((st = lt_store_app_add_event(c->store, app, LT_STORE_EV_DELETE, c->version, now)) != LT_OK)
        return st;
    return was_latest ? refresh_latest_meta(c->store, app) : LT_OK;
}

static json_t *del_reply(const char *result, bool undeploy, const char *fmt, ...) LT_PRINTF(3, 4);
static json_t *del_reply(const char *result, bool undeploy, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return json_pack("{s:s, s:s, s:b}", "result", result, "message", msg, "undeploy", undeploy);
}

json_t *lt__api_delete(const lt__api_req *r)
{
    const char *version = r->body->version; /* parsed by lt__api_parse */
    del_ctx c = { .store = r->store, .version = version, .if_undeployed = r->if_undeployed };
    json_t *reply;
    lt_status st;

    st = lt_store_name_is_valid(r->name)
             ? lt_store_update(r->store, r->lattice, r->name, NULL, del_cb, &c, NULL)
             : (c.outcome = DEL_NOAPP, LT_OK);
    if (st != LT_OK) {
        LT_WARN("api", "delete %s/%s: %s", r->lattice, r->name, lt_error_message());
        reply = st == LT_ERR_AMBIGUOUS ? del_reply("error", false, "%s", lt_error_message())
                : version != NULL
                    ? del_reply("error", false,
                                "Internal storage error when deleting %s of application %s",
                                version, r->name)
                    : del_reply("error", false,
                                "Internal storage error when deleting application %s", r->name);
        goto out;
    }
    switch (c.outcome) {
    case DEL_NOAPP:
        reply = del_reply("noop", false, "Application %s doesn't exist or was already deleted%s",
                          r->name, "");
        break;
    case DEL_NOVERSION:
        reply = del_reply("noop", false, "Application version %s doesn't exist", version);
        break;
    case DEL_WOULD_UNDEPLOY:
        reply = del_reply("error", false,
                          "Application %s is deployed%s%s: deleting it would undeploy it, and "
                          "the request asked not to (Latticed-If-Undeployed)",
                          r->name, version != NULL ? " at version " : "",
                          version != NULL ? version : "");
        break;
    case DEL_ALL:
        reply = del_reply("deleted", true, "Successfully deleted application %s", r->name);
        break;
    case DEL_LAST:
        reply = del_reply("deleted", true, "Successfully deleted last version of application %s",
                          r->name);
        break;
    default:
        reply = del_reply("deleted", c.undeploy,
                          "Successfully deleted version %s of application %s", version, r->name);
        break;
    }
out:
    return reply;
}
