/*
 * command.c - the native host protocol's command side, independent of NATS and
 * of how instances run: decode a start/stop/link/unlink/inventory request
 * (protobuf, its strings checked for UTF-8, or proto3 JSON), refuse it whole
 * when it is for another lattice, too big, malformed (valid.c; checked before
 * the fence so it cannot raise the epoch), fenced by a newer epoch or arrives
 * during shutdown, else apply each item through the runtime's lt__host_ops and
 * encode one result per item (lt__host_request also answers unknown verbs).
 */
#include "host_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_pbjson.h"
#include "lt_utf8.h"

typedef Latticed__Host__V1__CommandReply hpb_reply;

bool lt__host_verb_parse(const char *s, size_t len, lt__host_verb *out)
{
    static const char *const names[] = { "start", "stop", "link", "unlink", "inventory" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            *out = (lt__host_verb)i;
            return true;
        }
    }
    return false;
}

/* ---- UTF-8 (proto3 strings must be valid UTF-8) ------------------------------------ */

static bool utf8_ok(const char *s)
{
    return lt_utf8_valid(s, strlen(s));
}

/* Replace every byte of s that is not part of valid UTF-8 with '?' (texts that quote
 * request fields, truncated by snprintf, or written by a runtime). */
static void utf8_scrub(char *s)
{
    lt_utf8_scrub(s, strlen(s));
}

/* Every string field of m (nested messages and map entries included) is valid UTF-8:
 * protobuf-c does not check, and the host copies request strings into what it sends. */
static bool pb_utf8_ok(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *at = (const char *)m + f->offset;
        void *const *vals = (void *const *)(const void *)at;
        size_t n = 1;

        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(const void *)((const char *)m + f->quantifier_offset) != f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)(const void *)((const char *)m + f->quantifier_offset);
            vals = *(void *const *const *)(const void *)at;
        }
        for (size_t k = 0; k < n; k++) {
            if (vals[k] == NULL)
                continue;
            if (f->type == PROTOBUF_C_TYPE_STRING ? !utf8_ok(vals[k]) : !pb_utf8_ok(vals[k]))
                return false;
        }
    }
    return true;
}

/* ---- events ------------------------------------------------------------------- */

/* One instances.started per start command (host.proto InstancesStarted): while apply() runs a
 * start, h->started collects the instances that reach RUNNING. */

/* Publish what the batch holds, if anything, and empty it. */
static void started_flush(lt__host_state *h, const lt__host_ops *ops)
{
    if (h->n_started > 0)
        ops->emit(ops->ctx, h, "instances.started", h->started->ptr, h->started->len);
    lt_buf_truncate(h->started, h->started_head);
    h->n_started = 0;
}

/* Add inst to the batch (published first when inst would take it past its size). false: not
 * added (out of memory, or too big for any batch): the caller sends it on its own. */
static bool started_add(lt__host_state *h, const lt__host_ops *ops, lt__host_inst *inst)
{
    const uint8_t *data;
    size_t len, before;

    if (lt__host_inst_encoded(inst, &data, &len) != LT_OK ||
        h->started_head + len + 16 > LT_HOST_STARTED_BATCH_MAX)
        return false;
    if (h->started->len + len + 16 > LT_HOST_STARTED_BATCH_MAX)
        started_flush(h, ops);
    before = h->started->len;
    if (lt__host_put_field(h->started, 3, data, len) != LT_OK) {
        lt_buf_truncate(h->started, before);
        return false;
    }
    h->n_started++;
    return true;
}

/* Collect the instance.started events of the command about to be applied into b. */
static void started_begin(lt__host_state *h, const lt__host_ops *ops, lt_buf *b)
{
    if (ops->emit == NULL || lt__host_put_str(b, 1, h->id) != LT_OK ||
        lt__host_put_str(b, 2, h->lattice) != LT_OK)
        return; /* one event per instance */
    h->started = b;
    h->started_head = b->len;
    h->n_started = 0;
}

static void started_end(lt__host_state *h, const lt__host_ops *ops)
{
    if (h->started == NULL)
        return;
    started_flush(h, ops);
    h->started = NULL;
}

/*
 * InstanceStarted/Stopped/Failed share fields 1-3 (host_id, lattice,
 * instance); the instance goes in as its cached packed bytes, the rest is
 * appended field by field (as protoc would order and encode it).
 */
