#!/bin/sh
# Replays the fuzz regressions (fuzz/regressions/<target>/*) and the fuzz
# corpora through every fuzz target, built without libFuzzer by the normal
# compiler (fuzz/standalone.c supplies main). The core sources are compiled
# here with $SAN, by default ASan+UBSan: most regressions are memory or UB
# bugs that an uninstrumented build would replay silently. A target's own
# checks abort on a broken invariant, so a crash or non-zero exit fails.
# Prints TAP: one line per regression input, one per target for the corpora.
# Env: BUILD (output under $BUILD/fuzz-replay), CC, SAN, TLSRPT_SHARED.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
SAN=${SAN:--fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer}
SHARED=${TLSRPT_SHARED:-../shared}
OUT=$BUILD/fuzz-replay
TARGETS="tlsrpt_record sts_record sts_policy report_json report_gzip report_email lua_api roundtrip json_differential"
n=0
failed=0

tap() { # ok|fail, text
    n=$((n + 1))
    if [ "$1" = ok ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi
}

mkdir -p "$OUT/obj"
deps=$(pkg-config --libs jansson zlib 2>/dev/null || echo "-ljansson -lz")
luacf=$(pkg-config --cflags lua5.4 2>/dev/null || echo "-I/usr/include/lua5.4")
lualib=$(pkg-config --libs lua5.4 2>/dev/null || echo "-llua5.4")
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 -g -Icore/include -Icore/src -Icore/test $SAN"
# As fuzz/fuzz.mk builds: with libdeflate, every .gz input tries it first.
if pkg-config --exists libdeflate 2>/dev/null; then
    flags="$flags -DTRPT_HAVE_LIBDEFLATE -DTRPT_WHOLE_INFLATE_MIN=0"
    deps="$deps $(pkg-config --libs libdeflate)"
fi
lib=$OUT/libtrpt-replay.a
export UBSAN_OPTIONS=print_stacktrace=1 FUZZ_VERBOSE=1

# The core, instrumented (rebuilt when a source is newer than the archive).
stale=0
[ -f "$lib" ] || stale=1
for f in core/src/*.c core/src/*.h core/include/trpt.h; do [ "$f" -nt "$lib" ] && stale=1; done
if [ $stale -eq 1 ]; then
    rm -f "$OUT"/obj/*.o "$lib"
    for f in core/src/*.c; do
        o=$OUT/obj/$(basename "$f" .c).o
        # shellcheck disable=SC2086
        if ! $CC $flags -fPIC $(pkg-config --cflags jansson zlib libldns 2>/dev/null) -c "$f" -o "$o" \
            > "$OUT/build.log" 2>&1; then
            echo "not ok 1 - compile $f for the fuzz replay"
            sed 's/^/#   /' "$OUT/build.log" | head -n 10
            echo "1..1"
            exit 1
        fi
    done
    ar rcs "$lib" "$OUT"/obj/*.o
fi

# Every input a target is fed: its regressions first, then all corpora.
corpora() {
    for t in $TARGETS; do
        for d in corpus/$t fuzz/regressions/$t; do [ -d "$d" ] && echo "$d"; done
    done
    if [ -d "$SHARED/corpus/real" ]; then
        for d in "$SHARED"/corpus/real/*/; do [ -d "$d" ] && echo "${d%/}"; done
    fi
}

for t in $TARGETS; do
    bin=$OUT/$t
    log=$OUT/$t.log
    if [ "$t" = lua_api ]; then
        # shellcheck disable=SC2086
        $CC $flags $luacf -Ilua/src -o "$bin" fuzz/$t.c fuzz/standalone.c lua/src/*.c \
            "$lib" $lualib $deps -lldns -lm > "$log" 2>&1
    else
        # shellcheck disable=SC2086
        $CC $flags -o "$bin" fuzz/$t.c fuzz/standalone.c "$lib" $deps -lldns > "$log" 2>&1
    fi
    if [ $? -ne 0 ]; then
        tap fail "build fuzz target $t (see $log)"
        sed 's/^/#   /' "$log" | head -n 10
        continue
    fi
    if [ -d "fuzz/regressions/$t" ]; then
        for f in fuzz/regressions/$t/*; do
            [ -f "$f" ] || continue
            if "$bin" "$f" > "$log" 2>&1; then
                tap ok "regression $f"
            else
                tap fail "regression $f"
                grep -E 'ERROR|runtime error|fuzz check failed' "$log" | head -n 3 | sed 's/^/#   /'
            fi
        done
    fi
    # shellcheck disable=SC2046
    if "$bin" $(corpora) > "$log" 2>&1; then
        tap ok "$t replays every corpus ($(tail -n 1 "$log"))"
    else
        tap fail "$t replays every corpus"
        grep -E '^running|ERROR|runtime error|fuzz check failed' "$log" | grep -B1 -v '^running' |
            head -n 4 | sed 's/^/#   /'
    fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
