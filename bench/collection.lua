-- Benchmark of tlsrpt.collection: builds a year of synthetic reports
-- (>= 1M rows), then times add and a few typical roll-ups.
--   lua5.4 bench/collection.lua [rows]      (LUA_PATH must reach lua/)
-- Prints one line per phase: "<interpreter> <phase> <seconds> s (<detail>)".
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local collection = require "tlsrpt.collection"

local target = tonumber(arg and arg[1]) or 1000000
local interp = jit and jit.version or _VERSION

-- Deterministic LCG so every interpreter gets the same data.
local seed = 12345
local function rnd(n)
  seed = (seed * 16807) % 2147483647 -- Park-Miller: exact in doubles
  return seed % n + 1
end

local T0 = 1704067200 -- 2024-01-01
local orgs, domains, types = {}, {}, { "certificate-expired", "validation-failure",
  "starttls-not-supported", "certificate-host-mismatch", "sts-policy-fetch-error" }
for i = 1, 40 do orgs[i] = "sender-" .. i .. ".example" end
for i = 1, 3 do domains[i] = "domain" .. i .. ".example" end

-- One report per (day, sender); 3 policies each with a summary row and
-- about 20 failure details, so ~63 rows per report.
local reports, rows = {}, 0
local day = 0
while rows < target do
  for o = 1, #orgs do
    local pols = {}
    for d = 1, #domains do
      local fds = {}
      for k = 1, 15 + rnd(10) do
        fds[k] = { result_type = types[rnd(#types)], failed_session_count = rnd(5),
          sending_mta_ip = "192.0.2." .. rnd(50), receiving_ip = "198.51.100." .. rnd(20),
          receiving_mx_hostname = "mx" .. rnd(4) .. "." .. domains[d] }
      end
      pols[d] = { policy = { policy_type = "sts", policy_domain = domains[d] },
        summary = { total_successful_session_count = rnd(10000), total_failure_session_count = 0 },
        failure_details = fds }
      rows = rows + 1 + #fds
    end
    reports[#reports + 1] = { organization_name = orgs[o], report_id = day .. "-" .. o,
      date_range = { start_epoch = T0 + (day % 365) * 86400 + 3600 * rnd(24) }, policies = pols }
  end
  day = day + 1
end

local function time(label, detail, f)
  local t = os.clock()
  local res = f()
  print(string.format("%-12s %-32s %7.3f s  (%s)", interp, label, os.clock() - t, detail(res)))
  return res
end

local c = time("add", function(c) local nr, nw = c:count()
    return nr .. " reports, " .. nw .. " rows" end, function()
  local c = collection()
  for i = 1, #reports do assert(c:add(reports[i])) end
  return c
end)
time("add duplicates", function(n) return n .. " rejected" end, function()
  local n = 0
  for i = 1, #reports do if c:add(reports[i]) == false then n = n + 1 end end
  return n
end)
local function q(label, spec)
  time("query " .. label, function(r) return #r .. " rows" end, function() return c:query(spec) end)
end
q("totals", {})
q("by day", { group_by = { "day" } })
q("by domain,result_type", { group_by = { "policy_domain", "result_type" } })
q("by day,org,domain,type,mx", { group_by = { "day", "organization_name", "policy_domain",
  "result_type", "receiving_mx_hostname" } })
q("where type, by month", { where = { result_type = { "certificate-expired", "validation-failure" } },
  group_by = { "month" } })
q("where fn(row)", { where = function(r) return r.failure > 3 end })
local rows_out = c:query { group_by = { "day", "organization_name", "policy_domain" } }
time("to_csv", function(s) return #s .. " bytes" end, function() return c:to_csv(rows_out) end)
time("to_jsonl", function(s) return #s .. " bytes" end, function() return c:to_jsonl(rows_out) end)
collectgarbage()
print(string.format("%-12s %-32s %7.1f MB", interp, "memory (data + collection)", collectgarbage("count") / 1024))
