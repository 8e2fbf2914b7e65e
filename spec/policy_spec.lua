-- MTA-STS policy files: tlsrpt.parse_sts_policy (RFC 8461 §3.2) and MX
-- matching: tlsrpt.sts_mx_match / tlsrpt.mx_pattern_match (RFC 8461 §4.1).
-- Shared vectors, the 14 real policy files, and the Lua side.
local tlsrpt = require "tlsrpt"
local vectors = require "spec.helpers.vectors"
local corpus = require "spec.helpers.corpus"
local files = require "spec.helpers.files"

local function lookup(p, key)
  if key == "nmx" then return tostring(#p.mx) end
  if key == "next" then return tostring(#p.extensions) end
  if key == "nignored" then return tostring(#p.ignored) end
  if key == "max_age" then return string.format("%d", p.max_age) end
  local i = key:match("^mx(%d+)$")
  if i then return p.mx[tonumber(i)] end
  local list, field
  list, i, field = key:match("^(%a%a%a)(%d+)%.(%a+)$")
  if list == "ext" or list == "ign" then
    local e = (list == "ext" and p.extensions or p.ignored)[tonumber(i)]
    return e and e[field]
  end
  return p[key]
end

describe("tlsrpt.parse_sts_policy vectors", function()
  local list = vectors.load("sts-policy.txt")
  it("sts-policy.txt has vectors", function()
    assert.is_true(#list >= 25)
  end)
  for _, v in ipairs(list) do
    it(vectors.title("sts-policy.txt", v), function()
      assert.are.equal(1, #v.input)
      local p, msg, code, info = tlsrpt.parse_sts_policy(v.input[1], vectors.limits(v))
      if v.ok then
        assert(p, "expected success, got: " .. tostring(msg))
        assert.are.equal("STSv1", p.version)
        vectors.check(v, function(k) return lookup(p, k) end)
      else
        assert.is_nil(p)
        assert.are.equal(v.code, code, msg)
        assert.are.equal(code, info.code)
        vectors.check(v, function(k) return vectors.error_field(info, k) end)
      end
    end)
  end
end)

describe("MX matching vectors", function()
  local list = vectors.load("mx-match.txt")
  it("mx-match.txt has vectors", function()
    assert.is_true(#list >= 25)
  end)
  for _, v in ipairs(list) do
    it(string.format("mx-match.txt:%d %q vs %q", v.line, v.input[1], v.input[2] or ""), function()
      assert.are.equal(2, #v.input)
      assert.truthy(v.assert.match == "1" or v.assert.match == "0", "match=1 or match=0")
      local want = v.assert.match == "1"
      assert.are.equal(want, tlsrpt.mx_pattern_match(v.input[1], v.input[2]))
      assert.are.equal(want, tlsrpt.sts_mx_match({ mx = { v.input[1] } }, v.input[2]))
    end)
  end
end)

-- Read off the published files (SOURCES.md lists their origin): mode, mx
-- count, max_age, a host the policy admits and one it refuses.
local real = {
  { "mta-sts-policy-bluedot-org-5mx.txt", "enforce", 5, 1209600, "ALT3.ASPMX.L.GOOGLE.COM.", "aspmx2.googlemail.com" },
  { "mta-sts-policy-cork-tech-crlf-no-final-newline.txt", "enforce", 5, 2419200, "aspmx.l.google.com", "alt5.aspmx.l.google.com" },
  { "mta-sts-policy-criminaljusticehub-org-uk.txt", "enforce", 1, 1209600, "criminaljusticehub-org-uk.mail.protection.outlook.com", "mail.protection.outlook.com" },
  { "mta-sts-policy-helsinkimissio-fi.txt", "enforce", 1, 86400, "helsinkimissio-fi.mail.protection.outlook.com", "x.helsinkimissio-fi.mail.protection.outlook.com" },
  { "mta-sts-policy-kouchnarev-mode-none.txt", "none", 1, 604800, "mail.domain.example", "domain.example" },
  { "mta-sts-policy-krvtz-net-from-readme.txt", "enforce", 1, 10368000, "carp-20.krvtz.net", "carp-21.krvtz.net" },
  { "mta-sts-policy-melvyndekort-cloudflare-no-final-newline.txt", "testing", 3, 604800, "route3.mx.cloudflare.net", "route4.mx.cloudflare.net" },
  { "mta-sts-policy-negarix-uk-icloud.txt", "enforce", 2, 604800, "mx02.mail.icloud.com", "mx03.mail.icloud.com" },
  { "mta-sts-policy-paramos-com-crlf.txt", "testing", 5, 86401, "alt4.aspmx.l.google.com", "google.com" },
  { "mta-sts-policy-redak-com-wildcard-2mx-root-copy.txt", "testing", 2, 86400, "redak-com.mail.protection.outlook.com", "a.b.mail.protection.outlook.com" },
  { "mta-sts-policy-redak-com-wildcard.txt", "testing", 1, 86400, "redak-com.mail.eo.outlook.com", "mail.eo.outlook.com" },
  { "mta-sts-policy-resonaari-fi.txt", "enforce", 1, 86400, "resonaari-fi.mail.protection.outlook.com", "resonaari.fi" },
  { "mta-sts-policy-toppymicros-com-testing.txt", "testing", 2, 86400, "mailsec.protonmail.ch", "mail.protonmail.com" },
  { "mta-sts-policy-vigogroup-com-au.txt", "enforce", 5, 604800, "alt1.aspmx.l.google.com", "alt1.aspmx.l.google.com.au" },
}

describe("real MTA-STS policy files", function()
  local dir = corpus.dir()
  for _, r in ipairs(real) do
    it(r[1], function()
      if not dir then return pending(corpus.SKIP) end
      local text = files.read(dir .. "/records/" .. r[1])
      local p = assert(tlsrpt.parse_sts_policy(text))
      assert.are.same({ r[2], r[3], r[4], 0 }, { p.mode, #p.mx, p.max_age, #p.extensions })
      assert.is_true(tlsrpt.sts_mx_match(p, r[5]))
      assert.is_false(tlsrpt.sts_mx_match(p, r[6]))
      -- The text itself works as the policy argument.
      assert.is_true(tlsrpt.sts_mx_match(text, r[5]))
      assert.is_false(tlsrpt.sts_mx_match(text, r[6]))
    end)
  end
end)

describe("MTA-STS policies from Lua", function()
  local text = "version: STSv1\nmode: testing\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 604800\nfoo: bar\n"

  it("returns the documented table", function()
    local p = assert(tlsrpt.parse_sts_policy(text))
    assert.are.same({
      version = "STSv1", mode = "testing", max_age = 604800,
      mx = { "mx1.example.com", "*.example.net" },
      extensions = { { key = "foo", value = "bar" } },
      ignored = {},
    }, p)
    if math.type then assert.are.equal("integer", math.type(p.max_age)) end
  end)

  it("matches hosts against a parsed table, a table of patterns or the text", function()
    local p = assert(tlsrpt.parse_sts_policy(text))
    assert.is_true(tlsrpt.sts_mx_match(p, "MX1.example.com."))
    assert.is_true(tlsrpt.sts_mx_match(p, "a.example.net"))
    assert.is_false(tlsrpt.sts_mx_match(p, "a.b.example.net"))
    assert.is_true(tlsrpt.sts_mx_match({ mx = { "x.example", "*.example.org" } }, "mx.example.org"))
    assert.is_false(tlsrpt.sts_mx_match({ mx = {} }, "mx.example.org"))
    assert.is_true(tlsrpt.sts_mx_match(text, "a.example.net"))
  end)

  it("returns nil, message, code, info for a policy text that does not parse", function()
    local ok, msg, code, info = tlsrpt.sts_mx_match("version: STSv1\nmode: enforce\n", "mx.example.com")
    assert.is_nil(ok)
    assert.are.equal("field", code)
    assert.are.equal("max_age", info.path)
    assert.are.equal("RFC 8461 §3.2", info.rfc)
    assert.truthy(msg:find("max_age", 1, true))
    -- limits apply to a text policy too
    ok, _, code = tlsrpt.sts_mx_match(text, "mx1.example.com", { max_input = 10 })
    assert.is_nil(ok)
    assert.are.equal("limit", code)
  end)

  it("error messages quoting the file have no controls or broken UTF-8", function()
    local _, msg, code = tlsrpt.parse_sts_policy("version: STSv1\n\27]0;x\7\27[2J: y\nmode: enforce\n")
    assert.are.equal("syntax", code)
    assert.truthy(msg:find("bad key '?]0;x??[2J'", 1, true), msg)
    -- the 80-byte quote cuts a two-byte character: the half becomes '?'
    _, msg = tlsrpt.parse_sts_policy("version: STSv1\nmode: a" .. ("\195\169"):rep(50) .. "\nmx: a.com\nmax_age: 1\n")
    assert.truthy(msg:find("a" .. ("\195\169"):rep(39) .. "?'", 1, true), msg)
    assert.is_nil(msg:find("[\128-\255]", msg:find("?'", 1, true)))
  end)

  it("checks the limits argument of sts_mx_match whatever the policy", function()
    local p = assert(tlsrpt.parse_sts_policy(text))
    assert.has_error(function() tlsrpt.sts_mx_match(p, "mx1.example.com", 42) end)
    assert.has_error(function() tlsrpt.sts_mx_match(text, "mx1.example.com", 42) end)
    assert.is_true(tlsrpt.sts_mx_match(p, "mx1.example.com", { max_input = 10 }))
  end)

  it("accepts __tostring objects for the text and the host", function()
    local function obj(s) return setmetatable({}, { __tostring = function() return s end }) end
    local p = assert(tlsrpt.parse_sts_policy(obj(text)))
    assert.are.equal("testing", p.mode)
    assert.is_true(tlsrpt.sts_mx_match(obj(text), obj("mx1.example.com")))
    assert.is_true(tlsrpt.mx_pattern_match(obj("*.example.com"), obj("a.example.com")))
  end)

  it("reports errors with line, key, offset and RFC section", function()
    local p, msg, code, info = tlsrpt.parse_sts_policy("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n")
    assert.is_nil(p)
    assert.are.equal("field", code)
    assert.are.same({ "mode", 21, "RFC 8461 §3.2" }, { info.path, info.offset, info.rfc })
    assert.truthy(msg:find("line 2", 1, true))
    assert.truthy(msg:find("Enforce", 1, true))
  end)

  it("caps lines, value length and input size", function()
    local many = { "version: STSv1", "mode: enforce", "max_age: 1" }
    for i = 1, 100 do many[#many + 1] = "mx: mx" .. i .. ".example.com" end
    local big = table.concat(many, "\n")
    local p, _, code, info = tlsrpt.parse_sts_policy(big, { max_elements = 50 })
    assert.is_nil(p)
    assert.are.same({ "limit", "max_elements" }, { code, info.path })
    p = assert(tlsrpt.parse_sts_policy(big, { max_elements = 103 }))
    assert.are.equal(100, #p.mx)
    p, _, code, info = tlsrpt.parse_sts_policy(big, { max_input = #big - 1 })
    assert.are.same({ "limit", "max_input" }, { code, info.path })
    p, _, code, info = tlsrpt.parse_sts_policy("foo: " .. string.rep("x", 2000) .. "\n", { max_string = 1000 })
    assert.are.same({ "limit", "max_string" }, { code, info.path })
  end)

  it("raises on arguments of the wrong type", function()
    assert.has_error(function() tlsrpt.parse_sts_policy() end)
    assert.has_error(function() tlsrpt.parse_sts_policy(42) end)
    assert.has_error(function() tlsrpt.parse_sts_policy({}) end)
    assert.has_error(function() tlsrpt.parse_sts_policy(text, 5) end)
    assert.has_error(function() tlsrpt.sts_mx_match(text) end)
    assert.has_error(function() tlsrpt.sts_mx_match(text, 5) end)
    assert.has_error(function() tlsrpt.sts_mx_match(nil, "mx.example.com") end)
    assert.has_error(function() tlsrpt.sts_mx_match({}, "mx.example.com") end)
    assert.has_error(function() tlsrpt.sts_mx_match({ mx = "mx.example.com" }, "mx.example.com") end)
    assert.has_error(function() tlsrpt.sts_mx_match({ mx = { "a.example", 7 } }, "mx.example.com") end)
    assert.has_error(function() tlsrpt.mx_pattern_match("*.example.com") end)
    assert.has_error(function() tlsrpt.mx_pattern_match(1, "a.example.com") end)
  end)
end)
