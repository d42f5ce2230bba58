#!/bin/sh
# The man pages meson generates (latticectl.1 from the command table, latticed.1 and
# latticed-host.1 from their option tables) exist, are roff that groff formats without a
# single warning (-ww), and name every command and option that --help names.
# Usage: check_man.sh LATTICECTL LATTICECTL_1 LATTICED LATTICED_1 LATTICED_HOST LATTICED_HOST_1
set -u
latticectl=$1 ctl_page=$2 latticed=$3 d_page=$4 host=$5 h_page=$6
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# The long options of a --help text (the option lines only, not the prose).
options() { grep -o -- '^ \+\(-., \)\?--[a-z0-9][a-z0-9-]*' | grep -o -- '--.*'; }

if ! command -v groff >/dev/null 2>&1; then
    echo "FAIL: groff is missing: install the Debian package groff-base (sh scripts/setup.sh)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for page in "$ctl_page" "$d_page" "$h_page"; do
    if [ ! -s "$page" ]; then
        bad "$page: missing or empty"
        continue
    fi
    if groff -man -Tutf8 -ww -z "$page" 2>"$tmp/warn" && [ ! -s "$tmp/warn" ]; then ok; else
        bad "$page: groff -man -ww warns:"
        cat "$tmp/warn"
    fi
    head -3 "$page" | grep -q '^\.TH ' && ok || bad "$page: no .TH line"
done

# Every command of `latticectl --help` is listed (COMMANDS) and has its section.
"$latticectl" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }' >"$tmp/cmds"
[ "$(wc -l <"$tmp/cmds")" -ge 10 ] && ok || bad "cannot read the commands of latticectl --help"
while read -r c; do
    grep -qx ".B $c" "$ctl_page" && grep -qx ".SS \"latticectl $c\"" "$ctl_page" && ok ||
        bad "latticectl.1 does not list the command '$c'"
    # ... and every option of `latticectl $c --help`
    "$latticectl" "$c" --help | options | while read -r o; do
        pat=$(printf '%s' "$o" | sed 's/-/\\-/g')
        grep -qF -- "\\fB$pat\\fR" "$ctl_page" || echo "latticectl.1 lacks $c's option $o"
    done >"$tmp/missing"
    [ -s "$tmp/missing" ] && bad "$(cat "$tmp/missing")" || ok
done <"$tmp/cmds"

# latticed and latticed-host: every option of --help, with its environment variable.
for pair in "$latticed $d_page" "$host $h_page"; do
    set -- $pair
    "$1" --help | options >"$tmp/opts"
    [ "$(wc -l <"$tmp/opts")" -ge 5 ] && ok || bad "cannot read the options of $1 --help"
    while read -r o; do
        pat=$(printf '%s' "$o" | sed 's/-/\\-/g')
        grep -qF -- "\\fB$pat\\fR" "$2" && ok ||
            bad "$2 lacks the option $o"
    done <"$tmp/opts"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
