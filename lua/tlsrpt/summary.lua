-- tlsrpt.summary: totals and failure causes over a filled collection, as
-- the aligned text tables and the JSON of `tlsrpt summary`.
--
--   summary.build(c, stats, top) -> s (see below)
--   summary.text(s)              -> the text tables
--   summary.json(s)              -> indented JSON
--   summary.COLUMNS, summary.pct: the table layouts and the percentage
--   format, shared with tlsrpt.summary_html
--
-- s: files, reports, duplicates, invalid, success, failure, period {from, to},
-- by_domain, by_organization, by_result_type, by_day, failure_causes (query rows).
local json = require "tlsrpt.json"

local M = {}

local fmt = string.format

-- "12.3%" of failures among all sessions; "-" when there were none. A rate
-- that is neither 0 nor 100 never prints as either ("<0.1%", ">99.9%").
function M.pct(fail, total)
  if total == 0 then return "-" end
  local p = 100 * fail / total
  if fail > 0 and p < 0.05 then return "<0.1%" end
  if fail < total and p >= 99.95 then return ">99.9%" end
  return (fmt("%.1f%%", p):gsub(",", "."))
end

-- A count as digits: sums past 2^63 are floats (tlsrpt.collection), which
-- "%d" refuses under Lua 5.4 and wraps under 5.1.
function M.count(n)
  if math.type and math.type(n) == "integer" then return fmt("%d", n) end
  return fmt("%.0f", n)
end

-- Text from reports, printable: C0 and C1 controls (U+0080-U+009F, which
-- terminals obey too) and DEL as '?'.
function M.printable(s)
  return (tostring(s):gsub("[%z\1-\31\127]", "?"):gsub("\194[\128-\159]", "?"))
end

local function rate(row) return M.pct(row.failure, row.success + row.failure) end

-- Table layouts: { {title, key, align = "r"|"l", fn = format(row)} }.
M.COLUMNS = {
  domain = { { "Policy domain", "policy_domain" },
    { "Reports", "reports", align = "r" }, { "Successful", "success", align = "r" },
    { "Failed", "failure", align = "r" }, { "Failed %", fn = rate, align = "r" } },
  organization = { { "Organization", "organization_name" },
    { "Reports", "reports", align = "r" }, { "Successful", "success", align = "r" },
    { "Failed", "failure", align = "r" }, { "Failed %", fn = rate, align = "r" } },
  cause = { { "Policy domain", "policy_domain" },
    { "Result type", "result_type" }, { "Receiving MX", "receiving_mx_hostname" },
    { "Reason code", "failure_reason_code" }, { "Failed", "failure", align = "r" },
    { "Reports", "reports", align = "r" } },
}

-- Builds the summary data from a filled collection. stats: files,
-- duplicates, invalid (counted while adding); top: failure-cause rows kept.
function M.build(c, stats, top)
  local total = c:query()[1]
  local days = c:query { group_by = { "day" } }
  local s = {
    -- (c:count(): a report without policies has no rows, so no query counts it)
    files = stats.files, reports = (c:count()), duplicates = stats.duplicates,
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

-- An aligned text table of rows laid out by cols (see COLUMNS).
local function text_table(rows, cols)
  local cells, width = {}, {}
  for j, col in ipairs(cols) do width[j] = #col[1] end
  for i, row in ipairs(rows) do
    cells[i] = {}
    for j, col in ipairs(cols) do
      local v = col.fn and col.fn(row) or row[col[2]]
      v = v == nil and "-" or type(v) == "number" and M.count(v) or tostring(v)
      -- Control characters in untrusted names must not reach the terminal.
      v = M.printable(v)
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

function M.text(s)
  local out = {}
  out[#out + 1] = fmt("Reports: %s from %d files (%d duplicates, %d invalid)\n", M.count(s.reports), s.files,
    s.duplicates, s.invalid)
  if s.period.from then out[#out + 1] = fmt("Period: %s .. %s\n", s.period.from, s.period.to) end
  out[#out + 1] = fmt("Sessions: %s successful, %s failed (%s failed)\n\n", M.count(s.success), M.count(s.failure),
    M.pct(s.failure, s.success + s.failure))
  out[#out + 1] = "Policy domains\n"
  out[#out + 1] = text_table(s.by_domain, M.COLUMNS.domain)
  out[#out + 1] = "\nReporting organizations\n"
  out[#out + 1] = text_table(s.by_organization, M.COLUMNS.organization)
  out[#out + 1] = "\nFailure causes\n"
  if #s.failure_causes == 0 then
    out[#out + 1] = "(no failed sessions)\n"
  else
    out[#out + 1] = text_table(s.failure_causes, M.COLUMNS.cause)
  end
  return table.concat(out)
end

-- Query rows as a JSON array of objects in the rows' column order.
local function json_rows(rows)
  local out = json.array({})
  for i, r in ipairs(rows) do
    local o = {}
    for k, v in pairs(r) do o[k] = v end
    out[i] = json.object(o, rows.columns)
  end
  return out
end

function M.json(s)
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

return M