void lt__host_emit_instance(lt__host_state *h, const lt__host_ops *ops, const char *type,
                            lt__host_inst *inst, int code, const char *text, bool will_restart)
{
    char mem[2048];
    lt_buf b;
    const uint8_t *data;
    size_t len;
    lt_status st;

    if (ops->emit == NULL)
        return;
    if (h->started != NULL) {
        if (strcmp(type, "instance.started") == 0 && started_add(h, ops, inst))
            return;
        started_flush(h, ops); /* what came before goes first: events stay in order */
    }
    lt_buf_init_on(&b, mem, sizeof(mem), LT_MAX_MESSAGE);
    st = lt__host_put_str(&b, 1, h->id);
    if (st == LT_OK)
        st = lt__host_put_str(&b, 2, h->lattice);
    if (st == LT_OK)
        st = lt__host_inst_encoded(inst, &data, &len);
    if (st == LT_OK)
        st = lt__host_put_field(&b, 3, data, len);
    if (st == LT_OK && strcmp(type, "instance.stopped") == 0)
        st = lt__host_put_str(&b, 4, text);
    if (st == LT_OK && strcmp(type, "instance.failed") == 0) {
        st = lt__host_put_uint(&b, 4, (uint64_t)code);
        if (st == LT_OK)
            st = lt__host_put_str(&b, 5, text);
        if (st == LT_OK)
            st = lt__host_put_uint(&b, 6, will_restart ? 1 : 0);
    }
    if (st == LT_OK) /* else an event lost to memory; the next heartbeat tells */
        ops->emit(ops->ctx, h, type, b.ptr, b.len);
    lt_buf_cleanup(&b);
}

void lt__host_stopped(lt__host_state *h, const lt__host_ops *ops, lt__host_inst *inst)
{
    lt__host_set_state(h, inst, HIS(STOPPED), NULL);
    lt__host_emit_instance(h, ops, "instance.stopped", inst, HRC(OK),
                           inst->stop_reason != NULL ? inst->stop_reason : "stop requested", false);
    lt__host_remove(h, inst, true);
}

/* ---- one result per item ---------------------------------------------------- */

typedef struct {
    hpb_result *res;
    hpb_result **ptrs;
    size_t n;
} results;

static lt_status results_init(results *r, size_t n)
{
    memset(r, 0, sizeof(*r));
    if (n == 0)
        return LT_OK;
    r->res = lt_calloc(n, sizeof(*r->res));
    r->ptrs = lt_calloc(n, sizeof(*r->ptrs));
    if (r->res == NULL || r->ptrs == NULL)
        return LT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        latticed__host__v1__item_result__init(&r->res[i]);
        r->ptrs[i] = &r->res[i];
    }
    r->n = n;
    return LT_OK;
}

static void results_cleanup(results *r)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->res[i].message != protobuf_c_empty_string)
            lt_free(r->res[i].message);
    }
    lt_free(r->res);
    lt_free(r->ptrs);
}

/* Set item i's outcome; msg copied (a lost copy only loses the detail). id is borrowed
 * until the reply is encoded: pass the request's string, never an instance's (a later
 * item of the batch may replace and free that instance). */
static void set_result(results *r, size_t i, const char *id, int code, int state, const char *msg)
{
    hpb_result *x = &r->res[i];
    char *m = msg != NULL && msg[0] != '\0' ? lt_strdup(msg) : NULL;

    if (m != NULL)
        utf8_scrub(m);
    x->id = (char *)(id != NULL ? id : "");
    x->code = (Latticed__Host__V1__ResultCode)code;
    x->state = (Latticed__Host__V1__InstanceState)state;
    if (x->message != protobuf_c_empty_string)
        lt_free(x->message);
    x->message = m != NULL ? m : (char *)protobuf_c_empty_string;
}

/* ---- items ------------------------------------------------------------------------ */

