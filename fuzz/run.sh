#!/bin/sh
# Drives the libFuzzer binaries in fuzz/build/ (built by `make fuzz`).
#
#   sh fuzz/run.sh smoke   replay every corpus through every target (one
#                          result per target), then a short run per target
#                          (FUZZ_SMOKE_TIME, default 15 s); prints
#                          "N passed, N failed", non-zero on any crash
#   sh fuzz/run.sh long    FUZZ_TIME s per target with FUZZ_JOBS jobs, the
#                          inputs with the most new edges merged into
#                          corpus/<target>/ (see merge), then line coverage
#                          per target (fuzz/build/cov/)
#   sh fuzz/run.sh cov     coverage only
#
# Seeds of a target: corpus/<target>/, the seeds made from spec/vectors
# (fuzz/build/vectors/<target>/), fuzz/regressions/<target>/ and, when
# present, $TLSRPT_SHARED/corpus/real (default ../shared; replays and smoke
# runs only, see long). Replay feeds every target every corpus: no input of
# any kind may crash any entry point.
set -u
cd "$(dirname "$0")/.."
mode=${1:-smoke}
OUT=fuzz/build
TARGETS=${FUZZ_TARGETS:-"tlsrpt_record sts_record sts_policy report_json report_gzip report_email lua_api roundtrip json_differential"}
SHARED=${TLSRPT_SHARED:-../shared}
REAL=$SHARED/corpus/real
pass=0
fail=0

result() { # ok|fail, text
    if [ "$1" = ok ]; then pass=$((pass + 1)); echo "ok - $2"
    else fail=$((fail + 1)); echo "not ok - $2"; fi
}

# libFuzzer flags from fuzz/<target>.options ([libfuzzer] key = value lines;
# dict is relative to fuzz/).
options() {
    sed -n '/^\[libfuzzer\]/,/^\[/p' "fuzz/$1.options" | grep '=' | while IFS='=' read -r k v; do
        k=$(echo "$k" | tr -d ' '); v=$(echo "$v" | tr -d ' ')
        [ "$k" = dict ] && v=fuzz/$v
        printf -- '-%s=%s ' "$k" "$v"
    done
}

