/*
 * inst.c - instance and link records of a host, and the protobuf plumbing
 * they share: one allocation per instance (strings, config and annotations
 * copied from the InstanceSpec), a cached packed Instance message that
 * heartbeats reuse until the instance changes, and append-to-lt_buf packing.
 */
#include "host_int.h"

#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lt_alloc.h"

static void *pb_alloc(void *data, size_t size)
{
    (void)data;
    return lt_malloc(size);
}

static void pb_free(void *data, void *p)
{
    (void)data;
    lt_free(p);
}

ProtobufCAllocator lt__host_pb_alloc = { pb_alloc, pb_free, NULL };

int64_t lt__host_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- packing into lt_buf -------------------------------------------------- */

typedef struct {
    ProtobufCBuffer base;
    lt_buf *out;
    lt_status st;
} buf_sink;

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    buf_sink *s = (buf_sink *)b;

    if (s->st == LT_OK)
        s->st = lt_buf_append(s->out, data, len);
}

lt_status lt__host_pack(const ProtobufCMessage *m, lt_buf *out)
{
    buf_sink s = { { sink_append }, out, LT_OK };
    size_t before = out->len;

    protobuf_c_message_pack_to_buffer(m, &s.base);
    if (s.st != LT_OK) {
        lt_buf_truncate(out, before);
        return LT_FAIL(s.st, "message over %zu bytes", out->max);
    }
    return LT_OK;
}

lt_status lt__host_put_field(lt_buf *out, uint32_t field, const void *data, size_t len)
{
    uint8_t hdr[16];
    size_t n = 0;
    uint64_t v = ((uint64_t)field << 3) | 2u; /* wire type 2: length-delimited */
    lt_status st;

    for (int pass = 0; pass < 2; pass++) {
        while (v >= 0x80) {
            hdr[n++] = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        hdr[n++] = (uint8_t)v;
        v = len;
    }
    if ((st = lt_buf_append(out, hdr, n)) != LT_OK)
        return st;
    return lt_buf_append(out, data, len);
}

lt_status lt__host_put_uint(lt_buf *out, uint32_t field, uint64_t v)
{
    uint8_t b[24];
    size_t n = 0;
    uint64_t tag = (uint64_t)field << 3; /* wire type 0: varint */

    if (v == 0)
        return LT_OK; /* proto3 default: not encoded */
    for (int pass = 0; pass < 2; pass++) {
        while (tag >= 0x80) {
            b[n++] = (uint8_t)(tag | 0x80);
            tag >>= 7;
        }
        b[n++] = (uint8_t)tag;
        tag = v;
    }
    return lt_buf_append(out, b, n);
}

lt_status lt__host_put_str(lt_buf *out, uint32_t field, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return LT_OK; /* proto3 default: not encoded */
    return lt__host_put_field(out, field, s, strlen(s));
}

/* ---- instances ---------------------------------------------------------------- */

static size_t slen(const char *s)
{
    return (s != NULL ? strlen(s) : 0) + 1;
}

static char *put_str(char **cur, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    char *d = *cur;

    if (n > 0)
        memcpy(d, s, n);
    d[n] = '\0';
    *cur += n + 1;
    return d;
}

/* JSON array of the spec's secret references (names only, never values). */
static char *secrets_json(const hpb_spec *spec)
{
    json_t *arr = json_array();
    char *text = NULL;

    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < spec->n_secrets; i++) {
        const Latticed__Host__V1__SecretRef *s = spec->secrets[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", s->name, "backend", s->backend,
                              "key", s->key, "field", s->field, "version", s->version);

        if (o == NULL || json_array_append_new(arr, o) != 0)
            goto out;
    }
    text = json_dumps(arr, JSON_COMPACT);
out:
    json_decref(arr);
    return text;
}

lt_status lt__host_inst_new(const hpb_spec *spec, lt__host_inst **new_inst)
{
    size_t nkv = spec->n_annotations + spec->n_config, total;
    char *secrets = NULL, *cur;
    lt__host_inst *inst;

    if (spec->n_secrets > 0 && (secrets = secrets_json(spec)) == NULL)
        return LT_ERR_NOMEM;
    total = sizeof(*inst) + nkv * sizeof(lt__host_kv) + slen(spec->instance_id) +
            slen(spec->app_name) + slen(spec->app_version) + slen(spec->component_name) +
            slen(spec->component_id) + slen(spec->image_ref) + slen(spec->spec_digest) +
            (secrets != NULL ? slen(secrets) : 0);
    for (size_t i = 0; i < spec->n_annotations; i++)
        total += slen(spec->annotations[i]->key) + slen(spec->annotations[i]->value);
    for (size_t i = 0; i < spec->n_config; i++)
        total += slen(spec->config[i]->key) + slen(spec->config[i]->value);
    inst = lt_calloc(1, total);
    if (inst == NULL) {
        free(secrets); /* jansson's allocator is libc's */
        return LT_ERR_NOMEM;
    }
    inst->annotations = (lt__host_kv *)(inst + 1);
    inst->config = inst->annotations + spec->n_annotations;
    cur = (char *)(inst->config + spec->n_config);
    inst->id = put_str(&cur, spec->instance_id);
    inst->app_name = put_str(&cur, spec->app_name);
    inst->app_version = put_str(&cur, spec->app_version);
    inst->component_name = put_str(&cur, spec->component_name);
    inst->component_id = put_str(&cur, spec->component_id);
    inst->image_ref = put_str(&cur, spec->image_ref);
    inst->spec_digest = put_str(&cur, spec->spec_digest);
    if (secrets != NULL)
        inst->secrets_json = put_str(&cur, secrets);
    free(secrets);
    for (size_t i = 0; i < spec->n_annotations; i++) {
        inst->annotations[i].key = put_str(&cur, spec->annotations[i]->key);
        inst->annotations[i].val = put_str(&cur, spec->annotations[i]->value);
    }
    for (size_t i = 0; i < spec->n_config; i++) {
        inst->config[i].key = put_str(&cur, spec->config[i]->key);
        inst->config[i].val = put_str(&cur, spec->config[i]->value);
    }
    inst->n_annotations = spec->n_annotations;
    inst->n_config = spec->n_config;
    inst->ordinal = spec->ordinal;
    inst->max_instances = spec->max_instances;
    if (spec->resources != NULL) {
        inst->mem_bytes = spec->resources->memory_bytes;
        inst->cpu_millis = spec->resources->cpu_millis;
    }
    inst->state = HIS(STARTING);
    *new_inst = inst;
    return LT_OK;
}

