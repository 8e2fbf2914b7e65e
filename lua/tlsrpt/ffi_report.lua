-- Failure-detail tables for tlsrpt.parse_report under LuaJIT: the C core
-- parses and builds the report table except these, which fill() builds
-- from the C views through the FFI, one table constructor each. Compiled,
-- that is 1.2-1.4x the C API builder on reports with many details
-- (bench/README.md), and the result is the same table
-- (spec/ffi_report_spec.lua compares the two on every test vector and real
-- report). tlsrpt's init.lua calls use(); parse_report stays the C function,
-- which calls fill(report, views) while it holds the views.
-- Returns { fill, use }, or false (the C builder stays) without LuaJIT's
-- FFI or when the struct layout below is not the one the C module was
-- built with.
local core = require "tlsrpt.core"

if type(jit) ~= "table" or not core._set_detail_builder then return false end
local ok, ffi = pcall(require, "ffi")
if not ok then return false end

-- core/include/trpt.h; only the members read here are checked, but every
-- member before them shapes their offsets. Declared once per Lua state (a
-- second load of this file, after package.loaded was cleared, finds them;
-- the layout check below still applies).
local CDEF = [[
typedef struct tlsrpt_ffi_str { const char *ptr; size_t len; } tlsrpt_ffi_str;
typedef struct tlsrpt_ffi_failure {
  tlsrpt_ffi_str result_type; int result; tlsrpt_ffi_str sending_mta_ip;
  tlsrpt_ffi_str receiving_mx_hostname; tlsrpt_ffi_str receiving_mx_helo;
  tlsrpt_ffi_str receiving_ip; tlsrpt_ffi_str additional_information;
  tlsrpt_ffi_str failure_reason_code; int64_t failed_session_count; unsigned has;
  const void *extra; size_t nextra;
} tlsrpt_ffi_failure;
typedef struct tlsrpt_ffi_policy {
  tlsrpt_ffi_str policy_type; int type; const tlsrpt_ffi_str *policy_string;
  size_t npolicy_string; tlsrpt_ffi_str policy_domain; const tlsrpt_ffi_str *mx_host;
  size_t nmx_host; int64_t total_successful_session_count;
  int64_t total_failure_session_count; const tlsrpt_ffi_failure *failures; size_t nfailures;
  unsigned has; const void *extra; size_t nextra;
} tlsrpt_ffi_policy;
typedef struct tlsrpt_ffi_report {
  tlsrpt_ffi_str organization_name; tlsrpt_ffi_str start_datetime;
  tlsrpt_ffi_str end_datetime; int64_t start_epoch; int64_t end_epoch;
  tlsrpt_ffi_str contact_info; tlsrpt_ffi_str report_id; const tlsrpt_ffi_policy *policies;
  size_t npolicies; unsigned has; const void *extra; size_t nextra; const void *warnings;
  size_t nwarnings; size_t nwarnings_dropped;
} tlsrpt_ffi_report;
]]
if not pcall(ffi.typeof, "tlsrpt_ffi_report") and not pcall(ffi.cdef, CDEF) then return false end

local C_NAMES = { -- C name in _report_views_layout -> ffi type here
  trpt_str = "tlsrpt_ffi_str", trpt_report = "tlsrpt_ffi_report",
  trpt_policy_result = "tlsrpt_ffi_policy", trpt_failure = "tlsrpt_ffi_failure",
}
local HAS = {}
for name, v in pairs(core._report_views_layout) do
  local ty, field = name:match("^([%w_]+)%.([%w_]+)$")
  if name:match("^TRPT_HAS_") then
    HAS[name] = v
  elseif ty then
    if ffi.offsetof(C_NAMES[ty], field) ~= v then return false end
  elseif ffi.sizeof(C_NAMES[name]) ~= v then
    return false
  end
end

local band, tonumber, fstring = require("bit").band, tonumber, ffi.string
local H_SENDING, H_MX, H_HELO = HAS.TRPT_HAS_SENDING_MTA_IP, HAS.TRPT_HAS_RECEIVING_MX_HOSTNAME,
                                HAS.TRPT_HAS_RECEIVING_MX_HELO
local H_RECEIVING, H_INFO, H_CODE = HAS.TRPT_HAS_RECEIVING_IP, HAS.TRPT_HAS_ADDITIONAL_INFORMATION,
                                    HAS.TRPT_HAS_FAILURE_REASON_CODE
local report_ptr = ffi.typeof("const tlsrpt_ffi_report *")

local function str(s)
  local n = s.len
  return n == 0 and "" or fstring(s.ptr, n)
end

-- The member of a present bit, else nil (no key), as tl_push_report does.
local function opt(has, bit, s)
  if band(has, bit) ~= 0 then return str(s) end
  return nil
end

-- Fills the failure details the C builder left out (those without
-- unknown members; the others it built, with their extra tables).
local function fill(report, views)
  local r = report_ptr(views)
  local policies = report.policies
  for i = 0, tonumber(r.npolicies) - 1 do
    local p = r.policies[i]
    local list = policies[i + 1].failure_details
    local f = p.failures
    for j = 0, tonumber(p.nfailures) - 1 do
      local d = f[j]
      if d.nextra == 0 then
        local has = d.has
        list[j + 1] = {
          result_type = str(d.result_type),
          sending_mta_ip = opt(has, H_SENDING, d.sending_mta_ip),
          receiving_mx_hostname = opt(has, H_MX, d.receiving_mx_hostname),
          receiving_mx_helo = opt(has, H_HELO, d.receiving_mx_helo),
          receiving_ip = opt(has, H_RECEIVING, d.receiving_ip),
          failed_session_count = tonumber(d.failed_session_count),
          additional_information = opt(has, H_INFO, d.additional_information),
          failure_reason_code = opt(has, H_CODE, d.failure_reason_code),
        }
      end
    end
  end
end

return {
  fill = fill,
  -- Makes tlsrpt.core.parse_report call fill for reports of min_details
  -- failure details or more (default 64; 0: all), or stop with false.
  use = function(min_details)
    if min_details == false then return core._set_detail_builder(nil) end
    core._set_detail_builder(fill, min_details)
  end,
}
