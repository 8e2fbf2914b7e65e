-- tlsrpt.offline_dns: DNS data from a zone-file-like text file (the CLI's
-- `check --records FILE`), served through the resolver methods check uses.
--
--   offline_dns.read(path)   -> { [name] = { TXT = {...}, MX = {...} } } | nil, message
--   offline_dns.resolver(db) -> object with :tlsrpt(domain), :sts(domain), :mx(domain)
--
-- Lines: NAME TXT "text" ["more"...] | NAME TXT word | NAME MX PREF HOST;
-- # starts a comment line. Names compare as host names (hostname.normalize).
local fsutil = require "tlsrpt.fsutil"
local hostname = require "tlsrpt.hostname"

local M = {}

local fmt = string.format
local norm_name = hostname.normalize

-- Reads a records file into { [name] = { TXT = {...}, MX = {...} } }.
-- TXT data: one or more quoted character-strings (\" \\ \DDD escapes,
-- joined as one record, RFC 1035 §5.1) or one bare word.
function M.read(path)
  local data, err = fsutil.read_file(path, fsutil.MAX_SMALL_FILE)
  if not data then return nil, err end
  local db = {}
  local lineno = 0
  for line in (data .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    -- Trailing blanks cut by hand: "(.-)%s*$" backtracks over a run of
    -- blanks from every position (quadratic on a 1 MiB line).
    local e = #line
    while e > 0 and line:find("^%s", e) do e = e - 1 end
    line = line:sub(1, e)
    if not line:match("^%s*#") and line:match("%S") then
      local name, typ, rest = line:match("^%s*(%S+)%s+(%a+)%s+(.*)$")
      if not name then return nil, fmt("%s:%d: expected NAME TYPE DATA", path, lineno) end
      typ = typ:upper()
      local e = db[norm_name(name)] or { TXT = {}, MX = {} }
      db[norm_name(name)] = e
      if typ == "TXT" then
        local parts, i = {}, 1
        if rest:sub(1, 1) ~= '"' then
          if rest:find("%s") or rest == "" then
            return nil, fmt("%s:%d: TXT data must be quoted strings or one word", path, lineno)
          end
          parts[1] = rest
        else
          while i <= #rest do
            local c = rest:sub(i, i)
            if c:match("%s") then
              i = i + 1
            elseif c == '"' then
              local buf, j, closed = {}, i + 1, false
              while j <= #rest do
                local ch = rest:sub(j, j)
                if ch == '"' then closed = true; break end
                if ch == "\\" then
                  local dd = rest:match("^%d%d%d", j + 1)
                  if dd then
                    if tonumber(dd) > 255 then
                      return nil, fmt("%s:%d: bad escape \\%s", path, lineno, dd)
                    end
                    buf[#buf + 1] = string.char(tonumber(dd)); j = j + 4
                  else
                    local nx = rest:sub(j + 1, j + 1)
                    if nx == "" then break end
                    buf[#buf + 1] = nx; j = j + 2
                  end
                else
                  buf[#buf + 1] = ch; j = j + 1
                end
              end
              if not closed then return nil, fmt("%s:%d: unterminated string", path, lineno) end
              parts[#parts + 1] = table.concat(buf)
              i = j + 1
            else
              return nil, fmt("%s:%d: TXT data must be quoted strings", path, lineno)
            end
          end
        end
        e.TXT[#e.TXT + 1] = table.concat(parts)
      elseif typ == "MX" then
        local pref, host = rest:match("^(%d+)%s+(%S+)$")
        if not pref or tonumber(pref) > 65535 then
          return nil, fmt("%s:%d: MX data must be PREFERENCE HOST", path, lineno)
        end
        e.MX[#e.MX + 1] = { preference = tonumber(pref), host = host == "." and "." or norm_name(host) }
      else
        return nil, fmt("%s:%d: unsupported type %s (TXT or MX)", path, lineno, typ)
      end
    end
  end
  return db
end

-- A resolver over a read table with the methods check uses, shaped like
-- tlsrpt.resolver's: result, info or nil, message, code.
function M.resolver(db)
  local t = require "tlsrpt"
  local r = {}
  local function lookup(name)
    local key = norm_name(name)
    local e = db[key]
    if e then return e end
    -- A name with names below it exists in DNS, without records of its own
    -- (an empty non-terminal, RFC 8020): NODATA, not NXDOMAIN.
    local suffix = "." .. key
    for k in pairs(db) do
      if #k > #suffix and k:sub(-#suffix) == suffix then return { TXT = {}, MX = {} } end
    end
    return nil, name .. ": no such name (offline records)", "nxdomain"
  end
  local function record(prefix, parse)
    return function(_, domain)
      local name = prefix .. domain
      local e, msg, code = lookup(name)
      if not e then return nil, msg, code end
      local rec, pmsg, pcode, pinfo = parse(e.TXT)
      if not rec then return nil, name .. ": " .. tostring(pmsg), pcode, pinfo end
      return rec, { txt = e.TXT, name = name }
    end
  end
  r.tlsrpt = record("_smtp._tls.", t.parse_record)
  r.sts = record("_mta-sts.", t.parse_sts_record)
  function r.mx(_, domain)
    local e, msg, code = lookup(domain)
    if not e then return nil, msg, code end
    local list = {}
    for i, m in ipairs(e.MX) do list[i] = m end
    table.sort(list, function(a, b)
      if a.preference ~= b.preference then return a.preference < b.preference end
      return a.host < b.host
    end)
    return list, { name = domain }
  end
  return r
end

return M
