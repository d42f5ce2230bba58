/*
 * test_api.c - the wadm API scenarios of wadm's api_model_operations tests
 * (github.com/wasmCloud/wadm, tests/api_model_operations.rs) against latticed's API on a
 * real nats-server: put
 * created/newversion, get by version, list (new shape and deprecated bare
 * array), versions order, delete one/all and noop deletes, duplicate
 * versions, invalid and unsupported subjects, JSON/YAML with and without a
 * content type, and bad input that must get an error reply, not a crash; and the
 * API stopped while NATS is down ends at once, leaking nothing. latticed's put
 * extension `Latticed-Replace: true`: new content for a stored version, refused while it is
 * deployed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_fixture.h"
#include "lt_alloc.h"
#include "lt_testutil.h"

static void put_ok(const char *name, const char *version, const char *result)
{
    char *m = fx_manifest(name, version, "0.1.0", NULL);

    fx_expect(fx_call("model.put", m, NULL), result);
    lt_free(m);
}

START_TEST(put_created_then_newversion)
{
    char *m1 = fx_manifest("hello", "v0.0.1", "0.1.0", NULL);
    char *m2 = fx_manifest("hello", "v0.0.2", "0.2.0", NULL);
    json_t *r;

    r = fx_call("model.put", m1, NULL);
    ck_assert_str_eq(fx_result(r), "created");
    ck_assert_str_eq(json_string_value(json_object_get(r, "current_version")), "v0.0.1");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total_versions")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "hello");
    ck_assert_str_eq(fx_message(r), "Successfully put manifest hello v0.0.1");
    json_decref(r);
    r = fx_call("model.put", m2, NULL);
    ck_assert_str_eq(fx_result(r), "newversion");
    ck_assert_str_eq(json_string_value(json_object_get(r, "current_version")), "v0.0.2");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total_versions")), 2);
    json_decref(r);
    /* the same version again: wadm's duplicate error, nothing stored */
    r = fx_call("model.put", m1, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r), "Manifest version v0.0.1 already exists");
    json_decref(r);
    r = fx_call("model.versions.hello", NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "versions")), 2);
    json_decref(r);
    lt_free(m1);
    lt_free(m2);
}
END_TEST

/* A put with the header `Latticed-Replace: true` (latticed extension), over NATS. */
/* A request on subject with body and one header set to "true". */
static json_t *call_with(const char *subject, const char *body, const char *header)
{
    natsMsg *msg = NULL, *reply = NULL;
    json_t *out;

    ck_assert_int_eq(natsMsg_Create(&msg, subject, NULL, body, body ? (int)strlen(body) : 0),
                     NATS_OK);
    ck_assert_int_eq(natsMsgHeader_Set(msg, header, "true"), NATS_OK);
    ck_assert_int_eq(natsConnection_RequestMsg(&reply, fx_client, msg, 20000), NATS_OK);
    out = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    ck_assert_ptr_nonnull(out);
    natsMsg_Destroy(msg);
    natsMsg_Destroy(reply);
    return out;
}

static json_t *put_replace(const char *body)
{
    return call_with("wadm.api.default.model.put", body, "Latticed-Replace");
}

/* del with Latticed-If-Undeployed (latticectl delete without --force): what would undeploy the
 * app is refused, decided inside the compare-and-set (a deploy landing after latticectl looked
 * is not undone); what would not goes on. */
START_TEST(del_if_undeployed_extension)
{
    char *v2 = fx_manifest("keep", "v2", "0.2.0", NULL);
    json_t *r;

    put_ok("keep", "v1", "created");
    fx_expect(fx_call("model.put", v2, NULL), "newversion");
    fx_expect(fx_call("model.deploy.keep", "{\"version\":\"v1\"}", NULL), "acknowledged");
    r = call_with("wadm.api.default.model.del.keep", NULL, "Latticed-If-Undeployed");
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_ptr_nonnull(strstr(fx_message(r), "Application keep is deployed"));
    json_decref(r);
    r = call_with("wadm.api.default.model.del.keep", "{\"version\":\"v1\"}",
                  "Latticed-If-Undeployed");
    ck_assert_str_eq(fx_result(r), "error");
    json_decref(r);
    /* v2 is not the deployed one: deleted */
    r = call_with("wadm.api.default.model.del.keep", "{\"version\":\"v2\"}",
                  "Latticed-If-Undeployed");
    ck_assert_str_eq(fx_result(r), "deleted");
    json_decref(r);
    /* without the header, wadm's delete as ever */
    fx_expect(fx_call("model.del.keep", NULL, NULL), "deleted");
    lt_free(v2);
}
END_TEST

