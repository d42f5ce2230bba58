/*
 * test_svc_inbox.c - the scheduler service's inbox (scheduler/svc_inbox.c) against a real
 * nats-server: while the loop is busy, a host's newer heartbeat replaces its older one still
 * waiting, so what waits is bounded by the number of hosts, not by how far the loop is behind;
 * and what the loop then applies is the newest heartbeat of each host. Other events are never
 * merged. Events arriving while the inbox is long wait packed and are unpacked by the loop:
 * every one is applied, and one whose bytes do not unpack is counted and dropped. The service
 * stops safely while nats.c's reader is between matching an event to the subscription and using
 * it (the fault shim holds the reader there; nats.c 3.4 uses it unlocked: lt_conn_subs_free).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lt_ce.h"
#include "lt_natsrv.h"
#include "lt_shimctl.h"
#include "lt_testutil.h"
#include "sched_svc_int.h"

#define N_BEATS 40

static lt_natsrv *srv;
static natsConnection *nc_svc, *nc_pub;
static jsCtx *js_svc;
static lt_loop *loop;
static lt_sched_svc *svc;

static lt_sched_svc_config cfg; /* the service's, to start it again */

static void setup_with(bool jetstream)
{
    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc_svc, lt_natsrv_url(srv)), NATS_OK);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc_pub, lt_natsrv_url(srv)), NATS_OK);
    ck_assert_int_eq(lt_loop_new(&loop), LT_OK);
    memset(&cfg, 0, sizeof(cfg));
    cfg.nc = nc_svc;
    cfg.loop = loop; /* not running yet: the loop is "behind" until the test runs it */
    if (jetstream) { /* the lease, and the host modes' bucket and its watch */
        ck_assert_int_eq(natsConnection_JetStream(&js_svc, nc_svc, NULL), NATS_OK);
        cfg.js = js_svc;
        cfg.memory = true;
    }
    ck_assert_int_eq(lt_sched_svc_start(&svc, &cfg), LT_OK);
    /* The server has the service's subscriptions before anything is published. */
    ck_assert_int_eq(natsConnection_FlushTimeout(nc_svc, 5000), NATS_OK);
}

static void setup(void)
{
    setup_with(false);
}

static void setup_js(void)
{
    setup_with(true);
}

static void teardown(void)
{
    lt_sched_svc_stop(svc);
    lt_loop_free(loop);
    jsCtx_Destroy(js_svc);
    js_svc = NULL;
    natsConnection_Destroy(nc_svc);
    natsConnection_Destroy(nc_pub);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}

/* Publish a heartbeat of host with sequence seq and the label n=seq (binary CloudEvent); with
 * garbage, protobuf bytes that do not unpack instead. */
static void beat_or_garbage(const char *host, unsigned seq, bool garbage)
{
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    Latticed__Host__V1__Heartbeat__LabelsEntry label =
        LATTICED__HOST__V1__HEARTBEAT__LABELS_ENTRY__INIT;
    Latticed__Host__V1__Heartbeat__LabelsEntry *labels[1] = { &label };
    char subject[LT_MAX_SUBJECT], n[16], id[40];
    uint8_t buf[512];
    lt_ce_event ev;
    natsMsg *msg = NULL;

    snprintf(n, sizeof(n), "%u", seq);
    snprintf(id, sizeof(id), "%s-%u", host, seq);
    label.key = "n";
    label.value = n;
    hb.host_id = (char *)host;
    hb.lattice = "default";
    hb.sequence = seq;
    hb.interval_ms = 5000;
    hb.n_labels = 1;
    hb.labels = labels;
    ck_assert_uint_le(latticed__host__v1__heartbeat__get_packed_size(&hb), sizeof(buf));
    memset(&ev, 0, sizeof(ev));
    ev.type = "dev.latticed.host.heartbeat.v1";
    ev.source = host;
    ev.id = id;
    ev.datacontenttype = LT_CE_CT_PROTOBUF;
    ev.data = buf;
    ev.data_len = latticed__host__v1__heartbeat__pack(&hb, buf);
    if (garbage) {
        memset(buf, 0xff, 16); /* a field key of ten 0xff bytes: not a varint */
        ev.data_len = 16;
    }
    ck_assert_int_eq(lt_subject_host_event(subject, sizeof(subject), LT_SCHED_DEFAULT_PREFIX,
                                           "default", host, "host.heartbeat"),
                     LT_OK);
    ck_assert_int_eq(lt_ce_to_msg(&msg, subject, &ev), LT_OK);
    ck_assert_int_eq(natsConnection_PublishMsg(nc_pub, msg), NATS_OK);
    natsMsg_Destroy(msg);
}

