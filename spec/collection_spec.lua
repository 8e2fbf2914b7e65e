-- tlsrpt.collection: dedup, rows, every group_by, where forms, time range,
-- ordering, limits, and the CSV / JSON Lines exports. Reports are hand-made
-- tables in parse_report's shape, so this suite needs no parser.
local collection = require "tlsrpt.collection"
local json = require "tlsrpt.json"

local DAY = 86400
local T0 = 1704067200 -- 2024-01-01T00:00:00Z (date -u -d @1704067200)

-- A report in parse_report's shape. pols: list of
-- { type, domain, success, failure, details = { {result_type=..., ...,
--   failed_session_count=...} } }
local function report(org, id, start, pols)
  local r = {
    organization_name = org, report_id = id, contact_info = "tlsrpt@" .. (org or "x"),
    date_range = { start_epoch = start, end_epoch = start + DAY - 1 },
    policies = {},
  }
  for i, p in ipairs(pols) do
    r.policies[i] = {
      policy = { policy_type = p[1], policy_domain = p[2] },
      summary = { total_successful_session_count = p[3], total_failure_session_count = p[4] },
      failure_details = p.details or {},
    }
  end
  return r
end

local function fd(rt, n, extra)
  local t = { result_type = rt, failed_session_count = n }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

-- Three reports over two days, two senders, two policy domains.
local function sample()
  local c = collection()
  assert.is_true(c:add(report("Google", "g1", T0, {
    { "sts", "example.com", 100, 3, details = {
      fd("certificate-expired", 2, { sending_mta_ip = "192.0.2.1", receiving_mx_hostname = "mx1.example.com",
        receiving_ip = "198.51.100.1", failure_reason_code = "X509_EXPIRED" }),
      fd("starttls-not-supported", 1, { sending_mta_ip = "192.0.2.2", receiving_mx_hostname = "MX2.Example.COM." }),
    } },
    { "no-policy-found", "example.org", 10, 0 },
  })))
  assert.is_true(c:add(report("Google", "g2", T0 + DAY + 3600, {
    { "sts", "Example.com", 50, 1, details = {
      fd("certificate-expired", 1, { sending_mta_ip = "192.0.2.1", receiving_mx_hostname = "mx1.example.com",
        receiving_ip = "198.51.100.1", failure_reason_code = "X509_EXPIRED" }),
    } },
  })))
  assert.is_true(c:add(report("Microsoft", "m1", T0 + 40 * DAY, {
    { "tlsa", "example.com", 7, 4, details = {
      fd("dane-required", 4, { receiving_mx_helo = "mx1", additional_information = "see https://x" }),
    } },
  })))
  return c
end

local function by(rows, field)
  local t = {}
  for _, r in ipairs(rows) do t[r[field] == nil and "<nil>" or r[field]] = r end
  return t
end

