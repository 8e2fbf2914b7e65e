-- Reader for the shared test vectors, spec/vectors/NAME.txt (the C tests read
-- the same files through core/test/vectors.h; the format is described there
-- and at the top of each vector file):
--
--   <expect> TAB <input> [TAB <input>]...
--
-- <expect> is "ok" or "err:<code>", optionally followed by ";key=value"
-- assertions. Inputs and assertion values use C escapes \n \r \t \\ \xHH.
--
--   local vectors = require "spec.helpers.vectors"
--   for _, v in ipairs(vectors.load("tlsrpt-record.txt")) do
--     -- v.line, v.text, v.ok (boolean), v.code ("" when ok),
--     -- v.input = { "decoded", ... }, v.assert = { key = "decoded value" }
--   end
--
-- A malformed line raises: a broken vector file must fail the suite, never
-- shrink it silently.
local M = {}

function M.dir()
  local d = os.getenv("TLSRPT_VECTORS")
  if d and d ~= "" then return d end
  return "spec/vectors"
end

local simple = { n = "\n", r = "\r", t = "\t", ["\\"] = "\\" }

-- Decodes C escapes; returns nil for a malformed escape.
function M.unescape(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c ~= "\\" then
      out[#out + 1] = c
      i = i + 1
    else
      local e = s:sub(i + 1, i + 1)
      if simple[e] then
        out[#out + 1] = simple[e]
        i = i + 2
      elseif e == "x" then
        local hex = s:sub(i + 2, i + 3)
        if not hex:match("^%x%x$") then return nil end
        out[#out + 1] = string.char(tonumber(hex, 16))
        i = i + 4
      else
        return nil
      end
    end
  end
  return table.concat(out)
end

local function split(s, sep)
  local parts, start = {}, 1
  while true do
    local at = s:find(sep, start, true)
    if not at then
      parts[#parts + 1] = s:sub(start)
      return parts
    end
    parts[#parts + 1] = s:sub(start, at - 1)
    start = at + 1
  end
end

local function parse_line(name, lineno, line)
  local function bad(msg) error(string.format("%s:%d: %s", name, lineno, msg), 0) end
  if line:find("\r", 1, true) then bad("CR in line (write \\r)") end
  local tab = line:find("\t", 1, true)
  if not tab then bad("no TAB between expectation and input") end
  local head = split(line:sub(1, tab - 1), ";")
  local v = { line = lineno, text = line, input = {}, assert = {} }
  if head[1] == "ok" then
    v.ok, v.code = true, ""
  elseif head[1]:match("^err:.") then
    v.ok, v.code = false, head[1]:sub(5)
  else
    bad("expectation '" .. head[1] .. "' is neither ok nor err:<code>")
  end
  for i = 2, #head do
    local k, val = head[i]:match("^([^=]+)=(.*)$")
    if not k then bad("assertion '" .. head[i] .. "' is not key=value") end
    local dec = M.unescape(val)
    if not dec then bad("bad escape in assertion '" .. head[i] .. "'") end
    v.assert[k] = dec
  end
  for i, raw in ipairs(split(line:sub(tab + 1), "\t")) do
    local dec = M.unescape(raw)
    if not dec then bad("bad escape in input " .. i) end
    v.input[i] = dec
  end
  return v
end

function M.load(name)
  local path = M.dir() .. "/" .. name
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  local list, lineno = {}, 0
  for line in (data .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    if line ~= "" and line:sub(1, 1) ~= "#" then
      list[#list + 1] = parse_line(name, lineno, line)
    end
  end
  -- The gmatch above sees one extra empty line when data ends with "\n": harmless.
  return list
end

-- Test name of a vector of file: "<file>:<line> ok" or "<file>:<line> <code>".
function M.title(file, v)
  return string.format("%s:%d %s", file, v.line, v.ok and "ok" or v.code)
end

-- Parse options from the "limit.<field>=<n>" entries; nil when there are none.
function M.limits(v)
  local opts
  for k, val in pairs(v.assert) do
    local field = k:match("^limit%.(.+)$")
    if field then
      opts = opts or {}
      opts[field] = assert(tonumber(val), "bad limit " .. k)
    end
  end
  return opts
end

-- parse_report options of a report.txt vector: its "max_*=<n>" limits and
-- "strict=1".
function M.report_opts(v)
  local o = {}
  for k, val in pairs(v.assert) do
    if k:match("^max_") then o[k] = tonumber(val) end
  end
  if v.assert.strict == "1" then o.strict = true end
  return o
end

-- An error assertion ("path", "offset") looked up in a result's info table.
function M.error_field(info, key)
  if key == "path" then return info.path end
  if key == "offset" then return info.offset and string.format("%d", info.offset) end
end

-- Asserts each assertion of v except the limit.* options: its value must
-- equal get(key), the result's value as a string (nil when absent).
function M.check(v, get)
  local luassert = require "luassert"
  for k, want in pairs(v.assert) do
    if not k:match("^limit%.") then luassert.are.equal(want, get(k), k) end
  end
end

return M