static void do_start(lt__host_state *h, const lt__host_ops *ops, const hpb_spec *spec,
                     uint64_t epoch, results *r, size_t i)
{
    char msg[512];
    lt__host_inst *inst, *old;
    uint64_t mem_free;
    uint32_t cpu_free;
    int code;
    bool replaced = false;

    old = lt_map_get(&h->insts, spec->instance_id);
    if (old != NULL) {
        if (strcmp(old->spec_digest, spec->spec_digest) == 0 &&
            (old->state == HIS(STARTING) || old->state == HIS(RUNNING))) {
            set_result(r, i, spec->instance_id, HRC(ALREADY_DONE), old->state, NULL);
            return;
        }
        /* Another digest, a failed or a stopping instance: start afresh. */
        ops->discard(ops->ctx, h, old);
        lt__host_remove(h, old, false);
        replaced = true;
    }
    code = HRC(NO_CAPACITY);
    mem_free = h->mem_total > h->mem_reserved ? h->mem_total - h->mem_reserved : 0;
    cpu_free = h->cpu_total > h->cpu_reserved ? h->cpu_total - h->cpu_reserved : 0;
    if (h->slots_total != 0 && lt__host_slots_used(h) >= h->slots_total) {
        snprintf(msg, sizeof(msg), "all %u instance slots are in use", h->slots_total);
        goto refused;
    }
    if (spec->resources != NULL &&
        (spec->resources->memory_bytes > mem_free ||
         (h->cpu_total != 0 && spec->resources->cpu_millis > cpu_free))) {
        snprintf(msg, sizeof(msg),
                 "not enough capacity: %llu bytes and %u millicores free, %llu and %u asked",
                 (unsigned long long)mem_free, cpu_free,
                 (unsigned long long)spec->resources->memory_bytes, spec->resources->cpu_millis);
        goto refused;
    }
    code = HRC(INTERNAL);
    snprintf(msg, sizeof(msg), "out of memory");
    if (lt__host_inst_new(spec, &inst) != LT_OK)
        goto refused;
    /* A new incarnation: what a stop must name to stop this one and not a later one. */
    snprintf(inst->placement, sizeof(inst->placement), "%llu.%llu", (unsigned long long)epoch,
             (unsigned long long)++h->starts);
    if (lt_map_add(&h->insts, inst->id, inst) != LT_OK) {
        lt__host_inst_free(inst);
        goto refused;
    }
    inst->state = HIS(UNSPECIFIED);
    lt__host_set_state(h, inst, HIS(STARTING), NULL);
    msg[0] = '\0';
    code = ops->start(ops->ctx, h, inst, msg, sizeof(msg));
    if (code == HRC(OK)) {
        if (inst->state == HIS(RUNNING))
            lt__host_emit_instance(h, ops, "instance.started", inst, code, NULL, false);
        set_result(r, i, spec->instance_id, code, inst->state, NULL);
        return;
    }
    utf8_scrub(msg); /* runtimes quote the image_ref, maybe cut short */
    lt__host_set_state(h, inst, HIS(FAILED), msg);
    lt__host_emit_instance(h, ops, "instance.failed", inst, code, msg, false);
    set_result(r, i, spec->instance_id, code, HIS(FAILED), msg);
    return;
refused:
    /* Not listed: a replaced instance's links go too, as with a stop (none may dangle). */
    if (replaced)
        lt__host_drop_links(h, spec->instance_id);
    set_result(r, i, spec->instance_id, code, 0, msg);
}

static void do_stop(lt__host_state *h, const lt__host_ops *ops,
                    const Latticed__Host__V1__StopItem *it, uint32_t grace_ms, results *r, size_t i)
{
    lt__host_inst *inst;
    char *reason;

    inst = lt_map_get(&h->insts, it->instance_id);
    if (inst == NULL) {
        set_result(r, i, it->instance_id, HRC(ALREADY_DONE), HIS(STOPPED),
                   "no such instance on this host");
        return;
    }
    if (it->placement[0] != '\0' && strcmp(it->placement, inst->placement) != 0) {
        /* Re-created since the sender looked: the incarnation it meant is gone. */
        char msg[200];

        snprintf(msg, sizeof(msg),
                 "placement %.64s is gone; the instance now runs as placement %s: left alone",
                 it->placement, inst->placement);
        set_result(r, i, it->instance_id, HRC(ALREADY_DONE), inst->state, msg);
        return;
    }
    if (inst->state == HIS(STOPPING)) {
        set_result(r, i, it->instance_id, HRC(ALREADY_DONE), HIS(STOPPING), NULL);
        return;
    }
    reason = lt_strdup(it->reason[0] != '\0' ? it->reason : "stop requested");
    lt_free(inst->stop_reason);
    inst->stop_reason = reason;
    if (ops->stop(ops->ctx, h, inst, grace_ms)) {
        set_result(r, i, it->instance_id, HRC(OK), HIS(STOPPED), NULL);
        lt__host_stopped(h, ops, inst);
        return;
    }
    lt__host_set_state(h, inst, HIS(STOPPING), NULL);
    set_result(r, i, it->instance_id, HRC(OK), HIS(STOPPING), NULL);
}

