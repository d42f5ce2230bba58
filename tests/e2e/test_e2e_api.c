/*
 * test_e2e_api.c - the API's workers with real processes (nats-server,
 * latticed): the LD_PRELOAD fault shim in latticed delays every index write
 * of one app ("slow", 3 s), and the test checks what the worker set promises
 * (api/api_pool.c):
 *   - a request for another app is answered while the slow app's write
 *     waits (one handler thread answered it only after the slow one);
 *   - requests for one app sent back to back, without waiting, run in the
 *     order they were sent (put v1, deploy v1, put v2: the deploy finds v1).
 * With another rule (every write of one app's index refused), a put answers
 * wadm's storage error followed by its cause and that nothing was changed, and
 * indeed nothing was: the app is not found afterwards.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "e2e.h"
#include "lt_shimctl.h"
#include "lt_testutil.h"

#define L "default"
#define SLOW_RULE "js_PublishMsg:subj=$KV.latticed_manifests.app." L ".slow:mode=delay=3000"
/* Every write of app "refused"'s index answered "no responders" (not stored, and known not to
 * be): nothing reaches JetStream. */
#define REFUSED_RULE \
    "js_PublishMsg:subj=$KV.latticed_manifests.app." L ".refused:mode=fail:err=noresp"

/* A one-component manifest; id: the component's explicit id (properties.id), or NULL. */
static const char *manifest_id(char *buf, size_t size, const char *name, const char *version,
                               const char *id)
{
    char idp[128] = "";

    if (id != NULL)
        snprintf(idp, sizeof(idp), ",\"id\":\"%s\"", id);
    snprintf(buf, size,
             "{\"apiVersion\":\"core.oam.dev/v1beta1\",\"kind\":\"Application\","
             "\"metadata\":{\"name\":\"%s\",\"annotations\":{\"version\":\"%s\"}},"
             "\"spec\":{\"components\":[{\"name\":\"c\",\"type\":\"component\","
             "\"properties\":{\"image\":\"file:///tmp/c.wasm\"%s},\"traits\":[{\"type\":"
             "\"spreadscaler\",\"properties\":{\"instances\":1}}]}]}}",
             name, version, idp);
    return buf;
}

static const char *manifest(char *buf, size_t size, const char *name, const char *version)
{
    return manifest_id(buf, size, name, version, NULL);
}

typedef struct {
    e2e *e;
    natsConnection *nc;
    natsSubscription *replies; /* _INBOX.api-test.<tag> */
} client;

static void client_open(client *c)
{
    char log[600], *dir = NULL;
    pid_t pid;

    c->e = e2e_new();
    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-e2e-api"), LT_OK);
    snprintf(log, sizeof(log), "%s/shim.log", dir);
    free(dir);
    ck_assert_int_eq(lt_shim_set(SLOW_RULE, log), LT_OK);
    pid = e2e_latticed(c->e, NULL);
    lt_shim_unset();
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(natsConnection_ConnectTo(&c->nc, e2e_url(c->e)), NATS_OK);
    ck_assert_int_eq(natsConnection_SubscribeSync(&c->replies, c->nc, "_INBOX.api-test.*"),
                     NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(c->nc), NATS_OK);
    /* latticed answers the API once it is up: a put of an unrelated app, waited for */
    {
        char b[1024];
        const char *body = manifest(b, sizeof(b), "warmup", "v1");
        json_t *r = e2e_api(c->e, L, "put", NULL, body, strlen(body));

        ck_assert_ptr_nonnull(r);
        json_decref(r);
    }
}

static void client_close(client *c)
{
    natsSubscription_Destroy(c->replies);
    natsConnection_Destroy(c->nc);
    e2e_free(c->e);
}

/* Send op (on name, or none) without waiting; its reply comes to _INBOX.api-test.<tag>. */
static void send(client *c, const char *op, const char *name, const char *body, const char *tag)
{
    char subj[256], reply[128];

    if (name != NULL)
        snprintf(subj, sizeof(subj), "wadm.api." L ".model.%s.%s", op, name);
    else
        snprintf(subj, sizeof(subj), "wadm.api." L ".model.%s", op);
    snprintf(reply, sizeof(reply), "_INBOX.api-test.%s", tag);
    ck_assert_int_eq(natsConnection_PublishRequestString(c->nc, subj, reply, body), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(c->nc), NATS_OK);
}

/* The next reply: its tag into tag, its body (strdup'ed) returned. */
static char *next_reply(client *c, char *tag, size_t tagsize)
{
    natsMsg *m = NULL;
    char *body;

    ck_assert_int_eq(natsSubscription_NextMsg(&m, c->replies, 30000), NATS_OK);
    snprintf(tag, tagsize, "%s", natsMsg_GetSubject(m) + strlen("_INBOX.api-test."));
    body = strdup(natsMsg_GetData(m));
    natsMsg_Destroy(m);
    return body;
}

START_TEST(other_apps_not_held_up)
{
    client c;
    char b1[1024], b2[1024], tag[64];
    char *r1, *r2;

    client_open(&c);
    send(&c, "put", NULL, manifest(b1, sizeof(b1), "slow", "v1"), "slow");
    send(&c, "put", NULL, manifest(b2, sizeof(b2), "fast", "v1"), "fast");
    r1 = next_reply(&c, tag, sizeof(tag));
    ck_assert_msg(strcmp(tag, "fast") == 0, "the first reply is %s's: %s", tag, r1);
    ck_assert_ptr_nonnull(strstr(r1, "\"created\""));
    r2 = next_reply(&c, tag, sizeof(tag));
    ck_assert_str_eq(tag, "slow");
    ck_assert_ptr_nonnull(strstr(r2, "\"created\""));
    free(r1);
    free(r2);
    client_close(&c);
}
END_TEST

