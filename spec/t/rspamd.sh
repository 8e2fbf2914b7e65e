#!/bin/sh
# Acceptance test of the rspamd rule lua/rspamd/tlsrpt_report.lua (TAP).
#
# Starts Debian's rspamd (installed here when missing and we are root) with
# the self-contained config spec/rspamd/rspamd.conf.in: workers on 127.0.0.1
# only, no stock modules or maps, fuzzy_check off, and DNS pointed at an nsd
# on 127.0.0.1 serving spec/rspamd/example.net.zone (REFUSED for every other
# name). When root may create a network namespace (unshare -n, ip), the whole
# test re-runs inside one that holds only loopback, so nothing can leave the
# machine even by mistake. The rule loads tlsrpt from a copy of
# $BUILD/luajit/tlsrpt/core.so and lua/ (built by `make`, else built here).
#
# Checks: `rspamadm configtest` and the registered symbols; the hand-written
# spec/rspamd/*.eml (a report with failures, a truncated report, a non-report,
# and record-check variants); every real report e-mail under
# $TLSRPT_SHARED/corpus/real/reports (org/successes/failures read from the
# decoded JSON of each file by hand, not from this project's parser), and the
# negative cron mail. rspamd and nsd are stopped on every exit path.
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
shared=${TLSRPT_SHARED:-../shared}
case $shared in /*) ;; *) shared=$root/$shared ;; esac
corpus=$shared/corpus/real/reports
spec=$root/spec/rspamd

# Loopback-only network namespace when we can make one.
if [ -z "${TLSRPT_RSPAMD_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
   command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 &&
   unshare -n true 2>/dev/null; then
    TLSRPT_RSPAMD_NETNS=1 BUILD=$BUILD TLSRPT_SHARED=$shared exec unshare -n sh "$self"
fi
if [ "${TLSRPT_RSPAMD_NETNS:-}" = 1 ]; then
    ip link set lo up || { echo "1..0 # skip cannot bring up lo in the namespace"; exit 0; }
fi

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/# /' "$2" | tail -n 30; }
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }

# --- prerequisites
if ! command -v rspamd >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rspamd >/dev/null 2>&1
fi
for c in rspamd rspamc rspamadm nsd drill; do
    command -v "$c" >/dev/null 2>&1 || { echo "1..0 # skip $c not installed"; exit 0; }
done
so=$BUILD/luajit/tlsrpt/core.so
if [ ! -f "$so" ]; then
    make -s BUILD="$BUILD" LUAS=luajit lua >/dev/null 2>&1
fi
if [ ! -f "$so" ]; then
    echo "not ok 1 - $so missing and 'make LUAS=luajit lua' did not build it"; echo "1..1"; exit 1
fi
if nm -D "$so" 2>/dev/null | grep -q ' __[a-z]*san_'; then
    echo "1..0 # skip $so is a sanitizer build, rspamd cannot load it"; exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-rspamd.XXXXXX") || exit 1
chmod 755 "$tmp"
rspamd_pid=
nsd_pid=
alive() { # pids...: true while any of them exists
    for a in "$@"; do kill -0 "$a" 2>/dev/null && return 0; done
    return 1
}
stop() { # pid: TERM, wait up to 10 s for it and its children, then KILL what is left
    p=$1
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
    kids=$(pgrep -P "$p" 2>/dev/null)
    for k in $kids; do kids="$kids $(pgrep -P "$k" 2>/dev/null)"; done
    kill -TERM "$p" 2>/dev/null
    i=0
    while alive "$p" $kids && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if [ $i -ge 100 ]; then for k in "$p" $kids; do kill -KILL "$k" 2>/dev/null; done; fi
    wait "$p" 2>/dev/null
}
cleanup() {
    stop "$rspamd_pid"; rspamd_pid=
    stop "$nsd_pid"; nsd_pid=
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir -p "$tmp/db" "$tmp/run" "$tmp/log" "$tmp/nsd" "$tmp/mail" "$tmp/pkg/lib/tlsrpt"
# rspamd's workers run as _rspamd, which may not read the checkout (a home
# directory): they get a world-readable copy of the module, the Lua files,
# the rule and the test data.
cp -R "$root/lua/tlsrpt" "$root/lua/rspamd" "$tmp/pkg/" && cp "$so" "$tmp/pkg/lib/tlsrpt/" &&
    cp -R "$spec" "$tmp/spec" && chmod -R a+rX "$tmp/pkg" "$tmp/spec" || exit 1
spec=$tmp/spec

# A port nobody listens on (tcp and udp), from a pseudo-random start.
used=
free_port() {
    p=$(awk -v s="$$$(date +%N 2>/dev/null)" 'BEGIN { srand(s % 2147483647); print 20000 + int(rand() * 30000) }')
    while :; do
        case " $used " in *" $p "*) p=$((p + 1)); continue ;; esac
        if ! ss -Htuln 2>/dev/null | awk '{ print $5 }' | grep -q ":$p\$"; then break; fi
        p=$((p + 1))
    done
    used="$used $p"
    echo "$p"
}
dns_port=$(free_port); normal_port=$(free_port); controller_port=$(free_port)

fill() { # template -> stdout
    sed -e "s|@TMP@|$tmp|g" -e "s|@SPEC@|$spec|g" -e "s|@DNS_PORT@|$dns_port|g" \
        -e "s|@NORMAL_PORT@|$normal_port|g" -e "s|@CONTROLLER_PORT@|$controller_port|g" \
        -e "s|@LUA_PATH@|$tmp/pkg/?.lua;$tmp/pkg/?/init.lua|g" \
        -e "s|@LUA_CPATH@|$tmp/pkg/lib/?.so|g" \
        -e "s|@RULE@|$tmp/pkg/rspamd/tlsrpt_report.lua|g" "$1"
}
fill "$spec/nsd.conf.in" > "$tmp/nsd.conf"
fill "$spec/rspamd.conf.in" > "$tmp/rspamd.conf"

# rspamd refuses to run workers as root: use its own user where there is one.
run_as=
if [ "$(id -u)" = 0 ]; then
    if id _rspamd >/dev/null 2>&1; then
        run_as="-u _rspamd -g _rspamd"
        chown _rspamd "$tmp/db" "$tmp/run" "$tmp/log"
    else
        run_as=-i
    fi
fi

# --- loopback DNS
nsd -d -c "$tmp/nsd.conf" > "$tmp/nsd/out" 2>&1 &
nsd_pid=$!
i=0
until drill -p "$dns_port" @127.0.0.1 TXT _smtp._tls.example.net > "$tmp/drill" 2>&1 &&
      grep -q 'v=TLSRPTv1' "$tmp/drill"; do
    i=$((i + 1))
    if [ $i -ge 50 ] || ! kill -0 "$nsd_pid" 2>/dev/null; then
        cat "$tmp/nsd/out" "$tmp/nsd/nsd.log" > "$tmp/log/why" 2>/dev/null
        nok "nsd answers on 127.0.0.1:$dns_port" "$tmp/log/why"; echo "1..$n"; exit 1
    fi
    sleep 0.2
done
where=
[ "${TLSRPT_RSPAMD_NETNS:-}" = 1 ] && where=" (loopback-only network namespace)"
ok "nsd answers on 127.0.0.1:$dns_port$where"

# --- configuration
configtest() { # conf, log: configtest passes and the rule logged no complaint
    rspamadm configtest -c "$1" > "$2" 2>&1 && grep -q 'syntax OK' "$2" && ! grep -q 'tlsrpt_report:' "$2"
}
if configtest "$tmp/rspamd.conf" "$tmp/log/configtest"; then
    ok "rspamadm configtest with the rule loaded"
else
    nok "rspamadm configtest with the rule loaded" "$tmp/log/configtest"
fi
rspamadm configdump -g -c "$tmp/rspamd.conf" > "$tmp/log/groups" 2>&1
for s in TLSRPT_REPORT TLSRPT_FAILURES TLSRPT_INVALID TLSRPT_RECORD_OK TLSRPT_RECORD_MISSING \
         TLSRPT_RECORD_INVALID TLSRPT_RECORD_DNSFAIL; do
    if grep -q "$s" "$tmp/log/groups"; then ok "symbol $s registered"
    else nok "symbol $s registered" "$tmp/log/groups"; fi
done

# Variants of the rule's section: "check_record = true;" replaced by $2.
variant_conf() { # name, replacement
    sed "s|^    check_record = true;\$|$2|" "$tmp/rspamd.conf" > "$tmp/$1.conf"
}
variant_conf badopts '    check_record = "yes"; no_such_setting = 1; limits { max_input = "big"; }'
rspamadm configtest -c "$tmp/badopts.conf" > "$tmp/log/badopts" 2>&1
if grep -q 'setting check_record must be a boolean' "$tmp/log/badopts" &&
   grep -q 'unknown setting no_such_setting ignored' "$tmp/log/badopts" &&
   grep -q "invalid limits (option 'max_input' must be a number)" "$tmp/log/badopts"; then
    ok "misconfigured settings are reported by configtest"
else nok "misconfigured settings are reported by configtest" "$tmp/log/badopts"; fi
variant_conf nomodule "    check_record = false; lua_cpath = \"$tmp/nowhere/?.so\";"
sed -i "s|^    lua_cpath = \"$tmp/pkg/lib/?.so\";\$||" "$tmp/nomodule.conf"
rspamadm configtest -c "$tmp/nomodule.conf" > "$tmp/log/nomodule" 2>&1
rspamadm configdump -g -c "$tmp/nomodule.conf" >> "$tmp/log/nomodule" 2>&1
if grep -q 'cannot load the tlsrpt module, rule disabled' "$tmp/log/nomodule" &&
   ! grep -q 'TLSRPT_REPORT' "$tmp/log/nomodule"; then
    ok "without the tlsrpt module the rule says so and registers nothing"
else nok "without the tlsrpt module the rule says so and registers nothing" "$tmp/log/nomodule"; fi

# Debian's stock configuration with the rule added the documented way
# (rspamd.conf.local), as an operator would. Only inside the loopback-only
# namespace: the stock modules name outside hosts (maps, fuzzy servers).
if [ "${TLSRPT_RSPAMD_NETNS:-}" = 1 ] && [ -f /etc/rspamd/rspamd.conf ]; then
    mkdir -p "$tmp/stock/local.d" "$tmp/stock/db"
    cat > "$tmp/stock/rspamd.conf.local" <<EOF
lua = "$tmp/pkg/rspamd/tlsrpt_report.lua";
tlsrpt_report {
    lua_path = "$tmp/pkg/?.lua;$tmp/pkg/?/init.lua";
    lua_cpath = "$tmp/pkg/lib/?.so";
}
EOF
    echo 'enabled = false;' > "$tmp/stock/local.d/fuzzy_check.conf"
    stock() { rspamadm --var="LOCAL_CONFDIR=$tmp/stock" --var="DBDIR=$tmp/stock/db" \
        --var="RUNDIR=$tmp/stock/db" --var="LOGDIR=$tmp/stock/db" "$@" -c /etc/rspamd/rspamd.conf; }
    if stock configtest > "$tmp/log/stock" 2>&1 && grep -q 'syntax OK' "$tmp/log/stock" &&
       ! grep -q 'tlsrpt_report:' "$tmp/log/stock" &&
       stock configdump -g > "$tmp/log/stock-groups" 2>&1 && grep -q 'TLSRPT_REPORT' "$tmp/log/stock-groups"; then
        ok "stock /etc/rspamd config + rule: configtest passes, TLSRPT_REPORT registered"
    else
        cat "$tmp/log/stock-groups" >> "$tmp/log/stock" 2>/dev/null
        nok "stock /etc/rspamd config + rule: configtest passes, TLSRPT_REPORT registered" "$tmp/log/stock"
    fi
else
    skip "stock /etc/rspamd config: needs the loopback-only namespace (root, unshare, ip)"
fi

# --- daemon
start_rspamd() { # conf: start it, wait until the normal worker answers a scan
    rspamd -f -c "$1" $run_as > "$tmp/log/stdout" 2>&1 &
    rspamd_pid=$!
    i=0
    while [ $i -lt 150 ] && kill -0 "$rspamd_pid" 2>/dev/null; do
        if rspamc -h "127.0.0.1:$normal_port" -t 2 < "$spec/not-a-report.eml" > "$tmp/log/ping" 2>&1 &&
           grep -q '^Action:' "$tmp/log/ping"; then return 0; fi
        sleep 0.2; i=$((i + 1))
    done
    cat "$tmp/log/stdout" "$tmp/log/rspamd.log" "$tmp/log/ping" > "$tmp/log/why" 2>/dev/null
    return 1
}
if start_rspamd "$tmp/rspamd.conf"; then
    ok "rspamd scans on 127.0.0.1:$normal_port"
else
    nok "rspamd scans on 127.0.0.1:$normal_port" "$tmp/log/why"; echo "1..$n"; exit 1
fi
if grep -q 'cannot load the tlsrpt module' "$tmp/log/rspamd.log"; then
    nok "rule loaded tlsrpt inside rspamd" "$tmp/log/rspamd.log"
else ok "rule loaded tlsrpt inside rspamd"; fi

scan() { # file, out, [rspamc args...]
    [ -n "${RSPAMD_TEST_TRACE:-}" ] && date +"# %T scan $1" >&2
    f=$1; out=$2; shift 2
    rspamc -h "127.0.0.1:$normal_port" -t 10 "$@" < "$f" > "$out" 2>&1
}
# The option list of a symbol in rspamc's text output:
# "Symbol: NAME (0.00)[opt1, opt2]" -> "opt1, opt2"
sym_opts() { # out, symbol
    sed -n "s/^Symbol: $2 ([^)]*)\[\(.*\)\]\$/\1/p" "$1"
}
has_sym() { grep -q "^Symbol: $2 (" "$1"; }
expect() { # description, out, symbol, options... (one ending in '*': an option's prefix)
    d=$1; out=$2; s=$3; shift 3
    if ! has_sym "$out" "$s"; then nok "$d: $s" "$out"; return; fi
    o=$(sym_opts "$out" "$s")
    for frag in "$@"; do
        case $frag in
        *\*) pat=", ${frag%\*}" ;;
        *) pat=", $frag, " ;;
        esac
        case ", $o, " in *"$pat"*) ;; *) echo "# $s options: [$o], want: $frag"; nok "$d: $s [$*]" "$out"; return ;; esac
    done
    ok "$d: $s${1:+ [$*]}"
}
expect_none() { # description, out, symbol...
    d=$1; out=$2; shift 2
    if ! grep -q '^Action:' "$out"; then nok "$d: scanned" "$out"; return; fi
    for s in "$@"; do
        if has_sym "$out" "$s"; then nok "$d: no $s" "$out"; return; fi
    done
    ok "$d: none of $*"
}

# --- hand-written messages
m=$tmp/mail
scan "$spec/tlsrpt-report.eml" "$m/report" --rcpt tlsrpt@example.net
expect "tlsrpt-report.eml" "$m/report" TLSRPT_REPORT "org=Example Reporter Ltd." \
    "domain=example.net" "id=2026-11-01T00:00:00Z_example.net" "successes=120" "failures=3"
expect "tlsrpt-report.eml" "$m/report" TLSRPT_FAILURES "certificate-expired=2" "starttls-not-supported=1"
expect "tlsrpt-report.eml" "$m/report" TLSRPT_RECORD_OK "example.net:rua=match"
expect_none "tlsrpt-report.eml" "$m/report" TLSRPT_INVALID TLSRPT_RECORD_MISSING TLSRPT_RECORD_INVALID TLSRPT_RECORD_DNSFAIL

scan "$spec/tlsrpt-report.eml" "$m/nomatch" --rcpt postmaster@example.net
expect "report to an address not in the rua" "$m/nomatch" TLSRPT_RECORD_OK "example.net:rua=nomatch"

# The same report claiming other report domains (TLS-Report-Domain header).
variant() { # domain, out
    sed "s/^TLS-Report-Domain: example.net\$/TLS-Report-Domain: $1/" "$spec/tlsrpt-report.eml" > "$m/$2.eml"
    scan "$m/$2.eml" "$m/$2" --rcpt tlsrpt@example.net
}
variant missing.example.net missing
expect "domain without a record (NXDOMAIN)" "$m/missing" TLSRPT_RECORD_MISSING "missing.example.net"
variant other.example.net other
expect "domain whose TXT is not TLS-RPT" "$m/other" TLSRPT_RECORD_MISSING "other.example.net"
variant bad.example.net bad
expect "domain with a record without URI scheme" "$m/bad" TLSRPT_RECORD_INVALID "bad.example.net:code=field *"
variant example.org refused
expect "domain the resolver refuses" "$m/refused" TLSRPT_RECORD_DNSFAIL "example.org:*"
expect "report still summarised when the lookup fails" "$m/refused" TLSRPT_REPORT "failures=3"

scan "$spec/tlsrpt-invalid.eml" "$m/invalid"
expect "tlsrpt-invalid.eml (truncated JSON)" "$m/invalid" TLSRPT_INVALID "code=syntax"
expect_none "tlsrpt-invalid.eml" "$m/invalid" TLSRPT_REPORT TLSRPT_FAILURES

scan "$spec/not-a-report.eml" "$m/negative"
expect_none "not-a-report.eml" "$m/negative" TLSRPT_REPORT TLSRPT_INVALID TLSRPT_FAILURES

# --- real report e-mails: file|organization-name|successes|failures|result types
# Values read from each attachment's JSON (decoded by hand), summed over policies.
expected='google-cardinalhealth-no-policy-found.eml|Google Inc.|48|0|
google-envelope-synthetic-payload-failure.eml|Google Inc.|4523|2|certificate-expired=2
google-krvtz-sts-enforce-20240915.eml|Google Inc.|1|0|
google-mailauth-inline-json-not-gzip.eml|Google Inc.|23|1|certificate-host-mismatch=1
google-messagingengine-anon-20260511.eml|Google Inc.|1|0|
google-xmox-sts-enforce.eml|Google Inc.|3|0|
mailru-krvtz-sts-fetch-timeout.eml|Mail.ru|0|1|sts-policy-fetch-error=1
microsoft-krvtz-sts-and-tlsa.eml|Microsoft Corporation|4|0|
microsoft-messagingengine-anon-20260513.eml|Microsoft Corporation|2|0|'
if [ ! -d "$corpus" ]; then
    skip "real report e-mails: $corpus absent"
else
    for f in "$corpus"/*.eml; do
        [ -f "$f" ] || continue
        b=$(basename "$f")
        out=$m/real-$b
        scan "$f" "$out"
        case $b in
        negative-*)
            expect_none "$b" "$out" TLSRPT_REPORT TLSRPT_INVALID TLSRPT_FAILURES
            continue ;;
        esac
        line=$(printf '%s\n' "$expected" | grep "^$b|")
        if [ -z "$line" ]; then
            expect "$b" "$out" TLSRPT_REPORT
            continue
        fi
        org=$(echo "$line" | cut -d'|' -f2); succ=$(echo "$line" | cut -d'|' -f3)
        fail=$(echo "$line" | cut -d'|' -f4); types=$(echo "$line" | cut -d'|' -f5)
        expect "$b" "$out" TLSRPT_REPORT "org=$org" "successes=$succ" "failures=$fail"
        if [ "$fail" -gt 0 ]; then
            expect "$b" "$out" TLSRPT_FAILURES $types
        else
            expect_none "$b" "$out" TLSRPT_FAILURES TLSRPT_INVALID
        fi
    done
fi

# --- the rule's parser limits, and check_record off (a restart with a variant config)
stop "$rspamd_pid"; rspamd_pid=
variant_conf limits '    check_record = false; limits { max_input = 8192; }'
# The same report with 12 KB of text in its first part: over max_input.
awk '{ print } /^This is an aggregate TLS report/ {
        for (i = 0; i < 200; i++) print "padding padding padding padding padding padding padding" }' \
    "$spec/tlsrpt-report.eml" > "$m/padded.eml"
if start_rspamd "$tmp/limits.conf"; then
    scan "$m/padded.eml" "$m/limit" --rcpt tlsrpt@example.net
    expect "limits.max_input = 8192, 12 KB message" "$m/limit" TLSRPT_INVALID "code=limit"
    expect_none "limits.max_input = 8192, 12 KB message" "$m/limit" TLSRPT_REPORT
    scan "$spec/tlsrpt-report.eml" "$m/nocheck" --rcpt tlsrpt@example.net
    expect "limits.max_input = 8192, 2 KB message" "$m/nocheck" TLSRPT_REPORT "failures=3"
    expect_none "check_record = false" "$m/nocheck" TLSRPT_RECORD_OK TLSRPT_RECORD_MISSING \
        TLSRPT_RECORD_INVALID TLSRPT_RECORD_DNSFAIL
else
    nok "rspamd restarts with limits { max_input = 8192 }" "$tmp/log/why"
fi

# --- shutdown
workers=$(pgrep -P "$rspamd_pid" 2>/dev/null)
stop "$rspamd_pid"
left=
for w in $rspamd_pid $workers; do kill -0 "$w" 2>/dev/null && left="$left $w"; done
if [ -n "$workers" ] && [ -z "$left" ]; then ok "rspamd and its workers stopped"
else nok "rspamd and its workers stopped (workers: ${workers:-none}, left:${left:- none})"; fi
rspamd_pid=
echo "1..$n"
