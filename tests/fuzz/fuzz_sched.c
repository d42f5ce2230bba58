/*
 * fuzz_sched.c - libFuzzer target for the scheduler core (scheduler/lt_sched.h:
 * pure, no NATS) driven through its public API by a fake fleet of 8 hosts.
 * Each input is a sequence of operations on one lt_sched: the first byte
 * picks the configuration (warm-up, inventory round, batch size, hosts at start, and
 * wasmCloud v2 mode when (byte >> 4) / 5 is odd), then each
 * operation is one byte (the kind, see the op_ enum) followed by its argument
 * bytes (host index, instance index, which of the prebuilt manifests, time
 * advance; missing bytes read as 0). Operations: heartbeats, host start,
 * stop, restart and silence, instances crashing, vanishing or reported with
 * another owner or on two hosts, deploy/undeploy/unreadable of 4 manifests
 * (two versions of one app, a shared app and an app using it), ticks with a
 * monotonic clock, command replies delivered, lost or failed in transport,
 * inventory rounds, leadership and epoch fencing, and the queries. The
 * scheduler's batches are applied by the fake hosts when sent (as a thin host
 * does) and answered later, when an operation delivers the replies; the hosts'
 * next heartbeats show what runs. In v2 mode three hosts of four export the interfaces the
 * manifests' capability links need, a host going silent is also reported gone
 * (lt_sched_host_gone), and every START batch must carry a workload per item and no LINK or
 * UNLINK batch may appear. After every operation the inventory's three
 * indexes (by id, by host, by app) must agree: lt__sched_check_consistent
 * (scheduler/sched_int.h), else abort with its message. FUZZ_SCHED_TRACE=1
 * prints each operation and turns the scheduler's log on. Built with
 * libFuzzer under -Dfuzz=true, and with tests/fuzz/lt_fuzz_driver.c as the
 * smoke test fuzz_sched_smoke (tests/scheduler/meson.build). Seeds in
 * corpus/sched/, one per theme (deploy_step, upgrade, shared, host_churn,
 * crashes, odd, fence, replies), are such byte sequences composed by hand.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "lt_log.h"
#include "lt_model.h"
#include "lt_sched.h"
#include "sched_int.h" /* lt__sched_check_consistent */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x
#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

#define N_HOSTS 8
#define MAX_INST 24  /* instances a fake host can run */
#define MAX_LINKS 24 /* links a fake host keeps */
#define MAX_ANN 6    /* owner annotations kept per instance */
#define MAX_BATCH 16 /* the scheduler's max_batch (fits ItemResult arrays below) */
#define MAX_REPLIES 48
#define MAX_OPS 128  /* operations per input, of which at most MAX_STEPS steps (8 heartbeats */
#define MAX_STEPS 16 /* and a tick each): one input stays near 10 ms under ASan at -O0 */
#define LATTICE "fz"

/* ---- the prebuilt manifests ----------------------------------------------------------- */

static const char *const manifests[] = {
    /* 0: web v1, a spread component linked to a daemon capability of its own */
    "apiVersion: core.oam.dev/v1beta1\nkind: Application\n"
    "metadata: {name: web, annotations: {version: v1}}\n"
    "spec:\n  components:\n"
    "    - name: api\n      type: component\n      properties: {image: 'ghcr.io/x/api:1'}\n"
    "      traits:\n"
    "        - type: spreadscaler\n          properties:\n            instances: 4\n"
    "            spread:\n              - {name: a, requirements: {zone: a}, weight: 3}\n"
    "              - {name: b, requirements: {zone: b}, weight: 1}\n"
    "        - type: latticed.dev/resources\n          properties: {memory: 64Mi}\n"
    "        - type: link\n          properties:\n            namespace: wasi\n"
    "            package: keyvalue\n            interfaces: [store]\n"
    "            target: {name: kv}\n"
    "    - name: kv\n      type: capability\n      properties: {image: 'ghcr.io/x/kv:1'}\n"
    "      traits:\n        - type: daemonscaler\n          properties:\n"
    "            instances: 1\n            spread: [{name: kv, requirements: {kv: 'yes'}}]\n",
    /* 1: web v2, a rolling upgrade of 0 */
    "apiVersion: core.oam.dev/v1beta1\nkind: Application\n"
    "metadata: {name: web, annotations: {version: v2}}\n"
    "spec:\n  policies:\n    - {name: r, type: latticed.dev/rollout, "
    "properties: {maxUnavailable: '1'}}\n  components:\n"
    "    - name: api\n      type: component\n      properties: {image: 'ghcr.io/x/api:2'}\n"
    "      traits:\n"
    "        - type: spreadscaler\n          properties: {instances: 3}\n"
    "        - type: link\n          properties:\n            namespace: wasi\n"
    "            package: keyvalue\n            interfaces: [store]\n"
    "            target: {name: kv}\n"
    "    - name: kv\n      type: capability\n      properties: {image: 'ghcr.io/x/kv:1'}\n"
    "      traits:\n        - type: daemonscaler\n          properties:\n"
    "            instances: 1\n            spread: [{name: kv, requirements: {kv: 'yes'}}]\n",
    /* 2: a shared app: a daemon on every host */
    "apiVersion: core.oam.dev/v1beta1\nkind: Application\n"
    "metadata: {name: platform, annotations: {version: p1, "
    "experimental.wasmcloud.dev/shared: 'true'}}\n"
    "spec:\n  components:\n"
    "    - name: bus\n      type: capability\n      properties: {image: 'ghcr.io/x/bus:1'}\n"
    "      traits:\n        - type: daemonscaler\n          properties: {instances: 1}\n",
    /* 3: an app linking to the shared app's component */
    "apiVersion: core.oam.dev/v1beta1\nkind: Application\n"
    "metadata: {name: edge, annotations: {version: e1}}\n"
    "spec:\n  components:\n"
    "    - name: handler\n      type: component\n      properties: {image: 'ghcr.io/x/h:1'}\n"
    "      traits:\n"
    "        - type: spreadscaler\n          properties: {instances: 2}\n"
    "        - type: link\n          properties:\n            namespace: wasmcloud\n"
    "            package: messaging\n            interfaces: [consumer]\n"
    "            target: {name: bus}\n"
    "    - name: bus\n      type: capability\n"
    "      properties: {application: {name: platform, component: bus}}\n",
};
#define N_MODELS (sizeof(manifests) / sizeof(manifests[0]))
static const char *const model_app[N_MODELS] = { "web", "web", "platform", "edge" };
static lt_model *models[N_MODELS];