/* The image tag of the first component of app's version v, as get returns it. */
static const char *image_of(json_t *get_reply)
{
    json_t *c =
        json_array_get(json_object_get(json_object_get(json_object_get(get_reply, "manifest"),
                                                       "spec"),
                                       "components"),
                       0);

    return json_string_value(json_object_get(json_object_get(c, "properties"), "image"));
}

START_TEST(put_replace_extension)
{
    char *m1 = fx_manifest("swap", "v1", "0.1.0", NULL);
    char *m1b = fx_manifest("swap", "v1", "0.9.0", NULL);
    char *m2 = fx_manifest("swap", "v2", "0.2.0", NULL);
    json_t *r;

    put_ok("swap", "v1", "created");
    fx_expect(fx_call("model.put", m2, NULL), "newversion");
    /* without the header: wadm's duplicate error, unchanged */
    r = fx_call("model.put", m1b, NULL);
    ck_assert_str_eq(fx_message(r), "Manifest version v1 already exists");
    json_decref(r);
    /* with it: v1 gets the new content, keeps its place (v2 stays the latest) */
    r = put_replace(m1b);
    ck_assert_str_eq(fx_result(r), "replaced");
    ck_assert_str_eq(fx_message(r), "Successfully replaced manifest swap v1");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total_versions")), 2);
    json_decref(r);
    r = fx_call("model.get.swap", "{\"version\":\"v1\"}", NULL);
    ck_assert_ptr_nonnull(strstr(image_of(r), ":0.9.0"));
    json_decref(r);
    r = fx_call("model.get.swap", NULL, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(json_object_get(r, "manifest"),
                                                         "metadata"),
                                         "annotations"),
                         "version")),
                     "v2");
    json_decref(r);
    /* without a version annotation there is nothing to replace (it would store a new ULID) */
    {
        char *bare = fx_manifest("swap", NULL, "0.8.0", NULL);

        r = put_replace(bare);
        ck_assert_str_eq(fx_result(r), "error");
        ck_assert_ptr_nonnull(strstr(fx_message(r), "needs the manifest's version annotation"));
        json_decref(r);
        lt_free(bare);
    }
    /* a deployed version cannot be replaced */
    fx_expect(fx_call("model.deploy.swap", "{\"version\":\"v1\"}", NULL), "acknowledged");
    r = put_replace(m1);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r), "Manifest version v1 of swap is deployed: it cannot be "
                                    "replaced; put a new version, or undeploy it first");
    json_decref(r);
    r = fx_call("model.get.swap", "{\"version\":\"v1\"}", NULL);
    ck_assert_ptr_nonnull(strstr(image_of(r), ":0.9.0"));
    json_decref(r);
    /* a version not stored yet: an ordinary put */
    {
        char *m3 = fx_manifest("swap", "v3", "0.3.0", NULL);

        r = put_replace(m3);
        ck_assert_str_eq(fx_result(r), "newversion");
        json_decref(r);
        lt_free(m3);
    }
    lt_free(m1);
    lt_free(m1b);
    lt_free(m2);
}
END_TEST

START_TEST(put_assigns_ulid)
{
    char *m = fx_manifest("nover", NULL, "0.1.0", NULL);
    json_t *r = fx_call("model.put", m, NULL), *g;
    const char *v = json_string_value(json_object_get(r, "current_version"));

    ck_assert_str_eq(fx_result(r), "created");
    ck_assert_uint_eq(strlen(v), 26);
    g = fx_call("model.get.nover", NULL, NULL);
    ck_assert_str_eq(fx_result(g), "success");
    /* the stored manifest carries the assigned version */
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(json_object_get(g, "manifest"),
                                                         "metadata"),
                                         "annotations"),
                         "version")),
                     v);
    json_decref(g);
    json_decref(r);
    lt_free(m);
}
END_TEST

