#!/bin/sh
# checksrc.sh - ban unbounded or non-reentrant C string calls in the project's own C code.
#
# Usage: sh scripts/checksrc.sh [FILE...]
#        sh scripts/checksrc.sh --list    (print the file list and exit)
# Without arguments: every tracked .c/.h file of the project (`git ls-files`, or `find` outside
# a git checkout), not tests/node/node_modules, not build directories, not generated files
# (*.pb-c.[ch] only exist in build directories). Comments, string and character literals are
# blanked first, so only real calls count.
#
# Banned (as calls): sprintf vsprintf strcpy strcat strncat gets strtok. Use snprintf /
# vsnprintf, lt_str* / memcpy with a known length, fgets, strtok_r.
# Also lines longer than 100 columns (clang-format keeps code there, but does not reflow
# comments: .clang-format has ReflowComments false).
# Prints FILE:LINE: banned call NAME: TEXT (or FILE:LINE: longer than 100 columns) for each one
# and exits 1 if any; 0 otherwise.
# POSIX sh + awk + grep only (also registered as the meson test `checksrc`, suite `lint`).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

list_files() {
    if [ -d .git ] || [ -f .git ]; then
        git ls-files -- '*.c' '*.h'
    else
        find . \( -name 'build*' -o -name node_modules -o -name .git \) -prune -o \
            \( -name '*.c' -o -name '*.h' \) -type f -print | sed 's|^\./||'
    fi | grep -v -e '^tests/node/node_modules/' -e '\.pb-c\.[ch]$' -e '^build[^/]*/' |
        while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done
}

if [ "${1:-}" = --list ]; then
    list_files # the project's C files, one a line (scripts/check-format.sh uses it)
    exit 0
fi
if [ $# -gt 0 ]; then
    files=$(printf '%s\n' "$@")
else
    files=$(list_files)
fi
[ -n "$files" ] || { echo "checksrc: no C files found" >&2; exit 2; }

# shellcheck disable=SC2086
printf '%s\n' "$files" | while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done |
awk '
function scan(file,    line, n, out, i, c, d, rest, name) {
    n = 0; incomment = 0
    while ((getline line < file) > 0) {
        n++
        if (length(line) > 100) {
            printf "%s:%d: longer than 100 columns (%d)\n", file, n, length(line)
            bad++
        }
        out = ""; i = 1
        while (i <= length(line)) {
            c = substr(line, i, 1); d = substr(line, i, 2)
            if (incomment) {
                if (d == "*/") { incomment = 0; i += 2 } else i++
                out = out " "
                continue
            }
            if (d == "/*") { incomment = 1; i += 2; out = out "  "; continue }
            if (d == "//") break
            if (c == "\"" || c == "\047") {
                q = c; out = out c; i++
                while (i <= length(line)) {
                    c = substr(line, i, 1)
                    if (c == "\\") { i += 2; out = out "  "; continue }
                    i++
                    if (c == q) break
                    out = out " "
                }
                out = out q
                continue
            }
            out = out c; i++
        }
        rest = out
        while (match(rest, /(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|strncat|gets|strtok)[ \t]*\(/)) {
            name = substr(rest, RSTART, RLENGTH)
            sub(/^[^A-Za-z_]/, "", name); sub(/[ \t]*\($/, "", name)
            printf "%s:%d: banned call %s: %s\n", file, n, name, line
            bad++
            rest = substr(rest, RSTART + RLENGTH)
        }
    }
    close(file)
}
{ scan($0); files++ }
END {
    if (bad > 0) { printf "checksrc: %d problem(s) in %d file(s) checked\n", bad, files; exit 1 }
    printf "checksrc: %d files, no banned calls, no line over 100 columns\n", files
}'
