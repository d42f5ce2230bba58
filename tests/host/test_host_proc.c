/*
 * test_host_proc.c - latticed-host as a process against a real nats-server,
 * driven by a test control plane: host.started and heartbeats, start of a
 * file:// child that dumps its environment (config and links arrive),
 * idempotent start, stale epoch, stop of an unknown id, stop, crash reports
 * and restart with links in the environment, refused refs with reasons, a
 * runner command, graceful shutdown (host.stopping, no child left, exit 0)
 * and children dying with a SIGKILLed host.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_driver.h"
#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_natsrv.h"
#include "lt_shimctl.h"
#include "lt_testutil.h"

typedef Latticed__Host__V1__CommandReply reply_t;
#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x
#define ST(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

static lt_natsrv *srv;
static drv D;
static char *dir;
static pid_t host_pid;
static char logpath[4200];
/* Set: the next host up() spawns runs with the fault shim preloaded with these rules, logging
 * to shim_log, freed memory filled (ASan) and glibc's per-thread cache off (see its test). */
static const char *shim_rules;
static char shim_log[4300];

static const char *host_bin(void)
{
    const char *b = getenv("LATTICED_HOST_BIN");

    ck_assert_msg(b != NULL, "LATTICED_HOST_BIN not set");
    return b;
}

static void write_script(const char *name, const char *body)
{
    char path[4300];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    ck_assert_int_eq(lt_test_write_file(path, body, strlen(body)), LT_OK);
    ck_assert_int_eq(chmod(path, 0755), 0);
}

static const char envdump_sh[] =
    "#!/bin/sh\n"
    "d=\"$LATTICE_CONFIG_OUT_DIR\"\n"
    "echo $$ > \"$d/$LATTICE_INSTANCE_ID.pid.tmp\" && mv \"$d/$LATTICE_INSTANCE_ID.pid.tmp\" "
    "\"$d/$LATTICE_INSTANCE_ID.pid\"\n"
    "env > \"$d/$LATTICE_INSTANCE_ID.env.tmp\" && mv \"$d/$LATTICE_INSTANCE_ID.env.tmp\" "
    "\"$d/$LATTICE_INSTANCE_ID.env\"\n"
    "exec sleep 1000\n";

static const char crashonce_sh[] =
    "#!/bin/sh\n"
    "d=\"$LATTICE_CONFIG_OUT_DIR\"\n"
    "if [ ! -e \"$d/marker\" ]; then touch \"$d/marker\"; sleep 0.5; exit 3; fi\n"
    "env > \"$d/restarted.env.tmp\" && mv \"$d/restarted.env.tmp\" \"$d/restarted.env\"\n"
    "exec sleep 1000\n";

static const char fail_sh[] = "#!/bin/sh\nexit 3\n";

static const char stubborn_sh[] = "#!/bin/sh\n"
                                  "trap '' TERM\n"
                                  "d=\"$LATTICE_CONFIG_OUT_DIR/$LATTICE_INSTANCE_ID\"\n"
                                  "echo $$ > \"$d.pid.tmp\" && mv \"$d.pid.tmp\" \"$d.pid\"\n"
                                  "while :; do sleep 0.05; done\n";

/* Spawn the host with the shim's environment (shim_rules, shim_log) around drv_spawn only: the
 * nats-server up() started is not preloaded. */
static void spawn_shimmed(char *const argv[])
{
    char asan[LT_SHIMCTL_VAR + 64];

    snprintf(shim_log, sizeof(shim_log), "%s/shim.log", dir);
    ck_assert_int_eq(lt_shim_set(shim_rules, shim_log), LT_OK);
    snprintf(asan, sizeof(asan), "%s:max_free_fill_size=4096", getenv("ASAN_OPTIONS"));
    setenv("ASAN_OPTIONS", asan, 1);
    setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
    host_pid = drv_spawn(host_bin(), argv, logpath);
    unsetenv("GLIBC_TUNABLES");
    lt_shim_unset(); /* ASAN_OPTIONS included */
}

