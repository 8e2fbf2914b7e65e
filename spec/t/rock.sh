#!/bin/sh
# LuaRocks packaging (TAP). Everything offline and in a temp dir:
#  - both rockspecs pass `luarocks lint` and share one build description;
#  - `make -f rockspec/rock.mk rock-dist` makes the release tarball; the
#    `luarocks make` runs below build from that tarball's contents, so a file
#    missing from it fails here too;
#  - `luarocks make` for Lua 5.4, 5.1 with LuaJIT headers, and 5.1 with PUC
#    headers; each tree's module loads under its interpreter with nothing but
#    that tree on the search path, exports only luaopen_tlsrpt_core, and the
#    installed `tlsrpt --version` runs;
#  - `luarocks pack` of the versioned rockspec (its source.url pointed at the
#    local tarball) and `luarocks install` of the .src.rock into a fresh tree;
#  - `luarocks remove` takes the module away again.
# Env: ROCK_SKIP_LUAJIT / ROCK_SKIP_LUA51=1 to leave those out (not used by CI).
cd "$(dirname "$0")/../.." || exit 1
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/# /' "$2"; }
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }
check() { # description, command... (output kept in $log for the failure report)
    d=$1; shift
    if "$@" > "$log" 2>&1; then ok "$d"; else nok "$d" "$log"; fi
}

for c in luarocks make tar unzip zip git nm; do
    command -v "$c" >/dev/null 2>&1 || { echo "1..0 # skip $c not installed"; exit 0; }
done
# The release tarball lists files with git; an unpacked tarball has no .git.
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "1..0 # skip not a git checkout"; exit 0; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-rock.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
log=$tmp/log
mkdir -p "$tmp/home" "$tmp/noserver"
# Keep luarocks away from the user's config, trees and servers.
export HOME="$tmp/home"
# Two jobs: the four builds below dominate the run time.
export MAKEFLAGS=-j2
unset LUAROCKS_CONFIG LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4
version=$(sed -n 's/^#define TRPT_VERSION "\(.*\)"/\1/p' core/include/trpt.h)

# --- rockspecs
for r in rockspec/tlsrpt-scm-1.rockspec "rockspec/tlsrpt-$version-1.rockspec"; do
    check "luarocks lint $r" luarocks lint "$r"
done

# The two rockspecs may differ only in version and source.
cat > "$tmp/cmp.lua" <<'EOF'
local function load(f)
  local env = {}
  local chunk = assert(loadfile(f, "t", env))
  chunk()
  return env
end
local function same(a, b, path)
  if type(a) ~= type(b) then error(path .. ": " .. type(a) .. " vs " .. type(b)) end
  if type(a) ~= "table" then
    if a ~= b then error(path .. ": " .. tostring(a) .. " vs " .. tostring(b)) end
    return
  end
  for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
  for k in pairs(b) do if a[k] == nil then error(path .. "." .. tostring(k) .. " only in one") end end
end
local a, b = load(arg[1]), load(arg[2])
a.version, b.version, a.source, b.source = nil, nil, nil, nil
same(a, b, "rockspec")
EOF
check "scm and $version rockspecs share package, dependencies and build" \
    lua5.4 "$tmp/cmp.lua" rockspec/tlsrpt-scm-1.rockspec "rockspec/tlsrpt-$version-1.rockspec"

if grep -q "^   dir = \"tlsrpt-$version\"," "rockspec/tlsrpt-$version-1.rockspec" &&
   grep -q "^   url = \".*/tlsrpt-$version\.tar\.gz\"," "rockspec/tlsrpt-$version-1.rockspec"; then
    ok "versioned rockspec names tlsrpt-$version.tar.gz / tlsrpt-$version (TRPT_VERSION)"
else
    nok "versioned rockspec names tlsrpt-$version.tar.gz / tlsrpt-$version (TRPT_VERSION)"
fi

# --- release tarball
tarball=$tmp/dist/tlsrpt-$version.tar.gz
check "make -f rockspec/rock.mk rock-dist" make -s -f rockspec/rock.mk rock-dist BUILD="$tmp/dist"
tar tzf "$tarball" > "$tmp/list" 2>"$log" || : > "$tmp/list"
missing=
for f in Makefile core/include/trpt.h rockspec/rock.mk lua/tlsrpt/init.lua bin/tlsrpt; do
    grep -qx "tlsrpt-$version/$f" "$tmp/list" || missing="$missing $f"
