#!/bin/sh
# docs/reference.md must be what docs/gen-reference.sh prints from the built programs' option
# tables, and must name every environment variable the programs read with getenv() outside
# the option tables. Args: SOURCE_ROOT LATTICED LATTICED_HOST LATTICECTL
set -eu
root=$1
shift
fail=0
if ! sh "$root/docs/gen-reference.sh" "$@" | diff -u "$root/docs/reference.md" -; then
    echo "docs/reference.md is stale: regenerate it (from the source root) with"
    echo "  sh docs/gen-reference.sh $* > docs/reference.md"
    fail=1
fi
for v in $(cd "$root" && grep -rhoE 'getenv\("[A-Za-z_][A-Za-z0-9_]*"\)' core wire model store \
    api scheduler host cmd | sed 's/getenv("\(.*\)")/\1/' | sort -u); do
    if ! grep -q "\`$v\`" "$root/docs/reference.md"; then
        echo "docs/reference.md does not name the environment variable $v (read by getenv)"
        fail=1
    fi
done
if [ "$fail" = 0 ]; then
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
    exit 1
fi
