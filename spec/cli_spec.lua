-- The `tlsrpt` command, run as a separate process (bin/tlsrpt under the
-- interpreter named by TLSRPT_LUA, the C module from TLSRPT_BUILD) on the
-- bundled examples/, hand-made inputs in a temp dir, and the real reports in
-- $TLSRPT_SHARED/corpus/real/reports when present.
local tlsrpt = require "tlsrpt"
local files = require "spec.helpers.files"
local corpus = require "spec.helpers.corpus"

local LUA = os.getenv("TLSRPT_LUA") or (jit and "luajit" or "lua" .. _VERSION:match("%d+%.%d+"))
local BUILD = os.getenv("TLSRPT_BUILD") or "build"
local REAL = corpus.path("reports")

local q, slurp, spit = files.quote, files.slurp, files.spit

local tmpdir
local function tmp(name) return tmpdir .. "/" .. name end

-- Runs bin/tlsrpt with a shell argument string; returns status, stdout, stderr.
local function run(args, env)
  local errf = os.tmpname()
  local cmd = string.format("%s LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH=%s %s bin/tlsrpt %s 2>%s; echo \"rc=$?\"",
    env or "", q(BUILD .. "/" .. LUA .. "/?.so;;"), LUA, args, q(errf))
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  out = out:gsub("rc=%d+\n$", "")
  local err = slurp(errf) or ""
  os.remove(errf)
  return rc, out, err
end

local function lines(s)
  local t = {}
  for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

-- Report JSON built by hand for the tests below.
local function report_json(org, id, day, domain, succ, fails, extra)
  local fds = {}
  for i, f in ipairs(fails or {}) do
    fds[i] = string.format('{"result-type":"%s","receiving-mx-hostname":"%s","failed-session-count":%d}',
      f[1], f[2], f[3])
  end
  local total = 0
  for _, f in ipairs(fails or {}) do total = total + f[3] end
  return string.format([[{"organization-name":"%s","date-range":{"start-datetime":"%sT00:00:00Z",
"end-datetime":"%sT23:59:59Z"},"contact-info":"c@x.example","report-id":"%s","policies":[{"policy":
{"policy-type":"sts","policy-string":["version: STSv1","mode: enforce","mx: mx.%s","max_age: 86400"],
"policy-domain":"%s"},"summary":{"total-successful-session-count":%d,"total-failure-session-count":%d},
"failure-details":[%s]}]%s}]], org, day, day, id, domain, domain, succ, total, table.concat(fds, ","), extra or "")
end