static void beat(const char *host, unsigned seq)
{
    beat_or_garbage(host, seq, false);
}

/* Wait until n items reached the inbox (waiting or merged into a waiting one). */
static void wait_arrived(size_t n, size_t *waiting, uint64_t *merged)
{
    int64_t deadline = lt_test_now_ms() + 10000;

    ck_assert_int_eq(natsConnection_FlushTimeout(nc_pub, 5000), NATS_OK);
    for (;;) {
        lt__sched_svc_inbox_stats(svc, waiting, merged);
        if (*waiting + *merged >= n || lt_test_now_ms() > deadline)
            break;
        lt_test_sleep_ms(10);
    }
    ck_assert_msg(*waiting + *merged == n, "waiting %zu merged %llu, want %zu", *waiting,
                  (unsigned long long)*merged, n);
}

/* On the loop: stop it once the inbox is empty (its drain may be posted just after the items
 * arrived, so this may run first: then it waits for the drain behind it). */
static void stop_when_empty(lt_loop *l, void *arg)
{
    size_t waiting;
    uint64_t merged;

    (void)arg;
    lt__sched_svc_inbox_stats(svc, &waiting, &merged);
    if (waiting == 0)
        lt_loop_stop(l);
    else
        ck_assert_int_eq(lt_loop_post(l, stop_when_empty, NULL, NULL), LT_OK);
}

/* Let the loop catch up with what waits, once (a stopped loop does not run again). */
static void catch_up(void)
{
    ck_assert_int_eq(lt_loop_post(loop, stop_when_empty, NULL, NULL), LT_OK);
    ck_assert_int_eq(lt_loop_run(loop), LT_OK);
}

START_TEST(test_newer_heartbeat_replaces_waiting_one)
{
    size_t waiting;
    uint64_t merged;
    lt_buf b;

    for (unsigned i = 1; i <= N_BEATS; i++) {
        beat("host-a", i);
        beat("host-b", 100 + i);
    }
    wait_arrived(2 * N_BEATS, &waiting, &merged);
    ck_assert_uint_eq(waiting, 2); /* one per host, however many arrived */
    ck_assert_uint_eq(merged, 2 * N_BEATS - 2);

    /* The loop catches up: what it applies is each host's newest heartbeat. */
    catch_up();
    ck_assert_ptr_nonnull(lt_sched_svc_lattice(svc, "default"));
    lt_buf_init(&b, 1u << 20);
    ck_assert_int_eq(lt_sched_hosts_json(lt_sched_svc_lattice(svc, "default"), lt_loop_now_ms(),
                                         &b),
                     LT_OK);
    ck_assert_int_eq(lt_buf_append(&b, "", 1), LT_OK);
    ck_assert_msg(strstr(b.ptr, "\"n\":\"40\"") != NULL, "host-a's last heartbeat: %s", b.ptr);
    ck_assert_msg(strstr(b.ptr, "\"n\":\"140\"") != NULL, "host-b's last heartbeat: %s", b.ptr);
    ck_assert_msg(strstr(b.ptr, "\"n\":\"39\"") == NULL, "an older heartbeat won: %s", b.ptr);
    lt_buf_cleanup(&b);
}
END_TEST

/* A heartbeat after the waiting one was taken by the loop waits anew: it is not merged into the
 * taken one (the loop may be applying it); the one after it is merged into it. */
START_TEST(test_taken_heartbeat_is_not_merged_into)
{
    size_t waiting;
    uint64_t merged;
    int64_t deadline;

    beat("host-a", 1);
    wait_arrived(1, &waiting, &merged);
    catch_up();
    beat("host-a", 2);
    beat("host-a", 3);
    ck_assert_int_eq(natsConnection_FlushTimeout(nc_pub, 5000), NATS_OK);
    deadline = lt_test_now_ms() + 10000;
    do {
        lt_test_sleep_ms(10);
        lt__sched_svc_inbox_stats(svc, &waiting, &merged);
    } while (merged == 0 && lt_test_now_ms() < deadline);
    lt_test_sleep_ms(50);
    lt__sched_svc_inbox_stats(svc, &waiting, &merged);
    ck_assert_uint_eq(merged, 1); /* 3 into 2; 2 into the taken 1 would make it 2 */
    ck_assert_uint_ge(waiting, 1);
}
END_TEST

