#!/bin/sh
# check-package.sh: the Debian package builds, is lintian-clean, installs what it should, runs,
# and its systemd units verify. Run by scripts/test.sh after the gcc stage; runs alone too
# (needs the packages of `sh scripts/setup.sh`, no root). Steps:
#   1. every pkg-config dependency and program meson needs comes from a package of
#      debian/control's Build-Depends
#   2. dpkg-buildpackage -us -uc -b in a copy of the tree (git's tracked and untracked files, so
#      nothing is written next to the checkout), then lintian (fails on errors and warnings)
#   3. dpkg-deb -x into a temporary root: the binaries, units, man pages, completions, docs and
#      /etc/default files are there; each binary's --version is the package's version; every
#      variable the /etc/default files name is an [env: ...] of the daemon's --help
#   4. the unpacked programs against a nats-server on a free loopback port, with the settings of
#      the packaged /etc/default files: latticed gets ready and /livez, /readyz answer 200 on its
#      admin listener, latticed-host joins and `latticectl hosts` lists it, both stop
#      cleanly (exit 0) on SIGTERM
#   5. systemd-analyze verify on both units (ExecStart pointed into the unpacked root, man pages
#      looked up there): any complaint fails; systemd-analyze security --offline: exposure <= 2.0
#   6. the Helm chart (deploy/helm/check_chart.py, python3 + PyYAML) and the Containerfile's
#      stages (no container runtime or helm here: both are otherwise checked by reading)
# Everything runs in one temporary directory, removed at exit with the processes it started.
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
NATS=${LT_NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lt-pkg.XXXXXX")
pids=""

cleanup() {
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { printf 'check-package: %s\n' "$*"; }
fail() {
    printf 'check-package: FAIL: %s\n' "$*" >&2
    exit 1
}

# wait_log FILE PATTERN SECONDS PID: wait until FILE has a line matching PATTERN (grep -E);
# fail when PID exits first or the deadline passes.
wait_log() {
    n=$(($3 * 10))
    while ! grep -Eq "$2" "$1" 2>/dev/null; do
        kill -0 "$4" 2>/dev/null || { cat "$1" >&2; fail "process $4 exited before '$2'"; }
        n=$((n - 1))
        [ "$n" -gt 0 ] || { cat "$1" >&2; fail "no '$2' in $1 after $3 s"; }
        sleep 0.1
    done
}

# stop PID NAME LOG: SIGTERM, then the exit status must be 0 (a clean shutdown).
stop() {
    kill -TERM "$1"
    rc=0
    wait "$1" || rc=$?
    pids=$(echo "$pids" | sed "s/\<$1\>//")
    [ "$rc" -eq 0 ] || { tail -n 20 "$3" >&2; fail "$2 exited with $rc on SIGTERM"; }
}

# http_status HOST:PORT PATH: the status code of a GET (bash's /dev/tcp: no curl needed).
http_status() {
    timeout 5 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" &&
        printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3 && head -n 1 <&3' _ "$1" "$2" \
        2>/dev/null | awk '{ print $2 }'
}

for tool in dpkg-buildpackage dh lintian dpkg-deb systemd-analyze pkg-config bash "$NATS"; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found: run sh scripts/setup.sh"
done

# 1. Build-Depends covers meson's dependencies (the tests' 'check' and the fuzz targets aside).
bdeps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' debian/control | sed 's/^Build-Depends://' |
    tr ',' '\n' | sed 's/(.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^[A-Z]' || true)
deps=$(find . -name meson.build -not -path './build*' -not -path './tests/*' -exec \
    grep -ho "dependency('[^']*'" {} + | sed "s/dependency('//; s/'//" | sort -u)
for d in $deps; do
    case $d in threads | check) continue ;; esac
    pc=$(pkg-config --path "$d" 2>/dev/null) || fail "meson dependency $d: no pkg-config file"
    owner=$(dpkg -S "$pc" 2>/dev/null | head -n 1 | sed 's/[:,].*//') ||
        fail "meson dependency $d: $pc belongs to no Debian package"
    echo "$bdeps" | grep -qx "$owner" ||
        fail "meson needs $d ($pc, package $owner): add $owner to Build-Depends in debian/control"
done
for prog in protoc-c; do
    owner=$(dpkg -S "$(command -v $prog)" 2>/dev/null | head -n 1 | sed 's/:.*//') || owner=""
    echo "$bdeps" | grep -qx "$owner" || fail "meson needs $prog: add its package to Build-Depends"
