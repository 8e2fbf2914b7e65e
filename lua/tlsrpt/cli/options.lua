-- tlsrpt.cli.options: command-line option parsing for the `tlsrpt` commands.
--
--   options.parse(args, first, spec) -> opts, positional | nil, message
--   options.positive_int(s, name[, max]) -> n | nil, message
local M = {}

-- Parses args[first..] for one command. spec: name -> "flag" | "value";
-- "--name=value" and "--name value" both work, "--" ends the options, "-h"
-- is --help and "-" is a positional argument (standard input).
-- Returns opts, positional args; or nil, message (a usage error).
function M.parse(args, first, spec)
  local opts, pos = {}, {}
  local i = first
  while i <= #args do
    local a = args[i]
    if a == "--" then
      for j = i + 1, #args do pos[#pos + 1] = args[j] end
      break
    elseif a:sub(1, 2) == "--" and #a > 2 then
      local name, val = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local kind = spec[name]
      if not kind then return nil, "unknown option --" .. name end
      if kind == "flag" then
        if val then return nil, "option --" .. name .. " takes no value" end
        opts[name] = true
      else
        if not val then
          i = i + 1
          val = args[i]
          if val == nil then return nil, "option --" .. name .. " needs a value" end
        end
        opts[name] = val
      end
    elseif a == "-h" then
      opts.help = true
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      return nil, "unknown option " .. a
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return opts, pos
end

-- The value s of option --name as an integer 1..max (default 2^31).
function M.positive_int(s, name, max)
  local n = tonumber(s)
  if not n or n ~= math.floor(n) or n < 1 or n > (max or 2 ^ 31) then
    return nil, "option --" .. name .. " needs an integer 1.." .. (max or 2 ^ 31)
  end
  return n
end

return M