/* ---- the fake fleet ---------------------------------------------------------------- */

typedef struct {
    char id[48], app[32], version[16], comp[32], comp_id[96], image[64], digest[80];
    char placement[24], msg[32];
    char ann[MAX_ANN][2][48];
    size_t n_ann;
    int state;
    uint64_t mem;
} finst;

typedef struct {
    char id[16];
    bool up;        /* the process runs */
    bool silent;    /* ...but neither beats nor answers (a partition) */
    bool slow;      /* new instances report STARTING once before RUNNING */
    int refuse;     /* != 0: starts answer this code */
    uint32_t slots; /* 0 = no limit */
    int64_t started_s;
    uint64_t seq, starts, newest_epoch;
    finst inst[MAX_INST];
    size_t n_inst;
    char link_id[MAX_LINKS][48], link_src[MAX_LINKS][48];
    size_t n_links;
} fhost;

typedef struct {
    uint64_t no;
    size_t host;
    bool inv;
    int whole; /* != 0: the whole request refused (STALE_EPOCH) */
    uint64_t newest;
    size_t n;
    int codes[MAX_BATCH];
} freply;

static struct {
    lt_sched *s;
    int64_t now;
    uint64_t epoch;
    bool leading, connected, loaded;
    fhost hosts[N_HOSTS];
    freply q[MAX_REPLIES];
    size_t nq;
    size_t op, steps, batches, statuses, events, stale;
    bool trace;
    bool v2; /* a wasmCloud v2 lattice */
} F;

/* Strings the protobuf structs point at (their fields are not const). */
static char s_lattice[] = LATTICE, s_zone[] = "zone", s_a[] = "a", s_b[] = "b", s_kv[] = "kv",
            s_yes[] = "yes", s_no[] = "no", s_reason[] = "fuzz", s_empty[] = "",
            s_refused[] = "refused", s_wasi[] = "wasi", s_keyvalue[] = "keyvalue",
            s_store[] = "store", s_wasmcloud[] = "wasmcloud", s_messaging[] = "messaging",
            s_consumer[] = "consumer";

/* Abort in operation F.op (0: setting up) with what and the scheduler's last error. */
static void die(const char *what)
{
    fprintf(stderr, "fuzz_sched.c: operation %zu: %s: %s\n", F.op, what, lt_error_message());
    abort();
}

static void cpy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src != NULL ? src : "");
}

static fhost *host_of(const char *id)
{
    for (size_t i = 0; id != NULL && i < N_HOSTS; i++)
        if (strcmp(F.hosts[i].id, id) == 0)
            return &F.hosts[i];
    return NULL;
}

static finst *inst_of(fhost *h, const char *id)
{
    for (size_t i = 0; i < h->n_inst; i++)
        if (strcmp(h->inst[i].id, id) == 0)
            return &h->inst[i];
    return NULL;
}

static void inst_drop(fhost *h, finst *in)
{
    size_t i = 0;

    while (i < h->n_links) { /* its links go with it */
        if (strcmp(h->link_src[i], in->id) == 0) {
            h->n_links--;
            memcpy(h->link_id[i], h->link_id[h->n_links], sizeof(h->link_id[i]));
            memcpy(h->link_src[i], h->link_src[h->n_links], sizeof(h->link_src[i]));
        } else {
            i++;
        }
    }
    *in = h->inst[--h->n_inst];
}

