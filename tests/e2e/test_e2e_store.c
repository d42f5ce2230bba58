/*
 * test_e2e_store.c - faults of the store with real processes (nats-server,
 * latticed, latticed-host --simulate), injected by the LD_PRELOAD fault shim
 * in latticed only, and the project's own manifests (tests/e2e/manifests):
 *   - the replies of the API's index writes are lost: put and deploy of v2
 *     still succeed, v2 is listed and readable, and a restarted latticed
 *     stops nothing;
 *   - the reply is lost and the index cannot be read back: the API says the
 *     outcome is unknown, and the manifest the index names stays readable;
 *   - latticed restarts while the deployed manifest cannot be read: no stop
 *     is ever sent, status says "cannot read version v1", and it converges
 *     once reads succeed;
 *   - right after a deploy is acknowledged, status never says `deployed`
 *     for the previous version;
 *   - status KV writes that fail are retried until the newest is written;
 *   - a put's manifest reaches the bucket before the index that names it, and
 *     a manifest write that fails fails the put with nothing named.
 */
#include <check.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "e2e.h"
#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_shimctl.h"
#include "lt_testutil.h"

#define L "default"
#define APP "keep"

static atomic_size_t stops;
static char dir[512], flag[600], shim_log[600];

static void on_stop(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    (void)closure;
    atomic_fetch_add(&stops, 1);
    natsMsg_Destroy(msg);
}

typedef struct {
    natsConnection *nc;
    natsSubscription *sub;
    jsCtx *js;
    kvStore *status;
} watcher;

/* Count every stop request latticed sends in the lattice; open the status bucket for reads. */
static void watch_start(e2e *e, watcher *w)
{
    atomic_store(&stops, 0);
    ck_assert_int_eq(natsConnection_ConnectTo(&w->nc, e2e_url(e)), NATS_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&w->sub, w->nc, "lattice." L ".host.*.stop", on_stop,
                                              NULL),
                     NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(w->nc), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&w->js, w->nc, NULL), NATS_OK);
}

static void watch_stop(watcher *w)
{
    natsSubscription_Unsubscribe(w->sub);
    natsConnection_Close(w->nc); /* joins nats.c's reader before the destroy (wire/lt_conn.h) */
    natsSubscription_Destroy(w->sub);
    kvStore_Destroy(w->status);
    jsCtx_Destroy(w->js);
    natsConnection_Destroy(w->nc);
}

/* The status document latticed wrote to the KV bucket (strdup'ed), or NULL. */
static char *kv_status(watcher *w)
{
    kvEntry *en = NULL;
    char *out = NULL;

    if (w->status == NULL && js_KeyValue(&w->status, w->js, "latticed_status") != NATS_OK)
        return NULL;
    if (kvStore_Get(&en, w->status, L "." APP) == NATS_OK)
        out = strdup(kvEntry_ValueString(en));
    kvEntry_Destroy(en);
    return out;
}

static pid_t latticed(e2e *e, const char *rules)
{
    pid_t pid;

    if (rules == NULL)
        return e2e_latticed(e, NULL);
    ck_assert_int_eq(lt_shim_set(rules, shim_log), LT_OK);
    pid = e2e_latticed(e, NULL);
    lt_shim_unset();
    return pid;
}

typedef struct {
    const char *version;
    size_t want;
} want_arg;

static bool count_is(e2e *e, void *arg)
{
    want_arg *w = arg;

    return e2e_count(e, L, APP, "hello", w->version, NULL) == w->want &&
           e2e_count(e, L, APP, NULL, NULL, NULL) == w->want;
}

/* A lattice with 2 simulated hosts running keep v1 (5 instances) under latticed *pid. */
static e2e *running_v1(pid_t *pid, const char *rules)
{
    e2e *e = e2e_new();
    want_arg v1 = { "v1", 5 };
    char *tmp = NULL;

    ck_assert_int_eq(lt_test_tmpdir(&tmp, "lt-e2e-store"), LT_OK);
    snprintf(dir, sizeof(dir), "%s", tmp);
    free(tmp);
    snprintf(flag, sizeof(flag), "%s/faults-on", dir);
    snprintf(shim_log, sizeof(shim_log), "%s/shim.log", dir);
    e2e_observe(e, L);
    e2e_hosts(e, L, "h", 2, NULL, NULL);
    *pid = latticed(e, rules);
    e2e_deploy_ok(e, L, "keep-v1.yaml");
    E2E_EXPECT(e, e2e_wait(e, count_is, &v1, 60000), "v1 never ran");
    E2E_EXPECT(e, e2e_wait_status(e, L, APP, "deployed", 30000), "never deployed");
    return e;
}