/* Start nats-server, the recorder and latticed-host h1 with extra args. */
static void up(const char *const *extra)
{
    lt_natsrv_opts o = { .no_jetstream = true };
    char *argv[64];
    int n = 0;

    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-host-test"), LT_OK);
    write_script("envdump.sh", envdump_sh);
    write_script("crashonce.sh", crashonce_sh);
    write_script("fail.sh", fail_sh);
    write_script("stubborn.sh", stubborn_sh);
    snprintf(logpath, sizeof(logpath), "%s/host.log", dir);
    drv_open(&D, lt_natsrv_url(srv), "lattice.default.evt.>");
    argv[n++] = (char *)"latticed-host";
    argv[n++] = (char *)"--nats-url";
    argv[n++] = (char *)lt_natsrv_url(srv);
    argv[n++] = (char *)"--host-id=h1";
    argv[n++] = (char *)"--heartbeat-interval=200ms";
    argv[n++] = (char *)"--label";
    argv[n++] = (char *)"zone=east";
    argv[n++] = (char *)"--label=tier=gold";
    argv[n++] = (char *)"--slots=50";
    argv[n++] = (char *)"--run-dir";
    argv[n++] = dir;
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    if (shim_rules != NULL)
        spawn_shimmed(argv);
    else
        host_pid = drv_spawn(host_bin(), argv, logpath);
    ck_assert_msg(drv_wait(&D, "host.started", "h1", 1, 10000), "no host.started from h1");
}

static void down(void)
{
    drv_event e;

    /* Every event the host published is a valid binary-mode CloudEvent. */
    for (size_t i = 0; drv_event_at(&D, i, &e); i++)
        ck_assert_msg(e.headers_ok, "event %zu on %s is not a valid CloudEvent", i, e.subject);
    if (host_pid > 0)
        drv_stop(host_pid, SIGKILL, 5000);
    host_pid = 0;
    drv_close(&D);
    LT_IGNORE(lt_natsrv_stop(srv));
    srv = NULL;
    LT_IGNORE(lt_test_rmtree(dir));
    lt_free(dir);
    dir = NULL;
}

/* ---- requests ------------------------------------------------------------------------ */

static reply_t *start_one(uint64_t epoch, const char *id, const char *image, const char *digest)
{
    Latticed__Host__V1__StartRequest q = LATTICED__HOST__V1__START_REQUEST__INIT;
    Latticed__Host__V1__InstanceSpec s = LATTICED__HOST__V1__INSTANCE_SPEC__INIT, *sp = &s;
    Latticed__Host__V1__InstanceSpec__ConfigEntry c[2], *cp[2];
    char ref[4400];

    for (int i = 0; i < 2; i++) {
        latticed__host__v1__instance_spec__config_entry__init(&c[i]);
        cp[i] = &c[i];
    }
    c[0].key = (char *)"out_dir";
    c[0].value = dir;
    c[1].key = (char *)"greeting";
    c[1].value = (char *)"hello world";
    if (strncmp(image, "file://", 7) == 0 || strchr(image, '/') != NULL)
        snprintf(ref, sizeof(ref), "%s", image);
    else
        snprintf(ref, sizeof(ref), "file://%s/%s", dir, image);
    s.instance_id = (char *)id;
    s.image_ref = ref;
    s.spec_digest = (char *)digest;
    s.app_name = (char *)"app";
    s.component_name = (char *)"comp";
    s.n_config = 2;
    s.config = cp;
    q.epoch = epoch;
    q.lattice = (char *)"default";
    q.request_id = (char *)"r1";
    q.n_instances = 1;
    q.instances = &sp;
    return (reply_t *)drv_request(&D, "lattice.default.host.h1.start", &q.base,
                                  &latticed__host__v1__command_reply__descriptor, 10000);
}

static reply_t *stop_one(uint64_t epoch, const char *id)
{
    Latticed__Host__V1__StopRequest q = LATTICED__HOST__V1__STOP_REQUEST__INIT;
    Latticed__Host__V1__StopItem it = LATTICED__HOST__V1__STOP_ITEM__INIT, *p = &it;

    it.instance_id = (char *)id;
    it.reason = (char *)"test stop";
    q.epoch = epoch;
    q.lattice = (char *)"default";
    q.request_id = (char *)"r-stop";
    q.n_items = 1;
    q.items = &p;
    q.grace_ms = 1000;
    return (reply_t *)drv_request(&D, "lattice.default.host.h1.stop", &q.base,
                                  &latticed__host__v1__command_reply__descriptor, 10000);
}

