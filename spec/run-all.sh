#!/bin/sh
# Runs every test suite as TAP, shows it, and ends with the summary line
# "N passed, N failed". Exit status is non-zero if anything failed or a
# suite could not run. Env: BUILD (build dir), LUAS (interpreters).
BUILD=${BUILD:-build}
LUAS=${LUAS:-lua5.4 luajit}
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

for t in "$BUILD"/test/test_*; do
    [ -x "$t" ] || continue
    suite "c:$(basename "$t")" "$t"
done

for lv in $LUAS; do
    if ! command -v "$lv" >/dev/null 2>&1; then
        echo "not ok - $lv not installed"; echo "not ok - $lv" >> "$log"; continue
    fi
    suite "busted:$lv" env LUA_PATH="lua/?.lua;lua/?/init.lua;;" \
        LUA_CPATH="$BUILD/$lv/?.so;;" TLSRPT_BUILD="$BUILD" TLSRPT_LUA="$lv" \
        busted --lua="$lv" -o TAP spec
done

# Shell suites (CLI, acceptance tests): each spec/t/*.sh prints TAP.
for t in spec/t/*.sh; do
    [ -f "$t" ] || continue
    suite "sh:$t" env BUILD="$BUILD" LUAS="$LUAS" sh "$t"
done

pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok' "$log")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
