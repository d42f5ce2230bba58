/*
 * schema_lock.c - wire lock: lists every message field (name, number, label,
 * type) and enum value of the generated descriptors and compares the listing
 * with golden/wire_lock.txt. Round-trip tests cannot see a renumbered field
 * (both ends use the same .proto); this test does. The wasmcloud.runtime.v2
 * part must match upstream (wasmcloud-v2-hosts.md §1.4) exactly.
 */
#include <check.h>
#include <string.h>

#include "latticed/cp/v1/events.pb-c.h"
#include "latticed/host/v1/command.pb-c.h"
#include "latticed/host/v1/host.pb-c.h"
#include "lt_alloc.h"
#include "lt_buf.h"
#include "pbt_protoc.h"
#include "schema_tests.h"
#include "wasmcloud/runtime/v2/host_service.pb-c.h"
#include "wasmcloud/runtime/v2/workload_service.pb-c.h"

#define LOCK_GOLDEN "wire_lock.txt"

static const ProtobufCMessageDescriptor *const messages[] = {
    &wasmcloud__runtime__v2__wit_interface__descriptor,
    &wasmcloud__runtime__v2__host_heartbeat__descriptor,
    &wasmcloud__runtime__v2__host_heartbeat_request__descriptor,
    &wasmcloud__runtime__v2__workload__descriptor,
    &wasmcloud__runtime__v2__service__descriptor,
    &wasmcloud__runtime__v2__wit_world__descriptor,
    &wasmcloud__runtime__v2__component__descriptor,
    &wasmcloud__runtime__v2__local_resources__descriptor,
    &wasmcloud__runtime__v2__volume__descriptor,
    &wasmcloud__runtime__v2__volume_mount__descriptor,
    &wasmcloud__runtime__v2__empty_dir_volume__descriptor,
    &wasmcloud__runtime__v2__host_path_volume__descriptor,
    &wasmcloud__runtime__v2__image_pull_secret__descriptor,
    &wasmcloud__runtime__v2__workload_start_request__descriptor,
    &wasmcloud__runtime__v2__workload_status__descriptor,
    &wasmcloud__runtime__v2__workload_start_response__descriptor,
    &wasmcloud__runtime__v2__workload_status_request__descriptor,
    &wasmcloud__runtime__v2__workload_status_response__descriptor,
    &wasmcloud__runtime__v2__workload_stop_request__descriptor,
    &wasmcloud__runtime__v2__workload_stop_response__descriptor,
    &latticed__host__v1__secret_ref__descriptor,
    &latticed__host__v1__resource_requests__descriptor,
    &latticed__host__v1__instance_spec__descriptor,
    &latticed__host__v1__instance__descriptor,
    &latticed__host__v1__capacity__descriptor,
    &latticed__host__v1__wit_capability__descriptor,
    &latticed__host__v1__link_spec__descriptor,
    &latticed__host__v1__item_result__descriptor,
    &latticed__host__v1__heartbeat__descriptor,
    &latticed__host__v1__host_started__descriptor,
    &latticed__host__v1__host_stopping__descriptor,
    &latticed__host__v1__instance_started__descriptor,
    &latticed__host__v1__instances_started__descriptor,
    &latticed__host__v1__instance_stopped__descriptor,
    &latticed__host__v1__instance_failed__descriptor,
    &latticed__host__v1__start_request__descriptor,
    &latticed__host__v1__stop_item__descriptor,
    &latticed__host__v1__stop_request__descriptor,
    &latticed__host__v1__link_request__descriptor,
    &latticed__host__v1__unlink_item__descriptor,
    &latticed__host__v1__unlink_request__descriptor,
    &latticed__host__v1__inventory_request__descriptor,
    &latticed__host__v1__command_reply__descriptor,
    &latticed__host__v1__inventory_reply__descriptor,
    &latticed__cp__v1__app_deployed__descriptor,
    &latticed__cp__v1__app_undeployed__descriptor,
    &latticed__cp__v1__app_failed__descriptor,
    &latticed__cp__v1__instance_placed__descriptor,
    &latticed__cp__v1__instances_placed__descriptor,
    &latticed__cp__v1__instance_lost__descriptor,
    &latticed__cp__v1__host_joined__descriptor,
    &latticed__cp__v1__host_lost__descriptor,
};

