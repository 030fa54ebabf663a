-- Rotate over inclusion or consistency proofs at historical sizes in the newer half of the tree.
local n = tonumber(os.getenv("TREE_SIZE"))
local kind = os.getenv("PROOF") or "inclusion"
math.randomseed(12345)
request = function()
  local b = math.floor(n / 2) + math.random(1, n - math.floor(n / 2))
  local a = math.random(0, b - 1)
  if kind == "inclusion" then
    return wrk.format("GET", "/v1/log/proof/inclusion?index=" .. a .. "&size=" .. b)
  else
    return wrk.format("GET", "/v1/log/proof/consistency?from=" .. (a + 1) .. "&to=" .. b)
  end
end
done = function(summary, latency, requests)
  io.write(string.format("wrk %s: %d requests, %d errors (non-2xx %d); latency p50 %.1f us, p99 %.1f us, max %.1f us\n",
    kind, summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency.max))
end