static reply_t *link_one(uint64_t epoch, const char *link_id, const char *source)
{
    Latticed__Host__V1__LinkRequest q = LATTICED__HOST__V1__LINK_REQUEST__INIT;
    Latticed__Host__V1__LinkSpec l = LATTICED__HOST__V1__LINK_SPEC__INIT, *p = &l;
    char *ifaces[] = { "store" };

    l.link_id = (char *)link_id;
    l.source_instance_id = (char *)source;
    l.target_component_id = (char *)"kvstore";
    l.wit_namespace = (char *)"wasi";
    l.wit_package = (char *)"keyvalue";
    l.n_wit_interfaces = 1;
    l.wit_interfaces = ifaces;
    l.name = (char *)"default";
    q.epoch = epoch;
    q.lattice = (char *)"default";
    q.request_id = (char *)"r-link";
    q.n_links = 1;
    q.links = &p;
    return (reply_t *)drv_request(&D, "lattice.default.host.h1.link", &q.base,
                                  &latticed__host__v1__command_reply__descriptor, 10000);
}

static void done(reply_t *r)
{
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static char *read_text(const char *name, int64_t wait_ms)
{
    char path[4300];
    char *data = NULL;
    int64_t end = drv_now_ms() + wait_ms;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    while (lt_test_read_file(path, 1 << 20, &data, NULL) != LT_OK) {
        if (drv_now_ms() > end)
            return NULL;
        lt_test_sleep_ms(10);
    }
    return data;
}

static pid_t read_pid(const char *id)
{
    char name[256], *t;
    pid_t pid;

    snprintf(name, sizeof(name), "%s.pid", id);
    t = read_text(name, 10000);
    ck_assert_msg(t != NULL, "no pid file for %s", id);
    pid = (pid_t)atoi(t);
    lt_free(t);
    ck_assert_int_gt(pid, 1);
    return pid;
}

static bool wait_gone(pid_t pid, int64_t ms)
{
    int64_t end = drv_now_ms() + ms;

    while (!drv_pid_gone(pid)) {
        if (drv_now_ms() > end)
            return false;
        lt_test_sleep_ms(10);
    }
    return true;
}

/* ---- cases ---------------------------------------------------------------------------- */

START_TEST(test_heartbeats_and_child_lifecycle)
{
    Latticed__Host__V1__Heartbeat *hb;
    Latticed__Host__V1__HostStarted *hs;
    reply_t *r;
    char *env, *links, linkfile[4300];
    const char *lf;
    pid_t child;

    up(NULL);
    hs = (void *)drv_last(&D, "host.started", "h1", &latticed__host__v1__host_started__descriptor);
    ck_assert_ptr_nonnull(hs);
    ck_assert_str_eq(hs->host_id, "h1");
    ck_assert_str_eq(hs->lattice, "default");
    ck_assert_uint_eq(hs->n_labels, 2);
    protobuf_c_message_free_unpacked(&hs->base, NULL);
    ck_assert(drv_wait(&D, "host.heartbeat", "h1", 3, 10000));
    hb = (void *)drv_last(&D, "host.heartbeat", "h1", &latticed__host__v1__heartbeat__descriptor);
    ck_assert_ptr_nonnull(hb);
    ck_assert_uint_eq(hb->interval_ms, 200);
    ck_assert_uint_ge(hb->sequence, 3);
    ck_assert_uint_eq(hb->n_instances, 0);
    ck_assert_uint_eq(hb->capacity->instance_slots_total, 50);
    ck_assert_uint_gt(hb->capacity->memory_total_bytes, 0);
    protobuf_c_message_free_unpacked(&hb->base, NULL);
    {
        drv_event e;

        ck_assert(drv_event_at(&D, 0, &e));
        ck_assert_msg(e.headers_ok, "CloudEvent headers incomplete on %s", e.subject);
        ck_assert_str_eq(e.subject, "lattice.default.evt.h.h1.host.started");
    }

    /* Start a file:// child: RUNNING in the reply, instances.started, a live process. */
    r = start_one(7, "i-env", "envdump.sh", "d1");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, RC(OK));
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    ck_assert_int_eq(r->results[0]->state, ST(RUNNING));
    ck_assert_uint_eq(r->newest_epoch, 7);
    done(r);
    ck_assert(drv_wait_started(&D, "h1", 1, 5000));
    ck_assert_uint_eq(drv_count(&D, "instances.started", "h1"), 1);
    child = read_pid("i-env");
    ck_assert_int_eq(kill(child, 0), 0);
    env = read_text("i-env.env", 10000);
    ck_assert_ptr_nonnull(env);
    ck_assert_ptr_nonnull(strstr(env, "LATTICE_INSTANCE_ID=i-env\n"));
    ck_assert_ptr_nonnull(strstr(env, "LATTICE_HOST_ID=h1\n"));
    ck_assert_ptr_nonnull(strstr(env, "LATTICE_NAME=default\n"));
    ck_assert_ptr_nonnull(strstr(env, "LATTICE_APP_NAME=app\n"));
    ck_assert_ptr_nonnull(strstr(env, "LATTICE_CONFIG_GREETING=hello world\n"));
    ck_assert_ptr_nonnull(strstr(env, "\"greeting\":\"hello world\""));
    ck_assert_ptr_nonnull(strstr(env, "LATTICE_LINKS=[]\n"));
    ck_assert_ptr_null(strstr(env, "LATTICED_HOST_")); /* host settings do not leak */
    lf = strstr(env, "LATTICE_LINKS_FILE=");
    ck_assert_ptr_nonnull(lf);
    snprintf(linkfile, sizeof(linkfile), "%.*s", (int)strcspn(lf + 19, "\n"), lf + 19);
    lt_free(env);

    /* Idempotent: the same start again is ALREADY_DONE and runs nothing new. */
    r = start_one(7, "i-env", "envdump.sh", "d1");
    ck_assert_int_eq(r->results[0]->code, RC(ALREADY_DONE));
    done(r);
    lt_test_sleep_ms(300);
    ck_assert_uint_eq(drv_started(&D, "h1"), 1);
    ck_assert_int_eq(read_pid("i-env"), child);

    /* A link reaches the child's links file. */
    r = link_one(7, "l-kv", "i-env");
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    done(r);
    ck_assert_int_eq(lt_test_read_file(linkfile, 1 << 20, &links, NULL), LT_OK);
    ck_assert_ptr_nonnull(strstr(links, "\"linkId\":\"l-kv\""));
    ck_assert_ptr_nonnull(strstr(links, "\"witPackage\":\"keyvalue\""));
    lt_free(links);

    /* The heartbeat lists the instance and the link. */
    ck_assert(
        drv_wait(&D, "host.heartbeat", "h1", drv_count(&D, "host.heartbeat", "h1") + 2, 5000));
    hb = (void *)drv_last(&D, "host.heartbeat", "h1", &latticed__host__v1__heartbeat__descriptor);
    ck_assert_uint_eq(hb->n_instances, 1);
    ck_assert_str_eq(hb->instances[0]->instance_id, "i-env");
    ck_assert_int_eq(hb->instances[0]->state, ST(RUNNING));
    ck_assert_uint_eq(hb->n_link_ids, 1);
    ck_assert_uint_eq(hb->newest_epoch, 7);
    protobuf_c_message_free_unpacked(&hb->base, NULL);

    /* Inventory in proto3 JSON: the reply comes back in JSON, marked so. */
    {
        const char *q = "{\"epoch\":\"7\",\"lattice\":\"default\",\"requestId\":\"inv-1\"}";
        natsMsg *req = NULL, *rep = NULL;
        const char *ct = NULL, *body;

        ck_assert_int_eq(natsMsg_Create(&req, "lattice.default.host.h1.inventory", NULL, q,
                                        (int)strlen(q)),
                         NATS_OK);
        ck_assert_int_eq(natsMsgHeader_Set(req, "content-type", "application/json"), NATS_OK);
        ck_assert_int_eq(natsConnection_RequestMsg(&rep, D.nc, req, 10000), NATS_OK);
        ck_assert_int_eq(natsMsgHeader_Get(rep, "content-type", &ct), NATS_OK);
        ck_assert_str_eq(ct, "application/json");
        body = natsMsg_GetData(rep);
        ck_assert_ptr_nonnull(strstr(body, "\"requestId\":\"inv-1\""));
        ck_assert_ptr_nonnull(strstr(body, "\"code\":\"RESULT_CODE_OK\""));
        ck_assert_ptr_nonnull(strstr(body, "\"instanceId\":\"i-env\""));
        ck_assert_ptr_nonnull(strstr(body, "\"linkId\":\"l-kv\""));
        natsMsg_Destroy(req);
        natsMsg_Destroy(rep);
    }

    /* Fencing: an older epoch is refused whole. */
    r = start_one(6, "i-other", "envdump.sh", "d1");
    ck_assert_int_eq(r->code, RC(STALE_EPOCH));
    ck_assert_int_eq(r->results[0]->code, RC(STALE_EPOCH));
    ck_assert_uint_eq(r->newest_epoch, 7);
    done(r);
    /* Stop of an unknown id is harmless. */
    r = stop_one(8, "i-nope");
    ck_assert_int_eq(r->results[0]->code, RC(ALREADY_DONE));
    done(r);
    /* Stop: the child goes away and instance.stopped tells. */
    r = stop_one(8, "i-env");
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    done(r);
    ck_assert(drv_wait(&D, "instance.stopped", "h1", 1, 5000));
    ck_assert(wait_gone(child, 5000));
    down();
}
END_TEST