START_TEST(get_by_version)
{
    json_t *r, *ann;

    put_ok("getme", "v1", "created");
    {
        char *m = fx_manifest("getme", "v2", "0.9.9", NULL);

        fx_expect(fx_call("model.put", m, NULL), "newversion");
        lt_free(m);
    }
    r = fx_call("model.get.getme", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "success");
    ck_assert_str_eq(fx_message(r), "Successfully fetched application getme");
    ann =
        json_object_get(json_object_get(json_object_get(r, "manifest"), "metadata"), "annotations");
    ck_assert_str_eq(json_string_value(json_object_get(ann, "version")), "v2");
    json_decref(r);
    r = fx_call("model.get.getme", "{\"version\":\"v1\"}", NULL);
    ck_assert_str_eq(fx_result(r), "success");
    ck_assert_str_eq(fx_message(r), "Successfully fetched application getme v1");
    ann =
        json_object_get(json_object_get(json_object_get(r, "manifest"), "metadata"), "annotations");
    ck_assert_str_eq(json_string_value(json_object_get(ann, "version")), "v1");
    json_decref(r);
    r = fx_call("model.get.getme", "{\"version\":\"v7\"}", NULL);
    ck_assert_str_eq(fx_result(r), "notfound");
    ck_assert_str_eq(fx_message(r), "Application getme with version v7 doesn't exist");
    ck_assert_ptr_null(json_object_get(r, "manifest"));
    json_decref(r);
    r = fx_call("model.get.nosuch", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "notfound");
    ck_assert_str_eq(fx_message(r), "Application with the name nosuch not found");
    json_decref(r);
    r = fx_call("model.get.getme", "{not json", NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_ptr_nonnull(strstr(fx_message(r), "Unable to parse get application request: "));
    json_decref(r);
}
END_TEST

START_TEST(list_both_shapes)
{
    json_t *r, *models;

    r = fx_call("model.get", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "success");
    ck_assert_int_eq(json_array_size(json_object_get(r, "models")), 0);
    json_decref(r);
    put_ok("zz-app", "v1", "created");
    put_ok("aa-app", "v1", "created");
    put_ok("aa-app", "v2", "newversion");
    r = fx_call("model.get", NULL, NULL);
    ck_assert_str_eq(fx_message(r), "Successfully fetched list of applications");
    models = json_object_get(r, "models");
    ck_assert_int_eq(json_array_size(models), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(models, 0), "name")),
                     "aa-app");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(models, 0), "version")),
                     "v2");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(models, 0), "description")),
                     "test app aa-app");
    ck_assert(json_is_null(json_object_get(json_array_get(models, 0), "deployed_version")));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(models, 0), "status")),
                     "undeployed");
    ck_assert(json_is_object(json_object_get(json_array_get(models, 0), "detailed_status")));
    json_decref(r);
    /* deprecated model.list: the bare array */
    r = fx_call("model.list", NULL, NULL);
    ck_assert(json_is_array(r));
    ck_assert_int_eq(json_array_size(r), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 1), "name")), "zz-app");
    json_decref(r);
    /* lattices are separate */
    r = fx_req("other", "model.get", NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "models")), 0);
    json_decref(r);
}
END_TEST

/* The n-th model of a list reply (model.get) and one of its string fields. */
static const char *model_field(json_t *r, size_t n, const char *key)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(r, "models"), n), key));
}

/* Two lists in a row give the same reply: the second is the first's joined text (api_list.c). */
static json_t *list_twice(void)
{
    json_t *a = fx_call("model.get", NULL, NULL), *b = fx_call("model.get", NULL, NULL);

    ck_assert_msg(json_equal(a, b), "a list without changes differs from the one before");
    json_decref(b);
    return a;
}

/* The server keeps each app's summary, and the last list whole, between lists (api_list.c):
 * every change shows, also after a list that changed nothing. */