done
say "Build-Depends cover meson's dependencies:" $(echo "$deps" | grep -vx 'threads\|check')

# 2. Build in a copy, then lintian.
mkdir "$tmp/src"
if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$tmp/src"
else
    tar --exclude='./build*' -cf - . | tar -xf - -C "$tmp/src"
fi
say "dpkg-buildpackage -us -uc -b (log: build.log)"
if ! (cd "$tmp/src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
    tail -n 60 "$tmp/build.log" >&2
    fail "dpkg-buildpackage failed"
fi
version=$(cd "$tmp/src" && dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb="$tmp/latticed_${version}_${arch}.deb"
[ -f "$deb" ] || fail "no $deb after the build"
say "lintian"
rc=0
changes="$tmp/latticed_${version}_${arch}.changes"
lintian --fail-on error,warning "$changes" >"$tmp/lintian.out" 2>&1 || rc=$?
grep -v 'running with root privileges' "$tmp/lintian.out" || true
[ "$rc" -eq 0 ] || fail "lintian reports errors or warnings (above)"

# 3. Unpack and look.
R="$tmp/root"
dpkg-deb -x "$deb" "$R"
unitdir=$R/lib/systemd/system
[ -d "$unitdir" ] || unitdir=$R/usr/lib/systemd/system
for f in usr/bin/latticed usr/bin/latticed-host usr/bin/latticectl \
    "${unitdir#"$R"/}/latticed.service" "${unitdir#"$R"/}/latticed-host.service" \
    usr/share/man/man1/latticed.1.gz usr/share/man/man1/latticed-host.1.gz \
    usr/share/man/man1/latticectl.1.gz usr/share/bash-completion/completions/latticectl \
    usr/share/zsh/vendor-completions/_latticectl \
    usr/share/fish/vendor_completions.d/latticectl.fish \
    usr/share/doc/latticed/operations.md usr/share/doc/latticed/host.md \
    usr/share/doc/latticed/copyright etc/default/latticed etc/default/latticed-host; do
    [ -s "$R/$f" ] || fail "the package has no (or an empty) /$f"
done
bash -n "$R/usr/share/bash-completion/completions/latticectl" || fail "bash completion: syntax"
grep -q latticectl "$R/usr/share/zsh/vendor-completions/_latticectl" || fail "zsh completion"
grep -q latticectl "$R/usr/share/fish/vendor_completions.d/latticectl.fish" ||
    fail "fish completion"
for b in latticed latticed-host latticectl; do
    out=$("$R/usr/bin/$b" --version) || fail "$b --version failed"
    [ "$out" = "$b $version" ] || fail "$b --version says '$out', the package is $version"
done
for pair in latticed:latticed latticed-host:latticed-host; do
    help=$("$R/usr/bin/${pair%%:*}" --help)
    for v in $(sed -n 's/^#\{0,1\}\([A-Z_][A-Z0-9_]*\)=.*/\1/p' "$R/etc/default/${pair#*:}"); do
        case $help in
        *"[env: $v]"*) ;;
        *) fail "/etc/default/${pair#*:}: ${pair%%:*} knows no $v" ;;
        esac
    done
done
say "unpacked: binaries $version, units, man pages, completions, docs, /etc/default files"

# 4. Run what was unpacked, configured by the packaged /etc/default files.
mkdir "$tmp/js" "$tmp/home"
"$NATS" -a 127.0.0.1 -p -1 -js -sd "$tmp/js" >"$tmp/nats.log" 2>&1 &
nats_pid=$!
pids="$pids $nats_pid"
wait_log "$tmp/nats.log" 'Listening for client connections on 127\.0\.0\.1:[0-9]+' 20 "$nats_pid"
port=$(sed -n 's/.*Listening for client connections on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
    "$tmp/nats.log" | head -n 1)
