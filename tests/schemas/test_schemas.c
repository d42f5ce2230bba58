/*
 * test_schemas.c - golden interoperability of the protoc-c generated C with the
 * reference protobuf implementation (protoc 3.21): messages built in C decode
 * with `protoc --decode` to the text in the golden .txtpb files, and golden text encoded
 * with `protoc --encode` unpacks in C with the expected field values.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "latticed/cp/v1/events.pb-c.h"
#include "latticed/host/v1/command.pb-c.h"
#include "latticed/host/v1/host.pb-c.h"
#include "lt_alloc.h"
#include "lt_testutil.h"
#include "pbt_protoc.h"
#include "schema_tests.h"
#include "wasmcloud/runtime/v2/host_heartbeat.pb-c.h"
#include "wasmcloud/runtime/v2/workload_service.pb-c.h"

#define S(lit) ((char *)(lit))
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Value of key in a protobuf-c string map (array of entries), or NULL. */
#define MAP_GET(out, arr, n, k)                   \
    do {                                          \
        (out) = NULL;                             \
        for (size_t i_ = 0; i_ < (n); i_++)       \
            if (strcmp((arr)[i_]->key, (k)) == 0) \
                (out) = (arr)[i_]->value;         \
    } while (0)

/* Pack m, decode it with protoc as type, compare with golden/<golden>. */
static void check_decodes_to(const ProtobufCMessage *m, const char *type, const char *proto,
                             const char *golden)
{
    size_t len = 0, text_len = 0, want_len = 0;
    char *text = NULL, *want = NULL;
    uint8_t *bin = pbt_pack(m, &len);
    ck_assert_ptr_nonnull(bin);
    ck_assert_int_eq(pbt_protoc("decode", type, proto, bin, len, &text, &text_len), LT_OK);
    lt_status gst = pbt_read_golden(golden, &want, &want_len);
    if (gst != LT_OK || strcmp(text, want) != 0)
        pbt_write_actual(golden, text, text_len);
    ck_assert_int_eq(gst, LT_OK);
    ck_assert_str_eq(text, want);
    lt_free(bin);
    lt_free(text);
    lt_free(want);
}

/* Encode golden/<golden> with protoc as type and unpack it in C. */
static ProtobufCMessage *encode_golden(const char *golden, const char *type, const char *proto,
                                       const ProtobufCMessageDescriptor *desc)
{
    size_t text_len = 0, bin_len = 0;
    char *text = NULL, *bin = NULL;
    ck_assert_int_eq(pbt_read_golden(golden, &text, &text_len), LT_OK);
    ck_assert_int_eq(pbt_protoc("encode", type, proto, text, text_len, &bin, &bin_len), LT_OK);
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, bin_len, (uint8_t *)bin);
    ck_assert_ptr_nonnull(m);
    lt_free(text);
    lt_free(bin);
    return m;
}

/* ---- C -> protoc ------------------------------------------------------ */

