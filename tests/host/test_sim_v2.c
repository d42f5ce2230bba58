/*
 * test_sim_v2.c - `latticed-host --simulate N --protocol wasmcloud-v2` against a
 * real nats-server, driven as the wasmCloud runtime-operator drives `wash host`:
 * heartbeats on the operator subject that decode strictly as HostHeartbeat
 * (64-bit fields as strings, environment/labels/exports as configured, fields
 * omitted for old versions), workload.start/status/stop with the states and
 * messages of a real host, no reply at all to what a real host cannot decode
 * (unknown field, newer field than the reported version, bad JSON, missing
 * workload, unknown command), one request at a time per host while a start
 * pulls (--reply-delay-ms), --v2-not-found-after-start, --v2-never-reply and
 * --refuse-image.
 */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_driver.h"
#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_natsrv.h"
#include "lt_pbjson.h"
#include "lt_testutil.h"
#include "wasmcloud/runtime/v2/host_heartbeat.pb-c.h"
#include "wasmcloud/runtime/v2/workload_service.pb-c.h"

#define WS(x) WASMCLOUD__RUNTIME__V2__WORKLOAD_STATE__WORKLOAD_STATE_##x
#define DUP_MSG \
    "Workload ID [%s] already exists (the exising workload must be stopped to reuse the ID)"

typedef Wasmcloud__Runtime__V2__HostHeartbeat hb_t;

/* One nats-server, our connection, the heartbeat and reply subscriptions. */
typedef struct {
    lt_natsrv *srv;
    natsConnection *nc;
    natsSubscription *hb;  /* "<operator prefix>.heartbeat.>" */
    natsSubscription *rep; /* "_V2T.>": replies to requests we publish ourselves */
    char *dir;
} env_t;

/* One simulator process and the ids its "ready" lines gave. */
typedef struct {
    pid_t pid;
    char log[600];
    char ids[4][40];
    size_t n;
} sim_t;

static void env_open(env_t *e, const char *op_prefix)
{
    lt_natsrv_opts o = { .no_jetstream = true };
    char subj[128];

    memset(e, 0, sizeof(*e));
    ck_assert_int_eq(lt_natsrv_start(&e->srv, &o), LT_OK);
    ck_assert_int_eq(lt_test_tmpdir(&e->dir, "lt-sim-v2"), LT_OK);
    ck_assert_int_eq(natsConnection_ConnectTo(&e->nc, lt_natsrv_url(e->srv)), NATS_OK);
    snprintf(subj, sizeof(subj), "%s.heartbeat.>", op_prefix);
    ck_assert_int_eq(natsConnection_SubscribeSync(&e->hb, e->nc, subj), NATS_OK);
    ck_assert_int_eq(natsConnection_SubscribeSync(&e->rep, e->nc, "_V2T.>"), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(e->nc), NATS_OK);
}

static void env_close(env_t *e)
{
    natsConnection_Close(e->nc); /* joins nats.c's reader before the destroys (lt_conn.h) */
    natsSubscription_Destroy(e->hb);
    natsSubscription_Destroy(e->rep);
    natsConnection_Destroy(e->nc);
    ck_assert_int_eq(lt_natsrv_stop(e->srv), LT_OK);
    LT_IGNORE(lt_test_rmtree(e->dir));
    lt_free(e->dir);
}

/* The log's "v2sim host <id> ready" lines into s->ids; true once n were seen. */
static bool ready_lines(sim_t *s, size_t n)
{
    char *text = NULL;
    const char *p;

    s->n = 0;
    if (lt_test_read_file(s->log, 1 << 20, &text, NULL) != LT_OK)
        return false;
    for (p = text; (p = strstr(p, "v2sim host ")) != NULL && s->n < 4; p++) {
        char id[40];

        if (sscanf(p, "v2sim host %39s ready", id) == 1 &&
            strncmp(p + 11 + strlen(id), " ready", 6) == 0)
            snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", id);
    }
    lt_free(text);
    return s->n >= n;
}

