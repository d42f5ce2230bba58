/*
 * api_deploy.c - deploy, undeploy, rollback, status and history handlers. A deploy is
 * refused early by wadm's deploy check (model/deploy_check.c), answered here from the store;
 * the scheduler runs the same check on its own specs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_map.h"
#include "lt_time.h"

#define ID_LOCKS 16 /* deploys claiming explicit ids: one lock per lattice hash */

static pthread_mutex_t id_locks[ID_LOCKS] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER,
};
#define APP_NOT_FOUND "Application with the name %s not found"
#define WAITING_MESSAGE "Waiting for status: Lattice contains no hosts, deployment not started."

/* ---- deploy checks: model/deploy_check.c's rules, answered from the store ----------------- */

typedef struct {
    lt_store *s;
    const char *lattice;
    const char *app; /* the app being deployed */
    lt_store_app **apps;
    size_t napps;
    bool listed;
    char owner[LT_STORE_MAX_NAME + 1]; /* answered by the store's view */
} store_env;

static lt_status store_id_owner(void *ctx, const char *id, const char **owner)
{
    store_env *e = ctx;
    lt_status st;

    *owner = NULL;
    if (!e->listed) { /* the view knows each id's owner; without one, list the apps once */
        bool found = false;

        st = lt_store_id_owner(e->s, e->lattice, id, e->app, e->owner, &found);
        if (st != LT_ERR_STATE) {
            *owner = found ? e->owner : NULL;
            return st;
        }
        if ((st = lt_store_app_list(e->s, e->lattice, &e->apps, &e->napps)) != LT_OK)
            return st;
        e->listed = true;
    }
    for (size_t a = 0; a < e->napps; a++) {
        if (strcmp(e->apps[a]->name, e->app) == 0 || e->apps[a]->deployed_version == NULL)
            continue;
        for (size_t k = 0; k < e->apps[a]->deployed_id_count; k++)
            if (strcmp(id, e->apps[a]->deployed_ids[k]) == 0) {
                *owner = e->apps[a]->name;
                return LT_OK;
            }
    }
    return LT_OK;
}

/* Is app a deployed app whose latest version is shared, with that component and kind? */
static lt_status store_shared_has(void *ctx, const char *name, const char *component,
                                  lt_model_kind kind, bool *ok)
{
    store_env *e = ctx;
    lt_store_app *app = NULL;
    lt_model *other = NULL;
    const lt_model_component *target;
    lt_status st;

    *ok = false;
    if (!lt_store_name_is_valid(name))
        return LT_OK;
    st = lt_store_app_get(e->s, e->lattice, name, &app);
    if (st == LT_ERR_NOT_FOUND)
        return LT_OK;
    if (st != LT_OK)
        return st;
    if (app->deployed_version != NULL && app->latest_shared) {
        st = lt__api_load_model(e->s, app, NULL, &other, NULL, NULL);
        if (st == LT_OK) {
            target = lt_model_find_component(other, component);
            *ok = other->shared && target != NULL && target->kind == kind;
        }
    }
    lt_model_free(other);
    lt_store_app_free(app);
    return st;
}

/* m's components as the deploy check sees them (lt_free the array). */
static lt_model_deploy_comp *deploy_comps(const lt_model *m)
{
    lt_model_deploy_comp *v = lt_calloc(m->component_count + 1, sizeof(*v));

    for (size_t i = 0; v != NULL && i < m->component_count; i++) {
        const lt_model_component *c = &m->components[i];

        v[i] = (lt_model_deploy_comp){ .name = c->name, .id = c->explicit_id, .kind = c->kind };
        if (c->shared_app != NULL && c->image == NULL) {
            v[i].shared_app = c->shared_app;
            v[i].shared_component = c->shared_component;
        }
    }
    return v;
}