START_TEST(native_heartbeat_decodes)
{
    Latticed__Host__V1__Heartbeat__LabelsEntry l1 =
        LATTICED__HOST__V1__HEARTBEAT__LABELS_ENTRY__INIT;
    Latticed__Host__V1__Heartbeat__LabelsEntry l2 =
        LATTICED__HOST__V1__HEARTBEAT__LABELS_ENTRY__INIT;
    l1.key = S("zone"), l1.value = S("eu-1");
    l2.key = S("arch"), l2.value = S("x86_64");
    Latticed__Host__V1__Heartbeat__LabelsEntry *labels[] = { &l1, &l2 };

    Latticed__Host__V1__Capacity cap = LATTICED__HOST__V1__CAPACITY__INIT;
    cap.memory_total_bytes = 17179869184u, cap.memory_free_bytes = 9000000000u;
    cap.instance_slots_total = 100, cap.instance_slots_used = 2;
    cap.cpu_millis_total = 4000, cap.cpu_usage_percent = 12.5f;
    cap.memory_reserved_bytes = 134217728u, cap.cpu_millis_reserved = 500;

    Google__Protobuf__Timestamp started = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    started.seconds = 1700000000, started.nanos = 123000000;

    Latticed__Host__V1__Instance__AnnotationsEntry a1 =
        LATTICED__HOST__V1__INSTANCE__ANNOTATIONS_ENTRY__INIT;
    Latticed__Host__V1__Instance__AnnotationsEntry a2 =
        LATTICED__HOST__V1__INSTANCE__ANNOTATIONS_ENTRY__INIT;
    a1.key = S("latticed.dev/managed-by"), a1.value = S("latticed");
    a2.key = S("latticed.dev/app"), a2.value = S("shop");
    Latticed__Host__V1__Instance__AnnotationsEntry *ann[] = { &a1, &a2 };

    Latticed__Host__V1__Instance i1 = LATTICED__HOST__V1__INSTANCE__INIT;
    i1.instance_id = S("i-0123456789abcdef0123456789abcdef");
    i1.state = LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_RUNNING;
    i1.app_name = S("shop"), i1.app_version = S("v2"), i1.component_name = S("api");
    i1.component_id = S("shop-api"), i1.image_ref = S("ghcr.io/acme/api:1.2.0");
    i1.n_annotations = COUNT(ann), i1.annotations = ann;
    i1.spec_digest = S("sha256:aa"), i1.started_at = &started, i1.placement = S("7.42");
    Latticed__Host__V1__Instance i2 = LATTICED__HOST__V1__INSTANCE__INIT;
    i2.instance_id = S("i-fedcba9876543210fedcba9876543210");
    i2.state = LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_FAILED;
    i2.app_name = S("shop"), i2.app_version = S("v2"), i2.component_name = S("worker");
    i2.image_ref = S("ghcr.io/acme/worker:1.2.0"), i2.restarts = 3;
    i2.message = S("trap: unreachable");
    Latticed__Host__V1__Instance *instances[] = { &i1, &i2 };

    char *ifaces[] = { S("incoming-handler") };
    Latticed__Host__V1__WitCapability http = LATTICED__HOST__V1__WIT_CAPABILITY__INIT;
    http.namespace_ = S("wasi"), http.package = S("http"), http.version = S("0.2.0");
    http.n_interfaces = 1, http.interfaces = ifaces;
    Latticed__Host__V1__WitCapability *caps[] = { &http };

    char *links[] = { S("l-00112233445566778899aabbccddeeff") };
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    hb.host_id = S("h-edge-01"), hb.lattice = S("default"), hb.friendly_name = S("quiet-fox");
    hb.version = S("0.1.0"), hb.n_labels = COUNT(labels), hb.labels = labels;
    hb.capacity = &cap, hb.started_at = &started;
    hb.n_instances = COUNT(instances), hb.instances = instances;
    hb.sequence = 42, hb.interval_ms = 5000, hb.newest_epoch = 7;
    hb.n_capabilities = COUNT(caps), hb.capabilities = caps;
    hb.n_link_ids = COUNT(links), hb.link_ids = links;
    check_decodes_to(&hb.base, "latticed.host.v1.Heartbeat", "latticed/host/v1/host.proto",
                     "native_heartbeat.txtpb");
}
END_TEST

START_TEST(native_start_request_decodes)
{
    Latticed__Host__V1__InstanceSpec__ConfigEntry c1 =
        LATTICED__HOST__V1__INSTANCE_SPEC__CONFIG_ENTRY__INIT;
    c1.key = S("db_url"), c1.value = S("postgres://db/shop");
    Latticed__Host__V1__InstanceSpec__ConfigEntry *config[] = { &c1 };
    Latticed__Host__V1__SecretRef sec = LATTICED__HOST__V1__SECRET_REF__INIT;
    sec.name = S("db-password"), sec.backend = S("vault"), sec.key = S("shop/db");
    sec.field = S("password");
    Latticed__Host__V1__SecretRef *secrets[] = { &sec };
    Latticed__Host__V1__ResourceRequests res = LATTICED__HOST__V1__RESOURCE_REQUESTS__INIT;
    res.memory_bytes = 67108864, res.cpu_millis = 250;
    Latticed__Host__V1__InstanceSpec__AnnotationsEntry own =
        LATTICED__HOST__V1__INSTANCE_SPEC__ANNOTATIONS_ENTRY__INIT;
    own.key = S("latticed.dev/managed-by"), own.value = S("latticed");
    Latticed__Host__V1__InstanceSpec__AnnotationsEntry *ann[] = { &own };

    Latticed__Host__V1__InstanceSpec s[2];
    for (size_t i = 0; i < 2; i++) {
        s[i] = (Latticed__Host__V1__InstanceSpec)LATTICED__HOST__V1__INSTANCE_SPEC__INIT;
        s[i].app_name = S("shop"), s[i].app_version = S("v2"), s[i].component_name = S("api");
        s[i].component_id = S("shop-api"), s[i].image_ref = S("ghcr.io/acme/api:1.2.0");
        s[i].n_config = COUNT(config), s[i].config = config;
        s[i].n_secrets = COUNT(secrets), s[i].secrets = secrets;
        s[i].resources = &res, s[i].max_instances = 16, s[i].ordinal = (uint32_t)i;
        s[i].n_annotations = COUNT(ann), s[i].annotations = ann;
        s[i].spec_digest = S("sha256:aa");
    }
    s[0].instance_id = S("i-0123456789abcdef0123456789abcdef");
    s[1].instance_id = S("i-00000000000000000000000000000001");
    Latticed__Host__V1__InstanceSpec *items[] = { &s[0], &s[1] };
    Latticed__Host__V1__StartRequest req = LATTICED__HOST__V1__START_REQUEST__INIT;
    req.epoch = 7, req.lattice = S("default"), req.request_id = S("r-1");
    req.n_instances = COUNT(items), req.instances = items;
    check_decodes_to(&req.base, "latticed.host.v1.StartRequest", "latticed/host/v1/command.proto",
                     "native_start_request.txtpb");
}
END_TEST