done
if [ -s "$tmp/list" ] && [ -z "$missing" ]; then ok "tarball holds the sources and bin/tlsrpt"
else echo "# missing:$missing" > "$log"; nok "tarball holds the sources and bin/tlsrpt" "$log"; fi
if grep -Eq "^tlsrpt-$version/(build|build-[^/]*|fuzz/build)/|\.(o|a|so|rock)$" "$tmp/list"; then
    grep -E "^tlsrpt-$version/(build|build-[^/]*|fuzz/build)/|\.(o|a|so|rock)$" "$tmp/list" | head -5 > "$log"
    nok "tarball holds no build output" "$log"
else ok "tarball holds no build output"; fi
mkdir -p "$tmp/x"
tar xzf "$tarball" -C "$tmp/x" 2>/dev/null
src=$tmp/x/tlsrpt-$version

# --- luarocks make, per Lua
# Runs lua code with only the tree on the search path, from outside the sources.
tree_lua() { # tree, interpreter, luaversion, code
    (cd "$tmp" && LUA_PATH="$1/share/lua/$3/?.lua;$1/share/lua/$3/?/init.lua" \
        LUA_CPATH="$1/lib/lua/$3/?.so" "$2" -e "$4")
}
# The CLI with the tree on the path (a --deps-mode=none wrapper adds no paths).
tree_cli() { # tree, luaversion, args...
    t=$1; lv=$2; shift 2
    (cd "$tmp" && LUA_PATH="$t/share/lua/$lv/?.lua;$t/share/lua/$lv/?/init.lua;;" \
        LUA_CPATH="$t/lib/lua/$lv/?.so;;" "$t/bin/tlsrpt" "$@")
}
exports_only_luaopen() { # so
    nm -D --defined-only "$1" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' > "$tmp/syms" &&
        [ "$(cat "$tmp/syms")" = "luaopen_tlsrpt_core" ] || { cat "$tmp/syms"; return 1; }
}
same_modules() { # luadir: the tree holds exactly the source's lua/tlsrpt/**.lua
    (cd "$src/lua" && find tlsrpt -name '*.lua' | LC_ALL=C sort) > "$tmp/want"
    (cd "$1" && find tlsrpt -name '*.lua' | LC_ALL=C sort) > "$tmp/got"
    [ -s "$tmp/want" ] && diff "$tmp/want" "$tmp/got"
}
probe='local t = require "tlsrpt"
assert(type(package.loaded["tlsrpt.core"]) == "table", "tlsrpt.core not loaded")
assert(t.version == "'"$version"'", "version " .. tostring(t.version))
io.write(_VERSION, " ", tostring(jit and jit.version or "PUC"), "\n")'

make_tree() { # label, luaversion, interpreter, incdir, [LUAROCKS_CONFIG file]
    label=$1; lv=$2; interp=$3; inc=$4; conf=${5:-}
    tree=$tmp/tree-$label
    if ! command -v "$interp" >/dev/null 2>&1 || [ ! -f "$inc/lua.h" ]; then
        for d in make require symbols cli; do skip "$label: $interp or $inc/lua.h missing"; done
        return
    fi
    if (cd "$src" && env ${conf:+LUAROCKS_CONFIG="$conf"} luarocks --lua-version "$lv" --tree "$tree" \
            make --deps-mode=none rockspec/tlsrpt-scm-1.rockspec LUA_INCDIR="$inc") > "$log" 2>&1; then
        ok "$label: luarocks --lua-version $lv make (LUA_INCDIR=$inc)"
    else
        nok "$label: luarocks --lua-version $lv make (LUA_INCDIR=$inc)" "$log"
    fi
    check "$label: require \"tlsrpt\" from the tree under $interp" tree_lua "$tree" "$interp" "$lv" "$probe"
    check "$label: core.so exports only luaopen_tlsrpt_core" exports_only_luaopen "$tree/lib/lua/$lv/tlsrpt/core.so"
    check "$label: every lua/tlsrpt module installed" same_modules "$tree/share/lua/$lv"
    if tree_cli "$tree" "$lv" --version > "$log" 2>&1 && grep -q "$version" "$log"; then
        ok "$label: installed tlsrpt --version"
    else
        nok "$label: installed tlsrpt --version" "$log"
    fi
}

make_tree lua54 5.4 lua5.4 /usr/include/lua5.4
if [ -n "${ROCK_SKIP_LUAJIT:-}" ]; then
    for d in 1 2 3 4; do skip "luajit: ROCK_SKIP_LUAJIT set"; done