/* More hosts than LT__SCHED_SVC_PACKED_AFTER report while the loop is stopped: the later ones wait
 * packed, and once the loop runs every host is known with its label; the one garbage event among
 * them is counted as undecodable and changes nothing. */
START_TEST(test_events_wait_packed_while_the_inbox_is_long)
{
    const unsigned n = LT__SCHED_SVC_PACKED_AFTER + 200;
    size_t waiting;
    uint64_t merged;
    char host[32], want[64];
    lt_buf b;

    for (unsigned i = 0; i < n; i++) {
        snprintf(host, sizeof(host), "host-%04u", i);
        beat(host, 1000 + i);
    }
    beat_or_garbage("host-garbage", 1, true);
    wait_arrived(n + 1, &waiting, &merged);
    ck_assert_uint_eq(merged, 0);
    ck_assert_uint_ge(atomic_load(&svc->n_kept_packed), 150); /* the path under test fired */
    catch_up();
    ck_assert_uint_eq(atomic_load(&svc->n_undecodable), 1);
    lt_buf_init(&b, 8u << 20);
    ck_assert_int_eq(lt_sched_hosts_json(lt_sched_svc_lattice(svc, "default"), lt_loop_now_ms(),
                                         &b),
                     LT_OK);
    ck_assert_int_eq(lt_buf_append(&b, "", 1), LT_OK);
    for (unsigned i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "\"n\":\"%u\"", 1000 + i);
        ck_assert_msg(strstr(b.ptr, want) != NULL, "host-%04u's heartbeat was not applied", i);
    }
    ck_assert_msg(strstr(b.ptr, "host-garbage") == NULL, "the garbage event made a host");
    lt_buf_cleanup(&b);
}
END_TEST

/* Publish m as a binary CloudEvent of type (dev.latticed.{type}.v1) from host. */
static void publish_event(const char *host, const char *type, const ProtobufCMessage *m)
{
    char subject[LT_MAX_SUBJECT], cetype[64], id[64];
    uint8_t buf[4096];
    lt_ce_event ev;
    natsMsg *msg = NULL;

    ck_assert_uint_le(protobuf_c_message_get_packed_size(m), sizeof(buf));
    snprintf(cetype, sizeof(cetype), "dev.latticed.%s.v1", type);
    snprintf(id, sizeof(id), "%s-%s", host, type);
    memset(&ev, 0, sizeof(ev));
    ev.type = cetype;
    ev.source = host;
    ev.id = id;
    ev.datacontenttype = LT_CE_CT_PROTOBUF;
    ev.data = buf;
    ev.data_len = protobuf_c_message_pack(m, buf);
    ck_assert_int_eq(lt_subject_host_event(subject, sizeof(subject), LT_SCHED_DEFAULT_PREFIX,
                                           "default", host, type),
                     LT_OK);
    ck_assert_int_eq(lt_ce_to_msg(&msg, subject, &ev), LT_OK);
    ck_assert_int_eq(natsConnection_PublishMsg(nc_pub, msg), NATS_OK);
    natsMsg_Destroy(msg);
}

/* How many instances the lattice's view of host holds (its hosts JSON). */
static unsigned host_instances(const char *host)
{
    char want[96], *at;
    unsigned n = 0;
    lt_buf b;

    lt_buf_init(&b, 1u << 20);
    ck_assert_int_eq(lt_sched_hosts_json(lt_sched_svc_lattice(svc, "default"), lt_loop_now_ms(),
                                         &b),
                     LT_OK);
    ck_assert_int_eq(lt_buf_append(&b, "", 1), LT_OK);
    snprintf(want, sizeof(want), "\"id\":\"%s\"", host);
    at = strstr(b.ptr, want);
    ck_assert_msg(at != NULL, "no %s in %s", host, b.ptr);
    at = strstr(at, "\"instances\":");
    ck_assert_ptr_nonnull(at);
    n = (unsigned)strtoul(at + 12, NULL, 10);
    lt_buf_cleanup(&b);
    return n;
}