static void finish(e2e *e)
{
    e2e_free(e);
    LT_IGNORE(lt_test_rmtree(dir));
}

static bool both_heard_since(e2e *e, void *arg)
{
    return e2e_heard_since(e, L, *(const int64_t *)arg) >= 2;
}

/* No stop was sent, judged once both hosts have heartbeated twice more (latticed has seen
 * their inventory after whatever it did so far, and acted on it), and version still runs n
 * instances. */
static void nothing_stopped(e2e *e, const char *version, size_t n)
{
    want_arg w = { version, n };

    E2E_EXPECT(e, e2e_wait(e, both_heard_since, &(int64_t){ e2e_now_ms() }, 10000),
               "the hosts stopped heartbeating");
    E2E_EXPECT(e, e2e_wait(e, both_heard_since, &(int64_t){ e2e_now_ms() }, 10000),
               "the hosts stopped heartbeating");
    ck_assert_uint_eq(atomic_load(&stops), 0);
    /* heartbeats may lag under sanitizers: wait for the count rather than sample it */
    E2E_EXPECT(e, e2e_wait(e, count_is, &w, 10000), "%s does not run %zu instances", version, n);
    ck_assert_uint_eq(atomic_load(&stops), 0);
}

START_TEST(lost_index_replies_keep_v2)
{
    pid_t pid;
    e2e *e = running_v1(&pid, NULL);
    want_arg v2 = { "v2", 6 };
    watcher w = { 0 };
    json_t *j;
    char *text;

    e2e_kill(e, pid, SIGTERM, true);
    pid = latticed(e, "js_PublishMsg:subj=$KV.latticed_manifests.app.*:mode=lost_reply:count=2");
    e2e_deploy_ok(e, L, "keep-v2.yaml"); /* put and deploy: both index writes lose their reply */
    ck_assert_uint_eq(lt_shim_fired(shim_log, "js_PublishMsg"), 2);
    j = e2e_api(e, L, "versions", APP, NULL, 0);
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strstr(text, "\"v2\"") != NULL, "versions: %s", text);
    free(text);
    json_decref(j);
    j = e2e_api(e, L, "get", APP, "{\"version\":\"v2\"}", 16);
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strcmp(json_string_value(json_object_get(j, "result")), "success") == 0,
                  "get v2: %s", text);
    free(text);
    json_decref(j);
    E2E_EXPECT(e, e2e_wait(e, count_is, &v2, 60000), "v2 never ran");
    /* a latticed without the shim reads the same store: it keeps everything */
    watch_start(e, &w);
    e2e_kill(e, pid, SIGTERM, true);
    pid = latticed(e, NULL);
    E2E_EXPECT(e, e2e_wait_status(e, L, APP, "deployed", 30000), "never deployed");
    nothing_stopped(e, "v2", 6);
    watch_stop(&w);
    finish(e);
}
END_TEST

/* Every answer to the put's index write is lost (the write and its sends again) and it cannot
 * be read back: the API says the outcome is unknown, and (the write was applied) v2 stays
 * readable once reads work again. */
START_TEST(undecidable_put_says_so_and_keeps_manifest)
{
    pid_t pid;
    e2e *e = running_v1(&pid, NULL);
    char rules[2048], *data = NULL, *text;
    const char *msg;
    size_t len = 0;
    json_t *j;

    e2e_kill(e, pid, SIGTERM, true);
    snprintf(rules, sizeof(rules),
             "js_PublishMsg:subj=$KV.latticed_manifests.app.*:mode=lost_reply:touch=%s;"
             "js_GetLastMsg:subj=$KV.latticed_manifests.app.*:mode=fail:onfile=%s",
             flag, flag);
    pid = latticed(e, rules);
    ck_assert_int_eq(lt_test_read_file(e2e_manifest("keep-v2.yaml"), 1u << 20, &data, &len), LT_OK);
    j = e2e_api(e, L, "put", NULL, data, len);
    lt_free(data);
    msg = json_string_value(json_object_get(j, "message"));
    ck_assert_str_eq(json_string_value(json_object_get(j, "result")), "error");
    ck_assert_msg(msg != NULL && strstr(msg, "unknown") != NULL &&
                      strstr(msg, "latticectl versions keep") != NULL,
                  "put: %s", msg);
    json_decref(j);
    unlink(flag); /* the store answers again */
    j = e2e_api(e, L, "versions", APP, NULL, 0);
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strstr(text, "\"v2\"") != NULL, "versions: %s", text);
    free(text);
    json_decref(j);
    j = e2e_api(e, L, "get", APP, "{\"version\":\"v2\"}", 16);
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strcmp(json_string_value(json_object_get(j, "result")), "success") == 0,
                  "get v2 after an undecidable put: %s", text);
    free(text);
    json_decref(j);
    finish(e);
}
END_TEST

