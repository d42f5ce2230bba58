/*
 * lt_hist.c - the lock-free latency histogram of lt_hist.h: bucket counters
 * and the sum are relaxed atomics, made cumulative only when read.
 */
#include "lt_hist.h"
#include "lt_time.h"

#include <time.h>

const double lt_hist_default_bounds[LT_HIST_DEFAULT_N] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static void bounds_of(const lt_hist *h, const double **b, size_t *n)
{
    if (h->bounds == NULL) {
        *b = lt_hist_default_bounds;
        *n = LT_HIST_DEFAULT_N;
    } else {
        *b = h->bounds;
        *n = h->n;
    }
}

void lt_hist_init(lt_hist *h, const double *bounds, size_t n)
{
    h->bounds = bounds;
    h->n = n > LT_HIST_MAX_BUCKETS ? LT_HIST_MAX_BUCKETS : n;
    for (size_t i = 0; i <= LT_HIST_MAX_BUCKETS; i++)
        atomic_store_explicit(&h->counts[i], 0, memory_order_relaxed);
    atomic_store_explicit(&h->sum_ns, 0, memory_order_relaxed);
}

void lt_hist_observe_ns(lt_hist *h, int64_t ns)
{
    const double *b;
    size_t n, i;
    double s;

    if (ns < 0)
        ns = 0;
    bounds_of(h, &b, &n);
    s = (double)ns / 1e9;
    for (i = 0; i < n && s > b[i]; i++)
        ;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)ns, memory_order_relaxed);
}

void lt_hist_read(lt_hist *h, lt_hist_snap *out)
{
    uint64_t run = 0;

    bounds_of(h, &out->bounds, &out->n);
    for (size_t i = 0; i <= out->n; i++) {
        run += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        out->cumulative[i] = run;
    }
    out->count = run;
    out->sum = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
}

int64_t lt_hist_now_ns(void)
{
    return lt_time_mono_ns();
}