START_TEST(test_crash_restart_gets_links)
{
    const char *extra[] = { "--restart-limit=2", "--restart-backoff=1s", NULL };
    Latticed__Host__V1__InstanceFailed *f;
    reply_t *r;
    char *env;

    up(extra);
    r = start_one(1, "i-crash", "crashonce.sh", "d");
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    done(r);
    /* Installed while the first run is alive; the restart gets it in LATTICE_LINKS. */
    r = link_one(1, "l-cache", "i-crash");
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    done(r);
    ck_assert(drv_wait(&D, "instance.failed", "h1", 1, 5000));
    f = (void *)drv_last(&D, "instance.failed", "h1",
                         &latticed__host__v1__instance_failed__descriptor);
    ck_assert(f->will_restart);
    ck_assert_ptr_nonnull(strstr(f->message, "exited with code 3"));
    ck_assert_int_eq(f->instance->state, ST(STARTING));
    protobuf_c_message_free_unpacked(&f->base, NULL);
    env = read_text("restarted.env", 10000);
    ck_assert_ptr_nonnull(env);
    ck_assert_ptr_nonnull(strstr(env, "\"linkId\":\"l-cache\""));
    ck_assert_ptr_nonnull(strstr(env, "LATTICE_RESTARTS=1\n"));
    lt_free(env);
    ck_assert(drv_wait(&D, "instance.started", "h1", 1, 5000)); /* a restart of its own */
    ck_assert_uint_eq(drv_started(&D, "h1"), 2);
    down();
}
END_TEST

