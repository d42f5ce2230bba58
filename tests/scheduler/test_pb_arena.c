/*
 * test_pb_arena.c - protobuf-c unpacking into the service's arena (scheduler/pb_arena.c): a
 * heartbeat of many instances decodes to the same values as with the default allocator,
 * whether the first chunk fits or the estimate is short and chunks are topped up, a
 * malformed message fails cleanly, and releasing frees everything (ASan, valgrind). And the
 * driver's bound on a request's packed size (lt__sched_svc_request_bound) is never short.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_testutil.h"
#include "sched_svc_int.h"

#define N_INST 100 /* the instance array (800 bytes) outgrows a top-up chunk */

/* A heartbeat of N_INST instances with five annotations each, packed into *len bytes. */
static uint8_t *packed_heartbeat(size_t *len)
{
    static char ids[N_INST][40], keys[5][32], vals[N_INST][5][32];
    static Latticed__Host__V1__Instance inst[N_INST], *ip[N_INST];
    static Latticed__Host__V1__Instance__AnnotationsEntry ann[N_INST][5], *ap[N_INST][5];
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    uint8_t *buf;

    for (size_t i = 0; i < N_INST; i++) {
        static const Latticed__Host__V1__Instance ii = LATTICED__HOST__V1__INSTANCE__INIT;

        inst[i] = ii;
        snprintf(ids[i], sizeof(ids[i]), "i-%030zu", i);
        inst[i].instance_id = ids[i];
        inst[i].app_name = "web";
        inst[i].component_name = "api";
        inst[i].image_ref = "ghcr.io/acme/api:1.0.0";
        inst[i].spec_digest = "0123456789abcdef0123456789abcdef";
        inst[i].state = LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_RUNNING;
        for (size_t k = 0; k < 5; k++) {
            static const Latticed__Host__V1__Instance__AnnotationsEntry ai =
                LATTICED__HOST__V1__INSTANCE__ANNOTATIONS_ENTRY__INIT;

            snprintf(keys[k], sizeof(keys[k]), "latticed.dev/k%zu", k);
            snprintf(vals[i][k], sizeof(vals[i][k]), "v%zu-%zu", i, k);
            ann[i][k] = ai;
            ann[i][k].key = keys[k];
            ann[i][k].value = vals[i][k];
            ap[i][k] = &ann[i][k];
        }
        inst[i].n_annotations = 5;
        inst[i].annotations = ap[i];
        ip[i] = &inst[i];
    }
    hb.host_id = "h1";
    hb.lattice = "default";
    hb.sequence = 7;
    hb.n_instances = N_INST;
    hb.instances = ip;
    *len = latticed__host__v1__heartbeat__get_packed_size(&hb);
    buf = malloc(*len);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(latticed__host__v1__heartbeat__pack(&hb, buf), *len);
    return buf;
}

static void check_same(const Latticed__Host__V1__Heartbeat *a,
                       const Latticed__Host__V1__Heartbeat *b)
{
    ck_assert_str_eq(a->host_id, b->host_id);
    ck_assert_uint_eq(a->sequence, b->sequence);
    ck_assert_uint_eq(a->n_instances, b->n_instances);
    for (size_t i = 0; i < a->n_instances; i++) {
        ck_assert_str_eq(a->instances[i]->instance_id, b->instances[i]->instance_id);
        ck_assert_str_eq(a->instances[i]->image_ref, b->instances[i]->image_ref);
        ck_assert_int_eq(a->instances[i]->state, b->instances[i]->state);
        ck_assert_uint_eq(a->instances[i]->n_annotations, b->instances[i]->n_annotations);
        for (size_t k = 0; k < a->instances[i]->n_annotations; k++) {
            ck_assert_str_eq(a->instances[i]->annotations[k]->key,
                             b->instances[i]->annotations[k]->key);
            ck_assert_str_eq(a->instances[i]->annotations[k]->value,
                             b->instances[i]->annotations[k]->value);
        }
    }
}

START_TEST(test_arena_unpacks_the_same)
{
    size_t len, estimates[3], e;
    uint8_t *buf = packed_heartbeat(&len);
    Latticed__Host__V1__Heartbeat *ref = latticed__host__v1__heartbeat__unpack(NULL, len, buf);

    ck_assert_ptr_nonnull(ref);
    estimates[0] = len;      /* the real size: one chunk, or one and a top-up */
    estimates[1] = 0;        /* far too short: topped up many times */
    estimates[2] = 10 * len; /* generous */
    for (e = 0; e < 3; e++) {
        sched_pb_arena a;
        Latticed__Host__V1__Heartbeat *hb;

        lt__sched_pb_arena_init(&a, estimates[e]);
        hb = latticed__host__v1__heartbeat__unpack(&a.alloc, len, buf);
        ck_assert_ptr_nonnull(hb);
        check_same(ref, hb);
        lt__sched_pb_arena_release(&a);
        ck_assert_ptr_null(a.head);
    }
    latticed__host__v1__heartbeat__free_unpacked(ref, NULL);
    free(buf);
}
END_TEST