static void do_link(lt__host_state *h, const lt__host_ops *ops, const hpb_link *spec, results *r,
                    size_t i)
{
    lt__host_inst *src, *old_src = NULL;
    lt__host_link *l = NULL, *old;
    char msg[300];

    src = lt_map_get(&h->insts, spec->source_instance_id);
    if (src == NULL) {
        snprintf(msg, sizeof(msg), "source instance '%.200s' is not on this host",
                 spec->source_instance_id);
        set_result(r, i, spec->link_id, HRC(NOT_FOUND), 0, msg);
        return;
    }
    if (lt__host_link_new(spec, &l) != LT_OK) {
        set_result(r, i, spec->link_id, HRC(INTERNAL), 0, "out of memory");
        return;
    }
    old = lt_map_get(&h->links, spec->link_id);
    if (old != NULL && old->enc_len == l->enc_len && memcmp(old->enc, l->enc, l->enc_len) == 0) {
        lt__host_link_free(l);
        set_result(r, i, spec->link_id, HRC(ALREADY_DONE), 0, NULL);
        return;
    }
    if (old != NULL) {
        if (strcmp(old->source, l->source) != 0)
            old_src = lt_map_get(&h->insts, old->source);
        lt_map_del(&h->links, old->id);
        lt__host_link_free(old);
    }
    if (lt_map_add(&h->links, l->id, l) != LT_OK) {
        lt__host_link_free(l);
        set_result(r, i, spec->link_id, HRC(INTERNAL), 0, "out of memory");
        return;
    }
    if (ops->links_changed != NULL) {
        ops->links_changed(ops->ctx, h, src);
        if (old_src != NULL)
            ops->links_changed(ops->ctx, h, old_src);
    }
    set_result(r, i, spec->link_id, HRC(OK), 0, NULL);
}

static void do_unlink(lt__host_state *h, const lt__host_ops *ops,
                      const Latticed__Host__V1__UnlinkItem *it, results *r, size_t i)
{
    lt__host_link *l = lt_map_get(&h->links, it->link_id);
    lt__host_inst *src;

    if (l == NULL) {
        set_result(r, i, it->link_id, HRC(ALREADY_DONE), 0, "no such link on this host");
        return;
    }
    if (it->source_instance_id[0] != '\0' && strcmp(it->source_instance_id, l->source) != 0) {
        set_result(r, i, it->link_id, HRC(ALREADY_DONE), 0,
                   "the link is installed for another source instance; left alone");
        return;
    }
    lt_map_del(&h->links, l->id);
    src = lt_map_get(&h->insts, l->source);
    lt__host_link_free(l);
    if (src != NULL && ops->links_changed != NULL)
        ops->links_changed(ops->ctx, h, src);
    set_result(r, i, it->link_id, HRC(OK), 0, NULL);
}

/* ---- requests ---------------------------------------------------------------------- */

static const ProtobufCMessageDescriptor *const req_desc[] = {
    [LT_HOST_START] = &latticed__host__v1__start_request__descriptor,
    [LT_HOST_STOP] = &latticed__host__v1__stop_request__descriptor,
    [LT_HOST_LINK] = &latticed__host__v1__link_request__descriptor,
    [LT_HOST_UNLINK] = &latticed__host__v1__unlink_request__descriptor,
    [LT_HOST_INVENTORY] = &latticed__host__v1__inventory_request__descriptor,
};

/* The fields every request has. */
typedef struct {
    uint64_t epoch;
    const char *lattice, *request_id;
    size_t nitems;
} req_head;

