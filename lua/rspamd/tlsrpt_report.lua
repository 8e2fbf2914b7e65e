--[[
rspamd rule: recognise SMTP TLS Reporting (RFC 8460) report e-mails, parse
the attached report with the tlsrpt module and summarise it in symbols.

  TLSRPT_REPORT    a report that parsed; options org=, domain=, id=,
                   successes=, failures= (and warnings= when lenient
                   parsing accepted deviations)
  TLSRPT_FAILURES  the report counts failed sessions; one option per
                   result type: certificate-expired=2, ...
  TLSRPT_INVALID   looked like a report but did not parse; options code=
                   (tlsrpt error code) and the message
  With check_record = true (off by default), the report domain's TLS-RPT
  record (_smtp._tls.<domain> TXT) is looked up through rspamd's own async
  resolver and checked with tlsrpt.parse_record:
  TLSRPT_RECORD_OK       valid record; option rua=match / rua=nomatch says
                         whether a mailto: rua is one of the recipients
  TLSRPT_RECORD_MISSING  no TLS-RPT record (NXDOMAIN, no TXT, no v=TLSRPTv1)
  TLSRPT_RECORD_INVALID  a record that does not parse (option code=)
  TLSRPT_RECORD_DNSFAIL  the lookup failed (SERVFAIL, timeout, ...)

A message is a candidate when its Content-Type is multipart/report with
report-type=tlsrpt, when a part is typed application/tlsrpt+gzip,
application/tlsrpt+json or application/tlsrpt, or when it has a
TLS-Report-Domain header. Other messages cost two header lookups and a walk
over the part list.

Load it from rspamd.conf.local. rspamd's LuaJIT finds tlsrpt on its default
paths (a rock installed with `luarocks --lua-version 5.1`, /usr/local), or
where lua_path / lua_cpath of this rule's section say:
  lua = "/usr/local/share/tlsrpt/rspamd/tlsrpt_report.lua";
  tlsrpt_report {                     # every setting is optional
    lua_path = "/opt/tlsrpt/share/lua/5.1/?.lua;/opt/tlsrpt/share/lua/5.1/?/init.lua";
    lua_cpath = "/opt/tlsrpt/lib/lua/5.1/?.so";
    check_record = false;
  }
]]

local rspamd_logger = require "rspamd_logger"

local N = 'tlsrpt_report'

local settings = {
  lua_path = '',            -- prepended to package.path before require 'tlsrpt'
  lua_cpath = '',           -- prepended to package.cpath
  symbol = 'TLSRPT_REPORT',
  symbol_failures = 'TLSRPT_FAILURES',
  symbol_invalid = 'TLSRPT_INVALID',
  symbol_record_ok = 'TLSRPT_RECORD_OK',
  symbol_record_missing = 'TLSRPT_RECORD_MISSING',
  symbol_record_invalid = 'TLSRPT_RECORD_INVALID',
  symbol_record_dnsfail = 'TLSRPT_RECORD_DNSFAIL',
  group = 'tlsrpt',
  check_record = false,
  strict = false,           -- reject any RFC deviation (TLSRPT_INVALID code=strict)
  max_domains = 4,          -- record lookups per message
  max_option_len = 96,      -- untrusted strings are cut to this many bytes (at least 8)
  limits = {},              -- tlsrpt parser limits: max_input, max_decompressed, ...
}

local opts = rspamd_config:get_all_opt(N)
if type(opts) == 'table' then
  for k, v in pairs(opts) do
    if settings[k] == nil then
      rspamd_logger.warnx(rspamd_config, '%s: unknown setting %s ignored', N, k)
    elseif type(v) ~= type(settings[k]) then
      rspamd_logger.errx(rspamd_config, '%s: setting %s must be a %s, using the default',
          N, k, type(settings[k]))
    else
      settings[k] = v
    end
  end
end
if settings.max_option_len < 8 then
  rspamd_logger.errx(rspamd_config, '%s: max_option_len must be 8 or more, using 96', N)
  settings.max_option_len = 96
end

-- rspamd fixes package.path before reading options.lua_path, so the rule
-- takes its own search path.
for field, extra in pairs({ path = settings.lua_path, cpath = settings.lua_cpath }) do
  if extra ~= '' and not package[field]:find(extra, 1, true) then
    package[field] = extra .. ';' .. package[field]
  end
end

local have_tlsrpt, tlsrpt = pcall(require, 'tlsrpt')
if not have_tlsrpt then
  rspamd_logger.errx(rspamd_config, '%s: cannot load the tlsrpt module, rule disabled: %s',
      N, tlsrpt)
  return
end