static const ProtobufCEnumDescriptor *const enums[] = {
    &wasmcloud__runtime__v2__workload_state__descriptor,
    &wasmcloud__runtime__v2__image_pull_policy__descriptor,
    &latticed__host__v1__instance_state__descriptor,
    &latticed__host__v1__result_code__descriptor,
    &latticed__cp__v1__app_failure_reason__descriptor,
    &latticed__cp__v1__instance_lost_reason__descriptor,
    &latticed__cp__v1__host_lost_reason__descriptor,
};

static const char *type_name(const ProtobufCFieldDescriptor *f)
{
    static const char *const names[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_STRING] = "string",
        [PROTOBUF_C_TYPE_BYTES] = "bytes",
    };
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return ((const ProtobufCMessageDescriptor *)f->descriptor)->name;
    if (f->type == PROTOBUF_C_TYPE_ENUM)
        return ((const ProtobufCEnumDescriptor *)f->descriptor)->name;
    return names[f->type];
}

static lt_status list_message(lt_buf *b, const ProtobufCMessageDescriptor *d)
{
    lt_status st = lt_buf_appendf(b, "message %s\n", d->name);
    for (unsigned i = 0; i < d->n_fields && st == LT_OK; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *label = f->label == PROTOBUF_C_LABEL_REPEATED ? "repeated" : "singular";
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            label = "oneof";
        st = lt_buf_appendf(b, "  %u %s %s %s\n", f->id, f->name, label, type_name(f));
    }
    return st;
}

static lt_status list_enum(lt_buf *b, const ProtobufCEnumDescriptor *d)
{
    lt_status st = lt_buf_appendf(b, "enum %s\n", d->name);
    for (unsigned i = 0; i < d->n_values && st == LT_OK; i++)
        st = lt_buf_appendf(b, "  %d %s\n", d->values[i].value, d->values[i].name);
    return st;
}

START_TEST(wire_lock_matches)
{
    lt_buf b;
    char *want = NULL;
    size_t want_len = 0;
    lt_buf_init(&b, 1u << 20);
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        ck_assert_int_eq(list_message(&b, messages[i]), LT_OK);
    for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++)
        ck_assert_int_eq(list_enum(&b, enums[i]), LT_OK);
    lt_status gst = pbt_read_golden(LOCK_GOLDEN, &want, &want_len);
    if (gst != LT_OK)
        pbt_write_actual(LOCK_GOLDEN, b.ptr, b.len);
    ck_assert_int_eq(gst, LT_OK);
    if (strcmp(b.ptr, want) != 0) {
        pbt_write_actual(LOCK_GOLDEN, b.ptr, b.len);
        ck_abort_msg("wire layout changed: diff golden/" LOCK_GOLDEN " with the actual "
                     "listing; update the golden only for a deliberate, compatible change");
    }
    lt_free(want);
    lt_buf_cleanup(&b);
}
END_TEST

/* The v2 host service must keep upstream's method names (nominal, but locked). */
START_TEST(v2_services_match_upstream)
{
    const ProtobufCServiceDescriptor *h = &wasmcloud__runtime__v2__host_service__descriptor;
    const ProtobufCServiceDescriptor *w = &wasmcloud__runtime__v2__workload_service__descriptor;
    ck_assert_str_eq(h->name, "wasmcloud.runtime.v2.HostService");
    ck_assert_uint_eq(h->n_methods, 1);
    ck_assert_str_eq(h->methods[0].name, "HostHeartbeat");
    ck_assert_str_eq(w->name, "wasmcloud.runtime.v2.WorkloadService");
    ck_assert_uint_eq(w->n_methods, 3);
    ck_assert_str_eq(w->methods[0].name, "WorkloadStart");
    ck_assert_str_eq(w->methods[1].name, "WorkloadStatus");
    ck_assert_str_eq(w->methods[2].name, "WorkloadStop");
}
END_TEST

TCase *schema_lock_tcase(void)
{
    TCase *tc = tcase_create("wire_lock");
    tcase_add_test(tc, wire_lock_matches);
    tcase_add_test(tc, v2_services_match_upstream);
    return tc;
}
