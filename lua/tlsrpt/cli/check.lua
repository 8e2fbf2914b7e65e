-- tlsrpt.cli.check: `tlsrpt check DOMAIN`, the checklist of tlsrpt.check
-- over the DNS (or a --records file) and a fetched (or --policy) policy.
--
--   check.run(args, io_) -> exit status | nil, usage message
local options = require "tlsrpt.cli.options"
local exit = require "tlsrpt.cli.exit"
local check = require "tlsrpt.check"
local fsutil = require "tlsrpt.fsutil"
local hostname = require "tlsrpt.hostname"
local offline_dns = require "tlsrpt.offline_dns"
local printable = require("tlsrpt.summary").printable

local M = {}

M.help = [[
Usage: tlsrpt check [OPTIONS] DOMAIN

Checks DOMAIN's TLS-RPT record (_smtp._tls.DOMAIN, RFC 8460 §3), MTA-STS
record (_mta-sts.DOMAIN, RFC 8461 §3.1), its MTA-STS policy (fetched from
https://mta-sts.DOMAIN/.well-known/mta-sts.txt with curl, RFC 8461 §3.3)
and whether every MX host is covered by the policy (RFC 8461 §4.1).
Prints a checklist: ✓ passed, ✗ failed, ! advice.

  --nameserver IP   ask this DNS server (default: the system resolver)
  --port N          DNS port (default 53)
  --timeout MS      DNS timeout per try in milliseconds
  --policy FILE     read the policy from FILE instead of fetching it
  --records FILE    offline: take DNS data from FILE instead of the DNS;
                    lines "NAME TXT \"text\" [\"more\"]" and "NAME MX PREF HOST"
                    (# comments)

Exit status: 0 all checks passed, 1 some check failed, 2 usage error.
]]

function M.run(args, io_)
  local opts, pos = options.parse(args, 2, { nameserver = "value", port = "value", timeout = "value",
    policy = "value", records = "value", help = "flag" })
  if not opts then return nil, pos end
  if opts.help then io_.out(M.help); return exit.OK end
  if #pos ~= 1 then return nil, "check: exactly one DOMAIN expected" end
  local domain = pos[1]
  if not hostname.is_domain(domain) then
    return nil, string.format("check: %q is not a domain name (use the xn-- form for IDNs)", domain)
  end
  domain = hostname.normalize(domain)
  local ropts = {}
  if opts.nameserver then ropts.nameserver = opts.nameserver end
  if opts.port then
    local n, err = options.positive_int(opts.port, "port", 65535)
    if not n then return nil, err end
    ropts.port = n
  end
  if opts.timeout then
    local n, err = options.positive_int(opts.timeout, "timeout", 600000)
    if not n then return nil, err end
    ropts.timeout = n
  end

  local resolver
  if opts.records then
    local db, err = offline_dns.read(opts.records)
    if not db then return nil, "check: --records: " .. tostring(err) end
    resolver = offline_dns.resolver(db)
  else
    local ok, r, msg = pcall(require("tlsrpt").resolver, ropts)
    if not ok then return nil, "check: " .. tostring(r) end
    if not r then return nil, "check: " .. tostring(msg) end
    resolver = r
  end

  local policy_text, policy_err
  if opts.policy then
    local err
    policy_text, err = fsutil.read_file(opts.policy, fsutil.MAX_SMALL_FILE)
    if not policy_text then policy_err = tostring(err) end
  else
    policy_text, policy_err = check.fetch_policy(domain)
  end

  local lines, failed = check.domain(domain, resolver, policy_text, policy_err)
  io_.out("Checking ", domain, "\n")
  -- Lines quote DNS data and the fetched policy: nothing of theirs may
  -- steer the terminal.
  for _, l in ipairs(lines) do io_.out(l[1], " ", printable(l[2]), "\n") end
  io_.out(failed and "Problems found.\n" or "All checks passed.\n")
  return failed and exit.PROBLEM or exit.OK
end

return M
