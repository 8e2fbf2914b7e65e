-- tlsrpt.cli.parse: `tlsrpt parse`, reports printed as normalized RFC 8460 JSON.
--
--   parse.run(args, io_) -> exit status | nil, usage message
--   parse.normalize(report) -> the report as json.object in RFC 8460 §4.4 form
local json = require "tlsrpt.json"
local collection = require "tlsrpt.collection"
local options = require "tlsrpt.cli.options"
local exit = require "tlsrpt.cli.exit"
local reportfile = require "tlsrpt.reportfile"

local M = {}

M.help = [[
Usage: tlsrpt parse [--jsonl] [--strict] FILE...

Parses each FILE (a JSON report, a gzip-compressed one, or a report e-mail;
"-" reads standard input) and prints it as normalized RFC 8460 JSON: RFC key
order, dates in RFC 3339 UTC. Warnings about deviations go to stderr.

  --jsonl     one compact JSON object per line instead of indented JSON
  --strict    reject any deviation from RFC 8460 (as validate does)

Exit status: 0 all parsed, 1 some file could not be parsed, 2 usage error.
]]

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

function M.run(args, io_)
  local opts, files = options.parse(args, 2, { jsonl = "flag", strict = "flag", help = "flag" })
  if not opts then return nil, files end
  if opts.help then io_.out(M.help); return exit.OK end
  if #files == 0 then return nil, "parse: no FILE given" end
  local status = exit.OK
  for _, path in ipairs(files) do
    local r, msg, code = reportfile.parse_file(path, opts.strict)
    if not r then
      io_.err(string.format("%s: error: %s [%s]\n", path, reportfile.printable(msg), tostring(code)))
      status = exit.PROBLEM
    else
      for _, w in ipairs(r.warnings or {}) do
        io_.err(string.format("%s: warning: %s [%s]\n", path, reportfile.finding(w), tostring(w.code)))
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

return M
