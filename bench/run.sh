#!/bin/sh
# Benchmark matrix (make bench): the C core (bench/bench_core.c) and
# tlsrpt.parse_report under every Lua in LUAS (bench/bench.lua), next to the
# ../shared/bench peers on the same six files made by make-data.sh. Cells are
# run file by file, all contenders back to back, so machine noise hits them
# alike. Prints a Markdown table of MB/s (decompressed JSON, median of
# BENCH_RUNS), the ratios the targets name with PASS/FAIL, and peak memory;
# then a second table: tlsrpt.collection (bench/collection.lua, ~1M rows)
# rows/s for add and each query under every Lua (one run each, ~10 s).
# Env: BUILD, LUAS, TLSRPT_SHARED (default ../shared), BENCH_RUNS (default 1),
#      BENCH_PEERS (default "python rust floor-inflate"),
#      BENCH_COLLECTION_ROWS (default 1000000; 0 skips that table),
#      BENCH_DISTINCT (default 1; 0 skips the distinct-reports table).
set -u
BUILD=${BUILD:-build}
LUAS=${LUAS:-lua5.4 luajit}
SHARED=${TLSRPT_SHARED:-../shared}
RUNS=${BENCH_RUNS:-1}
CROWS=${BENCH_COLLECTION_ROWS:-1000000}
PEERS=${BENCH_PEERS:-python rust floor-inflate}
[ -f "$SHARED/bench/make-data.sh" ] || { echo "bench: $SHARED/bench not found (TLSRPT_SHARED)" >&2; exit 1; }

data=$(sh "$SHARED/bench/make-data.sh" 2>/dev/null | tail -n 1)
[ -d "$data" ] || { echo "bench: make-data.sh failed" >&2; exit 1; }
res=$(mktemp "${TMPDIR:-/tmp}/tlsrpt-bench.XXXXXX")
trap 'rm -rf "$data" "$res"' EXIT
files="small.json small.json.gz medium.json medium.json.gz large.json large.json.gz"

# cell LABEL CMD...: one result line "label file mb_per_s checksum peak_ratio"
cell() {
    label=$1; shift
    if line=$("$@" 2>/dev/null); then
        echo "$line" | awk -v l="$label" -v f="$f" '{
            mb = "-"; cs = "-"; pr = "-"
            for (i = 1; i <= NF; i++) {
                split($i, a, "=")
                if (a[1] == "mb_per_s") mb = a[2]
                if (a[1] == "checksum") cs = a[2]
                if (a[1] == "peak_ratio") pr = a[2]
            }
            print l, f, mb, cs, pr }' >> "$res"
    else
        echo "bench: $label failed on $f" >&2
    fi
}