START_TEST(test_exit_reported_and_limit)
{
    const char *extra[] = { "--restart-limit=1", "--restart-backoff=100ms", NULL };
    Latticed__Host__V1__InstanceFailed *f;
    Latticed__Host__V1__Heartbeat *hb;
    reply_t *r;

    up(extra);
    r = start_one(1, "i-fail", "fail.sh", "d");
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    done(r);
    ck_assert(drv_wait(&D, "instance.failed", "h1", 2, 10000));
    f = (void *)drv_last(&D, "instance.failed", "h1",
                         &latticed__host__v1__instance_failed__descriptor);
    ck_assert(!f->will_restart);
    ck_assert_ptr_nonnull(strstr(f->message, "exited with code 3"));
    ck_assert_int_eq(f->instance->state, ST(FAILED));
    ck_assert_uint_eq(f->instance->restarts, 1);
    protobuf_c_message_free_unpacked(&f->base, NULL);
    ck_assert(
        drv_wait(&D, "host.heartbeat", "h1", drv_count(&D, "host.heartbeat", "h1") + 2, 5000));
    hb = (void *)drv_last(&D, "host.heartbeat", "h1", &latticed__host__v1__heartbeat__descriptor);
    ck_assert_uint_eq(hb->n_instances, 1);
    ck_assert_int_eq(hb->instances[0]->state, ST(FAILED));
    ck_assert_ptr_nonnull(strstr(hb->instances[0]->message, "restart limit"));
    ck_assert_str_eq(hb->instances[0]->placement, "1.1"); /* a restart keeps the placement */
    protobuf_c_message_free_unpacked(&hb->base, NULL);
    /* A failed instance can still be stopped. */
    r = stop_one(2, "i-fail");
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    ck_assert_int_eq(r->results[0]->state, ST(STOPPED));
    done(r);
    down();
}
END_TEST

