#!/bin/sh
# print-failures.sh - repeat the end of every failed test's output after a `meson test` run.
#
# Usage: sh scripts/print-failures.sh TESTLOG.json [LINES]
# With --print-errorlogs meson prints a failed test's output when the test ends, somewhere in
# the middle of a long run; a CI that keeps only the tail of the run then loses it. This prints,
# for every test whose result is not OK, SKIP or EXPECTEDFAIL, its name, result and the last
# LINES (default 80) lines of its stdout and of its stderr, so the reason is at the very end.
# Needs jq.
set -eu
log=${1:?usage: print-failures.sh TESTLOG.json [LINES]}
lines=${2:-80}
[ -f "$log" ] || { echo "print-failures: no test log $log" >&2; exit 1; }
jq -r 'select(.result != "OK" and .result != "SKIP" and .result != "EXPECTEDFAIL") | .name' \
    "$log" | while IFS= read -r name; do
    printf '\n==== failed: %s ====\n' "$name"
    jq -r --arg n "$name" --argjson k "$lines" 'select(.name == $n)
        | "result \(.result), exit \(.returncode), \(.duration | floor) s",
          "-- stdout (last \($k) lines):",
          (.stdout // "" | split("\n") | .[-$k:] | join("\n")),
          "-- stderr (last \($k) lines):",
          (.stderr // "" | split("\n") | .[-$k:] | join("\n"))' "$log"
done
