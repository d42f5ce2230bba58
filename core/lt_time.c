/*
 * lt_time.c - RFC 3339 UTC text from Unix time and back, written by hand
 * (no gmtime/timegm: no locale or TZ, and fast enough for every event sent),
 * on H. Hinnant's days-from-civil algorithms.
 */
#include "lt_time.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int lt_time_days_in_month(int64_t y, int m)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && leap(y) ? 29 : dim[m - 1];
}

int64_t lt_time_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void lt_time_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Write v as exactly n decimal digits (zero-padded) at p. */
static void put_digits(char *p, int n, uint32_t v)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t lt_time_format(int64_t sec, int32_t nsec, lt_time_frac frac, char out[LT_TIME_TEXT_MAX])
{
    int64_t days, rem, y;
    int m, d, digits = 0;
    uint32_t v = 0;
    size_t n;

    out[0] = '\0';
    if (nsec < 0 || nsec > 999999999 || sec < LT_TIME_MIN_SEC || sec > LT_TIME_MAX_SEC)
        return 0;
    days = sec / 86400;
    rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    lt_time_civil_from_days(days, &y, &m, &d);
    put_digits(out, 4, (uint32_t)y);
    out[4] = '-';
    put_digits(out + 5, 2, (uint32_t)m);
    out[7] = '-';
    put_digits(out + 8, 2, (uint32_t)d);
    out[10] = 'T';
    put_digits(out + 11, 2, (uint32_t)(rem / 3600));
    out[13] = ':';
    put_digits(out + 14, 2, (uint32_t)(rem / 60 % 60));
    out[16] = ':';
    put_digits(out + 17, 2, (uint32_t)(rem % 60));
    n = 19;
    if (frac == LT_TIME_FRAC_MS) {
        digits = 3;
        v = (uint32_t)(nsec / 1000000);
    } else if (nsec != 0) {
        digits = nsec % 1000000 == 0 ? 3 : nsec % 1000 == 0 ? 6 : 9;
        v = (uint32_t)(digits == 3 ? nsec / 1000000 : digits == 6 ? nsec / 1000 : nsec);
    }
    if (digits > 0) {
        out[n++] = '.';
        put_digits(out + n, digits, v);
        n += (size_t)digits;
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return n;
}

size_t lt_time_format_ms(int64_t unix_ms, char out[LT_TIME_TEXT_MAX])
{
    int64_t sec = unix_ms / 1000, ms = unix_ms % 1000;

    if (ms < 0) {
        ms += 1000;
        sec--;
    }
    return lt_time_format(sec, (int32_t)ms * 1000000, LT_TIME_FRAC_MS, out);
}

size_t lt_time_format_now(char out[LT_TIME_TEXT_MAX])
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return lt_time_format((int64_t)ts.tv_sec, (int32_t)ts.tv_nsec, LT_TIME_FRAC_MS, out);
}

/* Exactly n decimal digits at *p (advanced past them). */
static bool take_digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool take_char(const char **p, char a, char b)
{
    if (**p != a && **p != b)
        return false;
    (*p)++;
    return true;
}

bool lt_time_take_fraction(const char **p, int32_t *nsec)
{
    int ndig = 0;
    int32_t v = 0;

    *nsec = 0;
    if (**p != '.')
        return true;
    for ((*p)++; **p >= '0' && **p <= '9'; (*p)++, ndig++) {
        if (ndig >= 9)
            return false;
        v = v * 10 + (**p - '0');
    }
    for (int i = ndig; i < 9; i++)
        v *= 10;
    *nsec = v;
    return ndig > 0;
}

lt_status lt_time_parse(const char *s, unsigned flags, int64_t *sec, int32_t *nsec)
{
    const char *p = s;
    int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
    int32_t frac = 0;

    *sec = 0;
    *nsec = 0;
    if (s == NULL)
        goto bad;
    if (!take_digits(&p, 4, &y) || !take_char(&p, '-', '-') || !take_digits(&p, 2, &mo) ||
        !take_char(&p, '-', '-') || !take_digits(&p, 2, &d) || !take_char(&p, 'T', 't') ||
        !take_digits(&p, 2, &h) || !take_char(&p, ':', ':') || !take_digits(&p, 2, &mi) ||
        !take_char(&p, ':', ':') || !take_digits(&p, 2, &se) || !lt_time_take_fraction(&p, &frac))
        goto bad;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (!(flags & LT_TIME_UTC_ONLY) && (*p == '+' || *p == '-')) {
        sign = *p++ == '+' ? 1 : -1;
        if (!take_digits(&p, 2, &oh) || !take_char(&p, ':', ':') || !take_digits(&p, 2, &om) ||
            oh > 23 || om > 59)
            goto bad;
    } else {
        goto bad;
    }
    if (*p != '\0' || (y == 0 && !(flags & LT_TIME_YEAR_ZERO)) || mo < 1 || mo > 12 || d < 1 ||
        d > lt_time_days_in_month(y, mo) || h > 23 || mi > 59 ||
        se > ((flags & LT_TIME_LEAP_SECOND) ? 60 : 59))
        goto bad;
    *sec = lt_time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
           sign * (oh * 3600 + om * 60);
    *nsec = frac;
    return LT_OK;
bad:
    return LT_FAIL(LT_ERR_INVALID, "not an RFC 3339 timestamp");
}

lt_status lt_time_parse_ms(const char *s, unsigned flags, int64_t *unix_ms)
{
    int64_t sec;
    int32_t nsec;
    lt_status st = lt_time_parse(s, flags, &sec, &nsec);

    *unix_ms = st == LT_OK ? sec * 1000 + nsec / 1000000 : 0;
    return st;
}

int64_t lt_time_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t lt_time_mono_ms(void)
{
    return lt_time_mono_ns() / 1000000;
}

void lt_time_sleep_ms(int64_t ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
