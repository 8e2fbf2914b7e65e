-- tlsrpt.cli.summary: `tlsrpt summary`, many reports deduplicated and
-- rolled up (tlsrpt.collection) into text or JSON, optionally an HTML page.
--
--   summary.run(args, io_) -> exit status | nil, usage message
local collection = require "tlsrpt.collection"
local options = require "tlsrpt.cli.options"
local exit = require "tlsrpt.cli.exit"
local fsutil = require "tlsrpt.fsutil"
local reportfile = require "tlsrpt.reportfile"
local shell = require "tlsrpt.shell"
local summary = require "tlsrpt.summary"
local summary_html = require "tlsrpt.summary_html"

local M = {}

local fmt = string.format

M.help = [[
Usage: tlsrpt summary [OPTIONS] DIR|FILE...

Parses every report (directories are walked for *.json, *.gz, *.eml; hidden
files are skipped), drops duplicates (same organization and report-id) and
prints totals per policy domain and per reporting organization, and the
failure causes.

  --json             print the summary as JSON instead of tables
  --html FILE        also write a self-contained HTML page with charts
  --top N            rows in the failure-cause table (default 20)
  --progress         report progress on stderr (default: when stderr is a tty)
  --progress-every N files between progress reports (default 100)

Exit status: 0 ok, 1 some input could not be parsed, 2 usage error.
]]

function M.run(args, io_)
  local opts, paths = options.parse(args, 2, { json = "flag", html = "value", top = "value",
    progress = "flag", ["progress-every"] = "value", help = "flag" })
  if not opts then return nil, paths end
  if opts.help then io_.out(M.help); return exit.OK end
  if #paths == 0 then return nil, "summary: no DIR or FILE given" end
  local top, every = 20, 100
  if opts.top then
    local err
    top, err = options.positive_int(opts.top, "top", 100000)
    if not top then return nil, err end
  end
  if opts["progress-every"] then
    local err
    every, err = options.positive_int(opts["progress-every"], "progress-every")
    if not every then return nil, err end
  end

  local files, errs = {}, {}
  for _, p in ipairs(paths) do fsutil.report_files(p, files, errs) end
  local status = exit.OK
  for _, e in ipairs(errs) do io_.err(e, "\n"); status = exit.PROBLEM end

  local tty = shell.stderr_is_tty()
  local progress = opts.progress or tty
  local c = collection()
  local stats = { files = #files, duplicates = 0, invalid = #errs }
  for i, path in ipairs(files) do
    local r, msg, code = reportfile.parse_file(path, false)
    if not r then
      io_.err(fmt("%s%s: error: %s [%s]\n", tty and progress and "\r\27[K" or "", path, tostring(msg), tostring(code)))
      stats.invalid = stats.invalid + 1
      status = exit.PROBLEM
    else
      local ok, amsg, acode = c:add(r)
      if ok == false then
        stats.duplicates = stats.duplicates + 1
      elseif not ok then
        io_.err(fmt("%s: error: %s [%s]\n", path, tostring(amsg), tostring(acode)))
        stats.invalid = stats.invalid + 1
        status = exit.PROBLEM
      end
    end
    if progress and (i % every == 0 or i == #files) then
      io_.err(fmt("%s%d/%d files, %d reports, %d invalid%s", tty and "\r\27[K" or "",
        i, #files, (c:count()), stats.invalid, tty and "" or "\n"))
    end
  end
  if progress and tty and #files > 0 then io_.err("\n") end

  local s = summary.build(c, stats, top)
  if opts.json then io_.out(summary.json(s), "\n") else io_.out(summary.text(s)) end
  if opts.html then
    local f, err = io.open(opts.html, "wb")
    if not f then
      io_.err("summary: --html: ", tostring(err), "\n")
      return exit.PROBLEM
    end
    local ok, werr = f:write(summary_html.render(s))
    local cok, cerr = f:close() -- a short page is only written here
    if ok and not cok then ok, werr = nil, cerr end
    if not ok then
      io_.err("summary: --html: ", tostring(werr), "\n")
      return exit.PROBLEM
    end
  end
  return status
end

return M