/* Run check (lt_model_check_deploy or a wrapper of lt_model_shared_missing) on m. */
static lt_status with_store_env(lt_store *s, const char *lattice, const lt_model *m, lt_buf *out,
                                size_t *count)
{
    store_env e = { .s = s, .lattice = lattice, .app = m->name };
    lt_model_deploy_env env = { .ctx = &e,
                                .id_owner = store_id_owner,
                                .shared_has = store_shared_has };
    lt_model_deploy_comp *comps = deploy_comps(m);
    lt_status st;

    if (comps == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    if (count != NULL)
        st = lt_model_shared_missing(comps, m->component_count, &env, out, count);
    else
        st = lt_model_check_deploy(comps, m->component_count, &env, out);
    lt_store_app_list_free(e.apps, e.napps);
    lt_free(comps);
    return st;
}

lt_status lt_api_explicit_ids(const lt_model *m, const char ***ids, size_t *count)
{
    const char **v = lt_calloc(m->component_count + 1, sizeof(*v));

    *ids = NULL;
    *count = 0;
    if (v == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->component_count; i++)
        if (m->components[i].explicit_id != NULL)
            v[(*count)++] = m->components[i].explicit_id;
    *ids = v;
    return LT_OK;
}

lt_status lt_api_shared_missing(lt_store *s, const char *lattice, const lt_model *m, lt_buf *names,
                                size_t *count)
{
    *count = 0;
    return with_store_env(s, lattice, m, names, count);
}

lt_status lt_api_check_deploy(lt_store *s, const char *lattice, const lt_model *m, lt_buf *msg)
{
    return with_store_env(s, lattice, m, msg, NULL);
}

/* ---- deploy / undeploy / rollback ----------------------------------------------------------- */

json_t *lt__api_deploy_reply(const char *result, const char *message, const char *name,
                             const char *version)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "result", result, "message", message, "name", name,
                     "version", lt__api_str_or_null(version));
}

typedef struct {
    lt_store *store;
    const char *version;
    const char **ids;
    size_t nids;
    bool gone;         /* the version was deleted meanwhile */
    bool latest;       /* version was chosen as the app's latest: the write confirms it still is */
    bool moved;        /* it no longer is (a put landed since): choose again */
    const char *trace; /* the request's traceparent, kept with the deployed version */
} deploy_ctx;

static lt_status deploy_cb(lt_store_app *app, const char *new_key, lt_store_decision *d, void *arg)
{
    deploy_ctx *c = arg;
    int64_t now = lt_store_now_ms();
    lt_status st;

    (void)new_key;
    c->gone = lt_store_app_find(app, c->version) < 0;
    /* "latest" was read from this replica's view, which may lag a put or delete another replica
     * answered: the index this write replaces decides what the latest is. */
    c->moved = c->latest && (c->gone || strcmp(lt_store_app_latest(app)->version, c->version) != 0);
    if (c->moved)
        return LT_ERR_STATE;
    if (c->gone)
        return LT_ERR_NOT_FOUND;
    if ((st = lt_store_app_set_deployed(app, c->version, c->ids, c->nids)) != LT_OK ||
        (st = lt_store_app_add_event(c->store, app, LT_STORE_EV_DEPLOY, c->version, now)) != LT_OK)
        return st;
    app->deployed_ms = now;
    if (c->trace != NULL && c->trace[0] != '\0' &&
        (app->deployed_trace = lt_strdup(c->trace)) == NULL)
        return LT_ERR_NOMEM;
    *d = LT_STORE_WRITE;
    return LT_OK;
}

/* The error reply when app name has no version v (names and versions fit in msg). */
static json_t *no_such_version(const char *name, const char *v)
{
    char msg[768];

    snprintf(msg, sizeof(msg),
             "Application with the name '%s' does not have a version '%s' to deploy", name, v);
    return lt__api_deploy_reply("error", msg, name, v);
}

/**
 * Deploy version v of an app (deploy, rollback, apply share it): checks the
 * model, sets the deployed version with CAS and records the event. Returns
 * the reply (acknowledged with msg_ok, or wadm's errors).
 */
static json_t *deploy_version(const lt__api_req *r, const lt_store_app *app, const char *v,
                              bool latest, const char *msg_ok, bool *moved)
{
    char why[LT__API_STORE_ERROR_MAX];
    lt_model *m = NULL;
    deploy_ctx c = { .store = r->store, .version = v, .latest = latest, .trace = r->traceparent };
    pthread_mutex_t *lock = NULL;
    json_t *reply = NULL;
    lt_buf msg;
    lt_status st;

    lt_buf_init(&msg, 128 * 1024);
    if ((st = lt__api_load_model(r->store, app, v, &m, NULL, NULL)) != LT_OK)
        goto storage;
    if ((st = lt_api_explicit_ids(m, &c.ids, &c.nids)) != LT_OK)
        goto storage;
    /* The check that no other app deploys these ids and the write that claims them are on
     * different keys: within this replica, deploys claiming explicit ids in one lattice take
     * turns (apps without explicit ids cannot conflict and do not wait). */
    if (c.nids > 0) {
        lock = &id_locks[lt_map_hash(r->lattice) % ID_LOCKS];
        pthread_mutex_lock(lock);
    }
    st = lt_api_check_deploy(r->store, r->lattice, m, &msg);
    if (st == LT_ERR_REFUSED) {
        reply = lt__api_deploy_reply("error", msg.ptr, app->name, v);
        goto out;
    }
    if (st != LT_OK)
        goto storage;
    st = lt_store_update(r->store, r->lattice, app->name, NULL, deploy_cb, &c, NULL);
    if (st == LT_ERR_STATE && c.moved) {
        *moved = true; /* the caller chooses the latest again, from KV */
        goto out;
    }
    if (st == LT_ERR_NOT_FOUND && c.gone) {
        reply = no_such_version(app->name, v);
        goto out;
    }
    if (st == LT_OK) {
        reply = lt__api_deploy_reply("acknowledged", msg_ok, app->name, v);
        goto out;
    }
storage:
    LT_WARN("api", "deploy %s/%s %s: %s", r->lattice, app->name, v, lt_error_message());
    reply = lt__api_deploy_reply("error", lt__api_store_error(st, true, why, sizeof(why)),
                                 app->name, v);
out:
    if (lock != NULL)
        pthread_mutex_unlock(lock);
    lt_free(c.ids);
    lt_model_free(m);
    lt_buf_cleanup(&msg);
    return reply;
}

