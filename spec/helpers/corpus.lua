-- The shared real corpus: $TLSRPT_SHARED/corpus/real (TLSRPT_SHARED
-- defaults to ../shared). It is never copied into the repository; specs
-- that need it call pending(corpus.SKIP) when dir() is nil.
local files = require "spec.helpers.files"

local M = {}

M.SKIP = "real corpus not found (set TLSRPT_SHARED)"

function M.shared()
  local s = os.getenv("TLSRPT_SHARED")
  if not s or s == "" then s = "../shared" end
  return s
end

-- Path of corpus/real (or of sub inside it), present or not.
function M.path(sub)
  local p = M.shared() .. "/corpus/real"
  return sub and p .. "/" .. sub or p
end

-- Path of corpus/real when the corpus is there (it has SOURCES.md), else nil.
function M.dir()
  local f = io.open(M.path("SOURCES.md"), "rb")
  if not f then return nil end
  f:close()
  return M.path()
end

-- The non-empty lines of a corpus file (sub: its path inside corpus/real).
function M.lines(sub)
  local lines = {}
  for line in files.read(M.path(sub)):gmatch("([^\n]+)") do lines[#lines + 1] = line end
  return lines
end

return M
