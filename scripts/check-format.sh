#!/bin/sh
# check-format.sh - fail when clang-format (the project's .clang-format) would change a C file.
#
# Usage: sh scripts/check-format.sh [--fix]
# Checks the files scripts/checksrc.sh lists (tracked .c/.h, no generated files, no
# node_modules) with `clang-format --dry-run --Werror`; prints each change it would make and
# exits 1 if any. --fix reformats them in place instead (`clang-format -i`).
# Exit 77 (a skip, which scripts/test.sh turns into a failure) when clang-format is missing:
# scripts/setup.sh installs it. Also the meson test `clang_format` (suite `lint`).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
if ! command -v clang-format >/dev/null 2>&1; then
    echo "clang-format is not installed (scripts/setup.sh installs it): skipping"
    exit 77
fi
files=$(sh scripts/checksrc.sh --list)
[ -n "$files" ] || { echo "check-format: no C files found" >&2; exit 2; }
if [ "${1:-}" = --fix ]; then
    # shellcheck disable=SC2086
    exec clang-format -i --style=file $files
fi
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror --style=file $files; then
    echo "check-format: files above differ from .clang-format; fix: sh scripts/check-format.sh --fix"
    exit 1
fi
echo "check-format: $(printf '%s\n' "$files" | wc -l) files formatted as .clang-format says"
