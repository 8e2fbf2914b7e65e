-- tlsrpt.cli: the `tlsrpt` command (bin/tlsrpt is a thin launcher).
--
--   local code = require("tlsrpt.cli").main(args[, {out = file, err = file}])
--
-- Commands: parse, validate, check, summary (see HELP below). Exit status:
-- 0 all good, 1 a problem was found (invalid input, failed check), 2 usage
-- error, 3 internal error. Everything is written through the out / err
-- handles so tests can run it in-process as well as through the launcher.
local M = {}

local json = require "tlsrpt.json"

M.EXIT_OK, M.EXIT_PROBLEM, M.EXIT_USAGE, M.EXIT_INTERNAL = 0, 1, 2, 3

-- Bytes read from one input file: the core's default max_input (64 MiB).
local MAX_FILE = 64 * 1024 * 1024
-- A --records file or a policy file is small by nature (RFC 8461 §3.3
-- suggests 64 KiB for policies); anything larger is refused.
local MAX_SMALL_FILE = 1024 * 1024
-- Directory recursion in summary.
local MAX_DEPTH = 32

local HELP = {
  main = [[
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
]],
  parse = [[
Usage: tlsrpt parse [--jsonl] [--strict] FILE...

Parses each FILE (a JSON report, a gzip-compressed one, or a report e-mail;
"-" reads standard input) and prints it as normalized RFC 8460 JSON: RFC key
order, dates in RFC 3339 UTC. Warnings about deviations go to stderr.

  --jsonl     one compact JSON object per line instead of indented JSON
  --strict    reject any deviation from RFC 8460 (as validate does)

Exit status: 0 all parsed, 1 some file could not be parsed, 2 usage error.
]],
  validate = [[
Usage: tlsrpt validate [--quiet] FILE...

Checks each FILE strictly against RFC 8460 and prints one line per finding:
  FILE: path: message (RFC section)
and "FILE: valid" for a clean file (not with --quiet).

Exit status: 0 all valid, 1 some file invalid, 2 usage error.
]],
  check = [[
Usage: tlsrpt check [OPTIONS] DOMAIN

Checks DOMAIN's TLS-RPT record (_smtp._tls.DOMAIN, RFC 8460 §3), MTA-STS
record (_mta-sts.DOMAIN, RFC 8461 §3.1), its MTA-STS policy (fetched from
https://mta-sts.DOMAIN/.well-known/mta-sts.txt with curl, RFC 8461 §3.3)
and whether every MX host is covered by the policy (RFC 8461 §4.1).
Prints a checklist: ✓ passed, ✗ failed, ! advice.

  --nameserver IP   ask this DNS server (default: the system resolver)
  --port N          DNS port (default 53)
  --timeout MS      DNS timeout per try in milliseconds
  --policy FILE     read the policy from FILE instead of fetching it
  --records FILE    offline: take DNS data from FILE instead of the DNS;
                    lines "NAME TXT \"text\" [\"more\"]" and "NAME MX PREF HOST"
                    (# comments)

Exit status: 0 all checks passed, 1 some check failed, 2 usage error.
]],
  summary = [[
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
]],
}

-- ------------------------------------------------------------ helpers

local function fmt(...) return string.format(...) end

-- out / err: functions writing their arguments to a handle.
local function writer(h)
  return function(...) h:write(...) end
end

-- Parses options for one command. spec: name -> "flag" | "value".
-- Returns opts, positional args; or nil, message (a usage error).
local function getopt(args, first, spec)
  local opts, pos = {}, {}
  local i = first
  while i <= #args do
    local a = args[i]
    if a == "--" then
      for j = i + 1, #args do pos[#pos + 1] = args[j] end
      break
    elseif a:sub(1, 2) == "--" and #a > 2 then
      local name, val = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local kind = spec[name]
      if not kind then return nil, "unknown option --" .. name end
      if kind == "flag" then
        if val then return nil, "option --" .. name .. " takes no value" end
        opts[name] = true
      else
        if not val then
          i = i + 1
          val = args[i]
          if val == nil then return nil, "option --" .. name .. " needs a value" end
        end
        opts[name] = val
      end
    elseif a == "-h" then
      opts.help = true
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      return nil, "unknown option " .. a
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return opts, pos
end

local function positive_int(s, name, max)
  local n = tonumber(s)
  if not n or n ~= math.floor(n) or n < 1 or n > (max or 2 ^ 31) then
    return nil, "option --" .. name .. " needs an integer 1.." .. (max or 2 ^ 31)
  end
  return n
end

-- Reads a whole file ("-": standard input), refusing more than max bytes.
-- Returns the bytes, or nil, message, code ("io" or "limit").
local function read_file(path, max)
  local f, err
  if path == "-" then
    f = io.stdin
  else
    f, err = io.open(path, "rb")
    if not f then return nil, err, "io" end
    local size = f:seek("end")
    if size and size > max then
      f:close()
      return nil, fmt("%s: %d bytes, more than the %d accepted", path, size, max), "limit"
    end
    f:seek("set")
  end
  local data, rerr = f:read(max + 1)
  if path ~= "-" then f:close() end
  if data == nil then
    if rerr then return nil, path .. ": " .. tostring(rerr), "io" end
    data = ""
  end
  if #data > max then
    return nil, fmt("%s: more than the %d bytes accepted", path, max), "limit"
  end
  return data
end

-- Is this input an e-mail rather than a bare report?
local function looks_like_email(path, data)
  if path:lower():match("%.eml$") then return true end
  if data:sub(1, 2) == "\31\139" then return false end
  local first = data:match("^%s*(.)")
  if first == "{" or first == "[" then return false end
  return data:match("^[!-9;-~]+:") ~= nil or data:match("^From ") ~= nil
end

local function tlsrpt_api()
  return require "tlsrpt"
end

-- Parses the bytes of one input. Returns report (e-mail ones carry
-- .email), or nil, message, code.
local function parse_bytes(path, data, strict)
  local t = tlsrpt_api()
  local opts = strict and { strict = true } or nil
  if looks_like_email(path, data) then
    return t.parse_report_email(data, opts)
  end
  return t.parse_report(data, opts)
end

local function parse_file(path, strict)
  local data, err, code = read_file(path, MAX_FILE)
  if not data then return nil, err, code end
  return parse_bytes(path, data, strict)
end

-- ---------------------------------------------- normalized report JSON

local collection = require "tlsrpt.collection"

local function present(v)
  if v == nil or v == json.null then return nil end
  return v
end

local function str_list(t)
  if type(t) ~= "table" then return nil end
  local out = json.array({})
  for i, v in ipairs(t) do out[i] = v end
  return out
end

local function date_of(epoch, verbatim)
  if type(epoch) == "number" then return collection.rfc3339(epoch) end
  return present(verbatim)
end

-- The report in RFC 8460 §4.4 form and key order.
function M.normalize(r)
  local dr = r.date_range or {}
  local policies = json.array({})
  for i, pr in ipairs(r.policies or {}) do
    local p = pr.policy or {}
    local s = pr.summary or {}
    local details = json.array({})
    for j, fd in ipairs(pr.failure_details or {}) do
      details[j] = json.object({
        ["result-type"] = present(fd.result_type),
        ["sending-mta-ip"] = present(fd.sending_mta_ip),
        ["receiving-mx-hostname"] = present(fd.receiving_mx_hostname),
        ["receiving-mx-helo"] = present(fd.receiving_mx_helo),
        ["receiving-ip"] = present(fd.receiving_ip),
        ["failed-session-count"] = present(fd.failed_session_count),
        ["additional-information"] = present(fd.additional_information),
        ["failure-reason-code"] = present(fd.failure_reason_code),
      }, { "result-type", "sending-mta-ip", "receiving-mx-hostname", "receiving-mx-helo",
        "receiving-ip", "failed-session-count", "additional-information", "failure-reason-code" })
    end
    policies[i] = json.object({
      policy = json.object({
        ["policy-type"] = present(p.policy_type),
        ["policy-string"] = str_list(p.policy_string),
        ["policy-domain"] = present(p.policy_domain),
        ["mx-host"] = str_list(p.mx_host),
      }, { "policy-type", "policy-string", "policy-domain", "mx-host" }),
      summary = json.object({
        ["total-successful-session-count"] = present(s.total_successful_session_count),
        ["total-failure-session-count"] = present(s.total_failure_session_count),
      }, { "total-successful-session-count", "total-failure-session-count" }),
      ["failure-details"] = details,
    }, { "policy", "summary", "failure-details" })
  end
  return json.object({
    ["organization-name"] = present(r.organization_name),
    ["date-range"] = json.object({
      ["start-datetime"] = date_of(dr.start_epoch, dr.start_datetime),
      ["end-datetime"] = date_of(dr.end_epoch, dr.end_datetime),
    }, { "start-datetime", "end-datetime" }),
    ["contact-info"] = present(r.contact_info),
    ["report-id"] = present(r.report_id),
    policies = policies,
  }, { "organization-name", "date-range", "contact-info", "report-id", "policies" })
end

-- "path: message (rfc)" of a warning or finding.
local function finding(w)
  local s = w.message or w.code or "?"
  if w.path and w.path ~= "" then s = w.path .. ": " .. s end
  if w.rfc and w.rfc ~= "" then s = s .. " (" .. w.rfc .. ")" end
  return s
end

-- ------------------------------------------------------------- parse

local function cmd_parse(args, io_)
  local opts, files = getopt(args, 2, { jsonl = "flag", strict = "flag", help = "flag" })
  if not opts then return nil, files end
  if opts.help then io_.out(HELP.parse); return M.EXIT_OK end
  if #files == 0 then return nil, "parse: no FILE given" end
  local status = M.EXIT_OK
  for _, path in ipairs(files) do
    local r, msg, code = parse_file(path, opts.strict)
    if not r then
      io_.err(fmt("%s: error: %s [%s]\n", path, tostring(msg), tostring(code)))
      status = M.EXIT_PROBLEM
    else
      for _, w in ipairs(r.warnings or {}) do
        io_.err(fmt("%s: warning: %s [%s]\n", path, finding(w), tostring(w.code)))
      end
      if opts.jsonl then
        io_.out(json.encode(M.normalize(r)), "\n")
      else
        io_.out(json.encode(M.normalize(r), { indent = 2 }), "\n")
      end
    end
  end
  return status
end

-- ---------------------------------------------------------- validate

-- Checks one file strictly. Returns valid (the strict parse's verdict) and
-- the findings: every deviation the lenient parse lists as a warning (the
-- strict parse stops at the first), or the error that stopped parsing.
-- A file whose warnings strict mode accepts is valid; its warnings are
-- still returned as notes.
function M.findings(path)
  local data, err, ecode = read_file(path, MAX_FILE)
  -- (read once: "-", standard input, cannot be read twice)
  if not data then return false, { fmt("%s [%s]", tostring(err), tostring(ecode)) } end
  local r, msg, code = parse_bytes(path, data, false)
  if not r then return false, { fmt("%s [%s]", tostring(msg), tostring(code)) } end
  local list = {}
  for _, w in ipairs(r.warnings or {}) do list[#list + 1] = finding(w) end
  local ok, smsg, scode = parse_bytes(path, data, true)
  if not ok and #list == 0 then list[1] = fmt("%s [%s]", tostring(smsg), tostring(scode)) end
  return ok ~= nil, list
end

local function cmd_validate(args, io_)
  local opts, files = getopt(args, 2, { quiet = "flag", help = "flag" })
  if not opts then return nil, files end
  if opts.help then io_.out(HELP.validate); return M.EXIT_OK end
  if #files == 0 then return nil, "validate: no FILE given" end
  local status = M.EXIT_OK
  for _, path in ipairs(files) do
    local valid, list = M.findings(path)
    if valid then
      for _, f in ipairs(list) do io_.err(path, ": note: ", f, "\n") end
      if not opts.quiet then io_.out(path, ": valid\n") end
    else
      status = M.EXIT_PROBLEM
      for _, f in ipairs(list) do io_.out(path, ": ", f, "\n") end
    end
  end
  return status
end

-- ------------------------------------------------------------- check

-- A host name in LDH form (what can be looked up and put in a URL).
function M.valid_domain(d)
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

local function norm_name(n)
  return (n:lower():gsub("%.$", ""))
end

-- Reads a --records file into { [name] = { TXT = {...}, MX = {...} } }.
-- TXT data: one or more quoted character-strings (\" \\ \DDD escapes,
-- joined as one record, RFC 1035 §5.1) or one bare word.
function M.read_records(path)
  local data, err = read_file(path, MAX_SMALL_FILE)
  if not data then return nil, err end
  local db = {}
  local lineno = 0
  for line in (data .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    line = line:gsub("\r$", "")
    if not line:match("^%s*#") and line:match("%S") then
      local name, typ, rest = line:match("^%s*(%S+)%s+(%a+)%s+(.-)%s*$")
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

-- A resolver over a --records table with the methods check uses, shaped
-- like tlsrpt.resolver's: result, info or nil, message, code.
local function offline_resolver(db)
  local t = tlsrpt_api()
  local r = {}
  local function lookup(name)
    local e = db[norm_name(name)]
    if not e then return nil, name .. ": no such name (offline records)", "nxdomain" end
    return e
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

-- os.execute succeeded? (5.1 returns the status, 5.2+ true / nil.)
local function sh_ok(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Fetches the policy with curl (RFC 8461 §3.3: HTTPS only, no redirects,
-- 200 with text/plain). Returns text, or nil, message.
local function fetch_policy(domain)
  if not sh_ok("command -v curl >/dev/null 2>&1") then
    return nil, "curl is not installed (use --policy FILE)"
  end
  local url = "https://mta-sts." .. domain .. "/.well-known/mta-sts.txt"
  local tmp, errf = os.tmpname(), os.tmpname()
  -- domain passed valid_domain, so it is only letters, digits, '-' and '.'
  local p = io.popen("curl -sS --proto =https --max-time 15 --max-filesize 65536 -o "
    .. shell_quote(tmp) .. " -w '%{http_code} %{content_type}' " .. shell_quote(url)
    .. " 2>" .. shell_quote(errf))
  local status = p and p:read("*a") or ""
  if p then p:close() end
  local code, ctype = status:match("^(%d%d%d) ?(.*)$")
  local body = read_file(tmp, 65536)
  local cerr = (read_file(errf, 4096) or ""):gsub("%s+$", "")
  os.remove(tmp)
  os.remove(errf)
  if code ~= "200" then
    local why = cerr ~= "" and cerr or ("HTTP status " .. tostring(code))
    return nil, fmt("GET %s: %s (RFC 8461 §3.3)", url, why)
  end
  if not (ctype or ""):lower():match("^text/plain") then
    return nil, fmt("GET %s: Content-Type %q, RFC 8461 §3.2 requires text/plain", url, ctype or "")
  end
  return body or ""
end

-- Runs the checks; returns the list of { mark, text } lines and whether
-- any failed. resolver: tlsrpt.resolver object or offline_resolver.
function M.check_domain(domain, resolver, policy_text, policy_err)
  local t = tlsrpt_api()
  local lines, failed = {}, false
  local function add(mark, text)
    lines[#lines + 1] = { mark, text }
    if mark == "✗" then failed = true end
  end

  -- "what: message [code]", without the name the resolver already put
  -- in front, with the RFC section unless the message names one.
  local function problem(what, name, msg, code, rfc)
    msg = tostring(msg)
    if name and msg:sub(1, #name + 2) == name .. ": " then msg = msg:sub(#name + 3) end
    if rfc and not msg:find("(RFC", 1, true) then msg = msg .. " (" .. rfc .. ")" end
    return fmt("%s: %s [%s]", what, msg, tostring(code))
  end

  local name = "_smtp._tls." .. domain
  local rec, msg, code = resolver:tlsrpt(domain)
  if rec then
    local targets = {}
    for _, u in ipairs(rec.rua or {}) do targets[#targets + 1] = u.uri or u.target end
    add("✓", fmt("TLS-RPT record at %s: reports go to %s", name, table.concat(targets, ", ")))
  else
    add("✗", problem("TLS-RPT record at " .. name, name, msg, code, "RFC 8460 §3"))
  end

  local sts
  name = "_mta-sts." .. domain
  sts, msg, code = resolver:sts(domain)
  if sts then
    add("✓", fmt("MTA-STS record at %s: id=%s", name, tostring(sts.id)))
  else
    add("✗", problem("MTA-STS record at " .. name, name, msg, code, "RFC 8461 §3.1"))
  end

  local policy
  if policy_text then
    local pmsg, pcode
    policy, pmsg, pcode = t.parse_sts_policy(policy_text)
    if policy then
      local max_age = tonumber(policy.max_age) or 0
      add("✓", fmt("MTA-STS policy: mode %s, max_age %d, mx %s", tostring(policy.mode), max_age,
        table.concat(policy.mx or {}, ", ")))
      if policy.mode == "testing" then
        add("!", "policy mode is testing: failures are reported but not enforced (RFC 8461 §5)")
      elseif policy.mode == "none" then
        add("!", "policy mode is none: senders treat the domain as having no policy (RFC 8461 §5)")
      end
      if max_age < 604800 then
        add("!", fmt("max_age %d is under a week; RFC 8461 §3.2 expects weeks or more", max_age))
      end
    else
      add("✗", problem("MTA-STS policy", nil, pmsg, pcode, "RFC 8461 §3.2"))
    end
  else
    add("✗", "MTA-STS policy: " .. tostring(policy_err))
  end

  local mxs
  mxs, msg, code = resolver:mx(domain)
  if not mxs then
    add("✗", problem("MX records of " .. domain, domain, msg, code))
  elseif #mxs == 0 then
    add("✗", fmt("MX records of %s: none (mail goes to the domain's address records)", domain))
  elseif #mxs == 1 and (mxs[1].host == "." or mxs[1].host == "") then
    add("!", fmt("%s has a null MX (RFC 7505): it accepts no mail, MTA-STS is moot", domain))
  else
    local names = {}
    for i, m in ipairs(mxs) do names[i] = m.host end
    add("✓", fmt("MX records of %s: %s", domain, table.concat(names, ", ")))
    if policy then
      local used = {}
      for _, m in ipairs(mxs) do
        if t.sts_mx_match(policy, m.host) then
          add("✓", fmt("MX %s matches the policy", m.host))
        else
          add("✗", fmt("MX %s is not covered by the policy's mx patterns (RFC 8461 §4.1)", m.host))
        end
        for _, pat in ipairs(policy.mx or {}) do
          if t.mx_pattern_match(pat, m.host) then used[pat] = true end
        end
      end
      for _, pat in ipairs(policy.mx or {}) do
        if not used[pat] then add("!", fmt("policy mx pattern %s matches no MX record", pat)) end
      end
    end
  end
  return lines, failed
end

local function cmd_check(args, io_)
  local opts, pos = getopt(args, 2, { nameserver = "value", port = "value", timeout = "value",
    policy = "value", records = "value", help = "flag" })
  if not opts then return nil, pos end
  if opts.help then io_.out(HELP.check); return M.EXIT_OK end
  if #pos ~= 1 then return nil, "check: exactly one DOMAIN expected" end
  local domain = pos[1]
  if not M.valid_domain(domain) then
    return nil, fmt("check: %q is not a domain name (use the xn-- form for IDNs)", domain)
  end
  domain = norm_name(domain)
  local ropts = {}
  if opts.nameserver then ropts.nameserver = opts.nameserver end
  if opts.port then
    local n, err = positive_int(opts.port, "port", 65535)
    if not n then return nil, err end
    ropts.port = n
  end
  if opts.timeout then
    local n, err = positive_int(opts.timeout, "timeout", 600000)
    if not n then return nil, err end
    ropts.timeout = n
  end

  local resolver
  if opts.records then
    local db, err = M.read_records(opts.records)
    if not db then return nil, "check: --records: " .. tostring(err) end
    resolver = offline_resolver(db)
  else
    local ok, r, msg = pcall(tlsrpt_api().resolver, ropts)
    if not ok then return nil, "check: " .. tostring(r) end
    if not r then return nil, "check: " .. tostring(msg) end
    resolver = r
  end

  local policy_text, policy_err
  if opts.policy then
    local err
    policy_text, err = read_file(opts.policy, MAX_SMALL_FILE)
    if not policy_text then policy_err = tostring(err) end
  else
    policy_text, policy_err = fetch_policy(domain)
  end

  local lines, failed = M.check_domain(domain, resolver, policy_text, policy_err)
  io_.out("Checking ", domain, "\n")
  for _, l in ipairs(lines) do io_.out(l[1], " ", l[2], "\n") end
  io_.out(failed and "Problems found.\n" or "All checks passed.\n")
  return failed and M.EXIT_PROBLEM or M.EXIT_OK
end

-- ----------------------------------------------------------- summary

local REPORT_FILE = { json = true, gz = true, eml = true }

local function has_lfs()
  local ok, lfs = pcall(require, "lfs")
  return ok and type(lfs) == "table" and lfs.attributes and lfs
end

-- Appends the report files under path to out (sorted, for stable output).
-- Named files are taken as they are; directories are walked for report
-- files, without following symbolic links to directories (no loops).
local function collect_files(path, out, errs)
  local lfs = has_lfs()
  if lfs then
    local function walk(p, depth, named)
      local mode = lfs.attributes(p, "mode")
      if mode == nil then errs[#errs + 1] = p .. ": no such file or directory"; return end
      if mode ~= "directory" then
        if named then out[#out + 1] = p
        else
          local ext = p:lower():match("%.([%w]+)$")
          if mode == "file" and ext and REPORT_FILE[ext] then out[#out + 1] = p end
        end
        return
      end
      if not named and lfs.symlinkattributes(p, "mode") == "link" then return end
      if depth > MAX_DEPTH then errs[#errs + 1] = p .. ": directories nested too deep"; return end
      local names = {}
      local ok, iter, state = pcall(lfs.dir, p)
      if not ok then errs[#errs + 1] = tostring(iter); return end
      for name in iter, state do
        if name:sub(1, 1) ~= "." then names[#names + 1] = name end
      end
      table.sort(names)
      for _, name in ipairs(names) do walk(p .. "/" .. name, depth + 1, false) end
    end
    walk(path, 0, true)
    return
  end
  -- No lfs: let find(1) walk (names with newlines are not supported here).
  if not sh_ok("test -d " .. shell_quote(path)) then
    local f = io.open(path, "rb")
    if f then f:close(); out[#out + 1] = path
    else errs[#errs + 1] = path .. ": no such file or directory" end
    return
  end
  local p = io.popen("find " .. shell_quote(path) .. " -mindepth 1 -maxdepth " .. (MAX_DEPTH + 1) ..
    " -name '.*' -prune -o -type f \\( -iname '*.json' -o -iname '*.gz' -o -iname '*.eml' \\) -print 2>/dev/null")
  local found = {}
  for line in p:lines() do found[#found + 1] = line end
  p:close()
  table.sort(found)
  for _, x in ipairs(found) do out[#out + 1] = x end
end

local function is_tty_stderr()
  return sh_ok("test -t 2")
end

local function html_escape(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&#39;" }))
end

local function pct(fail, total)
  if total == 0 then return "-" end
  return fmt("%.1f%%", 100 * fail / total)
end

-- Builds the summary data from a filled collection.
function M.summarize(c, stats, top)
  local total = c:query()[1]
  local days = c:query { group_by = { "day" } }
  local s = {
    files = stats.files, reports = total.reports, duplicates = stats.duplicates,
    invalid = stats.invalid,
    success = total.success, failure = total.failure,
    period = { from = days[1] and days[1].day or nil, to = days[#days] and days[#days].day or nil },
    by_domain = c:query { group_by = { "policy_domain" }, order_by = { "-failure", "-success" } },
    by_organization = c:query { group_by = { "organization_name" }, order_by = { "-failure", "-success" } },
    by_result_type = c:query { group_by = { "result_type" }, where = { result_type = function(v) return v ~= nil end },
      order_by = "-failure" },
    by_day = days,
  }
  -- Failure causes: the groups with failures, biggest first. (Summary rows
  -- with failures no detail accounts for show up without a result type.)
  local causes = c:query { group_by = { "policy_domain", "result_type", "receiving_mx_hostname",
    "failure_reason_code" }, order_by = "-failure" }
  local kept = {}
  for _, r in ipairs(causes) do
    if r.failure > 0 and #kept < top then kept[#kept + 1] = r end
  end
  s.failure_causes = setmetatable(kept, getmetatable(causes))
  return s
end

-- Widest cell of a text table (long failure-reason-codes are cut; --json
-- and --html keep them whole).
local MAX_CELL = 60

-- An aligned text table: cols = { {title, key, align = "r"|"l", fn = format} }.
local function text_table(rows, cols)
  local cells, width = {}, {}
  for j, col in ipairs(cols) do width[j] = #col[1] end
  for i, row in ipairs(rows) do
    cells[i] = {}
    for j, col in ipairs(cols) do
      local v = col.fn and col.fn(row) or row[col[2]]
      v = v == nil and "-" or tostring(v)
      -- Control characters in untrusted names must not reach the terminal.
      v = v:gsub("[%z\1-\31\127]", "?")
      if #v > MAX_CELL then
        -- cut on a UTF-8 character boundary
        local cut = MAX_CELL - 3
        while cut > 1 and v:byte(cut + 1) and v:byte(cut + 1) >= 0x80 and v:byte(cut + 1) < 0xC0 do
          cut = cut - 1
        end
        v = v:sub(1, cut) .. "..."
      end
      cells[i][j] = v
      if #v > width[j] then width[j] = #v end
    end
  end
  local out = {}
  local function line(vals)
    local parts = {}
    for j, v in ipairs(vals) do
      local pad = string.rep(" ", width[j] - #v)
      parts[j] = cols[j].align == "r" and pad .. v or v .. pad
    end
    out[#out + 1] = (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  local hdr = {}
  for j, col in ipairs(cols) do hdr[j] = col[1] end
  line(hdr)
  local rule = {}
  for j in ipairs(cols) do rule[j] = string.rep("-", width[j]) end
  line(rule)
  for _, c in ipairs(cells) do line(c) end
  return table.concat(out, "\n") .. "\n"
end

local function rate(row) return pct(row.failure, row.success + row.failure) end

function M.summary_text(s)
  local out = {}
  out[#out + 1] = fmt("Reports: %d from %d files (%d duplicates, %d invalid)\n", s.reports, s.files,
    s.duplicates, s.invalid)
  if s.period.from then out[#out + 1] = fmt("Period: %s .. %s\n", s.period.from, s.period.to) end
  out[#out + 1] = fmt("Sessions: %d successful, %d failed (%s failed)\n\n", s.success, s.failure,
    pct(s.failure, s.success + s.failure))
  out[#out + 1] = "Policy domains\n"
  out[#out + 1] = text_table(s.by_domain, { { "Policy domain", "policy_domain" },
    { "Reports", "reports", align = "r" }, { "Successful", "success", align = "r" },
    { "Failed", "failure", align = "r" }, { "Failed %", fn = rate, align = "r" } })
  out[#out + 1] = "\nReporting organizations\n"
  out[#out + 1] = text_table(s.by_organization, { { "Organization", "organization_name" },
    { "Reports", "reports", align = "r" }, { "Successful", "success", align = "r" },
    { "Failed", "failure", align = "r" }, { "Failed %", fn = rate, align = "r" } })
  out[#out + 1] = "\nFailure causes\n"
  if #s.failure_causes == 0 then
    out[#out + 1] = "(no failed sessions)\n"
  else
    out[#out + 1] = text_table(s.failure_causes, { { "Policy domain", "policy_domain" },
      { "Result type", "result_type" }, { "Receiving MX", "receiving_mx_hostname" },
      { "Reason code", "failure_reason_code" }, { "Failed", "failure", align = "r" },
      { "Reports", "reports", align = "r" } })
  end
  return table.concat(out)
end

local function json_rows(rows)
  local out = json.array({})
  for i, r in ipairs(rows) do
    local o = {}
    for k, v in pairs(r) do o[k] = v end
    out[i] = json.object(o, rows.columns)
  end
  return out
end

function M.summary_json(s)
  return json.encode(json.object({
    files = s.files, reports = s.reports, duplicates = s.duplicates, invalid = s.invalid,
    success = s.success, failure = s.failure,
    period = json.object({ from = s.period.from or json.null, to = s.period.to or json.null }, { "from", "to" }),
    by_domain = json_rows(s.by_domain), by_organization = json_rows(s.by_organization),
    by_result_type = json_rows(s.by_result_type), failure_causes = json_rows(s.failure_causes),
    by_day = json_rows(s.by_day),
  }, { "files", "reports", "duplicates", "invalid", "success", "failure", "period", "by_domain",
    "by_organization", "by_result_type", "failure_causes", "by_day" }), { indent = 2 })
end

-- Bar chart as inline SVG. bars: list of { label, value, title }.
local function svg_bars(bars, opts)
  local w, h, pad_l, pad_b = opts.width or 720, opts.height or 220, 48, 40
  local max = 0
  for _, b in ipairs(bars) do if b[2] > max then max = b[2] end end
  local out = { fmt('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">',
    w, h, w, h, html_escape(opts.title)) }
  out[#out + 1] = fmt('<line x1="%d" y1="10" x2="%d" y2="%d" class="axis"/>', pad_l, pad_l, h - pad_b)
  out[#out + 1] = fmt('<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>', pad_l, h - pad_b, w - 5, h - pad_b)
  out[#out + 1] = fmt('<text x="%d" y="18" class="lbl" text-anchor="end">%d</text>', pad_l - 4, max)
  out[#out + 1] = fmt('<text x="%d" y="%d" class="lbl" text-anchor="end">0</text>', pad_l - 4, h - pad_b)
  local n = #bars
  if n > 0 then
    local slot = (w - pad_l - 10) / n
    local bw = math.max(1, slot * 0.8)
    local every = math.max(1, math.ceil(n / 8))
    for i, b in ipairs(bars) do
      local bh = max > 0 and (h - pad_b - 12) * b[2] / max or 0
      local x = pad_l + 2 + (i - 1) * slot
      out[#out + 1] = fmt('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="%s"><title>%s</title></rect>',
        x, h - pad_b - bh, bw, bh, opts.class or "bar", html_escape(b[3] or (b[1] .. ": " .. b[2])))
      if (i - 1) % every == 0 then
        out[#out + 1] = fmt('<text x="%.1f" y="%d" class="lbl">%s</text>', x, h - pad_b + 14, html_escape(b[1]))
      end
    end
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- Horizontal bars with the label left and the count right of each bar, so
-- long result-type names stay readable. bars: list of { label, value, class }.
local function svg_hbars(bars, opts)
  local w, row, label_w = opts.width or 720, 22, 200
  local h = row * #bars + 10
  local max = 0
  for _, b in ipairs(bars) do if b[2] > max then max = b[2] end end
  local span = w - label_w - 80
  local out = { fmt('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">',
    w, h, w, h, html_escape(opts.title)) }
  for i, b in ipairs(bars) do
    local y = 5 + (i - 1) * row
    local len = max > 0 and span * b[2] / max or 0
    if b[2] > 0 and len < 2 then len = 2 end -- a non-zero count stays visible
    out[#out + 1] = fmt('<text x="%d" y="%d" class="lbl" text-anchor="end">%s</text>', label_w - 6, y + 14,
      html_escape(b[1]))
    out[#out + 1] = fmt('<rect x="%d" y="%d" width="%.1f" height="%d" class="%s"><title>%s: %d</title></rect>',
      label_w, y + 3, len, row - 6, b[3] or "bar", html_escape(b[1]), b[2])
    out[#out + 1] = fmt('<text x="%.1f" y="%d" class="lbl">%d</text>', label_w + len + 4, y + 14, b[2])
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

local function html_table(rows, cols)
  local out = { "<table><thead><tr>" }
  for _, c in ipairs(cols) do out[#out + 1] = "<th>" .. html_escape(c[1]) .. "</th>" end
  out[#out + 1] = "</tr></thead><tbody>"
  for _, row in ipairs(rows) do
    out[#out + 1] = "<tr>"
    for _, c in ipairs(cols) do
      local v = c.fn and c.fn(row) or row[c[2]]
      out[#out + 1] = (c.align == "r" and '<td class="r">' or "<td>") .. html_escape(v == nil and "-" or v) .. "</td>"
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out)
end

function M.summary_html(s)
  local days = {}
  for i, d in ipairs(s.by_day) do
    days[i] = { d.day or "?", d.failure, fmt("%s: %d failed, %d successful", d.day or "?", d.failure, d.success) }
  end
  local types = { { "successful sessions", s.success, "ok" } }
  for _, r in ipairs(s.by_result_type) do types[#types + 1] = { r.result_type, r.failure, "bar" } end
  local unattributed = s.failure
  for _, r in ipairs(s.by_result_type) do unattributed = unattributed - r.failure end
  if unattributed > 0 then types[#types + 1] = { "failed, no detail", unattributed, "bar" } end
  local dcols = { { "Policy domain", "policy_domain" }, { "Reports", "reports", align = "r" },
    { "Successful", "success", align = "r" }, { "Failed", "failure", align = "r" },
    { "Failed %", fn = rate, align = "r" } }
  local ocols = { { "Organization", "organization_name" }, { "Reports", "reports", align = "r" },
    { "Successful", "success", align = "r" }, { "Failed", "failure", align = "r" },
    { "Failed %", fn = rate, align = "r" } }
  local fcols = { { "Policy domain", "policy_domain" }, { "Result type", "result_type" },
    { "Receiving MX", "receiving_mx_hostname" }, { "Reason code", "failure_reason_code" },
    { "Failed", "failure", align = "r" }, { "Reports", "reports", align = "r" } }
  local parts = {
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>TLS-RPT summary</title>",
    "<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}",
    "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left}",
    "td.r{text-align:right;font-variant-numeric:tabular-nums}.bar{fill:#c0392b}.ok{fill:#27ae60}",
    ".axis{stroke:#888}.lbl{font-size:10px;fill:#555}.kpi span{display:inline-block;margin-right:2em}</style>",
    "</head><body>",
    "<h1>TLS-RPT summary</h1>",
    fmt('<p class="kpi"><span>Reports: <b>%d</b></span><span>Files: %d</span><span>Duplicates: %d</span><span>Invalid: %d</span></p>',
      s.reports, s.files, s.duplicates, s.invalid),
    s.period.from and fmt("<p>Period: %s .. %s</p>", html_escape(s.period.from), html_escape(s.period.to)) or "",
    fmt("<p>Sessions: <b>%d</b> successful, <b>%d</b> failed (%s)</p>", s.success, s.failure,
      pct(s.failure, s.success + s.failure)),
    "<h2>Failed sessions per day</h2>",
    svg_bars(days, { title = "Failed sessions per day" }),
    "<h2>Sessions by result</h2>",
    svg_hbars(types, { title = "Sessions by result" }),
    "<h2>Policy domains</h2>", html_table(s.by_domain, dcols),
    "<h2>Reporting organizations</h2>", html_table(s.by_organization, ocols),
    "<h2>Failure causes</h2>", html_table(s.failure_causes, fcols),
    "</body></html>\n",
  }
  return table.concat(parts, "\n")
end

local function cmd_summary(args, io_)
  local opts, paths = getopt(args, 2, { json = "flag", html = "value", top = "value",
    progress = "flag", ["progress-every"] = "value", help = "flag" })
  if not opts then return nil, paths end
  if opts.help then io_.out(HELP.summary); return M.EXIT_OK end
  if #paths == 0 then return nil, "summary: no DIR or FILE given" end
  local top, every = 20, 100
  if opts.top then
    local err
    top, err = positive_int(opts.top, "top", 100000)
    if not top then return nil, err end
  end
  if opts["progress-every"] then
    local err
    every, err = positive_int(opts["progress-every"], "progress-every")
    if not every then return nil, err end
  end

  local files, errs = {}, {}
  for _, p in ipairs(paths) do collect_files(p, files, errs) end
  local status = M.EXIT_OK
  for _, e in ipairs(errs) do io_.err(e, "\n"); status = M.EXIT_PROBLEM end

  local tty = is_tty_stderr()
  local progress = opts.progress or tty
  local c = collection()
  local stats = { files = #files, duplicates = 0, invalid = #errs }
  for i, path in ipairs(files) do
    local r, msg, code = parse_file(path, false)
    if not r then
      io_.err(fmt("%s%s: error: %s [%s]\n", tty and progress and "\r\27[K" or "", path, tostring(msg), tostring(code)))
      stats.invalid = stats.invalid + 1
      status = M.EXIT_PROBLEM
    else
      local ok, amsg, acode = c:add(r)
      if ok == false then
        stats.duplicates = stats.duplicates + 1
      elseif not ok then
        io_.err(fmt("%s: error: %s [%s]\n", path, tostring(amsg), tostring(acode)))
        stats.invalid = stats.invalid + 1
        status = M.EXIT_PROBLEM
      end
    end
    if progress and (i % every == 0 or i == #files) then
      io_.err(fmt("%s%d/%d files, %d reports, %d invalid%s", tty and "\r\27[K" or "",
        i, #files, (c:count()), stats.invalid, tty and "" or "\n"))
    end
  end
  if progress and tty and #files > 0 then io_.err("\n") end

  local s = M.summarize(c, stats, top)
  if opts.json then io_.out(M.summary_json(s), "\n") else io_.out(M.summary_text(s)) end
  if opts.html then
    local f, err = io.open(opts.html, "wb")
    if not f then
      io_.err("summary: --html: ", tostring(err), "\n")
      return M.EXIT_PROBLEM
    end
    local ok, werr = f:write(M.summary_html(s))
    f:close()
    if not ok then
      io_.err("summary: --html: ", tostring(werr), "\n")
      return M.EXIT_PROBLEM
    end
  end
  return status
end

-- -------------------------------------------------------------- main

local COMMANDS = { parse = cmd_parse, validate = cmd_validate, check = cmd_check, summary = cmd_summary }

function M.main(args, handles)
  args = args or {}
  handles = handles or {}
  local io_ = { out = writer(handles.out or io.stdout), err = writer(handles.err or io.stderr) }
  local cmd = args[1]
  if cmd == nil then
    io_.err(HELP.main)
    return M.EXIT_USAGE
  end
  if cmd == "--help" or cmd == "-h" or cmd == "help" then
    local sub = args[2]
    if cmd == "help" and sub and HELP[sub] and sub ~= "main" then io_.out(HELP[sub])
    else io_.out(HELP.main) end
    return M.EXIT_OK
  end
  if cmd == "--version" or cmd == "version" then
    local ok, t = pcall(tlsrpt_api)
    io_.out("tlsrpt ", ok and tostring(t.version) or "(core module not found)", "\n")
    return ok and M.EXIT_OK or M.EXIT_INTERNAL
  end
  local fn = COMMANDS[cmd]
  if not fn then
    io_.err("tlsrpt: unknown command '", tostring(cmd), "' (try tlsrpt --help)\n")
    return M.EXIT_USAGE
  end
  local ok, status, msg = xpcall(function() return fn(args, io_) end, debug.traceback)
  if not ok then
    io_.err("tlsrpt: internal error: ", tostring(status), "\n")
    return M.EXIT_INTERNAL
  end
  if status == nil then
    io_.err("tlsrpt: ", tostring(msg), " (try tlsrpt ", cmd, " --help)\n")
    return M.EXIT_USAGE
  end
  return status
end

return M
