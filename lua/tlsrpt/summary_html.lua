-- tlsrpt.summary_html: a tlsrpt.summary as one self-contained HTML page
-- (inline CSS and SVG charts, no scripts, nothing fetched), for
-- `tlsrpt summary --html FILE`.
--
--   summary_html.render(s) -> the page
local summary = require "tlsrpt.summary"

local M = {}

local fmt = string.format
local pct, count = summary.pct, summary.count

-- Escaped for HTML text and attributes; control characters (which XML 1.0
-- does not allow in the inline SVG) shown as '?'.
local function html_escape(s)
  return (summary.printable(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&#39;" }))
end

-- The opening tag of an SVG chart of w x h pixels.
local function svg_open(w, h, title)
  return fmt('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">',
    w, h, w, h, html_escape(title))
end

-- Bar chart as inline SVG. bars: list of { label, value, title }.
local function svg_bars(bars, opts)
  local w, h, pad_l, pad_b = opts.width or 720, opts.height or 220, 48, 40
  local max = 0
  for _, b in ipairs(bars) do if b[2] > max then max = b[2] end end
  local out = { svg_open(w, h, opts.title) }
  out[#out + 1] = fmt('<line x1="%d" y1="10" x2="%d" y2="%d" class="axis"/>', pad_l, pad_l, h - pad_b)
  out[#out + 1] = fmt('<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>', pad_l, h - pad_b, w - 5, h - pad_b)
  out[#out + 1] = fmt('<text x="%d" y="18" class="lbl" text-anchor="end">%s</text>', pad_l - 4, count(max))
  out[#out + 1] = fmt('<text x="%d" y="%d" class="lbl" text-anchor="end">0</text>', pad_l - 4, h - pad_b)
  local n = #bars
  if n > 0 then
    local slot = (w - pad_l - 10) / n
    local bw = math.max(1, slot * 0.8)
    local every = math.max(1, math.ceil(n / 8))
    for i, b in ipairs(bars) do
      local bh = max > 0 and (h - pad_b - 12) * b[2] / max or 0
      local x = pad_l + 2 + (i - 1) * slot
      out[#out + 1] = fmt('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="%s"><title>%s</title></rect>',
        x, h - pad_b - bh, bw, bh, opts.class or "bar", html_escape(b[3] or (b[1] .. ": " .. b[2])))
      if (i - 1) % every == 0 then
        out[#out + 1] = fmt('<text x="%.1f" y="%d" class="lbl">%s</text>', x, h - pad_b + 14, html_escape(b[1]))
      end
    end
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- Horizontal bars with the label left and the count right of each bar, so
-- long result-type names stay readable. bars: list of { label, value, class }.
local function svg_hbars(bars, opts)
  local w, row, label_w = opts.width or 720, 22, 200
  local h = row * #bars + 10
  local max = 0
  for _, b in ipairs(bars) do if b[2] > max then max = b[2] end end
  local span = w - label_w - 80
  local out = { svg_open(w, h, opts.title) }
  for i, b in ipairs(bars) do
    local y = 5 + (i - 1) * row
    local len = max > 0 and span * b[2] / max or 0
    if b[2] > 0 and len < 2 then len = 2 end -- a non-zero count stays visible
    out[#out + 1] = fmt('<text x="%d" y="%d" class="lbl" text-anchor="end">%s</text>', label_w - 6, y + 14,
      html_escape(b[1]))
    out[#out + 1] = fmt('<rect x="%d" y="%d" width="%.1f" height="%d" class="%s"><title>%s: %s</title></rect>',
      label_w, y + 3, len, row - 6, b[3] or "bar", html_escape(b[1]), count(b[2]))
    out[#out + 1] = fmt('<text x="%.1f" y="%d" class="lbl">%s</text>', label_w + len + 4, y + 14, count(b[2]))
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- rows laid out by cols (see summary.COLUMNS) as an HTML table.
local function html_table(rows, cols)
  local out = { "<table><thead><tr>" }
  for _, c in ipairs(cols) do out[#out + 1] = "<th>" .. html_escape(c[1]) .. "</th>" end
  out[#out + 1] = "</tr></thead><tbody>"
  for _, row in ipairs(rows) do
    out[#out + 1] = "<tr>"
    for _, c in ipairs(cols) do
      local v = c.fn and c.fn(row) or row[c[2]]
      out[#out + 1] = (c.align == "r" and '<td class="r">' or "<td>") .. html_escape(v == nil and "-" or v) .. "</td>"
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out)
end

function M.render(s)
  local days = {}
  for i, d in ipairs(s.by_day) do
    days[i] = { d.day or "?", d.failure, fmt("%s: %s failed, %s successful", d.day or "?", count(d.failure),
      count(d.success)) }
  end
  local types = { { "successful sessions", s.success, "ok" } }
  for _, r in ipairs(s.by_result_type) do types[#types + 1] = { r.result_type, r.failure, "bar" } end
  local unattributed = s.failure
  for _, r in ipairs(s.by_result_type) do unattributed = unattributed - r.failure end
  if unattributed > 0 then types[#types + 1] = { "failed, no detail", unattributed, "bar" } end
  local cols = summary.COLUMNS
  local parts = {
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>TLS-RPT summary</title>",
    "<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}",
    "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left}",
    "td.r{text-align:right;font-variant-numeric:tabular-nums}.bar{fill:#c0392b}.ok{fill:#27ae60}",
    ".axis{stroke:#888}.lbl{font-size:10px;fill:#555}.kpi span{display:inline-block;margin-right:2em}</style>",
    "</head><body>",
    "<h1>TLS-RPT summary</h1>",
    fmt('<p class="kpi"><span>Reports: <b>%s</b></span><span>Files: %d</span><span>Duplicates: %d</span><span>Invalid: %d</span></p>',
      count(s.reports), s.files, s.duplicates, s.invalid),
    s.period.from and fmt("<p>Period: %s .. %s</p>", html_escape(s.period.from), html_escape(s.period.to)) or "",
    fmt("<p>Sessions: <b>%s</b> successful, <b>%s</b> failed (%s)</p>", count(s.success), count(s.failure),
      pct(s.failure, s.success + s.failure)),
    "<h2>Failed sessions per day</h2>",
    svg_bars(days, { title = "Failed sessions per day" }),
    "<h2>Sessions by result</h2>",
    svg_hbars(types, { title = "Sessions by result" }),
    "<h2>Policy domains</h2>", html_table(s.by_domain, cols.domain),
    "<h2>Reporting organizations</h2>", html_table(s.by_organization, cols.organization),
    "<h2>Failure causes</h2>", html_table(s.failure_causes, cols.cause),
    "</body></html>\n",
  }
  return table.concat(parts, "\n")
end

return M
