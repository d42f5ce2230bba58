/*
 * fuzz_host.c - libFuzzer target for the reference host's command handling
 * (host/command.c: lt__host_request and lt__host_handle, the runner mapping of
 * host/runner.c) with a fake runtime: no processes, no NATS. Each input is a
 * sequence of requests separated by SEP, applied in order to one host that
 * starts with two instances and a link. A request's first byte picks the
 * command, the encoding and how the fake runtime behaves (see run_record);
 * the rest is the body. After each request the reply must decode (protobuf or
 * proto3 JSON, valid proto3: UTF-8 strings), answer the request's items in
 * order, and the host's tables must be consistent: every listed instance
 * found under its id, reservations equal to the sum over reserving states, a
 * cached encoding equal to a fresh one, every link's source listed, the
 * epoch never going back and raised only by a request answered OK (or
 * SHUTTING_DOWN); events and (at the end of the input) the
 * heartbeat valid proto3. Any violation aborts. FUZZ_HOST_TRACE=1 prints
 * each reply as JSON. Built with libFuzzer under -Dfuzz=true, and with
 * tests/fuzz/lt_fuzz_driver.c as a smoke test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_int.h"
#include "lt_alloc.h"
#include "lt_pbjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n--\n"
#define SEP_LEN 4

typedef Latticed__Host__V1__CommandReply reply_t;
typedef Latticed__Host__V1__InventoryReply inv_t;

#define CHECK(cond, what)          \
    do {                           \
        if (!(cond))               \
            die((what), __LINE__); \
    } while (0)

static void die(const char *what, int line)
{
    fprintf(stderr, "fuzz_host.c:%d: %s (last error: %s)\n", line, what, lt_error_message());
    abort();
}

/* ---- fake runtime ------------------------------------------------------------------- */

typedef struct {
    int start_mode;  /* 0: RUNNING at once, 1: STARTING (reports later), 2: START_FAILED */
    bool stop_async; /* stop leaves the instance STOPPING */
    lt__host_runners runners;
} fake;

static fake F;
static lt__host_state H;

/* A message is valid proto3 when it converts to JSON (every string valid UTF-8). */
static void check_proto3(const ProtobufCMessage *m, const char *what)
{
    char *text = NULL;
    size_t len = 0;

    if (lt_pbjson_encode(m, 0, &text, &len) != LT_OK)
        die(what, __LINE__);
    lt_free(text);
}

static int f_start(void *ctx, lt__host_state *h, lt__host_inst *inst, char *msg, size_t n)
{
    fake *f = ctx;
    lt__host_plan plan;
    int code;

    CHECK(inst->state == HIS(STARTING) && inst->reserved, "start of an instance not STARTING");
    CHECK(lt_map_get(&h->insts, inst->id) == inst, "start of an unlisted instance");
    code = lt__host_runner_resolve(&f->runners, inst->image_ref, &plan, msg, n);
    if (code != HRC(OK))
        return code;
    switch (f->start_mode) {
    case 0:
        lt__host_set_state(h, inst, HIS(RUNNING), NULL);
        return HRC(OK);
    case 1:
        return HRC(OK);
    default:
        snprintf(msg, n, "fake start failure of '%s' (%s)", inst->image_ref,
                 plan.command != NULL ? plan.command : plan.path);
        return HRC(START_FAILED);
    }
}

static bool f_stop(void *ctx, lt__host_state *h, lt__host_inst *inst, uint32_t grace_ms)
{
    (void)grace_ms;
    CHECK(lt_map_get(&h->insts, inst->id) == inst, "stop of an unlisted instance");
    CHECK(inst->state != HIS(STOPPING), "stop of a STOPPING instance");
    return !((fake *)ctx)->stop_async;
}

static void f_discard(void *ctx, lt__host_state *h, lt__host_inst *inst)
{
    (void)ctx;
    CHECK(lt_map_get(&h->insts, inst->id) == inst, "discard of an unlisted instance");
}

static void f_links(void *ctx, lt__host_state *h, lt__host_inst *inst)
{
    (void)ctx;
    CHECK(inst != NULL && lt_map_get(&h->insts, inst->id) == inst,
          "links_changed for an unlisted instance");
}

