/*
 * test_trace.c - the W3C traceparent parser (valid headers, version ff, all-zero
 * ids, wrong lengths, uppercase, later versions), formatting round trips, new
 * traces and child spans.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lt_trace.h"
#include "lt_testutil.h"

#define VALID "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static lt_status parse(const char *s, lt_trace_ctx *c)
{
    return lt_trace_parse(s, strlen(s), c);
}

START_TEST(test_parse_valid)
{
    lt_trace_ctx c;
    char hex[LT_TRACE_ID_HEX], span[LT_TRACE_SPAN_HEX], text[LT_TRACE_PARENT_LEN + 1];

    ck_assert_int_eq(parse(VALID, &c), LT_OK);
    lt_trace_id_hex(&c, hex);
    lt_trace_span_hex(&c, span);
    ck_assert_str_eq(hex, "4bf92f3577b34da6a3ce929d0e0e4736");
    ck_assert_str_eq(span, "00f067aa0ba902b7");
    ck_assert_uint_eq(c.flags, 1);
    lt_trace_format(&c, text);
    ck_assert_str_eq(text, VALID);
    /* not sampled */
    ck_assert_int_eq(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", &c), LT_OK);
    ck_assert_uint_eq(c.flags, 0);
    /* len counts, not the NUL: a valid prefix of a longer buffer */
    ck_assert_int_eq(lt_trace_parse(VALID "-junk", LT_TRACE_PARENT_LEN, &c), LT_OK);
}
END_TEST

START_TEST(test_parse_invalid)
{
    static const char *const bad[] = {
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* version ff */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  /* zero parent id */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",   /* trace id 31 */
        "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01", /* trace id 33 */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",   /* span id 15 */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",   /* flags 1 digit */
        VALID "-00",                                                /* 00 is exactly 55 */
        VALID "0",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  /* uppercase */
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",  /* separator */
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* version not hex */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", /* later: 56th not '-' */
        "",
        "00",
    };
    lt_trace_ctx c;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(parse(bad[i], &c) == LT_ERR_INVALID, "accepted [%zu] %s", i, bad[i]);
    ck_assert_int_eq(lt_trace_parse(NULL, 0, &c), LT_ERR_INVALID);
    ck_assert_int_eq(lt_trace_parse(VALID, LT_TRACE_PARENT_LEN - 1, &c), LT_ERR_INVALID);
}
END_TEST

/* A later version is parsed as 00 where it can be (the spec's forward compatibility). */
START_TEST(test_parse_later_version)
{
    lt_trace_ctx c;
    char text[LT_TRACE_PARENT_LEN + 1];

    ck_assert_int_eq(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &c), LT_OK);
    ck_assert_int_eq(parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever", &c),
                     LT_OK);
    lt_trace_format(&c, text);
    ck_assert_str_eq(text, VALID);
}
END_TEST

START_TEST(test_new_and_child)
{
    lt_trace_ctx a, b, child;
    char text[LT_TRACE_PARENT_LEN + 1];

    lt_trace_new(&a);
    lt_trace_new(&b);
    ck_assert(memcmp(a.trace_id, b.trace_id, 16) != 0);
    ck_assert_uint_eq(a.flags, 1);
    lt_trace_format(&a, text);
    ck_assert_int_eq(parse(text, &b), LT_OK);
    ck_assert(memcmp(&a, &b, sizeof(a)) == 0);
    lt_trace_child(&a, &child);
    ck_assert(memcmp(a.trace_id, child.trace_id, 16) == 0);
    ck_assert(memcmp(a.span_id, child.span_id, 8) != 0);
    ck_assert_uint_eq(child.flags, a.flags);
}
END_TEST

#define IDS_PER_THREAD 2000

static void *make_ids(void *arg)
{
    lt_trace_ctx *out = arg;

    for (size_t i = 0; i < IDS_PER_THREAD; i++)
        lt_trace_new(&out[i]);
    return NULL;
}

static int ctx_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 24); /* trace id and span id */
}

/* Ids come from a PRNG per thread (seeded from the kernel): threads making ids at the same time
 * never make the same one, and none is all zero. */
START_TEST(test_ids_unique_across_threads)
{
    static lt_trace_ctx ids[4 * IDS_PER_THREAD];
    static const uint8_t zero[16];
    pthread_t t[4];

    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, make_ids, &ids[i * IDS_PER_THREAD]), 0);
    for (size_t i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    qsort(ids, 4 * IDS_PER_THREAD, sizeof(ids[0]), ctx_cmp);
    for (size_t i = 0; i < 4 * IDS_PER_THREAD; i++) {
        ck_assert(memcmp(ids[i].trace_id, zero, 16) != 0);
        ck_assert(memcmp(ids[i].span_id, zero, 8) != 0);
        if (i > 0)
            ck_assert_msg(memcmp(ids[i - 1].trace_id, ids[i].trace_id, 16) != 0,
                          "trace id made twice");
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trace");

    lt_test_tcase(s, "trace", 0,
                  (const TTest *const[]){ test_parse_valid, test_parse_invalid,
                                          test_parse_later_version, test_new_and_child,
                                          test_ids_unique_across_threads, NULL });
    return lt_test_run_suite(s);
}
