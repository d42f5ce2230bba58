/*
 * test_host_proto.c - the host's protocol state machine (lt__host_handle) with
 * a fake runtime that records what it was asked: idempotent start, replace
 * on a new spec digest, epoch fence, wrong lattice, stop of unknown ids,
 * start failures, links, inventory, capacity, shutdown, JSON bodies,
 * malformed input, and the heartbeat encoding.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_int.h"
#include "lt_alloc.h"
#include "lt_pbjson.h"

typedef Latticed__Host__V1__CommandReply reply_t;
typedef Latticed__Host__V1__InventoryReply inv_t;

typedef struct {
    int start_code; /* what start answers */
    bool stop_now;  /* what stop answers */
    int starts, stops, discards, links_changed;
    char events[256][32];
    char event_ids[256][64]; /* the instance ids an event names, space-separated */
    size_t event_sizes[256], event_counts[256]; /* bytes; instances named */
    int nevents;
    char last_failed[256];  /* message of the last instance.failed */
    char last_stopped[256]; /* reason of the last instance.stopped */
} fake;

static int f_start(void *ctx, lt__host_state *h, lt__host_inst *inst, char *msg, size_t n)
{
    fake *f = ctx;

    f->starts++;
    if (f->start_code != HRC(OK) || strstr(inst->image_ref, "/bad:") != NULL) {
        snprintf(msg, n, "fake refusal of %s", inst->image_ref);
        return f->start_code != HRC(OK) ? f->start_code : HRC(START_FAILED);
    }
    lt__host_set_state(h, inst, HIS(RUNNING), NULL);
    return HRC(OK);
}

static bool f_stop(void *ctx, lt__host_state *h, lt__host_inst *inst, uint32_t grace)
{
    fake *f = ctx;

    (void)h;
    (void)inst;
    (void)grace;
    f->stops++;
    return f->stop_now;
}

static void f_discard(void *ctx, lt__host_state *h, lt__host_inst *inst)
{
    (void)h;
    (void)inst;
    ((fake *)ctx)->discards++;
}

static void f_links(void *ctx, lt__host_state *h, lt__host_inst *inst)
{
    (void)h;
    (void)inst;
    ((fake *)ctx)->links_changed++;
}

/* Records the event and checks its payload decodes as the proto says. */
static void f_emit(void *ctx, lt__host_state *h, const char *type, const void *data, size_t len)
{
    fake *f = ctx;

    char *ids;

    ck_assert_int_lt(f->nevents, 256);
    ids = f->event_ids[f->nevents];
    ids[0] = '\0';
    f->event_sizes[f->nevents] = len;
    f->event_counts[f->nevents] = 0;
    snprintf(f->events[f->nevents++], 32, "%s", type);
    if (strcmp(type, "instance.started") == 0) {
        Latticed__Host__V1__InstanceStarted *m =
            latticed__host__v1__instance_started__unpack(NULL, len, data);

        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(m->host_id, h->id);
        ck_assert_str_eq(m->lattice, h->lattice);
        ck_assert_int_eq(m->instance->state, HIS(RUNNING));
        snprintf(ids, 64, "%s", m->instance->instance_id);
        f->event_counts[f->nevents - 1] = 1;
        latticed__host__v1__instance_started__free_unpacked(m, NULL);
    } else if (strcmp(type, "instances.started") == 0) {
        Latticed__Host__V1__InstancesStarted *m =
            latticed__host__v1__instances_started__unpack(NULL, len, data);

        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(m->host_id, h->id);
        ck_assert_str_eq(m->lattice, h->lattice);
        ck_assert_uint_gt(m->n_instances, 0);
        f->event_counts[f->nevents - 1] = m->n_instances;
        for (size_t i = 0; i < m->n_instances; i++) {
            ck_assert_int_eq(m->instances[i]->state, HIS(RUNNING));
            if (strlen(ids) + strlen(m->instances[i]->instance_id) + 2 < 64)
                snprintf(ids + strlen(ids), 64 - strlen(ids), "%s%s", i > 0 ? " " : "",
                         m->instances[i]->instance_id);
        }
        latticed__host__v1__instances_started__free_unpacked(m, NULL);
    } else if (strcmp(type, "instance.failed") == 0) {
        Latticed__Host__V1__InstanceFailed *m =
            latticed__host__v1__instance_failed__unpack(NULL, len, data);

        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(m->host_id, h->id);
        ck_assert_int_ne(m->code, HRC(OK));
        ck_assert_int_eq(m->instance->state, HIS(FAILED));
        ck_assert_str_eq(m->instance->message, m->message);
        snprintf(f->last_failed, sizeof(f->last_failed), "%s", m->message);
        latticed__host__v1__instance_failed__free_unpacked(m, NULL);
    } else if (strcmp(type, "instance.stopped") == 0) {
        Latticed__Host__V1__InstanceStopped *m =
            latticed__host__v1__instance_stopped__unpack(NULL, len, data);

        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(m->instance->state, HIS(STOPPED));
        snprintf(f->last_stopped, sizeof(f->last_stopped), "%s", m->reason);
        latticed__host__v1__instance_stopped__free_unpacked(m, NULL);
    }
}

static fake F;
static lt__host_ops OPS;
static lt__host_state H;

static void setup(void)
{
    memset(&F, 0, sizeof(F));
    F.start_code = HRC(OK);
    F.stop_now = true;
    OPS = (lt__host_ops){ f_start, f_stop, f_discard, f_links, f_emit, &F };
    ck_assert_int_eq(lt__host_state_init(&H, "h1", "default", "Host One", "0.1.0"), LT_OK);
    H.mem_total = 1ull << 30;
    H.cpu_total = 2000;
    H.interval_ms = 5000;
    ck_assert_int_eq(lt__host_kvs_set(&H.labels, "zone", "east"), LT_OK);
}

static void teardown(void)
{
    lt__host_state_cleanup(&H);
}

/* ---- request builders ----------------------------------------------------------- */

