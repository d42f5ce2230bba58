/*
 * test_pbjson_interop.c - lt_pbjson against the outside world. wasmCloud v2:
 * the example payloads of reference/wasmcloud-v2-hosts.md §1.6 (start
 * request, its reply, a heartbeat; `…` replaced by concrete values) decode
 * into Wasmcloud__Runtime__V2__* messages with the right fields, re-encode to
 * the same JSON value, and unknown fields are refused as strict hosts do.
 * protoc: text format encoded by protoc, unpacked in C and converted by the
 * codec gives the expected JSON; JSON decoded by the codec and packed in C is
 * decoded by protoc to the expected text and re-encoded to the same bytes.
 */
#include "test_pbjson.h"

#include <math.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_testutil.h"
#include "wasmcloud/runtime/v2/host_heartbeat.pb-c.h"
#include "wasmcloud/runtime/v2/workload_service.pb-c.h"

/* ---- wasmCloud v2 payloads (§1.6, concrete values) ------------------------------------ */

static const char v2_start_request[] =
    "{\"workload\":{\"namespace\":\"default\",\"name\":\"hello-6d9f7c8b5-x2x9q\","
    "\"annotations\":{\"runtime.wasmcloud.dev/workload-replica-set-generation\":\"3f1a9c2e\"},"
    "\"witWorld\":{\"components\":[{\"image\":"
    "\"ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0\",\"localResources\":{},"
    "\"name\":\"hello-world\"}],\"hostInterfaces\":[{\"namespace\":\"wasi\",\"package\":\"http\","
    "\"interfaces\":[\"incoming-handler\"],\"config\":{\"host\":\"hello.localhost.direct\"}}]}},"
    "\"workloadId\":\"5b0c7e9e-3a5f-4b8e-9f1a-2d6c8e4b7a10\"}";

/* The host replies pretty-printed. */
static const char v2_start_reply[] =
    "{\n  \"workloadStatus\": {\n    \"workloadId\": \"5b0c7e9e-3a5f-4b8e-9f1a-2d6c8e4b7a10\",\n"
    "    \"workloadState\": \"WORKLOAD_STATE_RUNNING\",\n"
    "    \"message\": \"Workload started successfully\"\n  }\n}";

static const char v2_heartbeat[] =
    "{\"id\":\"14b0a1df-3f91-441c-b304-2aa56e9bef6e\",\"hostname\":\"10.244.0.7\","
    "\"friendlyName\":\"exotic-toes-5866\",\"version\":\"2.7.0\","
    "\"labels\":{\"hostgroup\":\"default\"},\"startedAt\":\"2026-08-19T12:00:00.123456Z\","
    "\"osArch\":\"x86_64\",\"osName\":\"linux\",\"osKernel\":\"unix\",\"systemCpuUsage\":3.2,"
    "\"systemMemoryTotal\":\"16777216000\",\"systemMemoryFree\":\"9000000000\","
    "\"componentCount\":\"1\",\"workloadCount\":\"1\","
    "\"imports\":[{\"namespace\":\"wasi\",\"package\":\"config\",\"version\":\"0.2.0-rc.1\","
    "\"interfaces\":[\"store\"]},{\"namespace\":\"wasmcloud\",\"package\":\"secrets\","
    "\"version\":\"2.1.0\",\"interfaces\":[\"store\",\"reveal\",\"secret\"]}],"
    "\"exports\":[{\"namespace\":\"wasmcloud\",\"package\":\"messaging\",\"version\":\"0.2.0\","
    "\"interfaces\":[\"handler\"]},{\"namespace\":\"wasmcloud\",\"package\":\"messaging\","
    "\"version\":\"0.3.0\",\"interfaces\":[\"handler\"]}],\"httpPort\":8080,"
    "\"environment\":\"default\"}";

/* Decode, then re-encode: same JSON value as the input (never compare bytes). */
static ProtobufCMessage *v2_round_trip(const ProtobufCMessageDescriptor *d, const char *json)
{
    ProtobufCMessage *m = tp_decode(d, json, 0);
    char *s = tp_encode(m, 0);
    json_t *a = tp_json(json), *b = tp_json(s);

    ck_assert_msg(tp_json_same(a, b), "%s\n  re-encoded as %s", json, s);
    json_decref(a);
    json_decref(b);
    lt_free(s);
    return m;
}

