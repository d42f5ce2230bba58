/*
 * test_api_deploy.c - deploy, undeploy, status, and latticed's additions
 * (apply, rollback, history) on a real nats-server: deploy latest/specific/
 * "latest"/missing, deployed flags, status of a never-deployed and of a
 * deployed app, wadm's cross-app component-id and shared-reference checks,
 * apply no-op, rollback, history with RFC 3339 times, and two API servers
 * taking concurrent puts of one app without losing any.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_fixture.h"
#include "store_int.h" /* lt__store_view_hold: a replica whose view lags */
#include "lt_alloc.h"
#include "lt_time.h"
#include "lt_testutil.h"

static void put(const char *name, const char *version, const char *tag, const char *id)
{
    char *m = fx_manifest(name, version, tag, id);
    json_t *r = fx_call("model.put", m, NULL);

    ck_assert_msg(strcmp(fx_result(r), "created") == 0 || strcmp(fx_result(r), "newversion") == 0,
                  "put %s %s: %s", name, version ? version : "-", fx_message(r));
    json_decref(r);
    lt_free(m);
}

static bool deployed_flag(const char *name, const char *version)
{
    char rest[256];
    json_t *r, *vs, *it;
    size_t i;
    bool found = false, dep = false;

    snprintf(rest, sizeof(rest), "model.versions.%s", name);
    r = fx_call(rest, NULL, NULL);
    vs = json_object_get(r, "versions");
    json_array_foreach (vs, i, it) {
        if (strcmp(json_string_value(json_object_get(it, "version")), version) == 0) {
            found = true;
            dep = json_is_true(json_object_get(it, "deployed"));
        }
    }
    json_decref(r);
    ck_assert_msg(found, "version %s of %s missing", version, name);
    return dep;
}

START_TEST(deploy_latest_specific_missing)
{
    json_t *r;

    r = fx_call("model.deploy.nope", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "notfound");
    ck_assert_str_eq(fx_message(r), "Application with the name nope not found");
    ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "nope");
    ck_assert(json_is_null(json_object_get(r, "version")));
    json_decref(r);
    put("dep", "v1", "1", NULL);
    put("dep", "v2", "2", NULL);
    r = fx_call("model.deploy.dep", NULL, NULL); /* latest */
    ck_assert_str_eq(fx_result(r), "acknowledged");
    ck_assert_str_eq(fx_message(r), "Successfully deployed application dep v2");
    ck_assert_str_eq(json_string_value(json_object_get(r, "version")), "v2");
    json_decref(r);
    ck_assert(deployed_flag("dep", "v2"));
    ck_assert(!deployed_flag("dep", "v1"));
    r = fx_call("model.deploy.dep", "{\"version\":\"v1\"}", NULL);
    ck_assert_str_eq(fx_result(r), "acknowledged");
    json_decref(r);
    ck_assert(deployed_flag("dep", "v1"));
    ck_assert(!deployed_flag("dep", "v2"));
    fx_expect(fx_call("model.deploy.dep", "{\"version\":\"latest\"}", NULL), "acknowledged");
    ck_assert(deployed_flag("dep", "v2"));
    r = fx_call("model.deploy.dep", "{\"version\":\"v9\"}", NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r),
                     "Application with the name 'dep' does not have a version 'v9' to deploy");
    json_decref(r);
    r = fx_call("model.deploy.dep", "{\"version\":", NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_ptr_nonnull(strstr(fx_message(r), "Unable to parse deploy application request"));
    json_decref(r);
    /* list shows the deployed version */
    r = fx_call("model.get", NULL, NULL);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(r, "models"), 0),
                                         "deployed_version")),
                     "v2");
    json_decref(r);
}
END_TEST

