/*
 * test_time.c - core/lt_time (RFC 3339 text of every module) and core/lt_rand
 * (seeded PRNG, kernel randomness, UUIDv4 text).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lt_rand.h"
#include "lt_time.h"
#include "lt_testutil.h"

/* The CloudEvent ce-time form: offsets, either case, leap second, year 0. */
#define CE_FLAGS (LT_TIME_LEAP_SECOND | LT_TIME_YEAR_ZERO)

START_TEST(test_time_parse)
{
    static const struct {
        const char *s;
        int64_t sec;
        int32_t nsec;
    } good[] = {
        { "1970-01-01T00:00:00Z", 0, 0 },
        { "2024-05-01T12:00:00.5+02:00", 1714557600, 500000000 },
        { "2024-05-01t10:00:00z", 1714557600, 0 },
        { "2024-05-01T09:30:00.000000001-00:30", 1714557600, 1 },
        { "2024-02-29T00:00:00Z", 1709164800, 0 },
        { "2000-02-29T00:00:00Z", 951782400, 0 },
        { "1969-12-31T23:59:59.999Z", -1, 999000000 },
        { "2016-12-31T23:59:60Z", 1483228800, 0 },
        { "0001-01-01T00:00:00Z", -62135596800, 0 },
        { "9999-12-31T23:59:59Z", 253402300799, 0 },
    };
    static const char *const bad[] = {
        "",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:61Z",
        "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00.1234567890Z",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00+01:60",
        "2024-01-01T00:00:00+01",
        "2024-01-01T00:00:00Zx",
        "2024-01-01T00:00:00Z ",
        "24-01-01T00:00:00Z",
        "2024-1-01T00:00:00Z",
        "+2024-01-01T00:00:00Z",
    };
    int64_t sec, ms;
    int32_t nsec;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(lt_time_parse(good[i].s, CE_FLAGS, &sec, &nsec) == LT_OK, "%s", good[i].s);
        ck_assert_msg(sec == good[i].sec && nsec == good[i].nsec, "%s: %lld.%09d", good[i].s,
                      (long long)sec, (int)nsec);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(lt_time_parse(bad[i], CE_FLAGS, &sec, &nsec) == LT_ERR_INVALID, "%s", bad[i]);
    ck_assert_int_eq(lt_time_parse(NULL, CE_FLAGS, &sec, &nsec), LT_ERR_INVALID);
    /* the flags: strict (proto3) refuses the leap second and year 0; UTC_ONLY refuses offsets */
    ck_assert_int_eq(lt_time_parse("2016-12-31T23:59:60Z", 0, &sec, &nsec), LT_ERR_INVALID);
    ck_assert_int_eq(lt_time_parse("0000-12-31T00:00:00Z", 0, &sec, &nsec), LT_ERR_INVALID);
    ck_assert_int_eq(lt_time_parse("0000-12-31T00:00:00Z", CE_FLAGS, &sec, &nsec), LT_OK);
    ck_assert_int_eq(lt_time_parse("2024-05-01T12:00:00+02:00", LT_TIME_UTC_ONLY, &sec, &nsec),
                     LT_ERR_INVALID);
    ck_assert_int_eq(lt_time_parse_ms("2024-05-01T12:00:00.123456Z", LT_TIME_UTC_ONLY, &ms), LT_OK);
    ck_assert_int_eq(ms, 1714564800123LL);
    ck_assert_int_eq(lt_time_parse_ms("nope", 0, &ms), LT_ERR_INVALID);
}
END_TEST

START_TEST(test_time_format)
{
    char t[LT_TIME_TEXT_MAX];
    int64_t sec;
    int32_t nsec;

    /* proto3 / ce-time: the fewest of 0, 3, 6, 9 digits */
    ck_assert_uint_eq(lt_time_format(1714557600, 0, LT_TIME_FRAC_AUTO, t), 20);
    ck_assert_str_eq(t, "2024-05-01T10:00:00Z");
    lt_time_format(-1, 999000000, LT_TIME_FRAC_AUTO, t);
    ck_assert_str_eq(t, "1969-12-31T23:59:59.999Z");
    lt_time_format(0, 120000, LT_TIME_FRAC_AUTO, t);
    ck_assert_str_eq(t, "1970-01-01T00:00:00.000120Z");
    lt_time_format(0, 1, LT_TIME_FRAC_AUTO, t);
    ck_assert_str_eq(t, "1970-01-01T00:00:00.000000001Z");
    ck_assert_uint_eq(lt_time_format(253402300799, 999999999, LT_TIME_FRAC_AUTO, t),
                      LT_TIME_TEXT_MAX - 2);
    ck_assert_str_eq(t, "9999-12-31T23:59:59.999999999Z");
    /* out of range: 0 and "" */
    ck_assert_uint_eq(lt_time_format(253402300800, 0, LT_TIME_FRAC_AUTO, t), 0); /* year 10000 */
    ck_assert_str_eq(t, "");
    ck_assert_uint_eq(lt_time_format(-62135596801, 0, LT_TIME_FRAC_AUTO, t), 0); /* year 0 */
    ck_assert_uint_eq(lt_time_format(0, 1000000000, LT_TIME_FRAC_AUTO, t), 0);
    ck_assert_uint_eq(lt_time_format(0, -1, LT_TIME_FRAC_AUTO, t), 0);
    /* store, logs, host events: always milliseconds */
    lt_time_format_ms(1714564800123LL, t);
    ck_assert_str_eq(t, "2024-05-01T12:00:00.123Z");
    lt_time_format_ms(1714564800000LL, t);
    ck_assert_str_eq(t, "2024-05-01T12:00:00.000Z");
    lt_time_format_ms(-1, t);
    ck_assert_str_eq(t, "1969-12-31T23:59:59.999Z");
    lt_time_format(0, 999999, LT_TIME_FRAC_MS, t); /* truncated, not rounded */
    ck_assert_str_eq(t, "1970-01-01T00:00:00.000Z");
    ck_assert_uint_eq(lt_time_format_now(t), 24);
    ck_assert_int_eq(lt_time_parse(t, LT_TIME_UTC_ONLY, &sec, &nsec), LT_OK);
    ck_assert_int_gt(sec, 1700000000);
    /* format -> parse round trip over a spread of instants */
    for (sec = -62135596800; sec < 253402300799; sec += 7777777777) {
        int64_t s2;

        ck_assert_uint_gt(lt_time_format(sec, 123456789, LT_TIME_FRAC_AUTO, t), 0);
        ck_assert_int_eq(lt_time_parse(t, 0, &s2, &nsec), LT_OK);
        ck_assert_int_eq(s2, sec);
        ck_assert_int_eq(nsec, 123456789);
    }
}
END_TEST