START_TEST(list_follows_changes)
{
    const char *deployed = "{\"status\":{\"type\":\"deployed\",\"message\":\"\"},\"scalers\":[],"
                           "\"version\":\"v1\",\"components\":[]}";
    const char *failed = "{\"status\":{\"type\":\"failed\",\"message\":\"\"},\"scalers\":[],"
                         "\"version\":\"v1\",\"components\":[]}";
    json_t *r;

    put_ok("aa-app", "v1", "created");
    put_ok("zz-app", "v1", "created");
    r = list_twice();
    ck_assert_str_eq(model_field(r, 0, "version"), "v1");
    ck_assert_str_eq(model_field(r, 1, "status"), "undeployed");
    json_decref(r);
    put_ok("mm-app", "v1", "created"); /* one app more */
    r = list_twice();
    ck_assert_int_eq(json_array_size(json_object_get(r, "models")), 3);
    ck_assert_str_eq(model_field(r, 1, "name"), "mm-app");
    json_decref(r);
    ck_assert_int_eq(lt_store_status_put(fx_store, "default", "mm-app", failed, strlen(failed)),
                     LT_OK); /* only a status changed since the last list */
    r = list_twice();
    ck_assert_str_eq(model_field(r, 1, "status"), "failed");
    json_decref(r);
    put_ok("mm-app", "v2", "newversion"); /* only an index changed since the last list */
    r = list_twice();
    ck_assert_str_eq(model_field(r, 1, "version"), "v2");
    json_decref(r);
    fx_expect(fx_call("model.del.mm-app", NULL, NULL), "deleted");
    put_ok("aa-app", "v2", "newversion"); /* the index changed */
    ck_assert_int_eq(lt_store_status_put(fx_store, "default", "zz-app", deployed, strlen(deployed)),
                     LT_OK); /* the status changed, not the index */
    r = fx_call("model.get", NULL, NULL);
    ck_assert_str_eq(model_field(r, 0, "version"), "v2");
    ck_assert_str_eq(model_field(r, 1, "status"), "deployed");
    json_decref(r);
    fx_expect(fx_call("model.del.zz-app", NULL, NULL), "deleted");
    r = fx_call("model.get", NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "models")), 1);
    ck_assert_str_eq(model_field(r, 0, "name"), "aa-app");
    json_decref(r);
    r = fx_call("model.list", NULL, NULL);
    ck_assert(json_is_array(r));
    ck_assert_int_eq(json_array_size(r), 1);
    json_decref(r);
}
END_TEST

static bool list_shows(void *arg)
{
    json_t *r = fx_call("model.get", NULL, NULL);
    size_t i;
    json_t *m;
    bool ok = false;

    json_array_foreach (json_object_get(r, "models"), i, m)
        if (strcmp(json_string_value(json_object_get(m, "name")), "rr") == 0)
            ok = strcmp(json_string_value(json_object_get(m, "version")), arg) == 0;
    json_decref(r);
    return ok;
}

/* The API's view follows the new bucket: its epoch moved on from *arg and it is usable. */
static bool view_moved_on(void *arg)
{
    lt_store_app_rev *revs = NULL;
    size_t n = 0;
    bool moved;

    if (lt_store_app_revs(fx_store, "default", &revs, &n) != LT_OK)
        return false;
    moved = n == 0 || revs[0].epoch != *(const uint64_t *)arg;
    lt_store_app_revs_free(revs, n);
    return moved;
}

/* The manifests bucket deleted and created again (a restore) starts its revisions over: a list
 * built before must not be served again for an index that has the same revision in the new
 * bucket. */
