-- tlsrpt.check: the checklist of a domain's TLS-RPT and MTA-STS setup
-- behind `tlsrpt check`.
--
--   check.domain(domain, resolver, policy_text, policy_err) -> lines, failed
--       lines: list of { mark, text }, mark "✓" passed, "✗" failed, "!" advice
--   check.fetch_policy(domain) -> policy text | nil, message (uses curl)
--
-- resolver: a tlsrpt.resolver object or a tlsrpt.offline_dns one.
local fsutil = require "tlsrpt.fsutil"
local hostname = require "tlsrpt.hostname"
local shell = require "tlsrpt.shell"

local M = {}

local fmt = string.format

-- RFC 8461 §3.3 suggests 64 KiB as the most a policy may hold.
local MAX_POLICY = 65536

-- Fetches the policy with curl (RFC 8461 §3.3: HTTPS only, no redirects,
-- 200 with text/plain). Returns text, or nil, message.
function M.fetch_policy(domain)
  -- Only a domain name may go into the URL ("a@b/..#" would fetch from b).
  if type(domain) ~= "string" or not hostname.is_domain(domain) then
    return nil, fmt("%q is not a domain name", tostring(domain))
  end
  if not shell.ok("command -v curl >/dev/null 2>&1") then
    return nil, "curl is not installed (use --policy FILE)"
  end
  local url = "https://mta-sts." .. domain .. "/.well-known/mta-sts.txt"
  local tmp, errf = os.tmpname(), os.tmpname()
  -- -q first: no ~/.curlrc (a "location" line there would follow redirects).
  -- curl's exit status is echoed after the -w line (Lua 5.1's popen close
  -- does not return it): a timeout or an oversized body after a 200
  -- header must not pass for a whole policy.
  local p = io.popen("curl -q -sS --proto =https --max-redirs 0 --max-time 15 --max-filesize "
    .. MAX_POLICY .. " -o " .. shell.quote(tmp) .. " -w '%{http_code} %{content_type}\\n' "
    .. shell.quote(url) .. " 2>" .. shell.quote(errf) .. "; echo \"$?\"")
  local status = p and p:read("*a") or ""
  if p then p:close() end
  local code, ctype, rc = status:match("^(%d%d%d) ?([^\n]*)\n(%d+)%s*$")
  if not rc then rc = status:match("(%d+)%s*$") end
  local body, berr, bcode = fsutil.read_file(tmp, MAX_POLICY)
  local cerr = (fsutil.read_file(errf, 4096) or ""):gsub("%s+$", "")
  os.remove(tmp)
  os.remove(errf)
  if rc ~= "0" or code ~= "200" then
    local why = cerr ~= "" and cerr or rc ~= "0" and ("curl exit status " .. tostring(rc))
      or ("HTTP status " .. tostring(code))
    return nil, fmt("GET %s: %s (RFC 8461 §3.3)", url, why)
  end
  local media = (ctype or ""):lower():match("^%s*([^;%s]*)")
  if media ~= "text/plain" then
    return nil, fmt("GET %s: Content-Type %q, RFC 8461 §3.2 requires text/plain", url, ctype or "")
  end
  if not body then
    -- curl enforces --max-filesize only where the size is announced
    if bcode == "limit" then
      return nil, fmt("GET %s: policy larger than %d bytes (RFC 8461 §3.3)", url, MAX_POLICY)
    end
    return nil, fmt("GET %s: %s", url, tostring(berr))
  end
  return body
end