START_TEST(one_app_in_order)
{
    static const char *const tags[] = { "put1", "deploy1", "put2", "status" };
    client c;
    char b1[1024], b2[1024], tag[64];
    char *r[4];
    json_t *hist;

    client_open(&c);
    send(&c, "put", NULL, manifest(b1, sizeof(b1), "slow", "v1"), "put1");
    send(&c, "deploy", "slow", "{\"version\":\"v1\"}", "deploy1");
    send(&c, "put", NULL, manifest(b2, sizeof(b2), "slow", "v2"), "put2");
    send(&c, "status", "slow", "", "status");
    for (size_t i = 0; i < 4; i++) {
        r[i] = next_reply(&c, tag, sizeof(tag));
        ck_assert_msg(strcmp(tag, tags[i]) == 0, "reply %zu is %s's, not %s's: %s", i, tag, tags[i],
                      r[i]);
    }
    ck_assert_ptr_nonnull(strstr(r[0], "\"created\""));
    ck_assert_msg(strstr(r[1], "\"acknowledged\"") != NULL, "deploy: %s", r[1]);
    ck_assert_ptr_nonnull(strstr(r[2], "\"current_version\":\"v2\""));
    ck_assert_ptr_nonnull(strstr(r[3], "\"result\":\"ok\""));
    for (size_t i = 0; i < 4; i++)
        free(r[i]);
    /* the index holds the same order */
    hist = e2e_api(c.e, L, "history", "slow", "", 0);
    ck_assert_ptr_nonnull(hist);
    {
        char *text = json_dumps(hist, JSON_COMPACT);
        char *p1 = strstr(text, "\"put\""), *d = strstr(text, "\"deploy\"");

        ck_assert_msg(p1 != NULL && d != NULL && p1 < d, "history: %s", text);
        ck_assert_msg(strstr(d, "\"put\"") != NULL, "no put after the deploy: %s", text);
        free(text);
    }
    json_decref(hist);
    client_close(&c);
}
END_TEST

/* Two apps claim the same explicit component id, deployed side by side on one replica while
 * the first one's index write is slow: exactly one is acknowledged, the other refused (the
 * check and the claim are on different keys: deploys claiming ids take turns). */
START_TEST(explicit_id_claimed_once)
{
    client c;
    char b1[1024], b2[1024], tag[64];
    char *r1, *r2;
    size_t acked = 0;

    client_open(&c);
    send(&c, "put", NULL, manifest_id(b1, sizeof(b1), "slow", "v1", "dup-id"), "p1");
    send(&c, "put", NULL, manifest_id(b2, sizeof(b2), "quick", "v1", "dup-id"), "p2");
    free(next_reply(&c, tag, sizeof(tag)));
    free(next_reply(&c, tag, sizeof(tag)));
    send(&c, "deploy", "slow", "{\"version\":\"v1\"}", "d1");
    send(&c, "deploy", "quick", "{\"version\":\"v1\"}", "d2");
    r1 = next_reply(&c, tag, sizeof(tag));
    r2 = next_reply(&c, tag, sizeof(tag));
    acked = (strstr(r1, "\"acknowledged\"") != NULL) + (strstr(r2, "\"acknowledged\"") != NULL);
    ck_assert_msg(acked == 1, "%zu of 2 deploys claiming dup-id acknowledged: %s / %s", acked, r1,
                  r2);
    free(r1);
    free(r2);
    client_close(&c);
}
END_TEST

START_TEST(refused_write_says_nothing_changed)
{
    e2e *e = e2e_new();
    char b[1024];
    const char *body = manifest(b, sizeof(b), "refused", "v1");
    const char *msg, *result;
    json_t *r;

    ck_assert_int_eq(lt_shim_set(REFUSED_RULE, NULL), LT_OK);
    ck_assert_int_gt(e2e_latticed(e, NULL), 0);
    lt_shim_unset();
    r = e2e_api(e, L, "put", NULL, body, strlen(body));
    ck_assert_ptr_nonnull(r);
    result = json_string_value(json_object_get(r, "result"));
    msg = json_string_value(json_object_get(r, "message"));
    ck_assert_msg(result != NULL && strcmp(result, "error") == 0 && msg != NULL &&
                      strncmp(msg, "Internal storage error: the store could not be reached (",
                              56) == 0 &&
                      strstr(msg, "; nothing was changed") != NULL,
                  "put with its index write refused: %s %s", result, msg);
    json_decref(r);
    r = e2e_api(e, L, "versions", "refused", "", 0);
    ck_assert_ptr_nonnull(r);
    result = json_string_value(json_object_get(r, "result"));
    ck_assert_msg(result != NULL && strcmp(result, "notfound") == 0, "versions after it: %s",
                  result);
    json_decref(r);
    e2e_free(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("e2e_api");
    TCase *tc = tcase_create("workers");
    SRunner *sr;
    int failed;

    e2e_require_bins();
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, other_apps_not_held_up);
    tcase_add_test(tc, one_app_in_order);
    tcase_add_test(tc, explicit_id_claimed_once);
    tcase_add_test(tc, refused_write_says_nothing_changed);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