static int do_start(fhost *h, const Latticed__Host__V1__InstanceSpec *sp)
{
    finst *in = inst_of(h, sp->instance_id);

    if (h->refuse != 0)
        return h->refuse;
    if (in != NULL && in->state != IS(FAILED) && strcmp(in->digest, sp->spec_digest) == 0)
        return RC(ALREADY_DONE);
    if (in == NULL) {
        if (h->n_inst == MAX_INST || (h->slots != 0 && h->n_inst >= h->slots))
            return RC(NO_CAPACITY);
        in = &h->inst[h->n_inst++];
    }
    memset(in, 0, sizeof(*in));
    cpy(in->id, sizeof(in->id), sp->instance_id);
    cpy(in->app, sizeof(in->app), sp->app_name);
    cpy(in->version, sizeof(in->version), sp->app_version);
    cpy(in->comp, sizeof(in->comp), sp->component_name);
    cpy(in->comp_id, sizeof(in->comp_id), sp->component_id);
    cpy(in->image, sizeof(in->image), sp->image_ref);
    cpy(in->digest, sizeof(in->digest), sp->spec_digest);
    snprintf(in->placement, sizeof(in->placement), "1.%llu", (unsigned long long)++h->starts);
    for (size_t i = 0; i < sp->n_annotations && i < MAX_ANN; i++) {
        cpy(in->ann[i][0], sizeof(in->ann[i][0]), sp->annotations[i]->key);
        cpy(in->ann[i][1], sizeof(in->ann[i][1]), sp->annotations[i]->value);
        in->n_ann = i + 1;
    }
    in->mem = sp->resources != NULL ? sp->resources->memory_bytes : 0;
    in->state = h->slow ? IS(STARTING) : IS(RUNNING);
    return RC(OK);
}

static int do_stop(fhost *h, const Latticed__Host__V1__StopItem *it)
{
    finst *in = inst_of(h, it->instance_id);

    if (in == NULL || (it->placement[0] != '\0' && strcmp(it->placement, in->placement) != 0))
        return RC(ALREADY_DONE);
    inst_drop(h, in);
    return RC(OK);
}

static int do_link(fhost *h, const char *link_id, const char *src)
{
    size_t i;

    if (inst_of(h, src) == NULL)
        return RC(NOT_FOUND);
    for (i = 0; i < h->n_links; i++)
        if (strcmp(h->link_id[i], link_id) == 0 && strcmp(h->link_src[i], src) == 0)
            return RC(ALREADY_DONE);
    if (h->n_links == MAX_LINKS)
        return RC(LIMIT_EXCEEDED);
    cpy(h->link_id[h->n_links], sizeof(h->link_id[0]), link_id);
    cpy(h->link_src[h->n_links], sizeof(h->link_src[0]), src);
    h->n_links++;
    return RC(OK);
}

static int do_unlink(fhost *h, const char *link_id, const char *src)
{
    for (size_t i = 0; i < h->n_links; i++)
        if (strcmp(h->link_id[i], link_id) == 0 &&
            (src[0] == '\0' || strcmp(h->link_src[i], src) == 0)) {
            h->n_links--;
            memcpy(h->link_id[i], h->link_id[h->n_links], sizeof(h->link_id[i]));
            memcpy(h->link_src[i], h->link_src[h->n_links], sizeof(h->link_src[i]));
            return RC(OK);
        }
    return RC(ALREADY_DONE);
}

/* The sink: a batch is applied by its host at once and its answer queued (the sink may not
 * call back into the scheduler). Silent or down hosts never answer. */
static void on_send(void *arg, const lt_sched_batch *b)
{
    fhost *h;
    freply *r;

    (void)arg;
    F.batches++;
    if (b->count > MAX_BATCH)
        die("a batch larger than max_batch");
    if (b->host_id == NULL) { /* the lattice-wide inventory: every host answers */
        if (b->verb != LT_SCHED_INVENTORY)
            die("a batch without host that is no inventory");
        for (size_t k = 0; k < N_HOSTS; k++) {
            lt_sched_batch one = *b;

            one.host_id = F.hosts[k].id;
            on_send(arg, &one);
        }
        return;
    }
    if (F.v2 && (b->verb == LT_SCHED_LINK || b->verb == LT_SCHED_UNLINK))
        die("a link batch on a wasmCloud v2 lattice");
    if ((b->workloads != NULL) != (F.v2 && b->verb == LT_SCHED_START))
        die("workloads where none belong, or missing");
    for (size_t i = 0; b->workloads != NULL && i < b->count; i++)
        if (b->workloads[i] == NULL || b->workloads[i]->wit_world == NULL ||
            b->workloads[i]->wit_world->n_components == 0)
            die("a v2 start without its workload");
    h = host_of(b->host_id);
    if (h == NULL || !h->up || h->silent || F.nq == MAX_REPLIES)
        return;
    r = &F.q[F.nq++];
    memset(r, 0, sizeof(*r));
    r->no = b->request_no;
    r->host = (size_t)(h - F.hosts);
    r->inv = b->verb == LT_SCHED_INVENTORY;
    if (F.epoch < h->newest_epoch) { /* a real host's fence */
        r->whole = RC(STALE_EPOCH);
        r->newest = h->newest_epoch;
        return;
    }
    h->newest_epoch = F.epoch;
    r->newest = F.epoch;
    r->n = b->verb == LT_SCHED_INVENTORY ? 0 : b->count;
    for (size_t i = 0; i < r->n; i++) {
        switch (b->verb) {
        case LT_SCHED_START:
            r->codes[i] = do_start(h, b->starts[i]);
            break;
        case LT_SCHED_STOP:
            r->codes[i] = do_stop(h, b->stops[i]);
            break;
        case LT_SCHED_LINK:
            r->codes[i] = do_link(h, b->links[i]->link_id, b->links[i]->source_instance_id);
            break;
        case LT_SCHED_UNLINK:
            r->codes[i] = do_unlink(h, b->unlinks[i]->link_id, b->unlinks[i]->source_instance_id);
            break;
        case LT_SCHED_INVENTORY:
            break;
        }
    }
}

