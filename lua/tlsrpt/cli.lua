-- tlsrpt.cli: the `tlsrpt` command (bin/tlsrpt is a thin launcher):
-- dispatch, the main help and the exit statuses.
--
--   local code = require("tlsrpt.cli").main(args[, {out = file, err = file}])
--
-- Each command lives in tlsrpt.cli.<name> (its help text and run); the
-- work they share is in tlsrpt.reportfile, fsutil, summary, summary_html,
-- check, offline_dns and hostname. Exit status: 0 all good, 1 a problem was
-- found (invalid input, failed check), 2 usage error, 3 internal error.
-- Everything is written through the out / err handles so tests can run it
-- in-process as well as through the launcher.
local exit = require "tlsrpt.cli.exit"

local M = {}

M.EXIT_OK, M.EXIT_PROBLEM, M.EXIT_USAGE, M.EXIT_INTERNAL = exit.OK, exit.PROBLEM, exit.USAGE, exit.INTERNAL

local COMMANDS = {
  parse = require "tlsrpt.cli.parse",
  validate = require "tlsrpt.cli.validate",
  check = require "tlsrpt.cli.check",
  summary = require "tlsrpt.cli.summary",
}

local HELP = [[
Usage: tlsrpt COMMAND [OPTIONS] ARGS...

SMTP TLS Reporting (RFC 8460) and MTA-STS (RFC 8461) tool.

Commands:
  parse FILE...          print reports (.json, .json.gz, .eml) as normalized JSON
  validate FILE...       strict RFC 8460 check of reports, one finding per line
  check DOMAIN           check a domain's TLS-RPT and MTA-STS setup
  summary DIR|FILE...    totals and failure causes over many reports

Options: --help (also after a command), --version

Exit status: 0 ok, 1 problems found (invalid input, failed check),
2 usage error, 3 internal error.
]]

-- The helpers the commands are built from, for tests and embedders.
M.normalize = COMMANDS.parse.normalize
M.findings = COMMANDS.validate.findings
M.valid_domain = require("tlsrpt.hostname").is_domain
M.read_records = require("tlsrpt.offline_dns").read
M.check_domain = require("tlsrpt.check").domain
local summary = require "tlsrpt.summary"
M.summarize, M.summary_text, M.summary_json = summary.build, summary.text, summary.json
M.summary_html = require("tlsrpt.summary_html").render

-- out / err: functions writing their arguments to a handle; the first
-- write error is kept (a full disk must not pass for success).
local function writer(h, failed)
  return function(...)
    local ok, err = h:write(...)
    if ok == nil and err ~= nil and not failed[1] then failed[1] = tostring(err) end
  end
end

-- Buffered output fails at the flush: the first write error, else the
-- flush's (handles without flush, as tests inject, have nothing to flush).
local function write_error(h, failed)
  if not failed[1] and h.flush then
    local ok, err = h:flush()
    if ok == nil and err ~= nil then failed[1] = tostring(err) end
  end
  return failed[1]
end

function M.main(args, handles)
  args = args or {}
  handles = handles or {}
  local out_h = handles.out or io.stdout
  local failed = {}
  local io_ = { out = writer(out_h, failed), err = writer(handles.err or io.stderr, {}) }
  local cmd = args[1]
  if cmd == nil then
    io_.err(HELP)
    return M.EXIT_USAGE
  end
  local function done(status)
    local werr = write_error(out_h, failed)
    if werr then
      io_.err("tlsrpt: cannot write the output: ", werr, "\n")
      return status == M.EXIT_OK and M.EXIT_PROBLEM or status
    end
    return status
  end
  if cmd == "--help" or cmd == "-h" or cmd == "help" then
    local sub = cmd == "help" and args[2] and COMMANDS[args[2]]
    io_.out(sub and sub.help or HELP)
    return done(M.EXIT_OK)
  end
  if cmd == "--version" or cmd == "version" then
    local ok, t = pcall(require, "tlsrpt")
    io_.out("tlsrpt ", ok and tostring(t.version) or "(core module not found)", "\n")
    return done(ok and M.EXIT_OK or M.EXIT_INTERNAL)
  end
  local command = COMMANDS[cmd]
  if not command then
    io_.err("tlsrpt: unknown command '", tostring(cmd), "' (try tlsrpt --help)\n")
    return M.EXIT_USAGE
  end
  local ok, status, msg = xpcall(function() return command.run(args, io_) end, debug.traceback)
  if not ok then
    io_.err("tlsrpt: internal error: ", tostring(status), "\n")
    return M.EXIT_INTERNAL
  end
  if status == nil then
    io_.err("tlsrpt: ", tostring(msg), " (try tlsrpt ", cmd, " --help)\n")
    return M.EXIT_USAGE
  end
  return done(status)
end

return M
