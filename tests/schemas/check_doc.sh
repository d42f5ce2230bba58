#!/bin/sh
# check_doc.sh - fails when the committed docs/protocol.md differs from the one
# the build generated from schemas/*.proto, so the docs stay true.
# Usage: check_doc.sh <committed docs/protocol.md> <generated protocol.md>
committed=$1
generated=$2
if cmp -s "$committed" "$generated"; then
    echo "docs/protocol.md matches the schema"
    exit 0
fi
diff -u "$committed" "$generated" | head -60
echo "docs/protocol.md is stale (the .proto files changed). Refresh it with:" >&2
echo "  cp $generated $committed" >&2
exit 1