typedef struct {
    hpb_spec spec;
    Latticed__Host__V1__InstanceSpec__ConfigEntry cfg[2], *cfgp[2];
    Latticed__Host__V1__ResourceRequests rr;
} spec_t;

static void mkspec(spec_t *s, const char *id, const char *image, const char *digest, uint64_t mem)
{
    latticed__host__v1__instance_spec__init(&s->spec);
    s->spec.instance_id = (char *)id;
    s->spec.image_ref = (char *)image;
    s->spec.spec_digest = (char *)digest;
    s->spec.app_name = (char *)"app";
    s->spec.component_name = (char *)"api";
    for (int i = 0; i < 2; i++) {
        latticed__host__v1__instance_spec__config_entry__init(&s->cfg[i]);
        s->cfgp[i] = &s->cfg[i];
    }
    s->cfg[0].key = (char *)"greeting";
    s->cfg[0].value = (char *)"hello";
    s->cfg[1].key = (char *)"port";
    s->cfg[1].value = (char *)"8080";
    s->spec.n_config = 2;
    s->spec.config = s->cfgp;
    if (mem > 0) {
        latticed__host__v1__resource_requests__init(&s->rr);
        s->rr.memory_bytes = mem;
        s->spec.resources = &s->rr;
    }
}

/* Run one request (packed from m) and return the raw reply bytes. */
static lt_buf run_raw(lt__host_verb verb, const ProtobufCMessage *m)
{
    lt_buf in, out;

    lt_buf_init(&in, LT_MAX_MESSAGE);
    lt_buf_init(&out, LT_MAX_MESSAGE);
    ck_assert_int_eq(lt__host_pack(m, &in), LT_OK);
    ck_assert_int_eq(lt__host_handle(&H, &OPS, verb, in.ptr, in.len, false, &out), LT_OK);
    lt_buf_cleanup(&in);
    return out;
}

static reply_t *run(lt__host_verb verb, const ProtobufCMessage *m)
{
    lt_buf out = run_raw(verb, m);
    reply_t *r = latticed__host__v1__command_reply__unpack(NULL, out.len, (uint8_t *)out.ptr);

    ck_assert_ptr_nonnull(r);
    lt_buf_cleanup(&out);
    return r;
}

static reply_t *start(uint64_t epoch, const char *lattice, spec_t *specs, size_t n)
{
    Latticed__Host__V1__StartRequest q = LATTICED__HOST__V1__START_REQUEST__INIT;
    hpb_spec *ptrs[16];

    for (size_t i = 0; i < n; i++)
        ptrs[i] = &specs[i].spec;
    q.epoch = epoch;
    q.lattice = (char *)lattice;
    q.request_id = (char *)"req-1";
    q.n_instances = n;
    q.instances = ptrs;
    return run(LT_HOST_START, &q.base);
}

static reply_t *start1(uint64_t epoch, const char *id, const char *digest)
{
    spec_t s;

    mkspec(&s, id, "ghcr.io/acme/api:1", digest, 0);
    return start(epoch, "default", &s, 1);
}

/* Stop id, only the incarnation placement names (NULL or "": whatever runs). */
static reply_t *stop_at(uint64_t epoch, const char *id, const char *reason, const char *placement)
{
    Latticed__Host__V1__StopRequest q = LATTICED__HOST__V1__STOP_REQUEST__INIT;
    Latticed__Host__V1__StopItem it = LATTICED__HOST__V1__STOP_ITEM__INIT, *p = &it;

    it.instance_id = (char *)id;
    it.reason = (char *)reason;
    if (placement != NULL)
        it.placement = (char *)placement;
    q.epoch = epoch;
    q.lattice = (char *)"default";
    q.request_id = (char *)"req-stop";
    q.n_items = 1;
    q.items = &p;
    return run(LT_HOST_STOP, &q.base);
}

static reply_t *stop1(uint64_t epoch, const char *id, const char *reason)
{
    return stop_at(epoch, id, reason, NULL);
}

static reply_t *link1(uint64_t epoch, const char *link_id, const char *source, const char *cfgv)
{
    Latticed__Host__V1__LinkRequest q = LATTICED__HOST__V1__LINK_REQUEST__INIT;
    hpb_link l = LATTICED__HOST__V1__LINK_SPEC__INIT, *p = &l;
    Latticed__Host__V1__LinkSpec__SourceConfigEntry
        e = LATTICED__HOST__V1__LINK_SPEC__SOURCE_CONFIG_ENTRY__INIT,
        *ep = &e;

    l.link_id = (char *)link_id;
    l.source_instance_id = (char *)source;
    l.wit_namespace = (char *)"wasi";
    l.wit_package = (char *)"keyvalue";
    l.target_component_id = (char *)"kv";
    e.key = (char *)"bucket";
    e.value = (char *)cfgv;
    l.n_source_config = 1;
    l.source_config = &ep;
    q.epoch = epoch;
    q.lattice = (char *)"default";
    q.request_id = (char *)"req-link";
    q.n_links = 1;
    q.links = &p;
    return run(LT_HOST_LINK, &q.base);
}

static reply_t *unlink1(uint64_t epoch, const char *link_id, const char *source)
{
    Latticed__Host__V1__UnlinkRequest q = LATTICED__HOST__V1__UNLINK_REQUEST__INIT;
    Latticed__Host__V1__UnlinkItem it = LATTICED__HOST__V1__UNLINK_ITEM__INIT, *p = &it;

    it.link_id = (char *)link_id;
    it.source_instance_id = (char *)source;
    q.epoch = epoch;
    q.lattice = (char *)"default";
    q.request_id = (char *)"req-unlink";
    q.n_items = 1;
    q.items = &p;
    return run(LT_HOST_UNLINK, &q.base);
}

