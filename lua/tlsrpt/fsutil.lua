-- tlsrpt.fsutil: bounded file reading and the directory walk that finds
-- report files, for the CLI.
--
--   fsutil.read_file(path, max)          -> bytes | nil, message, code ("io" | "limit")
--   fsutil.report_files(path, out, errs) appends report files to out, problems to errs
--   fsutil.MAX_SMALL_FILE                 the cap for --records and --policy files
local shell = require "tlsrpt.shell"

local M = {}

-- A --records or --policy file is small by nature (RFC 8461 §3.3 suggests
-- 64 KiB for policies); anything larger is refused.
M.MAX_SMALL_FILE = 1024 * 1024
-- Directory recursion in report_files.
local MAX_DEPTH = 32
-- Extensions a directory walk takes as reports.
local REPORT_FILE = { json = true, gz = true, eml = true }

-- Reads a whole file ("-": standard input), refusing more than max bytes.
-- Returns the bytes, or nil, message, code ("io" or "limit").
function M.read_file(path, max)
  local f, err
  if path == "-" then
    f = io.stdin
  else
    f, err = io.open(path, "rb")
    if not f then return nil, err, "io" end
    -- A directory opens, but reading it fails (EISDIR); its seek size is junk.
    local probe, perr = f:read(0)
    if probe == nil and perr then
      f:close()
      return nil, path .. ": " .. tostring(perr), "io"
    end
    local size = f:seek("end")
    if size and size > max then
      f:close()
      return nil, string.format("%s: %d bytes, more than the %d accepted", path, size, max), "limit"
    end
    f:seek("set")
  end
  local data, rerr = f:read(max + 1)
  if path ~= "-" then f:close() end
  if data == nil then
    if rerr then return nil, path .. ": " .. tostring(rerr), "io" end
    data = ""
  end
  if #data > max then
    return nil, string.format("%s: more than the %d bytes accepted", path, max), "limit"
  end
  return data
end

local function has_lfs()
  local ok, lfs = pcall(require, "lfs")
  return ok and type(lfs) == "table" and lfs.attributes and lfs
end

-- Appends the report files under path to out (sorted, for stable output).
-- Named files are taken as they are; directories are walked for report
-- files, without following symbolic links to directories (no loops).
function M.report_files(path, out, errs)
  local lfs = has_lfs()
  if lfs then
    local function walk(p, depth, named)
      local mode = lfs.attributes(p, "mode")
      local ext = p:lower():match("%.([%w]+)$")
      if mode == nil then
        -- a dangling symbolic link is only a problem where a report was meant
        if named or (ext and REPORT_FILE[ext]) then errs[#errs + 1] = p .. ": no such file or directory" end
        return
      end
      if mode ~= "directory" then
        if named then out[#out + 1] = p
        elseif mode == "file" and ext and REPORT_FILE[ext] then out[#out + 1] = p end
        return
      end
      if not named and lfs.symlinkattributes(p, "mode") == "link" then return end
      if depth > MAX_DEPTH then errs[#errs + 1] = p .. ": directories nested too deep"; return end
      local names = {}
      local ok, iter, state = pcall(lfs.dir, p)
      if not ok then errs[#errs + 1] = tostring(iter); return end
      for name in iter, state do
        if name:sub(1, 1) ~= "." then names[#names + 1] = name end
      end
      table.sort(names)
      for _, name in ipairs(names) do walk(p .. "/" .. name, depth + 1, false) end
    end
    walk(path, 0, true)
    return
  end
  -- No lfs: let find(1) walk (names with newlines are not supported here).
  if not shell.ok("test -d " .. shell.quote(path)) then
    local f = io.open(path, "rb")
    if f then f:close(); out[#out + 1] = path
    else errs[#errs + 1] = path .. ": no such file or directory" end
    return
  end
  -- "./" keeps a path that starts with '-' from reading as a find option;
  -- find's complaints (unreadable directories) become problems, and so
  -- does a tree deeper than the walk goes.
  local start = path:sub(1, 1) == "-" and "./" .. path or path
  local errf = os.tmpname()
  local p = io.popen("find " .. shell.quote(start) .. " -mindepth 1 -maxdepth " .. (MAX_DEPTH + 1) ..
    " -name '.*' -prune -o -type f \\( -iname '*.json' -o -iname '*.gz' -o -iname '*.eml' \\) -print 2>"
    .. shell.quote(errf))
  local found = {}
  for line in p:lines() do found[#found + 1] = line end
  p:close()
  for line in io.lines(errf) do errs[#errs + 1] = line end
  os.remove(errf)
  -- (one walk that prunes hidden names at every depth: find's -mindepth
  -- would skip the pruning above it; awk counts the depth instead)
  local base = select(2, (start:gsub("/+$", "")):gsub("/", "")) + 1
  local deep = io.popen("find " .. shell.quote(start) .. " -mindepth 1 -name '.*' -prune -o -print"
    .. " 2>/dev/null | awk -F/ 'NF > " .. (base + MAX_DEPTH + 1) .. " { print; exit }'")
  if deep:read("*l") then errs[#errs + 1] = path .. ": directories nested too deep" end
  deep:close()
  table.sort(found)
  for _, x in ipairs(found) do out[#out + 1] = x end
end

return M
