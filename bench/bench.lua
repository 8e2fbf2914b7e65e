-- Lua benchmark: tlsrpt.parse_report, the peers' job (gunzip if needed, every
-- field into Lua tables, sum failed_session_count).
-- usage: lua bench/bench.lua FILE [REPS [tables]]        (LUA_PATH/LUA_CPATH set by run.sh)
--        lua bench/bench.lua --distinct ROUNDS FILE FILE...
-- prints: tlsrpt-<lua> <file> reports_per_s=<x> mb_per_s=<y> checksum=<z>
-- "tables" times only the building of the result tables from a report the
-- C core parsed once (bench/tables.c), printed as tlsrpt-<lua>-tables: under
-- Lua 5.4 the bound parse_report cannot pass, whatever the parser (see
-- bench/tables.c for LuaJIT).
-- --distinct parses several different reports in turn, ROUNDS times (file
-- "distinct", checksum over one round): one file again and again lets Lua
-- find the previous round's strings still interned, which a host parsing
-- different reports does not (distinct.py runs the python peer alike).
local tlsrpt = require "tlsrpt"

local paths, reps, mode, label = {}, nil, nil, nil
if arg[1] == "--distinct" then
  reps, label = assert(tonumber(arg[2]), "--distinct ROUNDS FILE FILE..."), "distinct"
  for i = 3, #arg do paths[#paths + 1] = arg[i] end
  assert(#paths > 1, "--distinct wants two files or more")
else
  paths[1], reps, mode, label = arg[1], tonumber(arg[2]), arg[3], arg[1]
end

local data, json_len = {}, 0
for i, path in ipairs(paths) do
  local f = assert(io.open(path, "rb"))
  data[i] = f:read("*a")
  f:close()
  local gz = data[i]:sub(1, 2) == "\31\139"
  json_len = json_len + (gz and #assert(tlsrpt.gunzip(data[i])) or #data[i])
end
reps = reps or math.max(3, math.min(20000, math.floor(128000000 / (json_len + 1))))

local parse = tlsrpt.parse_report
if mode == "tables" then
  local bt = require "benchtables"
  local h = bt.prepare(data[1])
  parse = function() return bt.build(h) end
elseif mode then
  error("unknown mode " .. mode)
end
local function run()
  local sum = 0
  for i = 1, #data do
    local r = assert(parse(data[i]))
    for _, p in ipairs(r.policies) do
      for _, fd in ipairs(p.failure_details) do sum = sum + fd.failed_session_count end
    end
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
io.write(string.format("tlsrpt-%s %s reports_per_s=%.2f mb_per_s=%.1f checksum=%d\n", name, label,
  reps * #data / dt, json_len * reps / dt / 1e6, want))
