#!/bin/sh
# checknames.sh - the naming tiers of docs/internals/conventions.md, checked on the built
# static libraries: every global symbol a module's library defines is either public,
# lt_<module>_... and declared in the module's public header(s) <dir>/lt_*.h, or internal,
# lt__<module>_... (LT__<MODULE>_... for constants). In wire/ the module is the part a public
# header names (lt_pbjson, lt_ce, lt_subject...), or lt__wire_ for what its parts share.
# core/ is a collection of small modules too (lt_buf, lt_map, lt_time...): its public names
# only need lt_, its internal ones are lt__core_.
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
natsfix=" "
if [ -f "$build/wire/liblt_natsfix.a" ]; then
    natsfix=" $("$NM" -g --defined-only "$build/wire/liblt_natsfix.a" |
        awk 'NF == 3 { printf "%s ", $3 }')"
fi

status=0
checked=0
for dir in core trace admin wire model store api scheduler host; do
    [ -d "$root/$dir" ] || continue
    libs=
    for l in "$build/$dir"/*.a; do
        case $l in *'*.a' | */liblt_natsfix.a) ;; *) libs="$libs $l" ;; esac
    done
    if [ -z "$libs" ]; then
        echo "checknames: no library in $build/$dir" >&2
        status=1
        continue
    fi
    mod=$dir
    [ "$dir" = scheduler ] && mod=sched
    umod=$(echo "$mod" | tr '[:lower:]' '[:upper:]')
    case $dir in
        scheduler) parts=sched ;;
        wire) parts= ;;
        *) parts=$dir ;;
    esac
    pubs=
    for h in "$root/$dir"/lt_*.h; do
        case $h in *'*.h' | *_int.h) continue ;; esac
        pubs="$pubs $h"
        if [ "$dir" = wire ]; then
            p=${h##*/lt_}
            parts="$parts ${p%.h}"
        fi
    done
    parts=${parts# }
    for l in $libs; do
        "$NM" -g --defined-only "$l" >/dev/null || { echo "checknames: $NM $l failed" >&2; exit 1; }
    done
    # shellcheck disable=SC2086
    syms=$(for l in $libs; do "$NM" -g --defined-only "$l"; done | awk 'NF == 3 { print $3 }' |
        sort -u)
    for s in $syms; do
        checked=$((checked + 1))
        case $natsfix in *" $s "*) continue ;; esac
        ok=
        for p in $parts; do
            up=$(echo "$p" | tr '[:lower:]' '[:upper:]')
            case $s in
                lt__"$p"_* | LT__"$up"_*) ok=internal ;;
                lt_"$p" | lt_"$p"_* | LT_"$up"_*) ok=public ;;
            esac
            [ -n "$ok" ] && break
        done
        # the folder's own internal prefix: lt__core_, lt__wire_ (shared by wire's parts)
        case $s in lt__"$mod"_* | LT__"$umod"_*) ok=internal ;; esac
        if [ -z "$ok" ] && [ "$dir" = core ]; then
            case $s in lt_[!_]*) ok=public ;; esac
        fi
        # shellcheck disable=SC2086 # $pubs: a list of paths without blanks
        if [ "$ok" = public ] && ! grep -qw -- "$s" $pubs /dev/null; then
            echo "$dir: $s is named public (lt_...) but no $dir/lt_*.h declares it:" \
                "internal names are lt__${parts%% *}_..." >&2
            status=1
        elif [ -z "$ok" ]; then
            echo "$dir: $s follows no tier: lt_<module>_... (public) or" \
                "lt__<module>_... (internal), module: $parts" >&2
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