/* The app of a deploy-like request; *reply is the notfound/error reply when NULL. */
static lt_store_app *deploy_app(const lt__api_req *r, const char *requested, bool fresh,
                                json_t **reply)
{
    char why[LT__API_STORE_ERROR_MAX];
    lt_store_app *app = NULL;
    char msg[512];
    lt_status st;

    *reply = NULL;
    /* fresh: read the index from KV, not from this replica's view (which may not have seen a
     * put another replica answered a moment ago). A rollback without a version chooses from
     * the history before its compare-and-set, so it needs what KV holds; a deploy of the
     * latest reads the view and its write confirms the choice (deploy_cb). */
    if (!lt_store_name_is_valid(r->name))
        st = LT_ERR_NOT_FOUND;
    else if (fresh)
        st = lt_store_app_get_fresh(r->store, r->lattice, r->name, &app);
    else
        st = lt__api_app_get(r, requested, &app);
    if (st == LT_ERR_NOT_FOUND) {
        snprintf(msg, sizeof(msg), APP_NOT_FOUND, r->name);
        *reply = lt__api_deploy_reply("notfound", msg, r->name, requested);
    } else if (st != LT_OK) {
        LT_WARN("api", "read %s/%s: %s", r->lattice, r->name, lt_error_message());
        *reply = lt__api_deploy_reply("error", lt__api_store_error(st, true, why, sizeof(why)),
                                      r->name, requested);
    }
    return app;
}

json_t *lt__api_deploy(const lt__api_req *r)
{
    const char *version = r->body->version; /* parsed by lt__api_parse */
    bool latest = version == NULL || strcmp(version, "latest") == 0, moved = false;
    char msg[768];
    lt_store_app *app = NULL;
    const char *v;
    json_t *reply = NULL;

    /* The latest is chosen on the view; when the write finds that a put moved it, once more
     * on KV (fresh), where a later move is a conflict like any other. */
    for (int attempt = 0; attempt < 2 && (attempt == 0 || moved); attempt++) {
        lt_store_app_free(app);
        if ((app = deploy_app(r, version, attempt > 0, &reply)) == NULL)
            goto out;
        if (latest)
            v = lt_store_app_latest(app)->version;
        else if (lt_store_app_find(app, version) >= 0)
            v = version;
        else {
            reply = no_such_version(r->name, version);
            goto out;
        }
        snprintf(msg, sizeof(msg), "Successfully deployed application %s %s", r->name, v);
        moved = false;
        reply = deploy_version(r, app, v, latest, msg, &moved);
    }
    if (reply == NULL && moved)
        reply = lt__api_deploy_reply("error",
                                     "The latest version kept changing while it was deployed; "
                                     "send the deploy again",
                                     r->name, NULL);
out:
    lt_store_app_free(app);
    return reply;
}

typedef struct {
    lt_store *store;
    bool was_deployed;
} undeploy_ctx;

static lt_status undeploy_cb(lt_store_app *app, const char *new_key, lt_store_decision *d,
                             void *arg)
{
    undeploy_ctx *c = arg;
    int64_t now = lt_store_now_ms();
    lt_status st;

    (void)new_key;
    c->was_deployed = app->deployed_version != NULL;
    *d = LT_STORE_SKIP;
    if (app->revision == 0 || !c->was_deployed)
        return app->revision == 0 ? LT_ERR_NOT_FOUND : LT_OK;
    if ((st = lt_store_app_add_event(c->store, app, LT_STORE_EV_UNDEPLOY, app->deployed_version,
                                     now)) != LT_OK ||
        (st = lt_store_app_set_deployed(app, NULL, NULL, 0)) != LT_OK)
        return st;
    app->undeployed_ms = now;
    *d = LT_STORE_WRITE;
    return LT_OK;
}

