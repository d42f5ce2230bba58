#!/bin/sh
# Runs the shell blocks of docs/getting-started.md marked `<!-- doc-test -->`, in order, as one
# `sh -eu` script: a real nats-server on a free loopback port (the doc's 4222 replaced), the
# built latticed, latticed-host and latticectl first on PATH, in a temporary directory. Every
# command must exit 0 (apply --wait and status --wait-for fail when the app does not deploy or
# undeploy); the output must show the host and the deployed app. Processes left by a failing
# block are stopped by their PIDs; the whole run is bounded by timeout(1).
# Args: SOURCE_ROOT DIR_OF_LATTICED DIR_OF_LATTICED_HOST DIR_OF_LATTICECTL
set -eu
root=$1
PATH=$(cd "$2" && pwd):$(cd "$3" && pwd):$(cd "$4" && pwd):$PATH  # absolute: the blocks cd
export PATH
doc=$root/docs/getting-started.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
nats=${LT_NATS_SERVER:-/usr/sbin/nats-server}

{
    # on failure, stop what the blocks started (set -e leaves them running)
    echo 'trap '\''st=$?; [ $st = 0 ] || kill ${host_pid:-} ${latticed_pid:-} ${nats_pid:-} \'
    echo '    2>/dev/null; rm -rf "${datadir:-/nonexistent}"; exit $st'\'' EXIT'
    awk '
        /^<!-- doc-test -->$/ { armed = 1; next }
        armed && /^```sh$/ { inblock = 1; armed = 0; nblocks++; next }
        inblock && /^```$/ { inblock = 0; next }
        inblock { print }
        END { if (nblocks < 5) { print "exit 99 # fewer than 5 doc-test blocks"; } }
    ' "$doc" | sed -e "s/4222/$port/g" -e "s#/usr/sbin/nats-server#$nats#g"
} > "$work/steps.sh"

cd "$work"
if ! timeout -k 10 300 sh -eux "$work/steps.sh" > "$work/out" 2>&1; then
    cat "$work/out"
    echo "docs/getting-started.md: a doc-test block failed (steps: $work/steps.sh above)"
    echo "0 passed, 1 failed"
    exit 1
fi
cat "$work/out"
for want in 'demo-host' 'hello v0.1.0 deployed' 'deployed'; do
    if ! grep -q "$want" "$work/out"; then
        echo "docs/getting-started.md: the output does not show '$want'"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
echo "1 passed, 0 failed"