static void sim_spawn(env_t *e, sim_t *s, const char *tag, size_t n, const char *const *extra)
{
    char *argv[40], num[32];
    int k = 0;
    int64_t end = drv_now_ms() + 30000;
    const char *bin = getenv("LATTICED_HOST_BIN");

    ck_assert_ptr_nonnull(bin);
    memset(s, 0, sizeof(*s));
    snprintf(s->log, sizeof(s->log), "%s/%s.log", e->dir, tag);
    snprintf(num, sizeof(num), "--simulate=%zu", n);
    argv[k++] = (char *)"latticed-host";
    argv[k++] = (char *)"--nats-url";
    argv[k++] = (char *)lt_natsrv_url(e->srv);
    argv[k++] = num;
    argv[k++] = (char *)"--protocol=wasmcloud-v2";
    for (size_t i = 0; extra[i] != NULL; i++)
        argv[k++] = (char *)extra[i];
    argv[k] = NULL;
    s->pid = drv_spawn(bin, argv, s->log);
    while (!ready_lines(s, n) && drv_now_ms() < end)
        lt_test_sleep_ms(20);
    ck_assert_msg(s->n == n, "%zu of %zu ready lines in %s", s->n, n, s->log);
}

/* SIGTERM; exit 0 (99 would be a valgrind error of the simulator). */
static void sim_stop(sim_t *s)
{
    int status = drv_stop(s->pid, SIGTERM, 20000);
    char *text = NULL;
    size_t len = 0;

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (lt_test_read_file(s->log, 1 << 20, &text, &len) != LT_OK)
        text = NULL;
    ck_assert_msg(false, "simulator exit status %d; the end of its log:\n%s", status,
                  text == NULL ? "(unreadable)" : text + (len > 6000 ? len - 6000 : 0));
    lt_free(text);
}