json_t *lt__api_undeploy(const lt__api_req *r)
{
    char why[LT__API_STORE_ERROR_MAX];
    undeploy_ctx c = { .store = r->store };
    char msg[512];
    lt_status st;

    st = lt_store_name_is_valid(r->name)
             ? lt_store_update(r->store, r->lattice, r->name, NULL, undeploy_cb, &c, NULL)
             : LT_ERR_NOT_FOUND;
    if (st == LT_ERR_NOT_FOUND) {
        snprintf(msg, sizeof(msg), APP_NOT_FOUND, r->name);
        return lt__api_deploy_reply("notfound", msg, r->name, NULL);
    }
    if (st != LT_OK) {
        LT_WARN("api", "undeploy %s/%s: %s", r->lattice, r->name, lt_error_message());
        return lt__api_deploy_reply("error", lt__api_store_error(st, true, why, sizeof(why)),
                                    r->name, NULL);
    }
    if (c.was_deployed)
        snprintf(msg, sizeof(msg), "Successfully undeployed application %s", r->name);
    else
        snprintf(msg, sizeof(msg), "Application %s was already undeployed", r->name);
    return lt__api_deploy_reply("acknowledged", msg, r->name, NULL);
}

/* The version deployed before the current one: the newest deploy event of another, still
 * stored version. */
static const char *previous_deployed(const lt_store_app *app)
{
    for (size_t i = app->history_count; i-- > 0;) {
        const lt_store_event *e = &app->history[i];

        if (e->kind != LT_STORE_EV_DEPLOY || e->version == NULL)
            continue;
        if (app->deployed_version != NULL && strcmp(e->version, app->deployed_version) == 0)
            continue;
        if (lt_store_app_find(app, e->version) >= 0)
            return e->version;
    }
    return NULL;
}

json_t *lt__api_rollback(const lt__api_req *r)
{
    const char *version = r->body->version; /* parsed by lt__api_parse */
    char msg[768];
    lt_store_app *app = NULL;
    const char *v;
    json_t *reply = NULL;
    bool moved = false;

    if ((app = deploy_app(r, version, version == NULL, &reply)) == NULL)
        goto out;
    if (version != NULL) {
        if (lt_store_app_find(app, version) < 0) {
            reply = no_such_version(r->name, version);
            goto out;
        }
        v = version;
    } else if ((v = previous_deployed(app)) == NULL) {
        snprintf(msg, sizeof(msg), "Application %s has no earlier deployed version to roll back to",
                 r->name);
        reply = lt__api_deploy_reply("error", msg, r->name, NULL);
        goto out;
    }
    snprintf(msg, sizeof(msg), "Successfully rolled back application %s to %s", r->name, v);
    reply = deploy_version(r, app, v, false, msg, &moved);
out:
    lt_store_app_free(app);
    return reply;
}

/* ---- status / history ---------------------------------------------------------------------- */

/* Mark every state of a status document as reconciling toward version v. */
static void reconciling(json_t *holder, const char *msg)
{
    json_object_set_new(holder, "status",
                        json_pack("{s:s, s:s}", "type", "reconciling", "message", msg));
}

/*
 * A status document about another version than the deployed one v: the scheduler has not
 * reported on v yet. Nothing of it may say "deployed": the app, each of wadm's scalers and each
 * component of latticed's section are reconciling toward v; the counts stay those of the
 * version the document is about (latticed.version), and latticed.deploying names v.
 */
static void deploying(json_t *stored, const char *v)
{
    json_t *lt = json_object_get(stored, "latticed"), *x;
    char msg[512];
    size_t i;

    snprintf(msg, sizeof(msg), "Deploying version %s", v);
    reconciling(stored, msg);
    json_array_foreach (json_object_get(stored, "scalers"), i, x)
        if (json_is_object(x))
            reconciling(x, msg);
    json_array_foreach (json_object_get(lt, "components"), i, x)
        if (json_is_object(x))
            reconciling(x, msg);
    if (json_is_object(lt))
        json_object_set_new(lt, "deploying", json_string(v));
}

