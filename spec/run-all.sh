#!/bin/sh
# Runs every test suite as TAP, shows it, and ends with the summary line
# "N passed, N failed". Exit status is non-zero if anything failed or a
# suite could not run. Env: BUILD (build dir), LUAS (interpreters),
# SUITES (subset of "c busted sh"), PRELOAD (set for the Lua interpreters:
# a sanitizer runtime must load before the instrumented module).
BUILD=${BUILD:-build}
LUAS=${LUAS:-lua5.4 luajit lua5.1}
SUITES=${SUITES:-c busted sh}
has() { case " $SUITES " in *" $1 "*) return 0 ;; esac; return 1; }
log=$(mktemp "${TMPDIR:-/tmp}/tlsrpt-tap.XXXXXX")
trap 'rm -f "$log"' EXIT
broken=0

suite() { # name, command...
    name=$1; shift
    echo "# suite: $name"
    "$@" > "$log.out" 2>&1
    rc=$?
    cat "$log.out"
    cat "$log.out" >> "$log"
    if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log.out"; then
        echo "not ok - suite $name exited with status $rc"
        echo "not ok - suite $name exited with status $rc" >> "$log"
    fi
    rm -f "$log.out"
}

has c && for t in "$BUILD"/test/test_*; do
    [ -x "$t" ] || continue
    suite "c:$(basename "$t")" "$t"
done

has busted && for lv in $LUAS; do
    if ! command -v "$lv" >/dev/null 2>&1; then
        echo "not ok - $lv not installed"; echo "not ok - $lv" >> "$log"; continue
    fi
    # The interpreters are not built with LSan in mind: leak checks stay on for the C tests.
    suite "busted:$lv" env ${PRELOAD:+LD_PRELOAD="$PRELOAD" ASAN_OPTIONS=detect_leaks=0} LUA_PATH="lua/?.lua;lua/?/init.lua;;" \
        LUA_CPATH="$BUILD/$lv/?.so;;" TLSRPT_BUILD="$BUILD" TLSRPT_LUA="$lv" \
        busted --lua="$lv" -o TAP spec
done

# Shell suites (CLI, acceptance tests): each spec/t/*.sh prints TAP.
# Suites safe to run against a sanitizer build (they never load the
# instrumented module into programs we did not build, such as rspamd).
ASAN_SAFE="spec/t/dns.sh spec/t/fuzz-regressions.sh"
for t in spec/t/*.sh; do
    [ -f "$t" ] || continue
    if has sh; then :
    elif has asan-sh && case " $ASAN_SAFE " in *" $t "*) true ;; *) false ;; esac; then :
    else continue
    fi
    suite "sh:$t" env BUILD="$BUILD" LUAS="$LUAS" sh "$t"
done

pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok' "$log")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