START_TEST(test_v2_start_request)
{
    Wasmcloud__Runtime__V2__WorkloadStartRequest *r =
        (Wasmcloud__Runtime__V2__WorkloadStartRequest *)
            v2_round_trip(&wasmcloud__runtime__v2__workload_start_request__descriptor,
                          v2_start_request);
    Wasmcloud__Runtime__V2__Workload *w = r->workload;
    Wasmcloud__Runtime__V2__Component *c;
    Wasmcloud__Runtime__V2__WitInterface *hi;

    ck_assert_str_eq(r->workload_id, "5b0c7e9e-3a5f-4b8e-9f1a-2d6c8e4b7a10");
    ck_assert_str_eq(w->namespace_, "default");
    ck_assert_str_eq(w->name, "hello-6d9f7c8b5-x2x9q");
    ck_assert_uint_eq(w->n_annotations, 1);
    ck_assert_str_eq(w->annotations[0]->key,
                     "runtime.wasmcloud.dev/workload-replica-set-generation");
    ck_assert_str_eq(w->annotations[0]->value, "3f1a9c2e");
    ck_assert_ptr_null(w->service);
    ck_assert_uint_eq(w->wit_world->n_components, 1);
    c = w->wit_world->components[0];
    ck_assert_str_eq(c->image, "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0");
    ck_assert_str_eq(c->name, "hello-world");
    ck_assert_ptr_nonnull(c->local_resources); /* {} is a set, empty message */
    ck_assert_int_eq(c->image_pull_policy,
                     WASMCLOUD__RUNTIME__V2__IMAGE_PULL_POLICY__IMAGE_PULL_POLICY_UNSPECIFIED);
    ck_assert_uint_eq(w->wit_world->n_host_interfaces, 1);
    hi = w->wit_world->host_interfaces[0];
    ck_assert_str_eq(hi->namespace_, "wasi");
    ck_assert_str_eq(hi->package, "http");
    ck_assert_uint_eq(hi->n_interfaces, 1);
    ck_assert_str_eq(hi->interfaces[0], "incoming-handler");
    ck_assert_str_eq(hi->config[0]->key, "host");
    ck_assert_str_eq(hi->config[0]->value, "hello.localhost.direct");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
END_TEST

START_TEST(test_v2_start_reply)
{
    Wasmcloud__Runtime__V2__WorkloadStartResponse *r =
        (Wasmcloud__Runtime__V2__WorkloadStartResponse *)
            v2_round_trip(&wasmcloud__runtime__v2__workload_start_response__descriptor,
                          v2_start_reply);

    ck_assert_str_eq(r->workload_status->workload_id, "5b0c7e9e-3a5f-4b8e-9f1a-2d6c8e4b7a10");
    ck_assert_int_eq(r->workload_status->workload_state,
                     WASMCLOUD__RUNTIME__V2__WORKLOAD_STATE__WORKLOAD_STATE_RUNNING);
    ck_assert_str_eq(r->workload_status->message, "Workload started successfully");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
END_TEST

START_TEST(test_v2_heartbeat)
{
    Wasmcloud__Runtime__V2__HostHeartbeat *h = (Wasmcloud__Runtime__V2__HostHeartbeat *)
        v2_round_trip(&wasmcloud__runtime__v2__host_heartbeat__descriptor, v2_heartbeat);

    ck_assert_str_eq(h->id, "14b0a1df-3f91-441c-b304-2aa56e9bef6e");
    ck_assert_str_eq(h->friendly_name, "exotic-toes-5866");
    ck_assert_str_eq(h->labels[0]->key, "hostgroup");
    ck_assert_str_eq(h->labels[0]->value, "default");
    ck_assert_int_eq(h->started_at->seconds, 1787140800); /* 2026-08-19T12:00:00Z */
    ck_assert_int_eq(h->started_at->nanos, 123456000);
    ck_assert(h->system_cpu_usage == 3.2f);
    ck_assert_uint_eq(h->system_memory_total, 16777216000ull);
    ck_assert_uint_eq(h->system_memory_free, 9000000000ull);
    ck_assert_uint_eq(h->component_count, 1);
    ck_assert_uint_eq(h->workload_count, 1);
    ck_assert_uint_eq(h->n_imports, 2);
    ck_assert_str_eq(h->imports[1]->interfaces[2], "secret");
    ck_assert_uint_eq(h->n_exports, 2);
    ck_assert_str_eq(h->exports[1]->version, "0.3.0");
    ck_assert_uint_eq(h->http_port, 8080);
    ck_assert_str_eq(h->environment, "default");
    protobuf_c_message_free_unpacked(&h->base, NULL);
}
END_TEST

/* What we send must look like what the Go operator sends (protojson rules). */
START_TEST(test_v2_encode_like_operator)
{
    Wasmcloud__Runtime__V2__WorkloadStartRequest r =
        WASMCLOUD__RUNTIME__V2__WORKLOAD_START_REQUEST__INIT;
    Wasmcloud__Runtime__V2__Workload w = WASMCLOUD__RUNTIME__V2__WORKLOAD__INIT;
    Wasmcloud__Runtime__V2__Service svc = WASMCLOUD__RUNTIME__V2__SERVICE__INIT;
    Wasmcloud__Runtime__V2__LocalResources lr = WASMCLOUD__RUNTIME__V2__LOCAL_RESOURCES__INIT;
    Wasmcloud__Runtime__V2__Volume vol = WASMCLOUD__RUNTIME__V2__VOLUME__INIT, *vols[] = { &vol };
    Wasmcloud__Runtime__V2__EmptyDirVolume ed = WASMCLOUD__RUNTIME__V2__EMPTY_DIR_VOLUME__INIT;
    char *s;

    svc.image = "ghcr.io/example/svc:1";
    svc.local_resources = &lr;
    svc.max_restarts = 3;
    svc.image_pull_policy = WASMCLOUD__RUNTIME__V2__IMAGE_PULL_POLICY__IMAGE_PULL_POLICY_ALWAYS;
    vol.name = "scratch";
    vol.volume_type_case = WASMCLOUD__RUNTIME__V2__VOLUME__VOLUME_TYPE_EMPTY_DIR;
    vol.empty_dir = &ed;
    w.namespace_ = "default";
    w.name = "svc";
    w.service = &svc;
    w.n_volumes = 1;
    w.volumes = vols;
    r.workload = &w;
    r.workload_id = "id-1";
    s = tp_encode(&r.base, 0);
    ck_assert_str_eq(s, "{\"workload\":{\"namespace\":\"default\",\"name\":\"svc\",\"service\":"
                        "{\"image\":\"ghcr.io/example/svc:1\",\"localResources\":{},"
                        "\"maxRestarts\":\"3\",\"imagePullPolicy\":\"IMAGE_PULL_POLICY_ALWAYS\"},"
                        "\"volumes\":[{\"name\":\"scratch\",\"emptyDir\":{}}]},"
                        "\"workloadId\":\"id-1\"}");
    lt_free(s);
}
END_TEST

/* Spellings a v2 peer may use, and the strictness real hosts apply. */
START_TEST(test_v2_strictness)
{
    static const ProtobufCMessageDescriptor *const status_reply =
        &wasmcloud__runtime__v2__workload_status_response__descriptor;

    tp_reencode(status_reply, "{\"workload_status\":{\"workload_id\":\"x\",\"workload_state\":6}}",
                0,
                "{\"workloadStatus\":{\"workloadId\":\"x\","
                "\"workloadState\":\"WORKLOAD_STATE_NOT_FOUND\"}}");
    tp_reencode(&wasmcloud__runtime__v2__workload_stop_request__descriptor, "{}", 0, "{}");
    tp_reencode(&google__protobuf__empty__descriptor, "{}", 0, "{}"); /* heartbeat RPC body */
    /* a field from a newer proto: refused by default, like a strict host */
    tp_decode_fails(
        status_reply, "{\"workloadStatus\":{\"workloadId\":\"x\",\"restartCount\":1}}", 0,
        LT_ERR_INVALID,
        "workloadStatus.restartCount: unknown field in wasmcloud.runtime.v2.WorkloadStatus");
    tp_decode_fails(&wasmcloud__runtime__v2__host_heartbeat__descriptor,
                    "{\"id\":\"h\",\"gpuCount\":\"2\"}", 0, LT_ERR_INVALID,
                    "gpuCount: unknown field in wasmcloud.runtime.v2.HostHeartbeat");
    tp_reencode(status_reply, "{\"workloadStatus\":{\"workloadId\":\"x\"}}", 0,
                "{\"workloadStatus\":{\"workloadId\":\"x\"}}");
    {
        ProtobufCMessage *m =
            tp_decode(&wasmcloud__runtime__v2__host_heartbeat__descriptor,
                      "{\"id\":\"h\",\"gpuCount\":\"2\"}", LT_PBJSON_IGNORE_UNKNOWN);
        ck_assert_str_eq(((Wasmcloud__Runtime__V2__HostHeartbeat *)m)->id, "h");
        protobuf_c_message_free_unpacked(m, NULL);
    }
    tp_decode_fails(&wasmcloud__runtime__v2__workload_start_request__descriptor,
                    "{\"workload\":{\"witWorld\":{\"components\":[{\"poolSize\":\"x\"}]}}}", 0,
                    LT_ERR_INVALID,
                    "workload.witWorld.components[0].poolSize: expected integer, got string \"x\"");
    tp_decode_fails(&wasmcloud__runtime__v2__workload_start_request__descriptor,
                    "{\"workload\":{\"volumes\":[{\"hostPath\":{},\"emptyDir\":{}}]}}", 0,
                    LT_ERR_INVALID,
                    "workload.volumes[0].emptyDir: oneof already has member \"host_path\" set");
}
END_TEST

/* ---- protoc cross-checks ----------------------------------------------------------------- */

/* Text format of the message whose JSON is protoc_json (as protoc --encode reads it). */
static const char protoc_text[] =
    "f_int32: -5 f_sint32: -6 f_sfixed32: 7 f_uint32: 4294967295 f_fixed32: 9\n"
    "f_int64: -9223372036854775808 f_sint64: -11 f_sfixed64: 12\n"
    "f_uint64: 18446744073709551615 f_fixed64: 14 f_float: 3.2 f_double: -0.1 f_bool: true\n"
    "f_string: \"h\\303\\251llo\" f_bytes: \"\\000\\001\\377\" f_enum: COLOR_RED\n"
    "f_msg { name: \"a\" n: 1 child { name: \"b\" } }\n"
    "r_int32: [1, -2, 3] r_int64: [1, -2] r_uint64: 3 r_float: [1.5, nan]\n"
    "r_double: [inf, -inf, 1e-7] r_bool: [true, false] r_string: [\"x\", \"\"]\n"
    "r_bytes: [\"\", \"A\"] r_enum: [COLOR_GREEN, COLOR_NEGATIVE] r_msg {} r_msg { n: 2 }\n"
    "m_str { key: \"k\" value: \"v\" } m_str { key: \"\" value: \"empty\" }\n"
    "m_int_msg { key: 1 value { name: \"one\" } } m_int_msg { key: -2 value {} }\n"
    "m_bool { key: true value: \"t\" } m_bool { key: false value: \"f\" }\n"
    "m_int64_enum { key: 9223372036854775807 value: COLOR_RED }\n"
    "m_u32_bytes { key: 4294967295 value: \"\\377\" } m_s64_double { key: -1 value: 2.5 }\n"
    "o_string: \"chosen\" ts { seconds: 63108020 nanos: 21000000 }\n"
    "r_ts { seconds: -62135596800 } r_ts { seconds: 253402300799 nanos: 999999999 }\n"
    "dur { seconds: -1 nanos: -500000000 }\n"
    "w_int32 {} w_uint32 { value: 1 } w_int64 { value: 2 } w_uint64 { value: 3 }\n"
    "w_float { value: 1.25 } w_double { value: nan } w_bool {} w_string {}\n"
    "w_bytes { value: \"\\000\" }\n"
    "st { fields { key: \"a\" value { number_value: 1 } } fields { key: \"b\" value {\n"
    "  list_value { values { bool_value: true } values { null_value: NULL_VALUE }\n"
    "  values { string_value: \"s\" } values { struct_value { fields { key: \"c\"\n"
    "  value { struct_value {} } } } } } } } }\n"
    "val { list_value { values { number_value: 1 } values { string_value: \"x\" } } }\n"
    "lst { values { null_value: NULL_VALUE } values { struct_value {} } }\n"
    "mask { paths: \"f_int32\" paths: \"f_msg.child_name\" } empty {}\n"
    "snake_case_name_2x: \"s\"\n";

static const char protoc_json[] =
    "{\"fInt32\":-5,\"fSint32\":-6,\"fSfixed32\":7,\"fUint32\":4294967295,\"fFixed32\":9,"
    "\"fInt64\":\"-9223372036854775808\",\"fSint64\":\"-11\",\"fSfixed64\":\"12\","
    "\"fUint64\":\"18446744073709551615\",\"fFixed64\":\"14\",\"fFloat\":3.2,\"fDouble\":-0.1,"
    "\"fBool\":true,\"fString\":\"h\xc3\xa9llo\",\"fBytes\":\"AAH/\",\"fEnum\":\"COLOR_RED\","
    "\"fMsg\":{\"name\":\"a\",\"n\":1,\"child\":{\"name\":\"b\"}},\"rInt32\":[1,-2,3],"
    "\"rInt64\":[\"1\",\"-2\"],\"rUint64\":[\"3\"],\"rFloat\":[1.5,\"NaN\"],"
    "\"rDouble\":[\"Infinity\",\"-Infinity\",1e-7],\"rBool\":[true,false],"
    "\"rString\":[\"x\",\"\"],\"rBytes\":[\"\",\"QQ==\"],"
    "\"rEnum\":[\"COLOR_GREEN\",\"COLOR_NEGATIVE\"],\"rMsg\":[{},{\"n\":2}],"
    "\"mStr\":{\"k\":\"v\",\"\":\"empty\"},\"mIntMsg\":{\"1\":{\"name\":\"one\"},\"-2\":{}},"
    "\"mBool\":{\"true\":\"t\",\"false\":\"f\"},"
    "\"mInt64Enum\":{\"9223372036854775807\":\"COLOR_RED\"},"
    "\"mU32Bytes\":{\"4294967295\":\"/w==\"},\"mS64Double\":{\"-1\":2.5},"
    "\"oString\":\"chosen\",\"ts\":\"1972-01-01T10:00:20.021Z\","
    "\"rTs\":[\"0001-01-01T00:00:00Z\",\"9999-12-31T23:59:59.999999999Z\"],"
    "\"dur\":\"-1.500s\",\"wInt32\":0,\"wUint32\":1,\"wInt64\":\"2\",\"wUint64\":\"3\","
    "\"wFloat\":1.25,\"wDouble\":\"NaN\",\"wBool\":false,\"wString\":\"\",\"wBytes\":\"AA==\","
    "\"st\":{\"a\":1,\"b\":[true,null,\"s\",{\"c\":{}}]},\"val\":[1,\"x\"],\"lst\":[null,{}],"
    "\"mask\":\"fInt32,fMsg.childName\",\"empty\":{},\"snakeCaseName2x\":\"s\"}";

static const char v2_heartbeat_text[] =
    "id: \"14b0a1df-3f91-441c-b304-2aa56e9bef6e\" hostname: \"10.244.0.7\"\n"
    "friendly_name: \"exotic-toes-5866\" version: \"2.7.0\"\n"
    "labels { key: \"hostgroup\" value: \"default\" }\n"
    "started_at { seconds: 1787140800 nanos: 123456000 }\n"
    "os_arch: \"x86_64\" os_name: \"linux\" os_kernel: \"unix\" system_cpu_usage: 3.2\n"
    "system_memory_total: 16777216000 system_memory_free: 9000000000\n"
    "component_count: 1 workload_count: 1\n"
    "imports { namespace: \"wasi\" package: \"config\" version: \"0.2.0-rc.1\" interfaces: "
    "\"store\" }\n"
    "imports { namespace: \"wasmcloud\" package: \"secrets\" version: \"2.1.0\"\n"
    "  interfaces: [\"store\", \"reveal\", \"secret\"] }\n"
    "exports { namespace: \"wasmcloud\" package: \"messaging\" version: \"0.2.0\" interfaces: "
    "\"handler\" }\n"
    "exports { namespace: \"wasmcloud\" package: \"messaging\" version: \"0.3.0\" interfaces: "
    "\"handler\" }\n"
    "http_port: 8080 environment: \"default\"\n";

/* protoc is a build requirement of the tests (scripts/setup.sh installs it): without it the
 * cross-checks fail instead of passing without having checked anything. */
static void require_protoc(void)
{
    ck_assert_msg(PBJSON_PROTOC[0] != '\0',
                  "protoc was not found at configure time: install protobuf-compiler "
                  "(scripts/setup.sh) and reconfigure; the protoc cross-checks cannot run");
}

/* Run protoc with mode (--encode=T / --decode=T) on proto file, feeding in. */
static char *run_protoc(const char *mode, const char *proto, const void *in, size_t in_len,
                        size_t *out_len)
{
    const char *const argv[] = { PBJSON_PROTOC,
                                 "--proto_path=" PBJSON_PROTO_DIR,
                                 "--proto_path=" PBJSON_SCHEMAS_DIR,
                                 "--proto_path=" PBJSON_WKT_DIR,
                                 mode,
                                 proto,
                                 NULL };
    lt_test_cmd cmd = { .argv = argv, .stdin_data = in, .stdin_len = in_len };
    lt_test_cmd_result res;
    char *out;

    ck_assert_int_eq(lt_test_run(&cmd, &res), LT_OK);
    ck_assert_msg(res.exit_code == 0, "protoc %s failed: %s", mode, res.err);
    out = res.out;
    *out_len = res.out_len;
    res.out = NULL;
    lt_test_cmd_result_cleanup(&res);
    return out;
}

/* protoc text -> binary -> protobuf-c -> our JSON equals the expected JSON. */
static void protoc_to_json(const ProtobufCMessageDescriptor *d, const char *type, const char *proto,
                           const char *text, const char *want_json)
{
    char mode[128];
    size_t len;
    char *bin, *s;
    ProtobufCMessage *m;
    json_t *got, *want = tp_json(want_json);

    snprintf(mode, sizeof(mode), "--encode=%s", type);
    bin = run_protoc(mode, proto, text, strlen(text), &len);
    m = protobuf_c_message_unpack(d, NULL, len, (const uint8_t *)bin);
    ck_assert_ptr_nonnull(m);
    s = tp_encode(m, 0);
    got = tp_json(s);
    ck_assert_msg(tp_json_same(got, want), "from protoc: %s\n  wanted %s", s, want_json);
    json_decref(got);
    json_decref(want);
    lt_free(s);
    lt_free(bin);
    protobuf_c_message_free_unpacked(m, NULL);
}

START_TEST(test_protoc_text_to_json)
{
    require_protoc();
    protoc_to_json(KINDS, "lttest.Kinds", "kinds.proto", protoc_text, protoc_json);
    protoc_to_json(&wasmcloud__runtime__v2__host_heartbeat__descriptor,
                   "wasmcloud.runtime.v2.HostHeartbeat",
                   "wasmcloud/runtime/v2/host_heartbeat.proto", v2_heartbeat_text, v2_heartbeat);
}
END_TEST

/*
 * our JSON -> protobuf-c -> binary -> protoc text (returned, for checks) ->
 * protoc binary -> protobuf-c -> our JSON: the same JSON value. (Not the same
 * bytes: protoc sorts map entries and writes default map keys.)
 */
static char *json_through_protoc(const ProtobufCMessageDescriptor *d, const char *type,
                                 const char *proto, const char *json)
{
    ProtobufCMessage *m = tp_decode(d, json, 0), *back;
    size_t n = protobuf_c_message_get_packed_size(m), tlen, blen;
    uint8_t *bin = lt_malloc(n + 1);
    char mode[128], *text, *bin2, *s;
    json_t *a = tp_json(json), *b;

    ck_assert_ptr_nonnull(bin);
    protobuf_c_message_pack(m, bin);
    snprintf(mode, sizeof(mode), "--decode=%s", type);
    text = run_protoc(mode, proto, bin, n, &tlen);
    snprintf(mode, sizeof(mode), "--encode=%s", type);
    bin2 = run_protoc(mode, proto, text, tlen, &blen);
    back = protobuf_c_message_unpack(d, NULL, blen, (const uint8_t *)bin2);
    ck_assert_ptr_nonnull(back);
    s = tp_encode(back, 0);
    b = tp_json(s);
    ck_assert_msg(tp_json_same(a, b), "through protoc: %s\n  became %s", json, s);
    json_decref(a);
    json_decref(b);
    lt_free(s);
    lt_free(bin2);
    lt_free(bin);
    protobuf_c_message_free_unpacked(back, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    return text;
}

static void assert_has(const char *text, const char *line)
{
    ck_assert_msg(strstr(text, line) != NULL, "protoc output lacks \"%s\":\n%s", line, text);
}

START_TEST(test_json_to_protoc_text)
{
    char *t;

    require_protoc();
    t = json_through_protoc(KINDS, "lttest.Kinds", "kinds.proto", protoc_json);
    assert_has(t, "f_int64: -9223372036854775808\n");
    assert_has(t, "f_uint64: 18446744073709551615\n");
    assert_has(t, "f_float: 3.2\n");
    assert_has(t, "f_bytes: \"\\000\\001\\377\"\n");
    assert_has(t, "f_enum: COLOR_RED\n");
    assert_has(t, "r_float: nan\n");
    assert_has(t, "r_double: -inf\n");
    assert_has(t, "m_bool {\n  key: true\n  value: \"t\"\n}\n");
    assert_has(t, "m_int_msg {\n  key: -2\n  value {\n  }\n}\n");
    assert_has(t, "o_string: \"chosen\"\n");
    assert_has(t, "ts {\n  seconds: 63108020\n  nanos: 21000000\n}\n");
    assert_has(t, "dur {\n  seconds: -1\n  nanos: -500000000\n}\n");
    assert_has(t, "w_int32 {\n}\n");
    assert_has(t, "paths: \"f_msg.child_name\"\n");
    lt_free(t);
    t = json_through_protoc(&wasmcloud__runtime__v2__workload_start_request__descriptor,
                            "wasmcloud.runtime.v2.WorkloadStartRequest",
                            "wasmcloud/runtime/v2/workload_service.proto", v2_start_request);
    assert_has(t, "workload_id: \"5b0c7e9e-3a5f-4b8e-9f1a-2d6c8e4b7a10\"\n");
    assert_has(t, "  wit_world {\n    components {\n      image: "
                  "\"ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0\"\n"
                  "      local_resources {\n      }\n      name: \"hello-world\"\n");
    assert_has(
        t, "      config {\n        key: \"host\"\n        value: \"hello.localhost.direct\"\n");
    lt_free(t);
    t = json_through_protoc(&wasmcloud__runtime__v2__host_heartbeat__descriptor,
                            "wasmcloud.runtime.v2.HostHeartbeat",
                            "wasmcloud/runtime/v2/host_heartbeat.proto", v2_heartbeat);
    assert_has(t, "system_cpu_usage: 3.2\n");
    assert_has(t, "started_at {\n  seconds: 1787140800\n  nanos: 123456000\n}\n");
    assert_has(t, "system_memory_total: 16777216000\n");
    lt_free(t);
}
END_TEST

Suite *pbjson_interop_suite(void)
{
    Suite *s = suite_create("pbjson_interop");
    TCase *v2 = tcase_create("wasmcloud_v2");
    TCase *pc = tcase_create("protoc");

    tcase_add_test(v2, test_v2_start_request);
    tcase_add_test(v2, test_v2_start_reply);
    tcase_add_test(v2, test_v2_heartbeat);
    tcase_add_test(v2, test_v2_encode_like_operator);
    tcase_add_test(v2, test_v2_strictness);
    tcase_set_timeout(pc, 60);
    tcase_add_test(pc, test_protoc_text_to_json);
    tcase_add_test(pc, test_json_to_protoc_text);
    suite_add_tcase(s, v2);
    suite_add_tcase(s, pc);
    return s;
}
