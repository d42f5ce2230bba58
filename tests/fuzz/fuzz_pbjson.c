/*
 * fuzz_pbjson.c - libFuzzer target for lt_pbjson. Arbitrary bytes are decoded
 * as lttest.Kinds JSON (tests/wire/kinds.proto) and as the wasmCloud 2.x
 * messages latticed reads from hosts (HostHeartbeat, the workload responses)
 * or watches (WorkloadStartRequest), strictly and with
 * LT_PBJSON_IGNORE_UNKNOWN. A failure must leave no message and carry a
 * message and an input-error status. A success must encode; the encoding
 * must decode strictly to a message with the same binary packing that
 * encodes to the same text, and the EMIT_DEFAULTS|PRETTY encoding must read
 * back to the same message too. Any violation aborts. Built with libFuzzer
 * under -Dfuzz=true, and with tests/fuzz/lt_fuzz_driver.c as a smoke test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.pb-c.h"
#include "wasmcloud/runtime/v2/host_heartbeat.pb-c.h"
#include "wasmcloud/runtime/v2/workload_service.pb-c.h"
#include "lt_alloc.h"
#include "lt_pbjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, what)          \
    do {                           \
        if (!(cond))               \
            die((what), __LINE__); \
    } while (0)

static void die(const char *what, int line)
{
    fprintf(stderr, "fuzz_pbjson.c:%d: %s (last error: %s)\n", line, what, lt_error_message());
    abort();
}

static char *encode(const ProtobufCMessage *m, unsigned flags)
{
    char *s = NULL;
    size_t len = 0;
    lt_status st = lt_pbjson_encode(m, flags, &s, &len);

    CHECK(st == LT_OK, "a decoded message does not encode");
    CHECK(strlen(s) == len, "encoded length is wrong");
    return s;
}

static ProtobufCMessage *decode_own(const ProtobufCMessageDescriptor *desc, const char *s)
{
    ProtobufCMessage *m = NULL;
    lt_status st = lt_pbjson_decode(desc, s, strlen(s), 0, &m);

    CHECK(st == LT_OK, "our own output does not decode strictly");
    return m;
}

/* Binary packings of a and b are identical. */
static void same_binary(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a);
    size_t nb = protobuf_c_message_get_packed_size(b);
    uint8_t *pa, *pb;

    CHECK(na == nb, "re-decoded message packs to a different size");
    pa = malloc(na + 1);
    pb = malloc(nb + 1);
    CHECK(pa != NULL && pb != NULL, "out of memory");
    protobuf_c_message_pack(a, pa);
    protobuf_c_message_pack(b, pb);
    CHECK(memcmp(pa, pb, na) == 0, "re-decoded message packs differently");
    free(pa);
    free(pb);
}

static void round_trip(const ProtobufCMessage *m)
{
    char *s1 = encode(m, 0);
    ProtobufCMessage *m2 = decode_own(m->descriptor, s1);
    char *s2 = encode(m2, 0);
    char *s3 = encode(m, LT_PBJSON_EMIT_DEFAULTS | LT_PBJSON_PRETTY);
    ProtobufCMessage *m3 = decode_own(m->descriptor, s3);
    char *s4 = encode(m3, 0);

    CHECK(strcmp(s1, s2) == 0, "encode(decode(encode(m))) differs from encode(m)");
    CHECK(strcmp(s1, s4) == 0, "the EMIT_DEFAULTS|PRETTY encoding reads back differently");
    same_binary(m, m2);
    same_binary(m, m3);
    protobuf_c_message_free_unpacked(m2, NULL);
    protobuf_c_message_free_unpacked(m3, NULL);
    lt_free(s1);
    lt_free(s2);
    lt_free(s3);
    lt_free(s4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned modes[] = { 0, LT_PBJSON_IGNORE_UNKNOWN };
    static const ProtobufCMessageDescriptor *const descs[] = {
        &lttest__kinds__descriptor,
        &wasmcloud__runtime__v2__host_heartbeat__descriptor,
        &wasmcloud__runtime__v2__workload_start_request__descriptor,
        &wasmcloud__runtime__v2__workload_start_response__descriptor,
    };
    const size_t nm = sizeof(modes) / sizeof(modes[0]);

    for (size_t i = 0; i < nm * sizeof(descs) / sizeof(descs[0]); i++) {
        ProtobufCMessage *m = (ProtobufCMessage *)&m; /* must be reset to NULL on failure */
        lt_status st;

        lt_error_clear();
        st = lt_pbjson_decode(descs[i / nm], (const char *)data, size, modes[i % nm], &m);
        if (st != LT_OK) {
            CHECK(m == NULL, "a failed decode left *out set");
            CHECK(st == LT_ERR_PARSE || st == LT_ERR_INVALID || st == LT_ERR_TOO_BIG ||
                      st == LT_ERR_UNSUPPORTED,
                  "unexpected status for bad input");
            CHECK(lt_error_message()[0] != '\0', "a failure without a message");
            continue;
        }
        round_trip(m);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    return 0;
}