url="nats://127.0.0.1:$port"
(
    set -a
    . "$R/etc/default/latticed"
    set +a
    export LATTICED_NATS_URL="$url" LATTICED_LOG_FORMAT=text
    export LATTICED_HTTP_ADMIN=127.0.0.1:0
    exec "$R/usr/bin/latticed"
) >"$tmp/latticed.log" 2>&1 &
ld_pid=$!
pids="$pids $ld_pid"
wait_log "$tmp/latticed.log" "latticed $version ready" 30 "$ld_pid"
wait_log "$tmp/latticed.log" 'admin listener on http://[^ ]+' 10 "$ld_pid"
addr=$(sed -n 's#.*admin listener on http://\([^ ]*\).*#\1#p' "$tmp/latticed.log" | head -n 1)
n=300
until [ "$(http_status "$addr" /readyz)" = 200 ]; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || fail "GET http://$addr/readyz: not 200 after 30 s"
    sleep 0.1
done
[ "$(http_status "$addr" /livez)" = 200 ] || fail "GET http://$addr/livez: not 200"
say "latticed from the package: ready, /readyz and /livez 200 on $addr"
hid="pkgcheck-$$"
(
    set -a
    . "$R/etc/default/latticed-host"
    set +a
    export LATTICED_HOST_NATS_URL="$url" LATTICED_HOST_ID="$hid" LATTICED_HOST_LOG_FORMAT=text
    exec "$R/usr/bin/latticed-host"
) >"$tmp/host.log" 2>&1 &
host_pid=$!
pids="$pids $host_pid"
n=150
until HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home" "$R/usr/bin/latticectl" -s "$url" -t 2 \
    hosts -o json 2>"$tmp/ctl.err" | grep -q "\"$hid\""; do
    kill -0 "$host_pid" 2>/dev/null || { cat "$tmp/host.log" >&2; fail "latticed-host exited"; }
    n=$((n - 1))
    [ "$n" -gt 0 ] || { cat "$tmp/ctl.err" >&2; fail "latticectl hosts never listed $hid"; }
    sleep 0.2
done
say "latticed-host from the package joined; latticectl hosts lists $hid"
stop "$host_pid" latticed-host "$tmp/host.log"
stop "$ld_pid" latticed "$tmp/latticed.log"
kill -TERM "$nats_pid" # nats-server exits 1 on SIGTERM: no status to check
wait "$nats_pid" || true
pids=""

# 5. The units: verify (any output is a complaint: systemd-analyze exits 0 on bad values).
mkdir "$tmp/units"
for u in latticed latticed-host; do
    sed "s#^ExecStart=/usr/bin/#ExecStart=$R/usr/bin/#" "$unitdir/$u.service" \
        >"$tmp/units/$u.service"
done
if ! out=$(MANPATH="$R/usr/share/man" systemd-analyze verify "$tmp/units/latticed.service" \
    "$tmp/units/latticed-host.service" 2>&1) || [ -n "$out" ]; then
    echo "$out" >&2
    fail "systemd-analyze verify"
fi
for u in latticed latticed-host; do
    systemd-analyze security --offline=yes --threshold=20 "$tmp/units/$u.service" \
        >"$tmp/security.out" 2>&1 || {
        cat "$tmp/security.out" >&2
        fail "$u.service: exposure above 2.0 (systemd-analyze security)"
    }
    say "$u.service: $(grep -o 'Overall exposure level.*' "$tmp/security.out")"
done
say "systemd-analyze verify: both units clean"

# 6. The chart and the Containerfile (read, not built: no helm, no container runtime here).
if python3 -c 'import yaml' 2>/dev/null; then
    python3 deploy/helm/check_chart.py deploy/helm/latticed || fail "Helm chart (above)"
else
    say "SKIP the Helm chart check: python3 with PyYAML is missing (sh scripts/setup.sh)"
fi
cf=deploy/container/Containerfile
awk '
    /^FROM / {
        if ($2 !~ /[:\/]/ && !($2 in stage)) { print "FROM " $2 ": no such stage"; bad = 1 }
        cur = ($3 == "AS") ? $4 : ""; stage[cur] = 1
    }
    /--from=/ {
        match($0, /--from=[^ ]+/); s = substr($0, RSTART + 7, RLENGTH - 7)
        if (!(s in stage)) { print "COPY --from=" s ": no such stage"; bad = 1 }
    }
    /^USER [0-9]+(:[0-9]+)?$/ { user[cur] = 1 }
    END {
        n = split("latticed latticed-host", t, " ")
        for (i = 1; i <= n; i++)
            if (!(t[i] in user)) { print "target " t[i] ": no numeric USER"; bad = 1 }
        exit bad
    }' "$cf" || fail "$cf (above)"
say "Containerfile: stages and targets consistent, numeric USER (not built here)"
say "ok"
