-- tlsrpt.collection: many parsed reports, deduplicated, flattened into rows
-- and rolled up by query. Pure Lua (5.1 semantics, so LuaJIT runs it too).
--
-- A report (shaped like tlsrpt.parse_report's result) becomes rows:
--   * one "summary" row per policy: success = total_successful_session_count,
--     failure = the part of total_failure_session_count that no failure-detail
--     accounts for (0 when the details add up, as they should);
--   * one row per failure-detail: failure = failed_session_count.
-- So a roll-up's success/failure sums equal the reports' totals, and grouping
-- by result_type splits the failures by cause (summary rows have no
-- result_type). When details add up to more than the stated total, the
-- details win: they are the more specific data.
--
-- Storage is columnar: a row is four numbers (policy id, detail id, success,
-- failure). Report fields live once per report, policy fields once per
-- policy, and failure-detail fields once per distinct detail (interned:
-- reports from one sender repeat the same MX and IPs day after day). This
-- keeps a million rows in a few tens of MB and lets filters run per report,
-- policy or detail instead of per row.
local hostname = require "tlsrpt.hostname"
local json = require "tlsrpt.json"
local sort = require "tlsrpt.sort"

local M = {}
M.__index = M

local norm_host = hostname.normalize

-- Fields a query can filter and group on, and the level each lives at.
local LEVEL = {
  organization_name = "r", report_id = "r", contact_info = "r",
  day = "r", month = "r",
  policy_type = "p", policy_domain = "p",
  result_type = "d", sending_mta_ip = "d", receiving_mx_hostname = "d",
  receiving_mx_helo = "d", receiving_ip = "d", failure_reason_code = "d",
  additional_information = "d",
}
-- Canonical column order for exports.
local FIELD_ORDER = {
  "day", "month", "organization_name", "report_id", "contact_info",
  "policy_type", "policy_domain", "result_type", "sending_mta_ip",
  "receiving_mx_hostname", "receiving_mx_helo", "receiving_ip",
  "failure_reason_code", "additional_information",
}
local DETAIL_FIELDS = {
  "result_type", "sending_mta_ip", "receiving_mx_hostname", "receiving_mx_helo",
  "receiving_ip", "failure_reason_code", "additional_information",
}
-- Host names compare case-insensitively without a trailing dot (RFC 4343,
-- hostname.normalize), so "Example.COM." and "example.com" roll up together.
local HOSTNAME = { policy_domain = true, receiving_mx_hostname = true }
M.fields = FIELD_ORDER

local DEFAULT_MAX_ROWS = 20000000
local DEFAULT_MAX_REPORTS = 5000000

local floor = math.floor
local MIN_EPOCH, MAX_EPOCH = -62135596800, 253402300799

-- UTC civil date of a day number (days since 1970-01-01); H. Hinnant's
-- algorithm, exact for any integer day.
local function civil(days)
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end

-- Broken-down UTC time of an epoch: year, month, day, hour, min, sec.
function M.utc(epoch)
  local days = floor(epoch / 86400)
  local secs = epoch - days * 86400
  local y, m, d = civil(days)
  return y, m, d, floor(secs / 3600), floor(secs % 3600 / 60), floor(secs % 60)
end

-- "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC).
function M.rfc3339(epoch)
  local y, mo, d, h, mi, s = M.utc(epoch)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s)
end

