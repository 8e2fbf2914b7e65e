-- The module loads under every interpreter and exposes its version.
local tlsrpt = require "tlsrpt"

describe("tlsrpt module", function()
  it("loads the C core and reports a version", function()
    assert.is_string(tlsrpt.version)
    assert.matches("^%d+%.%d+%.%d+$", tlsrpt.version)
  end)

  it("exports the documented API only, not the core's internals", function()
    local want = { "version", "null", "parse_record", "parse_sts_record", "parse_sts_policy",
      "sts_mx_match", "mx_pattern_match", "parse_report", "parse_report_email", "gunzip",
      "builder", "generate", "resolver", "collection" }
    for _, k in ipairs(want) do assert.is_not_nil(tlsrpt[k], k) end
    for k in pairs(tlsrpt) do
      assert.is_nil(k:match("^_"), k)
      assert.is_nil(({ resolve = 1, resolver_new = 1, resolver_methods = 1 })[k], k)
    end
  end)

  it("runs on the interpreter the suite was started for", function()
    local want = os.getenv("TLSRPT_LUA")
    if want == "luajit" then
      assert.is_table(jit)
    elseif want then
      assert.are.equal("Lua " .. want:match("lua(%d%.%d)"), _VERSION)
    end
  end)
end)