static void on_status(void *arg, const char *app, lt_sched_state state, const char *json)
{
    (void)arg;
    (void)state;
    if (app == NULL || json == NULL || json[0] != '{')
        die("a status without app or JSON document");
    F.statuses++;
}

static void on_event(void *arg, const char *type, const ProtobufCMessage *msg)
{
    (void)arg;
    if (type == NULL || msg == NULL)
        die("an event without type or message");
    F.events++;
}

static void on_stale(void *arg, const char *host_id, uint64_t claimed)
{
    (void)arg;
    (void)claimed;
    if (host_of(host_id) == NULL)
        die("stale callback for an unknown host");
    F.stale++;
}

/* ---- heartbeats ---------------------------------------------------------------------- */

/* Storage of the one heartbeat being built (each is handed over before the next is built). */
static struct {
    Latticed__Host__V1__Heartbeat hb;
    Latticed__Host__V1__Capacity cap;
    Google__Protobuf__Timestamp started;
    Latticed__Host__V1__Heartbeat__LabelsEntry lab[2], *labp[2];
    Latticed__Host__V1__Instance in[MAX_INST + 1], *inp[MAX_INST + 1];
    Latticed__Host__V1__Instance__AnnotationsEntry an[MAX_INST][MAX_ANN], *anp[MAX_INST][MAX_ANN];
    Latticed__Host__V1__ResourceRequests rr[MAX_INST];
    char *lids[MAX_LINKS];
    Latticed__Host__V1__WitCapability caps[2], *capp[2];
    char *ifs[2];
} B;

static void fill_inst(finst *fi, size_t k)
{
    static const Latticed__Host__V1__Instance init = LATTICED__HOST__V1__INSTANCE__INIT;
    static const Latticed__Host__V1__ResourceRequests rinit =
        LATTICED__HOST__V1__RESOURCE_REQUESTS__INIT;
    static const Latticed__Host__V1__Instance__AnnotationsEntry ainit =
        LATTICED__HOST__V1__INSTANCE__ANNOTATIONS_ENTRY__INIT;
    Latticed__Host__V1__Instance *in = &B.in[k];

    *in = init;
    in->instance_id = fi->id;
    in->state = fi->state;
    in->app_name = fi->app;
    in->app_version = fi->version;
    in->component_name = fi->comp;
    in->component_id = fi->comp_id;
    in->image_ref = fi->image;
    in->spec_digest = fi->digest;
    in->message = fi->msg;
    in->placement = fi->placement;
    for (size_t j = 0; j < fi->n_ann; j++) {
        B.an[k][j] = ainit;
        B.an[k][j].key = fi->ann[j][0];
        B.an[k][j].value = fi->ann[j][1];
        B.anp[k][j] = &B.an[k][j];
    }
    in->annotations = B.anp[k];
    in->n_annotations = fi->n_ann;
    B.rr[k] = rinit;
    B.rr[k].memory_bytes = fi->mem;
    in->resources = &B.rr[k];
    B.inp[k] = in;
}

/* Build h's heartbeat in B; dup lists its first instance twice (a confused host). */
static Latticed__Host__V1__Heartbeat *hb_build(fhost *h, bool dup)
{
    static const Latticed__Host__V1__Heartbeat init = LATTICED__HOST__V1__HEARTBEAT__INIT;
    static const Latticed__Host__V1__Capacity cinit = LATTICED__HOST__V1__CAPACITY__INIT;
    static const Latticed__Host__V1__Heartbeat__LabelsEntry linit =
        LATTICED__HOST__V1__HEARTBEAT__LABELS_ENTRY__INIT;
    static const Google__Protobuf__Timestamp tinit = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    size_t i = (size_t)(h - F.hosts), n = 0, k;

    B.hb = init;
    B.hb.host_id = h->id;
    B.hb.lattice = s_lattice;
    B.lab[0] = B.lab[1] = linit;
    B.lab[0].key = s_zone;
    B.lab[0].value = i % 2 == 0 ? s_a : s_b;
    B.lab[1].key = s_kv;
    B.lab[1].value = i % 3 == 0 ? s_yes : s_no;
    B.labp[0] = &B.lab[0];
    B.labp[1] = &B.lab[1];
    B.hb.labels = B.labp;
    B.hb.n_labels = 2;
    B.cap = cinit;
    B.cap.instance_slots_total = h->slots;
    B.cap.memory_total_bytes = i == 7 ? 200u << 20 : 0;
    B.hb.capacity = &B.cap;
    B.started = tinit;
    B.started.seconds = h->started_s;
    B.hb.started_at = &B.started;
    B.hb.sequence = ++h->seq;
    B.hb.interval_ms = 1000;
    B.hb.newest_epoch = h->newest_epoch;
    for (k = 0; k < h->n_inst; k++)
        fill_inst(&h->inst[k], k);
    if (dup && h->n_inst > 0)
        B.inp[k++] = B.inp[0];
    B.hb.instances = B.inp;
    B.hb.n_instances = k;
    for (k = 0; k < h->n_links; k++) {
        size_t j;

        for (j = 0; j < n; j++)
            if (strcmp(B.lids[j], h->link_id[k]) == 0)
                break;
        if (j == n)
            B.lids[n++] = h->link_id[k];
    }
    B.hb.link_ids = B.lids;
    B.hb.n_link_ids = n;
    if (i % 4 != 3) { /* exports: what the v2 workloads need (native placement ignores them) */
        static const Latticed__Host__V1__WitCapability winit =
            LATTICED__HOST__V1__WIT_CAPABILITY__INIT;

        B.caps[0] = B.caps[1] = winit;
        B.caps[0].namespace_ = s_wasi;
        B.caps[0].package = s_keyvalue;
        B.ifs[0] = s_store;
        B.caps[1].namespace_ = s_wasmcloud;
        B.caps[1].package = s_messaging;
        B.ifs[1] = s_consumer;
        for (k = 0; k < 2; k++) {
            B.caps[k].interfaces = &B.ifs[k];
            B.caps[k].n_interfaces = 1;
            B.capp[k] = &B.caps[k];
        }
        B.hb.capabilities = B.capp;
        B.hb.n_capabilities = 2;
    }
    for (k = 0; k < h->n_inst; k++) /* reported STARTING once: now it runs */
        if (h->inst[k].state == IS(STARTING))
            h->inst[k].state = IS(RUNNING);
    return &B.hb;
}