START_TEST(undeploy)
{
    json_t *r;

    r = fx_call("model.undeploy.nope", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "notfound");
    json_decref(r);
    put("und", "v1", "1", NULL);
    fx_expect(fx_call("model.deploy.und", NULL, NULL), "acknowledged");
    r = fx_call("model.undeploy.und", "{}", NULL);
    ck_assert_str_eq(fx_result(r), "acknowledged");
    ck_assert_str_eq(fx_message(r), "Successfully undeployed application und");
    json_decref(r);
    ck_assert(!deployed_flag("und", "v1"));
    r = fx_call("model.undeploy.und", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "acknowledged");
    ck_assert_str_eq(fx_message(r), "Application und was already undeployed");
    json_decref(r);
    /* deleting the deployed version undeploys */
    put("und", "v2", "2", NULL);
    fx_expect(fx_call("model.deploy.und", NULL, NULL), "acknowledged");
    r = fx_call("model.del.und", "{\"version\":\"v2\"}", NULL);
    ck_assert_str_eq(fx_result(r), "deleted");
    ck_assert(json_is_true(json_object_get(r, "undeploy")));
    json_decref(r);
    ck_assert(!deployed_flag("und", "v1"));
}
END_TEST

static const char *status_type(json_t *r)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(r, "status"), "status"), "type"));
}

START_TEST(status_never_deployed_and_stored)
{
    json_t *r;
    const char *st = "{\"status\":{\"type\":\"deployed\",\"message\":\"\"},\"scalers\":[],"
                     "\"version\":\"\",\"components\":[]}";

    r = fx_call("model.status.unknown", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "ok");
    ck_assert_str_eq(status_type(r), "undeployed");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "status"), "version")),
                     "");
    ck_assert(json_is_array(json_object_get(json_object_get(r, "status"), "components")));
    json_decref(r);
    put("stat", "v1", "1", NULL);
    r = fx_call("model.status.stat", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "ok");
    ck_assert_str_eq(fx_message(r), "Successfully fetched status for application stat");
    ck_assert_str_eq(status_type(r), "undeployed");
    json_decref(r);
    fx_expect(fx_call("model.deploy.stat", NULL, NULL), "acknowledged");
    r = fx_call("model.status.stat", NULL, NULL);
    ck_assert_str_eq(status_type(r), "waiting");
    json_decref(r);
    /* what the scheduler writes is what status returns */
    ck_assert_int_eq(lt_store_status_put(fx_store, "default", "stat", st, strlen(st)), LT_OK);
    r = fx_call("model.status.stat", NULL, NULL);
    ck_assert_str_eq(status_type(r), "deployed");
    json_decref(r);
    r = fx_call("model.get", NULL, NULL);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(r, "models"), 0),
                                         "status")),
                     "deployed");
    json_decref(r);
    /* a status about another version than the deployed one: that one is on its way */
    {
        const char *old = "{\"status\":{\"type\":\"deployed\",\"message\":\"\"},"
                          "\"scalers\":[{\"id\":\"s1\",\"kind\":\"SpreadScaler\","
                          "\"name\":\"c\",\"status\":{\"type\":\"deployed\"}}],"
                          "\"version\":\"\",\"components\":[],"
                          "\"latticed\":{\"version\":\"v0\",\"components\":[{\"name\":"
                          "\"c\",\"desired\":1,\"running\":1,\"status\":{\"type\":"
                          "\"deployed\"}}]}}";
        json_t *st2, *lt;

        ck_assert_int_eq(lt_store_status_put(fx_store, "default", "stat", old, strlen(old)), LT_OK);
        r = fx_call("model.status.stat", NULL, NULL);
        ck_assert_str_eq(status_type(r), "reconciling");
        st2 = json_object_get(r, "status");
        ck_assert_str_eq(json_string_value(
                             json_object_get(json_object_get(st2, "status"), "message")),
                         "Deploying version v1");
        /* nothing about the other version may say deployed: the scalers and latticed's
         * components are reconciling too; latticed names the version on its way */
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(json_array_get(json_object_get(st2, "scalers"), 0),
                                             "status"),
                             "type")),
                         "reconciling");
        lt = json_object_get(st2, "latticed");
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(json_array_get(json_object_get(lt, "components"), 0),
                                             "status"),
                             "type")),
                         "reconciling");
        ck_assert_str_eq(json_string_value(json_object_get(lt, "version")), "v0");
        ck_assert_str_eq(json_string_value(json_object_get(lt, "deploying")), "v1");
        json_decref(r);
    }
    /* deleting the app forgets its status */
    fx_expect(fx_call("model.del.stat", NULL, NULL), "deleted");
    r = fx_call("model.status.stat", NULL, NULL);
    ck_assert_str_eq(status_type(r), "undeployed");
    json_decref(r);
}
END_TEST