static inv_t *inventory(uint64_t epoch, char **ids, size_t n)
{
    Latticed__Host__V1__InventoryRequest q = LATTICED__HOST__V1__INVENTORY_REQUEST__INIT;
    lt_buf out;
    inv_t *r;

    q.epoch = epoch;
    q.lattice = (char *)"default";
    q.request_id = (char *)"req-inv";
    q.n_instance_ids = n;
    q.instance_ids = ids;
    out = run_raw(LT_HOST_INVENTORY, &q.base);
    r = latticed__host__v1__inventory_reply__unpack(NULL, out.len, (uint8_t *)out.ptr);
    ck_assert_ptr_nonnull(r);
    lt_buf_cleanup(&out);
    return r;
}

static Latticed__Host__V1__Heartbeat *heartbeat(void)
{
    lt_buf b;
    Latticed__Host__V1__Heartbeat *hb;

    lt_buf_init(&b, LT_MAX_MESSAGE);
    ck_assert_int_eq(lt__host_heartbeat_encode(&H, NULL, 0, &b), LT_OK);
    hb = latticed__host__v1__heartbeat__unpack(NULL, b.len, (uint8_t *)b.ptr);
    ck_assert_ptr_nonnull(hb);
    lt_buf_cleanup(&b);
    return hb;
}

static void done(reply_t *r)
{
    latticed__host__v1__command_reply__free_unpacked(r, NULL);
}

static int count_events(const char *type)
{
    int n = 0;

    for (int i = 0; i < F.nevents; i++)
        n += strcmp(F.events[i], type) == 0;
    return n;
}

/* ---- cases ------------------------------------------------------------------------ */

START_TEST(test_start_idempotent_and_replace)
{
    reply_t *r = start1(1, "i-aaa", "d1");
    Latticed__Host__V1__Heartbeat *hb;

    ck_assert_int_eq(r->code, HRC(OK));
    ck_assert_str_eq(r->host_id, "h1");
    ck_assert_str_eq(r->request_id, "req-1");
    ck_assert_uint_eq(r->newest_epoch, 1);
    ck_assert_uint_eq(r->n_results, 1);
    ck_assert_str_eq(r->results[0]->id, "i-aaa");
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    ck_assert_int_eq(r->results[0]->state, HIS(RUNNING));
    done(r);
    ck_assert_int_eq(count_events("instances.started"), 1);
    ck_assert_int_eq(count_events("instance.started"), 0);

    /* The same id and digest again: ALREADY_DONE, nothing started twice. */
    r = start1(1, "i-aaa", "d1");
    ck_assert_int_eq(r->results[0]->code, HRC(ALREADY_DONE));
    ck_assert_int_eq(r->results[0]->state, HIS(RUNNING));
    done(r);
    ck_assert_int_eq(F.starts, 1);
    ck_assert_int_eq(count_events("instances.started"), 1);
    ck_assert_uint_eq(H.insts.count, 1);

    /* A new digest replaces it: the old runtime is discarded, one instance remains. */
    r = start1(2, "i-aaa", "d2");
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
    ck_assert_int_eq(F.discards, 1);
    ck_assert_int_eq(F.starts, 2);
    hb = heartbeat();
    ck_assert_uint_eq(hb->n_instances, 1);
    ck_assert_str_eq(hb->instances[0]->spec_digest, "d2");
    ck_assert_str_eq(hb->instances[0]->image_ref, "ghcr.io/acme/api:1");
    ck_assert_int_eq(hb->instances[0]->state, HIS(RUNNING));
    ck_assert_ptr_nonnull(hb->instances[0]->started_at);
    ck_assert_uint_eq(hb->newest_epoch, 2);
    latticed__host__v1__heartbeat__free_unpacked(hb, NULL);
}
END_TEST

START_TEST(test_epoch_fence)
{
    reply_t *r = start1(5, "i-1", "d");
    spec_t s[2];
    inv_t *inv;

    ck_assert_int_eq(r->code, HRC(OK));
    done(r);
    /* Older epoch: the whole request is refused, every item says so, nothing runs. */
    mkspec(&s[0], "i-2", "ghcr.io/x:1", "d", 0);
    mkspec(&s[1], "i-3", "ghcr.io/x:1", "d", 0);
    r = start(4, "default", s, 2);
    ck_assert_int_eq(r->code, HRC(STALE_EPOCH));
    ck_assert_uint_eq(r->newest_epoch, 5);
    ck_assert_ptr_nonnull(strstr(r->message, "older"));
    ck_assert_uint_eq(r->n_results, 2);
    ck_assert_str_eq(r->results[1]->id, "i-3");
    ck_assert_int_eq(r->results[0]->code, HRC(STALE_EPOCH));
    ck_assert_int_eq(r->results[1]->code, HRC(STALE_EPOCH));
    done(r);
    ck_assert_int_eq(F.starts, 1);
    ck_assert_uint_eq(H.insts.count, 1);
    /* A stale stop changes nothing either. */
    r = stop1(3, "i-1", "x");
    ck_assert_int_eq(r->code, HRC(STALE_EPOCH));
    done(r);
    ck_assert_uint_eq(H.insts.count, 1);
    /* Inventory is fenced too. */
    inv = inventory(2, NULL, 0);
    ck_assert_int_eq(inv->code, HRC(STALE_EPOCH));
    ck_assert_ptr_null(inv->heartbeat);
    latticed__host__v1__inventory_reply__free_unpacked(inv, NULL);
    /* Epoch 0 is never valid; the same epoch and newer are accepted. */
    r = start1(0, "i-4", "d");
    ck_assert_int_eq(r->code, HRC(INVALID));
    done(r);
    r = start1(5, "i-4", "d");
    ck_assert_int_eq(r->code, HRC(OK));
    done(r);
    r = start1(9, "i-5", "d");
    ck_assert_int_eq(r->code, HRC(OK));
    ck_assert_uint_eq(r->newest_epoch, 9);
    done(r);
    r = start1(8, "i-6", "d");
    ck_assert_int_eq(r->code, HRC(STALE_EPOCH));
    ck_assert_uint_eq(r->newest_epoch, 9);
    done(r);
    ck_assert_uint_eq(H.newest_epoch, 9);
}
END_TEST

