-- tlsrpt.cli.validate: `tlsrpt validate`, strict RFC 8460 check of reports.
--
--   validate.run(args, io_) -> exit status | nil, usage message
--   validate.findings(path) -> valid, list of finding lines
local options = require "tlsrpt.cli.options"
local exit = require "tlsrpt.cli.exit"
local fsutil = require "tlsrpt.fsutil"
local reportfile = require "tlsrpt.reportfile"

local M = {}

local fmt = string.format

M.help = [[
Usage: tlsrpt validate [--quiet] FILE...

Checks each FILE strictly against RFC 8460 and prints one line per finding:
  FILE: path: message (RFC section)
(with " [code]" at the end for an error that stops reading or parsing)
and "FILE: valid" for a clean file (not with --quiet).

Exit status: 0 all valid, 1 some file invalid, 2 usage error.
]]

-- Checks one file strictly. Returns valid (the strict parse's verdict) and
-- the findings: every deviation the lenient parse lists as a warning (the
-- strict parse stops at the first), or the error that stopped parsing.
-- A file whose warnings strict mode accepts is valid; its warnings are
-- still returned as notes.
function M.findings(path)
  local data, err, ecode = fsutil.read_file(path, reportfile.MAX_FILE)
  -- (read once: "-", standard input, cannot be read twice)
  if not data then return false, { fmt("%s [%s]", reportfile.printable(err), tostring(ecode)) } end
  local r, msg, code = reportfile.parse_bytes(path, data, false)
  if not r then return false, { fmt("%s [%s]", reportfile.printable(msg), tostring(code)) } end
  local list = {}
  for _, w in ipairs(r.warnings or {}) do list[#list + 1] = reportfile.finding(w) end
  local ok, smsg, scode = reportfile.parse_bytes(path, data, true)
  if not ok and #list == 0 then list[1] = fmt("%s [%s]", reportfile.printable(smsg), tostring(scode)) end
  return ok ~= nil, list
end

function M.run(args, io_)
  local opts, files = options.parse(args, 2, { quiet = "flag", help = "flag" })
  if not opts then return nil, files end
  if opts.help then io_.out(M.help); return exit.OK end
  if #files == 0 then return nil, "validate: no FILE given" end
  local status = exit.OK
  for _, path in ipairs(files) do
    local valid, list = M.findings(path)
    if valid then
      for _, f in ipairs(list) do io_.err(path, ": note: ", f, "\n") end
      if not opts.quiet then io_.out(path, ": valid\n") end
    else
      status = exit.PROBLEM
      for _, f in ipairs(list) do io_.out(path, ": ", f, "\n") end
    end
  end
  return status
end

return M