/* Whether the simulator's log holds line (a whole line). */
static bool log_has(const sim_t *s, const char *line)
{
    char *text = NULL;
    bool found = false;
    size_t n = strlen(line);

    if (lt_test_read_file(s->log, 1 << 20, &text, NULL) != LT_OK)
        return false;
    for (const char *p = text; !found && (p = strstr(p, line)) != NULL; p++)
        found = (p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0');
    lt_free(text);
    return found;
}

/* The next heartbeat of host id (skipping others'), raw; NULL after timeout_ms. */
static natsMsg *next_hb(env_t *e, const char *prefix, const char *id, int64_t timeout_ms)
{
    int64_t end = drv_now_ms() + timeout_ms;
    char subj[128];

    snprintf(subj, sizeof(subj), "%s.heartbeat.%s", prefix, id);
    for (;;) {
        natsMsg *m = NULL;
        int64_t left = end - drv_now_ms();

        if (left <= 0 || natsSubscription_NextMsg(&m, e->hb, left) != NATS_OK)
            return NULL;
        if (strcmp(natsMsg_GetSubject(m), subj) == 0)
            return m;
        natsMsg_Destroy(m);
    }
}

static hb_t *decode_hb(const char *data, size_t len)
{
    ProtobufCMessage *m = NULL;

    ck_assert_msg(lt_pbjson_decode(&wasmcloud__runtime__v2__host_heartbeat__descriptor, data, len,
                                   0, &m) == LT_OK,
                  "heartbeat does not decode strictly: %s: %.*s", lt_error_message(), (int)len,
                  data);
    return (hb_t *)m;
}

static const char *hb_label(const hb_t *hb, const char *k)
{
    for (size_t i = 0; i < hb->n_labels; i++)
        if (strcmp(hb->labels[i]->key, k) == 0)
            return hb->labels[i]->value;
    return NULL;
}

/* A request with our own inbox ("_V2T.<tag>"), the reply awaited separately. */
static void send_req(env_t *e, const char *prefix, const char *id, const char *cmd,
                     const char *body, const char *tag)
{
    char subj[256], inbox[64];

    snprintf(subj, sizeof(subj), "%s.%s.%s", prefix, id, cmd);
    snprintf(inbox, sizeof(inbox), "_V2T.%s", tag);
    ck_assert_int_eq(natsConnection_PublishRequestString(e->nc, subj, inbox, body), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(e->nc), NATS_OK);
}

/* The next reply on our inbox subscription; NULL after timeout_ms. */
static natsMsg *next_reply(env_t *e, int64_t timeout_ms)
{
    natsMsg *m = NULL;

    return natsSubscription_NextMsg(&m, e->rep, timeout_ms) == NATS_OK ? m : NULL;
}

/* Request/reply on "runtime.host.<id>.<cmd>"; the reply's WorkloadStatus (strict decode),
 * checked to be pretty-printed JSON without headers. */
static void wl_req(env_t *e, const char *id, const char *cmd, const char *body, const char *wid,
                   int state, const char *message)
{
    char tag[32];
    natsMsg *m;
    ProtobufCMessage *pm = NULL;
    Wasmcloud__Runtime__V2__WorkloadStatusResponse *r;
    const char **keys = NULL;
    int nkeys = 0;

    snprintf(tag, sizeof(tag), "r%lld", (long long)drv_now_ms());
    send_req(e, "runtime.host", id, cmd, body, tag);
    m = next_reply(e, 15000);
    ck_assert_msg(m != NULL, "no reply to %s %s", cmd, body);
    ck_assert(strstr(natsMsg_GetSubject(m), tag) != NULL);
    ck_assert_int_eq(natsMsgHeader_Keys(m, &keys, &nkeys), NATS_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(natsMsg_GetData(m), "{\n  \"workloadStatus\": {\n    \""));
    ck_assert_msg(lt_pbjson_decode(&wasmcloud__runtime__v2__workload_status_response__descriptor,
                                   natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0,
                                   &pm) == LT_OK,
                  "%s", lt_error_message());
    r = (void *)pm;
    ck_assert_ptr_nonnull(r->workload_status);
    ck_assert_str_eq(r->workload_status->workload_id, wid);
    ck_assert_int_eq(r->workload_status->workload_state, state);
    ck_assert_str_eq(r->workload_status->message, message);
    protobuf_c_message_free_unpacked(pm, NULL);
    natsMsg_Destroy(m);
}

static char *start_body(char *buf, size_t n, const char *wid, const char *name, const char *image,
                        const char *res)
{
    snprintf(buf, n,
             "{\"workload\":{\"namespace\":\"default\",\"name\":\"%s\",\"annotations\":{\"a\":"
             "\"b\"},\"witWorld\":{\"components\":[{\"image\":\"%s\",\"localResources\":{%s},"
             "\"name\":\"hello-world\"}],\"hostInterfaces\":[{\"namespace\":\"wasi\","
             "\"package\":\"http\",\"interfaces\":[\"incoming-handler\"],\"config\":{\"host\":"
             "\"x\"}}]}},\"workloadId\":\"%s\"}",
             name, image, res, wid);
    return buf;
}

static char *id_body(char *buf, size_t n, const char *wid)
{
    snprintf(buf, n, "{\"workloadId\":\"%s\"}", wid);
    return buf;
}

/* bad gets no reply: good, sent right after to the same host, is answered, and by then bad
 * (handled first, in arrival order) would have been answered too. */
static void no_reply(env_t *e, const char *id, const char *cmd, const char *bad,
                     const char *good_wid)
{
    char b[256], tag[32];
    natsMsg *m;

    snprintf(tag, sizeof(tag), "bad%lld", (long long)drv_now_ms());
    send_req(e, "runtime.host", id, cmd, bad, tag);
    wl_req(e, id, "workload.status", id_body(b, sizeof(b), good_wid), good_wid, WS(NOT_FOUND),
           "Workload not found: w-unknown");
    m = next_reply(e, 300);
    ck_assert_msg(m == NULL, "%s %s was answered: %s", cmd, bad,
                  m != NULL ? natsMsg_GetData(m) : "");
}

START_TEST(test_heartbeat)
{
    const char *extra[] = { "--heartbeat-interval=300ms",
                            "--environment=prod",
                            "--label=zone=z{i}",
                            "--label",
                            "hostgroup=edge",
                            "--export=wasi:keyvalue/store,atomics@0.2.0",
                            "--export",
                            "acme:x/y",
                            NULL };
    env_t e;
    sim_t s;
    natsMsg *m;
    hb_t *hb;
    json_t *j;
    char b[1024];

    env_open(&e, "runtime.operator");
    sim_spawn(&e, &s, "hb", 2, extra);
    for (size_t i = 0; i < 2; i++) {
        m = next_hb(&e, "runtime.operator", s.ids[i], 10000);
        ck_assert_msg(m != NULL, "no heartbeat of %s", s.ids[i]);
        hb = decode_hb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
        ck_assert_str_eq(hb->id, s.ids[i]);
        ck_assert_uint_eq(strlen(hb->id), 36);
        ck_assert_int_eq(hb->id[14], '4'); /* UUID version 4 */
        ck_assert_int_eq(strchr(hb->friendly_name, '-') != NULL, 1);
        ck_assert_str_eq(hb->version, "2.7.0");
        ck_assert_str_eq(hb->os_arch, "x86_64");
        ck_assert_str_eq(hb->os_name, "linux");
        ck_assert_str_eq(hb->os_kernel, "unix");
        ck_assert_str_eq(hb->environment, "prod");
        ck_assert_ptr_nonnull(hb->started_at);
        ck_assert_int_gt(hb->started_at->seconds, 1700000000);
        ck_assert_str_ne(hb->hostname, "");
        ck_assert_uint_gt(hb->system_memory_total, 0);
        ck_assert_uint_eq(hb->n_labels, 2);
        ck_assert_str_eq(hb_label(hb, "hostgroup"), "edge");
        ck_assert_str_eq(hb_label(hb, "zone"), i == 0 ? "z0" : "z1");
        ck_assert_uint_eq(hb->n_imports, 0);
        ck_assert_uint_eq(hb->n_exports, 2);
        ck_assert_str_eq(hb->exports[0]->namespace_, "wasi");
        ck_assert_str_eq(hb->exports[0]->package, "keyvalue");
        ck_assert_str_eq(hb->exports[0]->version, "0.2.0");
        ck_assert_uint_eq(hb->exports[0]->n_interfaces, 2);
        ck_assert_str_eq(hb->exports[0]->interfaces[1], "atomics");
        ck_assert_str_eq(hb->exports[1]->namespace_, "acme");
        ck_assert_str_eq(hb->exports[1]->version, "");
        ck_assert_str_eq(hb->exports[1]->interfaces[0], "y");
        protobuf_c_message_free_unpacked(&hb->base, NULL);
        /* compact JSON, 64-bit fields as strings, httpPort 0 omitted */
        ck_assert_ptr_null(strchr(natsMsg_GetData(m), '\n'));
        j = json_loads(natsMsg_GetData(m), 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert(json_is_string(json_object_get(j, "systemMemoryTotal")));
        ck_assert(json_is_string(json_object_get(j, "systemMemoryFree")));
        ck_assert_ptr_null(json_object_get(j, "httpPort"));
        ck_assert_ptr_null(json_object_get(j, "componentCount")); /* 0: omitted */
        json_decref(j);
        natsMsg_Destroy(m);
    }
    /* Every interval, not just once. */
    ck_assert_ptr_nonnull(m = next_hb(&e, "runtime.operator", s.ids[1], 5000));
    natsMsg_Destroy(m);
    /* A workload counts (as strings), and the heartbeat RPC answers pretty-printed. */
    wl_req(&e, s.ids[0], "workload.start",
           start_body(b, sizeof(b), "w-1", "hello", "ghcr.io/x/hello:1", ""), "w-1", WS(RUNNING),
           "Workload started successfully");
    send_req(&e, "runtime.host", s.ids[0], "heartbeat", "{}", "hb");
    m = next_reply(&e, 10000);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(strchr(natsMsg_GetData(m), '\n'));
    hb = decode_hb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
    ck_assert_str_eq(hb->id, s.ids[0]);
    ck_assert_uint_eq(hb->component_count, 1);
    ck_assert_uint_eq(hb->workload_count, 1);
    protobuf_c_message_free_unpacked(&hb->base, NULL);
    j = json_loads(natsMsg_GetData(m), 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(j, "componentCount")), "1");
    ck_assert_str_eq(json_string_value(json_object_get(j, "workloadCount")), "1");
    json_decref(j);
    natsMsg_Destroy(m);
    sim_stop(&s);
    env_close(&e);
}
END_TEST

START_TEST(test_lifecycle)
{
    const char *extra[] = { NULL };
    env_t e;
    sim_t s;
    char b[1024], line[256], msg[256];

    env_open(&e, "runtime.operator");
    sim_spawn(&e, &s, "life", 1, extra);
    wl_req(&e, s.ids[0], "workload.start",
           start_body(b, sizeof(b), "w-a", "hello-rs-1", "ghcr.io/x/hello:1", ""), "w-a",
           WS(RUNNING), "Workload started successfully");
    wl_req(&e, s.ids[0], "workload.status", id_body(b, sizeof(b), "w-a"), "w-a", WS(RUNNING),
           "Workload is Running");
    /* A duplicate live id: ERROR with the id echoed; the running workload is untouched. */
    snprintf(msg, sizeof(msg), DUP_MSG, "w-a");
    wl_req(&e, s.ids[0], "workload.start",
           start_body(b, sizeof(b), "w-a", "other", "ghcr.io/x/other:1", ""), "w-a", WS(ERROR),
           msg);
    wl_req(&e, s.ids[0], "workload.status", id_body(b, sizeof(b), "w-a"), "w-a", WS(RUNNING),
           "Workload is Running");
    wl_req(&e, s.ids[0], "workload.stop", id_body(b, sizeof(b), "w-a"), "w-a", WS(STOPPING),
           "Workload stopped successfully");
    wl_req(&e, s.ids[0], "workload.status", id_body(b, sizeof(b), "w-a"), "w-a", WS(NOT_FOUND),
           "Workload not found: w-a");
    wl_req(&e, s.ids[0], "workload.stop", id_body(b, sizeof(b), "w-a"), "w-a", WS(NOT_FOUND),
           "Workload not found");
    /* snake_case names and 64-bit numbers as numbers are accepted too */
    wl_req(&e, s.ids[0], "workload.start",
           "{\"workload\":{\"name\":\"svc\",\"service\":{\"image\":\"i\",\"max_restarts\":3},"
           "\"wit_world\":{}},\"workload_id\":\"w-b\"}",
           "w-b", WS(RUNNING), "Workload started successfully");
    /* What a real host cannot decode gets no reply at all. */
    no_reply(&e, s.ids[0], "workload.start",
             start_body(b, sizeof(b), "w-c", "x", "i", "\"bogusField\":1"), "w-unknown");
    no_reply(&e, s.ids[0], "workload.status", "{\"workloadId\":\"w-b\",\"extra\":true}",
             "w-unknown");
    no_reply(&e, s.ids[0], "workload.start", "{\"workload\":", "w-unknown");
    no_reply(&e, s.ids[0], "workload.start", "{\"workloadId\":\"w-d\"}", "w-unknown");
    no_reply(&e, s.ids[0], "workload.start", "{\"workload\":{\"name\":\"x\"}}", "w-unknown");
    no_reply(&e, s.ids[0], "workload.restart", "{\"workloadId\":\"w-b\"}", "w-unknown");
    /* the stdout lines tests rely on */
    snprintf(line, sizeof(line), "v2sim host %s start w-a RUNNING hello-rs-1", s.ids[0]);
    ck_assert_msg(log_has(&s, line), "no line '%s'", line);
    snprintf(line, sizeof(line), "v2sim host %s start w-a ERROR other", s.ids[0]);
    ck_assert_msg(log_has(&s, line), "no line '%s'", line);
    snprintf(line, sizeof(line), "v2sim host %s stop w-a STOPPING", s.ids[0]);
    ck_assert_msg(log_has(&s, line), "no line '%s'", line);
    snprintf(line, sizeof(line), "v2sim host %s stop w-a NOT_FOUND", s.ids[0]);
    ck_assert_msg(log_has(&s, line), "no line '%s'", line);
    snprintf(line, sizeof(line), "v2sim host %s dropped workload.restart (unknown command)",
             s.ids[0]);
    ck_assert_msg(log_has(&s, line), "no line '%s'", line);
    sim_stop(&s);
    env_close(&e);
}
END_TEST

/* Fields newer than the reported version: a 2.5.0 host answers nothing to a start carrying
 * allowedIpNameLookups (new in 2.6.0), a 2.7.0 host answers it; a 2.0.0 host's heartbeat has
 * no environment (2.1.0); custom prefixes; --export none. */
START_TEST(test_version_skew)
{
    const char *old[] = { "--wasmcloud-version=2.5.0", NULL };
    const char *cur[] = { NULL };
    const char *v200[] = { "--wasmcloud-version=2.0.0",
                           "--environment=prod",
                           "--export=none",
                           "--v2-host-prefix=acme.hosts",
                           "--v2-operator-prefix=acme",
                           "--heartbeat-interval=500ms",
                           NULL };
    env_t e;
    sim_t s_old, s_cur, s_200;
    char b[1024], tag[16];
    const char *res = "\"allowedIpNameLookups\":[\"example.com\"]";
    natsMsg *m;
    hb_t *hb;

    env_open(&e, "runtime.operator");
    sim_spawn(&e, &s_old, "old", 1, old);
    sim_spawn(&e, &s_cur, "cur", 1, cur);
    no_reply(&e, s_old.ids[0], "workload.start", start_body(b, sizeof(b), "w-1", "n", "i", res),
             "w-unknown");
    wl_req(&e, s_cur.ids[0], "workload.start", start_body(b, sizeof(b), "w-1", "n", "i", res),
           "w-1", WS(RUNNING), "Workload started successfully");
    /* the 2.5.0 host takes what it knows */
    wl_req(&e, s_old.ids[0], "workload.start",
           start_body(b, sizeof(b), "w-2", "n", "i", "\"allowedHosts\":[\"*\"]"), "w-2",
           WS(RUNNING), "Workload started successfully");
    no_reply(&e, s_old.ids[0], "workload.start",
             "{\"workload\":{\"witWorld\":{\"components\":[{\"image\":\"i\",\"maxConcurrency\":"
             "2}]}},\"workloadId\":\"w-3\"}",
             "w-unknown");
    /* hb of a 2.5.0 host has the environment field (empty here, so omitted); 2.0.0: none */
    sim_spawn(&e, &s_200, "v200", 1, v200);
    lt_conn_sub_free(e.nc, e.hb, LT_CONN_SETTLE_MS); /* still heartbeats: lt_conn.h */
    ck_assert_int_eq(natsConnection_SubscribeSync(&e.hb, e.nc, "acme.heartbeat.>"), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(e.nc), NATS_OK);
    snprintf(tag, sizeof(tag), "h200");
    send_req(&e, "acme.hosts", s_200.ids[0], "heartbeat", "", tag);
    m = next_reply(&e, 10000);
    ck_assert_ptr_nonnull(m);
    hb = decode_hb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
    ck_assert_str_eq(hb->version, "2.0.0");
    ck_assert_str_eq(hb->environment, "");
    ck_assert_uint_eq(hb->n_exports, 0);
    ck_assert_ptr_null(strstr(natsMsg_GetData(m), "environment"));
    protobuf_c_message_free_unpacked(&hb->base, NULL);
    natsMsg_Destroy(m);
    m = next_hb(&e, "acme", s_200.ids[0], 10000); /* a published one */
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(strstr(natsMsg_GetData(m), "environment"));
    natsMsg_Destroy(m);
    sim_stop(&s_old);
    sim_stop(&s_cur);
    sim_stop(&s_200);
    env_close(&e);
}
END_TEST

/* One request at a time per host: while a start pulls (--reply-delay-ms), a status sent right
 * after it is answered only after the start's reply and the host publishes no heartbeat;
 * another host of the same process answers at once. */
START_TEST(test_one_at_a_time)
{
    const char *extra[] = { "--reply-delay-ms=1500", "--heartbeat-interval=200ms", NULL };
    env_t e;
    sim_t s;
    char b[1024];
    natsMsg *m1, *m2, *m;
    int64_t t0, t_other, t_start;
    size_t beats = 0;

    env_open(&e, "runtime.operator");
    sim_spawn(&e, &s, "one", 2, extra);
    t0 = drv_now_ms();
    send_req(&e, "runtime.host", s.ids[0], "workload.start",
             start_body(b, sizeof(b), "w-1", "n", "i", ""), "start");
    send_req(&e, "runtime.host", s.ids[0], "workload.status", id_body(b, sizeof(b), "w-1"),
             "status");
    /* the other host is not held up */
    wl_req(&e, s.ids[1], "workload.status", id_body(b, sizeof(b), "w-x"), "w-x", WS(NOT_FOUND),
           "Workload not found: w-x");
    t_other = drv_now_ms() - t0;
    ck_assert_msg(t_other < 1200, "the other host answered after %lld ms", (long long)t_other);
    m1 = next_reply(&e, 15000);
    t_start = drv_now_ms();
    m2 = next_reply(&e, 15000);
    ck_assert_ptr_nonnull(m1);
    ck_assert_ptr_nonnull(m2);
    ck_assert_str_eq(natsMsg_GetSubject(m1), "_V2T.start");
    ck_assert_str_eq(natsMsg_GetSubject(m2), "_V2T.status");
    ck_assert_msg(t_start - t0 >= 1500, "start answered after %lld ms", (long long)(t_start - t0));
    ck_assert_ptr_nonnull(strstr(natsMsg_GetData(m2), "WORKLOAD_STATE_RUNNING"));
    natsMsg_Destroy(m1);
    natsMsg_Destroy(m2);
    /* While a second start pulls (1.5 s), the host publishes no heartbeat (7 are due at
     * 200 ms); one sent before the start was handled may still arrive in the first 300 ms. */
    t0 = drv_now_ms();
    send_req(&e, "runtime.host", s.ids[0], "workload.start",
             start_body(b, sizeof(b), "w-2", "n", "i", ""), "start2");
    lt_test_sleep_ms(300); /* a heartbeat published before the start was handled may arrive */
    while ((m = next_hb(&e, "runtime.operator", s.ids[0], 1)) != NULL)
        natsMsg_Destroy(m);
    m1 = next_reply(&e, 15000);
    ck_assert_ptr_nonnull(m1);
    ck_assert_str_eq(natsMsg_GetSubject(m1), "_V2T.start2");
    natsMsg_Destroy(m1);
    /* Heartbeats queued by now may include some published after the reply (a slow test
     * process): those count 2 workloads. Only the ones counting 1 were published before the
     * pull ended. */
    while ((m = next_hb(&e, "runtime.operator", s.ids[0], 1)) != NULL) {
        hb_t *hb = decode_hb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));

        if (hb->workload_count < 2)
            beats++;
        protobuf_c_message_free_unpacked(&hb->base, NULL);
        natsMsg_Destroy(m);
    }
    /* by the reply: the owed heartbeat, maybe one more on a loaded machine */
    ck_assert_msg(beats <= 2, "%zu heartbeats while the host was pulling", beats);
    ck_assert_ptr_nonnull(m = next_hb(&e, "runtime.operator", s.ids[0], 5000));
    natsMsg_Destroy(m);
    sim_stop(&s);
    env_close(&e);
}
END_TEST

