-- TXT records: tlsrpt.parse_record (RFC 8460 §3) and tlsrpt.parse_sts_record
-- (RFC 8461 §3.1). Shared vectors, the real corpus records, and the Lua
-- side: list inputs, __tostring objects, errors as values, misuse raising.
local tlsrpt = require "tlsrpt"
local vectors = require "spec.helpers.vectors"
local corpus = require "spec.helpers.corpus"

-- The value a vector assertion names, as a string (nil when absent).
local function lookup(res, key)
  if key == "nrua" then return tostring(#res.rua) end
  if key == "next" then return tostring(#res.extensions) end
  local i, field = key:match("^rua(%d+)%.(%a+)$")
  if i then
    local u = res.rua[tonumber(i)]
    return u and u[field]
  end
  i, field = key:match("^ext(%d+)%.(%a+)$")
  if i then
    local e = res.extensions[tonumber(i)]
    return e and e[field]
  end
  local v = res[key]
  return v ~= nil and tostring(v) or nil
end

local function run_vectors(file, parse)
  local list = vectors.load(file)
  it(file .. " has vectors", function()
    assert.is_true(#list >= 25)
  end)
  for _, v in ipairs(list) do
    it(vectors.title(file, v), function()
      local opts = vectors.limits(v)
      -- A single record goes in as a string, several as a list.
      local arg = #v.input == 1 and v.input[1] or v.input
      local res, msg, code, info = parse(arg, opts)
      if v.ok then
        assert(res, "expected success, got: " .. tostring(msg))
        assert.is_string(res.version)
        assert.is_string(res.raw)
        vectors.check(v, function(k) return lookup(res, k) end)
      else
        assert.is_nil(res)
        assert.are.equal(v.code, code, msg)
        assert.is_string(msg)
        assert.is_table(info)
        assert.are.equal(code, info.code)
        assert.is_string(info.message)
        vectors.check(v, function(k) return vectors.error_field(info, k) end)
      end
      -- A one-record list gives the same answer as the bare string.
      if #v.input == 1 then
        local res2, _, code2 = parse({ v.input[1] }, opts)
        assert.are.equal(v.ok, res2 ~= nil)
        assert.are.equal(code, code2)
      end
    end)
  end
end

describe("vector reader", function()
  it("decodes C escapes and rejects malformed ones", function()
    assert.are.equal("aA\n\r\t\\\0", vectors.unescape("a\\x41\\n\\r\\t\\\\\\x00"))
    assert.is_nil(vectors.unescape("\\q"))
    assert.is_nil(vectors.unescape("\\x4"))
    assert.is_nil(vectors.unescape("\\xzz"))
    assert.is_nil(vectors.unescape("trailing\\"))
  end)
end)

describe("tlsrpt.parse_record vectors", function()
  run_vectors("tlsrpt-record.txt", tlsrpt.parse_record)
end)

describe("tlsrpt.parse_sts_record vectors", function()
  run_vectors("sts-record.txt", tlsrpt.parse_sts_record)
end)

describe("real records", function()
  local dir = corpus.dir()

  it("TLS-RPT TXT records: all parse except isaspa.it (no mailto:)", function()
    if not dir then return pending(corpus.SKIP) end
    local lines = corpus.lines("records/tlsrpt-txt-records.txt")
    assert.are.equal(3, #lines)
    for _, line in ipairs(lines) do
      local r, msg, code, info = tlsrpt.parse_record(line)
      if line:find("isaspa.it", 1, true) then
        assert.is_nil(r)
        assert.are.equal("field", code)
        assert.are.equal("rua", info.path)
        assert.are.equal("RFC 8460 §3", info.rfc)
        assert.truthy(msg:find("postmaster@isaspa.it", 1, true))
      else
        assert(r, msg)
        assert.are.equal(1, #r.rua)
        assert.are.equal("mailto", r.rua[1].scheme)
        assert.are.equal("mailto:" .. r.rua[1].target, r.rua[1].uri)
        assert.are.equal(line, r.raw)
      end
    end
  end)

  it("MTA-STS TXT records: all parse with their ids", function()
    if not dir then return pending(corpus.SKIP) end
    local ids = { "202406081231", "202211020844", "202211231428", "202211020846",
                  "20260106T000000Z", "20260223T1500" }
    local lines = corpus.lines("records/mta-sts-txt-records.txt")
    assert.are.equal(#ids, #lines)
    for i, line in ipairs(lines) do
      local r, msg = tlsrpt.parse_sts_record(line)
      assert(r, msg)
      assert.are.equal("STSv1", r.version)
      assert.are.equal(ids[i], r.id)
    end
  end)
end)

describe("TXT inputs from Lua", function()
  it("joins the character-strings of a record given as a list", function()
    -- A long record split at 255 bytes by the publisher, as DNS returns it.
    local uris = {}
    for i = 1, 12 do uris[i] = "mailto:tlsrpt-" .. i .. "@reports.example.com" end
    local rec = "v=TLSRPTv1; rua=" .. table.concat(uris, ",")
    assert.is_true(#rec > 255)
    local r = assert(tlsrpt.parse_record({ { rec:sub(1, 255), rec:sub(256) } }))
    assert.are.equal(12, #r.rua)
    assert.are.equal("tlsrpt-12@reports.example.com", r.rua[12].target)
    assert.are.equal(rec, r.raw)
  end)

  it("picks the one matching record out of several, mixed forms", function()
    local r = assert(tlsrpt.parse_sts_record({
      "v=spf1 -all", { "v=STS", "v1; id=", "abc" }, { "google-site-verification=x" },
    }))
    assert.are.equal("abc", r.id)
    assert.are.equal("v=STSv1; id=abc", r.raw)
  end)

  it("accepts objects with __tostring (rspamd text) anywhere a string goes", function()
    local function text(s) return setmetatable({}, { __tostring = function() return s end }) end
    local r = assert(tlsrpt.parse_record(text("v=TLSRPTv1; rua=mailto:a@example.com")))
    assert.are.equal("a@example.com", r.rua[1].target)
    r = assert(tlsrpt.parse_record({ text("v=TLSRPTv1; rua=mailto:b@example.com") }))
    assert.are.equal("b@example.com", r.rua[1].target)
    r = assert(tlsrpt.parse_sts_record({ { text("v=STSv1; "), "id=x1" } }))
    assert.are.equal("x1", r.id)
  end)

  it("treats an empty list as no record", function()
    local r, _, code = tlsrpt.parse_record({})
    assert.is_nil(r)
    assert.are.equal("no_record", code)
    r, _, code = tlsrpt.parse_sts_record({ {} })
    assert.is_nil(r)
    assert.are.equal("no_record", code)
  end)

  it("returns errors as nil, message, code, info", function()
    local r, msg, code, info = tlsrpt.parse_record("v=TLSRPTv1; rua=mailto:a%zz@example.com")
    assert.is_nil(r)
    assert.are.equal("syntax", code)
    -- offset: the "%" after "v=TLSRPTv1; rua=mailto:a" (24 bytes)
    assert.are.same({ "syntax", "rua", 24, "RFC 3986 §2" },
                    { info.code, info.path, info.offset, info.rfc })
    assert.truthy(msg:find("percent", 1, true))
    r, msg, code, info = tlsrpt.parse_record({ "v=TLSRPTv1; rua=mailto:a@example.com",
                                               "v=TLSRPTv1; rua=mailto:b@example.com" })
    assert.is_nil(r)
    assert.are.equal("multiple", code)
    assert.is_nil(info.offset)
    assert.truthy(msg:find("exactly one", 1, true))
  end)

  it("caps the number of records with max_elements", function()
    local list = {}
    for i = 1, 50 do list[i] = "v=spf1 -all" end
    list[51] = "v=STSv1; id=1"
    local r, _, code, info = tlsrpt.parse_sts_record(list, { max_elements = 50 })
    assert.is_nil(r)
    assert.are.equal("limit", code)
    assert.are.equal("max_elements", info.path)
    assert(tlsrpt.parse_sts_record(list, { max_elements = 51 }))
  end)

  it("caps the total size with max_input", function()
    local big = "v=TLSRPTv1; rua=mailto:a@example.com; x=" .. string.rep("y", 100000)
    local r, _, code = tlsrpt.parse_record(big, { max_input = 65536 })
    assert.is_nil(r)
    assert.are.equal("limit", code)
    r = assert(tlsrpt.parse_record(big))
    assert.are.equal(100000, #r.extensions[1].value)
  end)

  it("raises on arguments of the wrong type", function()
    for _, f in ipairs({ tlsrpt.parse_record, tlsrpt.parse_sts_record }) do
      assert.has_error(function() f() end)
      assert.has_error(function() f(nil) end)
      assert.has_error(function() f(42) end)
      assert.has_error(function() f(true) end)
      assert.has_error(function() f(print) end)
      assert.has_error(function() f({ "v=STSv1; id=1", 42 }) end)
      assert.has_error(function() f({ { "v=STSv1; ", false } }) end)
      assert.has_error(function() f({ { { "nested" } } }) end)
      assert.has_error(function() f("v=STSv1; id=1", "not a table") end)
      assert.has_error(function() f("v=STSv1; id=1", { max_input = "big" }) end)
      assert.has_error(function() f("v=STSv1; id=1", { max_elements = -1 }) end)
    end
  end)

  it("names the bad element when raising", function()
    local ok, err = pcall(tlsrpt.parse_record, { "a", "b", 3 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("record 3", 1, true))
  end)
end)