# Every seed directory that exists (for target $1 first, then the rest).
seed_dirs() {
    for d in corpus/$1 $OUT/vectors/$1 fuzz/regressions/$1; do [ -d "$d" ] && echo "$d"; done
    for t in $TARGETS; do
        [ "$t" = "$1" ] && continue
        for d in corpus/$t $OUT/vectors/$t fuzz/regressions/$t; do [ -d "$d" ] && echo "$d"; done
    done
    if [ -d "$REAL" ] && [ -z "${NO_REAL:-}" ]; then
        for d in "$REAL"/*/; do [ -d "$d" ] && echo "${d%/}"; done
    fi
}

# Files of the given directories, one per line (names are ours: no spaces).
seed_files() {
    for d in "$@"; do find "$d" -maxdepth 1 -type f ! -name '.*' ! -name '*.md'; done
}

replay() { # target
    t=$1
    files=$(seed_files $(seed_dirs "$t"))
    n=$(echo "$files" | grep -c .)
    log=$OUT/logs/replay-$t.log
    mkdir -p "$OUT/logs" "$OUT/crashes/$t"
    # Files as arguments: libFuzzer runs each once and writes nothing back.
    # shellcheck disable=SC2086
    if echo "$files" | xargs -r "$OUT/$t" $(options "$t") -runs=1 \
        -artifact_prefix="$OUT/crashes/$t/" > "$log" 2>&1; then
        result ok "replay $t ($n inputs)"
    else
        result fail "replay $t ($n inputs): see $log"
        grep -E 'ERROR|fuzz check failed|SUMMARY|Running:' "$log" | tail -n 8 | sed 's/^/#   /'
    fi
}

# Short or long run: new inputs go to a scratch dir, crashes to fuzz/build/crashes.
run_fuzzer() { # target, seconds, jobs
    t=$1
    work=$OUT/work/$t
    # Smoke runs (seeded by the real corpus) use their own scratch dir.
    [ -z "${NO_REAL:-}" ] && work=$OUT/work-smoke/$t
    mkdir -p "$work" "$OUT/crashes/$t" "$OUT/logs"
    log=$OUT/logs/fuzz-$t.log
    jobs=$3
    # shellcheck disable=SC2046
    if "$OUT/$t" $(options "$t") -max_total_time="$2" -print_final_stats=1 \
        -artifact_prefix="$OUT/crashes/$t/" ${jobs:+-jobs=$jobs -workers=$jobs} \
        "$work" $(seed_dirs "$t") > "$log" 2>&1; then
        execs=$(grep -h 'stat::number_of_executed_units' "$log" fuzz-*.log 2>/dev/null |
            awk '{s+=$2} END {print s+0}')
        result ok "fuzz $t ${2}s ($execs execs, $((execs / $2)) exec/s)"
    else
        result fail "fuzz $t: crash, see $log and $OUT/crashes/$t/"
        grep -E 'ERROR|fuzz check failed|SUMMARY|Test unit written' "$log" | tail -n 8 |
            sed 's/^/#   /'
    fi
    rm -f fuzz-*.log
}

# Adds the inputs of the scratch dir that bring the most new edges to
# corpus/<target>/, in FUZZ_MERGE_ROUNDS rounds of FUZZ_MERGE_PICK files
# (defaults 4 x 10): a plain -merge=1 keeps every input with any new feature,
# hundreds of files, where a few dozen carry nearly all the new edges. Each
# round runs libFuzzer's merge (edges only) with the corpus so far as the
# initial set and reads the new edges per file from its control file.
merge() { # target
    t=$1
    m=$OUT/merge/$t
    rm -rf "$m"
    mkdir -p "$m/init" "corpus/$t"
    cp corpus/$t/* "$m/init/" 2>/dev/null
    added=0
    round=0
    while [ $round -lt "${FUZZ_MERGE_ROUNDS:-4}" ]; do
        round=$((round + 1))
        rm -rf "$m/scratch" "$m/ctl"
        cp -r "$m/init" "$m/scratch"
        "$OUT/$t" $(options "$t") -merge=1 -use_counters=0 -merge_control_file="$m/ctl" \
            "$m/scratch" "$OUT/work/$t" > "$OUT/logs/merge-$t.log" 2>&1 || {
            echo "# merge $t failed: see $OUT/logs/merge-$t.log"; break; }
        # Control file: N, N0, N paths, then per file "COV idx edges..." (only
        # the edges no earlier file had; initial files come first).
        picks=$(awk '
            NR == 1 { n = $1; next }
            NR == 2 { n0 = $1; next }
            NR <= n + 2 { path[NR - 3] = $0; next }
            $1 == "COV" && $2 >= n0 && NF > 2 { print NF - 2, path[$2] }' "$m/ctl" |
            sort -rn | head -n "${FUZZ_MERGE_PICK:-10}" | cut -d' ' -f2-)
        grep -o "[0-9]* new coverage edges" "$OUT/logs/merge-$t.log" | sed "s/^/#   round $round: candidates bring /"
        [ -n "$picks" ] || break
        for f in $picks; do
            name=$(sha1sum "$f" | cut -c1-40)
            cp "$f" "$m/init/$name"
            cp "$f" "corpus/$t/$name"
            added=$((added + 1))
        done
    done
    echo "# merge $t: $added inputs added to corpus/$t"
}

coverage() {
    prof=llvm-profdata-14; cov=llvm-cov-14
    command -v $prof > /dev/null || prof=llvm-profdata
    command -v $cov > /dev/null || cov=llvm-cov
    if ! command -v $cov > /dev/null; then echo "# coverage: llvm-cov not installed (llvm-14)"; return; fi
    mkdir -p "$OUT/profiles"
    echo "# line coverage of the project sources, replaying corpus/<target> + vectors + regressions"
    printf '# %-18s %8s %8s %7s\n' target lines missed cover
    for t in $TARGETS; do
        [ -x "$OUT/cov/$t" ] || continue
        rm -f "$OUT/profiles/$t".*
        dirs=
        for d in corpus/$t $OUT/vectors/$t fuzz/regressions/$t; do [ -d "$d" ] && dirs="$dirs $d"; done
        # shellcheck disable=SC2086
        LLVM_PROFILE_FILE="$OUT/profiles/$t.profraw" "$OUT/cov/$t" $dirs > /dev/null 2>&1
        $prof merge -sparse "$OUT/profiles/$t.profraw" -o "$OUT/profiles/$t.profdata" 2>/dev/null || continue
        srcs=core/src
        [ "$t" = lua_api ] && srcs="core/src lua/src"
        # shellcheck disable=SC2086
        $cov report "$OUT/cov/$t" -instr-profile="$OUT/profiles/$t.profdata" $srcs \
            > "$OUT/profiles/$t.txt" 2>/dev/null
        awk -v t="$t" '/^TOTAL/ {printf "# %-18s %8s %8s %7s\n", t, $8, $9, $10}' "$OUT/profiles/$t.txt"
    done
}

case $mode in
smoke)
    for t in $TARGETS; do replay "$t"; done
    for t in $TARGETS; do run_fuzzer "$t" "${FUZZ_SMOKE_TIME:-15}" ""; done
    ;;
long)
    for t in $TARGETS; do replay "$t"; done
    jobs=
    [ "${FUZZ_JOBS:-1}" -gt 1 ] && jobs=$FUZZ_JOBS
    # What this run finds is merged into corpus/, which is committed: no
    # input may descend from the shared real corpus (it must not be copied
    # into the repository), so it seeds replays only, and the scratch
    # corpus is dropped if an earlier smoke run (which uses it) left one.
    NO_REAL=1
    for t in $TARGETS; do
        [ -f "$OUT/work/$t.long" ] || rm -rf "$OUT/work/$t"
        mkdir -p "$OUT/work/$t" && touch "$OUT/work/$t.long"
        run_fuzzer "$t" "${FUZZ_TIME:-60}" "$jobs"
        merge "$t"
    done
    coverage
    ;;
cov)
    coverage
    ;;
*)
    echo "usage: $0 smoke|long|cov" >&2
    exit 2
    ;;
esac
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
