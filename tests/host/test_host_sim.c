/*
 * test_host_sim.c - `latticed-host --simulate` against a real nats-server:
 * 500 hosts with distinct ids and templated labels on one connection, each
 * announced and heartbeating (staggered over the interval), a start to one
 * simulated host answered and reflected in its heartbeat, no answer for ids
 * it does not simulate, --fail-rate honoured with a fixed seed,
 * --refuse-image, --reply-delay-ms, --crash-after-ms, and host.stopping from every host on
 * SIGTERM.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_driver.h"
#include "lt_alloc.h"
#include "lt_natsrv.h"
#include "lt_testutil.h"

typedef Latticed__Host__V1__CommandReply reply_t;
#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x
#define ST(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

static const char *host_bin(void)
{
    const char *b = getenv("LATTICED_HOST_BIN");

    ck_assert_msg(b != NULL, "LATTICED_HOST_BIN not set");
    return b;
}

static pid_t spawn_sim(lt_natsrv *srv, const char *const *extra, const char *log)
{
    char *argv[64];
    int n = 0;

    argv[n++] = (char *)"latticed-host";
    argv[n++] = (char *)"--nats-url";
    argv[n++] = (char *)lt_natsrv_url(srv);
    for (size_t i = 0; extra[i] != NULL; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    return drv_spawn(host_bin(), argv, log);
}

/* Start n instances named <tag>-<k> on host, one batch; returns the reply. */
static reply_t *start_batch_t(drv *d, const char *host, const char *tag, size_t n,
                              const char *image, uint64_t epoch, int64_t timeout_ms)
{
    Latticed__Host__V1__StartRequest q = LATTICED__HOST__V1__START_REQUEST__INIT;
    Latticed__Host__V1__InstanceSpec *specs = calloc(n, sizeof(*specs));
    Latticed__Host__V1__InstanceSpec **ptrs = calloc(n, sizeof(*ptrs));
    char(*ids)[64] = calloc(n, 64);
    char subject[256];
    reply_t *r;

    for (size_t k = 0; k < n; k++) {
        latticed__host__v1__instance_spec__init(&specs[k]);
        snprintf(ids[k], 64, "%s-%zu", tag, k);
        specs[k].instance_id = ids[k];
        specs[k].image_ref = (char *)image;
        specs[k].spec_digest = (char *)"d";
        specs[k].app_name = (char *)"app";
        ptrs[k] = &specs[k];
    }
    q.epoch = epoch;
    q.lattice = (char *)"default";
    q.request_id = (char *)tag;
    q.n_instances = n;
    q.instances = ptrs;
    snprintf(subject, sizeof(subject), "lattice.default.host.%s.start", host);
    r = (reply_t *)drv_request(d, subject, &q.base, &latticed__host__v1__command_reply__descriptor,
                               timeout_ms);
    free(specs);
    free(ptrs);
    free(ids);
    return r;
}

static reply_t *start_batch(drv *d, const char *host, const char *tag, size_t n, const char *image,
                            uint64_t epoch)
{
    return start_batch_t(d, host, tag, n, image, epoch, 10000);
}

static const char *label(Latticed__Host__V1__HostStarted *hs, const char *k)
{
    for (size_t i = 0; i < hs->n_labels; i++) {
        if (strcmp(hs->labels[i]->key, k) == 0)
            return hs->labels[i]->value;
    }
    return NULL;
}

/* The newest heartbeat of host once one lists n instances, waiting up to timeout_ms (one sent
 * before a request was handled may be delivered after its reply: they arrive on different
 * subscriptions); NULL if none did. Free with protobuf_c_message_free_unpacked. */
static Latticed__Host__V1__Heartbeat *hb_listing(drv *d, const char *host, size_t n,
                                                 int64_t timeout_ms)
{
    int64_t end = drv_now_ms() + timeout_ms;

    for (;;) {
        size_t seen = drv_count(d, "host.heartbeat", host);
        Latticed__Host__V1__Heartbeat *hb =
            (void *)drv_last(d, "host.heartbeat", host, &latticed__host__v1__heartbeat__descriptor);

        if (hb != NULL && hb->n_instances == n)
            return hb;
        if (hb != NULL)
            protobuf_c_message_free_unpacked(&hb->base, NULL);
        if (drv_now_ms() >= end)
            return NULL;
        (void)drv_wait(d, "host.heartbeat", host, seen + 1, end - drv_now_ms());
    }
}

