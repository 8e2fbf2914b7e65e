-- tlsrpt.parse_report over several different reports in turn, the way a
-- host meets them (bench.lua parses one file again and again, which lets
-- Lua find the previous round's strings still interned: see README.md).
-- usage: lua bench/distinct.lua ROUNDS FILE...   (LUA_PATH/LUA_CPATH set by run.sh)
-- prints: tlsrpt-<lua> distinct reports_per_s=<x> mb_per_s=<y> checksum=<z>
-- (checksum: failed_session_count summed over one round of all files).
local tlsrpt = require "tlsrpt"

local rounds = assert(tonumber(arg[1]), "usage: distinct.lua ROUNDS FILE...")
local data, json_len = {}, 0
for i = 2, #arg do
  local f = assert(io.open(arg[i], "rb"))
  data[#data + 1] = f:read("*a")
  f:close()
  local d = data[#data]
  json_len = json_len + (d:sub(1, 2) == "\31\139" and #assert(tlsrpt.gunzip(d)) or #d)
end
assert(#data > 1, "give two files or more")

local parse = tlsrpt.parse_report
local function round()
  local sum = 0
  for i = 1, #data do
    local r = assert(parse(data[i]))
    for _, p in ipairs(r.policies) do
      for _, fd in ipairs(p.failure_details) do sum = sum + fd.failed_session_count end
    end
  end
  return sum
end

local want = round() -- untimed warm-up
local ok, bc = pcall(require, "benchclock")
local clock = ok and bc.now or os.clock
local t0 = clock()
for _ = 1, rounds do
  if round() ~= want then error("checksum changed") end
end
local dt = clock() - t0
local name = (type(jit) == "table" and "luajit") or _VERSION:gsub("Lua ", "lua")
io.write(string.format("tlsrpt-%s distinct reports_per_s=%.2f mb_per_s=%.1f checksum=%d\n", name,
  rounds * #data / dt, json_len * rounds / dt / 1e6, want))
