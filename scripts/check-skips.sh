#!/bin/sh
# check-skips.sh - fail when a `meson test` run skipped a test.
#
# Usage: sh scripts/check-skips.sh TESTLOG.json
# TESTLOG is the log meson wrote for the run just made: <builddir>/meson-logs/testlog.json, or
# testlog-<setup>.json for `meson test --setup=<setup>`. One JSON object per line; each test's
# "result" is OK, SKIP, FAIL, ... (meson itself already fails on FAIL, TIMEOUT, ERROR).
#
# A skip (exit 77) means the test checked nothing, so scripts/test.sh treats it as a failure.
# The one exception: `model_conformance` (tests/model/test_conformance.c) may skip when wadm's
# conformance corpus is absent (neither $LT_CONFORMANCE_DIR nor ../shared/conformance next to the
# checkout has wadm/EXPECTED.tsv) AND the variable CI is not set. Under CI nothing may skip.
# Prints every skipped test; exits 1 if one is not allowed, 0 otherwise. Needs jq.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
log=${1:?usage: check-skips.sh TESTLOG.json}
[ -f "$log" ] || { echo "check-skips: no test log $log" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "check-skips: jq is missing (scripts/setup.sh)" >&2; exit 1; }

corpus=${LT_CONFORMANCE_DIR:-$root/../shared/conformance}
conformance_may_skip=0
if [ ! -f "$corpus/wadm/EXPECTED.tsv" ] && [ -z "${CI:-}" ]; then
    conformance_may_skip=1
fi

# Test names look like "latticed:suite1+suite2 / name": keep the name.
skipped=$(jq -r 'select(.result == "SKIP") | .name | sub("^.* / "; "")' "$log")
total=$(jq -r '.name' "$log" | wc -l)
bad=0
for t in $skipped; do
    if [ "$t" = model_conformance ] && [ "$conformance_may_skip" = 1 ]; then
        echo "check-skips: $t skipped: no conformance corpus at $corpus and CI unset (allowed)"
    else
        echo "check-skips: FAIL: $t was skipped (it checked nothing; see its log in $log)"
        bad=1
    fi
done
[ "$total" -gt 0 ] || { echo "check-skips: FAIL: $log lists no tests" >&2; exit 1; }
[ "$bad" = 0 ] || exit 1
echo "check-skips: $total tests in $(basename "$log"), none skipped without leave"
