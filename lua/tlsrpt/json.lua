-- tlsrpt.json: a small deterministic JSON encoder for the CLI and the
-- collection exports (no JSON rock is assumed to be installed).
--
--   json.encode(value[, {indent = n}])  -> string
--   json.null                           a value that encodes as null
--   json.array(t)                       marks t as an array ({} alone encodes as {})
--   json.object(t, order)               encodes t's keys in the given order first,
--                                       then any others sorted
--
-- Object keys are sorted unless an order is given, so equal input gives equal
-- output. Strings that are not valid UTF-8 get U+FFFD for each bad byte, as
-- RFC 8259 §8.1 requires UTF-8 on the wire. NaN and infinities have no JSON
-- form and encode as null. Cycles and nesting deeper than 64 raise: they are
-- programming errors, not data.
local sort = require "tlsrpt.sort"

local M = {}

local MAX_DEPTH = 64

local null_mt = { __tostring = function() return "null" end }
M.null = setmetatable({}, null_mt)

local array_mt = { __jsontype = "array" }

function M.array(t)
  return setmetatable(t or {}, array_mt)
end

function M.object(t, order)
  return setmetatable(t or {}, { __jsontype = "object", __jsonorder = order })
end

local escapes = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}
for i = 0, 31 do
  local c = string.char(i)
  if not escapes[c] then escapes[c] = string.format("\\u%04x", i) end
end

-- Replaces every byte that does not start a well-formed UTF-8 sequence
-- (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF) with U+FFFD.
local function fix_utf8(s)
  local out, n, i, len = {}, 0, 1, #s
  local byte = string.byte
  local start = 1
  while i <= len do
    local c = byte(s, i)
    local need, lo, hi = 0, 0x80, 0xBF
    if c < 0x80 then need = 0
    elseif c >= 0xC2 and c <= 0xDF then need = 1
    elseif c == 0xE0 then need, lo = 2, 0xA0
    elseif c >= 0xE1 and c <= 0xEC or c == 0xEE or c == 0xEF then need = 2
    elseif c == 0xED then need, hi = 2, 0x9F
    elseif c == 0xF0 then need, lo = 3, 0x90
    elseif c >= 0xF1 and c <= 0xF3 then need = 3
    elseif c == 0xF4 then need, hi = 3, 0x8F
    else need = -1 end
    local ok = need >= 0
    if ok and need > 0 then
      for k = 1, need do
        local b = byte(s, i + k)
        if not b or b < (k == 1 and lo or 0x80) or b > (k == 1 and hi or 0xBF) then
          ok = false
          break
        end
      end
    end
    if ok then
      i = i + need + 1
    else
      n = n + 1; out[n] = s:sub(start, i - 1)
      n = n + 1; out[n] = "\239\191\189"
      i = i + 1
      start = i
    end
  end
  if start == 1 then return s end
  n = n + 1; out[n] = s:sub(start)
  return table.concat(out, "", 1, n)
end

local function quote(s)
  if s:find('[%z\1-\31"\\\128-\255]') then
    if s:find("[\128-\255]") then s = fix_utf8(s) end
    s = s:gsub('[%z\1-\31"\\]', escapes)
  end
  return '"' .. s .. '"'
end
M.quote = quote

-- The decimal point of the C locale the host may have set (LC_NUMERIC):
-- string.format and tonumber both follow it, JSON wants ".".
local function c_locale(s)
  return (s:gsub(",", "."))
end

local function number(v)
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  if math.type and math.type(v) == "integer" then return tostring(v) end
  if v == math.floor(v) and v > -2^53 and v < 2^53 then
    return string.format("%d", v)
  end
  -- Shortest form that reads back as the same double.
  for prec = 15, 16 do
    local s = string.format("%." .. prec .. "g", v)
    if tonumber(s) == v then return c_locale(s) end
  end
  return c_locale(string.format("%.17g", v))
end
M.number = number

-- Is t a Lua sequence 1..n with nothing else? (n == 0 counts only if marked.)
local function is_array(t)
  local mt = getmetatable(t)
  if mt and mt.__jsontype == "array" then
    local n, count = #t, 0
    for _ in pairs(t) do count = count + 1 end
    if count ~= n then error("json: an array with keys other than 1.." .. n, 0) end
    return true
  end
  if mt and mt.__jsontype then return false end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local function keys_of(t)
  local mt = getmetatable(t)
  local order = mt and mt.__jsonorder
  local keys, seen = {}, {}
  if order then
    for _, k in ipairs(order) do
      if type(k) ~= "string" then
        error("json: object key must be a string, got " .. type(k), 0)
      end
      if t[k] ~= nil and not seen[k] then keys[#keys + 1] = k; seen[k] = true end
    end
  end
  local rest = {}
  for k in pairs(t) do
    if not seen[k] then
      if type(k) ~= "string" then
        error("json: object key must be a string, got " .. type(k), 0)
      end
      rest[#rest + 1] = k
    end
  end
  sort(rest)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  return keys
end

local function encode(v, buf, indent, depth, stack)
  local tv = type(v)
  if v == nil or v == M.null then
    buf[#buf + 1] = "null"
  elseif tv == "boolean" then
    buf[#buf + 1] = v and "true" or "false"
  elseif tv == "number" then
    buf[#buf + 1] = number(v)
  elseif tv == "string" then
    buf[#buf + 1] = quote(v)
  elseif tv == "table" then
    if depth >= MAX_DEPTH then error("json: nesting deeper than " .. MAX_DEPTH, 0) end
    if stack[v] then error("json: cycle in value", 0) end
    stack[v] = true
    local nl, pad, pad_in, colon = "", "", "", ":"
    if indent then
      nl = "\n"
      pad = string.rep(" ", indent * depth)
      pad_in = string.rep(" ", indent * (depth + 1))
      colon = ": "
    end
    if is_array(v) then
      local n = #v
      if n == 0 then
        buf[#buf + 1] = "[]"
      else
        buf[#buf + 1] = "[" .. nl
        for i = 1, n do
          buf[#buf + 1] = pad_in
          encode(v[i], buf, indent, depth + 1, stack)
          buf[#buf + 1] = (i < n and "," or "") .. nl
        end
        buf[#buf + 1] = pad .. "]"
      end
    else
      local keys = keys_of(v)
      if #keys == 0 then
        buf[#buf + 1] = "{}"
      else
        buf[#buf + 1] = "{" .. nl
        local written = {}
        for i, k in ipairs(keys) do
          local qk = quote(k)
          -- two keys of invalid UTF-8 can repair to one name (RFC 8259 §4)
          if written[qk] then error("json: keys " .. qk .. " collide once made valid UTF-8", 0) end
          written[qk] = true
          buf[#buf + 1] = pad_in .. qk .. colon
          encode(v[k], buf, indent, depth + 1, stack)
          buf[#buf + 1] = (i < #keys and "," or "") .. nl
        end
        buf[#buf + 1] = pad .. "}"
      end
    end
    stack[v] = nil
  else
    error("json: cannot encode a " .. tv, 0)
  end
end

function M.encode(v, opts)
  local indent = opts and opts.indent
  if indent ~= nil and (type(indent) ~= "number" or indent < 0 or indent > 16 or indent ~= math.floor(indent)) then
    error("json.encode: indent must be a whole number 0..16", 2)
  end
  local buf = {}
  encode(v, buf, indent, 0, {})
  return table.concat(buf)
end

return M
