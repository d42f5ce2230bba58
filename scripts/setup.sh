#!/bin/sh
# Install what latticed needs on Debian 12, as Debian packages.
#   sh scripts/setup.sh run    what building and running need (scripts/dev.sh): the compiler,
#                              meson, ninja, the -dev libraries, the protobuf-c compiler and
#                              nats-server
#   sh scripts/setup.sh        (or `all`) that, plus the test tooling (scripts/test.sh): check,
#                              clang and its sanitizer runtime, valgrind, clang-format, jq,
#                              openssl, protoc, groff, Node.js and the npm packages of tests/node
# Idempotent: safe to run again; apt skips what is already installed.
# Run as root (or through sudo). Needs only Debian's package archive.
set -eu

what=${1:-all}
case $what in
run | all) ;;
*)
    echo "usage: sh scripts/setup.sh [run|all]" >&2
    exit 2
    ;;
esac

RUN_PKGS="nats-server libnats-dev libjansson-dev libyaml-dev libcyaml-dev
      libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev libssl-dev
      meson ninja-build pkg-config gcc libc6-dev ca-certificates libmicrohttpd-dev
      libcurl4-openssl-dev"
TEST_PKGS="check clang libclang-rt-14-dev valgrind openssl jq clang-format protobuf-compiler
      groff-base"
# scripts/check-package.sh: the Debian package (debhelper, lintian), its units (systemd-analyze,
# man for their Documentation=), the Helm chart check (python3-yaml); libmicrohttpd-dev is a
# Build-Depends (the admin listener)
TEST_PKGS="$TEST_PKGS debhelper dpkg-dev fakeroot lintian systemd man-db python3 python3-yaml
      libmicrohttpd-dev"

PKGS=$RUN_PKGS
if [ "$what" = all ]; then PKGS="$RUN_PKGS $TEST_PKGS"; fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "setup: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
else
    echo "setup: all Debian packages present ($what)"
fi

if [ "$what" = run ]; then exit 0; fi

# Node.js + the npm `nats` package for tests/node (the independent API client).
# NodeSource's nodejs already ships npm (it conflicts with Debian's npm package):
# install Debian's nodejs + npm only when there is no node at all.
if ! command -v node >/dev/null 2>&1; then
    echo "setup: installing nodejs and npm (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
node_dir="$(dirname "$0")/../tests/node"
if command -v npm >/dev/null 2>&1 && [ -f "$node_dir/package-lock.json" ] &&
    [ ! -d "$node_dir/node_modules/nats" ]; then
    echo "setup: npm ci in tests/node"
    (cd "$node_dir" && npm ci --no-audit --no-fund) ||
        echo "setup: WARNING: npm ci failed; the Node.js API test (node_api) will fail"
fi
