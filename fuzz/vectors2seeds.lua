-- Turns the shared test vectors (spec/vectors/*.txt) into fuzz seeds:
--   lua5.4 fuzz/vectors2seeds.lua spec/vectors fuzz/build/vectors
-- writes <out>/<target>/<vector file>-<line> for every target that takes
-- that kind of input. A vector with several inputs (a TXT RRset, or a
-- policy and a host) becomes one seed with the inputs joined by NUL bytes,
-- the convention of the record and policy targets. lua_api seeds get the
-- selector byte of fuzz/lua_api.c in front.
package.path = "./?.lua;" .. package.path
local vectors = require "spec.helpers.vectors"
local src, out = arg[1] or "spec/vectors", arg[2] or "fuzz/build/vectors"
vectors.dir = function() return src end

-- Vector file name prefix -> targets (and the lua_api selector).
local routes = {
  { "tlsrpt%-record", { "tlsrpt_record" }, 0 },
  { "sts%-record", { "sts_record" }, 1 },
  { "mta%-sts%-record", { "sts_record" }, 1 },
  { "sts%-policy", { "sts_policy" }, 2 },
  { "mta%-sts%-policy", { "sts_policy" }, 2 },
  { "policy", { "sts_policy" }, 2 },
  { "mx", { "sts_policy" }, 3 },
  { "email", { "report_email" }, 6 },
  { "mime", { "report_email" }, 6 },
  { "gzip", { "report_gzip" }, 5 },
  { "json", { "report_json", "json_differential" }, 4 },
  { "report", { "report_json", "roundtrip", "json_differential" }, 4 },
}

local function route(name)
  for _, r in ipairs(routes) do
    if name:find("^" .. r[1]) then return r[2], r[3] end
  end
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local made = {}
local function seed(target, name, data)
  if not made[target] then
    os.execute(string.format("mkdir -p '%s/%s'", out, target))
    made[target] = 0
  end
  write(string.format("%s/%s/%s", out, target, name), data)
  made[target] = made[target] + 1
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local d = f:read("*a")
  f:close()
  return d
end

local p = io.popen(string.format("ls '%s' 2>/dev/null", src))
local files = {}
for f in p:lines() do
  if f:match("%.txt$") then
    files[#files + 1] = f
  elseif f:match("%.json$") then
    -- A whole JSON document (a report vector of its own).
    local d = read(src .. "/" .. f)
    if d then
      for _, t in ipairs({ "report_json", "roundtrip", "json_differential" }) do seed(t, f, d) end
      seed("lua_api", f, string.char(4) .. d)
    end
  elseif f == "email" then
    -- Raw messages, one per file (MANIFEST lists what each one expects).
    local q = io.popen(string.format("ls '%s/email' 2>/dev/null", src))
    for m in q:lines() do
      local d = m ~= "MANIFEST" and read(src .. "/email/" .. m)
      if d then
        seed("report_email", "email-" .. m, d)
        seed("lua_api", "email-" .. m, string.char(6) .. d)
      end
    end
    q:close()
  end
end
p:close()

for _, f in ipairs(files) do
  local targets, sel = route(f)
  if targets then
    local ok, list = pcall(vectors.load, f)
    if not ok then
      io.stderr:write("vectors2seeds: skipping ", f, ": ", tostring(list), "\n")
    else
      for _, v in ipairs(list) do
        local data = table.concat(v.input, "\0")
        local name = f:gsub("%.txt$", "") .. "-" .. v.line
        for _, t in ipairs(targets) do seed(t, name, data) end
        seed("lua_api", name, string.char(sel) .. data)
      end
    end
  end
end
local total = 0
for _, n in pairs(made) do total = total + n end
print(string.format("vectors2seeds: %d seeds from %d vector files", total, #files))
