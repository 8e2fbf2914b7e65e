-- tlsrpt.hostname: host-name helpers shared by the collection and the CLI.
--
--   hostname.normalize(name) -> name lower-cased, one trailing dot dropped
--   hostname.is_domain(d)    -> d is an LDH domain name with at least two labels
local M = {}

-- Host names compare case-insensitively without the root's trailing dot
-- (RFC 4343), so "Example.COM." and "example.com" are one name.
function M.normalize(name)
  return (name:lower():gsub("%.$", ""))
end

-- A host name in LDH form (what can be looked up and put in a URL).
function M.is_domain(d)
  if type(d) ~= "string" or #d == 0 or #d > 254 then return false end
  d = d:gsub("%.$", "")
  if #d == 0 or #d > 253 then return false end
  for label in (d .. "."):gmatch("([^.]*)%.") do
    if #label == 0 or #label > 63 or not label:match("^[%w%-]+$")
        or label:sub(1, 1) == "-" or label:sub(-1) == "-" then
      return false
    end
  end
  return d:find("%.") ~= nil
end

return M