START_TEST(test_refused_refs)
{
    const char *extra[] = { "--runner", "ghcr.io/=exec sleep 1000", NULL };
    Latticed__Host__V1__InstanceFailed *f;
    Latticed__Host__V1__Heartbeat *hb;
    reply_t *r;
    char ref[4400];

    up(extra);
    snprintf(ref, sizeof(ref), "file://%s/missing.sh", dir);
    r = start_one(1, "i-missing", ref, "d");
    ck_assert_int_eq(r->results[0]->code, RC(IMAGE_PULL_FAILED));
    ck_assert_ptr_nonnull(strstr(r->results[0]->message, "no such file"));
    ck_assert_int_eq(r->results[0]->state, ST(FAILED));
    done(r);
    ck_assert(drv_wait(&D, "instance.failed", "h1", 1, 5000));
    f = (void *)drv_last(&D, "instance.failed", "h1",
                         &latticed__host__v1__instance_failed__descriptor);
    ck_assert_int_eq(f->code, RC(IMAGE_PULL_FAILED));
    ck_assert_ptr_nonnull(strstr(f->message, "missing.sh"));
    protobuf_c_message_free_unpacked(&f->base, NULL);
    r = start_one(1, "i-oci", "docker.io/library/nginx:1", "d");
    ck_assert_int_eq(r->results[0]->code, RC(UNSUPPORTED));
    ck_assert_ptr_nonnull(strstr(r->results[0]->message, "no runner"));
    done(r);
    /* The runner mapping runs OCI refs with a stand-in command. */
    r = start_one(1, "i-ghcr", "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0", "d");
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    ck_assert_int_eq(r->results[0]->state, ST(RUNNING));
    done(r);
    ck_assert(
        drv_wait(&D, "host.heartbeat", "h1", drv_count(&D, "host.heartbeat", "h1") + 2, 5000));
    hb = (void *)drv_last(&D, "host.heartbeat", "h1", &latticed__host__v1__heartbeat__descriptor);
    ck_assert_uint_eq(hb->n_instances, 3); /* two FAILED, one RUNNING */
    protobuf_c_message_free_unpacked(&hb->base, NULL);
    down();
}
END_TEST

START_TEST(test_graceful_shutdown)
{
    const char *extra[] = { "--stop-grace=500ms", NULL };
    Latticed__Host__V1__HostStopping *hs;
    reply_t *r;
    pid_t a, b;
    int status;

    up(extra);
    r = start_one(1, "i-a", "envdump.sh", "d");
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    done(r);
    r = start_one(1, "i-b", "stubborn.sh", "d"); /* ignores SIGTERM: needs the SIGKILL */
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    done(r);
    a = read_pid("i-a");
    b = read_pid("i-b");
    ck_assert_int_eq(kill(a, 0), 0);
    ck_assert_int_eq(kill(b, 0), 0);
    status = drv_stop(host_pid, SIGTERM, 15000);
    host_pid = 0;
    ck_assert_int_ne(status, -1);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert(wait_gone(a, 2000));
    ck_assert(wait_gone(b, 2000));
    ck_assert(drv_wait(&D, "host.stopping", "h1", 1, 3000));
    hs =
        (void *)drv_last(&D, "host.stopping", "h1", &latticed__host__v1__host_stopping__descriptor);
    ck_assert_uint_eq(hs->n_instance_ids, 2);
    ck_assert_str_eq(hs->reason, "SIGTERM");
    ck_assert_ptr_nonnull(hs->deadline);
    protobuf_c_message_free_unpacked(&hs->base, NULL);
    ck_assert(drv_wait(&D, "instance.stopped", "h1", 2, 3000));
    down();
}
END_TEST

/*
 * SIGTERM while commands wait in the host's loop queue. Each command is a natsMsg posted by a
 * nats.c thread; the ones the loop never ran were destroyed by lt_loop_free after nats_Close,
 * in a freed libnats (SIGSEGV in natsGC_collect, 1 run in ~50 of security_perms). Here a burst
 * of 50,000 commands is sent, SIGTERM follows once the host answers the first one, so
 * thousands are still queued when the loop stops: the host must exit 0.
 */
START_TEST(test_sigterm_with_queued_commands)
{
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;
    int status;

    up(NULL);
    ck_assert_int_eq(natsConnection_SubscribeSync(&sub, D.nc, "_INBOX.burst"), NATS_OK);
    ck_assert_int_eq(natsSubscription_SetPendingLimits(sub, -1, -1), NATS_OK);
    ck_assert_int_eq(kill(host_pid, SIGSTOP), 0); /* all of the burst arrives at once */
    for (int i = 0; i < 50000; i++)
        ck_assert_int_eq(natsConnection_PublishRequest(D.nc, "lattice.default.host.h1.nosuchop",
                                                       "_INBOX.burst", "x", 1),
                         NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(D.nc), NATS_OK);
    ck_assert_int_eq(kill(host_pid, SIGCONT), 0);
    ck_assert_int_eq(natsSubscription_NextMsg(&m, sub, 20000), NATS_OK); /* the loop is busy */
    natsMsg_Destroy(m);
    status = drv_stop(host_pid, SIGTERM, 30000);
    host_pid = 0;
    /* replies the host sent before it exited may still be read: retired (wire/lt_conn.h) */
    lt_conn_sub_free(D.nc, sub, LT_CONN_SETTLE_MS);
    ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "host did not exit 0 on SIGTERM with queued commands: status %d%s", status,
                  status != -1 && WIFSIGNALED(status) ? " (killed by a signal)" : "");
    down();
}
END_TEST

