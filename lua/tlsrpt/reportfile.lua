-- tlsrpt.reportfile: one report input of the CLI (a JSON report, a gzip-
-- compressed one, or a report e-mail; "-" is standard input) read and parsed.
--
--   reportfile.parse_file(path, strict)        -> report | nil, message, code
--   reportfile.parse_bytes(path, data, strict) -> report | nil, message, code
--   reportfile.finding(warning)                -> "path: message (rfc)"
local fsutil = require "tlsrpt.fsutil"

local M = {}

-- Bytes read from one input file: the core's default max_input (64 MiB).
M.MAX_FILE = 64 * 1024 * 1024

-- Is this input an e-mail rather than a bare report?
function M.looks_like_email(path, data)
  if path:lower():match("%.eml$") then return true end
  if data:sub(1, 2) == "\31\139" then return false end
  local first = data:match("^%s*(.)")
  if first == "{" or first == "[" then return false end
  return data:match("^[!-9;-~]+:") ~= nil or data:match("^From ") ~= nil
end

-- Parses the bytes of one input. Returns report (e-mail ones carry
-- .email), or nil, message, code. (The C module is loaded only here, so
-- `tlsrpt --help` works without it.)
function M.parse_bytes(path, data, strict)
  local t = require "tlsrpt"
  local opts = strict and { strict = true } or nil
  if M.looks_like_email(path, data) then
    return t.parse_report_email(data, opts)
  end
  return t.parse_report(data, opts)
end

function M.parse_file(path, strict)
  local data, err, code = fsutil.read_file(path, M.MAX_FILE)
  if not data then return nil, err, code end
  return M.parse_bytes(path, data, strict)
end

-- s with control characters (C0, DEL, C1) shown as '?': report content
-- quoted in a message must not drive the terminal (escape sequences).
M.printable = require("tlsrpt.summary").printable

-- "path: message (rfc)" of a warning or finding, printable.
function M.finding(w)
  local s = w.message or w.code or "?"
  if w.path and w.path ~= "" then s = w.path .. ": " .. s end
  if w.rfc and w.rfc ~= "" then s = s .. " (" .. w.rfc .. ")" end
  return M.printable(s)
end

return M
