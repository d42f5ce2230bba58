#!/bin/sh
# checknames.sh - the naming tiers of docs/internals/conventions.md, checked on the built
# static libraries: every global symbol a module's library defines is either public,
# lt_<module>_... and declared in the module's public header(s) <dir>/lt_*.h, or internal,
# lt__<module>_... (LT__<MODULE>_... for constants). In core/ and wire/ the module is the part
# a public header names (lt_buf, lt_pbjson, lt_ce...); core's public names only need lt_.
#
#     scripts/checknames.sh BUILD_DIR      (meson test --suite lint runs it)
#
# Exit 0 when every symbol follows a tier, 1 with one line per offender otherwise.
set -eu

build=${1:?usage: checknames.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
NM=${NM:-nm}

# Symbols of the libnats replacement (wire/lt_natsfix.c) keep libnats' names; meson copies
# that link_whole library into every static library that depends on wire.
natsfix=$( (ls "$build"/wire/liblt_natsfix.a >/dev/null 2>&1 &&
    "$NM" -g --defined-only "$build"/wire/liblt_natsfix.a) | awk 'NF == 3 { print $3 }')

status=0
checked=0
for dir in core wire model store api scheduler host; do
    [ -d "$root/$dir" ] || continue
    libs=$(ls "$build/$dir"/*.a 2>/dev/null | grep -v 'liblt_natsfix\.a$' || true)
    if [ -z "$libs" ]; then
        echo "checknames: no library in $build/$dir" >&2
        status=1
        continue
    fi
    case $dir in
        scheduler) parts=sched ;;
        core | wire)
            parts=$(cd "$root/$dir" && ls lt_*.h | grep -v '_int\.h$' | sed 's/^lt_//; s/\.h$//') ;;
        *) parts=$dir ;;
    esac
    pubs=$(ls "$root/$dir"/lt_*.h 2>/dev/null | grep -v '_int\.h$' || true)
    for l in $libs; do
        "$NM" -g --defined-only "$l" >/dev/null || { echo "checknames: $NM $l failed" >&2; exit 1; }
    done
    # shellcheck disable=SC2086
    syms=$(for l in $libs; do "$NM" -g --defined-only "$l"; done | awk 'NF == 3 { print $3 }' |
        sort -u)
    for s in $syms; do
        checked=$((checked + 1))
        case " $(echo $natsfix) " in *" $s "*) continue ;; esac
        ok=
        for p in $parts; do
            up=$(echo "$p" | tr '[:lower:]' '[:upper:]')
            case $s in
                lt__"$p"_* | LT__"$up"_*) ok=internal ;;
                lt_"$p" | lt_"$p"_* | LT_"$up"_*) ok=public ;;
            esac
            [ -n "$ok" ] && break
        done
        if [ -z "$ok" ] && [ "$dir" = core ]; then
            case $s in lt_[!_]*) ok=public ;; esac
        fi
        if [ "$ok" = public ] && ! grep -qw -- "$s" $pubs /dev/null; then
            echo "$dir: $s is named public (lt_...) but no $dir/lt_*.h declares it:" \
                "internal names are lt__${parts%% *}_..." >&2
            status=1
        elif [ -z "$ok" ]; then
            echo "$dir: $s follows no tier: lt_<module>_... (public) or" \
                "lt__<module>_... (internal), module: $(echo $parts)" >&2
            status=1
        fi
    done
done
if [ $checked -eq 0 ]; then
    echo "checknames: no symbols found in $build" >&2
    status=1
fi
[ $status -eq 0 ] && echo "checknames: $checked symbols follow the tiers"
exit $status
