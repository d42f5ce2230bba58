#!/bin/sh
# Set up (only the Debian packages building and running need: `scripts/setup.sh run`), build,
# and run the whole system locally: `latticed --dev` starts nats-server with JetStream in a
# temporary directory on a free loopback port, the control plane, a local host and the example
# app, and prints the full path of latticectl to try. Ctrl-C stops everything and cleans up.
# Extra arguments are passed to latticed. The test tooling comes with scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh run
if [ ! -d build ]; then
    # The test suite needs Check, which only scripts/test.sh installs.
    tests=true
    pkg-config --exists check 2>/dev/null || tests=false
    meson setup build --buildtype=debugoptimized -Dtests=$tests >/dev/null
fi
ninja -C build
exec ./build/cmd/latticed/latticed --dev "$@"