START_TEST(test_wrong_lattice)
{
    spec_t s;
    reply_t *r;

    mkspec(&s, "i-1", "ghcr.io/x:1", "d", 0);
    r = start(7, "other", &s, 1);
    ck_assert_int_eq(r->code, HRC(WRONG_LATTICE));
    ck_assert_int_eq(r->results[0]->code, HRC(WRONG_LATTICE));
    done(r);
    r = start(7, "", &s, 1);
    ck_assert_int_eq(r->code, HRC(WRONG_LATTICE));
    done(r);
    ck_assert_uint_eq(H.insts.count, 0);
    ck_assert_uint_eq(H.newest_epoch, 0); /* a refused request does not move the fence */
}
END_TEST

START_TEST(test_stop)
{
    reply_t *r = stop1(1, "i-unknown", "");
    Latticed__Host__V1__Heartbeat *hb;

    /* Unknown id: harmless (the proto says ALREADY_DONE). */
    ck_assert_int_eq(r->code, HRC(OK));
    ck_assert_int_eq(r->results[0]->code, HRC(ALREADY_DONE));
    ck_assert_int_eq(r->results[0]->state, HIS(STOPPED));
    done(r);
    done(start1(1, "i-a", "d"));
    done(start1(1, "i-b", "d"));
    r = stop1(1, "i-a", "scaled down");
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    ck_assert_int_eq(r->results[0]->state, HIS(STOPPED));
    done(r);
    ck_assert_int_eq(count_events("instance.stopped"), 1);
    ck_assert_str_eq(F.last_stopped, "scaled down");
    /* Asynchronous stop: STOPPING until the runtime reports it gone. */
    F.stop_now = false;
    r = stop1(1, "i-b", "");
    ck_assert_int_eq(r->results[0]->state, HIS(STOPPING));
    done(r);
    r = stop1(1, "i-b", "");
    ck_assert_int_eq(r->results[0]->code, HRC(ALREADY_DONE));
    done(r);
    ck_assert_int_eq(F.stops, 2);
    hb = heartbeat();
    ck_assert_uint_eq(hb->n_instances, 1);
    ck_assert_int_eq(hb->instances[0]->state, HIS(STOPPING));
    latticed__host__v1__heartbeat__free_unpacked(hb, NULL);
    lt__host_stopped(&H, &OPS, lt_map_get(&H.insts, "i-b"));
    ck_assert_int_eq(count_events("instance.stopped"), 2);
    ck_assert_str_eq(F.last_stopped, "stop requested");
    ck_assert_uint_eq(H.insts.count, 0);
}
END_TEST

START_TEST(test_start_failure_and_retry)
{
    reply_t *r;
    Latticed__Host__V1__Heartbeat *hb;

    F.start_code = HRC(START_FAILED);
    r = start1(1, "i-f", "d");
    ck_assert_int_eq(r->code, HRC(OK)); /* processed; the item failed */
    ck_assert_int_eq(r->results[0]->code, HRC(START_FAILED));
    ck_assert_int_eq(r->results[0]->state, HIS(FAILED));
    ck_assert_ptr_nonnull(strstr(r->results[0]->message, "fake refusal"));
    done(r);
    ck_assert_int_eq(count_events("instance.failed"), 1);
    ck_assert_ptr_nonnull(strstr(F.last_failed, "fake refusal"));
    hb = heartbeat();
    ck_assert_uint_eq(hb->n_instances, 1);
    ck_assert_int_eq(hb->instances[0]->state, HIS(FAILED));
    ck_assert_ptr_nonnull(strstr(hb->instances[0]->message, "fake refusal"));
    latticed__host__v1__heartbeat__free_unpacked(hb, NULL);
    ck_assert_uint_eq(H.mem_reserved, 0);
    /* A failed instance is retried by a repeated start. */
    F.start_code = HRC(OK);
    r = start1(1, "i-f", "d");
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    ck_assert_int_eq(r->results[0]->state, HIS(RUNNING));
    done(r);
    ck_assert_uint_eq(H.insts.count, 1);
}
END_TEST

/* One start command: its instances that run go out as one instances.started, in order with its
 * other events (a failure in the middle splits it), and none as instance.started. */
START_TEST(test_started_batch)
{
    spec_t sp[5];
    const char *ids[5] = { "i-1", "i-2", "i-3", "i-4", "i-5" };
    reply_t *r;

    for (size_t i = 0; i < 5; i++)
        mkspec(&sp[i], ids[i], i == 2 ? "ghcr.io/acme/bad:1" : "ghcr.io/acme/api:1", "d", 0);
    r = start(1, "default", sp, 5);
    ck_assert_uint_eq(r->n_results, 5);
    ck_assert_int_eq(r->results[2]->code, HRC(START_FAILED));
    ck_assert_int_eq(r->results[4]->state, HIS(RUNNING));
    done(r);
    ck_assert_int_eq(F.nevents, 3);
    ck_assert_str_eq(F.events[0], "instances.started");
    ck_assert_str_eq(F.event_ids[0], "i-1 i-2");
    ck_assert_str_eq(F.events[1], "instance.failed");
    ck_assert_str_eq(F.events[2], "instances.started");
    ck_assert_str_eq(F.event_ids[2], "i-4 i-5");
    ck_assert_int_eq(count_events("instance.started"), 0);
    /* Nothing new runs: no event at all. */
    r = start(1, "default", sp, 2);
    ck_assert_int_eq(r->results[0]->code, HRC(ALREADY_DONE));
    done(r);
    ck_assert_int_eq(F.nevents, 3);
}
END_TEST

/* A command whose instances do not fit one event of LT_HOST_STARTED_BATCH_MAX bytes: several
 * events, every instance in exactly one, none over the size. */
