#!/bin/sh
# DNS suite (TAP). Starts, on 127.0.0.1 only and on free high ports:
#   - nsd, authoritative for example.test (zone written below), and
#   - spec/dns/fakedns.py: servers that answer SERVFAIL, set AD, never
#     answer, answer with a wrong ID, answer garbage, or truncate,
# then runs the C test with the network part enabled and the busted specs
# spec/dns/*_dns.lua under every Lua, and always stops the servers.
# Env: BUILD (build dir), LUAS (interpreters), PRELOAD (sanitizer runtime
# for the interpreters; found by itself for a gcc ASan build).
set -u
BUILD=${BUILD:-build}
LUAS=${LUAS:-lua5.4 luajit}
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-dns.XXXXXX") || exit 1
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! command -v python3 >/dev/null 2>&1; then
    echo "ok - # skip python3 not installed (needed for the fake DNS servers)"
    exit 0
fi
NSD=$(command -v nsd || ls /usr/sbin/nsd 2>/dev/null)

# -- zone: every case the specs look up -----------------------------------
cat > "$tmp/example.test.zone" <<'EOF'
$ORIGIN example.test.
$TTL 300
@               SOA   ns hostmaster 1 3600 900 604800 300
@               NS    ns
ns              A     127.0.0.1
; MX out of order: the resolver sorts by preference
@               MX    20 mx2
@               MX    10 mx1
@               MX    30 mx3.example.net.
nullmx          MX    0 .
; a valid TLSRPT record split over two character-strings
_smtp._tls      TXT   "v=TLSRPTv1; rua=mailto:tlsrpt@" "example.test"
; two TLSRPT records: RFC 8460 §3 says to use none
_smtp._tls.two  TXT   "v=TLSRPTv1; rua=mailto:a@example.test"
_smtp._tls.two  TXT   "v=TLSRPTv1; rua=mailto:b@example.test"
; a non-TLSRPT TXT beside a valid one
_smtp._tls.mixed TXT  "site-verification=abc123"
_smtp._tls.mixed TXT  "v=TLSRPTv1; rua=https://reports.example.test/v1"
; only a TXT of another kind
_smtp._tls.other TXT  "v=spf1 -all"
; the name exists, but has no TXT
_smtp._tls.nodata A   192.0.2.2
notxt           A     192.0.2.1
; a CNAME to the valid record, as when a provider hosts it
_smtp._tls.alias CNAME _smtp._tls.example.test.
; MTA-STS records
_mta-sts        TXT   "v=STSv1; id=20240101T000000;"
_mta-sts.twosts TXT   "v=STSv1; id=1;"
_mta-sts.twosts TXT   "v=STSv1; id=2;"
; TLSA (RFC 6698): DANE-EE SPKI SHA-256, and DANE-TA full cert SHA-512 prefix
_25._tcp.mx1    TLSA  3 1 1 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
_25._tcp.mx1    TLSA  2 0 1 0123456789abcdef
_465._tcp.mx1   TLSA  3 0 0 00ff
; bytes that are not text
bin             TXT   "a\000b\255" "c"
; too big for one 1232-byte UDP answer: nsd truncates, the resolver uses TCP
big             TXT   "r01 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r02 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r03 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r04 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r05 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r06 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r07 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r08 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r09 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r10 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r11 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r12 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r13 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r14 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
big             TXT   "r15 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
EOF

# -- nsd ------------------------------------------------------------------
nsd_port=
if [ -n "$NSD" ]; then
    for try in 1 2 3; do
        port=$(python3 spec/dns/fakedns.py --free-port) || break
        cat > "$tmp/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$port
    port: $port
    do-ip4: yes
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "$tmp"
    pidfile: "$tmp/nsd.pid"
    database: ""
    zonelistfile: "$tmp/zone.list"
    xfrdfile: "$tmp/xfrd.state"
    xfrdir: "$tmp"
    logfile: "$tmp/nsd.log"
    server-count: 1
    reuseport: no
    hide-version: yes
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: example.test
    zonefile: example.test.zone