# median(key) of the values val[key, 1..cnt[key]], for both tables' awk.
AWK_MEDIAN='
function median(key,   n, i, j, t, v) {
    n = cnt[key]; if (!n) return ""
    for (i = 1; i <= n; i++) v[i] = val[key, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}'

labels="tlsrpt-c"
for lv in $LUAS; do labels="$labels tlsrpt-$lv"; done
for lv in $LUAS; do labels="$labels tlsrpt-$lv-tables"; done
labels="$labels $PEERS"
for f in $files; do
    echo "bench: $f" >&2
    r=0
    while [ "$r" -lt "$RUNS" ]; do
        r=$((r + 1))
        cell tlsrpt-c "$BUILD/bench/bench_core" "$data/$f"
        for lv in $LUAS; do
            cell "tlsrpt-$lv" env LUA_PATH="lua/?.lua;lua/?/init.lua;;" \
                LUA_CPATH="$BUILD/$lv/?.so;$BUILD/bench/$lv/?.so;;" "$lv" bench/bench.lua "$data/$f"
            cell "tlsrpt-$lv-tables" env LUA_PATH="lua/?.lua;lua/?/init.lua;;" \
                LUA_CPATH="$BUILD/$lv/?.so;$BUILD/bench/$lv/?.so;;" "$lv" bench/bench.lua "$data/$f" "" tables
        done
        for p in $PEERS; do
            cell "$p" env PEERS="$p" sh "$SHARED/bench/peers.sh" "$data/$f"
        done
    done
done

awk -v labels="$labels" -v files="$files" -v luas="$LUAS" "$AWK_MEDIAN"'
function check(name, got, want, op,   ok) {
    if (got == "") { printf "| %s | n/a | %s %s | MISSING |\n", name, op, want; fails++; return }
    ok = (op == ">=") ? got >= want : got <= want
    printf "| %s | %.2f | %s %s | %s |\n", name, got, op, want, ok ? "PASS" : "FAIL"
    if (!ok) fails++
}
{ key = $1 SUBSEP $2; cnt[key]++; val[key, cnt[key]] = $3 + 0; sum[$2, $4] = 1; files_cs[$2] = files_cs[$2] " " $4
  if ($5 != "-") peak[$2] = $5 }
END {
    nl = split(labels, L, " "); nf = split(files, F, " "); nlu = split(luas, LU, " ")
    printf "\nMB/s of decompressed JSON (median of runs)\n\n| contender |"
    for (j = 1; j <= nf; j++) printf " %s |", F[j]
    printf "\n|---|"; for (j = 1; j <= nf; j++) printf "---:|"; printf "\n"
    for (i = 1; i <= nl; i++) {
        printf "| %s |", L[i]
        for (j = 1; j <= nf; j++) {
            m = median(L[i] SUBSEP F[j])
            if (L[i] == "floor-inflate" && F[j] !~ /\.gz$/) printf " n/a (copy) |"
            else if (m == "") printf " - |"
            else printf " %.0f |", m
        }
        printf "\n"
    }
    printf "| peak memory / JSON (C core) |"
    for (j = 1; j <= nf; j++) printf " %s |", (F[j] in peak) ? peak[F[j]] : "-"
    printf "\n\n| target | measured | goal | result |\n|---|---:|---:|---|\n"
    split("medium.json large.json", big, " ")
    for (k = 1; k <= 2; k++) {
        c = median("tlsrpt-c" SUBSEP big[k]); r = median("rust" SUBSEP big[k]); p = median("python" SUBSEP big[k])
        check("C core / rust, " big[k], (c != "" && r != "") ? c / r : "", 1.2, ">=")
        check("C core / python, " big[k], (c != "" && p != "") ? c / p : "", 4, ">=")
    }
    for (j = 1; j <= nf; j++) if (F[j] ~ /\.gz$/) {
        c = median("tlsrpt-c" SUBSEP F[j]); fl = median("floor-inflate" SUBSEP F[j])
        check("C core / floor-inflate, " F[j], (c != "" && fl != "") ? c / fl : "", 0.6, ">=")
    }
    for (u = 1; u <= nlu; u++) for (j = 1; j <= nf; j++) {
        l = median("tlsrpt-" LU[u] SUBSEP F[j]); p = median("python" SUBSEP F[j])
        check(LU[u] " parse_report / python, " F[j], (l != "" && p != "") ? l / p : "", 2, ">=")
    }
    for (j = 1; j <= nf; j++) check("C core peak memory / JSON size, " F[j], (F[j] in peak) ? peak[F[j]] : "", 2, "<=")
    # Not targets: the result tables alone (no parsing, no inflating) against
    # python: under Lua 5.4 the most parse_report could reach (bench/tables.c).
    printf "\n| bound: result tables alone / python |"; for (j = 1; j <= nf; j++) printf " %s |", F[j]
    printf "\n|---|"
    for (j = 1; j <= nf; j++) printf "---:|"
    printf "\n"
    for (u = 1; u <= nlu; u++) {
        printf "| %s |", LU[u]
        for (j = 1; j <= nf; j++) {
            l = median("tlsrpt-" LU[u] "-tables" SUBSEP F[j]); p = median("python" SUBSEP F[j])
            if (l != "" && p != "") printf " %.2f |", l / p; else printf " - |"
        }
        printf "\n"
    }
    for (j = 1; j <= nf; j++) {
        n = split(files_cs[F[j]], cs, " "); bad = 0
        for (k = 2; k <= n; k++) if (cs[k] != cs[1]) bad = 1
        if (bad) { printf "| checksums agree, %s | %s | equal | FAIL |\n", F[j], files_cs[F[j]]; fails++ }
    }
    printf "\n%d target(s) missed\n", fails
}' "$res"
status=$?

# Not a target: parse_report over distinct reports in turn (bench.lua --distinct,
# bench/distinct.py with the python peer's own parse_report). Parsing one file
# again and again lets Lua find the last round's strings still interned; a
# host gets different reports, and there Lua pays for every new string.
DISTINCT=${BENCH_DISTINCT:-1}
PEER_PY="$SHARED/bench/peers/python/peer.py"
if [ "$DISTINCT" != 0 ] && [ -f "$PEER_PY" ]; then
    echo "bench: distinct reports" >&2
    dres=$(mktemp "${TMPDIR:-/tmp}/tlsrpt-distinct.XXXXXX")
    trap 'rm -rf "$data" "$res" "$dres"' EXIT
    # medium: 8 reports like medium.json, large: 4 like large.json (other
    # seeds), each plain and gzipped
    for spec in "medium 20 50 21 22 23 24 25 26 27 28" "large 100 1000 11 12 13 14"; do
        set -- $spec
        size=$1 npol=$2 nfd=$3; shift 3
        set_files=
        for seed in "$@"; do
            python3 "$SHARED/bench/gen_report.py" "$npol" "$nfd" "$seed" > "$data/$size-$seed.json"
            gzip -6 -n -k "$data/$size-$seed.json"
            set_files="$set_files $data/$size-$seed.json"
        done
        [ "$size" = medium ] && rounds=64 || rounds=2
        for ext in "" .gz; do
            files_x=$(for f in $set_files; do printf '%s%s ' "$f" "$ext"; done)
            r=0
            while [ "$r" -lt "$RUNS" ]; do
                r=$((r + 1))
                for lv in $LUAS; do
                    env LUA_PATH="lua/?.lua;lua/?/init.lua;;" \
                        LUA_CPATH="$BUILD/$lv/?.so;$BUILD/bench/$lv/?.so;;" \
                        "$lv" bench/bench.lua --distinct "$rounds" $files_x 2>/dev/null |
                        sed "s/^/$size$ext /"
                done
                python3 bench/distinct.py "$PEER_PY" "$rounds" $files_x 2>/dev/null |
                    sed "s/^/$size$ext /"
            done
        done
        for f in $set_files; do rm -f "$f" "$f.gz"; done
    done > "$dres"
    awk -v luas="$LUAS" "$AWK_MEDIAN"'
    { for (i = 3; i <= NF; i++) { split($i, a, "="); if (a[1] == "mb_per_s") mb = a[2] + 0; if (a[1] == "checksum") cs = a[2] }
      key = $2 SUBSEP $1; cnt[key]++; val[key, cnt[key]] = mb
      if (($1 in sum) && sum[$1] != cs) bad[$1] = 1; sum[$1] = cs }
    END {
        nl = split(luas, L, " ")
        printf "\nNot a target: distinct reports in turn (8 medium-sized, 4 large-sized; MB/s, and / python)\n\n"
        ns = split("medium medium.gz large large.gz", S, " ")
        printf "| contender | medium x8 | medium.gz x8 | large x4 | large.gz x4 |\n|---|---:|---:|---:|---:|\n"
        for (i = 1; i <= nl; i++) {
            printf "| tlsrpt-%s |", L[i]
            for (k = 1; k <= ns; k++) {
                m = median("tlsrpt-" L[i] SUBSEP S[k]); p = median("python" SUBSEP S[k])
                if (m == "") printf " - |"; else if (p == "") printf " %.0f |", m
                else printf " %.0f (%.2fx) |", m, m / p
            }
            printf "\n"
        }
        printf "| python |"
        for (k = 1; k <= ns; k++) { p = median("python" SUBSEP S[k]); if (p == "") printf " - |"; else printf " %.0f |", p }
        printf "\n"
        for (k = 1; k <= ns; k++) if (bad[S[k]]) printf "checksums differ on the %s set\n", S[k]
    }' "$dres"
fi

# tlsrpt.collection: "<interp> <phase> <seconds> s  (<detail>)" per phase;
# the interpreter name is two words ("Lua 5.4", "LuaJIT 2.1.0-beta3").
[ "$CROWS" -gt 0 ] 2>/dev/null || exit $status
for lv in $LUAS; do
    echo "bench: collection under $lv" >&2
    env LUA_PATH="lua/?.lua;lua/?/init.lua;;" "$lv" bench/collection.lua "$CROWS" 2>/dev/null |
        sed "s/^/$lv|/" || echo "bench: collection failed under $lv" >&2
done | awk -v luas="$LUAS" '
{
    split($0, a, "|"); lv = a[1]; line = a[2]
    if (!match(line, / +[0-9.]+ s  \(/)) next
    n = split(substr(line, 1, RSTART - 1), w, " "); phase = w[3]
    for (i = 4; i <= n; i++) phase = phase " " w[i]
    rest = substr(line, RSTART); split(rest, f, " "); secs = f[1] + 0
    if (phase == "add" && match(rest, /[0-9]+ rows/)) rows[lv] = substr(rest, RSTART, RLENGTH - 5) + 0
    if (phase ~ /^(add|query )/) {
        if (!(phase in seen)) { seen[phase] = 1; order[++np] = phase }
        t[lv, phase] = secs
    }
}
END {
    nl = split(luas, L, " ")
    printf "\ntlsrpt.collection, rows/s (bench/collection.lua: add = rows stored, query = rows scanned)\n\n| phase |"
    for (i = 1; i <= nl; i++) printf " %s |", L[i]
    printf "\n|---|"; for (i = 1; i <= nl; i++) printf "---:|"; printf "\n"
    for (k = 1; k <= np; k++) {
        ph = order[k]; printf "| %s |", ph
        for (i = 1; i <= nl; i++) {
            s = t[L[i], ph]
            if (s == "" || !rows[L[i]]) printf " - |"
            else if (s <= 0) printf " > %.1fM |", rows[L[i]] / 0.001 / 1e6
            else printf " %.2fM |", rows[L[i]] / s / 1e6
        }
        printf "\n"
    }
    for (i = 1; i <= nl; i++) if (rows[L[i]]) printf "%s%s: %d rows", (i > 1 ? ", " : "\n"), L[i], rows[L[i]]
    printf "\n"
}'
exit $status
