#!/bin/sh
# Where libdeflate is installed, the normal build decodes big .gz members
# with it (core/src/gzip.c); this suite builds the core once more without
# it (LIBDEFLATE=0) and runs the gzip, inflate and report C tests there, so the
# zlib-only build a user without libdeflate gets stays tested. Prints TAP.
# Env: BUILD (output under $BUILD-nolibdeflate).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=$BUILD-nolibdeflate
mkdir -p "$OUT"
if ! pkg-config --exists libdeflate 2>/dev/null; then
    echo "ok 1 - # SKIP libdeflate not installed: the main build is already zlib-only"
    echo "1..1"
    exit 0
fi
if ! make -s BUILD="$OUT" LIBDEFLATE=0 "$OUT/test/test_gzip" "$OUT/test/test_inflate" \
    "$OUT/test/test_report" > "$OUT/build.log" 2>&1; then
    echo "not ok 1 - build without libdeflate"
    sed 's/^/#   /' "$OUT/build.log" | tail -n 10
    echo "1..1"
    exit 1
fi
if nm "$OUT/libtrpt.a" 2>/dev/null | grep -q libdeflate_; then
    echo "not ok 1 - LIBDEFLATE=0 build still calls libdeflate"
    echo "1..1"
    exit 1
fi
# Each test's own TAP, renumbered into one plan; a test that dies fails.
n=0
for t in test_gzip test_inflate test_report; do
    "$OUT/test/$t" > "$OUT/test.tap" 2>&1
    rc=$?
    while IFS= read -r line; do
        case $line in
            "ok "*) n=$((n + 1)); echo "ok $n - $t (zlib only):${line#ok [0-9]* -}" ;;
            "not ok "*) n=$((n + 1)); echo "not ok $n - $t (zlib only):${line#not ok [0-9]* -}" ;;
            "#"*) echo "$line" ;;
        esac
    done < "$OUT/test.tap"
    if [ $rc -ne 0 ]; then n=$((n + 1)); echo "not ok $n - $t (zlib only) exited with status $rc"; fi
done
echo "1..$n"
