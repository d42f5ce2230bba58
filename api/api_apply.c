/*
 * api_apply.c - model.apply, latticed's put-and-deploy in one step: an
 * unchanged manifest (the same canonical JSON as a stored version) stores
 * nothing, and is deployed only when it is not deployed already; a changed
 * one is stored as a new version and deployed in the same compare-and-set
 * update of the index, after wadm's deploy checks. The reply says what
 * changed.
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "lt_alloc.h"
#include "lt_log.h"


typedef struct {
    lt_store *store;
    const lt_model *m; /* version annotation set */
    bool put;          /* store a new version */
    const char **ids;
    size_t nids;
    /* results of the last run */
    bool exists;   /* put: the version appeared meanwhile */
    bool gone;     /* no put: the version vanished meanwhile */
    bool deployed; /* the deployed version changed */
    char previous[LT_STORE_MAX_VERSION + 1];
    size_t total;
    const char *trace; /* the request's traceparent, kept with the deployed version */
} apply_ctx;

static lt_status apply_cb(lt_store_app *app, const char *new_key, lt_store_decision *d, void *arg)
{
    apply_ctx *c = arg;
    const char *v = c->m->version;
    int64_t now = lt_store_now_ms();
    lt_status st;

    c->exists = c->gone = c->deployed = false;
    snprintf(c->previous, sizeof(c->previous), "%s",
             app->deployed_version != NULL ? app->deployed_version : "");
    *d = LT_STORE_WRITE;
    if (c->put) {
        if ((c->exists = lt_store_app_find(app, v) >= 0))
            return LT_ERR_STATE;
        if ((st = lt_store_app_add_version(app, v, new_key, now)) != LT_OK ||
            (st = lt_store_app_add_event(c->store, app, LT_STORE_EV_PUT, v, now)) != LT_OK)
            return st;
        lt_free(app->description);
        app->description = c->m->description != NULL ? lt_strdup(c->m->description) : NULL;
        app->latest_shared = c->m->shared;
    } else if ((c->gone = lt_store_app_find(app, v) < 0)) {
        return LT_ERR_NOT_FOUND;
    }
    c->total = app->version_count;
    if (app->deployed_version != NULL && strcmp(app->deployed_version, v) == 0) {
        if (!c->put)
            *d = LT_STORE_SKIP; /* nothing to do at all */
        return LT_OK;
    }
    if ((st = lt_store_app_set_deployed(app, v, c->ids, c->nids)) != LT_OK ||
        (st = lt_store_app_add_event(c->store, app, LT_STORE_EV_DEPLOY, v, now)) != LT_OK)
        return st;
    app->deployed_ms = now;
    if (c->trace != NULL && c->trace[0] != '\0' &&
        (app->deployed_trace = lt_strdup(c->trace)) == NULL)
        return LT_ERR_NOMEM;
    c->deployed = true;
    return LT_OK;
}

/*
 * Compare the request with what is stored. Sets c->put and, for an
 * unchanged manifest without a version, gives m the stored version. Returns
 * an error reply, or NULL to go on.
 */
json_t *lt__api_apply_decide(const lt__api_req *r, lt_model *m, bool had_version, char **canon,
                             size_t *canon_len, bool *put)
{
    char why[LT__API_STORE_ERROR_MAX];
    lt_store_app *app = NULL;
    char *stored = NULL;
    const char *v = NULL;
    json_t *reply = NULL;
    lt_buf again;
    size_t slen = 0;
    lt_status st;

    lt_buf_init(&again, LT_STORE_MAX_VALUE_BYTES);
    *put = true;
    st = lt_store_app_get(r->store, r->lattice, m->name, &app);
    if (st == LT_ERR_NOT_FOUND)
        goto out;
    if (st != LT_OK)
        goto storage;
    if (had_version && lt_store_app_find(app, m->version) >= 0)
        v = m->version;
    else if (!had_version)
        v = lt_store_app_latest(app)->version;
    if (v == NULL)
        goto out;       /* a new version */
    if (!had_version) { /* compare as if the request carried the latest version */
        if (lt_model_set_annotation(m, LT_MODEL_ANN_VERSION, v) != LT_OK ||
            lt_model_to_json(m, 0, &again) != LT_OK) {
            reply = lt__api_err("Internal error: out of memory");
            goto out;
        }
    }
    if ((st = lt_store_manifest_get(r->store, app, v, &stored, &slen)) != LT_OK)
        goto storage;
    if (!had_version ? (again.len == slen && memcmp(again.ptr, stored, slen) == 0)
                     : (*canon_len == slen && memcmp(*canon, stored, slen) == 0)) {
        *put = false; /* unchanged */
        goto out;
    }
    if (had_version) {
        reply = lt__api_err("Manifest version %s already exists", m->version);
        goto out;
    }
    /* changed and without a version: restore the assigned one (the canonical text has it) */
    lt_buf_reset(&again);
    {
        char ulid[LT_STORE_ULID_LEN + 1];

        lt_store_ulid(ulid);
        if (lt_model_set_annotation(m, LT_MODEL_ANN_VERSION, ulid) != LT_OK ||
            lt_model_to_json(m, 0, &again) != LT_OK) {
            reply = lt__api_err("Internal error: out of memory");
            goto out;
        }
        lt_free(*canon);
        *canon_len = again.len;
        *canon = lt_buf_take(&again);
        if (*canon == NULL)
            reply = lt__api_err("Internal error: out of memory");
    }
    goto out;
storage:
    LT_WARN("api", "apply %s/%s: %s", r->lattice, m->name, lt_error_message());
    reply = lt__api_err("%s", lt__api_store_error(st, false, why, sizeof(why)));
out:
    lt_buf_cleanup(&again);
    lt_free(stored);
    lt_store_app_free(app);
    return reply;
}

