-- tlsrpt.shell: the little the CLI asks of /bin/sh (Lua has no stat(2)
-- or isatty(3) without extra rocks).
local M = {}

-- Did the command succeed? (os.execute: 5.1 returns the status, 5.2+
-- true / nil.)
function M.ok(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

-- s as one single-quoted shell word.
function M.quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

function M.stderr_is_tty()
  return M.ok("test -t 2")
end

return M