START_TEST(test_started_batch_split)
{
    enum {
        N = 600
    };
    static spec_t sp[N];
    static char ids[N][24];
    static char big[1024];
    Latticed__Host__V1__StartRequest q = LATTICED__HOST__V1__START_REQUEST__INIT;
    static hpb_spec *ptrs[N];
    size_t seen = 0;
    reply_t *r;

    memcpy(big, "ghcr.io/acme/", 13);
    memset(big + 13, 'x', sizeof(big) - 14);
    for (size_t i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "i-%04zu", i);
        mkspec(&sp[i], ids[i], big, "d", 0); /* about 1 KiB per instance: 600 KiB in all */
        ptrs[i] = &sp[i].spec;
    }
    H.slots_total = 0;
    q.epoch = 1;
    q.lattice = (char *)"default";
    q.request_id = (char *)"req-big";
    q.n_instances = N;
    q.instances = ptrs;
    r = run(LT_HOST_START, &q.base);
    ck_assert_uint_eq(r->n_results, N);
    ck_assert_int_eq(r->results[N - 1]->state, HIS(RUNNING));
    done(r);
    ck_assert_int_ge(F.nevents, 3);
    for (int e = 0; e < F.nevents; e++) {
        ck_assert_str_eq(F.events[e], "instances.started");
        ck_assert_uint_le(F.event_sizes[e], LT_HOST_STARTED_BATCH_MAX);
        seen += F.event_counts[e];
    }
    ck_assert_uint_eq(seen, N);
}
END_TEST

START_TEST(test_invalid_items_in_batch)
{
    spec_t s[3];
    reply_t *r;

    /* One malformed item makes the whole request malformed: nothing is applied, the bad
     * items say why, the others carry the request's refusal. */
    mkspec(&s[0], "../etc", "ghcr.io/x:1", "d", 0);
    mkspec(&s[1], "i-ok", "ghcr.io/x:1", "d", 0);
    mkspec(&s[2], "i-noimg", "", "d", 0);
    r = start(1, "default", s, 3);
    ck_assert_int_eq(r->code, HRC(INVALID));
    ck_assert_ptr_nonnull(strstr(r->message, "2 of 3 items are malformed"));
    ck_assert_uint_eq(r->n_results, 3);
    ck_assert_int_eq(r->results[0]->code, HRC(INVALID));
    ck_assert_ptr_nonnull(strstr(r->results[0]->message, "instance_id"));
    ck_assert_int_eq(r->results[1]->code, HRC(INVALID));
    ck_assert_str_eq(r->results[1]->id, "i-ok");
    ck_assert_ptr_nonnull(strstr(r->results[1]->message, "malformed request"));
    ck_assert_int_eq(r->results[2]->code, HRC(INVALID));
    ck_assert_ptr_nonnull(strstr(r->results[2]->message, "image_ref"));
    done(r);
    ck_assert_uint_eq(H.insts.count, 0);
    ck_assert_int_eq(F.starts, 0);
    /* Without a spec digest a start is incomplete too. */
    mkspec(&s[0], "i-nodigest", "ghcr.io/x:1", "", 0);
    r = start(1, "default", s, 1);
    ck_assert_int_eq(r->results[0]->code, HRC(INVALID));
    ck_assert_ptr_nonnull(strstr(r->results[0]->message, "spec_digest"));
    done(r);
    /* Well-formed items alone are applied. */
    r = start(1, "default", &s[1], 1);
    ck_assert_int_eq(r->code, HRC(OK));
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
    ck_assert_uint_eq(H.insts.count, 1);
}
END_TEST

/* The next request with epoch (the newest accepted) is still accepted. */
static void assert_epoch_still(uint64_t epoch)
{
    reply_t *r = stop1(epoch, "i-none", "");

    ck_assert_uint_eq(H.newest_epoch, epoch);
    ck_assert_int_eq(r->code, HRC(OK));
    ck_assert_uint_eq(r->newest_epoch, epoch);
    done(r);
}

/* A huge epoch on requests that are not well-formed commands for this lattice never moves
 * the fence (issue 8: one such message used to depose the leader for good). */
