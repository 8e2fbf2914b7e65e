-- File helpers for the specs: whole-file reads and writes, directory
-- listings and shell quoting (the specs run from the repository root).
local M = {}

-- Single-quotes s for /bin/sh.
function M.quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- The whole file, or nil when it cannot be opened.
function M.slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("*a")
  f:close()
  return data
end

-- The whole file; raises when it cannot be opened.
function M.read(path)
  return assert(M.slurp(path), "cannot read " .. path)
end

-- Writes data to path (raises on failure); returns path.
function M.spit(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  return path
end

-- The names in dir as ls lists them (sorted), optionally only those for
-- which keep(name) is true.
function M.ls(dir, keep)
  local p = assert(io.popen("ls " .. M.quote(dir)))
  local names = {}
  for name in p:lines() do
    if not keep or keep(name) then names[#names + 1] = name end
  end
  p:close()
  return names
end

function M.is_dir(path)
  local ok, lfs = pcall(require, "lfs")
  if ok then return lfs.attributes(path, "mode") == "directory" end
  -- os.execute returns true (5.2+) or 0 (5.1) on success
  local r = os.execute("test -d " .. M.quote(path))
  return r == true or r == 0
end

return M
