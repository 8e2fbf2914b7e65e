-- tlsrpt.ffi_report (LuaJIT): failure-detail tables built over the FFI must
-- be the tables the C builder makes, on every test vector and real report,
-- however few details they have (use(0)), and parse_report must use it.
local tlsrpt = require "tlsrpt"
local core = require "tlsrpt.core"
local vectors = require "spec.helpers.vectors"
local corpus = require "spec.helpers.corpus"
local files = require "spec.helpers.files"

local fr = require "tlsrpt.ffi_report"
local luajit = type(jit) == "table"

-- parse_report after fr.use(setting), then the default again: false, the C
-- builder only; 0, fill for every report.
local function parse_with(setting, bytes, opts)
  fr.use(setting)
  local out = { pcall(core.parse_report, bytes, opts) }
  fr.use()
  assert(out[1], out[2])
  return unpack(out, 2, 4)
end

local function c_only(bytes, opts) return parse_with(false, bytes, opts) end
local function ffi_all(bytes, opts) return parse_with(0, bytes, opts) end

-- Both builders on the same input: equal tables, or equal failures.
local function same(bytes, opts)
  local want = { c_only(bytes, opts) }
  assert.are.same(want, { ffi_all(bytes, opts) })
  return want[1]
end

-- A report of n failure details in one policy, every optional member in
-- some of them, an unknown one in every 7th (the C builder makes those).
local function big_report(n)
  local d = {}
  for i = 1, n do
    d[i] = string.format(
      '{"result-type":"%s","sending-mta-ip":"192.0.2.%d","receiving-mx-hostname":"mx%d.example.com",'
        .. '%s"receiving-ip":"198.51.100.%d","failed-session-count":%d%s%s%s}',
      i % 3 == 0 and "certificate-expired" or "validation-failure", i % 250 + 1, i % 4,
      i % 2 == 0 and string.format('"receiving-mx-helo":"helo%d.example.com",', i) or "",
      i % 200 + 1, i, i % 3 == 0 and ',"additional-information":"https://x.example/' .. i .. '"' or "",
      i % 5 == 0 and ',"failure-reason-code":"X509_V_ERR_CERT_HAS_EXPIRED"' or "",
      i % 7 == 0 and ',"x-vendor":{"n":' .. i .. '}' or "")
  end
  return '{"organization-name":"Org","date-range":{"start-datetime":"2024-01-01T00:00:00Z",'
    .. '"end-datetime":"2024-01-01T23:59:59Z"},"contact-info":"a@example.com","report-id":"r1",'
    .. '"policies":[{"policy":{"policy-type":"sts","policy-domain":"example.com"},'
    .. '"summary":{"total-successful-session-count":1,"total-failure-session-count":1},'
    .. '"failure-details":[' .. table.concat(d, ",") .. ']}]}'
end

describe("tlsrpt.ffi_report", function()
  if not luajit then
    it("is not used outside LuaJIT", function()
      assert.is_false(fr)
    end)
    return
  end

  it("loads under LuaJIT (its struct layout matches the C module's), used by parse_report", function()
    assert.is_table(fr)
    local calls = 0
    core._set_detail_builder(function(r, v) calls = calls + 1; return fr.fill(r, v) end)
    assert.is_table(tlsrpt.parse_report(big_report(64)))
    assert.is_table(tlsrpt.parse_report(big_report(63))) -- below the threshold: C only
    fr.use()
    assert.are.equal(1, calls)
  end)

  it("loads again after package.loaded was cleared (its cdef is kept)", function()
    package.loaded["tlsrpt.ffi_report"] = nil
    local again = require "tlsrpt.ffi_report"
    package.loaded["tlsrpt.ffi_report"] = fr
    assert.is_table(again)
    fr.use()
  end)

  it("builds what the C builder builds on every report.txt vector", function()
    local n = 0
    for _, v in ipairs(vectors.load("report.txt")) do
      same(v.input[1], vectors.report_opts(v))
      n = n + 1
    end
    assert.is_true(n > 100)
  end)

  it("builds what the C builder builds on every real report (JSON and gzip)", function()
    local dir = corpus.dir()
    if not dir then return pending(corpus.SKIP) end
    local names = files.ls(dir .. "/reports", function(name)
      return name:match("%.json$") or name:match("%.json%.gz$")
    end)
    for _, name in ipairs(names) do
      local bytes = files.read(dir .. "/reports/" .. name)
      same(bytes)
      same(bytes, { strict = true })
    end
    assert.is_true(#names >= 20, "real reports compared: " .. #names)
  end)

  it("takes the FFI path from 64 details by default, with the same result", function()
    for _, n in ipairs({ 63, 64, 65, 300 }) do
      local json = big_report(n)
      local r = same(json)
      assert.are.same(r, tlsrpt.parse_report(json))
      assert.are.equal(n, #r.policies[1].failure_details)
      assert.are.same({ n = 7 }, r.policies[1].failure_details[7].extra["x-vendor"])
      assert.is_nil(r.policies[1].failure_details[1].receiving_mx_helo)
    end
  end)

  it("reads input given as a userdata with __tostring (rspamd's text)", function()
    local json = big_report(100)
    local text = newproxy(true)
    getmetatable(text).__tostring = function() return json end
    local r = tlsrpt.parse_report(text)
    collectgarbage()
    assert.are.same(core.parse_report(json), r)
  end)

  it("gives re-entered calls (a __gc during the fill) a ctx of their own", function()
    local json, inner, entered = big_report(100), nil, false
    core._set_detail_builder(function(r, v)
      if not entered then
        entered = true
        inner = tlsrpt.parse_report(json) -- the shared ctx is busy: a fresh one
      end
      return fr.fill(r, v)
    end, 0)
    local outer = tlsrpt.parse_report(json)
    fr.use()
    assert.are.same(c_only(json), outer)
    assert.are.same(outer, inner)
  end)

  it("releases the ctx when the builder raises", function()
    core._set_detail_builder(function() error("builder failed") end, 0)
    assert.has_error(function() tlsrpt.parse_report(big_report(10)) end, "builder failed")
    fr.use()
    assert.are.same(c_only(big_report(100)), tlsrpt.parse_report(big_report(100)))
  end)

  it("returns the C parser's errors unchanged", function()
    for _, bad in ipairs({ "", "{", '{"policies":7}', "\31\139garbage" }) do
      assert.are.same({ c_only(bad) }, { ffi_all(bad) })
      assert.is_nil((ffi_all(bad)))
    end
    assert.has_error(function() tlsrpt.parse_report({}) end)
    assert.has_error(function() tlsrpt.parse_report("{}", 7) end)
    assert.has_error(function() core._set_detail_builder(7) end)
  end)
end)
