-- Lua benchmark: tlsrpt.parse_report on one file, the peers' job (gunzip if
-- needed, every field into Lua tables, sum failed_session_count).
-- usage: lua bench/bench.lua FILE [REPS [tables]]   (LUA_PATH/LUA_CPATH set by run.sh)
-- prints: tlsrpt-<lua> <file> reports_per_s=<x> mb_per_s=<y> checksum=<z>
-- "tables" times only the building of the result tables from a report the
-- C core parsed once (bench/tables.c), printed as tlsrpt-<lua>-tables: under
-- Lua 5.4 the bound parse_report cannot pass, whatever the parser (see
-- bench/tables.c for LuaJIT).
local tlsrpt = require "tlsrpt"

local path, reps, mode = arg[1], tonumber(arg[2]), arg[3]
local f = assert(io.open(path, "rb"))
local data = f:read("*a")
f:close()

local json_len = #data
if data:sub(1, 2) == "\31\139" then json_len = #assert(tlsrpt.gunzip(data)) end
reps = reps or math.max(3, math.min(20000, math.floor(128000000 / (json_len + 1))))

local parse = tlsrpt.parse_report
if mode == "tables" then
  local bt = require "benchtables"
  local h = bt.prepare(data)
  parse = function() return bt.build(h) end
elseif mode then
  error("unknown mode " .. mode)
end
local function run()
  local r = assert(parse(data))
  local sum = 0
  for _, p in ipairs(r.policies) do
    for _, fd in ipairs(p.failure_details) do sum = sum + fd.failed_session_count end
  end
  return sum
end

local want = run() -- untimed warm-up
-- Wall clock like the peers (bench/clock.c); CPU time only as a fallback.
local ok, bc = pcall(require, "benchclock")
local clock = ok and bc.now or os.clock
local t0 = clock()
for _ = 1, reps do
  if run() ~= want then error("checksum changed") end
end
local dt = clock() - t0
local name = (type(jit) == "table" and "luajit") or _VERSION:gsub("Lua ", "lua")
if mode then name = name .. "-" .. mode end
io.write(string.format("tlsrpt-%s %s reports_per_s=%.2f mb_per_s=%.1f checksum=%d\n", name, path,
  reps / dt, json_len * reps / dt / 1e6, want))
