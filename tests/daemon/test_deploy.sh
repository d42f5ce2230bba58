#!/bin/sh
# deploy/ stays true: every nats-server config parses (nats-server -t, store
# dirs moved to a temp dir) and the example latticed config is accepted by
# latticed's own option parser.
set -u
LATTICED=$1
SRC=$2
NATS=${LT_NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
for conf in "$SRC"/deploy/nats/*.conf; do
    sed "s#/var/lib/nats#$tmp#" "$conf" > "$tmp/check.conf"
    if "$NATS" -c "$tmp/check.conf" -t >"$tmp/out" 2>&1; then
        pass=$((pass + 1))
    else
        echo "FAIL: $conf: $(cat "$tmp/out")"
        fail=$((fail + 1))
    fi
done
if "$LATTICED" --config "$SRC/deploy/systemd/latticed.conf.example" --version >"$tmp/out" 2>&1; then
    pass=$((pass + 1))
else
    echo "FAIL: latticed.conf.example: $(cat "$tmp/out")"
    fail=$((fail + 1))
fi
# A wrong key must be refused, naming file and line (so the check above means something).
printf 'nats-url = nats://x\nno-such-option = 1\n' > "$tmp/bad.conf"
if "$LATTICED" --config "$tmp/bad.conf" --version >"$tmp/out" 2>&1 ||
   ! grep -q "bad.conf:2: unknown option 'no-such-option'" "$tmp/out"; then
    echo "FAIL: a bad config key was not refused: $(cat "$tmp/out")"
    fail=$((fail + 1))
else
    pass=$((pass + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