-- One field of an identity key: its length, then its text, so that no
-- choice of field values can make two keys equal ("a\0b" + "c" against
-- "a" + "b\0c"); numbers by value (5 and 5.0 alike; all 17 digits, which
-- tostring drops under 5.1 and LuaJIT).
local function key_part(parts, v)
  local s
  if type(v) == "number" then s = string.format("%.17g", v)
  elseif type(v) == "string" then s = v
  else s = v == nil and "" or tostring(v) end
  parts[#parts + 1] = #s .. ":" .. s
end

-- Identity of a report for deduplication. RFC 8460 §4 makes report-id
-- unique per sender, so (organization_name, report_id) names a report. A
-- report without report-id is named by everything it says: organization,
-- date range, contact, and each policy with its strings, MX patterns,
-- totals and failure details, so the same report delivered twice is still
-- caught and two different ones are not merged.
function M.identity(report)
  if type(report) ~= "table" then
    error("bad argument #1 to 'identity' (table expected, got " .. type(report) .. ")", 2)
  end
  local org = report.organization_name
  org = type(org) == "string" and org or ""
  local id = report.report_id
  if type(id) == "string" and id ~= "" then
    return "id" .. #org .. ":" .. org .. #id .. ":" .. id -- key_part's form, without a table
  end
  local dr = type(report.date_range) == "table" and report.date_range or {}
  local parts = { "noid" }
  key_part(parts, org)
  key_part(parts, dr.start_epoch or dr.start_datetime)
  key_part(parts, dr.end_epoch or dr.end_datetime)
  key_part(parts, report.contact_info)
  local function list(t)
    t = type(t) == "table" and t or {}
    key_part(parts, #t)
    for i = 1, #t do key_part(parts, t[i]) end
  end
  if type(report.policies) == "table" then
    for _, pr in ipairs(report.policies) do
      pr = type(pr) == "table" and pr or {}
      local p = type(pr.policy) == "table" and pr.policy or {}
      local s = type(pr.summary) == "table" and pr.summary or {}
      key_part(parts, p.policy_type)
      key_part(parts, type(p.policy_domain) == "string" and norm_host(p.policy_domain) or "")
      list(p.policy_string)
      list(p.mx_host)
      key_part(parts, s.total_successful_session_count or 0)
      key_part(parts, s.total_failure_session_count or 0)
      local fds = type(pr.failure_details) == "table" and pr.failure_details or {}
      key_part(parts, #fds)
      for _, fd in ipairs(fds) do
        fd = type(fd) == "table" and fd or {}
        for _, f in ipairs(DETAIL_FIELDS) do key_part(parts, fd[f]) end
        key_part(parts, fd.failed_session_count or 0)
      end
    end
  end
  return table.concat(parts)
end

local function check_limit_opt(opts, name, dflt)
  local v = opts[name]
  if v == nil then return dflt end
  if type(v) ~= "number" or v < 0 or v ~= floor(v) then
    error("option '" .. name .. "' must be a non-negative integer", 3)
  end
  return v
end

-- collection.new{max_rows=, max_reports=}: caps on what add accepts
-- (an add past a cap fails with code "limit" and adds nothing).
function M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'collection' (table expected, got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  local self = setmetatable({
    max_rows = check_limit_opt(opts, "max_rows", DEFAULT_MAX_ROWS),
    max_reports = check_limit_opt(opts, "max_reports", DEFAULT_MAX_REPORTS),
    seen = {},
    nrep = 0, npol = 0, ndet = 1, nrow = 0,
    -- reports
    r_org = {}, r_id = {}, r_contact = {}, r_start = {}, r_day = {}, r_month = {},
    -- policies
    p_rep = {}, p_type = {}, p_domain = {},
    -- failure details; id 1 is the empty detail of summary rows
    det_tree = {},
    host_cache = {}, -- receiving-mx-hostname -> normalized (names repeat a lot)
    -- rows
    row_pol = {}, row_det = {}, row_succ = {}, row_fail = {},
    day_cache = {},
  }, M)
  for _, f in ipairs(DETAIL_FIELDS) do self["d_" .. f] = { false } end
  return self
end

-- Type checks, kept out of the hot path's way: the message (with its JSON
-- path) is only built when something is wrong.
local function bad_str(t, key)
  local v = t[key]
  return v ~= nil and type(v) ~= "string"
end

-- A count is a whole number in 0 .. 2^53-1, as parse_report gives them:
-- sums of up to 1024 of them fit 64-bit integers (Lua 5.4), and doubles
-- keep them exact.
local MAX_COUNT = 9007199254740991
local function bad_count(t, key)
  local v = t[key]
  if v == nil then return false end
  return type(v) ~= "number" or v ~= v or v < 0 or v > MAX_COUNT or v ~= floor(v)
end

local function str_err(t, key, path)
  return path .. key .. ": string expected, got " .. type(t[key])
end

-- Checks every field add reads, so that a malformed report is refused
-- before anything is stored. Returns the number of rows it will make, or
-- nil and a message naming the field.
local function validate(report)
  for _, k in ipairs({ "organization_name", "report_id", "contact_info" }) do
    if bad_str(report, k) then return nil, str_err(report, k, "") end
  end
  local dr = report.date_range
  if dr ~= nil and type(dr) ~= "table" then return nil, "date_range: table expected" end
  local start = dr and dr.start_epoch
  -- Years 0001..9999, what RFC 3339 dates can say.
  if start ~= nil and (type(start) ~= "number" or not (start >= MIN_EPOCH and start <= MAX_EPOCH)) then
    return nil, "date_range.start_epoch: number of seconds in years 0001..9999 expected"
  end
  local pols = report.policies
  if pols == nil then return 0 end
  if type(pols) ~= "table" then return nil, "policies: table expected" end
  local nrows = 0
  for i, pr in ipairs(pols) do
    local function path() return "policies[" .. (i - 1) .. "]" end
    if type(pr) ~= "table" then return nil, path() .. ": table expected" end
    local p, s, fds = pr.policy, pr.summary, pr.failure_details
    if p ~= nil and type(p) ~= "table" then return nil, path() .. ".policy: table expected" end
    if s ~= nil and type(s) ~= "table" then return nil, path() .. ".summary: table expected" end
    if fds ~= nil and type(fds) ~= "table" then
      return nil, path() .. ".failure_details: table expected"
    end
    if p then
      for _, k in ipairs({ "policy_type", "policy_domain" }) do
        if bad_str(p, k) then return nil, str_err(p, k, path() .. ".policy.") end
      end
    end
    if s then
      for _, k in ipairs({ "total_successful_session_count", "total_failure_session_count" }) do
        if bad_count(s, k) then return nil, path() .. ".summary." .. k .. ": a whole number in 0..2^53-1 expected" end
      end
    end
    nrows = nrows + 1
    if fds then
      for j, fd in ipairs(fds) do
        local function fpath() return path() .. ".failure_details[" .. (j - 1) .. "]" end
        if type(fd) ~= "table" then return nil, fpath() .. ": table expected" end
        for _, f in ipairs(DETAIL_FIELDS) do
          if bad_str(fd, f) then return nil, str_err(fd, f, fpath() .. ".") end
        end
        if bad_count(fd, "failed_session_count") then
          return nil, fpath() .. ".failed_session_count: non-negative number expected"
        end
        nrows = nrows + 1
      end
    end
  end
  return nrows
end

local EMPTY = {}

local function child(node, v)
  local nxt = node[v]
  if not nxt then nxt = {}; node[v] = nxt end
  return nxt
end

-- Adds a report. Returns true, or false when a report with the same identity
-- (see identity) is already in; nil, message, code ("field" for a malformed
-- report table, "limit" past max_rows / max_reports) otherwise.
function M:add(report)
  if getmetatable(self) ~= M then error("add: called without a collection (use c:add)", 2) end
  if type(report) ~= "table" then
    error("bad argument #1 to 'add' (table expected, got " .. type(report) .. ")", 2)
  end
  local key = M.identity(report)
  if self.seen[key] then return false end
  local nrows, err = validate(report)
  if not nrows then return nil, err, "field" end
  if self.nrep + 1 > self.max_reports then
    return nil, "collection holds max_reports (" .. self.max_reports .. ") reports", "limit"
  end
  if self.nrow + nrows > self.max_rows then
    return nil, "collection would exceed max_rows (" .. self.max_rows .. ")", "limit"
  end
  self.seen[key] = true

  local r = self.nrep + 1
  self.nrep = r
  self.r_org[r] = report.organization_name or false
  self.r_id[r] = report.report_id or false
  self.r_contact[r] = report.contact_info or false
  local start = report.date_range and report.date_range.start_epoch
  self.r_start[r] = start or false
  if start then
    local dn = floor(start / 86400)
    local dc = self.day_cache[dn]
    if not dc then
      local y, m, d = civil(dn)
      dc = { string.format("%04d-%02d-%02d", y, m, d), string.format("%04d-%02d", y, m) }
      self.day_cache[dn] = dc
    end
    self.r_day[r], self.r_month[r] = dc[1], dc[2]
  else
    self.r_day[r], self.r_month[r] = false, false
  end

  local row_pol, row_det, row_succ, row_fail = self.row_pol, self.row_det, self.row_succ, self.row_fail
  local p_rep, p_type, p_domain = self.p_rep, self.p_type, self.p_domain
  local d_rt, d_smta, d_rmx, d_helo = self.d_result_type, self.d_sending_mta_ip,
    self.d_receiving_mx_hostname, self.d_receiving_mx_helo
  local d_rip, d_frc, d_info = self.d_receiving_ip, self.d_failure_reason_code,
    self.d_additional_information
  local det_tree = self.det_tree
  local hosts = self.host_cache
  local n, p = self.nrow, self.npol
  for _, pr in ipairs(report.policies or EMPTY) do
    local pol = pr.policy or EMPTY
    local sum = pr.summary or EMPTY
    p = p + 1
    p_rep[p] = r
    p_type[p] = pol.policy_type or false
    p_domain[p] = pol.policy_domain and norm_host(pol.policy_domain) or false
    n = n + 1
    local summary_row = n
    local fail = sum.total_failure_session_count or 0
    -- (failure is fixed up below, once the details are summed; written now
    -- so the array stays a sequence)
    row_pol[n], row_det[n], row_succ[n], row_fail[n] = p, 1, sum.total_successful_session_count or 0, 0
    local detail_sum = 0
    for _, fd in ipairs(pr.failure_details or EMPTY) do
      -- Intern the detail tuple through a tree keyed by each field in turn
      -- (false for a missing one): no key string to build per detail.
      local rt, smta, rip = fd.result_type or false, fd.sending_mta_ip or false, fd.receiving_ip or false
      local rmx = fd.receiving_mx_hostname
      if rmx then
        local h = hosts[rmx]
        if not h then h = norm_host(rmx); hosts[rmx] = h end
        rmx = h
      else
        rmx = false
      end
      local helo, frc, info = fd.receiving_mx_helo or false, fd.failure_reason_code or false,
        fd.additional_information or false
      local node = child(child(child(child(child(child(det_tree, rt), smta), rmx), helo), rip), frc)
      local did = node[info]
      if not did then
        did = self.ndet + 1
        self.ndet = did
        node[info] = did
        d_rt[did], d_smta[did], d_rmx[did], d_helo[did] = rt, smta, rmx, helo
        d_rip[did], d_frc[did], d_info[did] = rip, frc, info
      end
      local c = fd.failed_session_count or 0
      -- (capped past any total: only "sum >= total" matters, and 64-bit
      -- integers must not wrap under Lua 5.4)
      if c > MAX_COUNT - detail_sum then detail_sum = MAX_COUNT + 1 else detail_sum = detail_sum + c end
      n = n + 1
      row_pol[n], row_det[n], row_succ[n], row_fail[n] = p, did, 0, c
    end
    row_fail[summary_row] = fail > detail_sum and fail - detail_sum or 0
  end
  self.nrow, self.npol = n, p
  return true
end

-- Number of reports and of rows held.
function M:count()
  return self.nrep, self.nrow
end

-- The column (indexed by report, policy or detail id) of a field.
local function column(self, f)
  local lv = LEVEL[f]
  if lv == "r" then
    local c = ({ organization_name = self.r_org, report_id = self.r_id,
      contact_info = self.r_contact, day = self.r_day, month = self.r_month })[f]
    return lv, c
  elseif lv == "p" then
    return lv, (f == "policy_type" and self.p_type or self.p_domain)
  end
  return lv, self["d_" .. f]
end

-- A predicate on one field's value from a where-table entry.
local function matcher(f, want)
  local norm = HOSTNAME[f] and function(v) return type(v) == "string" and norm_host(v) or v end
    or function(v) return v end
  local tw = type(want)
  if tw == "function" then
    return function(v) return want(v or nil) and true or false end
  elseif tw == "table" then
    local set = {}
    for _, w in ipairs(want) do set[norm(w)] = true end
    return function(v) return set[v] == true end
  elseif tw == "string" or tw == "number" or tw == "boolean" then
    want = norm(want)
    return function(v) return v == want end
  end
  error("query: where." .. f .. " must be a value, a list or a function", 4)
end

local function check_field(f, what)
  if type(f) ~= "string" or not LEVEL[f] then
    error("query: unknown " .. what .. " field '" .. tostring(f) .. "'", 4)
  end
end

-- The row view handed to a where-function.
local function row_view(self, i)
  local p = self.row_pol[i]
  local d = self.row_det[i]
  local r = self.p_rep[p]
  local v = {
    organization_name = self.r_org[r] or nil, report_id = self.r_id[r] or nil,
    contact_info = self.r_contact[r] or nil, day = self.r_day[r] or nil,
    month = self.r_month[r] or nil, start_epoch = self.r_start[r] or nil,
    policy_type = self.p_type[p] or nil, policy_domain = self.p_domain[p] or nil,
    success = self.row_succ[i], failure = self.row_fail[i],
  }
  for _, f in ipairs(DETAIL_FIELDS) do v[f] = self["d_" .. f][d] or nil end
  return v
end

-- Compares two values for sorting: nil first, numbers before strings.
local function less(a, b)
  if a == b then return false end
  if a == nil then return true end
  if b == nil then return false end
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  return a < b
end

-- Appends the leaves (groups) under node in key order. Group values are
-- strings or false (missing), so the keys sort with the plain < of strings.
local function walk(node, level, ng, out)
  local keys, nk, has_false = {}, 0, false
  for k in pairs(node) do
    if k == false then has_false = true else nk = nk + 1; keys[nk] = k end
  end
  sort(keys)
  if has_false then
    if level == ng then out[#out + 1] = node[false] else walk(node[false], level + 1, ng, out) end
  end
  for i = 1, nk do
    if level == ng then out[#out + 1] = node[keys[i]] else walk(node[keys[i]], level + 1, ng, out) end
  end
end

-- Rolls rows up. q (all optional):
--   where    = { field = value | {v1, v2, ...} | function(value) } or function(row)
--   group_by = { field, ... } (LEVEL's keys); none: one row of totals
--   from, to = epoch seconds: reports whose start is in [from, to)
--   order_by = field | { field, ... }, "-field" for descending; default: the
--              group keys ascending. success, failure and reports sort too.
--   limit    = keep the first n rows after ordering
-- Returns a list of { <group fields>..., success=, failure=, reports= }
-- (a missing value leaves its field nil); rows.columns lists the columns.
function M:query(q)
  if getmetatable(self) ~= M then error("query: called without a collection (use c:query)", 2) end
  if q ~= nil and type(q) ~= "table" then
    error("bad argument #1 to 'query' (table expected, got " .. type(q) .. ")", 2)
  end
  q = q or {}
  local group_by = q.group_by or {}
  if type(group_by) == "string" then group_by = { group_by } end
  if type(group_by) ~= "table" then error("query: group_by must be a list of fields", 2) end
  for _, f in ipairs(group_by) do check_field(f, "group_by") end
  for _, k in ipairs({ "from", "to", "limit" }) do
    if q[k] ~= nil and type(q[k]) ~= "number" then error("query: " .. k .. " must be a number", 2) end
  end
  if q.limit ~= nil and (q.limit ~= q.limit or q.limit < 0 or q.limit ~= floor(q.limit)) then
    error("query: limit must be a non-negative integer", 2)
  end

  -- Filters, evaluated once per report / policy / detail.
  local where = q.where
  local rowfn
  local preds = { r = {}, p = {}, d = {} }
  if type(where) == "function" then
    rowfn = where
  elseif type(where) == "table" then
    for f, want in pairs(where) do
      check_field(f, "where")
      local lv, col = column(self, f)
      preds[lv][#preds[lv] + 1] = { col, matcher(f, want) }
    end
  elseif where ~= nil then
    error("query: where must be a table or a function", 2)
  end
  local from, to = q.from, q.to

  -- order_by is checked before the scan so a typo costs nothing.
  local order_keys
  local order = q.order_by
  if order ~= nil then
    if type(order) == "string" then order = { order } end
    if type(order) ~= "table" then error("query: order_by must be a field or a list", 2) end
    order_keys = {}
    for i, o in ipairs(order) do
      if type(o) ~= "string" then error("query: order_by entries must be strings", 2) end
      local desc = o:sub(1, 1) == "-"
      local f = desc and o:sub(2) or o
      if not (LEVEL[f] or f == "success" or f == "failure" or f == "reports") then
        error("query: unknown order_by field '" .. f .. "'", 2)
      end
      order_keys[i] = { f, desc }
    end
    -- Ties fall back to the group keys so the order is total and deterministic.
    for _, f in ipairs(group_by) do order_keys[#order_keys + 1] = { f, false } end
  end

  local okpol
  if #preds.r > 0 or #preds.p > 0 or from or to then
    local okrep = {}
    for r = 1, self.nrep do
      local ok = true
      local s = self.r_start[r]
      if from and not (s and s >= from) then ok = false end
      if ok and to and not (s and s < to) then ok = false end
      if ok then
        for _, pr in ipairs(preds.r) do
          if not pr[2](pr[1][r]) then ok = false; break end
        end
      end
      okrep[r] = ok
    end
    okpol = {}
    local p_rep = self.p_rep
    for p = 1, self.npol do
      local ok = okrep[p_rep[p]]
      if ok then
        for _, pr in ipairs(preds.p) do
          if not pr[2](pr[1][p]) then ok = false; break end
        end
      end
      okpol[p] = ok
    end
  end
  local okdet
  if #preds.d > 0 then
    okdet = {}
    for d = 1, self.ndet do
      local ok = true
      for _, pr in ipairs(preds.d) do
        if not pr[2](pr[1][d]) then ok = false; break end
      end
      okdet[d] = ok
    end
  end

  -- Per group key: which id (report, policy or detail) indexes its column.
  local ng = #group_by
  local gcol, glv = {}, {}
  for k, f in ipairs(group_by) do glv[k], gcol[k] = column(self, f) end

  local row_pol, row_det, row_succ, row_fail = self.row_pol, self.row_det, self.row_succ, self.row_fail
  local p_rep = self.p_rep
  local root, groups, ngroups = {}, {}, 0
  if ng == 0 then
    -- No grouping: the root is the one group, so totals come back as one
    -- row (of zeros when nothing matched), as SQL does.
    root = { 0, 0, 0, 0 }
    groups[1], ngroups = root, 1
  end
  local keyv = {}
  for i = 1, self.nrow do
    local p = row_pol[i]
    local d = row_det[i]
    if (not okpol or okpol[p]) and (not okdet or okdet[d])
        and (not rowfn or rowfn(row_view(self, i))) then
      local r = p_rep[p]
      -- Walk (and grow) a tree keyed by each group value in turn; false
      -- (missing) is a valid table key, so no string keys are built per row.
      local node = root
      for k = 1, ng do
        local lv = glv[k]
        local v = gcol[k][lv == "r" and r or lv == "p" and p or d]
        keyv[k] = v
        local nxt = node[v]
        if not nxt then
          if k == ng then
            ngroups = ngroups + 1
            nxt = { 0, 0, 0, 0 } -- success, failure, reports, last report seen
            for kk = 1, ng do nxt[4 + kk] = keyv[kk] end
            groups[ngroups] = nxt
          else
            nxt = {}
          end
          node[v] = nxt
        end
        node = nxt
      end
      -- Terms are at most 2^53-1: a Lua 5.4 integer sum that wraps turns
      -- negative first; it goes on as a float (inexact, never wrong in sign).
      local s, f = node[1] + row_succ[i], node[2] + row_fail[i]
      if s < 0 then s = node[1] + 0.0 + row_succ[i] end
      if f < 0 then f = node[2] + 0.0 + row_fail[i] end
      node[1], node[2] = s, f
      -- A report's rows are consecutive, so "a new report for this group"
      -- is "not the report this group saw last".
      if node[4] ~= r then node[4] = r; node[3] = node[3] + 1 end
    end
  end

  -- Default order (the group keys ascending, missing first) comes from
  -- walking the tree with each level's keys sorted: cheaper than sorting
  -- the rows with a Lua comparator.
  if not order_keys and ng > 0 then
    groups = {}
    walk(root, 1, ng, groups)
  end
  local rows = {}
  for gi = 1, #groups do
    local g = groups[gi]
    local row = { success = g[1], failure = g[2], reports = g[3] }
    for k, f in ipairs(group_by) do
      local v = g[4 + k]
      if v ~= false then row[f] = v end
    end
    rows[gi] = row
  end

  if order_keys then
    sort(rows, function(x, y)
      for _, k in ipairs(order_keys) do
        local vx, vy = x[k[1]], y[k[1]]
        if vx ~= vy then
          if k[2] then return less(vy, vx) end
          return less(vx, vy)
        end
      end
      return false
    end)
  end
  if q.limit then
    for i = #rows, q.limit + 1, -1 do rows[i] = nil end
  end

  local columns = {}
  for _, f in ipairs(group_by) do columns[#columns + 1] = f end
  columns[#columns + 1] = "success"
  columns[#columns + 1] = "failure"
  columns[#columns + 1] = "reports"
  return setmetatable(rows, { __index = { columns = columns } })
end

-- Columns of a row list: rows.columns from query, else the known fields
-- present (in canonical order), then the counts, then other keys sorted.
local function columns_of(rows, columns)
  if columns ~= nil then
    if type(columns) ~= "table" then error("columns must be a list of names", 3) end
    return columns
  end
  if type(rows.columns) == "table" then return rows.columns end
  local present = {}
  for _, row in ipairs(rows) do
    for k in pairs(row) do present[k] = true end
  end
  local cols = {}
  for _, f in ipairs(FIELD_ORDER) do
    if present[f] then cols[#cols + 1] = f; present[f] = nil end
  end
  for _, f in ipairs({ "success", "failure", "reports" }) do
    if present[f] then cols[#cols + 1] = f; present[f] = nil end
  end
  local rest = {}
  for k in pairs(present) do rest[#rest + 1] = tostring(k) end
  sort(rest)
  for _, k in ipairs(rest) do cols[#cols + 1] = k end
  return cols
end

local function check_rows(rows, fname)
  if type(rows) ~= "table" then
    error("bad argument #1 to '" .. fname .. "' (table expected, got " .. type(rows) .. ")", 3)
  end
end

-- JSON Lines: one object per row, keys in column order, a missing value as null.
function M.to_jsonl(self_or_rows, rows, columns)
  if getmetatable(self_or_rows) ~= M then rows, columns = self_or_rows, rows end
  check_rows(rows, "to_jsonl")
  local cols = columns_of(rows, columns)
  local out = {}
  for i, row in ipairs(rows) do
    local parts = {}
    for j, c in ipairs(cols) do
      local v = row[c]
      if v == nil then v = json.null end
      parts[j] = json.quote(c) .. ":" .. json.encode(v)
    end
    out[i] = "{" .. table.concat(parts, ",") .. "}\n"
  end
  return table.concat(out)
end

-- CSV (RFC 4180): a header line, CRLF line ends, fields holding a comma,
-- quote, CR or LF quoted with inner quotes doubled; a missing value is empty.
-- RFC 4180 field. Text from reports that a spreadsheet would run as a
-- formula (=, +, -, @, TAB or CR first) gets a leading "'" (the OWASP
-- advice against CSV injection): any sender chooses organization names.
local function csv_field(v)
  if v == nil then return "" end
  if type(v) == "number" then return json.number(v) end
  v = tostring(v)
  if v:find("^[=+%-@\t\r]") then v = "'" .. v end
  if v:find('[,"\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

function M.to_csv(self_or_rows, rows, columns)
  if getmetatable(self_or_rows) ~= M then rows, columns = self_or_rows, rows end
  check_rows(rows, "to_csv")
  local cols = columns_of(rows, columns)
  local out = {}
  local hdr = {}
  for j, c in ipairs(cols) do hdr[j] = csv_field(c) end
  out[1] = table.concat(hdr, ",") .. "\r\n"
  for i, row in ipairs(rows) do
    local parts = {}
    for j, c in ipairs(cols) do parts[j] = csv_field(row[c]) end
    out[i + 1] = table.concat(parts, ",") .. "\r\n"
  end
  return table.concat(out)
end

-- tlsrpt.collection(opts) is collection.new(opts).
return setmetatable(M, {
  __call = function(_, opts) return M.new(opts) end,
})
