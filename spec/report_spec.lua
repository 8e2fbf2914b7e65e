-- tlsrpt.parse_report / tlsrpt.gunzip: shared vectors, real corpus, API contract.
local tlsrpt = require "tlsrpt"
local vectors = require "spec.helpers.vectors"
local read = require("spec.helpers.files").slurp

-- Value at a dotted path of the result ("policies.1.policy.mx_host.2",
-- "#policies" for a length) as text, the way report.txt writes it.
local function get(r, key)
  local len = key:sub(1, 1) == "#"
  if len then key = key:sub(2) end
  local v = r
  -- extra members may contain dots in their names: only the segments up to
  -- "extra" are split, the rest is the member name
  local rest = key
  while rest ~= "" do
    local seg, tail = rest:match("^([^.]+)%.?(.*)$")
    if type(v) ~= "table" then v = nil break end
    if seg == "extra" and tail ~= "" then
      v = v.extra and v.extra[tail]
      break
    end
    v = v[tonumber(seg) or seg]
    rest = tail
  end
  if len then return v and tostring(#v) or "nil" end
  if v == nil then return "nil" end
  if type(v) == "number" and v == math.floor(v) then return string.format("%.0f", v) end
  if type(v) == "table" then return "table" end
  return tostring(v)
end

local function codes(r, field)
  local t = {}
  for i, w in ipairs(r.warnings) do t[i] = w[field] end
  return table.concat(t, ",")
end

describe("parse_report vectors (spec/vectors/report.txt)", function()
  for _, v in ipairs(vectors.load("report.txt")) do
    it("line " .. v.line, function()
      local r, msg, code, info = tlsrpt.parse_report(v.input[1], vectors.report_opts(v))
      if v.ok then
        assert.is_table(r, msg)
        for k, want in pairs(v.assert) do
          if k == "warnings" then
            assert.are.equal(want, codes(r, "code"))
          elseif k == "wpaths" then
            assert.are.equal(want, codes(r, "path"))
          elseif k ~= "strict" and not k:match("^max_") then
            assert.are.equal(want, get(r, k), k)
          end
        end
      else
        assert.is_nil(r)
        assert.are.equal(v.code, code, msg)
        assert.is_string(msg)
        assert.are.equal(code, info.code)
        if v.assert.path then assert.are.equal(v.assert.path, info.path) end
        if v.assert.rfc then assert.are.equal(v.assert.rfc, info.rfc) end
        if v.assert.msgpart then assert.truthy(msg:find(v.assert.msgpart, 1, true), msg) end
      end
    end)
  end
end)

describe("JSON syntax vectors (spec/vectors/json.txt) as an unknown member", function()
  local head = '{"date-range":{"start-datetime":"2024-01-01T00:00:00Z",' ..
    '"end-datetime":"2024-01-02T00:00:00Z"},"policies":[],"x":'
  for _, v in ipairs(vectors.load("json.txt")) do
    if v.assert.lua ~= "skip" then
      it("line " .. v.line, function()
        local o = vectors.report_opts(v)
        if o.max_depth then o.max_depth = o.max_depth + 1 end -- the report object
        local r, msg, code = tlsrpt.parse_report(head .. v.input[1] .. "}", o)
        if v.ok then
          assert.is_table(r, msg)
          assert.is_not_nil(r.extra.x)
        else
          assert.are.equal(v.code, code, msg)
        end
      end)
    end
  end
end)

describe("extra members decode to Lua values", function()
  local function x(json)
    local r = assert(tlsrpt.parse_report('{"date-range":{"start-datetime":"2024-01-01T00:00:00Z",' ..
      '"end-datetime":"2024-01-02T00:00:00Z"},"policies":[],"x":' .. json .. "}"))
    return r.extra.x
  end
  it("arrays, objects, scalars", function()
    assert.are.same({ 1, 2, { a = "b" } }, x('[1,2,{"a":"b"}]'))
    assert.are.equal(true, x("true"))
    assert.are.equal(false, x("false"))
    assert.are.equal(-12, x("-12"))
    assert.are.equal(1.5, x("1.5"))
    assert.are.equal(1e300, x("1e300"))
    assert.are.equal(0.1, x("0.1000000000000000000000000000000000000000000000000000000000000000000001"))
    assert.are.equal(-2.5e-3, x("-25E-4"))
    assert.are.equal(9007199254740991, x("9007199254740991"))
    assert.are.same({}, x("{}"))
  end)
  it("null is tlsrpt.null", function()
    assert.are.equal(tlsrpt.null, x("null"))
    assert.are.equal(tlsrpt.null, x('{"a":null}').a)
  end)
  it("escapes and UTF-8", function()
    assert.are.equal("\195\169\226\130\172\240\159\152\128", x('"\\u00e9\\u20ac\\ud83d\\ude00"'))
    assert.are.equal('a"b\\c/\n', x('"a\\"b\\\\c\\/\\n"'))
    assert.are.equal("a\0b", x('"a\\u0000b"'))
    assert.are.same({ ["k\n"] = 1 }, x('{"k\\n":1}'))
  end)
end)

describe("real corpus (../shared/corpus/real/reports)", function()
  local dir = (os.getenv("TLSRPT_SHARED") or "../shared") .. "/corpus/real/reports/"
  local cases = {
    ["google-anon-validation-failure.json"] = { w = "", checks = {
      organization_name = "Example Inc.", ["date_range.start_epoch"] = "1704758400",
      ["#policies.1.failure_details"] = "2", ["policies.1.failure_details.2.failed_session_count"] = "1" } },
    ["google-canhas-sts-testing-4mx-pretty.json"] = { w = "", checks = { ["#policies.1.policy.policy_string"] = "7" } },
    ["google-cryinc-no-policy-found-pretty.json"] = { w = "", checks = { ["policies.1.policy.policy_string"] = "nil" } },
    ["google-cryinc-sts-enforce-pretty.json"] = { w = "", checks = { ["policies.1.policy.mx_host.1"] = "*.foo-bar.io" } },
    ["google-mailauth-weekly-cert-host-mismatch.json"] = { w = "", checks = {
      ["date_range.end_epoch"] = "1578441599" } },
    ["google-mailweave-sts-testing.json"] = { w = "", checks = { ["#policies.1.policy.mx_host"] = "3" } },
    ["google-mailweave-sts-testing.json.gz"] = { w = "", checks = {
      ["policies.1.summary.total_successful_session_count"] = "48" } },
    ["google-mydomain-issue43-sts-pretty.json"] = { w = "", checks = { ["#policies.1.policy.mx_host"] = "2" } },
    ["google-phiag-sts-enforce-pretty.json"] = { w = "", checks = {} },
    ["mailru-krvtz-sts-fetch-timeout-pretty.json"] = { w = "", checks = {
      ["policies.1.failure_details.1.sending_mta_ip"] = "nil" } },
    ["microsoft-cryinc-sts-and-tlsa-pretty.json"] = { w = "policy-string-json-array",
      checks = { ["#policies.2.policy.policy_string"] = "2" } },
    ["microsoft-josh-scot-hand-edited-failures.json"] = {
      w = "unknown-key,result-type-unknown,ip-invalid,count-mismatch",
      checks = { ["policies.1.failure_details.1.extra.additional-info-uri"] = "testing.josh.scot" } },
    ["microsoft-josh-scot-sts-multi-mx.json.gz"] = { w = "", checks = { ["#policies.1.failure_details"] = "0" } },
    ["microsoft-mailweave-cert-host-mismatch-no-sending-ip.json"] = { w = "", checks = {
      ["policies.1.failure_details.1.failed_session_count"] = "21" } },
    ["microsoft-phiag-dates-without-tz-pretty.json"] = { w = "datetime-no-timezone,datetime-no-timezone",
      checks = { ["date_range.start_epoch"] = "1711411200" } },
    ["microsoft-phiag-sts-enforce-pretty.json"] = { w = "", checks = {} },
    ["mimecast-mailweave-sts-testing.json"] = { w = "", checks = { ["#policies.1.failure_details"] = "0" } },
    ["postfix-tlsrpt-sonne-no-policy-domain-pretty.json"] = { w = "field-missing",
      checks = { ["policies.1.policy.policy_domain"] = "nil" } },
    ["stalwart-cryinc-null-contact-anon-pretty.json"] = { w = "field-null,mx-host-prefix",
      checks = { contact_info = "nil", ["policies.1.policy.mx_host.1"] = "mx.server.com" } },
    ["stalwart-egressif-no-policy-null-contact.json"] = { w = "field-null", checks = { contact_info = "nil" } },
    ["unknown-anon-empty-string-fields.json"] = { w = "empty-value,empty-value,empty-value,empty-value",
      checks = { ["policies.1.failure_details.1.failure_reason_code"] = "no-policy-served" } },
  }
  local names = {}
  for name in pairs(cases) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local c = cases[name]
    it(name, function()
      local data = read(dir .. name)
      if not data then return pending("corpus not found (TLSRPT_SHARED)") end
      local r, msg = tlsrpt.parse_report(data)
      assert.is_table(r, msg)
      assert.are.equal(c.w, codes(r, "code"))
      for k, want in pairs(c.checks) do assert.are.equal(want, get(r, k), k) end
      local s, smsg, scode, sinfo = tlsrpt.parse_report(data, { strict = true })
      if c.w == "" then
        assert.is_table(s, smsg)
      else
        assert.is_nil(s)
        assert.are.equal("strict", scode)
        assert.are.equal(r.warnings[1].path, sinfo.path)
        assert.are.equal(r.warnings[1].rfc, sinfo.rfc)
      end
    end)
  end
  it("the truncated Reddit paste is a syntax error", function()
    local data = read(dir .. "microsoft-reddit-mx-hosts-mismatch-truncated.txt")
    if not data then return pending("corpus not found") end
    local r, _, code = tlsrpt.parse_report(data)
    assert.is_nil(r)
    assert.are.equal("syntax", code)
  end)
end)

describe("API contract", function()
  local good = vectors.load("report.txt")[1].input[1]

  it("wrong argument types raise", function()
    assert.has_error(function() tlsrpt.parse_report() end)
    assert.has_error(function() tlsrpt.parse_report(nil) end)
    assert.has_error(function() tlsrpt.parse_report({}) end)
    assert.has_error(function() tlsrpt.parse_report(good, "strict") end)
    assert.has_error(function() tlsrpt.parse_report(good, { strict = "yes" }) end)
    assert.has_error(function() tlsrpt.parse_report(good, { max_depth = "deep" }) end)
    assert.has_error(function() tlsrpt.parse_report(good, { max_depth = -1 }) end)
    assert.has_error(function() tlsrpt.parse_report(good, { max_depth = 1.5 }) end)
    assert.has_error(function() tlsrpt.parse_report(good, { max_input = 0.9 }) end)
    assert.has_error(function() tlsrpt.gunzip(42 == 42) end)
  end)

  it("accepts objects with __tostring (rspamd text)", function()
    local text = setmetatable({}, { __tostring = function() return good end })
    assert.is_table(tlsrpt.parse_report(text))
  end)

  it("numbers are integers on Lua 5.3+", function()
    local r = tlsrpt.parse_report(good)
    if math.type then
      assert.are.equal("integer", math.type(r.date_range.start_epoch))
      assert.are.equal("integer", math.type(r.policies[1].summary.total_successful_session_count))
    end
    assert.are.equal(1704067200, r.date_range.start_epoch)
    -- unknown members too, 16-digit negatives included (the sign is no digit)
    r = tlsrpt.parse_report((good:gsub("^{", '{"x-pos":1000000000000000,"x-neg":-1000000000000000,', 1)))
    assert.are.equal(1000000000000000, r.extra["x-pos"])
    assert.are.equal(-1000000000000000, r.extra["x-neg"])
    if math.type then
      assert.are.equal("integer", math.type(r.extra["x-pos"]))
      assert.are.equal("integer", math.type(r.extra["x-neg"]))
    end
  end)

  it("error info carries code, path, rfc, offset, message", function()
    local r, msg, code, info = tlsrpt.parse_report('{"date-range":1}')
    assert.is_nil(r)
    assert.are.equal("field", code)
    assert.are.equal("field", info.code)
    assert.are.equal("date-range", info.path)
    assert.are.equal("RFC 8460 §4.1", info.rfc) -- report time frame
    assert.are.equal(14, info.offset)
    assert.is_string(info.message)
    assert.truthy(msg:find("date-range", 1, true))
  end)

  it("warning and error texts quoting the report have no controls or broken UTF-8", function()
    local j = '{"organization-name":"o","date-range":{"start-datetime":"2024-01-01T00:00:00Z",'
      .. '"end-datetime":"2024-01-02T00:00:00Z"},"contact-info":"a@b.c","report-id":"x",'
      .. '"policies":[{"policy":{"policy-type":"\\u001b[2J\\u0085\\u00e9","policy-domain":"d.example"},'
      .. '"summary":{"total-successful-session-count":1,"total-failure-session-count":0}}],'
      .. '"\\u001b]0;x\\u0007":1}'
    local r = assert(tlsrpt.parse_report(j))
    assert.are.equal("\27[2J\194\133\195\169", r.policies[1].policy.policy_type) -- the value itself kept
    assert.are.equal("\27]0;x\7", next(r.extra))
    local seen = {}
    for _, w in ipairs(r.warnings) do
      seen[w.code] = w
      assert.is_nil(w.path:find("[%c\127]"), w.path)
      assert.is_nil(w.message:find("[%c\127]") or w.message:find("\194[\128-\159]"), w.message)
    end
    assert.are.equal("?]0;x?", seen["unknown-key"].path)
    assert.truthy(seen["policy-type-unknown"].message:find('"?[2J??\195\169"', 1, true))
    local _, msg, code, info = tlsrpt.parse_report(j, { strict = true })
    assert.are.equal("strict", code)
    assert.is_nil(msg:find("[%c\127]"))
    assert.is_nil(info.path:find("[%c\127]"))
  end)

  it("paths show a member name with a NUL, and cut a long one between characters", function()
    local base = '{"organization-name":"o","date-range":{"start-datetime":"2024-01-01T00:00:00Z",'
      .. '"end-datetime":"2024-01-02T00:00:00Z"},"contact-info":"a@b.c","report-id":"x",'
      .. '"policies":[{"policy":{"policy-type":"sts","policy-domain":"d.example","a\\u0000b":1},'
      .. '"summary":{"total-successful-session-count":1,"total-failure-session-count":0}}],%s:1}'
    local r = assert(tlsrpt.parse_report(base:format('"' .. ("a"):rep(63) .. '\\u00e9"')))
    local paths = {}
    for _, w in ipairs(r.warnings) do paths[#paths + 1] = w.path end
    table.sort(paths)
    assert.are.same({ ("a"):rep(63), "policies[0].policy.a?b" }, paths)
    local _, _, code, info = tlsrpt.parse_report(base:format('"x"'), { strict = true })
    assert.are.equal("strict", code)
    assert.are.equal("policies[0].policy.a?b", info.path)
    -- past the path's 160 bytes the last name is cut, not dropped
    local _, _, _, i2 = tlsrpt.parse_report('{"' .. ("A"):rep(64) .. '":{"' .. ("B"):rep(64) .. '":{"'
      .. ("C"):rep(40) .. '" 1}}}')
    assert.are.equal(("A"):rep(64) .. "." .. ("B"):rep(64) .. "." .. ("C"):rep(29), i2.path)
  end)

  it("gunzip round trip and errors", function()
    local gz = read((os.getenv("TLSRPT_SHARED") or "../shared") ..
      "/corpus/real/reports/google-mailweave-sts-testing.json.gz")
    if not gz then return pending("corpus not found") end
    local json = assert(tlsrpt.gunzip(gz))
    assert.are.equal("{", json:sub(1, 1))
    assert.are.same(tlsrpt.parse_report(json), tlsrpt.parse_report(gz))
    local s, msg, code, info = tlsrpt.gunzip(gz:sub(1, #gz - 5))
    assert.is_nil(s)
    assert.are.equal("gzip", code)
    assert.are.equal("gzip", info.code)
    assert.is_string(msg)
    assert.are.equal("gzip", select(3, tlsrpt.gunzip("not gzip")))
    assert.are.equal("limit", select(3, tlsrpt.gunzip(gz, { max_decompressed = 100 })))
    assert.are.equal("limit", select(3, tlsrpt.gunzip(gz, { max_input = 100 })))
  end)

  it("a large report, repeatedly (ctx reuse), with GC finalizers re-entering", function()
    local parts = {}
    for i = 1, 3000 do
      parts[i] = '{"result-type":"dane-required","sending-mta-ip":"192.0.2.' .. (i % 250) ..
        '","failed-session-count":1}'
    end
    local big = '{"organization-name":"O","date-range":{"start-datetime":"2024-01-01T00:00:00Z",' ..
      '"end-datetime":"2024-01-02T00:00:00Z"},"contact-info":"c","report-id":"r","policies":[' ..
      '{"policy":{"policy-type":"tlsa","policy-domain":"d"},"summary":{' ..
      '"total-successful-session-count":0,"total-failure-session-count":3000},' ..
      '"failure-details":[' .. table.concat(parts, ",") .. "]}]}"
    local reentered = 0
    local function finalizer()
      local r = tlsrpt.parse_report(good)
      if r and r.organization_name == "Org" then reentered = reentered + 1 end
    end
    for _ = 1, 3 do
      -- objects whose __gc parses a report while the big table is being built
      for _ = 1, 200 do
        if newproxy then
          local p = newproxy(true)
          getmetatable(p).__gc = finalizer
        else
          setmetatable({}, { __gc = finalizer })
        end
      end
      local r = assert(tlsrpt.parse_report(big))
      assert.are.equal(3000, #r.policies[1].failure_details)
      assert.are.equal("192.0.2.7", r.policies[1].failure_details[7].sending_mta_ip)
      assert.are.equal(0, #r.warnings)
    end
    collectgarbage()
    collectgarbage()
    assert.is_true(reentered > 0)
    -- the binding leaves the collector alone (it used to pause it for big
    -- reports): it must run afterwards, and stay stopped if the host had
    -- stopped it. PUC Lua 5.1 cannot report whether the collector runs (no
    -- "isrunning"); there, parsing with it stopped must still work.
    local can_query = pcall(collectgarbage, "isrunning")
    if can_query then assert.is_true(collectgarbage("isrunning")) end
    collectgarbage("stop")
    assert.is_table(tlsrpt.parse_report(big))
    if can_query then assert.is_false(collectgarbage("isrunning")) end
    collectgarbage("restart")
    if can_query then assert.is_true(collectgarbage("isrunning")) end
    assert.are.equal("Org", tlsrpt.parse_report(good).organization_name)
  end)

  it("big reports parsed in a loop are collected (memory stays bounded)", function()
    -- An earlier version paused the collector while building big results and
    -- LUA_GCRESTART forgave the debt, so a host that did nothing but parse
    -- big reports never collected the old ones: memory grew by one result
    -- per call.
    local parts = {}
    for i = 1, 2000 do
      parts[i] = '{"result-type":"dane-required","sending-mta-ip":"198.51.100.' .. (i % 250) ..
        '","receiving-mx-helo":"helo' .. i .. '.example","failed-session-count":1}'
    end
    local big = '{"organization-name":"O","date-range":{"start-datetime":"2024-01-01T00:00:00Z",' ..
      '"end-datetime":"2024-01-02T00:00:00Z"},"contact-info":"c","report-id":"r","policies":[' ..
      '{"policy":{"policy-type":"tlsa","policy-domain":"d"},"summary":{' ..
      '"total-successful-session-count":0,"total-failure-session-count":2000},' ..
      '"failure-details":[' .. table.concat(parts, ",") .. "]}]}"
    collectgarbage()
    collectgarbage()
    local base = collectgarbage("count")
    local keep = assert(tlsrpt.parse_report(big))
    local one = collectgarbage("count") - base -- KiB of one result (and its garbage)
    assert.are.equal(2000, #keep.policies[1].failure_details)
    keep = nil
    collectgarbage()
    collectgarbage()
    base = collectgarbage("count")
    local peak = base
    for _ = 1, 40 do
      assert.is_table(tlsrpt.parse_report(big))
      local kb = collectgarbage("count")
      if kb > peak then peak = kb end
    end
    -- the default pause (200%) starts a cycle when the heap doubles, and
    -- incremental marking overshoots: allow 3x (base + 2 results); 40
    -- uncollected results would be far beyond
    assert.is_true(peak < 3 * (base + 2 * one),
      string.format("peak %.0f KiB, base %.0f KiB, one result %.0f KiB", peak, base, one))
  end)

  it("warnings_dropped past max_warnings", function()
    local r = assert(tlsrpt.parse_report(
      '{"date-range":{"start-datetime":"2024-01-01T00:00:00","end-datetime":"2024-01-02T00:00:00"},' ..
      '"policies":[]}', { max_warnings = 2 }))
    -- 2 datetime-no-timezone + policies-empty + 3 field-missing = 6 deviations
    assert.are.equal(2, #r.warnings)
    assert.are.equal(4, r.warnings_dropped)
  end)
end)
