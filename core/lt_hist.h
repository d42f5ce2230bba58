/*
 * lt_hist.h - a latency histogram with fixed bucket bounds whose counters are
 * atomics: any thread observes, any other reads a snapshot, no lock. It feeds
 * the Prometheus `_seconds` histograms of the admin listener (admin/).
 */
#ifndef LT_HIST_H
#define LT_HIST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define LT_HIST_MAX_BUCKETS 16 /**< finite bounds at most (+Inf comes on top) */

/** Default bounds in seconds, 1 ms to 10 s (LT_HIST_DEFAULT_N of them). */
extern const double lt_hist_default_bounds[];
#define LT_HIST_DEFAULT_N 13

/**
 * A histogram. All-zero memory (static or calloc) is a valid histogram with
 * the default bounds; lt_hist_init chooses others.
 */
typedef struct {
    const double *bounds; /**< ascending upper bounds in seconds (borrowed); NULL = default */
    size_t n;             /**< of bounds, <= LT_HIST_MAX_BUCKETS */
    _Atomic uint64_t counts[LT_HIST_MAX_BUCKETS + 1]; /**< per bucket, not cumulative; [n]=+Inf */
    _Atomic uint64_t sum_ns;                          /**< sum of the observations */
} lt_hist;

/** What lt_hist_read copies out: cumulative counts as Prometheus wants them. */
typedef struct {
    const double *bounds;
    size_t n;
    uint64_t cumulative[LT_HIST_MAX_BUCKETS + 1]; /**< observations <= bounds[i]; [n] = count */
    uint64_t count;
    double sum; /**< seconds */
} lt_hist_snap;

/** Set the bounds (n > LT_HIST_MAX_BUCKETS is cut) and zero the counts. Not thread-safe. */
void lt_hist_init(lt_hist *h, const double *bounds, size_t n);

/** Count one observation of ns nanoseconds (negative counts as 0). Thread-safe. */
void lt_hist_observe_ns(lt_hist *h, int64_t ns);

/** A snapshot (each counter read once; a concurrent observation may be half in). */
void lt_hist_read(lt_hist *h, lt_hist_snap *out);

/** CLOCK_MONOTONIC in nanoseconds, to time what is observed. */
int64_t lt_hist_now_ns(void);

#endif