START_TEST(component_id_unique_across_apps)
{
    json_t *r;

    put("owner", "v1", "1", "http_server");
    put("thief", "v1", "1", "http_server");
    fx_expect(fx_call("model.deploy.owner", NULL, NULL), "acknowledged");
    r = fx_call("model.deploy.thief", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r), "Component identifier 'http_server' is already deployed in a "
                                    "different application 'owner'.");
    json_decref(r);
    ck_assert(!deployed_flag("thief", "v1"));
    /* the owner may re-deploy; once it is undeployed the id is free */
    fx_expect(fx_call("model.deploy.owner", NULL, NULL), "acknowledged");
    fx_expect(fx_call("model.undeploy.owner", NULL, NULL), "acknowledged");
    fx_expect(fx_call("model.deploy.thief", NULL, NULL), "acknowledged");
}
END_TEST

static const char shared_provider[] =
    "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: shared-http\n"
    "  annotations:\n    version: v1\n    experimental.wasmcloud.dev/shared: 'true'\n"
    "spec:\n  components:\n    - name: httpserver\n      type: capability\n"
    "      properties:\n        image: ghcr.io/wasmcloud/http-server:0.23.0\n";

static const char shared_user[] =
    "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: user-app\n"
    "  annotations:\n    version: v1\nspec:\n  components:\n    - name: hello\n"
    "      type: component\n      properties:\n        image: ghcr.io/x/hello:1\n"
    "      traits:\n        - type: spreadscaler\n          properties:\n            instances: 1\n"
    "    - name: httpserver\n      type: capability\n      properties:\n        application:\n"
    "          name: shared-http\n          component: httpserver\n      traits:\n"
    "        - type: link\n          properties:\n            namespace: wasi\n"
    "            package: http\n            interfaces: [incoming-handler]\n"
    "            target:\n              name: hello\n";

START_TEST(shared_references)
{
    json_t *r;

    r = fx_call("model.put", shared_user, NULL);
    ck_assert_str_eq(fx_result(r), "created");
    ck_assert_ptr_nonnull(strstr(fx_message(r), "but some shared components are not deployed"));
    json_decref(r);
    r = fx_call("model.deploy.user-app", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r), "Application contains shared components that are not "
                                    "deployed in other applications: [\"httpserver\"]");
    json_decref(r);
    fx_expect(fx_call("model.put", shared_provider, NULL), "created");
    r = fx_call("model.deploy.user-app", NULL, NULL); /* shared app not deployed yet */
    ck_assert_str_eq(fx_result(r), "error");
    json_decref(r);
    fx_expect(fx_call("model.deploy.shared-http", NULL, NULL), "acknowledged");
    fx_expect(fx_call("model.deploy.user-app", NULL, NULL), "acknowledged");
}
END_TEST