START_TEST(list_after_bucket_recreated)
{
    lt_store_config cfg = { .memory = true };
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvEntry *en = NULL;
    jsErrCode jerr = 0;
    uint64_t rev, pad_rev = 0, epoch;
    lt_store_app_rev *revs = NULL;
    size_t nrevs = 0;

    ck_assert_int_eq(natsConnection_JetStream(&js, fx_client, NULL), NATS_OK);
    put_ok("rr", "v1", "created");
    ck_assert_int_eq(lt_test_wait_until(list_shows, "v1", 10000), LT_OK); /* cached now */
    ck_assert_int_eq(lt_store_app_revs(fx_store, "default", &revs, &nrevs), LT_OK);
    ck_assert_uint_gt(nrevs, 0);
    epoch = revs[0].epoch;
    lt_store_app_revs_free(revs, nrevs);
    ck_assert_int_eq(js_KeyValue(&kv, js, LT_STORE_MANIFEST_BUCKET), NATS_OK);
    ck_assert_int_eq(kvStore_Get(&en, kv, "app.default.rr"), NATS_OK);
    rev = kvEntry_Revision(en);
    kvEntry_Destroy(en);
    kvStore_Destroy(kv);
    ck_assert_uint_ge(rev, 2);
    ck_assert_int_eq(js_DeleteStream(js, "KV_" LT_STORE_MANIFEST_BUCKET, NULL, &jerr), NATS_OK);
    ck_assert_int_eq(lt_store_ensure_assets(js, &cfg), LT_OK);
    /* no list meanwhile: the cache keeps what it built from the old bucket */
    ck_assert_int_eq(lt_test_wait_until(view_moved_on, &epoch, 15000), LT_OK);
    ck_assert_int_eq(js_KeyValue(&kv, js, LT_STORE_MANIFEST_BUCKET), NATS_OK);
    /* so that the put's manifest lands at rev - 1 and its index at rev, as before */
    for (uint64_t i = 0; i + 2 < rev; i++)
        ck_assert_int_eq(kvStore_PutString(&pad_rev, kv, "pad.default.x", "{}"), NATS_OK);
    kvStore_Destroy(kv);
    put_ok("rr", "v9", "created");
    ck_assert_int_eq(js_KeyValue(&kv, js, LT_STORE_MANIFEST_BUCKET), NATS_OK);
    ck_assert_int_eq(kvStore_Get(&en, kv, "app.default.rr"), NATS_OK);
    ck_assert_uint_eq(kvEntry_Revision(en), rev); /* the same revision, other content */
    kvEntry_Destroy(en);
    kvStore_Destroy(kv);
    ck_assert_msg(lt_test_wait_until(list_shows, "v9", 15000) == LT_OK,
                  "the list still shows the old bucket's v1");
    jsCtx_Destroy(js);
}
END_TEST

START_TEST(versions_in_order)
{
    const char *order[] = { "v3", "v1", "v2" };
    json_t *r, *vs;

    for (int i = 0; i < 3; i++)
        put_ok("ordered", order[i], i == 0 ? "created" : "newversion");
    r = fx_call("model.versions.ordered", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "success");
    ck_assert_str_eq(fx_message(r), "Successfully fetched versions for application ordered");
    vs = json_object_get(r, "versions");
    ck_assert_int_eq(json_array_size(vs), 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(vs, i), "version")),
                         order[i]);
        ck_assert(json_is_false(json_object_get(json_array_get(vs, i), "deployed")));
    }
    json_decref(r);
    r = fx_call("model.versions.missing", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "notfound");
    ck_assert_str_eq(fx_message(r), "Application with the name missing not found");
    ck_assert_int_eq(json_array_size(json_object_get(r, "versions")), 0);
    json_decref(r);
}
END_TEST