-- Options reach logs and the web UI: keep them short and printable, and
-- free of ';', '{' and '}', which rspamd's log line writes around options
-- (SYM(score){opt;opt;}) unescaped: report text must not forge entries.
local function clean(s)
  s = tostring(s or ''):gsub('[%c]', ' '):gsub('[;{}]', '_')
  if #s > settings.max_option_len then
    s = s:sub(1, settings.max_option_len) .. '...'
  end
  return s
end

local report_types = {
  ['tlsrpt'] = true, ['tlsrpt+gzip'] = true, ['tlsrpt+json'] = true,
}

-- The first part typed application/tlsrpt*, or nil.
local function report_part(task)
  for _, part in ipairs(task:get_parts() or {}) do
    local t, st = part:get_type()
    if t and st and t:lower() == 'application' and report_types[st:lower()] then
      return part
    end
  end
  return nil
end

local function is_report_content_type(ct)
  if not ct then return false end
  ct = ct:lower()
  return ct:match('^%s*multipart/report%s*;') ~= nil and
      ct:match(';%s*report%-type%s*=%s*"?([%w%-%+%.]+)') == 'tlsrpt'
end

local function parse_opts()
  local o = { strict = settings.strict }
  for k, v in pairs(settings.limits) do o[k] = v end
  return o
end

-- tlsrpt raises on bad options (misuse): find out now rather than per
-- message; names it does not know it would ignore, so log them here.
do
  local known = { max_input = true, max_decompressed = true, max_ratio = true, max_depth = true,
    max_string = true, max_elements = true, max_warnings = true }
  for k in pairs(settings.limits) do
    if not known[k] then
      rspamd_logger.warnx(rspamd_config, '%s: unknown limit %s ignored', N, k)
      settings.limits[k] = nil
    end
  end
  local ok, err = pcall(tlsrpt.parse_report, '{}', parse_opts())
  if not ok then
    rspamd_logger.errx(rspamd_config, '%s: invalid limits (%s), using the defaults', N, err)
    settings.limits = {}
  end
end

-- Parses the report: the whole message through tlsrpt's MIME reader when
-- it has one, else (or when that finds no report) the part rspamd decoded.
local function parse(task, part)
  local report, msg, code
  if tlsrpt.parse_report_email then
    report, msg, code = tlsrpt.parse_report_email(task:get_content(), parse_opts())
    if report or code ~= 'no_report' or not part then
      return report, msg, code
    end
  end
  if part and tlsrpt.parse_report then
    return tlsrpt.parse_report(part:get_content(), parse_opts())
  end
  return nil, msg or 'no TLS report found', code or 'no_report'
end

-- A DNS name we are willing to look up: LDH labels, at least two, short
-- enough that _smtp._tls.<d> is a DNS name too (253 bytes).
local function valid_domain(d)
  if type(d) ~= 'string' or #d == 0 or #d > 253 - #'_smtp._tls.' then return false end
  d = d:gsub('%.$', '')
  local labels = 0
  for label in (d .. '.'):gmatch('([^.]*)%.') do
    if #label == 0 or #label > 63 or not label:match('^%w[%w%-]*$') or label:match('%-$') then
      return false
    end
    labels = labels + 1
  end
  return labels >= 2
end

-- Envelope recipients (what the MTA delivered to), else the To/Cc addresses.
local function recipients(task)
  local set = {}
  for _, kind in ipairs({ 'smtp', 'mime' }) do
    for _, r in ipairs(task:get_recipients(kind) or {}) do
      if r.addr and r.addr ~= '' then set[r.addr:lower()] = true end
    end
    if next(set) then break end
  end
  return set
end

local function check_record(task, domain)
  local name = '_smtp._tls.' .. domain
  -- One option per domain, "<domain>:<detail>": rspamd drops an option a
  -- symbol already has, so with several domains bare details would merge.
  local function result(symbol, detail)
    task:insert_result(symbol, 1.0, detail and (domain .. ':' .. detail) or domain)
  end
  local function dns_cb(_, _, results, err)
    if err then
      if err == 'requested record is not found' or err == 'no records with this name' then
        result(settings.symbol_record_missing)
      else
        result(settings.symbol_record_dnsfail, clean(err))
      end
      return
    end
    local rec, msg, code = tlsrpt.parse_record(results or {})
    if not rec then
      if code == 'no_record' then
        result(settings.symbol_record_missing)
      else
        result(settings.symbol_record_invalid, clean('code=' .. tostring(code) .. ' ' .. tostring(msg)))
      end
      return
    end
    local rcpts, mailto, match = recipients(task), false, false
    for _, rua in ipairs(rec.rua or {}) do
      if rua.scheme == 'mailto' then
        mailto = true
        if rcpts[tostring(rua.target):lower()] then match = true end
      end
    end
    result(settings.symbol_record_ok, mailto and (match and 'rua=match' or 'rua=nomatch') or 'rua=https')
  end
  -- resolve_txt returns false when it could not schedule the query; the
  -- callback then never runs.
  local scheduled = task:get_resolver():resolve_txt({
    task = task,
    name = name,
    callback = dns_cb,
    forced = true,
  })
  if not scheduled then result(settings.symbol_record_dnsfail, 'query not sent') end