START_TEST(apply_noop_and_changes)
{
    char *m1 = fx_manifest("ap", NULL, "1", NULL);
    char *m2 = fx_manifest("ap", NULL, "2", NULL);
    char *mv = fx_manifest("ap", "fixed", "3", NULL);
    char *mv2 = fx_manifest("ap", "fixed", "4", NULL);
    json_t *r, *changed;
    char first[64];

    r = fx_call("model.apply", m1, NULL);
    ck_assert_str_eq(fx_result(r), "created");
    changed = json_object_get(r, "changed");
    ck_assert(json_is_true(json_object_get(changed, "put")));
    ck_assert(json_is_true(json_object_get(changed, "deploy")));
    ck_assert(json_is_null(json_object_get(r, "previous_version")));
    snprintf(first, sizeof(first), "%s", json_string_value(json_object_get(r, "version")));
    json_decref(r);
    ck_assert(deployed_flag("ap", first));
    /* the same manifest again: nothing changes */
    r = fx_call("model.apply", m1, NULL);
    ck_assert_str_eq(fx_result(r), "noop");
    ck_assert_str_eq(json_string_value(json_object_get(r, "version")), first);
    ck_assert(json_is_false(json_object_get(json_object_get(r, "changed"), "put")));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total_versions")), 1);
    json_decref(r);
    /* a change: a new version, deployed */
    r = fx_call("model.apply", m2, NULL);
    ck_assert_str_eq(fx_result(r), "newversion");
    ck_assert_str_eq(json_string_value(json_object_get(r, "previous_version")), first);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total_versions")), 2);
    json_decref(r);
    /* undeployed and applied unchanged: deployed again, nothing stored */
    fx_expect(fx_call("model.undeploy.ap", NULL, NULL), "acknowledged");
    r = fx_call("model.apply", m2, NULL);
    ck_assert_str_eq(fx_result(r), "deployed");
    ck_assert(json_is_false(json_object_get(json_object_get(r, "changed"), "put")));
    ck_assert(json_is_true(json_object_get(json_object_get(r, "changed"), "deploy")));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total_versions")), 2);
    json_decref(r);
    /* explicit versions: same content is a no-op, different content an error */
    fx_expect(fx_call("model.apply", mv, NULL), "newversion");
    fx_expect(fx_call("model.apply", mv, NULL), "noop");
    r = fx_call("model.apply", mv2, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r), "Manifest version fixed already exists");
    json_decref(r);
    lt_free(m1);
    lt_free(m2);
    lt_free(mv);
    lt_free(mv2);
}
END_TEST

START_TEST(rollback)
{
    json_t *r;

    put("rb", "v1", "1", NULL);
    r = fx_call("model.rollback.rb", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r), "Application rb has no earlier deployed version to roll back "
                                    "to");
    json_decref(r);
    put("rb", "v2", "2", NULL);
    put("rb", "v3", "3", NULL);
    fx_expect(fx_call("model.deploy.rb", "{\"version\":\"v1\"}", NULL), "acknowledged");
    fx_expect(fx_call("model.deploy.rb", "{\"version\":\"v3\"}", NULL), "acknowledged");
    r = fx_call("model.rollback.rb", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "acknowledged");
    ck_assert_str_eq(fx_message(r), "Successfully rolled back application rb to v1");
    ck_assert_str_eq(json_string_value(json_object_get(r, "version")), "v1");
    json_decref(r);
    ck_assert(deployed_flag("rb", "v1"));
    r = fx_call("model.rollback.rb", "{\"version\":\"v2\"}", NULL);
    ck_assert_str_eq(fx_result(r), "acknowledged");
    json_decref(r);
    ck_assert(deployed_flag("rb", "v2"));
    r = fx_call("model.rollback.rb", "{\"version\":\"v8\"}", NULL);
    ck_assert_str_eq(fx_result(r), "error");
    json_decref(r);
    fx_expect(fx_call("model.rollback.none", NULL, NULL), "notfound");
}
END_TEST

START_TEST(history_events)
{
    static const char *const want[][2] = { { "put", "v1" },    { "put", "v2" },
                                           { "deploy", "v2" }, { "undeploy", "v2" },
                                           { "deploy", "v1" }, { "delete", "v2" } };
    json_t *r, *h;
    int64_t ms;

    put("hist", "v1", "1", NULL);
    put("hist", "v2", "2", NULL);
    fx_expect(fx_call("model.deploy.hist", NULL, NULL), "acknowledged");
    fx_expect(fx_call("model.undeploy.hist", NULL, NULL), "acknowledged");
    fx_expect(fx_call("model.deploy.hist", "{\"version\":\"v1\"}", NULL), "acknowledged");
    fx_expect(fx_call("model.del.hist", "{\"version\":\"v2\"}", NULL), "deleted");
    r = fx_call("model.history.hist", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "success");
    ck_assert_str_eq(fx_message(r), "Successfully fetched history for application hist");
    h = json_object_get(r, "history");
    ck_assert_int_eq(json_array_size(h), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *e = json_array_get(h, i);

        ck_assert_str_eq(json_string_value(json_object_get(e, "event")), want[i][0]);
        ck_assert_str_eq(json_string_value(json_object_get(e, "version")), want[i][1]);
        ck_assert_int_eq(lt_time_parse_ms(json_string_value(json_object_get(e, "time")), 0, &ms),
                         LT_OK);
        ck_assert_int_gt(ms, 1700000000000LL);
    }
    json_decref(r);
    r = fx_call("model.history.nothere", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "notfound");
    json_decref(r);
}
END_TEST

