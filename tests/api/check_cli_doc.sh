#!/bin/sh
# The committed docs/cli.md must be what `latticectl help --markdown` prints
# (both come from the command table). Regenerate with:
#   ./build/cmd/latticectl/latticectl help --markdown > docs/cli.md
set -eu
latticectl=$1
doc=$2
if "$latticectl" help --markdown | diff -u "$doc" -; then
    echo "1 passed, 0 failed"
else
    echo "docs/cli.md is stale: regenerate it with '$latticectl help --markdown > docs/cli.md'"
    echo "0 passed, 1 failed"
    exit 1
fi