START_TEST(test_arena_malformed)
{
    size_t len;
    uint8_t *buf = packed_heartbeat(&len);
    sched_pb_arena a;

    lt__sched_pb_arena_init(&a, len / 2);
    /* Cut in the middle of the instances: protobuf-c refuses it. */
    ck_assert_ptr_null(latticed__host__v1__heartbeat__unpack(&a.alloc, len / 2 + 3, buf));
    lt__sched_pb_arena_release(&a);
    lt__sched_pb_arena_release(NULL);
    free(buf);
}
END_TEST

/* Items of growing sizes (up to 20 KB, a 3-byte length) wrapped the way the driver wraps them,
 * with the largest epoch, grace and names: the packed request never exceeds the bound. */
START_TEST(test_request_bound_holds)
{
    static char big[20000], id[64], rid[160], lattice[LT_MAX_TOKEN + 1];
    enum {
        N = 300
    };
    Latticed__Host__V1__InstanceSpec st[N], *sp[N];
    Latticed__Host__V1__StopItem so[N], *tp[N];
    Latticed__Host__V1__LinkSpec li[N], *lp[N];
    Latticed__Host__V1__UnlinkItem un[N], *up[N];
    size_t n, i, v, bound;

    memset(big, 'x', sizeof(big) - 1); /* item i's text: its last 1 + (i * 997) % 19998 bytes */
    memset(lattice, 'l', sizeof(lattice) - 1);
    memset(rid, 'r', sizeof(rid) - 1);
    snprintf(id, sizeof(id), "i-%032d", 7);
    for (n = 1; n <= N; n = n < 4 ? n + 1 : n * 3) {
        for (v = 0; v < 4; v++) {
            lt_sched_batch b = { .verb = (lt_sched_verb)v, .count = n };
            Latticed__Host__V1__StartRequest sr = LATTICED__HOST__V1__START_REQUEST__INIT;
            Latticed__Host__V1__StopRequest tr = LATTICED__HOST__V1__STOP_REQUEST__INIT;
            Latticed__Host__V1__LinkRequest lr = LATTICED__HOST__V1__LINK_REQUEST__INIT;
            Latticed__Host__V1__UnlinkRequest ur = LATTICED__HOST__V1__UNLINK_REQUEST__INIT;
            ProtobufCMessage *m[4] = { &sr.base, &tr.base, &lr.base, &ur.base };

            for (i = 0; i < n; i++) {
                static const Latticed__Host__V1__InstanceSpec si =
                    LATTICED__HOST__V1__INSTANCE_SPEC__INIT;
                static const Latticed__Host__V1__StopItem oi = LATTICED__HOST__V1__STOP_ITEM__INIT;
                static const Latticed__Host__V1__LinkSpec ls = LATTICED__HOST__V1__LINK_SPEC__INIT;
                static const Latticed__Host__V1__UnlinkItem ui =
                    LATTICED__HOST__V1__UNLINK_ITEM__INIT;
                const char *text = big + sizeof(big) - 2 - (i * 997) % (sizeof(big) - 2);

                st[i] = si, so[i] = oi, li[i] = ls, un[i] = ui;
                st[i].instance_id = id, st[i].image_ref = (char *)text, st[i].ordinal = UINT32_MAX;
                so[i].instance_id = id, so[i].placement = (char *)text;
                li[i].link_id = id, li[i].source_component_id = (char *)text;
                un[i].link_id = (char *)text;
                sp[i] = &st[i], tp[i] = &so[i], lp[i] = &li[i], up[i] = &un[i];
                b.items_bytes += protobuf_c_message_get_packed_size(v == 0   ? &st[i].base
                                                                    : v == 1 ? &so[i].base
                                                                    : v == 2 ? &li[i].base
                                                                             : &un[i].base);
            }
            sr.epoch = tr.epoch = lr.epoch = ur.epoch = UINT64_MAX;
            sr.lattice = tr.lattice = lr.lattice = ur.lattice = lattice;
            sr.request_id = tr.request_id = lr.request_id = ur.request_id = rid;
            tr.grace_ms = UINT32_MAX;
            sr.n_instances = n, sr.instances = sp;
            tr.n_items = n, tr.items = tp;
            lr.n_links = n, lr.links = lp;
            ur.n_items = n, ur.items = up;
            bound = lt__sched_svc_request_bound(&b, lattice, rid);
            ck_assert_uint_gt(bound, 0); /* every item has a text: items_bytes > 0 */
            ck_assert_uint_le(protobuf_c_message_get_packed_size(m[v]), bound);
        }
    }
    {
        lt_sched_batch inv = { .verb = LT_SCHED_INVENTORY };

        ck_assert_uint_eq(lt__sched_svc_request_bound(&inv, lattice, rid), 0);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pb_arena");

    lt_test_tcase(s, "arena", 60,
                  (const TTest *const[]){ test_arena_unpacks_the_same, test_arena_malformed,
                                          test_request_bound_holds, NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(suite());
}