static void beat(fhost *h, bool dup)
{
    if (h->up && !h->silent)
        LT_IGNORE(lt_sched_on_heartbeat(F.s, h->id, hb_build(h, dup), F.now));
}

/* ---- replies ------------------------------------------------------------------------- */

static void deliver_one(size_t k, bool lost)
{
    freply r = F.q[k];
    fhost *h = &F.hosts[r.host];

    memmove(&F.q[k], &F.q[k + 1], (F.nq - k - 1) * sizeof(F.q[0]));
    F.nq--;
    if (lost) { /* transport failure: the commands may or may not have run */
        if (r.inv)
            lt_sched_on_inventory(F.s, r.no, NULL, LT_ERR_TIMEOUT, F.now);
        else
            lt_sched_on_reply(F.s, r.no, NULL, LT_ERR_TIMEOUT, F.now);
        return;
    }
    if (r.inv) {
        static const Latticed__Host__V1__InventoryReply init =
            LATTICED__HOST__V1__INVENTORY_REPLY__INIT;
        static const Latticed__Host__V1__LinkSpec linit = LATTICED__HOST__V1__LINK_SPEC__INIT;
        Latticed__Host__V1__InventoryReply ir = init;
        Latticed__Host__V1__LinkSpec ls[MAX_LINKS], *lp[MAX_LINKS];

        ir.host_id = h->id;
        ir.code = r.whole != 0 ? r.whole : RC(OK);
        ir.newest_epoch = r.newest;
        if (r.whole == 0) {
            ir.heartbeat = hb_build(h, false);
            for (size_t i = 0; i < h->n_links; i++) {
                ls[i] = linit;
                ls[i].link_id = h->link_id[i];
                ls[i].source_instance_id = h->link_src[i];
                lp[i] = &ls[i];
            }
            ir.links = lp;
            ir.n_links = h->n_links;
        }
        lt_sched_on_inventory(F.s, r.no, &ir, LT_OK, F.now);
    } else {
        static const Latticed__Host__V1__CommandReply init =
            LATTICED__HOST__V1__COMMAND_REPLY__INIT;
        static const Latticed__Host__V1__ItemResult iinit = LATTICED__HOST__V1__ITEM_RESULT__INIT;
        Latticed__Host__V1__CommandReply cr = init;
        Latticed__Host__V1__ItemResult res[MAX_BATCH], *rp[MAX_BATCH];

        for (size_t i = 0; i < r.n; i++) {
            res[i] = iinit;
            res[i].code = r.codes[i];
            res[i].message = r.codes[i] == RC(OK) ? s_empty : s_refused;
            rp[i] = &res[i];
        }
        cr.host_id = h->id;
        cr.code = r.whole != 0 ? r.whole : RC(OK);
        cr.newest_epoch = r.newest;
        cr.results = rp;
        cr.n_results = r.n;
        lt_sched_on_reply(F.s, r.no, &cr, LT_OK, F.now);
    }
}

