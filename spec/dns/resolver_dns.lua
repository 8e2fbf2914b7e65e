-- tlsrpt.resolver against nsd on 127.0.0.1 (started by spec/t/dns.sh, which
-- passes its port in TLSRPT_DNS_PORT; the zone is written there).
local tlsrpt = require "tlsrpt"

local port = tonumber(os.getenv("TLSRPT_DNS_PORT") or "")
local tmpdir = os.getenv("TLSRPT_DNS_TMP")

describe("tlsrpt.resolver against nsd", function()
  if not port then
    it("needs nsd", function() pending("run from spec/t/dns.sh, which starts nsd") end)
    return
  end

  local r
  setup(function()
    r = assert(tlsrpt.resolver{ nameserver = "127.0.0.1", port = port, timeout = 2000 })
  end)

  it("is a userdata whose tostring names the server", function()
    assert.are.equal("userdata", type(r))
    assert.are.equal("tlsrpt.resolver (127.0.0.1 port " .. port .. ")", tostring(r))
    assert.are.equal(tlsrpt.resolver, require "tlsrpt.resolver")
  end)

  it("txt joins the character-strings of a record", function()
    local list, info = r:txt("_smtp._tls.example.test")
    assert.are.same({ "v=TLSRPTv1; rua=mailto:tlsrpt@example.test" }, list)
    assert.is_false(info.ad)
    assert.are.equal("_smtp._tls.example.test", info.name)
    assert.are.same(list, info.txt)
  end)

  it("txt keeps NUL and 0xff bytes", function()
    assert.are.same({ "a\0b\255c" }, (r:txt("bin.example.test")))
  end)

  it("txt of a name without TXT is an empty list", function()
    local list, info = r:txt("notxt.example.test")
    assert.are.same({}, list)
    assert.is_false(info.ad)
  end)

  it("txt of a missing name is nxdomain", function()
    local list, msg, code, info = r:txt("nope.example.test")
    assert.is_nil(list)
    assert.are.equal("nope.example.test does not exist (NXDOMAIN)", msg)
    assert.are.equal("nxdomain", code)
    assert.are.equal("nxdomain", info.code)
  end)

  it("a zone nsd does not serve is REFUSED (dns)", function()
    local list, msg, code = r:txt("example.invalid")
    assert.is_nil(list)
    assert.are.equal("dns", code)
    assert.truthy(msg:find("REFUSED for example.invalid TXT", 1, true))
  end)

  it("mx is sorted by preference, without trailing dots", function()
    local list, info = r:mx("example.test")
    assert.are.same({
      { host = "mx1.example.test", preference = 10 },
      { host = "mx2.example.test", preference = 20 },
      { host = "mx3.example.net", preference = 30 },
    }, list)
    assert.is_false(info.ad)
  end)

  it("a null MX (RFC 7505) is '.'", function()
    assert.are.same({ { host = ".", preference = 0 } }, (r:mx("nullmx.example.test")))
  end)

  it("tlsa looks up _25._tcp.<host> by default", function()
    local list, info = r:tlsa("mx1.example.test")
    table.sort(list)
    assert.are.same({
      "2 0 1 0123456789abcdef",
      "3 1 1 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    }, list)
    assert.are.equal("_25._tcp.mx1.example.test", info.name)
  end)

  it("tlsa takes a port", function()
    local list, info = r:tlsa("mx1.example.test", 465)
    assert.are.same({ "3 0 0 00ff" }, list)
    assert.are.equal("_465._tcp.mx1.example.test", info.name)
  end)

  it("tlsa of a host without TLSA records is nxdomain", function()
    local list, _, code = r:tlsa("mx2.example.test")
    assert.is_nil(list)
    assert.are.equal("nxdomain", code)
  end)

  it("tlsrpt parses a record split over two strings", function()
    local rec, info = r:tlsrpt("example.test")
    assert.is_table(rec, info)
    assert.are.equal("TLSRPTv1", rec.version)
    assert.are.equal("mailto:tlsrpt@example.test", rec.rua[1].uri)
    assert.are.equal("mailto", rec.rua[1].scheme)
    assert.are.same({ "v=TLSRPTv1; rua=mailto:tlsrpt@example.test" }, info.txt)
    assert.are.equal("_smtp._tls.example.test", info.name)
    assert.is_false(info.ad)
  end)

  it("tlsrpt ignores a non-TLSRPT TXT beside the valid one", function()
    local rec, info = r:tlsrpt("mixed.example.test")
    assert.is_table(rec, info)
    assert.are.equal("https://reports.example.test/v1", rec.rua[1].uri)
    assert.are.equal(2, #info.txt)
  end)

  it("tlsrpt with two TLSRPT records is 'multiple' (RFC 8460 §3)", function()
    local rec, msg, code, info = r:tlsrpt("two.example.test")
    assert.is_nil(rec)
    assert.are.equal("multiple", code)
    assert.truthy(msg:find("_smtp._tls.two.example.test", 1, true))
    assert.are.equal(2, #info.txt)
    assert.is_false(info.ad)
  end)

  it("tlsrpt with only other TXT records is 'no_record'", function()
    local rec, _, code, info = r:tlsrpt("other.example.test")
    assert.is_nil(rec)
    assert.are.equal("no_record", code)
    assert.are.same({ "v=spf1 -all" }, info.txt)
  end)

  it("tlsrpt of a name with no TXT is 'no_record'", function()
    local rec, _, code, info = r:tlsrpt("nodata.example.test")
    assert.is_nil(rec)
    assert.are.equal("no_record", code)
    assert.are.same({}, info.txt)
  end)

  it("tlsrpt of a domain without the name is 'nxdomain'", function()
    local rec, msg, code = r:tlsrpt("nope.example.test")
    assert.is_nil(rec)
    assert.are.equal("nxdomain", code)
    assert.are.equal("_smtp._tls.nope.example.test does not exist (NXDOMAIN)", msg)
  end)

  it("tlsrpt follows a CNAME", function()
    local rec = assert(r:tlsrpt("alias.example.test"))
    assert.are.equal("mailto:tlsrpt@example.test", rec.rua[1].uri)
  end)

  it("sts parses _mta-sts.<domain>", function()
    local rec, info = r:sts("example.test")
    assert.is_table(rec, info)
    assert.are.equal("STSv1", rec.version)
    assert.are.equal("20240101T000000", rec.id)
    assert.are.equal("_mta-sts.example.test", info.name)
  end)

  it("sts with two records is 'multiple' (RFC 8461 §3.1)", function()
    local rec, _, code, info = r:sts("twosts.example.test")
    assert.is_nil(rec)
    assert.are.equal("multiple", code)
    assert.are.equal(2, #info.txt)
  end)

  it("a truncated UDP answer is fetched over TCP", function()
    local list = assert(r:txt("big.example.test"))
    assert.are.equal(15, #list)
    table.sort(list)
    assert.truthy(list[1]:find("^r01 x+$"))
  end)

  it("max_elements caps the records of an answer", function()
    local small = assert(tlsrpt.resolver{ nameserver = "127.0.0.1", port = port, max_elements = 14 })
    local list, msg, code, info = small:txt("big.example.test")
    assert.is_nil(list)
    assert.are.equal("limit", code)
    assert.are.equal("max_elements", info.path)
    assert.truthy(msg:find("15 TXT records", 1, true))
    assert.are.equal(15, #assert(tlsrpt.resolver{ nameserver = "127.0.0.1", port = port,
      max_elements = 15 }):txt("big.example.test"))
  end)

  it("max_string caps the length of a record", function()
    local small = assert(tlsrpt.resolver{ nameserver = "127.0.0.1", port = port, max_string = 41 })
    local rec, _, code = small:tlsrpt("example.test")
    assert.is_nil(rec)
    assert.are.equal("limit", code)
    local ok_ = assert(tlsrpt.resolver{ nameserver = "127.0.0.1", port = port, max_string = 42 })
    assert.is_table((ok_:tlsrpt("example.test")))
  end)

  it("uses the servers of a resolv.conf when no nameserver is given", function()
    local path = tmpdir .. "/resolv.conf"
    local f = assert(io.open(path, "w"))
    f:write("nameserver 127.0.0.1\n")
    f:close()
    local sys = assert(tlsrpt.resolver.new{ resolv_conf = path, port = port })
    assert.are.equal("tlsrpt.resolver (" .. path .. ")", tostring(sys))
    assert.are.same({ "v=STSv1; id=20240101T000000;" }, (sys:txt("_mta-sts.example.test")))
  end)

  it("accepts a name with __tostring (rspamd text)", function()
    local text = setmetatable({}, { __tostring = function() return "_mta-sts.example.test" end })
    assert.are.equal(1, #assert(r:resolve(text, "TXT")).txt)
  end)

  it("resolve is the low-level call: one table per type", function()
    local a = assert(r:resolve("example.test", "mx"))
    assert.are.equal(3, #a.mx)
    assert.is_false(a.ad)
    a = assert(r:resolve("_25._tcp.mx1.example.test", "TLSA"))
    assert.are.equal(2, #a.tlsa)
  end)

  it("bad names are nil, message, 'arg'", function()
    local list, msg, code = r:txt("a\0b.example.test")
    assert.is_nil(list)
    assert.are.equal("arg", code)
    assert.truthy(msg:find("NUL", 1, true))
    list, msg, code = r:txt(string.rep("a", 64) .. ".example.test")
    assert.is_nil(list)
    assert.are.equal("arg", code)
    assert.truthy(msg:find("not a valid domain name", 1, true))
    assert.are.equal("arg", select(3, r:tlsrpt(string.rep("a.", 130))))
  end)

  it("argument type errors raise", function()
    assert.has_error(function() r:txt(nil) end, "bad argument #1 to 'txt' (string expected, got nil)")
    assert.has_error(function() r:mx(5) end)
    assert.has_error(function() r:tlsrpt({}) end)
    assert.has_error(function() r:sts(true) end)
    assert.has_error(function() r:tlsa(nil) end)
    assert.has_error(function() r:tlsa("mx1.example.test", "25") end)
    assert.has_error(function() r:tlsa("mx1.example.test", 0) end)
    assert.has_error(function() r:tlsa("mx1.example.test", 65536) end)
    assert.has_error(function() r:tlsa("mx1.example.test", 2.5) end)
    assert.has_error(function() r:resolve("example.test", "A") end)
    assert.has_error(function() r:resolve("example.test", "TXT\0junk") end)
    assert.has_error(function() r:resolve("example.test") end)
    assert.has_error(function() r.txt({}, "example.test") end)
    assert.has_error(function() tlsrpt.resolve("x", "example.test", "TXT") end)
  end)

  it("resolvers are garbage-collected", function()
    for _ = 1, 200 do
      local x = tlsrpt.resolver{ nameserver = "127.0.0.1", port = port }
      assert(x:txt("_mta-sts.example.test"))
    end
    collectgarbage()
    collectgarbage()
    assert.are.equal(1, #assert(r:txt("_mta-sts.example.test")))
  end)
end)