end

-- The policy domains a report speaks for: the TLS-Report-Domain header
-- first, then each policy's policy-domain, deduplicated and capped.
local function report_domains(report)
  local seen, list = {}, {}
  local function add(d)
    if type(d) ~= 'string' then return end
    d = d:lower():gsub('%.$', '')
    if d ~= '' and not seen[d] and #list < settings.max_domains then
      seen[d] = true
      list[#list + 1] = d
    end
  end
  if report.email then add(report.email.tls_report_domain) end
  for _, p in ipairs(report.policies or {}) do
    add(p.policy and p.policy.policy_domain)
  end
  return list
end

local function summarise(task, report)
  local ok_opts, fail_opts = {}, {}
  local successes, failures = 0, 0
  local by_type, type_order = {}, {}
  for _, p in ipairs(report.policies or {}) do
    local s = p.summary or {}
    successes = successes + (tonumber(s.total_successful_session_count) or 0)
    failures = failures + (tonumber(s.total_failure_session_count) or 0)
    for _, f in ipairs(p.failure_details or {}) do
      local t = clean(f.result_type)
      if not by_type[t] then
        by_type[t] = 0
        type_order[#type_order + 1] = t
      end
      by_type[t] = by_type[t] + (tonumber(f.failed_session_count) or 0)
    end
  end
  local domains = report_domains(report)
  ok_opts[#ok_opts + 1] = 'org=' .. clean(report.organization_name)
  if domains[1] then ok_opts[#ok_opts + 1] = 'domain=' .. clean(table.concat(domains, ' ')) end
  if report.report_id and report.report_id ~= '' then
    ok_opts[#ok_opts + 1] = 'id=' .. clean(report.report_id)
  end
  ok_opts[#ok_opts + 1] = string.format('successes=%.0f', successes)
  ok_opts[#ok_opts + 1] = string.format('failures=%.0f', failures)
  local nwarn = report.warnings and #report.warnings or 0
  if nwarn > 0 then ok_opts[#ok_opts + 1] = 'warnings=' .. nwarn end
  task:insert_result(settings.symbol, 1.0, ok_opts)

  if failures > 0 then
    for _, t in ipairs(type_order) do
      fail_opts[#fail_opts + 1] = string.format('%s=%.0f', t, by_type[t])
    end
    if #fail_opts == 0 then fail_opts[1] = string.format('sessions=%.0f', failures) end
    task:insert_result(settings.symbol_failures, 1.0, fail_opts)
  end

  if settings.check_record and tlsrpt.parse_record then
    for _, d in ipairs(domains) do
      if valid_domain(d) then check_record(task, d) end
    end
  end
end

local function tlsrpt_cb(task)
  local part = report_part(task)
  if not part and not is_report_content_type(task:get_header('Content-Type'))
      and not task:get_header('TLS-Report-Domain') then
    return
  end
  local report, msg, code = parse(task, part)
  if not report then
    task:insert_result(settings.symbol_invalid, 1.0, 'code=' .. clean(code), clean(msg))
    return
  end
  summarise(task, report)
end

local id = rspamd_config:register_symbol({
  name = 'TLSRPT_CHECK',
  type = 'callback',
  callback = tlsrpt_cb,
  group = settings.group,
})

local virtual = {
  { settings.symbol, 'TLS-RPT (RFC 8460) report e-mail' },
  { settings.symbol_failures, 'TLS-RPT report counts failed TLS sessions' },
  { settings.symbol_invalid, 'Looks like a TLS-RPT report but does not parse' },
}
if settings.check_record then
  virtual[#virtual + 1] = { settings.symbol_record_ok, 'Report domain publishes a valid TLS-RPT record' }
  virtual[#virtual + 1] = { settings.symbol_record_missing, 'Report domain publishes no TLS-RPT record' }
  virtual[#virtual + 1] = { settings.symbol_record_invalid, 'Report domain TLS-RPT record is invalid' }
  virtual[#virtual + 1] = { settings.symbol_record_dnsfail, 'TLS-RPT record lookup failed' }
end
for _, v in ipairs(virtual) do
  rspamd_config:register_symbol({
    name = v[1],
    type = 'virtual',
    parent = id,
    score = 0.0,
    group = settings.group,
    description = v[2],
  })
end