/* ---- operations ---------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t n;
} input;

static uint8_t next(input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

enum {
    op_step,      /* dt: time passes, every host beats, tick, every reply delivered */
    op_tick,      /* dt: time passes, tick only */
    op_beat,      /* h dup: one heartbeat (dup: an instance listed twice) */
    op_deliver,   /* n lost: answer the n oldest requests (lost: transport failure) */
    op_deploy,    /* m */
    op_undeploy,  /* m deleted */
    op_host_up,   /* h: a new process (host.started, then a heartbeat) */
    op_host_stop, /* h: host.stopping, the process ends */
    op_silent,    /* h: silence toggled (a partition; the host runs on) */
    op_crash,     /* h i mode: an instance FAILED (mode: heartbeat only, event, will restart) */
    op_vanish,    /* h i event: an instance is gone (instance.stopped with event) */
    op_odd,       /* h i kind: foreign instance, unknown app, owner change, copy to a host */
    op_leader,    /* kind: follow, lead with a new epoch, lead again */
    op_host_mode, /* h v: refusals, slow starts, slot limit, a newer epoch seen elsewhere */
    op_misc,      /* kind arg: connection, eviction, unreadable, apps loaded, quarantine, queries */
    op_count
};

static const char *const op_names[op_count] = { "step",   "tick",      "beat",    "deliver",
                                                "deploy", "undeploy",  "host_up", "host_stop",
                                                "silent", "crash",     "vanish",  "odd",
                                                "leader", "host_mode", "misc" };

static void host_up(fhost *h)
{
    static const Latticed__Host__V1__HostStarted init = LATTICED__HOST__V1__HOST_STARTED__INIT;
    Latticed__Host__V1__HostStarted m = init;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

    h->up = true;
    h->silent = false;
    h->n_inst = h->n_links = 0;
    h->seq = 0;
    h->newest_epoch = 0;
    h->started_s = h->started_s >= F.now / 1000 ? h->started_s + 1 : F.now / 1000; /* anew */
    ts.seconds = h->started_s;
    m.host_id = h->id;
    m.lattice = s_lattice;
    m.started_at = &ts;
    LT_IGNORE(lt_sched_on_host_started(F.s, h->id, &m, F.now));
    beat(h, false);
}

static void host_stop(fhost *h)
{
    static const Latticed__Host__V1__HostStopping init = LATTICED__HOST__V1__HOST_STOPPING__INIT;
    Latticed__Host__V1__HostStopping m = init;

    m.host_id = h->id;
    m.lattice = s_lattice;
    m.reason = s_reason;
    h->up = false;
    h->n_inst = h->n_links = 0;
    LT_IGNORE(lt_sched_on_host_stopping(F.s, h->id, &m, F.now));
}

static void crash(fhost *h, finst *in, uint8_t mode)
{
    static const Latticed__Host__V1__InstanceFailed init =
        LATTICED__HOST__V1__INSTANCE_FAILED__INIT;
    Latticed__Host__V1__InstanceFailed m = init;

    in->state = IS(FAILED);
    cpy(in->msg, sizeof(in->msg), "crashed");
    if (mode % 3 == 0 || !h->up || h->silent)
        return; /* the next heartbeat tells */
    fill_inst(in, 0);
    m.host_id = h->id;
    m.lattice = s_lattice;
    m.instance = &B.in[0];
    m.code = RC(START_FAILED);
    m.message = in->msg;
    m.will_restart = mode % 3 == 2;
    LT_IGNORE(lt_sched_on_instance_failed(F.s, h->id, &m, F.now));
}

static void vanish(fhost *h, finst *in, bool event)
{
    static const Latticed__Host__V1__InstanceStopped init =
        LATTICED__HOST__V1__INSTANCE_STOPPED__INIT;
    Latticed__Host__V1__InstanceStopped m = init;

    if (event && h->up && !h->silent) {
        fill_inst(in, 0);
        B.in[0].state = IS(STOPPED);
        m.host_id = h->id;
        m.lattice = s_lattice;
        m.instance = &B.in[0];
        m.reason = s_reason;
        LT_IGNORE(lt_sched_on_instance_stopped(F.s, h->id, &m, F.now));
    }
    inst_drop(h, in);
}

/* Instances the scheduler did not start as it expects: kind 0 foreign (no annotations),
 * 1 managed by an app never deployed, 2 instance i owned by another app (or by none),
 * 3 instance i copied to the next host (one id on two hosts). Told by instance.started, or by
 * instances.started when bit 6 of i is set. */
