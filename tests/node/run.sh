#!/bin/sh
# Run the Node.js API client test against a latticed it starts (--dev).
# Skips (exit 77) only when node itself is missing (scripts/test.sh turns any
# skip into a failure). Installs the npm `nats` package with `npm ci` when
# node_modules lacks it; a failed `npm ci` is a failure (exit 1), not a skip.
# Usage: run.sh /path/to/latticed
set -u
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
    echo "node is not installed: skipping the Node.js API test"
    exit 77
fi
if [ ! -d "$here/node_modules/nats" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "FAIL: node is installed but npm is not: cannot install the npm nats package"
        exit 1
    fi
    if ! (cd "$here" && npm ci --no-audit --no-fund 2>&1); then
        echo "FAIL: npm ci in tests/node failed (output above)"
        exit 1
    fi
fi
exec node "$here/api_test.cjs" "$1"
