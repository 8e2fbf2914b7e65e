-- tlsrpt.sort(list[, lt]): table.sort where it is safe with untrusted data.
-- Lua 5.1, 5.2 and LuaJIT pick quicksort pivots the same way every time, so
-- an order crafted against them (McIlroy's "killer adversary") makes
-- table.sort quadratic: 16,000 policies in one report took summary 3 s under
-- LuaJIT. Lua 5.3+ randomizes the pivot of big arrays. There a bottom-up
-- merge sort (O(n log n) always, stable) stands in.
if _VERSION ~= "Lua 5.1" and _VERSION ~= "Lua 5.2" then return table.sort end

local function default_lt(a, b) return a < b end

return function(list, lt)
  lt = lt or default_lt
  local n = #list
  if n < 2 then return end
  -- Work on copies, the list written back only at the end: a comparator
  -- that raises leaves the list as it was (table.sort leaves a permutation).
  local src, dst = {}, {}
  for i = 1, n do src[i] = list[i] end
  local width = 1
  while width < n do
    for lo = 1, n, 2 * width do
      local mid, hi = math.min(lo + width, n + 1), math.min(lo + 2 * width, n + 1)
      local i, j, k = lo, mid, lo
      while i < mid and j < hi do
        -- take from the right only when strictly less: stable
        if lt(src[j], src[i]) then dst[k] = src[j]; j = j + 1
        else dst[k] = src[i]; i = i + 1 end
        k = k + 1
      end
      while i < mid do dst[k] = src[i]; i = i + 1; k = k + 1 end
      while j < hi do dst[k] = src[j]; j = j + 1; k = k + 1 end
    end
    src, dst = dst, src
    width = width * 2
  end
  for i = 1, n do list[i] = src[i] end
end