/* A start command's running instances come as one instances.started (host.proto): each is
 * taken, as the single instance.started of a host of an earlier release still is. */
START_TEST(test_instances_started_are_taken)
{
    Latticed__Host__V1__InstancesStarted many = LATTICED__HOST__V1__INSTANCES_STARTED__INIT;
    Latticed__Host__V1__InstanceStarted one = LATTICED__HOST__V1__INSTANCE_STARTED__INIT;
    Latticed__Host__V1__Instance inst[4], *ptrs[3];
    char ids[4][16];
    size_t waiting;
    uint64_t merged;

    beat("host-i", 1); /* it introduces the host: no instances */
    for (size_t i = 0; i < 4; i++) {
        latticed__host__v1__instance__init(&inst[i]);
        snprintf(ids[i], sizeof(ids[i]), "inst-%zu", i);
        inst[i].instance_id = ids[i];
        inst[i].state = LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_RUNNING;
        inst[i].app_name = "app";
        inst[i].component_name = "api";
        if (i < 3)
            ptrs[i] = &inst[i];
    }
    many.host_id = one.host_id = "host-i";
    many.lattice = one.lattice = "default";
    many.n_instances = 3;
    many.instances = ptrs;
    one.instance = &inst[3];
    publish_event("host-i", "instances.started", &many.base);
    publish_event("host-i", "instance.started", &one.base);
    wait_arrived(3, &waiting, &merged);
    catch_up(); /* in order: the heartbeat, then the events */
    ck_assert_uint_eq(host_instances("host-i"), 4);
    ck_assert_uint_eq(atomic_load(&svc->n_undecodable), 0);
}
END_TEST

#define SHIM_CHILD "LT_SVC_INBOX_SHIM_CHILD" /* set: this process is the shimmed child */
#define READER_HOLD_MS 600

/* The child's part: an event from slow-host reaches nats.c's reader, which the shim holds for
 * READER_HOLD_MS after it matched the event to the service's subscription; the service stops
 * meanwhile. Unsettled, the subscription was freed under the reader, which then locked a mutex
 * read from freed memory (a crash at shutdown under load, bench_converge at 3,000 hosts). */
static void stop_under_a_held_reader(void)
{
    const char *log = getenv("LT_SHIM_LOG");
    int64_t deadline = lt_test_now_ms() + 10000;

    beat("slow-host", 1);
    ck_assert_int_eq(natsConnection_FlushTimeout(nc_pub, 5000), NATS_OK);
    while (lt_shim_fired(log, "natsMsg_create") == 0 && lt_test_now_ms() < deadline)
        lt_test_sleep_ms(5);
    ck_assert_uint_ge(lt_shim_fired(log, "natsMsg_create"), 1);
    lt_sched_svc_stop(svc); /* while the reader is held */
    svc = NULL;
    lt_test_sleep_ms(READER_HOLD_MS + 300); /* the reader goes on, with what it matched */
}

START_TEST(test_stop_while_the_reader_holds_a_subscription)
{
    char log[600], *dir = NULL;
    /* skip=1: the first natsMsg_create of the subject is the test's own publish. Freed memory
     * is filled where AddressSanitizer runs (else its quarantine keeps the old bytes and the use
     * after free goes unnoticed); elsewhere glibc's free list (no per-thread cache, which
     * another thread's allocation could take first) overwrites the first field, the
     * subscription's mutex. */
    lt_shim_rerun r = { .rules = "natsMsg_create:subj=*slow-host*:skip=1:mode=delay=600",
                        .log = log,
                        .marker = SHIM_CHILD,
                        .tcase = "stop",
                        .asan_extra = "max_free_fill_size=4096",
                        .tunables = "glibc.malloc.tcache_count=0" };
    lt_test_cmd_result res;

    if (getenv(SHIM_CHILD) != NULL) {
        stop_under_a_held_reader();
        return;
    }
    /* The shim is preloaded when a process starts: run this case again in a child with it. */
    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-svc-inbox"), LT_OK);
    snprintf(log, sizeof(log), "%s/shim.log", dir);
    free(dir);
    ck_assert_int_eq(lt_shim_rerun_self(&r, &res), LT_OK);
    ck_assert_msg(res.exit_code == 0, "the shimmed child: exit %d, signal %d\n%s\n%s",
                  res.exit_code, res.term_signal, res.out, res.err);
    ck_assert_uint_ge(lt_shim_fired(log, "natsMsg_create"), 1);
    lt_test_cmd_result_cleanup(&res);
    lt_shim_log_remove(log);
}
END_TEST