static bool says_unreadable(e2e *e, void *arg)
{
    char *msg = NULL, *st = e2e_status(e, L, APP, &msg);
    bool ok = strcmp(st, "reconciling") == 0 && strstr(msg, (const char *)arg) != NULL;

    free(st);
    free(msg);
    return ok;
}

static bool read_retried(e2e *e, void *arg)
{
    (void)e;
    (void)arg;
    return lt_shim_fired(shim_log, "js_GetLastMsg") >= 3;
}

START_TEST(restart_with_unreadable_manifest_stops_nothing)
{
    pid_t pid;
    e2e *e = running_v1(&pid, NULL);
    watcher w = { 0 };
    char rules[1024];

    watch_start(e, &w);
    e2e_kill(e, pid, SIGTERM, true);
    ck_assert_int_eq(lt_test_write_file(flag, "", 0), LT_OK);
    snprintf(rules, sizeof(rules),
             "js_GetLastMsg:subj=$KV.latticed_manifests.manifest.*:mode=fail:onfile=%s", flag);
    pid = latticed(e, rules);
    E2E_EXPECT(e, e2e_wait(e, says_unreadable, "cannot read version v1", 30000),
               "status never said the manifest is unreadable");
    /* It retries the read (past its warm-up: a leftover would have been stopped by now). */
    E2E_EXPECT(e, e2e_wait(e, read_retried, NULL, 30000), "the manifest read was not retried");
    nothing_stopped(e, "v1", 5);
    unlink(flag);
    E2E_EXPECT(e, e2e_wait_status(e, L, APP, "deployed", 30000), "never deployed");
    nothing_stopped(e, "v1", 5);
    (void)pid;
    watch_stop(&w);
    finish(e);
}
END_TEST

START_TEST(status_truthful_after_deploy)
{
    pid_t pid;
    e2e *e = running_v1(&pid, NULL);
    int64_t deadline;

    e2e_deploy_ok(e, L, "keep-v2.yaml");
    deadline = e2e_now_ms() + 60000;
    for (;;) { /* from the first answer on: never deployed with another version than v2 */
        json_t *j = e2e_api(e, L, "status", APP, NULL, 0);
        json_t *doc = json_object_get(j, "status");
        const char *type =
            json_string_value(json_object_get(json_object_get(doc, "status"), "type"));
        const char *v =
            json_string_value(json_object_get(json_object_get(doc, "latticed"), "version"));
        bool done = type != NULL && strcmp(type, "deployed") == 0;

        if (done)
            ck_assert_msg(v != NULL && strcmp(v, "v2") == 0, "deployed with version %s",
                          v ? v : "?");
        json_decref(j);
        if (done)
            break;
        ck_assert_msg(e2e_now_ms() < deadline, "v2 never deployed");
        e2e_sleep_ms(50);
    }
    E2E_EXPECT(e, e2e_wait(e, count_is, &(want_arg){ "v2", 6 }, 30000), "v2 never ran");
    finish(e);
}
END_TEST

static bool kv_has_v2(e2e *e, void *arg)
{
    char *doc = kv_status(arg);
    bool ok = doc != NULL && strstr(doc, "\"version\":\"v2\"") != NULL &&
              strstr(doc, "\"type\":\"deployed\"") != NULL;

    (void)e;
    free(doc);
    return ok;
}

START_TEST(status_writes_retried)
{
    pid_t pid;
    char rules[1024];
    e2e *e;
    watcher w = { 0 };
    want_arg v2 = { "v2", 6 };
    char *doc;

    e = running_v1(&pid, NULL);
    e2e_kill(e, pid, SIGTERM, true);
    snprintf(rules, sizeof(rules), "kvStore_Put:subj=$KV.latticed_status.*:mode=fail:onfile=%s",
             flag);
    ck_assert_int_eq(lt_test_write_file(flag, "", 0), LT_OK);
    pid = latticed(e, rules);
    watch_start(e, &w);
    e2e_deploy_ok(e, L, "keep-v2.yaml");
    E2E_EXPECT(e, e2e_wait(e, count_is, &v2, 60000), "v2 never ran");
    ck_assert_uint_ge(lt_shim_fired(shim_log, "kvStore_Put"), 1);
    doc = kv_status(&w);
    ck_assert_msg(doc == NULL || strstr(doc, "\"version\":\"v2\"") == NULL,
                  "written although every put failed: %s", doc);
    free(doc);
    unlink(flag); /* the KV is back */
    E2E_EXPECT(e, e2e_wait(e, kv_has_v2, &w, 30000), "the newest status was never written");
    (void)pid;
    watch_stop(&w);
    finish(e);
}
END_TEST