START_TEST(test_fence_needs_well_formed_request)
{
    const uint64_t huge = UINT64_MAX;
    Latticed__Host__V1__StartRequest q = LATTICED__HOST__V1__START_REQUEST__INIT;
    Latticed__Host__V1__StopRequest sq = LATTICED__HOST__V1__STOP_REQUEST__INIT;
    Latticed__Host__V1__LinkRequest lq = LATTICED__HOST__V1__LINK_REQUEST__INIT;
    Latticed__Host__V1__UnlinkRequest uq = LATTICED__HOST__V1__UNLINK_REQUEST__INIT;
    const char *json = "{\"epoch\":\"18446744073709551615\",\"lattice\":\"default\","
                       "\"requestId\":\"j\"}";
    spec_t s;
    reply_t *r;
    inv_t *inv;
    lt_buf out;

    done(start1(5, "i-a", "d"));
    ck_assert_uint_eq(H.newest_epoch, 5);
    /* An empty start (no items), protobuf and JSON. */
    q.epoch = huge;
    q.lattice = (char *)"default";
    q.request_id = (char *)"r-empty";
    r = run(LT_HOST_START, &q.base);
    ck_assert_int_eq(r->code, HRC(INVALID));
    ck_assert_ptr_nonnull(strstr(r->message, "without items"));
    ck_assert_uint_eq(r->newest_epoch, 5);
    done(r);
    assert_epoch_still(5);
    lt_buf_init(&out, LT_MAX_MESSAGE);
    ck_assert_int_eq(lt__host_handle(&H, &OPS, LT_HOST_START, json, strlen(json), true, &out),
                     LT_OK);
    ck_assert_ptr_nonnull(strstr(out.ptr, "RESULT_CODE_INVALID"));
    lt_buf_cleanup(&out);
    assert_epoch_still(5);
    /* Empty stop, link, unlink. */
    sq.epoch = lq.epoch = uq.epoch = huge;
    sq.lattice = lq.lattice = uq.lattice = (char *)"default";
    sq.request_id = lq.request_id = uq.request_id = (char *)"r-empty";
    r = run(LT_HOST_STOP, &sq.base);
    ck_assert_int_eq(r->code, HRC(INVALID));
    done(r);
    r = run(LT_HOST_LINK, &lq.base);
    ck_assert_int_eq(r->code, HRC(INVALID));
    done(r);
    r = run(LT_HOST_UNLINK, &uq.base);
    ck_assert_int_eq(r->code, HRC(INVALID));
    done(r);
    assert_epoch_still(5);
    /* A start whose item is malformed. */
    mkspec(&s, "i-b/../x", "ghcr.io/x:1", "d", 0);
    r = start(huge, "default", &s, 1);
    ck_assert_int_eq(r->code, HRC(INVALID));
    ck_assert_int_eq(r->results[0]->code, HRC(INVALID));
    done(r);
    r = stop1(huge, "", "");
    ck_assert_int_eq(r->code, HRC(INVALID));
    done(r);
    r = link1(huge, "l-1", "bad source", "v");
    ck_assert_int_eq(r->code, HRC(INVALID));
    done(r);
    assert_epoch_still(5);
    /* Another lattice, and no request_id. */
    mkspec(&s, "i-b", "ghcr.io/x:1", "d", 0);
    r = start(huge, "other", &s, 1);
    ck_assert_int_eq(r->code, HRC(WRONG_LATTICE));
    done(r);
    q.n_instances = 1;
    q.instances = (hpb_spec *[]){ &s.spec };
    q.request_id = (char *)"";
    r = run(LT_HOST_START, &q.base);
    ck_assert_int_eq(r->code, HRC(INVALID));
    ck_assert_ptr_nonnull(strstr(r->message, "request_id"));
    done(r);
    assert_epoch_still(5);
    ck_assert_uint_eq(H.insts.count, 1);
    /* An inventory request without ids is well formed (it asks for everything): it raises
     * the epoch, which is how a new leader fences every host before acting. */
    inv = inventory(6, NULL, 0);
    ck_assert_int_eq(inv->code, HRC(OK));
    ck_assert_uint_eq(inv->newest_epoch, 6);
    ck_assert_uint_eq(inv->heartbeat->n_instances, 1);
    latticed__host__v1__inventory_reply__free_unpacked(inv, NULL);
    r = stop1(5, "i-a", "");
    ck_assert_int_eq(r->code, HRC(STALE_EPOCH));
    done(r);
    ck_assert_uint_eq(H.insts.count, 1);
}
END_TEST

START_TEST(test_links)
{
    reply_t *r = link1(1, "l-1", "i-src", "b1");
    Latticed__Host__V1__Heartbeat *hb;

    ck_assert_int_eq(r->results[0]->code, HRC(NOT_FOUND));
    done(r);
    done(start1(1, "i-src", "d"));
    r = link1(1, "l-1", "i-src", "b1");
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
    ck_assert_int_eq(F.links_changed, 1);
    r = link1(1, "l-1", "i-src", "b1");
    ck_assert_int_eq(r->results[0]->code, HRC(ALREADY_DONE));
    done(r);
    ck_assert_int_eq(F.links_changed, 1);
    r = link1(1, "l-1", "i-src", "b2"); /* config change: updated in place */
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
    ck_assert_int_eq(F.links_changed, 2);
    hb = heartbeat();
    ck_assert_uint_eq(hb->n_link_ids, 1);
    ck_assert_str_eq(hb->link_ids[0], "l-1");
    latticed__host__v1__heartbeat__free_unpacked(hb, NULL);
    r = unlink1(1, "l-1", "i-other");
    ck_assert_int_eq(r->results[0]->code, HRC(ALREADY_DONE));
    done(r);
    ck_assert_uint_eq(H.links.count, 1);
    r = unlink1(1, "l-1", "");
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
    r = unlink1(1, "l-1", "");
    ck_assert_int_eq(r->results[0]->code, HRC(ALREADY_DONE));
    done(r);
    ck_assert_int_eq(F.links_changed, 3);
    /* Stopping the source removes its links; replacing it keeps them. */
    done(link1(1, "l-2", "i-src", "b"));
    done(start1(1, "i-src", "d-new"));
    ck_assert_uint_eq(H.links.count, 1);
    done(stop1(1, "i-src", ""));
    ck_assert_uint_eq(H.links.count, 0);
}
END_TEST

START_TEST(test_inventory)
{
    char *ids[] = { "i-a", "i-missing" };
    inv_t *inv;

    done(start1(3, "i-a", "d"));
    done(start1(3, "i-b", "d"));
    done(link1(3, "l-1", "i-a", "b"));
    inv = inventory(3, NULL, 0);
    ck_assert_int_eq(inv->code, HRC(OK));
    ck_assert_uint_eq(inv->n_results, 0);
    ck_assert_ptr_nonnull(inv->heartbeat);
    ck_assert_str_eq(inv->heartbeat->host_id, "h1");
    ck_assert_uint_eq(inv->heartbeat->n_instances, 2);
    ck_assert_uint_eq(inv->n_links, 1);
    ck_assert_str_eq(inv->links[0]->link_id, "l-1");
    ck_assert_str_eq(inv->links[0]->source_config[0]->value, "b");
    latticed__host__v1__inventory_reply__free_unpacked(inv, NULL);
    inv = inventory(3, ids, 2);
    ck_assert_uint_eq(inv->n_results, 2);
    ck_assert_int_eq(inv->results[0]->code, HRC(OK));
    ck_assert_int_eq(inv->results[0]->state, HIS(RUNNING));
    ck_assert_int_eq(inv->results[1]->code, HRC(NOT_FOUND));
    ck_assert_uint_eq(inv->heartbeat->n_instances, 1);
    ck_assert_str_eq(inv->heartbeat->instances[0]->instance_id, "i-a");
    ck_assert_uint_eq(inv->newest_epoch, 3);
    latticed__host__v1__inventory_reply__free_unpacked(inv, NULL);
}
END_TEST

