/* Fuzz target: the Lua API (tlsrpt.core under Lua 5.4). Strings in must
 * never raise: every call returns a result or nil, message, code, info.
 *
 * Input: one selector byte, then the payload.
 *   bits 0-2  function: parse_record, parse_sts_record, parse_sts_policy,
 *             sts_mx_match, parse_report, gunzip, parse_report_email,
 *             mx_pattern_match
 *   bit 3     pass the payload as an object with __tostring (rspamd{text})
 *   bit 4     pass tight limits, so the caps are reached through Lua
 *   bit 5     strict mode (reports, e-mails)
 *   bit 6     TXT parsers: split the payload at NUL bytes into a list of
 *             records; bit 7 also splits each record at 0x01 into
 *             character-strings
 * For the two matchers the payload is "<policy or pattern> NUL <host>".
 * A parsed report (or e-mail) is then fed to tlsrpt.generate: it may refuse
 * with nil, message, but never raise, and when the parse had no warnings
 * its JSON must parse again in strict mode.
 *
 * The Lua interpreter is Debian's liblua5.4, not instrumented; the binding
 * (lua/src) and the core are. */
#include "common.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_tlsrpt_core(lua_State *L);

static const char driver[] =
    "local core, sel, payload = ...\n"
    "local names = { 'parse_record', 'parse_sts_record', 'parse_sts_policy', 'sts_mx_match',\n"
    "  'parse_report', 'gunzip', 'parse_report_email', 'mx_pattern_match' }\n"
    "local fn = names[sel % 8 + 1]\n"
    "local function bit(n) return math.floor(sel / 2 ^ n) % 2 == 1 end\n"
    "local function text(s)\n"
    "  if not bit(3) then return s end\n"
    "  return setmetatable({}, { __tostring = function() return s end })\n"
    "end\n"
    "local function split(s, sep)\n"
    "  local out, start = {}, 1\n"
    "  while true do\n"
    "    local at = s:find(sep, start, true)\n"
    "    if not at then out[#out + 1] = s:sub(start); return out end\n"
    "    out[#out + 1] = s:sub(start, at - 1)\n"
    "    start = at + 1\n"
    "  end\n"
    "end\n"
    "local opts = {}\n"
    "if bit(4) then\n"
    "  opts = { max_input = 4096, max_decompressed = 65536, max_ratio = 10, max_depth = 4,\n"
    "           max_string = 256, max_elements = 16, max_warnings = 2 }\n"
    "end\n"
    "if bit(5) then opts.strict = true end\n"
    "local function nostrict() local o = {}; for k, v in pairs(opts) do o[k] = v end;\n"
    "  o.strict = nil; return o end\n"
    "-- The failure convention: nil, message, code, info (info.code == code).\n"
    "local function check(what, ok, a, b, c, d)\n"
    "  if not ok then error(what .. ' raised: ' .. tostring(a), 0) end\n"
    "  if a ~= nil then return a end\n"
    "  assert(type(b) == 'string' and #b > 0, what .. ': no message')\n"
    "  assert(type(c) == 'string' and #c > 0, what .. ': no code')\n"
    "  assert(type(d) == 'table' and d.code == c, what .. ': info.code differs')\n"
    "  assert(type(d.message) == 'string', what .. ': no info.message')\n"
    "  return nil\n"
    "end\n"
    "local function regenerate(rep, strict_ok)\n"
    "  assert(type(rep) == 'table', 'report is not a table')\n"
    "  local json = check('generate', pcall(core.generate, rep))\n"
    "  if json == nil then return end\n"
    "  assert(type(json) == 'string', 'generate returned ' .. type(json))\n"
    "  if strict_ok then\n"
    "    local again, msg = core.parse_report(json, { strict = true })\n"
    "    assert(again, 'generated JSON rejected: ' .. tostring(msg) .. '\\n' .. json)\n"
    "  end\n"
    "end\n"
    "if fn == 'sts_mx_match' or fn == 'mx_pattern_match' then\n"
    "  local at = payload:find('\\0', 1, true)\n"
    "  local pat, host = payload, ''\n"
    "  if at then pat, host = payload:sub(1, at - 1), payload:sub(at + 1) end\n"
    "  local r\n"
    "  if fn == 'mx_pattern_match' then r = check(fn, pcall(core.mx_pattern_match, text(pat), text(host)))\n"
    "  else r = check(fn, pcall(core.sts_mx_match, text(pat), text(host), nostrict())) end\n"
    "  assert(r == nil or type(r) == 'boolean', fn .. ' returned ' .. type(r))\n"
    "  return\n"
    "end\n"
    "local arg = text(payload)\n"
    "if (fn == 'parse_record' or fn == 'parse_sts_record') and bit(6) then\n"
    "  arg = {}\n"
    "  for i, rec in ipairs(split(payload, '\\0')) do\n"
    "    if bit(7) then\n"
    "      local parts = {}\n"
    "      for j, p in ipairs(split(rec, '\\1')) do parts[j] = text(p) end\n"
    "      arg[i] = parts\n"
    "    else\n"
    "      arg[i] = text(rec)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local o = opts\n"
    "if fn ~= 'parse_report' and fn ~= 'parse_report_email' then o = nostrict() end\n"
    "local r = check(fn, pcall(core[fn], arg, o))\n"
    "if r == nil then return end\n"
    "if fn == 'gunzip' then assert(type(r) == 'string', 'gunzip returned ' .. type(r)); return end\n"
    "assert(type(r) == 'table', fn .. ' returned ' .. type(r))\n"
    "if fn == 'parse_sts_policy' then\n"
    "  assert(type(r.mx) == 'table', 'policy without mx list')\n"
    "  for _, m in ipairs(r.mx) do\n"
    "    check('sts_mx_match', pcall(core.sts_mx_match, r, m))\n"
    "  end\n"
    "elseif fn == 'parse_report' then\n"
    "  assert(type(r.warnings) == 'table', 'report without warnings list')\n"
    "  regenerate(r, #r.warnings == 0 and not r.warnings_dropped)\n"
    "elseif fn == 'parse_report_email' then\n"
    "  local rep = r.report or r\n"
    "  regenerate(rep, false)\n"
    "end\n";

/* One interpreter for the whole run, as a mail filter keeps one: state
 * the binding caches between calls (its reusable ctx) is then exercised
 * across inputs too. A full collection after each input runs every __gc
 * and frees each input's strings before the next call. */
static lua_State *state(void)
{
    static lua_State *L;
    if (L) return L;
    L = luaL_newstate();
    if (!L) abort();
    luaL_openlibs(L);
    if (luaL_loadbuffer(L, driver, sizeof driver - 1, "=lua_api") != LUA_OK) {
        fprintf(stderr, "driver: %s\n", lua_tostring(L, -1));
        abort();
    }
    lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.driver");
    luaL_requiref(L, "tlsrpt.core", luaopen_tlsrpt_core, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.core");
    return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    lua_State *L = state();
    lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.driver");
    lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.core");
    lua_pushinteger(L, data[0]);
    lua_pushlstring(L, (const char *)data + 1, size - 1);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        fprintf(stderr, "lua_api: selector 0x%02x: %s\n", data[0], lua_tostring(L, -1));
        abort();
    }
    lua_gc(L, LUA_GCCOLLECT, 0);
    return 0;
}