START_TEST(delete_one_and_all)
{
    json_t *r;

    put_ok("del", "v1", "created");
    put_ok("del", "v2", "newversion");
    put_ok("del", "v3", "newversion");
    r = fx_call("model.del.del", "{\"version\":\"v2\"}", NULL);
    ck_assert_str_eq(fx_result(r), "deleted");
    ck_assert_str_eq(fx_message(r), "Successfully deleted version v2 of application del");
    ck_assert(json_is_false(json_object_get(r, "undeploy")));
    json_decref(r);
    r = fx_call("model.versions.del", NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "versions")), 2);
    json_decref(r);
    /* deleting the latest makes the previous one latest */
    fx_expect(fx_call("model.del.del", "{\"version\":\"v3\"}", NULL), "deleted");
    r = fx_call("model.get.del", NULL, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(json_object_get(r, "manifest"),
                                                         "metadata"),
                                         "annotations"),
                         "version")),
                     "v1");
    json_decref(r);
    /* all versions */
    put_ok("del", "v4", "newversion");
    r = fx_call("model.del.del", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "deleted");
    ck_assert_str_eq(fx_message(r), "Successfully deleted application del");
    ck_assert(json_is_true(json_object_get(r, "undeploy")));
    json_decref(r);
    fx_expect(fx_call("model.get.del", NULL, NULL), "notfound");
    /* deleting the last version deletes the app */
    put_ok("last", "v1", "created");
    r = fx_call("model.del.last", "{\"version\":\"v1\"}", NULL);
    ck_assert_str_eq(fx_result(r), "deleted");
    ck_assert_str_eq(fx_message(r), "Successfully deleted last version of application last");
    ck_assert(json_is_true(json_object_get(r, "undeploy")));
    json_decref(r);
    fx_expect(fx_call("model.versions.last", NULL, NULL), "notfound");
}
END_TEST

START_TEST(noop_deletes)
{
    json_t *r;

    r = fx_call("model.del.ghost", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "noop");
    ck_assert_str_eq(fx_message(r), "Application ghost doesn't exist or was already deleted");
    ck_assert(json_is_false(json_object_get(r, "undeploy")));
    json_decref(r);
    put_ok("there", "v1", "created");
    r = fx_call("model.del.there", "{\"version\":\"v9\"}", NULL);
    ck_assert_str_eq(fx_result(r), "noop");
    ck_assert_str_eq(fx_message(r), "Application version v9 doesn't exist");
    json_decref(r);
    r = fx_call("model.del.there", "{\"version\":null}", NULL); /* null = all */
    ck_assert_str_eq(fx_result(r), "deleted");
    json_decref(r);
    r = fx_call("model.del.there", "[1,2]", NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_ptr_nonnull(strstr(fx_message(r), "Unable to parse delete application request"));
    json_decref(r);
}
END_TEST

START_TEST(invalid_and_unsupported_subjects)
{
    json_t *r;

    r = fx_call("model", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r), "Invalid subject: Expected to find operation");
    json_decref(r);
    r = fx_call("model.get.foo.bar", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r),
                     "Invalid subject: Found extra components of subject, ensure your manifest "
                     "name consists of only alphanumeric characters, dashes, and underscores.");
    json_decref(r);
    r = fx_call("blah.get", NULL, NULL);
    ck_assert_str_eq(fx_message(r), "Unsupported subject: wadm.api.default.blah.get");
    json_decref(r);
    r = fx_call("model.put.named", NULL, NULL);
    ck_assert_str_eq(fx_message(r), "Unsupported subject: wadm.api.default.model.put.named");
    json_decref(r);
    r = fx_call("model.history", NULL, NULL);
    ck_assert_str_eq(fx_message(r), "Unsupported subject: wadm.api.default.model.history");
    json_decref(r);
    r = fx_call("model.frobnicate.x", NULL, NULL);
    ck_assert_ptr_nonnull(strstr(fx_message(r), "Unsupported subject"));
    json_decref(r);
    r = fx_req("bad+lattice", "model.get", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_ptr_nonnull(strstr(fx_message(r), "Invalid subject: lattice ID"));
    json_decref(r);
}
END_TEST

/* Direct calls of the transport-free entry point for the short subjects. */
START_TEST(handle_short_subjects)
{
    lt_api_config cfg = { .prefix = " .wadm.api. " }; /* trimmed like wadm */
    const char *subjects[] = { "wadm.api.default", "wadm.api.x.y.z.w.v", "other.thing" };
    const char *want[] = { "Invalid subject: Expected to find API category",
                           "Invalid subject: Found extra", "Unsupported subject: other.thing" };

    for (int i = 0; i < 3; i++) {
        lt_api_request req = { .subject = subjects[i] };
        lt_buf out;
        json_t *r;

        lt_buf_init(&out, 1 << 16);
        ck_assert_int_eq(lt_api_handle(fx_store, &cfg, &req, &out), LT_OK);
        r = json_loads(out.ptr, 0, NULL);
        ck_assert_ptr_nonnull(strstr(fx_message(r), want[i]));
        json_decref(r);
        lt_buf_cleanup(&out);
    }
}
END_TEST