/* The workload.start example of wasmcloud-v2-hosts.md §1.6. */
START_TEST(v2_workload_start_request_decodes)
{
    Wasmcloud__Runtime__V2__Workload__AnnotationsEntry gen =
        WASMCLOUD__RUNTIME__V2__WORKLOAD__ANNOTATIONS_ENTRY__INIT;
    gen.key = S("runtime.wasmcloud.dev/workload-replica-set-generation"),
    gen.value = S("5d8f9c7b4");
    Wasmcloud__Runtime__V2__Workload__AnnotationsEntry *ann[] = { &gen };
    Wasmcloud__Runtime__V2__LocalResources none = WASMCLOUD__RUNTIME__V2__LOCAL_RESOURCES__INIT;
    Wasmcloud__Runtime__V2__Component comp = WASMCLOUD__RUNTIME__V2__COMPONENT__INIT;
    comp.image = S("ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0");
    comp.local_resources = &none, comp.name = S("hello-world");
    Wasmcloud__Runtime__V2__Component *comps[] = { &comp };
    Wasmcloud__Runtime__V2__WitInterface__ConfigEntry host =
        WASMCLOUD__RUNTIME__V2__WIT_INTERFACE__CONFIG_ENTRY__INIT;
    host.key = S("host"), host.value = S("hello.localhost.direct");
    Wasmcloud__Runtime__V2__WitInterface__ConfigEntry *cfg[] = { &host };
    char *ifaces[] = { S("incoming-handler") };
    Wasmcloud__Runtime__V2__WitInterface http = WASMCLOUD__RUNTIME__V2__WIT_INTERFACE__INIT;
    http.namespace_ = S("wasi"), http.package = S("http");
    http.n_interfaces = 1, http.interfaces = ifaces, http.n_config = 1, http.config = cfg;
    Wasmcloud__Runtime__V2__WitInterface *his[] = { &http };
    Wasmcloud__Runtime__V2__WitWorld world = WASMCLOUD__RUNTIME__V2__WIT_WORLD__INIT;
    world.n_components = 1, world.components = comps;
    world.n_host_interfaces = 1, world.host_interfaces = his;
    Wasmcloud__Runtime__V2__Workload wl = WASMCLOUD__RUNTIME__V2__WORKLOAD__INIT;
    wl.namespace_ = S("default"), wl.name = S("hello-6b7f9-x2k4q");
    wl.n_annotations = 1, wl.annotations = ann, wl.wit_world = &world;
    Wasmcloud__Runtime__V2__WorkloadStartRequest req =
        WASMCLOUD__RUNTIME__V2__WORKLOAD_START_REQUEST__INIT;
    req.workload = &wl, req.workload_id = S("0f4a3c2e-9b1d-4e8a-a6f0-5c2d7e1b9a34");
    check_decodes_to(&req.base, "wasmcloud.runtime.v2.WorkloadStartRequest",
                     "wasmcloud/runtime/v2/workload_service.proto",
                     "v2_workload_start_request.txtpb");
}
END_TEST