START_TEST(test_time_civil)
{
    int64_t y;
    int m, d;

    ck_assert_int_eq(lt_time_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(lt_time_days_from_civil(2000, 3, 1), 11017);
    ck_assert_int_eq(lt_time_days_from_civil(1969, 12, 31), -1);
    for (int64_t z = -800000; z < 3000000; z += 997) {
        lt_time_civil_from_days(z, &y, &m, &d);
        ck_assert_int_eq(lt_time_days_from_civil(y, m, d), z);
        ck_assert(m >= 1 && m <= 12 && d >= 1 && d <= lt_time_days_in_month(y, m));
    }
    ck_assert_int_eq(lt_time_days_in_month(2024, 2), 29);
    ck_assert_int_eq(lt_time_days_in_month(1900, 2), 28);
    ck_assert_int_eq(lt_time_days_in_month(2000, 2), 29);
}
END_TEST

/* The same seed, the same stream: the scheduler's jitter and --simulate --seed rely on it. */
START_TEST(test_rand_seeded)
{
    lt_rand a, b, z;
    uint64_t first;

    lt_rand_seed(&a, 42);
    lt_rand_seed(&b, 42);
    first = lt_rand_next(&a);
    ck_assert_uint_eq(first, lt_rand_next(&b));
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(lt_rand_next(&a), lt_rand_next(&b));
    /* xorshift64* from seed 1: the published first output (fixes the algorithm) */
    lt_rand_seed(&a, 1);
    ck_assert_uint_eq(lt_rand_next(&a), 0x47e4ce4b896cdd1dull);
    /* seed 0 is a fixed default, not a dead all-zero state */
    lt_rand_seed(&z, 0);
    ck_assert_uint_ne(lt_rand_next(&z), 0);
    lt_rand_seed(&a, 0);
    lt_rand_seed(&b, 0x9e3779b97f4a7c15ull);
    ck_assert_uint_eq(lt_rand_next(&a), lt_rand_next(&b));
    for (int i = 0; i < 1000; i++) {
        double u = lt_rand_unit(&a);

        ck_assert(u >= 0.0 && u < 1.0);
    }
    /* kernel-seeded states differ */
    lt_rand_seed_random(&a);
    lt_rand_seed_random(&b);
    ck_assert_uint_ne(a.s, b.s);
}
END_TEST

static void check_uuid(const char *u)
{
    ck_assert_uint_eq(strlen(u), LT_UUID_LEN);
    for (int i = 0; i < LT_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ck_assert_int_eq(u[i], '-');
        else
            ck_assert_msg(strchr("0123456789abcdef", u[i]) != NULL, "%s", u);
    }
    ck_assert_int_eq(u[14], '4');                 /* version 4 */
    ck_assert_ptr_nonnull(strchr("89ab", u[19])); /* RFC 4122 variant */
}

START_TEST(test_rand_uuid)
{
    char a[LT_UUID_LEN + 1], b[LT_UUID_LEN + 1];
    unsigned char buf[64] = { 0 }, zero[64] = { 0 };
    lt_rand r;

    ck_assert_int_eq(lt_rand_uuid(a), LT_OK);
    ck_assert_int_eq(lt_rand_uuid(b), LT_OK);
    check_uuid(a);
    check_uuid(b);
    ck_assert_str_ne(a, b);
    lt_rand_seed(&r, 7);
    for (int i = 0; i < 100; i++) {
        lt_rand_uuid_from(&r, a);
        check_uuid(a);
        ck_assert_str_ne(a, b);
        memcpy(b, a, sizeof(a));
    }
    ck_assert_int_eq(lt_rand_bytes(buf, sizeof(buf)), LT_OK);
    ck_assert(memcmp(buf, zero, sizeof(buf)) != 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("time");

    lt_test_tcase(s, "all", 0,
                  (const TTest *const[]){ test_time_parse, test_time_format, test_time_civil,
                                          test_rand_seeded, test_rand_uuid, NULL });
    return lt_test_run_suite(s);
}
