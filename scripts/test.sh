#!/bin/sh
# Set up (Debian packages) and run every test of latticed:
#   0. lint: banned C string calls (scripts/checksrc.sh) and formatting against .clang-format
#      (scripts/check-format.sh), before anything is built
#   1. the whole suite with gcc, debugoptimized, -Werror         (build-test/), then the Debian
#      package (scripts/check-package.sh: build, lintian, unpack, run, units, Helm chart)
#   2. the whole suite under ASan+UBSan, the slow suite included (build-asan/)
#   3. the suite under valgrind memcheck, fuzz smoke runs included (build-test/, --setup=valgrind)
#   4. the other build types, -Werror, each with its unit suite (seconds): gcc release
#      (everything, the benchmarks included: their numbers are taken from a release build) and
#      clang debugoptimized                                       (build-release/, build-clang/)
#   5. libFuzzer runs of every fuzz target                        (build-fuzz/, clang + ASan+UBSan)
# After each `meson test`, scripts/check-skips.sh reads meson's test log: a skipped test (exit
# 77) fails the script, except model_conformance without the wadm corpus when CI is unset.
# Any failure stops the script with a non-zero exit; a failed `meson test` first repeats the
# end of each failed test's output (scripts/print-failures.sh), so it is at the end of the run.
# Check's summary lines ("100%: Checks: N, Failures: 0, Errors: 0") are printed for every test.
# Knobs: LT_FUZZ_SECONDS (per target, default 30), LT_SKIP_VALGRIND=1, LT_SKIP_FUZZ=1.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

sh scripts/setup.sh all # the Debian packages, the test tooling included

step() { printf '\n==== %s ====\n' "$*"; }

# run_tests BUILDDIR SETUP [meson test args...]: meson test, then the skip check on its log
# (meson names it testlog.json, or testlog-SETUP.json with --setup=SETUP).
run_tests() {
    builddir=$1
    setup=$2
    shift 2
    if [ -n "$setup" ]; then
        log="$builddir/meson-logs/testlog-$setup.json"
        set -- --setup="$setup" "$@"
    else
        log="$builddir/meson-logs/testlog.json"
    fi
    if ! meson test -C "$builddir" --print-errorlogs -v --num-processes 2 "$@"; then
        sh scripts/print-failures.sh "$log" || true
        exit 1
    fi
    sh scripts/check-skips.sh "$log"
}

step "lint: banned calls, clang-format"
sh scripts/checksrc.sh
sh scripts/check-format.sh

step "build and test (gcc, debugoptimized, -Werror)"
rm -rf build-test
meson setup build-test --buildtype=debugoptimized -Dwerror=true >/dev/null
ninja -C build-test
run_tests build-test "" --no-suite lint

step "Debian package: build, lintian, unpack, run, systemd-analyze verify, chart"
sh scripts/check-package.sh

step "build and test under ASan+UBSan (the slow suite included)"
rm -rf build-asan
meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
    >/dev/null
ninja -C build-asan
run_tests build-asan sanitize --no-suite lint

if [ "${LT_SKIP_VALGRIND:-0}" != 1 ]; then
    step "test under valgrind (fuzz smoke runs capped by LT_FUZZ_RUNS, see meson.build)"
    run_tests build-test valgrind --no-suite slow --no-suite script --no-suite lint --no-suite bench
fi

step "other build types, -Werror: gcc release (benchmarks included), clang debugoptimized"
rm -rf build-release build-clang
meson setup build-release --buildtype=release -Dwerror=true >/dev/null
ninja -C build-release
run_tests build-release "" --suite unit
CC=clang meson setup build-clang --buildtype=debugoptimized -Dwerror=true >/dev/null
ninja -C build-clang
run_tests build-clang "" --suite unit

if [ "${LT_SKIP_FUZZ:-0}" != 1 ] && [ -d tests/fuzz ]; then
    step "libFuzzer runs (clang, ASan+UBSan), ${LT_FUZZ_SECONDS:-30}s per target"
    rm -rf build-fuzz
    CC=clang meson setup build-fuzz --buildtype=debug -Dfuzz=true -Dtests=false \
        -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
    ninja -C build-fuzz
    for fz in build-fuzz/tests/fuzz/fuzz_*; do
        { [ -f "$fz" ] && [ -x "$fz" ]; } || continue
        name=$(basename "$fz")
        corpus="$ROOT/tests/fuzz/corpus/${name#fuzz_}"
        work=$(mktemp -d)
        if [ -d "$corpus" ]; then cp -r "$corpus/." "$work/"; fi
        echo "-- $name"
        if ! "$fz" -max_total_time="${LT_FUZZ_SECONDS:-30}" -print_final_stats=1 \
            -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$ROOT/build-fuzz/" \
            "$work" >"$work.log" 2>&1; then
            tail -n 60 "$work.log"
            echo "FAIL: $name found a crash (reproducer above)"
            exit 1
        fi
        tail -n 12 "$work.log"
        rm -rf "$work" "$work.log"
    done
fi

step "all tests passed"
