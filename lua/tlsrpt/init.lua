-- tlsrpt: SMTP TLS Reporting (RFC 8460) and MTA-STS (RFC 8461) for Lua 5.1-5.4 / LuaJIT.
-- The parsers and generators live in the C module tlsrpt.core; this file
-- re-exports them and adds the pure-Lua parts (collections, CLI helpers).
local core = require "tlsrpt.core"

local M = {}
for k, v in pairs(core) do M[k] = v end

return M