#define DRAIN_CHILD "LT_SVC_DRAIN_SHIM_CHILD" /* set: this process is the shimmed child */

/* The child's part: the shim is armed (its onfile) and holds the next update of the host modes'
 * bucket that the service's watch takes for READER_HOLD_MS; the service stops meanwhile. Its
 * watcher was stopped from the stopping thread (nats.c 3.4's kvWatcher_Next then drops the
 * message it took without destroying it), and an update taken as it stopped was not destroyed
 * either. The watch thread must see the message through. */
static void stop_under_a_held_mode(void)
{
    kvStore *kv = NULL;

    ck_assert_int_eq(lt_shim_arm(), LT_OK);
    ck_assert_int_eq(js_KeyValue(&kv, js_svc, "latticed_hosts"), NATS_OK);
    ck_assert_int_eq(kvStore_PutString(NULL, kv, "default.held-host", "cordon"), NATS_OK);
    kvStore_Destroy(kv);
    ck_assert(lt_shim_wait_fired("natsSubscription_NextMsg", 1, 10000));
    lt_sched_svc_stop(svc); /* while the update is held */
    svc = NULL;
    ck_assert_msg(lt_shim_fired(getenv("LT_SHIM_LOG"), "natsMsg_Destroy") == 1,
                  "the held update was never destroyed: the service's stop leaked it");
}

START_TEST(test_stop_while_the_mode_watch_holds_an_update)
{
    char rule[256];

    if (getenv(DRAIN_CHILD) != NULL) {
        stop_under_a_held_mode();
        return;
    }
    lt_shim_rule_hold(rule, sizeof(rule), "$KV.latticed_hosts.*", READER_HOLD_MS);
    lt_shim_expect_child(DRAIN_CHILD, "modes", rule, "natsMsg_Destroy", 1);
}
END_TEST

/* The child's part: the shim fails the modes' watch once, on the update that cordons h1 (the
 * update is lost, as a slow consumer loses one). The watch thread ended there for good: modes
 * changed later were applied only when latticed restarted. A new watch reads every mode again:
 * h1's lost update and h2's later one both reach the loop. */
static void modes_after_a_broken_watch(void)
{
    int64_t deadline = lt_test_now_ms() + 15000;
    const lt_sched *s;
    kvStore *kv = NULL;
    uint64_t merged;
    size_t waiting = 0;

    ck_assert_int_eq(lt_shim_arm(), LT_OK);
    ck_assert_int_eq(js_KeyValue(&kv, js_svc, "latticed_hosts"), NATS_OK);
    ck_assert_int_eq(kvStore_PutString(NULL, kv, "default.h1", "{\"state\":\"cordoned\"}"),
                     NATS_OK);
    ck_assert(lt_shim_wait_fired("natsSubscription_NextMsg", 1, 10000));
    ck_assert_int_eq(kvStore_PutString(NULL, kv, "default.h2", "{\"state\":\"draining\"}"),
                     NATS_OK);
    kvStore_Destroy(kv);
    while (waiting < 2 && lt_test_now_ms() < deadline) {
        lt_test_sleep_ms(20);
        lt__sched_svc_inbox_stats(svc, &waiting, &merged);
    }
    ck_assert_msg(waiting >= 2, "%zu mode(s) reached the inbox after the watch failed", waiting);
    catch_up();
    s = lt_sched_svc_lattice(svc, "default");
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(lt_sched_host_mode_get(s, "h1"), LT_SCHED_HOST_CORDONED);
    ck_assert_int_eq(lt_sched_host_mode_get(s, "h2"), LT_SCHED_HOST_DRAINING);
}

LT_SHIM_TEST(test_a_broken_mode_watch_is_replaced, modes_after_a_broken_watch(), DRAIN_CHILD,
             "rewatch",
             "natsSubscription_NextMsg:subj=$KV.latticed_hosts.*:count=1:mode=fail:"
             "err=err",
             "natsSubscription_NextMsg", 1)