void lt__host_inst_free(lt__host_inst *inst)
{
    if (inst == NULL)
        return;
    lt_free(inst->message);
    lt_free(inst->stop_reason);
    lt_free(inst->enc);
    lt_free(inst);
}

void lt__host_inst_to_pb(const lt__host_inst *inst, hpb_inst *pb,
                         Latticed__Host__V1__Instance__AnnotationsEntry *ents,
                         Latticed__Host__V1__Instance__AnnotationsEntry **ptrs,
                         Google__Protobuf__Timestamp *ts, Latticed__Host__V1__ResourceRequests *rr)
{
    latticed__host__v1__instance__init(pb);
    pb->instance_id = inst->id;
    pb->state = (Latticed__Host__V1__InstanceState)inst->state;
    pb->app_name = inst->app_name;
    pb->app_version = inst->app_version;
    pb->component_name = inst->component_name;
    pb->component_id = inst->component_id;
    pb->image_ref = inst->image_ref;
    pb->spec_digest = inst->spec_digest;
    pb->restarts = inst->restarts;
    pb->message = inst->message != NULL ? inst->message : (char *)protobuf_c_empty_string;
    pb->placement = (char *)inst->placement;
    for (size_t i = 0; i < inst->n_annotations; i++) {
        latticed__host__v1__instance__annotations_entry__init(&ents[i]);
        ents[i].key = inst->annotations[i].key;
        ents[i].value = inst->annotations[i].val;
        ptrs[i] = &ents[i];
    }
    pb->n_annotations = inst->n_annotations;
    pb->annotations = inst->n_annotations > 0 ? ptrs : NULL;
    if (inst->started_at_ms != 0) {
        google__protobuf__timestamp__init(ts);
        ts->seconds = inst->started_at_ms / 1000;
        ts->nanos = (int32_t)(inst->started_at_ms % 1000) * 1000000;
        pb->started_at = ts;
    }
    if (inst->mem_bytes != 0 || inst->cpu_millis != 0) {
        latticed__host__v1__resource_requests__init(rr);
        rr->memory_bytes = inst->mem_bytes;
        rr->cpu_millis = inst->cpu_millis;
        pb->resources = rr;
    }
}

lt_status lt__host_inst_encoded(lt__host_inst *inst, const uint8_t **data, size_t *len)
{
    Latticed__Host__V1__Instance__AnnotationsEntry ents_s[8], *ents = ents_s;
    Latticed__Host__V1__Instance__AnnotationsEntry *ptrs_s[8], **ptrs = ptrs_s;
    Google__Protobuf__Timestamp ts;
    Latticed__Host__V1__ResourceRequests rr;
    hpb_inst pb;
    lt_status st = LT_OK;
    size_t n;

    if (inst->enc == NULL) {
        if (inst->n_annotations > 8) {
            ents = lt_malloc(inst->n_annotations * sizeof(*ents));
            ptrs = lt_malloc(inst->n_annotations * sizeof(*ptrs));
            if (ents == NULL || ptrs == NULL) {
                st = LT_ERR_NOMEM;
                goto out;
            }
        }
        lt__host_inst_to_pb(inst, &pb, ents, ptrs, &ts, &rr);
        n = latticed__host__v1__instance__get_packed_size(&pb);
        inst->enc = lt_malloc(n > 0 ? n : 1);
        if (inst->enc == NULL) {
            st = LT_ERR_NOMEM;
            goto out;
        }
        inst->enc_len = latticed__host__v1__instance__pack(&pb, inst->enc);
    }
    *data = inst->enc;
    *len = inst->enc_len;
out:
    if (ents != ents_s)
        lt_free(ents);
    if (ptrs != ptrs_s)
        lt_free(ptrs);
    return st;
}

/* ---- links ---------------------------------------------------------------------- */

lt_status lt__host_link_new(const hpb_link *spec, lt__host_link **new_link)
{
    size_t n = latticed__host__v1__link_spec__get_packed_size(spec);
    lt__host_link *l;
    char *cur;

    l = lt_calloc(1, sizeof(*l) + slen(spec->link_id) + slen(spec->source_instance_id) + n + 1);
    if (l == NULL)
        return LT_ERR_NOMEM;
    cur = (char *)(l + 1);
    l->id = put_str(&cur, spec->link_id);
    l->source = put_str(&cur, spec->source_instance_id);
    l->enc = (uint8_t *)cur;
    l->enc_len = latticed__host__v1__link_spec__pack(spec, l->enc);
    *new_link = l;
    return LT_OK;
}

void lt__host_link_free(lt__host_link *l)
{
    lt_free(l);
}
