/*
 * lt_time.h - RFC 3339 UTC time text, the one place that formats and parses it
 * (CloudEvent ce-time, protobuf JSON Timestamp, store history, logs), and the
 * proleptic Gregorian day arithmetic behind it.
 */
#ifndef LT_TIME_H
#define LT_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "lt_status.h"

/** Room for the longest text: "9999-12-31T23:59:59.123456789Z" plus NUL. */
#define LT_TIME_TEXT_MAX 32

/** Fraction digits written by lt_time_format. */
typedef enum {
    LT_TIME_FRAC_MS,   /**< always ".mmm" (milliseconds, truncated) */
    LT_TIME_FRAC_AUTO, /**< none, 3, 6 or 9 digits: the fewest exact ones (proto3 JSON) */
} lt_time_frac;

/** Flags of lt_time_parse; 0 is the strict proto3 form. */
enum {
    LT_TIME_LEAP_SECOND = 1u << 0, /**< accept second 60 */
    LT_TIME_YEAR_ZERO = 1u << 1,   /**< accept year 0000 */
    LT_TIME_UTC_ONLY = 1u << 2,    /**< only "Z"/"z", no numeric offset */
};

/** Unix seconds ranges of years 0001..9999 (UTC). */
#define LT_TIME_MIN_SEC (-62135596800LL)
#define LT_TIME_MAX_SEC (253402300799LL)

/** Days since 1970-01-01 of a proleptic Gregorian date (m 1..12, d 1..31). */
int64_t lt_time_days_from_civil(int64_t y, int m, int d);

/** The date of a day number (days since 1970-01-01, may be negative). */
void lt_time_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/** Days of month m (1..12) in year y. */
int lt_time_days_in_month(int64_t y, int m);

/**
 * Write sec/nsec (Unix time, UTC) as "YYYY-MM-DDTHH:MM:SS[.f]Z" into out, with
 * the fraction frac says. Returns the text's length; 0 (out = "") when nsec is
 * outside 0..999999999 or the year outside 1..9999.
 */
size_t lt_time_format(int64_t sec, int32_t nsec, lt_time_frac frac, char out[LT_TIME_TEXT_MAX]);

/** Unix milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ" (the form of store history and logs). */
size_t lt_time_format_ms(int64_t unix_ms, char out[LT_TIME_TEXT_MAX]);

/** The wall clock (CLOCK_REALTIME) as lt_time_format_ms writes it. */
size_t lt_time_format_now(char out[LT_TIME_TEXT_MAX]);

/**
 * Parse "YYYY-MM-DDTHH:MM:SS[.f]Z" or with "+HH:MM"/"-HH:MM" ('T' and 'Z' in
 * either case, 1..9 fraction digits) into Unix seconds (UTC) and nanoseconds.
 * The date is checked (month lengths, leap years); flags relax or tighten it
 * (LT_TIME_*). LT_ERR_INVALID when s is NULL or not such a time.
 */
LT_NODISCARD lt_status lt_time_parse(const char *s, unsigned flags, int64_t *sec, int32_t *nsec);

/**
 * An optional fraction at *p: '.' and 1..9 digits, as nanoseconds in *nsec
 * (0 when there is no '.'); *p is advanced past it. False for a '.' without
 * digits or more than 9 digits. (RFC 3339 times and proto3 Durations.)
 */
bool lt_time_take_fraction(const char **p, int32_t *nsec);

/** Nanoseconds on the monotonic clock (CLOCK_MONOTONIC): for intervals and deadlines only. */
int64_t lt_time_mono_ns(void);

/** Milliseconds on the monotonic clock (CLOCK_MONOTONIC): for intervals and deadlines only. */
int64_t lt_time_mono_ms(void);

/** Sleep ms milliseconds (restarted on EINTR; nothing for ms <= 0). */
void lt_time_sleep_ms(int64_t ms);

/** lt_time_parse into Unix milliseconds (fraction truncated to ms). */
LT_NODISCARD lt_status lt_time_parse_ms(const char *s, unsigned flags, int64_t *unix_ms);

#endif