json_t *lt__api_app_status(lt_store *s, const char *lattice, const char *name,
                           const lt_store_app *app, const char *stored_json)
{
    json_t *stored = stored_json != NULL ? json_loads(stored_json, 0, NULL) : NULL;

    (void)s;
    if (json_is_object(stored) && json_is_object(json_object_get(stored, "status"))) {
        json_t *by = json_object_get(json_object_get(stored, "latticed"), "version");

        /* A deploy the scheduler has not reported on yet: the stored status is about another
         * version, so say what is true, that the deployed one is on its way. (A document
         * without latticed's own section is taken as it is.) */
        if (app != NULL && app->deployed_version != NULL && json_is_string(by) &&
            strcmp(json_string_value(by), app->deployed_version) != 0)
            deploying(stored, app->deployed_version);
        return stored;
    }
    if (stored != NULL)
        LT_WARN("api", "ignoring malformed status of %s/%s", lattice, name);
    json_decref(stored);
    if (app != NULL && app->deployed_version != NULL)
        return json_pack("{s:{s:s, s:s}, s:s, s:[]}", "status", "type", "waiting", "message",
                         WAITING_MESSAGE, "version", "", "components");
    return json_pack("{s:{s:s}, s:s, s:[]}", "status", "type", "undeployed", "version", "",
                     "components");
}

json_t *lt__api_status(const lt__api_req *r)
{
    char why[LT__API_STORE_ERROR_MAX];
    char *stored = NULL, msg[512];
    lt_store_app *app = NULL;
    json_t *status, *reply = NULL;
    bool valid = lt_store_name_is_valid(r->name);
    lt_status st = LT_ERR_NOT_FOUND, st2 = LT_ERR_NOT_FOUND;

    if (valid) {
        st = lt_store_status_get(r->store, r->lattice, r->name, &stored, NULL);
        st2 = lt_store_app_get(r->store, r->lattice, r->name, &app);
    }
    if ((st != LT_OK && st != LT_ERR_NOT_FOUND) || (st2 != LT_OK && st2 != LT_ERR_NOT_FOUND)) {
        LT_WARN("api", "status %s/%s: %s", r->lattice, r->name, lt_error_message());
        reply =
            lt__api_err("%s", lt__api_store_error(st != LT_OK && st != LT_ERR_NOT_FOUND ? st : st2,
                                                  false, why, sizeof(why)));
        goto out;
    }
    if ((status = lt__api_app_status(r->store, r->lattice, r->name, app, stored)) == NULL)
        goto out;
    snprintf(msg, sizeof(msg), "Successfully fetched status for application %s", r->name);
    reply = json_pack("{s:s, s:s, s:o}", "result", "ok", "message", msg, "status", status);
out:
    lt_free(stored);
    lt_store_app_free(app);
    return reply;
}

static json_t *time_or_null(int64_t ms)
{
    char t[LT_TIME_TEXT_MAX];

    if (ms == 0)
        return json_null();
    lt_time_format_ms(ms, t);
    return json_string(t);
}

json_t *lt__api_history(const lt__api_req *r)
{
    char why[LT__API_STORE_ERROR_MAX];
    lt_store_app *app = NULL;
    json_t *list = NULL, *reply = NULL;
    char msg[512];
    lt_status st;

    st = lt_store_name_is_valid(r->name) ? lt_store_app_get(r->store, r->lattice, r->name, &app)
                                         : LT_ERR_NOT_FOUND;
    if (st == LT_ERR_NOT_FOUND) {
        snprintf(msg, sizeof(msg), APP_NOT_FOUND, r->name);
        return json_pack("{s:s, s:s, s:[]}", "result", "notfound", "message", msg, "history");
    }
    if (st != LT_OK) {
        LT_WARN("api", "history %s/%s: %s", r->lattice, r->name, lt_error_message());
        return lt__api_err("%s", lt__api_store_error(st, false, why, sizeof(why)));
    }
    if ((list = json_array()) == NULL)
        goto out;
    for (size_t i = 0; i < app->history_count; i++) {
        const lt_store_event *e = &app->history[i];

        if (json_array_append_new(list, json_pack("{s:s, s:o, s:o}", "event",
                                                  lt_store_event_name(e->kind), "version",
                                                  lt__api_str_or_null(e->version), "time",
                                                  time_or_null(e->time_ms))) != 0)
            goto out;
    }
    snprintf(msg, sizeof(msg), "Successfully fetched history for application %s", r->name);
    reply = json_pack("{s:s, s:s, s:O, s:o, s:o}", "result", "success", "message", msg, "history",
                      list, "deployed_version", lt__api_str_or_null(app->deployed_version),
                      "updated_at", time_or_null(app->updated_ms));
out:
    json_decref(list);
    lt_store_app_free(app);
    return reply;
}