/* The next entry of the manifests bucket's watch: its key (copied into key) and a copy of its
 * value (NULL for a delete); false when none came within 10 s. */
static bool next_entry(kvWatcher *wt, char *key, size_t n, char **value, uint64_t *rev)
{
    kvEntry *en = NULL;

    for (;;) {
        if (kvWatcher_Next(&en, wt, 10000) != NATS_OK)
            return false;
        if (en != NULL)
            break; /* NULL: the end of the initial values */
    }
    snprintf(key, n, "%s", kvEntry_Key(en));
    *value = kvEntry_Operation(en) == kvOp_Put ? strdup(kvEntry_ValueString(en)) : NULL;
    *rev = kvEntry_Revision(en);
    kvEntry_Destroy(en);
    return true;
}

/* A put's manifest is written without waiting for it before the index's write (one round trip
 * for both): the index never names a manifest the bucket does not hold yet, and a manifest
 * write that fails fails the put, with nothing named. */
START_TEST(put_writes_manifest_first_and_its_failure_fails_the_put)
{
    pid_t pid;
    e2e *e = running_v1(&pid, NULL);
    char *data = NULL, *text, *value = NULL, key[512], id[512] = "";
    size_t len = 0;
    uint64_t rev = 0, manifest_rev = 0;
    kvStore *kv = NULL;
    kvWatcher *wt = NULL;
    watcher w = { 0 };
    json_t *j;
    bool named = false;

    e2e_kill(e, pid, SIGTERM, true);
    pid = latticed(e, "natsConnection_PublishMsg:subj=$KV.latticed_manifests.manifest.*:"
                      "mode=fail:err=closed:count=1");
    ck_assert_int_eq(lt_test_read_file(e2e_manifest("keep-v2.yaml"), 1u << 20, &data, &len), LT_OK);
    j = e2e_api(e, L, "put", NULL, data, len);
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strcmp(json_string_value(json_object_get(j, "result")), "error") == 0,
                  "put with its manifest write failing: %s", text);
    free(text);
    json_decref(j);
    ck_assert_uint_eq(lt_shim_fired(shim_log, "natsConnection_PublishMsg"), 1);
    j = e2e_api(e, L, "versions", APP, NULL, 0);
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strstr(text, "\"v2\"") == NULL, "a failed put left v2 named: %s", text);
    free(text);
    json_decref(j);
    /* watch the bucket from now on, then put again: the manifest comes before the index */
    watch_start(e, &w);
    ck_assert_int_eq(js_KeyValue(&kv, w.js, "latticed_manifests"), NATS_OK);
    ck_assert_int_eq(kvStore_WatchAll(&wt, kv, NULL), NATS_OK);
    j = e2e_api(e, L, "put", NULL, data, len);
    ck_assert_str_eq(json_string_value(json_object_get(j, "result")), "newversion");
    json_decref(j);
    while (!named && next_entry(wt, key, sizeof(key), &value, &rev)) {
        if (strncmp(key, "manifest." L "." APP ".", strlen("manifest." L "." APP ".")) == 0 &&
            value != NULL && strstr(value, "\"v2\"") != NULL) {
            snprintf(id, sizeof(id), "%s", key + strlen("manifest." L "." APP "."));
            manifest_rev = rev;
        } else if (strcmp(key, "app." L "." APP) == 0 && value != NULL &&
                   strstr(value, "\"v2\"") != NULL) {
            ck_assert_msg(id[0] != '\0' && strstr(value, id) != NULL,
                          "the index names v2 (rev %llu) before its manifest: %s",
                          (unsigned long long)rev, value);
            ck_assert_uint_lt(manifest_rev, rev);
            named = true;
        }
        free(value);
        value = NULL;
    }
    ck_assert_msg(named, "no index write named v2");
    j = e2e_api(e, L, "get", APP, "{\"version\":\"v2\"}", 16);
    ck_assert_str_eq(json_string_value(json_object_get(j, "result")), "success");
    json_decref(j);
    lt_free(data);
    kvWatcher_Destroy(wt);
    kvStore_Destroy(kv);
    watch_stop(&w);
    finish(e);
}
END_TEST

