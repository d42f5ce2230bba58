/*
 * state.c - the state of one host (real or simulated): identity, labels,
 * capacity and its reservations, the epoch fence, the instance and link
 * tables, and the encoding of heartbeat, host.started and host.stopping.
 */
#include "host_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "lt_alloc.h"

lt_status lt__host_state_init(lt__host_state *h, const char *id, const char *lattice,
                              const char *name, const char *version)
{
    memset(h, 0, sizeof(*h));
    lt_map_init(&h->insts);
    lt_map_init(&h->links);
    h->id = lt_strdup(id);
    h->lattice = lt_strdup(lattice);
    h->friendly_name = lt_strdup(name != NULL ? name : id);
    h->version = lt_strdup(version != NULL ? version : "");
    h->started_at_ms = lt__host_wall_ms();
    if (h->id == NULL || h->lattice == NULL || h->friendly_name == NULL || h->version == NULL) {
        lt__host_state_cleanup(h);
        return LT_ERR_NOMEM;
    }
    return LT_OK;
}

void lt__host_state_cleanup(lt__host_state *h)
{
    size_t it = 0;
    void *v;

    if (h == NULL)
        return;
    while ((v = lt_map_next(&h->insts, &it)) != NULL)
        lt__host_inst_free(v);
    it = 0;
    while ((v = lt_map_next(&h->links, &it)) != NULL)
        lt__host_link_free(v);
    lt_map_cleanup(&h->insts);
    lt_map_cleanup(&h->links);
    lt__host_kvs_cleanup(&h->labels);
    lt_free(h->id);
    lt_free(h->lattice);
    lt_free(h->friendly_name);
    lt_free(h->version);
    h->id = h->lattice = h->friendly_name = h->version = NULL;
}

int lt__host_fence(lt__host_state *h, uint64_t epoch)
{
    if (epoch == 0)
        return HRC(INVALID);
    if (epoch < h->newest_epoch)
        return HRC(STALE_EPOCH);
    h->newest_epoch = epoch;
    return HRC(OK);
}

/* States that hold the instance's resource reservation. */
static bool reserves(int state)
{
    return state == HIS(STARTING) || state == HIS(RUNNING) || state == HIS(STOPPING);
}

void lt__host_set_state(lt__host_state *h, lt__host_inst *inst, int state, const char *message)
{
    bool want = reserves(state);
    char *m = NULL;

    if (want != inst->reserved) {
        if (want) {
            h->mem_reserved += inst->mem_bytes;
            h->cpu_reserved += inst->cpu_millis;
        } else {
            h->mem_reserved -= inst->mem_bytes;
            h->cpu_reserved -= inst->cpu_millis;
        }
        inst->reserved = want;
    }
    if (state == HIS(RUNNING) && inst->state != HIS(RUNNING))
        inst->started_at_ms = lt__host_wall_ms();
    inst->state = state;
    if (message != NULL && message[0] != '\0')
        m = lt_strdup(message); /* out of memory: the detail is lost, not the state */
    lt_free(inst->message);
    inst->message = m;
    lt_free(inst->enc);
    inst->enc = NULL;
}

void lt__host_drop_links(lt__host_state *h, const char *source)
{
    lt__host_link *drop[64];
    size_t ndrop, it;
    lt__host_link *l;

    /* Collected first: the table must not change while iterating. */
    do {
        ndrop = 0;
        it = 0;
        while (ndrop < 64 && (l = lt_map_next(&h->links, &it)) != NULL) {
            if (strcmp(l->source, source) == 0)
                drop[ndrop++] = l;
        }
        for (size_t i = 0; i < ndrop; i++) {
            lt_map_del(&h->links, drop[i]->id);
            lt__host_link_free(drop[i]);
        }
    } while (ndrop == 64);
}

void lt__host_remove(lt__host_state *h, lt__host_inst *inst, bool drop_links)
{
    lt__host_set_state(h, inst, HIS(STOPPED), NULL);
    lt_map_del(&h->insts, inst->id);
    if (drop_links)
        lt__host_drop_links(h, inst->id);
    lt__host_inst_free(inst);
}

uint32_t lt__host_slots_used(const lt__host_state *h)
{
    return (uint32_t)h->insts.count;
}

/** Fill cap with h's capacity (measuring when h->measure). */
static void lt__host_capacity(const lt__host_state *h, Latticed__Host__V1__Capacity *cap)
{
    latticed__host__v1__capacity__init(cap);
    cap->memory_total_bytes = h->mem_total;
    cap->memory_free_bytes = h->mem_total > h->mem_reserved ? h->mem_total - h->mem_reserved : 0;
    cap->instance_slots_total = h->slots_total;
    cap->instance_slots_used = lt__host_slots_used(h);
    cap->cpu_millis_total = h->cpu_total;
    cap->memory_reserved_bytes = h->mem_reserved;
    cap->cpu_millis_reserved = h->cpu_reserved;
    if (h->measure) {
        struct sysinfo si;
        double load[1];
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

        if (sysinfo(&si) == 0) {
            uint64_t free_b = ((uint64_t)si.freeram + si.bufferram) * si.mem_unit;

            cap->memory_free_bytes =
                free_b < cap->memory_free_bytes ? free_b : cap->memory_free_bytes;
        }
        if (getloadavg(load, 1) == 1 && ncpu > 0) {
            double pct = load[0] * 100.0 / (double)ncpu;

            cap->cpu_usage_percent = (float)(pct > 100.0 ? 100.0 : pct);
        }
    }
}

