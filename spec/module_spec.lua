-- The module loads under every interpreter and exposes its version.
local tlsrpt = require "tlsrpt"

describe("tlsrpt module", function()
  it("loads the C core and reports a version", function()
    assert.is_string(tlsrpt.version)
    assert.matches("^%d+%.%d+%.%d+$", tlsrpt.version)
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