/* Events decode as the proto says, from this host, with the instance in the right state. */
static void f_emit(void *ctx, lt__host_state *h, const char *type, const void *data, size_t len)
{
    const ProtobufCMessageDescriptor *d;
    ProtobufCMessage *m;
    const Latticed__Host__V1__InstanceStarted *s; /* fields 1-3 are common to the three */
    int want;

    (void)ctx;
    if (strcmp(type, "instances.started") == 0) { /* one start command's running instances */
        const Latticed__Host__V1__InstancesStarted *b;

        m = protobuf_c_message_unpack(&latticed__host__v1__instances_started__descriptor, NULL, len,
                                      data);
        CHECK(m != NULL, "instances.started does not decode");
        b = (const void *)m;
        CHECK(strcmp(b->host_id, h->id) == 0 && strcmp(b->lattice, h->lattice) == 0,
              "event source");
        CHECK(b->n_instances > 0 && len <= LT_HOST_STARTED_BATCH_MAX, "instances.started size");
        for (size_t i = 0; i < b->n_instances; i++)
            CHECK(b->instances[i]->state == HIS(RUNNING), "instances.started state");
        check_proto3(m, "event is not valid proto3");
        protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    if (strcmp(type, "instance.started") == 0) {
        d = &latticed__host__v1__instance_started__descriptor;
        want = HIS(RUNNING);
    } else if (strcmp(type, "instance.failed") == 0) {
        d = &latticed__host__v1__instance_failed__descriptor;
        want = HIS(FAILED);
    } else if (strcmp(type, "instance.stopped") == 0) {
        d = &latticed__host__v1__instance_stopped__descriptor;
        want = HIS(STOPPED);
    } else {
        die("unknown event type", __LINE__);
        return;
    }
    m = protobuf_c_message_unpack(d, NULL, len, data);
    CHECK(m != NULL, "event does not decode");
    s = (const void *)m;
    CHECK(strcmp(s->host_id, h->id) == 0 && strcmp(s->lattice, h->lattice) == 0, "event source");
    CHECK(s->instance != NULL && (int)s->instance->state == want, "event instance state");
    if (d == &latticed__host__v1__instance_failed__descriptor) {
        const Latticed__Host__V1__InstanceFailed *f = (const void *)m;

        CHECK(f->code != HRC(OK) && strcmp(f->message, f->instance->message) == 0, "failed event");
    }
    check_proto3(m, "event is not valid proto3");
    protobuf_c_message_free_unpacked(m, NULL);
}

static const lt__host_ops OPS = { f_start, f_stop, f_discard, f_links, f_emit, &F };

/* ---- state consistency ------------------------------------------------------------------ */

static bool reserves(int state)
{
    return state == HIS(STARTING) || state == HIS(RUNNING) || state == HIS(STOPPING);
}

/* A cached encoding must equal what the instance encodes to now. */
static void check_cache(lt__host_inst *inst)
{
    Latticed__Host__V1__Instance__AnnotationsEntry *ents, **ptrs;
    Google__Protobuf__Timestamp ts;
    Latticed__Host__V1__ResourceRequests rr;
    hpb_inst pb;
    uint8_t *buf;
    size_t n;

    if (inst->enc == NULL)
        return;
    ents = calloc(inst->n_annotations + 1, sizeof(*ents));
    ptrs = calloc(inst->n_annotations + 1, sizeof(*ptrs));
    CHECK(ents != NULL && ptrs != NULL, "out of memory");
    lt__host_inst_to_pb(inst, &pb, ents, ptrs, &ts, &rr);
    n = latticed__host__v1__instance__get_packed_size(&pb);
    buf = malloc(n + 1);
    CHECK(buf != NULL, "out of memory");
    CHECK(latticed__host__v1__instance__pack(&pb, buf) == n && n == inst->enc_len &&
              memcmp(buf, inst->enc, n) == 0,
          "stale cached instance encoding");
    free(buf);
    free(ents);
    free(ptrs);
}

static void check_links(void)
{
    size_t it = 0, n = 0;
    lt__host_link *l;

    while ((l = lt_map_next(&H.links, &it)) != NULL) {
        Latticed__Host__V1__LinkSpec *spec;

        n++;
        CHECK(lt_map_get(&H.links, l->id) == l, "link not found under its id");
        CHECK(lt__host_id_ok(l->id), "link with an invalid id");
        CHECK(lt_map_get(&H.insts, l->source) != NULL,
              "a link whose source instance is not on this host");
        spec = latticed__host__v1__link_spec__unpack(NULL, l->enc_len, l->enc);
        CHECK(spec != NULL && strcmp(spec->link_id, l->id) == 0 &&
                  strcmp(spec->source_instance_id, l->source) == 0,
              "link encoding");
        latticed__host__v1__link_spec__free_unpacked(spec, NULL);
    }
    CHECK(n == H.links.count, "link count");
}

static void check_heartbeat(void)
{
    Latticed__Host__V1__Heartbeat *hb;
    lt_buf b;

    lt_buf_init(&b, LT_MAX_MESSAGE);
    CHECK(lt__host_heartbeat_encode(&H, NULL, 0, &b) == LT_OK, "heartbeat does not encode");
    hb = latticed__host__v1__heartbeat__unpack(NULL, b.len, (const uint8_t *)b.ptr);
    CHECK(hb != NULL, "heartbeat does not decode");
    CHECK(hb->n_instances == H.insts.count && hb->n_link_ids == H.links.count, "heartbeat lists");
    CHECK(hb->newest_epoch == H.newest_epoch && hb->capacity != NULL &&
              hb->capacity->memory_reserved_bytes == H.mem_reserved &&
              hb->capacity->instance_slots_used == H.insts.count,
          "heartbeat counters");
    check_proto3(&hb->base, "heartbeat is not valid proto3");
    latticed__host__v1__heartbeat__free_unpacked(hb, NULL);
    lt_buf_cleanup(&b);
}

/* The tables after every request; the heartbeat (dearer: proto3 JSON) when heartbeat. */
static void check_state(bool heartbeat)
{
    size_t it = 0, n = 0;
    uint64_t mem = 0, cpu = 0;
    lt__host_inst *inst;

    while ((inst = lt_map_next(&H.insts, &it)) != NULL) {
        n++;
        CHECK(lt_map_get(&H.insts, inst->id) == inst, "instance not found under its id");
        CHECK(lt__host_id_ok(inst->id) && inst->image_ref[0] != '\0', "invalid instance listed");
        CHECK(inst->state == HIS(STARTING) || inst->state == HIS(RUNNING) ||
                  inst->state == HIS(STOPPING) || inst->state == HIS(FAILED),
              "listed state");
        CHECK(inst->reserved == reserves(inst->state), "reservation flag");
        CHECK(inst->state != HIS(RUNNING) || inst->started_at_ms != 0, "RUNNING without a start");
        if (inst->reserved) {
            mem += inst->mem_bytes;
            cpu += inst->cpu_millis;
        }
        check_cache(inst);
    }
    CHECK(n == H.insts.count, "instance count");
    CHECK(mem == H.mem_reserved && cpu == H.cpu_reserved, "reserved resources");
    check_links();
    if (heartbeat)
        check_heartbeat();
}

/* ---- requests and replies -------------------------------------------------------------- */

static const ProtobufCMessageDescriptor *const req_desc[] = {
    [LT_HOST_START] = &latticed__host__v1__start_request__descriptor,
    [LT_HOST_STOP] = &latticed__host__v1__stop_request__descriptor,
    [LT_HOST_LINK] = &latticed__host__v1__link_request__descriptor,
    [LT_HOST_UNLINK] = &latticed__host__v1__unlink_request__descriptor,
    [LT_HOST_INVENTORY] = &latticed__host__v1__inventory_request__descriptor,
};

/* Item count and id of item i of a decoded request. */
static size_t items_of(lt__host_verb verb, const ProtobufCMessage *m, size_t i, const char **id)
{
    switch (verb) {
    case LT_HOST_START: {
        const Latticed__Host__V1__StartRequest *q = (const void *)m;
        *id = i < q->n_instances ? q->instances[i]->instance_id : NULL;
        return q->n_instances;
    }
    case LT_HOST_STOP: {
        const Latticed__Host__V1__StopRequest *q = (const void *)m;
        *id = i < q->n_items ? q->items[i]->instance_id : NULL;
        return q->n_items;
    }
    case LT_HOST_LINK: {
        const Latticed__Host__V1__LinkRequest *q = (const void *)m;
        *id = i < q->n_links ? q->links[i]->link_id : NULL;
        return q->n_links;
    }
    case LT_HOST_UNLINK: {
        const Latticed__Host__V1__UnlinkRequest *q = (const void *)m;
        *id = i < q->n_items ? q->items[i]->link_id : NULL;
        return q->n_items;
    }
    default: {
        const Latticed__Host__V1__InventoryRequest *q = (const void *)m;
        *id = i < q->n_instance_ids ? q->instance_ids[i] : NULL;
        return q->n_instance_ids;
    }
    }
}

/* Results answer the request's items in order (none when it did not decode). */
static void check_results(lt__host_verb verb, const ProtobufCMessage *req, size_t nres,
                          Latticed__Host__V1__ItemResult **res, int code)
{
    const char *id;
    size_t n = req != NULL ? items_of(verb, req, 0, &id) : 0;

    if (code == HRC(INVALID) && nres == 0)
        return; /* not decoded (or refused as malformed) */
    CHECK(nres == n, "results do not match the request's items");
    for (size_t i = 0; i < n; i++) {
        items_of(verb, req, i, &id);
        CHECK(strcmp(res[i]->id, id) == 0, "result id is not the item's id");
        if (code != HRC(OK))
            CHECK((int)res[i]->code == code, "a refused request's item is not refused");
    }
}

/* Whole-request code of the last reply checked. */
static int last_code;

static void check_reply(lt__host_verb verb, bool known, const void *body, size_t len, bool json,
                        const lt_buf *out)
{
    bool inv = known && verb == LT_HOST_INVENTORY;
    const ProtobufCMessageDescriptor *d = inv ? &latticed__host__v1__inventory_reply__descriptor
                                              : &latticed__host__v1__command_reply__descriptor;
    ProtobufCMessage *m = NULL, *req = NULL;

    if (json)
        CHECK(lt_pbjson_decode(d, out->ptr, out->len, 0, &m) == LT_OK, "JSON reply");
    else
        CHECK((m = protobuf_c_message_unpack(d, NULL, out->len, (const uint8_t *)out->ptr)) != NULL,
              "protobuf reply");
    check_proto3(m, "reply is not valid proto3");
    if (getenv("FUZZ_HOST_TRACE") != NULL) { /* to see what a corpus input does */
        char *text = NULL;
        size_t n = 0;

        if (lt_pbjson_encode(m, 0, &text, &n) == LT_OK)
            fprintf(stderr, "%s -> %.*s\n", known ? req_desc[verb]->short_name : "?", (int)n, text);
        lt_free(text);
    }
    if (known && json)
        LT_IGNORE(lt_pbjson_decode(req_desc[verb], body, len, LT_PBJSON_IGNORE_UNKNOWN, &req));
    else if (known)
        req = protobuf_c_message_unpack(req_desc[verb], NULL, len, body);
    if (!inv) {
        const reply_t *r = (const void *)m;

        CHECK(strcmp(r->host_id, H.id) == 0 && r->newest_epoch == H.newest_epoch, "reply head");
        CHECK(known || (r->code == HRC(INVALID) && r->n_results == 0), "unknown verb reply");
        last_code = (int)r->code;
        if (known)
            check_results(verb, req, r->n_results, r->results, (int)r->code);
    } else {
        const inv_t *r = (const void *)m;
        const char *id;

        CHECK(strcmp(r->host_id, H.id) == 0 && r->newest_epoch == H.newest_epoch, "reply head");
        check_results(verb, req, r->n_results, r->results, (int)r->code);
        last_code = (int)r->code;
        CHECK((r->code == HRC(OK)) == (r->heartbeat != NULL), "inventory heartbeat presence");
        if (r->code == HRC(OK)) {
            CHECK(r->n_links == H.links.count, "inventory links");
            if (r->n_results == 0)
                CHECK(r->heartbeat->n_instances == H.insts.count, "inventory instances");
            for (size_t i = 0; i < r->n_results; i++) {
                lt__host_inst *inst;

                items_of(verb, req, i, &id);
                inst = lt_map_get(&H.insts, id);
                CHECK(inst != NULL ? (r->results[i]->code == HRC(OK) &&
                                      (int)r->results[i]->state == inst->state)
                                   : r->results[i]->code == HRC(NOT_FOUND),
                      "inventory result");
            }
        }
    }
    if (req != NULL)
        protobuf_c_message_free_unpacked(req, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* The runtime reports: STOPPING instances are gone, STARTING ones run. */
static void runtime_tick(void)
{
    char *ids[64];
    size_t n = 0, it = 0;
    lt__host_inst *inst;

    while (n < 64 && (inst = lt_map_next(&H.insts, &it)) != NULL)
        if (inst->state == HIS(STOPPING) || inst->state == HIS(STARTING))
            ids[n++] = strdup(inst->id);
    for (size_t i = 0; i < n; i++) {
        inst = lt_map_get(&H.insts, ids[i]);
        CHECK(inst != NULL, "instance vanished");
        if (inst->state == HIS(STOPPING)) {
            lt__host_stopped(&H, &OPS, inst);
        } else {
            lt__host_set_state(&H, inst, HIS(RUNNING), NULL);
            lt__host_emit_instance(&H, &OPS, "instance.started", inst, HRC(OK), NULL, false);
        }
        free(ids[i]);
    }
}

/*
 * One request. Selector byte: bits 0-2 the command (0-4 start, stop, link,
 * unlink, inventory; 5: the verb is the body's first line, unknown ones
 * included; 6: runtime tick, no request; 7: toggle shutting down), bit 3
 * JSON, bits 4-5 the fake start (RUNNING, STARTING, failure, failure), bit 6
 * asynchronous stop. The rest is the body.
 */
static void run_record(const uint8_t *rec, size_t len)
{
    unsigned sel = len > 0 ? rec[0] : 0;
    const char *body = len > 0 ? (const char *)rec + 1 : "";
    size_t blen = len > 0 ? len - 1 : 0;
    static const char *const verbs[] = { "start", "stop", "link", "unlink", "inventory" };
    char *verb = NULL;
    lt__host_verb v = LT_HOST_START;
    bool json = (sel & 8) != 0, known;
    uint64_t epoch = H.newest_epoch;
    lt_buf out;
    lt_status st;

    F.start_mode = (int)((sel >> 4) & 3);
    F.stop_async = (sel & 0x40) != 0;
    switch (sel & 7) {
    case 6:
        runtime_tick();
        return;
    case 7:
        H.shutting_down = !H.shutting_down;
        return;
    case 5: {
        const char *nl = memchr(body, '\n', blen);
        size_t n = nl != NULL ? (size_t)(nl - body) : blen;

        verb = strndup(body, n); /* stops at a NUL, as a subject token would */
        CHECK(verb != NULL, "out of memory");
        body += nl != NULL ? n + 1 : n;
        blen -= nl != NULL ? n + 1 : n;
        break;
    }
    default:
        verb = strdup(verbs[sel & 7]);
        CHECK(verb != NULL, "out of memory");
        break;
    }
    known = lt__host_verb_parse(verb, strlen(verb), &v);
    lt_buf_init(&out, LT_MAX_MESSAGE);
    lt_error_clear();
    st = lt__host_request(&H, &OPS, verb, body, blen, &json, &out);
    CHECK(st == LT_OK, "no reply");
    CHECK(known || !json, "unknown verb answered in JSON");
    check_reply(v, known, body, blen, json, &out);
    CHECK(H.newest_epoch >= epoch, "the epoch went back");
    CHECK(H.newest_epoch == epoch || last_code == HRC(OK) || last_code == HRC(SHUTTING_DOWN),
          "a refused request raised the epoch");
    lt_buf_cleanup(&out);
    free(verb);
    check_state(false);
}

/* ---- the host each input starts from ------------------------------------------------- */

/* Two RUNNING instances (i-a with resources and annotations, i-b) and link l-1 from i-a. */
static void populate(void)
{
    Latticed__Host__V1__StartRequest sq = LATTICED__HOST__V1__START_REQUEST__INIT;
    Latticed__Host__V1__LinkRequest lq = LATTICED__HOST__V1__LINK_REQUEST__INIT;
    hpb_spec s[2], *sp[2] = { &s[0], &s[1] };
    Latticed__Host__V1__ResourceRequests rr = LATTICED__HOST__V1__RESOURCE_REQUESTS__INIT;
    Latticed__Host__V1__InstanceSpec__AnnotationsEntry
        an = LATTICED__HOST__V1__INSTANCE_SPEC__ANNOTATIONS_ENTRY__INIT,
        *anp = &an;
    hpb_link l = LATTICED__HOST__V1__LINK_SPEC__INIT, *lp = &l;
    lt_buf in, out;

    for (int i = 0; i < 2; i++) {
        latticed__host__v1__instance_spec__init(&s[i]);
        s[i].instance_id = (char *)(i == 0 ? "i-a" : "i-b");
        s[i].image_ref = (char *)"ghcr.io/acme/api:1";
        s[i].spec_digest = (char *)"d1";
        s[i].app_name = (char *)"app";
    }
    rr.memory_bytes = 1000;
    rr.cpu_millis = 100;
    s[0].resources = &rr;
    an.key = (char *)"latticed.dev/app";
    an.value = (char *)"app";
    s[0].n_annotations = 1;
    s[0].annotations = &anp;
    sq.epoch = 1;
    sq.lattice = (char *)"default";
    sq.request_id = (char *)"seed";
    sq.n_instances = 2;
    sq.instances = sp;
    l.link_id = (char *)"l-1";
    l.source_instance_id = (char *)"i-a";
    l.wit_namespace = (char *)"wasi";
    l.wit_package = (char *)"keyvalue";
    lq.epoch = 1;
    lq.lattice = (char *)"default";
    lq.request_id = (char *)"seed";
    lq.n_links = 1;
    lq.links = &lp;
    lt_buf_init(&in, LT_MAX_MESSAGE);
    lt_buf_init(&out, LT_MAX_MESSAGE);
    CHECK(lt__host_pack(&sq.base, &in) == LT_OK, "pack");
    CHECK(lt__host_handle(&H, &OPS, LT_HOST_START, in.ptr, in.len, false, &out) == LT_OK, "start");
    lt_buf_reset(&in);
    lt_buf_reset(&out);
    CHECK(lt__host_pack(&lq.base, &in) == LT_OK, "pack");
    CHECK(lt__host_handle(&H, &OPS, LT_HOST_LINK, in.ptr, in.len, false, &out) == LT_OK, "link");
    lt_buf_cleanup(&in);
    lt_buf_cleanup(&out);
    CHECK(H.insts.count == 2 && H.links.count == 1, "initial state");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;

    memset(&F, 0, sizeof(F));
    CHECK(lt__host_runners_add(&F.runners, "ghcr.io/=sleep infinity") == LT_OK &&
              lt__host_runners_add(&F.runners, "ghcr.io/acme/=true") == LT_OK,
          "runners");
    CHECK(lt__host_state_init(&H, "h1", "default", "Host One", "0.1.0") == LT_OK, "state");
    H.mem_total = 1ull << 30;
    H.cpu_total = 4000;
    H.slots_total = 16;
    H.interval_ms = 5000;
    CHECK(lt__host_kvs_set(&H.labels, "zone", "east") == LT_OK, "labels");
    populate();
    check_state(true);
    while (p <= end) {
        const uint8_t *sep = NULL;

        for (const uint8_t *q = p; q + SEP_LEN <= end; q++)
            if (memcmp(q, SEP, SEP_LEN) == 0) {
                sep = q;
                break;
            }
        /* an exact-size copy, so reads past a record's end are caught */
        {
            size_t n = (size_t)((sep != NULL ? sep : end) - p);
            uint8_t *rec = malloc(n > 0 ? n : 1);

            CHECK(rec != NULL, "out of memory");
            memcpy(rec, p, n);
            run_record(rec, n);
            free(rec);
        }
        if (sep == NULL)
            break;
        p = sep + SEP_LEN;
    }
    check_state(true);
    lt__host_state_cleanup(&H);
    lt__host_runners_cleanup(&F.runners);
    return 0;
}