static const char json_manifest[] =
    "{\"apiVersion\":\"core.oam.dev/v1beta1\",\"kind\":\"Application\","
    "\"metadata\":{\"name\":\"jsonapp\",\"annotations\":{\"version\":\"v1\"}},"
    "\"spec\":{\"components\":[{\"name\":\"c\",\"type\":\"component\","
    "\"properties\":{\"image\":\"ghcr.io/x/y:1\"},"
    "\"traits\":[{\"type\":\"spreadscaler\",\"properties\":{\"instances\":1}}]}]}}";

START_TEST(parsing_content_types)
{
    char *yaml = fx_manifest("yamlapp", "v1", "0.1.0", NULL);
    char *yaml2 = fx_manifest("yamlapp", "v2", "0.1.0", NULL);
    json_t *r;

    fx_expect(fx_call("model.put", json_manifest, NULL), "created");      /* sniffed */
    fx_expect(fx_call("model.put", yaml, "application/yaml"), "created"); /* header */
    fx_expect(fx_call("model.put", yaml2, NULL), "newversion");           /* sniffed */
    fx_expect(fx_call("model.del.jsonapp", NULL, NULL), "deleted");
    fx_expect(fx_call("model.put", json_manifest, "application/json; charset=utf-8"), "created");
    r = fx_call("model.put", json_manifest, "text/plain");
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r), "Unable to parse manifest: Unsupported content type "
                                    "text/plain given. Wadm supports YAML and JSON");
    json_decref(r);
    /* YAML sent as JSON is a parse error */
    r = fx_call("model.put", yaml, "application/json");
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_ptr_nonnull(strstr(fx_message(r), "Unable to parse manifest: "));
    json_decref(r);
    lt_free(yaml);
    lt_free(yaml2);
}
END_TEST