describe("tlsrpt CLI", function()
  setup(function()
    tmpdir = os.tmpname()
    os.remove(tmpdir)
    assert(os.execute("mkdir -p " .. q(tmpdir)))
  end)
  teardown(function()
    if tmpdir then os.execute("rm -rf " .. q(tmpdir)) end
  end)

  describe("helpers (in-process)", function()
    local cli = require "tlsrpt.cli"

    it("accepts only LDH domain names", function()
      for _, d in ipairs({ "example.com", "Example.COM.", "a-b.c1.example", "xn--bcher-kva.example",
        string.rep("a", 63) .. ".example" }) do
        assert.is_true(cli.valid_domain(d), d)
      end
      for _, d in ipairs({ "", ".", "com", "a..b", "-a.example", "a-.example", "a b.example", "a;rm.example",
        "bücher.example", string.rep("a", 64) .. ".example", string.rep("abcdefghi.", 26) .. "x", 5 }) do
        assert.is_false(cli.valid_domain(d), tostring(d))
      end
    end)

    it("reads zone-file-like --records lines", function()
      local f = spit(tmp("r.txt"), '; not a comment\n# comment\r\nA.Example. TXT "v=x; " "a\\"b\\\\" "\\065"\n' ..
        "a.example txt bare\na.example MX 5 MX.A.example.\n\n")
      local db, err = cli.read_records(f)
      assert.is_nil(db)
      assert.matches("r.txt:1:", err) -- ";" starts no comment: a one-word line is malformed
      spit(f, '# comment\r\nA.Example. TXT "v=x; " "a\\"b\\\\" "\\065"\na.example txt bare\na.example MX 5 MX.A.example.\n')
      db = assert(cli.read_records(f))
      assert.are.same({ 'v=x; a"b\\A', "bare" }, db["a.example"].TXT)
      assert.are.same({ { preference = 5, host = "mx.a.example" } }, db["a.example"].MX)
    end)

    it("normalizes a report table to RFC 8460 JSON, dropping absent fields", function()
      local json = require "tlsrpt.json"
      local out = json.encode(cli.normalize({
        organization_name = "O", report_id = "r",
        date_range = { start_epoch = 86400, end_epoch = 172799, start_datetime = "1970-01-02T00:00:00+00:00" },
        policies = { { policy = { policy_type = "no-policy-found", policy_domain = "d.example" },
          summary = { total_successful_session_count = 1, total_failure_session_count = 2 },
          failure_details = { { result_type = "dnssec-invalid", failed_session_count = 2, receiving_ip = "192.0.2.1" } } } },
      }))
      assert.are.equal('{"organization-name":"O","date-range":{"start-datetime":"1970-01-02T00:00:00Z",' ..
        '"end-datetime":"1970-01-02T23:59:59Z"},"report-id":"r","policies":[{"policy":{"policy-type":' ..
        '"no-policy-found","policy-domain":"d.example"},"summary":{"total-successful-session-count":1,' ..
        '"total-failure-session-count":2},"failure-details":[{"result-type":"dnssec-invalid",' ..
        '"receiving-ip":"192.0.2.1","failed-session-count":2}]}]}', out)
    end)

    it("runs main with injected handles", function()
      local out, err = {}, {}
      local h = { out = { write = function(_, ...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end },
        err = { write = function(_, ...) for _, s in ipairs({ ... }) do err[#err + 1] = s end end } }
      assert.are.equal(0, cli.main({ "--version" }, h))
      assert.are.equal("tlsrpt " .. tlsrpt.version .. "\n", table.concat(out))
      assert.are.equal(2, cli.main({ "nope" }, h))
      assert.matches("unknown command", table.concat(err))
      assert.are.equal(2, cli.main({}, h))
      -- a real command through the same handles (no flush, write returns nothing)
      out = {}
      assert.are.equal(0, cli.main({ "parse", "--jsonl", "examples/report.json" }, h))
      assert.matches('^{"organization%-name":', table.concat(out))
      -- a handle whose write fails: exit 1, said on err
      err = {}
      local bad = { out = { write = function() return nil, "No space left on device" end }, err = h.err }
      assert.are.equal(1, cli.main({ "parse", "examples/report.json" }, bad))
      assert.matches("cannot write the output: No space left on device", table.concat(err), 1, true)
      assert.are.equal(1, cli.main({ "--version" }, bad))
    end)
  end)

  describe("usage", function()
    it("prints the version", function()
      local rc, out = run("--version")
      assert.are.equal(0, rc)
      assert.are.equal("tlsrpt " .. tlsrpt.version .. "\n", out)
    end)

    it("prints help for the tool and each command", function()
      local rc, out = run("--help")
      assert.are.equal(0, rc)
      for _, c in ipairs({ "parse", "validate", "check", "summary" }) do
        assert.matches("\n  " .. c .. " ", out, 1, true)
        local crc, cout = run(c .. " --help")
        assert.are.equal(0, crc)
        assert.matches("^Usage: tlsrpt " .. c, cout)
      end
      assert.are.equal(0, (run("help summary")))
    end)

    it("exits 2 on usage errors", function()
      for _, args in ipairs({ "", "frobnicate", "parse", "parse --nope x", "parse --jsonl=1 x",
        "validate", "check", "check a.example b.example", "check 'exa mple.com'", "check -- -x.example",
        "check a..example", "check localhost", "check " .. string.rep("a", 64) .. ".example",
        "check example.com --port 0", "check example.com --port", "check example.com --timeout x",
        "check example.com --nameserver not-an-ip --policy examples/mta-sts.txt",
        "summary", "summary --top 0 examples", "summary --progress-every -1 examples" }) do
        local rc, out, err = run(args)
        assert.are.equal(2, rc, args)
        assert.are.equal("", out, args)
        assert.is_true(#err > 0, args)
      end
    end)
  end)

  describe("parse", function()
    it("prints each example as normalized RFC 8460 JSON", function()
      local rc, out, err = run("parse examples/report.json")
      assert.are.equal(0, rc)
      assert.are.equal("", err)
      -- RFC 8460 §4.4 key order, 2-space indent
      assert.matches('^{\n  "organization%-name": "Mail Sender Inc.",\n  "date%-range": {\n' ..
        '    "start%-datetime": "2024%-01%-01T00:00:00Z",\n    "end%-datetime": "2024%-01%-01T23:59:59Z"\n  },\n' ..
        '  "contact%-info": "tlsrpt%-contact@mail.sender.example",\n  "report%-id": ', out)
      -- the output is itself a report with the example's numbers
      local r = assert(tlsrpt.parse_report(out, { strict = true }))
      assert.are.equal(1500, r.policies[1].summary.total_successful_session_count)
      assert.are.equal(2, #r.policies[1].failure_details)
      assert.are.equal("certificate-expired", r.policies[1].failure_details[1].result_type)
      assert.are.equal("https://mail.sender.example/tlsrpt/help",
        r.policies[1].failure_details[2].additional_information)
      assert.are.same({ "mx1.example.com", "mx2.example.com" }, r.policies[1].policy.mx_host)

      rc, out = run("parse examples/report.json.gz")
      assert.are.equal(0, rc)
      r = assert(tlsrpt.parse_report(out, { strict = true }))
      assert.are.equal("2024-01-02T00:00:00Z", r.date_range.start_datetime)
      assert.are.equal("no-policy-found", r.policies[2].policy.policy_type)
      assert.are.equal(40, r.policies[2].summary.total_successful_session_count)

      rc, out = run("parse examples/report.eml")
      assert.are.equal(0, rc)
      r = assert(tlsrpt.parse_report(out, { strict = true }))
      assert.are.equal("Other Mail Co.", r.organization_name)
      assert.are.equal("X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
        r.policies[1].failure_details[1].failure_reason_code)
    end)

    it("is idempotent: parsing its own output gives the same output", function()
      for _, f in ipairs({ "examples/report.json", "examples/report.json.gz", "examples/report.eml" }) do
        local _, a = run("parse " .. f)
        local _, b = run("parse " .. q(spit(tmp("again.json"), a)))
        assert.are.equal(a, b, f)
      end
    end)

    it("prints one line per file with --jsonl and reads stdin as -", function()
      local rc, out = run("parse --jsonl examples/report.json examples/report.json.gz examples/report.eml")
      assert.are.equal(0, rc)
      local l = lines(out)
      assert.are.equal(3, #l)
      for _, x in ipairs(l) do assert.matches('^{"organization%-name":', x) end
      local rc2, out2 = run("parse --jsonl - < examples/report.json")
      assert.are.equal(0, rc2)
      assert.are.equal(l[1] .. "\n", out2)
    end)

    it("normalizes dates to RFC 3339 UTC and warns on stderr", function()
      local f = spit(tmp("notz.json"), (report_json("Org", "id1", "2024-03-26", "example.net", 5, {})
        :gsub("T00:00:00Z", "T00:00:00")))
      local rc, out, err = run("parse " .. q(f))
      assert.are.equal(0, rc)
      assert.matches('"start%-datetime": "2024%-03%-26T00:00:00Z"', out)
      assert.matches("notz.json: warning: ", err, 1, true)
      -- --strict turns the deviation into an error
      local src, sout, serr = run("parse --strict " .. q(f))
      assert.are.equal(1, src)
      assert.are.equal("", sout)
      assert.matches("notz.json: error: .*%[strict%]", serr)
    end)

    it("exits 1 for unreadable or invalid input but prints the good files", function()
      local bad = spit(tmp("bad.json"), '{"organization-name": ')
      local rc, out, err = run("parse examples/report.json " .. q(bad) .. " " .. q(tmp("missing.json")))
      assert.are.equal(1, rc)
      assert.matches('"Mail Sender Inc."', out, 1, true)
      assert.matches("bad.json: error: ", err, 1, true)
      assert.matches("missing.json: error: .*%[io%]", err)
      local rc2, _, err2 = run("parse " .. q(tmpdir))
      assert.are.equal(1, rc2)
      assert.matches("error", err2)
      -- a message that holds no report
      local mail = spit(tmp("cron.eml"), "From: cron@x.example\r\nSubject: hi\r\n\r\nhello\r\n")
      local rc3, _, err3 = run("parse " .. q(mail))
      assert.are.equal(1, rc3)
      assert.matches("%[no_report%]", err3)
    end)

    it("refuses a file larger than 64 MiB without reading it (code limit)", function()
      local path = tmp("huge.json")
      local f = assert(io.open(path, "wb"))
      f:seek("set", 64 * 1024 * 1024) -- sparse: one byte past the cap
      f:write("}")
      f:close()
      local rc, _, err = run("parse " .. q(path))
      assert.are.equal(1, rc)
      assert.matches("huge.json: error: .*%[limit%]", err)
    end)
  end)

  describe("validate", function()
    it("shows control characters from a report as '?' (no terminal escapes)", function()
      local f = spit(tmp("esc.json"), report_json("Org", "esc1", "2024-03-01", "ex\\u001b[31mample.com", 5,
        { { "x\\u001b[2Jy", "mx.example.com", 1 } }))
      local rc, out, err = run("parse " .. q(f))
      assert.are.equal(0, rc)
      assert.matches("ex?[31mample.com", err, 1, true)
      assert.is_nil(err:find("\27", 1, true))
      rc, out = run("validate " .. q(f))
      assert.are.equal(1, rc)
      assert.matches("x?[2Jy", out, 1, true)
      assert.is_nil(out:find("\27", 1, true))
    end)

    it("reports valid files and exits 0", function()
      local rc, out = run("validate examples/report.json examples/report.json.gz examples/report.eml")
      assert.are.equal(0, rc)
      assert.are.same({ "examples/report.json: valid", "examples/report.json.gz: valid",
        "examples/report.eml: valid" }, lines(out))
      local qrc, qout = run("validate --quiet examples/report.json")
      assert.are.equal(0, qrc)
      assert.are.equal("", qout)
      local src, sout = run("validate - < examples/report.json.gz")
      assert.are.equal(0, src)
      assert.are.equal("-: valid\n", sout)
    end)

    it("prints one FILE: finding line per deviation and exits 1", function()
      local f = spit(tmp("dev.json"), (report_json("Org", "id1", "2024-03-26", "example.net", 5, {})
        :gsub("T00:00:00Z", "T00:00:00")))
      local bad = spit(tmp("broken.json"), "[1,2")
      local rc, out = run("validate examples/report.json " .. q(f) .. " " .. q(bad))
      assert.are.equal(1, rc)
      local l = lines(out)
      assert.are.equal("examples/report.json: valid", l[1])
      local dev, broken = 0, 0
      for i = 2, #l do
        if l[i]:find(f .. ": ", 1, true) == 1 then dev = dev + 1 end
        if l[i]:find(bad .. ": ", 1, true) == 1 then broken = broken + 1 end
      end
      assert.is_true(dev >= 1)
      assert.are.equal(1, broken)
      assert.are.equal(#l, 1 + dev + broken)
    end)
  end)

  describe("check", function()
    local function records(text) return spit(tmp("records.txt"), text) end
    local GOOD = [[
# comment
_smtp._tls.example.com. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"
_mta-sts.example.com TXT "v=STSv1; " "id=2024"
example.com MX 20 mx2.example.com.
EXAMPLE.com. MX 10 mx1.example.com
]]

    it("passes the bundled example and exits 0", function()
      local rc, out = run("check example.com --records examples/dns-records.txt --policy examples/mta-sts.txt")
      assert.are.equal(0, rc)
      local l = lines(out)
      assert.are.equal("Checking example.com", l[1])
      assert.are.equal("✓ TLS-RPT record at _smtp._tls.example.com: reports go to mailto:tlsrpt@example.com", l[2])
      assert.are.equal("✓ MTA-STS record at _mta-sts.example.com: id=20240101T000000", l[3])
      assert.matches("^✓ MTA%-STS policy: mode enforce, max_age 604800", l[4])
      assert.are.equal("✓ MX records of example.com: mx1.example.com, mx2.example.com", l[5])
      assert.are.equal("✓ MX mx1.example.com matches the policy", l[6])
      assert.are.equal("✓ MX mx2.example.com matches the policy", l[7])
      assert.are.equal("All checks passed.", l[#l])
      assert.is_nil(out:find("✗", 1, true))
    end)

    it("joins TXT character-strings, sorts MX by preference, folds case", function()
      local pol = spit(tmp("pol.txt"), "version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 1209600\n")
      local rc, out = run("check Example.COM. --records " .. q(records(GOOD)) .. " --policy " .. q(pol))
      assert.are.equal(0, rc)
      assert.matches("id=2024\n", out, 1, true)
      assert.matches("MX records of example.com: mx1.example.com, mx2.example.com\n", out, 1, true)
    end)

    it("fails an MX the policy does not cover (RFC 8461 §4.1)", function()
      local pol = spit(tmp("pol.txt"), "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: mx9.example.com\nmax_age: 1209600\n")
      local rc, out = run("check example.com --records " .. q(records(GOOD)) .. " --policy " .. q(pol))
      assert.are.equal(1, rc)
      assert.matches("✓ MX mx1.example.com matches the policy\n", out, 1, true)
      assert.matches("✗ MX mx2.example.com is not covered by the policy's mx patterns (RFC 8461 §4.1)\n", out, 1, true)
      assert.matches("! policy mx pattern mx9.example.com matches no MX record\n", out, 1, true)
      assert.matches("Problems found.\n$", out)
    end)

    it("advises on testing mode and a short max_age without failing", function()
      local pol = spit(tmp("pol.txt"), "version: STSv1\nmode: testing\nmx: *.example.com\nmax_age: 86400\n")
      local rc, out = run("check example.com --records " .. q(records(GOOD)) .. " --policy " .. q(pol))
      assert.are.equal(0, rc)
      assert.matches("! policy mode is testing", out, 1, true)
      assert.matches("! max_age 86400 is under a week", out, 1, true)
    end)

    it("MX coverage and unused patterns agree with tlsrpt.mx_pattern_match", function()
      local hosts = { "mx1.example.com", "MX2.Example.COM.", "a.b.example.net", "b.example.net",
        "x.example.org", "example.org", "mx.other.test", "mailhost" }
      local pats = { "MX1.example.com.", "*.example.net", "*.Example.COM", "example.org.",
        "*.org", "unused.example.com", "*.unused.test", "*.b.example.net", "MAILHOST." }
      local rec = { '_smtp._tls.example.com TXT "v=TLSRPTv1; rua=mailto:r@example.com"',
        '_mta-sts.example.com TXT "v=STSv1; id=1"' }
      for i, h in ipairs(hosts) do rec[#rec + 1] = ("example.com MX %d %s"):format(i, h) end
      local pol = spit(tmp("pol.txt"), "version: STSv1\nmode: enforce\nmx: " .. table.concat(pats, "\nmx: ")
        .. "\nmax_age: 1209600\n")
      local rc, out = run("check example.com --records " .. q(records(table.concat(rec, "\n") .. "\n"))
        .. " --policy " .. q(pol))
      local uncovered = false
      for _, h in ipairs(hosts) do
        local any = false
        for _, p in ipairs(pats) do any = any or tlsrpt.mx_pattern_match(p, h) end
        local shown = h:gsub("%.$", ""):lower() -- as the resolver gives it
        local want = any and ("✓ MX " .. shown .. " matches the policy\n")
          or ("✗ MX " .. shown .. " is not covered by the policy's mx patterns (RFC 8461 §4.1)\n")
        assert.truthy(out:find(want, 1, true), want)
        uncovered = uncovered or not any
      end
      for _, p in ipairs(pats) do
        local used = false
        for _, h in ipairs(hosts) do used = used or tlsrpt.mx_pattern_match(p, h) end
        local advice = "! policy mx pattern " .. p .. " matches no MX record\n"
        assert.are.equal(not used, out:find(advice, 1, true) ~= nil, advice)
      end
      assert.is_true(uncovered) -- mx.other.test
      assert.are.equal(1, rc)
    end)

    it("points out repeated policy fields, which senders ignore (RFC 8461 §3.2)", function()
      local pol = spit(tmp("pol.txt"), "version: STSv1\nmode: enforce\nmode: none\nmx: *.example.com\n"
        .. "max_age: 1209600\nmax_age: 0\n")
      local rc, out = run("check example.com --records " .. q(records(GOOD)) .. " --policy " .. q(pol))
      assert.are.equal(0, rc)
      assert.matches("✓ MTA-STS policy: mode enforce, max_age 1209600,", out, 1, true)
      assert.matches("! policy repeats mode: 'none' is ignored, the first mode counts (RFC 8461 §3.2)\n", out, 1, true)
      assert.matches("! policy repeats max_age: '0' is ignored, the first max_age counts (RFC 8461 §3.2)\n", out, 1, true)
    end)

    it("prints no control characters from its inputs", function()
      local rc, out = run("check example.com --records " .. q(records(GOOD)) .. " --policy " .. q(tmp("no\27[2Jsuch")))
      assert.are.equal(1, rc)
      assert.truthy(out:find("no?[2Jsuch: ", 1, true), out)
      assert.is_nil(out:find("\27", 1, true))
    end)

    it("fails on missing, duplicate or broken records and a bad policy", function()
      local pol = spit(tmp("pol.txt"), "version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 1209600\n")
      -- no TLS-RPT name at all, two STS records
      local rc, out = run("check example.com --policy " .. q(pol) .. " --records " .. q(records([[
_mta-sts.example.com TXT "v=STSv1; id=1"
_mta-sts.example.com TXT "v=STSv1; id=2"
example.com MX 10 mx1.example.com
]])))
      assert.are.equal(1, rc)
      assert.matches("✗ TLS%-RPT record at _smtp._tls.example.com: .*%[nxdomain%]", out)
      assert.matches("✗ MTA%-STS record at _mta%-sts.example.com: .*%[multiple%]", out)
      -- a TXT that is not TLS-RPT, a malformed STS record, no MX
      rc, out = run("check example.com --policy " .. q(pol) .. " --records " .. q(records([[
_smtp._tls.example.com TXT "v=spf1 -all"
_mta-sts.example.com TXT "v=STSv1; id=not_alnum!"
example.com TXT "x"
]])))
      assert.are.equal(1, rc)
      assert.matches("✗ TLS%-RPT record at _smtp._tls.example.com: .*%[no_record%]", out)
      assert.matches("✗ MTA%-STS record at _mta%-sts.example.com: .*%]", out)
      -- no MX: the domain itself is the mail host (RFC 5321 §5.1), checked against the policy
      assert.matches("! MX records of example.com: none, so mail goes to example.com itself", out, 1, true)
      assert.matches("✗ MX example.com is not covered by the policy's mx patterns", out, 1, true)
      -- a policy that does not parse, and one that cannot be read
      local badpol = spit(tmp("badpol.txt"), "version: STSv2\nmode: sometimes\n")
      rc, out = run("check example.com --records " .. q(records(GOOD)) .. " --policy " .. q(badpol))
      assert.are.equal(1, rc)
      assert.matches("✗ MTA%-STS policy: .*%(RFC 8461 §3%.2%)", out)
      rc, out = run("check example.com --records " .. q(records(GOOD)) .. " --policy " .. q(tmp("nope.txt")))
      assert.are.equal(1, rc)
      assert.matches("✗ MTA%-STS policy: .*nope.txt", out)
    end)

    it("notes a null MX (RFC 7505)", function()
      local pol = spit(tmp("pol.txt"), "version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 1209600\n")
      local _, out = run("check example.com --policy " .. q(pol) .. " --records " .. q(records(
        GOOD:gsub("example.com MX 20 mx2.example.com.\nEXAMPLE.com. MX 10 mx1.example.com\n", "example.com MX 0 .\n"))))
      assert.matches("! example.com has a null MX (RFC 7505)", out, 1, true)
    end)

    it("a null MX makes missing records advice; beside other MX records it is an error", function()
      local pol = spit(tmp("pol.txt"), "version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 1209600\n")
      local rc, out = run("check example.com --policy " .. q(pol) .. " --records " .. q(records("example.com MX 0 .\n")))
      assert.are.equal(0, rc, out)
      assert.matches("! TLS-RPT record at _smtp._tls.example.com", out, 1, true)
      assert.matches("! MTA-STS record at _mta-sts.example.com", out, 1, true)
      rc, out = run("check example.com --policy " .. q(pol) .. " --records " .. q(records(GOOD .. "example.com MX 0 .\n")))
      assert.are.equal(1, rc)
      assert.matches("✗ MX records of example.com: a null MX beside other MX records", out, 1, true)
      assert.matches("✓ MX mx1.example.com matches the policy", out, 1, true)
      assert.is_nil(out:find("MX . is not covered", 1, true))
    end)

    it("--records: a name with names below it exists (NODATA, not NXDOMAIN; RFC 8020)", function()
      local rc, out = run("check example.com --policy examples/mta-sts.txt --records " .. q(records([[
_smtp._tls.example.com TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"
_mta-sts.example.com TXT "v=STSv1; id=1"
]])))
      assert.matches("! MX records of example.com: none, so mail goes to example.com itself", out, 1, true)
      assert.is_nil(out:find("nxdomain", 1, true))
      assert.are.equal(1, rc) -- example.com itself is not covered by the example policy
    end)

    it("mode none: no MX coverage to check (RFC 8461 §5)", function()
      local pol = spit(tmp("none.txt"), "version: STSv1\nmode: none\nmax_age: 1209600\n")
      local rc, out = run("check example.com --policy " .. q(pol) .. " --records " .. q(records(GOOD)))
      assert.are.equal(0, rc, out)
      assert.matches("! policy mode is none", out, 1, true)
      assert.is_nil(out:find("not covered", 1, true))
    end)

    it("fetches the policy with curl safely: -q first, its exit status and Content-Type checked", function()
      -- a fake curl: logs its arguments, writes a policy to -o, prints the -w line, exits as told
      local bin = tmp("fakebin")
      os.execute("mkdir -p " .. q(bin))
      local log = tmp("curl.log")
      spit(bin .. "/curl", "#!/bin/sh\n" ..
        "printf '%s\\n' \"$@\" > " .. q(log) .. "\n" ..
        "while [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n" ..
        "printf 'version: STSv1\\nmode: enforce\\nmx: *.example.com\\nmax_age: 1209600\\n' > \"$out\"\n" ..
        "[ -n \"$FAKE_BIG\" ] && head -c 70000 /dev/zero >> \"$out\"\n" ..
        "printf '200 %s\\n' \"$FAKE_CTYPE\"\n" ..
        "[ \"$FAKE_RC\" = 0 ] || echo 'curl: (28) Operation timed out' >&2\n" ..
        "exit $FAKE_RC\n")
      os.execute("chmod +x " .. q(bin .. "/curl"))
      local function check(rc_, ctype)
        return run("check example.com --records " .. q(records(GOOD)),
          "PATH=" .. q(bin) .. ":\"$PATH\" FAKE_RC=" .. rc_ .. " FAKE_CTYPE=" .. q(ctype))
      end
      local rc, out = check(0, "text/plain; charset=utf-8")
      assert.matches("✓ MTA-STS policy: mode enforce", out, 1, true)
      assert.are.equal("-q", (slurp(log) or ""):match("^[^\n]*"), "no ~/.curlrc")
      assert.truthy((slurp(log) or ""):find("\n--max-redirs\n0\n", 1, true))
      -- a timeout after the 200 header: the partial body is no policy
      rc, out = check(28, "text/plain")
      assert.are.equal(1, rc)
      assert.matches("✗ MTA-STS policy: GET https://mta-sts.example.com/.well-known/mta-sts.txt: curl: (28)", out, 1, true)
      -- a body past 64 KiB without a Content-Length (curl enforces --max-filesize only with one)
      rc, out = run("check example.com --records " .. q(records(GOOD)),
        "PATH=" .. q(bin) .. ":\"$PATH\" FAKE_RC=0 FAKE_BIG=1 FAKE_CTYPE=text/plain")
      assert.are.equal(1, rc)
      assert.matches("policy larger than 65536 bytes (RFC 8461 §3.3)", out, 1, true)
      -- a media type that only starts like text/plain
      rc, out = check(0, "text/plainfoo")
      assert.are.equal(1, rc)
      assert.matches("requires text/plain", out, 1, true)
      -- the module function refuses what is not a domain name
      local check_mod = require "tlsrpt.check"
      local body, msg = check_mod.fetch_policy("evil.example@mta-sts.good.example/x#")
      assert.is_nil(body)
      assert.matches("is not a domain name", msg, 1, true)
    end)

    it("uses tlsrpt.resolver with --nameserver/--port and fails cleanly when DNS does not answer", function()
      -- Nothing listens on 127.0.0.1 port 9 (discard) here; no packet leaves the host.
      local rc, out = run("check example.com --nameserver 127.0.0.1 --port 9 --timeout 100 --policy examples/mta-sts.txt")
      assert.are.equal(1, rc)
      assert.matches("✗ TLS%-RPT record at _smtp._tls.example.com: .*%[dns%]\n", out)
      assert.matches("✗ MTA%-STS record at _mta%-sts.example.com: .*%[dns%]\n", out)
      assert.matches("✓ MTA-STS policy: mode enforce", out, 1, true)
      assert.matches("✗ MX records of example.com: .*%[dns%]\n", out)
    end)

    it("exits 2 on a malformed --records file", function()
      for _, text in ipairs({ "justonefield\n", 'x.example TXT "unterminated\n', "x.example MX ten host\n",
        "x.example MX 70000 host\n", "x.example AAAA ::1\n", 'x.example TXT "\\999"\n', 'x.example TXT a "b"\n' }) do
        local rc, out, err = run("check example.com --policy examples/mta-sts.txt --records " .. q(records(text)))
        assert.are.equal(2, rc, text)
        assert.are.equal("", out)
        assert.matches("records", err)
      end
      local rc = run("check example.com --policy examples/mta-sts.txt --records " .. q(tmp("none.txt")))
      assert.are.equal(2, rc)
    end)
  end)

  describe("summary", function()
    it("totals the examples per domain and organization with failure causes", function()
      local rc, out, err = run("summary examples")
      assert.are.equal(0, rc)
      assert.are.equal("", err)
      -- hand-computed from examples/: 1500+1200+40+310 successes, 4+2+5 failures
      assert.matches("Reports: 3 from 3 files (0 duplicates, 0 invalid)\n", out, 1, true)
      assert.matches("Period: 2024-01-01 .. 2024-01-03\n", out, 1, true)
      assert.matches("Sessions: 3050 successful, 11 failed (0.4% failed)\n", out, 1, true)
      assert.matches("\nexample%.com +3 +3010 +11 +0%.4%%\n", out)
      assert.matches("\nmail%.example%.com +1 +40 +0 +0%.0%%\n", out)
      assert.matches("\nMail Sender Inc%. +2 +2740 +6 +0%.2%%\n", out)
      assert.matches("\nOther Mail Co%. +1 +310 +5 +1%.6%%\n", out)
      assert.matches("\nexample%.com +certificate%-expired +mx2%.example%.com +%- +5 +2\n", out)
      assert.matches("\nexample%.com +validation%-failure +mx1%.example%.com +X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY +5 +1\n", out)
      assert.matches("\nexample%.com +starttls%-not%-supported +mx2%.example%.com +%- +1 +1\n", out)
      -- columns line up: every row of a table is as wide as its rule
      local l = lines(out)
      for i, x in ipairs(l) do
        if x:match("^%-+  ") then
          assert.is_true(#l[i - 1] <= #x)
        end
      end
    end)

    it("drops duplicates and counts invalid files (exit 1)", function()
      local dir = tmp("reports")
      os.execute("mkdir -p " .. q(dir .. "/sub") .. " && cp examples/report.json examples/report.eml " .. q(dir))
      spit(dir .. "/sub/copy.json", slurp("examples/report.json"))
      spit(dir .. "/sub/broken.json", "{")
      spit(dir .. "/README.txt", "not a report, skipped by extension")
      spit(dir .. "/.hidden.json", "{")
      local rc, out, err = run("summary " .. q(dir))
      assert.are.equal(1, rc)
      assert.matches("Reports: 2 from 4 files (1 duplicates, 1 invalid)\n", out, 1, true)
      assert.matches("broken.json: error: ", err, 1, true)
      assert.is_nil(err:find("README", 1, true))
      assert.is_nil(err:find("hidden", 1, true))
      local rc2, _, err2 = run("summary " .. q(tmp("does-not-exist")))
      assert.are.equal(1, rc2)
      assert.matches("does%-not%-exist", err2)
      -- without LuaFileSystem, find(1) walks the same files
      local noinit = "LUA_INIT='package.preload.lfs = function() error(\"no lfs\") end' "
      local rc3, out3, err3 = run("summary " .. q(dir), noinit)
      assert.are.same({ rc, out, err }, { rc3, out3, err3 })
      local rc4, _, err4 = run("summary " .. q(tmp("does-not-exist")), noinit)
      assert.are.same({ 1, err2 }, { rc4, err4 })
      -- a dangling link is a problem only where a report was meant
      os.execute("ln -s /nonexistent " .. q(dir .. "/gone.txt") .. " && ln -s /nonexistent " .. q(dir .. "/gone.json"))
      local rc5, _, err5 = run("summary " .. q(dir))
      assert.are.equal(1, rc5)
      assert.is_nil(err5:find("gone.txt", 1, true))
      if pcall(require, "lfs") then assert.matches("gone.json", err5, 1, true) end
      rc5, _, err5 = run("summary " .. q(dir), noinit) -- find(1) sees no dangling link
      assert.are.equal(1, rc5)
      assert.is_nil(err5:find("gone.txt", 1, true))
    end)

    it("without LuaFileSystem: a directory named like an option, and one nested too deep", function()
      local fsutil = require "tlsrpt.fsutil"
      local saved_loaded, saved_preload = package.loaded.lfs, package.preload.lfs
      package.loaded.lfs, package.preload.lfs = nil, function() error("no lfs") end
      local name = "-tlsrpt-spec-" .. os.time() -- relative, in the working directory
      local deep = tmp("deep")
      os.execute("mkdir -- " .. q(name) .. " && cp examples/report.json " .. q("./" .. name .. "/") ..
        " && mkdir -p " .. q(deep .. string.rep("/d", 40)) .. " && cp examples/report.json " .. q(deep .. "/"))
      local hidden = tmp("hidden")
      os.execute("mkdir -p " .. q(hidden .. "/.git" .. string.rep("/d", 40)) .. " && cp examples/report.json " .. q(hidden .. "/"))
      local out, errs, out2, errs2, out3, errs3 = {}, {}, {}, {}, {}, {}
      local ok, e = pcall(function()
        fsutil.report_files(name, out, errs)
        fsutil.report_files(deep, out2, errs2)
        fsutil.report_files(hidden, out3, errs3)
      end)
      os.execute("rm -rf -- " .. q(name) .. " ./-mindepth")
      package.loaded.lfs, package.preload.lfs = saved_loaded, saved_preload
      assert(ok, e)
      assert.are.same({ "./" .. name .. "/report.json" }, out)
      assert.are.same({}, errs)
      assert.are.same({ deep .. "/report.json" }, out2)
      assert.are.same({ deep .. ": directories nested too deep" }, errs2)
      -- hidden trees are skipped, however deep
      assert.are.same({ hidden .. "/report.json" }, out3)
      assert.are.same({}, errs3)
    end)

    it("a full disk is a failure, not a success", function()
      local rc, _, err = run("summary --html /dev/full examples/report.json")
      assert.are.equal(1, rc)
      assert.matches("--html", err, 1, true)
      rc, _, err = run("parse examples/report.json >/dev/full")
      assert.are.equal(1, rc)
      assert.matches("cannot write the output", err, 1, true)
    end)

    it("prints JSON with --json", function()
      local rc, out = run("summary --json examples/report.json examples/report.eml")
      assert.are.equal(0, rc)
      assert.matches('^{\n  "files": 2,\n  "reports": 2,\n  "duplicates": 0,\n  "invalid": 0,\n' ..
        '  "success": 1810,\n  "failure": 9,\n  "period": {\n    "from": "2024%-01%-01",\n    "to": "2024%-01%-03"\n  },', out)
      assert.matches('"result_type": "validation%-failure",\n%s+"success": 0,\n%s+"failure": 5', out)
    end)

    it("writes a self-contained HTML page with --html, escaping report text", function()
      local dir = tmp("html")
      os.execute("mkdir -p " .. q(dir))
      spit(dir .. "/evil.json", report_json('<script>alert(1)</script> & \\"co\\"', "e1", "2024-02-01",
        "evil.example", 10, { { "certificate-expired", "<b>mx</b>.evil.example", 2 } }))
      local page = tmp("out.html")
      local rc, out = run("summary --html " .. q(page) .. " examples " .. q(dir))
      assert.are.equal(0, rc)
      assert.matches("Reports: 4 from 4 files", out, 1, true)
      local html = assert(slurp(page))
      assert.matches("^<!DOCTYPE html>", html)
      assert.matches("</html>\n$", html)
      assert.are.equal(2, select(2, html:gsub("<svg ", "")))
      assert.matches("<title>2024%-02%-01: 2 failed, 10 successful</title>", html)
      assert.matches("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;", html, 1, true)
      assert.is_nil(html:find("<script", 1, true))
      assert.is_nil(html:find("<b>mx", 1, true))
      -- no external assets
      assert.is_nil(html:find("<link", 1, true))
      assert.is_nil(html:find(" src=", 1, true))
      assert.is_nil(html:find("url(", 1, true))
      local rc2, _, err2 = run("summary --html " .. q(tmp("no/such/dir/x.html")) .. " examples")
      assert.are.equal(1, rc2)
      assert.matches("%-%-html", err2)
    end)

    it("reports progress on stderr with --progress", function()
      local rc, _, err = run("summary --progress --progress-every 2 examples")
      assert.are.equal(0, rc)
      assert.are.same({ "2/3 files, 2 reports, 0 invalid", "3/3 files, 3 reports, 0 invalid" }, lines(err))
      local _, _, quiet = run("summary examples")
      assert.are.equal("", quiet) -- stderr is not a tty here
    end)

    it("limits the failure-cause table with --top", function()
      local _, out = run("summary --top 1 examples")
      local causes = out:match("Failure causes\n(.*)$")
      assert.are.equal(3, #lines(causes)) -- header, rule, one row
    end)
  end)

  describe("real reports", function()
    local have = files.is_dir(REAL)

    it("parses every real report or rejects it cleanly", function()
      if not have then pending("no corpus at " .. REAL) return end
      local names = files.ls(REAL)
      assert.is_true(#names >= 20)
      local parsed = 0
      for _, n in ipairs(names) do
        local rc, out, err = run("parse --jsonl " .. q(REAL .. "/" .. n))
        assert.is_true(rc == 0 or rc == 1, n .. ": status " .. tostring(rc) .. " " .. err)
        if rc == 0 then
          parsed = parsed + 1
          assert.are.equal(1, #lines(out), n)
          -- the normalized form is a report again, with the same totals
          local a = assert(tlsrpt.parse_report(out), n)
          local raw = slurp(REAL .. "/" .. n)
          local b = n:match("%.eml$") and tlsrpt.parse_report_email(raw) or tlsrpt.parse_report(raw)
          assert.are.equal(b.organization_name, a.organization_name, n)
          assert.are.equal(b.report_id, a.report_id, n)
          assert.are.equal(#b.policies, #a.policies, n)
          for i, pr in ipairs(b.policies) do
            assert.are.same(pr.summary, a.policies[i].summary, n)
            assert.are.equal(#(pr.failure_details or {}), #(a.policies[i].failure_details or {}), n)
          end
        else
          assert.matches(": error: .*%[[%w_]+%]\n$", err, nil, false)
        end
      end
      assert.is_true(parsed >= 20, "parsed " .. parsed)
      -- the negative sample is not a report
      local rc, _, err = run("parse " .. q(REAL .. "/negative-cron-mail-not-a-report.eml"))
      assert.are.equal(1, rc)
      assert.matches("%[no_report%]", err)
    end)

    it("summarizes the corpus, deduplicating the same report in several forms", function()
      if not have then pending("no corpus at " .. REAL) return end
      local rc, out, err = run("summary --json " .. q(REAL))
      assert.are.equal(1, rc) -- the negative sample is invalid input
      assert.matches("negative%-cron%-mail%-not%-a%-report%.eml: error", err)
      local files = tonumber(out:match('"files": (%d+)'))
      local reports = tonumber(out:match('"reports": (%d+)'))
      local dups = tonumber(out:match('"duplicates": (%d+)'))
      local invalid = tonumber(out:match('"invalid": (%d+)'))
      assert.are.equal(files, reports + dups + invalid)
      -- mail.ru .eml/.json, mailweave .json/.json.gz and mail-auth .eml/.json
      -- each carry one report-id twice (SOURCES.md)
      assert.is_true(dups >= 3, "duplicates " .. tostring(dups))
      assert.is_true(reports >= 18, "reports " .. tostring(reports))
    end)
  end)
end)