static void head_of(lt__host_verb verb, const ProtobufCMessage *m, req_head *hd)
{
    switch (verb) {
    case LT_HOST_START: {
        const Latticed__Host__V1__StartRequest *q = (const void *)m;
        *hd = (req_head){ q->epoch, q->lattice, q->request_id, q->n_instances };
        break;
    }
    case LT_HOST_STOP: {
        const Latticed__Host__V1__StopRequest *q = (const void *)m;
        *hd = (req_head){ q->epoch, q->lattice, q->request_id, q->n_items };
        break;
    }
    case LT_HOST_LINK: {
        const Latticed__Host__V1__LinkRequest *q = (const void *)m;
        *hd = (req_head){ q->epoch, q->lattice, q->request_id, q->n_links };
        break;
    }
    case LT_HOST_UNLINK: {
        const Latticed__Host__V1__UnlinkRequest *q = (const void *)m;
        *hd = (req_head){ q->epoch, q->lattice, q->request_id, q->n_items };
        break;
    }
    case LT_HOST_INVENTORY: {
        const Latticed__Host__V1__InventoryRequest *q = (const void *)m;
        *hd = (req_head){ q->epoch, q->lattice, q->request_id, q->n_instance_ids };
        break;
    }
    }
}

/* Id of item i, for results (borrowed from the request). */
static const char *item_id(lt__host_verb verb, const ProtobufCMessage *m, size_t i)
{
    switch (verb) {
    case LT_HOST_START:
        return ((const Latticed__Host__V1__StartRequest *)(const void *)m)
            ->instances[i]
            ->instance_id;
    case LT_HOST_STOP:
        return ((const Latticed__Host__V1__StopRequest *)(const void *)m)->items[i]->instance_id;
    case LT_HOST_LINK:
        return ((const Latticed__Host__V1__LinkRequest *)(const void *)m)->links[i]->link_id;
    case LT_HOST_UNLINK:
        return ((const Latticed__Host__V1__UnlinkRequest *)(const void *)m)->items[i]->link_id;
    case LT_HOST_INVENTORY:
        return ((const Latticed__Host__V1__InventoryRequest *)(const void *)m)->instance_ids[i];
    }
    return "";
}

/*
 * Whole-request checks; ResultCode OK or the refusal, with msg. Everything
 * that makes a request malformed is checked before the fence, so only a
 * well-formed request for this lattice can raise the epoch. A malformed item
 * gets its own reason in r (the others get msg from the caller).
 */
static int admit(lt__host_state *h, lt__host_verb verb, const ProtobufCMessage *m,
                 const req_head *hd, results *r, char *msg, size_t n)
{
    char why[256];
    size_t bad = 0, first = 0;
    int code;

    if (strcmp(hd->lattice, h->lattice) != 0) {
        snprintf(msg, n, "this host is in lattice '%s', not '%.128s'", h->lattice, hd->lattice);
        return HRC(WRONG_LATTICE);
    }
    if (hd->nitems > LT_HOST_MAX_ITEMS) {
        snprintf(msg, n, "%zu items in one request; the limit is %u", hd->nitems,
                 LT_HOST_MAX_ITEMS);
        return HRC(LIMIT_EXCEEDED);
    }
    if (hd->epoch == 0) {
        snprintf(msg, n, "epoch 0 is never valid");
        return HRC(INVALID);
    }
    if (!lt__host_head_ok(verb, hd->request_id, hd->nitems, why, sizeof(why))) {
        snprintf(msg, n, "malformed request: %s", why);
        return HRC(INVALID);
    }
    for (size_t i = 0; i < r->n; i++) {
        if (lt__host_item_ok(verb, m, i, why, sizeof(why)))
            continue;
        if (bad++ == 0)
            first = i;
        set_result(r, i, item_id(verb, m, i), HRC(INVALID), 0, why);
    }
    if (bad > 0) {
        snprintf(msg, n,
                 "malformed request: %zu of %zu items are malformed (item %zu: %s); "
                 "nothing was done",
                 bad, r->n, first, r->res[first].message);
        return HRC(INVALID);
    }
    code = lt__host_fence(h, hd->epoch);
    if (code == HRC(STALE_EPOCH)) {
        snprintf(msg, n, "epoch %llu is older than epoch %llu seen before",
                 (unsigned long long)hd->epoch, (unsigned long long)h->newest_epoch);
        return code;
    }
    if (h->shutting_down && (verb == LT_HOST_START || verb == LT_HOST_LINK)) {
        snprintf(msg, n, "the host is shutting down");
        return HRC(SHUTTING_DOWN);
    }
    return HRC(OK);
}