/* The heartbeat example of wasmcloud-v2-hosts.md §1.6. */
START_TEST(v2_host_heartbeat_decodes)
{
    Wasmcloud__Runtime__V2__HostHeartbeat__LabelsEntry grp =
        WASMCLOUD__RUNTIME__V2__HOST_HEARTBEAT__LABELS_ENTRY__INIT;
    grp.key = S("hostgroup"), grp.value = S("default");
    Wasmcloud__Runtime__V2__HostHeartbeat__LabelsEntry *labels[] = { &grp };
    Google__Protobuf__Timestamp started = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    started.seconds = 1787140800, started.nanos = 123456000;
    char *store[] = { S("store") }, *handler[] = { S("handler") };
    Wasmcloud__Runtime__V2__WitInterface imp = WASMCLOUD__RUNTIME__V2__WIT_INTERFACE__INIT;
    imp.namespace_ = S("wasi"), imp.package = S("config"), imp.version = S("0.2.0-rc.1");
    imp.n_interfaces = 1, imp.interfaces = store;
    Wasmcloud__Runtime__V2__WitInterface exp = WASMCLOUD__RUNTIME__V2__WIT_INTERFACE__INIT;
    exp.namespace_ = S("wasmcloud"), exp.package = S("messaging"), exp.version = S("0.2.0");
    exp.n_interfaces = 1, exp.interfaces = handler;
    Wasmcloud__Runtime__V2__WitInterface *imps[] = { &imp }, *exps[] = { &exp };
    Wasmcloud__Runtime__V2__HostHeartbeat hb = WASMCLOUD__RUNTIME__V2__HOST_HEARTBEAT__INIT;
    hb.id = S("14b0a1df-3f91-441c-b304-2aa56e9bef6e"), hb.hostname = S("10.244.0.7");
    hb.friendly_name = S("exotic-toes-5866"), hb.version = S("2.7.0");
    hb.n_labels = 1, hb.labels = labels, hb.started_at = &started;
    hb.os_arch = S("x86_64"), hb.os_name = S("linux"), hb.os_kernel = S("unix");
    hb.system_cpu_usage = 3.2f, hb.system_memory_total = 16777216000u;
    hb.system_memory_free = 9000000000u, hb.component_count = 1, hb.workload_count = 1;
    hb.n_imports = 1, hb.imports = imps, hb.n_exports = 1, hb.exports = exps;
    hb.http_port = 8080, hb.environment = S("default");
    check_decodes_to(&hb.base, "wasmcloud.runtime.v2.HostHeartbeat",
                     "wasmcloud/runtime/v2/host_heartbeat.proto", "v2_host_heartbeat.txtpb");
}
END_TEST

/* ---- protoc -> C ------------------------------------------------------ */

START_TEST(v2_workload_start_request_unpacks)
{
    Wasmcloud__Runtime__V2__WorkloadStartRequest *r =
        (void *)encode_golden("v2_workload_start_volumes.txtpb",
                              "wasmcloud.runtime.v2.WorkloadStartRequest",
                              "wasmcloud/runtime/v2/workload_service.proto",
                              &wasmcloud__runtime__v2__workload_start_request__descriptor);
    const char *v = NULL;
    ck_assert_str_eq(r->workload_id, "wl-7");
    ck_assert_ptr_nonnull(r->workload);
    ck_assert_ptr_nonnull(r->workload->service);
    ck_assert_uint_eq(r->workload->service->max_restarts, 3);
    ck_assert_int_eq(r->workload->service->image_pull_policy,
                     WASMCLOUD__RUNTIME__V2__IMAGE_PULL_POLICY__IMAGE_PULL_POLICY_ALWAYS);
    const Wasmcloud__Runtime__V2__WitWorld *w = r->workload->wit_world;
    ck_assert_uint_eq(w->n_components, 1);
    const Wasmcloud__Runtime__V2__Component *c = w->components[0];
    ck_assert_int_eq(c->pool_size, -1); /* sint32, zigzag on the wire */
    ck_assert_int_eq(c->max_invocations, 1000);
    ck_assert_int_eq(c->max_concurrency, 8);
    ck_assert_str_eq(c->image_pull_secret->username, "robot");
    ck_assert_int_eq(c->local_resources->memory_limit_mb, 256);
    MAP_GET(v, c->local_resources->environment, c->local_resources->n_environment, "RUST_LOG");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "info");
    ck_assert_uint_eq(c->local_resources->n_allowed_hosts, 2);
    ck_assert_str_eq(c->local_resources->allowed_hosts[1], "*.wasmcloud.dev:443");
    ck_assert_uint_eq(c->local_resources->n_allowed_host_loopback_ports, 1);
    ck_assert_uint_eq(c->local_resources->n_volume_mounts, 1);
    ck_assert(c->local_resources->volume_mounts[0]->read_only);
    ck_assert_uint_eq(r->workload->n_volumes, 2);
    const Wasmcloud__Runtime__V2__Volume *v0 = r->workload->volumes[0],
                                         *v1 = r->workload->volumes[1];
    ck_assert_int_eq(v0->volume_type_case, WASMCLOUD__RUNTIME__V2__VOLUME__VOLUME_TYPE_HOST_PATH);
    ck_assert_str_eq(v0->host_path->local_path, "/srv/data");
    ck_assert_int_eq(v1->volume_type_case, WASMCLOUD__RUNTIME__V2__VOLUME__VOLUME_TYPE_EMPTY_DIR);
    ck_assert_ptr_nonnull(v1->empty_dir);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