START_TEST(test_capacity)
{
    spec_t s;
    reply_t *r;

    H.slots_total = 2;
    done(start1(1, "i-1", "d"));
    done(start1(1, "i-2", "d"));
    r = start1(1, "i-3", "d");
    ck_assert_int_eq(r->results[0]->code, HRC(NO_CAPACITY));
    ck_assert_ptr_nonnull(strstr(r->results[0]->message, "slots"));
    done(r);
    ck_assert_uint_eq(H.insts.count, 2);
    done(stop1(1, "i-2", ""));
    H.slots_total = 0;
    H.mem_total = 1000;
    mkspec(&s, "i-m1", "ghcr.io/x:1", "d", 600);
    r = start(1, "default", &s, 1);
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
    ck_assert_uint_eq(H.mem_reserved, 600);
    mkspec(&s, "i-m2", "ghcr.io/x:1", "d", 600);
    r = start(1, "default", &s, 1);
    ck_assert_int_eq(r->results[0]->code, HRC(NO_CAPACITY));
    done(r);
    done(stop1(1, "i-m1", ""));
    ck_assert_uint_eq(H.mem_reserved, 0);
    r = start(1, "default", &s, 1);
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
}
END_TEST

START_TEST(test_shutting_down)
{
    reply_t *r;

    done(start1(1, "i-1", "d"));
    H.shutting_down = true;
    r = start1(1, "i-2", "d");
    ck_assert_int_eq(r->code, HRC(SHUTTING_DOWN));
    ck_assert_int_eq(r->results[0]->code, HRC(SHUTTING_DOWN));
    done(r);
    r = stop1(1, "i-1", "");
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
}
END_TEST

START_TEST(test_limit_exceeded)
{
    Latticed__Host__V1__StopRequest q = LATTICED__HOST__V1__STOP_REQUEST__INIT;
    size_t n = LT_HOST_MAX_ITEMS + 1;
    Latticed__Host__V1__StopItem *items = calloc(n, sizeof(*items));
    Latticed__Host__V1__StopItem **ptrs = calloc(n, sizeof(*ptrs));
    reply_t *r;

    for (size_t i = 0; i < n; i++) {
        latticed__host__v1__stop_item__init(&items[i]);
        items[i].instance_id = (char *)"i-x";
        ptrs[i] = &items[i];
    }
    q.epoch = 1;
    q.lattice = (char *)"default";
    q.request_id = (char *)"req-big";
    q.n_items = n;
    q.items = ptrs;
    r = run(LT_HOST_STOP, &q.base);
    ck_assert_int_eq(r->code, HRC(LIMIT_EXCEEDED));
    ck_assert_uint_eq(r->n_results, n);
    done(r);
    free(items);
    free(ptrs);
}
END_TEST

START_TEST(test_malformed_bodies)
{
    lt_buf out;
    reply_t *r;
    unsigned seed = 42;
    uint8_t junk[256];

    lt_buf_init(&out, LT_MAX_MESSAGE);
    ck_assert_int_eq(lt__host_handle(&H, &OPS, LT_HOST_START, "\xff\xff\xff", 3, false, &out),
                     LT_OK);
    r = latticed__host__v1__command_reply__unpack(NULL, out.len, (uint8_t *)out.ptr);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, HRC(INVALID));
    ck_assert_ptr_nonnull(strstr(r->message, "StartRequest"));
    done(r);
    /* Random bytes for every verb: always a reply, never a crash. */
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(rand_r(&seed) % sizeof(junk));

        for (size_t i = 0; i < len; i++)
            junk[i] = (uint8_t)rand_r(&seed);
        lt_buf_reset(&out);
        ck_assert_int_eq(lt__host_handle(&H, &OPS, (lt__host_verb)(round % 5), junk, len,
                                         round % 7 == 0, &out),
                         LT_OK);
        ck_assert_uint_gt(out.len + 1, 0);
    }
    lt_buf_cleanup(&out);
}
END_TEST

START_TEST(test_json_bodies)
{
    const char *req = "{\"epoch\":\"4\",\"lattice\":\"default\",\"requestId\":\"j1\","
                      "\"instances\":[{\"instanceId\":\"i-json\",\"imageRef\":\"ghcr.io/x:1\","
                      "\"specDigest\":\"d\",\"config\":{\"k\":\"v\"}}]}";
    ProtobufCMessage *m = NULL;
    reply_t *r;
    lt_buf out;

    lt_buf_init(&out, LT_MAX_MESSAGE);
    ck_assert_int_eq(lt__host_handle(&H, &OPS, LT_HOST_START, req, strlen(req), true, &out), LT_OK);
    ck_assert_ptr_nonnull(strstr(out.ptr, "\"requestId\":\"j1\""));
    ck_assert_int_eq(lt_pbjson_decode(&latticed__host__v1__command_reply__descriptor, out.ptr,
                                      out.len, 0, &m),
                     LT_OK);
    r = (reply_t *)(void *)m;
    ck_assert_int_eq(r->code, HRC(OK));
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    ck_assert_uint_eq(r->newest_epoch, 4);
    protobuf_c_message_free_unpacked(m, NULL);
    ck_assert_ptr_nonnull(lt_map_get(&H.insts, "i-json"));
    /* Bad JSON: an INVALID reply, in JSON. */
    lt_buf_reset(&out);
    ck_assert_int_eq(lt__host_handle(&H, &OPS, LT_HOST_STOP, "{nope", 5, true, &out), LT_OK);
    ck_assert_ptr_nonnull(strstr(out.ptr, "RESULT_CODE_INVALID"));
    lt_buf_cleanup(&out);
}
END_TEST