static void apply(lt__host_state *h, const lt__host_ops *ops, lt__host_verb verb,
                  const ProtobufCMessage *m, results *r)
{
    char mem[4096];
    lt_buf started;

    lt_buf_init_on(&started, mem, sizeof(mem), LT_HOST_STARTED_BATCH_MAX);
    if (verb == LT_HOST_START)
        started_begin(h, ops, &started);
    for (size_t i = 0; i < r->n; i++) {
        switch (verb) {
        case LT_HOST_START: {
            const Latticed__Host__V1__StartRequest *q = (const void *)m;

            do_start(h, ops, q->instances[i], q->epoch, r, i);
            break;
        }
        case LT_HOST_STOP: {
            const Latticed__Host__V1__StopRequest *q = (const void *)m;

            do_stop(h, ops, q->items[i], q->grace_ms, r, i);
            break;
        }
        case LT_HOST_LINK:
            do_link(h, ops, ((const Latticed__Host__V1__LinkRequest *)(const void *)m)->links[i], r,
                    i);
            break;
        case LT_HOST_UNLINK:
            do_unlink(h, ops,
                      ((const Latticed__Host__V1__UnlinkRequest *)(const void *)m)->items[i], r, i);
            break;
        case LT_HOST_INVENTORY: {
            const char *id = item_id(verb, m, i);
            lt__host_inst *inst = lt_map_get(&h->insts, id);

            if (inst != NULL)
                set_result(r, i, id, HRC(OK), inst->state, NULL);
            else
                set_result(r, i, id, HRC(NOT_FOUND), 0, "no such instance on this host");
            break;
        }
        }
    }
    started_end(h, ops);
    lt_buf_cleanup(&started);
}

/* Append reply (protobuf bytes in pb) to out, converted to JSON when json. */
static lt_status emit_reply(const ProtobufCMessageDescriptor *desc, const lt_buf *pb, bool json,
                            lt_buf *out)
{
    ProtobufCMessage *m;
    char *text = NULL;
    size_t len = 0;
    lt_status st;

    if (!json)
        return lt_buf_append(out, pb->ptr, pb->len);
    m = protobuf_c_message_unpack(desc, &lt__host_pb_alloc, pb->len, (const uint8_t *)pb->ptr);
    if (m == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "cannot re-read the reply");
    st = lt_pbjson_encode(m, 0, &text, &len);
    protobuf_c_message_free_unpacked(m, &lt__host_pb_alloc);
    if (st == LT_OK)
        st = lt_buf_append(out, text, len);
    lt_free(text);
    return st;
}

static lt_status encode_reply(lt__host_state *h, lt__host_verb verb, const req_head *hd, int code,
                              const char *msg, results *r, bool json, lt_buf *out)
{
    lt_buf pb;
    lt_status st;

    lt_buf_init(&pb, out->max);
    if (verb != LT_HOST_INVENTORY) {
        hpb_reply rep = LATTICED__HOST__V1__COMMAND_REPLY__INIT;

        rep.host_id = h->id;
        rep.request_id = (char *)hd->request_id;
        rep.code = (Latticed__Host__V1__ResultCode)code;
        rep.message = (char *)msg;
        rep.newest_epoch = h->newest_epoch;
        rep.n_results = r->n;
        rep.results = r->ptrs;
        st = lt__host_pack(&rep.base, &pb);
    } else {
        Latticed__Host__V1__InventoryReply rep = LATTICED__HOST__V1__INVENTORY_REPLY__INIT;
        lt_buf hb;
        lt__host_link *l;
        size_t it = 0;
        char **ids = NULL;

        rep.host_id = h->id;
        rep.request_id = (char *)hd->request_id;
        rep.code = (Latticed__Host__V1__ResultCode)code;
        rep.message = (char *)msg;
        rep.newest_epoch = h->newest_epoch;
        rep.n_results = r->n;
        rep.results = r->ptrs;
        st = lt__host_pack(&rep.base, &pb);
        if (code == HRC(OK)) {
            /* Heartbeat (field 7) and links (field 8) appended from their encodings. */
            lt_buf_init(&hb, out->max);
            if (r->n > 0 && (ids = lt_malloc(r->n * sizeof(*ids))) == NULL)
                st = LT_ERR_NOMEM;
            for (size_t i = 0; st == LT_OK && i < r->n; i++)
                ids[i] = r->res[i].id;
            if (st == LT_OK)
                st = lt__host_heartbeat_encode(h, ids, r->n, &hb);
            lt_free(ids); /* none asked for: ids is NULL, the heartbeat lists all */
            if (st == LT_OK)
                st = lt__host_put_field(&pb, 7, hb.ptr, hb.len);
            lt_buf_cleanup(&hb);
            while (st == LT_OK && (l = lt_map_next(&h->links, &it)) != NULL)
                st = lt__host_put_field(&pb, 8, l->enc, l->enc_len);
        }
    }
    if (st == LT_OK)
        st = emit_reply(verb == LT_HOST_INVENTORY ? &latticed__host__v1__inventory_reply__descriptor
                                                  : &latticed__host__v1__command_reply__descriptor,
                        &pb, json, out);
    lt_buf_cleanup(&pb);
    return st;
}

