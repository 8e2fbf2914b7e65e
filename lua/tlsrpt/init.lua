-- tlsrpt: SMTP TLS Reporting (RFC 8460) and MTA-STS (RFC 8461) for Lua 5.1-5.4 / LuaJIT.
-- The parsers and generators live in the C module tlsrpt.core; this file
-- re-exports them and loads the pure-Lua parts on first use.
local core = require "tlsrpt.core"

local M = {}
for k, v in pairs(core) do M[k] = v end

-- Pure-Lua submodules, loaded when first touched: tlsrpt.collection -> M.collection.
local lazy = {
  collection = "tlsrpt.collection",
  resolver = "tlsrpt.resolver",
}

return setmetatable(M, {
  __index = function(t, k)
    local name = lazy[k]
    if not name then return nil end
    local v = require(name)
    rawset(t, k, v)
    return v
  end,
})