static void odd(fhost *h, uint8_t i, uint8_t kind)
{
    static const Latticed__Host__V1__InstanceStarted init =
        LATTICED__HOST__V1__INSTANCE_STARTED__INIT;
    static const char *const apps[] = { "web", "platform", "edge", "ghost", "" };
    Latticed__Host__V1__InstanceStarted m = init;
    finst *in = NULL;
    fhost *to = h;

    if ((kind % 4 >= 2 && h->n_inst == 0) || !h->up)
        return;
    if (kind % 4 == 3) {
        to = &F.hosts[(size_t)(h - F.hosts + 1) % N_HOSTS];
        if (!to->up || to->n_inst == MAX_INST || inst_of(to, h->inst[i % h->n_inst].id) != NULL)
            return;
        in = &to->inst[to->n_inst++];
        *in = h->inst[i % h->n_inst];
        snprintf(in->placement, sizeof(in->placement), "1.%llu", (unsigned long long)++to->starts);
    } else if (kind % 4 == 2) {
        in = &h->inst[i % h->n_inst];
        for (size_t j = 0; j < in->n_ann; j++)
            if (strcmp(in->ann[j][0], LT_SCHED_ANN_APP) == 0)
                cpy(in->ann[j][1], sizeof(in->ann[j][1]), apps[(kind / 4) % 5]);
        if (kind / 4 % 7 == 6)
            in->n_ann = 0; /* no longer claims an owner at all */
    } else {
        if (h->n_inst == MAX_INST)
            return;
        in = &h->inst[h->n_inst++];
        memset(in, 0, sizeof(*in));
        snprintf(in->id, sizeof(in->id), "x-%u-%llu", (unsigned)i, (unsigned long long)++h->starts);
        cpy(in->comp, sizeof(in->comp), "stray");
        cpy(in->comp_id, sizeof(in->comp_id), "stray");
        cpy(in->image, sizeof(in->image), "ghcr.io/x/stray:1");
        snprintf(in->placement, sizeof(in->placement), "1.%llu", (unsigned long long)h->starts);
        in->state = IS(RUNNING);
        if (kind % 4 == 1) {
            static const char *const kv[][2] = { { LT_SCHED_ANN_MANAGED_BY, LT_SCHED_MANAGER },
                                                 { LT_SCHED_ANN_LATTICE, LATTICE },
                                                 { LT_SCHED_ANN_APP, "ghost" },
                                                 { LT_SCHED_ANN_VERSION, "g1" } };

            for (size_t j = 0; j < 4; j++) {
                cpy(in->ann[j][0], sizeof(in->ann[j][0]), kv[j][0]);
                cpy(in->ann[j][1], sizeof(in->ann[j][1]), kv[j][1]);
            }
            in->n_ann = 4;
            cpy(in->app, sizeof(in->app), "ghost");
        }
    }
    if (!to->up || to->silent)
        return;
    fill_inst(in, 0);
    m.host_id = to->id;
    m.lattice = s_lattice;
    m.instance = &B.in[0];
    if (i & 0x40) { /* as one start command's instances.started */
        Latticed__Host__V1__InstancesStarted b = LATTICED__HOST__V1__INSTANCES_STARTED__INIT;
        Latticed__Host__V1__Instance *one[1] = { &B.in[0] };

        b.host_id = to->id;
        b.lattice = s_lattice;
        b.n_instances = 1;
        b.instances = one;
        LT_IGNORE(lt_sched_on_instances_started(F.s, to->id, &b, F.now));
        return;
    }
    LT_IGNORE(lt_sched_on_instance_started(F.s, to->id, &m, F.now));
}

static void misc(uint8_t kind, input *in)
{
    uint8_t arg = next(in);
    fhost *h = &F.hosts[arg % N_HOSTS];
    lt_sched_app_status st;
    lt_buf out;

    switch (kind % 8) {
    case 0:
        F.connected = !F.connected;
        lt_sched_set_connected(F.s, F.connected, F.now);
        break;
    case 1:
        (void)lt_sched_evict_silent(F.s, F.now);
        break;
    case 2:
        LT_IGNORE(lt_sched_unreadable(F.s, model_app[arg % N_MODELS], "v9", "store down", F.now));
        break;
    case 3:
        F.loaded = !F.loaded;
        lt_sched_set_apps_loaded(F.s, F.loaded);
        break;
    case 4:
        lt_sched_quarantine(F.s, h->id, h->newest_epoch, F.now);
        break;
    case 5:
        lt_sched_republish(F.s);
        if (arg & 0x80) /* cordon / drain / uncordon (issue 12) */
            LT_IGNORE(
                lt_sched_set_host_mode(F.s, h->id, (lt_sched_host_mode)(arg / 16 % 3), F.now));
        break;
    case 6:
        lt_buf_init(&out, arg % 2 == 0 ? 256 : 1u << 20);
        LT_IGNORE(lt_sched_hosts_json(F.s, F.now, &out));
        lt_buf_cleanup(&out);
        break;
    default:
        if (lt_sched_app_status_get(F.s, model_app[arg % N_MODELS], &st) == LT_OK &&
            st.component_count > 0 && st.components == NULL)
            die("status components missing");
        break;
    }
}

static void step(int64_t dt)
{
    F.now += dt;
    for (size_t i = 0; i < N_HOSTS; i++)
        beat(&F.hosts[i], false);
    (void)lt_sched_tick(F.s, F.now);
    while (F.nq > 0)
        deliver_one(0, false);
}