/* ---- concurrency: two API servers, two clients, one app ---- */

typedef struct {
    const char *prefix;
    int n;
    int ok;
} putter_arg;

static void *putter(void *p)
{
    putter_arg *a = p;
    natsConnection *c = NULL;

    if (natsConnection_ConnectTo(&c, lt_natsrv_url(fx_srv)) != NATS_OK)
        return NULL;
    for (int i = 0; i < a->n; i++) {
        char v[32], *m;
        natsMsg *reply = NULL;

        snprintf(v, sizeof(v), "%s-%d", a->prefix, i);
        m = fx_manifest("contended", v, v, NULL);
        if (natsConnection_RequestString(&reply, c, "wadm.api.default.model.apply", m, 20000) ==
                NATS_OK &&
            strstr(natsMsg_GetData(reply), "\"result\":\"error\"") == NULL)
            a->ok++;
        natsMsg_Destroy(reply);
        lt_free(m);
    }
    natsConnection_Destroy(c);
    return NULL;
}

START_TEST(concurrent_applies_lose_nothing)
{
    natsConnection *nc2 = NULL;
    jsCtx *js2 = NULL;
    lt_store *store2 = NULL;
    lt_api *api2 = NULL;
    lt_store_config cfg = { .memory = true };
    putter_arg a = { "a", 20, 0 }, b = { "b", 20, 0 };
    pthread_t ta, tb;
    json_t *r;

    /* a second replica of the API on its own connection, same queue group */
    ck_assert_int_eq(natsConnection_ConnectTo(&nc2, lt_natsrv_url(fx_srv)), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&js2, nc2, NULL), NATS_OK);
    cfg.nc = nc2;
    ck_assert_int_eq(lt_store_open(&store2, js2, &cfg), LT_OK);
    ck_assert_int_eq(lt_api_start(&api2, nc2, store2, NULL), LT_OK);
    ck_assert_int_eq(natsConnection_Flush(nc2), NATS_OK);
    pthread_create(&ta, NULL, putter, &a);
    pthread_create(&tb, NULL, putter, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    lt_api_stop(api2);
    lt_store_close(store2);
    jsCtx_Destroy(js2);
    natsConnection_Destroy(nc2);
    ck_assert_int_eq(a.ok, 20);
    ck_assert_int_eq(b.ok, 20);
    r = fx_call("model.versions.contended", NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "versions")), 40);
    json_decref(r);
}
END_TEST

typedef struct {
    lt_store *s;
    size_t want;
} versions_arg;

static bool view_has_versions(void *p)
{
    versions_arg *a = p;
    lt_store_app *app = NULL;
    lt_store_view_stat vs;
    bool ok;

    lt_store_view_stats(a->s, &vs); /* from the view itself, not a KV fallback before sync */
    ok = vs.indexes_synced && lt_store_app_get(a->s, "default", "late", &app) == LT_OK &&
         app->version_count == a->want;

    lt_store_app_free(app);
    return ok;
}

static bool late_deployed_is(void *v)
{
    return deployed_flag("late", v);
}

/* A deploy without a version on a replica whose view has not seen the latest put yet (its
 * watch held back): it deploys the latest version all the same, read from KV; and a deploy
 * of a version that view has not seen is confirmed in KV, not refused. */
