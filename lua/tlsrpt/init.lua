-- tlsrpt: SMTP TLS Reporting (RFC 8460) and MTA-STS (RFC 8461) for Lua 5.1-5.4 / LuaJIT.
-- The parsers and generators live in the C module tlsrpt.core; this file
-- re-exports them and loads the pure-Lua parts on first use.
local core = require "tlsrpt.core"

local M = {}
for k, v in pairs(core) do
  if k:sub(1, 1) ~= "_" then M[k] = v end -- "_" names: for tlsrpt.ffi_report, .resolver
end
-- LuaJIT: parse_report builds big reports' failure-detail tables in
-- compiled code over the FFI.
local ffi_report = require "tlsrpt.ffi_report"
if ffi_report then ffi_report.use() end

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
