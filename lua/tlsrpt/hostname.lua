-- tlsrpt.hostname: host-name helpers shared by the collection and the CLI.
--
--   hostname.normalize(name) -> name lower-cased, one trailing dot dropped
--   hostname.is_domain(d)    -> d is an LDH domain name with at least two labels
--   hostname.is_host(h)      -> h is an LDH host name, one label or more (what
--                               MX matching, RFC 8461 §4.1, takes as a host)
local M = {}

-- Host names compare case-insensitively without the root's trailing dot
-- (RFC 4343), so "Example.COM." and "example.com" are one name.
function M.normalize(name)
  return (name:lower():gsub("%.$", ""))
end

-- LDH labels of 1-63 bytes, no hyphen at either end, at most 253 bytes
-- after one trailing dot is dropped (the C core's trpt__domain_ok).
function M.is_host(d)
  if type(d) ~= "string" or #d == 0 or #d > 254 then return false end
  d = d:gsub("%.$", "")
  if #d == 0 or #d > 253 then return false end
  for label in (d .. "."):gmatch("([^.]*)%.") do
    if #label == 0 or #label > 63 or not label:match("^[%w%-]+$")
        or label:sub(1, 1) == "-" or label:sub(-1) == "-" then
      return false
    end
  end
  return true
end

-- A host name in LDH form (what can be looked up and put in a URL).
function M.is_domain(d)
  return M.is_host(d) and d:gsub("%.$", ""):find("%.") ~= nil
end

return M