START_TEST(put_errors_in_wadm_order)
{
    char *latest = fx_manifest("app", "latest", "1", NULL);
    char *badname = fx_manifest("bad!name", "v1", "1", NULL);
    json_t *r;

    r = fx_call("model.put", latest, NULL);
    ck_assert_str_eq(fx_message(r),
                     "invalid manifest version, errors: \"latest is not allowed in wadm\"");
    json_decref(r);
    r = fx_call("model.put", badname, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_str_eq(fx_message(r), "Manifest name bad!name contains invalid characters. "
                                    "Manifest names can only contain alphanumeric characters, "
                                    "dashes, and underscores.");
    json_decref(r);
    r = fx_call("model.put", "kind: [unclosed", NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_ptr_nonnull(strstr(fx_message(r), "Unable to parse manifest: "));
    json_decref(r);
    r = fx_call("model.put", "", NULL);
    ck_assert_str_eq(fx_result(r), "error");
    json_decref(r);
    lt_free(latest);
    lt_free(badname);
}
END_TEST

START_TEST(hostile_input_gets_replies)
{
    unsigned char garbage[512];
    json_t *r;

    for (size_t i = 0; i < sizeof(garbage) - 1; i++)
        garbage[i] = (unsigned char)(i * 7 + 1);
    garbage[sizeof(garbage) - 1] = '\0';
    r = fx_call("model.put", (const char *)garbage, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    json_decref(r);
    /* deeply nested JSON */
    {
        char deep[4096];

        memset(deep, '[', 3000);
        deep[3000] = '\0';
        r = fx_call("model.put", deep, "application/json");
        ck_assert_str_eq(fx_result(r), "error");
        json_decref(r);
        r = fx_call("model.deploy.x", deep, NULL);
        ck_assert_str_eq(fx_result(r), "error");
        json_decref(r);
    }
    /* a request without a reply subject is dropped; the server keeps serving */
    ck_assert_int_eq(natsConnection_PublishString(fx_client, "wadm.api.default.model.put", "x"),
                     NATS_OK);
    ck_assert_int_eq(natsConnection_PublishString(fx_client, "wadm.api.default.model.get", ""),
                     NATS_OK);
    r = fx_call("model.get", NULL, NULL);
    ck_assert_str_eq(fx_result(r), "success");
    json_decref(r);
    /* names with characters latticed cannot store */
    fx_expect(fx_call("model.get.caf\xc3\xa9", NULL, NULL), "notfound");
    fx_expect(fx_call("model.del.caf\xc3\xa9", NULL, NULL), "noop");
}
END_TEST

START_TEST(oversized_request)
{
    size_t n = 80 * 1024;
    char *big = lt_malloc(n + 1);
    json_t *r;

    memset(big, '#', n); /* a YAML comment: valid syntax, too big */
    big[n] = '\0';
    r = fx_call("model.put", big, NULL);
    ck_assert_str_eq(fx_result(r), "error");
    ck_assert_ptr_nonnull(strstr(fx_message(r), "more than the 65536 allowed"));
    json_decref(r);
    lt_free(big);
}
END_TEST

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll nc's status for up to timeout_ms. */
static bool status_within(natsConnection *nc, natsConnStatus want, int64_t timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    struct timespec slice = { 0, 20 * 1000 * 1000 };

    while (natsConnection_Status(nc) != want) {
        if (mono_ms() >= deadline)
            return false;
        nanosleep(&slice, NULL);
    }
    return true;
}

/*
 * latticed stopped while NATS is down (its connection reconnecting): lt_api_stop ends the
 * subscription at once. A drain cannot flush then; it used to outlast lt_api_stop's 10 s
 * wait, and the api with its subscription - which holds a reference on the connection - was
 * leaked (ASan: e2e_conn's cut test, shutting latticed down after its proxy was gone).
 */
START_TEST(stop_while_disconnected)
{
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    lt_api *api = NULL;
    int64_t t0, took;

    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    ck_assert_int_eq(natsOptions_SetURL(o, lt_natsrv_url(fx_srv)), NATS_OK);
    ck_assert_int_eq(natsOptions_SetMaxReconnect(o, -1), NATS_OK);
    ck_assert_int_eq(natsOptions_SetReconnectWait(o, 100), NATS_OK);
    ck_assert_int_eq(natsConnection_Connect(&nc, o), NATS_OK);
    ck_assert_int_eq(lt_api_start(&api, nc, fx_store, NULL), LT_OK);
    ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
    ck_assert_int_eq(lt_natsrv_down(fx_srv, true), LT_OK);
    ck_assert_msg(status_within(nc, NATS_CONN_STATUS_RECONNECTING, 20000),
                  "the connection never noticed the server went down");
    t0 = mono_ms();
    lt_api_stop(api);
    took = mono_ms() - t0;
    ck_assert_msg(took < 5000, "lt_api_stop took %lld ms with NATS down", (long long)took);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    /* The fixture's own connection reconnects before its teardown. */
    ck_assert_int_eq(lt_natsrv_up(fx_srv), LT_OK);
    ck_assert(status_within(fx_nc, NATS_CONN_STATUS_CONNECTED, 20000));
}
END_TEST

static void small_setup(void)
{
    fx_setup_with(64 * 1024);
}

int main(void)
{
    int rc;
    Suite *s = suite_create("api");
    TCase *tc;
    TCase *small;

    tc = lt_test_tcase(s, "crud", 120,
                       (const TTest *const[]){
                           put_created_then_newversion, put_replace_extension,
                           del_if_undeployed_extension, put_assigns_ulid, get_by_version,
                           list_both_shapes, list_follows_changes, list_after_bucket_recreated,
                           versions_in_order, delete_one_and_all, noop_deletes,
                           invalid_and_unsupported_subjects, handle_short_subjects,
                           parsing_content_types, put_errors_in_wadm_order,
                           hostile_input_gets_replies, stop_while_disconnected, NULL });
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    small = lt_test_tcase(s, "limits", 120, (const TTest *const[]){ oversized_request, NULL });
    tcase_add_checked_fixture(small, small_setup, fx_teardown);
    rc = lt_test_run_suite(s);
    nats_Close();
    return rc;
}
