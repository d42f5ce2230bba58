#!/bin/sh
# Run the Node.js API client test against a latticed it starts (--dev).
# Skips (exit 77) when node is missing or the npm `nats` package cannot be
# installed; installs it with `npm ci` when node_modules is absent.
# Usage: run.sh /path/to/latticed
set -u
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
    echo "node is not installed: skipping the Node.js API test"
    exit 77
fi
if [ ! -d "$here/node_modules/nats" ]; then
    if ! command -v npm >/dev/null 2>&1 ||
        ! (cd "$here" && npm ci --no-audit --no-fund >/dev/null 2>&1); then
        echo "cannot install the npm nats package (npm ci in tests/node): skipping"
        exit 77
    fi
fi
exec node "$here/api_test.cjs" "$1"
