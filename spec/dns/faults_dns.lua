-- tlsrpt.resolver options, and servers that fail: the fakes of
-- spec/dns/fakedns.py on 127.0.0.1, ports passed in TLSRPT_FAKE_* by
-- spec/t/dns.sh. The option tests send nothing.
local tlsrpt = require "tlsrpt"

local function fake(mode)
  return tonumber(os.getenv("TLSRPT_FAKE_" .. mode:upper()) or "")
end

describe("tlsrpt.resolver options", function()
  it("a nameserver that is not an address literal is nil, message, 'arg'", function()
    for _, ns in ipairs{ "localhost", "dns.example.com", "1.2.3.4.5", "", "127.0.0.1:53" } do
      local r, msg, code, info = tlsrpt.resolver{ nameserver = ns }
      assert.is_nil(r)
      assert.are.equal("arg", code)
      assert.truthy(msg:find("is not an IPv4 or IPv6 address", 1, true), msg)
      assert.are.equal("nameserver", info.path)
    end
  end)

  it("IPv4 and IPv6 literals are accepted", function()
    for _, ns in ipairs{ "127.0.0.1", "::1", "[::1]" } do
      assert.are.equal("userdata", type(tlsrpt.resolver{ nameserver = ns }))
    end
  end)

  it("out-of-range numbers are nil, message, 'arg'", function()
    local r, msg, code = tlsrpt.resolver{ nameserver = "127.0.0.1", port = 65536 }
    assert.is_nil(r)
    assert.are.equal("arg", code)
    assert.are.equal("port: port 65536 is out of range (1-65535)", msg)
    assert.are.equal("arg", select(3, tlsrpt.resolver{ nameserver = "127.0.0.1", timeout = 600001 }))
    assert.are.equal("arg", select(3, tlsrpt.resolver{ nameserver = "127.0.0.1", attempts = 11 }))
    assert.are.equal("arg", select(3, tlsrpt.resolver{ nameserver = "127.0.0.1", port = 1e12 }))
    assert.are.equal("arg", select(3, tlsrpt.resolver{ nameserver = "127.0.0.1", timeout = math.huge }))
  end)

  it("a missing resolv.conf is 'io'", function()
    local r, msg, code = tlsrpt.resolver{ resolv_conf = "/nonexistent/tlsrpt/resolv.conf" }
    assert.is_nil(r)
    assert.are.equal("io", code)
    assert.truthy(msg:find("cannot read /nonexistent/tlsrpt/resolv.conf", 1, true))
  end)

  it("wrong option types raise", function()
    assert.has_error(function() tlsrpt.resolver("127.0.0.1") end)
    assert.has_error(function() tlsrpt.resolver{ nameserver = 127 } end,
      "option 'nameserver' must be a string")
    assert.has_error(function() tlsrpt.resolver{ nameserver = "127.0.0.1\0" } end)
    assert.has_error(function() tlsrpt.resolver{ port = "53" } end, "option 'port' must be a number")
    assert.has_error(function() tlsrpt.resolver{ port = 0 } end)
    assert.has_error(function() tlsrpt.resolver{ timeout = 1.5 } end)
    assert.has_error(function() tlsrpt.resolver{ timeout = -1 } end)
    assert.has_error(function() tlsrpt.resolver{ timeout = 0 / 0 } end)
    assert.has_error(function() tlsrpt.resolver{ attempts = true } end)
    assert.has_error(function() tlsrpt.resolver{ resolv_conf = {} } end)
    assert.has_error(function() tlsrpt.resolver{ nameserver = "127.0.0.1", max_elements = "x" } end)
  end)
end)