else
    # LuaJIT is luarocks' 5.1 with LuaJIT's headers; the config makes the
    # CLI wrapper exec luajit rather than lua5.1.
    printf 'lua_interpreter = "luajit"\n' > "$tmp/luajit.lua"
    make_tree luajit 5.1 luajit /usr/include/luajit-2.1 "$tmp/luajit.lua"
    if grep -q "luajit'" "$tmp/tree-luajit/bin/tlsrpt" 2>/dev/null; then ok "luajit: CLI wrapper runs luajit"
    else nok "luajit: CLI wrapper runs luajit"; fi
fi
if [ -n "${ROCK_SKIP_LUA51:-}" ]; then
    for d in 1 2 3 4; do skip "lua51: ROCK_SKIP_LUA51 set"; done
else
    make_tree lua51 5.1 lua5.1 /usr/include/lua5.1
fi

# --- luarocks pack + install of the src rock
mkdir -p "$tmp/pack"
sed "s|^   url = \".*\",|   url = \"file://$tarball\",|" "rockspec/tlsrpt-$version-1.rockspec" \
    > "$tmp/pack/tlsrpt-$version-1.rockspec"
srcrock=$tmp/pack/tlsrpt-$version-1.src.rock
check "luarocks pack tlsrpt-$version-1.rockspec" \
    sh -c 'cd "$1" && luarocks --lua-version 5.4 pack "tlsrpt-$2-1.rockspec"' - "$tmp/pack" "$version"
if unzip -l "$srcrock" 2>"$log" | grep -q " tlsrpt-$version\.tar\.gz$" &&
   unzip -l "$srcrock" | grep -q " tlsrpt-$version-1\.rockspec$"; then
    ok "src rock holds the rockspec and tlsrpt-$version.tar.gz"
else nok "src rock holds the rockspec and tlsrpt-$version.tar.gz" "$log"; fi
# deps-mode=one resolves only "lua" (provided by the VM); --only-server is an
# empty local dir, so nothing is fetched. Its wrapper carries the tree's paths.
tree=$tmp/tree-srcrock
check "luarocks install of the .src.rock (lua 5.4)" \
    sh -c 'cd "$1" && luarocks --lua-version 5.4 --tree "$2" install --deps-mode=one \
        --only-server="$3" "$4"' - "$tmp" "$tree" "$tmp/noserver" "$srcrock"
check "src rock: require \"tlsrpt\" from the tree" tree_lua "$tree" lua5.4 5.4 "$probe"
if (cd "$tmp" && "$tree/bin/tlsrpt" --version) > "$log" 2>&1 && grep -q "$version" "$log"; then
    ok "src rock: tlsrpt --version with no LUA_PATH set"
else nok "src rock: tlsrpt --version with no LUA_PATH set" "$log"; fi
# The same .src.rock for rspamd's LuaJIT.
if [ -n "${ROCK_SKIP_LUAJIT:-}" ]; then
    skip "src rock for luajit: ROCK_SKIP_LUAJIT set"; skip "src rock for luajit: ROCK_SKIP_LUAJIT set"
else
    jtree=$tmp/tree-srcrock-luajit
    check "luarocks --lua-version 5.1 install of the .src.rock (LuaJIT headers)" \
        sh -c 'cd "$1" && LUAROCKS_CONFIG="$5" luarocks --lua-version 5.1 --tree "$2" install \
            --deps-mode=one --only-server="$3" "$4" LUA_INCDIR=/usr/include/luajit-2.1' \
        - "$tmp" "$jtree" "$tmp/noserver" "$srcrock" "$tmp/luajit.lua"
    check "src rock: require \"tlsrpt\" under luajit" tree_lua "$jtree" luajit 5.1 "$probe"
fi

had=no
[ -e "$tree/lib/lua/5.4/tlsrpt/core.so" ] && [ -e "$tree/bin/tlsrpt" ] && had=yes
check "luarocks remove tlsrpt" luarocks --lua-version 5.4 --tree "$tree" remove tlsrpt
if [ $had = yes ] && [ ! -e "$tree/lib/lua/5.4/tlsrpt/core.so" ] && [ ! -e "$tree/bin/tlsrpt" ]; then
    ok "remove took core.so and the CLI away"
else nok "remove took core.so and the CLI away"; fi

echo "1..$n"