START_TEST(test_faults)
{
    const char *nf[] = { "--v2-not-found-after-start", NULL };
    const char *never[] = { "--v2-never-reply", "--heartbeat-interval=200ms", NULL };
    const char *refuse[] = { "--refuse-image=forbidden", NULL };
    env_t e;
    sim_t s_nf, s_never, s_ref;
    char b[1024], line[256], msg[512];
    natsMsg *m;

    env_open(&e, "runtime.operator");
    sim_spawn(&e, &s_nf, "nf", 1, nf);
    sim_spawn(&e, &s_never, "never", 1, never);
    sim_spawn(&e, &s_ref, "ref", 1, refuse);
    /* --v2-not-found-after-start: RUNNING, then NOT_FOUND (wasmCloud issue #5280) */
    wl_req(&e, s_nf.ids[0], "workload.start", start_body(b, sizeof(b), "w-1", "n", "i", ""), "w-1",
           WS(RUNNING), "Workload started successfully");
    wl_req(&e, s_nf.ids[0], "workload.status", id_body(b, sizeof(b), "w-1"), "w-1", WS(NOT_FOUND),
           "Workload not found: w-1");
    /* --v2-never-reply: no workload.* reply; heartbeats (and the heartbeat RPC) go on */
    send_req(&e, "runtime.host", s_never.ids[0], "workload.start",
             start_body(b, sizeof(b), "w-1", "n", "i", ""), "never");
    send_req(&e, "runtime.host", s_never.ids[0], "heartbeat", "{}", "neverhb");
    m = next_reply(&e, 10000);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(natsMsg_GetSubject(m), "_V2T.neverhb");
    natsMsg_Destroy(m);
    ck_assert_ptr_null(next_reply(&e, 300));
    ck_assert_ptr_nonnull(m = next_hb(&e, "runtime.operator", s_never.ids[0], 5000));
    natsMsg_Destroy(m);
    snprintf(line, sizeof(line), "v2sim host %s dropped workload.start (--v2-never-reply)",
             s_never.ids[0]);
    ck_assert_msg(log_has(&s_never, line), "no line '%s'", line);
    /* --refuse-image: ERROR naming the component, the id not consumed */
    snprintf(msg, sizeof(msg),
             "failed to pull image for component 'hello-world': simulated pull failure: image "
             "'ghcr.io/acme/forbidden:1' contains 'forbidden' (--refuse-image)");
    wl_req(&e, s_ref.ids[0], "workload.start",
           start_body(b, sizeof(b), "w-1", "n", "ghcr.io/acme/forbidden:1", ""), "w-1", WS(ERROR),
           msg);
    wl_req(&e, s_ref.ids[0], "workload.status", id_body(b, sizeof(b), "w-1"), "w-1", WS(NOT_FOUND),
           "Workload not found: w-1");
    wl_req(&e, s_ref.ids[0], "workload.start",
           start_body(b, sizeof(b), "w-1", "n", "ghcr.io/acme/fine:1", ""), "w-1", WS(RUNNING),
           "Workload started successfully");
    snprintf(line, sizeof(line), "v2sim host %s start w-1 ERROR n", s_ref.ids[0]);
    ck_assert_msg(log_has(&s_ref, line), "no line '%s'", line);
    sim_stop(&s_nf);
    sim_stop(&s_never);
    sim_stop(&s_ref);
    env_close(&e);
}
END_TEST

/* --protocol wasmcloud-v2 without --simulate: a clear error, exit 2. */
START_TEST(test_needs_simulate)
{
    lt_test_cmd c = { 0 };
    lt_test_cmd_result r;
    const char *argv[] = { getenv("LATTICED_HOST_BIN"), "--protocol=wasmcloud-v2", NULL };

    c.argv = argv;
    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--simulate"));
    lt_test_cmd_result_cleanup(&r);
}
END_TEST

static Suite *v2_suite(void)
{
    Suite *s = suite_create("host_sim_v2");

    lt_test_tcase(s, "v2", 180,
                  (const TTest *const[]){ test_heartbeat, test_lifecycle, test_version_skew,
                                          test_one_at_a_time, test_faults, test_needs_simulate,
                                          NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(v2_suite());
}