-- "what: message [code]", without the name the resolver already put in
-- front, with the RFC section unless the message names one.
local function problem(what, name, msg, code, rfc)
  msg = tostring(msg)
  if name and msg:sub(1, #name + 2) == name .. ": " then msg = msg:sub(#name + 3) end
  if rfc and not msg:find("(RFC", 1, true) then msg = msg .. " (" .. rfc .. ")" end
  return fmt("%s: %s [%s]", what, msg, tostring(code))
end

-- Runs the checks; returns the list of { mark, text } lines and whether
-- any failed. policy_text: the policy, or nil and policy_err saying why not.
function M.domain(domain, resolver, policy_text, policy_err)
  local t = require "tlsrpt"
  local lines, failed = {}, false
  -- A null MX (RFC 7505) takes no mail: TLS-RPT and MTA-STS are moot, so
  -- their problems are advice, not failures.
  local mxs, mx_msg, mx_code = resolver:mx(domain)
  local function is_null(m) return m.host == "." or m.host == "" end
  local null_mx = mxs and #mxs == 1 and is_null(mxs[1])
  local function add(mark, text, mx_line)
    if null_mx and mark == "✗" and not mx_line then mark = "!" end
    lines[#lines + 1] = { mark, text }
    if mark == "✗" then failed = true end
  end

  local name = "_smtp._tls." .. domain
  local rec, msg, code = resolver:tlsrpt(domain)
  if rec then
    local targets = {}
    for _, u in ipairs(rec.rua or {}) do targets[#targets + 1] = u.uri or u.target end
    add("✓", fmt("TLS-RPT record at %s: reports go to %s", name, table.concat(targets, ", ")))
  else
    add("✗", problem("TLS-RPT record at " .. name, name, msg, code, "RFC 8460 §3"))
  end

  local sts
  name = "_mta-sts." .. domain
  sts, msg, code = resolver:sts(domain)
  if sts then
    add("✓", fmt("MTA-STS record at %s: id=%s", name, tostring(sts.id)))
  else
    add("✗", problem("MTA-STS record at " .. name, name, msg, code, "RFC 8461 §3.1"))
  end

  local policy
  if policy_text then
    local pmsg, pcode
    policy, pmsg, pcode = t.parse_sts_policy(policy_text)
    if policy then
      local max_age = tonumber(policy.max_age) or 0
      add("✓", fmt("MTA-STS policy: mode %s, max_age %d, mx %s", tostring(policy.mode), max_age,
        table.concat(policy.mx or {}, ", ")))
      if policy.mode == "testing" then
        add("!", "policy mode is testing: failures are reported but not enforced (RFC 8461 §5)")
      elseif policy.mode == "none" then
        add("!", "policy mode is none: senders treat the domain as having no policy (RFC 8461 §5)")
      end
      if max_age < 604800 then
        add("!", fmt("max_age %d is under a week; RFC 8461 §3.2 expects weeks or more", max_age))
      end
      -- Senders keep the first of a repeated field; others may not: say so.
      for _, kv in ipairs(policy.ignored or {}) do
        add("!", fmt("policy repeats %s: '%s' is ignored, the first %s counts (RFC 8461 §3.2)",
          tostring(kv.key), tostring(kv.value), tostring(kv.key)))
      end
    else
      add("✗", problem("MTA-STS policy", nil, pmsg, pcode, "RFC 8461 §3.2"))
    end
  else
    add("✗", "MTA-STS policy: " .. tostring(policy_err))
  end

  local implicit = mxs and #mxs == 0
  if not mxs then
    add("✗", problem("MX records of " .. domain, domain, mx_msg, mx_code), true)
  elseif implicit then
    -- RFC 5321 §5.1: without MX records the domain itself is the mail host.
    add("!", fmt("MX records of %s: none, so mail goes to %s itself (RFC 5321 §5.1)", domain, domain))
    mxs = { { host = domain, preference = 0 } }
  end
  if not mxs then -- reported above
  elseif null_mx then
    add("!", fmt("%s has a null MX (RFC 7505): it accepts no mail, MTA-STS is moot", domain))
  else
    local names, real = {}, {}
    for _, m in ipairs(mxs) do
      if is_null(m) then
        add("✗", fmt("MX records of %s: a null MX beside other MX records (RFC 7505 §3: a domain "
          .. "with a null MX MUST NOT have others)", domain), true)
      else
        names[#names + 1] = m.host
        real[#real + 1] = m
      end
    end
    mxs = real
    if not implicit then add("✓", fmt("MX records of %s: %s", domain, table.concat(names, ", "))) end
    -- Under mode none senders apply no policy (RFC 8461 §5): nothing to cover.
    if policy and policy.mode ~= "none" then
      -- Sets of names, not every MX against every pattern: a policy may
      -- list thousands of patterns (RFC 8461 §4.1 matching: case folded,
      -- one trailing dot ignored, "*." one leftmost label).
      local exact, wild, hosts, parents = {}, {}, {}, {}
      local pats = {} -- { pattern, is a wildcard, name (without "*.") }
      for i, pat in ipairs(policy.mx or {}) do
        local p = hostname.normalize(pat)
        local star = p:sub(1, 2) == "*."
        local name = star and p:sub(3) or p
        if star then wild[name] = true else exact[name] = true end
        pats[i] = { pat, star, name }
      end
      for _, m in ipairs(mxs) do
        local h = hostname.is_host(m.host) and hostname.normalize(m.host)
        local parent = h and h:match("^[^.]+%.(.+)$")
        if h then hosts[h] = true end
        if parent then parents[parent] = true end
        if h and (exact[h] or (parent and wild[parent])) then
          add("✓", fmt("MX %s matches the policy", m.host))
        else
          add("✗", fmt("MX %s is not covered by the policy's mx patterns (RFC 8461 §4.1)", m.host))
        end
      end
      for _, pt in ipairs(pats) do
        -- "*.rest" is used by a host whose parent is rest, a name by itself
        local used = (pt[2] and parents or hosts)[pt[3]]
        if not used then add("!", fmt("policy mx pattern %s matches no MX record", pt[1])) end
      end
    end
  end
  return lines, failed
end

return M