/*
 * SIGTERM while nats.c's reader holds a command it has matched to the host's subscription and
 * not yet locked it (nats.c 3.4: wire/lt_conn.h). The shim holds the reader there for
 * READER_HOLD_MS, longer than the host's last flush waits (2 s, answered only by that reader).
 * The host unsubscribed and destroyed its subscriptions while still connected: freed under the
 * reader, which then locked a mutex read from freed memory (a SIGSEGV of a host of e2e_parallel
 * under ASan, once). The host must close the connection, which joins the reader, first.
 */
#define READER_HOLD_MS "3000"

START_TEST(test_sigterm_while_the_reader_holds_a_command)
{
    int64_t deadline;
    int status;

    shim_rules = "natsMsg_create:subj=lattice.default.host.h1.*:count=1:mode=delay=" READER_HOLD_MS;
    up(NULL);
    shim_rules = NULL;
    ck_assert_int_eq(natsConnection_Publish(D.nc, "lattice.default.host.h1.nosuchop", "x", 1),
                     NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(D.nc), NATS_OK);
    deadline = drv_now_ms() + 10000;
    while (lt_shim_fired(shim_log, "natsMsg_create") == 0 && drv_now_ms() < deadline)
        lt_test_sleep_ms(5);
    ck_assert_uint_eq(lt_shim_fired(shim_log, "natsMsg_create"), 1);
    status = drv_stop(host_pid, SIGTERM, 15000); /* while the reader is held */
    host_pid = 0;
    ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "host did not exit 0 on SIGTERM under a held reader: status %d%s (log %s)",
                  status, status != -1 && WIFSIGNALED(status) ? " (killed by a signal)" : "",
                  logpath);
    down();
}
END_TEST

START_TEST(test_children_die_with_host)
{
    reply_t *r;
    pid_t a;

    up(NULL);
    r = start_one(1, "i-a", "envdump.sh", "d");
    ck_assert_int_eq(r->results[0]->code, RC(OK));
    done(r);
    a = read_pid("i-a");
    ck_assert_int_eq(kill(a, 0), 0);
    drv_stop(host_pid, SIGKILL, 5000);
    host_pid = 0;
    ck_assert_msg(wait_gone(a, 5000), "child %d outlived a SIGKILLed host", (int)a);
    down();
}
END_TEST

START_TEST(test_bad_options)
{
    char *argv1[] = { "latticed-host", "--label", "novalue", NULL };
    char *argv2[] = { "latticed-host", "--host-id", "a.b", NULL };
    char *argv3[] = { "latticed-host", "--heartbeat-interval", "5h", NULL };
    char *argv4[] = { "latticed-host", "--nats-url", "nats://127.0.0.1:1", NULL };
    char log[64];
    int st;

    snprintf(log, sizeof(log), "/dev/null");
    st = drv_stop(drv_spawn(host_bin(), argv1, log), 0, 10000);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    st = drv_stop(drv_spawn(host_bin(), argv2, log), 0, 10000);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    st = drv_stop(drv_spawn(host_bin(), argv3, log), 0, 10000);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    st = drv_stop(drv_spawn(host_bin(), argv4, log), 0, 20000);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}
END_TEST

static Suite *proc_suite(void)
{
    Suite *s = suite_create("host_proc");

    lt_test_tcase(s, "proc", 120,
                  (const TTest *const[]){ test_heartbeats_and_child_lifecycle,
                                          test_crash_restart_gets_links,
                                          test_exit_reported_and_limit, test_refused_refs,
                                          test_graceful_shutdown, test_sigterm_with_queued_commands,
                                          test_sigterm_while_the_reader_holds_a_command,
                                          test_children_die_with_host, test_bad_options, NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(proc_suite());
}