static json_t *apply_reply(const apply_ctx *c, const lt_model *m)
{
    const char *result;
    char msg[1024];

    if (c->put) {
        result = c->total == 1 ? "created" : "newversion";
        snprintf(msg, sizeof(msg), "Successfully put and deployed manifest %s %s", m->name,
                 m->version);
    } else if (c->deployed) {
        result = "deployed";
        snprintf(msg, sizeof(msg), "Manifest %s %s is unchanged; deployed it", m->name, m->version);
    } else {
        result = "noop";
        snprintf(msg, sizeof(msg), "Manifest %s %s is unchanged and already deployed", m->name,
                 m->version);
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:b, s:b}, s:I}", "result", result, "message",
                     msg, "name", m->name, "version", m->version, "previous_version",
                     lt__api_str_or_null(c->previous[0] ? c->previous : NULL), "changed", "put",
                     c->put, "deploy", c->deployed, "total_versions", (json_int_t)c->total);
}

json_t *lt__api_apply(const lt__api_req *r)
{
    char why[LT__API_STORE_ERROR_MAX];
    lt__api_body *b = r->body; /* parsed by lt__api_parse; decide() may change model and canon */
    lt_model *m = b->model;
    json_t *reply = NULL;
    apply_ctx c = { .store = r->store, .m = m, .trace = r->traceparent };
    lt_store_manifest sm;
    lt_buf msg;
    lt_status st;

    lt_buf_init(&msg, 128 * 1024);
    if ((reply = lt__api_apply_decide(r, m, !b->assigned, &b->canon, &b->canon_len, &c.put)) !=
        NULL)
        goto out;
    st = lt_api_check_deploy(r->store, r->lattice, m, &msg);
    if (st == LT_ERR_REFUSED) {
        reply = lt__api_deploy_reply("error", msg.ptr, m->name, m->version);
        goto out;
    }
    if (st != LT_OK || (st = lt_api_explicit_ids(m, &c.ids, &c.nids)) != LT_OK)
        goto storage;
    sm = (lt_store_manifest){ b->canon, b->canon_len };
    st = lt_store_update(r->store, r->lattice, m->name, c.put ? &sm : NULL, apply_cb, &c, NULL);
    if (st == LT_ERR_STATE && c.exists) {
        reply = lt__api_err("Manifest version %s already exists", m->version);
        goto out;
    }
    if (st == LT_ERR_NOT_FOUND && c.gone) {
        reply = lt__api_err("Application %s version %s was deleted meanwhile", m->name, m->version);
        goto out;
    }
    if (st == LT_ERR_TOO_BIG) {
        reply = lt__api_err("%s", lt_error_message());
        goto out;
    }
    if (st == LT_OK) {
        reply = apply_reply(&c, m);
        goto out;
    }
storage:
    LT_WARN("api", "apply %s/%s: %s", r->lattice, m->name, lt_error_message());
    reply = lt__api_err("%s", lt__api_store_error(st, true, why, sizeof(why)));
out:
    lt_free(c.ids);
    lt_buf_cleanup(&msg);
    return reply;
}
