#!/bin/sh
# Install everything latticed needs to build, run and test on Debian 12.
# Idempotent: safe to run again; apt skips what is already installed.
# Run as root (or through sudo). Needs only Debian's package archive.
set -eu

PKGS="nats-server libnats-dev libjansson-dev libyaml-dev libcyaml-dev
      libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev protobuf-compiler
      check meson ninja-build pkg-config gcc clang libclang-rt-14-dev
      valgrind ca-certificates"

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
    echo "setup: all Debian packages present"
fi