/* The put's manifest write is lost on its way (the shim drops the publish) while the index
 * write names it: the put notices (no answer, nothing to read back), writes the manifest again
 * and succeeds, with v2 readable. When that second write fails too, the put says the version
 * may be recorded without its manifest, and nothing is deleted. */
START_TEST(lost_manifest_write_is_written_again)
{
    pid_t pid;
    e2e *e = running_v1(&pid, NULL);
    char *data = NULL, *text, *v, key[512];
    const char *id = NULL;
    size_t len = 0, i;
    json_t *j, *idx, *ver;
    watcher w = { 0 };
    kvStore *kv = NULL;
    kvEntry *en = NULL;
    kvEntryList hist = { 0 };

    e2e_kill(e, pid, SIGTERM, true);
    pid = latticed(e, "natsConnection_PublishMsg:subj=$KV.latticed_manifests.manifest.*:"
                      "mode=drop:count=1");
    ck_assert_int_eq(lt_test_read_file(e2e_manifest("keep-v2.yaml"), 1u << 20, &data, &len), LT_OK);
    j = e2e_api(e, L, "put", NULL, data, len);
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strcmp(json_string_value(json_object_get(j, "result")), "newversion") == 0,
                  "put with its manifest write lost: %s", text);
    free(text);
    json_decref(j);
    ck_assert_uint_eq(lt_shim_fired(shim_log, "natsConnection_PublishMsg"), 1);
    j = e2e_api(e, L, "get", APP, "{\"version\":\"v2\"}", 16);
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strcmp(json_string_value(json_object_get(j, "result")), "success") == 0,
                  "get v2 after the manifest was written again: %s", text);
    free(text);
    json_decref(j);
    /* both writes fail: the outcome is unknown, and the reply says what to check */
    e2e_kill(e, pid, SIGTERM, true);
    unlink(shim_log);
    pid = latticed(e, "natsConnection_PublishMsg:subj=$KV.latticed_manifests.manifest.*:"
                      "mode=drop:count=1;"
                      "js_PublishMsg:subj=$KV.latticed_manifests.manifest.*:mode=fail:err=err");
    ck_assert_ptr_nonnull(v = strstr(data, "version: v2"));
    v[strlen("version: v")] = '3'; /* the same manifest as v3 */
    j = e2e_api(e, L, "put", NULL, data, len);
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_msg(strcmp(json_string_value(json_object_get(j, "result")), "error") == 0 &&
                      strstr(text, "may be recorded without its manifest") != NULL,
                  "put with both manifest writes failing: %s", text);
    free(text);
    json_decref(j);
    /* written again, waiting, and sent again while unanswered (within the request's deadline) */
    ck_assert_uint_ge(lt_shim_fired(shim_log, "js_PublishMsg"), 1);
    /* the index names v3 and its manifest key was never touched: no delete marker that would
     * keep the manifest from ever being written under that id */
    watch_start(e, &w);
    ck_assert_int_eq(js_KeyValue(&kv, w.js, "latticed_manifests"), NATS_OK);
    ck_assert_int_eq(kvStore_Get(&en, kv, "app." L "." APP), NATS_OK);
    idx = json_loads(kvEntry_ValueString(en), 0, NULL);
    kvEntry_Destroy(en);
    json_array_foreach (json_object_get(idx, "versions"), i, ver)
        if (strcmp(json_string_value(json_object_get(ver, "version")), "v3") == 0)
            id = json_string_value(json_object_get(ver, "key"));
    ck_assert_msg(id != NULL, "the index does not name v3");
    snprintf(key, sizeof(key), "manifest." L "." APP ".%s", id);
    ck_assert_int_eq(kvStore_History(&hist, kv, key, NULL), NATS_NOT_FOUND);
    json_decref(idx);
    kvStore_Destroy(kv);
    watch_stop(&w);
    (void)pid;
    lt_free(data);
    finish(e);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = { lost_index_replies_keep_v2,
                                   put_writes_manifest_first_and_its_failure_fails_the_put,
                                   lost_manifest_write_is_written_again,
                                   undecidable_put_says_so_and_keeps_manifest,
                                   restart_with_unreadable_manifest_stops_nothing,
                                   status_truthful_after_deploy,
                                   status_writes_retried,
                                   NULL };

    return e2e_run_suite("e2e_store", 240, tests); /* CK_RUN_CASE=<name>: one */
}