START_TEST(test_heartbeat_encoding)
{
    Latticed__Host__V1__Heartbeat *hb;
    lt__host_inst *inst;

    done(start1(2, "i-a", "d"));
    H.sequence = 41;
    H.slots_total = 10;
    hb = heartbeat();
    ck_assert_str_eq(hb->host_id, "h1");
    ck_assert_str_eq(hb->lattice, "default");
    ck_assert_str_eq(hb->friendly_name, "Host One");
    ck_assert_str_eq(hb->version, "0.1.0");
    ck_assert_uint_eq(hb->sequence, 41);
    ck_assert_uint_eq(hb->interval_ms, 5000);
    ck_assert_uint_eq(hb->newest_epoch, 2);
    ck_assert_uint_eq(hb->n_labels, 1);
    ck_assert_str_eq(hb->labels[0]->key, "zone");
    ck_assert_str_eq(hb->labels[0]->value, "east");
    ck_assert_ptr_nonnull(hb->capacity);
    ck_assert_uint_eq(hb->capacity->memory_total_bytes, 1ull << 30);
    ck_assert_uint_eq(hb->capacity->instance_slots_total, 10);
    ck_assert_uint_eq(hb->capacity->instance_slots_used, 1);
    ck_assert_uint_eq(hb->capacity->cpu_millis_total, 2000);
    ck_assert_ptr_nonnull(hb->started_at);
    ck_assert_uint_eq(hb->n_instances, 1);
    ck_assert_str_eq(hb->instances[0]->message, "");
    latticed__host__v1__heartbeat__free_unpacked(hb, NULL);
    /* The cached instance encoding follows state changes. */
    inst = lt_map_get(&H.insts, "i-a");
    ck_assert_ptr_nonnull(inst->enc);
    lt__host_set_state(&H, inst, HIS(FAILED), "exited with code 3");
    ck_assert_ptr_null(inst->enc);
    hb = heartbeat();
    ck_assert_int_eq(hb->instances[0]->state, HIS(FAILED));
    ck_assert_str_eq(hb->instances[0]->message, "exited with code 3");
    latticed__host__v1__heartbeat__free_unpacked(hb, NULL);
}
END_TEST

/* The placement of id in a fresh heartbeat (caller frees). */
static char *placement_of(const char *id)
{
    Latticed__Host__V1__Heartbeat *hb = heartbeat();
    char *p = NULL;

    for (size_t i = 0; i < hb->n_instances; i++)
        if (strcmp(hb->instances[i]->instance_id, id) == 0)
            p = strdup(hb->instances[i]->placement);
    latticed__host__v1__heartbeat__free_unpacked(hb, NULL);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* A late stop (replayed, or from a deposed leader) names the incarnation it meant: after a
 * re-create under the same deterministic id, it leaves the new instance running. */
START_TEST(test_stop_names_placement)
{
    char *p1, *p2, *p3;
    reply_t *r;

    done(start1(3, "i-a", "d"));
    p1 = placement_of("i-a");
    ck_assert_str_eq(p1, "3.1"); /* epoch 3, the host's first start */
    /* The same start again is the same incarnation. */
    done(start1(3, "i-a", "d"));
    p2 = placement_of("i-a");
    ck_assert_str_eq(p2, p1);
    free(p2);
    /* Stopped with its placement, re-created under the same id: a new placement. */
    r = stop_at(3, "i-a", "scaled down", p1);
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
    ck_assert_uint_eq(H.insts.count, 0);
    done(start1(4, "i-a", "d"));
    p2 = placement_of("i-a");
    ck_assert_str_ne(p2, p1);
    /* The first stop, replayed late: the new instance runs on. */
    r = stop_at(4, "i-a", "scaled down", p1);
    ck_assert_int_eq(r->code, HRC(OK));
    ck_assert_int_eq(r->results[0]->code, HRC(ALREADY_DONE));
    ck_assert_int_eq(r->results[0]->state, HIS(RUNNING));
    ck_assert_ptr_nonnull(strstr(r->results[0]->message, "left alone"));
    done(r);
    ck_assert_uint_eq(H.insts.count, 1);
    ck_assert_int_eq(F.stops, 1);
    ck_assert_int_eq(count_events("instance.stopped"), 1);
    /* A replacement (another digest) is a new incarnation too. */
    done(start1(4, "i-a", "d2"));
    p3 = placement_of("i-a");
    ck_assert_str_ne(p3, p2);
    r = stop_at(4, "i-a", "x", p2);
    ck_assert_int_eq(r->results[0]->code, HRC(ALREADY_DONE));
    done(r);
    ck_assert_uint_eq(H.insts.count, 1);
    /* A malformed placement makes the request malformed. */
    r = stop_at(4, "i-a", "x", "bad placement");
    ck_assert_int_eq(r->code, HRC(INVALID));
    done(r);
    /* The right placement stops it; an empty one keeps the old meaning (whatever runs). */
    r = stop_at(4, "i-a", "x", p3);
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
    ck_assert_uint_eq(H.insts.count, 0);
    done(start1(4, "i-a", "d"));
    r = stop_at(4, "i-a", "x", "");
    ck_assert_int_eq(r->results[0]->code, HRC(OK));
    done(r);
    ck_assert_uint_eq(H.insts.count, 0);
    free(p1);
    free(p2);
    free(p3);
}
END_TEST

TCase *proto_tcase(void);

TCase *proto_tcase(void)
{
    TCase *tc = tcase_create("proto");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_start_idempotent_and_replace);
    tcase_add_test(tc, test_epoch_fence);
    tcase_add_test(tc, test_wrong_lattice);
    tcase_add_test(tc, test_stop);
    tcase_add_test(tc, test_start_failure_and_retry);
    tcase_add_test(tc, test_started_batch);
    tcase_add_test(tc, test_started_batch_split);
    tcase_add_test(tc, test_invalid_items_in_batch);
    tcase_add_test(tc, test_fence_needs_well_formed_request);
    tcase_add_test(tc, test_stop_names_placement);
    tcase_add_test(tc, test_links);
    tcase_add_test(tc, test_inventory);
    tcase_add_test(tc, test_capacity);
    tcase_add_test(tc, test_shutting_down);
    tcase_add_test(tc, test_limit_exceeded);
    tcase_add_test(tc, test_malformed_bodies);
    tcase_add_test(tc, test_json_bodies);
    tcase_add_test(tc, test_heartbeat_encoding);
    return tc;
}