START_TEST(test_simulate_500)
{
    const char *extra[] = { "--simulate=500",   "--heartbeat-interval=1s",
                            "--label",          "zone={east|west|moon}",
                            "--label",          "rack=r{i%4}",
                            "--label=kind=sim", "--fail-rate=0.3",
                            "--seed=7",         "--refuse-image=forbidden",
                            "--slots=1000",     NULL };
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_natsrv *srv = NULL;
    Latticed__Host__V1__HostStarted *hs;
    Latticed__Host__V1__Heartbeat *hb;
    char *dir = NULL, log[4200];
    int64_t first_hb[500];
    size_t failed = 0, total = 0, n_ok = 0;
    int ok_codes[10];
    reply_t *r;
    drv d;
    pid_t pid;
    int status;

    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-host-sim"), LT_OK);
    snprintf(log, sizeof(log), "%s/sim.log", dir);
    drv_open(&d, lt_natsrv_url(srv), "lattice.default.evt.>");
    pid = spawn_sim(srv, extra, log);

    /* Every simulated host announces itself once, with its templated labels. */
    ck_assert_msg(drv_wait(&d, "host.started", NULL, 500, 20000), "host.started: %zu of 500",
                  drv_count(&d, "host.started", NULL));
    ck_assert_uint_eq(drv_sources(&d, "host.started"), 500);
    hs = (void *)drv_last(&d, "host.started", "sim-00004",
                          &latticed__host__v1__host_started__descriptor);
    ck_assert_ptr_nonnull(hs);
    ck_assert_str_eq(label(hs, "zone"), "west");
    ck_assert_str_eq(label(hs, "rack"), "r0");
    ck_assert_str_eq(label(hs, "kind"), "sim");
    protobuf_c_message_free_unpacked(&hs->base, NULL);
    hs = (void *)drv_last(&d, "host.started", "sim-00499",
                          &latticed__host__v1__host_started__descriptor);
    ck_assert_str_eq(label(hs, "zone"), "west"); /* 499 % 3 == 1 */
    ck_assert_str_eq(label(hs, "rack"), "r3");
    protobuf_c_message_free_unpacked(&hs->base, NULL);
    hs = (void *)drv_last(&d, "host.started", "sim-00005",
                          &latticed__host__v1__host_started__descriptor);
    ck_assert_str_eq(label(hs, "zone"), "moon");
    protobuf_c_message_free_unpacked(&hs->base, NULL);
    ck_assert_uint_eq(drv_count(&d, "host.started", "sim-00500"), 0);

    /* Every host heartbeats, spread over the interval rather than all at once. */
    ck_assert_msg(drv_wait(&d, "host.heartbeat", NULL, 1000, 20000), "heartbeats: %zu",
                  drv_count(&d, "host.heartbeat", NULL));
    ck_assert_uint_eq(drv_sources(&d, "host.heartbeat"), 500);
    for (size_t i = 0; i < 500; i++)
        first_hb[i] = -1;
    for (size_t i = 0;; i++) {
        drv_event e;

        if (!drv_event_at(&d, i, &e))
            break;
        if (strcmp(e.type, "host.heartbeat") == 0 && strncmp(e.source, "sim-", 4) == 0) {
            size_t k = (size_t)atoi(e.source + 4);

            ck_assert(e.headers_ok);
            if (k < 500 && first_hb[k] < 0)
                first_hb[k] = e.at_ms;
        }
    }
    ck_assert_msg(first_hb[499] - first_hb[0] >= 500,
                  "first heartbeats of sim-00000 and sim-00499 only %lld ms apart",
                  (long long)(first_hb[499] - first_hb[0]));

    /* A start of 10 instances to one simulated host is answered by it, and its next heartbeat
     * lists all 10: RUNNING where the start succeeded, FAILED with the --fail-rate reason where
     * it was refused. With --seed=7 the refusals are the same on every run (some succeed:
     * 0.3^10 that none would); the checks do not depend on which. */
    r = start_batch(&d, "sim-00123", "i-one", 10, "ghcr.io/acme/api:1", 3);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->host_id, "sim-00123");
    ck_assert_int_eq(r->code, RC(OK));
    ck_assert_uint_eq(r->newest_epoch, 3);
    ck_assert_uint_eq(r->n_results, 10);
    for (size_t k = 0; k < r->n_results; k++) {
        ok_codes[k] = r->results[k]->code;
        n_ok += ok_codes[k] == RC(OK);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    ck_assert_uint_gt(n_ok, 0);
    hb = hb_listing(&d, "sim-00123", 10, 10000);
    ck_assert_msg(hb != NULL, "no heartbeat of sim-00123 lists the 10 instances");
    ck_assert_uint_eq(hb->newest_epoch, 3);
    for (size_t k = 0; k < 10; k++) {
        char id[32];
        const Latticed__Host__V1__Instance *in = NULL;

        snprintf(id, sizeof(id), "i-one-%zu", k);
        for (size_t j = 0; j < hb->n_instances; j++)
            if (strcmp(hb->instances[j]->instance_id, id) == 0)
                in = hb->instances[j];
        ck_assert_msg(in != NULL, "%s not in sim-00123's heartbeat", id);
        if (ok_codes[k] == RC(OK)) {
            ck_assert_int_eq(in->state, ST(RUNNING));
        } else {
            ck_assert_int_eq(ok_codes[k], RC(START_FAILED));
            ck_assert_int_eq(in->state, ST(FAILED));
            ck_assert_ptr_nonnull(strstr(in->message, "--fail-rate"));
        }
    }
    protobuf_c_message_free_unpacked(&hb->base, NULL);
    ck_assert(drv_wait_started(&d, "sim-00123", n_ok, 5000));
    /* One event per run of started instances between two failures (events stay in order). */
    ck_assert_uint_le(drv_count(&d, "instances.started", "sim-00123"), 10 - n_ok + 1);
    ck_assert_uint_eq(drv_count(&d, "instance.started", "sim-00123"), 0);
    /* Hosts it does not simulate get no answer (the wildcard subscription sees
     * the request and drops it). */
    r = start_batch_t(&d, "sim-00500", "i-x", 1, "ghcr.io/acme/api:1", 3, 1000);
    ck_assert_ptr_null(r);
    /* The fence is per simulated host: epoch 2 is stale on sim-00123 only. */
    r = start_batch(&d, "sim-00123", "i-stale", 1, "ghcr.io/acme/api:1", 2);
    ck_assert_int_eq(r->code, RC(STALE_EPOCH));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = start_batch(&d, "sim-00124", "i-ok", 1, "ghcr.io/acme/api:1", 2);
    ck_assert_int_eq(r->code, RC(OK));
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* --fail-rate 0.3: about 30% of 2,000 starts refused, each with a reason. */
    for (int h = 0; h < 20; h++) {
        char host[32];

        snprintf(host, sizeof(host), "sim-%05d", 200 + h);
        r = start_batch(&d, host, "i-rate", 100, "ghcr.io/acme/api:1", 5);
        ck_assert_ptr_nonnull(r);
        ck_assert_uint_eq(r->n_results, 100);
        for (size_t k = 0; k < r->n_results; k++) {
            total++;
            if (r->results[k]->code == RC(START_FAILED)) {
                failed++;
                ck_assert_ptr_nonnull(strstr(r->results[k]->message, "--fail-rate"));
            } else {
                ck_assert_int_eq(r->results[k]->code, RC(OK));
            }
        }
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    ck_assert_msg(failed >= total * 25 / 100 && failed <= total * 35 / 100,
                  "%zu of %zu starts failed", failed, total);
    /* --refuse-image: refused every time (before --fail-rate draws), with the reason, and
     * listed FAILED in the host's next heartbeat. */
    r = start_batch(&d, "sim-00300", "i-ref", 5, "ghcr.io/acme/forbidden:1", 5);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, RC(OK));
    ck_assert_uint_eq(r->n_results, 5);
    for (size_t k = 0; k < r->n_results; k++) {
        ck_assert_int_eq(r->results[k]->code, RC(START_FAILED));
        ck_assert_ptr_nonnull(strstr(r->results[k]->message, "--refuse-image"));
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    hb = hb_listing(&d, "sim-00300", 5, 10000);
    ck_assert_msg(hb != NULL, "no heartbeat of sim-00300 lists the 5 refused instances");
    for (size_t k = 0; k < hb->n_instances; k++) {
        ck_assert_int_eq(hb->instances[k]->state, ST(FAILED));
        ck_assert_ptr_nonnull(strstr(hb->instances[k]->message, "--refuse-image"));
    }
    protobuf_c_message_free_unpacked(&hb->base, NULL);

    /* SIGTERM: every host says it is stopping; exit 0. */
    status = drv_stop(pid, SIGTERM, 20000);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    /* published before the exit; a driver under valgrind takes a while to count 500 */
    ck_assert(drv_wait(&d, "host.stopping", NULL, 500, 30000));
    ck_assert_uint_eq(drv_sources(&d, "host.stopping"), 500);
    drv_close(&d);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    LT_IGNORE(lt_test_rmtree(dir));
    lt_free(dir);
}
END_TEST

START_TEST(test_reply_delay)
{
    const char *extra[] = { "--simulate=3", "--id-prefix=slow", "--reply-delay-ms=400", NULL };
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_natsrv *srv = NULL;
    reply_t *r;
    int64_t t0, dt;
    drv d;
    pid_t pid;

    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    drv_open(&d, lt_natsrv_url(srv), "lattice.default.evt.>");
    pid = spawn_sim(srv, extra, "/dev/null");
    ck_assert(drv_wait(&d, "host.started", "slow-00002", 1, 10000));
    t0 = drv_now_ms();
    r = start_batch(&d, "slow-00001", "i", 2, "ghcr.io/x:1", 1);
    dt = drv_now_ms() - t0;
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->results[1]->code, RC(OK));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    ck_assert_msg(dt >= 400, "reply after %lld ms", (long long)dt);
    ck_assert_int_eq(drv_stop(pid, SIGINT, 10000), 0);
    drv_close(&d);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

/* --no-instance-events (a benchmark knob): the instances run, no instance event tells it. */
START_TEST(test_no_instance_events)
{
    const char *extra[] = { "--simulate=1", "--id-prefix=quiet", "--heartbeat-interval=200ms",
                            "--no-instance-events", NULL };
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_natsrv *srv = NULL;
    reply_t *r;
    drv d;
    pid_t pid;

    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    drv_open(&d, lt_natsrv_url(srv), "lattice.default.evt.>");
    pid = spawn_sim(srv, extra, "/dev/null");
    ck_assert(drv_wait(&d, "host.started", "quiet-00000", 1, 10000));
    r = start_batch(&d, "quiet-00000", "i", 3, "ghcr.io/x:1", 1);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->results[2]->state, ST(RUNNING));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* Deferred events go out within 250 ms: three heartbeats later they would be here. */
    ck_assert(drv_wait(&d, "host.heartbeat", "quiet-00000",
                       drv_count(&d, "host.heartbeat", "quiet-00000") + 3, 5000));
    ck_assert_uint_eq(drv_started(&d, NULL), 0);
    ck_assert_int_eq(drv_stop(pid, SIGINT, 10000), 0);
    drv_close(&d);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

/* Heartbeat state of instance id on host, after a fresh heartbeat; 0 when not listed. */
static int hb_state(drv *d, const char *host, const char *id, char *msg, size_t n)
{
    Latticed__Host__V1__Heartbeat *hb;
    int st = 0;

    ck_assert(drv_wait(d, "host.heartbeat", host, drv_count(d, "host.heartbeat", host) + 1, 5000));
    hb = (void *)drv_last(d, "host.heartbeat", host, &latticed__host__v1__heartbeat__descriptor);
    ck_assert_ptr_nonnull(hb);
    for (size_t i = 0; i < hb->n_instances; i++) {
        if (strcmp(hb->instances[i]->instance_id, id) == 0) {
            st = hb->instances[i]->state;
            snprintf(msg, n, "%s", hb->instances[i]->message);
        }
    }
    protobuf_c_message_free_unpacked(&hb->base, NULL);
    return st;
}

/* --crash-after-ms: matching instances fail after they ran, as a real host reports a child
 * past its restart limit (FAILED + message in heartbeats, instance.failed), others run on;
 * a new start runs it again; --crash-limit ends the crashes. */
START_TEST(test_crash_after)
{
    const char *extra[] = { "--simulate=2",
                            "--id-prefix=cr",
                            "--heartbeat-interval=200ms",
                            "--crash-after-ms=300",
                            "--crash-image=crashy",
                            "--crash-message=exited with code 7 (boom)",
                            "--crash-limit=2",
                            NULL };
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_natsrv *srv = NULL;
    Latticed__Host__V1__InstanceFailed *ev;
    char msg[256];
    reply_t *r;
    int64_t t0;
    drv d;
    pid_t pid;

    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    drv_open(&d, lt_natsrv_url(srv), "lattice.default.evt.>");
    pid = spawn_sim(srv, extra, "/dev/null");
    ck_assert(drv_wait(&d, "host.started", "cr-00001", 1, 10000));
    t0 = drv_now_ms();
    r = start_batch(&d, "cr-00001", "i-crashy", 1, "ghcr.io/acme/crashy:1", 1);
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    ck_assert_int_eq(r->results[0]->state, ST(RUNNING));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = start_batch(&d, "cr-00001", "i-fine", 1, "ghcr.io/acme/fine:1", 1);
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    ck_assert(drv_wait(&d, "instance.failed", "cr-00001", 1, 5000));
    ck_assert_int_ge(drv_now_ms() - t0, 300);
    ev = (void *)drv_last(&d, "instance.failed", "cr-00001",
                          &latticed__host__v1__instance_failed__descriptor);
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(ev->instance->instance_id, "i-crashy-0");
    ck_assert_int_eq(ev->instance->state, ST(FAILED));
    ck_assert_str_eq(ev->message, "exited with code 7 (boom)");
    ck_assert_str_eq(ev->instance->message, "exited with code 7 (boom)");
    ck_assert_int_eq(ev->code, RC(START_FAILED));
    ck_assert(!ev->will_restart);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    ck_assert_int_eq(hb_state(&d, "cr-00001", "i-crashy-0", msg, sizeof(msg)), ST(FAILED));
    ck_assert_str_eq(msg, "exited with code 7 (boom)");
    ck_assert_int_eq(hb_state(&d, "cr-00001", "i-fine-0", msg, sizeof(msg)), ST(RUNNING));
    /* Started again: runs, crashes again (2 of 2). */
    r = start_batch(&d, "cr-00001", "i-crashy", 1, "ghcr.io/acme/crashy:1", 1);
    ck_assert_int_eq(r->results[0]->state, ST(RUNNING));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    ck_assert(drv_wait(&d, "instance.failed", "cr-00001", 2, 5000));
    /* The limit is reached: a third start stays up (well past 300 ms). */
    r = start_batch(&d, "cr-00001", "i-crashy", 1, "ghcr.io/acme/crashy:1", 1);
    ck_assert_int_eq(r->results[0]->state, ST(RUNNING));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    t0 = drv_now_ms();
    while (drv_now_ms() - t0 < 1000) /* heartbeats every 200 ms: five looks */
        ck_assert_int_eq(hb_state(&d, "cr-00001", "i-crashy-0", msg, sizeof(msg)), ST(RUNNING));
    ck_assert_uint_eq(drv_count(&d, "instance.failed", NULL), 2);
    ck_assert_int_eq(drv_stop(pid, SIGINT, 10000), 0);
    drv_close(&d);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

/* One simulated host beats once per interval, not on every loop tick (the "a whole round
 * behind" reset used to fire after each beat when the round was one host long). */
START_TEST(test_single_host_rate)
{
    const char *extra[] = { "--simulate=1", "--id-prefix=one", "--heartbeat-interval=500ms", NULL };
    lt_natsrv_opts o = { .no_jetstream = true };
    lt_natsrv *srv = NULL;
    size_t first, beats;
    drv d;
    pid_t pid;

    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    drv_open(&d, lt_natsrv_url(srv), "lattice.default.evt.>");
    pid = spawn_sim(srv, extra, "/dev/null");
    ck_assert(drv_wait(&d, "host.heartbeat", "one-00000", 1, 10000));
    first = drv_count(&d, "host.heartbeat", "one-00000");
    lt_test_sleep_ms(3000); /* a rate over a window: nothing to wait for */
    beats = drv_count(&d, "host.heartbeat", "one-00000") - first;
    /* 6 expected in 3 s; a loaded machine may be late, never many times early */
    ck_assert_msg(beats >= 2 && beats <= 9, "%zu heartbeats in 3 s at a 500 ms interval", beats);
    ck_assert_int_eq(drv_stop(pid, SIGINT, 10000), 0);
    drv_close(&d);
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("host_sim");

    lt_test_tcase(s, "sim", 120,
                  (const TTest *const[]){ test_simulate_500, test_reply_delay,
                                          test_no_instance_events, test_single_host_rate,
                                          test_crash_after, NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(sim_suite());
}