EOF
        "$NSD" -d -c "$tmp/nsd.conf" >>"$tmp/nsd.out" 2>&1 &
        nsd_pid=$!
        pids="$pids $nsd_pid"
        i=0
        while [ $i -lt 50 ]; do
            if python3 spec/dns/fakedns.py --probe "$port"; then nsd_port=$port; break; fi
            kill -0 "$nsd_pid" 2>/dev/null || break
            sleep 0.1
            i=$((i + 1))
        done
        [ -n "$nsd_port" ] && break
        kill "$nsd_pid" 2>/dev/null
    done
    if [ -n "$nsd_port" ]; then
        echo "ok - nsd answers on 127.0.0.1 port $nsd_port"
    else
        echo "not ok - nsd did not start"
        sed 's/^/# /' "$tmp/nsd.out" "$tmp/nsd.log" 2>/dev/null
    fi
else
    echo "ok - # skip nsd not installed: queries against a real server are not tested"
fi

# -- fake servers -----------------------------------------------------------
python3 spec/dns/fakedns.py "$tmp/fake.ports" servfail ad silent badid wrongq stray garbage trunc tcphang echo referral badvers &
pids="$pids $!"
i=0
while [ ! -s "$tmp/fake.ports" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -s "$tmp/fake.ports" ]; then
    echo "ok - fake DNS servers listening"
else
    echo "not ok - fake DNS servers did not start"
fi
fake() { awk -v m="$1" '$1 == m { print $2 }' "$tmp/fake.ports" 2>/dev/null; }

export TLSRPT_DNS_PORT="$nsd_port" TLSRPT_DNS_TMP="$tmp"
export TLSRPT_FAKE_SERVFAIL="$(fake servfail)" TLSRPT_FAKE_AD="$(fake ad)"
export TLSRPT_FAKE_SILENT="$(fake silent)" TLSRPT_FAKE_BADID="$(fake badid)"
export TLSRPT_FAKE_GARBAGE="$(fake garbage)" TLSRPT_FAKE_TRUNC="$(fake trunc)"
export TLSRPT_FAKE_WRONGQ="$(fake wrongq)" TLSRPT_FAKE_STRAY="$(fake stray)"
export TLSRPT_FAKE_TCPHANG="$(fake tcphang)" TLSRPT_FAKE_ECHO="$(fake echo)"
export TLSRPT_FAKE_REFERRAL="$(fake referral)" TLSRPT_FAKE_BADVERS="$(fake badvers)"
# A port nothing listens on (UDP and TCP): "connection refused".
TLSRPT_FAKE_CLOSED=$(python3 spec/dns/fakedns.py --free-port)
export TLSRPT_FAKE_CLOSED

# Runs a TAP producer; a crash or failing exit status without a "not ok"
# line of its own still counts as a failure.
tap() { # label, command...
    label=$1; shift
    "$@" > "$tmp/tap.out" 2>&1
    rc=$?
    cat "$tmp/tap.out"
    if [ $rc -ne 0 ] && ! grep -q '^not ok' "$tmp/tap.out"; then
        echo "not ok - $label exited with status $rc"
    fi
}

# -- C test, network part (LeakSanitizer checks ldns frees in an ASan build) --
if [ -x "$BUILD/test/test_dns" ]; then
    tap test_dns "$BUILD/test/test_dns"
else
    echo "not ok - $BUILD/test/test_dns not built"
fi

# -- busted specs under every Lua -------------------------------------------
for lv in $LUAS; do
    if ! command -v "$lv" >/dev/null 2>&1; then echo "not ok - $lv not installed"; continue; fi
    so="$BUILD/$lv/tlsrpt/core.so"
    # An ASan-built module needs the runtime loaded first: PRELOAD as in
    # spec/run-all.sh, else gcc's libasan when the module links it. Only the
    # interpreter gets it, never nsd or python.
    pre=${PRELOAD:-}
    if [ -z "$pre" ] && ldd "$so" 2>/dev/null | grep -q libasan; then
        pre=$(gcc -print-file-name=libasan.so)
    fi
    tap "busted $lv" env ${pre:+LD_PRELOAD=$pre} ${pre:+ASAN_OPTIONS=detect_leaks=0} \
        LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;;" LUA_CPATH="$root/$BUILD/$lv/?.so;;" \
        busted --lua="$lv" -o TAP --pattern=_dns spec/dns
done
