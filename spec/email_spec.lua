-- tlsrpt.parse_report_email: synthetic e-mails (spec/vectors/email, shared
-- with core/test/test_email.c), the real corpus e-mails, argument checks.
local tlsrpt = require "tlsrpt"
local vectors = require "spec.helpers.vectors"
local files = require "spec.helpers.files"
local corpus = require "spec.helpers.corpus"

local slurp = files.slurp

-- Sorted, comma-separated email-* warning codes of a parsed report.
local function email_warns(r)
  local codes = {}
  for _, w in ipairs(r.warnings or {}) do
    if w.code:sub(1, 6) == "email-" then codes[#codes + 1] = w.code end
  end
  table.sort(codes)
  return table.concat(codes, ",")
end

local function split(list)
  local t = {}
  for name in list:gmatch("[^,]+") do t[#t + 1] = name end
  return t
end

local fields = { "tls_report_domain", "tls_report_submitter", "subject", "from", "date",
                 "message_id", "content_type", "filename" }

describe("parse_report_email: synthetic messages", function()
  local dir = vectors.dir() .. "/email/"
  for _, v in ipairs(vectors.load("email/MANIFEST")) do
    local file = v.input[1]
    it(("line %d: %s"):format(v.line, v.text), function()
      local msg = assert(slurp(dir .. file), "cannot read " .. file)
      local opts = {}
      local a = v.assert
      if a["opt.strict"] then opts.strict = a["opt.strict"] == "1" end
      for _, k in ipairs({ "max_depth", "max_elements", "max_input" }) do
        if a["opt." .. k] then opts[k] = tonumber(a["opt." .. k]) end
      end
      local r, err, code, info = tlsrpt.parse_report_email(msg, opts)
      if not v.ok then
        assert.is_nil(r)
        assert.are.equal(v.code, code)
        assert.is_string(err)
        assert.are.equal(v.code, info.code)
        if a.msgpart then assert.truthy(err:find(a.msgpart, 1, true), err) end
        return
      end
      assert.is_table(r, err)
      assert.is_table(r.email)
      for _, k in ipairs(fields) do
        if a[k] then assert.are.equal(a[k], r.email[k]) end
      end
      if a.report_id then assert.are.equal(a.report_id, r.report_id) end
      if a.absent then
        for _, k in ipairs(split(a.absent)) do assert.is_nil(r.email[k], k) end
      end
      if a.warns then assert.are.equal(a.warns, email_warns(r)) end
    end)
  end
end)

-- Header values checked by reading the files (see core/test/test_email.c).
local reals = {
  { "google-cardinalhealth-no-policy-found.eml", "cardinalhealth.ca", "google.com",
    "Report Domain: cardinalhealth.ca Submitter: google.com Report-ID: <2024.09.03T00.00.00Z+cardinalhealth.ca@google.com>",
    "google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz", "application/tlsrpt+gzip",
    "2024-09-03T00:00:00Z_cardinalhealth.ca", "" },
  { "google-envelope-synthetic-payload-failure.eml", "example.com", "google.com",
    "Report Domain: example.com Submitter: google.com Report-ID: <2026.05.12T00.00.00Z+example.com@google.com>",
    "google.com!example.com!1778544000!1778630399!001.json.gz", "application/tlsrpt+gzip",
    "2026-02-08T00:00:00Z_example.com", "email-filename-date-mismatch,email-subject-report-id-mismatch" },
  { "google-krvtz-sts-enforce-20240915.eml", "krvtz.net", "google.com",
    "Report Domain: krvtz.net Submitter: google.com Report-ID: <2024.09.15T00.00.00Z+krvtz.net@google.com>",
    "google.com!krvtz.net!1726358400!1726444799!001.json.gz", "application/tlsrpt+gzip",
    "2024-09-15T00:00:00Z_krvtz.net", "" },
  { "google-mailauth-inline-json-not-gzip.eml", "example.net", "mail.sender.example.com",
    "Report Domain: example.net    Submitter: mail.sender.example.com    Report-ID: <735ff.e317+bf22029@example.net>",
    "mail.sender.example!example.com!1013662812!1013749130.json", "application/tlsrpt",
    "2020-01-01T00:00:00Z_example.com",
    "email-filename-date-mismatch,email-filename-submitter-mismatch,email-media-type,"
      .. "email-report-domain-mismatch,email-subject-report-id-mismatch,email-submitter-contact-mismatch" },
  { "google-messagingengine-anon-20260511.eml", "example.com", "google.com",
    "Report Domain: example.com Submitter: google.com Report-ID: <2026.05.11T00.00.00Z+example.com@google.com>",
    "google.com!example.com!1778457600!1778543999!001.json.gz", "application/tlsrpt+gzip",
    "2026-05-11T00:00:00Z_example.com", "" },
  { "google-xmox-sts-enforce.eml", "test.xmox.nl", "google.com",
    "Report Domain: test.xmox.nl Submitter: google.com Report-ID: <2022.09.15T00.00.00Z+test.xmox.nl@google.com>",
    "google.com!test.xmox.nl!1663200000!1663286399!001.json.gz", "application/tlsrpt+gzip",
    "2022-09-15T00:00:00Z_test.xmox.nl", "" },
  { "mailru-krvtz-sts-fetch-timeout.eml", "krvtz.net", "mail.ru",
    "Report Domain: krvtz.net Submitter: mail.ru Report-ID: <c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru>",
    "mail.ru!krvtz.net!1674604800!1674691200!001.json.gz", "application/tlsrpt+gzip",
    "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru", "email-submitter-contact-mismatch" },
  { "microsoft-krvtz-sts-and-tlsa.eml", "krvtz.net", "microsoft.com",
    "Report Domain: krvtz.net Submitter: microsoft.com Report-ID: 133708152202987951+krvtz.net",
    "microsoft.com!krvtz.net!1726185600!1726271999!133708152202987951.json.gz",
    "application/tlsrpt+gzip", "133708152202987951+krvtz.net", "" },
  { "microsoft-messagingengine-anon-20260513.eml", "example.com", "microsoft.com",
    "Report Domain: example.com Submitter: microsoft.com Report-ID: 134232617934286362+example.com",
    "microsoft.com!example.com!1778630400!1778716799!134232617934286362.json.gz",
    "application/tlsrpt+gzip", "134232617934286362+example.com", "" },
}

describe("parse_report_email: real corpus", function()
  local dir = corpus.path("reports") .. "/"
  local present = corpus.dir() ~= nil

  for _, t in ipairs(reals) do
    it(t[1], function()
      if not present then return pending(corpus.SKIP) end
      local r, err = tlsrpt.parse_report_email(assert(slurp(dir .. t[1])))
      assert.is_table(r, err)
      assert.are.equal(t[2], r.email.tls_report_domain)
      assert.are.equal(t[3], r.email.tls_report_submitter)
      assert.are.equal(t[4], r.email.subject)
      assert.are.equal(t[5], r.email.filename)
      assert.are.equal(t[6], r.email.content_type)
      assert.are.equal(t[7], r.report_id)
      assert.is_true(#r.policies > 0)
      assert.are.equal(t[8], email_warns(r))
      if t[8] ~= "" then
        local r2, _, code = tlsrpt.parse_report_email(slurp(dir .. t[1]), { strict = true })
        assert.is_nil(r2)
        assert.are.equal("strict", code)
      end
    end)
  end

  it("rejects the cron mail with no_report", function()
    if not present then return pending(corpus.SKIP) end
    local r, err, code, info = tlsrpt.parse_report_email(slurp(dir .. "negative-cron-mail-not-a-report.eml"))
    assert.is_nil(r)
    assert.are.equal("no_report", code)
    assert.truthy(err:find("no TLS report in this message", 1, true))
    assert.are.equal("no_report", info.code)
  end)
end)

describe("parse_report_email: arguments", function()
  local msg = slurp(vectors.dir() .. "/email/base64-gzip-crlf.eml")

  it("accepts an object with __tostring (rspamd text)", function()
    local text = setmetatable({}, { __tostring = function() return msg end })
    local r, err = tlsrpt.parse_report_email(text)
    assert.is_table(r, err)
    assert.are.equal("example.com", r.email.tls_report_domain)
  end)

  it("raises on a message that is not a string", function()
    assert.has_error(function() tlsrpt.parse_report_email() end)
    assert.has_error(function() tlsrpt.parse_report_email(nil) end)
    assert.has_error(function() tlsrpt.parse_report_email({}) end)
    assert.has_error(function() tlsrpt.parse_report_email(true) end)
  end)

  it("raises on bad options", function()
    assert.has_error(function() tlsrpt.parse_report_email(msg, "strict") end)
    assert.has_error(function() tlsrpt.parse_report_email(msg, { strict = "yes" }) end)
    assert.has_error(function() tlsrpt.parse_report_email(msg, { max_depth = "deep" }) end)
    assert.has_error(function() tlsrpt.parse_report_email(msg, { max_input = -1 }) end)
  end)

  it("returns nil, message, code, info for an empty message", function()
    local r, err, code, info = tlsrpt.parse_report_email("")
    assert.is_nil(r)
    assert.is_string(err)
    assert.are.equal("no_report", code)
    assert.are.equal("no_report", info.code)
  end)

  it("keeps a NUL byte and binary junk from crashing", function()
    local r, _, code = tlsrpt.parse_report_email("Content-Type: application/tlsrpt+gzip\n\n\31\139\8\0junk\0")
    assert.is_nil(r)
    assert.are.equal("gzip", code)
  end)
end)