START_TEST(deploy_latest_on_a_lagging_replica)
{
    lt_store_config cfg = { .memory = true };
    jsCtx *js2 = NULL;
    lt_store *b = NULL;
    lt_api_config ac = { 0 };
    lt_api_request req = { .subject = "wadm.api.default.model.deploy.late", .data = "", .len = 0 };
    versions_arg va = { NULL, 1 };
    lt_buf out;
    json_t *r;

    ck_assert_int_eq(natsConnection_JetStream(&js2, fx_nc, NULL), NATS_OK);
    cfg.nc = fx_nc;
    ck_assert_int_eq(lt_store_open(&b, js2, &cfg), LT_OK);
    ck_assert_int_eq(lt_store_view_start(b, fx_nc), LT_OK);
    put("late", "v1", "0.1.0", NULL);
    va.s = b;
    ck_assert_int_eq(lt_test_wait_until(view_has_versions, &va, 10000), LT_OK);
    lt__store_view_hold(b, true); /* b's view stops following */
    put("late", "v2", "0.2.0", NULL);
    ck_assert(view_has_versions(&va)); /* b still sees only v1 */
    lt_buf_init(&out, 1 << 20);
    ck_assert_int_eq(lt_api_handle(b, &ac, &req, &out), LT_OK);
    r = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_str_eq(fx_result(r), "acknowledged");
    ck_assert_str_eq(json_string_value(json_object_get(r, "version")), "v2");
    json_decref(r);
    lt_buf_cleanup(&out);
    /* read through the other replica (the fixture's API): its view follows b's write soon */
    ck_assert_int_eq(lt_test_wait_until(late_deployed_is, "v2", 10000), LT_OK);
    /* an explicit version the view has not seen: confirmed in KV, not "no such version" */
    put("late", "v3", "0.3.0", NULL);
    req.data = "{\"version\":\"v3\"}";
    req.len = strlen(req.data);
    lt_buf_init(&out, 1 << 20);
    ck_assert_int_eq(lt_api_handle(b, &ac, &req, &out), LT_OK);
    r = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_msg(strcmp(fx_result(r), "acknowledged") == 0, "deploy v3: %s", fx_message(r));
    json_decref(r);
    lt_buf_cleanup(&out);
    ck_assert_int_eq(lt_test_wait_until(late_deployed_is, "v3", 10000), LT_OK);
    /* the latest that view knows (v4) was deleted meanwhile: the deploy chooses again on KV */
    lt__store_view_hold(b, false);
    put("late", "v4", "0.4.0", NULL);
    va.want = 4;
    ck_assert_int_eq(lt_test_wait_until(view_has_versions, &va, 10000), LT_OK);
    lt__store_view_hold(b, true);
    fx_expect(fx_call("model.del.late", "{\"version\":\"v4\"}", NULL), "deleted");
    req.data = "";
    req.len = 0;
    lt_buf_init(&out, 1 << 20);
    ck_assert_int_eq(lt_api_handle(b, &ac, &req, &out), LT_OK);
    r = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_msg(strcmp(fx_result(r), "acknowledged") == 0, "deploy latest: %s", fx_message(r));
    ck_assert_str_eq(json_string_value(json_object_get(r, "version")), "v3");
    json_decref(r);
    lt_buf_cleanup(&out);
    lt__store_view_hold(b, false);
    lt_store_close(b);
    jsCtx_Destroy(js2);
}
END_TEST

int main(void)
{
    int rc;
    Suite *s = suite_create("api_deploy");
    TCase *tc;

    tc = lt_test_tcase(s, "deploy", 120,
                       (const TTest *const[]){ deploy_latest_specific_missing, undeploy,
                                               status_never_deployed_and_stored,
                                               component_id_unique_across_apps, shared_references,
                                               apply_noop_and_changes, rollback, history_events,
                                               concurrent_applies_lose_nothing,
                                               deploy_latest_on_a_lagging_replica, NULL });
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    rc = lt_test_run_suite(s);
    nats_Close();
    return rc;
}