lt_status lt__host_handle(lt__host_state *h, const lt__host_ops *ops, lt__host_verb verb,
                          const void *body, size_t len, bool json, lt_buf *out)
{
    const ProtobufCMessageDescriptor *desc = req_desc[verb];
    ProtobufCMessage *m = NULL;
    req_head hd = { 0, "", "", 0 };
    results r = { 0 };
    char msg[512] = "";
    int code = HRC(OK);
    lt_status st = LT_OK;

    if (json) {
        if (lt_pbjson_decode(desc, body, len, LT_PBJSON_IGNORE_UNKNOWN, &m) != LT_OK) {
            snprintf(msg, sizeof(msg), "cannot decode %s from JSON: %s", desc->short_name,
                     lt_error_message());
            code = HRC(INVALID);
        }
    } else {
        m = protobuf_c_message_unpack(desc, &lt__host_pb_alloc, len, body);
        if (m == NULL) {
            snprintf(msg, sizeof(msg), "cannot decode %s: malformed protobuf", desc->short_name);
            code = HRC(INVALID);
        } else if (!pb_utf8_ok(m)) { /* refused like any proto3 parser does */
            snprintf(msg, sizeof(msg), "cannot decode %s: a string is not valid UTF-8",
                     desc->short_name);
            code = HRC(INVALID);
            protobuf_c_message_free_unpacked(m, &lt__host_pb_alloc);
            m = NULL;
        }
    }
    if (m != NULL) {
        head_of(verb, m, &hd);
        st = results_init(&r, hd.nitems);
        if (st != LT_OK)
            goto out;
        code = admit(h, verb, m, &hd, &r, msg, sizeof(msg));
        if (code == HRC(OK)) {
            apply(h, ops, verb, m, &r);
        } else {
            for (size_t i = 0; i < r.n; i++) /* malformed items keep their own reason */
                if (r.res[i].code == HRC(UNSPECIFIED))
                    set_result(&r, i, item_id(verb, m, i), code, 0, msg);
        }
    }
    utf8_scrub(msg); /* it may quote the request, cut short */
    st = encode_reply(h, verb, &hd, code, msg, &r, json, out);
out:
    results_cleanup(&r);
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, json ? NULL : &lt__host_pb_alloc);
    return st;
}

lt_status lt__host_request(lt__host_state *h, const lt__host_ops *ops, const char *verb,
                           const void *body, size_t len, bool *json, lt_buf *out)
{
    Latticed__Host__V1__CommandReply r = LATTICED__HOST__V1__COMMAND_REPLY__INIT;
    lt__host_verb v;
    char why[160];

    if (lt__host_verb_parse(verb, strlen(verb), &v))
        return lt__host_handle(h, ops, v, body, len, *json, out);
    /* Unknown verb: answer a CommandReply INVALID so the sender learns why. */
    snprintf(why, sizeof(why), "unknown command '%.64s'", verb);
    utf8_scrub(why);
    r.host_id = h->id;
    r.code = HRC(INVALID);
    r.message = why;
    r.newest_epoch = h->newest_epoch;
    *json = false;
    return lt__host_pack(&r.base, out);
}