static void run_op(input *in)
{
    uint8_t op = next(in) % op_count, a = next(in);
    fhost *h = &F.hosts[a % N_HOSTS];
    uint8_t b;

    if (F.trace)
        fprintf(stderr, "fuzz_sched: t=%lld %s %u\n", (long long)F.now, op_names[op], a);
    switch (op) {
    case op_step:
        if (++F.steps > MAX_STEPS)
            in->n = 0; /* the input ends here */
        else
            step(((int64_t)a + 1) * 50);
        break;
    case op_tick:
        F.now += (int64_t)a * 10;
        (void)lt_sched_tick(F.s, F.now);
        break;
    case op_beat:
        beat(h, next(in) % 4 == 1);
        break;
    case op_deliver:
        b = next(in);
        for (size_t i = 0; i <= a % 8 && F.nq > 0; i++)
            deliver_one(0, b % 4 == 1);
        break;
    case op_deploy:
        LT_IGNORE(lt_sched_deploy(F.s, models[a % N_MODELS], F.now));
        break;
    case op_undeploy:
        LT_IGNORE(lt_sched_undeploy(F.s, model_app[a % N_MODELS], a / N_MODELS % 2 == 1, F.now));
        break;
    case op_host_up:
        host_up(h);
        break;
    case op_host_stop:
        if (h->up)
            host_stop(h);
        break;
    case op_silent:
        h->silent = !h->silent;
        if (h->silent && F.v2) /* its liveness probe goes unanswered too */
            lt_sched_host_gone(F.s, h->id, F.now);
        break;
    case op_crash:
        b = next(in);
        if (h->n_inst > 0)
            crash(h, &h->inst[b % h->n_inst], next(in));
        break;
    case op_vanish:
        b = next(in);
        if (h->n_inst > 0)
            vanish(h, &h->inst[b % h->n_inst], next(in) % 2 == 1);
        break;
    case op_odd:
        b = next(in);
        odd(h, b, next(in));
        break;
    case op_leader:
        if (a % 3 == 0) {
            F.leading = false;
        } else {
            F.leading = true;
            F.epoch += a % 3 == 1;
        }
        lt_sched_set_leader(F.s, F.leading, F.leading ? F.epoch : 0, F.now);
        break;
    case op_host_mode:
        b = next(in);
        switch (b % 6) {
        case 0:
            h->refuse = 0;
            break;
        case 1:
            h->refuse = RC(NO_CAPACITY);
            break;
        case 2:
            h->refuse = RC(START_FAILED);
            break;
        case 3:
            h->slow = !h->slow;
            break;
        case 4:
            h->slots = b / 6 % 4; /* 0 = no limit */
            break;
        default:
            h->newest_epoch = F.epoch + 1 + b / 6 % 2; /* another leader reached it */
            break;
        }
        break;
    default:
        misc(a, in);
        break;
    }
}

/* ---- the target ---------------------------------------------------------------------- */

static void init_once(void)
{
    static bool done;

    if (done)
        return;
    done = true;
    F.trace = getenv("FUZZ_SCHED_TRACE") != NULL;
    lt_log_configure(F.trace ? LT_LOG_DEBUG : LT_LOG_OFF, false);
    for (size_t i = 0; i < N_MODELS; i++) {
        lt_model_report *rep = NULL;

        if (lt_model_parse(manifests[i], strlen(manifests[i]), NULL, &models[i], &rep) != LT_OK) {
            fprintf(stderr, "fuzz_sched.c: manifest %zu: %s\n", i,
                    lt_model_report_first_error(rep));
            abort();
        }
        lt_model_report_free(rep);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lt_sched_config cfg = { 0 };
    lt_sched_sink sink = {
        .arg = NULL, .send = on_send, .status = on_status, .event = on_event, .stale = on_stale
    };
    input in = { data, size };
    uint8_t flags = next(&in);
    size_t ops;

    init_once();
    memset(&F.hosts, 0, sizeof(F.hosts));
    F.nq = F.op = F.steps = F.batches = F.statuses = F.events = F.stale = 0;
    F.now = 1000000;
    F.epoch = 1;
    F.leading = F.connected = F.loaded = true;
    for (size_t i = 0; i < N_HOSTS; i++)
        snprintf(F.hosts[i].id, sizeof(F.hosts[i].id), "host%zu", i);
    cfg.lattice = s_lattice;
    cfg.default_interval_ms = 1000;
    cfg.warmup_ms = flags & 1 ? 0 : -1;
    cfg.inventory_ms = flags & 2 ? 0 : -1;
    cfg.debounce_ms = 1;
    cfg.max_batch = flags & 4 ? 2 : MAX_BATCH;
    cfg.partition_min_hosts = flags & 8 ? 0 : 2;
    F.v2 = cfg.wasmcloud_v2 = ((flags >> 4) / 5) % 2 == 1;
    if (lt_sched_new(&F.s, &cfg, &sink, F.now) != LT_OK)
        die("lt_sched_new");
    lt_sched_set_apps_loaded(F.s, true);
    lt_sched_set_leader(F.s, true, F.epoch, F.now);
    for (size_t i = 0; i < N_HOSTS / 2 + (size_t)(flags >> 4) % 5; i++) /* hosts at start */
        host_up(&F.hosts[i]);
    if (lt__sched_check_consistent(F.s) != LT_OK)
        die("inventory inconsistent");
    for (ops = 1; in.n > 0 && ops <= MAX_OPS; ops++) {
        F.op = ops;
        run_op(&in);
        if (lt__sched_check_consistent(F.s) != LT_OK)
            die("inventory inconsistent");
    }
    if (F.trace) {
        fprintf(stderr,
                "fuzz_sched: %zu ops, %zu batches, %zu statuses, %zu events, %zu stale; instances:",
                ops - 1, F.batches, F.statuses, F.events, F.stale);
        for (size_t i = 0; i < N_HOSTS; i++)
            fprintf(stderr, " %zu", F.hosts[i].n_inst);
        fprintf(stderr, "\n");
    }
    lt_sched_free(F.s);
    F.s = NULL;
    return 0;
}