describe("tlsrpt.collection", function()
  it("is reachable lazily as tlsrpt.collection and callable", function()
    local tlsrpt = require "tlsrpt"
    assert.are.equal(collection, tlsrpt.collection)
    local c = tlsrpt.collection()
    assert.are.same({ 0, 0 }, { c:count() })
  end)

  describe("add and dedup", function()
    it("counts one summary row per policy and one row per failure-detail", function()
      local c = sample()
      local nrep, nrow = c:count()
      assert.are.equal(3, nrep)
      -- g1: 2 policies + 2 details, g2: 1 + 1, m1: 1 + 1
      assert.are.equal(8, nrow)
    end)

    it("rejects a second report with the same organization and report-id", function()
      local c = sample()
      assert.is_false(c:add(report("Google", "g1", T0 + 99 * DAY, { { "sts", "other.example", 1, 0 } })))
      assert.are.same({ 3, 8 }, { c:count() })
      -- same report-id from another sender is another report (RFC 8460 §4:
      -- report-id is unique per sender only)
      assert.is_true(c:add(report("Yahoo", "g1", T0, { { "sts", "example.com", 1, 0 } })))
    end)

    it("identifies a report without report-id by its content", function()
      local c = collection()
      local a = report("Org", nil, T0, { { "sts", "example.com", 5, 0 } })
      assert.is_true(c:add(a))
      assert.is_false(c:add(report("Org", nil, T0, { { "sts", "EXAMPLE.com.", 5, 0 } })))
      assert.is_true(c:add(report("Org", nil, T0, { { "sts", "example.com", 6, 0 } })))
      assert.is_true(c:add(report("Org", nil, T0 + DAY, { { "sts", "example.com", 5, 0 } })))
      assert.is_true(c:add(report("Org", "", T0 + 2 * DAY, { { "sts", "example.com", 5, 0 } })))
      assert.are.equal(4, (c:count()))
      assert.are_not.equal(collection.identity(a), collection.identity(report("Org", "id", T0, {})))
    end)

    it("returns nil, message, 'field' for a malformed report and adds nothing", function()
      local c = collection()
      local bad = {
        { { organization_name = 5 }, "organization_name" },
        { { report_id = {} }, "report_id" },
        { { date_range = "x" }, "date_range" },
        { { date_range = { start_epoch = "1" } }, "start_epoch" },
        { { date_range = { start_epoch = 0 / 0 } }, "start_epoch" },
        { { date_range = { start_epoch = 1e300 } }, "start_epoch" },
        { { date_range = { start_epoch = 253402300800 } }, "start_epoch" },
        { { date_range = { start_epoch = -62135596801 } }, "start_epoch" },
        { { policies = "x" }, "policies" },
        { { policies = { 5 } }, "policies%[0%]" },
        { { policies = { { policy = 1 } } }, "policies%[0%]%.policy" },
        { { policies = { { summary = { total_successful_session_count = -1 } } } }, "total_successful" },
        { { policies = { { summary = { total_failure_session_count = math.huge } } } }, "total_failure" },
        { { policies = { { failure_details = { { result_type = 7 } } } } }, "failure_details%[0%]%.result_type" },
        { { policies = { { failure_details = { { failed_session_count = "3" } } } } }, "failed_session_count" },
        { { policies = { { failure_details = { "x" } } } }, "failure_details%[0%]" },
      }
      for _, b in ipairs(bad) do
        local ok, msg, code = c:add(b[1])
        assert.is_nil(ok)
        assert.are.equal("field", code)
        assert.matches(b[2], msg)
      end
      assert.are.same({ 0, 0 }, { c:count() })
    end)

    it("raises on misuse", function()
      local c = collection()
      assert.has_error(function() c:add("report") end)
      assert.has_error(function() c:add() end)
      assert.has_error(function() c.add({}, {}) end)
      assert.has_error(function() collection("x") end)
      assert.has_error(function() collection { max_rows = -1 } end)
      assert.has_error(function() collection { max_reports = 1.5 } end)
      assert.has_error(function() collection.identity(1) end)
    end)

    it("caps rows with max_rows (code 'limit'), atomically", function()
      local c = collection { max_rows = 3 }
      assert.is_true(c:add(report("A", "1", T0, { { "sts", "a.example", 1, 0 }, { "sts", "b.example", 1, 0 } })))
      local ok, msg, code = c:add(report("A", "2", T0, { { "sts", "a.example", 1, 0 }, { "sts", "b.example", 1, 0 } }))
      assert.is_nil(ok)
      assert.are.equal("limit", code)
      assert.matches("max_rows", msg)
      assert.are.same({ 1, 2 }, { c:count() })
      assert.is_true(c:add(report("A", "3", T0, { { "sts", "a.example", 1, 0 } })))
      assert.are.same({ 2, 3 }, { c:count() })
      -- the rejected report was not remembered as seen
      local c2 = collection { max_rows = 100 }
      assert.is_true(c2:add(report("A", "2", T0, {})))
    end)

    it("caps reports with max_reports (code 'limit')", function()
      local c = collection { max_reports = 2 }
      assert.is_true(c:add(report("A", "1", T0, {})))
      assert.is_true(c:add(report("A", "2", T0, {})))
      local ok, msg, code = c:add(report("A", "3", T0, {}))
      assert.is_nil(ok)
      assert.are.equal("limit", code)
      assert.matches("max_reports", msg)
      assert.is_false(c:add(report("A", "1", T0, {}))) -- duplicates are still recognised
    end)
  end)

  describe("query", function()
    it("totals everything into one row without group_by", function()
      local rows = sample():query()
      assert.are.equal(1, #rows)
      assert.are.same({ success = 167, failure = 8, reports = 3 }, rows[1])
      assert.are.same({ "success", "failure", "reports" }, rows.columns)
      -- nothing matched: still one row of zeros
      local none = sample():query { where = { organization_name = "nobody" } }
      assert.are.same({ { success = 0, failure = 0, reports = 0 } }, { none[1] })
      assert.are.same({ success = 0, failure = 0, reports = 0 }, collection():query()[1])
    end)

    it("keeps failures the details do not account for, and lets larger details win", function()
      local c = collection()
      c:add(report("A", "1", T0, { { "sts", "a.example", 10, 5, details = { fd("validation-failure", 3) } } }))
      c:add(report("A", "2", T0, { { "sts", "b.example", 0, 2, details = { fd("validation-failure", 4) } } }))
      local t = by(c:query { group_by = { "policy_domain" } }, "policy_domain")
      assert.are.equal(5, t["a.example"].failure)
      assert.are.equal(4, t["b.example"].failure)
      local rt = by(c:query { group_by = { "result_type" } }, "result_type")
      assert.are.equal(7, rt["validation-failure"].failure)
      assert.are.equal(2, rt["<nil>"].failure) -- unattributed part of report 1
      assert.are.equal(10, rt["<nil>"].success)
    end)

    it("groups by day and month (UTC date of the report's start)", function()
      local c = sample()
      local rows = c:query { group_by = { "day" } }
      assert.are.same({ "2024-01-01", "2024-01-02", "2024-02-10" },
        { rows[1].day, rows[2].day, rows[3].day })
      assert.are.same({ 110, 3, 1 }, { rows[1].success, rows[1].failure, rows[1].reports })
      assert.are.same({ 50, 1, 1 }, { rows[2].success, rows[2].failure, rows[2].reports })
      local m = c:query { group_by = "month" }
      assert.are.same({ "2024-01", "2024-02" }, { m[1].month, m[2].month })
      assert.are.same({ 160, 4, 2 }, { m[1].success, m[1].failure, m[1].reports })
    end)

    it("computes UTC dates like os.date('!') across eras, leap days and negative epochs", function()
      local c = collection()
      local epochs = { 0, -1, 951782400, 951868799, 4107542400, -2208988800, 1709164800, 253402300799 }
      for i = 1, 60 do epochs[#epochs + 1] = (i * 7919 * 86400 + i * 3571) - 400 * 86400 end
      for i, e in ipairs(epochs) do
        c:add({ organization_name = "o", report_id = tostring(i), date_range = { start_epoch = e },
          policies = { { policy = { policy_type = "sts", policy_domain = tostring(i) } } } })
      end
      local rows = c:query { group_by = { "policy_domain", "day", "month" } }
      assert.are.equal(#epochs, #rows)
      for _, r in ipairs(rows) do
        local e = epochs[tonumber(r.policy_domain)]
        assert.are.equal(os.date("!%Y-%m-%d", e), r.day)
        assert.are.equal(os.date("!%Y-%m", e), r.month)
        assert.are.equal(os.date("!%Y-%m-%dT%H:%M:%SZ", e), collection.rfc3339(e))
      end
      -- the first second of year 1 (strftime does not pad %Y to 4 digits there)
      assert.are.equal("0001-01-01T00:00:00Z", collection.rfc3339(-62135596800))
    end)

    it("groups by organization_name, counting distinct reports", function()
      local t = by(sample():query { group_by = { "organization_name" } }, "organization_name")
      assert.are.same({ success = 160, failure = 4, reports = 2, organization_name = "Google" }, t.Google)
      assert.are.same({ success = 7, failure = 4, reports = 1, organization_name = "Microsoft" }, t.Microsoft)
    end)

    it("groups by policy_domain, folding case and the trailing dot", function()
      local t = by(sample():query { group_by = { "policy_domain" } }, "policy_domain")
      assert.are.same({ success = 157, failure = 8, reports = 3, policy_domain = "example.com" }, t["example.com"])
      assert.are.same({ success = 10, failure = 0, reports = 1, policy_domain = "example.org" }, t["example.org"])
    end)

    it("groups by policy_type", function()
      local t = by(sample():query { group_by = { "policy_type" } }, "policy_type")
      assert.are.equal(150, t.sts.success)
      assert.are.equal(4, t.sts.failure)
      assert.are.equal(2, t.sts.reports)
      assert.are.equal(10, t["no-policy-found"].success)
      assert.are.equal(4, t.tlsa.failure)
    end)

    it("groups by result_type, summary rows having none", function()
      local t = by(sample():query { group_by = { "result_type" } }, "result_type")
      assert.are.same({ result_type = "certificate-expired", success = 0, failure = 3, reports = 2 },
        t["certificate-expired"])
      assert.are.equal(1, t["starttls-not-supported"].failure)
      assert.are.equal(4, t["dane-required"].failure)
      assert.are.same({ success = 167, failure = 0, reports = 3 }, t["<nil>"])
    end)

    it("groups by every failure-detail field", function()
      local c = sample()
      local t = by(c:query { group_by = { "receiving_mx_hostname" } }, "receiving_mx_hostname")
      assert.are.equal(3, t["mx1.example.com"].failure)
      assert.are.equal(1, t["mx2.example.com"].failure) -- folded from "MX2.Example.COM."
      t = by(c:query { group_by = { "sending_mta_ip" } }, "sending_mta_ip")
      assert.are.equal(3, t["192.0.2.1"].failure)
      assert.are.equal(1, t["192.0.2.2"].failure)
      t = by(c:query { group_by = { "receiving_ip" } }, "receiving_ip")
      assert.are.equal(3, t["198.51.100.1"].failure)
      t = by(c:query { group_by = { "failure_reason_code" } }, "failure_reason_code")
      assert.are.equal(3, t.X509_EXPIRED.failure)
      t = by(c:query { group_by = { "receiving_mx_helo" } }, "receiving_mx_helo")
      assert.are.equal(4, t.mx1.failure)
      t = by(c:query { group_by = { "additional_information" } }, "additional_information")
      assert.are.equal(4, t["see https://x"].failure)
      t = by(c:query { group_by = { "report_id" } }, "report_id")
      assert.are.same({ 110, 3 }, { t.g1.success, t.g1.failure })
      t = by(c:query { group_by = { "contact_info" } }, "contact_info")
      assert.are.equal(2, t["tlsrpt@Google"].reports)
    end)

    it("groups by several fields at once", function()
      local rows = sample():query { group_by = { "day", "policy_domain", "result_type" } }
      -- default order: group keys ascending, missing values first
      local got = {}
      for i, r in ipairs(rows) do
        got[i] = table.concat({ r.day, r.policy_domain, r.result_type or "-", r.success, r.failure, r.reports }, " ")
      end
      assert.are.same({
        "2024-01-01 example.com - 100 0 1",
        "2024-01-01 example.com certificate-expired 0 2 1",
        "2024-01-01 example.com starttls-not-supported 0 1 1",
        "2024-01-01 example.org - 10 0 1",
        "2024-01-02 example.com - 50 0 1",
        "2024-01-02 example.com certificate-expired 0 1 1",
        "2024-02-10 example.com - 7 0 1",
        "2024-02-10 example.com dane-required 0 4 1",
      }, got)
      assert.are.same({ "day", "policy_domain", "result_type", "success", "failure", "reports" }, rows.columns)
    end)

    it("filters with where = { field = value }", function()
      local c = sample()
      local r = c:query { where = { organization_name = "Google" } }[1]
      assert.are.same({ success = 160, failure = 4, reports = 2 }, r)
      r = c:query { where = { policy_domain = "EXAMPLE.ORG." } }[1]
      assert.are.same({ success = 10, failure = 0, reports = 1 }, r)
      r = c:query { where = { result_type = "certificate-expired", day = "2024-01-01" } }[1]
      assert.are.same({ success = 0, failure = 2, reports = 1 }, r)
      r = c:query { where = { receiving_mx_hostname = "mx2.example.com" } }[1]
      assert.are.equal(1, r.failure)
    end)

    it("filters with where = { field = list }", function()
      local r = sample():query { where = { result_type = { "dane-required", "starttls-not-supported" } } }[1]
      assert.are.same({ success = 0, failure = 5, reports = 2 }, r)
      r = sample():query { where = { policy_type = {} } }[1]
      assert.are.same({ success = 0, failure = 0, reports = 0 }, r)
    end)

    it("filters with where = { field = function(value) }", function()
      local r = sample():query { where = { day = function(d) return d and d < "2024-02-01" end } }[1]
      assert.are.same({ success = 160, failure = 4, reports = 2 }, r)
      -- a missing value is passed as nil
      local seen_nil = false
      sample():query { where = { result_type = function(v) if v == nil then seen_nil = true end return true end } }
      assert.is_true(seen_nil)
    end)

    it("filters with where = function(row)", function()
      local c = sample()
      local r = c:query { where = function(row) return row.failure >= 2 end,
        group_by = { "result_type" } }
      assert.are.equal(2, #r)
      assert.are.same({ "certificate-expired", "dane-required" }, { r[1].result_type, r[2].result_type })
      local fields = {}
      c:query { where = function(row) for k in pairs(row) do fields[k] = true end return false end }
      for _, f in ipairs({ "organization_name", "report_id", "day", "month", "start_epoch", "policy_type",
        "policy_domain", "result_type", "sending_mta_ip", "receiving_ip", "success", "failure" }) do
        assert.is_true(fields[f], f)
      end
    end)

    it("restricts to reports starting in [from, to)", function()
      local c = sample()
      assert.are.equal(1, c:query { from = T0 + DAY }[1].reports - 1)
      assert.are.same({ success = 50, failure = 1, reports = 1 }, c:query { from = T0 + DAY, to = T0 + 2 * DAY }[1])
      assert.are.same({ success = 110, failure = 3, reports = 1 }, c:query { to = T0 + DAY + 3600 }[1])
      assert.are.equal(0, c:query { from = T0 + 41 * DAY }[1].reports)
      -- reports without a start never match a time range
      local c2 = collection()
      c2:add({ organization_name = "x", report_id = "1", policies = { { summary = { total_successful_session_count = 1 } } } })
      assert.are.equal(0, c2:query { from = 0 }[1].reports)
      assert.are.equal(1, c2:query()[1].success)
    end)

    it("orders by order_by, descending with '-', and cuts with limit", function()
      local c = sample()
      local rows = c:query { group_by = { "result_type" }, order_by = "-failure" }
      assert.are.same({ 4, 3, 1, 0 }, { rows[1].failure, rows[2].failure, rows[3].failure, rows[4].failure })
      rows = c:query { group_by = { "result_type" }, order_by = { "reports", "-result_type" }, limit = 2 }
      assert.are.equal(2, #rows)
      assert.are.same({ "starttls-not-supported", "dane-required" }, { rows[1].result_type, rows[2].result_type })
      assert.are.equal(0, #c:query { group_by = { "day" }, limit = 0 })
    end)

    it("raises on a malformed query", function()
      local c = sample()
      assert.has_error(function() c:query("x") end)
      assert.has_error(function() c:query { group_by = { "nope" } } end)
      assert.has_error(function() c:query { group_by = 5 } end)
      assert.has_error(function() c:query { where = { success = 1 } } end)
      assert.has_error(function() c:query { where = { day = {} , nope = 1 } } end)
      assert.has_error(function() c:query { where = 5 } end)
      assert.has_error(function() c:query { where = { day = coroutine.create(print) } } end)
      assert.has_error(function() c:query { from = "2024" } end)
      assert.has_error(function() c:query { order_by = { "nope" } } end)
      assert.has_error(function() c:query { order_by = 7 } end)
      assert.has_error(function() c.query({}, {}) end)
    end)
  end)

  describe("exports", function()
    it("writes CSV per RFC 4180", function()
      local c = collection()
      c:add(report('Org, "Quoted"', "1", T0, { { "sts", "example.com", 3, 1, details = {
        fd("validation-failure", 1, { additional_information = "line1\nline2" }),
        fd("sts-policy-invalid", 0, { additional_information = "cr\rhere" }) } } }))
      local rows = c:query { group_by = { "organization_name", "additional_information" } }
      assert.are.equal(
        'organization_name,additional_information,success,failure,reports\r\n' ..
        '"Org, ""Quoted""",,3,0,1\r\n' ..
        '"Org, ""Quoted""","cr\rhere",0,0,1\r\n' ..
        '"Org, ""Quoted""","line1\nline2",0,1,1\r\n', c:to_csv(rows))
      -- explicit columns, plain rows, function form
      assert.are.equal("a,b\r\n1,\r\n", collection.to_csv({ { a = 1 } }, { "a", "b" }))
      assert.are.equal("policy_domain,success,x\r\nd,1.5,y\r\n",
        collection.to_csv({ { x = "y", success = 1.5, policy_domain = "d" } }))
      assert.are.equal("success\r\n", collection.to_csv({}, { "success" }))
    end)

    it("writes JSON Lines with columns in order and null for missing values", function()
      local c = sample()
      local rows = c:query { group_by = { "organization_name", "result_type" }, where = { organization_name = "Microsoft" } }
      assert.are.equal(
        '{"organization_name":"Microsoft","result_type":null,"success":7,"failure":0,"reports":1}\n' ..
        '{"organization_name":"Microsoft","result_type":"dane-required","success":0,"failure":4,"reports":1}\n',
        c:to_jsonl(rows))
      assert.are.equal("", c:to_jsonl({}))
      assert.are.equal('{"a":"\\"\\u0001\\n"}\n', collection.to_jsonl({ { a = '"\1\n' } }))
    end)

    it("raises when the rows are not a table", function()
      assert.has_error(function() collection.to_csv("x") end)
      assert.has_error(function() collection():to_jsonl(5) end)
      assert.has_error(function() collection.to_csv({}, "cols") end)
    end)

    it("puts a ' before text a spreadsheet would run as a formula", function()
      local csv = collection.to_csv({ { a = "=HYPERLINK(\"x\")", b = "+1", c = "-2", d = "@SUM(A1)", e = "ok-", f = -3 } },
        { "a", "b", "c", "d", "e", "f" })
      assert.are.equal('a,b,c,d,e,f\r\n"\'=HYPERLINK(""x"")",\'+1,\'-2,\'@SUM(A1),ok-,-3\r\n', csv)
    end)
  end)

  describe("identity and counts (review)", function()
    it("no choice of field values makes two reports one", function()
      local c = collection()
      assert.is_true(c:add(report("Evil\0Corp", "x", T0, { { "sts", "example.com", 1, 0 } })))
      assert.is_true(c:add(report("Evil", "Corp\0x", T0, { { "sts", "example.com", 1, 0 } })))
    end)

    it("without a report id, all 17 digits of a total and every failure detail count", function()
      local c = collection()
      assert.is_true(c:add(report("Org", nil, T0, { { "sts", "example.com", 100000000000001, 0 } })))
      assert.is_true(c:add(report("Org", nil, T0, { { "sts", "example.com", 100000000000002, 0 } })))
      local a = report("Org", nil, T0, { { "sts", "example.com", 5, 1, details = { fd("certificate-expired", 1) } } })
      local b = report("Org", nil, T0, { { "sts", "example.com", 5, 1, details = { fd("starttls-not-supported", 1) } } })
      assert.is_true(c:add(a))
      assert.is_true(c:add(b))
      assert.is_false(c:add(report("Org", nil, T0, { { "sts", "example.com", 5.0, 1,
        details = { fd("certificate-expired", 1.0) } } })), "5.0 is 5")
    end)

    it("counts are whole numbers up to 2^53-1, and their sums do not wrap", function()
      local c = collection()
      local ok, msg, code = c:add(report("Org", "big", T0, { { "sts", "example.com", 2 ^ 53, 0 } }))
      assert.is_nil(ok); assert.are.equal("field", code); assert.truthy(msg:find("2^53-1", 1, true))
      ok, _, code = c:add(report("Org", "frac", T0, { { "sts", "example.com", 1.5, 0 } }))
      assert.is_nil(ok); assert.are.equal("field", code)
      local pols = {}
      for i = 1, 1100 do pols[i] = { "sts", "d" .. i .. ".example", 9007199254740991, 0 } end
      assert.is_true(c:add(report("Org", "many", T0, pols)))
      local rows = c:query {}
      assert.is_true(rows[1].success > 9.9e18, tostring(rows[1].success))
      -- the summary prints such a float sum as digits (Lua 5.4's %d refuses it)
      local summary = require "tlsrpt.summary"
      local s = summary.build(c, { files = 1, duplicates = 0, invalid = 0 }, 5)
      assert.matches("Sessions: 99079191802150%d+ successful, 0 failed", summary.text(s))
      assert.matches("Reports: <b>1</b>", require("tlsrpt.summary_html").render(s), 1, true)
    end)

    it("the summary counts reports without policies, and never rounds a rate to 0% or 100%", function()
      local summary = require "tlsrpt.summary"
      local c = collection()
      assert.is_true(c:add(report("Org", "a", T0, { { "sts", "example.com", 5, 0 } })))
      assert.is_true(c:add(report("Org", "b", T0, {})))
      assert.are.equal(2, summary.build(c, { files = 2, duplicates = 0, invalid = 0 }, 5).reports)
      assert.are.equal("<0.1%", summary.pct(1, 10000))
      assert.are.equal(">99.9%", summary.pct(9999, 10000))
      assert.are.equal("100.0%", summary.pct(3, 3))
      assert.are.equal("0.0%", summary.pct(0, 3))
      -- C1 controls (U+0080-U+009F) are controls too; the HTML holds none of either
      assert.are.equal("Evil?31m ??", summary.printable("Evil\194\15531m \1\127"))
      local c2 = collection()
      assert.is_true(c2:add(report("Org\2", "a", T0, { { "sts", "example.com", 5, 1, details = { fd("x\2y", 1) } } })))
      local html = require("tlsrpt.summary_html").render(summary.build(c2, { files = 1, duplicates = 0, invalid = 0 }, 5))
      assert.is_nil(html:find("[%z\1-\8\11\12\14-\31]"))
    end)

    it("a query limit is a non-negative integer", function()
      local c = sample()
      for _, bad in ipairs { 0 / 0, 2.5, -1 } do
        assert.has_error(function() c:query { group_by = "day", limit = bad } end, nil, tostring(bad))
      end
      assert.are.equal(1, #c:query { group_by = "day", limit = 1 })
    end)
  end)
end)

describe("tlsrpt.json", function()
  it("encodes deterministically with sorted or given key order", function()
    assert.are.equal('{"a":1,"b":[1,2,"x"],"c":{"d":true}}', json.encode({ c = { d = true }, b = { 1, 2, "x" }, a = 1 }))
    assert.are.equal('{"z":1,"a":2}', json.encode(json.object({ a = 2, z = 1 }, { "z" })))
    assert.are.equal('[]', json.encode(json.array()))
    assert.are.equal('{}', json.encode({}))
    assert.are.equal('[null,false]', json.encode({ json.null, false }))
    assert.are.equal('{\n  "a": [\n    1\n  ]\n}', json.encode({ a = { 1 } }, { indent = 2 }))
  end)

  it("refuses what it would write wrongly or drop (review)", function()
    assert.has_error(function() json.encode(json.array({ 1, x = 2 })) end) -- x would be dropped
    assert.has_error(function() json.encode({ ["\255"] = 1, ["\254"] = 2 }) end) -- both repair to U+FFFD
    assert.has_error(function() json.encode(json.object({ [1] = "a" }, { 1 })) end, "json: object key must be a string, got number")
    assert.has_error(function() json.encode({ 1 }, { indent = 1.5 }) end)
  end)

  it("encodes numbers exactly and non-finite ones as null", function()
    assert.are.equal("[0,-3,9007199254740991,0.5,1e+300,null,null]",
      json.encode({ 0, -3, 2^53 - 1, 0.5, 1e300, 0 / 0, math.huge }))
  end)

  it("escapes control characters and repairs invalid UTF-8", function()
    assert.are.equal('"\\u0000\\t\\\\\\"\127"', json.encode("\0\t\\\"\127"))
    assert.are.equal('"h\195\169 \226\130\172 \240\159\152\128"', json.encode("h\195\169 \226\130\172 \240\159\152\128"))
    local R = "\239\191\189"
    assert.are.equal('"a' .. R .. 'b"', json.encode("a\255b"))
    assert.are.equal('"' .. R .. R .. '"', json.encode("\192\175"))           -- overlong '/'
    assert.are.equal('"' .. R .. R .. R .. '"', json.encode("\237\160\128"))  -- surrogate D800
    assert.are.equal('"' .. R .. R .. R .. R .. '"', json.encode("\244\144\128\128")) -- > U+10FFFF
    assert.are.equal('"x' .. R .. R .. '"', json.encode("x\226\130"))       -- truncated
  end)

  it("raises on values JSON cannot hold", function()
    local cyc = {}
    cyc.self = cyc
    assert.has_error(function() json.encode(cyc) end)
    assert.has_error(function() json.encode(print) end)
    assert.has_error(function() json.encode({ [true] = 1 }) end)
    local deep = {}
    for _ = 1, 100 do deep = { deep } end
    assert.has_error(function() json.encode(deep) end)
    assert.has_error(function() json.encode(1, { indent = "x" }) end)
  end)
end)

describe("tlsrpt.sort (query order, JSON keys)", function()
  local sort = require "tlsrpt.sort"

  it("sorts like table.sort, with and without a comparator", function()
    math.randomseed(7)
    for _, n in ipairs({ 0, 1, 2, 3, 17, 1000 }) do
      local a, b = {}, {}
      for i = 1, n do a[i] = { k = math.random(1, 20), i = i }; b[i] = a[i] end
      sort(a, function(x, y) return x.k < y.k end)
      table.sort(b, function(x, y) return x.k < y.k or (x.k == y.k and x.i < y.i) end)
      for i = 1, n do
        assert.are.equal(b[i].k, a[i].k)
        -- the merge sort (5.1, 5.2, LuaJIT) keeps equal keys in their order
        if sort ~= table.sort then assert.are.equal(b[i], a[i]) end
      end
      local s = {}
      for i = 1, n do s[i] = tostring(math.random(1, 1e6)) end
      local t = {}
      for i = 1, n do t[i] = s[i] end
      sort(s)
      table.sort(t)
      assert.are.same(t, s)
    end
  end)

  it("stays O(n log n) against McIlroy's adversary where table.sort would not (5.1, 5.2, LuaJIT)", function()
    if sort == table.sort then return end -- Lua 5.3+: randomized pivots; table.sort is used
    -- The adversary settles values only as comparisons force it to, which
    -- drives a fixed-pivot quicksort to ~n^2/4 comparisons.
    local n = 4000
    local gas, val, ns, cand, ncmp = n + 1, {}, 0, 0, 0
    for i = 1, n do val[i] = gas end
    local function cmp(x, y)
      ncmp = ncmp + 1
      if val[x] == gas and val[y] == gas then
        if x == cand then val[x] = ns else val[y] = ns end
        ns = ns + 1
      end
      if val[x] == gas then cand = x elseif val[y] == gas then cand = y end
      return val[x] < val[y]
    end
    local p = {}
    for i = 1, n do p[i] = i end
    sort(p, cmp)
    assert.is_true(ncmp <= n * 12, ncmp) -- n * ceil(log2 n); quicksort: ~4,000,000
    for i = 2, n do assert.is_true(val[p[i - 1]] <= val[p[i]]) end
  end)
end)