END_TEST

START_TEST(v2_host_heartbeat_unpacks)
{
    Wasmcloud__Runtime__V2__HostHeartbeat *hb =
        (void *)encode_golden("v2_host_heartbeat.txtpb", "wasmcloud.runtime.v2.HostHeartbeat",
                              "wasmcloud/runtime/v2/host_heartbeat.proto",
                              &wasmcloud__runtime__v2__host_heartbeat__descriptor);
    ck_assert_str_eq(hb->friendly_name, "exotic-toes-5866");
    ck_assert_float_eq_tol(hb->system_cpu_usage, 3.2f, 1e-6f);
    ck_assert_uint_eq(hb->system_memory_total, 16777216000u);
    ck_assert_uint_eq(hb->workload_count, 1);
    ck_assert_uint_eq(hb->http_port, 8080);
    ck_assert_int_eq(hb->started_at->seconds, 1787140800);
    ck_assert_int_eq(hb->started_at->nanos, 123456000);
    ck_assert_str_eq(hb->imports[0]->version, "0.2.0-rc.1");
    ck_assert_str_eq(hb->exports[0]->interfaces[0], "handler");
    protobuf_c_message_free_unpacked(&hb->base, NULL);
}
END_TEST

START_TEST(native_command_reply_unpacks)
{
    Latticed__Host__V1__CommandReply *r =
        (void *)encode_golden("native_command_reply_stale.txtpb", "latticed.host.v1.CommandReply",
                              "latticed/host/v1/command.proto",
                              &latticed__host__v1__command_reply__descriptor);
    ck_assert_str_eq(r->host_id, "h-edge-01");
    ck_assert_int_eq(r->code, LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_STALE_EPOCH);
    ck_assert_uint_eq(r->newest_epoch, 9);
    ck_assert_uint_eq(r->n_results, 2);
    for (size_t i = 0; i < r->n_results; i++)
        ck_assert_int_eq(r->results[i]->code,
                         LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_STALE_EPOCH);
    ck_assert_str_eq(r->results[1]->id, "i-00000000000000000000000000000001");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
END_TEST

START_TEST(native_link_request_unpacks)
{
    Latticed__Host__V1__LinkRequest *r =
        (void *)encode_golden("native_link_request.txtpb", "latticed.host.v1.LinkRequest",
                              "latticed/host/v1/command.proto",
                              &latticed__host__v1__link_request__descriptor);
    const char *v = NULL;
    ck_assert_uint_eq(r->epoch, 7);
    ck_assert_uint_eq(r->n_links, 1);
    const Latticed__Host__V1__LinkSpec *l = r->links[0];
    ck_assert(l->local);
    ck_assert_str_eq(l->target_instance_id, "i-0000000000000000000000000000000a");
    ck_assert_str_eq(l->wit_namespace, "wasi");
    ck_assert_str_eq(l->wit_package, "keyvalue");
    ck_assert_uint_eq(l->n_wit_interfaces, 2);
    ck_assert_str_eq(l->wit_interfaces[1], "atomics");
    MAP_GET(v, l->target_config, l->n_target_config, "bucket");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "carts");
    ck_assert_str_eq(l->source_secrets[0]->key, "shop/kv");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
END_TEST

START_TEST(cp_host_lost_unpacks)
{
    Latticed__Cp__V1__HostLost *e =
        (void *)encode_golden("cp_host_lost.txtpb", "latticed.cp.v1.HostLost",
                              "latticed/cp/v1/events.proto",
                              &latticed__cp__v1__host_lost__descriptor);
    ck_assert_str_eq(e->host_id, "h-edge-01");
    ck_assert_int_eq(e->reason,
                     LATTICED__CP__V1__HOST_LOST_REASON__HOST_LOST_REASON_HEARTBEAT_TIMEOUT);
    ck_assert_int_eq(e->last_seen->seconds, 1700000000);
    ck_assert_int_eq(e->time->seconds, 1700000030);
    ck_assert_uint_eq(e->n_instance_ids, 2);
    ck_assert_uint_eq(e->epoch, 7);
    protobuf_c_message_free_unpacked(&e->base, NULL);
}
END_TEST

/* ---- both ways: text -> protoc -> C -> protoc -> same text ----------- */

static const struct golden_case {
    const char *golden, *type, *proto;
    const ProtobufCMessageDescriptor *desc;
} golden_cases[] = {
    { "native_heartbeat.txtpb", "latticed.host.v1.Heartbeat", "latticed/host/v1/host.proto",
      &latticed__host__v1__heartbeat__descriptor },
    { "native_start_request.txtpb", "latticed.host.v1.StartRequest",
      "latticed/host/v1/command.proto", &latticed__host__v1__start_request__descriptor },
    { "native_command_reply_stale.txtpb", "latticed.host.v1.CommandReply",
      "latticed/host/v1/command.proto", &latticed__host__v1__command_reply__descriptor },
    { "native_link_request.txtpb", "latticed.host.v1.LinkRequest", "latticed/host/v1/command.proto",
      &latticed__host__v1__link_request__descriptor },
    { "cp_host_lost.txtpb", "latticed.cp.v1.HostLost", "latticed/cp/v1/events.proto",
      &latticed__cp__v1__host_lost__descriptor },
    { "v2_workload_start_request.txtpb", "wasmcloud.runtime.v2.WorkloadStartRequest",
      "wasmcloud/runtime/v2/workload_service.proto",
      &wasmcloud__runtime__v2__workload_start_request__descriptor },
    { "v2_workload_start_volumes.txtpb", "wasmcloud.runtime.v2.WorkloadStartRequest",
      "wasmcloud/runtime/v2/workload_service.proto",
      &wasmcloud__runtime__v2__workload_start_request__descriptor },
    { "v2_host_heartbeat.txtpb", "wasmcloud.runtime.v2.HostHeartbeat",
      "wasmcloud/runtime/v2/host_heartbeat.proto",
      &wasmcloud__runtime__v2__host_heartbeat__descriptor },
};

START_TEST(golden_round_trips)
{
    const struct golden_case *g = &golden_cases[_i];
    ProtobufCMessage *m = encode_golden(g->golden, g->type, g->proto, g->desc);
    check_decodes_to(m, g->type, g->proto, g->golden);
    protobuf_c_message_free_unpacked(m, NULL);
}
END_TEST

static Suite *schemas_suite(void)
{
    Suite *s = suite_create("schemas");
    TCase *to = tcase_create("c_to_protoc");
    TCase *from = tcase_create("protoc_to_c");
    TCase *both = tcase_create("round_trip");
    tcase_set_timeout(to, 30);
    tcase_set_timeout(from, 30);
    tcase_set_timeout(both, 60);
    tcase_add_test(to, native_heartbeat_decodes);
    tcase_add_test(to, native_start_request_decodes);
    tcase_add_test(to, v2_workload_start_request_decodes);
    tcase_add_test(to, v2_host_heartbeat_decodes);
    tcase_add_test(from, v2_workload_start_request_unpacks);
    tcase_add_test(from, v2_host_heartbeat_unpacks);
    tcase_add_test(from, native_command_reply_unpacks);
    tcase_add_test(from, native_link_request_unpacks);
    tcase_add_test(from, cp_host_lost_unpacks);
    tcase_add_loop_test(both, golden_round_trips, 0, (int)COUNT(golden_cases));
    suite_add_tcase(s, to);
    suite_add_tcase(s, from);
    suite_add_tcase(s, both);
    suite_add_tcase(s, schema_lock_tcase());
    return s;
}

int main(void)
{
    return lt_test_run_suite(schemas_suite());
}
