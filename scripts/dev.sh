#!/bin/sh
# Set up (Debian packages), build, and run the whole system locally:
# `latticed --dev` starts nats-server with JetStream in a temporary directory
# on a free loopback port, the control plane, and (as the project grows) a
# local host and an example app. Ctrl-C stops everything and cleans up.
# Extra arguments are passed to latticed.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
[ -d build ] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build
exec ./build/cmd/latticed/latticed --dev "$@"