/* Labels as map entries: arrays sized by the caller. */
static void fill_labels(const lt__host_state *h, Latticed__Host__V1__Heartbeat__LabelsEntry *ents,
                        Latticed__Host__V1__Heartbeat__LabelsEntry **ptrs)
{
    for (size_t i = 0; i < h->labels.n; i++) {
        latticed__host__v1__heartbeat__labels_entry__init(&ents[i]);
        ents[i].key = h->labels.v[i].key;
        ents[i].value = h->labels.v[i].val;
        ptrs[i] = &ents[i];
    }
}

static void wall_ts(int64_t ms, Google__Protobuf__Timestamp *ts)
{
    google__protobuf__timestamp__init(ts);
    ts->seconds = ms / 1000;
    ts->nanos = (int32_t)(ms % 1000) * 1000000;
}

#define MAX_LABELS 256u

lt_status lt__host_heartbeat_encode(lt__host_state *h, char *const *ids, size_t nids, lt_buf *out)
{
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    Latticed__Host__V1__Heartbeat__LabelsEntry ents[MAX_LABELS], *ptrs[MAX_LABELS];
    Latticed__Host__V1__Capacity cap;
    Google__Protobuf__Timestamp ts;
    char **link_ids = NULL;
    lt__host_inst *inst;
    lt__host_link *l;
    size_t it = 0, nl = 0;
    lt_status st;

    if (h->labels.n > MAX_LABELS)
        return LT_FAIL(LT_ERR_TOO_BIG, "more than %u labels", MAX_LABELS);
    if (h->links.count > 0 && (link_ids = lt_malloc(h->links.count * sizeof(*link_ids))) == NULL)
        return LT_ERR_NOMEM;
    while ((l = lt_map_next(&h->links, &it)) != NULL)
        link_ids[nl++] = l->id;
    fill_labels(h, ents, ptrs);
    lt__host_capacity(h, &cap);
    wall_ts(h->started_at_ms, &ts);
    hb.host_id = h->id;
    hb.lattice = h->lattice;
    hb.friendly_name = h->friendly_name;
    hb.version = h->version;
    hb.n_labels = h->labels.n;
    hb.labels = ptrs;
    hb.capacity = &cap;
    hb.started_at = &ts;
    hb.sequence = h->sequence;
    hb.interval_ms = h->interval_ms;
    hb.newest_epoch = h->newest_epoch;
    hb.n_link_ids = nl;
    hb.link_ids = link_ids;
    st = lt__host_pack(&hb.base, out);
    lt_free(link_ids);
    /* Field 8 (instances) appended from each instance's cached encoding. */
    if (st == LT_OK && ids == NULL) {
        it = 0;
        while (st == LT_OK && (inst = lt_map_next(&h->insts, &it)) != NULL) {
            const uint8_t *data;
            size_t len;

            st = lt__host_inst_encoded(inst, &data, &len);
            if (st == LT_OK)
                st = lt__host_put_field(out, 8, data, len);
        }
    } else {
        for (size_t i = 0; st == LT_OK && i < nids; i++) {
            const uint8_t *data;
            size_t len;

            inst = lt_map_get(&h->insts, ids[i]);
            if (inst == NULL)
                continue;
            st = lt__host_inst_encoded(inst, &data, &len);
            if (st == LT_OK)
                st = lt__host_put_field(out, 8, data, len);
        }
    }
    return st;
}

lt_status lt__host_started_encode(lt__host_state *h, lt_buf *out)
{
    Latticed__Host__V1__HostStarted m = LATTICED__HOST__V1__HOST_STARTED__INIT;
    Latticed__Host__V1__Heartbeat__LabelsEntry ents[MAX_LABELS], *ptrs[MAX_LABELS];
    Latticed__Host__V1__HostStarted__LabelsEntry sents[MAX_LABELS], *sptrs[MAX_LABELS];
    Latticed__Host__V1__Capacity cap;
    Google__Protobuf__Timestamp ts;

    if (h->labels.n > MAX_LABELS)
        return LT_FAIL(LT_ERR_TOO_BIG, "more than %u labels", MAX_LABELS);
    fill_labels(h, ents, ptrs);
    for (size_t i = 0; i < h->labels.n; i++) {
        latticed__host__v1__host_started__labels_entry__init(&sents[i]);
        sents[i].key = ents[i].key;
        sents[i].value = ents[i].value;
        sptrs[i] = &sents[i];
    }
    lt__host_capacity(h, &cap);
    wall_ts(h->started_at_ms, &ts);
    m.host_id = h->id;
    m.lattice = h->lattice;
    m.friendly_name = h->friendly_name;
    m.version = h->version;
    m.n_labels = h->labels.n;
    m.labels = sptrs;
    m.capacity = &cap;
    m.started_at = &ts;
    return lt__host_pack(&m.base, out);
}

lt_status lt__host_stopping_encode(lt__host_state *h, const char *reason, int64_t deadline_ms,
                                   lt_buf *out)
{
    Latticed__Host__V1__HostStopping m = LATTICED__HOST__V1__HOST_STOPPING__INIT;
    Google__Protobuf__Timestamp ts;
    char **ids = NULL;
    lt__host_inst *inst;
    size_t it = 0, n = 0;
    lt_status st;

    if (h->insts.count > 0 && (ids = lt_malloc(h->insts.count * sizeof(*ids))) == NULL)
        return LT_ERR_NOMEM;
    while ((inst = lt_map_next(&h->insts, &it)) != NULL)
        ids[n++] = inst->id;
    wall_ts(deadline_ms, &ts);
    m.host_id = h->id;
    m.lattice = h->lattice;
    m.reason = (char *)reason;
    m.n_instance_ids = n;
    m.instance_ids = ids;
    m.deadline = &ts;
    st = lt__host_pack(&m.base, out);
    lt_free(ids);
    return st;
}