describe("tlsrpt.resolver against failing servers", function()
  if not fake("silent") then
    it("needs the fake servers", function() pending("run from spec/t/dns.sh") end)
    return
  end

  local function at(mode, timeout, attempts)
    return assert(tlsrpt.resolver{ nameserver = "127.0.0.1", port = fake(mode),
      timeout = timeout or 2000, attempts = attempts or 1 })
  end

  it("SERVFAIL is 'dns' and says so", function()
    local rec, msg, code = at("servfail"):tlsrpt("example.test")
    assert.is_nil(rec)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("SERVFAIL for _smtp._tls.example.test TXT", 1, true), msg)
  end)

  it("a referral (a server that does not recurse) is 'dns', not 'no record'", function()
    local rec, msg, code = at("referral"):sts("example.test")
    assert.is_nil(rec)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("sent a referral, not an answer", 1, true), msg)
    local list, m2, c2 = at("referral"):mx("example.test")
    assert.is_nil(list)
    assert.are.equal("dns", c2, m2)
  end)

  it("an EDNS extended RCODE (BADVERS) is 'dns', not an empty answer", function()
    local rec, msg, code = at("badvers"):txt("example.test")
    assert.is_nil(rec)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("RCODE 16 for example.test TXT", 1, true), msg)
  end)

  it("the AD bit of a validating resolver is reported", function()
    local rec, info = at("ad"):tlsrpt("example.test")
    assert.is_table(rec, info)
    assert.are.equal("mailto:ad@example.test", rec.rua[1].uri)
    assert.is_true(info.ad)
    local list, i2 = at("ad"):mx("example.test")
    assert.are.same({}, list)
    assert.is_true(i2.ad)
  end)

  it("asks for recursion and DNSSEC: RD, AD and EDNS0 DO", function()
    assert.are.same({ "rd=1 ad=1 cd=0 edns=1 do=1 udp=1232" }, (at("echo"):txt("q.example.test")))
  end)

  it("no answer is a timeout after the configured time", function()
    local t0 = os.time()
    local list, msg, code = at("silent", 300):txt("example.test")
    assert.is_nil(list)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("timeout after 300 ms (1 try)", 1, true), msg)
    assert.is_true(os.time() - t0 <= 2)
    list, msg = at("silent", 100, 2):txt("example.test")
    assert.truthy(msg:find("timeout after 200 ms (2 tries)", 1, true), msg)
  end)

  it("an answer with the wrong ID or question is ignored", function()
    local list, msg, code = at("badid", 300):txt("example.test")
    assert.is_nil(list)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("timeout after 300 ms (1 try)", 1, true), msg)
    assert.truthy(msg:find("ignored 1 datagram that answered another query", 1, true), msg)
    list, msg = at("wrongq", 300):txt("example.test")
    assert.truthy(msg:find("ignored 1 datagram", 1, true), msg)
  end)

  it("a stray datagram before the answer does not hide the answer", function()
    local rec, info = at("stray"):tlsrpt("example.test")
    assert.is_table(rec, info)
    assert.are.equal("mailto:ad@example.test", rec.rua[1].uri)
    assert.is_false(info.ad)
  end)

  it("a TCP server that never answers times out", function()
    local list, msg, code = at("tcphang", 300):txt("example.test")
    assert.is_nil(list)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("timeout after 300 ms over TCP (read)", 1, true), msg)
  end)

  it("a port with no server behind it fails at once", function()
    local t0 = os.time()
    local list, msg, code = at("closed", 5000, 3):txt("example.test")
    assert.is_nil(list)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("no DNS service at 127.0.0.1 port " .. fake("closed"), 1, true), msg)
    assert.is_true(os.time() - t0 <= 2)
  end)

  it("an answer that is no DNS message is rejected", function()
    local list, msg, code = at("garbage", 300):txt("example.test")
    assert.is_nil(list)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("malformed answer", 1, true), msg)
  end)

  it("a truncated answer with no TCP service behind it is 'dns'", function()
    local list, msg, code = at("trunc", 300):txt("example.test")
    assert.is_nil(list)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("TCP connect to 127.0.0.1 port " .. fake("trunc"), 1, true), msg)
    assert.truthy(msg:find("truncated", 1, true), msg)
  end)

  it("one resolver answers repeated queries", function()
    local r = at("ad", 300)
    for _ = 1, 3 do assert.is_table((r:txt("_smtp._tls.example.test"))) end
  end)
end)
