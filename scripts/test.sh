#!/bin/sh
# Set up (Debian packages) and run every test of latticed:
#   1. the suite with gcc, -Werror            (build-test/)
#   2. the suite under ASan+UBSan             (build-asan/)
#   3. the suite under valgrind memcheck      (build-test/, --setup=valgrind)
#   4. libFuzzer runs of every fuzz target    (build-fuzz/, clang + ASan+UBSan)
# Any failure stops the script with a non-zero exit. Check's summary lines
# ("100%: Checks: N, Failures: 0, Errors: 0") are printed for every test.
# Knobs: LT_FUZZ_SECONDS (per target, default 30), LT_SKIP_VALGRIND=1, LT_SKIP_FUZZ=1.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

sh scripts/setup.sh

step() { printf '\n==== %s ====\n' "$*"; }

step "build and test (gcc, -Werror)"
rm -rf build-test
meson setup build-test --buildtype=debugoptimized -Dwerror=true >/dev/null
ninja -C build-test
meson test -C build-test --print-errorlogs -v --num-processes 2

step "build and test under ASan+UBSan"
rm -rf build-asan
meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
    >/dev/null
ninja -C build-asan
meson test -C build-asan --setup=sanitize --print-errorlogs -v --num-processes 2 \
    --no-suite slow

if [ "${LT_SKIP_VALGRIND:-0}" != 1 ]; then
    step "test under valgrind"
    meson test -C build-test --setup=valgrind --print-errorlogs -v --num-processes 2 \
        --no-suite fuzz --no-suite slow --no-suite script
fi

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
