/*
 * bench_build.h - benchmarks refuse to measure a build that is not `release`: numbers from a
 * debug or debugoptimized build are not the project's numbers (docs/testing.md, "Build types
 * and benchmarks"). LT_BENCH_BUILDTYPE comes from bench/meson.build (bench_dep).
 */
#ifndef LT_BENCH_BUILD_H
#define LT_BENCH_BUILD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/**
 * Return 0 when this is a release build, or when LT_BENCH_ANY_BUILD=1 asks to run anyway
 * (a warning is printed then); otherwise print why and return 2 (the exit code to use).
 */
static inline int lt_bench_require_release(const char *prog)
{
    if (strcmp(LT_BENCH_BUILDTYPE, "release") == 0)
        return 0;
    if (getenv("LT_BENCH_ANY_BUILD") != NULL && strcmp(getenv("LT_BENCH_ANY_BUILD"), "1") == 0) {
        fprintf(stderr, "%s: warning: a %s build; these numbers are not comparable\n", prog,
                LT_BENCH_BUILDTYPE);
        return 0;
    }
    fprintf(stderr,
            "%s: this is a %s build; benchmarks are measured from a release build:\n"
            "  meson setup build-release --buildtype=release && ninja -C build-release\n"
            "(LT_BENCH_ANY_BUILD=1 runs it anyway)\n",
            prog, LT_BENCH_BUILDTYPE);
    return 2;
}

#endif