/* The child's part: two modes are stored while the service is down; as it starts again, the
 * shim loses the second on its way to the first reading's watcher, so nats.c's end marker never
 * comes. The start failed ("reading latticed_hosts: Timeout"): latticed exited at start-up. It
 * must read the bucket again with a new watcher and start with both modes. */
static void start_with_two_modes(const char *shimmed)
{
    kvStore *kv = NULL;

    lt_sched_svc_stop(svc);
    svc = NULL;
    ck_assert_int_eq(js_KeyValue(&kv, js_svc, "latticed_hosts"), NATS_OK);
    ck_assert_int_eq(kvStore_PutString(NULL, kv, "default.h1", "{\"state\":\"cordoned\"}"),
                     NATS_OK);
    ck_assert_int_eq(kvStore_PutString(NULL, kv, "default.h2", "{\"state\":\"draining\"}"),
                     NATS_OK);
    kvStore_Destroy(kv);
    ck_assert_int_eq(lt_shim_arm(), LT_OK);
    ck_assert_msg(lt_sched_svc_start(&svc, &cfg) == LT_OK, "start: %s", lt_error_message());
    ck_assert_uint_eq(lt_shim_fired(getenv("LT_SHIM_LOG"), shimmed), 1);
    ck_assert_int_eq(lt_sched_host_mode_get(lt_sched_svc_lattice(svc, "default"), "h1"),
                     LT_SCHED_HOST_CORDONED);
    ck_assert_int_eq(lt_sched_host_mode_get(lt_sched_svc_lattice(svc, "default"), "h2"),
                     LT_SCHED_HOST_DRAINING);
}

LT_SHIM_TEST(test_modes_load_without_the_end_marker,
             start_with_two_modes("natsSubscription_NextMsg"), DRAIN_CHILD, "modes_load",
             "natsSubscription_NextMsg:subj=$KV.latticed_hosts.*:skip=1:count=1:"
             "mode=fail:err=timeout",
             "natsSubscription_NextMsg", 1)

#define REFUSED_CHILD "LT_SVC_REFUSED_SHIM_CHILD" /* set: this process is the shimmed child */

/* The same start, with the first watcher of the host modes refused by a JetStream error: the
 * start failed ("reading latticed_hosts: Error", latticed exiting at start-up in `urls`' 2-node
 * cluster right after creating the bucket, under CI's load). It must ask for another watcher. */
LT_SHIM_TEST(test_modes_load_after_a_refused_watcher, start_with_two_modes("kvStore_Watch"),
             REFUSED_CHILD, "modes_refused",
             "kvStore_Watch:subj=$KV.latticed_hosts.*:count=1:mode=fail:err=err", "kvStore_Watch",
             1)

static Suite *suite(void)
{
    Suite *s = suite_create("svc_inbox");
    TCase *t =
        lt_test_tcase(s, "inbox", 60,
                      (const TTest *const[]){ test_newer_heartbeat_replaces_waiting_one,
                                              test_taken_heartbeat_is_not_merged_into,
                                              test_events_wait_packed_while_the_inbox_is_long,
                                              test_instances_started_are_taken, NULL });

    tcase_add_checked_fixture(t, setup, teardown);
    t = lt_test_tcase(s, "stop", 90,
                      (const TTest *const[]){ test_stop_while_the_reader_holds_a_subscription,
                                              NULL });
    tcase_add_checked_fixture(t, setup, teardown);
    t = lt_test_tcase(s, "modes", 90,
                      (const TTest *const[]){ test_stop_while_the_mode_watch_holds_an_update,
                                              NULL });
    tcase_add_checked_fixture(t, setup_js, teardown);
    /* a tcase of its own: its shimmed child runs this case's tests only */
    t = lt_test_tcase(s, "rewatch", 90,
                      (const TTest *const[]){ test_a_broken_mode_watch_is_replaced, NULL });
    tcase_add_checked_fixture(t, setup_js, teardown);
    t = lt_test_tcase(s, "modes_load", 90,
                      (const TTest *const[]){ test_modes_load_without_the_end_marker, NULL });
    tcase_add_checked_fixture(t, setup_js, teardown);
    t = lt_test_tcase(s, "modes_refused", 90,
                      (const TTest *const[]){ test_modes_load_after_a_refused_watcher, NULL });
    tcase_add_checked_fixture(t, setup_js, teardown);
    return s;
}

int main(void)
{
    return lt_test_run_suite(suite());
}
