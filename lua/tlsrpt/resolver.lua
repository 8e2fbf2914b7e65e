-- tlsrpt.resolver: blocking DNS lookups for TLS-RPT and MTA-STS records.
--
--   local r = tlsrpt.resolver{nameserver = "127.0.0.1", port = 53, timeout = 2000}
--   local rec, info = r:tlsrpt("example.com")
--
-- The resolver is a userdata from tlsrpt.core (its __gc frees the C side);
-- this file adds the record-level methods to its method table. Lookups
-- block the calling thread: inside rspamd use rspamd's own asynchronous
-- resolver and hand the TXT strings to tlsrpt.parse_record instead.
local core = require "tlsrpt.core"

local M = {}
local methods = core._resolver_methods
local resolve = methods.resolve -- the C lookup; checks that self is a resolver

-- Raises for a name that is not a string (misuse); called from a method,
-- so level 3 blames the method's caller.
local function check_name(v, fname, argn)
  if type(v) ~= "string" then
    error(string.format("bad argument #%d to '%s' (string expected, got %s)",
      argn or 1, fname, type(v)), 3)
  end
end

-- Copies the answer's flags into the info table returned beside a result.
local function info_of(a)
  return { ad = a.ad, name = a.name }
end

-- r:txt(name) -> {string...}, info
function methods:txt(name)
  check_name(name, "txt")
  local a, msg, code, info = resolve(self, name, "TXT")
  if not a then return nil, msg, code, info end
  local i = info_of(a)
  i.txt = a.txt
  return a.txt, i
end

-- r:mx(domain) -> {{host=, preference=}...} sorted by preference, info
function methods:mx(domain)
  check_name(domain, "mx")
  local a, msg, code, info = resolve(self, domain, "MX")
  if not a then return nil, msg, code, info end
  return a.mx, info_of(a)
end

-- r:tlsa(host[, port=25]) -> {"3 1 1 <hex>"...}, info  (name _<port>._tcp.<host>)
function methods:tlsa(host, port)
  check_name(host, "tlsa")
  if port == nil then port = 25 end
  if type(port) ~= "number" or port ~= math.floor(port) or port < 1 or port > 65535 then
    error("bad argument #2 to 'tlsa' (port must be an integer 1-65535)", 2)
  end
  local a, msg, code, info = resolve(self, string.format("_%d._tcp.%s", port, host), "TLSA")
  if not a then return nil, msg, code, info end
  return a.tlsa, info_of(a)
end

-- Looks up prefix.domain TXT and hands every record to parse (which picks
-- the one with the right version; none -> no_record, several -> multiple).
local function policy_record(self, prefix, domain, parse)
  local a, msg, code, info = resolve(self, prefix .. domain, "TXT")
  if not a then return nil, msg, code, info end
  local i = info_of(a)
  i.txt = a.txt
  local rec, pmsg, pcode, pinfo = parse(a.txt)
  if not rec then
    pinfo = type(pinfo) == "table" and pinfo or {}
    pinfo.ad, pinfo.name, pinfo.txt = a.ad, a.name, a.txt
    return nil, a.name .. ": " .. tostring(pmsg), pcode, pinfo
  end
  return rec, i
end

local function tlsrpt_api(fn)
  local t = require "tlsrpt"
  local f = t[fn]
  if type(f) ~= "function" then error("tlsrpt." .. fn .. " is not available", 3) end
  return f
end

-- r:tlsrpt(domain) -> parsed _smtp._tls.<domain> record (RFC 8460 §3), info
function methods:tlsrpt(domain)
  check_name(domain, "tlsrpt")
  return policy_record(self, "_smtp._tls.", domain, tlsrpt_api("parse_record"))
end

-- r:sts(domain) -> parsed _mta-sts.<domain> record (RFC 8461 §3.1), info
function methods:sts(domain)
  check_name(domain, "sts")
  return policy_record(self, "_mta-sts.", domain, tlsrpt_api("parse_sts_record"))
end

-- tlsrpt.resolver.new(opts) / tlsrpt.resolver(opts): opts may hold
-- nameserver (IPv4/IPv6 literal; default: the system resolver), port,
-- timeout (milliseconds per try), attempts (UDP tries per server),
-- resolv_conf (path), max_elements / max_string (answer caps).
function M.new(opts)
  return core._resolver_new(opts)
end

return setmetatable(M, {
  __call = function(_, opts) return core._resolver_new(opts) end,
})
